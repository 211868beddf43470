/**
 * The pathway's next wake-up (a reminder, an overdue mark, lost to follow-up) as one timer.
 * Patched runs keep it for as long as that time stands: most changes leave it where it was (a
 * message delivered, a note added), and cancelling and starting it again on each of them cost two
 * history events apiece.
 */
import { CancellationScope, isCancellation, sleep } from '@temporalio/workflow';

export interface WakeUpTimer {
  /** The wake-up time it is set for, epoch ms. */
  readonly at: number;
  fired: boolean;
  readonly scope: CancellationScope;
}

/**
 * The timer for `at`: the current one while it is still set for that time, otherwise a new one
 * (the old one cancelled). None when there is nothing to wake up for, or when the time has come
 * (the caller acts at once rather than setting a timer for a moment already past).
 */
export function wakeUpTimerFor(current: WakeUpTimer | undefined, at: number | null, now: number): WakeUpTimer | undefined {
  if (current && !current.fired && current.at === at) return current;
  if (current && !current.fired) current.scope.cancel();
  if (at === null || at <= now) return undefined;
  const timer: WakeUpTimer = { at, fired: false, scope: new CancellationScope() };
  timer.scope
    .run(() => sleep(at - now))
    .then(
      () => {
        timer.fired = true;
      },
      (err: unknown) => {
        if (!isCancellation(err)) throw err;
      },
    );
  return timer;
}

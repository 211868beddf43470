/**
 * The pieces of start-up that need no server: the SDK's log lines through the service's logger,
 * and retrying an unreachable dependency with backoff, one line a try naming the address.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../observability/log';
import { sdkLogger } from '../../temporal/runtime';
import { untilReachable } from '../../temporal/until-reachable';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: createLogger('debug', (l) => lines.push(JSON.parse(l) as Record<string, unknown>)) };
}

describe('SDK log lines', () => {
  it('become the service\'s JSON lines: levels mapped, errors as class and message, objects left out', () => {
    const { lines, log } = capture();
    const sdk = sdkLogger(log);
    sdk.warn('Activity failed', { workflowId: 'pw-1', attempt: 3, error: new TypeError('fetch failed'), payload: { painNrs: 7 } });
    sdk.trace('poll', { taskQueue: 'pathway' });
    sdk.log('ERROR', 'Worker failed');
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'Activity failed', source: 'temporal-sdk', workflowId: 'pw-1', attempt: 3, error: 'TypeError: fetch failed' });
    expect(lines[0]).not.toHaveProperty('payload');
    expect(lines[1]).toMatchObject({ level: 'debug', msg: 'poll', taskQueue: 'pathway' });
    expect(lines[2]).toMatchObject({ level: 'error', msg: 'Worker failed' });
  });
});

describe('untilReachable', () => {
  it('logs each failed try with the address and the doubling wait, and returns once it connects', async () => {
    const { lines, log } = capture();
    let tries = 0;
    const connected = await untilReachable('Temporal', 'temporal:7233', async () => {
      if (++tries < 4) throw new Error('Failed to connect before the deadline');
      return 'connection';
    }, log, { initialMs: 5, maxMs: 12 });
    expect(connected).toBe('connection');
    expect(lines.map((l) => l.retryInMs)).toEqual([5, 10, 12, undefined]);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'Temporal unreachable at temporal:7233; retrying in 0 s', address: 'temporal:7233', attempt: 1, error: 'Failed to connect before the deadline' });
    expect(lines[3]).toMatchObject({ level: 'info', msg: 'Temporal reachable', attempts: 4 });
  });

  it('gives up after the attempts it is allowed, naming the address', async () => {
    const { log } = capture();
    await expect(untilReachable('the record store', '127.0.0.1:5432', () => Promise.reject(new Error('ECONNREFUSED')), log, { initialMs: 1, maxMs: 1, attempts: 3 })).rejects.toThrow(
      'the record store unreachable at 127.0.0.1:5432 after 3 attempts: ECONNREFUSED',
    );
  });
});

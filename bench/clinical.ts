/**
 * How the pure pathway model scales with the length of a pathway's timeline.
 * Every event copies the state, so its cost and the state's size grow with the timeline: this
 * prints both, per timeline length and as ratios to the shortest, to show where continue-as-new
 * (which keeps the history short, not the state) stops helping and the timeline itself would
 * need trimming.
 *
 *   npm run bench
 */
import { performance } from 'node:perf_hooks';
import { applyClock, applyEvent, enroll, type PathwayState } from '../clinical/pathway';
import { loadDefinitions } from '../clinical/registry';
import { DAY_MS } from '../clinical/rules';

const definition = loadDefinitions().get('psps-lumbar', 1)!;
const clinician = { id: 'bench', role: 'clinician' as const };
const T0 = Date.UTC(2026, 0, 1);

/** A pathway whose timeline has about `entries` entries: hold and resume, over and over. */
function pathwayWithTimeline(entries: number): PathwayState {
  let s = enroll({ pathwayId: 'pw-bench', careTeam: 'bench', definition, baseline: { painNrs: 8, odi: 40 }, redFlags: [], enrolledBy: clinician }, T0).state;
  let t = T0;
  while (s.timeline.length < entries) {
    t += 1000;
    const action = s.status === 'active' ? 'hold' : 'resume';
    s = applyEvent(s, { type: 'action', actor: clinician, input: { action, reason: 'benchmark' } }, t).state;
  }
  return s;
}

function timePerOp(fn: () => void, minMs = 300): number {
  for (let i = 0; i < 20; i++) fn(); // warm up
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    fn();
    ops++;
  }
  return ((performance.now() - start) * 1000) / ops; // microseconds
}

const rows: Array<{ entries: number; eventUs: number; clockUs: number; stateKiB: number }> = [];
for (const entries of [10, 100, 1000, 5000]) {
  const s = pathwayWithTimeline(entries);
  const now = T0 + 10 * DAY_MS;
  const eventUs = timePerOp(() => applyEvent(s, { type: 'reassessment', actor: clinician, input: { painNrs: 7, redFlags: [] } }, now));
  const clockUs = timePerOp(() => applyClock(s, now));
  rows.push({ entries: s.timeline.length, eventUs, clockUs, stateKiB: Buffer.byteLength(JSON.stringify(s)) / 1024 });
}

const base = rows[0]!;
console.log('timeline entries | event (µs) | ratio | idle clock (µs) | state (KiB) | ratio');
for (const r of rows) {
  console.log(
    [
      String(r.entries).padStart(16),
      r.eventUs.toFixed(1).padStart(10),
      (r.eventUs / base.eventUs).toFixed(1).padStart(5),
      r.clockUs.toFixed(2).padStart(15),
      r.stateKiB.toFixed(1).padStart(11),
      (r.stateKiB / base.stateKiB).toFixed(1).padStart(5),
    ].join(' | '),
  );
}

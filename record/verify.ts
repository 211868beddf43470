/**
 * Compares a pathway's record with its workflow's state: the timeline, the reassessments,
 * procedures, red flags and messages, and the pathway row, each as the workflow holds them.
 * Pure reads; what to do about a difference is the caller's (report, or rewrite the record).
 */
import type { PathwayState } from '../clinical/pathway';
import type { WorkupItem } from '../clinical/definition';
import { recordVersion } from './batch';
import type { NoteCipher } from './note-cipher';
import { readPathway } from './read';
import type { RecordDb } from './store';

/** At most this many differences are named for one pathway. */
const NAMED = 8;

/** JSON as stored: dates as strings, no undefined fields. */
const plain = (value: unknown): unknown => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

function differences(path: string, recorded: unknown, expected: unknown, out: string[]): void {
  if (out.length >= NAMED) return;
  if (Object.is(recorded, expected)) return;
  if (Array.isArray(recorded) && Array.isArray(expected)) {
    if (recorded.length !== expected.length) out.push(`${path}: ${recorded.length} in the record, ${expected.length} in the workflow`);
    for (let i = 0; i < Math.min(recorded.length, expected.length); i++) differences(`${path}[${i}]`, recorded[i], expected[i], out);
    return;
  }
  if (recorded && expected && typeof recorded === 'object' && typeof expected === 'object') {
    const keys = new Set([...Object.keys(recorded), ...Object.keys(expected)]);
    for (const key of [...keys].sort()) differences(`${path}.${key}`, (recorded as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], out);
    return;
  }
  // Named by where, never by value: a value can be a note or a score, and this goes to a terminal.
  out.push(recorded === undefined ? `${path}: missing in the record` : expected === undefined ? `${path}: in the record only` : `${path}: differs`);
}

/** What the record of `enrolmentId` says differently from the workflow's `state`; empty when they agree. */
export async function recordDifferences(
  db: RecordDb,
  cipher: NoteCipher,
  enrolmentId: string,
  state: PathwayState & { pendingWorkup: WorkupItem[] },
): Promise<string[]> {
  const out: string[] = [];
  const row = await db.selectFrom('pathways').select(['version', 'pathway_id']).where('enrolment_id', '=', enrolmentId).executeTakeFirst();
  if (!row) return [`no record of enrolment ${enrolmentId}`];
  if (row.version !== recordVersion(state)) out.push(`version: ${row.version} in the record, ${recordVersion(state)} in the workflow`);
  const recorded = await readPathway(db, cipher, row.pathway_id);
  if (!recorded) return [...out, `no record of pathway ${state.pathwayId}`];
  differences('pathway', plain(recorded), plain(state), out);
  const [redFlags, messages] = await Promise.all([
    db.selectFrom('red_flags').select(['ordinal', 'flags']).where('enrolment_id', '=', enrolmentId).orderBy('ordinal').execute(),
    db.selectFrom('messages').select(['message_id']).where('enrolment_id', '=', enrolmentId).orderBy('message_id').execute(),
  ]);
  differences('redFlags', redFlags.map((r) => r.flags), plain(state.redFlags.map((r) => r.flags)), out);
  const delivered = state.timeline.filter((e) => e.event === 'notification' && typeof e.numbers?.messageId === 'string').map((e) => String(e.numbers!.messageId));
  differences('messages', messages.map((m) => m.message_id), [...new Set(delivered)].sort(), out);
  return out;
}

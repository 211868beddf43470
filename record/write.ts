/**
 * Writes a batch from a pathway workflow into the record store, in one transaction. A batch
 * carries what the record held when the workflow built it (`after`): rows past that point belong
 * to the batch. Normally there are none, and the batch's rows are inserted once (a retried write
 * inserts nothing twice). Rows past it that are already there were written by a workflow task
 * that then failed, and its retry numbered its entries afresh: they are replaced by the batch's,
 * and the stage episodes they touched are derived again. The pathway's row moves only forward, or
 * to what replaced it; a write from an older task than the last one (its fence) is refused.
 */
import { sql, type Transaction } from 'kysely';
import type { ReassessmentRecord, TimelineEntry } from '../clinical/pathway';
import { isClosed } from '../clinical/vocabulary';
import { fencedBefore, type RecordBatch, type RecordProgress } from './batch';
import type { NoteCipher } from './note-cipher';
import { addDifference, figuresOf } from './outcome-aggregates';
import { ENROLMENT_CHILD_TABLES, type RecordDatabase } from './schema';
import type { RecordDb } from './store';

const json = (value: unknown) => JSON.stringify(value);

/** The row a dashboard reads, from the pathway as it stands. */
function pathwayRow(batch: RecordBatch, recordedAt: Date) {
  const p = batch.pathway;
  // The latest reassessment's note lives (encrypted) in its own row; the snapshot keeps none.
  const { note: _note, ...latest } = p.latest ?? ({} as Record<string, unknown>);
  const snapshot = { ...p, ...(p.latest ? { latest } : {}) };
  return {
    enrolment_id: batch.enrolmentId,
    pathway_id: p.pathwayId,
    care_team: p.careTeam,
    definition_id: p.definition.id,
    definition_version: p.definition.version,
    stage: p.stage,
    status: p.status,
    next_due_at: p.due?.dueAt ?? null,
    next_due_kind: p.due?.kind ?? null,
    overdue: p.overdue,
    undelivered: p.undelivered.some((u) => !u.resolvedAt),
    pause_kind: p.pause?.kind ?? null,
    pending_workup: json(p.pendingWorkup),
    enrolled_at: p.enrolledAt,
    stage_entered_at: p.stageEnteredAt,
    closed_at: p.closedAt ?? null,
    baseline_pain_nrs: p.baseline.painNrs,
    baseline_odi: p.baseline.odi ?? null,
    latest_pain_nrs: p.latest?.painNrs ?? null,
    latest_odi: p.latest?.odi ?? null,
    latest_at: p.latest?.at ?? null,
    version: batch.version,
    snapshot: json(snapshot),
    last_entry_at: batch.entries.length ? batch.entries[batch.entries.length - 1]!.at : p.enrolledAt,
    recorded_at: recordedAt,
    fence: batch.fence?.task ?? null,
    fence_at: batch.fence?.at ?? null,
  };
}

/** The stage episode that timeline entry `seq` belongs to: the last one entered at or before it. */
function episodeAt(trx: Transaction<RecordDatabase>, enrolmentId: string, seq: number) {
  return trx
    .updateTable('stage_episodes')
    .where('enrolment_id', '=', enrolmentId)
    .where('entered_seq', '=', (eb) =>
      eb.selectFrom('stage_episodes as e').select((e) => e.fn.max('e.entered_seq').as('s')).where('e.enrolment_id', '=', enrolmentId).where('e.entered_seq', '<=', seq),
    );
}

/** Pain and ODI of the newest reassessment at or before `at` (in `stage`, if given). */
function scoresAt(enrolmentId: string, at: string, stage?: string) {
  const latest = (column: 'pain_nrs' | 'odi') =>
    sql<number | null>`(select r.${sql.ref(column)} from reassessments r
      where r.enrolment_id = ${enrolmentId} and r.at <= ${at}::timestamptz ${stage ? sql`and r.stage = ${stage}` : sql``}
      order by r.at desc, r.ordinal desc limit 1)`;
  return { painNrs: latest('pain_nrs'), odi: latest('odi') };
}

/**
 * Ends the stage episode that entry `seq` belongs to: when, how (escalated, completed, ...), and
 * its exit scores, the newest reassessment made in `stage`. A second write keeps the first values.
 */
function leaveEpisode(trx: Transaction<RecordDatabase>, enrolmentId: string, seq: number, at: string, stage: string, exit: string, toStage?: string) {
  const scores = scoresAt(enrolmentId, at, stage);
  return episodeAt(trx, enrolmentId, seq)
    .set((eb) => ({
      exited_at: eb.fn.coalesce('exited_at', sql<Date>`${at}::timestamptz`),
      exit: eb.fn.coalesce('exit', sql<string>`${exit}::text`),
      ...(toStage ? { to_stage: toStage } : {}),
      exit_pain_nrs: eb.fn.coalesce('exit_pain_nrs', scores.painNrs),
      exit_odi: eb.fn.coalesce('exit_odi', scores.odi),
    }))
    .execute();
}

async function writeEpisodes(trx: Transaction<RecordDatabase>, batch: RecordBatch): Promise<void> {
  const p = batch.pathway;
  const id = batch.enrolmentId;
  for (const e of batch.entries) {
    const entersStage = e.event === 'enrolled' || e.stageBefore !== e.stageAfter;
    if (entersStage && e.event !== 'enrolled') await leaveEpisode(trx, id, e.seq - 1, e.at, e.stageBefore, 'escalated', e.stageAfter);
    if (entersStage) {
      // A stage's reference is the newest reassessment before it, or the baseline.
      const before = scoresAt(id, e.at);
      await trx
        .insertInto('stage_episodes')
        .values({
          enrolment_id: id,
          entered_seq: e.seq,
          stage: e.stageAfter,
          entered_at: e.at,
          exited_at: null,
          exit: null,
          to_stage: null,
          responded: false,
          urgent_referral: false,
          reference_pain_nrs: sql<number>`coalesce(${before.painNrs}, ${p.baseline.painNrs}::double precision)`,
          reference_odi: sql<number | null>`coalesce(${before.odi}, ${p.baseline.odi ?? null}::integer)`,
          exit_pain_nrs: null,
          exit_odi: null,
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    if (e.statusAfter === 'urgent-referral' && e.statusBefore !== 'urgent-referral') {
      await episodeAt(trx, id, e.seq).set({ urgent_referral: true }).execute();
    }
    if (isClosed(e.statusAfter) && !isClosed(e.statusBefore)) await leaveEpisode(trx, id, e.seq, e.at, e.stageAfter, e.statusAfter);
  }
  for (const { record } of batch.reassessments) {
    if (!record.evaluation?.responding) continue;
    await trx
      .updateTable('stage_episodes')
      .set({ responded: true })
      .where('enrolment_id', '=', id)
      .where('stage', '=', record.stage)
      .where('entered_at', '<=', new Date(record.at))
      .where((eb) => eb.or([eb('exited_at', 'is', null), eb('exited_at', '>=', new Date(record.at))]))
      .execute();
  }
}

interface Bucket {
  care_team: string;
  stage: string;
  status: string;
  overdue: boolean;
  undelivered: boolean;
}

const bucketKey = (b: Bucket) => JSON.stringify([b.care_team, b.stage, b.status]);

/**
 * Moves one pathway from its summary bucket `from` to `to` (either may be absent). The rows are
 * updated in one order, that of their keys, whatever the move: two writers moving pathways
 * between the same two buckets in opposite directions would otherwise lock them crosswise.
 */
async function moveCount(trx: Transaction<RecordDatabase>, from: Bucket | undefined, to: Bucket | undefined): Promise<void> {
  const deltas = new Map<string, { b: Bucket; total: number; overdue: number; undelivered: number }>();
  const add = (b: Bucket, sign: 1 | -1) => {
    const d = deltas.get(bucketKey(b)) ?? { b, total: 0, overdue: 0, undelivered: 0 };
    d.total += sign;
    d.overdue += b.overdue ? sign : 0;
    d.undelivered += b.undelivered ? sign : 0;
    deltas.set(bucketKey(b), d);
  };
  if (from) add(from, -1);
  if (to) add(to, 1);
  for (const key of [...deltas.keys()].sort()) {
    const { b, total, overdue, undelivered } = deltas.get(key)!;
    if (total === 0 && overdue === 0 && undelivered === 0) continue;
    await trx
      .insertInto('pathway_counts')
      .values({ care_team: b.care_team, stage: b.stage, status: b.status, total, overdue, undelivered })
      .onConflict((oc) =>
        oc.columns(['care_team', 'stage', 'status']).doUpdateSet((eb) => ({
          total: eb('pathway_counts.total', '+', total),
          overdue: eb('pathway_counts.overdue', '+', overdue),
          undelivered: eb('pathway_counts.undelivered', '+', undelivered),
        })),
      )
      .execute();
  }
}

/** Writes to one enrolment wait for each other, so the counts move once per change. */
export const lockEnrolment = (trx: Transaction<RecordDatabase>, enrolmentId: string) =>
  sql`select pg_advisory_xact_lock(hashtext(${enrolmentId}))`.execute(trx);

const BUCKET = ['care_team', 'stage', 'status', 'overdue', 'undelivered'] as const;

/** A timeline entry as its row keeps it: the reason is sealed in a column of its own. */
function timelineEntryJson(e: TimelineEntry): unknown {
  const { reason: _reason, ...entry } = e;
  return JSON.parse(json(entry));
}

function timelineRow(enrolmentId: string, e: TimelineEntry, cipher: NoteCipher) {
  return { enrolment_id: enrolmentId, seq: e.seq, at: e.at, event: e.event, rule_id: e.ruleId ?? null, entry: json(timelineEntryJson(e)), reason_enc: cipher.seal(e.reason) };
}

/** JSON with its keys in order, as jsonb gives them back in an order of its own. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/** Whether the recorded entries are exactly the batch's (each as written: without its sealed reason). */
function sameEntries(recorded: unknown[], entries: TimelineEntry[]): boolean {
  return recorded.length === entries.length && entries.every((e, i) => canonical(timelineEntryJson(e)) === canonical(recorded[i]));
}

/** Whether the record holds rows of the enrolment past `after`. */
async function rowsPast(trx: Transaction<RecordDatabase>, id: string, after: RecordProgress): Promise<boolean> {
  const found = await sql<{ past: boolean }>`select
      exists (select 1 from timeline_entries where enrolment_id = ${id} and seq > ${after.through})
      or exists (select 1 from reassessments where enrolment_id = ${id} and ordinal > ${after.reassessments})
      or exists (select 1 from procedures where enrolment_id = ${id} and ordinal > ${after.procedures})
      or exists (select 1 from red_flags where enrolment_id = ${id} and ordinal > ${after.redFlags}) as past`.execute(trx);
  return found.rows[0]?.past === true;
}

/** Removes the rows past `after`, with the deliveries their entries noted. */
async function removePast(trx: Transaction<RecordDatabase>, id: string, after: RecordProgress): Promise<void> {
  await sql`delete from messages where enrolment_id = ${id} and message_id in (
      select entry->'numbers'->>'messageId' from timeline_entries
      where enrolment_id = ${id} and seq > ${after.through} and event = 'notification')`.execute(trx);
  await trx.deleteFrom('timeline_entries').where('enrolment_id', '=', id).where('seq', '>', after.through).execute();
  await trx.deleteFrom('reassessments').where('enrolment_id', '=', id).where('ordinal', '>', after.reassessments).execute();
  await trx.deleteFrom('procedures').where('enrolment_id', '=', id).where('ordinal', '>', after.procedures).execute();
  await trx.deleteFrom('red_flags').where('enrolment_id', '=', id).where('ordinal', '>', after.redFlags).execute();
}

/**
 * The enrolment's stage episodes derived again from its whole timeline and reassessments (once the
 * batch's rows are in): after rows past `after` were replaced, an episode they ended or flagged
 * may not have ended, or not so.
 */
async function rederiveEpisodes(trx: Transaction<RecordDatabase>, batch: RecordBatch): Promise<void> {
  const id = batch.enrolmentId;
  await trx.deleteFrom('stage_episodes').where('enrolment_id', '=', id).execute();
  const [entries, reassessments] = await Promise.all([
    trx.selectFrom('timeline_entries').select('entry').where('enrolment_id', '=', id).orderBy('seq').execute(),
    trx.selectFrom('reassessments').select(['ordinal', 'record']).where('enrolment_id', '=', id).orderBy('ordinal').execute(),
  ]);
  await writeEpisodes(trx, {
    ...batch,
    entries: entries.map((e) => e.entry as unknown as TimelineEntry),
    reassessments: reassessments.map((r) => ({ ordinal: r.ordinal, record: r.record as unknown as ReassessmentRecord })),
  });
}

/**
 * `replace` (a repair from the workflow's whole state: a batch from nothing recorded) first
 * removes what the record holds for the enrolment, and moves its pathway row whatever its version.
 */
export async function writeBatch(db: RecordDb, cipher: NoteCipher, batch: RecordBatch, now: Date = new Date(), opts: { replace?: boolean } = {}): Promise<{ applied: boolean }> {
  return db.transaction().execute(async (trx) => {
    const id = batch.enrolmentId;
    await lockEnrolment(trx, id);
    const before = await trx.selectFrom('pathways').select([...BUCKET, 'fence', 'fence_at', 'version']).where('enrolment_id', '=', id).executeTakeFirst();
    let replacing = opts.replace === true;
    if (!opts.replace && before) {
      const fence = before.fence === null || before.fence_at === null ? undefined : { task: Number(before.fence), at: Number(before.fence_at) };
      // A task older than the one that last wrote: it never committed (its retry has written since).
      if (batch.fence && fence && fencedBefore(batch.fence, fence)) return { applied: false };
      // From the same task as the last write, or from outside a workflow (a rebuild), and older: nothing to add.
      const sameTask = batch.fence !== undefined && fence !== undefined && !fencedBefore(fence, batch.fence);
      if ((batch.fence === undefined || sameTask) && before.version > batch.version) return { applied: false };
      const past = await trx
        .selectFrom('timeline_entries')
        .select('entry')
        .where('enrolment_id', '=', id)
        .where('seq', '>', batch.after.through)
        .orderBy('seq')
        .execute();
      // This very batch, written before (a retried write): nothing changes.
      if (past.length > 0 && sameEntries(past.map((r) => r.entry), batch.entries)) return { applied: false };
      replacing = past.length > 0 || (await rowsPast(trx, id, batch.after));
    }
    // What the enrolment's rows add to the outcomes report's aggregates, before they change.
    const figuresBefore = await figuresOf(trx, before ? [id] : []);
    if (opts.replace) {
      for (const table of ENROLMENT_CHILD_TABLES) await trx.deleteFrom(table).where('enrolment_id', '=', id).execute();
    } else if (replacing) await removePast(trx, id, batch.after);
    if (batch.entries.length) {
      await trx.insertInto('timeline_entries').values(batch.entries.map((e) => timelineRow(id, e, cipher))).onConflict((oc) => oc.doNothing()).execute();
    }
    if (batch.reassessments.length) {
      await trx
        .insertInto('reassessments')
        .values(
          batch.reassessments.map(({ ordinal, record }) => {
            const { note, ...rest } = record;
            return {
              enrolment_id: id,
              ordinal,
              at: record.at,
              stage: record.stage,
              pain_nrs: record.painNrs,
              odi: record.odi ?? null,
              pgic: record.pgic ?? null,
              daily_mme: (record as { dailyMme?: number }).dailyMme ?? null,
              responding: record.evaluation ? record.evaluation.responding : null,
              rule_id: record.evaluation?.ruleId ?? null,
              record: json(rest),
              note_enc: cipher.seal(note),
            };
          }),
        )
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    if (batch.procedures.length) {
      await trx
        .insertInto('procedures')
        .values(
          batch.procedures.map(({ ordinal, record }) => {
            const { note, ...rest } = record;
            return {
              enrolment_id: id,
              ordinal,
              type: record.type,
              stage: record.stage,
              performed_at: record.performedAt,
              recorded_at: record.recordedAt,
              outcome: record.outcome ?? null,
              record: json(rest),
              note_enc: cipher.seal(note),
            };
          }),
        )
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    if (batch.redFlags.length) {
      await trx
        .insertInto('red_flags')
        .values(batch.redFlags.map((r) => ({ enrolment_id: id, ordinal: r.ordinal, at: r.at, flags: json(r.flags) })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    const deliveries = batch.entries.filter((e) => e.event === 'notification' && typeof e.numbers?.messageId === 'string');
    if (deliveries.length) {
      await trx
        .insertInto('messages')
        .values(
          deliveries.map((e) => ({
            enrolment_id: id,
            message_id: String(e.numbers!.messageId),
            side_effect: String(e.numbers!.sideEffect),
            outcome: String(e.numbers!.outcome),
            at: e.at,
            resolved_at: null,
          })),
        )
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    for (const u of batch.pathway.undelivered) {
      if (!u.resolvedAt) continue;
      await trx.updateTable('messages').set({ resolved_at: u.resolvedAt }).where('enrolment_id', '=', id).where('message_id', '=', u.messageId).where('resolved_at', 'is', null).execute();
    }
    if (replacing) await rederiveEpisodes(trx, batch);
    else await writeEpisodes(trx, batch);

    const row = pathwayRow(batch, now);
    const { enrolment_id: _id, ...changes } = row;
    // A message handed over at closing may have failed since (recordDeliveryOutcome): it stays flagged.
    const stillUndelivered = sql<boolean>`(excluded.undelivered or exists (select 1 from messages m
      where m.enrolment_id = ${id} and m.outcome = 'undelivered' and m.resolved_at is null))`;
    const after = await trx
      .insertInto('pathways')
      .values(row)
      .onConflict((oc) => {
        // A write from outside the workflow (a rebuild or repair) keeps the fence of the last task that wrote.
        const update = oc.column('enrolment_id').doUpdateSet({ ...changes, undelivered: stillUndelivered, fence: sql<number | null>`coalesce(excluded.fence, pathways.fence)`, fence_at: sql<number | null>`coalesce(excluded.fence_at, pathways.fence_at)` });
        return replacing ? update : update.where('pathways.version', '<', batch.version);
      })
      .returning(BUCKET)
      .executeTakeFirst();
    if (after) await moveCount(trx, before, after);
    // After the summary's counts, as every writer orders them: the report's aggregates move by
    // what the rows add now less what they added before (a replaced attempt's rows leave exactly).
    await addDifference(trx, figuresBefore, await figuresOf(trx, [id]));
    return { applied: after !== undefined };
  });
}

/**
 * How a message handed over at closing went: written by the workflow that delivers it after the
 * pathway's own workflow has completed. An undelivered one flags the pathway for the worklist.
 */
export async function writeDeliveryOutcome(
  db: RecordDb,
  outcome: { enrolmentId: string; messageId: string; messageType: string; outcome: string; at: string },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // The enrolment's lock first, as every write to it takes it: then no two writers wait on each other crosswise.
    await lockEnrolment(trx, outcome.enrolmentId);
    await trx
      .insertInto('messages')
      .values({ enrolment_id: outcome.enrolmentId, message_id: outcome.messageId, side_effect: outcome.messageType, outcome: outcome.outcome, at: outcome.at, resolved_at: null })
      .onConflict((oc) => oc.columns(['enrolment_id', 'message_id']).doUpdateSet({ outcome: outcome.outcome, at: outcome.at }))
      .execute();
    if (outcome.outcome === 'undelivered') {
      const flagged = await trx
        .updateTable('pathways')
        .set({ undelivered: true })
        .where('enrolment_id', '=', outcome.enrolmentId)
        .where('undelivered', '=', false)
        .returning(BUCKET)
        .executeTakeFirst();
      if (flagged) await moveCount(trx, { ...flagged, undelivered: false }, flagged);
    }
  });
}

/**
 * Writes a batch from a pathway workflow into the record store, in one transaction. Idempotent
 * and monotonic: rows are keyed by enrolment and timeline seq (or ordinal), appended rows are
 * inserted once, and the pathway's row only ever moves to a newer version, so an activity
 * retry, a workflow replay or a late, older batch writes nothing twice and moves nothing back.
 */
import { sql, type Transaction } from 'kysely';
import { CLOSED_STATUSES, type PathwayStatus, type TimelineEntry } from '../clinical/pathway';
import type { RecordBatch } from './batch';
import type { NoteCipher } from './note-cipher';
import type { RecordDatabase } from './schema';
import type { RecordDb } from './store';

const json = (value: unknown) => JSON.stringify(value);
const isClosed = (s: PathwayStatus) => CLOSED_STATUSES.includes(s);

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

/** Adds (`sign` 1) or removes (-1) one pathway from its summary bucket. */
async function count(trx: Transaction<RecordDatabase>, b: Bucket, sign: 1 | -1): Promise<void> {
  const overdue = b.overdue ? sign : 0;
  const undelivered = b.undelivered ? sign : 0;
  await trx
    .insertInto('pathway_counts')
    .values({ care_team: b.care_team, stage: b.stage, status: b.status, total: sign, overdue, undelivered })
    .onConflict((oc) =>
      oc.columns(['care_team', 'stage', 'status']).doUpdateSet((eb) => ({
        total: eb('pathway_counts.total', '+', sign),
        overdue: eb('pathway_counts.overdue', '+', overdue),
        undelivered: eb('pathway_counts.undelivered', '+', undelivered),
      })),
    )
    .execute();
}

/** Writes to one enrolment wait for each other, so the counts move once per change. */
const lockEnrolment = (trx: Transaction<RecordDatabase>, enrolmentId: string) =>
  sql`select pg_advisory_xact_lock(hashtext(${enrolmentId}))`.execute(trx);

const BUCKET = ['care_team', 'stage', 'status', 'overdue', 'undelivered'] as const;

function timelineRow(enrolmentId: string, e: TimelineEntry, cipher: NoteCipher) {
  const { reason, ...entry } = e;
  return { enrolment_id: enrolmentId, seq: e.seq, at: e.at, event: e.event, rule_id: e.ruleId ?? null, entry: json(entry), reason_enc: cipher.seal(reason) };
}

export async function writeBatch(db: RecordDb, cipher: NoteCipher, batch: RecordBatch, now: Date = new Date()): Promise<{ applied: boolean }> {
  return db.transaction().execute(async (trx) => {
    const id = batch.enrolmentId;
    await lockEnrolment(trx, id);
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
    await writeEpisodes(trx, batch);

    const row = pathwayRow(batch, now);
    const { enrolment_id: _id, ...changes } = row;
    // A message handed over at closing may have failed since (recordDeliveryOutcome): it stays flagged.
    const stillUndelivered = sql<boolean>`(excluded.undelivered or exists (select 1 from messages m
      where m.enrolment_id = ${id} and m.outcome = 'undelivered' and m.resolved_at is null))`;
    const before = await trx.selectFrom('pathways').select(BUCKET).where('enrolment_id', '=', id).executeTakeFirst();
    const after = await trx
      .insertInto('pathways')
      .values(row)
      .onConflict((oc) => oc.column('enrolment_id').doUpdateSet({ ...changes, undelivered: stillUndelivered }).where('pathways.version', '<', batch.version))
      .returning(BUCKET)
      .executeTakeFirst();
    if (after) {
      if (before) await count(trx, before, -1);
      await count(trx, after, 1);
    }
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
    await trx
      .insertInto('messages')
      .values({ enrolment_id: outcome.enrolmentId, message_id: outcome.messageId, side_effect: outcome.messageType, outcome: outcome.outcome, at: outcome.at, resolved_at: null })
      .onConflict((oc) => oc.columns(['enrolment_id', 'message_id']).doUpdateSet({ outcome: outcome.outcome, at: outcome.at }))
      .execute();
    if (outcome.outcome === 'undelivered') {
      await lockEnrolment(trx, outcome.enrolmentId);
      const flagged = await trx
        .updateTable('pathways')
        .set({ undelivered: true })
        .where('enrolment_id', '=', outcome.enrolmentId)
        .where('undelivered', '=', false)
        .returning(BUCKET)
        .executeTakeFirst();
      if (flagged) {
        await count(trx, { ...flagged, undelivered: false }, -1);
        await count(trx, flagged, 1);
      }
    }
  });
}

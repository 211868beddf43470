/**
 * The record store on a real PostgreSQL server and on the embedded default: batches written
 * from the pure pathway model read back whole; writes are idempotent and never move a pathway
 * back; notes rest encrypted; lists page by keyset without losing a row; summary, worklist,
 * digest and outcomes are counted by the database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { PathwayDefinitionSchema } from '../../clinical/definition';
import pspsLumbarV1 from '../../clinical/definitions/psps-lumbar.v1.json';
import type { Actor } from '../../clinical/events';
import { applyEvent, enroll, pendingWorkup, type PathwayEvent, type PathwayState } from '../../clinical/pathway';
import { DAY_MS } from '../../clinical/rules';
import { NOTHING_RECORDED, recordBatch, writeFence, type RecordProgress } from '../../record/batch';
import { claimKey, completeKey, releaseKey } from '../../record/idempotency';
import { digestCounts, listPathways, readPathway, summarise, worklist, type ListCursor, type WorklistCursor } from '../../record/read';
import { outcomeAggregateDifferences, rebuildOutcomeAggregates } from '../../record/outcome-aggregates';
import { eraseIdentity, recordIdentity } from '../../record/patients';
import { outcomesFromAggregates, outcomesFromRows, outcomesReport, type OutcomeFilters } from '../../record/reports';
import { purgeExpired } from '../../record/retention';
import { deleteSession, purgeEndedSessions, readSession, touchSession, writeSession } from '../../record/sessions';
import type { RecordStore } from '../../record/store';
import { writeBatch, writeDeliveryOutcome } from '../../record/write';
import { BACKENDS, freshRecordStore, testCipher } from '../harness/record-store';

const DEF = PathwayDefinitionSchema.parse(structuredClone(pspsLumbarV1));
const T0 = Date.UTC(2026, 0, 5, 9);
const day = (n: number) => T0 + n * DAY_MS;
const CLINICIAN: Actor = { id: 'dr-lee', role: 'clinician' };
const COORDINATOR: Actor = { id: 'coord-kim', role: 'coordinator' };

/** A pathway driven through the pure model, with the batches its workflow would write. */
class Driven {
  state: PathwayState;
  progress: RecordProgress = NOTHING_RECORDED;
  constructor(
    readonly enrolmentId: string,
    pathwayId: string,
    careTeam: string,
    painNrs = 7,
    odi = 40,
    at = T0,
  ) {
    this.state = enroll({ pathwayId, careTeam, definition: DEF, baseline: { painNrs, odi }, redFlags: [], enrolledBy: COORDINATOR }, at).state;
  }
  apply(event: PathwayEvent, at: number): this {
    this.state = applyEvent(this.state, event, at).state;
    return this;
  }
  batch() {
    const next = recordBatch(this.enrolmentId, this.state, pendingWorkup(this.state), this.progress);
    this.progress = next.progress;
    return next.batch;
  }
}

const reassess = (painNrs: number, odi?: number, note?: string): PathwayEvent => ({ type: 'reassessment', actor: CLINICIAN, input: { painNrs, odi, redFlags: [], ...(note ? { note } : {}) } });

describe.each(BACKENDS)('record store on %s', (backend) => {
  let store: RecordStore;
  const cipher = testCipher();
  beforeAll(async () => {
    store = await freshRecordStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('reads back a pathway whole, with its notes decrypted, and keeps notes encrypted at rest', async () => {
    const p = new Driven('run-whole', 'pw-' + '1'.repeat(32), 'spine-a');
    await writeBatch(store.db, cipher, p.batch());
    p.apply(reassess(6, 38, 'sleeping badly since the fall'), day(14));
    p.apply({ type: 'action', actor: CLINICIAN, input: { action: 'hold', reason: 'admitted to hospital elsewhere' } }, day(15));
    await writeBatch(store.db, cipher, p.batch());

    const read = await readPathway(store.db, cipher, p.state.pathwayId);
    expect(read).toEqual({ ...p.state, pendingWorkup: [] });

    const raw = JSON.stringify(
      await sql`select t.entry, t.reason_enc, r.record, r.note_enc, p.snapshot from timeline_entries t, reassessments r, pathways p where t.enrolment_id = ${'run-whole'}`.execute(store.db),
    );
    expect(raw).not.toContain('sleeping badly');
    expect(raw).not.toContain('admitted to hospital');
    expect(raw).toContain('v1.');
  });

  it('keeps any score a valid request carries, to the last digit', async () => {
    const p = new Driven('run-tiny-mme', 'pw-' + '3'.repeat(32), 'spine-a');
    p.apply({ type: 'reassessment', actor: CLINICIAN, input: { painNrs: 2.5, dailyMme: 2.2250738585072014e-308, redFlags: [] } }, day(14));
    await writeBatch(store.db, cipher, p.batch());
    const read = await readPathway(store.db, cipher, p.state.pathwayId);
    expect(read!.reassessments[0]).toMatchObject({ painNrs: 2.5, dailyMme: 2.2250738585072014e-308 });
    const row = await store.db.selectFrom('reassessments').select(['daily_mme', 'pain_nrs']).where('enrolment_id', '=', 'run-tiny-mme').executeTakeFirstOrThrow();
    expect(row).toEqual({ daily_mme: 2.2250738585072014e-308, pain_nrs: 2.5 });
  });

  it('writes each batch once: a retry or a replayed batch changes nothing, and an older batch never moves the pathway back', async () => {
    const p = new Driven('run-idem', 'pw-' + '2'.repeat(32), 'spine-a');
    const first = p.batch();
    await writeBatch(store.db, cipher, first);
    p.apply(reassess(3, 20), day(14));
    const second = p.batch();
    expect(await writeBatch(store.db, cipher, second)).toEqual({ applied: true });
    expect(await writeBatch(store.db, cipher, second)).toEqual({ applied: false });
    expect(await writeBatch(store.db, cipher, first)).toEqual({ applied: false });
    // A batch written again from the start (a rebuild) also changes nothing.
    const whole = recordBatch('run-idem', p.state, [], NOTHING_RECORDED).batch;
    await writeBatch(store.db, cipher, whole);

    const count = async (table: 'timeline_entries' | 'reassessments' | 'stage_episodes') =>
      Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('enrolment_id', '=', 'run-idem').executeTakeFirstOrThrow()).n);
    expect(await count('timeline_entries')).toBe(p.state.timeline.length);
    expect(await count('reassessments')).toBe(1);
    expect(await count('stage_episodes')).toBe(1);
    const row = await store.db.selectFrom('pathways').select(['version', 'latest_pain_nrs']).where('enrolment_id', '=', 'run-idem').executeTakeFirstOrThrow();
    expect(row).toEqual({ version: p.state.timeline.length, latest_pain_nrs: 3 });
  });

  it('replaces what a workflow task that never committed wrote, and refuses that task\'s late write after its retry', async () => {
    const team = 'uncommitted-a';
    const p = new Driven('run-uncommitted', 'pw-' + 'd'.repeat(32), team);
    const enrolled = p.batch();
    await writeBatch(store.db, cipher, { ...enrolled, fence: writeFence(0, 3, day(0)) });
    const base = p.progress;
    const committed = structuredClone(p.state);
    // The attempt that failed: a red flag (urgent referral, a stage episode flagged) and a reassessment, written, never committed.
    p.apply({ type: 'red-flags', actor: CLINICIAN, input: { redFlags: ['infection'] } }, day(2));
    p.apply(reassess(5, 30, 'from the attempt that failed'), day(2));
    const failed = { ...p.batch(), fence: writeFence(0, 9, day(2)) };
    expect(await writeBatch(store.db, cipher, failed)).toEqual({ applied: true });
    // Its retry, from the same committed point, saw only a hold, at another time.
    p.state = committed;
    p.progress = base;
    p.apply({ type: 'action', actor: COORDINATOR, input: { action: 'hold', reason: 'travelling' } }, day(3));
    const retried = { ...p.batch(), fence: writeFence(0, 12, day(3)) };
    expect(retried.after).toEqual(failed.after);
    expect(await writeBatch(store.db, cipher, retried)).toEqual({ applied: true });

    expect(await readPathway(store.db, cipher, p.state.pathwayId)).toEqual({ ...p.state, pendingWorkup: [] });
    const rows = async (table: 'reassessments' | 'red_flags' | 'stage_episodes') =>
      store.db.selectFrom(table).selectAll().where('enrolment_id', '=', 'run-uncommitted').execute();
    expect(await rows('reassessments')).toHaveLength(0);
    expect(await rows('red_flags')).toHaveLength(0);
    expect((await rows('stage_episodes')).map((e) => [e.stage, e.urgent_referral])).toEqual([['conservative', false]]);
    const [summary] = await summarise(store.db, { careTeam: team });
    expect(summary).toMatchObject({ total: 1, byStatus: { 'on-hold': 1 } });

    // The failed attempt's write arriving late (a worker that had not died) changes nothing.
    expect(await writeBatch(store.db, cipher, failed)).toEqual({ applied: false });
    // Nor does that of an attempt the server lost in a restart, which saw the same history but started earlier.
    expect(await writeBatch(store.db, cipher, { ...failed, fence: writeFence(0, 12, day(3) - 1000) })).toEqual({ applied: false });
    // Nor does the retry's own write again.
    expect(await writeBatch(store.db, cipher, retried)).toEqual({ applied: false });
    expect(await readPathway(store.db, cipher, p.state.pathwayId)).toEqual({ ...p.state, pendingWorkup: [] });
    expect((await summarise(store.db, { careTeam: team }))[0]).toMatchObject({ total: 1, byStatus: { 'on-hold': 1 } });
  });

  it('pages a list by keyset, soonest due first, without losing or repeating a row, across teams and filters', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const p = new Driven(`run-list-${i}`, `pw-${(1000 + i).toString(16).padStart(32, 'a')}`, i % 2 ? 'list-odd' : 'list-even', 7, 40, T0 + (i % 5) * DAY_MS);
      await writeBatch(store.db, cipher, p.batch());
      ids.push(p.state.pathwayId);
    }
    const seen: string[] = [];
    let cursor: ListCursor | undefined;
    let lastDue = '';
    do {
      const page = await listPathways(store.db, { careTeams: ['list-odd', 'list-even'] }, 4, cursor);
      for (const item of page.items) {
        expect(item.nextDueAt! >= lastDue).toBe(true);
        lastDue = item.nextDueAt!;
        seen.push(item.pathwayId);
      }
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual([...ids].sort());
    const odd = await listPathways(store.db, { careTeam: 'list-odd' }, 100);
    expect(odd.items).toHaveLength(11);
    expect(odd.items.every((r) => r.careTeam === 'list-odd')).toBe(true);
    // A value is bound, never pasted into SQL.
    expect((await listPathways(store.db, { careTeam: "list-odd' or '1'='1" }, 100)).items).toHaveLength(0);
    const summary = await summarise(store.db, { careTeams: ['list-odd', 'list-even'] });
    expect(summary.map((t) => [t.careTeam, t.total, t.byStage.conservative, t.byStatus.active])).toEqual([
      ['list-even', 12, 12, 12],
      ['list-odd', 11, 11, 11],
    ]);
  });

  it('pages dated pathways before undated ones (closed), each range by its own keyset, with nothing lost or repeated', async () => {
    const team = 'list-undated';
    const ids: string[] = [];
    for (let i = 0; i < 9; i++) {
      const p = new Driven(`run-undated-${i}`, `pw-${(2000 + i).toString(16).padStart(32, 'b')}`, team, 7, 40, T0 + (i % 3) * DAY_MS);
      if (i % 3 === 0) p.apply({ type: 'action', actor: COORDINATOR, input: { action: 'withdraw', reason: 'moved away' } }, day(1));
      await writeBatch(store.db, cipher, p.batch());
      ids.push(p.state.pathwayId);
    }
    for (const pageSize of [1, 2, 4]) {
      const seen: Array<string | null> = [];
      const pathways: string[] = [];
      let cursor: ListCursor | undefined;
      do {
        const page = await listPathways(store.db, { careTeam: team }, pageSize, cursor);
        expect(page.items.length).toBeLessThanOrEqual(pageSize);
        seen.push(...page.items.map((r) => r.nextDueAt));
        pathways.push(...page.items.map((r) => r.pathwayId));
        cursor = page.next ?? undefined;
      } while (cursor);
      expect(pathways.sort()).toEqual([...ids].sort());
      const undated = seen.filter((d) => d === null).length;
      expect(undated).toBe(3);
      // Every dated one first, in order; then the undated.
      const dated = seen.slice(0, seen.length - undated) as string[];
      expect(dated).toEqual([...dated].sort());
      expect(seen.slice(seen.length - undated)).toEqual([null, null, null]);
    }
  });

  it('builds the worklist and the digest in SQL: urgent referral first, then overdue, due today, due soon', async () => {
    const team = 'work-a';
    const urgent = new Driven('run-w-urgent', 'pw-' + 'b'.repeat(32), team).apply({ type: 'red-flags', actor: CLINICIAN, input: { redFlags: ['bladder-bowel-dysfunction'] } }, day(1));
    const overdue = new Driven('run-w-overdue', 'pw-' + 'c'.repeat(32), team);
    overdue.state = { ...overdue.state, overdue: true };
    const dueSoon = new Driven('run-w-soon', 'pw-' + 'd'.repeat(32), team, 7, 40, T0 + 2 * DAY_MS);
    const later = new Driven('run-w-later', 'pw-' + 'e'.repeat(32), team, 7, 40, T0 + 20 * DAY_MS);
    for (const p of [urgent, overdue, dueSoon, later]) await writeBatch(store.db, cipher, p.batch());
    const now = Date.parse(dueSoon.state.due!.dueAt) - 3 * DAY_MS;
    const { items, next } = await worklist(store.db, { careTeam: team }, 7, now, 50);
    expect(items.map((i) => [i.pathwayId, i.category])).toEqual([
      [urgent.state.pathwayId, 'urgent-referral'],
      [overdue.state.pathwayId, 'overdue'],
      [dueSoon.state.pathwayId, 'due-soon'],
    ]);
    expect(next).toBeNull();
    // A page at a time, the same items in the same order, each once.
    const paged: string[] = [];
    let after: WorklistCursor | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await worklist(store.db, { careTeam: team }, 7, now, 1, after);
      paged.push(...page.items.map((i) => i.pathwayId));
      if (!page.next) break;
      after = page.next;
    }
    expect(paged).toEqual(items.map((i) => i.pathwayId));
    const digest = (await digestCounts(store.db, now)).find((d) => d.careTeam === team)!;
    expect(digest.counts).toMatchObject({ urgentReferral: 1, overdue: 1, dueThisWeek: 1, active: 3 });
  });

  it('reports cohort outcomes per stage and per procedure from stage episodes', async () => {
    const def = { careTeam: 'outcomes-a' };
    // Responder: 7 -> 3 in conservative care, twice: completed.
    const responder = new Driven('run-o-1', 'pw-' + 'f1'.repeat(16), def.careTeam, 8, 50);
    responder.apply(reassess(4, 30), day(28)).apply(reassess(3, 28), day(56));
    // Non-responder escalated after the minimum, then an injection that works.
    const escalated = new Driven('run-o-2', 'pw-' + 'f2'.repeat(16), def.careTeam, 8, 50);
    escalated.apply(reassess(8, 50), day(28)).apply(reassess(8, 48), day(56));
    escalated.apply({ type: 'procedure', actor: COORDINATOR, input: { type: 'epidural-steroid-injection', performedAt: new Date(day(60)).toISOString() } }, day(60));
    escalated.apply(reassess(3, 30), day(80));
    // Withdrawn.
    const withdrawn = new Driven('run-o-3', 'pw-' + 'f3'.repeat(16), def.careTeam, 6, 30);
    withdrawn.apply({ type: 'action', actor: COORDINATOR, input: { action: 'withdraw', reason: 'moved away' } }, day(10));
    for (const p of [responder, escalated, withdrawn]) await writeBatch(store.db, cipher, p.batch());

    expect(responder.state.status).toBe('completed');
    expect(escalated.state.stage).toBe('interventional');
    const report = await outcomesReport(store.db, def);
    const conservative = report.stages.find((s) => s.stage === 'conservative')!;
    expect(conservative).toMatchObject({ entered: 3, responded: 1, escalated: 1, completed: 1, withdrawn: 1, stillInStage: 0 });
    expect(conservative.medianDaysInStage).toBe(56);
    // Relief at exit: responder 8 -> 3 (62.5%), escalated 8 -> 8 (0%); the withdrawn one has no exit score.
    expect(conservative.medianPainReliefPercent).toBeCloseTo(31.3, 1);
    const interventional = report.stages.find((s) => s.stage === 'interventional')!;
    expect(interventional).toMatchObject({ entered: 1, responded: 1, stillInStage: 1 });
    expect(report.procedures).toEqual([{ type: 'epidural-steroid-injection', performed: 1, reassessed: 1, responded: 1, responseRate: 1 }]);
    const none = await outcomesReport(store.db, { ...def, from: new Date(day(400)).toISOString() });
    expect(none.stages.every((s) => s.entered === 0 && s.medianDaysInStage === null)).toBe(true);
  });

  it('keeps the outcomes report\'s aggregates equal to the report computed from the rows, through retries replacing rows, delivery outcomes, purges and erasure', async () => {
    const teams = ['agg-a', 'agg-b', 'agg-c'];
    const filters: OutcomeFilters[] = [{}, { careTeam: 'agg-a' }, { careTeams: teams.slice(0, 2) }, { careTeams: [] }, { definitionId: DEF.id }, { careTeam: 'agg-b', definitionVersion: DEF.version }];
    const agree = async () => {
      for (const f of filters) {
        const fromRows = await outcomesFromRows(store.db, f);
        expect(await outcomesFromAggregates(store.db, f)).toEqual(fromRows);
        // Walking down every level of buckets, as a median among many values does.
        expect(await outcomesFromAggregates(store.db, f, 0)).toEqual(fromRows);
      }
      expect((await outcomeAggregateDifferences(store.db)).filter((d) => d.differing > 0)).toEqual([]);
    };
    // Odd times, so the medians' values are not whole days and fall between buckets.
    const at = (d: number, i: number) => day(d) + i * 3_701_000 + 17;
    const pathways: Driven[] = [];
    for (let i = 0; i < 18; i++) {
      const p = new Driven(`run-agg-${i}`, 'pw-' + i.toString(16).padStart(2, '0').repeat(16), teams[i % 3]!, 5 + (i % 5), 28 + i, at(0, i));
      switch (i % 6) {
        case 1:
          p.apply(reassess(2 + (i % 3), 20), at(30, i)).apply(reassess(2, 18), at(60, i));
          break;
        case 2:
          p.apply(reassess(8, 44), at(42, i)).apply(reassess(8.5, 45), at(84, i));
          p.apply({ type: 'procedure', actor: CLINICIAN, input: { type: 'epidural-steroid-injection', performedAt: new Date(at(90, i)).toISOString() } }, at(90, i));
          p.apply(reassess(i % 4 === 2 ? 3 : 7, 40), at(118, i));
          break;
        case 3:
          p.apply(reassess(6, 35), at(20, i)).apply({ type: 'red-flags', actor: CLINICIAN, input: { redFlags: ['infection'] } }, at(25, i));
          break;
        case 4:
          p.apply({ type: 'action', actor: COORDINATOR, input: { action: 'hold', reason: 'admitted elsewhere' } }, at(5, i));
          break;
        case 5:
          p.apply(reassess(5, 30), at(14, i)).apply({ type: 'action', actor: COORDINATOR, input: { action: 'withdraw', reason: 'moved away' } }, at(20, i));
          break;
      }
      await writeBatch(store.db, cipher, { ...p.batch(), fence: writeFence(0, 3, at(0, i)) });
      pathways.push(p);
    }
    await agree();

    // Attempts that wrote and never committed (a response, a procedure, a withdrawal), each replaced by its retry's rows.
    for (const [n, p] of pathways.filter((q) => !q.state.closedAt).slice(0, 6).entries()) {
      const base = p.progress;
      const committed = structuredClone(p.state);
      const t = Date.parse(committed.timeline[committed.timeline.length - 1]!.at);
      p.apply(reassess(1, 10), t + DAY_MS);
      if (n % 2) p.apply({ type: 'procedure', actor: CLINICIAN, input: { type: 'radiofrequency-ablation', performedAt: new Date(t + DAY_MS).toISOString() } }, t + DAY_MS);
      else p.apply({ type: 'action', actor: COORDINATOR, input: { action: 'withdraw', reason: 'moved away' } }, t + 2 * DAY_MS);
      expect(await writeBatch(store.db, cipher, { ...p.batch(), fence: writeFence(0, 9, t + DAY_MS) })).toEqual({ applied: true });
      await agree();
      p.state = committed;
      p.progress = base;
      p.apply(reassess(7, 40), t + 3 * DAY_MS + 5_000);
      expect(await writeBatch(store.db, cipher, { ...p.batch(), fence: writeFence(0, 12, t + 3 * DAY_MS) })).toEqual({ applied: true });
    }
    await agree();

    // A rebuild's whole batch, a delivery outcome, the purge of closed pathways, and an erased identity.
    const whole = pathways[1]!;
    await writeBatch(store.db, cipher, recordBatch(whole.enrolmentId, whole.state, [], NOTHING_RECORDED).batch, new Date(), { replace: true });
    await writeDeliveryOutcome(store.db, { enrolmentId: pathways[5]!.enrolmentId, messageId: 'm-agg', messageType: 'pathway.closed', outcome: 'undelivered', at: new Date(day(30)).toISOString() });
    await agree();
    const closed = pathways.filter((p) => p.state.closedAt).length;
    expect(closed).toBeGreaterThan(2);
    expect((await purgeExpired(store.db, { recordRetentionDays: 30, idempotencyKeyDays: 30, now: day(400) })).pathways).toBeGreaterThanOrEqual(closed);
    await agree();
    const who = { actorId: 'coord-kim', actorRole: 'coordinator', route: 'test' };
    await recordIdentity(store.db, cipher, pathways[0]!.state.pathwayId, { reference: 'MRN-AGG-0', name: 'A Patient' }, who);
    expect(await eraseIdentity(store.db, pathways[0]!.state.pathwayId, who)).toBe(true);
    await agree();
    const report = await outcomesReport(store.db, { careTeams: teams });
    expect(report.stages.find((st) => st.stage === 'conservative')!.entered).toBeGreaterThan(0);

    // A count gone wrong is found, and a rebuild derives every aggregate again from the rows.
    await sql`update outcome_stage_counts set entered = entered + 1 where care_team = 'agg-a'`.execute(store.db);
    await sql`update outcome_measure_values set n = n + 1 where care_team = 'agg-a' and measure = 'days'`.execute(store.db);
    const found = await outcomeAggregateDifferences(store.db);
    expect(found.filter((d) => d.differing > 0).map((d) => d.table)).toEqual(['outcome_stage_counts', 'outcome_measure_values']);
    await rebuildOutcomeAggregates(store.db);
    await agree();
  });

  it('reads the worklist by its index, in the order and categories the direct query over every row gives', async () => {
    const team = 'work-order';
    const ps: Driven[] = [];
    for (let i = 0; i < 16; i++) {
      const p = new Driven(`run-wo-${i}`, 'pw-' + (0x40 + i).toString(16).repeat(16), team, 7, 40, T0 + (i % 8) * DAY_MS + i * 60_000);
      if (i % 8 === 1) p.apply({ type: 'red-flags', actor: CLINICIAN, input: { redFlags: ['infection'] } }, day(1));
      if (i % 8 === 2) p.state = { ...p.state, overdue: true };
      if (i % 8 === 3) p.apply({ type: 'action', actor: COORDINATOR, input: { action: 'hold', reason: 'travelling' } }, day(1));
      if (i % 8 === 4) p.apply({ type: 'action', actor: COORDINATOR, input: { action: 'withdraw', reason: 'moved away' } }, day(1));
      await writeBatch(store.db, cipher, p.batch());
      ps.push(p);
    }
    await writeDeliveryOutcome(store.db, { enrolmentId: 'run-wo-4', messageId: 'm-wo', messageType: 'pathway.closed', outcome: 'undelivered', at: new Date(day(2)).toISOString() });
    await sql`update pathways set pause_kind = 'lost-to-follow-up' where enrolment_id = 'run-wo-11'`.execute(store.db);
    await sql`update pathways set next_due_at = null where enrolment_id = 'run-wo-10'`.execute(store.db);
    for (const now of [day(0), day(30), day(45), day(90)]) {
      const today = new Date(now);
      today.setUTCHours(23, 59, 59, 999);
      const direct = await sql<{ pathway_id: string; category: number }>`select pathway_id, category from (
          select pathway_id, enrolment_id, next_due_at, case
            when status = 'urgent-referral' then 0 when undelivered then 1
            when status = 'on-hold' and pause_kind = 'lost-to-follow-up' then 2
            when status <> 'active' then null when overdue then 3
            when next_due_at <= ${today} then 4 when next_due_at <= ${new Date(now + 7 * DAY_MS)} then 5 end as category
          from pathways where care_team = ${team} and (closed_at is null or undelivered)) w
        where category is not null order by category, coalesce(next_due_at, 'infinity'::timestamptz), enrolment_id`.execute(store.db);
      const paged: Array<[string, string]> = [];
      let after: WorklistCursor | undefined;
      for (let pages = 0; pages < 40; pages++) {
        const page = await worklist(store.db, { careTeam: team }, 7, now, 2, after);
        paged.push(...page.items.map((i): [string, string] => [i.pathwayId, i.category]));
        if (!page.next) break;
        after = page.next;
      }
      expect(paged).toEqual(direct.rows.map((r) => [r.pathway_id, ['urgent-referral', 'undelivered', 'lost-to-follow-up', 'overdue', 'due-today', 'due-soon'][r.category]]));
      expect(paged.length).toBeGreaterThan(2);
    }
  });

  it('keeps the first answer to an idempotency key, refuses another request under it, and reports one in flight', async () => {
    expect(await claimKey(store.db, cipher, 'k1', 'digest-a', 60_000)).toEqual({ kind: 'new' });
    expect(await claimKey(store.db, cipher, 'k1', 'digest-a', 60_000)).toEqual({ kind: 'in-flight' });
    expect(await claimKey(store.db, cipher, 'k1', 'digest-b', 60_000)).toEqual({ kind: 'mismatch' });
    await completeKey(store.db, cipher, 'k1', 201, { pathway: { note: 'a private note' } });
    expect(await claimKey(store.db, cipher, 'k1', 'digest-a', 60_000)).toEqual({ kind: 'replay', status: 201, body: { pathway: { note: 'a private note' } } });
    const raw = await store.db.selectFrom('idempotency_keys').select('response_enc').where('key_hash', '=', 'k1').executeTakeFirstOrThrow();
    expect(raw.response_enc).not.toContain('private');
    // A claim with no answer (a 5xx) is released so the retry runs again; a stale one is taken over.
    expect(await claimKey(store.db, cipher, 'k2', 'd', 60_000)).toEqual({ kind: 'new' });
    await releaseKey(store.db, 'k2');
    expect(await claimKey(store.db, cipher, 'k2', 'd', 60_000)).toEqual({ kind: 'new' });
    await sql`update idempotency_keys set created_at = now() - interval '10 minutes' where key_hash = 'k2'`.execute(store.db);
    expect(await claimKey(store.db, cipher, 'k2', 'd', 60_000)).toEqual({ kind: 'new' });
  });

  it('keeps the summary counts equal to the pathways themselves through changes, delivery outcomes and deletions', async () => {
    const team = 'counts-a';
    const p = new Driven('run-counts-1', 'pw-' + 'c1'.repeat(16), team);
    const q = new Driven('run-counts-2', 'pw-' + 'c2'.repeat(16), team);
    await writeBatch(store.db, cipher, p.batch());
    await writeBatch(store.db, cipher, q.batch());
    p.apply({ type: 'action', actor: COORDINATOR, input: { action: 'hold', reason: 'in hospital elsewhere' } }, day(3));
    const held = p.batch();
    await writeBatch(store.db, cipher, held);
    await writeBatch(store.db, cipher, held); // a retry moves nothing twice
    q.apply({ type: 'action', actor: COORDINATOR, input: { action: 'withdraw', reason: 'moved away' } }, day(4));
    await writeBatch(store.db, cipher, q.batch());
    await writeDeliveryOutcome(store.db, { enrolmentId: 'run-counts-2', messageId: 'm-1', messageType: 'pathway.closed', outcome: 'undelivered', at: new Date(day(4)).toISOString() });
    await writeDeliveryOutcome(store.db, { enrolmentId: 'run-counts-2', messageId: 'm-1', messageType: 'pathway.closed', outcome: 'undelivered', at: new Date(day(4)).toISOString() });

    const scanned = async () =>
      (
        await sql<{ stage: string; status: string; n: number; u: number }>`select stage, status, count(*)::int as n, count(*) filter (where undelivered)::int as u
          from pathways where care_team = ${team} group by stage, status`.execute(store.db)
      ).rows;
    const [summary] = await summarise(store.db, { careTeam: team });
    expect(summary).toMatchObject({ careTeam: team, total: 2, undelivered: 1, byStatus: { 'on-hold': 1, withdrawn: 1 }, byStage: { conservative: 2 } });
    expect((await scanned()).reduce((n, r) => n + r.n, 0)).toBe(summary!.total);

    await purgeExpired(store.db, { recordRetentionDays: 1, idempotencyKeyDays: 30, now: day(40) });
    const after = await summarise(store.db, { careTeam: team });
    expect(after.map((t) => [t.total, t.undelivered, t.byStatus])).toEqual([[1, 0, { 'on-hold': 1 }]]);
    expect(await scanned()).toEqual([{ stage: 'conservative', status: 'on-hold', n: 1, u: 0 }]);
  });

  it('deletes a closed pathway only after the configured retention; unset, keeps it', async () => {
    const p = new Driven('run-retention', 'pw-' + 'ab'.repeat(16), 'retention-a');
    p.apply({ type: 'action', actor: COORDINATOR, input: { action: 'withdraw', reason: 'moved away' } }, day(1));
    await writeBatch(store.db, cipher, p.batch());
    const closedAt = Date.parse(p.state.closedAt!);
    expect((await purgeExpired(store.db, { idempotencyKeyDays: 30, now: closedAt + 3650 * DAY_MS })).pathways).toBe(0);
    expect(await readPathway(store.db, cipher, p.state.pathwayId)).not.toBeNull();
    expect((await purgeExpired(store.db, { recordRetentionDays: 365, idempotencyKeyDays: 30, now: closedAt + 300 * DAY_MS })).pathways).toBe(0);
    expect((await purgeExpired(store.db, { recordRetentionDays: 365, idempotencyKeyDays: 30, now: closedAt + 366 * DAY_MS })).pathways).toBeGreaterThanOrEqual(1);
    expect(await readPathway(store.db, cipher, p.state.pathwayId)).toBeNull();
    const left = await store.db.selectFrom('timeline_entries').select('seq').where('enrolment_id', '=', 'run-retention').execute();
    expect(left).toEqual([]);
  });

  it('keeps console sessions by a hash of their id, encrypted, until they end; ended ones are purged', async () => {
    const sid = 'session-id-0123456789';
    const data = { principal: { id: 'dr-lee', role: 'clinician' }, csrfToken: 'token-abc' };
    const t0 = new Date('2026-11-20T10:00:00Z');
    await writeSession(store.db, cipher, sid, data, new Date(t0.getTime() + 15 * 60_000));
    expect(await readSession(store.db, cipher, sid, t0)).toEqual(data);
    const row = await store.db.selectFrom('console_sessions').selectAll().executeTakeFirstOrThrow();
    expect(row.sid_hash).not.toContain(sid);
    expect(row.data_enc).not.toContain('dr-lee');
    expect(row.data_enc).not.toContain('token-abc');
    // A request moves the end on; past it the session is gone, and a touch cannot bring it back.
    await touchSession(store.db, sid, new Date(t0.getTime() + 30 * 60_000), new Date(t0.getTime() + 10 * 60_000));
    expect(await readSession(store.db, cipher, sid, new Date(t0.getTime() + 20 * 60_000))).toEqual(data);
    expect(await readSession(store.db, cipher, sid, new Date(t0.getTime() + 31 * 60_000))).toBeNull();
    await touchSession(store.db, sid, new Date(t0.getTime() + 60 * 60_000), new Date(t0.getTime() + 31 * 60_000));
    expect(await readSession(store.db, cipher, sid, new Date(t0.getTime() + 32 * 60_000))).toBeNull();
    // A session sealed with a key no longer configured is no session: its person signs in again.
    await writeSession(store.db, testCipher(), 'sealed-elsewhere', data, new Date(t0.getTime() + 90 * 60_000));
    expect(await readSession(store.db, cipher, 'sealed-elsewhere', t0)).toBeNull();
    await deleteSession(store.db, 'sealed-elsewhere');
    await writeSession(store.db, cipher, 'another-session', data, new Date(t0.getTime() + 90 * 60_000));
    expect(await purgeEndedSessions(store.db, new Date(t0.getTime() + 31 * 60_000))).toBe(1);
    await deleteSession(store.db, 'another-session');
    expect(await store.db.selectFrom('console_sessions').selectAll().execute()).toEqual([]);
  });
});

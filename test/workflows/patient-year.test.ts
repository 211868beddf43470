/**
 * A pathway-year answered by the patient at home (issue 19), on the time-skipping server with the
 * real API over HTTP, a worker and PostgreSQL: every reassessment goes out as a link through the
 * patient channel (the local outbox) at the definition's times, a reminder follows, the patient
 * opens the page (GET, which never uses the link) and answers it (POST); one link expires
 * unanswered, one answer comes after the care team recorded the reassessment (kept, not counted),
 * one reports a red flag that waits for a clinician. A second pathway gets the same scores from a
 * clinician on the same days, and decides the same. Then the year's Temporal histories (every run),
 * search attributes, memos, the worker's and the API's logs and the metrics are scanned for the
 * patients' name, reference, phone and email, with positive controls; the record store holds them
 * only encrypted.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, type LogEntry } from '@temporalio/worker';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TimelineEntry } from '../../clinical/pathway';
import { DAY_MS } from '../../clinical/rules';
import { http, startApi, type ApiUnderTest } from '../harness/api';
import { scrape } from '../harness/metrics';
import { answers, form } from '../harness/patient-answers';
import { eventually } from '../harness/pathway-driver';
import { historiesOfRuns, type History } from '../harness/run-histories';
import { connectTimeSkipping, disconnectTimeSkipping } from '../harness/temporal';
import { decisionsOf } from '../harness/trajectory';

// The worker's log, as its process would write it, at debug level: installed before the harness
// quietens the runtime, so every line the SDK, the workflows and the activities log is kept.
const workerLog: string[] = [];
const plain = (_k: string, v: unknown) => (typeof v === 'bigint' ? String(v) : v);
Runtime.install({ logger: new DefaultLogger('DEBUG', (e: LogEntry) => workerLog.push(JSON.stringify({ level: e.level, message: e.message, meta: e.meta }, plain))) });

let env: TestWorkflowEnvironment;
/** Every run of both pathways' histories, once the scan has read them. */
const chains: Array<{ workflowId: string; history: History }> = [];
let api: ApiUnderTest;
let call: ReturnType<typeof http>;
const team = `py-${randomBytes(4).toString('hex')}`;

/** Two patients whose every detail is unique to this run: a scan finds only what this test put there. */
function newPatient(contact: boolean) {
  const tag = randomBytes(4).toString('hex');
  return {
    patientRef: `MRN-${tag}-${randomBytes(3).toString('hex')}`,
    patient: {
      name: `Odalys Fenwick ${tag}`,
      birthDate: '1958-11-02',
      ...(contact ? { contact: { mobile: `+44770090${String(parseInt(tag.slice(0, 4), 16) % 10000).padStart(4, '0')}`, email: `o.fenwick.${tag}@example.org`, language: 'en' as const } } : {}),
    },
  };
}
const patientA = newPatient(true);
const patientB = newPatient(false);
const secrets: Record<string, string> = {
  'reference (A)': patientA.patientRef,
  'name (A)': patientA.patient.name,
  'phone (A)': patientA.patient.contact!.mobile,
  'email (A)': patientA.patient.contact!.email,
  'reference (B)': patientB.patientRef,
  'name (B)': patientB.patient.name,
};

/** Pathway A: the patient answers. Pathway B: a clinician enters the same scores. */
let A: string;
let B: string;
let today = 0;
const day = async (d: number): Promise<void> => {
  await env.sleep((d - today) * DAY_MS);
  today = d;
};

interface Message {
  id: string;
  kind: string;
  link: string;
}
/** The local outbox page, oldest message first, as a person at `npm start` reads it. */
async function outbox(): Promise<Message[]> {
  const html = await (await fetch(`${api.url}/outbox`)).text();
  return html
    .split('<li class="message"')
    .slice(1)
    .map((item) => {
      const id = /data-message-id="([^"]+)"/.exec(item)![1]!;
      return { id, kind: id.slice(id.lastIndexOf('-') + 1), link: /href="([^"]+\/p\/[^"]+)"/.exec(item)![1]!.replace(/&amp;/g, '&') };
    })
    .reverse();
}
/** Waits for the outbox to hold `n` messages and returns the newest. */
async function nthMessage(n: number): Promise<Message> {
  const messages = await eventually(outbox, (m) => m.length >= n);
  expect(messages).toHaveLength(n);
  return messages.at(-1)!;
}

type Questionnaire = { id: string; state: string; counted: string | null; scores: Record<string, number> | null; dueAt: string | null; missedAt: string | null; redFlagReview: string | null; issuedBy: string };
const questionnaires = async (id: string): Promise<Questionnaire[]> => (await call('GET', `/v1/pathways/${id}/questionnaires`, { as: 'clinician' })).body.items;
const pathway = async (id: string) => (await call('GET', `/v1/pathways/${id}`, { as: 'clinician' })).body.pathway as { stage: string; status: string; reassessments: unknown[]; timeline: TimelineEntry[]; due: { kind: string; dueAt: string } | null };
const worklistItem = async (id: string, as: 'coordinator' | 'clinician' = 'coordinator') => {
  const items = (await call('GET', `/v1/worklist?careTeam=${team}&dueSoonDays=60`, { as })).body.items as Array<{ pathwayId: string; category: string; notAnsweredByPatient?: true }>;
  return { items, item: items.find((i) => i.pathwayId === id) };
};

async function enrol(p: ReturnType<typeof newPatient>): Promise<string> {
  // As a client does: a 5xx is sent again with the same Idempotency-Key. On a busy machine the
  // time-skipping test server (Temporal's Java test server, not its production server) now and then
  // fails the first update-with-start ("UNKNOWN: Application error processing RPC").
  const request = { as: 'coordinator' as const, headers: { 'idempotency-key': `enrol-${randomUUID()}` }, body: { ...p, careTeam: team, baseline: { painNrs: 8, odi: 50 } } };
  let res = await call('POST', '/v1/pathways', request);
  for (let attempt = 2; res.status >= 500 && attempt <= 4; attempt++) {
    await new Promise((r) => setTimeout(r, 2000));
    res = await call('POST', '/v1/pathways', request);
  }
  expect(res.status, `${JSON.stringify(res.body)} ${JSON.stringify(api.logger.lines.filter((l) => l.level === 'error'))}`).toBe(201);
  return res.body.pathway.pathwayId;
}

/** A change both pathways get alike from the care team (a reassessment at the clinic, a procedure, an action). */
async function both(kind: string, body: unknown): Promise<void> {
  for (const id of [A, B]) {
    const res = await call('POST', `/v1/pathways/${id}/${kind}`, { as: 'clinician', body });
    expect(res.status, `${kind} on ${id === A ? 'A' : 'B'}: ${JSON.stringify(res.body)}`).toBe(200);
  }
}

/** The patient opens the link (twice: a link preview first) and answers; the clinician enters the same scores on B. */
async function patientAnswers(message: Message, o: Parameters<typeof answers>[0]): Promise<{ page: string; questionnaire: Questionnaire }> {
  const before = (await pathway(A)).reassessments.length;
  for (let i = 0; i < 2; i++) {
    const opened = await fetch(message.link);
    expect(opened.status).toBe(200);
    expect(await opened.text()).toContain('name="pain-nrs.pain"');
  }
  const id = message.id.slice(0, message.id.lastIndexOf('-'));
  // Opening used nothing up and recorded nothing.
  expect((await questionnaires(A)).find((q) => q.id === id)!.state).toBe('opened');
  expect((await pathway(A)).reassessments).toHaveLength(before);
  const sent = await fetch(message.link, form(answers(o)));
  const page = await sent.text();
  expect(sent.status, page.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 600)).toBe(200);
  expect(page).toContain('Your answers have reached your care team');
  const questionnaire = (await questionnaires(A)).find((q) => q.id === id)!;
  expect(questionnaire).toMatchObject({ state: 'answered', counted: 'reassessment', scores: { painNrs: o.painNrs, odi: o.odiSectionSum * 2, pgic: o.pgic ?? 3 } });
  expect((await pathway(A)).reassessments).toHaveLength(before + 1);
  const clinician = await call('POST', `/v1/pathways/${B}/reassessments`, { as: 'clinician', body: questionnaire.scores });
  expect(clinician.status, JSON.stringify(clinician.body)).toBe(200);
  return { page, questionnaire };
}

/**
 * The decisions of a timeline: what happened, the rule that fired, its numbers, where the pathway
 * went. The two pathways were enrolled a moment apart: times are read as days since enrolment.
 */
function decisionsIn(timeline: TimelineEntry[]) {
  const enrolled = Date.parse(timeline[0]!.at);
  const days = (_k: string, v: unknown) => (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? { day: (Date.parse(v) - enrolled) / DAY_MS } : v);
  return decisionsOf(timeline).map((e) => JSON.parse(JSON.stringify({ event: e.event, ruleId: e.ruleId, numbers: e.numbers, stageAfter: e.stageAfter, statusAfter: e.statusAfter, due: e.due }, days)) as unknown);
}
/** The same decisions, each time matched within a minute (the other pathway took each change a moment apart). */
const withinAMinute = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(withinAMinute)
    : v && typeof v === 'object'
      ? 'day' in v && Object.keys(v).length === 1
        ? { day: expect.closeTo((v as { day: number }).day, 3) }
        : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withinAMinute(x)]))
      : v;

beforeAll(async () => {
  env = await connectTimeSkipping();
  // Past 120 events the pathways continue as new (500 in the service): the year's histories are a
  // chain of runs. The first enrolment waits for the worker's first workflow task, which a machine
  // busy with other tests can take longer than Temporal's default 10 s to finish; once in ten runs
  // the enrolment then failed with a 500 after ~35 s, the timing of a server that refuses an update
  // after two timed-out tasks (FAILED_PRECONDITION) once its 20 s long-poll has expired.
  api = await startApi({ timeSkipping: env, temporalDeadlineMs: 60_000, enrolments: { continueAsNewAfterEvents: 120, workflowTaskTimeoutSeconds: 60 } });
  call = http(api);
});
afterAll(async () => {
  // Closed while the worker runs: nothing is left waiting on the file's clock.
  for (const id of [A, B]) if (id) await call('POST', `/v1/pathways/${id}/actions`, { as: 'coordinator', body: { action: 'withdraw', reason: 'end of test' } });
  await api?.stop();
  await disconnectTimeSkipping(env);
});

describe('a pathway-year answered by the patient at home', () => {
  it('asks before each reassessment, reminds, takes the answers over HTTP, and handles an expired link, a late answer and a reported red flag', async () => {
    A = await enrol(patientA);
    B = await enrol(patientB);
    const dueAt = (await pathway(A)).due!.dueAt;

    // Conservative care, reassessment due on day 42: the link 7 days before, a reminder 3 days later.
    await day(35.5);
    const first = await nthMessage(1);
    expect(first.kind).toBe('invitation');
    expect((await questionnaires(A))[0]).toMatchObject({ state: 'sent', dueAt, issuedBy: 'pathway-rules' });
    expect(await questionnaires(B)).toEqual([]);
    await day(38.5);
    const reminder = await nthMessage(2);
    expect(reminder.kind).toBe('reminder');
    // The reminder's link replaced the first one (only hashes are kept).
    expect((await fetch(first.link)).status).toBe(410);
    // Unanswered at the due date: "not answered by the patient" on the worklist, for a coordinator to call.
    await day(42.5);
    await eventually(() => questionnaires(A), (q) => q[0]!.missedAt !== null);
    expect((await worklistItem(A)).item).toMatchObject({ notAnsweredByPatient: true });
    const other = (await worklistItem(B)).item;
    expect(other).toBeDefined();
    expect(other).not.toHaveProperty('notAnsweredByPatient');
    // Expired 14 days after the due date: a friendly page, and nothing recorded.
    await day(57);
    const expired = await fetch(reminder.link);
    expect(expired.status).toBe(410);
    expect((await fetch(reminder.link, form(answers({ painNrs: 2, odiSectionSum: 5 })))).status).toBe(410);
    expect((await questionnaires(A))[0]).toMatchObject({ state: 'expired', counted: null });
    expect((await pathway(A)).reassessments).toHaveLength(0);
    // The coordinator called; the clinician reassesses at the clinic: no response after 57 days, on to procedures.
    await both('reassessments', { painNrs: 7, odi: 46 });
    expect((await pathway(A)).stage).toBe('interventional');
    await day(60);
    await both('procedures', { type: 'nerve-block', spinalRegion: 'L4-L5' });

    // Reassessment 28 days after the block (day 88): the next invitation, a reminder, then the answer.
    await day(81.5);
    expect((await nthMessage(3)).kind).toBe('invitation');
    await day(84.5);
    const secondReminder = await nthMessage(4);
    expect(secondReminder.kind).toBe('reminder');
    await day(85);
    await patientAnswers(secondReminder, { painNrs: 7, odiSectionSum: 22 });
    // Answered: no more reminders for that reassessment.
    await day(90);
    expect(await outbox()).toHaveLength(4);
    await both('procedures', { type: 'epidural-steroid-injection', spinalRegion: 'L4-L5' });

    // Reassessment due day 118: the link goes out, the clinician sees the patient at the clinic
    // first (day 113), and the patient answers afterwards: kept, not counted twice.
    await day(111.5);
    const lateLink = await nthMessage(5);
    await day(113);
    await both('reassessments', { painNrs: 6.5, odi: 42 });
    expect((await pathway(A)).stage).toBe('scs');
    const reassessed = (await pathway(A)).reassessments.length;
    await day(115);
    const late = await fetch(lateLink.link, form(answers({ painNrs: 6, odiSectionSum: 20 })));
    expect(late.status).toBe(200);
    expect(await late.text()).toContain('Your answers have reached your care team');
    expect((await questionnaires(A))[0]).toMatchObject({ state: 'answered', counted: 'staff-reassessment-first', scores: { painNrs: 6, odi: 40 } });
    expect((await pathway(A)).reassessments).toHaveLength(reassessed);
    // The change of plan (no reassessment due) sent no reminder.
    expect(await outbox()).toHaveLength(5);

    // Spinal cord stimulation: cleared, a trial; its reassessment is not a timed one, so the coordinator sends the link.
    await day(150);
    await both('procedures', { type: 'psychological-evaluation', outcome: 'cleared' });
    await day(188);
    await both('procedures', { type: 'scs-trial' });
    await day(190);
    const sent = await call('POST', `/v1/pathways/${A}/questionnaires`, { as: 'coordinator', body: {} });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const trialLink = await nthMessage(6);
    await day(194.5);
    await patientAnswers(trialLink, { painNrs: 3, odiSectionSum: 15 });
    await day(205);
    await both('procedures', { type: 'scs-implant' });

    // The follow-up, due day 289: the patient reports numbness between the legs.
    await day(282.5);
    const followUp = await nthMessage(7);
    await day(284);
    const { page, questionnaire } = await patientAnswers(followUp, { painNrs: 3, odiSectionSum: 14, flags: ['saddle-anaesthesia'] });
    expect(page).toContain('emergency department');
    expect(questionnaire.redFlagReview).toBe('pending');
    // The scores count; the stage and status do not move until a clinician confirms.
    expect(await pathway(A)).toMatchObject({ stage: 'scs', status: 'active' });
    const { items } = await worklistItem(A, 'clinician');
    expect(items[0]).toMatchObject({ pathwayId: A, category: 'patient-reported-red-flag' });
    await day(284.5);
    expect((await call('POST', `/v1/pathways/${A}/questionnaires/${questionnaire.id}/review`, { as: 'coordinator', body: { confirmed: true } })).status).toBe(403);
    expect((await call('POST', `/v1/pathways/${A}/questionnaires/${questionnaire.id}/review`, { as: 'clinician', body: { confirmed: true } })).status).toBe(200);
    expect((await call('POST', `/v1/pathways/${B}/red-flags`, { as: 'clinician', body: { redFlags: ['saddle-anaesthesia'], note: 'confirmed at the clinic' } })).status).toBe(200);
    expect(await pathway(A)).toMatchObject({ status: 'urgent-referral' });

    // Cauda equina ruled out: resumed, and the overdue follow-up is asked again at once.
    await day(290);
    await both('actions', { action: 'resume', reason: 'cauda equina ruled out' });
    await day(290.75);
    const afterResume = await nthMessage(9);
    expect((await outbox()).slice(-2).map((m) => m.kind)).toEqual(['invitation', 'reminder']);
    await day(292);
    await patientAnswers(afterResume, { painNrs: 2, odiSectionSum: 13 });
    await day(365);

    const [a, b] = [await pathway(A), await pathway(B)];
    // Two responses in a row at the follow-ups: the pathway completes.
    expect(a).toMatchObject({ stage: 'scs', status: 'completed' });
    expect(b).toMatchObject({ stage: a.stage, status: a.status });
    expect(a.reassessments).toHaveLength(6);
    const byWhom = a.timeline.filter((e) => e.event === 'reassessment').map((e) => e.actor.role);
    expect(byWhom).toEqual(['clinician', 'patient', 'clinician', 'patient', 'patient', 'patient']);
  });

  it('decides exactly as on the same scores entered by a clinician: stage changes, rules fired and their numbers', async () => {
    const [a, b] = [await pathway(A), await pathway(B)];
    const [da, db] = [decisionsIn(a.timeline), decisionsIn(b.timeline)];
    expect(da.length).toBeGreaterThan(15);
    expect(db).toEqual(withinAMinute(da));
    const decided = da as Array<{ event: string; ruleId?: string; stageAfter: string; statusAfter: string }>;
    expect(decided.filter((d) => d.event === 'stage-changed').map((d) => `${d.ruleId} -> ${d.stageAfter}`)).toEqual([
      'escalation.conservative -> interventional',
      'escalation.interventional -> scs',
    ]);
    expect(decided.filter((d) => d.ruleId === 'red-flag.urgent-referral')).toHaveLength(1);
    expect(decided.at(-1)).toMatchObject({ statusAfter: 'completed' });
    // Only who entered the scores differs.
    const actors = (t: TimelineEntry[]) => t.filter((e) => e.event === 'reassessment').map((e) => e.actor.id);
    expect(new Set(actors(b.timeline))).toEqual(new Set(['clinician']));
    expect(actors(a.timeline).filter((x) => x === 'patient-at-home')).toHaveLength(4);
  });

  it('leaves the name, reference, phone and email in no history (every run), search attribute, memo, log line or metric', async () => {
    const places: Record<string, string> = {};
    const histories: History[] = [];
    for (const [which, id] of [['A', A], ['B', B]] as const) {
      const latest = await env.client.workflow.getHandle(id).fetchHistory();
      const firstRunId = latest.events![0]!.workflowExecutionStartedEventAttributes!.firstExecutionRunId!;
      const runs = await historiesOfRuns(env.client, id, firstRunId);
      expect(runs.at(-1)!.history.events!.length).toBe(latest.events!.length);
      expect(runs.length, `runs of ${which}`).toBeGreaterThan(1);
      for (const run of runs) chains.push({ workflowId: `${id}/${run.runId}`, history: run.history });
      for (const [i, run] of runs.entries()) {
        histories.push(run.history);
        places[`history of ${which}, run ${i + 1}`] = readable(run.history);
        const described = await env.client.workflow.getHandle(id, run.runId).describe();
        places[`search attributes and memo of ${which}, run ${i + 1}`] = readable({ searchAttributes: described.typedSearchAttributes, raw: described.raw.workflowExecutionInfo?.searchAttributes, memo: described.raw.workflowExecutionInfo?.memo });
      }
    }
    places['worker log'] = workerLog.join('\n');
    places['API log'] = readable(api.logger.lines);
    places.metrics = (await scrape(api.metricsUrl)).text;

    // Positive controls: the scan reads what it should. The payloads are read (the care team, the
    // patient's scores and actor are in them), every run of both pathways, the logs of the whole year.
    const allHistories = Object.entries(places).filter(([k]) => k.startsWith('history')).map(([, v]) => v).join('\n');
    expect(histories.reduce((n, h) => n + h.events!.length, 0)).toBeGreaterThan(300);
    expect(allHistories).toContain(team);
    expect(allHistories).toContain('patient-at-home');
    expect(allHistories).toContain('"painNrs":7');
    expect(places['search attributes and memo of A, run 1']).toContain(team);
    expect(places['worker log']).toContain('patientQuestionnaireStep');
    expect(places['API log']).toContain('/v1/pathways/{pathwayId}/questionnaires');
    expect(places.metrics).toContain('pathway_http_request_duration_seconds');
    // ...and it finds a detail wherever one is: in the care team's answer, in a log line planted
    // with the name as base64 JSON and the phone URL-encoded, in a history whose payload holds the email.
    const answer = JSON.stringify((await call('GET', `/v1/pathways/${A}`, { as: 'coordinator' })).body);
    for (const what of ['reference (A)', 'name (A)', 'phone (A)', 'email (A)']) expect(leaks(answer, secrets[what]!), what).toBe(true);
    const planted = `${places['worker log']}\n${JSON.stringify({ message: 'planted', meta: { blob: Buffer.from(JSON.stringify({ who: patientA.patient.name })).toString('base64'), q: `to=${encodeURIComponent(patientA.patient.contact!.mobile)}` } })}`;
    expect(leaks(planted, secrets['name (A)']!)).toBe(true);
    expect(leaks(planted, secrets['phone (A)']!)).toBe(true);
    const tampered = structuredClone(histories[0]!);
    tampered.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data = Buffer.from(JSON.stringify({ email: patientA.patient.contact!.email }));
    expect(leaks(readable(tampered), secrets['email (A)']!)).toBe(true);

    const found = Object.entries(places).flatMap(([where, text]) => Object.entries(secrets).filter(([, secret]) => leaks(text, secret)).map(([what]) => `${what} in ${where}`));
    expect(found).toEqual([]);
  });

  it("replays every run of both pathways' histories against the workflow bundle", async () => {
    expect(chains.length).toBeGreaterThan(2);
    const errors: unknown[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, chains)) errors.push(result.error);
    expect(errors).toEqual(chains.map(() => undefined));
  });

  it('keeps who the patients are in the record store only encrypted', async () => {
    const db = api.record.store.db;
    const tables = (await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = current_schema()`.execute(db)).rows.map((r) => r.tablename);
    expect(tables).toEqual(expect.arrayContaining(['patient_identities', 'questionnaire_invitations', 'patient_messages', 'timeline_entries', 'access_entries']));
    const found: string[] = [];
    let rows = 0;
    for (const table of tables) {
      const text = (await sql<{ row: string }>`select t::text as row from ${sql.table(table)} t`.execute(db)).rows.map((r) => (rows++, r.row)).join('\n');
      for (const [what, secret] of Object.entries(secrets)) if (leaks(text, secret)) found.push(`${what} in ${table}`);
    }
    expect(rows).toBeGreaterThan(100);
    expect(found).toEqual([]);
    // Positive control: the sealed row opens to this patient with the payload key.
    const sealed = await db.selectFrom('patient_identities').select('identity_enc').where('pathway_id', '=', A).executeTakeFirstOrThrow();
    const opened = api.record.cipher.decrypt(sealed.identity_enc);
    for (const what of ['reference (A)', 'name (A)', 'phone (A)', 'email (A)']) expect(leaks(opened, secrets[what]!), what).toBe(true);
    // The messages that carried the links rest encrypted too, and name no one.
    const messages = await db.selectFrom('patient_messages').select('body_enc').where('pathway_id', '=', A).execute();
    expect(messages).toHaveLength(9);
    for (const m of messages) expect(api.record.cipher.decrypt(m.body_enc!)).toMatch(/\/p\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/);
  });
});

/**
 * Every string of a value as a reader could find it: as is, each byte array (a payload's data, as
 * the SDK decodes it or as a Buffer) as UTF-8, and each string that decodes as base64 decoded.
 */
function readable(value: unknown): string {
  const out: string[] = [];
  JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
    // A Buffer reaches the replacer as its toJSON form.
    else if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) out.push(Buffer.from((v as { data: number[] }).data).toString('utf8'));
    else if (typeof v === 'string') {
      out.push(v);
      if (/^[A-Za-z0-9+/_-]{8,}={0,2}$/.test(v)) out.push(Buffer.from(v, 'base64').toString('utf8'));
    } else if (typeof v === 'bigint') return String(v);
    return v;
  });
  return out.join('\n');
}

/**
 * Whether a text holds a detail in a common form: as is (any case), JSON- or URL-encoded, without
 * the phone's plus, as hex, or as base64 at any of the three byte alignments.
 */
function leaks(text: string, secret: string): boolean {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1), secret.replace(/^\+/, '00'), secret.replace(/^\+/, ''), bytes.toString('hex')];
  for (let k = 0; k < 3; k++) {
    const b64 = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    forms.push(b64.slice(Math.ceil((k * 8) / 6), -4));
    forms.push(Buffer.concat([Buffer.alloc(k), bytes]).toString('base64url').slice(Math.ceil((k * 8) / 6), -4));
  }
  const lower = text.toLowerCase();
  return forms.some((f) => text.includes(f)) || lower.includes(secret.toLowerCase());
}

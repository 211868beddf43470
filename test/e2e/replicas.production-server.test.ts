/**
 * Replicas on the production-like Temporal server, with the record on PostgreSQL: two API processes
 * and two worker processes (PATHWAY_ROLE) share one DATABASE_URL and one task queue. Clients send
 * changes round-robin to the two APIs, a failed try goes to the other API with the same
 * Idempotency-Key, and some answered changes are sent again to the other API, which must give the
 * first answer. Midway one API and one worker are killed (SIGKILL). Afterwards every change
 * answered 2xx is in the record exactly once and the record equals the workflows; the digest
 * schedule exists once, for this task queue; each process's metrics carry its own instance label.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { TimelineEntry } from '../../clinical/pathway';
import { silentLogger } from '../../observability/log';
import { METRIC_NAMES } from '../../observability/metrics';
import { NoteCipher } from '../../record/note-cipher';
import { openRecordStore } from '../../record/store';
import { verifyRecord } from '../../server/verify-record';
import { DIGEST_SCHEDULE_ID } from '../../temporal/digest-schedule';
import { EncryptionCodec, payloadKeysFor } from '../../temporal/payload-codec';
import { scrape } from '../harness/metrics';
import { changeFor, expectRecordedOnce, KEYS, type Accepted } from '../harness/change-load';
import { createDatabase } from '../harness/postgres-server';
import { ServiceProcess, freePort } from '../harness/service-process';

const PATHWAYS = 8;
const CLIENTS = 8;
const CHANGES = 120;
/** Every this many answered changes, the same key is sent again to the other API. */
const RESEND_EVERY = 4;

interface Replica {
  name: string;
  process: ServiceProcess;
  url: string;
  metricsUrl: string;
}

interface Answer {
  status: number;
  body: { decisions?: TimelineEntry[]; pathway?: { pathwayId: string; timeline: TimelineEntry[]; reassessments: unknown[] }; detail?: string } | undefined;
  retryAfter: string | null;
}


describe('two API processes and two workers', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pathway-replicas-'));
  const taskQueue = `replicas-${randomUUID()}`;
  const temporalAddress = inject('productionTemporalAddress');
  const replicas: Replica[] = [];
  afterAll(() => {
    for (const r of replicas) r.process.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(role: 'api' | 'worker', name: string, databaseUrl: string): Promise<Replica> {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const process = ServiceProcess.start({
      PATHWAY_ROLE: role,
      PATHWAY_INSTANCE: name,
      PATHWAY_ENV: 'development',
      PATHWAY_DATA_DIR: dir,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      HTTP_HOST: '127.0.0.1',
      PORT: String(port),
      PATHWAY_METRICS_PORT: String(metricsPort),
      PATHWAY_TEMPORAL_DEADLINE_MS: '3000',
      PATHWAY_RATE_LIMIT_PER_KEY: '1000000',
    });
    const replica = { name, process, url: `http://127.0.0.1:${port}`, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
    replicas.push(replica);
    return replica;
  }

  async function call(api: Replica, method: string, p: string, as: keyof typeof KEYS, body?: unknown, key?: string): Promise<Answer> {
    const headers: Record<string, string> = { authorization: `Bearer ${KEYS[as]}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key) headers['idempotency-key'] = key;
    const res = await fetch(`${api.url}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, retryAfter: res.headers.get('retry-after') };
  }

  it('keep every accepted change exactly once when one API and one worker are killed midway', async () => {
    const databaseUrl = await createDatabase(inject('postgresUrl'), `replicas_${randomBytes(6).toString('hex')}`);
    // The first worker alone makes the shared data folder's local keys; then the other three at once.
    const workers = [await start('worker', 'worker-1', databaseUrl)];
    await workers[0]!.process.waitFor((l) => l.msg === 'pathway service ready');
    workers.push(await start('worker', 'worker-2', databaseUrl));
    const apis = [await start('api', 'api-1', databaseUrl), await start('api', 'api-2', databaseUrl)];
    await Promise.all([...apis, workers[1]!].map((r) => r.process.waitFor((l) => l.msg === 'pathway service ready')));

    const pathways: string[] = [];
    for (let i = 0; i < PATHWAYS; i++) {
      const res = await call(apis[i % 2]!, 'POST', '/v1/pathways', 'coordinator', { patientRef: `ref-${randomUUID()}`, careTeam: 'spine-a', baseline: { painNrs: 8, odi: 40 } }, `enrol-${randomUUID()}`);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      pathways.push(res.body!.pathway!.pathwayId);
    }

    let turn = 0;
    let killed = false;
    /** Tries that found their API gone and went again, same key, to the other. */
    let failovers = 0;
    const resent: Array<{ first: Answer; again: Answer }> = [];
    /** Round-robin: each try goes to the next API; a try that fails goes again, same key, to the other. */
    const untilAnswered = async (p: string, as: keyof typeof KEYS, body: unknown, key: string): Promise<{ answer: Answer; api: number }> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const api = turn++ % 2;
        try {
          const answer = await call(apis[api]!, 'POST', p, as, body, key);
          if (answer.status < 500) {
            // A retry never waits out the claim of a request that died with its process.
            if (answer.status === 409) expect(String(answer.body?.detail)).not.toContain('still being answered');
            return { answer, api };
          }
          expect(answer.retryAfter, `a ${answer.status} says when to retry`).not.toBeNull();
        } catch {
          // That API was killed: the next try goes to the other.
          failovers++;
        }
        if (Date.now() > deadline) throw new Error(`no definite answer for ${p}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    const steps = new Map(pathways.map((id) => [id, 0]));
    const accepted: Accepted[] = [];
    let sent = 0;
    const client = async (n: number) => {
      for (;;) {
        const i = sent++;
        if (i >= CHANGES) return;
        if (i === CHANGES / 2) {
          // Midway: one API and one worker, with whatever they had in hand.
          apis[1]!.process.kill();
          workers[1]!.process.kill();
          killed = true;
        }
        const pathwayId = pathways[(n + i) % PATHWAYS]!;
        const step = steps.get(pathwayId)!;
        steps.set(pathwayId, step + 1);
        const change = changeFor(step);
        const key = `replica-${randomUUID()}`;
        const p = `/v1/pathways/${pathwayId}/${change.kind}`;
        const { answer, api } = await untilAnswered(p, change.as, change.body, key);
        if (answer.status === 200) accepted.push({ pathwayId, kind: change.kind, decisions: answer.body!.decisions! });
        // The same key again, at the other API while it lives: the first answer, nothing applied twice.
        if (!killed && accepted.length % RESEND_EVERY === 0) {
          const again = await call(apis[1 - api]!, 'POST', p, change.as, change.body, key).catch(() => undefined);
          if (again) resent.push({ first: answer, again });
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));

    expect(accepted.length).toBeGreaterThan(CHANGES / 2);
    expect(failovers, 'tries that met the killed API and went to the other').toBeGreaterThan(0);
    expect(resent.length, 'changes sent again to the other API').toBeGreaterThan(3);
    for (const { first, again } of resent) {
      expect(again.status).toBe(first.status);
      expect(again.body).toEqual(first.body);
    }

    const keys = payloadKeysFor({ production: false, dataDir: dir });
    const store = await openRecordStore({ url: databaseUrl });
    const connection = await Connection.connect({ address: temporalAddress });
    try {
      const temporal = new Client({ connection, dataConverter: { payloadCodecs: [new EncryptionCodec(keys.current, keys.previous)] } });
      // The record equals every running pathway's workflow.
      const verified = await verifyRecord(temporal, { store, cipher: new NoteCipher(keys.current, keys.previous) }, silentLogger, { taskQueue });
      expect(verified.failed).toBe(0);
      expect(verified.pathways).toBe(PATHWAYS);
      expect(verified.differing).toEqual([]);

      for (const pathwayId of pathways) {
        const res = await call(apis[0]!, 'GET', `/v1/pathways/${pathwayId}`, 'clinician');
        expect(res.status).toBe(200);
        expectRecordedOnce(res.body!.pathway!, accepted.filter((a) => a.pathwayId === pathwayId));
      }

      // Both workers ensured the digest schedule: it exists once, and sends this task queue's digest.
      const schedules: string[] = [];
      for await (const s of temporal.schedule.list()) schedules.push(s.scheduleId);
      expect(schedules.filter((id) => id === DIGEST_SCHEDULE_ID)).toHaveLength(1);
      const digest = await temporal.schedule.getHandle(DIGEST_SCHEDULE_ID).describe();
      // The run's production-like server is shared: the next file meets a namespace without this schedule.
      await temporal.schedule.getHandle(DIGEST_SCHEDULE_ID).delete();
      expect(digest.action.type === 'startWorkflow' && digest.action.taskQueue).toBe(taskQueue);
    } finally {
      await connection.close();
      await store.close();
    }

    // Each surviving process labels its own series and the Temporal SDK's with its instance.
    const api = await scrape(apis[0]!.metricsUrl);
    expect(api.text).toMatch(new RegExp(`${METRIC_NAMES.httpRequestDuration}_count\\{[^}]*instance="api-1"`));
    const worker = await scrape(workers[0]!.metricsUrl);
    const temporalSeries = [...worker.series.keys()].filter((s) => s.startsWith('temporal_'));
    expect(temporalSeries.length).toBeGreaterThan(0);
    expect(temporalSeries.filter((s) => !s.includes('instance="worker-1"'))).toEqual([]);
    expect([...worker.series.keys()].filter((s) => s.includes('instance="worker-2"') || s.includes('instance="api-1"'))).toEqual([]);
  });
});

/**
 * Crashes under load, on the dev server and on the production-like server, with the record on a
 * real PostgreSQL: the worker and the API run as separate processes; clients send changes many at
 * a time and retry each with its Idempotency-Key until it has a definite answer; the worker, the
 * API and Temporal itself are killed (SIGKILL) at moments the load chooses. Afterwards every
 * pathway's record equals its workflow's state (the verification command finds nothing), every
 * change answered 2xx is in the record exactly once, every delivery is noted once, and a retry's
 * answer came within seconds of the service answering again.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { TimelineEntry } from '../../clinical/pathway';
import { silentLogger } from '../../observability/log';
import { NoteCipher } from '../../record/note-cipher';
import { openRecordStore, type RecordStore } from '../../record/store';
import { EncryptionCodec, payloadKeysFor } from '../../temporal/payload-codec';
import { verifyRecord } from '../../server/verify-record';
import { RestartableDevServer } from '../harness/dev-server';
import { changeFor, expectRecordedOnce, KEYS, type Accepted } from '../harness/change-load';
import { createDatabase, startPostgresServer, type PostgresServer } from '../harness/postgres-server';
import { ServiceProcess, freePort } from '../harness/service-process';
import { startProductionTemporal, type ProductionTemporal } from '../harness/temporal-server';

const PATHWAYS = 12;
const CLIENTS = 16;
const CHANGES = 240;
/** A retry's answer, once the API answers again, comes within this. */
const RETRY_ANSWERED_WITHIN_MS = 10_000;


interface Temporal {
  address: string;
  kill(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

class Deployment {
  api!: ServiceProcess;
  worker!: ServiceProcess;
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'pathway-faults-'));
  readonly taskQueue = `faults-${randomUUID()}`;
  port = 0;
  /** When the API last came up again: a retry's wait is counted from then. */
  apiUpAt = Date.now();

  constructor(
    readonly temporal: Temporal,
    readonly databaseUrl: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private env(role: 'api' | 'worker'): Record<string, string> {
    return {
      PATHWAY_ROLE: role,
      PATHWAY_ENV: 'development',
      PATHWAY_DATA_DIR: this.dir,
      DATABASE_URL: this.databaseUrl,
      TEMPORAL_ADDRESS: this.temporal.address,
      TEMPORAL_TASK_QUEUE: this.taskQueue,
      HTTP_HOST: '127.0.0.1',
      PORT: String(this.port),
      PATHWAY_TEMPORAL_DEADLINE_MS: '3000',
      PATHWAY_RATE_LIMIT_PER_KEY: '1000000',
      LOG_LEVEL: 'warn',
    };
  }

  async startWorker(): Promise<void> {
    this.worker = ServiceProcess.start({ ...this.env('worker'), LOG_LEVEL: 'info' });
    await this.worker.waitFor((l) => l.msg === 'pathway service ready');
  }

  async startApi(): Promise<void> {
    this.port ||= await freePort();
    this.api = ServiceProcess.start({ ...this.env('api'), LOG_LEVEL: 'info' });
    await this.api.waitFor((l) => l.msg === 'pathway service ready');
    this.apiUpAt = Date.now();
  }

  async start(): Promise<void> {
    // The worker first: it makes the payload and patient keys of the shared data folder.
    await this.startWorker();
    await this.startApi();
  }

  stop(): void {
    this.api?.kill();
    this.worker?.kill();
  }
}

async function call(d: Deployment, method: string, p: string, as: keyof typeof KEYS, body?: unknown, key?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${KEYS[as]}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key) headers['idempotency-key'] = key;
  const res = await fetch(`${d.url}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, retryAfter: res.headers.get('retry-after') };
}

/**
 * Sends one change until it has a definite answer (2xx or 4xx), with its key on every try. Counts
 * how long the final answer took once the API was up again after the try before it failed.
 */
async function untilAnswered(d: Deployment, pathwayId: string, kind: string, as: keyof typeof KEYS, body: unknown, waits: number[]) {
  const key = `fault-${randomUUID()}`;
  // When a try found the API gone (killed): the retry's answer is timed from the API's return.
  let apiGoneAt: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await call(d, 'POST', `/v1/pathways/${pathwayId}/${kind}`, as, body, key);
      if (res.status < 500) {
        if (apiGoneAt !== undefined) waits.push(Date.now() - Math.max(apiGoneAt, d.apiUpAt));
        // A retry never waits out the claim of a request that died with its process.
        if (res.status === 409) expect(String(res.body?.detail)).not.toContain('still being answered');
        return res;
      }
      expect(res.retryAfter, `a ${res.status} says when to retry`).not.toBeNull();
    } catch {
      // The API is down (killed): its restart is on its way.
      apiGoneAt ??= Date.now();
    }
    if (attempt > 600) throw new Error(`no definite answer for a ${kind} of ${pathwayId}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}


async function runScenario(d: Deployment, crash: { worker(): Promise<void>; api(): Promise<void>; temporal(): Promise<void> }) {
  const pathways: string[] = [];
  for (let i = 0; i < PATHWAYS; i++) {
    const res = await call(d, 'POST', '/v1/pathways', 'coordinator', { patientRef: `ref-${randomUUID()}`, careTeam: 'spine-a', baseline: { painNrs: 8, odi: 40 } }, `enrol-${randomUUID()}`);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    pathways.push(res.body.pathway.pathwayId);
  }
  const steps = new Map(pathways.map((id) => [id, 0]));
  const accepted: Accepted[] = [];
  const waits: number[] = [];
  let sent = 0;
  // Crashes at a third, a half and two thirds of the load: the worker, the API, Temporal.
  const crashes = [
    { at: Math.floor(CHANGES / 3), run: crash.worker },
    { at: Math.floor(CHANGES / 2), run: crash.api },
    { at: Math.floor((2 * CHANGES) / 3), run: crash.temporal },
  ];
  const crashing: Array<Promise<void>> = [];
  const client = async (n: number) => {
    for (;;) {
      const i = sent++;
      if (i >= CHANGES) return;
      const due = crashes.find((c) => c.at === i);
      if (due) crashing.push(due.run());
      // The clients share the pathways, so changes to one pathway also meet each other (a refusal is an answer too).
      const pathwayId = pathways[(n + i) % PATHWAYS]!;
      const step = steps.get(pathwayId)!;
      steps.set(pathwayId, step + 1);
      const change = changeFor(step);
      const res = await untilAnswered(d, pathwayId, change.kind, change.as, change.body, waits);
      if (res.status === 200) accepted.push({ pathwayId, kind: change.kind, decisions: res.body.decisions });
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n)));
  await Promise.all(crashing);
  return { pathways, accepted, waits };
}

async function verifyAfterwards(d: Deployment, temporalAddress: string, pathways: string[], accepted: Accepted[]) {
  const keys = payloadKeysFor({ production: false, dataDir: d.dir });
  const store: RecordStore = await openRecordStore({ url: d.databaseUrl });
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const client = new Client({ connection, dataConverter: { payloadCodecs: [new EncryptionCodec(keys.current, keys.previous)] } });
    const cipher = new NoteCipher(keys.current, keys.previous);
    // The verification command's own check: nothing differs, for any running pathway.
    const verified = await verifyRecord(client, { store, cipher }, silentLogger, { taskQueue: d.taskQueue });
    expect(verified.failed).toBe(0);
    expect(verified.pathways).toBe(PATHWAYS);
    expect(verified.differing).toEqual([]);
    expect(verified.aggregates).toEqual([]);

    for (const pathwayId of pathways) {
      const res = await call(d, 'GET', `/v1/pathways/${pathwayId}`, 'clinician');
      expect(res.status).toBe(200);
      const timeline = res.body.pathway.timeline as TimelineEntry[];
      expectRecordedOnce(res.body.pathway, accepted.filter((a) => a.pathwayId === pathwayId));
      // Each delivery is noted once.
      const deliveries = timeline.filter((e) => e.event === 'notification').map((e) => String(e.numbers?.messageId));
      expect(new Set(deliveries).size, 'one note a delivery').toBe(deliveries.length);
    }
    // The summary's counts equal a count of the pathways themselves.
    const counted = await store.db.selectFrom('pathway_counts').select((eb) => eb.fn.sum<number>('total').as('n')).where('care_team', '=', 'spine-a').executeTakeFirst();
    const rows = await store.db.selectFrom('pathways').select((eb) => eb.fn.countAll<number>().as('n')).where('care_team', '=', 'spine-a').executeTakeFirst();
    expect(Number(counted?.n)).toBe(Number(rows?.n));
  } finally {
    await connection.close();
    await store.close();
  }
}

describe('crashes under load', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('on the dev server: kill -9 of the worker, the API and Temporal leave a record equal to the workflows', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pathway-faults-temporal-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dev = await RestartableDevServer.create(path.join(dir, 'temporal.sqlite'));
    await dev.start();
    cleanups.push(() => dev.kill());
    const d = new Deployment(
      { address: dev.address, kill: () => dev.kill(), start: () => dev.start(), close: () => dev.kill() },
      await createDatabase(inject('postgresUrl'), `faults_dev_${randomBytes(6).toString('hex')}`),
    );
    cleanups.push(() => d.stop());
    cleanups.push(() => rmSync(d.dir, { recursive: true, force: true }));
    await d.start();
    let readinessAfterWorkerCrash: { status: number; missing: string[]; afterMs: number } | undefined;
    const { pathways, accepted, waits } = await runScenario(d, {
      worker: async () => {
        d.worker.kill();
        // The only worker gone: readiness says so, naming the task queue, well within a minute.
        const killedAt = Date.now();
        for (;;) {
          const ready = await fetch(`${d.url}/readyz`);
          const body = (await ready.json()) as { missing?: string[] };
          if (ready.status === 503 || Date.now() - killedAt > 60_000) {
            readinessAfterWorkerCrash = { status: ready.status, missing: body.missing ?? [], afterMs: Date.now() - killedAt };
            break;
          }
          await new Promise((r) => setTimeout(r, 500));
        }
        await d.startWorker();
      },
      api: async () => {
        d.api.kill();
        await d.startApi();
      },
      temporal: async () => {
        await dev.kill();
        await new Promise((r) => setTimeout(r, 1000));
        await dev.start();
      },
    });
    expect(accepted.length).toBeGreaterThan(CHANGES / 2);
    expect(waits.length, 'changes in flight when the API was killed').toBeGreaterThan(0);
    expect(Math.max(0, ...waits), `${waits.length} retries across the API's crash`).toBeLessThan(RETRY_ANSWERED_WITHIN_MS);
    expect(readinessAfterWorkerCrash?.status).toBe(503);
    expect(readinessAfterWorkerCrash!.missing.join(' ')).toContain(d.taskQueue);
    expect(readinessAfterWorkerCrash!.afterMs).toBeLessThan(45_000);
    await verifyAfterwards(d, dev.address, pathways, accepted);
  });

  it('on the production-like server: kill -9 of the worker, the API and the Temporal server leave a record equal to the workflows', async () => {
    // A PostgreSQL and a Temporal server of this test's own: the run's must never go down.
    const postgres: PostgresServer = await startPostgresServer();
    cleanups.push(() => postgres.destroy());
    const server: ProductionTemporal = await startProductionTemporal(postgres.url);
    cleanups.push(() => server.stop());
    const d = new Deployment(
      { address: server.address, kill: () => server.kill(), start: () => server.restart(), close: () => server.stop() },
      await createDatabase(inject('postgresUrl'), `faults_prod_${randomBytes(6).toString('hex')}`),
    );
    cleanups.push(() => d.stop());
    cleanups.push(() => rmSync(d.dir, { recursive: true, force: true }));
    await d.start();
    const { pathways, accepted, waits } = await runScenario(d, {
      worker: async () => {
        d.worker.kill();
        await d.startWorker();
      },
      api: async () => {
        d.api.kill();
        await d.startApi();
      },
      temporal: async () => {
        await server.kill();
        await server.restart();
      },
    });
    expect(accepted.length).toBeGreaterThan(CHANGES / 2);
    expect(waits.length, 'changes in flight when the API was killed').toBeGreaterThan(0);
    expect(Math.max(0, ...waits)).toBeLessThan(RETRY_ANSWERED_WITHIN_MS);
    await verifyAfterwards(d, server.address, pathways, accepted);
  });
});

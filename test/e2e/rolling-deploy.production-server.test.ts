/**
 * A rolling deploy of workflow code on the production-like Temporal server, with Worker Versioning
 * (docs/operations.md#rolling-deploys). Worker release A (this code) is the current version of a
 * Worker Deployment while clients keep changing pathways through an API process; release B, a copy
 * of the code with a real workflow change behind patched() (a memo written at every round of the
 * main loop), starts beside it; `npm run deploy:set-current` makes B current; A is stopped; the
 * changes go on. Afterwards: no workflow task failed, nothing non-deterministic, every accepted
 * change is in the record once, every pathway moved from A to B (auto-upgrade) and never back,
 * and every history replays under B's code, which A's code cannot do.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { TimelineEntry } from '../../clinical/pathway';
import { silentLogger } from '../../observability/log';
import { installRuntime } from '../../temporal/runtime';
import { DIGEST_SCHEDULE_ID } from '../../temporal/digest-schedule';
import { EncryptionCodec, payloadKeysFor } from '../../temporal/payload-codec';
import { currentBuildId, setCurrentVersion } from '../../temporal/worker-deployment';
import { changeFor, expectRecordedOnce, KEEPS_OPEN, KEYS, type Accepted } from '../harness/change-load';
import { createDatabase } from '../harness/postgres-server';
import { ServiceProcess, freePort } from '../harness/service-process';
import { releaseWith, type Release } from '../harness/worker-release';

const PATHWAYS = 8;
const CLIENTS = 4;
const ROOT = path.join(__dirname, '..', '..');
/** Hold, resume, reassess: no red flag, so the pathways stay where changes are accepted all along. */
const WITHOUT_RED_FLAGS = KEEPS_OPEN.slice(0, 3);
const { EventType, VersioningBehavior } = temporal.api.enums.v1;

/** Release B's change: what a release changing running pathways looks like (architecture.md#changing-what-the-workflow-does). */
const RELEASE_B_PATCH = 'rolling-deploy-release-b';
const releaseB = (): Release =>
  releaseWith([
    { file: 'workflows/pathway.ts', find: '  upsertSearchAttributes,\n', replace: '  upsertMemo,\n  upsertSearchAttributes,\n' },
    {
      file: 'workflows/pathway.ts',
      find: '    keepSearchAttributesCurrent();\n    if (historyIsLong()',
      replace: `    keepSearchAttributesCurrent();\n    if (patched('${RELEASE_B_PATCH}')) upsertMemo({ release: 'b' });\n    if (historyIsLong()`,
    },
  ]);


interface Answer {
  status: number;
  body: { decisions?: TimelineEntry[]; pathway?: { pathwayId: string; timeline: TimelineEntry[]; reassessments: unknown[] }; detail?: string } | undefined;
}

// Replaying B's histories under A's code fails on purpose; the SDK's core would log each failure as a warning.
installRuntime(silentLogger);

describe('a rolling deploy of workflow code with Worker Versioning', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pathway-rolling-'));
  const id = randomBytes(4).toString('hex');
  const taskQueue = `rolling-${id}`;
  const deploymentName = `pathway-rolling-${id}`;
  const [buildA, buildB] = [`a-${id}`, `b-${id}`];
  // Given, not generated in the shared data folder, so the processes can start at once.
  const secrets = { PATHWAY_PAYLOAD_KEY: randomBytes(32).toString('hex'), PATHWAY_PATIENT_KEY: randomBytes(32).toString('hex') };
  const temporalAddress = inject('productionTemporalAddress');
  const processes: ServiceProcess[] = [];
  let release: Release | undefined;
  afterAll(() => {
    for (const p of processes) p.kill();
    release?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  function start(role: 'api' | 'worker', databaseUrl: string, env: Record<string, string>, root?: string): ServiceProcess {
    const process = ServiceProcess.start(
      {
        PATHWAY_ROLE: role,
        PATHWAY_ENV: 'development',
        PATHWAY_DATA_DIR: dir,
        ...secrets,
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_TASK_QUEUE: taskQueue,
        PATHWAY_TEMPORAL_DEADLINE_MS: '3000',
        PATHWAY_RATE_LIMIT_PER_KEY: '1000000',
        ...env,
      },
      root,
    );
    processes.push(process);
    return process;
  }
  const worker = (databaseUrl: string, buildId: string, root?: string) =>
    start('worker', databaseUrl, { PATHWAY_INSTANCE: buildId, PATHWAY_WORKER_VERSIONING: 'true', PATHWAY_DEPLOYMENT_NAME: deploymentName, PATHWAY_BUILD_ID: buildId }, root);
  const ready = (p: ServiceProcess) => p.waitFor((l) => l.msg === 'pathway service ready');

  // About 70 s on a quiet two-core machine; the cap allows for one shared with other test runs.
  it('moves running pathways from release A to release B under load, with no failed workflow task', async () => {
    const databaseUrl = await createDatabase(inject('postgresUrl'), `rolling_${id}`);
    const connection = await Connection.connect({ address: temporalAddress });
    const t0 = Date.now();
    const accepted: Array<Accepted & { phase: string }> = [];
    // Where the time goes, printed: process starts dominate on a busy machine.
    const mark = (what: string) => console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s ${what}: ${accepted.length} changes accepted`);
    try {
      // Release A is deployed; until it is made current, /readyz says nothing takes the tasks.
      const workerA = worker(databaseUrl, buildA);
      const apiPort = await freePort();
      const api = start('api', databaseUrl, { PATHWAY_INSTANCE: 'api', PORT: String(apiPort) });
      await Promise.all([ready(workerA), ready(api)]);
      mark('A and the API started');
      const apiUrl = `http://127.0.0.1:${apiPort}`;
      const readyz = async () => {
        const res = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(10_000) });
        return { status: res.status, body: (await res.json()) as { missing?: string[] } };
      };
      const untilReadyz = async (ok: (r: Awaited<ReturnType<typeof readyz>>) => boolean) => {
        for (let tries = 0; ; tries++) {
          const r = await readyz();
          if (ok(r)) return r;
          if (tries > 60) throw new Error(`/readyz: ${JSON.stringify(r)}`);
          await new Promise((res) => setTimeout(res, 500));
        }
      };
      const notCurrent = await untilReadyz((r) => r.status === 503 && (r.body.missing ?? []).some((m) => m.includes('no version is current')));
      expect(notCurrent.body.missing).toEqual([expect.stringMatching(/^workers poll task queue rolling-\w+ as Worker Deployment versions, but no version is current/)]);
      // A build no worker runs is refused, never made current (its tasks would wait for nobody).
      await expect(setCurrentVersion(connection, 'default', { deploymentName, buildId: `never-${id}` }, { identity: 'rolling-deploy-test', waitMs: 2000 })).rejects.toThrow(
        `could not make ${deploymentName} build never-${id} current`,
      );
      await setCurrentVersion(connection, 'default', { deploymentName, buildId: buildA }, { identity: 'rolling-deploy-test' });
      // /readyz (docker-compose's healthcheck) is ready once a worker of the current version polls.
      await untilReadyz((r) => r.status === 200);
      mark('A current, /readyz 200');

      const call = async (method: string, p: string, as: keyof typeof KEYS, body?: unknown, key?: string): Promise<Answer> => {
        const headers: Record<string, string> = { authorization: `Bearer ${KEYS[as]}` };
        if (body !== undefined) headers['content-type'] = 'application/json';
        if (key) headers['idempotency-key'] = key;
        const res = await fetch(`${apiUrl}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : undefined };
      };
      /**
       * A 503 (the deadline passed while a worker took over), or a connection the API closed as it
       * was reused, goes again with the same key: the first answer comes back, applied once.
       */
      const untilAnswered = async (p: string, as: keyof typeof KEYS, body: unknown, key: string): Promise<Answer> => {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const answer = await call('POST', p, as, body, key).catch((err: unknown) => ({ status: 599, body: { detail: String(err) } }) as Answer);
          if (answer.status < 500) return answer;
          if (Date.now() > deadline) throw new Error(`no definite answer for ${p}: ${answer.status} ${answer.body?.detail ?? ''}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      };

      const pathways: string[] = [];
      for (let i = 0; i < PATHWAYS; i++) {
        const res = await untilAnswered('/v1/pathways', 'coordinator', { patientRef: `ref-${randomUUID()}`, careTeam: 'spine-a', baseline: { painNrs: 8, odi: 40 } }, `enrol-${randomUUID()}`);
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        pathways.push(res.body!.pathway!.pathwayId);
      }

      // The steady load: each client takes the next pathway in turn and sends its next change.
      type Phase = 'A current' | 'B current, A running' | 'A stopped';
      let phase: Phase = 'A current';
      let stopped = false;
      let sent = 0;
      const steps = new Map(pathways.map((p) => [p, 0]));
      const refused: Answer[] = [];
      const client = async () => {
        while (!stopped) {
          const pathwayId = pathways[sent++ % PATHWAYS]!;
          const step = steps.get(pathwayId)!;
          steps.set(pathwayId, step + 1);
          const change = changeFor(step, WITHOUT_RED_FLAGS);
          const answer = await untilAnswered(`/v1/pathways/${pathwayId}/${change.kind}`, change.as, change.body, `rolling-${randomUUID()}`);
          if (answer.status === 200) accepted.push({ pathwayId, kind: change.kind, decisions: answer.body!.decisions!, phase });
          else refused.push(answer);
        }
      };
      const acceptedIn = (p: Phase) => accepted.filter((a) => a.phase === p).length;
      const until = async (what: string, done: () => boolean) => {
        const deadline = Date.now() + 60_000;
        while (!done()) {
          if (Date.now() > deadline) throw new Error(`${what} within a minute: ${accepted.length} changes accepted`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      const load = Promise.all(Array.from({ length: CLIENTS }, () => client()));
      try {
        // Release B comes up beside A while the load goes on; it takes no task until it is current.
        release = releaseB();
        const workerB = worker(databaseUrl, buildB, release.root);
        const bundleB = release.bundle();
        await ready(workerB);
        mark('B ready');
        await until('changes under release A', () => acceptedIn('A current') >= 2 * PATHWAYS);
        expect(await currentBuildId(connection, 'default', deploymentName)).toBe(buildA);

        // What the operator runs: the npm script, with the deployment's settings.
        const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/set-current-version.ts', buildB], {
          cwd: ROOT,
          env: { ...process.env, TEMPORAL_ADDRESS: temporalAddress, PATHWAY_DEPLOYMENT_NAME: deploymentName, LOG_LEVEL: 'warn' },
        });
        expect(stdout).toContain(`${deploymentName}: current build ${buildB}, before it ${buildA}`);
        phase = 'B current, A running';
        mark('B current');
        await until('changes with B current', () => acceptedIn('B current, A running') >= PATHWAYS);
        expect(await workerA.interrupt()).toBe(0);
        phase = 'A stopped';
        mark('A stopped');
        await until('changes once A stopped', () => acceptedIn('A stopped') >= 4 * PATHWAYS);
        stopped = true;
        await load;
        mark('load ended');

        expect(refused.filter((r) => r.status !== 409), JSON.stringify(refused.slice(0, 3))).toEqual([]);
        const keys = payloadKeysFor({ key: secrets.PATHWAY_PAYLOAD_KEY, production: false, dataDir: dir });
        const dataConverter = { payloadCodecs: [new EncryptionCodec(keys.current, keys.previous)] };
        const temporalClient = new Client({ connection, dataConverter });
        const histories: Array<{ workflowId: string; history: temporal.api.history.v1.IHistory }> = [];
        for (const pathwayId of pathways) {
          const handle = temporalClient.workflow.getHandle(pathwayId);
          const history = await handle.fetchHistory();
          histories.push({ workflowId: pathwayId, history });
          const events = history.events ?? [];
          // No workflow task failed, for non-determinism or anything else.
          expect(events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).map((e) => e.workflowTaskFailedEventAttributes?.failure?.message)).toEqual([]);
          // Each workflow task was completed by A until the switch, then by B, never by A again.
          const builds = events
            .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
            .map((e) => e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId ?? '(none)');
          const firstB = builds.indexOf(buildB);
          expect(builds[0], pathwayId).toBe(buildA);
          expect(firstB, `${pathwayId} reached release B`).toBeGreaterThan(0);
          expect(builds.slice(0, firstB).every((b) => b === buildA) && builds.slice(firstB).every((b) => b === buildB), builds.join(' ')).toBe(true);
          // Release B's change ran on it: its memo is written from B's first round on.
          expect(events.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED), pathwayId).toBe(true);
          // Temporal reports it on B now, auto-upgrading, as docs/operations.md says.
          const { raw, memo } = await handle.describe();
          expect(memo).toMatchObject({ release: 'b' });
          const versioning = raw.workflowExecutionInfo?.versioningInfo;
          expect(versioning?.deploymentVersion?.buildId).toBe(buildB);
          expect(versioning?.behavior).toBe(VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE);
        }

        // Every accepted change is in the record once, as it was answered.
        for (const pathwayId of pathways) {
          const res = await call('GET', `/v1/pathways/${pathwayId}`, 'clinician');
          expect(res.status).toBe(200);
          expectRecordedOnce(res.body!.pathway!, accepted.filter((a) => a.pathwayId === pathwayId));
        }
        for (const p of [workerA, workerB, api]) expect(p.output.filter((l) => /nondetermini/i.test(l))).toEqual([]);

        // Replay: B's code replays every history (A's part and its own); A's code cannot replay what B wrote.
        const replay = async (codePath: string) => {
          const results: Array<{ workflowId: string; error?: unknown }> = [];
          for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath }, dataConverter }, histories)) results.push(r);
          return results;
        };
        expect((await replay(await bundleB)).filter((r) => r.error).map((r) => `${r.workflowId}: ${String(r.error)}`)).toEqual([]);
        mark('replayed under B');
        const underA = await replay(inject('workflowBundlePath'));
        expect(underA.filter((r) => r.error).length).toBe(PATHWAYS);
        expect(String(underA[0]!.error)).toMatch(/nondetermin/i);

        const schedule = temporalClient.schedule.getHandle(DIGEST_SCHEDULE_ID);
        // The run's production-like server is shared: the next file meets a namespace without this schedule.
        await schedule.delete().catch(() => undefined);
      } finally {
        stopped = true;
        await load.catch(() => undefined);
      }
    } finally {
      await connection.close();
    }
  }, 300_000);
});

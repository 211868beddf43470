/**
 * The API in-process, over real HTTP, against the run's dev server with a worker running.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../../api/app';
import { ApiKeyStore, hashKey, type ApiKeyEntry } from '../../api/auth';
import { PathwayService } from '../../api/pathways-service';
import type { CareTeamChannel } from '../../activities/care-team-channel';
import type { RecordDeps } from '../../activities';
import type { Role } from '../../clinical/permissions';
import { loadDefinitions } from '../../clinical/registry';
import type { Logger, LogFields } from '../../observability/log';
import { createMetrics, type Metrics } from '../../observability/metrics';
import { startMetricsServer } from '../../observability/metrics-server';
import { temporalReadiness, workersPolling } from '../../temporal/readiness';
import type { CdsHooksOptions } from '../../api/routes/cds-hooks';
import { createPatients, type Patients } from '../../patients';
import type { PathwayWorkflowInput } from '../../workflows/messages';
import { eventually } from './pathway-driver';
import { freePort } from './service-process';
import { connectEndToEndServer, RecordingChannel, startPathwayWorker } from './temporal';

export const KEYS: Record<string, { key: string; role: Role; careTeams?: string[] }> = {
  viewer: { key: 'test-viewer-key-0001', role: 'viewer' },
  coordinator: { key: 'test-coordinator-key-0001', role: 'coordinator' },
  clinician: { key: 'test-clinician-key-0001', role: 'clinician' },
  teamACoordinator: { key: 'test-team-a-coordinator-key', role: 'coordinator', careTeams: ['team-a'] },
  teamAClinician: { key: 'test-team-a-clinician-key', role: 'clinician', careTeams: ['team-a'] },
  teamAViewer: { key: 'test-team-a-viewer-key', role: 'viewer', careTeams: ['team-a'] },
  lead: { key: 'test-lead-key-0001', role: 'lead' },
};

export class CapturingLogger implements Logger {
  readonly lines: Array<{ level: string; msg: string } & LogFields> = [];
  private log = (level: string) => (msg: string, fields: LogFields = {}) => {
    this.lines.push({ level, msg, ...fields });
  };
  debug = this.log('debug');
  info = this.log('info');
  warn = this.log('warn');
  error = this.log('error');
}

export interface ApiUnderTest {
  url: string;
  env: TestWorkflowEnvironment;
  /** Messages, unless another channel was given. */
  channel: RecordingChannel;
  taskQueue: string;
  logger: CapturingLogger;
  service: PathwayService;
  /** The record store the worker writes and the API reads. */
  record: RecordDeps;
  metrics: Metrics;
  /** Where Prometheus would scrape this API's and its worker's metrics. */
  metricsUrl: string;
  /** Patients' questionnaires (the local outbox channel, links to this API's address). */
  patients: Patients;
  /** Stops the HTTP server and starts a new app on a new port, as a restarted API process would. */
  restartApi(): Promise<void>;
  stop(): Promise<void>;
}

/** The test keys (KEYS), as the API holds them. */
export function testKeyStore(): ApiKeyStore {
  const entries: ApiKeyEntry[] = Object.entries(KEYS).map(([id, k]) => ({ id, role: k.role, ...(k.careTeams ? { careTeams: k.careTeams } : {}), sha256: hashKey(k.key) }));
  return new ApiKeyStore(entries);
}

export async function listen(app: ReturnType<typeof createApp>, port = 0): Promise<Server> {
  return new Promise((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
}

/**
 * The API, a worker and the file's end-to-end server; messages go to `channel` (a recording one unless given).
 * With `timeSkipping`, on that environment instead (the caller closes it), as the running service is
 * wired: the worker takes the patients' questionnaire steps, and the questionnaires' clock is that
 * server's (the pathways' own time).
 */
export async function startApi(
  opts: {
    channel?: CareTeamChannel;
    record?: RecordDeps;
    temporalDeadlineMs?: number;
    cds?: Omit<CdsHooksOptions, 'publicUrl' | 'logger'>;
    timeSkipping?: TestWorkflowEnvironment;
    /**
     * How the API's enrolments start their workflows: continuing as new past this many events (as a
     * driver's may), so a test sees a chain of runs in a year; a first workflow task given this many
     * seconds (Temporal's default is 10; a machine busy with other tests can miss it, and two timed-out
     * first tasks make the server refuse the enrolment's update).
     */
    enrolments?: { continueAsNewAfterEvents?: number; workflowTaskTimeoutSeconds?: number };
  } = {},
): Promise<ApiUnderTest> {
  const env = opts.timeSkipping ?? (await connectEndToEndServer());
  const channel = new RecordingChannel();
  const metrics = createMetrics();
  let patients: Patients;
  const patientSteps = opts.timeSkipping ? { patients: { scheduledStep: (...step: Parameters<Patients['questionnaires']['scheduledStep']>) => patients.questionnaires.scheduledStep(...step) } } : {};
  const worker = await startPathwayWorker(env, opts.channel ?? channel, { metrics, ...(opts.record ? { record: opts.record } : {}), ...patientSteps });
  const metricsServer = await startMetricsServer({ metrics, host: '127.0.0.1', port: 0 });
  // Ready as /readyz means it: the worker's polls have reached the server (the time-skipping server cannot say).
  if (!opts.timeSkipping) await eventually(() => workersPolling(env.connection, 'default', worker.taskQueue), (n) => n > 0);
  const logger = new CapturingLogger();
  const patientKey = randomBytes(32).toString('hex');
  // One registry for the API and its service, as the running service has: a version published through the API is enrolled on at once.
  const definitions = loadDefinitions();
  // CDS Hooks tokens name the service's URL: its port is known before the app is made.
  const port = opts.cds ? await freePort() : 0;
  const cds = opts.cds ? { ...opts.cds, publicUrl: `http://127.0.0.1:${port}`, logger } : undefined;
  const client = opts.enrolments ? clientEnrolling(env, opts.enrolments) : env.client;
  const makeService = () => new PathwayService({ client, taskQueue: worker.taskQueue, definitions, patientKey, record: worker.record });
  let url = '';
  const makePatients = (service: PathwayService) =>
    createPatients({
      record: worker.record,
      change: (id, kind, actor, input, key) => service.change(id, kind, actor, input, {}, key),
      publicUrl: () => url,
      production: false,
      ...(opts.timeSkipping ? { now: () => env.currentTimeMs() } : {}),
    });
  const makeApp = (service: PathwayService) =>
    createApp({
      pathways: service,
      patients: (patients = makePatients(service)),
      definitions,
      apiKeys: testKeyStore(),
      logger,
      metrics,
      isTemporalReachable: async () => {
        await env.connection.workflowService.getSystemInfo({});
        return true;
      },
      record: worker.record,
      // Generous: the run's shared server is busy; test/e2e/temporal-outage.test.ts checks the deadline itself.
      temporal: { connection: env.connection, deadlineMs: opts.temporalDeadlineMs ?? 15_000 },
      readiness: temporalReadiness(env.connection, 'default', worker.taskQueue),
      ...(cds ? { cds } : {}),
    });
  let service = makeService();
  let server = await listen(makeApp(service), port);
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api: ApiUnderTest = {
    url,
    get patients() {
      return patients;
    },
    env,
    channel,
    taskQueue: worker.taskQueue,
    logger,
    service,
    record: worker.record,
    metrics,
    metricsUrl: metricsServer.url,
    async restartApi() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      service = makeService();
      server = await listen(makeApp(service), port);
      api.url = url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      api.service = service;
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await metricsServer.close();
      await worker.stop();
      if (!opts.timeSkipping) await env.teardown();
    },
  };
  return api;
}

/** A client whose enrolments (update-with-start) start their workflows as `how` says. */
function clientEnrolling(env: TestWorkflowEnvironment, how: NonNullable<Parameters<typeof startApi>[0]>['enrolments'] & object): Client {
  return new Client({
    connection: env.connection,
    namespace: env.namespace ?? 'default',
    interceptors: {
      workflow: [
        {
          startUpdateWithStart: (input, next) => {
            const [workflowInput, ...rest] = input.workflowStartOptions.args as [PathwayWorkflowInput, ...unknown[]];
            const options = { ...input.workflowStartOptions, args: [{ ...workflowInput, ...(how.continueAsNewAfterEvents ? { continueAsNewAfterEvents: how.continueAsNewAfterEvents } : {}) }, ...rest] };
            if (how.workflowTaskTimeoutSeconds) options.workflowTaskTimeout = msToTs(how.workflowTaskTimeoutSeconds * 1000);
            return next({ ...input, workflowStartOptions: options });
          },
        },
      ],
    },
  });
}

/** A small HTTP client for the tests. */
export function http(api: Pick<ApiUnderTest, 'url'>) {
  return async (
    method: string,
    path: string,
    opts: { as?: keyof typeof KEYS | null; body?: unknown; headers?: Record<string, string>; rawBody?: string } = {},
  ): Promise<{ status: number; headers: Headers; body: any }> => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.as !== null) headers.authorization = `Bearer ${KEYS[opts.as ?? 'clinician']!.key}`;
    if (opts.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers,
      body: opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, headers: res.headers, body };
  };
}

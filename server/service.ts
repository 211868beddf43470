/**
 * Starts the service: Temporal (embedded or existing), the worker and the HTTP API, as the
 * role asks. `npm start` runs all three on one machine.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { careTeamChannel } from '../activities/care-team-channel';
import { loadWebhooks } from '../activities/webhooks';
import { createApp } from '../api/app';
import { loadApiKeys } from '../api/auth';
import { PathwayService } from '../api/pathways-service';
import { READY_WITHIN_MS } from '../api/routes/health';
import { createConsole } from '../console';
import { loadDefinitions } from '../clinical/registry';
import { attachRegistry } from '../record/definitions';
import type { Config } from '../config';
import type { Logger } from '../observability/log';
import { createMetrics } from '../observability/metrics';
import { startMetricsServer } from '../observability/metrics-server';
import { requestIdClientInterceptor } from '../observability/request-id-interceptors';
import { connectTemporal, ensureSearchAttributes } from '../temporal/connection';
import { ensureDigestSchedule } from '../temporal/digest-schedule';
import { EncryptionCodec, payloadKeysFor } from '../temporal/payload-codec';
import { channelFor, createPatients } from '../patients';
import { NoteCipher } from '../record/note-cipher';
import { describeUrl, openRecordStore } from '../record/store';
import { keepPresence, sinceWorkerSeen } from '../record/worker-presence';
import { recordStoreSnapshot } from '../record/read';
import { untilReachable } from '../temporal/until-reachable';
import { createPathwayWorker } from '../worker/worker';
import { temporalReadiness } from '../temporal/readiness';
import { installRuntime } from '../temporal/runtime';
import { SMART_LAUNCH_PATH } from '../config/ehr';

export interface RunningService {
  apiUrl?: string;
  metricsUrl?: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  stop(): Promise<void>;
}

/** The key that hashes patient references into pathway ids. It must never change for a deployment. */
export function patientKey(config: Config, log: Logger): string {
  if (config.patientKey) return config.patientKey;
  if (config.production) throw new Error('production mode needs PATHWAY_PATIENT_KEY');
  const file = path.join(config.dataDir, 'patient-key');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    log.warn('generated a local patient key; set PATHWAY_PATIENT_KEY in production', { file });
  }
  return readFileSync(file, 'utf8').trim();
}

/** A free loopback port for the SDK's metrics exporter, which the metrics server forwards. */
async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function startService(config: Config, log: Logger): Promise<RunningService> {
  const runsApi = config.role !== 'worker';
  const runsWorker = config.role !== 'api';
  // Settings are checked before anything starts, so a bad one costs no server start.
  if (config.production && !config.temporal.address) {
    throw new Error('production mode needs TEMPORAL_ADDRESS: the embedded dev server is for development only');
  }
  const definitions = loadDefinitions(config.definitionsDir);
  const keys = runsApi ? loadApiKeys({ inline: config.apiKeys, file: config.apiKeysFile, production: config.production }) : undefined;
  if (keys?.local) log.warn('using the local API keys of the embedded default (see README); never in production');
  const key = runsApi ? patientKey(config, log) : '';
  const webhooks = runsWorker ? loadWebhooks({ inline: config.webhooks, file: config.webhooksFile }) : undefined;
  if (webhooks && !webhooks.default && Object.keys(webhooks.careTeams).length === 0) {
    log.info('no webhooks configured: reminders and notifications go to the worklist only');
  }

  const payloadKeys = payloadKeysFor({ key: config.payloadKey, previousKeys: config.payloadPreviousKeys, production: config.production, dataDir: config.dataDir });
  if (payloadKeys.generated) log.warn('generated a local payload encryption key; set PATHWAY_PAYLOAD_KEY in production', { file: payloadKeys.generated });
  const codec = new EncryptionCodec(payloadKeys.current, payloadKeys.previous);
  const dataConverter = { payloadCodecs: [codec] };

  if (config.production && !config.record.databaseUrl) throw new Error('production mode needs DATABASE_URL: the record is kept in PostgreSQL');
  if (config.role !== 'all' && !config.record.databaseUrl) {
    throw new Error(`PATHWAY_ROLE=${config.role} needs DATABASE_URL: the worker and the API share the record store, and the embedded one lives in one process`);
  }
  // The record store first: both the worker (writes) and the API (reads) need it.
  const store = config.record.databaseUrl
    ? await untilReachable('the record store', describeUrl(config.record.databaseUrl), () => openRecordStore({ url: config.record.databaseUrl, dataDir: config.dataDir, poolSize: config.record.poolSize }), log)
    : await openRecordStore({ dataDir: config.dataDir });
  log.info('record store open', { kind: store.kind, location: store.location });
  const record = { store, cipher: new NoteCipher(payloadKeys.current, payloadKeys.previous) };
  // The service's definitions become published versions in the record (a changed published one refuses to start), and the API follows what leads publish.
  if (runsApi) await attachRegistry(definitions, store.db);
  const stops: Array<() => Promise<void>> = [() => store.close()];
  const metrics = createMetrics({ instance: config.instance });
  metrics.readRecordStoreFrom(() => recordStoreSnapshot(store.db));
  const sdkMetricsPort = config.metrics.port ? await freeLoopbackPort() : undefined;
  const runtimeInstalled = installRuntime(log, { sdkMetricsBindAddress: sdkMetricsPort ? `127.0.0.1:${sdkMetricsPort}` : undefined, instance: config.instance });

  // The embedded dev server's Web UI decrypts histories through this API's codec endpoint.
  const apiHost = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  const embeddedUi = !config.temporal.address && runsApi && config.http.port !== 0;
  const embeddedUiToken = embeddedUi ? randomBytes(16).toString('hex') : undefined;
  const webUiOrigins = [
    ...config.webUiOrigins,
    ...(embeddedUi ? [`http://127.0.0.1:${config.temporal.devServer.uiPort}`, `http://localhost:${config.temporal.devServer.uiPort}`] : []),
  ];

  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err) => log.error('error while stopping', { error: String(err) }));
  };
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  try {
    temporal = await connectTemporal(config, log, {
      uiCodecEndpoint: embeddedUiToken ? `http://${apiHost}:${config.http.port}/codec/embedded-ui/${embeddedUiToken}` : undefined,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  stops.push(() => temporal.close());
  try {
    const client = new Client({ connection: temporal.connection, namespace: temporal.namespace, dataConverter, interceptors: { workflow: [requestIdClientInterceptor()] } });
    // Whichever role starts first makes the cluster ready for enrolments.
    await ensureSearchAttributes(temporal.connection, temporal.namespace, log).catch((err: unknown) => {
      if (runsWorker) throw err;
      log.warn('could not register the search attributes; /readyz says which are missing', { error: err instanceof Error ? err.message : String(err) });
    });
    // Patients' questionnaires: the worker takes their timed steps, the API serves their links.
    let listening = `http://${apiHost}:${config.http.port}`;
    let pathways: PathwayService | undefined;
    const patients = createPatients({
      record,
      change: (id, kind, actor, input, idempotencyKey) => {
        if (!pathways) throw new Error('answers are recorded by the API process');
        return pathways.change(id, kind, actor, input, {}, idempotencyKey);
      },
      publicUrl: () => config.publicUrl ?? listening,
      production: config.production,
      channel: channelFor(config.patients, record),
      instrumentsDir: config.patients.questionnairesDir,
    });
    if (runsWorker) {
      await ensureDigestSchedule(client, config.temporal.taskQueue, config.digest, log);
      const worker = await createPathwayWorker({
        connection: temporal.nativeConnection,
        namespace: temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        channel: careTeamChannel({ webhooks: webhooks!, publicUrl: config.publicUrl, logger: log }),
        record: { ...record, recordRetentionDays: config.record.retentionDays, idempotencyKeyDays: config.record.idempotencyKeyDays },
        client,
        patients: patients.questionnaires,
        dataConverter,
        metrics,
        workflowCacheSize: config.worker.workflowCacheSize,
        deployment: config.worker.deployment,
        workflowTaskSlots: config.worker.workflowTaskSlots,
        workflowTaskPollers: config.worker.workflowTaskPollers,
      });
      const running = worker.run();
      stops.push(async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
      });
      // Stopped first (stops run in reverse): readiness hears the worker is going before it has gone.
      stops.push(
        keepPresence(store.db, config.instance, config.temporal.taskQueue, (err) =>
          log.warn('could not note this worker as alive in the record store', { error: err instanceof Error ? err.message : String(err) }),
        ),
      );
    }
    let apiUrl: string | undefined;
    let patientOutbox = false;
    if (runsApi) {
      const service = new PathwayService({ client, taskQueue: config.temporal.taskQueue, definitions, patientKey: key, record });
      pathways = service;
      const careConsole = await createConsole({
        idleMs: config.console.idleMinutes * 60_000,
        record,
        oidc: config.console.oidc,
        production: config.production,
        secureCookies: config.production || config.publicUrl?.startsWith('https:') === true,
        logger: log,
        ...(config.ehr?.smart ? { smart: { config: config.ehr.smart, pathways: service, patientIdentifierSystem: config.ehr.patientIdentifierSystem } } : {}),
      });
      if (careConsole.signIn === 'local') log.warn('the console offers local sign-in as each role (embedded default); configure PATHWAY_OIDC_ISSUER for real sign-in');
      if (careConsole.signIn === 'none') log.warn('console sign-in is off: production needs PATHWAY_OIDC_ISSUER; API keys still work');
      stops.push(async () => careConsole.store.close());
      patientOutbox = Boolean(patients.outbox);
      const app = createApp({
        pathways: service,
        patients,
        record,
        console: careConsole,
        definitions,
        apiKeys: keys!.store,
        logger: log,
        metrics,
        codec: { codec, namespace: temporal.namespace, origins: webUiOrigins, embeddedUiToken },
        isTemporalReachable: async () => {
          await temporal.connection.withDeadline(Date.now() + READY_WITHIN_MS, () =>
            temporal.connection.workflowService.describeNamespace({ namespace: temporal.namespace }),
          );
          return true;
        },
        temporal: { connection: temporal.connection, deadlineMs: config.http.temporalDeadlineMs },
        rateLimits: config.http.rateLimits,
        trustProxy: config.http.trustProxy,
        readiness: temporalReadiness(temporal.connection, temporal.namespace, config.temporal.taskQueue, () => sinceWorkerSeen(store.db, config.temporal.taskQueue)),
        ...(config.ehr && config.ehr.cdsClients.length > 0 && config.publicUrl
          ? { cds: { settings: config.ehr, publicUrl: config.publicUrl, launchUrl: new URL(SMART_LAUNCH_PATH, config.publicUrl).href, logger: log } }
          : {}),
      });
      const server: Server = await new Promise((resolve, reject) => {
        const s = app.listen(config.http.port, config.http.host, () => resolve(s));
        s.once('error', reject);
      });
      const { port } = server.address() as AddressInfo;
      apiUrl = `http://${apiHost}:${port}`;
      listening = apiUrl;
      stops.push(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      );
    }
    let metricsUrl: string | undefined;
    if (config.metrics.port) {
      const metricsServer = await startMetricsServer({
        metrics,
        host: config.http.host,
        port: config.metrics.port,
        sdkMetricsUrl: runtimeInstalled && sdkMetricsPort ? `http://127.0.0.1:${sdkMetricsPort}/metrics` : undefined,
      });
      metricsUrl = metricsServer.url;
      stops.push(() => metricsServer.close());
    }
    log.info('pathway service ready', {
      role: config.role,
      api: apiUrl,
      metrics: metricsUrl,
      console: apiUrl ? `${apiUrl}/` : undefined,
      patientOutbox: patientOutbox ? `${apiUrl}/outbox` : undefined,
      temporal: temporal.address,
      namespace: temporal.namespace,
      temporalWebUi: temporal.uiUrl,
      workerDeploymentVersion: runsWorker && config.worker.deployment ? `${config.worker.deployment.deploymentName}:${config.worker.deployment.buildId}` : undefined,
    });
    return { apiUrl, metricsUrl, temporalAddress: temporal.address, temporalUiUrl: temporal.uiUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

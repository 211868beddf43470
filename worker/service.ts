/**
 * Starts the service: Temporal (embedded or existing), the worker and the HTTP API, as the
 * role asks. `npm start` runs all three on one machine.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { careTeamChannel } from '../activities/care-team-channel';
import { loadWebhooks } from '../activities/webhooks';
import { createApp } from '../api/app';
import { loadApiKeys } from '../api/auth';
import { PathwayService } from '../api/pathways-service';
import { createConsole } from '../console';
import { loadDefinitions } from '../clinical/registry';
import type { Config } from './config';
import type { Logger } from './log';
import { connectTemporal, ensureSearchAttributes } from './temporal';
import { ensureDigestSchedule } from './digest-schedule';
import { payloadCodecFor } from './payload-codec';
import { createPathwayWorker } from './worker';

export interface RunningService {
  apiUrl?: string;
  temporalAddress: string;
  temporalUiUrl?: string;
  stop(): Promise<void>;
}

/** The key that hashes patient references into pathway ids. It must never change for a deployment. */
function patientKey(config: Config, log: Logger): string {
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

export async function startService(config: Config, log: Logger): Promise<RunningService> {
  const runsApi = config.role !== 'worker';
  const runsWorker = config.role !== 'api';
  // Settings are checked before anything starts, so a bad one costs no server start.
  const definitions = loadDefinitions(config.definitionsDir);
  const keys = runsApi ? loadApiKeys({ inline: config.apiKeys, file: config.apiKeysFile, production: config.production }) : undefined;
  if (keys?.local) log.warn('using the local API keys of the embedded default (see README); never in production');
  const key = runsApi ? patientKey(config, log) : '';
  const webhooks = runsWorker ? loadWebhooks({ inline: config.webhooks, file: config.webhooksFile }) : undefined;
  if (webhooks && !webhooks.default && Object.keys(webhooks.careTeams).length === 0) {
    log.info('no webhooks configured: reminders and notifications go to the worklist only');
  }

  const { codec, generated } = payloadCodecFor({ key: config.payloadKey, previousKeys: config.payloadPreviousKeys, production: config.production, dataDir: config.dataDir });
  if (generated) log.warn('generated a local payload encryption key; set PATHWAY_PAYLOAD_KEY in production', { file: generated });
  const dataConverter = { payloadCodecs: [codec] };

  const temporal = await connectTemporal(config, log);
  const stops: Array<() => Promise<void>> = [() => temporal.close()];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err) => log.error('error while stopping', { error: String(err) }));
  };
  try {
    const client = new Client({ connection: temporal.connection, namespace: temporal.namespace, dataConverter });
    if (runsWorker) {
      await ensureSearchAttributes(temporal.connection, temporal.namespace, log);
      await ensureDigestSchedule(client, config.temporal.taskQueue, config.digest, log);
      const worker = await createPathwayWorker({
        connection: temporal.nativeConnection,
        namespace: temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        channel: careTeamChannel({ webhooks: webhooks!, publicUrl: config.publicUrl, logger: log }),
        client,
        dataConverter,
      });
      const running = worker.run();
      stops.push(async () => {
        worker.shutdown();
        await running;
      });
    }
    let apiUrl: string | undefined;
    if (runsApi) {
      const careConsole = await createConsole({
        idleMs: config.console.idleMinutes * 60_000,
        oidc: config.console.oidc,
        production: config.production,
        secureCookies: config.production || config.publicUrl?.startsWith('https:') === true,
        logger: log,
      });
      if (careConsole.signIn === 'local') log.warn('the console offers local sign-in as each role (embedded default); configure PATHWAY_OIDC_ISSUER for real sign-in');
      if (careConsole.signIn === 'none') log.warn('console sign-in is off: production needs PATHWAY_OIDC_ISSUER; API keys still work');
      stops.push(async () => careConsole.store.close());
      const app = createApp({
        console: careConsole,
        pathways: new PathwayService({ client, taskQueue: config.temporal.taskQueue, definitions, patientKey: key }),
        definitions,
        apiKeys: keys!.store,
        logger: log,
        isTemporalReachable: async () => {
          await temporal.connection.workflowService.describeNamespace({ namespace: temporal.namespace });
          return true;
        },
      });
      const server: Server = await new Promise((resolve, reject) => {
        const s = app.listen(config.http.port, config.http.host, () => resolve(s));
        s.once('error', reject);
      });
      const { port } = server.address() as AddressInfo;
      apiUrl = `http://${config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host}:${port}`;
      stops.push(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      );
    }
    log.info('pathway service ready', {
      role: config.role,
      api: apiUrl,
      console: apiUrl ? `${apiUrl}/` : undefined,
      temporal: temporal.address,
      namespace: temporal.namespace,
      temporalWebUi: temporal.uiUrl,
    });
    return { apiUrl, temporalAddress: temporal.address, temporalUiUrl: temporal.uiUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The service with its console, in-process over real HTTP: one dev-server worker and pathway
 * service shared by as many apps as a test wants (with a provider, local sign-in, production).
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApp } from '../../api/app';
import { ApiKeyStore, hashKey } from '../../api/auth';
import { PathwayService } from '../../api/pathways-service';
import { loadDefinitions } from '../../clinical/registry';
import { createConsole, type CareConsole } from '../../console';
import type { OidcConfig, SmartConfig } from '../../config';
import { createPatients } from '../../patients';
import { KEYS, CapturingLogger } from './api';
import { freePort } from './service-process';
import { connectDevServer, RecordingChannel, startPathwayWorker } from './temporal';
import type { RecordDeps } from '../../activities';
import type { CareTeamChannel } from '../../activities/care-team-channel';

export interface Backend {
  env: TestWorkflowEnvironment;
  service: PathwayService;
  record: RecordDeps;
  logger: CapturingLogger;
  stop(): Promise<void>;
}

/** `channel`: where care-team messages go (a test may refuse some). */
export async function startBackend(channel: CareTeamChannel = new RecordingChannel()): Promise<Backend> {
  const env = await connectDevServer();
  const worker = await startPathwayWorker(env, channel);
  const service = new PathwayService({ client: env.client, taskQueue: worker.taskQueue, definitions: loadDefinitions(), patientKey: randomBytes(32).toString('hex'), record: worker.record });
  return {
    env,
    service,
    record: worker.record,
    logger: new CapturingLogger(),
    async stop() {
      await worker.stop();
      await env.teardown();
    },
  };
}

export interface ConsoleServer {
  url: string;
  console: CareConsole;
  stop(): Promise<void>;
}

export async function serveConsole(
  backend: Backend,
  opts: { port?: number; oidc?: OidcConfig; production?: boolean; idleMs?: number; secureCookies?: boolean; smart?: { config: SmartConfig; patientIdentifierSystem: string } } = {},
): Promise<ConsoleServer> {
  const port = opts.port ?? (await freePort());
  const careConsole = await createConsole({
    idleMs: opts.idleMs ?? 15 * 60_000,
    record: backend.record,
    oidc: opts.oidc,
    production: opts.production ?? false,
    secureCookies: opts.secureCookies ?? false,
    logger: backend.logger,
    ...(opts.smart ? { smart: { ...opts.smart, pathways: backend.service } } : {}),
  });
  const definitions = loadDefinitions();
  const patients = createPatients({
    record: backend.record,
    change: (id, kind, actor, input, key) => backend.service.change(id, kind, actor, input, {}, key),
    publicUrl: () => `http://127.0.0.1:${port}`,
    production: opts.production ?? false,
  });
  const app = createApp({
    pathways: backend.service,
    patients,
    definitions,
    apiKeys: new ApiKeyStore(Object.entries(KEYS).map(([id, k]) => ({ id, role: k.role, ...(k.careTeams ? { careTeams: k.careTeams } : {}), sha256: hashKey(k.key) }))),
    logger: backend.logger,
    isTemporalReachable: async () => true,
    record: backend.record,
    console: careConsole,
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    console: careConsole,
    async stop() {
      careConsole.store.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

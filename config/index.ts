/**
 * The service's settings, all from the environment, validated at start-up so a wrong setting
 * stops the process with a message naming it. docs/operations.md lists every variable.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { SMART_CALLBACK_PATH, SecureUrlSchema, parseCdsClients, type EhrSettings } from './ehr';

/** Also for apps built without settings (tests, benchmarks). */
export const DEFAULT_RATE_LIMITS = { windowSeconds: 60, perKey: 600, authFailures: 20 } as const;

const port = z.coerce.number().int().min(0).max(65535);
const positive = (max: number) => z.coerce.number().int().min(1).max(max);
/**
 * Pathways a worker keeps in memory between their workflow tasks. The rest are evicted (least
 * recently used first) and replay their history when they next wake. Pathways wake weeks apart,
 * so a cache this size already serves the tasks that follow each other within seconds; what it
 * costs in memory is measured by bench/worker-memory.ts (docs/benchmarks.md).
 */
export const DEFAULT_WORKFLOW_CACHE_SIZE = 250;
/** Workflow tasks a worker runs at once: the SDK's default (bench/storm.ts measures it in a timer storm). */
export const DEFAULT_WORKFLOW_TASK_SLOTS = 40;

const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .transform((v) => v === 'true' || v === '1');

const EnvSchema = z.object({
  PATHWAY_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  PATHWAY_INSTANCE: z.string().trim().min(1).max(200).optional(),
  PATHWAY_ENV: z.enum(['development', 'production']).default('development'),
  PATHWAY_DATA_DIR: z.string().default('.data'),
  PATHWAY_DEFINITIONS_DIR: z.string().optional(),
  PATHWAY_PUBLIC_URL: z.string().url().optional(),
  PATHWAY_PATIENT_KEY: z.string().min(32, 'at least 32 characters').optional(),
  PATHWAY_PAYLOAD_KEY: z.string().optional(),
  PATHWAY_PAYLOAD_PREVIOUS_KEYS: z.string().optional(),
  PATHWAY_API_KEYS: z.string().optional(),
  PATHWAY_API_KEYS_FILE: z.string().optional(),
  PATHWAY_WEBHOOKS: z.string().optional(),
  PATHWAY_WEBHOOKS_FILE: z.string().optional(),
  PATHWAY_PATIENT_CHANNEL: z.enum(['outbox', 'webhook', 'email', 'none']).optional(),
  PATHWAY_PATIENT_WEBHOOK: z.string().optional(),
  PATHWAY_PATIENT_SMTP_URL: z.string().regex(/^smtps?:\/\//, 'an smtp:// or smtps:// URL').optional(),
  PATHWAY_PATIENT_EMAIL_FROM: z.string().min(3).optional(),
  PATHWAY_QUESTIONNAIRES_DIR: z.string().optional(),
  PATHWAY_DIGEST_TIME: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour').default('07:00'),
  PATHWAY_DIGEST_TIMEZONE: z
    .string()
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'an IANA time zone such as Europe/London')
    .default('UTC'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL')
    .optional(),
  PATHWAY_DB_POOL_SIZE: positive(500).default(20),
  PATHWAY_RECORD_RETENTION_DAYS: z.coerce.number().int().min(1).optional(),
  PATHWAY_IDEMPOTENCY_KEY_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  HTTP_HOST: z.string().default('127.0.0.1'),
  PORT: port.default(3000),
  HTTP_TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  PATHWAY_RATE_LIMIT_WINDOW_SECONDS: positive(3600).default(DEFAULT_RATE_LIMITS.windowSeconds),
  PATHWAY_RATE_LIMIT_PER_KEY: positive(1_000_000).default(DEFAULT_RATE_LIMITS.perKey),
  PATHWAY_RATE_LIMIT_AUTH_FAILURES: positive(1_000_000).default(DEFAULT_RATE_LIMITS.authFailures),
  PATHWAY_TEMPORAL_DEADLINE_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  PATHWAY_METRICS_PORT: port.default(9464),
  PATHWAY_WEB_UI_ORIGINS: z
    .string()
    .refine((v) => v.split(',').every((o) => /^https?:\/\/[^/\s]+$/.test(o.trim())), 'comma-separated origins such as https://temporal-ui.example.org')
    .optional(),
  PATHWAY_WORKFLOW_CACHE_SIZE: z.coerce
    .number()
    .int()
    .min(0)
    .max(100_000)
    .refine((n) => n !== 1, '0 (no cache) or at least 2')
    .default(DEFAULT_WORKFLOW_CACHE_SIZE),
  PATHWAY_WORKER_VERSIONING: flag.default(false),
  PATHWAY_DEPLOYMENT_NAME: z.string().trim().regex(/^[A-Za-z0-9_-]{1,200}$/, 'letters, digits, - and _').default('pathway'),
  PATHWAY_BUILD_ID: z.string().trim().regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, ., - and _ (a release tag or commit)').optional(),
  PATHWAY_WORKFLOW_TASK_SLOTS: z.coerce.number().int().min(2).max(1000).default(DEFAULT_WORKFLOW_TASK_SLOTS),
  PATHWAY_WORKFLOW_TASK_POLLERS: z.coerce.number().int().min(2).max(100).optional(),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('pathway'),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_TLS: flag.default(false),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_CA_PATH: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_DEV_SERVER_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  PATHWAY_SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(720).default(15),
  PATHWAY_EHR_PATIENT_SYSTEM: z.string().min(1).optional(),
  PATHWAY_CDS_CLIENTS: z.string().optional(),
  PATHWAY_SMART_CLIENT_ID: z.string().min(1).optional(),
  PATHWAY_SMART_CLIENT_SECRET: z.string().min(1).optional(),
  PATHWAY_SMART_ISSUERS: z.string().optional(),
  PATHWAY_SMART_SCOPE: z.string().regex(/(^|\s)openid(\s|$)/, 'space-separated scopes including openid').default('openid fhirUser patient/Patient.rs patient/Observation.rs'),
  PATHWAY_OIDC_ISSUER: z.string().url().optional(),
  PATHWAY_OIDC_CLIENT_ID: z.string().min(1).optional(),
  PATHWAY_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  PATHWAY_OIDC_REDIRECT_URL: z.string().url().optional(),
  PATHWAY_OIDC_SCOPE: z.string().regex(/(^|\s)openid(\s|$)/, 'space-separated scopes including openid').default('openid profile'),
  PATHWAY_OIDC_USERNAME_CLAIM: z.string().min(1).default('preferred_username'),
  PATHWAY_OIDC_ROLE_CLAIM: z.string().min(1).default('pathway_role'),
  PATHWAY_OIDC_CARE_TEAMS_CLAIM: z.string().min(1).default('pathway_care_teams'),
});

export type Env = z.infer<typeof EnvSchema>;

/** Requests per API key and failed authentications per client address, per window (api/rate-limits.ts). */
export interface RateLimits {
  windowSeconds: number;
  /** Requests per API key per window. */
  perKey: number;
  /** Failed authentications per client address per window. */
  authFailures: number;
}

/** The console as a SMART on FHIR app of the EHR (console/smart.ts). */
export interface SmartConfig {
  clientId: string;
  /** Unset: a public client, authenticated by PKCE alone. */
  clientSecret?: string;
  /** The EHRs' FHIR base URLs (the launch's iss) allowed to launch the console; the first is the standalone launch's. */
  issuers: string[];
  redirectUrl: string;
  /** Besides launch (EHR launch) or launch/patient (standalone launch). */
  scope: string;
  claims: OidcConfig['claims'];
}

/** Sign-in to the console through the hospital's OpenID Connect provider. */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** Unset: a public client, authenticated by PKCE alone. */
  clientSecret?: string;
  redirectUrl: string;
  scope: string;
  /** Which claims carry the person's name for the timeline, their role and their care teams. */
  claims: { username: string; role: string; careTeams: string };
}

export interface Config {
  role: Env['PATHWAY_ROLE'];
  /** This process among the replicas: the `instance` label of its metrics, its name in worker_presence. */
  instance: string;
  production: boolean;
  dataDir: string;
  definitionsDir?: string;
  publicUrl?: string;
  patientKey?: string;
  payloadKey?: string;
  payloadPreviousKeys?: string;
  apiKeys?: string;
  apiKeysFile?: string;
  webhooks?: string;
  webhooksFile?: string;
  /** How messages reach patients (docs/patients.md). */
  patients: { channel: 'outbox' | 'webhook' | 'email' | 'none'; webhook?: string; smtpUrl?: string; emailFrom?: string; questionnairesDir?: string };
  digest: { hour: number; minute: number; timezone: string };
  record: {
    /** PostgreSQL; unset, the embedded store in the data folder (development, PATHWAY_ROLE=all only). */
    databaseUrl?: string;
    /** Connections each process keeps to PostgreSQL (its writes and reads queue for one). */
    poolSize: number;
    /** Days a closed pathway's record is kept; unset, kept. */
    retentionDays?: number;
    idempotencyKeyDays: number;
  };
  http: {
    host: string;
    port: number;
    /** Proxies in front of the API whose X-Forwarded-For is believed (0: none). */
    trustProxy: number;
    /** Requests per API key and failed authentications per client address, per window (api/rate-limits.ts). */
    rateLimits: RateLimits;
    /** How long a request waits for Temporal (and the worker) before answering 503. */
    temporalDeadlineMs: number;
  };
  logLevel: Env['LOG_LEVEL'];
  /** Prometheus metrics on their own port (on HTTP_HOST); 0 turns them off. */
  metrics: { port: number };
  /** Origins of the Temporal Web UI that may call the codec endpoints (CORS). */
  webUiOrigins: string[];
  console: {
    /** Minutes without a request after which a console session ends (automatic logoff). */
    idleMinutes: number;
    /** Unset: the embedded default offers local sign-in; production refuses console sign-in. */
    oidc?: OidcConfig;
  };
  temporal: {
    /** Unset: the embedded default starts a dev server. */
    address?: string;
    namespace: string;
    taskQueue: string;
    apiKey?: string;
    tls?: { certPath?: string; keyPath?: string; caPath?: string; serverName?: string };
    devServer: { port: number; uiPort: number };
  };
  worker: {
    /** Pathways kept in the worker's memory between tasks (0: none, every task replays its history). */
    workflowCacheSize: number;
    /** Worker Versioning on: this worker is this version of this Worker Deployment (docs/operations.md#rolling-deploys). */
    deployment?: WorkerDeployment;
    /** Workflow tasks run at once (never more than the cache holds, when there is one). */
    workflowTaskSlots: number;
    /** Concurrent polls for workflow tasks; unset, the SDK's (10, or fewer with fewer slots). */
    workflowTaskPollers?: number;
  };
  /** The EHR integration (docs/ehr-integration.md); unset without PATHWAY_EHR_PATIENT_SYSTEM. */
  ehr?: EhrSettings & { smart?: SmartConfig };
}

/** A release of the worker in Temporal's Worker Deployments: the deployment's name and the build's id. */
export interface WorkerDeployment {
  deploymentName: string;
  buildId: string;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty variables (as docker-compose passes them) mean "not set".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid settings: ${problems}`);
  }
  const e = parsed.data;
  const oidc = oidcConfig(e);
  const useTls = e.TEMPORAL_TLS || Boolean(e.TEMPORAL_TLS_CERT_PATH || e.TEMPORAL_TLS_CA_PATH);
  return {
    role: e.PATHWAY_ROLE,
    instance: e.PATHWAY_INSTANCE ?? `${os.hostname()}:${process.pid}`,
    production: e.PATHWAY_ENV === 'production',
    dataDir: path.resolve(e.PATHWAY_DATA_DIR),
    definitionsDir: e.PATHWAY_DEFINITIONS_DIR,
    publicUrl: e.PATHWAY_PUBLIC_URL,
    patientKey: e.PATHWAY_PATIENT_KEY,
    payloadKey: e.PATHWAY_PAYLOAD_KEY,
    payloadPreviousKeys: e.PATHWAY_PAYLOAD_PREVIOUS_KEYS,
    apiKeys: e.PATHWAY_API_KEYS,
    apiKeysFile: e.PATHWAY_API_KEYS_FILE,
    webhooks: e.PATHWAY_WEBHOOKS,
    webhooksFile: e.PATHWAY_WEBHOOKS_FILE,
    patients: patientSettings(e),
    digest: { hour: Number(e.PATHWAY_DIGEST_TIME.slice(0, 2)), minute: Number(e.PATHWAY_DIGEST_TIME.slice(3)), timezone: e.PATHWAY_DIGEST_TIMEZONE },
    record: { databaseUrl: e.DATABASE_URL, poolSize: e.PATHWAY_DB_POOL_SIZE, retentionDays: e.PATHWAY_RECORD_RETENTION_DAYS, idempotencyKeyDays: e.PATHWAY_IDEMPOTENCY_KEY_DAYS },
    http: {
      host: e.HTTP_HOST,
      port: e.PORT,
      trustProxy: e.HTTP_TRUST_PROXY,
      rateLimits: { windowSeconds: e.PATHWAY_RATE_LIMIT_WINDOW_SECONDS, perKey: e.PATHWAY_RATE_LIMIT_PER_KEY, authFailures: e.PATHWAY_RATE_LIMIT_AUTH_FAILURES },
      temporalDeadlineMs: e.PATHWAY_TEMPORAL_DEADLINE_MS,
    },
    logLevel: e.LOG_LEVEL,
    metrics: { port: e.PATHWAY_METRICS_PORT },
    webUiOrigins: (e.PATHWAY_WEB_UI_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    console: { idleMinutes: e.PATHWAY_SESSION_IDLE_MINUTES, oidc },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      apiKey: e.TEMPORAL_API_KEY,
      tls: useTls
        ? { certPath: e.TEMPORAL_TLS_CERT_PATH, keyPath: e.TEMPORAL_TLS_KEY_PATH, caPath: e.TEMPORAL_TLS_CA_PATH, serverName: e.TEMPORAL_TLS_SERVER_NAME }
        : undefined,
      devServer: { port: e.TEMPORAL_DEV_SERVER_PORT, uiPort: e.TEMPORAL_UI_PORT },
    },
    worker: {
      workflowCacheSize: e.PATHWAY_WORKFLOW_CACHE_SIZE,
      workflowTaskSlots: e.PATHWAY_WORKFLOW_TASK_SLOTS,
      ...(e.PATHWAY_WORKFLOW_TASK_POLLERS ? { workflowTaskPollers: e.PATHWAY_WORKFLOW_TASK_POLLERS } : {}),
      ...workerDeployment(e),
    },
    ehr: ehrSettings(e),
  };
}

function workerDeployment(e: Env): { deployment?: WorkerDeployment } {
  if (!e.PATHWAY_WORKER_VERSIONING) {
    if (e.PATHWAY_BUILD_ID) throw new ConfigError('invalid settings: PATHWAY_BUILD_ID needs PATHWAY_WORKER_VERSIONING=true');
    return {};
  }
  if (!e.PATHWAY_BUILD_ID) throw new ConfigError('invalid settings: PATHWAY_WORKER_VERSIONING=true needs PATHWAY_BUILD_ID (this release\'s build id)');
  // The embedded default is one process on its own dev server: nothing to roll.
  if (!e.TEMPORAL_ADDRESS) throw new ConfigError('invalid settings: PATHWAY_WORKER_VERSIONING=true needs TEMPORAL_ADDRESS (the embedded default runs one unversioned worker)');
  return { deployment: { deploymentName: e.PATHWAY_DEPLOYMENT_NAME, buildId: e.PATHWAY_BUILD_ID } };
}

function ehrSettings(e: Env): EhrSettings | undefined {
  const clients = parseCdsClients(e.PATHWAY_CDS_CLIENTS);
  if (typeof clients === 'string') throw new ConfigError(`invalid settings: PATHWAY_CDS_CLIENTS: ${clients}`);
  if (!e.PATHWAY_EHR_PATIENT_SYSTEM) {
    if (clients.length > 0) throw new ConfigError('invalid settings: PATHWAY_CDS_CLIENTS needs PATHWAY_EHR_PATIENT_SYSTEM');
    if (e.PATHWAY_SMART_CLIENT_ID) throw new ConfigError('invalid settings: PATHWAY_SMART_CLIENT_ID needs PATHWAY_EHR_PATIENT_SYSTEM');
    return undefined;
  }
  // The JWT's audience and the card's SMART link are public addresses of this service.
  if (clients.length > 0 && !e.PATHWAY_PUBLIC_URL) throw new ConfigError('invalid settings: PATHWAY_CDS_CLIENTS needs PATHWAY_PUBLIC_URL');
  return { patientIdentifierSystem: e.PATHWAY_EHR_PATIENT_SYSTEM, cdsClients: clients, ...(e.PATHWAY_SMART_CLIENT_ID ? { smart: smartConfig(e, e.PATHWAY_SMART_CLIENT_ID) } : {}) };
}

function smartConfig(e: Env, clientId: string): SmartConfig {
  const issuers = (e.PATHWAY_SMART_ISSUERS ?? '').split(',').map((s) => s.trim().replace(/\/$/, '')).filter(Boolean);
  if (issuers.length === 0) throw new ConfigError('invalid settings: PATHWAY_SMART_CLIENT_ID needs PATHWAY_SMART_ISSUERS (the EHR FHIR base URLs allowed to launch)');
  for (const iss of issuers) {
    if (!SecureUrlSchema.safeParse(iss).success) throw new ConfigError('invalid settings: PATHWAY_SMART_ISSUERS: https, or http on loopback only');
  }
  if (!e.PATHWAY_PUBLIC_URL) throw new ConfigError('invalid settings: PATHWAY_SMART_CLIENT_ID needs PATHWAY_PUBLIC_URL (the redirect URI)');
  return {
    clientId,
    clientSecret: e.PATHWAY_SMART_CLIENT_SECRET,
    issuers,
    redirectUrl: new URL(SMART_CALLBACK_PATH, e.PATHWAY_PUBLIC_URL).href,
    scope: e.PATHWAY_SMART_SCOPE,
    claims: { username: e.PATHWAY_OIDC_USERNAME_CLAIM, role: e.PATHWAY_OIDC_ROLE_CLAIM, careTeams: e.PATHWAY_OIDC_CARE_TEAMS_CLAIM },
  };
}

const isLoopback = (url: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

function oidcConfig(e: Env): OidcConfig | undefined {
  const { PATHWAY_OIDC_ISSUER: issuer, PATHWAY_OIDC_CLIENT_ID: clientId } = e;
  if (!issuer && !clientId && !e.PATHWAY_OIDC_CLIENT_SECRET && !e.PATHWAY_OIDC_REDIRECT_URL) return undefined;
  if (!issuer || !clientId) throw new ConfigError('invalid settings: PATHWAY_OIDC_ISSUER and PATHWAY_OIDC_CLIENT_ID go together');
  const redirectUrl = e.PATHWAY_OIDC_REDIRECT_URL ?? (e.PATHWAY_PUBLIC_URL ? new URL('/auth/callback', e.PATHWAY_PUBLIC_URL).href : undefined);
  if (!redirectUrl) throw new ConfigError('invalid settings: PATHWAY_OIDC_REDIRECT_URL (or PATHWAY_PUBLIC_URL) is needed with PATHWAY_OIDC_ISSUER');
  // Plain http only on loopback (a provider on the same machine, as in the tests).
  for (const [name, value] of [['PATHWAY_OIDC_ISSUER', issuer], ['PATHWAY_OIDC_REDIRECT_URL', redirectUrl]] as const) {
    const url = new URL(value);
    if (url.protocol !== 'https:' && !isLoopback(url)) throw new ConfigError(`invalid settings: ${name}: https, or http on loopback only`);
  }
  return {
    issuer,
    clientId,
    clientSecret: e.PATHWAY_OIDC_CLIENT_SECRET,
    redirectUrl,
    scope: e.PATHWAY_OIDC_SCOPE,
    claims: { username: e.PATHWAY_OIDC_USERNAME_CLAIM, role: e.PATHWAY_OIDC_ROLE_CLAIM, careTeams: e.PATHWAY_OIDC_CARE_TEAMS_CLAIM },
  };
}

function patientSettings(e: Env): Config['patients'] {
  const production = e.PATHWAY_ENV === 'production';
  const channel = e.PATHWAY_PATIENT_CHANNEL ?? (production ? 'none' : 'outbox');
  if (channel === 'outbox' && production) throw new ConfigError('invalid settings: PATHWAY_PATIENT_CHANNEL=outbox is for the embedded default only; choose webhook, email or none');
  if (production && channel !== 'none' && !e.PATHWAY_PUBLIC_URL) throw new ConfigError('invalid settings: PATHWAY_PUBLIC_URL is needed for the links sent to patients (PATHWAY_PATIENT_CHANNEL)');
  if (channel === 'webhook' && !e.PATHWAY_PATIENT_WEBHOOK) throw new ConfigError('invalid settings: PATHWAY_PATIENT_WEBHOOK is needed with PATHWAY_PATIENT_CHANNEL=webhook');
  if (channel === 'email' && (!e.PATHWAY_PATIENT_SMTP_URL || !e.PATHWAY_PATIENT_EMAIL_FROM)) {
    throw new ConfigError('invalid settings: PATHWAY_PATIENT_SMTP_URL and PATHWAY_PATIENT_EMAIL_FROM are needed with PATHWAY_PATIENT_CHANNEL=email');
  }
  return { channel, webhook: e.PATHWAY_PATIENT_WEBHOOK, smtpUrl: e.PATHWAY_PATIENT_SMTP_URL, emailFrom: e.PATHWAY_PATIENT_EMAIL_FROM, questionnairesDir: e.PATHWAY_QUESTIONNAIRES_DIR };
}

/** The variables the service reads: docker-compose.yml and docs/operations.md are tested against this list. */
export const ENV_VARIABLES = Object.keys(EnvSchema.shape);

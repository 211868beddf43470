/**
 * The Docker stack stays consistent with the code: docker-compose.yml sets only settings the
 * service reads, wires both roles to the same Temporal namespace and task queue, refuses to
 * start the API without its secrets, runs two replicas of each role with the API behind a load
 * balancer whose configuration reaches it, and the image runs the service. No Docker engine needed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARIABLES, loadConfig } from '../../config';
import { TEMPORAL_SERVER_VERSION } from '../../temporal/servers';

const root = path.join(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | number | { target: number; published?: string | number; host_ip?: string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  deploy?: { replicas?: number };
  expose?: string[];
  volumes?: Array<string | { source?: string; target: string }>;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(read('docker-compose.yml')) as Compose;
const services = compose.services ?? {};
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};

/** A service's environment as written (before interpolation), from either compose syntax. */
function environment(s: Service): Record<string, string> {
  const env = s.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const i = entry.indexOf('=');
        return i < 0 ? [entry, ''] : [entry.slice(0, i), entry.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
function interpolate(value: string, shell: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (match, name: string | undefined, colon: string, op: string, arg: string) => {
    if (match === '$$') return '$';
    const v = shell[name!];
    const missing = colon ? v === undefined || v === '' : v === undefined;
    if (!op || !missing) return v ?? '';
    if (op === '-') return arg;
    throw new Error(`compose refuses to start: ${arg}`);
  });
}

/** The container ports a service publishes, with the host side. */
function publishedPorts(s: Service): Array<{ host?: string; container: number }> {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') return { host: p.published === undefined ? undefined : String(p.published), container: Number(p.target) };
    const parts = String(p).split('/')[0]!.split(':');
    const container = Number(parts.at(-1));
    return { host: parts.length > 1 ? parts.at(-2) : undefined, container };
  });
}

function dependsOn(s: Service): Record<string, string> {
  const d = s.depends_on ?? {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([name, v]) => [name, v?.condition ?? 'service_started']));
}

const hasHealthcheck = (s: Service) => {
  const test = s.healthcheck?.test;
  if (!test || s.healthcheck?.disable) return false;
  const words = Array.isArray(test) ? test : [test];
  return words.length > 0 && words[0] !== 'NONE' && words.join(' ').trim() !== '';
};
const healthcheckText = (s: Service) => {
  const test = s.healthcheck?.test ?? [];
  return Array.isArray(test) ? test.join(' ') : test;
};

const PATHWAY_SERVICES = ['worker', 'api'] as const;
const TEMPORAL_PORT = 7233;

describe('docker-compose.yml', () => {
  it('has the stack: PostgreSQL, Temporal, its UI, the worker, the API and its load balancer', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'worker', 'api', 'load-balancer']));
  });

  it('pins every image to a version, Temporal to 1.29.x', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build !== undefined) continue;
      expect(s.image, `${name} has an image`).toBeTruthy();
      const tag = /:([^/:@]+)(@sha256:[0-9a-f]{64})?$/.exec(s.image!)?.[1];
      expect(tag, `${name} image ${s.image} has a tag`).toBeTruthy();
      expect(tag, `${name} image ${s.image} is pinned`).not.toBe('latest');
    }
    expect(service('temporal').image).toMatch(/^temporalio\/auto-setup:1\.29\.\d+(@sha256:[0-9a-f]{64})?$/);
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+/);
    expect(service('postgresql').image).toMatch(/^postgres:16(\b|$)/);
  });

  it('runs the Temporal server version the test suite runs as its production-like server', () => {
    expect(service('temporal').image).toBe(`temporalio/auto-setup:${TEMPORAL_SERVER_VERSION.replace(/^v/, '')}`);
  });

  it('wires the Web UI to the API\'s codec endpoint, and the API\'s CORS to the UI\'s origin', () => {
    const ui = environment(service('temporal-ui'));
    const apiPort = publishedPorts(service('load-balancer'))[0]!;
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toBe(`http://127.0.0.1:${apiPort.host}/codec`);
    const uiPort = publishedPorts(service('temporal-ui'))[0]!;
    const origins = loadConfig({ PATHWAY_WEB_UI_ORIGINS: environment(service('api')).PATHWAY_WEB_UI_ORIGINS }).webUiOrigins;
    expect(origins).toContain(`http://127.0.0.1:${uiPort.host}`);
  });

  it('keeps the metrics ports inside the network: exposed, never published', () => {
    for (const name of PATHWAY_SERVICES) {
      const port = loadConfig({ PATHWAY_METRICS_PORT: environment(service(name)).PATHWAY_METRICS_PORT }).metrics.port;
      expect(port, name).toBe(9464);
      expect(publishedPorts(service(name)).map((p) => p.container), name).not.toContain(port);
      expect((service(name) as { expose?: string[] }).expose, name).toContain(String(port));
    }
  });

  it('wires Temporal to PostgreSQL through the auto-setup variables', () => {
    const env = environment(service('temporal'));
    expect(env.DB).toBe('postgres12');
    expect(env.POSTGRES_SEEDS).toBe('postgresql');
    expect(env.DB_PORT).toBe('5432');
    const pg = environment(service('postgresql'));
    expect(env.POSTGRES_USER).toBe(pg.POSTGRES_USER);
    expect(env.POSTGRES_PWD).toBe(pg.POSTGRES_PASSWORD);
  });

  it('keeps PostgreSQL data in a named volume', () => {
    const volumes = (service('postgresql') as { volumes?: Array<string | { source?: string; target: string }> }).volumes ?? [];
    const data = volumes
      .map((v) => (typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v))
      .find((v) => v.target === '/var/lib/postgresql/data');
    expect(data, 'a volume on /var/lib/postgresql/data').toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(data!.source);
  });

  it('gives every service a healthcheck except the UI and the worker', () => {
    const without = Object.entries(services)
      .filter(([name, s]) => !['temporal-ui', 'worker'].includes(name) && !hasHealthcheck(s))
      .map(([name]) => name);
    expect(without).toEqual([]);
    expect(healthcheckText(service('postgresql'))).toMatch(/pg_isready/);
    expect(healthcheckText(service('temporal'))).toMatch(/(temporal operator cluster health|tctl .*cluster health)/);
  });

  it('has depends_on conditions that reference existing services, healthy ones with a healthcheck', () => {
    const valid = ['service_started', 'service_healthy', 'service_completed_successfully'];
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, condition] of Object.entries(dependsOn(s))) {
        expect(Object.keys(services), `${name} depends on ${dep}`).toContain(dep);
        expect(valid, `${name} -> ${dep} condition`).toContain(condition);
        if (condition === 'service_healthy') expect(hasHealthcheck(services[dep]!), `${dep} needs a healthcheck for ${name}`).toBe(true);
      }
    }
    expect(dependsOn(service('temporal')).postgresql).toBe('service_healthy');
    for (const name of [...PATHWAY_SERVICES, 'temporal-ui']) expect(dependsOn(service(name)).temporal, name).toBe('service_healthy');
  });

  it('builds the service image from this repository for both roles', () => {
    for (const name of PATHWAY_SERVICES) {
      const build = service(name).build;
      const context = typeof build === 'string' ? build : (build as { context?: string } | undefined)?.context;
      expect(context && path.resolve(root, context), name).toBe(root);
    }
  });

  it('sets only environment variables the service reads', () => {
    for (const name of PATHWAY_SERVICES) {
      const unknown = Object.keys(environment(service(name))).filter((key) => !ENV_VARIABLES.includes(key));
      expect(unknown, `${name} sets variables config/index.ts does not read`).toEqual([]);
    }
  });

  it('runs one role per container', () => {
    expect(environment(service('worker')).PATHWAY_ROLE).toBe('worker');
    expect(environment(service('api')).PATHWAY_ROLE).toBe('api');
  });

  it('points both roles at the temporal service, one namespace and one task queue', () => {
    const temporalEnv = (name: string) => {
      const env = environment(service(name));
      return { address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE ?? '', queue: env.TEMPORAL_TASK_QUEUE ?? '' };
    };
    for (const name of PATHWAY_SERVICES) {
      // Without TEMPORAL_ADDRESS the service would start its own embedded dev server.
      expect(temporalEnv(name).address, name).toBe(`temporal:${TEMPORAL_PORT}`);
    }
    // A task queue the worker does not poll would leave every pathway the API starts waiting forever.
    expect(temporalEnv('api').namespace).toBe(temporalEnv('worker').namespace);
    expect(temporalEnv('api').queue).toBe(temporalEnv('worker').queue);
    // The frontend listens on 7233 in its container unless told otherwise; what it publishes is its own.
    const temporal = service('temporal');
    expect(environment(temporal).FRONTEND_GRPC_PORT ?? String(TEMPORAL_PORT)).toBe(String(TEMPORAL_PORT));
    const published = publishedPorts(temporal).map((p) => p.container);
    if (published.length > 0) expect(published).toContain(TEMPORAL_PORT);
    expect(healthcheckText(temporal)).toContain(`temporal:${TEMPORAL_PORT}`);
    expect(environment(service('temporal-ui')).TEMPORAL_ADDRESS).toBe(`temporal:${TEMPORAL_PORT}`);
  });

  it('runs the API in production, refusing to start without its secrets', () => {
    const env = environment(service('api'));
    expect(env.PATHWAY_ENV).toBe('production');
    for (const name of ['PATHWAY_PATIENT_KEY', 'PATHWAY_API_KEYS', 'PATHWAY_PAYLOAD_KEY']) {
      expect(env[name], name).toMatch(new RegExp(`^\\$\\{${name}:\\?[^}]+\\}$`));
      expect(() => interpolate(env[name]!, {}), `${name} unset`).toThrow(/compose refuses to start/);
      expect(() => interpolate(env[name]!, { [name]: '' }), `${name} empty`).toThrow(/compose refuses to start/);
    }
  });

  it('gives each role settings the service accepts once the user supplies the secrets', () => {
    const shell = { PATHWAY_PATIENT_KEY: 'k'.repeat(40), PATHWAY_API_KEYS: '[]', PATHWAY_PAYLOAD_KEY: 'ab'.repeat(32), PATHWAY_DB_PASSWORD: 'record-password' };
    for (const name of PATHWAY_SERVICES) {
      const env = Object.fromEntries(Object.entries(environment(service(name))).map(([k, v]) => [k, interpolate(v, shell)]));
      const config = loadConfig(env);
      expect(config.role).toBe(name);
      expect(config.temporal.address).toBe(`temporal:${TEMPORAL_PORT}`);
      // Both roles read and write payloads, so both encrypt with the same key.
      expect(config.payloadKey).toBe(shell.PATHWAY_PAYLOAD_KEY);
      // Both keep the record in the same PostgreSQL database, as the service's own user.
      expect(config.record.databaseUrl).toBe('postgres://pathway:record-password@postgresql:5432/pathway');
      if (name === 'api') {
        expect(config.production).toBe(true);
        expect(config.patientKey).toBe(shell.PATHWAY_PATIENT_KEY);
        // Listening on the loopback interface would be unreachable from outside the container.
        expect(config.http.host).toBe('0.0.0.0');
      }
    }
  });

  it('checks /readyz on the port the API listens on', () => {
    const api = service('api');
    const port = loadConfig({ PORT: environment(api).PORT }).http.port;
    expect(api.expose).toContain(String(port));
    const check = healthcheckText(api);
    expect(check).toContain(`http://127.0.0.1:${port}/readyz`);
    // The slim Node image has neither curl nor wget.
    expect(check).not.toMatch(/\b(curl|wget)\b/);
    expect(check).toMatch(/\bnode\b/);
  });
});

describe('the replicated topology', () => {
  const nginxConfMount = (service('load-balancer').volumes ?? [])
    .map((v) => (typeof v === 'string' ? { source: v.split(':')[0]!, target: v.split(':')[1]! } : { source: v.source ?? '', target: v.target }))
    .find((v) => v.target.startsWith('/etc/nginx/'));
  const nginxConf = nginxConfMount ? read(nginxConfMount.source).replace(/#.*$/gm, '') : '';
  const directive = (name: string) => new RegExp(`^\\s*${name}\\s+([^;]+);`, 'm').exec(nginxConf)?.[1]?.trim();

  it('runs two or more replicas of each role', () => {
    for (const name of PATHWAY_SERVICES) expect(service(name).deploy?.replicas, name).toBeGreaterThanOrEqual(2);
  });

  it('leaves each replica its own instance name (host and process id), never one shared by all', () => {
    for (const name of PATHWAY_SERVICES) expect(environment(service(name)).PATHWAY_INSTANCE, name).toBeUndefined();
  });

  it('publishes the API only through the load balancer, an official nginx image with its configuration from docker/', () => {
    expect(publishedPorts(service('api'))).toEqual([]);
    expect(service('load-balancer').image).toMatch(/^nginx:\d+\.\d+\.\d+/);
    expect(nginxConfMount?.source, 'the configuration is mounted from the repository').toMatch(/^\.\/docker\//);
    expect(existsSync(path.join(root, nginxConfMount!.source))).toBe(true);
    expect(nginxConfMount!.target).toMatch(/^\/etc\/nginx\/conf\.d\/[^/]+\.conf$/);
  });

  it('listens on the port it publishes and sends every request round-robin to the API service, on the port the API listens on', () => {
    const listen = Number(directive('listen'));
    const published = publishedPorts(service('load-balancer'));
    expect(published.map((p) => p.container)).toEqual([listen]);
    expect(published[0]!.host).toMatch(/^127\.0\.0\.1:|^\d+$/);
    const apiPort = loadConfig({ PORT: environment(service('api')).PORT }).http.port;
    const upstream = /upstream\s+(\S+)\s*\{([^}]*)\}/.exec(nginxConf);
    expect(upstream, 'an upstream block').not.toBeNull();
    // No other balancing method: round-robin, nginx's default.
    expect(upstream![2]).not.toMatch(/\b(ip_hash|hash|least_conn|random)\b/);
    expect(upstream![2]).toMatch(new RegExp(`server\\s+api:${apiPort}\\s+resolve\\b`));
    // `resolve` needs a resolver: Docker's own, so replicas that come and go are found.
    expect(directive('resolver')).toMatch(/^127\.0\.0\.11\b/);
    expect(directive('proxy_pass')).toBe(`http://${upstream![1]}`);
    // nginx never resends a POST that reached a replica; the client's Idempotency-Key retry does.
    expect(directive('proxy_next_upstream')).not.toContain('non_idempotent');
  });

  it('makes the API believe exactly the load balancer for the client address', () => {
    expect(loadConfig({ HTTP_TRUST_PROXY: environment(service('api')).HTTP_TRUST_PROXY }).http.trustProxy).toBe(1);
    expect(directive('proxy_set_header X-Forwarded-For')).toBe('$proxy_add_x_forwarded_for');
  });

  it('checks the load balancer through to a replica', () => {
    expect(healthcheckText(service('load-balancer'))).toContain(`http://127.0.0.1:${directive('listen')}/healthz`);
  });
});

describe('Dockerfile', () => {
  const lines = read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const instructions = lines.map((l) => {
    const [word, ...rest] = l.split(/\s+/);
    return { op: word!.toUpperCase(), args: rest.join(' ') };
  });
  /** CMD/ENTRYPOINT in exec (JSON) or shell form, as words. */
  const words = (args: string): string[] => (args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/));
  const last = (op: string) => instructions.filter((i) => i.op === op).at(-1);

  it('builds on Node 20 (bookworm slim)', () => {
    expect(instructions.filter((i) => i.op === 'FROM').at(-1)?.args).toMatch(/^node:20[.\d]*-bookworm-slim(@sha256:[0-9a-f]{64})?(\s|$)/);
  });

  it('installs the locked dependencies before copying the source', () => {
    const copyLock = instructions.findIndex((i) => i.op === 'COPY' && i.args.includes('package-lock.json'));
    const ci = instructions.findIndex((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
    expect(copyLock).toBeGreaterThanOrEqual(0);
    expect(ci).toBeGreaterThan(copyLock);
    // tsx runs the service: it must survive an install that leaves out dev dependencies.
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toContain('tsx');
  });

  it('runs server/main.ts through tsx', () => {
    const entry = [...words(last('ENTRYPOINT')?.args ?? ''), ...words(last('CMD')?.args ?? '')].filter(Boolean);
    expect(entry).toContain('tsx');
    expect(entry.at(-1)).toBe('server/main.ts');
    expect(existsSync(path.join(root, entry.at(-1)!))).toBe(true);
  });

  it('runs as a user other than root', () => {
    const user = last('USER')?.args;
    expect(user).toBeTruthy();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });
});

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.replace(/^\/+|\/+$/g, ''));

  it('keeps host dependencies and local data out of the image', () => {
    expect(patterns).toContain('node_modules');
    // .data holds the embedded default's patient key and Temporal database.
    expect(patterns).toContain('.data');
    expect(patterns).toContain('.git');
  });

  it('keeps what the image needs to install and run the service', () => {
    const needed = ['package.json', 'package-lock.json', 'tsconfig.json', 'worker', 'workflows', 'activities', 'api', 'clinical'];
    expect(patterns.filter((p) => needed.includes(p) || p === '*' || p === '**')).toEqual([]);
  });
});

/**
 * Hostile input through real HTTP, against the dev server with the worker running: query
 * injection, scoping of conflicts, rate limits, headers, the order of checks, methods, values
 * never echoed, 500s logged with their causes, and every answer given is one the OpenAPI
 * document lists for its operation.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../api/app';
import { openApiDocument } from '../../api/openapi';
import { PathwayService } from '../../api/pathways-service';
import { loadDefinitions } from '../../clinical/registry';
import { CapturingLogger, KEYS, http, listen, startApi, testKeyStore, type ApiUnderTest } from '../harness/api';
import { eventually } from '../harness/pathway-driver';
import { freshRecordStore } from '../harness/record-store';
import type { RateLimits } from '../../config';
import type { RecordStore } from '../../record/store';

let api: ApiUnderTest;
let call: ReturnType<typeof http>;
const servers: Server[] = [];
const stores: RecordStore[] = [];
/** Every answer of every app in this file: each must be documented for its operation. */
const loggers: CapturingLogger[] = [];

const ref = () => `ref-${randomUUID()}`;
const enrollBody = (overrides: Record<string, unknown> = {}) => ({ patientRef: ref(), careTeam: 'team-a', baseline: { painNrs: 8, odi: 40 }, ...overrides });

/** Another app on the same Temporal and worker, with its own settings, over real HTTP. */
async function otherApp(deps: Partial<AppDeps>): Promise<ReturnType<typeof http>> {
  const logger = new CapturingLogger();
  loggers.push(logger);
  const server = await listen(
    createApp({
      pathways: api.service,
      definitions: loadDefinitions(),
      apiKeys: testKeyStore(),
      logger,
      isTemporalReachable: async () => true,
      record: api.record,
      ...deps,
    }),
  );
  servers.push(server);
  return http({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

beforeAll(async () => {
  api = await startApi();
  loggers.push(api.logger);
  call = http(api);
});

afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
  await api?.stop();
  for (const s of stores) await s.close();
});

describe('query values reach Temporal only validated and escaped', () => {
  const hostile = ["a'", "nosuch' OR PathwayCareTeam != 'x", 'team-a\u0000', 'Team-A', '-leading-dash', 'x'.repeat(64), "team-a' ORDER BY StartTime"];

  for (const [path, extra] of [
    ['/v1/pathways', ''],
    ['/v1/pathways/summary', ''],
    ['/v1/worklist', '&dueSoonDays=7'],
  ] as const) {
    it(`refuses a careTeam outside the care-team pattern on ${path} with 400 naming the field`, async () => {
      for (const value of hostile) {
        const res = await call('GET', `${path}?careTeam=${encodeURIComponent(value)}${extra}`, { as: 'viewer' });
        expect(res.status, value).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['careTeam']);
      }
    });
  }

  it('lists no other team through an injected filter, for an unscoped key either', async () => {
    const mine = (await call('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody({ careTeam: `inj-${randomUUID().slice(0, 8)}` }) })).body.pathway;
    await eventually(
      () => call('GET', `/v1/pathways?careTeam=${mine.careTeam}`, { as: 'viewer' }),
      (r) => r.body.items.length === 1,
    );
    const injected = await call('GET', `/v1/pathways?careTeam=${encodeURIComponent(`${mine.careTeam}' OR PathwayCareTeam != 'x`)}`, { as: 'viewer' });
    expect(injected.status).toBe(400);
  });

  it('refuses other filter values to their patterns', async () => {
    for (const q of ['stage=x%27', 'status=active%27%20OR%201%3D1', 'dueBefore=2027-01-01%27', 'overdue=yes', 'pageSize=', 'pageSize=2.5', 'pageSize=-1', 'pageToken=%27%20OR%20x']) {
      const res = await call('GET', `/v1/pathways?${q}`, { as: 'viewer' });
      expect(res.status, q).toBe(400);
      expect(res.body.errors[0].field).toBe(q.split('=')[0]);
    }
  });

  it('answers an empty dueSoonDays= with 400, not as 0', async () => {
    for (const q of ['dueSoonDays=', 'dueSoonDays=%20', 'dueSoonDays=1e1', 'dueSoonDays=61']) {
      const res = await call('GET', `/v1/worklist?${q}`, { as: 'viewer' });
      expect(res.status, q).toBe(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['dueSoonDays']);
    }
    expect((await call('GET', '/v1/worklist?dueSoonDays=0', { as: 'viewer' })).status).toBe(200);
  });
});

describe('scoping', () => {
  it("answers an enrolment of another team's patient as out of scope, naming nothing", async () => {
    const body = enrollBody({ careTeam: 'team-b' });
    const theirs = await call('POST', '/v1/pathways', { as: 'coordinator', body });
    expect(theirs.status).toBe(201);
    const id = theirs.body.pathway.pathwayId as string;

    const attempt = await call('POST', '/v1/pathways', { as: 'teamACoordinator', body: { ...body, careTeam: 'team-a' } });
    expect(attempt.status).toBe(403);
    // The same answer as enrolling for a team the key may not act for.
    const outOfScope = await call('POST', '/v1/pathways', { as: 'teamACoordinator', body: enrollBody({ careTeam: 'team-b' }) });
    expect(attempt.body).toEqual(outOfScope.body);
    expect(JSON.stringify(attempt.body)).not.toContain(id);
    expect(JSON.stringify(attempt.body)).not.toContain('team-b');
    expect((await call('POST', '/v1/pathways/lookup', { as: 'teamAViewer', body: { patientRef: body.patientRef } })).status).toBe(404);

    // Within scope, the conflict still names the pathway.
    const ours = enrollBody({ careTeam: 'team-a' });
    const first = await call('POST', '/v1/pathways', { as: 'teamACoordinator', body: ours });
    const again = await call('POST', '/v1/pathways', { as: 'teamACoordinator', body: ours });
    expect(again.status).toBe(409);
    expect(again.body.pathwayId).toBe(first.body.pathway.pathwayId);
  });
});

/** An app whose rate limits count in a database of its own: in the suite's, every app here shares one budget a key. */
async function limitedApp(rateLimits: RateLimits): Promise<ReturnType<typeof http>> {
  const store = await freshRecordStore('postgresql');
  stores.push(store);
  return otherApp({ rateLimits, record: { ...api.record, store } });
}

describe('rate limits', () => {
  it('limits failed authentication per client address with 429 and Retry-After, never a valid key', async () => {
    const limited = await limitedApp({ windowSeconds: 60, perKey: 1000, authFailures: 3 });
    for (let i = 0; i < 3; i++) {
      // A forged X-Forwarded-For is not believed without a trusted proxy: each guess counts for this address.
      const res = await limited('GET', '/v1/pathways', { as: null, headers: { authorization: `Bearer wrong-key-${i}-xxxxxxxx`, 'x-forwarded-for': `10.0.0.${i}` } });
      expect(res.status).toBe(401);
    }
    const blocked = await limited('GET', '/v1/pathways', { as: null, headers: { authorization: 'Bearer wrong-key-again-xxxx', 'x-forwarded-for': '10.9.9.9' } });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await limited('GET', '/v1/pathways', { as: null })).status).toBe(429);
    expect((await limited('GET', '/v1/definitions', { as: 'viewer' })).status).toBe(200);
  });

  it('limits requests per key with 429 and Retry-After; other keys go on', async () => {
    const limited = await limitedApp({ windowSeconds: 60, perKey: 4, authFailures: 100 });
    for (let i = 0; i < 4; i++) expect((await limited('GET', '/v1/definitions', { as: 'viewer' })).status).toBe(200);
    const blocked = await limited('GET', '/v1/definitions', { as: 'viewer' });
    expect(blocked.status).toBe(429);
    expect(blocked.body).toMatchObject({ status: 429, title: 'Too many requests' });
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await limited('GET', '/v1/definitions', { as: 'clinician' })).status).toBe(200);
  });
});

describe('headers', () => {
  it('marks every /v1 answer no-store, without ETag or 304, with nosniff and no framing', async () => {
    const p = (await call('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody() })).body.pathway;
    for (const [method, path, as] of [
      ['GET', `/v1/pathways/${p.pathwayId}`, 'viewer'],
      ['GET', '/v1/pathways?pageSize=5', 'viewer'],
      ['GET', '/v1/worklist', 'viewer'],
      ['GET', `/v1/pathways/pw-${'0'.repeat(32)}`, 'viewer'],
      ['GET', '/v1/pathways', null],
    ] as const) {
      const res = await call(method, path, { as });
      expect(res.headers.get('cache-control'), path).toBe('no-store');
      expect(res.headers.get('etag'), path).toBeNull();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
    const again = await call('GET', `/v1/pathways/${p.pathwayId}`, { as: 'viewer', headers: { 'if-none-match': '*' } });
    expect(again.status).toBe(200);
  });
});

describe('the order of checks', () => {
  it('authenticates before reading a body: 401 first, whatever the body', async () => {
    const bodies = [
      { headers: { 'content-type': 'application/json' }, rawBody: '{"patientRef": ' },
      { headers: { 'content-type': 'text/plain' }, rawBody: 'hello' },
      { headers: { 'content-type': 'application/json' }, rawBody: JSON.stringify({ filler: 'x'.repeat(200_000) }) },
    ];
    for (const b of bodies) {
      const res = await call('POST', '/v1/pathways', { as: null, ...b });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    }
    for (const b of bodies) {
      const res = await call('POST', '/v1/pathways', { as: null, ...b, headers: { ...b.headers, authorization: 'Bearer not-a-key-at-all' } });
      expect(res.status).toBe(401);
    }
  });

  it('accepts the Bearer scheme in any case', async () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const res = await call('GET', '/v1/definitions', { as: null, headers: { authorization: `${scheme} ${KEYS.viewer!.key}` } });
      expect(res.status, scheme).toBe(200);
    }
    expect((await call('GET', '/v1/definitions', { as: null, headers: { authorization: `Basic ${KEYS.viewer!.key}` } })).status).toBe(401);
  });

  it('answers a method a path does not have with 405 and Allow, before its body is read', async () => {
    const doc = openApiDocument();
    const cases = [
      ['PUT', '/v1/pathways/summary', 'GET, HEAD, OPTIONS'],
      ['DELETE', `/v1/pathways/pw-${'1'.repeat(32)}`, 'GET, HEAD, OPTIONS'],
      ['GET', '/v1/pathways/lookup', 'POST, OPTIONS'],
      ['GET', `/v1/pathways/pw-${'1'.repeat(32)}/reassessments`, 'POST, OPTIONS'],
      ['PATCH', '/v1/pathways', 'GET, POST, HEAD, OPTIONS'],
      ['POST', '/v1/worklist', 'GET, HEAD, OPTIONS'],
      ['POST', '/readyz', 'GET, HEAD, OPTIONS'],
    ] as const;
    for (const [method, path, allow] of cases) {
      const body = method === 'GET' ? {} : { headers: { 'content-type': 'text/plain' }, rawBody: 'not json' };
      const res = await call(method, path, { as: 'clinician', ...body });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    // Allow agrees with the OpenAPI document.
    expect(Object.keys(doc.paths['/v1/pathways/summary']!)).toEqual(['get']);
  });

  it('answers OPTIONS with the methods the path has, without a key', async () => {
    const res = await call('OPTIONS', '/v1/pathways', { as: null });
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const change = await call('OPTIONS', `/v1/pathways/pw-${'2'.repeat(32)}/actions`, { as: null });
    expect(change.headers.get('allow')).toBe('POST, OPTIONS');
    expect((await call('OPTIONS', '/v1/nothing-here', { as: 'viewer' })).status).toBe(404);
  });
});

describe('values are never echoed', () => {
  it('names fields and constraints, never what was sent', async () => {
    const secret = 'SECRET-4711-Jane-Doe';
    const p = (await call('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody() })).body.pathway;
    const answers = [
      await call('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody({ definition: { id: secret } }) }),
      await call('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody({ careTeam: secret }) }),
      await call('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody({ patientRef: `${secret}<script>` }) }),
      await call('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody({ baseline: { painNrs: secret } }) }),
      await call('POST', `/v1/pathways/${p.pathwayId}/reassessments`, { body: { painNrs: 4, notes: secret } }),
      await call('POST', `/v1/pathways/${p.pathwayId}/actions`, { body: { action: secret, reason: 'r' } }),
      await call('POST', `/v1/pathways/${p.pathwayId}/procedures`, { as: 'coordinator', body: { type: secret } }),
      await call('GET', `/v1/pathways?careTeam=${secret}`, { as: 'viewer' }),
      await call('GET', `/v1/pathways?stage=${secret}`, { as: 'viewer' }),
      await call('GET', `/v1/pathways/${secret}`, { as: 'viewer' }),
      await call('GET', `/v1/definitions/${secret}/1`, { as: 'viewer' }),
      await call('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody(), headers: { 'idempotency-key': `${secret}!` } }),
    ];
    for (const res of answers) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(JSON.stringify(res.body)).not.toContain('SECRET');
    }
    expect(answers[0]!.body.errors[0].field).toBe('definition');
    expect(JSON.stringify(api.logger.lines)).not.toContain('SECRET');
  });
});

describe('unexpected errors', () => {
  it('logs a 500 with its cause chain, the request id and the full route, and no request data', async () => {
    // A real misconfiguration: a namespace that does not exist on the server.
    const client = new Client({ connection: api.env.connection, namespace: `missing-${randomUUID()}` });
    const logger = new CapturingLogger();
    const broken = await otherApp({
      pathways: new PathwayService({ client, taskQueue: api.taskQueue, definitions: loadDefinitions(), patientKey: 'k'.repeat(64), record: api.record }),
      logger,
    });
    const patientRef = 'ref-LOG-500-check';
    const res = await broken('POST', '/v1/pathways', { as: 'coordinator', body: enrollBody({ patientRef }), headers: { 'x-request-id': 'req-500-check' } });
    expect(res.status).toBe(500);
    expect(res.body.detail).not.toMatch(/namespace/i);
    const line = logger.lines.find((l) => l.msg === 'unexpected error');
    expect(line).toMatchObject({ level: 'error', requestId: 'req-500-check', method: 'POST', route: '/v1/pathways' });
    expect(String(line!.error)).toMatch(/Namespace/);
    expect(logger.lines.find((l) => l.msg === 'http request')).toMatchObject({ route: '/v1/pathways', status: 500 });
    expect(JSON.stringify(logger.lines)).not.toContain(patientRef);
  });
});

describe('the OpenAPI document', () => {
  it('lists every answer this suite was given, for its operation', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const undocumented = new Set<string>();
    for (const logger of loggers) {
      for (const l of logger.lines) {
        if (l.msg !== 'http request' || !String(l.route).startsWith('/')) continue;
        const method = String(l.method).toLowerCase();
        const operation = doc.paths[String(l.route)]?.[method === 'head' ? 'get' : method];
        // A method the path does not have (405) and OPTIONS are answered for the path as a whole.
        if (!operation) {
          expect([204, 401, 405]).toContain(l.status);
          continue;
        }
        if (!(String(l.status) in operation.responses)) undocumented.add(`${l.method} ${l.route} ${l.status}`);
      }
    }
    expect([...undocumented]).toEqual([]);
  });

  it('documents 401, 429 and 503 with Retry-After on every /v1 operation, and bodies answers on every change', () => {
    const doc = openApiDocument() as { paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }>; requestBody?: unknown }>> };
    for (const [path, operations] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1')) continue;
      for (const [method, op] of Object.entries(operations)) {
        for (const status of ['401', '403', '429', '503']) expect(op.responses, `${method} ${path} ${status}`).toHaveProperty([status]);
        expect(op.responses['503']!.headers).toHaveProperty(['Retry-After']);
        expect(op.responses['429']!.headers).toHaveProperty(['Retry-After']);
        if (op.requestBody) for (const status of ['400', '413', '415']) expect(op.responses, `${method} ${path} ${status}`).toHaveProperty([status]);
      }
    }
  });
});

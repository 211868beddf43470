/**
 * Rate limits shared by API processes: two API processes on one PostgreSQL record store count one
 * API key's requests, and one address's failed authentications, against one budget, so a client
 * behind a round-robin load balancer gets the limit once, not once a process.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../harness/postgres-server';
import { ServiceProcess, freePort } from '../harness/service-process';

const PER_KEY = 6;
const AUTH_FAILURES = 4;

describe('rate limits across two API processes', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pathway-rate-limits-'));
  const apis: Array<{ process: ServiceProcess; url: string }> = [];

  beforeAll(async () => {
    const databaseUrl = await createDatabase(inject('postgresUrl'), `rate_limits_${randomBytes(6).toString('hex')}`);
    // One after the other: the first makes the shared data folder's local keys.
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const api = ServiceProcess.start({
        PATHWAY_ROLE: 'api',
        PATHWAY_ENV: 'development',
        PATHWAY_DATA_DIR: dir,
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: inject('devServerAddress'),
        TEMPORAL_TASK_QUEUE: `rate-limits-${randomUUID()}`,
        HTTP_HOST: '127.0.0.1',
        PORT: String(port),
        PATHWAY_RATE_LIMIT_PER_KEY: String(PER_KEY),
        PATHWAY_RATE_LIMIT_AUTH_FAILURES: String(AUTH_FAILURES),
        PATHWAY_RATE_LIMIT_WINDOW_SECONDS: '600',
      });
      apis.push({ process: api, url: `http://127.0.0.1:${port}` });
      await api.waitFor((l) => l.msg === 'pathway service ready');
    }
  });

  afterAll(() => {
    for (const api of apis) api.process.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (n: number, key: string) => {
    const res = await fetch(`${apis[n % 2]!.url}/v1/definitions`, { headers: { authorization: `Bearer ${key}` } });
    await res.text();
    const remaining = /remaining=(\d+)/.exec(res.headers.get('ratelimit') ?? '')?.[1];
    return { status: res.status, remaining: remaining === undefined ? undefined : Number(remaining), retryAfter: res.headers.get('retry-after') };
  };

  it("counts one API key's requests once, whichever process answers", async () => {
    const answers = [];
    for (let n = 0; n < PER_KEY; n++) answers.push(await get(n, 'local-coordinator-key'));
    expect(answers.map((a) => a.status)).toEqual(Array(PER_KEY).fill(200));
    // Each answer, from either process, says what is left of the one budget.
    expect(answers.map((a) => a.remaining)).toEqual(Array.from({ length: PER_KEY }, (_, n) => PER_KEY - n - 1));
    for (let n = 0; n < 2; n++) {
      const refused = await get(n, 'local-coordinator-key');
      expect(refused.status, `process ${n} refuses once the budget is spent`).toBe(429);
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    }
    // Another key has a budget of its own.
    expect((await get(0, 'local-clinician-key')).status).toBe(200);
    expect((await get(1, 'local-clinician-key')).status).toBe(200);
  });

  it("counts one address's failed authentications once, whichever process answers", async () => {
    for (let n = 0; n < AUTH_FAILURES; n++) expect((await get(n, `guess-${n}`)).status).toBe(401);
    expect((await get(0, 'guess-again')).status).toBe(429);
    expect((await get(1, 'guess-again')).status).toBe(429);
  });
});

/**
 * Start-up an operator can trust: an unreachable Temporal gives a clear line naming the address
 * and retries with backoff; on a fresh namespace of the production-like server, the API started
 * before any worker registers the search attributes itself, and /readyz says a worker is missing
 * until one polls.
 */
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { newApiKey } from '../../api/auth';
import { missingSearchAttributes } from '../../temporal/readiness';
import { PATHWAY_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { eventually } from '../harness/pathway-driver';
import { freePort, ServiceProcess } from '../harness/service-process';
import { createDatabase } from '../harness/postgres-server';

const running: ServiceProcess[] = [];
afterAll(() => running.forEach((s) => s.kill()));

const production = async (extra: Record<string, string>) => ({
  PATHWAY_ENV: 'production',
  // Both roles share the record store, on the run's PostgreSQL.
  DATABASE_URL: await createDatabase(inject('postgresUrl'), `startup_${randomUUID().replace(/-/g, '')}`),
  PATHWAY_PAYLOAD_KEY: 'ab'.repeat(32),
  PATHWAY_PATIENT_KEY: 'k'.repeat(40),
  PORT: String(await freePort()),
  ...extra,
});

describe('start-up', () => {
  it('names the unreachable Temporal address in one line per attempt, and backs off', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const service = ServiceProcess.start(await production({ PATHWAY_ROLE: 'worker', TEMPORAL_ADDRESS: address }));
    running.push(service);
    const first = await service.waitFor((l) => l.level === 'warn' && typeof l.msg === 'string' && l.msg.startsWith('Temporal unreachable'), 60_000);
    expect(first).toMatchObject({ msg: `Temporal unreachable at ${address}; retrying in 1 s`, address, attempt: 1, retryInMs: 1000 });
    const second = await service.waitFor((l) => l.msg === `Temporal unreachable at ${address}; retrying in 2 s`, 60_000);
    expect(second.attempt).toBe(2);
    expect(service.output.filter((l) => l.trim() && !l.startsWith('{'))).toEqual([]);
    // Ctrl-C while waiting: out at once, cleanly.
    expect(await service.interrupt()).toBe(0);
    expect(service.lines.at(-1)).toMatchObject({ msg: 'stopped before start-up completed', signal: 'SIGINT' });
  });

  it('on a fresh namespace, an API started first registers the search attributes, and /readyz waits for a worker', async () => {
    const address = inject('productionTemporalAddress');
    const namespace = `fresh-${randomUUID().slice(0, 8)}`;
    const connection = await Connection.connect({ address });
    try {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
      await eventually(
        () => connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: 'probe' } }).then(() => true, () => false),
        (ok) => ok,
        30_000,
      );
      expect(await missingSearchAttributes(connection, namespace)).toEqual(PATHWAY_SEARCH_ATTRIBUTES.map((k) => k.name));

      const { entry } = newApiKey('ops', 'viewer');
      const env = await production({ PATHWAY_ROLE: 'api', TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, TEMPORAL_TASK_QUEUE: `q-${namespace}`, PATHWAY_API_KEYS: JSON.stringify([entry]) });
      const api = ServiceProcess.start(env);
      running.push(api);
      await api.waitFor((l) => l.msg === 'pathway service ready');
      expect(await missingSearchAttributes(connection, namespace)).toEqual([]);
      const readyz = await fetch(`http://127.0.0.1:${env.PORT}/readyz`);
      expect(readyz.status).toBe(503);
      expect(await readyz.json()).toEqual({ status: 'unavailable', temporal: true, database: true, missing: [`no worker polls task queue q-${namespace}: changes would wait until a worker starts`] });

      const worker = ServiceProcess.start({ ...env, PATHWAY_ROLE: 'worker', PORT: '0' });
      running.push(worker);
      await worker.waitFor((l) => l.msg === 'pathway service ready');
      await eventually(() => fetch(`http://127.0.0.1:${env.PORT}/readyz`).then((r) => r.status), (s) => s === 200, 30_000);
      expect(await worker.interrupt()).toBe(0);
      expect(await api.interrupt()).toBe(0);
      expect([...worker.lines, ...api.lines].filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([]);
    } finally {
      await connection.close();
    }
  });
});

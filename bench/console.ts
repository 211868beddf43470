/**
 * The console's costs: building its assets when the service starts, the bytes a browser loads
 * for each page (first visit; later visits hit the year-long cache), and what a session cookie
 * costs a /v1 request beside a bearer API key.
 *
 *   npm run bench:console
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NoteCipher } from '../record/note-cipher';
import { openRecordStore } from '../record/store';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { createApp } from '../api/app';
import { ApiKeyStore, hashKey } from '../api/auth';
import type { PathwayService } from '../api/pathways-service';
import { loadDefinitions } from '../clinical/registry';
import { createConsole } from '../console';
import { buildConsoleAssets, PAGES } from '../console/assets';
import { silentLogger } from '../observability/log';
import { median } from './stats';


async function buildTimes(): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await buildConsoleAssets();
    times.push(performance.now() - t);
  }
  console.log(`asset build at start-up: median ${median(times).toFixed(0)} ms of 5 (first ${times[0]!.toFixed(0)} ms)`);
}

async function pageWeights(): Promise<void> {
  const assets = await buildConsoleAssets();
  const imports = (url: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(url)) return seen;
    seen.add(url);
    const text = Buffer.from(assets.files.get(url)!.body).toString('utf8');
    for (const m of text.matchAll(/from"\.\/([\w-]+\.js)"|import"\.\/([\w-]+\.js)"/g)) imports(`/assets/${m[1] ?? m[2]}`, seen);
    return seen;
  };
  console.log('\npage          files   bytes    gzip');
  for (const page of PAGES) {
    const urls = [...imports(assets.scripts[page]), assets.style];
    const bodies = urls.map((u) => Buffer.from(assets.files.get(u)!.body));
    const raw = bodies.reduce((n, b) => n + b.length, 0);
    const gz = bodies.reduce((n, b) => n + gzipSync(b).length, 0);
    console.log(`${page.padEnd(13)} ${String(urls.length).padStart(5)} ${String(raw).padStart(7)} ${String(gz).padStart(7)}`);
  }
}

async function authCost(): Promise<void> {
  const key = 'bench-clinician-key-0001';
  const record = { store: await openRecordStore({ dataDir: mkdtempSync(path.join(os.tmpdir(), 'pathway-bench-console-')) }), cipher: new NoteCipher(randomBytes(32)) };
  const careConsole = await createConsole({ idleMs: 15 * 60_000, record, production: false, secureCookies: false, logger: silentLogger });
  const app = createApp({
    // GET /v1/definitions reads no pathway: the service is never called.
    pathways: {} as PathwayService,
    definitions: loadDefinitions(),
    apiKeys: new ApiKeyStore([{ id: 'bench', role: 'clinician', sha256: hashKey(key) }]),
    logger: silentLogger,
    // A benchmark is one person sending as fast as they can: the per-key limit would measure itself.
    rateLimits: { windowSeconds: 60, perKey: 10_000_000, authFailures: 20 },
    isTemporalReachable: async () => true,
    // POST requests are not measured: the record store keeps the session and answers readiness.
    record,
    console: careConsole,
  });
  const server: Server = await new Promise((r) => {
    const s = app.listen(0, '127.0.0.1', () => r(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signIn = await fetch(`${base}/auth/local`, { method: 'POST', body: new URLSearchParams({ role: 'clinician' }), redirect: 'manual' });
  const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
  const run = async (headers: Record<string, string>, n: number) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${base}/v1/definitions`, { headers });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      await res.arrayBuffer();
    }
    return ((performance.now() - t) * 1000) / n;
  };
  await run({ authorization: `Bearer ${key}` }, 200);
  await run({ cookie }, 200);
  const bearer = await run({ authorization: `Bearer ${key}` }, 2000);
  const session = await run({ cookie }, 2000);
  console.log(`\nGET /v1/definitions, one at a time, 2000 each:`);
  console.log(`  bearer API key   ${bearer.toFixed(0)} µs a request`);
  console.log(`  session cookie   ${session.toFixed(0)} µs a request (${(session / bearer).toFixed(2)}× the key)`);
  careConsole.store.close();
  server.close();
  server.closeAllConnections();
}

async function main(): Promise<void> {
  await buildTimes();
  await pageWeights();
  await authCost();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

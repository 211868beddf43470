/**
 * Starts HAPI FHIR's validator (test/harness/hapi-validator.ts) once per test run, without waiting
 * for it: its JVM loads the R4 definitions while the other servers start and the first files run,
 * and a test that validates waits for it then (test/harness/fhir-validator.ts). Not installed or
 * not starting: those tests fail, naming why; the others run.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startHapiValidator } from '../harness/hapi-validator';
import { freePort } from '../harness/service-process';

declare module 'vitest' {
  export interface ProvidedContext {
    /** HAPI's validator: its base URL and log, or why it could not be started. */
    hapiValidator: { url: string; log: string } | { error: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = path.join(mkdtempSync(path.join(os.tmpdir(), 'pathway-hapi-')), 'validator.log');
  let started: ReturnType<typeof startHapiValidator>;
  try {
    started = startHapiValidator(await freePort(), log);
  } catch (err) {
    project.provide('hapiValidator', { error: err instanceof Error ? err.message : String(err) });
    return async () => {};
  }
  project.provide('hapiValidator', { url: started.url, log });
  return async () => {
    if (started.process.exitCode === null) started.process.kill('SIGTERM');
  };
}

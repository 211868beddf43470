/**
 * Builds HAPI FHIR's instance validator (test/fhir-validator, the tests' second FHIR validator)
 * with Maven from Maven Central into the tools cache, keyed by the HAPI version and the program's
 * files. Does nothing when it is there. Without Java or Maven it warns: the tests that validate
 * FHIR then fail, saying so.
 *
 *   tsx scripts/install-fhir-validator.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { VALIDATOR_SOURCE, hapiValidatorClasspath, hapiValidatorDir, hapiVersion } from '../test/harness/hapi-validator';

const log = (message: string) => console.log(`[install-fhir-validator] ${message}`);
const has = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

function main(): void {
  const target = hapiValidatorDir();
  if (hapiValidatorClasspath(target)) {
    log(`HAPI FHIR validator ${hapiVersion()} already installed: ${target}`);
    return;
  }
  if (!has('java', ['-version']) || !has('mvn', ['-v'])) {
    log('WARNING: Java or Maven is missing; the tests that validate FHIR with HAPI will fail.');
    return;
  }
  log(`building HAPI FHIR validator ${hapiVersion()} with Maven (a few minutes the first time)`);
  const started = Date.now();
  mkdirSync(path.dirname(target), { recursive: true });
  // Built in a scratch folder beside the target, then renamed: a stopped install never looks complete.
  const scratch = mkdtempSync(`${target}.partial-`);
  try {
    cpSync(VALIDATOR_SOURCE, scratch, { recursive: true });
    execFileSync('mvn', ['-q', '-B', '-f', path.join(scratch, 'pom.xml'), 'package', 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${path.join(scratch, 'lib')}`], {
      stdio: 'inherit',
    });
    renameSync(path.join(scratch, 'target', 'fhir-validator-1.jar'), path.join(scratch, 'fhir-validator.jar'));
    rmSync(path.join(scratch, 'target'), { recursive: true, force: true });
    rmSync(target, { recursive: true, force: true });
    renameSync(scratch, target);
  } finally {
    if (existsSync(scratch)) rmSync(scratch, { recursive: true, force: true });
  }
  log(`HAPI FHIR validator installed in ${((Date.now() - started) / 1000).toFixed(0)} s: ${target}`);
}

main();

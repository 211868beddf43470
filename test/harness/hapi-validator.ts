/**
 * HAPI FHIR's instance validator (R4 core, with the terminology of the R4 code systems in every
 * binding strength), an independent second opinion beside Medplum's: a small Java program
 * (test/fhir-validator) built once with Maven into the tools cache, keyed by the HAPI version and
 * the program's own files, and run as one loopback HTTP server per test run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const VALIDATOR_SOURCE = path.join(__dirname, '..', 'fhir-validator');
const SOURCE_FILES = ['pom.xml', 'src/main/java/pathway/ValidatorServer.java'];
export const MAIN_CLASS = 'pathway.ValidatorServer';

export function hapiVersion(): string {
  const match = /<hapi\.version>([^<]+)<\/hapi\.version>/.exec(readFileSync(path.join(VALIDATOR_SOURCE, 'pom.xml'), 'utf8'));
  if (!match) throw new Error('test/fhir-validator/pom.xml names no hapi.version');
  return match[1]!;
}

/** Where the built validator lives: beside the Temporal servers' cache, keyed by version and sources. */
export function hapiValidatorDir(env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256');
  for (const f of SOURCE_FILES) hash.update(readFileSync(path.join(VALIDATOR_SOURCE, f)));
  const base = env.PATHWAY_TOOLS_DIR ? path.resolve(env.PATHWAY_TOOLS_DIR) : path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'pathway');
  return path.join(base, 'fhir-validator', `${hapiVersion()}-${hash.digest('hex').slice(0, 12)}`);
}

/** The jar and its dependencies; absent until scripts/install-fhir-validator.ts has run. */
export function hapiValidatorClasspath(dir = hapiValidatorDir()): string | undefined {
  const jar = path.join(dir, 'fhir-validator.jar');
  return existsSync(jar) ? `${jar}${path.delimiter}${path.join(dir, 'lib', '*')}` : undefined;
}

/**
 * Starts the validator on `port` and returns at once: the JVM loads the R4 definitions (half a
 * minute on a busy machine) before it opens the port, so a client retries until it answers.
 */
export function startHapiValidator(port: number, logFile: string): { process: ChildProcess; url: string } {
  const classpath = hapiValidatorClasspath();
  if (!classpath) throw new Error(`HAPI FHIR validator not installed in ${hapiValidatorDir()}: run npm run install-fhir-validator (Java 17+ and Maven)`);
  const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const log = createWriteStream(logFile);
  const child = spawn(java, ['-XX:+UseSerialGC', '-Xmx1g', '-Xss2m', '-cp', classpath, MAIN_CLASS, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return { process: child, url: `http://127.0.0.1:${port}` };
}

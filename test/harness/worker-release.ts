/**
 * Another release of the service's code, as a rolling deploy brings it: a copy of the code with
 * some files changed, sharing this checkout's node_modules, for a worker process to run from
 * (ServiceProcess.start's root) and for its workflow bundle.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const ROOT = path.join(__dirname, '..', '..');
/** What a worker process needs: every room of the service and its settings, not tests or docs. */
const CODE = ['activities', 'api', 'clinical', 'config', 'console', 'ehr', 'fhir', 'observability', 'patients', 'record', 'server', 'temporal', 'worker', 'workflows', 'package.json', 'tsconfig.json'];

export interface SourceEdit {
  file: string;
  /** Text that occurs exactly once in the file. */
  find: string;
  replace: string;
}

export interface Release {
  root: string;
  /** Its workflow code bundled as the worker bundles it (for replaying histories). */
  bundle(): Promise<string>;
  remove(): void;
}

export function releaseWith(edits: SourceEdit[]): Release {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pathway-release-'));
  for (const entry of CODE) cpSync(path.join(ROOT, entry), path.join(root, entry), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  for (const edit of edits) {
    const file = path.join(root, edit.file);
    const source = readFileSync(file, 'utf8');
    const found = source.split(edit.find).length - 1;
    if (found !== 1) throw new Error(`release edit of ${edit.file}: the text to replace occurs ${found} times, not once:\n${edit.find}`);
    writeFileSync(file, source.replace(edit.find, () => edit.replace));
  }
  return {
    root,
    bundle: async () => {
      const { code } = await bundleWorkflowCode({
        workflowsPath: path.join(root, 'workflows', 'index.ts'),
        workflowInterceptorModules: [path.join(root, 'workflows', 'request-id-interceptors.ts')],
        logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
      });
      const codePath = path.join(root, 'workflow-bundle.js');
      writeFileSync(codePath, code);
      return codePath;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

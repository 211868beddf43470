/**
 * Rooms in layers (docs/architecture.md, "Rooms"): a file imports only from its own room or from a
 * room in a lower layer, read from the import lines themselves (type-only imports included).
 * Tests, benchmarks and scripts stand above every room and may import anything.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');

/** Lowest first. Each entry is a room (a top-level folder) or, for the workflows' contract, a file. */
const LAYERS: string[][] = [
  // Pure and foundational: the clinical model, the settings, logs and metrics.
  ['clinical', 'config', 'observability'],
  // The record store.
  ['record'],
  // The workflows' contract, shared by every client and the workflow: updates, queries, search attributes.
  ['workflows/messages.ts', 'workflows/search-attributes.ts'],
  // Side effects, and pure FHIR mappers of the pathway view and the EHR's cards.
  ['activities', 'fhir', 'ehr'],
  // The patient's side: questionnaires, links, their page and channels (used by the API).
  ['patients'],
  // The workflow code (which imports only the types of activities).
  ['workflows'],
  // Reaching and preparing Temporal; the worker.
  ['temporal', 'worker'],
  // The HTTP API.
  ['api'],
  // The console, served by the API's process and built on its auth.
  ['console'],
  // The composition root: starts everything.
  ['server'],
];
const ABOVE_ALL = ['test', 'bench', 'scripts'];

/** The layer of a file (path from the repository root), or undefined for a room not in LAYERS. */
function layerOf(file: string): number | undefined {
  const exact = LAYERS.findIndex((layer) => layer.includes(file));
  if (exact >= 0) return exact;
  const room = file.split('/')[0]!;
  const index = LAYERS.findIndex((layer) => layer.includes(room));
  return index >= 0 ? index : undefined;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|(?:import|require)\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|^import\s+['"](\.{1,2}\/[^'"]+)['"]/gm;

/** The files of the repository's code each file imports, by relative path. */
function importsOf(file: string, source: string): string[] {
  return [...source.matchAll(IMPORT)].map((m) => path.posix.normalize(path.posix.join(path.posix.dirname(file), (m[1] ?? m[2] ?? m[3])!)));
}

/** "from -> to" for every import of a lower room's file into a higher one, or into a room not placed. */
function layerViolations(imports: Array<{ from: string; to: string }>): string[] {
  const problems: string[] = [];
  for (const { from, to } of imports) {
    const fromLayer = layerOf(from);
    const toLayer = layerOf(to.endsWith('.ts') ? to : `${to}.ts`) ?? layerOf(to);
    if (fromLayer === undefined) problems.push(`${from}: its room is in no layer (test/unit/layering.test.ts)`);
    else if (toLayer === undefined) problems.push(`${from} -> ${to}: that room is in no layer`);
    else if (toLayer > fromLayer) problems.push(`${from} -> ${to}: runs up from layer ${fromLayer} to ${toLayer}`);
  }
  return problems;
}

function codeFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir)).flatMap((name) => {
    const rel = path.posix.join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(path.join(root, rel)).isDirectory()) return codeFiles(rel);
    return /\.(ts|mts)$/.test(name) ? [rel] : [];
  });
}

describe('layering', () => {
  const rooms = readdirSync(root).filter((name) => !name.startsWith('.') && name !== 'node_modules' && name !== 'docs' && statSync(path.join(root, name)).isDirectory());
  const imports = rooms
    .filter((room) => !ABOVE_ALL.includes(room))
    .flatMap(codeFiles)
    .flatMap((from) => importsOf(from, readFileSync(path.join(root, from), 'utf8')).map((to) => ({ from, to })));

  it('places every room of code in a layer', () => {
    const placed = new Set([...LAYERS.flat().map((entry) => entry.split('/')[0]!), ...ABOVE_ALL]);
    const unplaced = rooms.filter((room) => !placed.has(room) && codeFiles(room).length > 0);
    expect(unplaced).toEqual([]);
  });

  it('reads the imports (the service has hundreds)', () => {
    expect(imports.length).toBeGreaterThan(200);
    expect(imports).toContainEqual({ from: 'server/service.ts', to: 'api/app' });
  });

  it('has no import that runs up a layer', () => {
    expect(layerViolations(imports)).toEqual([]);
  });

  it('would catch one: the record store importing the API, the server, the console or Temporal; the contract importing the workflow', () => {
    const source = "import { createApp } from '../api/app';\nimport type { X } from '../server/service';\nexport { y } from '../console';\nconst z = require('../temporal/connection');";
    expect(layerViolations(importsOf('record/read.ts', source).map((to) => ({ from: 'record/read.ts', to })))).toHaveLength(4);
    expect(layerViolations([{ from: 'workflows/messages.ts', to: 'workflows/pathway' }])).toHaveLength(1);
    expect(layerViolations([{ from: 'workflows/pathway.ts', to: 'activities' }, { from: 'api/app.ts', to: 'config' }])).toEqual([]);
  });
});

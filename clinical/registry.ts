/**
 * The pathway definitions a clinic offers: the built-in ones plus any JSON files in a folder
 * (PATHWAY_DEFINITIONS_DIR), each validated at start-up. Enrolment pins the version it uses.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PathwayDefinitionSchema, type PathwayDefinition } from './definition';
import pspsLumbarV1 from './definitions/psps-lumbar.v1.json';
import pspsLumbarV2 from './definitions/psps-lumbar.v2.json';

export const DEFAULT_DEFINITION_ID = 'psps-lumbar';

export class DefinitionRegistry {
  private readonly byKey = new Map<string, PathwayDefinition>();

  constructor(definitions: PathwayDefinition[]) {
    for (const d of definitions) {
      const key = `${d.id}@${d.version}`;
      if (this.byKey.has(key)) throw new Error(`pathway definition ${key} is defined twice`);
      this.byKey.set(key, d);
    }
  }

  /** A named version, or the latest version of the id. */
  get(id: string, version?: number): PathwayDefinition | undefined {
    if (version !== undefined) return this.byKey.get(`${id}@${version}`);
    return this.list()
      .filter((d) => d.id === id)
      .sort((a, b) => b.version - a.version)[0];
  }

  list(): PathwayDefinition[] {
    return [...this.byKey.values()].sort((a, b) => a.id.localeCompare(b.id) || a.version - b.version);
  }
}

export function loadDefinitions(folder?: string): DefinitionRegistry {
  // v1 stays: pathways enrolled on it keep its rules; new enrolments take the latest (v2).
  const definitions: PathwayDefinition[] = [PathwayDefinitionSchema.parse(pspsLumbarV1), PathwayDefinitionSchema.parse(pspsLumbarV2)];
  if (folder) {
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.json')).sort()) {
      const parsed = PathwayDefinitionSchema.safeParse(JSON.parse(readFileSync(path.join(folder, file), 'utf8')));
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
        throw new Error(`pathway definition ${file} is invalid: ${problems}`);
      }
      definitions.push(parsed.data);
    }
  }
  return new DefinitionRegistry(definitions);
}

/**
 * The pathway definitions a clinic offers: the built-in ones plus any JSON files in a folder
 * (PATHWAY_DEFINITIONS_DIR), each validated at start-up, and (in a running service) every
 * version published since through the API, which the record store keeps (record/definitions.ts).
 * Enrolment pins the version it uses: the workflow carries it in its input, never reads this.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PathwayDefinitionSchema, type PathwayDefinition } from './definition';
import pspsLumbarV1 from './definitions/psps-lumbar.v1.json';
import pspsLumbarV2 from './definitions/psps-lumbar.v2.json';

export const DEFAULT_DEFINITION_ID = 'psps-lumbar';

/** A published version is offered to new enrolments; a retired one only serves the pathways already on it. */
export type OfferedStatus = 'published' | 'retired';

export class DefinitionRegistry {
  private readonly byKey = new Map<string, { definition: PathwayDefinition; status: OfferedStatus }>();
  /** Brings the registry up to date with versions published elsewhere (another API process); none for a fixed set. */
  private source?: (registry: DefinitionRegistry) => Promise<void>;

  constructor(definitions: PathwayDefinition[]) {
    for (const d of definitions) {
      const key = `${d.id}@${d.version}`;
      if (this.byKey.has(key)) throw new Error(`pathway definition ${key} is defined twice`);
      this.byKey.set(key, { definition: d, status: 'published' });
    }
  }

  /** Adds a version, or changes its status (published versions never change their content). */
  put(definition: PathwayDefinition, status: OfferedStatus): void {
    this.byKey.set(`${definition.id}@${definition.version}`, { definition, status });
  }

  followSource(source: (registry: DefinitionRegistry) => Promise<void>): void {
    this.source = source;
  }

  /** Reads what was published or retired since the last look. */
  async refresh(): Promise<void> {
    await this.source?.(this);
  }

  /** A named version (published or retired), or the latest published version of the id. */
  get(id: string, version?: number): PathwayDefinition | undefined {
    if (version !== undefined) return this.byKey.get(`${id}@${version}`)?.definition;
    return this.list()
      .filter((d) => d.id === id && this.statusOf(d.id, d.version) === 'published')
      .sort((a, b) => b.version - a.version)[0];
  }

  /** What a new enrolment may use: a published version, never a retired one. */
  forEnrolment(id: string, version?: number): PathwayDefinition | undefined {
    const d = this.get(id, version);
    return d && this.statusOf(d.id, d.version) === 'published' ? d : undefined;
  }

  statusOf(id: string, version: number): OfferedStatus | undefined {
    return this.byKey.get(`${id}@${version}`)?.status;
  }

  list(): PathwayDefinition[] {
    return [...this.byKey.values()].map((e) => e.definition).sort((a, b) => a.id.localeCompare(b.id) || a.version - b.version);
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

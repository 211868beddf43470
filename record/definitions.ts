/**
 * Pathway definition versions in the record store: draft -> published -> retired. A draft may
 * change; a published version never does (only its status, to retired). Every change takes the
 * next revision, so each process's registry reads only what changed since it last looked.
 */
import { isDeepStrictEqual } from 'node:util';
import { sql } from 'kysely';
import type { PathwayDefinition } from '../clinical/definition';
import type { DefinitionRegistry } from '../clinical/registry';
import type { RecordDb } from './store';

export type VersionStatus = 'draft' | 'published' | 'retired';

export interface DefinitionVersion {
  id: string;
  version: number;
  title: string;
  status: VersionStatus;
  basedOn: number | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  published: { by: string; at: string; reason: string } | null;
  retired: { by: string; at: string; reason: string } | null;
}

/** Who published the versions a service brings with it (its files). */
export const BUILT_IN = 'built-in';

/** Why a change to a version was refused: the caller's mistake (`conflict`, `not-found`). */
export class VersionRefused extends Error {
  constructor(
    readonly code: 'conflict' | 'not-found',
    message: string,
  ) {
    super(message);
  }
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

type Row = {
  definition_id: string;
  version: number;
  status: string;
  definition: unknown;
  based_on: number | null;
  created_by: string;
  created_at: Date | string;
  updated_at: Date | string;
  published_by: string | null;
  published_at: Date | string | null;
  publish_reason: string | null;
  retired_by: string | null;
  retired_at: Date | string | null;
  retire_reason: string | null;
};

const parse = (v: unknown): PathwayDefinition => (typeof v === 'string' ? JSON.parse(v) : v) as PathwayDefinition;

function versionOf(r: Row): DefinitionVersion {
  return {
    id: r.definition_id,
    version: r.version,
    title: parse(r.definition).title,
    status: r.status as VersionStatus,
    basedOn: r.based_on,
    createdBy: r.created_by,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    published: r.published_by ? { by: r.published_by, at: iso(r.published_at)!, reason: r.publish_reason ?? '' } : null,
    retired: r.retired_by ? { by: r.retired_by, at: iso(r.retired_at)!, reason: r.retire_reason ?? '' } : null,
  };
}

const COLUMNS = [
  'definition_id',
  'version',
  'status',
  'definition',
  'based_on',
  'created_by',
  'created_at',
  'updated_at',
  'published_by',
  'published_at',
  'publish_reason',
  'retired_by',
  'retired_at',
  'retire_reason',
] as const;

/**
 * Loads the service's own definitions (built in, and its definitions folder) as published
 * versions. One already in the store must be the same: a published version never changes.
 */
export async function seedDefinitions(db: RecordDb, definitions: PathwayDefinition[], now = new Date()): Promise<void> {
  for (const d of definitions) {
    await db
      .insertInto('definition_versions')
      .values({
        definition_id: d.id,
        version: d.version,
        status: 'published',
        definition: JSON.stringify(d),
        based_on: null,
        created_by: BUILT_IN,
        created_at: now,
        updated_at: now,
        published_by: BUILT_IN,
        published_at: now,
        publish_reason: 'brought with the service',
        retired_by: null,
        retired_at: null,
        retire_reason: null,
      })
      .onConflict((oc) => oc.columns(['definition_id', 'version']).doNothing())
      .execute();
    const stored = await db.selectFrom('definition_versions').select(['definition', 'status']).where('definition_id', '=', d.id).where('version', '=', d.version).executeTakeFirstOrThrow();
    if (stored.status === 'draft') throw new Error(`pathway definition ${d.id} v${d.version} is a draft in the record store; a file of the service may not take its number`);
    if (!isDeepStrictEqual(parse(stored.definition), d)) {
      throw new Error(`pathway definition ${d.id} v${d.version} differs from the version published in the record store; a published version never changes: give the file a new version number`);
    }
  }
}

/** Makes the registry follow the record store: each refresh reads what was published or retired since the last. */
export function followRecordStore(registry: DefinitionRegistry, db: RecordDb): void {
  let seen = 0;
  registry.followSource(async (r) => {
    const rows = await db
      .selectFrom('definition_versions')
      .select(['definition', 'status', 'revision'])
      .where('revision', '>', seen)
      .where('status', '<>', 'draft')
      .orderBy('revision')
      .execute();
    for (const row of rows) {
      r.put(parse(row.definition), row.status as 'published' | 'retired');
      seen = Math.max(seen, Number(row.revision));
    }
  });
}

export async function listVersions(db: RecordDb, opts: { drafts: boolean }): Promise<DefinitionVersion[]> {
  let q = db.selectFrom('definition_versions').select(COLUMNS).orderBy('definition_id').orderBy('version');
  if (!opts.drafts) q = q.where('status', '<>', 'draft');
  return (await q.execute()).map(versionOf);
}

export async function readVersion(db: RecordDb, id: string, version: number): Promise<{ version: DefinitionVersion; definition: PathwayDefinition } | undefined> {
  const row = await db.selectFrom('definition_versions').select(COLUMNS).where('definition_id', '=', id).where('version', '=', version).executeTakeFirst();
  return row ? { version: versionOf(row), definition: parse(row.definition) } : undefined;
}

/** A new draft, a copy of `from` under the next free version number of the id. */
export async function createDraft(db: RecordDb, id: string, from: number, by: string, now = new Date()): Promise<{ version: DefinitionVersion; definition: PathwayDefinition }> {
  const base = await readVersion(db, id, from);
  if (!base) throw new VersionRefused('not-found', `no version ${from} of ${id}`);
  // Two leads making drafts at once: the second takes the number after the first's.
  for (let attempt = 0; ; attempt++) {
    const { max } = await db
      .selectFrom('definition_versions')
      .select((eb) => eb.fn.max('version').as('max'))
      .where('definition_id', '=', id)
      .executeTakeFirstOrThrow();
    const version = Number(max) + 1;
    const definition: PathwayDefinition = { ...base.definition, version };
    const inserted = await db
      .insertInto('definition_versions')
      .values({
        definition_id: id,
        version,
        status: 'draft',
        definition: JSON.stringify(definition),
        based_on: from,
        created_by: by,
        created_at: now,
        updated_at: now,
        published_by: null,
        published_at: null,
        publish_reason: null,
        retired_by: null,
        retired_at: null,
        retire_reason: null,
      })
      .onConflict((oc) => oc.columns(['definition_id', 'version']).doNothing())
      .returning('version')
      .executeTakeFirst();
    if (inserted) return (await readVersion(db, id, version))!;
    if (attempt >= 5) throw new VersionRefused('conflict', 'too many drafts made at once; try again');
  }
}

async function statusOrRefuse(db: RecordDb, id: string, version: number): Promise<VersionStatus> {
  const row = await db.selectFrom('definition_versions').select('status').where('definition_id', '=', id).where('version', '=', version).executeTakeFirst();
  if (!row) throw new VersionRefused('not-found', `no version ${version} of ${id}`);
  return row.status as VersionStatus;
}

/** Replaces a draft's content (already checked by the caller). */
export async function saveDraft(db: RecordDb, definition: PathwayDefinition, now = new Date()): Promise<DefinitionVersion> {
  const row = await db
    .updateTable('definition_versions')
    .set({ definition: JSON.stringify(definition), updated_at: now, revision: sql`nextval('definition_revision')` as never })
    .where('definition_id', '=', definition.id)
    .where('version', '=', definition.version)
    .where('status', '=', 'draft')
    .returning(COLUMNS)
    .executeTakeFirst();
  if (row) return versionOf(row);
  const status = await statusOrRefuse(db, definition.id, definition.version);
  throw new VersionRefused('conflict', `${definition.id} v${definition.version} is ${status}; only a draft changes (make a new draft from it)`);
}

export async function publishVersion(db: RecordDb, id: string, version: number, by: string, reason: string, now = new Date()): Promise<DefinitionVersion> {
  const row = await db
    .updateTable('definition_versions')
    .set({ status: 'published', published_by: by, published_at: now, publish_reason: reason, updated_at: now, revision: sql`nextval('definition_revision')` as never })
    .where('definition_id', '=', id)
    .where('version', '=', version)
    .where('status', '=', 'draft')
    .returning(COLUMNS)
    .executeTakeFirst();
  if (row) return versionOf(row);
  const status = await statusOrRefuse(db, id, version);
  throw new VersionRefused('conflict', `${id} v${version} is ${status}; only a draft is published`);
}

/** Retires a published version; the last published version of an id stays, so enrolment always has one. */
export async function retireVersion(db: RecordDb, id: string, version: number, by: string, reason: string, now = new Date()): Promise<DefinitionVersion> {
  return db.transaction().execute(async (trx) => {
    const others = await trx
      .selectFrom('definition_versions')
      .select('version')
      .where('definition_id', '=', id)
      .where('status', '=', 'published')
      .where('version', '<>', version)
      .forUpdate()
      .execute();
    const row = await trx
      .updateTable('definition_versions')
      .set({ status: 'retired', retired_by: by, retired_at: now, retire_reason: reason, updated_at: now, revision: sql`nextval('definition_revision')` as never })
      .where('definition_id', '=', id)
      .where('version', '=', version)
      .where('status', '=', 'published')
      .where(() => sql<boolean>`${others.length > 0}`)
      .returning(COLUMNS)
      .executeTakeFirst();
    if (row) return versionOf(row);
    const status = await statusOrRefuse(trx as unknown as RecordDb, id, version);
    if (status === 'published') throw new VersionRefused('conflict', `${id} v${version} is the only published version; publish another before retiring it`);
    throw new VersionRefused('conflict', `${id} v${version} is ${status}; only a published version is retired`);
  });
}

const attached = new WeakMap<DefinitionRegistry, Promise<void>>();

/**
 * Once per registry and store: its versions go into the store as published (a fresh store, a
 * test's), then it follows the store. The service does this at start-up; the API's routes call
 * it too, so an app built around any registry serves the versions the store keeps.
 */
export function attachRegistry(registry: DefinitionRegistry, db: RecordDb): Promise<void> {
  let ready = attached.get(registry);
  if (!ready) {
    ready = seedDefinitions(db, registry.list().filter((d) => registry.statusOf(d.id, d.version) === 'published'))
      .then(() => followRecordStore(registry, db))
      .then(() => registry.refresh());
    // A store that was down: the next request tries again.
    ready.catch(() => attached.delete(registry));
    attached.set(registry, ready);
  }
  return ready;
}

/**
 * /v1/definitions: the pathway definitions as records (docs/definitions.md). Everyone reads the
 * published and retired versions, each rule as a sentence with that version's numbers; a
 * clinical lead also sees drafts, makes a draft from a version, changes and validates it,
 * publishes it with a reason, retires a version, and compares two versions.
 */
import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { StageSchema } from '../../clinical/definition';
import { checkDefinition } from '../../clinical/definition-check';
import { describeChange, diffDefinitions } from '../../clinical/definition-diff';
import { may } from '../../clinical/permissions';
import type { DefinitionRegistry } from '../../clinical/registry';
import { describeRules } from '../../clinical/rules';
import {
  VersionRefused,
  attachRegistry,
  createDraft,
  listVersions,
  publishVersion,
  readVersion,
  retireVersion,
  saveDraft,
} from '../../record/definitions';
import type { RecordDb } from '../../record/store';
import { requirePermission } from '../auth';
import { HttpProblem, invalid } from '../problem';
import { compareDecisions } from '../../clinical/simulate';
import { cohortEnrolments, readHistories } from '../../record/histories';
import { createMigration, readMigration } from '../../record/migrations-log';
import { readSimulation, runSimulation } from '../../record/simulations';
import type { PathwayService } from '../pathways-service';

export const ReasonSchema = z.object({ reason: z.string().trim().min(3).max(2000).describe('Why: kept with the version') }).strict();
export const DraftRequestSchema = z.object({}).strict();
const isoDateTime = z.iso.datetime({ offset: true });
export const SimulateRequestSchema = z
  .object({
    cohort: z
      .object({
        careTeam: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).optional(),
        definitionVersion: z.number().int().min(1).optional().describe('Only pathways on this version (any version of the id when absent)'),
        enrolledFrom: isoDateTime.optional(),
        enrolledBefore: isoDateTime.optional(),
        pathwayIds: z.array(z.string().regex(/^pw-[0-9a-f]{32}$/, 'a pathway id')).min(1).max(10_000).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();
export const MigrateRequestSchema = z
  .object({
    simulationId: z.uuid().describe('A simulation of this version over the same cohort, made in the last day'),
    reason: z.string().trim().min(3).max(2000).describe('Why: kept with the migration and in each pathway\'s timeline'),
    pathwayIds: z.array(z.string().regex(/^pw-[0-9a-f]{32}$/, 'a pathway id')).min(1).max(10_000).optional().describe("Only these pathways of the simulation's cohort; absent: every running one"),
    stageMapping: z.partialRecord(StageSchema, StageSchema).optional().describe('Where a stage goes in the new version; absent: the same stage'),
    perMinute: z.number().int().min(1).max(6000).default(600).describe('Pathways moved a minute, at most'),
  })
  .strict();
export const DiffQuerySchema = z.object({ from: z.coerce.number().int().min(1).max(1_000_000), to: z.coerce.number().int().min(1).max(1_000_000) }).strict();

const VersionParamSchema = z.coerce.number().int().min(1).max(1_000_000);

export function versionParam(req: Request): number {
  const v = VersionParamSchema.safeParse(req.params.version);
  if (!v.success) throw new HttpProblem(404, 'no such pathway definition');
  return v.data;
}

function refused(err: unknown): never {
  if (err instanceof VersionRefused) throw new HttpProblem(err.code === 'not-found' ? 404 : 409, err.message);
  throw err;
}

/** How recent a simulation a migration needs. */
const SIMULATION_VALID_MS = 24 * 60 * 60 * 1000;

export function definitionsRouter(definitions: DefinitionRegistry, db: RecordDb, pathways: Pick<PathwayService, 'startDefinitionMigration'>): Router {
  const router = Router();
  const ready = () => attachRegistry(definitions, db);

  /** A version the caller may see: drafts only for those who author them. */
  const visible = async (req: Request, id: string, version: number) => {
    await ready();
    const found = await readVersion(db, id, version);
    if (!found || (found.version.status === 'draft' && !may(req.principal!.role, 'author-definitions'))) throw new HttpProblem(404, 'no such pathway definition');
    return found;
  };

  router.get('/', async (req, res) => {
    const principal = requirePermission(req, 'read');
    await ready();
    res.json({ items: await listVersions(db, { drafts: may(principal.role, 'author-definitions') }) });
  });

  /** Checks a definition without keeping it: the console's validation in place. */
  router.post('/validate', async (req, res) => {
    requirePermission(req, 'author-definitions');
    // A definition is a JSON object: anything else is a malformed request, not an invalid definition.
    if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
      throw new HttpProblem(400, 'invalid body', { errors: [{ field: '(definition)', message: 'a pathway definition, as a JSON object' }] });
    }
    const check = checkDefinition(req.body);
    res.json(check.ok ? { valid: true, errors: [], rules: describeRules(check.definition) } : { valid: false, errors: check.errors });
  });

  router.get('/simulations/:simulationId', async (req, res) => {
    const principal = requirePermission(req, 'author-definitions');
    const simulation = /^[0-9a-f-]{36}$/.test(req.params.simulationId!) ? await readSimulation(db, req.params.simulationId!) : undefined;
    // Another lead's simulation limited to care teams this caller may not see is not shown.
    if (!simulation || (principal.careTeams && simulation.results.some((r) => !principal.careTeams!.includes(r.careTeam)))) throw new HttpProblem(404, 'no such simulation');
    res.json(simulation);
  });

  router.get('/migrations/:migrationId', async (req, res) => {
    requirePermission(req, 'migrate-pathways');
    const migration = /^[0-9a-f-]{36}$/.test(req.params.migrationId!) ? await readMigration(db, req.params.migrationId!) : undefined;
    if (!migration) throw new HttpProblem(404, 'no such migration');
    res.json({ ...migration, status: migration.finishedAt ? 'completed' : 'running', done: migration.results.length });
  });

  router.get('/:id/diff', async (req, res) => {
    requirePermission(req, 'read');
    const q = DiffQuerySchema.safeParse(req.query);
    if (!q.success) throw invalid(q.error);
    const [from, to] = [await visible(req, req.params.id!, q.data.from), await visible(req, req.params.id!, q.data.to)];
    const changes = diffDefinitions(from.definition, to.definition);
    res.json({ id: req.params.id, from: q.data.from, to: q.data.to, changes: changes.map((c) => ({ ...c, text: describeChange(c) })) });
  });

  router.get('/:id/:version', async (req, res) => {
    requirePermission(req, 'read');
    const { version, definition } = await visible(req, req.params.id!, versionParam(req));
    const check = version.status === 'draft' ? checkDefinition(definition) : undefined;
    res.json({ ...version, definition, rules: describeRules(definition), ...(check ? { validation: { valid: check.ok, errors: check.ok ? [] : check.errors } } : {}) });
  });

  router.post('/:id/:version/drafts', async (req, res) => {
    const principal = requirePermission(req, 'author-definitions');
    const body = DraftRequestSchema.safeParse(req.body ?? {});
    if (!body.success) throw invalid(body.error);
    await visible(req, req.params.id!, versionParam(req));
    const draft = await createDraft(db, req.params.id!, versionParam(req), principal.id).catch(refused);
    res.status(201).location(`/v1/definitions/${draft.version.id}/${draft.version.version}`).json({ ...draft.version, definition: draft.definition });
  });

  /** Replaces a draft with the definition sent, which must pass the schema and clinical sanity. */
  router.put('/:id/:version', async (req, res) => {
    requirePermission(req, 'author-definitions');
    const version = versionParam(req);
    await visible(req, req.params.id!, version);
    const check = checkDefinition(req.body);
    if (!check.ok) throw new HttpProblem(400, `invalid ${check.errors.map((e) => e.field).join(', ')}`, { errors: check.errors });
    if (check.definition.id !== req.params.id || check.definition.version !== version) {
      throw new HttpProblem(400, 'the definition names another version', { errors: [{ field: 'version', message: `must be ${req.params.id} v${version}, as in the path` }] });
    }
    const saved = await saveDraft(db, check.definition).catch(refused);
    res.json({ ...saved, definition: check.definition, rules: describeRules(check.definition) });
  });

  /** Replays the cohort's recorded pathways through this version (a draft or any other), never touching Temporal. */
  router.post('/:id/:version/simulate', async (req, res) => {
    const principal = requirePermission(req, 'author-definitions');
    const body = SimulateRequestSchema.safeParse(req.body ?? {});
    if (!body.success) throw invalid(body.error);
    const { definition } = await visible(req, req.params.id!, versionParam(req));
    const simulation = await runSimulation(db, definition, { definitionId: definition.id, ...body.data.cohort, ...(principal.careTeams ? { careTeams: principal.careTeams } : {}) }, principal.id);
    const { results, ...rest } = simulation;
    res.status(201).location(`/v1/definitions/simulations/${simulation.simulationId}`).json({ ...rest, differing: results.filter((r) => r.differs) });
  });

  /**
   * Moves running pathways of a simulated cohort to this published version: an audited batch
   * through Temporal, which answers at once with where to follow its progress.
   */
  router.post('/:id/:version/migrations', async (req, res) => {
    const principal = requirePermission(req, 'migrate-pathways');
    const body = MigrateRequestSchema.safeParse(req.body);
    if (!body.success) throw invalid(body.error);
    const version = versionParam(req);
    const { version: target, definition } = await visible(req, req.params.id!, version);
    if (target.status !== 'published') throw new HttpProblem(409, `${target.id} v${target.version} is ${target.status}; pathways move only to a published version`);
    const simulation = await readSimulation(db, body.data.simulationId);
    const field = (message: string) => new HttpProblem(409, message, { errors: [{ field: 'simulationId', message }] });
    if (!simulation || simulation.definition.id !== target.id || simulation.definition.version !== target.version) throw field(`no simulation of ${target.id} v${target.version} with that id`);
    if (Date.now() - Date.parse(simulation.createdAt) > SIMULATION_VALID_MS) throw field('the simulation is more than a day old; simulate the cohort again');
    const scope = principal.careTeams ? { careTeams: principal.careTeams } : {};
    const now = await cohortEnrolments(db, { ...simulation.cohort, ...scope });
    if (now.digest !== simulation.cohortDigest) throw field('the cohort has changed since the simulation (pathways enrolled, or another scope); simulate it again');
    const inCohort = new Set(simulation.results.map((r) => r.pathwayId));
    const asked = body.data.pathwayIds ?? [...inCohort];
    const outside = asked.filter((id) => !inCohort.has(id));
    if (outside.length) throw new HttpProblem(400, 'pathways outside the simulated cohort', { errors: [{ field: 'pathwayIds', message: `${outside.length} not in the simulation's cohort` }] });
    // Those still running on an older version; the rest have nothing to move.
    const running = asked.length
      ? (await db.selectFrom('pathways').select('pathway_id').where('pathway_id', 'in', asked).where('closed_at', 'is', null).where('definition_version', '<', version).execute()).map((r) => r.pathway_id)
      : [];
    const migrationId = randomUUID();
    await createMigration(db, {
      migrationId,
      definitionId: target.id,
      toVersion: target.version,
      simulationId: simulation.simulationId,
      requestedBy: principal.id,
      reason: body.data.reason,
      stageMapping: body.data.stageMapping ?? {},
      pathways: running.length,
    });
    await pathways.startDefinitionMigration({
      migration: { migrationId, definition, simulationId: simulation.simulationId, reason: body.data.reason, ...(body.data.stageMapping ? { stageMapping: body.data.stageMapping } : {}) },
      actor: { id: principal.id, role: principal.role },
      pathwayIds: running,
      perMinute: body.data.perMinute,
    });
    res.status(202).location(`/v1/definitions/migrations/${migrationId}`).json({ migrationId, pathways: running.length, simulation: { simulationId: simulation.simulationId, createdAt: simulation.createdAt, summary: simulation.summary } });
  });

  /** One pathway's decisions side by side, recorded against this version's (the newest enrolment of the pathway id). */
  router.get('/:id/:version/compare/:pathwayId', async (req, res) => {
    const principal = requirePermission(req, 'author-definitions');
    const { definition } = await visible(req, req.params.id!, versionParam(req));
    const pathwayId = /^pw-[0-9a-f]{32}$/.test(req.params.pathwayId!) ? req.params.pathwayId! : undefined;
    const { enrolmentIds } = pathwayId
      ? await cohortEnrolments(db, { definitionId: definition.id, pathwayIds: [pathwayId], ...(principal.careTeams ? { careTeams: principal.careTeams } : {}) })
      : { enrolmentIds: [] };
    let comparison: ReturnType<typeof compareDecisions> | undefined;
    await readHistories(db, enrolmentIds.slice(-1), (h) => (comparison = compareDecisions(h, definition)));
    if (!comparison) throw new HttpProblem(404, 'no such pathway');
    res.json({ pathwayId, definition: { id: definition.id, version: definition.version }, ...(comparison as object) });
  });

  router.post('/:id/:version/publish', async (req, res) => {
    const principal = requirePermission(req, 'publish-definitions');
    const body = ReasonSchema.safeParse(req.body);
    if (!body.success) throw invalid(body.error);
    const version = versionParam(req);
    const { definition } = await visible(req, req.params.id!, version);
    // Checked again: the rules of sanity may have grown since the draft was saved.
    const check = checkDefinition(definition);
    if (!check.ok) throw new HttpProblem(400, `the draft is not valid: ${check.errors.map((e) => e.field).join(', ')}`, { errors: check.errors });
    const published = await publishVersion(db, req.params.id!, version, principal.id, body.data.reason).catch(refused);
    // New enrolments in this process take it at once; other processes read it on their next enrolment.
    await definitions.refresh();
    res.json({ ...published, definition });
  });

  router.post('/:id/:version/retire', async (req, res) => {
    const principal = requirePermission(req, 'publish-definitions');
    const body = ReasonSchema.safeParse(req.body);
    if (!body.success) throw invalid(body.error);
    const version = versionParam(req);
    await visible(req, req.params.id!, version);
    const retired = await retireVersion(db, req.params.id!, version, principal.id, body.data.reason).catch(refused);
    await definitions.refresh();
    res.json(retired);
  });

  return router;
}

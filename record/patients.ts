/**
 * Who each patient is, kept only here: one row a patient (keyed by the pathway id, the keyed hash
 * of the reference), the whole identity sealed with the payload key like notes; and the access
 * entries recording every time it is shown, recorded, corrected or erased, by whom and why.
 */
import { sql } from 'kysely';
import type { PatientCorrection, PatientIdentity } from '../clinical/patient';
import type { NoteCipher } from './note-cipher';
import type { RecordDb } from './store';

/** Who is looking and why (the route or command): what each access entry records. */
export interface AccessContext {
  actorId: string;
  actorRole: string;
  route: string;
  requestId?: string;
}

export type AccessAction = 'disclosed' | 'recorded' | 'corrected' | 'erased';

export interface AccessEntry {
  at: string;
  pathwayId: string;
  actor: { id: string; role: string };
  action: AccessAction;
  route: string;
  requestId?: string;
  fields?: string[];
}

type Db = Pick<RecordDb, 'insertInto' | 'selectFrom' | 'deleteFrom' | 'updateTable'>;

async function addEntries(db: Db, pathwayIds: readonly string[], who: AccessContext, action: AccessAction, fields?: string[]): Promise<void> {
  if (pathwayIds.length === 0) return;
  const at = new Date();
  await db
    .insertInto('access_entries')
    .values(
      pathwayIds.map((pathway_id) => ({
        at,
        pathway_id,
        actor_id: who.actorId,
        actor_role: who.actorRole,
        action,
        route: who.route,
        request_id: who.requestId ?? null,
        fields: fields ? JSON.stringify(fields) : null,
      })),
    )
    .execute();
}

async function readSealed(db: Db, cipher: NoteCipher, pathwayIds: readonly string[]): Promise<Map<string, PatientIdentity>> {
  const found = new Map<string, PatientIdentity>();
  if (pathwayIds.length === 0) return found;
  const rows = await db.selectFrom('patient_identities').select(['pathway_id', 'identity_enc']).where('pathway_id', 'in', [...new Set(pathwayIds)]).execute();
  for (const r of rows) found.set(r.pathway_id, JSON.parse(cipher.decrypt(r.identity_enc)) as PatientIdentity);
  return found;
}

async function writeSealed(db: Db, cipher: NoteCipher, pathwayId: string, identity: PatientIdentity): Promise<void> {
  const identity_enc = cipher.encrypt(JSON.stringify(identity));
  const updated_at = new Date();
  await db
    .insertInto('patient_identities')
    .values({ pathway_id: pathwayId, identity_enc, updated_at })
    .onConflict((oc) => oc.column('pathway_id').doUpdateSet({ identity_enc, updated_at }))
    .execute();
}

/**
 * Keeps the identity given at enrolment. What a new enrolment leaves out (a re-enrolment with
 * the reference alone) keeps what was known.
 */
export async function recordIdentity(db: RecordDb, cipher: NoteCipher, pathwayId: string, identity: PatientIdentity, who: AccessContext): Promise<PatientIdentity> {
  return db.transaction().execute(async (trx) => {
    const known = (await readSealed(trx, cipher, [pathwayId])).get(pathwayId);
    const merged: PatientIdentity = { ...known, ...identity };
    await writeSealed(trx, cipher, pathwayId, merged);
    await addEntries(trx, [pathwayId], who, 'recorded');
    return merged;
  });
}

/** The identities of these pathways, each disclosure recorded in the same transaction: no identity leaves without its entry. */
export async function discloseIdentities(db: RecordDb, cipher: NoteCipher, pathwayIds: readonly string[], who: AccessContext): Promise<Map<string, PatientIdentity>> {
  if (pathwayIds.length === 0) return new Map();
  return db.transaction().execute(async (trx) => {
    const found = await readSealed(trx, cipher, pathwayIds);
    await addEntries(trx, [...found.keys()], who, 'disclosed');
    return found;
  });
}

/** A coordinator's correction; the entry names the fields changed, never their values. Null when the patient has no identity kept. */
export async function correctIdentity(db: RecordDb, cipher: NoteCipher, pathwayId: string, correction: PatientCorrection, who: AccessContext): Promise<PatientIdentity | null> {
  return db.transaction().execute(async (trx) => {
    // Row lock: two corrections at once apply one after the other.
    await sql`select 1 from patient_identities where pathway_id = ${pathwayId} for update`.execute(trx);
    const known = (await readSealed(trx, cipher, [pathwayId])).get(pathwayId);
    if (!known) return null;
    const next: PatientIdentity = { ...known };
    if (correction.name !== undefined) next.name = correction.name;
    if (correction.birthDate === null) delete next.birthDate;
    else if (correction.birthDate !== undefined) next.birthDate = correction.birthDate;
    if (correction.contact === null) delete next.contact;
    else if (correction.contact !== undefined) next.contact = correction.contact;
    await writeSealed(trx, cipher, pathwayId, next);
    await addEntries(trx, [pathwayId], who, 'corrected', Object.keys(correction).sort());
    return next;
  });
}

/** Erases a patient's identity on request; the de-identified clinical record stays. Whether there was one to erase. */
export async function eraseIdentity(db: RecordDb, pathwayId: string, who: AccessContext): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const gone = await trx.deleteFrom('patient_identities').where('pathway_id', '=', pathwayId).executeTakeFirst();
    const erased = Number(gone.numDeletedRows) > 0;
    if (erased) await addEntries(trx, [pathwayId], who, 'erased');
    return erased;
  });
}

/** Identities of pathway ids that no longer have any enrolment in the record (retention deleted them). */
export async function purgeOrphanIdentities(db: Db, pathwayIds: readonly string[]): Promise<number> {
  if (pathwayIds.length === 0) return 0;
  const result = await db
    .deleteFrom('patient_identities')
    .where('pathway_id', 'in', [...new Set(pathwayIds)])
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('pathways').select('pathway_id').whereRef('pathways.pathway_id', '=', 'patient_identities.pathway_id'))))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A pathway's access entries, newest first. */
export async function listAccessEntries(db: RecordDb, pathwayId: string, limit = 500): Promise<AccessEntry[]> {
  const rows = await db.selectFrom('access_entries').selectAll().where('pathway_id', '=', pathwayId).orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    at: new Date(r.at).toISOString(),
    pathwayId: r.pathway_id,
    actor: { id: r.actor_id, role: r.actor_role },
    action: r.action as AccessAction,
    route: r.route,
    ...(r.request_id ? { requestId: r.request_id } : {}),
    ...(r.fields ? { fields: r.fields as unknown as string[] } : {}),
  }));
}

/**
 * Scores from the EHR: a FHIR R4 Bundle (transaction or batch) of Observations for one patient
 * becomes one reassessment per effective time. Everything wrong with the Bundle is found in one
 * pass and named by its FHIRPath, so the sender can fix it all at once; nothing is recorded then.
 *
 * The patient is `Observation.subject.identifier.value`: the clinic's patient reference, the
 * same one that enrolled them. The Observations' ids (or the uuid of a `urn:uuid:` fullUrl) are
 * kept with the reassessment: sending them again records nothing twice.
 */
import { createHash } from 'node:crypto';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { z } from 'zod';
import { OdiSchema, PainNrsSchema, PgicSchema, DailyMmeSchema, type ReassessmentInput } from '../clinical/events';
import type { ReassessmentRecord } from '../clinical/pathway';
import { SCORE_CODES, UCUM, scoreCode, type ScoreField } from './codes';

const VALUE_SCHEMAS: Record<ScoreField, z.ZodType<number>> = { painNrs: PainNrsSchema, odi: OdiSchema, pgic: PgicSchema, dailyMme: DailyMmeSchema };
const FHIR_ID = /^[A-Za-z0-9.-]{1,64}$/;
const DATE_TIME = z.iso.datetime({ offset: true });
const ACCEPTED_STATUSES = ['final', 'amended', 'corrected'];
export const MAX_ENTRIES = 100;

/** One reassessment to record: the scores at one effective time, and where they came from. */
export interface ImportedReassessment {
  /** Positions of its Observations in the Bundle, so the answer can speak to each, and their ids. */
  entries: number[];
  ids: string[];
  /** FHIRPath of each of its Observations' effective time (effectiveDateTime or effectiveInstant): they become `assessedAt`. */
  effectiveElements: string[];
  input: ReassessmentInput & { assessedAt: string; sourceIds: NonNullable<ReassessmentInput['sourceIds']> };
  /** Derived from the Observations' ids, so a repeat of the same Observations is recognised as one. */
  idempotencyKey: string;
}

export interface ObservationImport {
  bundleType: 'transaction' | 'batch';
  patientRef: string;
  /** The first entry's subject, for refusals about the patient. */
  subjectExpression: string;
  entryCount: number;
  /** In order of effective time. */
  reassessments: ImportedReassessment[];
}

export type IssueCode = OperationOutcomeIssue['code'];

export function issue(code: IssueCode, expression: string | string[], text: string): OperationOutcomeIssue {
  return { severity: 'error', code, details: { text }, expression: Array.isArray(expression) ? expression : [expression] };
}

export function operationOutcome(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface ParsedObservation {
  index: number;
  id: string;
  field: ScoreField;
  value: number;
  at: number;
  atText: string;
  /** FHIRPath of its effective time. */
  atElement: string;
  patientRef: string;
}

const KNOWN_CODES = SCORE_CODES.map((c) => `${c.coding.system}|${c.coding.code}`).join(', ');

/** Reads one entry; every problem goes into `issues`. */
function readEntry(entry: unknown, index: number, patientRef: z.ZodType<string>, issues: OperationOutcomeIssue[]): ParsedObservation | null {
  const at = `Bundle.entry[${index}]`;
  const before = issues.length;
  if (!isObject(entry) || !isObject(entry.resource)) {
    issues.push(issue('required', `${at}.resource`, 'each entry holds an Observation'));
    return null;
  }
  const r = entry.resource;
  const path = `${at}.resource`;
  if (r.resourceType !== 'Observation') {
    issues.push(issue('not-supported', `${path}.resourceType`, 'only Observations are accepted'));
    return null;
  }
  if (entry.request !== undefined) {
    const method = isObject(entry.request) ? entry.request.method : undefined;
    if (method !== 'POST' && method !== 'PUT') issues.push(issue('not-supported', `${at}.request.method`, 'only POST or PUT of an Observation'));
  }

  const fromFullUrl = typeof entry.fullUrl === 'string' ? /^urn:uuid:([0-9a-fA-F-]{36})$/.exec(entry.fullUrl)?.[1] : undefined;
  const id = typeof r.id === 'string' ? r.id : fromFullUrl;
  if (id === undefined) issues.push(issue('required', `${path}.id`, 'an Observation needs an id (or a urn:uuid fullUrl): it is kept so a repeat records nothing twice'));
  else if (!FHIR_ID.test(id)) issues.push(issue('value', `${path}.id`, 'not a FHIR id (1-64 letters, digits, - or .)'));

  if (typeof r.status !== 'string' || !ACCEPTED_STATUSES.includes(r.status)) {
    issues.push(issue('value', `${path}.status`, `status must be ${ACCEPTED_STATUSES.join(', ')}`));
  }

  const codings = isObject(r.code) && Array.isArray(r.code.coding) ? r.code.coding : [];
  const known = SCORE_CODES.find((c) => codings.some((coding) => isObject(coding) && coding.system === c.coding.system && coding.code === c.coding.code));
  if (!known) issues.push(issue('code-invalid', `${path}.code`, `unknown code: send one of ${KNOWN_CODES}`));

  const subject = isObject(r.subject) && isObject(r.subject.identifier) ? r.subject.identifier.value : undefined;
  let ref: string | undefined;
  if (typeof subject !== 'string') {
    issues.push(issue('required', `${path}.subject.identifier.value`, "identify the patient by subject.identifier.value: the clinic's patient reference"));
  } else if (!patientRef.safeParse(subject).success) {
    issues.push(issue('value', `${path}.subject.identifier.value`, "not a patient reference (6-128 letters, digits or . _ : -)"));
  } else {
    ref = subject;
  }

  const effectiveKey = r.effectiveDateTime !== undefined ? 'effectiveDateTime' : r.effectiveInstant !== undefined ? 'effectiveInstant' : undefined;
  const effective = effectiveKey ? r[effectiveKey] : undefined;
  if (!effectiveKey || !DATE_TIME.safeParse(effective).success) {
    issues.push(issue(effectiveKey ? 'value' : 'required', `${path}.${effectiveKey ?? 'effectiveDateTime'}`, 'the effective time, a date and time with its offset'));
  }

  const q = r.valueQuantity;
  let value: number | undefined;
  if (!isObject(q)) {
    issues.push(issue('required', `${path}.valueQuantity`, 'the score as a valueQuantity'));
  } else {
    if (typeof q.value !== 'number') issues.push(issue('required', `${path}.valueQuantity.value`, 'the value is missing'));
    const unit = typeof q.code === 'string' ? q.code : typeof q.unit === 'string' ? q.unit : undefined;
    if (unit === undefined) {
      issues.push(issue('required', `${path}.valueQuantity.code`, `missing unit${known ? `: ${known.acceptedUnits.join(' or ')} (UCUM)` : ''}`));
    } else if (q.system !== undefined && q.system !== UCUM) {
      issues.push(issue('code-invalid', `${path}.valueQuantity.system`, 'units are UCUM'));
    } else if (known && !known.acceptedUnits.includes(unit)) {
      issues.push(issue('code-invalid', `${path}.valueQuantity.code`, `unit not accepted for this code: ${known.acceptedUnits.join(' or ')}`));
    }
    if (known && typeof q.value === 'number') {
      const checked = VALUE_SCHEMAS[known.field].safeParse(q.value);
      if (checked.success) value = checked.data;
      else issues.push(issue('value', `${path}.valueQuantity.value`, checked.error.issues.map((i) => i.message).join('; ')));
    }
  }

  if (issues.length > before || !known || id === undefined || ref === undefined || value === undefined) return null;
  return { index, id, field: known.field, value, at: Date.parse(effective as string), atText: effective as string, atElement: `${path}.${effectiveKey}`, patientRef: ref };
}

/** A stable key from the Observations' ids: the same Observations, in any order, give the same key. */
export function idempotencyKeyFor(ids: string[]): string {
  return `fhir-${createHash('sha256').update([...ids].sort().join('\n')).digest('hex').slice(0, 40)}`;
}

/** The Bundle as reassessments, or every issue that refuses it. `patientRef` is the API's rule for a patient reference. */
export function readObservationBundle(body: unknown, patientRef: z.ZodType<string>): { ok: true; value: ObservationImport } | { ok: false; issues: OperationOutcomeIssue[] } {
  const issues: OperationOutcomeIssue[] = [];
  if (!isObject(body) || body.resourceType !== 'Bundle') return { ok: false, issues: [issue('structure', 'Bundle', 'send a FHIR Bundle')] };
  const type = body.type;
  if (type !== 'transaction' && type !== 'batch') issues.push(issue('not-supported', 'Bundle.type', 'a transaction or a batch'));
  const entries = Array.isArray(body.entry) ? body.entry : [];
  if (entries.length === 0) issues.push(issue('required', 'Bundle.entry', 'no Observations'));
  if (entries.length > MAX_ENTRIES) issues.push(issue('too-costly', 'Bundle.entry', `at most ${MAX_ENTRIES} entries`));
  const parsed = entries.slice(0, MAX_ENTRIES).map((e, i) => readEntry(e, i, patientRef, issues)).filter((o): o is ParsedObservation => o !== null);

  const seenIds = new Map<string, number>();
  for (const o of parsed) {
    if (seenIds.has(o.id)) issues.push(issue('duplicate', `Bundle.entry[${o.index}].resource.id`, `the same id as entry ${seenIds.get(o.id)}`));
    else seenIds.set(o.id, o.index);
  }
  const patients = new Set(parsed.map((o) => o.patientRef));
  if (patients.size > 1) {
    issues.push(issue('business-rule', parsed.map((o) => `Bundle.entry[${o.index}].resource.subject`), 'one patient per Bundle'));
  }

  const groups = new Map<number, ParsedObservation[]>();
  for (const o of parsed) groups.set(o.at, [...(groups.get(o.at) ?? []), o]);
  const reassessments: ImportedReassessment[] = [];
  for (const [, group] of [...groups.entries()].sort(([a], [b]) => a - b)) {
    const byField = new Map<ScoreField, ParsedObservation>();
    for (const o of group) {
      if (byField.has(o.field)) issues.push(issue('duplicate', `Bundle.entry[${o.index}].resource.code`, `a second ${scoreCode(o.field).coding.display} at the same effective time as entry ${byField.get(o.field)!.index}`));
      else byField.set(o.field, o);
    }
    const pain = byField.get('painNrs');
    if (!pain) {
      issues.push(issue('required', group.map((o) => `Bundle.entry[${o.index}].resource.effectiveDateTime`), `a reassessment needs a pain NRS (${scoreCode('painNrs').coding.system}|${scoreCode('painNrs').coding.code}) at each effective time`));
      continue;
    }
    const value = (field: ScoreField) => byField.get(field)?.value;
    const sourceIds = Object.fromEntries([...byField].map(([field, o]) => [field, o.id]));
    reassessments.push({
      entries: group.map((o) => o.index),
      ids: group.map((o) => o.id),
      effectiveElements: group.map((o) => o.atElement),
      input: {
        painNrs: pain.value,
        ...(value('odi') !== undefined ? { odi: value('odi') } : {}),
        ...(value('pgic') !== undefined ? { pgic: value('pgic') } : {}),
        ...(value('dailyMme') !== undefined ? { dailyMme: value('dailyMme') } : {}),
        assessedAt: pain.atText,
        sourceIds,
      },
      idempotencyKey: idempotencyKeyFor(group.map((o) => o.id)),
    });
  }
  if (type === 'transaction' && groups.size > 1) {
    issues.push(issue('not-supported', 'Bundle.type', 'a transaction records one reassessment, all or nothing: send Observations of several effective times as a batch'));
  }
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    value: {
      bundleType: type as 'transaction' | 'batch',
      patientRef: parsed[0]!.patientRef,
      subjectExpression: `Bundle.entry[${parsed[0]!.index}].resource.subject`,
      entryCount: entries.length,
      reassessments,
    },
  };
}

/**
 * Was this reassessment recorded before? `all` when every one of its Observations is already in
 * the pathway with the same value and time; `changed` when one is there with another value or
 * time (an amendment, which must not be dropped silently nor applied behind the clinician's back);
 * `some` when only some are; else `none`.
 */
export function recordedBefore(reassessments: readonly ReassessmentRecord[], r: ImportedReassessment): 'all' | 'some' | 'changed' | 'none' {
  const recorded = new Map<string, { value: number | undefined; at: string }>();
  for (const x of reassessments) {
    for (const [field, id] of Object.entries(x.sourceIds ?? {}) as Array<[ScoreField, string]>) recorded.set(id, { value: x[field], at: x.at });
  }
  const fields = Object.entries(r.input.sourceIds) as Array<[ScoreField, string]>;
  const found = fields.filter(([, id]) => recorded.has(id));
  if (found.length === 0) return 'none';
  const same = ([field, id]: [ScoreField, string]) => recorded.get(id)!.value === r.input[field] && Date.parse(recorded.get(id)!.at) === Date.parse(r.input.assessedAt);
  if (!found.every(same)) return 'changed';
  return found.length === fields.length ? 'all' : 'some';
}

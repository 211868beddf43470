/**
 * What a coordinator or clinician can tell a pathway. These zod schemas are the single source
 * for validation (in the API and again in the workflow's update validators), for the types,
 * and for the OpenAPI document.
 */
import { z } from 'zod';
import { ProcedureTypeSchema, RedFlagSchema, StageSchema, WorkupItemSchema } from './definition';

/** Pain on the 0-10 numeric rating scale (LOINC 72514-3); one decimal allows weekly averages. */
export const PainNrsSchema = z.number().min(0).max(10).multipleOf(0.1).describe('Pain NRS, 0-10');
/** Oswestry Disability Index, 0-100. */
export const OdiSchema = z.number().int().min(0).max(100).describe('Oswestry Disability Index, 0-100');
/** Patient Global Impression of Change, 1 (very much improved) to 7 (very much worse). */
export const PgicSchema = z.number().int().min(1).max(7).describe('PGIC, 1-7');

const note = z.string().max(2000).describe('Free text; kept in the pathway record, never in logs');
const isoDateTime = z.iso.datetime({ offset: true });
/** When something happened, for data entered after the visit; checked against the pathway (clinical/pathway.ts). */
const happenedAt = (what: string) =>
  isoDateTime.optional().describe(`When ${what} (ISO date-time with offset); defaults to now. Not in the future, not before the pathway's last recorded event, and within the definition's backdateWindowDays`);

/** Daily opioid use in morphine milligram equivalents (CDC 2022); a cut in it is an outcome of its own. */
export const DailyMmeSchema = z.number().min(0).max(10000).describe('Daily morphine milligram equivalents (MME), >= 0');

export const ScoresSchema = z
  .object({ painNrs: PainNrsSchema, odi: OdiSchema.optional(), pgic: PgicSchema.optional(), dailyMme: DailyMmeSchema.optional() })
  .strict();
export type Scores = z.infer<typeof ScoresSchema>;

export const RedFlagsSchema = z.array(RedFlagSchema).max(RedFlagSchema.options.length);

export const ActorSchema = z
  .object({
    id: z.string().min(1).max(120),
    /** `patient`: the patient answering their questionnaire at home (never a key's or a person's role in the console). */
    role: z.enum(['viewer', 'coordinator', 'clinician', 'lead', 'system', 'patient']),
  })
  .strict();
export type Actor = z.infer<typeof ActorSchema>;

/** Ids of the records in the clinic's system that the scores came from (FHIR Observation ids on import). */
const sourceId = z.string().regex(/^[A-Za-z0-9.-]{1,64}$/, 'a FHIR id');
export const SourceIdsSchema = z
  .object({ painNrs: sourceId, odi: sourceId, pgic: sourceId, dailyMme: sourceId })
  .partial()
  .strict()
  .describe("Ids of the records in the clinic's system these scores came from; a repeat with the same ids records nothing twice");

export const ReassessmentInputSchema = ScoresSchema.extend({
  sourceIds: SourceIdsSchema.optional(),
  redFlags: RedFlagsSchema.default([]),
  assessedAt: happenedAt('the assessment happened'),
  note: note.optional(),
}).strict();
export type ReassessmentInput = z.input<typeof ReassessmentInputSchema>;

export const ProcedureInputSchema = z
  .object({
    type: ProcedureTypeSchema,
    /** When it was performed (or, for an SCS trial, when the trial started); defaults to now. */
    performedAt: isoDateTime.optional(),
    /** Only for a psychological evaluation. */
    outcome: z.enum(['cleared', 'not-cleared']).optional(),
    spinalRegion: z.string().max(40).optional(),
    /** A clinician's reason to record a spinal cord stimulation trial before the definition's months of conservative care. */
    overrideReason: z
      .string()
      .trim()
      .min(3)
      .max(2000)
      .optional()
      .describe("Only a clinician, only for an SCS trial before the definition's minimum months of conservative care: why"),
    note: note.optional(),
  })
  .strict();
export type ProcedureInput = z.infer<typeof ProcedureInputSchema>;

export const WorkupResultInputSchema = z
  .object({
    item: z.union([WorkupItemSchema, z.literal('surgical-consult')]),
    completedAt: happenedAt('the item was completed'),
    note: note.optional(),
  })
  .strict();
export type WorkupResultInput = z.infer<typeof WorkupResultInputSchema>;

export const RedFlagReportSchema = z
  .object({ redFlags: RedFlagsSchema.min(1), reportedAt: happenedAt('the red flags were found'), note: note.optional() })
  .strict();
export type RedFlagReport = z.infer<typeof RedFlagReportSchema>;

const reason = z.string().trim().min(3).max(2000).describe('Why: required for every override');

export const ActionInputSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('escalate'), toStage: StageSchema.optional(), reason }).strict(),
  z.object({ action: z.literal('hold'), reason }).strict(),
  z.object({ action: z.literal('resume'), reason }).strict(),
  z.object({ action: z.literal('withdraw'), reason }).strict(),
  z.object({ action: z.literal('discharge'), reason }).strict(),
  z.object({ action: z.literal('close'), reason }).strict(),
  /** The care team has seen the messages that could not be delivered (and reached the patient or team another way). */
  z.object({ action: z.literal('acknowledge'), reason: reason.optional() }).strict(),
]);
export type ActionInput = z.infer<typeof ActionInputSchema>;
export type ActionName = ActionInput['action'];

export const EnrolmentInputSchema = z
  .object({
    careTeam: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
    baseline: ScoresSchema,
    redFlags: RedFlagsSchema.default([]),
    conservativeCareSince: isoDateTime
      .refine((v) => Date.parse(v) <= Date.now(), 'conservativeCareSince is in the future')
      .optional()
      .describe('When conservative care began, if before enrolment (documented); counts toward the months before an SCS trial'),
  })
  .strict();

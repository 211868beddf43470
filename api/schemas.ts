/**
 * The HTTP contract. Request bodies reuse the clinical schemas, so the API, the workflow's
 * validators and the OpenAPI document all read the same rules.
 */
import { z } from 'zod';
import { StageSchema } from '../clinical/definition';
import { PATHWAY_STATUSES } from '../clinical/pathway';
import {
  ActionInputSchema,
  EnrolmentInputSchema,
  ProcedureInputSchema,
  ReassessmentInputSchema,
  RedFlagReportSchema,
  WorkupResultInputSchema,
} from '../clinical/events';
import { PatientDetailsSchema, PatientRefSchema } from '../clinical/patient';

export { PatientRefSchema, PatientCorrectionSchema } from '../clinical/patient';

export const EnrolmentRequestSchema = EnrolmentInputSchema.extend({
  patientRef: PatientRefSchema,
  patient: PatientDetailsSchema.optional().describe("Who the patient is: name, date of birth, contact; kept encrypted in the record store, shown only to the patient's care team"),
  definition: z
    .object({ id: z.string().min(1).max(64), version: z.number().int().min(1).optional() })
    .strict()
    .optional()
    .describe('Pathway definition and version; defaults to the latest psps-lumbar'),
}).strict();
export type EnrolmentRequest = z.infer<typeof EnrolmentRequestSchema>;

/** A care team as at enrolment; every filter value is held to the same pattern before it reaches a query. */
export const CareTeamSchema = EnrolmentInputSchema.shape.careTeam;

export const LookupRequestSchema = z.object({ patientRef: PatientRefSchema }).strict();

export const PathwayIdSchema = z.string().regex(/^pw-[0-9a-f]{32}$/, 'a pathway id');

export const StatusSchema = z.enum(PATHWAY_STATUSES);

const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');
/** A whole number in a query string: an empty or partial value is refused, never read as 0. */
// A query string's whole number; its OpenAPI schema states the bounds the API enforces.
const integerQuery = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]{1,6}$/, 'a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .meta({ type: 'integer', minimum: min, maximum: max });

export const ListQuerySchema = z
  .object({
    stage: StageSchema.optional(),
    status: StatusSchema.optional(),
    careTeam: CareTeamSchema.optional(),
    overdue: booleanQuery.optional(),
    undelivered: booleanQuery.optional(),
    dueBefore: z.iso.datetime({ offset: true }).optional(),
    pageSize: integerQuery(1, 200).default(50),
    pageToken: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, 'a token from nextPageToken').optional(),
  })
  .strict();
export type ListQuery = z.infer<typeof ListQuerySchema>;

export const SummaryQuerySchema = z.object({ careTeam: CareTeamSchema.optional() }).strict();

export const WorklistQuerySchema = z
  .object({
    careTeam: CareTeamSchema.optional(),
    dueSoonDays: integerQuery(0, 60).default(7).describe('How far ahead "due soon" looks, in days'),
    pageSize: integerQuery(1, 500).default(200).describe('Items a page, most urgent first'),
    pageToken: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,300}$/, 'a token from nextPageToken')
      .optional()
      .describe('The next page of the same worklist (the same filters, judged at the same time as its first page)'),
  })
  .strict();
export type WorklistQuery = z.infer<typeof WorklistQuerySchema>;

export const OutcomesQuerySchema = z
  .object({
    careTeam: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a care team').optional(),
    definitionId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a definition id').optional(),
    definitionVersion: z.coerce.number().int().min(1).max(10_000).optional(),
    from: z.union([z.iso.datetime({ offset: true }), z.iso.date()]).optional().describe('Stage episodes entered (procedures performed) from this time (a date is its start, UTC)'),
    to: z.union([z.iso.datetime({ offset: true }), z.iso.date()]).optional().describe('... up to this time, exclusive (a date is its start, UTC)'),
  })
  .strict();

export const CHANGE_KINDS = {
  reassessments: { schema: ReassessmentInputSchema, update: 'recordReassessment' },
  procedures: { schema: ProcedureInputSchema, update: 'recordProcedure' },
  workup: { schema: WorkupResultInputSchema, update: 'recordWorkupResult' },
  'red-flags': { schema: RedFlagReportSchema, update: 'reportRedFlags' },
  actions: { schema: ActionInputSchema, update: 'applyAction' },
} as const;
export type ChangeKind = keyof typeof CHANGE_KINDS;

export const IdempotencyKeySchema = z.string().regex(/^[A-Za-z0-9._:-]{8,128}$/, '8-128 letters, digits or . _ : -');

// ---- Responses (documented in the OpenAPI document) ----

export const FieldErrorSchema = z.object({ field: z.string(), message: z.string() });
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(FieldErrorSchema).optional(),
    pathwayId: z.string().optional(),
  })
  .describe('RFC 9457 problem details');

const DueSchema = z.object({ kind: z.string(), dueAt: z.string() }).nullable();
const TimelineEntrySchema = z.object({
  seq: z.number().int(),
  at: z.string().describe('When the entry was recorded'),
  occurredAt: z.string().optional().describe('When it happened, for clinical events (assessedAt, reportedAt, completedAt, performedAt)'),
  actor: z.object({ id: z.string(), role: z.string() }),
  event: z.string(),
  summary: z.string(),
  ruleId: z.string().optional(),
  rule: z.string().optional().describe('The rule, as a sentence a clinician can read'),
  cites: z
    .array(z.object({ ruleId: z.string(), rule: z.string() }))
    .optional()
    .describe('Further rules the event starts, e.g. the limits a procedure counts toward'),
  numbers: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])).optional(),
  reason: z.string().optional(),
  stageBefore: StageSchema,
  stageAfter: StageSchema,
  statusBefore: StatusSchema,
  statusAfter: StatusSchema,
  due: DueSchema.optional().describe('The due item the entry leaves behind'),
});

const PatientLabelSchema = z
  .object({ reference: z.string(), name: z.string().optional() })
  .describe("Who the patient is (the clinic's reference and name): only to coordinators and clinicians of the patient's care team, and every disclosure is audited");
export const PatientIdentitySchema = PatientLabelSchema.extend({
  birthDate: z.string().optional(),
  contact: z.object({ mobile: z.string().optional(), email: z.string().optional(), language: z.string() }).optional(),
}).describe("Who the patient is and how to reach them: only to coordinators and clinicians of the patient's care team, and every disclosure is audited");

export const PathwayViewSchema = z
  .looseObject({
    patient: PatientIdentitySchema.optional(),
    pathwayId: PathwayIdSchema,
    careTeam: z.string(),
    definition: z.looseObject({ id: z.string(), version: z.number().int() }),
    status: StatusSchema,
    stage: StageSchema,
    enrolledAt: z.string(),
    baseline: z.looseObject({ painNrs: z.number() }),
    stageEnteredAt: z.string(),
    reference: z.looseObject({ painNrs: z.number(), from: z.string(), at: z.string() }),
    due: DueSchema,
    overdue: z.boolean(),
    pendingWorkup: z.array(z.string()),
    consecutiveResponses: z.number().int(),
    timeline: z.array(TimelineEntrySchema),
  })
  .describe('The full state of a pathway: stage, status, reference and latest scores, next due item, work-up, timeline');

export const ChangeResultSchema = z.object({
  decisions: z.array(TimelineEntrySchema).describe('The timeline entries this change added'),
  pathway: PathwayViewSchema.omit({ timeline: true })
    .extend({ definition: z.object({ id: z.string(), version: z.number().int(), title: z.string() }) })
    .describe('The pathway after the change, without its timeline and past reassessments (GET the pathway for those)'),
});

export const PathwayRowSchema = z.object({
  pathwayId: z.string(),
  careTeam: z.string(),
  stage: StageSchema,
  status: StatusSchema,
  nextDueAt: z.string().nullable(),
  nextDueKind: z.string().nullable(),
  overdue: z.boolean(),
  undelivered: z.boolean().describe('A message to the care team could not be delivered and no one has acted since'),
  definition: z.object({ id: z.string(), version: z.number().int() }),
  enrolledAt: z.string(),
  closedAt: z.string().nullable(),
  patient: PatientLabelSchema.optional(),
});

/** A clinician's review of a red flag the patient reported at home. */
export const RedFlagReviewSchema = z
  .object({
    confirmed: z.boolean().describe('true: the red flag is present (the pathway goes to urgent referral); false: not present'),
    note: z.string().trim().min(1).max(2000).optional(),
  })
  .strict();

export const QuestionnaireSchema = z.object({
  id: z.string(),
  state: z.enum(['sent', 'reminded', 'opened', 'answered', 'expired', 'undelivered', 'replaced']),
  instruments: z.array(z.string()),
  language: z.string(),
  issuedAt: z.string(),
  issuedBy: z.string(),
  dueAt: z.string().nullable(),
  expiresAt: z.string(),
  remindedAt: z.string().nullable(),
  openedAt: z.string().nullable(),
  answeredAt: z.string().nullable(),
  delivery: z.enum(['pending', 'delivered', 'undelivered']),
  scores: z.record(z.string(), z.number()).nullable(),
  redFlags: z.array(z.string()).nullable(),
  redFlagReview: z.enum(['pending', 'confirmed', 'not-confirmed']).nullable(),
  counted: z.enum(['reassessment', 'staff-reassessment-first', 'refused']).nullable().describe('What the answers became: the reassessment, nothing (the care team had recorded one since the link went out), or refused by the pathway'),
}).describe("A questionnaire sent to the patient: where it stands and what its answers became; never its link");

export const AccessEntrySchema = z.object({
  at: z.string(),
  pathwayId: z.string(),
  actor: z.object({ id: z.string(), role: z.string() }),
  action: z.enum(['disclosed', 'recorded', 'corrected', 'erased']),
  route: z.string().describe('Why: the route or command that showed or changed the identity'),
  requestId: z.string().optional(),
  fields: z.array(z.string()).optional().describe('For a correction: the fields changed (never their values)'),
});

export const WorklistItemSchema = PathwayRowSchema.extend({
  category: z.enum(['patient-reported-red-flag', 'urgent-referral', 'undelivered', 'lost-to-follow-up', 'overdue', 'due-today', 'due-soon']),
  patientReport: z
    .object({ questionnaireId: z.string(), redFlags: z.array(z.string()), reportedAt: z.string() })
    .optional()
    .describe('A red flag the patient reported at home, waiting for a clinician to confirm (POST .../questionnaires/{id}/review)'),
  notAnsweredByPatient: z.literal(true).optional().describe("The patient's questionnaire went unanswered by the reassessment's due date: call them"),
  patientQuestionnaire: z
    .object({ id: z.string(), state: z.enum(['sent', 'reminded', 'opened', 'answered', 'expired', 'undelivered', 'replaced']), issuedAt: z.string() })
    .optional()
    .describe("Where the patient's latest questionnaire stands; undelivered: the message did not reach them (send again from the pathway page)"),
  pendingWorkup: z.array(z.string()).optional(),
  undeliveredMessages: z.array(z.object({ messageId: z.string(), effect: z.string(), at: z.string() })).optional(),
});

/** POST /v1/pathways/{id}/fhir: the subject of the export, used for this answer only. */
export const FhirExportRequestSchema = z
  .object({
    patientRef: PatientRefSchema,
    identifierSystem: z.url().max(200).optional().describe("The clinic's identifier system for patientRef, echoed in subject.identifier.system"),
  })
  .strict();

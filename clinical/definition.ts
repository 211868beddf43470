/**
 * A pathway definition: versioned data that says how stepped care runs for one condition.
 * Every clinical number lives here, never in code, so a clinic can tune a pathway by
 * publishing a new version. A running pathway keeps the definition it was enrolled with.
 */
import { z } from 'zod';
import { BASELINE_MEASURES, INTERVENTIONAL_PROCEDURES, RED_FLAGS, SCS_PROCEDURES, STAGES, WORKUP_ITEMS } from './vocabulary';

export const StageSchema = z.enum(STAGES);
export type Stage = z.infer<typeof StageSchema>;

export const RedFlagSchema = z.enum(RED_FLAGS);
export type RedFlag = z.infer<typeof RedFlagSchema>;

export const ProcedureTypeSchema = z.enum([...INTERVENTIONAL_PROCEDURES, ...SCS_PROCEDURES]);
export type ProcedureType = z.infer<typeof ProcedureTypeSchema>;

export const WorkupItemSchema = z.enum(WORKUP_ITEMS);
export type WorkupItem = z.infer<typeof WorkupItemSchema>;

const days = z.number().int().min(0).max(3650);
const percent = z.number().min(0).max(100);

export const BaselineMeasureSchema = z.enum(BASELINE_MEASURES);
export type BaselineMeasure = z.infer<typeof BaselineMeasureSchema>;
const requiredBaseline = z
  .array(BaselineMeasureSchema)
  .refine((a) => new Set(a).size === a.length, 'each measure once')
  .optional()
  .describe('Scores the stage reference must hold before the stage\'s first procedure');

/*
 * Fields added in psps-lumbar v2 are optional: a definition without them (v1, and every
 * pathway enrolled on it, which carries its own copy) keeps the behaviour it had.
 */

export const PathwayDefinitionSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes'),
    version: z.number().int().min(1),
    title: z.string().min(1).max(200),
    /** Pain at or below this NRS is acceptable (patient acceptable symptom state): never a reason to escalate. */
    acceptablePainNrs: z.number().min(0).max(10).optional(),
    /** How many days back a reassessment, red-flag report or work-up result may be dated. Absent: not at all. */
    backdateWindowDays: days.optional(),
    /** The red flags the pathway names, each with a sentence; every one of them triggers an urgent referral. */
    redFlags: z
      .array(z.object({ id: RedFlagSchema, sentence: z.string().min(1).max(400) }).strict())
      .min(1)
      .refine((a) => new Set(a.map((f) => f.id)).size === a.length, 'each red flag once')
      .optional(),
    /**
     * When the patient is asked to answer at home (docs/patients.md): the link goes out this many
     * days before a reassessment, a reminder this many days after it, and the link stays open this
     * many days after the due date. Absent: the care team sends links themselves.
     */
    patientQuestionnaires: z
      .object({ inviteDaysBefore: days.min(1), reminderAfterDays: days.min(1), expiresAfterDueDays: days.min(1) })
      .strict()
      .optional(),
    sustainedResponse: z
      .object({ consecutiveResponses: z.number().int().min(1).max(10) })
      .strict(),
    followUp: z
      .object({
        /** Days after a due date before the item counts as overdue. */
        graceDays: days,
        /** Days overdue after which the pathway goes on hold as lost to follow-up. */
        lostToFollowUpAfterOverdueDays: days.min(1),
        /** Days between reminders once an item is overdue. */
        reminderEveryDays: days.min(1),
      })
      .strict(),
    stages: z
      .object({
        conservative: z
          .object({
            treatments: z.array(z.string().min(1)).min(1),
            minimumDays: days,
            reassessEveryDays: days.min(1),
            response: z.object({ painReductionPercent: percent, odiReductionPoints: z.number().min(0).max(100) }).strict(),
          })
          .strict(),
        interventional: z
          .object({
            procedures: z.array(z.enum(INTERVENTIONAL_PROCEDURES)).min(1),
            minimumDays: days,
            scheduleProcedureWithinDays: days.min(1),
            reassessAfterProcedureDays: days.min(1),
            response: z.object({ reliefPercent: percent }).strict(),
            escalateAfterProceduresWithoutResponse: z.number().int().min(1).max(20),
            procedureLimit: z.object({ count: z.number().int().min(1), windowDays: days.min(1) }).strict(),
            /** Least number of days between two interventional procedures (calendar days, UTC). */
            minimumIntervalDays: days.min(1).optional(),
            requiredBaseline,
          })
          .strict(),
        scs: z
          .object({
            scheduleWithinDays: days.min(1),
            trialDays: days.min(1),
            response: z
              .object({
                trialReliefPercent: percent,
                /** A trial also succeeds with at least this cut in daily morphine milligram equivalents. */
                trialMmeReductionPercent: percent.optional(),
                followUpReliefPercent: percent,
              })
              .strict(),
            followUpEveryDays: days.min(1),
            /** Months of failed conservative care (from when it began) before a trial, unless a clinician overrides. */
            minimumConservativeCareMonths: z.number().int().min(1).max(120).optional(),
            requiredBaseline,
          })
          .strict(),
        'revision-referral': z
          .object({
            workupItems: z.array(WorkupItemSchema).min(1),
            workupDueDays: days.min(1),
            consultDueDays: days.min(1),
          })
          .strict(),
      })
      .strict(),
  })
  .strict();

export type PathwayDefinition = z.infer<typeof PathwayDefinitionSchema>;

export interface DefinitionRef {
  id: string;
  version: number;
}

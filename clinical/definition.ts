/**
 * A pathway definition: versioned data that says how stepped care runs for one condition.
 * Every clinical number lives here, never in code, so a clinic can tune a pathway by
 * publishing a new version. A running pathway keeps the definition it was enrolled with.
 */
import { z } from 'zod';

export const STAGES = ['conservative', 'interventional', 'scs', 'revision-referral'] as const;
export const StageSchema = z.enum(STAGES);
export type Stage = z.infer<typeof StageSchema>;

export const RED_FLAGS = [
  'bladder-bowel-dysfunction',
  'saddle-anaesthesia',
  'progressive-motor-deficit',
  'infection',
  'suspected-fracture',
  'suspected-malignancy',
] as const;
export const RedFlagSchema = z.enum(RED_FLAGS);
export type RedFlag = z.infer<typeof RedFlagSchema>;

export const INTERVENTIONAL_PROCEDURES = [
  'nerve-block',
  'epidural-steroid-injection',
  'facet-joint-injection',
  'si-joint-injection',
  'medial-branch-block',
  'radiofrequency-ablation',
] as const;
export const SCS_PROCEDURES = ['psychological-evaluation', 'scs-trial', 'scs-implant'] as const;
export const ProcedureTypeSchema = z.enum([...INTERVENTIONAL_PROCEDURES, ...SCS_PROCEDURES]);
export type ProcedureType = z.infer<typeof ProcedureTypeSchema>;

export const WORKUP_ITEMS = ['imaging', 'labs', 'bone-density', 'health-optimisation', 'second-opinion'] as const;
export const WorkupItemSchema = z.enum(WORKUP_ITEMS);
export type WorkupItem = z.infer<typeof WorkupItemSchema>;

const days = z.number().int().min(0).max(3650);
const percent = z.number().min(0).max(100);

export const PathwayDefinitionSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes'),
    version: z.number().int().min(1),
    title: z.string().min(1).max(200),
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
          })
          .strict(),
        scs: z
          .object({
            scheduleWithinDays: days.min(1),
            trialDays: days.min(1),
            response: z.object({ trialReliefPercent: percent, followUpReliefPercent: percent }).strict(),
            followUpEveryDays: days.min(1),
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

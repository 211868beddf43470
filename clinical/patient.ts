/**
 * Who the patient is, as the care team needs it to recognise and reach them. It is kept only in
 * the record store, encrypted (record/patients.ts), and never enters the workflow: nothing here
 * is imported by workflows/.
 */
import { z } from 'zod';

/** The clinic's reference (medical record number): hashed into the pathway id, and kept encrypted with the identity. */
export const PatientRefSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{6,128}$/, '6-128 letters, digits or . _ : -')
  .describe("The clinic's reference for the patient (medical record number): the pathway id is its keyed hash; it is kept only encrypted");

/** Languages the patient's questionnaires and messages come in. */
export const PATIENT_LANGUAGES = ['en', 'es'] as const;
export type PatientLanguage = (typeof PATIENT_LANGUAGES)[number];

export const ContactSchema = z
  .object({
    mobile: z
      .string()
      .regex(/^\+[1-9][0-9]{6,14}$/, 'an international number, e.g. +447700900123 (E.164)')
      .optional()
      .describe('Mobile number in E.164 form'),
    // A plain pattern rather than the email format: the API and its OpenAPI document then agree on
    // every address (validators' email formats differ on the rare forms).
    email: z
      .string()
      .max(254)
      .regex(/^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, 'an email address, e.g. name@example.org')
      .optional(),
    language: z.enum(PATIENT_LANGUAGES).default('en').describe('The language of the patient\'s questionnaires and messages'),
  })
  .strict();

const name = z.string().trim().min(1).max(120).describe("The patient's name as the care team knows them");
const birthDate = z.iso.date().refine((d) => Date.parse(d) <= Date.now(), 'in the future').describe('Date of birth (YYYY-MM-DD)');

/** What enrolment takes besides the reference. */
export const PatientDetailsSchema = z.object({ name, birthDate: birthDate.optional(), contact: ContactSchema.optional() }).strict();
export type PatientDetails = z.infer<typeof PatientDetailsSchema>;

/** A coordinator's correction: only the fields given change; `null` clears date of birth or contact. */
export const PatientCorrectionSchema = z
  .object({ name: name.optional(), birthDate: birthDate.nullable().optional(), contact: ContactSchema.nullable().optional() })
  .strict()
  .refine((c) => Object.keys(c).length > 0, 'give at least one of name, birthDate, contact');
export type PatientCorrection = z.infer<typeof PatientCorrectionSchema>;

/** The whole identity as kept (sealed) and as disclosed to the care team. */
export interface PatientIdentity {
  reference: string;
  name?: string;
  birthDate?: string;
  contact?: z.infer<typeof ContactSchema>;
}

/** What lists show: enough to recognise the patient, no more. */
export type PatientLabel = Pick<PatientIdentity, 'reference' | 'name'>;

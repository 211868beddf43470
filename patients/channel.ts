/**
 * How a message reaches a patient. The embedded default keeps it in the local outbox (the
 * `/outbox` page shows it, link and all); a clinic's gateway (signed webhook) or SMTP email are
 * the channels of a deployment.
 */
import type { PatientLanguage } from '../clinical/patient';

export interface PatientMessage {
  /** Stable for retries: the receiver drops a repeat with the same id. */
  id: string;
  invitationId: string;
  pathwayId: string;
  kind: 'invitation' | 'reminder';
  language: PatientLanguage;
  /** Where it goes: read from the encrypted identity when it is sent, never carried through Temporal. */
  to: { mobile?: string; email?: string };
  subject: string;
  text: string;
  link: string;
  expiresAt: string;
}

export interface PatientChannel {
  readonly name: 'outbox' | 'webhook' | 'email' | 'none';
  /** Throws when the message could not be handed over (retried by the caller). */
  send(message: PatientMessage): Promise<void>;
}

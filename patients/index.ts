/**
 * Patients' questionnaires, built from their dependencies: the instruments (the clinic's own
 * where given), the link signer keyed from the payload keys, the patient channel (the local
 * outbox unless another is given), and the service the API and the pages share.
 */
import type { Router } from 'express';
import { loadInstruments, type InstrumentRegistry } from '../clinical/instruments';
import type { NoteCipher } from '../record/note-cipher';
import type { RecordStore } from '../record/store';
import type { PatientChannel } from './channel';
import { LinkSigner } from './links';
import { EmailPatientChannel, parseGateway, WebhookPatientChannel } from './gateway';
import { OutboxChannel, outboxRouter } from './outbox';
import { QuestionnaireService, type QuestionnaireTiming, type RecordChange } from './questionnaire-service';

export interface Patients {
  questionnaires: QuestionnaireService;
  instruments: InstrumentRegistry;
  channel: PatientChannel;
  /** The local outbox page, when messages go to the outbox and not in production. */
  outbox?: Router;
}

/** The channel the settings choose: the local outbox, the clinic's gateway, email, or none (issuing a link then answers 409). */
export function channelFor(settings: { channel: 'outbox' | 'webhook' | 'email' | 'none'; webhook?: string; smtpUrl?: string; emailFrom?: string }, record: { store: RecordStore; cipher: NoteCipher }): PatientChannel | null {
  switch (settings.channel) {
    case 'outbox':
      return new OutboxChannel(record);
    case 'webhook':
      return new WebhookPatientChannel(parseGateway(settings.webhook!));
    case 'email':
      return new EmailPatientChannel(settings.smtpUrl!, settings.emailFrom!);
    case 'none':
      return null;
  }
}

export function createPatients(opts: {
  record: { store: RecordStore; cipher: NoteCipher };
  change: RecordChange;
  publicUrl: () => string;
  production: boolean;
  /** Unset: the local outbox; null: no channel (sending a link is refused). */
  channel?: PatientChannel | null;
  instrumentsDir?: string;
  timing?: QuestionnaireTiming;
  /** The clock (QuestionnaireDeps.now): the wall clock unless given. */
  now?: () => Promise<number>;
}): Patients {
  const instruments = loadInstruments(opts.instrumentsDir);
  const channel = opts.channel === undefined ? new OutboxChannel(opts.record) : (opts.channel ?? new NoChannel());
  const questionnaires = new QuestionnaireService({
    record: opts.record,
    instruments,
    signer: new LinkSigner(opts.record.cipher.derivedSecrets('patient-links')),
    channel,
    publicUrl: opts.publicUrl,
    change: opts.change,
    timing: opts.timing,
    now: opts.now,
  });
  return { questionnaires, instruments, channel, ...(channel instanceof OutboxChannel && !opts.production ? { outbox: outboxRouter(opts.record) } : {}) };
}

/** No patient channel configured: every send fails, so the questionnaire shows as undelivered. */
class NoChannel implements PatientChannel {
  readonly name = 'none' as const;
  async send(): Promise<void> {
    throw new Error('no patient channel is configured (PATHWAY_PATIENT_CHANNEL)');
  }
}

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
import { OutboxChannel, outboxRouter } from './outbox';
import { QuestionnaireService, type QuestionnaireTiming, type RecordChange } from './questionnaire-service';

export interface Patients {
  questionnaires: QuestionnaireService;
  instruments: InstrumentRegistry;
  channel: PatientChannel;
  /** The local outbox page, when messages go to the outbox and not in production. */
  outbox?: Router;
}

export function createPatients(opts: {
  record: { store: RecordStore; cipher: NoteCipher };
  change: RecordChange;
  publicUrl: () => string;
  production: boolean;
  channel?: PatientChannel;
  instrumentsDir?: string;
  timing?: QuestionnaireTiming;
}): Patients {
  const instruments = loadInstruments(opts.instrumentsDir);
  const channel = opts.channel ?? new OutboxChannel(opts.record);
  const questionnaires = new QuestionnaireService({
    record: opts.record,
    instruments,
    signer: new LinkSigner(opts.record.cipher.derivedSecrets('patient-links')),
    channel,
    publicUrl: opts.publicUrl,
    change: opts.change,
    timing: opts.timing,
  });
  return { questionnaires, instruments, channel, ...(channel.name === 'outbox' && !opts.production ? { outbox: outboxRouter(opts.record) } : {}) };
}

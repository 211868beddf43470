/**
 * The embedded default's patient channel: every message lands in the record store's local
 * outbox, and the `/outbox` page (not in production) lists them, each with its link, so a person
 * can play the patient's part with `npm start` alone.
 */
import { Router } from 'express';
import type { NoteCipher } from '../record/note-cipher';
import type { RecordDb } from '../record/store';
import type { PatientChannel, PatientMessage } from './channel';

export class OutboxChannel implements PatientChannel {
  readonly name = 'outbox' as const;

  constructor(private readonly record: { store: { db: RecordDb }; cipher: NoteCipher }) {}

  async send(message: PatientMessage): Promise<void> {
    await this.record.store.db
      .insertInto('patient_messages')
      .values({
        id: message.id,
        invitation_id: message.invitationId,
        pathway_id: message.pathwayId,
        kind: message.kind,
        channel: 'outbox',
        body_enc: this.record.cipher.encrypt(JSON.stringify({ subject: message.subject, text: message.text, link: message.link, to: [message.to.mobile ? 'mobile' : '', message.to.email ? 'email' : ''].filter(Boolean).join(' and ') })),
        created_at: new Date(),
        outcome: 'delivered',
        attempts: 1,
        delivered_at: new Date(),
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** GET /outbox: the newest 100 messages, as the patient's phone or inbox would show them. */
export function outboxRouter(record: { store: { db: RecordDb }; cipher: NoteCipher }): Router {
  const router = Router();
  router.get('/outbox', async (_req, res) => {
    const rows = await record.store.db
      .selectFrom('patient_messages')
      .select(['id', 'kind', 'created_at', 'body_enc'])
      .where('channel', '=', 'outbox')
      .orderBy('created_at', 'desc')
      .limit(100)
      .execute();
    const items = rows.map((r) => {
      // Which of the patient's addresses, never the address: the outbox names no one.
      const m = JSON.parse(record.cipher.decrypt(r.body_enc!)) as { subject: string; text: string; link: string; to: string };
      const to = `the patient's ${m.to}`;
      return `<li class="message" data-message-id="${escape(r.id)}"><p class="meta">${escape(new Date(r.created_at).toISOString().slice(0, 16).replace('T', ' '))} UTC · ${escape(r.kind)} · to ${escape(to)}</p><h2>${escape(m.subject)}</h2><p>${escape(m.text.replace(m.link, '').trim())}</p><p><a class="open-link" href="${escape(m.link)}">Open the questionnaire</a></p></li>`;
    });
    res
      .set({ 'Cache-Control': 'no-store', 'Content-Security-Policy': "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'", 'Referrer-Policy': 'no-referrer' })
      .type('html')
      .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Local outbox · Pathway</title><link rel="stylesheet" href="/p/patient.css"></head><body><main id="main"><h1>Local outbox</h1><p>Messages to patients, as the embedded default delivers them (a deployment sends them through the clinic's gateway or email instead). Open a link to answer as the patient.</p>${items.length ? `<ol class="outbox" reversed>${items.join('')}</ol>` : '<p class="notice">No messages yet.</p>'}</main></body></html>`);
  });
  return router;
}


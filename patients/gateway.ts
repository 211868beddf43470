/**
 * The patient channels of a deployment: a signed webhook (Standard Webhooks, as the care-team
 * webhooks sign theirs) to the clinic's messaging or SMS gateway, and SMTP email through
 * nodemailer. Each retries a failed hand-over a few times at once; what finally happened is
 * recorded with the message (delivered or undelivered), and an undelivered questionnaire shows on
 * the pathway page with "Send again".
 */
import nodemailer from 'nodemailer';
import { z } from 'zod';
import { postWebhook, WebhookRejected } from '../activities/webhooks';
import type { PatientChannel, PatientMessage } from './channel';

const GatewaySchema = z.object({ url: z.url({ protocol: /^https?$/ }), secret: z.string().min(24, 'at least 24 characters') }).strict();
export type Gateway = z.infer<typeof GatewaySchema>;

export function parseGateway(json: string): Gateway {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('PATHWAY_PATIENT_WEBHOOK is not valid JSON');
  }
  const parsed = GatewaySchema.safeParse(raw);
  if (!parsed.success) throw new Error(`PATHWAY_PATIENT_WEBHOOK is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The SMTP reply code of a refusal (nodemailer's `responseCode`), if the server gave one. */
export const smtpReplyCode = (err: unknown): number | undefined => {
  const code = (err as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' ? code : undefined;
};

/** A refusal the receiver calls final: a gateway's 4xx (not 408, 425 or 429), an SMTP 5xx (RFC 5321: permanent). */
const isFinal = (err: unknown): boolean => (err instanceof WebhookRejected && !err.retryable) || (smtpReplyCode(err) ?? 0) >= 500;

/** Tries `attempt` up to `times`, waiting 1 s, then 2 s, ...; a failure the receiver calls final is not retried. */
export async function withRetries<T>(attempt: () => Promise<T>, times = 3, delayMs = 1000): Promise<{ result: T; attempts: number }> {
  for (let n = 1; ; n++) {
    try {
      return { result: await attempt(), attempts: n };
    } catch (err) {
      const final = isFinal(err);
      if (final || n >= times) throw Object.assign(err instanceof Error ? err : new Error(String(err)), { attempts: n });
      await new Promise((r) => setTimeout(r, delayMs * n));
    }
  }
}

export class WebhookPatientChannel implements PatientChannel {
  readonly name = 'webhook' as const;

  constructor(
    private readonly gateway: Gateway,
    private readonly opts: { times?: number; delayMs?: number } = {},
  ) {}

  async send(m: PatientMessage): Promise<void> {
    // What the gateway needs to reach the patient, in their language, and nothing more: no name, no reference, no scores.
    const payload = { type: `patient.${m.kind}`, id: m.id, language: m.language, to: m.to, subject: m.subject, text: m.text, link: m.link, expiresAt: m.expiresAt };
    await withRetries(() => postWebhook(this.gateway, m.id, payload), this.opts.times, this.opts.delayMs);
  }
}

export class EmailPatientChannel implements PatientChannel {
  readonly name = 'email' as const;
  private readonly transport: nodemailer.Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
    private readonly opts: { times?: number; delayMs?: number } = {},
  ) {
    this.transport = nodemailer.createTransport(smtpUrl);
  }

  async send(m: PatientMessage): Promise<void> {
    if (!m.to.email) throw new Error('no email address kept for the patient');
    // The address, the subject and the text with the link, in the patient's language: no name, no reference, no scores.
    await withRetries(
      () =>
        this.transport.sendMail({
          from: this.from,
          to: m.to.email,
          subject: m.subject,
          text: m.text,
          messageId: `<${m.id}@pathway.invalid>`,
          headers: { 'Content-Language': m.language },
        }),
      this.opts.times,
      this.opts.delayMs,
    );
  }
}

/**
 * Signed webhooks to care teams, after the Standard Webhooks (Svix) and Stripe conventions:
 *
 *   webhook-id:        the message's stable id; a receiver drops a repeated id (also sent as Idempotency-Key)
 *   webhook-timestamp: Unix seconds when this attempt was signed
 *   webhook-signature: v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>
 *
 * Bodies carry the minimum necessary: identifiers, kinds, dates, counts and a link. Never a score,
 * a note or a patient reference.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const WebhookSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    secret: z.string().min(24, 'at least 24 characters'),
  })
  .strict();
export type Webhook = z.infer<typeof WebhookSchema>;

export const WebhookDirectorySchema = z
  .object({
    default: WebhookSchema.optional(),
    careTeams: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/), WebhookSchema).default({}),
  })
  .strict();
export type WebhookDirectory = z.infer<typeof WebhookDirectorySchema>;

/** Webhooks from PATHWAY_WEBHOOKS (JSON) or PATHWAY_WEBHOOKS_FILE; none means messages go to the worklist only. */
export function loadWebhooks(opts: { inline?: string; file?: string }): WebhookDirectory {
  const text = opts.inline ?? (opts.file ? readFileSync(opts.file, 'utf8') : undefined);
  if (!text) return { careTeams: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('PATHWAY_WEBHOOKS is not valid JSON');
  }
  const parsed = WebhookDirectorySchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`PATHWAY_WEBHOOKS is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export function webhookFor(directory: WebhookDirectory, careTeam: string): Webhook | undefined {
  return directory.careTeams[careTeam] ?? directory.default;
}

export function sign(secret: string, id: string, timestamp: number, body: string): string {
  return 'v1,' + createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest('base64');
}

/** What a receiver does: checks the signature and that the timestamp is recent (default 5 minutes). */
export function verifySignature(
  secret: string,
  headers: { id?: string; timestamp?: string; signature?: string },
  body: string,
  opts: { nowSeconds?: number; toleranceSeconds?: number } = {},
): boolean {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (opts.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(sign(secret, id, Number(timestamp), body));
  // A header may carry several signatures (during a secret rotation), separated by spaces.
  return signature.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export class WebhookRejected extends Error {
  constructor(
    readonly status: number,
    readonly retryable: boolean,
  ) {
    super(`webhook answered ${status}`);
  }
}

/** One delivery attempt. Throws on failure; the caller (an activity) retries. */
export async function postWebhook(webhook: Webhook, id: string, payload: object, timeoutMs = 10_000): Promise<number> {
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(Date.now() / 1000);
  const res = await fetch(webhook.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'pathway-webhooks/1',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign(webhook.secret, id, timestamp, body),
      'idempotency-key': id,
    },
    body,
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  });
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return res.status;
  // Receivers that say the request itself is wrong will not change their mind; others may recover.
  const retryable = res.status >= 500 || res.status === 408 || res.status === 425 || res.status === 429;
  throw new WebhookRejected(res.status, retryable);
}

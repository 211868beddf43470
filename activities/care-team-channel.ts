/**
 * Delivers messages to care teams: by signed webhook where one is configured for the team
 * (or a default), otherwise onto the worklist only, where coordinators see what is due.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from '../observability/log';
import type { CareTeamMessage, DeliveryResult } from '../clinical/care-team-messages';
import { WebhookRejected, postWebhook, webhookFor, type WebhookDirectory } from './webhooks';

export interface CareTeamChannel {
  deliver(message: CareTeamMessage): Promise<DeliveryResult>;
}

export function linkFor(publicUrl: string | undefined, m: Pick<CareTeamMessage, 'pathwayId' | 'careTeam'>): string | undefined {
  if (!publicUrl) return undefined;
  const base = publicUrl.replace(/\/+$/, '');
  return m.pathwayId ? `${base}/v1/pathways/${m.pathwayId}` : `${base}/v1/worklist?careTeam=${encodeURIComponent(m.careTeam)}`;
}

export function careTeamChannel(opts: { webhooks: WebhookDirectory; publicUrl?: string; logger: Logger }): CareTeamChannel {
  return {
    async deliver(message) {
      const fields = { messageId: message.id, type: message.type, careTeam: message.careTeam, pathwayId: message.pathwayId };
      const webhook = webhookFor(opts.webhooks, message.careTeam);
      if (!webhook) {
        opts.logger.info('care-team message kept on the worklist (no webhook configured)', fields);
        return { channel: 'worklist' };
      }
      const link = linkFor(opts.publicUrl, message);
      try {
        const status = await postWebhook(webhook, message.id, { ...message, ...(link ? { link } : {}) });
        opts.logger.info('care-team webhook delivered', { ...fields, status });
        return { channel: 'webhook', status };
      } catch (err) {
        const failure = err instanceof WebhookRejected ? `status ${err.status}` : err instanceof Error ? err.name : 'error';
        opts.logger.warn('care-team webhook failed', { ...fields, failure });
        if (err instanceof WebhookRejected && !err.retryable) {
          throw ApplicationFailure.nonRetryable(`webhook refused the message (${err.status})`, 'WebhookRejected');
        }
        throw err;
      }
    },
  };
}

/**
 * The care-team channel of the embedded default: notifications become log lines
 * (identifiers and kinds only). Deployments with webhooks configured use those instead.
 */
import type { Logger } from '../worker/log';
import type { CareTeamChannel } from './index';

export function logChannel(logger: Logger): CareTeamChannel {
  return {
    async notify(n) {
      logger.info('care team notified', { pathwayId: n.pathwayId, careTeam: n.careTeam, topic: n.topic, stage: n.stage, status: n.status, dueAt: n.due?.dueAt ?? null });
    },
    async sendReferral(r) {
      logger.info('revision-surgery referral issued', { pathwayId: r.pathwayId, careTeam: r.careTeam });
    },
  };
}

/**
 * Activities: every side effect of a pathway. Built from their dependencies so that the
 * worker, the embedded default and the tests each choose where notifications go.
 */
import type { Effect } from '../clinical/pathway';

export type CareTeamNotification = Extract<Effect, { type: 'notify-care-team' }> & { pathwayId: string; careTeam: string };
export interface ReferralRequest {
  pathwayId: string;
  careTeam: string;
}

/** Where notifications and referrals go. Messages carry identifiers and kinds only, never patient data. */
export interface CareTeamChannel {
  notify(notification: CareTeamNotification): Promise<void>;
  sendReferral(referral: ReferralRequest): Promise<void>;
}

export interface ActivityDeps {
  channel: CareTeamChannel;
}

export function createActivities({ channel }: ActivityDeps) {
  return {
    async notifyCareTeam(notification: CareTeamNotification): Promise<void> {
      await channel.notify(notification);
    },
    async issueRevisionReferral(referral: ReferralRequest): Promise<void> {
      await channel.sendReferral(referral);
    },
  };
}

/**
 * A pathway as one CDS Hooks card for the patient-view hook: where the patient stands (stage and
 * status), what is due and by when, the indicator (critical for an urgent referral, warning when
 * something is overdue or the patient is lost to follow-up, info otherwise), and a SMART app
 * link that opens the pathway in the console. Pure: the pathway and the links come in. No
 * patient identity goes into the card: the EHR already shows whose record it is.
 */
import type { PathwayView } from '../workflows/messages';
import { STAGE_TITLES } from '../fhir/codes';

export interface CdsLink {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
  appContext?: string;
}

export interface CdsCard {
  uuid: string;
  summary: string;
  detail: string;
  indicator: 'info' | 'warning' | 'critical';
  source: { label: string; url?: string };
  links: CdsLink[];
}

const STATUS_TEXT: Record<PathwayView['status'], string> = {
  active: 'active',
  'on-hold': 'on hold',
  'urgent-referral': 'urgent referral (red flag)',
  completed: 'completed',
  withdrawn: 'withdrawn',
  closed: 'closed',
};

const day = (iso: string) => iso.slice(0, 10);
const what = (kind: string) => kind.replace(/-/g, ' ').replace(/\bscs\b/, 'SCS');

export function indicatorOf(p: PathwayView): CdsCard['indicator'] {
  if (p.status === 'urgent-referral') return 'critical';
  if (p.overdue || p.pause?.kind === 'lost-to-follow-up') return 'warning';
  return 'info';
}

/** The card; `launchUrl` is the console's SMART launch address, `uuid` the card's id. */
export function pathwayCard(p: PathwayView, opts: { launchUrl: string; uuid: string }): CdsCard {
  const stage = STAGE_TITLES[p.stage];
  const status = p.pause?.kind === 'lost-to-follow-up' ? 'on hold, lost to follow-up' : STATUS_TEXT[p.status];
  const due = p.due ? `${what(p.due.kind)} ${p.overdue ? 'overdue since' : 'due'} ${day(p.due.dueAt)}` : undefined;
  const summary = `Spinal pain pathway: ${stage}, ${status}${due ? `; ${due}` : ''}`;
  const detail = [
    `**Stage:** ${stage} (since ${day(p.stageEnteredAt)})`,
    `**Status:** ${status}`,
    due ? `**Next:** ${due}${p.overdue ? ' (overdue)' : ''}` : '**Next:** nothing due',
    ...(p.pendingWorkup.length > 0 ? [`**Work-up pending:** ${p.pendingWorkup.map(what).join(', ')}`] : []),
  ].join('\n\n');
  return {
    uuid: opts.uuid,
    summary: summary.length > 140 ? `${summary.slice(0, 139)}…` : summary,
    detail,
    indicator: indicatorOf(p),
    source: { label: 'Pathway: stepped care for persistent spinal pain' },
    links: [{ label: 'Open the pathway', url: opts.launchUrl, type: 'smart', appContext: p.pathwayId }],
  };
}

/**
 * Pathway definitions for clinical leads (docs/definitions.md): the versions and their status;
 * a draft's numbers and red-flag sentences, validated as they are typed; the diff from the
 * version it came from; "Try on past patients" (the simulation's figures and the pathways whose
 * decisions change); Publish; and Migrate, with the simulation's numbers in front of the lead.
 * Everyone else reads the versions.
 */
import type { PathwayDefinition } from '../../clinical/definition';
import { api, ApiError } from './api';
import { app, badge, day, h, label, message, replace, when } from './dom';
import { run, type Shell } from './shell';

interface Version {
  id: string;
  version: number;
  title: string;
  status: 'draft' | 'published' | 'retired';
  basedOn: number | null;
  published: { by: string; at: string; reason: string } | null;
  retired: { by: string; at: string; reason: string } | null;
}
interface FieldError {
  field: string;
  message: string;
}
interface Figures {
  pathways: number;
  escalations: number;
  scsReferrals: number;
  scsTrials: number;
  revisionReferrals: number;
  completed: number;
  proceduresPerMonth: number;
  daysToStage: Record<string, { reached: number; medianDays: number | null }>;
}
interface Decision {
  at: string;
  event: string;
  ruleId?: string;
  summary: string;
  numbers?: Record<string, unknown>;
}
interface Simulation {
  simulationId: string;
  createdAt: string;
  summary: { pathways: number; differing: number; refusedChanges: number; recorded: Figures; candidate: Figures };
  differing: Array<{ pathwayId: string; careTeam: string; recordedVersion: number; firstDifference: { at: string; ruleId: string | null; recorded: Decision | null; simulated: Decision | null } }>;
}

/** The numbers a lead tunes, by field path, in the clinic's words. */
const NUMBERS: Array<[string, string]> = [
  ['stages.conservative.response.painReductionPercent', 'Conservative: pain relief that counts as a response (%)'],
  ['stages.conservative.response.odiReductionPoints', 'Conservative: ODI drop that counts as a response (points)'],
  ['stages.conservative.minimumDays', 'Conservative: minimum days before escalation'],
  ['stages.conservative.reassessEveryDays', 'Conservative: reassess every (days)'],
  ['acceptablePainNrs', 'Acceptable pain (NRS, never escalated)'],
  ['sustainedResponse.consecutiveResponses', 'Responses in a row that complete the pathway'],
  ['stages.interventional.response.reliefPercent', 'Interventional: relief that counts as a response (%)'],
  ['stages.interventional.escalateAfterProceduresWithoutResponse', 'Interventional: procedures without response before SCS'],
  ['stages.interventional.reassessAfterProcedureDays', 'Interventional: reassess after a procedure (days)'],
  ['stages.interventional.procedureLimit.count', 'Interventional: procedures at most…'],
  ['stages.interventional.procedureLimit.windowDays', '…in this many days'],
  ['stages.interventional.minimumIntervalDays', 'Interventional: days between procedures'],
  ['stages.scs.response.trialReliefPercent', 'SCS: trial relief that succeeds (%)'],
  ['stages.scs.response.trialMmeReductionPercent', 'SCS: cut in daily MME that succeeds (%)'],
  ['stages.scs.response.followUpReliefPercent', 'SCS: follow-up relief that counts as a response (%)'],
  ['stages.scs.trialDays', 'SCS: trial length (days)'],
  ['stages.scs.minimumConservativeCareMonths', 'SCS: months of conservative care before a trial'],
  ['followUp.graceDays', 'Follow-up: days of grace before overdue'],
  ['followUp.reminderEveryDays', 'Follow-up: remind every (days)'],
  ['followUp.lostToFollowUpAfterOverdueDays', 'Follow-up: lost after this many days overdue'],
];

const get = (d: unknown, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), d);
function set(d: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let at = d;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[keys.at(-1)!] = value;
}
const fieldId = (path: string) => `f-${path.replace(/[^a-zA-Z0-9]/g, '-')}`;
const statusTone: Record<Version['status'], string> = { draft: 'warning', published: 'info', retired: 'neutral' };

function section(title: string, id: string, ...children: Array<Node | null>): HTMLElement {
  return h('section', { class: 'panel', id, 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }, title), ...children);
}

function versionsTable(versions: Version[], selected: Version | undefined, choose: (v: Version) => void): HTMLElement {
  return h(
    'div',
    { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Versions' },
    h(
      'table',
      { class: 'data compact', id: 'versions' },
      h('thead', {}, h('tr', {}, ['Version', 'Status', 'Published', 'Why', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        versions.map((v) =>
          h(
            'tr',
            v === selected ? { 'aria-current': 'true', class: 'selected' } : {},
            h('th', { scope: 'row' }, `${v.id} v${v.version}`),
            h('td', {}, badge(v.status, statusTone[v.status])),
            h('td', {}, v.published ? `${day(v.published.at)} by ${v.published.by}` : v.basedOn ? `draft from v${v.basedOn}` : '–'),
            h('td', {}, v.retired ? `Retired: ${v.retired.reason}` : (v.published?.reason ?? '')),
            h('td', {}, h('button', { type: 'button', class: 'secondary', onclick: () => choose(v) }, v === selected ? 'Shown' : 'Show')),
          ),
        ),
      ),
    ),
  );
}

function figuresTable(s: Simulation['summary']): HTMLElement {
  const rows: Array<[string, (f: Figures) => string | number]> = [
    ['Escalations', (f) => f.escalations],
    ['Referred for SCS', (f) => f.scsReferrals],
    ['SCS trials', (f) => f.scsTrials],
    ['Revision referrals', (f) => f.revisionReferrals],
    ['Completed', (f) => f.completed],
    ['Procedures a month', (f) => f.proceduresPerMonth],
    ...(['interventional', 'scs', 'revision-referral'] as const).map((stage): [string, (f: Figures) => string] => [
      `Median days to ${label(stage)}`,
      (f) => (f.daysToStage[stage]?.medianDays === null || f.daysToStage[stage] === undefined ? '–' : `${f.daysToStage[stage]!.medianDays} (${f.daysToStage[stage]!.reached})`),
    ]),
  ];
  // The sentence stays outside the table's scrolling region, so a phone shows it whole.
  return h(
    'div',
    {},
    h('p', { id: 'simulation-caption' }, `${s.pathways} pathways; decisions differ in ${s.differing}; ${s.refusedChanges} recorded changes this version would refuse.`),
    h(
      'div',
      { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': 'Cohort figures, recorded against this version' },
      h(
        'table',
        { class: 'data compact', id: 'simulation-figures', 'aria-describedby': 'simulation-caption' },
        h('thead', {}, h('tr', {}, ['', 'Recorded', 'This version'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows.map(([name, f]) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, String(f(s.recorded))), h('td', {}, String(f(s.candidate)))))),
      ),
    ),
  );
}

const numbersText = (n: Record<string, unknown> | undefined) =>
  Object.entries(n ?? {})
    .map(([k, v]) => `${k} ${v === null ? 'none' : String(v)}`)
    .join(', ');

/** A pathway's decisions side by side, recorded against this version's, the first difference marked. */
async function sideBySide(v: Version, pathwayId: string, target: HTMLElement): Promise<void> {
  const c = await api<{ recorded: Decision[]; simulated: Decision[]; firstDifference: number | null }>('GET', `/v1/definitions/${v.id}/${v.version}/compare/${pathwayId}`);
  const cell = (d: Decision | undefined) => (d ? h('td', {}, h('span', { class: 'meta' }, when(d.at)), h('br'), d.summary, d.ruleId ? h('span', { class: 'rule-id' }, ` ${d.ruleId}`) : null) : h('td', {}, '–'));
  const rows = Array.from({ length: Math.max(c.recorded.length, c.simulated.length) }, (_, i) =>
    h('tr', i === c.firstDifference ? { class: 'selected' } : {}, h('th', { scope: 'row' }, i === c.firstDifference ? `${i + 1} (first difference)` : String(i + 1)), cell(c.recorded[i]), cell(c.simulated[i])),
  );
  replace(
    target,
    h(
      'div',
      { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': `Decisions of ${pathwayId}, recorded and with v${v.version}` },
      h('table', { class: 'data compact side-by-side' }, h('thead', {}, h('tr', {}, ['', 'Recorded', `With v${v.version}`].map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows)),
    ),
  );
}

function differingList(sim: Simulation, v: Version): HTMLElement {
  if (sim.differing.length === 0) return h('p', { class: 'muted' }, 'No pathway would have been decided differently.');
  return h(
    'ol',
    { class: 'timeline', id: 'simulation-differing' },
    sim.differing.slice(0, 100).map((d) => {
      const compared = h('div', { 'aria-live': 'polite' });
      return h(
        'li',
        {},
        h('p', { class: 'meta' }, h('a', { href: `/pathways/${d.pathwayId}` }, d.pathwayId), ` · ${d.careTeam} · v${d.recordedVersion} · first difference ${when(d.firstDifference.at)}${d.firstDifference.ruleId ? ` · ${d.firstDifference.ruleId}` : ''}`),
        h(
          'dl',
          { class: 'numbers' },
          h('dt', {}, 'Recorded'),
          h('dd', {}, d.firstDifference.recorded ? `${d.firstDifference.recorded.summary} ${numbersText(d.firstDifference.recorded.numbers)}` : '(nothing)'),
          h('dt', {}, 'This version'),
          h('dd', {}, d.firstDifference.simulated ? `${d.firstDifference.simulated.summary} ${numbersText(d.firstDifference.simulated.numbers)}` : '(nothing)'),
        ),
        h('button', { type: 'button', class: 'secondary compare', onclick: () => void sideBySide(v, d.pathwayId, compared).catch((err: unknown) => replace(compared, message('error', String(err)))) }, 'Compare decisions side by side'),
        compared,
      );
    }),
  );
}

async function page(shell: Shell): Promise<void> {
  const lead = shell.can('author-definitions');
  let versions = (await api<{ items: Version[] }>('GET', '/v1/definitions')).items;
  let selected: Version | undefined = versions.filter((v) => v.status === 'draft').at(-1) ?? versions.filter((v) => v.status === 'published').at(-1);
  let simulation: Simulation | undefined;

  const render = async (): Promise<void> => {
    const v = selected;
    if (!v) {
      replace(app(), message('info', 'No definition versions.'));
      return;
    }
    const { definition } = await api<{ definition: PathwayDefinition }>('GET', `/v1/definitions/${v.id}/${v.version}`);
    const sections: HTMLElement[] = [section('Versions', 'versions-section', versionsTable(versions, v, (next) => ((selected = next), (simulation = undefined), void render())))];
    const status = h('div', { 'aria-live': 'polite', id: 'definition-status' });

    if (lead && v.status !== 'draft') {
      sections[0]!.append(
        h('p', { class: 'buttons' }, h('button', {
          type: 'button',
          id: 'new-draft',
          onclick: async () => {
            const draft = await api<Version>('POST', `/v1/definitions/${v.id}/${v.version}/drafts`, {});
            versions = (await api<{ items: Version[] }>('GET', '/v1/definitions')).items;
            selected = versions.find((x) => x.version === draft.version);
            await render();
          },
        }, `New draft from v${v.version}`)),
      );
    }

    // The numbers: editable in a draft, checked by the service as they change.
    const editable = lead && v.status === 'draft';
    const working = structuredClone(definition) as unknown as Record<string, unknown>;
    const errorsAt = new Map<string, HTMLElement>();
    const fields = NUMBERS.filter(([path]) => get(definition, path) !== undefined).map(([path, text]) => {
      const id = fieldId(path);
      const err = h('span', { class: 'hint error', id: `${id}-error`, 'aria-live': 'polite' });
      errorsAt.set(path, err);
      const input = h('input', { id, name: path, type: 'number', step: 'any', value: String(get(definition, path)), readonly: !editable, 'aria-describedby': `${id}-error` });
      input.addEventListener('input', () => {
        set(working, path, input.value === '' ? undefined : Number(input.value));
        scheduleCheck();
      });
      return h('div', { class: 'field' }, h('label', { for: id }, text), input, err);
    });
    const flags = ((definition.redFlags ?? []) as Array<{ id: string; sentence: string }>).map((f, i) => {
      const id = `f-red-flag-${f.id}`;
      const err = h('span', { class: 'hint error', id: `${id}-error` });
      errorsAt.set(`redFlags.${i}.sentence`, err);
      const area = h('textarea', { id, rows: 2, readonly: !editable, 'aria-describedby': `${id}-error` }, f.sentence);
      area.addEventListener('input', () => {
        (working.redFlags as Array<{ sentence: string }>)[i]!.sentence = area.value;
        scheduleCheck();
      });
      return h('div', { class: 'field' }, h('label', { for: id }, `Red flag: ${label(f.id)}`), area, err);
    });
    const overall = h('div', { id: 'validation', 'aria-live': 'polite' });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const showErrors = (errors: FieldError[]) => {
      for (const el of errorsAt.values()) el.textContent = '';
      const elsewhere: string[] = [];
      for (const e of errors) {
        const at = errorsAt.get(e.field);
        if (at) at.textContent = e.message;
        else elsewhere.push(`${e.field}: ${e.message}`);
      }
      replace(overall, errors.length ? message('error', `Not valid: ${errors.length} ${errors.length === 1 ? 'problem' : 'problems'}.`, elsewhere) : message('info', 'Valid: every check passes.'));
    };
    const scheduleCheck = () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const answer = await api<{ valid: boolean; errors: FieldError[] }>('POST', '/v1/definitions/validate', working);
        showErrors(answer.errors);
      }, 300);
    };
    const form = h(
      'form',
      {
        class: 'stack',
        id: 'definition-form',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          try {
            await api('PUT', `/v1/definitions/${v.id}/${v.version}`, working);
            replace(status, message('info', `Draft v${v.version} saved.`));
            await render();
          } catch (err) {
            if (err instanceof ApiError) showErrors(err.errors);
            replace(status, message('error', err instanceof Error ? err.message : String(err)));
          }
        },
      },
      h('div', { class: 'grid-fields' }, fields),
      flags.length ? h('details', {}, h('summary', {}, 'Red-flag sentences'), flags) : null,
      overall,
      editable ? h('p', { class: 'buttons' }, h('button', { type: 'submit', id: 'save-draft' }, 'Save draft')) : null,
    );
    sections.push(section(`${v.id} v${v.version}: ${editable ? 'edit the draft' : 'numbers'}`, 'numbers-section', form, status));

    // What changed from the version it came from (or the one before).
    const from = v.basedOn ?? (v.version > 1 ? v.version - 1 : null);
    if (from !== null) {
      const diff = await api<{ changes: Array<{ field: string; text: string }> }>('GET', `/v1/definitions/${v.id}/diff?from=${from}&to=${v.version}`).catch(() => ({ changes: [] }));
      sections.push(
        section(
          `Changes from v${from}`,
          'diff-section',
          diff.changes.length ? h('ul', { id: 'diff' }, diff.changes.map((c) => h('li', {}, c.text))) : h('p', { class: 'muted' }, 'No changes.'),
        ),
      );
    }

    if (lead) {
      const results = h('div', { id: 'simulation', 'aria-live': 'polite' });
      const showSimulation = () => {
        if (simulation) replace(results, figuresTable(simulation.summary), h('h3', {}, 'Pathways whose decisions change'), differingList(simulation, v));
      };
      const tryForm = h(
        'form',
        {
          class: 'inline',
          id: 'simulate-form',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            const data = new FormData(tryForm);
            const cohort = {
              ...(data.get('careTeam') ? { careTeam: String(data.get('careTeam')) } : {}),
              ...(data.get('onVersion') ? { definitionVersion: Number(data.get('onVersion')) } : {}),
            };
            replace(results, h('p', { class: 'muted' }, 'Replaying the recorded pathways…'));
            try {
              simulation = await api<Simulation>('POST', `/v1/definitions/${v.id}/${v.version}/simulate`, { cohort });
              showSimulation();
              await render();
            } catch (err) {
              replace(results, message('error', err instanceof Error ? err.message : String(err)));
            }
          },
        },
        h('div', { class: 'field' }, h('label', { for: 'sim-team' }, 'Care team'), h('input', { id: 'sim-team', name: 'careTeam', placeholder: 'all' })),
        h('div', { class: 'field' }, h('label', { for: 'sim-version' }, 'Pathways on version'), h('input', { id: 'sim-version', name: 'onVersion', type: 'number', min: 1, placeholder: 'any' })),
        h('button', { type: 'submit', id: 'simulate' }, 'Try on past patients'),
      );
      showSimulation();
      sections.push(section('Try on past patients', 'simulate-section', h('p', { class: 'hint' }, 'Replays each recorded pathway through this version’s rules; nothing is changed.'), tryForm, results));

      const actions = h('div', { id: 'definition-actions', 'aria-live': 'polite' });
      if (v.status === 'draft') {
        const publish = h(
          'form',
          {
            class: 'stack',
            id: 'publish-form',
            onsubmit: async (e: Event) => {
              e.preventDefault();
              try {
                await api('POST', `/v1/definitions/${v.id}/${v.version}/publish`, { reason: String(new FormData(publish).get('reason')) });
                versions = (await api<{ items: Version[] }>('GET', '/v1/definitions')).items;
                selected = versions.find((x) => x.version === v.version);
                await render();
              } catch (err) {
                replace(actions, message('error', err instanceof Error ? err.message : String(err), err instanceof ApiError ? err.errors.map((x) => `${x.field}: ${x.message}`) : []));
              }
            },
          },
          h('div', { class: 'field' }, h('label', { for: 'publish-reason' }, 'Why publish it'), h('textarea', { id: 'publish-reason', name: 'reason', rows: 2, required: true, minlength: 3 })),
          h('p', { class: 'buttons' }, h('button', { type: 'submit', id: 'publish' }, `Publish v${v.version}`)),
        );
        sections.push(section('Publish', 'publish-section', h('p', { class: 'hint' }, 'New enrolments take it at once; running pathways keep their version until migrated.'), publish, actions));
      } else if (v.status === 'published' && simulation) {
        const sim = simulation;
        const migrate = h(
          'form',
          {
            class: 'stack',
            id: 'migrate-form',
            onsubmit: async (e: Event) => {
              e.preventDefault();
              try {
                const started = await api<{ migrationId: string; pathways: number }>('POST', `/v1/definitions/${v.id}/${v.version}/migrations`, {
                  simulationId: sim.simulationId,
                  reason: String(new FormData(migrate).get('reason')),
                });
                replace(actions, message('info', `Migration started: ${started.pathways} running pathways move to v${v.version} (migration ${started.migrationId}).`));
              } catch (err) {
                replace(actions, message('error', err instanceof Error ? err.message : String(err)));
              }
            },
          },
          h('p', {}, `The simulation of ${when(sim.createdAt)}: ${sim.summary.pathways} pathways, ${sim.summary.differing} decided differently; escalations ${sim.summary.recorded.escalations} → ${sim.summary.candidate.escalations}, completed ${sim.summary.recorded.completed} → ${sim.summary.candidate.completed}, procedures a month ${sim.summary.recorded.proceduresPerMonth} → ${sim.summary.candidate.proceduresPerMonth}.`),
          h('div', { class: 'field' }, h('label', { for: 'migrate-reason' }, 'Why move them'), h('textarea', { id: 'migrate-reason', name: 'reason', rows: 2, required: true, minlength: 3 })),
          h('p', { class: 'buttons' }, h('button', { type: 'submit', id: 'migrate' }, `Move the running pathways to v${v.version}`)),
        );
        sections.push(section('Migrate running pathways', 'migrate-section', migrate, actions));
      } else if (v.status === 'published') {
        sections.push(section('Migrate running pathways', 'migrate-section', h('p', { class: 'muted' }, 'Try this version on past patients first: a migration needs a simulation of the same cohort from the last day.')));
      }
    }
    replace(app(), sections);
  };
  await render();
}

run(page);

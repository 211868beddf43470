/**
 * One pathway: stage and status at a glance, what is due and how late, the actions that make
 * sense now, the pain and function chart against the stage reference, and the timeline with each
 * decision in a sentence and its rule beneath; messages the pathway sent are kept apart.
 */
import { api } from './api';
import { actionButtons, confirmation, decisionList, decisionParts, dueAction, factsOf, procedureBlocked, type ActionSpec, type ChangeResult, type Decision, type FullPathway } from './actions';
import { scoresChart } from './score-chart';
import { app, badge, day, h, label, replace, when, words } from './dom';
import { patientPanel, type Patient } from './patient';
import { questionnairesPanel } from './questionnaires';
import { run, type Shell } from './shell';
import { loadInto } from './states';
import { actorName, dueName, dueWhen, isSystemMessage, statusName } from './words';

const STATUS_TONE: Record<string, string> = { active: 'info', 'on-hold': 'warning', 'urgent-referral': 'urgent', completed: 'neutral', withdrawn: 'neutral', closed: 'neutral' };

function nextDueText(p: FullPathway): Node | string {
  if (!p.due) return 'Nothing';
  const { text, late } = dueWhen(p.due.dueAt);
  const paused = p.status !== 'active';
  return h(
    'span',
    {},
    `${label(dueName(p.due.kind))} ${paused ? `(paused; was due ${day(p.due.dueAt)})` : `on ${day(p.due.dueAt)} `}`,
    paused ? '' : badge(text, late ? 'warning' : 'neutral'),
  );
}

function glance(p: FullPathway): HTMLElement {
  const needed = p.definition.sustainedResponse.consecutiveResponses;
  const reference = `NRS ${p.reference.painNrs}${p.reference.odi !== undefined ? `, ODI ${p.reference.odi}` : ''}${p.reference.dailyMme !== undefined ? `, ${p.reference.dailyMme} MME a day` : ''}`;
  const rows: Array<[string, Node | string]> = [
    ['Stage', label(p.stage)],
    ['Status', badge(label(statusName(p.status)), STATUS_TONE[p.status] ?? 'neutral')],
    ['Next due', nextDueText(p)],
    ...(p.pendingWorkup.length ? ([['Pending work-up', p.pendingWorkup.map(words).join(', ')]] as Array<[string, string]>) : []),
    ['Stage reference', `${reference} (${p.reference.from === 'enrollment' ? 'at enrolment' : 'reassessment'}, ${day(p.reference.at)})`],
    ['Responses in a row', `${p.consecutiveResponses} of ${needed} for discharge to self-management`],
    ['In this stage since', day(p.stageEnteredAt)],
    ['Care team', p.careTeam],
    ['Definition', `${p.definition.title} (v${p.definition.version})`],
    ['Enrolled', day(p.enrolledAt)],
  ];
  return h('dl', { class: 'glance' }, rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/** Why an expected action is missing, for this person on this pathway now. */
function notes(shell: Shell, p: FullPathway): string[] {
  const out: string[] = [];
  const f = factsOf(p);
  const due = dueAction(f);
  if ((due === 'reassessment' || due === 'baseline') && !shell.can('record-reassessment') && shell.can('enrol')) {
    out.push(`Waiting for a clinician to record the ${due === 'baseline' ? 'baseline (pain NRS and ODI before any procedure)' : 'reassessment'}.`);
  }
  if (p.status === 'urgent-referral' && shell.person.role !== 'clinician') out.push('After a red flag only a clinician may resume or close the pathway.');
  const blocked = procedureBlocked(p);
  if (blocked && shell.can('record-procedure')) out.push(blocked);
  return out;
}

function timeline(p: FullPathway): HTMLElement {
  const entries = [...p.timeline].reverse() as Decision[];
  const item = (e: Decision) =>
    h(
      'li',
      { 'data-event': e.event },
      h('p', { class: 'meta' }, h('time', { datetime: e.occurredAt ?? e.at }, when(e.occurredAt ?? e.at)), ` · ${actorName(e.actor)}`, e.occurredAt && e.occurredAt.slice(0, 16) !== e.at.slice(0, 16) ? ` · recorded ${when(e.at)}` : ''),
      decisionParts(e),
    );
  const clinical = entries.filter((e) => !isSystemMessage(e));
  const system = entries.filter(isSystemMessage);
  return h(
    'div',
    {},
    h('ol', { class: 'timeline', reversed: true }, clinical.map(item)),
    system.length
      ? h(
          'details',
          { class: 'system-messages', id: 'system-messages' },
          h('summary', {}, `Messages and reminders the pathway sent (${system.length})`),
          h('ol', { class: 'system-timeline', reversed: true }, system.map(item)),
        )
      : null,
  );
}

async function page(shell: Shell): Promise<void> {
  const pathwayId = location.pathname.split('/').pop()!;
  const title = `pathway ${pathwayId.slice(3, 11)}`;
  const latest = h('section', { id: 'latest-decisions', 'aria-labelledby': 'latest-title', hidden: true, tabindex: -1 });
  const sections = {
    patient: h('div', {}),
    glance: h('div', {}),
    questionnaires: h('div', {}),
    actions: h('div', { id: 'actions' }),
    chart: h('div', {}),
    timeline: h('div', {}),
  };
  document.getElementById('title')!.textContent = `Pathway ${pathwayId.slice(3, 11)}`;

  const show = (r: ChangeResult, _spec: ActionSpec) => {
    latest.hidden = false;
    replace(latest, h('h2', { id: 'latest-title' }, `Recorded for ${title}`), r.decisions.length ? decisionList(r.decisions.filter((d) => !isSystemMessage(d))) : h('p', {}, confirmation(title, r)));
    latest.focus();
    void load();
  };

  const render = (pathway: FullPathway & { patient?: Patient }) => {
    document.body.dataset.stage = pathway.stage;
    document.body.dataset.status = pathway.status;
    const short = `Pathway ${pathwayId.slice(3, 11)}`;
    document.getElementById('title')!.textContent = pathway.patient?.name ? `${pathway.patient.name} · ${short}` : short;
    replace(sections.patient, pathway.patient ? patientPanel(pathwayId, pathway.patient, shell.can('correct-identity'), () => void load()) : null);
    replace(sections.glance, glance(pathway));
    const buttons = actionButtons(shell.person.role, factsOf(pathway), title, show);
    const why = notes(shell, pathway);
    replace(
      sections.actions,
      h('div', { class: 'buttons' }, buttons.length ? buttons : h('p', { class: 'muted' }, shell.can('enrol') ? 'No action applies at this stage and status.' : 'Your role reads pathways only.')),
      why.length ? h('ul', { class: 'action-notes' }, why.map((w) => h('li', {}, w))) : null,
    );
    void questionnairesPanel(pathwayId, shell.can, () => void load()).then((panel) => replace(sections.questionnaires, panel));
    replace(sections.chart, scoresChart(pathway));
    replace(sections.timeline, timeline(pathway));
  };
  const load = () => loadInto(sections.glance, 'the pathway', () => api<{ pathway: FullPathway & { patient?: Patient } }>('GET', `/v1/pathways/${pathwayId}`).then((r) => r.pathway), render);

  replace(
    app(),
    sections.patient,
    h(
      'div',
      { class: 'pathway-top' },
      h('section', { 'aria-labelledby': 'glance-title', class: 'panel' }, h('h2', { id: 'glance-title' }, 'At a glance'), sections.glance),
      h('section', { 'aria-labelledby': 'actions-title', class: 'panel' }, h('h2', { id: 'actions-title' }, 'Actions'), sections.actions),
    ),
    latest,
    h('section', { 'aria-labelledby': 'questionnaires-title', class: 'panel' }, h('h2', { id: 'questionnaires-title' }, 'Questionnaires at home'), sections.questionnaires),
    h('section', { 'aria-labelledby': 'chart-title', class: 'panel' }, h('h2', { id: 'chart-title' }, 'Pain and function'), sections.chart),
    h('section', { 'aria-labelledby': 'timeline-title', class: 'panel' }, h('h2', { id: 'timeline-title' }, 'Timeline'), sections.timeline),
  );
  await load();
}

run(page);

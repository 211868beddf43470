/**
 * One durable workflow per patient pathway. The clinical decisions are the pure functions of
 * clinical/pathway.ts; this workflow feeds them events (updates) and time (timers), keeps the
 * state, carries out side effects through activities, and keeps search attributes current.
 */
import {
  ApplicationFailure,
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { checkCommand, type CommandKind } from '../clinical/command-check';
import type { Actor } from '../clinical/events';
import {
  applyClock,
  applyEvent,
  applyMigration,
  checkEvent,
  checkMigration,
  enroll,
  isClosed,
  nextWakeUpAt,
  noteHandover,
  noteSideEffect,
  pendingWorkup,
  type DefinitionMigration,
  type Effect,
  type PathwayEvent,
  type PathwayState,
} from '../clinical/pathway';
import type { createActivities } from '../activities';
import { invitationPlanKey, nextInvitationStep } from '../clinical/invitations';
import { NOTHING_RECORDED, recordBatch, recordVersion, writeFence, type RecordProgress } from '../record/batch';
import {
  DEFINITION_MIGRATION_PATCH,
  RECORD_STORE_PATCH,
  REFUSAL_ERROR_TYPE,
  migrateDefinition,
  applyAction,
  closingMessagesId,
  confirmEnrolment,
  pathwayQuery,
  previewChange,
  recordProcedure,
  recordReassessment,
  recordWorkupResult,
  reportRedFlags,
  type ChangePreview,
  type ChangeResult,
  type Command,
  type LivePathwayView,
  type PathwaySnapshot,
  type PathwayView,
  type PathwayWorkflowInput,
  type RefusalDetails,
} from './messages';
import {
  CareTeamKey,
  DefinitionKey,
  DefinitionVersionKey,
  NextDueKey,
  NextDueKindKey,
  OverdueKey,
  PathwayStageKey,
  PathwayStatusKey,
  UndeliveredKey,
} from './search-attributes';
import { messageFor } from '../clinical/care-team-messages';
import { delivery, handOver } from './care-team-delivery';
import { wakeUpTimerFor, type WakeUpTimer } from './wake-up-timer';

/**
 * Patch: a closed pathway completes at once and hands the messages it still owes to a workflow
 * of their own. Runs started before it keep waiting for their messages, as their histories say.
 */
export const CLOSING_HANDS_OVER_MESSAGES = 'closing-hands-over-messages';

/**
 * Patch: a run continues as new once its history passes CONTINUE_AS_NEW_AFTER_EVENTS, rather
 * than when Temporal suggests it (thousands of events). Runs started before it keep the old rule.
 */
export const EARLY_CONTINUE_AS_NEW = 'early-continue-as-new';

/**
 * A pathway evicted from the worker's cache replays its current run when its next timer fires,
 * at a cost that grows with the run's length. A worst-case pathway-year is some 650 events
 * (bench/pathway-year.ts): at 500 a replay stays well under a second, and a year still continues
 * as new only once or twice, each time carrying the whole state (about 50 KiB after that year).
 */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 500;

/**
 * Patch: the main loop keeps its timer while the next wake-up stays where it was, instead of
 * cancelling and starting it again on every change, and acts at once on a wake-up already passed
 * (a back-dated entry) rather than setting a timer for it. Runs started before it keep the old loop.
 */
export const KEPT_WAKE_UP_TIMER = 'kept-wake-up-timer';

/**
 * Patch: the workflow keeps only the search attributes operators filter by in Temporal's UI and
 * CLI (docs/operations.md), and clears the next due date, its kind and the overdue flag, which
 * nothing reads any more (the worklist reads the record store). Runs from before it keep all nine.
 */
export const OPERATOR_SEARCH_ATTRIBUTES = 'operator-search-attributes';
const NOT_FOR_OPERATORS: readonly string[] = [NextDueKey.name, NextDueKindKey.name, OverdueKey.name];

/**
 * Patch: beside the main loop, a loop asks the patient to answer at home before each
 * reassessment (the definition's `patientQuestionnaires`), through an activity that carries only
 * the pathway id and the due date. Decided before the main loop starts: runs started before it
 * (their histories have no marker there) keep running without it.
 */
export const PATIENT_INVITATIONS = 'patient-invitations';

// The record is written as soon as the database answers: the write is short, so it runs as a
// local activity (no round trip through the server), retried without end while the database is down.
type Activities = ReturnType<typeof createActivities>;

const record = proxyLocalActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const patientSteps = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10 },
});

export function viewOf(state: PathwayState): PathwayView {
  return { ...state, pendingWorkup: pendingWorkup(state) };
}

function snapshotOf(state: PathwayState): PathwaySnapshot {
  const { timeline: _timeline, reassessments: _reassessments, definition, ...rest } = viewOf(state);
  return { ...rest, definition: { id: definition.id, version: definition.version, title: definition.title } };
}

function refuse(details: RefusalDetails): never {
  throw ApplicationFailure.create({ type: REFUSAL_ERROR_TYPE, message: details.message, nonRetryable: true, details: [details] });
}

/**
 * Checks a command against the API's schemas (as JSON Schema: the workflow carries no zod, which
 * it would instantiate once per cached pathway); a refusal names each field, never the value given.
 */
function parseCommand<K extends CommandKind>(kind: K, command: Command<unknown>): Extract<PathwayEvent, { type: K }> {
  const checked = checkCommand<Extract<PathwayEvent, { type: K }>['input'], Actor>(kind, command?.actor, command?.input);
  if (checked.ok) return { type: kind, actor: checked.actor, input: checked.input } as Extract<PathwayEvent, { type: K }>;
  refuse({ code: 'invalid', message: `invalid ${checked.errors.map((e) => e.field).join(', ')}`, errors: checked.errors });
}

export async function pathwayWorkflow(input: PathwayWorkflowInput): Promise<PathwayView> {
  const enrolmentId = workflowInfo().firstExecutionRunId;
  // Decided once, before any command: a run keeps one way of closing from start to end.
  const handsOverOnClose = patched(CLOSING_HANDS_OVER_MESSAGES);
  let handedOver = false;
  let state: PathwayState;
  const outbox: Effect[] = [];
  if (input.carried) {
    state = input.carried.state;
    outbox.push(...input.carried.effects);
  } else {
    const enrolled = enroll(input.enrollment, Date.now());
    state = enrolled.state;
    outbox.push(...enrolled.effects);
  }
  let changes = 0;
  let recorded: RecordProgress = input.carried?.recorded ?? NOTHING_RECORDED;
  // A run carried from one that knew no place in the chain counts as the second.
  const run = input.carried ? (input.carried.run ?? 1) : 0;
  /**
   * Resolves once the record holds everything up to now. Histories from before the record store
   * get `undefined` and carry on at once, with no extra await, so their commands keep their order.
   */
  const recordCaughtUp = (): Promise<void> | undefined => {
    if (!patched(RECORD_STORE_PATCH)) return undefined;
    const version = recordVersion(state);
    return condition(() => recorded.through >= version);
  };

  const validate = (kind: CommandKind) => (command: Command<unknown>): void => {
    // A caller outside the pathway's care team learns nothing, not even that it exists.
    if (command?.scope && !command.scope.careTeams.includes(state.careTeam)) refuse({ code: 'not-found', message: 'no such pathway' });
    const refusal = checkEvent(state, parseCommand(kind, command), Date.now());
    if (refusal) refuse(refusal);
  };
  // A change answers once it is in the record, so a read right after it sees it.
  const handle = (kind: CommandKind) => (command: Command<unknown>): ChangeResult | Promise<ChangeResult> => {
    const outcome = applyEvent(state, parseCommand(kind, command), Date.now());
    state = outcome.state;
    outbox.push(...outcome.effects);
    changes++;
    const result = { decisions: outcome.entries, pathway: snapshotOf(state) };
    // The change that closes the pathway answers once the workflow completes with it (and its
    // record is written), so the patient can be enrolled again the moment the caller hears back.
    if (handsOverOnClose && isClosed(state.status)) return condition(() => handedOver).then(() => recordCaughtUp()).then(() => result);
    return recordCaughtUp()?.then(() => result) ?? result;
  };
  setHandler(recordReassessment, handle('reassessment'), { validator: validate('reassessment') });
  setHandler(recordProcedure, handle('procedure'), { validator: validate('procedure') });
  setHandler(recordWorkupResult, handle('workup-result'), { validator: validate('workup-result') });
  setHandler(reportRedFlags, handle('red-flags'), { validator: validate('red-flags') });
  setHandler(applyAction, handle('action'), { validator: validate('action') });
  // A migration to a newer version: validated against the state, recorded in the timeline with who, why and the simulation.
  setHandler(
    migrateDefinition,
    (command: Command<DefinitionMigration>): ChangeResult | Promise<ChangeResult> => {
      // Histories from before it never received one; the marker says this one did.
      patched(DEFINITION_MIGRATION_PATCH);
      const outcome = applyMigration(state, command.input, command.actor, Date.now());
      state = outcome.state;
      outbox.push(...outcome.effects);
      changes++;
      const result = { decisions: outcome.entries, pathway: snapshotOf(state) };
      return recordCaughtUp()?.then(() => result) ?? result;
    },
    {
      validator: (command: Command<DefinitionMigration>): void => {
        if (!command?.actor || !command.input?.definition || typeof command.input.migrationId !== 'string') refuse({ code: 'invalid', message: 'invalid migration' });
        if (command.scope && !command.scope.careTeams.includes(state.careTeam)) refuse({ code: 'not-found', message: 'no such pathway' });
        const refusal = checkMigration(state, command.input, command.actor);
        if (refusal) refuse(refusal);
      },
    },
  );
  setHandler(pathwayQuery, (): LivePathwayView => ({ ...viewOf(state), enrolmentId }));
  // The same check and rules as the update, on the current state, keeping nothing: a query adds no history event.
  setHandler(previewChange, ({ kind, command, now }): ChangePreview => {
    try {
      if (command?.scope && !command.scope.careTeams.includes(state.careTeam)) refuse({ code: 'not-found', message: 'no such pathway' });
      const event = parseCommand(kind, command);
      const refusal = checkEvent(state, event, now);
      if (refusal) return { accepted: false, refusal };
      const outcome = applyEvent(state, event, now);
      return { accepted: true, decisions: outcome.entries, pathway: snapshotOf(outcome.state) };
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === REFUSAL_ERROR_TYPE) return { accepted: false, refusal: err.details?.[0] as RefusalDetails };
      throw err;
    }
  });
  setHandler(confirmEnrolment, async () => {
    await recordCaughtUp();
    return { pathway: viewOf(state) };
  });

  // The record store is written in order by this one loop, each batch carrying everything since the last.
  let writing = false;
  const keepRecord = async (): Promise<void> => {
    let considered = recorded.through;
    for (;;) {
      await condition(() => recordVersion(state) > considered);
      considered = recordVersion(state);
      // A history from before the record store replays as it ran, writing nothing; the next change writes it all.
      if (!patched(RECORD_STORE_PATCH)) continue;
      writing = true;
      const next = recordBatch(enrolmentId, state, pendingWorkup(state), recorded, writeFence(run, workflowInfo().historyLength, Date.now()));
      await record.writePathwayRecord(next.batch);
      recorded = next.progress;
      writing = false;
    }
  };
  void keepRecord();

  // Side effects run beside the main loop, in order, so a notification retrying for hours
  // never holds back a timer or an update.
  let carryingOut = false;
  let continuingAsNew = false;
  const carryOutSideEffects = async (): Promise<void> => {
    for (;;) {
      // Before continue-as-new, no new effect starts: the rest are carried to the next run. Once
      // closed (patched runs), none starts either: the rest are handed over.
      await condition(() => outbox.length > 0 && !continuingAsNew && !(handsOverOnClose && isClosed(state.status)));
      carryingOut = true;
      const effect = outbox[0]!;
      try {
        const result = await delivery.deliverToCareTeam(messageFor(effect, state.pathwayId, state.careTeam));
        state = noteSideEffect(state, Date.now(), effect, result.channel);
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        state = noteSideEffect(state, Date.now(), effect, 'undelivered');
      }
      outbox.shift();
      carryingOut = false;
      changes++;
    }
  };
  void carryOutSideEffects();

  let lastAttributes = '';
  // Decided at the run's second upsert, never in its first workflow task (which stays as it was).
  let forOperatorsOnly: boolean | undefined;
  let clearedTheRest = false;
  const keepSearchAttributesCurrent = (): void => {
    if (lastAttributes !== '' && forOperatorsOnly === undefined) forOperatorsOnly = patched(OPERATOR_SEARCH_ATTRIBUTES);
    let attributes: SearchAttributeUpdatePair[] = [
      { key: PathwayStageKey, value: state.stage },
      { key: PathwayStatusKey, value: state.status },
      { key: CareTeamKey, value: state.careTeam },
      { key: NextDueKey, value: state.due ? new Date(state.due.dueAt) : null },
      { key: NextDueKindKey, value: state.due?.kind ?? null },
      { key: OverdueKey, value: state.overdue },
      { key: UndeliveredKey, value: state.undelivered.some((u) => !u.resolvedAt) },
      { key: DefinitionKey, value: state.definition.id },
      { key: DefinitionVersionKey, value: state.definition.version },
    ];
    if (forOperatorsOnly) attributes = attributes.filter((a) => !NOT_FOR_OPERATORS.includes(a.key.name));
    const serialised = JSON.stringify(attributes.map((a) => [a.key.name, a.value]));
    if (serialised !== lastAttributes) {
      // Cleared once, so the values written before the run decided do not linger.
      const clearing: SearchAttributeUpdatePair[] =
        forOperatorsOnly && !clearedTheRest ? [{ key: NextDueKey, value: null }, { key: NextDueKindKey, value: null }, { key: OverdueKey, value: null }] : [];
      upsertSearchAttributes([...attributes, ...clearing]);
      lastAttributes = serialised;
      if (forOperatorsOnly) clearedTheRest = true;
    }
  };

  // Decided once per run, before its first command: runs from before the patch keep waiting for Temporal's suggestion.
  const continuesAsNewEarly = patched(EARLY_CONTINUE_AS_NEW);
  const historyIsLong = (): boolean =>
    input.continueAsNewAfterEvents !== undefined
      ? workflowInfo().historyLength >= input.continueAsNewAfterEvents
      : workflowInfo().continueAsNewSuggested || (continuesAsNewEarly && workflowInfo().historyLength >= CONTINUE_AS_NEW_AFTER_EVENTS);

  // The patient's questionnaires: each step at its time, while the plan (status, due item) holds.
  let invitingPatient = false;
  const askPatient = async (): Promise<void> => {
    const done = new Set<string>();
    for (;;) {
      const plan = invitationPlanKey(state);
      const next = nextInvitationStep(state, done);
      const moved = () => invitationPlanKey(state) !== plan || continuingAsNew || isClosed(state.status);
      if (!next) await condition(moved);
      else if (next.at > Date.now()) await condition(moved, next.at - Date.now());
      if (continuingAsNew || isClosed(state.status)) return;
      if (!next || invitationPlanKey(state) !== plan || next.at > Date.now()) continue;
      invitingPatient = true;
      try {
        await patientSteps.patientQuestionnaireStep({ pathwayId: state.pathwayId, dueAt: next.dueAt, step: next.step });
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
      }
      invitingPatient = false;
      done.add(next.key);
    }
  };

  // Decided when the loop first comes round, not in the first workflow task: that one stays as
  // small as before, so a rejected update right after enrolment still leaves no trace in the history.
  let keepsWakeUpTimer = false;
  let wakeUpTimer: WakeUpTimer | undefined;
  let rounds = 0;
  keepSearchAttributesCurrent();
  // Only pathways whose definition times questionnaires ask (and record the patch's marker).
  if (state.definition.patientQuestionnaires && patched(PATIENT_INVITATIONS)) void askPatient();
  while (!isClosed(state.status)) {
    if (rounds++ === 1) keepsWakeUpTimer = patched(KEPT_WAKE_UP_TIMER);
    const seen = changes;
    const wake = nextWakeUpAt(state);
    const changed = () => changes !== seen || historyIsLong();
    if (keepsWakeUpTimer) {
      wakeUpTimer = wakeUpTimerFor(wakeUpTimer, wake, Date.now());
      // With no timer for a wake-up, it has come already (a back-dated entry): act on it at once.
      if (wake === null || wakeUpTimer) await condition(() => changed() || wakeUpTimer?.fired === true);
    } else if (wake === null) await condition(changed);
    else await condition(changed, Math.max(1, wake - Date.now()));
    const clock = applyClock(state, Date.now());
    state = clock.state;
    outbox.push(...clock.effects);
    keepSearchAttributesCurrent();
    if (historyIsLong() && !isClosed(state.status)) {
      // Let running handlers and the side effect in flight finish, so nothing is done twice or lost.
      continuingAsNew = true;
      await condition(() => allHandlersFinished() && !carryingOut && !writing && !invitingPatient);
      return await continueAsNew<typeof pathwayWorkflow>({ ...input, carried: { state, effects: [...outbox], recorded, run: run + 1 } });
    }
  }
  if (handsOverOnClose) {
    // A message being delivered right now usually lands in moments: a few seconds for it, rather
    // than sending it twice (a webhook that is down keeps it longer; it is then handed over too).
    if (carryingOut) await condition(() => !carryingOut, '5 seconds');
    // Closing frees the patient at once: what the pathway still owes goes to a workflow of its
    // own, which outlives this one (a message still in flight too: receivers drop a repeated id).
    // An activity starts it, so nothing ties it to this run (a child would be tied to its parent).
    if (outbox.length > 0) {
      const deliveredBy = closingMessagesId(state.pathwayId, workflowInfo().runId);
      await handOver.handOverClosingMessages({
        workflowId: deliveredBy,
        taskQueue: workflowInfo().taskQueue,
        input: { pathwayId: state.pathwayId, enrolmentId, careTeam: state.careTeam, messages: outbox.map((e) => messageFor(e, state.pathwayId, state.careTeam)) },
      });
      state = noteHandover(state, Date.now(), outbox.splice(0), deliveredBy);
    }
    handedOver = true;
    await recordCaughtUp();
    await condition(() => allHandlersFinished() && !writing);
    keepSearchAttributesCurrent();
    return viewOf(state);
  }
  await condition(() => allHandlersFinished() && outbox.length === 0 && !carryingOut);
  keepSearchAttributesCurrent();
  const recording = recordCaughtUp();
  if (recording) await recording;
  return viewOf(state);
}

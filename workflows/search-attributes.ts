/**
 * Typed search attributes that keep dashboards' filters current. They hold no patient data:
 * Temporal stores them in plain text.
 */
import { defineSearchAttributeKey } from '@temporalio/common';

export const PathwayStageKey = defineSearchAttributeKey('PathwayStage', 'KEYWORD');
export const PathwayStatusKey = defineSearchAttributeKey('PathwayStatus', 'KEYWORD');
export const CareTeamKey = defineSearchAttributeKey('PathwayCareTeam', 'KEYWORD');
/** The next due date of whatever the pathway waits for (a reassessment, a procedure, the work-up, ...). */
export const NextDueKey = defineSearchAttributeKey('PathwayNextDue', 'DATETIME');
export const NextDueKindKey = defineSearchAttributeKey('PathwayNextDueKind', 'KEYWORD');
export const OverdueKey = defineSearchAttributeKey('PathwayOverdue', 'BOOL');
/** A reminder or notification could not be delivered and no one has acted on the pathway since. */
export const UndeliveredKey = defineSearchAttributeKey('PathwayUndelivered', 'BOOL');
export const DefinitionKey = defineSearchAttributeKey('PathwayDefinition', 'KEYWORD');
export const DefinitionVersionKey = defineSearchAttributeKey('PathwayDefinitionVersion', 'INT');

export const PATHWAY_SEARCH_ATTRIBUTES = [
  PathwayStageKey,
  PathwayStatusKey,
  CareTeamKey,
  NextDueKey,
  NextDueKindKey,
  OverdueKey,
  UndeliveredKey,
  DefinitionKey,
  DefinitionVersionKey,
] as const;

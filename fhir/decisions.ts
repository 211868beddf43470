/**
 * Automated decisions as FHIR: each timeline entry a rule decided becomes a Provenance naming
 * the rule (code and sentence) and carrying its numbers, and, in an import's answer, an
 * OperationOutcome issue of severity information.
 */
import type { Extension, OperationOutcomeIssue, Provenance } from '@medplum/fhirtypes';
import type { TimelineEntry } from '../clinical/pathway';
import { CODE_SYSTEMS, DECISION_NUMBERS_EXTENSION, FHIR_BASE } from './codes';

/** Decisions a person took (overrides, with their reason) and reminders sent are not automated decisions. */
export function isAutomatedDecision(entry: TimelineEntry): entry is TimelineEntry & { ruleId: NonNullable<TimelineEntry['ruleId']> } {
  return entry.ruleId !== undefined && !entry.ruleId.startsWith('override.') && entry.ruleId !== 'follow-up.reminder';
}

function numbersExtension(numbers: NonNullable<TimelineEntry['numbers']>): Extension {
  return {
    url: DECISION_NUMBERS_EXTENSION,
    extension: Object.entries(numbers).map(([name, value]): Extension => {
      if (value === null) return { url: name, valueString: 'none' };
      if (typeof value === 'number') return { url: name, valueDecimal: value };
      if (typeof value === 'boolean') return { url: name, valueBoolean: value };
      return { url: name, valueString: value };
    }),
  };
}

/** "painReliefPercent 37.5, painThresholdPercent 30": the numbers as a clinician reads them. */
export function numbersText(numbers: TimelineEntry['numbers']): string {
  return Object.entries(numbers ?? {})
    .map(([name, value]) => `${name} ${value === null ? 'none' : String(value)}`)
    .join(', ');
}

export function decisionProvenance(pathwayId: string, entry: TimelineEntry & { ruleId: string }): Provenance {
  const rules = { system: CODE_SYSTEMS.rules, code: entry.ruleId };
  return {
    resourceType: 'Provenance',
    id: `${pathwayId}.decision.${entry.seq}`,
    ...(entry.numbers && Object.keys(entry.numbers).length > 0 ? { extension: [numbersExtension(entry.numbers)] } : {}),
    target: [{ reference: `CarePlan/${pathwayId}` }],
    occurredDateTime: entry.at,
    recorded: entry.at,
    policy: [`${FHIR_BASE}/rules/${entry.ruleId}`],
    activity: { coding: [rules], text: entry.summary },
    reason: [{ coding: [rules], text: entry.rule ?? entry.ruleId }],
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'performer' }] },
        who: { type: 'Device', identifier: { system: `${FHIR_BASE}/actors`, value: 'pathway-rules' }, display: 'Pathway rules' },
      },
      // The person whose entry the rule evaluated (a clinician's reassessment, a red-flag report).
      ...(entry.actor.role !== 'system'
        ? [
            {
              type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'enterer' }] },
              who: { identifier: { system: `${FHIR_BASE}/actors`, value: entry.actor.id }, display: `${entry.actor.id} (${entry.actor.role})` },
            },
          ]
        : []),
    ],
  };
}

export function decisionIssue(entry: TimelineEntry): OperationOutcomeIssue {
  const numbers = numbersText(entry.numbers);
  return {
    severity: 'information',
    code: 'informational',
    details: {
      ...(entry.ruleId ? { coding: [{ system: CODE_SYSTEMS.rules, code: entry.ruleId }] } : {}),
      text: entry.summary,
    },
    diagnostics: [entry.rule, numbers && `Numbers: ${numbers}.`].filter(Boolean).join(' ') || entry.summary,
  };
}

/**
 * A migration of the pathway to a newer definition version as a FHIR Provenance: the CarePlan
 * it changed, when, who moved it and why, the version it left and the one it took (each a
 * PlanDefinition), and the simulation of the cohort that preceded it.
 */
import type { Provenance } from '@medplum/fhirtypes';
import type { TimelineEntry } from '../clinical/pathway';
import { FHIR_BASE } from './codes';

export const isMigration = (entry: TimelineEntry): boolean => entry.event === 'definition-migrated';

export function migrationProvenance(pathwayId: string, entry: TimelineEntry): Provenance {
  const n = entry.numbers ?? {};
  const planDefinition = (version: unknown) => ({ reference: `PlanDefinition/${String(n.definition)}-v${String(version)}` });
  return {
    resourceType: 'Provenance',
    id: `${pathwayId}.migration.${entry.seq}`,
    target: [{ reference: `CarePlan/${pathwayId}` }],
    occurredDateTime: entry.at,
    recorded: entry.at,
    policy: [`${FHIR_BASE}/definitions/${String(n.definition)}/${String(n.toVersion)}`],
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE' }], text: entry.summary },
    ...(entry.reason ? { reason: [{ text: entry.reason }] } : {}),
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author' }] },
        who: { identifier: { system: `${FHIR_BASE}/actors`, value: entry.actor.id }, display: `${entry.actor.id} (${entry.actor.role})` },
      },
    ],
    entity: [
      { role: 'revision', what: planDefinition(n.fromVersion) },
      { role: 'source', what: { identifier: { system: `${FHIR_BASE}/simulations`, value: String(n.simulationId) }, display: 'Simulation of the cohort before the migration' } },
    ],
  };
}

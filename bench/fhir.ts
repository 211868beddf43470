/**
 * What FHIR costs: the export of a pathway as its record grows (time to build the Bundle, its
 * resources and size), and the import's reading of a full Bundle of Observations. Figures and
 * ratios to the smallest case; no assertion.
 *
 *   npm run bench:fhir
 */
import { performance } from 'node:perf_hooks';
import { applyEvent, enroll, pendingWorkup, type PathwayState } from '../clinical/pathway';
import { loadDefinitions } from '../clinical/registry';
import { PatientRefSchema } from '../api/schemas';
import { MAX_ENTRIES, readObservationBundle } from '../fhir/observation-import';
import { pathwayBundle } from '../fhir/pathway-bundle';

const definition = loadDefinitions().get('psps-lumbar', 1)!;
const clinician = { id: 'bench', role: 'clinician' as const };
const T0 = Date.UTC(2026, 0, 1);
const subject = { patientRef: 'clinic-ref-bench' };

/** A pathway with `count` reassessments (each a decision and a note of the minimum duration, so two Provenances). */
function pathwayWithReassessments(count: number): PathwayState {
  let s = enroll({ pathwayId: `pw-${'b'.repeat(32)}`, careTeam: 'bench', definition, baseline: { painNrs: 8, odi: 40 }, redFlags: [], enrolledBy: clinician }, T0).state;
  for (let i = 1; i <= count; i++) {
    s = applyEvent(s, { type: 'reassessment', actor: clinician, input: { painNrs: 7, odi: 38, dailyMme: 30, redFlags: [] } }, T0 + i * 1000).state;
  }
  return s;
}

function timePerOp(fn: () => void, minMs = 300): number {
  for (let i = 0; i < 5; i++) fn(); // warm up
  let ops = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    fn();
    ops++;
  }
  return (performance.now() - start) / ops; // milliseconds
}

const rows: Array<{ reassessments: number; resources: number; ms: number; kib: number }> = [];
for (const count of [10, 100, 1000]) {
  const s = pathwayWithReassessments(count);
  const view = { ...s, pendingWorkup: pendingWorkup(s) };
  const now = new Date();
  const bundle = pathwayBundle(view, subject, now);
  const ms = timePerOp(() => JSON.stringify(pathwayBundle(view, subject, now)));
  rows.push({ reassessments: count, resources: bundle.entry!.length, ms, kib: Buffer.byteLength(JSON.stringify(bundle)) / 1024 });
}

const base = rows[0]!;
console.log('export: reassessments | resources | build + serialise (ms) | ratio | Bundle (KiB) | ratio');
for (const r of rows) {
  console.log(
    [
      String(r.reassessments).padStart(21),
      String(r.resources).padStart(9),
      r.ms.toFixed(2).padStart(22),
      (r.ms / base.ms).toFixed(1).padStart(5),
      r.kib.toFixed(1).padStart(12),
      (r.kib / base.kib).toFixed(1).padStart(5),
    ].join(' | '),
  );
}

// The largest import accepted: MAX_ENTRIES Observations, pain and ODI at MAX_ENTRIES / 2 effective times.
const entry = Array.from({ length: MAX_ENTRIES }, (_, i) => ({
  resource: {
    resourceType: 'Observation',
    id: `bench-${i}`,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: i % 2 === 0 ? '72514-3' : '97909-6' }] },
    subject: { identifier: { value: subject.patientRef } },
    effectiveDateTime: new Date(T0 + Math.floor(i / 2) * 86_400_000).toISOString(),
    valueQuantity: { value: i % 2 === 0 ? 6 : 30, system: 'http://unitsofmeasure.org', code: '{score}' },
  },
}));
const body = { resourceType: 'Bundle', type: 'batch', entry };
const readMs = timePerOp(() => readObservationBundle(body, PatientRefSchema));
console.log(`import: reading ${MAX_ENTRIES} Observations (${Buffer.byteLength(JSON.stringify(body)) / 1024 | 0} KiB) into ${MAX_ENTRIES / 2} reassessments: ${readMs.toFixed(2)} ms`);

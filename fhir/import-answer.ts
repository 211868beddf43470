/**
 * The answer to an import: a batch-response or transaction-response Bundle with one entry per
 * Observation sent, in the order sent, each with its status and an OperationOutcome: the
 * decisions its reassessment caused (severity information), or why it was refused.
 */
import type { Bundle, BundleEntry, OperationOutcome } from '@medplum/fhirtypes';
import type { TimelineEntry } from '../clinical/pathway';
import { decisionIssue } from './decisions';
import { issue, operationOutcome, type ImportedReassessment, type ObservationImport } from './observation-import';

export interface ReassessmentResult {
  reassessment: ImportedReassessment;
  /** HTTP status of this reassessment: 201 recorded, 200 recorded before, 4xx refused. */
  status: number;
  outcome: OperationOutcome;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Unprocessable Entity',
};

export const statusLine = (status: number): string => `${status} ${REASONS[status] ?? ''}`.trim();

export function recordedOutcome(decisions: TimelineEntry[]): OperationOutcome {
  return operationOutcome(decisions.map(decisionIssue));
}

export function alreadyRecordedOutcome(): OperationOutcome {
  return operationOutcome([
    { severity: 'information', code: 'duplicate', details: { text: 'These Observations were recorded before: nothing was recorded twice.' } },
  ]);
}

/** The reassessment field an Observation's effective time becomes. */
const EFFECTIVE_TIME_FIELD = 'assessedAt';

/**
 * The pathway's rules refused the time the scores were taken: in the future, further back than
 * the definition's back-dating window, or before the pathway's last recorded event. The
 * Observations are valid FHIR that a business rule refuses, so 422 (as FHIR answers a resource
 * that breaks the server's business rules), with the issue on each Observation's effective time.
 * Null when the refusal is about something else.
 */
export function effectiveTimeRefusal(r: ImportedReassessment, errors: ReadonlyArray<{ field: string; message: string }>): ReassessmentResult | null {
  const refused = errors.find((e) => e.field === EFFECTIVE_TIME_FIELD);
  if (!refused) return null;
  const text = refused.message.replaceAll(EFFECTIVE_TIME_FIELD, 'the effective time');
  return { reassessment: r, status: 422, outcome: operationOutcome([issue('business-rule', r.effectiveElements, text)]) };
}

export function importAnswer(imported: ObservationImport, results: ReassessmentResult[]): Bundle {
  const byEntry = new Map<number, { result: ReassessmentResult; id: string }>();
  for (const result of results) {
    result.reassessment.entries.forEach((index, i) => byEntry.set(index, { result, id: result.reassessment.ids[i]! }));
  }
  const entry: BundleEntry[] = [];
  for (let index = 0; index < imported.entryCount; index++) {
    const { result, id } = byEntry.get(index)!;
    entry.push({
      response: {
        status: statusLine(result.status),
        ...(result.status < 300 ? { location: `Observation/${id}` } : {}),
        outcome: result.outcome,
      },
    });
  }
  return { resourceType: 'Bundle', type: imported.bundleType === 'transaction' ? 'transaction-response' : 'batch-response', entry };
}

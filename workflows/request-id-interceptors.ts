/**
 * The workflow's side of request ids (observability/request-id-interceptors.ts): while a start,
 * update or signal sent on a request's behalf is handled, the workflow's log lines carry its id;
 * an activity scheduled in the activation that handled exactly one such request gets its id in
 * a header, so the activity's logs carry it too. Where a request cannot be told apart (two in
 * one activation, or an effect that waited behind another), no id is given rather than a wrong one.
 */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

const REQUEST_ID_HEADER = 'pathway-request-id';

const idOf = (header: Payload | undefined): string | undefined => (header ? (defaultPayloadConverter.fromPayload(header) as string) : undefined);

export const interceptors: WorkflowInterceptorsFactory = () => {
  let handling: string | undefined;
  let thisActivation = new Set<string>();
  const during = <T>(header: Payload | undefined, run: () => T): T => {
    const requestId = idOf(header);
    if (!requestId) return run();
    thisActivation.add(requestId);
    handling = requestId;
    try {
      return run();
    } finally {
      handling = undefined;
    }
  };
  return {
    internals: [
      {
        activate(input, next) {
          thisActivation = new Set();
          return next(input);
        },
      },
    ],
    inbound: [
      {
        execute: (input, next) => during(input.headers[REQUEST_ID_HEADER], () => next(input)),
        handleUpdate: (input, next) => during(input.headers[REQUEST_ID_HEADER], () => next(input)),
        validateUpdate: (input, next) => during(input.headers[REQUEST_ID_HEADER], () => next(input)),
        handleSignal: (input, next) => during(input.headers[REQUEST_ID_HEADER], () => next(input)),
      },
    ],
    outbound: [
      {
        getLogAttributes: (input, next) => ({ ...next(input), ...(handling ? { requestId: handling } : {}) }),
        scheduleActivity(input, next) {
          const [only] = thisActivation;
          if (thisActivation.size !== 1 || !only) return next(input);
          return next({ ...input, headers: { ...input.headers, [REQUEST_ID_HEADER]: defaultPayloadConverter.toPayload(only) } });
        },
      },
    ],
  };
};

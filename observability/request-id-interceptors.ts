/**
 * Carries the request id (observability/request-context.ts) through Temporal: the client puts
 * it in a header of every start, update and signal it sends on a request's behalf; an activity
 * started with that header runs in the request's context, so its log lines carry the id.
 * The workflow's side is workflows/request-id-interceptors.ts.
 */
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { REQUEST_ID_HEADER, requestContext } from './request-context';

function withRequestId(headers: Headers): Headers {
  const requestId = requestContext.getStore()?.requestId;
  return requestId ? { ...headers, [REQUEST_ID_HEADER]: defaultPayloadConverter.toPayload(requestId) } : headers;
}

export function requestIdClientInterceptor(): WorkflowClientInterceptor {
  return {
    start: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
    startWithDetails: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
    startUpdate: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
    startUpdateWithStart: (input, next) =>
      next({ ...input, workflowStartHeaders: withRequestId(input.workflowStartHeaders), updateHeaders: withRequestId(input.updateHeaders) }),
    signal: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
    signalWithStart: (input, next) => next({ ...input, headers: withRequestId(input.headers) }),
  };
}

export const requestIdActivityInterceptor: ActivityInterceptorsFactory = () => {
  let requestId: string | undefined;
  return {
    inbound: {
      execute(input, next) {
        const header = input.headers[REQUEST_ID_HEADER];
        requestId = header ? (defaultPayloadConverter.fromPayload(header) as string) : undefined;
        return requestId ? requestContext.run({ requestId }, () => next(input)) : next(input);
      },
    },
    outbound: {
      getLogAttributes: (attributes, next) => ({ ...next(attributes), ...(requestId ? { requestId } : {}) }),
    },
  };
};

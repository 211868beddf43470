/**
 * The request a piece of work is done for, carried through async calls: the API sets it for each
 * HTTP request, the worker for each activity started on that request's behalf. The logger adds
 * it to every line written meanwhile; Temporal carries it between them in a header.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  requestId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** The Temporal header (workflow start, update, signal, activity) that carries the request id. */
export const REQUEST_ID_HEADER = 'pathway-request-id';

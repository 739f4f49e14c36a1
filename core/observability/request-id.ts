/**
 * Request ids: one per client HTTP request, so that a client's request, the proxy's access line
 * and the backend request it caused can be tied together. A client (or a load balancer in
 * front) may send its own in `X-Request-Id`; one that is sane is kept, anything else is replaced
 * by a fresh UUID. The id is echoed in the response's `X-Request-Id` and sent on to remote
 * backends in theirs (call-scope.ts).
 */
import { randomUUID } from 'node:crypto';
import { AsyncSlot } from '../async-slot.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Longest incoming id kept (a UUID is 36, a W3C trace id 32; room for prefixed ones). */
const MAX_LENGTH = 128;
/**
 * What an incoming id may consist of: letters, digits and `-_.:/+=@`. Nothing that could end a
 * log field, a header, or be read as markup, and no spaces.
 */
const SANE = /^[A-Za-z0-9._:/+=@-]+$/;

/** The request id for a request that came with `incoming` (the value of its `X-Request-Id`): that one when sane, else a new one. */
export function requestIdFor(incoming: string | string[] | undefined): string {
  const value = Array.isArray(incoming) ? undefined : incoming;
  return value !== undefined && value.length <= MAX_LENGTH && SANE.test(value) ? value : randomUUID();
}

/**
 * The request id of the client HTTP request the current code serves: the HTTP layer runs each
 * `/mcp` request's front door in it, so the access log and backend requests made on the
 * request's behalf find it on their async path (the SDKs' transports copy the request's headers
 * before the proxy could add one, so it does not ride in them).
 */
export const requestIds = new AsyncSlot<string>('request id');

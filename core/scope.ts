/**
 * Request scope: which client request the current code runs on behalf of.
 *
 * A client request is handled inside `requestScope.run(scope, ...)`. Whatever a backend sends
 * while answering it (sampling, elicitation, roots, progress, logging) reaches the proxy on the
 * same asynchronous path: the in-memory transport calls straight through, and an HTTP backend's
 * reply stream is read by a loop started from the forwarded request. So `requestScope.getStore()`
 * in a backend-to-client handler names the client request it belongs to, and the proxy can send
 * the message on that request's stream (`relatedRequestId`) to the right client session.
 *
 * Backend connections are opened with `requestScope.exit()`, so their long-lived streams (the
 * standalone GET stream) never inherit the request that happened to open them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';

export interface RequestScope {
  /** The client session the request came from. */
  readonly sessionId: string;
  /** The client's JSON-RPC id for the request. */
  readonly requestId: RequestId;
  /** True once the proxy has answered; later messages no longer belong to the request's stream. */
  done: boolean;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();

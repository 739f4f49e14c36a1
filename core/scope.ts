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
import { AsyncSlot } from './async-slot.ts';
import type { JSONRPCRequest, Notification, RequestId, Result } from '@modelcontextprotocol/sdk/types.js';

export interface RequestScope {
  /** The client session the request came from (a 2025 session), or `stateless` (a 2026 request). */
  readonly sessionId: string;
  /** The client's JSON-RPC id for the request. */
  readonly requestId: RequestId;
  /**
   * The headers of the client's HTTP request: a backend request made for it carries those its
   * plugin forwards (`forwardHeaders`; see upstream/forward-headers.ts).
   */
  readonly headers?: InboundHeaders;
  /** True once the proxy has answered; later messages no longer belong to the request's stream. */
  done: boolean;
  /** A 2026 request (no session): where the backend's messages about it go. */
  stateless?: StatelessSink;
  /**
   * Closes the client's stream of this request so that it reconnects and resumes (2025
   * sessions): done when the backend closes its own stream of the request mid-call (SSE
   * polling), so the client sees what the backend meant.
   */
  closeStream?: () => void;
}

/**
 * Where a backend's messages about a stateless (2026-era) request go. A request may span several
 * HTTP exchanges (an `input_required` round trip), so the current one is swapped in on each.
 */
export interface StatelessSink {
  /** Sends a notification related to the request (progress, a log message) on its current stream. */
  notify(notification: Notification): Promise<void>;
  /** The backend asks the client something in the middle of the request (a 2025-era backend). */
  ask(request: JSONRPCRequest, signal: AbortSignal): Promise<Result>;
}

/** HTTP request headers as Node gives them: names in lower case. */
export type InboundHeaders = Readonly<Record<string, string | string[] | undefined>>;

export const requestScope = new AsyncSlot<RequestScope>('request');

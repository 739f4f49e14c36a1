/**
 * Every place the proxy works around a behaviour of the MCP SDKs, in one module. Each names the
 * SDK version and the upstream issue, and test/sdk-workarounds.test.ts has a test that shows the
 * SDK still behaves so: when an SDK upgrade fixes one, its test fails, and the workaround can go.
 *
 * 1. SDK v1 (1.32) ignores a `notifications/cancelled` for request id 0 (typescript-sdk#2283),
 *    and numbers a peer's requests from 0. So the proxy's client-facing servers start their ids at
 *    1 (startRequestIdsAtOne), backend sessions track the backend's own requests to cancel them
 *    (trackBackendRequests), and client sessions hear a client cancel its request id 0
 *    (hearCancellationOfIdZero).
 * 2. SDK v1's streamable HTTP client transport hands its one AbortSignal to every fetch; undici
 *    keeps a listener on it per request until the request is collected, so a busy backend session
 *    piles up thousands (MaxListenersExceededWarning). Not reported upstream. fetchWithOwnSignal.
 * 3. SDK v2's client (2.4.0) unwraps a JSON-RPC error from an HTTP error answer only for 400; a
 *    2026-07-28 server answers `-32601` with 404, which reaches the caller as an SdkHttpError with
 *    the JSON-RPC body as text. Not reported upstream. jsonRpcErrorOf.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CancelledNotificationSchema, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { SdkHttpError } from '@modelcontextprotocol/client';
import type { FollowingSignal } from './signals.ts';

/** 1. The server's own requests to its client are numbered from 1, so the client can cancel each. */
export function startRequestIdsAtOne(server: Server): void {
  (server as unknown as { _requestMessageId: number })._requestMessageId = 1;
}

/** 1. A client's cancellation of its own request id 0 reaches `onCancel` (the SDK's server drops it). */
export function hearCancellationOfIdZero(transport: Transport, onCancel: (reason: string | undefined) => void): void {
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    const params = (message as { method?: string; params?: { requestId?: unknown; reason?: string } }).params;
    if ((message as { method?: string }).method === 'notifications/cancelled' && params?.requestId === 0) onCancel(params.reason);
    deliver?.(message, extra);
  };
}

/**
 * 1. A backend's requests to the proxy (its client), each cancellable by the backend whatever its
 * id: returns the map the request handler must register each request's signal in.
 */
export function trackBackendRequests(client: Client): Map<RequestId, FollowingSignal> {
  const inFlight = new Map<RequestId, FollowingSignal>();
  client.setNotificationHandler(CancelledNotificationSchema, (notification) => {
    const { requestId, reason } = notification.params;
    if (requestId !== undefined) inFlight.get(requestId)?.abort(reason ?? 'cancelled by the backend');
  });
  return inFlight;
}

/**
 * The SDK's HTTP transport hands its one AbortSignal (the one close() aborts) to every fetch,
 * and undici keeps a listener on it for each request until that request is garbage-collected:
 * a busy backend session piles up thousands (MaxListenersExceededWarning). Each fetch gets its
 * own signal instead; one listener per transport signal aborts them all, and the own signals
 * are held weakly, so a finished request leaves nothing behind.
 */
/** 2. */
export const fetchWithOwnSignal: typeof fetch = (input, init) => {
  const shared = init?.signal;
  if (!shared) return fetch(input, init);
  const own = new AbortController();
  // The request holds its signal while it runs; the signal holds its controller.
  Object.defineProperty(own.signal, CONTROLLER, { value: own });
  if (shared.aborted) own.abort(shared.reason);
  else requestsOf(shared).add(new WeakRef(own));
  return fetch(input, { ...init, signal: own.signal });
};

const CONTROLLER = Symbol('controller');
const requests = new WeakMap<AbortSignal, Set<WeakRef<AbortController>>>();
const forget = new FinalizationRegistry<() => void>((remove) => remove());

function requestsOf(shared: AbortSignal): { add(ref: WeakRef<AbortController>): void } {
  let live = requests.get(shared);
  if (!live) {
    const set = new Set<WeakRef<AbortController>>();
    live = set;
    requests.set(shared, set);
    shared.addEventListener(
      'abort',
      () => {
        for (const ref of set) ref.deref()?.abort(shared.reason);
        set.clear();
      },
      { once: true },
    );
  }
  const set = live;
  return {
    add(ref) {
      set.add(ref);
      forget.register(ref.deref()!, () => set.delete(ref));
    },
  };
}


/**
 * 3. The JSON-RPC error inside an HTTP error answer the SDK v2 client did not unwrap, if there is
 * one. (The caller tells an SdkHttpError: this module is loaded at start-up, the SDK v2 is not.)
 */
export function jsonRpcErrorOf(error: SdkHttpError): { code: number; message: string; data?: unknown } | undefined {
  try {
    const body = JSON.parse((error.data as { text?: string } | undefined)?.text ?? '') as { error?: { code?: unknown; message?: unknown; data?: unknown } };
    if (typeof body.error?.code === 'number' && typeof body.error.message === 'string') return { code: body.error.code, message: body.error.message, data: body.error.data };
  } catch {
    // not JSON: no JSON-RPC error in it
  }
  return undefined;
}

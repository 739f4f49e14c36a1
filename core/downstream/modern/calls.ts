/**
 * Forwarding a stateless (2026-era) client's request to its backend, with what the backend sends
 * about it going to the request's stream (progress with the client's token, log messages at the
 * level the client asked for). A 2025-era backend that asks the client something mid-call gets
 * its answer through an `input_required` round trip (input.ts): the call is parked, and the
 * client's retry, carrying the proxy's `requestState`, resumes it. A 2026-era backend's own
 * round trips pass through as they are.
 */
import { LOG_LEVEL_META_KEY, type ServerContext } from '@modelcontextprotocol/server';
import type { Notification, Result } from '@modelcontextprotocol/sdk/types.js';
import { Backend, type BackendLink } from '../../upstream/legacy/backend.ts';
import { requestScope, type RequestScope, type StatelessSink } from '../../scope.ts';
import { followSignals } from '../../signals.ts';
import { InputGate, ParkedCalls, type Parked } from './input.ts';
import { RpcCodes, RpcError } from '../../errors.ts';

type Params = Record<string, unknown>;

const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

export class StatelessCalls {
  readonly #parked: ParkedCalls;

  constructor(options: { inputTimeoutMs: number }) {
    this.#parked = new ParkedCalls({ expiresMs: options.inputTimeoutMs });
  }

  /** Sends the request of exchange `ctx` to `backend`; resolves with the result, or an `input_required` one. */
  async forward(backend: BackendLink, method: string, params: Params, ctx: ServerContext): Promise<Result> {
    const state = ctx.mcpReq.requestState() as string | undefined;
    let parked: Parked;
    if (!(backend instanceof Backend)) {
      const responses = ctx.mcpReq.inputResponses;
      parked = start(backend, method, { ...params, ...(responses && { inputResponses: responses }), ...(typeof state === 'string' && { requestState: state }) }, ctx);
    } else if (typeof state === 'string') {
      if (!ParkedCalls.owns(state)) throw new RpcError(RpcCodes.InvalidParams, `Invalid requestState: ${backend.plugin.label} did not ask for input on this request`);
      parked = this.#parked.take(state);
      parked.rebind(ctx);
      parked.gate.answer(ctx.mcpReq.inputResponses as Record<string, unknown> | undefined);
    } else {
      parked = start(backend, method, params, ctx);
    }
    // While this exchange waits, the client going away ends the call (once parked, it waits for the retry).
    const leg = followSignals(ctx.mcpReq.signal);
    const gone = () => parked.cancel('the client closed the request');
    leg.signal.addEventListener('abort', gone, { once: true });
    try {
      const outcome = await Promise.race([
        parked.call.then(
          (result) => ({ result }),
          (error: Error) => ({ error }),
        ),
        parked.gate.asked().then(() => ({ asked: true as const })),
      ]);
      if ('result' in outcome) return outcome.result;
      if ('error' in outcome) throw outcome.error;
      return { resultType: 'input_required', inputRequests: parked.gate.questions(), requestState: this.#parked.park(parked) };
    } finally {
      leg.signal.removeEventListener('abort', gone);
      leg.release();
    }
  }

  /** Ends every parked call (shutdown). */
  close(reason: string): void {
    this.#parked.close(reason);
  }
}

/** Starts a backend call for a stateless request, with a sink for what the backend sends about it. */
function start(backend: BackendLink, method: string, params: Params, ctx: ServerContext): Parked {
  let current = ctx;
  const gate = new InputGate();
  const cancel = new AbortController();
  const level = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[LOG_LEVEL_META_KEY] as string | undefined;
  const sink: StatelessSink = {
    notify: async (notification: Notification) => {
      // Log messages only for a client that asked for them, at its level or above (there is no session to set one on).
      if (notification.method === 'notifications/message' && !atLeast((notification.params as { level?: string } | undefined)?.level, level)) return;
      await current.mcpReq.notify(notification as never).catch(() => {});
    },
    ask: (request, signal) => gate.ask(request, signal),
  };
  const headers = ctx.http?.req?.headers;
  const scope: RequestScope = { sessionId: 'stateless', requestId: ctx.mcpReq.id, ...(headers && { headers: Object.fromEntries(headers) }), done: false, stateless: sink };
  const token = (ctx.mcpReq._meta as { progressToken?: unknown } | undefined)?.progressToken;
  const call = requestScope.run(scope, () =>
    backend.request(method, params, {
      signal: cancel.signal,
      ...(token !== undefined && {
        resetTimeoutOnProgress: true,
        onprogress: (progress) => void sink.notify({ method: 'notifications/progress', params: { ...progress, progressToken: token } }),
      }),
    }),
  );
  void call.finally(() => (scope.done = true)).catch(() => {});
  return {
    call,
    gate,
    cancel: (reason) => {
      gate.abandon(new RpcError(RpcCodes.ConnectionClosed, reason));
      cancel.abort(reason);
    },
    rebind: (target) => (current = target as ServerContext),
  };
}

/** The client's params as they go to the backend: the proxy's own fields taken out, the rest kept. */
export function forwarded(params: Params, ctx: ServerContext): Params {
  const { _meta: _envelope, inputResponses: _responses, requestState: _state, ...rest } = params;
  const meta = ctx.mcpReq._meta as Record<string, unknown> | undefined;
  return meta && Object.keys(meta).length ? { ...rest, _meta: meta } : rest;
}

/** Whether a log message at `level` reaches a client that asked for `threshold` (none: it did not ask). */
function atLeast(level: string | undefined, threshold: string | undefined): boolean {
  if (!threshold) return false;
  return LOG_LEVELS.indexOf(level ?? 'info') >= LOG_LEVELS.indexOf(threshold);
}

/**
 * Translation for stateless (2026-era) clients of 2025-era backends: a backend that asks the
 * client something in the middle of a call (elicitation, sampling, roots) cannot reach a client
 * that has no session. The proxy keeps the call running, parks it, and answers the client's
 * request with an `input_required` result carrying the question and a `requestState` token.
 * The client's retry (a new request with `inputResponses` and that token) hands the answers to
 * the waiting backend, and gets the call's result, or the next question.
 *
 * Parked calls live in this process; a token is random, used once, and expires (`expiresMs`).
 */
import { randomBytes } from 'node:crypto';
import type { JSONRPCRequest, Result } from '@modelcontextprotocol/sdk/types.js';
import { RpcCodes, RpcError } from '../../errors.ts';

/** A backend's questions to the client, waiting for answers. */
export class InputGate {
  readonly #pending = new Map<string, { request: { method: string; params?: Record<string, unknown> }; resolve: (result: Result) => void; reject: (error: Error) => void }>();
  #asked?: () => void;
  #next = 1;

  /** The backend asks: resolves with the client's answer. */
  ask(request: JSONRPCRequest, signal: AbortSignal): Promise<Result> {
    const key = `input-${this.#next++}`;
    const { _meta: _ignored, ...params } = (request.params ?? {}) as Record<string, unknown>;
    return new Promise<Result>((resolve, reject) => {
      this.#pending.set(key, { request: { method: request.method, ...(Object.keys(params).length && { params }) }, resolve, reject });
      signal.addEventListener('abort', () => {
        this.#pending.delete(key);
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? 'cancelled')));
      }, { once: true });
      this.#asked?.();
    });
  }

  /** Resolves as soon as a question is waiting for an answer. */
  asked(): Promise<void> {
    if (this.#pending.size) return Promise.resolve();
    return new Promise((resolve) => (this.#asked = resolve));
  }

  /** The questions waiting, as the `inputRequests` of an `input_required` result. */
  questions(): Record<string, { method: string; params?: Record<string, unknown> }> {
    return Object.fromEntries([...this.#pending].map(([key, { request }]) => [key, request]));
  }

  /** The client's answers (`inputResponses`): each goes to the question it answers. Unanswered ones stay asked. */
  answer(responses: Record<string, unknown> | undefined): void {
    for (const [key, response] of Object.entries(responses ?? {})) {
      const pending = this.#pending.get(key);
      if (!pending) continue;
      this.#pending.delete(key);
      pending.resolve(response as Result);
    }
  }

  /** Every question fails (the call was given up). */
  abandon(error: Error): void {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }
}

export interface Parked {
  /** The backend call, still running. */
  call: Promise<Result>;
  gate: InputGate;
  /** Ends the call (the client never came back). */
  cancel(reason: string): void;
  /** Swaps in where the call's messages go now (the retry's stream). */
  rebind(target: unknown): void;
}

export class ParkedCalls {
  readonly #calls = new Map<string, { parked: Parked; timer: NodeJS.Timeout }>();
  readonly #expiresMs: number;

  constructor(options: { expiresMs: number }) {
    this.#expiresMs = options.expiresMs;
  }

  /** Parks a call; the token the client must send back to resume it. */
  park(parked: Parked): string {
    const token = `switchboard:${randomBytes(18).toString('base64url')}`;
    const timer = setTimeout(() => {
      this.#calls.delete(token);
      parked.gate.abandon(new RpcError(RpcCodes.RequestTimeout, `the client did not answer within ${this.#expiresMs} ms`));
      parked.cancel(`the client did not answer the input request within ${this.#expiresMs} ms`);
    }, this.#expiresMs);
    timer.unref();
    this.#calls.set(token, { parked, timer });
    return token;
  }

  /** The call parked under `token`, taken (a token resumes a call once); an error if there is none. */
  take(token: string): Parked {
    const entry = this.#calls.get(token);
    if (!entry) throw new RpcError(RpcCodes.InvalidParams, 'Invalid or expired requestState: no call of this proxy is waiting for it (it was answered already, it expired, or it was changed)');
    this.#calls.delete(token);
    clearTimeout(entry.timer);
    return entry.parked;
  }

  /** Whether `token` looks like one of ours (a backend's own requestState goes to the backend). */
  static owns(token: string): boolean {
    return token.startsWith('switchboard:');
  }

  /** Ends every parked call (shutdown). */
  close(reason: string): void {
    for (const { parked, timer } of this.#calls.values()) {
      clearTimeout(timer);
      parked.gate.abandon(new RpcError(RpcCodes.ConnectionClosed, reason));
      parked.cancel(reason);
    }
    this.#calls.clear();
  }
}

/**
 * Limits on what one client may ask of the proxy over HTTP, each refused with a JSON-RPC error
 * that names the limit and the setting to change:
 *
 * - `maxHeaderBytes`: Node refuses larger headers before any request exists; `clientErrorHandler`
 *   turns its bare 431 into one with a body.
 * - `maxHeaders`: Node silently drops headers past `maxHeadersCount`, so they are counted here (431).
 * - `rateLimit`: requests per principal per window (429 with Retry-After).
 * - `maxRequestsPerSession`: requests in progress per 2025 session, or per principal for the
 *   stateless 2026 era (429 with Retry-After).
 *
 * `maxSessions` (503) and `maxBodyBytes` (413) are checked where sessions and bodies are made.
 */
import type { Socket } from 'node:net';
import type { Principal } from '../auth/principal.ts';
import type { Context, Middleware } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '../log.ts';
import { requestIdOf, sendRpcError } from './json.ts';

export interface RateLimit {
  /** How many requests to `/mcp` each principal may send per window... */
  requests: number;
  /** ...of this many seconds. */
  perSeconds: number;
}

export interface LimitSettings {
  /** Unset: no rate limit. */
  rateLimit?: RateLimit;
  maxRequestsPerSession: number;
  maxHeaders: number;
}


/**
 * Who a request is from, for the per-principal limits: the authenticated principal, else the
 * client's address (`ctx.ip`: the socket's, since the app does not trust X-Forwarded-For).
 */
export function principalOf(ctx: Context): string {
  const principal = ctx.state.principal as Principal | undefined;
  // Without authentication every caller is the same anonymous one: tell them apart by address.
  return principal && principal.via !== 'none' ? principal.id : `ip:${ctx.ip}`;
}

/** Retry-After for a request refused because too many are in progress: they are usually short. */
const IN_PROGRESS_RETRY_AFTER_SEC = 1;

export class HttpLimits {
  readonly #settings: LimitSettings;
  readonly #log: Logger;
  readonly #rate?: RateLimiterMemory;
  /** Requests in progress, by `session:<id>` or `principal:<key>`; keys at zero are removed. */
  readonly #inProgress = new Map<string, number>();

  constructor(settings: LimitSettings, log: Logger) {
    this.#settings = settings;
    this.#log = log;
    if (settings.rateLimit) this.#rate = new RateLimiterMemory({ points: settings.rateLimit.requests, duration: settings.rateLimit.perSeconds });
  }

  /** Middleware for every route: more headers than `maxHeaders` get 431. */
  readonly headerCount: Middleware = async (ctx, next) => {
    const { maxHeaders } = this.#settings;
    const count = ctx.req.rawHeaders.length / 2;
    if (count > maxHeaders) {
      ctx.respond = false;
      // Node keeps only about maxHeaders + 1 of them (switchboard.ts sets maxHeadersCount), so "more than".
      return sendRpcError(ctx.res, 431, -32000, `Request Header Fields Too Large: more than ${maxHeaders} headers, the limit (maxHeaders)`);
    }
    await next();
  };

  /**
   * Counts a request to `/mcp` against its principal's `rateLimit`. Returns true when it is
   * refused (and answered with 429).
   */
  async refuseByRate(ctx: Context): Promise<boolean> {
    const rate = this.#rate;
    if (!rate) return false;
    const key = principalOf(ctx);
    try {
      await rate.consume(key);
      return false;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const { requests, perSeconds } = this.#settings.rateLimit!;
      const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      // Once per principal and window, so a client hammering away does not flood the log.
      if (error.consumedPoints === requests + 1) this.#log.warn({ principal: key, retryAfter }, `rate limit reached: ${key} sent more than ${requests} requests in ${perSeconds} s (rateLimit)`);
      ctx.respond = false;
      sendRpcError(
        ctx.res,
        429,
        -32000,
        `Too Many Requests: more than ${requests} requests in ${perSeconds} s from ${key}, the limit (rateLimit); retry after ${retryAfter} s`,
        null,
        { 'Retry-After': String(retryAfter) },
      );
      return true;
    }
  }

  /**
   * Counts a POST that carries JSON-RPC requests as in progress until its response closes:
   * per session for the 2025 era (`sessionId`), per principal for the stateless 2026 era.
   * Notifications, responses, GET streams and `subscriptions/listen` streams are not counted.
   * Returns true when it is refused (and answered with 429).
   */
  refuseByRequestsInProgress(ctx: Context, era: 'legacy' | 'modern', body: unknown): boolean {
    if (ctx.method !== 'POST' || !carriesRequests(body)) return false;
    const sessionId = ctx.get('mcp-session-id');
    if (era === 'legacy' && !sessionId) return false; // initialize: a new session has nothing in progress
    const key = era === 'legacy' ? `session:${sessionId}` : `principal:${principalOf(ctx)}`;
    const { maxRequestsPerSession } = this.#settings;
    const count = this.#inProgress.get(key) ?? 0;
    if (count >= maxRequestsPerSession) {
      this.#log.debug({ key, count }, 'request refused: too many in progress (maxRequestsPerSession)');
      const which =
        era === 'legacy'
          ? `${count} requests are in progress on this session, the limit (maxRequestsPerSession)`
          : `${count} requests from ${principalOf(ctx)} are in progress, the limit (maxRequestsPerSession, counted per client for requests without a session)`;
      ctx.respond = false;
      sendRpcError(
        ctx.res,
        429,
        -32000,
        `Too Many Requests: ${which}; retry when one has finished`,
        requestIdOf(body),
        { 'Retry-After': String(IN_PROGRESS_RETRY_AFTER_SEC) },
      );
      return true;
    }
    this.#inProgress.set(key, count + 1);
    ctx.res.once('close', () => {
      const left = (this.#inProgress.get(key) ?? 1) - 1;
      if (left > 0) this.#inProgress.set(key, left);
      else this.#inProgress.delete(key);
    });
    return false;
  }
}

/** Whether a body holds a JSON-RPC request (a message with an id and a method), other than a listen stream. */
function carriesRequests(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((m) => typeof m === 'object' && m !== null && 'id' in m && 'method' in m && m.method !== 'subscriptions/listen');
}

/** Node's own answers to requests it cannot parse (see its `socketOnError`), but for oversized headers. */
const BARE_ANSWERS: Record<string, string> = {
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/**
 * The server's `clientError` listener. Node answers headers larger than `maxHeaderSize` with a
 * bare 431 and no body; this answers with a JSON-RPC error naming `maxHeaderBytes`, and every
 * other parse error as Node does.
 */
export function clientErrorHandler(maxHeaderBytes: number): (error: NodeJS.ErrnoException, socket: Socket) => void {
  return (error, socket) => {
    // As Node: answer only if no response has begun on this connection (keep-alive, SSE).
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy(error);
      return;
    }
    if (error.code === 'HPE_HEADER_OVERFLOW') {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        error: { code: -32000, message: `Request Header Fields Too Large: the headers exceed ${maxHeaderBytes} bytes, the limit (maxHeaderBytes)` },
        id: null,
      });
      // end(), not destroy(): the client may still be sending, and a reset would lose this answer.
      socket.end(`HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      const timer = setTimeout(() => socket.destroy(), 5000);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
      return;
    }
    socket.write(`HTTP/1.1 ${BARE_ANSWERS[error.code ?? ''] ?? '400 Bad Request'}\r\nConnection: close\r\n\r\n`);
    socket.destroy(error);
  };
}

/**
 * The HTTP face: `/mcp` (streamable HTTP, one transport per client session) and `/healthz`.
 * Builds a Koa app without listening, so tests can drive it with or without a port.
 */
import Koa from 'koa';
import Router from '@koa/router';
import parseBody from 'co-body';
import { randomUUID } from 'node:crypto';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { classifyInboundRequest } from '@modelcontextprotocol/server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientSession } from '../downstream/legacy/session.ts';
import type { SessionStore } from '../downstream/legacy/sessions.ts';
import type { Logger } from '../log.ts';
import { SessionEventStore, exchangeScope, type Exchange } from '../downstream/legacy/events.ts';
import { RpcCodes } from '../errors.ts';

export interface HttpOptions {
  sessions: SessionStore;
  /** A new, unconnected client session with the given id. */
  newSession: (id: string) => ClientSession;
  /** Host names accepted in `Host` and `Origin` (DNS-rebinding protection); `*` accepts any. */
  allowedHosts: readonly string[];
  maxBodyBytes: number;
  /** Most client sessions at once. */
  maxSessions: number;
  /** How long a dropped, resumable request stream waits for the client to resume before the request is cancelled. */
  resumeGraceMs: number;
  log: Logger;
  /** The body of `GET /healthz`. */
  health: () => Record<string, unknown>;
  /** `GET /readyz`: 200 when `ready`, else 503; the body lists every plugin's state. */
  readiness: () => { ready: boolean } & Record<string, unknown>;
  /** Counts client requests in progress, so shutdown can let them finish. */
  requests: RequestTracker;
  /** True once shutdown began: new requests are refused with 503. */
  isClosing: () => boolean;
  /** Serves 2026-07-28 (stateless) requests. */
  modern: { handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> };
}

/** Client requests (POSTs with JSON-RPC requests) in progress, and a way to wait for none. */
export class RequestTracker {
  #count = 0;
  #waiters: Array<() => void> = [];

  get count(): number {
    return this.#count;
  }

  start(): () => void {
    this.#count++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.#count === 0) for (const resolve of this.#waiters.splice(0)) resolve();
    };
  }

  /** Resolves when no request is in progress, or after `timeoutMs`; true if all finished. */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => this.#waiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return finished;
  }
}

const SESSION_HEADER = 'mcp-session-id';
/** Told to clients with each stream's priming event: how soon to reconnect after a drop. */
const RETRY_INTERVAL_MS = 1000;

export function createApp(options: HttpOptions): Koa {
  const { sessions, log } = options;
  const transports = new WeakMap<ClientSession, { transport: StreamableHTTPServerTransport; events: SessionEventStore }>();
  const app = new Koa();
  const router = new Router();

  app.on('error', (error, ctx) => log.error({ err: error, path: ctx?.path }, 'HTTP request failed'));

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok', ...options.health() };
  });

  router.get('/readyz', (ctx) => {
    const readiness = options.readiness();
    ctx.status = readiness.ready ? 200 : 503;
    ctx.body = readiness;
  });

  router.all('/mcp', async (ctx) => {
    const refusal = checkHostAndOrigin(ctx.get('host'), ctx.get('origin'), options.allowedHosts);
    if (refusal) return rpcError(ctx, 403, -32000, `Forbidden: ${refusal}`);
    if (options.isClosing()) {
      ctx.set('Retry-After', '5');
      return rpcError(ctx, 503, -32000, 'The proxy is shutting down');
    }
    if (!['GET', 'POST', 'DELETE'].includes(ctx.method)) {
      ctx.set('Allow', 'GET, POST, DELETE');
      return rpcError(ctx, 405, -32000, `Method not allowed: ${ctx.method} (use POST, GET or DELETE)`);
    }

    let body: unknown;
    if (ctx.method === 'POST') {
      if (!ctx.is('application/json')) {
        return rpcError(ctx, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
      }
      try {
        body = await parseBody.json(ctx.req, { limit: options.maxBodyBytes, strict: true });
      } catch (error) {
        const status = (error as { status?: number }).status;
        if (status === 413) return rpcError(ctx, 413, -32000, `Request body larger than ${options.maxBodyBytes} bytes`);
        return rpcError(ctx, 400, RpcCodes.ParseError, `Parse error: ${(error as Error).message}`);
      }
      if (nestingDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
        return rpcError(ctx, 400, RpcCodes.InvalidRequest, `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`, requestIdOf(body));
      }
    }

    // The 2026-07-28 era (a per-request envelope, no session) goes to its own front door; the
    // SDK's classifier decides, as SDK v2 servers do. What it refuses, that front door answers.
    const era = classifyInboundRequest({
      httpMethod: ctx.method,
      protocolVersionHeader: ctx.get('mcp-protocol-version') || undefined,
      mcpMethodHeader: ctx.get('mcp-method') || undefined,
      mcpNameHeader: ctx.get('mcp-name') || undefined,
      body,
    });
    if (era.kind !== 'legacy') {
      const finished = options.requests.start();
      ctx.res.once('close', finished);
      ctx.respond = false;
      await options.modern.handle(ctx.req, ctx.res, body);
      return;
    }

    const sessionId = ctx.get(SESSION_HEADER);
    let session: ClientSession | undefined;
    let http: { transport: StreamableHTTPServerTransport; events: SessionEventStore } | undefined;
    if (sessionId) {
      session = sessions.get(sessionId);
      http = session && transports.get(session);
      if (!session || !http) return rpcError(ctx, 404, -32001, 'Session not found');
    } else if (ctx.method === 'POST' && containsInitialize(body)) {
      if (sessions.size >= options.maxSessions && (await sessions.sweep()) === 0 && sessions.size >= options.maxSessions) {
        ctx.set('Retry-After', '30');
        return rpcError(ctx, 503, -32000, `Too many sessions: ${sessions.size} are open, the limit (maxSessions); try again later`, requestIdOf(body));
      }
      ({ session, http } = await startSession());
    } else {
      return rpcError(
        ctx,
        400,
        -32000,
        'Bad Request: Mcp-Session-Id header is required (send an initialize request first and reuse the Mcp-Session-Id it returns)',
      );
    }

    const live = session;
    const { transport, events } = http;
    live.active++;
    live.lastSeen = Date.now();
    const pending = requestIds(body);
    const exchange: Exchange = {};
    const finished = pending.length ? options.requests.start() : () => {};
    ctx.res.on('close', () => {
      finished();
      live.active--;
      live.lastSeen = Date.now();
      if (ctx.res.writableFinished) {
        if (exchange.streamId) events.completed(exchange.streamId);
        return;
      }
      if (pending.length === 0) return;
      // The request stream dropped before the answer. A client that can resume (it got event
      // ids) gets a grace period to reconnect; otherwise the answer can never reach it, so the
      // work is cancelled now.
      const giveUp = () => cancel(transport, pending, 'the client closed the request stream');
      if (exchange.streamId) events.dropped(exchange.streamId, options.resumeGraceMs, giveUp);
      else giveUp();
    });
    ctx.respond = false;
    await exchangeScope.run(exchange, () => transport.handleRequest(ctx.req, ctx.res, body));
    if (!sessionId && !sessions.get(live.id)) await live.close(); // initialize was refused
  });

  async function startSession() {
    const id = randomUUID();
    const session = options.newSession(id);
    const events = new SessionEventStore();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: events,
      retryInterval: RETRY_INTERVAL_MS,
      onsessioninitialized: () => {
        sessions.add(session);
        log.debug({ session: id }, 'client session started');
      },
    });
    transport.onclose = () => {
      log.debug({ session: id }, 'client session ended');
      events.clear();
      void sessions.end(session);
    };
    const http = { transport, events };
    transports.set(session, http);
    await session.connect(transport);
    return { session, http };
  }

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

function containsInitialize(body: unknown): boolean {
  return Array.isArray(body) ? body.some(isInitializeRequest) : isInitializeRequest(body);
}

function requestIds(body: unknown): RequestId[] {
  const messages = Array.isArray(body) ? body : [body];
  return messages
    .filter((m): m is { id: RequestId; method: string } => typeof m === 'object' && m !== null && 'id' in m && 'method' in m)
    .map((m) => m.id);
}

/** Tells the session's server that these requests were cancelled, as if the client had said so. */
function cancel(transport: StreamableHTTPServerTransport, ids: RequestId[], reason: string): void {
  for (const requestId of ids) {
    const message: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason } };
    transport.onmessage?.(message);
  }
}

function rpcError(ctx: Koa.Context, status: number, code: number, message: string, id: RequestId | null = null): void {
  ctx.status = status;
  ctx.body = { jsonrpc: '2.0', error: { code, message }, id };
}

/** Deeper than this, a body is refused: validating it would exhaust the stack. */
const MAX_JSON_DEPTH = 100;

/** How deeply `value` nests (counting stops past `limit`); iterative, so any depth is safe. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** The id of a single JSON-RPC request, so an error about it can carry it. */
function requestIdOf(body: unknown): RequestId | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const id = (body as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/**
 * DNS-rebinding protection: a browser page on another site can reach localhost, but its
 * requests carry that site's name in `Host` (after rebinding) or `Origin`. Returns why a request
 * is refused, or undefined when it may pass.
 */
export function checkHostAndOrigin(host: string, origin: string, allowedHosts: readonly string[]): string | undefined {
  if (allowedHosts.includes('*')) return undefined;
  const hostname = hostnameOf(host);
  if (hostname === undefined || !allowedHosts.includes(hostname)) {
    return `Host "${host}" is not allowed (allowedHosts: ${allowedHosts.join(', ')})`;
  }
  if (origin) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).hostname;
    } catch {
      originHost = undefined;
    }
    if (originHost === undefined || !allowedHosts.includes(originHost)) {
      return `Origin "${origin}" is not allowed (allowedHosts: ${allowedHosts.join(', ')})`;
    }
  }
  return undefined;
}

/** `localhost:8490` -> `localhost`, `[::1]:8490` -> `[::1]`. */
function hostnameOf(host: string): string | undefined {
  if (!host) return undefined;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return undefined;
  }
}

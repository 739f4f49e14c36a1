/**
 * 2025-era clients over streamable HTTP: one SDK transport per client session, found by its
 * `Mcp-Session-Id`, a new one for an `initialize`. Each session has an event store, so a client
 * whose stream dropped can resume; a dropped request stream that cannot be resumed (or is not,
 * within `resumeGraceMs`) counts as the client cancelling the request.
 *
 * A session belongs to the caller that opened it: with authentication on, every request of the
 * session must come from the same principal (a token of another caller cannot use it).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isInitializeRequest, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { ClientSession } from './session.ts';
import type { SessionStore } from './sessions.ts';
import { SessionEventStore, exchangeScope, type Exchange } from './events.ts';
import { newSessionId, replicaOf } from './session-id.ts';
import { NodeStreamableHttp } from './node-transport.ts';
import type { RequestTracker } from '../../http/requests.ts';
import { requestIdOf, sendRpcError } from '../../http/json.ts';
import type { Logger } from '../../log.ts';
import type { Principal } from '../../auth/principal.ts';

export interface LegacyHttpOptions {
  sessions: SessionStore;
  /** A new, unconnected client session with the given id, for this caller. */
  newSession: (id: string, principal: Principal) => ClientSession;
  /** Most client sessions at once. */
  maxSessions: number;
  /** Most client sessions at once of one authenticated caller (without authentication, maxSessions alone). */
  maxSessionsPerCaller: number;
  /** How long a dropped, resumable request stream waits for the client to resume before the request is cancelled. */
  resumeGraceMs: number;
  /** This replica's id, the first part of every session id it makes (see session-id.ts). */
  replicaId: string;
  requests: RequestTracker;
  log: Logger;
}

/** Told to clients with each stream's priming event: how soon to reconnect after a drop. */
const RETRY_INTERVAL_MS = 1000;

export class LegacyHttp {
  readonly #options: LegacyHttpOptions;
  readonly #transports = new WeakMap<ClientSession, { transport: NodeStreamableHttp; events: SessionEventStore }>();

  constructor(options: LegacyHttpOptions) {
    this.#options = options;
  }

  /** Serves one HTTP request of a 2025-era client; `body` is the parsed JSON body (POST). */
  async handle(req: IncomingMessage, res: ServerResponse, body: unknown, principal: Principal): Promise<void> {
    const { sessions, maxSessions, maxSessionsPerCaller, requests, resumeGraceMs } = this.#options;
    const sessionId = req.headers['mcp-session-id'];
    let session: ClientSession | undefined;
    let http: { transport: NodeStreamableHttp; events: SessionEventStore } | undefined;
    if (typeof sessionId === 'string' && sessionId) {
      session = sessions.get(sessionId);
      http = session && this.#transports.get(session);
      if (!session || !http) return sendRpcError(res, 404, -32001, sessionNotFound(sessionId, this.#options.replicaId));
      if (session.principal.id !== principal.id) {
        return sendRpcError(res, 403, -32000, 'Forbidden: this session was opened by another caller; start a session of your own (initialize)', requestIdOf(body));
      }
    } else if (req.method === 'POST' && containsInitialize(body)) {
      if (sessions.size >= maxSessions && (await sessions.sweep()) === 0 && sessions.size >= maxSessions) {
        return sendRpcError(res, 503, -32000, `Too many sessions: ${sessions.size} are open, the limit (maxSessions); try again later`, requestIdOf(body), { 'Retry-After': '30' });
      }
      if (principal.via !== 'none') {
        const own = [...sessions.values()].filter((s) => s.principal.id === principal.id).length;
        if (own >= maxSessionsPerCaller) {
          const message = `Too many sessions: ${principal.id} has ${own} open, the limit (maxSessionsPerCaller); end some (DELETE) or let idle ones expire (sessionIdleTimeoutMs)`;
          return sendRpcError(res, 429, -32000, message, requestIdOf(body), { 'Retry-After': '30' });
        }
      }
      ({ session, http } = await this.#start(principal));
    } else {
      return sendRpcError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required (send an initialize request first and reuse the Mcp-Session-Id it returns)');
    }

    const live = session;
    const { transport, events } = http;
    live.active++;
    live.lastSeen = Date.now();
    const pending = requestIds(body);
    const exchange: Exchange = {};
    const finished = pending.length ? requests.start() : () => {};
    res.on('close', () => {
      finished();
      live.active--;
      live.lastSeen = Date.now();
      if (res.writableFinished) {
        if (exchange.streamId) events.completed(exchange.streamId);
        return;
      }
      if (pending.length === 0) return;
      // The request stream dropped before the answer. A client that can resume (it got event
      // ids) gets a grace period to reconnect; otherwise the answer can never reach it, so the
      // work is cancelled now.
      const giveUp = () => cancel(transport, pending, 'the client closed the request stream');
      if (exchange.streamId) events.dropped(exchange.streamId, resumeGraceMs, giveUp);
      else giveUp();
    });
    await exchangeScope.run(exchange, () => transport.serve(req, res, body));
    if (!sessionId && !sessions.get(live.id)) await live.close(); // initialize was refused
  }

  async #start(principal: Principal) {
    const { sessions, log } = this.#options;
    const id = newSessionId(this.#options.replicaId);
    const session = this.#options.newSession(id, principal);
    const events = new SessionEventStore();
    const transport = new NodeStreamableHttp({
      sessionIdGenerator: () => id,
      eventStore: events,
      retryInterval: RETRY_INTERVAL_MS,
      onsessioninitialized: () => {
        sessions.add(session);
        log.debug({ session: id, principal: principal.id }, 'client session started');
      },
    });
    transport.onclose = () => {
      log.debug({ session: id }, 'client session ended');
      events.clear();
      void sessions.end(session);
    };
    const http = { transport, events };
    this.#transports.set(session, http);
    await session.connect(transport);
    return { session, http };
  }
}

/**
 * The 404 for an unknown session, which makes a client start a new one. A session of another
 * replica says so: the balancer sent it here because that replica stopped (or is not routed to).
 */
function sessionNotFound(sessionId: string, replicaId: string): string {
  const owner = replicaOf(sessionId);
  if (owner && owner !== replicaId) {
    return `Session not found: it was opened on replica ${owner}, which is gone or not reachable (this is replica ${replicaId}); initialize a new session`;
  }
  return 'Session not found';
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
function cancel(transport: NodeStreamableHttp, ids: RequestId[], reason: string): void {
  for (const requestId of ids) {
    const message: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason } };
    transport.onmessage?.(message);
  }
}

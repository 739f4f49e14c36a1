/**
 * A backend session: one client session's connection to one plugin. Opened on first use,
 * so a session pays only for the plugins it touches; closed with the session.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CancelledNotificationSchema,
  McpError,
  ResultSchema,
  type RequestId,
  type ClientCapabilities,
  type Implementation,
  type Notification,
  type JSONRPCRequest,
  type Result,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connect, describeNetworkError, type Connection } from './connect.ts';
import type { Plugin } from '../plugins/plugin.ts';
import { requestScope } from '../scope.ts';
import { followSignals, type FollowingSignal } from '../signals.ts';
import { RpcCodes, RpcError, SwitchboardError, messageOf } from '../errors.ts';

export type ListKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

const LIST_METHOD: Record<ListKind, string> = {
  tools: 'tools/list',
  prompts: 'prompts/list',
  resources: 'resources/list',
  resourceTemplates: 'resources/templates/list',
};

const LIST_CAPABILITY: Record<ListKind, keyof ServerCapabilities> = {
  tools: 'tools',
  prompts: 'prompts',
  resources: 'resources',
  resourceTemplates: 'resources',
};

/** A backend's list may not run on forever: pages past this many are an error. */
const MAX_PAGES = 1000;

export type ListItem = Record<string, unknown>;

/**
 * The backend request the current code runs for. An HTTP backend's reply stream is read on the
 * request's own asynchronous path, so when that stream breaks, the transport's error handler
 * runs inside this scope and can tell exactly which request lost its answer.
 */
const backendCall = new AsyncLocalStorage<{ lost(error: Error): void }>();

/** How long a backend gets to answer a ping after one of its reply streams broke. */
const LIVENESS_PING_MS = 3000;

/** A command plugin's process that ended is restarted after this, doubling while it keeps ending (within a minute). */
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;

/** The client session's side of a backend: what it declares, and where backend traffic goes. */
export interface BackendPeer {
  readonly id: string;
  clientCapabilities(): ClientCapabilities;
  clientInfo(): Implementation;
  /** A request from the backend to the client (sampling, elicitation, roots, ping). */
  onBackendRequest(backend: Backend, request: JSONRPCRequest, signal: AbortSignal): Promise<Result>;
  /** A notification from the backend (progress is handled per request, not here). */
  onBackendNotification(backend: Backend, notification: Notification): Promise<void>;
}

export class Backend {
  readonly plugin: Plugin;
  readonly #peer: BackendPeer;
  #connection?: Promise<Connection>;
  readonly #lists = new Map<ListKind, Promise<ListItem[]>>();
  #closed = false;
  /** Requests in progress, and who waits for them to end (retire). */
  #inFlight = 0;
  #drained?: () => void;
  /** Why the proxy stopped using this backend (reloaded, removed), for the errors of late requests. */
  #retiredBecause?: string;
  /** Session state the backend holds, set again on a new backend session after a reconnect. */
  readonly #subscriptions = new Set<string>();
  #logLevel?: unknown;
  #connectedBefore = false;
  /** When a command plugin's process ended by itself: restarts, with backoff. */
  #exits: number[] = [];
  #restartAt = 0;
  #restartTimer?: NodeJS.Timeout;

  constructor(plugin: Plugin, peer: BackendPeer) {
    this.plugin = plugin;
    this.#peer = peer;
  }

  /** The open connection, opening it on first use. A failed open is retried on the next call. */
  connection(): Promise<Connection> {
    if (this.#closed) return Promise.reject(new RpcError(RpcCodes.ConnectionClosed, `${this.plugin.label}: session closed`));
    if (!this.#connection) {
      const wait = this.#restartAt - Date.now();
      const opening = requestScope.exit(async () => {
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        return connect(this.plugin, {
          sessionId: this.#peer.id,
          capabilities: this.#peer.clientCapabilities(),
          clientInfo: this.#peer.clientInfo(),
          setup: (client) => this.#route(client),
        });
      });
      this.#connection = opening;
      opening.then(
        (connection) => {
          if (this.#closed) return void connection.close();
          if (this.plugin.state === 'unavailable') this.plugin.setState('ready');
          connection.client.onclose = () => {
            const unexpected = !this.#closed && this.#connection === opening;
            this.#forget(opening);
            if (unexpected) this.#exited();
          };
          if (this.#connectedBefore) void this.#restoreState(connection.client);
          this.#connectedBefore = true;
        },
        (error: unknown) => {
          this.#forget(opening);
          const unavailable = error instanceof SwitchboardError && error.code === 'SB_BACKEND_UNAVAILABLE';
          if (unavailable && this.plugin.state === 'ready') this.plugin.setState('unavailable', error.message);
        },
      );
    }
    return this.#connection;
  }

  /** Whether this backend session has been opened (or is opening). */
  get opened(): boolean {
    return this.#connection !== undefined;
  }

  /** The capabilities the backend declared to this session. */
  async capabilities(): Promise<ServerCapabilities> {
    const { client } = await this.connection();
    return client.getServerCapabilities() ?? {};
  }

  /**
   * Sends a request as it is and returns the backend's result as it is. Errors keep the
   * backend's code, message and data; timeouts and lost connections name the plugin.
   * A backend that lost this session (it restarted: 404) gets a new one and the request again,
   * since it never ran it. A request whose answer was lost in transit is sent again once if it
   * only reads; a tools/call is never replayed.
   */
  async request(method: string, params: Record<string, unknown> | undefined, options: RequestOptions = {}): Promise<Result> {
    this.#inFlight++;
    try {
      const result = await this.#send(method, params, options, true);
      this.#remember(method, params);
      return result;
    } finally {
      if (--this.#inFlight === 0) this.#drained?.();
    }
  }

  async #send(method: string, params: Record<string, unknown> | undefined, options: RequestOptions, mayRetry: boolean): Promise<Result> {
    let client: Client;
    try {
      ({ client } = await this.connection());
    } catch (error) {
      throw this.#translate(error, method);
    }
    // A reply stream that breaks (the backend process died, say) ends this request at once,
    // instead of leaving it to the timeout.
    const gone = followSignals(options.signal);
    let lostWith: Error | undefined;
    const call = {
      lost: (error: Error) => {
        void backendCall.exit(() => this.#stillThere(client)).then((alive) => {
          if (alive || gone.signal.aborted) return;
          lostWith = error;
          gone.abort(error);
        });
      },
    };
    try {
      return await backendCall.run(call, () =>
        client.request({ method, params }, ResultSchema, { timeout: this.plugin.timeoutMs, ...options, signal: gone.signal }),
      );
    } catch (error) {
      const sessionGone = error instanceof StreamableHTTPError && error.code === 404;
      if (mayRetry && !options.signal?.aborted && (sessionGone || (lostWith && method !== 'tools/call'))) {
        this.plugin.log.info({ method }, `${sessionGone ? 'the backend no longer knows this session' : 'the answer was lost'}; opening a new backend session`);
        await this.#reset(client);
        return this.#send(method, params, options, false);
      }
      if (lostWith) {
        const replay = method === 'tools/call' ? '; the call was not replayed (it may or may not have run)' : '';
        throw new RpcError(RpcCodes.ConnectionClosed, `${this.plugin.label} went away during ${method}${replay}: ${lostWith.message}`, {
          plugin: this.plugin.prefix,
        });
      }
      throw this.#translate(error, method);
    } finally {
      gone.release();
    }
  }

  /** Keeps what a new backend session must be told again (subscriptions, log level). */
  #remember(method: string, params: Record<string, unknown> | undefined): void {
    if (method === 'resources/subscribe' && typeof params?.uri === 'string') this.#subscriptions.add(params.uri);
    else if (method === 'resources/unsubscribe' && typeof params?.uri === 'string') this.#subscriptions.delete(params.uri);
    else if (method === 'logging/setLevel') this.#logLevel = params?.level;
  }

  /** After a reconnect: the new backend session gets the session's subscriptions and log level. */
  async #restoreState(client: Client): Promise<void> {
    const requests = [
      ...[...this.#subscriptions].map((uri) => ({ method: 'resources/subscribe', params: { uri } })),
      ...(this.#logLevel === undefined ? [] : [{ method: 'logging/setLevel', params: { level: this.#logLevel } }]),
    ];
    for (const request of requests) {
      await client.request(request, ResultSchema).catch((error) => this.plugin.log.warn({ err: messageOf(error), method: request.method }, 'could not restore session state'));
    }
  }

  /** Drops a connection that no longer works (its backend session is gone), closing it quietly. */
  async #reset(client: Client): Promise<void> {
    const connection = this.#connection;
    if (!connection) return;
    const current = await connection.catch(() => undefined);
    if (current?.client !== client) return; // someone else reconnected already
    this.#forget(connection);
    void current.close();
  }

  /** A command plugin's process ended by itself: start a new one, sooner the first time, later if it keeps dying. */
  #exited(): void {
    if (this.plugin.kind !== 'command' || this.#closed) return;
    const now = Date.now();
    this.#exits = [...this.#exits.filter((at) => now - at < 60_000), now];
    const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (this.#exits.length - 1));
    this.#restartAt = now + delay;
    this.plugin.log.warn(`${this.plugin.label}: its process for session ${this.#peer.id} ended; restarting in ${delay} ms`);
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      if (!this.#closed && !this.#connection) this.connection().catch(() => {});
    }, delay);
    this.#restartTimer.unref();
  }

  /**
   * The proxy stops using this backend (its plugin was reloaded or removed): requests in
   * progress may finish within `graceMs`, then the backend session closes.
   */
  async retire(reason: string, graceMs: number): Promise<void> {
    this.#retiredBecause = reason;
    if (this.#inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.#drained = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    await this.close();
  }

  /** Whether the backend still answers; a backend that does not is forgotten (reconnect next time). */
  async #stillThere(client: Client): Promise<boolean> {
    try {
      await client.ping({ timeout: LIVENESS_PING_MS });
      return true;
    } catch {
      await this.#reset(client);
      return false;
    }
  }

  /** Every item of one list, following the backend's pagination; cached until invalidated. */
  list(kind: ListKind): Promise<ListItem[]> {
    let listing = this.#lists.get(kind);
    if (!listing) {
      listing = this.#fetchAll(kind).then((items) => this.plugin.shareList(kind, items));
      this.#lists.set(kind, listing);
      listing.catch(() => {
        if (this.#lists.get(kind) === listing) this.#lists.delete(kind);
      });
    }
    return listing;
  }

  /** Drops cached lists (all, or one kind) so the next list asks the backend again. */
  invalidate(kind?: ListKind): void {
    if (kind) this.#lists.delete(kind);
    else this.#lists.clear();
  }

  /** Closes the backend session. Idempotent; waits for the close to finish. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    const connection = this.#connection;
    this.#connection = undefined;
    this.#lists.clear();
    if (connection) await connection.then((c) => c.close(), () => {});
  }

  async #fetchAll(kind: ListKind): Promise<ListItem[]> {
    const capabilities = await this.capabilities().catch((error) => {
      throw this.#translate(error, LIST_METHOD[kind]);
    });
    if (!capabilities[LIST_CAPABILITY[kind]]) return [];
    const items: ListItem[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.request(LIST_METHOD[kind], cursor === undefined ? undefined : { cursor });
      const pageItems = result[kind];
      if (!Array.isArray(pageItems)) {
        throw new RpcError(RpcCodes.InternalError, `${this.plugin.label}: ${LIST_METHOD[kind]} answered without a "${kind}" list`);
      }
      items.push(...(pageItems as ListItem[]));
      const next = result.nextCursor;
      if (typeof next !== 'string' || next === '' || seen.has(next)) return items;
      seen.add(next);
      cursor = next;
    }
    throw new RpcError(RpcCodes.InternalError, `${this.plugin.label}: ${LIST_METHOD[kind]} did not end after ${MAX_PAGES} pages`);
  }

  /** Backend-to-client traffic of this connection goes to the peer (the client session). */
  #route(client: Client): void {
    const reportError = client.onerror;
    client.onerror = (error) => {
      reportError?.(error);
      if (/SSE stream disconnected/.test(error.message)) backendCall.getStore()?.lost(error);
    };
    // The backend's requests to the client, each cancellable by the backend. The SDK's own
    // cancellation handling ignores request id 0 (typescript-sdk#2283), and a backend's first
    // request has id 0, so the proxy tracks and cancels them itself.
    const inFlight = new Map<RequestId, FollowingSignal>();
    client.setNotificationHandler(CancelledNotificationSchema, (notification) => {
      const { requestId, reason } = notification.params;
      if (requestId !== undefined) inFlight.get(requestId)?.abort(reason ?? 'cancelled by the backend');
    });
    client.fallbackRequestHandler = async (request, extra) => {
      const cancel = followSignals(extra.signal);
      inFlight.set(request.id, cancel);
      try {
        return await this.#peer.onBackendRequest(this, request, cancel.signal);
      } finally {
        inFlight.delete(request.id);
        cancel.release();
      }
    };
    client.fallbackNotificationHandler = async (notification) => {
      const kind = LIST_CHANGED[notification.method];
      if (kind) for (const k of kind) this.invalidate(k);
      await this.#peer.onBackendNotification(this, notification);
    };
  }

  #forget(connection: Promise<Connection>): void {
    if (this.#connection === connection) {
      this.#connection = undefined;
      this.#lists.clear();
    }
  }

  /** Turns whatever a request failed with into the error the client should see. */
  #translate(error: unknown, method: string): Error {
    const label = this.plugin.label;
    if (error instanceof RpcError) return error;
    if (error instanceof SwitchboardError) {
      return new RpcError(RpcCodes.InternalError, error.message, { plugin: this.plugin.prefix, reason: error.code });
    }
    if (error instanceof McpError) {
      if (error.code === RpcCodes.RequestTimeout && isTimeoutData(error.data)) {
        return new RpcError(RpcCodes.RequestTimeout, `${label} did not answer ${method} within ${error.data.timeout} ms`, {
          plugin: this.plugin.prefix,
          timeoutMs: error.data.timeout,
        });
      }
      if (error.code === RpcCodes.ConnectionClosed && /Connection closed/.test(error.message)) {
        const what = this.#retiredBecause ? `was ${this.#retiredBecause} while ${method} was in progress` : `closed the connection during ${method}`;
        return new RpcError(RpcCodes.ConnectionClosed, `${label} ${what}`, { plugin: this.plugin.prefix });
      }
      const prefix = `MCP error ${error.code}: `;
      const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
      return new RpcError(error.code, message, error.data);
    }
    return new RpcError(RpcCodes.InternalError, `${label} failed during ${method}: ${describeNetworkError(error)}`, {
      plugin: this.plugin.prefix,
    });
  }
}

const LIST_CHANGED: Record<string, ListKind[]> = {
  'notifications/tools/list_changed': ['tools'],
  'notifications/prompts/list_changed': ['prompts'],
  'notifications/resources/list_changed': ['resources', 'resourceTemplates'],
};

function isTimeoutData(data: unknown): data is { timeout: number } {
  return typeof data === 'object' && data !== null && typeof (data as { timeout?: unknown }).timeout === 'number';
}

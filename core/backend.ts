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
import { connect, describeNetworkError, type Connection } from './connect.ts';
import type { Plugin } from './plugin.ts';
import { requestScope } from './scope.ts';
import { RpcCodes, RpcError, SwitchboardError } from './errors.ts';

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

  constructor(plugin: Plugin, peer: BackendPeer) {
    this.plugin = plugin;
    this.#peer = peer;
  }

  /** The open connection, opening it on first use. A failed open is retried on the next call. */
  connection(): Promise<Connection> {
    if (this.#closed) return Promise.reject(new RpcError(RpcCodes.ConnectionClosed, `${this.plugin.label}: session closed`));
    if (!this.#connection) {
      const opening = requestScope.exit(() =>
        connect(this.plugin, {
          sessionId: this.#peer.id,
          capabilities: this.#peer.clientCapabilities(),
          clientInfo: this.#peer.clientInfo(),
          setup: (client) => this.#route(client),
        }),
      );
      this.#connection = opening;
      opening.then(
        (connection) => {
          if (this.#closed) void connection.close();
          connection.client.onclose = () => this.#forget(opening);
        },
        () => this.#forget(opening),
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
   */
  async request(method: string, params: Record<string, unknown> | undefined, options: RequestOptions = {}): Promise<Result> {
    let client: Client;
    try {
      ({ client } = await this.connection());
    } catch (error) {
      throw this.#translate(error, method);
    }
    // A reply stream that breaks (the backend process died, say) ends this request at once,
    // instead of leaving it to the timeout.
    const gone = new AbortController();
    let lostWith: Error | undefined;
    const call = {
      lost: (error: Error) => {
        void backendCall.exit(() => this.#stillThere(client)).then((alive) => {
          if (alive || gone.signal.aborted) return;
          lostWith = new RpcError(RpcCodes.ConnectionClosed, `${this.plugin.label} went away during ${method}: ${error.message}`, {
            plugin: this.plugin.prefix,
          });
          gone.abort(lostWith);
        });
      },
    };
    const signal = options.signal ? AbortSignal.any([options.signal, gone.signal]) : gone.signal;
    try {
      return await backendCall.run(call, () =>
        client.request({ method, params }, ResultSchema, { timeout: this.plugin.timeoutMs, ...options, signal }),
      );
    } catch (error) {
      throw lostWith ?? this.#translate(error, method);
    }
  }

  /** Whether the backend still answers; a backend that does not is forgotten (reconnect next time). */
  async #stillThere(client: Client): Promise<boolean> {
    try {
      await client.ping({ timeout: LIVENESS_PING_MS });
      return true;
    } catch {
      const connection = this.#connection;
      if (connection) {
        this.#forget(connection);
        void connection.then((c) => c.close(), () => {});
      }
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

  /** Whether `kind` has been listed (successfully or not yet settled) in this session. */
  hasListed(kind: ListKind): boolean {
    return this.#lists.has(kind);
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
    const inFlight = new Map<RequestId, AbortController>();
    client.setNotificationHandler(CancelledNotificationSchema, (notification) => {
      const { requestId, reason } = notification.params;
      if (requestId !== undefined) inFlight.get(requestId)?.abort(reason ?? 'cancelled by the backend');
    });
    client.fallbackRequestHandler = async (request, extra) => {
      const cancel = new AbortController();
      inFlight.set(request.id, cancel);
      try {
        return await this.#peer.onBackendRequest(this, request, AbortSignal.any([extra.signal, cancel.signal]));
      } finally {
        inFlight.delete(request.id);
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
        return new RpcError(RpcCodes.ConnectionClosed, `${label} closed the connection during ${method}`, { plugin: this.plugin.prefix });
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

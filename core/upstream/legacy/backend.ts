/**
 * A backend session: one client session's connection to one plugin. Opened on first use, so a
 * session pays only for the plugins it touches; closed with the session.
 *
 * Its lists come from the plugin's shared catalog (see plugin-catalog.ts) until the backend
 * tells this session that a list changed; from then on that list is this session's own.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { ResultSchema, type Result, type ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { connect } from './connect.ts';
import type { Connection } from './connection.ts';
import type { Plugin } from '../../plugins/plugin.ts';
import type { ProcessHolder } from '../../plugins/process-slots.ts';
import { audienceOf, type ListItem, type ListKind } from '../../catalog/plugin-catalog.ts';
import { LIST_CAPABILITY, LIST_CHANGED, LIST_METHOD, readAllPages } from '../../catalog/lists.ts';
import { requestScope } from '../../scope.ts';
import { followSignals } from '../../signals.ts';
import { trackBackendRequests } from '../../sdk-workarounds.ts';
import { RpcCodes, RpcError, SwitchboardError, messageOf } from '../../errors.ts';
import { backendError, isNotDelivered, isSessionGone } from './errors.ts';
import { RestartBackoff } from './restart.ts';
import { backendCall, forwardedHeaders } from '../call-scope.ts';
import { traceBackendRequest } from '../../observability/tracing.ts';
import type { BackendLink, BackendPeer } from '../link.ts';

export type { BackendLink, BackendPeer } from '../link.ts';

export type { ListItem, ListKind } from '../../catalog/plugin-catalog.ts';

/** How long a backend gets to answer a ping after one of its reply streams broke. */
const LIVENESS_PING_MS = 3000;

export class Backend implements BackendLink, ProcessHolder {
  readonly plugin: Plugin;
  readonly #peer: BackendPeer;
  #connection?: Promise<Connection>;
  /** Lists this backend session said changed: from then on fetched for this session alone. */
  readonly #ownLists = new Map<ListKind, Promise<ListItem[]> | undefined>();
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
  readonly #restarts = new RestartBackoff();
  #restartTimer?: NodeJS.Timeout;
  /** Aborted by close(): a connection still opening is given up (its process ends) at once. */
  readonly #closing = new AbortController();
  #audienceKey?: string;
  /** When this session last sent the backend a request (the process budget evicts the least recent). */
  lastUsed = Date.now();

  constructor(plugin: Plugin, peer: BackendPeer) {
    this.plugin = plugin;
    this.#peer = peer;
  }

  /** The open connection, opening it on first use. A failed open is retried on the next call. */
  connection(): Promise<Connection> {
    if (this.#closed) return Promise.reject(new RpcError(RpcCodes.ConnectionClosed, `${this.plugin.label}: session closed`));
    if (!this.#connection) {
      const wait = this.#restarts.waitMs();
      const opening = requestScope.exit(async () => {
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        return connect(this.plugin, {
          sessionId: this.#peer.id,
          capabilities: this.#peer.clientCapabilities(),
          clientInfo: this.#peer.clientInfo(),
          setup: (client) => this.#route(client),
          signal: this.#closing.signal,
        });
      });
      this.#connection = opening;
      opening.then(
        (connection) => {
          if (this.#closed) return void connection.close();
          if (this.plugin.state === 'unavailable') this.plugin.setState('ready');
          if (this.plugin.kind === 'command') this.plugin.processSlots.holders.add(this);
          connection.client.onclose = () => {
            const unexpected = !this.#closed && this.#connection === opening;
            this.#forget(opening);
            if (unexpected) this.#exited();
          };
          if (this.#connectedBefore) {
            this.plugin.metrics?.backendReinitialized(this.plugin.prefix);
            void this.#restoreState(connection.client);
          }
          this.#connectedBefore = true;
        },
        (error: unknown) => {
          this.#forget(opening);
          if (this.#closed) return; // given up on purpose, not the backend's fault
          const unavailable = error instanceof SwitchboardError && error.code === 'SB_BACKEND_UNAVAILABLE';
          if (unavailable && (this.plugin.state === 'ready' || this.plugin.state === 'degraded')) this.plugin.setState('unavailable', error.message);
        },
      );
    }
    return this.#connection;
  }

  /** Whether this backend session has been opened (or is opening). */
  get opened(): boolean {
    return this.#connection !== undefined;
  }

  /** ProcessHolder: requests in progress, or subscriptions a new process would not deliver until restored. */
  get busy(): boolean {
    return this.#inFlight > 0 || this.#subscriptions.size > 0;
  }

  /** ProcessHolder: ends this session's process to make room for another session's; reopened when needed. */
  async giveUp(): Promise<void> {
    const connection = this.#connection;
    if (!connection) return;
    this.#forget(connection);
    this.plugin.log.info(`${this.plugin.label}: ended the idle process of session ${this.#peer.id} to make room (maxProcesses ${this.plugin.maxProcesses})`);
    await connection.then((c) => c.close(), () => {});
  }

  /** The capabilities the backend declared to this session. */
  async capabilities(): Promise<ServerCapabilities> {
    const { client } = await this.connection();
    return client.getServerCapabilities() ?? {};
  }

  /**
   * Sends a request as it is and returns the backend's result as it is. Errors keep the
   * backend's code, message and data; timeouts and lost connections name the plugin.
   *
   * Sent again, once, on a new backend session, when that is safe: the backend lost this
   * session and refused the request (404, or a 400 naming the session), or the request never
   * reached the backend (its process had died), or the answer to a request that only reads was
   * lost in transit. A tools/call that may have run is never sent again.
   */
  async request(method: string, params: Record<string, unknown> | undefined, options: RequestOptions = {}): Promise<Result> {
    this.#inFlight++;
    this.lastUsed = Date.now();
    try {
      const result = await this.#send(method, params, options, true, forwardedHeaders(this.plugin, method));
      this.#remember(method, params);
      return result;
    } finally {
      if (--this.#inFlight === 0) this.#drained?.();
    }
  }

  async #send(method: string, params: Record<string, unknown> | undefined, options: RequestOptions, mayRetry: boolean, headers?: Record<string, string>): Promise<Result> {
    let client: Client;
    try {
      ({ client } = await this.connection());
    } catch (error) {
      throw this.#error(error, method);
    }
    // A reply stream that breaks (the backend process died, say) ends this request at once,
    // instead of leaving it to the timeout.
    const gone = followSignals(options.signal);
    let lostWith: Error | undefined;
    const call = {
      ...(headers && { headers }),
      lost: (error: Error) => {
        void backendCall.exit(() => this.#stillThere(client)).then((alive) => {
          if (alive || gone.signal.aborted) return;
          lostWith = error;
          gone.abort(error);
        });
      },
    };
    try {
      return await traceBackendRequest(this.plugin, method, params, () =>
        backendCall.run(call, () => client.request({ method, params }, ResultSchema, { timeout: this.plugin.timeoutMs, ...options, signal: gone.signal })),
      );
    } catch (error) {
      const sessionGone = isSessionGone(error);
      const notDelivered = isNotDelivered(error);
      if (mayRetry && !options.signal?.aborted && (sessionGone || notDelivered || (lostWith && method !== 'tools/call'))) {
        const why = sessionGone ? 'the backend no longer knows this session' : notDelivered ? 'its process was not running' : 'the answer was lost';
        this.plugin.log.info({ method }, `${why}; opening a new backend session and sending ${method} there`);
        await this.#reset(client);
        return this.#send(method, params, options, false, headers);
      }
      if (lostWith) {
        const replay = method === 'tools/call' ? '; the call was not replayed (it may or may not have run)' : '';
        throw new RpcError(RpcCodes.ConnectionClosed, this.plugin.scrub(`${this.plugin.label} went away during ${method}${replay}: ${lostWith.message}`), {
          plugin: this.plugin.prefix,
        });
      }
      throw this.#error(error, method);
    } finally {
      gone.release();
    }
  }

  #error(error: unknown, method: string): RpcError {
    return backendError(error, { plugin: this.plugin, method, retiredBecause: this.#retiredBecause });
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
      await client.request(request, ResultSchema).catch((error) => this.plugin.log.warn({ err: this.plugin.scrub(messageOf(error)), method: request.method }, 'could not restore session state'));
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
    const delay = this.#restarts.exited();
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

  /**
   * Every item of one list, following the backend's pagination: the plugin's shared list for
   * this session's audience, or this session's own once the backend said it changed.
   */
  list(kind: ListKind): Promise<ListItem[]> {
    if (!this.#ownLists.has(kind)) return this.plugin.catalog.get(this.#audience(), kind, () => this.#fetchAll(kind));
    let listing = this.#ownLists.get(kind);
    if (!listing) {
      listing = this.#fetchAll(kind).then((items) => this.plugin.catalog.share(kind, items));
      this.#ownLists.set(kind, listing);
      const settled = listing;
      settled.catch(() => {
        if (this.#ownLists.get(kind) === settled) this.#ownLists.set(kind, undefined);
      });
    }
    return listing;
  }

  /** The audience of this session's client (its capabilities, declared once at initialize), worked out once. */
  #audience(): string {
    return (this.#audienceKey ??= audienceOf(this.#peer.clientCapabilities()));
  }

  /** Closes the backend session. Idempotent; waits for the close to finish. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    clearTimeout(this.#restartTimer);
    const connection = this.#connection;
    this.#forget(connection);
    if (connection) await connection.then((c) => c.close(), () => {});
  }

  async #fetchAll(kind: ListKind): Promise<ListItem[]> {
    const capabilities = await this.capabilities().catch((error) => {
      throw this.#error(error, LIST_METHOD[kind]);
    });
    if (!capabilities[LIST_CAPABILITY[kind]]) return [];
    return readAllPages(this.plugin.label, kind, (method, params) => this.request(method, params));
  }

  /** Backend-to-client traffic of this connection goes to the peer (the client session). */
  #route(client: Client): void {
    const reportError = client.onerror;
    client.onerror = (error) => {
      reportError?.(error);
      if (/SSE stream disconnected/.test(error.message)) backendCall.getStore()?.lost?.(error);
    };
    // The backend's requests to the client, each cancellable by the backend (see sdk-workarounds.ts).
    const inFlight = trackBackendRequests(client);
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
      // This backend session's list changed: from now on this session lists for itself.
      for (const kind of LIST_CHANGED[notification.method] ?? []) this.#ownLists.set(kind, undefined);
      await this.#peer.onBackendNotification(this, notification);
    };
  }

  #forget(connection: Promise<Connection> | undefined): void {
    if (connection && this.#connection === connection) {
      this.#connection = undefined;
      this.#ownLists.clear();
    }
    if (!this.#connection) this.plugin.processSlots.holders.delete(this);
  }
}

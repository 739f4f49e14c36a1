/**
 * A client session (the 2025 era: one `initialize`, one `Mcp-Session-Id`): one MCP `Server`
 * facing one client, and that session's own backend sessions, one per plugin it has used.
 * Requests are routed by name or URI to the owning plugin (router.ts); backend-to-client traffic
 * comes back through `onBackendRequest`/`onBackendNotification` and goes to this client, on the
 * stream of the request it belongs to.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  McpError,
  ResultSchema,
  type ClientCapabilities,
  type Implementation,
  type JSONRPCRequest,
  type Notification,
  type Result,
} from '@modelcontextprotocol/sdk/types.js';
import { Backend, type BackendLink, type BackendPeer, type ListItem, type ListKind } from '../../upstream/legacy/backend.ts';
import { page } from '../../catalog/catalog.ts';
import type { Plugin } from '../../plugins/plugin.ts';
import { sharedValidator } from '../../validator.ts';
import { hearCancellationOfIdZero, startRequestIdsAtOne } from '../../sdk-workarounds.ts';
import { followSignals, type FollowingSignal } from '../../signals.ts';
import { requestScope, type RequestScope } from '../../scope.ts';
import { RpcCodes, RpcError, messageOf } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Router } from '../router.ts';
import { advertisedCapabilities, combinedInstructions } from '../capabilities.ts';
import { hiddenByPolicy, toClient } from '../to-client.ts';
import { checkNamedParams, contentsToClient, uriErrorToClient } from '../forwarding.ts';
import type { Principal } from '../../auth/principal.ts';
import type { AccessLog } from '../../observability/access-log.ts';
import { requestIds } from '../../observability/request-id.ts';
import type { Tracing } from '../../observability/tracing.ts';

export interface SessionOptions {
  id: string;
  /** The caller that opened the session: it sees only the plugins it may use. */
  principal: Principal;
  router: Router;
  serverInfo: Implementation;
  log: Logger;
  /** Where each client request is counted and logged once it ended. */
  access: AccessLog;
  /** Each request the session serves is a SERVER span (when tracing is on). */
  tracing: Tracing;
}

type Params = Record<string, unknown> & { _meta?: Record<string, unknown> };
type Extra = Parameters<NonNullable<Server['fallbackRequestHandler']>>[1];

/** How many input_required rounds one request may take before the proxy gives up on it. */
const MAX_INPUT_ROUNDS = 10;

/** A backend-to-client request waits at most this long for the client (a human may be answering). */
const CLIENT_ANSWER_TIMEOUT_MS = 60 * 60 * 1000;

export class ClientSession implements BackendPeer {
  readonly id: string;
  readonly principal: Principal;
  readonly server: Server;
  /** When the client last sent anything (ms since epoch); the idle sweep reads it. */
  lastSeen = Date.now();
  /** HTTP requests of this session in progress (an open GET stream counts). */
  active = 0;

  readonly #router: Router;
  readonly #options: SessionOptions;
  readonly #backends = new Map<Plugin, BackendLink>();
  /** Which backend runs each task a call of this session created (tasks are routed by id). */
  readonly #tasks = new Map<string, BackendLink>();
  /** Client requests being answered, and how to end each with an error (shutdown). */
  readonly #requests = new Set<(error: Error) => void>();
  /** The client's request with id 0 while it runs: the SDK drops its cancellation (see sdk-workarounds.ts). */
  #zero?: FollowingSignal;
  #closing?: Promise<void>;

  constructor(options: SessionOptions) {
    this.id = options.id;
    this.principal = options.principal;
    this.#options = options;
    this.#router = options.router;
    const plugins = this.#router.plugins(this.principal);
    this.server = new Server(options.serverInfo, {
      capabilities: advertisedCapabilities(plugins, '2025-11-25'),
      instructions: combinedInstructions(plugins, '2025-11-25'),
      jsonSchemaValidator: sharedValidator,
    });
    // So that the client can cancel every request the proxy sends it (see sdk-workarounds.ts).
    startRequestIdsAtOne(this.server);
    // Everything but initialize and ping is forwarded, so the raw fallback handlers take it all.
    this.server.removeRequestHandler('logging/setLevel');
    this.server.fallbackRequestHandler = (request, extra) => this.#dispatch(request, extra);
    this.server.fallbackNotificationHandler = (notification) => this.#onClientNotification(notification);
  }

  async connect(transport: Transport): Promise<void> {
    await this.server.connect(transport);
    hearCancellationOfIdZero(transport, (reason) => this.#zero?.abort(reason ?? 'cancelled by the client'));
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** This session's backend for `plugin` (not opened until used). */
  backend(plugin: Plugin): BackendLink {
    let backend = this.#backends.get(plugin);
    if (!backend) {
      // A backend session of this session's own where the plugin has sessions (a 2025-era one, or one
      // that speaks both eras); otherwise a 2026-era plugin's stateless connection, carrying this session's capabilities.
      backend = plugin.upstream && !plugin.sessionsToo ? plugin.upstream.link(this) : new Backend(plugin, this);
      this.#backends.set(plugin, backend);
    }
    return backend;
  }

  /**
   * Stops using `plugin` (reloaded or removed): new requests go to its next version; requests in
   * progress may finish within `graceMs`, then its backend session closes.
   */
  async retire(plugin: Plugin, reason: string, graceMs: number): Promise<void> {
    const backend = this.#backends.get(plugin);
    if (!backend) return;
    this.#backends.delete(plugin);
    for (const [task, owner] of this.#tasks) if (owner === backend) this.#tasks.delete(task);
    await backend.retire(reason, graceMs);
  }

  /** Tells the client to list these again (plugins were mounted, reloaded or removed). */
  async notifyListChanged(groups: readonly ('tools' | 'prompts' | 'resources')[]): Promise<void> {
    for (const group of groups) {
      await this.server.notification({ method: `notifications/${group}/list_changed` }).catch(() => {});
    }
  }

  /** Backends this session has opened. */
  openedBackends(): Backend[] {
    return [...this.#backends.values()].filter((backend): backend is Backend => backend instanceof Backend && backend.opened);
  }

  /** Client requests being answered right now. */
  get requestsInProgress(): number {
    return this.#requests.size;
  }

  /**
   * Answers every request still in progress with `error` (the proxy is shutting down): each
   * client gets a JSON-RPC error on the request's own stream instead of a stream that just ends.
   */
  endRequests(error: Error): void {
    for (const end of [...this.#requests]) end(error);
  }

  /** Closes the client transport and every backend session, newest first. Idempotent. */
  close(): Promise<void> {
    // Started on the next tick: closing the server calls back into close() (transport onclose),
    // which must find this promise already set, not start a second close.
    this.#closing ??= Promise.resolve().then(async () => {
      await this.server.close().catch(() => {});
      const backends = [...this.#backends.values()].reverse();
      this.#backends.clear();
      await Promise.all(backends.map((backend) => backend.close()));
    });
    return this.#closing;
  }

  // --- BackendPeer: what backends see of this session ---------------------------------------

  clientCapabilities(): ClientCapabilities {
    return this.server.getClientCapabilities() ?? {};
  }

  clientInfo(): Implementation {
    const client = this.server.getClientVersion();
    return client ?? { name: 'mcp-switchboard', version: this.#options.serverInfo.version };
  }

  async onBackendRequest(backend: BackendLink, request: JSONRPCRequest, signal: AbortSignal): Promise<Result> {
    const params = request.params === undefined ? undefined : toClient(backend.plugin, request.method, request.params as Params);
    try {
      return await this.server.request({ method: request.method, params }, ResultSchema, {
        relatedRequestId: this.#relatedRequestId(),
        signal,
        timeout: CLIENT_ANSWER_TIMEOUT_MS,
      });
    } catch (error) {
      throw unwrap(error);
    }
  }

  async onBackendNotification(backend: BackendLink, notification: Notification): Promise<void> {
    if (hiddenByPolicy(backend.plugin, notification.method, notification.params)) return;
    const params = notification.params === undefined ? undefined : toClient(backend.plugin, notification.method, notification.params as Params);
    const relatedRequestId = this.#relatedRequestId();
    try {
      await this.server.notification({ method: notification.method, params } as Notification, relatedRequestId === undefined ? {} : { relatedRequestId });
    } catch (error) {
      backend.plugin.log.debug({ err: error, method: notification.method }, 'notification not forwarded to client');
    }
  }

  /** The client request the current backend message belongs to, if it is still open. */
  #relatedRequestId() {
    const scope = requestScope.getStore();
    return scope && scope.sessionId === this.id && !scope.done ? scope.requestId : undefined;
  }

  // --- client to backends -------------------------------------------------------------------

  async #dispatch(request: JSONRPCRequest, extra: Extra): Promise<Result> {
    this.lastSeen = Date.now();
    const scope: RequestScope = { sessionId: this.id, requestId: request.id, headers: extra.requestInfo?.headers, done: false, closeStream: extra.closeSSEStream };
    let end!: (error: Error) => void;
    const ended = new Promise<never>((_, reject) => (end = reject));
    this.#requests.add(end);
    const own = followSignals(extra.signal);
    if (request.id === 0) this.#zero = own;
    try {
      const params = (request.params ?? {}) as Params;
      const traced = { method: request.method, params, requestId: request.id, protocolVersion: '2025-11-25', sessionId: this.id, headers: extra.requestInfo?.headers };
      const serve = () => requestScope.run(scope, () => this.#options.tracing.serve(traced, () => this.#handle(request.method, params, { ...extra, signal: own.signal })));
      const handled = this.#options.access.observe(
        { method: request.method, era: '2025-11-25', params: request.params, principal: this.principal.id, requestId: requestIds.getStore(), sessionId: this.id, signal: own.signal },
        serve,
      );
      handled.catch(() => {}); // when ended first, its own failure no longer matters
      return await Promise.race([handled, ended]);
    } finally {
      scope.done = true;
      this.#requests.delete(end);
      own.release();
      if (this.#zero === own) this.#zero = undefined;
    }
  }

  #handle(method: string, params: Params, extra: Extra): Promise<Result> {
    switch (method) {
      case 'tools/list':
        return this.#list('tools', params);
      case 'prompts/list':
        return this.#list('prompts', params);
      case 'resources/list':
        return this.#list('resources', params);
      case 'resources/templates/list':
        return this.#list('resourceTemplates', params);
      case 'tools/call':
        return this.#forwardNamed('tools', method, params, extra);
      case 'prompts/get':
        return this.#forwardNamed('prompts', method, params, extra);
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.#forwardUri(method, params, extra);
      case 'completion/complete':
        return this.#complete(params, extra);
      case 'logging/setLevel':
        return this.#setLevel(params, extra);
      case 'tasks/get':
      case 'tasks/result':
      case 'tasks/cancel':
        return this.#forwardTask(method, params, extra);
      case 'tasks/list':
        return this.#listTasks(params, extra);
      default:
        throw new RpcError(RpcCodes.MethodNotFound, `Method not found: ${method}`);
    }
  }

  async #list(kind: ListKind, params: Params): Promise<Result> {
    const { items, nextCursor } = await this.#router.list(kind, params.cursor, this);
    return nextCursor === undefined ? { [kind]: items } : { [kind]: items, nextCursor };
  }

  async #forwardNamed(kind: 'tools' | 'prompts', method: string, params: Params, extra: Extra): Promise<Result> {
    const exposed = checkNamedParams(method, params);
    const { backend, name } = await this.#router.routeName(kind, exposed, this);
    const result = await this.#request(backend, method, { ...params, name }, extra);
    const task = (result as { task?: { taskId?: unknown } }).task;
    if (kind === 'tools' && typeof task?.taskId === 'string') this.#tasks.set(task.taskId, backend);
    return result;
  }

  /** tasks/get, tasks/result, tasks/cancel go to the backend that created the task. */
  async #forwardTask(method: string, params: Params, extra: Extra): Promise<Result> {
    const backend = typeof params.taskId === 'string' ? this.#tasks.get(params.taskId) : undefined;
    if (typeof params.taskId !== 'string') throw new RpcError(RpcCodes.InvalidParams, `${method}: "taskId" must be a string`);
    if (!backend) throw new RpcError(RpcCodes.InvalidParams, `Unknown task: ${params.taskId}`);
    return backend.request(method, params, this.#forwardOptions(params, extra));
  }

  /** The tasks of every backend this session created tasks on, merged. */
  async #listTasks(params: Params, extra: Extra): Promise<Result> {
    const tasks: ListItem[] = [];
    for (const backend of new Set(this.#tasks.values())) {
      let cursor: unknown;
      do {
        const answer = await backend.request('tasks/list', cursor === undefined ? {} : { cursor }, { signal: extra.signal });
        tasks.push(...((answer.tasks as ListItem[] | undefined) ?? []));
        cursor = answer.nextCursor;
      } while (typeof cursor === 'string' && cursor !== '');
    }
    const { items, nextCursor } = page(tasks, params.cursor, this.#router.pageSize);
    return nextCursor === undefined ? { tasks: items } : { tasks: items, nextCursor };
  }

  async #forwardUri(method: string, params: Params, extra: Extra): Promise<Result> {
    const exposed = params.uri;
    if (typeof exposed !== 'string') throw new RpcError(RpcCodes.InvalidParams, `${method}: "uri" must be a string`);
    const { backend, uri } = this.#router.routeUri(exposed, this);
    const result = await this.#request(backend, method, { ...params, uri }, extra).catch((error: unknown) => {
      throw uriErrorToClient(error, uri, exposed);
    });
    // Contents carry the URI they were read from: give the client its own spelling back.
    return method === 'resources/read' ? contentsToClient(backend.plugin, result, uri, exposed) : result;
  }

  async #complete(params: Params, extra: Extra): Promise<Result> {
    const ref = params.ref as { type?: string; name?: string; uri?: string } | undefined;
    if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
      const { backend, name } = await this.#router.routeName('prompts', ref.name, this);
      return backend.request('completion/complete', { ...params, ref: { ...ref, name } }, this.#forwardOptions(params, extra));
    }
    if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
      const { backend, uri } = this.#router.routeUri(ref.uri, this);
      return backend.request('completion/complete', { ...params, ref: { ...ref, uri } }, this.#forwardOptions(params, extra));
    }
    throw new RpcError(RpcCodes.InvalidParams, 'completion/complete: "ref" must be a ref/prompt with a name or a ref/resource with a uri');
  }

  /**
   * Forwards a request. A 2026-era backend that needs input from the client answers
   * `input_required`: its questions (elicitation, sampling, roots) go to this session's client as
   * ordinary requests, on the stream of the client's request, and the request is sent again with
   * the answers, until the backend's answer is complete.
   */
  async #request(backend: BackendLink, method: string, params: Params, extra: Extra): Promise<Result> {
    let result = await backend.request(method, params, this.#forwardOptions(params, extra));
    for (let round = 1; result.resultType === 'input_required'; round++) {
      if (round > MAX_INPUT_ROUNDS) {
        throw new RpcError(RpcCodes.InternalError, `${backend.plugin.label} still asked for input after ${MAX_INPUT_ROUNDS} rounds of ${method}; given up`, { plugin: backend.plugin.prefix });
      }
      const questions = (result.inputRequests ?? {}) as Record<string, { method: string; params?: Record<string, unknown> }>;
      const inputResponses: Record<string, unknown> = {};
      for (const [key, question] of Object.entries(questions)) {
        inputResponses[key] = await this.onBackendRequest(backend, { jsonrpc: '2.0', id: `${key}`, method: question.method, ...(question.params && { params: question.params }) }, extra.signal);
      }
      const { inputResponses: _previous, requestState: _state, ...rest } = params;
      result = await backend.request(method, { ...rest, inputResponses, ...(result.requestState !== undefined && { requestState: result.requestState }) }, this.#forwardOptions(params, extra));
    }
    return result;
  }

  /** The client's log level goes to every backend of the session that logs, opened or not. */
  async #setLevel(params: Params, extra: Extra): Promise<Result> {
    const results = await Promise.allSettled(
      this.#router
        .plugins(this.principal)
        .filter((plugin) => plugin.infoFor('2025-11-25')?.capabilities.logging !== undefined && (plugin.state === 'ready' || plugin.state === 'degraded'))
        .map((plugin) => this.backend(plugin).request('logging/setLevel', params, { signal: extra.signal })),
    );
    for (const result of results) {
      if (result.status === 'rejected') this.#options.log.debug({ err: messageOf(result.reason) }, 'logging/setLevel not accepted by a backend');
    }
    return {};
  }

  async #onClientNotification(notification: Notification): Promise<void> {
    this.lastSeen = Date.now();
    if (notification.method === 'notifications/roots/list_changed') {
      await Promise.allSettled(
        this.openedBackends().map(async (backend) => {
          const { client } = await backend.connection();
          await client.notification({ method: notification.method });
        }),
      );
    }
  }

  /**
   * Progress and cancellation of a forwarded request: the client's progress token is kept
   * (the backend sees the SDK's own), and the client's cancellation cancels the backend request.
   */
  #forwardOptions(params: Params, extra: Extra): RequestOptions {
    const token = params._meta?.progressToken;
    if (token === undefined) return { signal: extra.signal };
    return {
      signal: extra.signal,
      resetTimeoutOnProgress: true,
      onprogress: (progress) => {
        void extra.sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken: token } });
      },
    };
  }

}

/** An error from the client's side, with the SDK's "MCP error N:" wrapping removed. */
function unwrap(error: unknown): Error {
  if (error instanceof McpError) {
    const prefix = `MCP error ${error.code}: `;
    return new RpcError(error.code, error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message, error.data);
  }
  return error instanceof Error ? error : new Error(String(error));
}

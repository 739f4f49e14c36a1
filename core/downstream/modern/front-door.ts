/**
 * The 2026-07-28 era, to clients: stateless requests. Each HTTP request is served by a fresh
 * SDK v2 `Server` (createMcpHandler calls the factory once per request). The SDK does the
 * protocol's own work: the envelope and header checks (-32602, -32020, -32022), removed methods
 * (404, -32601), `server/discover`, `subscriptions/listen`, `resultType`, caching hints, and SSE
 * for answers that come with notifications. The handlers here route through the same router as
 * 2025 sessions, to backends chosen per request (see #backends).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  InMemoryServerEventBus,
  LOG_LEVEL_META_KEY,
  Server,
  createMcpHandler,
  type McpHttpHandler,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { ClientCapabilities, Implementation, Notification, Result } from '@modelcontextprotocol/sdk/types.js';
import type { Router, Backends } from '../router.ts';
import type { ListKind } from '../../catalog/plugin-catalog.ts';
import type { Plugin } from '../../plugins/plugin.ts';
import type { SharedBackends } from '../../upstream/shared.ts';
import { Backend, type BackendLink, type BackendPeer } from '../../upstream/backend.ts';
import { safeExposeUri, toClient } from '../to-client.ts';
import { advertisedCapabilities, combinedInstructions } from '../capabilities.ts';
import { checkNamedParams, contentsToClient } from '../forwarding.ts';
import { requestScope, type RequestScope, type StatelessSink } from '../../scope.ts';
import { followSignals } from '../../signals.ts';
import { InputGate, ParkedCalls, type Parked } from './input.ts';
import { paramHeaderMismatch, paramHeaders } from '../../catalog/param-headers.ts';
import { RpcCodes, RpcError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { ListGroup } from '../../plugins/probe.ts';

export interface ModernOptions {
  router: Router;
  shared: SharedBackends;
  serverInfo: Implementation;
  log: Logger;
  /** How long a call waits for a client to answer its `input_required` question. */
  inputTimeoutMs: number;
  /** How long clients may keep a list (`ttlMs` of list results); clients listening get `list_changed` sooner. */
  listTtlMs: number;
}

type Ctx = ServerContext;
type Params = Record<string, unknown>;

const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];
const LIST_METHODS: Record<ListKind, string> = {
  tools: 'tools/list',
  prompts: 'prompts/list',
  resources: 'resources/list',
  resourceTemplates: 'resources/templates/list',
};

export class ModernFrontDoor {
  /** Where list and resource changes are published to clients' `subscriptions/listen` streams. */
  readonly bus = new InMemoryServerEventBus();
  readonly #options: ModernOptions;
  readonly #handler: McpHttpHandler;
  readonly #node: ReturnType<typeof toNodeHandler>;
  readonly #parked: ParkedCalls;
  /** Requests being answered, and how to end each with an error (shutdown). */
  readonly #requests = new Set<(error: Error) => void>();
  /** Resources listening clients asked about (as they name them), and how many listen streams want each. */
  readonly #subscriptions = new Map<string, { listeners: number; stop: Promise<() => Promise<void>> }>();

  constructor(options: ModernOptions) {
    this.#options = options;
    this.#parked = new ParkedCalls({ expiresMs: options.inputTimeoutMs });
    this.#handler = createMcpHandler(() => this.#server(), {
      legacy: 'reject',
      bus: this.bus,
      onerror: (error) => options.log.debug({ err: error.message }, '2026-07-28 request failed'),
    });
    this.#node = toNodeHandler(this.#handler);
  }

  /**
   * Serves one HTTP request of the 2026 era; `body` is the parsed JSON body. A listen stream that
   * asks for resource updates gets the proxy subscribed to those resources at their plugins for
   * as long as the stream is open.
   */
  async handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const refusal = await this.#checkParamHeaders(req, body);
    if (refusal) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(refusal));
      return;
    }
    const listen = body as { method?: unknown; params?: { notifications?: { resourceSubscriptions?: unknown }; _meta?: Record<string, unknown> } } | undefined;
    const uris = listen?.method === 'subscriptions/listen' ? listen.params?.notifications?.resourceSubscriptions : undefined;
    if (Array.isArray(uris) && uris.length) {
      const capabilities = (listen!.params?._meta?.[CLIENT_CAPABILITIES_META_KEY] ?? {}) as ClientCapabilities;
      const release = this.#subscribe(uris.filter((uri): uri is string => typeof uri === 'string'), capabilities);
      res.once('close', () => void release.then((done) => done()));
    }
    return this.#node(req, res, body);
  }

  /**
   * A tools/call whose `Mcp-Param-*` headers disagree with its arguments (SEP-2243) is refused,
   * 400 and -32020, as the tool's own server would refuse it: the proxy checks against the tool's
   * schema in the catalog. Returns the JSON-RPC error to send, or undefined.
   */
  async #checkParamHeaders(req: IncomingMessage, body: unknown): Promise<Record<string, unknown> | undefined> {
    const call = body as { id?: unknown; method?: unknown; params?: { name?: unknown; arguments?: unknown; _meta?: Record<string, unknown> } } | undefined;
    if (call?.method !== 'tools/call' || typeof call.params?.name !== 'string') return undefined;
    const tool = await this.#options.router.tool(call.params.name, this.#backendsFor((call.params._meta ?? {}) as Record<string, unknown>));
    const declared = tool ? paramHeaders(tool.inputSchema) : [];
    if (!declared.length) return undefined;
    const mismatch = paramHeaderMismatch(declared, call.params.arguments, (name) => {
      const value = req.headers[name.toLowerCase()];
      return Array.isArray(value) ? value.join(', ') : value;
    });
    if (!mismatch) return undefined;
    const message = `Bad Request: the request headers and body disagree: ${mismatch}`;
    return { jsonrpc: '2.0', id: call.id ?? null, error: { code: -32020, message, data: { mismatch: { header: mismatch, body: mismatch } } } };
  }

  /**
   * Subscribes to resources (as clients name them) at their plugins, counting listeners: the
   * plugin is asked once per resource, and told to stop when the last listener goes.
   */
  async #subscribe(uris: string[], capabilities: ClientCapabilities): Promise<() => void> {
    const held: string[] = [];
    for (const exposed of new Set(uris)) {
      let subscription = this.#subscriptions.get(exposed);
      if (!subscription) {
        subscription = { listeners: 0, stop: this.#subscribeAtPlugin(exposed, capabilities) };
        this.#subscriptions.set(exposed, subscription);
      }
      subscription.listeners++;
      held.push(exposed);
    }
    return () => {
      for (const exposed of held) {
        const subscription = this.#subscriptions.get(exposed);
        if (!subscription || --subscription.listeners > 0) continue;
        this.#subscriptions.delete(exposed);
        void subscription.stop.then((stop) => stop());
      }
    };
  }

  /** Subscribes the proxy to one resource at its plugin; resolves with how to unsubscribe. */
  async #subscribeAtPlugin(exposed: string, capabilities: ClientCapabilities): Promise<() => Promise<void>> {
    const nothing = async () => {};
    let target: { backend: BackendLink; uri: string };
    try {
      target = this.#options.router.routeUri(exposed, {
        backend: (plugin) => (plugin.upstream ? plugin.upstream.link(busPeer(this, capabilities, this.#options.serverInfo)) : this.#options.shared.backend(plugin, capabilities)),
      });
    } catch {
      return nothing; // no plugin has it: nothing will change
    }
    const { backend, uri } = target;
    try {
      await backend.request('resources/subscribe', { uri });
    } catch (error) {
      this.#options.log.debug({ err: (error as Error).message, uri: exposed }, 'could not subscribe for a listening client');
      return nothing;
    }
    return async () => {
      await backend.request('resources/unsubscribe', { uri }).catch(() => {});
      if (!(backend instanceof Backend)) await backend.close();
    };
  }

  /** Clients listening for list changes hear of these. */
  listChanged(groups: readonly ListGroup[]): void {
    for (const group of groups) this.bus.publish({ kind: `${group}_list_changed` });
  }

  /** Clients listening to `uri` (as they name it) hear it changed. */
  resourceUpdated(uri: string): void {
    this.bus.publish({ kind: 'resource_updated', uri });
  }

  /** Answers every request in progress with `error` (the proxy is shutting down). */
  endRequests(error: Error): void {
    for (const end of [...this.#requests]) end(error);
    this.#parked.close(error.message);
  }

  async close(): Promise<void> {
    this.#parked.close('mcp-switchboard is shutting down');
    await this.#handler.close();
  }

  /** The per-request server: the proxy's capabilities, and handlers that route to the plugins. */
  #server(): Server {
    const { router, serverInfo } = this.#options;
    const plugins = router.plugins();
    const capabilities = advertisedCapabilities(plugins);
    const server = new Server(serverInfo, { capabilities: capabilities as never, instructions: combinedInstructions(plugins) });
    for (const kind of ['tools', 'prompts', 'resources', 'resourceTemplates'] as const) {
      server.setRequestHandler(LIST_METHODS[kind] as 'tools/list', async (request, ctx) => this.#run(() => this.#list(kind, request.params?.cursor, ctx)) as never);
    }
    server.setRequestHandler('tools/call', async (request, ctx) => this.#run(() => this.#named('tools', 'tools/call', request.params as Params, ctx)) as never);
    server.setRequestHandler('prompts/get', async (request, ctx) => this.#run(() => this.#named('prompts', 'prompts/get', request.params as Params, ctx)) as never);
    server.setRequestHandler('resources/read', async (request, ctx) => this.#run(() => this.#read(request.params as Params, ctx)) as never);
    if (capabilities.completions) {
      server.setRequestHandler('completion/complete', async (request, ctx) => this.#run(() => this.#complete(request.params as Params, ctx)) as never);
    }
    return server;
  }

  /** Runs a handler so that shutdown can answer it with an error. */
  async #run(handle: () => Promise<Result>): Promise<Result> {
    let end!: (error: Error) => void;
    const ended = new Promise<never>((_, reject) => (end = reject));
    this.#requests.add(end);
    try {
      const handled = handle();
      handled.catch(() => {});
      return await Promise.race([handled, ended]);
    } finally {
      this.#requests.delete(end);
    }
  }

  async #list(kind: ListKind, cursor: unknown, ctx: Ctx): Promise<Result> {
    const { items, nextCursor } = await this.#options.router.list(kind, cursor, this.#backends(ctx));
    return { [kind]: items, ...(nextCursor !== undefined && { nextCursor }), ttlMs: this.#options.listTtlMs, cacheScope: 'private' };
  }

  async #named(kind: 'tools' | 'prompts', method: string, params: Params, ctx: Ctx): Promise<Result> {
    const exposed = checkNamedParams(method, params);
    const { backend, name } = await this.#options.router.routeName(kind, exposed, this.#backends(ctx));
    return this.#forward(backend, method, { ...forwarded(params, ctx), name }, ctx);
  }

  async #read(params: Params, ctx: Ctx): Promise<Result> {
    const exposed = params.uri;
    if (typeof exposed !== 'string') throw new RpcError(RpcCodes.InvalidParams, 'resources/read: "uri" must be a string');
    const { backend, uri } = this.#options.router.routeUri(exposed, this.#backends(ctx));
    const result = await this.#forward(backend, 'resources/read', { ...forwarded(params, ctx), uri }, ctx);
    return contentsToClient(backend.plugin, result, uri, exposed);
  }

  async #complete(params: Params, ctx: Ctx): Promise<Result> {
    const ref = params.ref as { type?: string; name?: string; uri?: string } | undefined;
    const backends = this.#backends(ctx);
    if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
      const { backend, name } = await this.#options.router.routeName('prompts', ref.name, backends);
      return this.#forward(backend, 'completion/complete', { ...forwarded(params, ctx), ref: { ...ref, name } }, ctx);
    }
    if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
      const { backend, uri } = this.#options.router.routeUri(ref.uri, backends);
      return this.#forward(backend, 'completion/complete', { ...forwarded(params, ctx), ref: { ...ref, uri } }, ctx);
    }
    throw new RpcError(RpcCodes.InvalidParams, 'completion/complete: "ref" must be a ref/prompt with a name or a ref/resource with a uri');
  }

  /**
   * Sends a request to a backend for a stateless client. A 2025-era backend that asks the client
   * something meanwhile gets its answer through an `input_required` round trip (see input.ts):
   * the call is parked and the client's retry, carrying our `requestState`, resumes it.
   */
  async #forward(backend: BackendLink, method: string, params: Params, ctx: Ctx): Promise<Result> {
    const state = ctx.mcpReq.requestState() as string | undefined;
    let parked: Parked;
    if (!(backend instanceof Backend)) {
      // A 2026-era backend asks for input itself: its input_required and the client's retry pass through as they are.
      const responses = ctx.mcpReq.inputResponses;
      parked = this.#start(backend, method, { ...params, ...(responses && { inputResponses: responses }), ...(typeof state === 'string' && { requestState: state }) }, ctx);
    } else if (typeof state === 'string') {
      if (!ParkedCalls.owns(state)) throw new RpcError(RpcCodes.InvalidParams, `Invalid requestState: ${backend.plugin.label} did not ask for input on this request`);
      parked = this.#parked.take(state);
      parked.rebind(ctx);
      parked.gate.answer(ctx.mcpReq.inputResponses as Record<string, unknown> | undefined);
    } else {
      parked = this.#start(backend, method, params, ctx);
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

  /** Starts a backend call for a stateless request, with a sink for what the backend sends about it. */
  #start(backend: BackendLink, method: string, params: Params, ctx: Ctx): Parked {
    let current = ctx;
    const gate = new InputGate();
    const cancel = new AbortController();
    const level = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[LOG_LEVEL_META_KEY];
    const sink: StatelessSink = {
      notify: async (notification: Notification) => {
        // Log messages only for a client that asked for them, at its level or above (there is no session to set one on).
        if (notification.method === 'notifications/message' && !atLeast((notification.params as { level?: string } | undefined)?.level, level as string | undefined)) return;
        await current.mcpReq.notify(notification as never).catch(() => {});
      },
      ask: (request, signal) => gate.ask(request, signal),
    };
    const scope: RequestScope = { sessionId: 'stateless', requestId: ctx.mcpReq.id, done: false, stateless: sink };
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
      rebind: (target) => (current = target as Ctx),
    };
  }

  /**
   * The backends for one stateless request: a 2026-era plugin's connection, carrying this
   * client's capabilities; for a 2025-era plugin, the backend session shared by its audience.
   */
  #backends(ctx: Ctx): Backends {
    return this.#backendsFor((ctx.mcpReq.envelope ?? {}) as Record<string, unknown>);
  }

  #backendsFor(envelope: Record<string, unknown>): Backends {
    const capabilities = (envelope[CLIENT_CAPABILITIES_META_KEY] ?? {}) as ClientCapabilities;
    const clientInfo = (envelope[CLIENT_INFO_META_KEY] ?? this.#options.serverInfo) as Implementation;
    const logLevel = envelope[LOG_LEVEL_META_KEY] as string | undefined;
    const shared = this.#options.shared;
    let peer: BackendPeer | undefined;
    return {
      backend: (plugin: Plugin) => (plugin.upstream ? plugin.upstream.link((peer ??= statelessPeer(capabilities, clientInfo, logLevel))) : shared.backend(plugin, capabilities)),
    };
  }
}

/** The proxy's own subscription at a 2026-era plugin, for listening clients: updates go to the bus. */
function busPeer(front: ModernFrontDoor, capabilities: ClientCapabilities, clientInfo: Implementation): BackendPeer {
  return {
    id: 'listen',
    clientCapabilities: () => capabilities,
    clientInfo: () => clientInfo,
    onBackendRequest: async (_link, request) => {
      throw new RpcError(RpcCodes.MethodNotFound, `${request.method}: not expected on a subscription`);
    },
    onBackendNotification: async (link, notification) => {
      const uri = (notification.params as { uri?: unknown } | undefined)?.uri;
      if (notification.method === 'notifications/resources/updated' && typeof uri === 'string') front.resourceUpdated(safeExposeUri(link.plugin.namespace, uri));
    },
  };
}

/** A stateless client as a 2026-era backend sees it: what it declares; what the backend says about a request goes to that request. */
function statelessPeer(capabilities: ClientCapabilities, clientInfo: Implementation, logLevel: string | undefined): BackendPeer {
  return {
    id: 'stateless',
    clientCapabilities: () => capabilities,
    clientInfo: () => clientInfo,
    logLevel: () => logLevel,
    onBackendRequest: async (_link, request) => {
      throw new RpcError(RpcCodes.MethodNotFound, `${request.method}: a 2026-07-28 backend asks for input with input_required, not with a request`);
    },
    onBackendNotification: async (link, notification) => {
      const scope = requestScope.getStore();
      if (!scope?.stateless || scope.done) return;
      await scope.stateless.notify({ method: notification.method, params: toClient(link.plugin, notification.method, (notification.params ?? {}) as Params) });
    },
  };
}

/** The client's params as they go to the backend: the proxy's own fields taken out, the rest kept. */
function forwarded(params: Params, ctx: Ctx): Params {
  const { _meta: _envelope, inputResponses: _responses, requestState: _state, ...rest } = params;
  const meta = ctx.mcpReq._meta as Record<string, unknown> | undefined;
  return meta && Object.keys(meta).length ? { ...rest, _meta: meta } : rest;
}

/** Whether a log message at `level` reaches a client that asked for `threshold` (none: it did not ask). */
function atLeast(level: string | undefined, threshold: string | undefined): boolean {
  if (!threshold) return false;
  return LOG_LEVELS.indexOf(level ?? 'info') >= LOG_LEVELS.indexOf(threshold);
}

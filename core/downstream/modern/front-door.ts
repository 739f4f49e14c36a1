/**
 * The 2026-07-28 era, to clients: stateless requests. Each HTTP request is served by a fresh
 * SDK v2 `Server` (createMcpHandler calls the factory once per request). The SDK does the
 * protocol's own work: the envelope and header checks (-32602, -32020, -32022), removed methods
 * (404, -32601), `server/discover`, `subscriptions/listen`, `resultType`, caching hints, and SSE
 * for answers that come with notifications. The handlers here route through the same router as
 * 2025 sessions, to backends chosen per request (see #backends).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InMemoryServerEventBus, Server, createMcpHandler, type McpHttpHandler, type ServerContext } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { Implementation, Result } from '@modelcontextprotocol/sdk/types.js';
import type { Router, Backends } from '../router.ts';
import type { ListKind } from '../../catalog/plugin-catalog.ts';
import { LIST_METHOD } from '../../catalog/lists.ts';
import type { SharedBackends } from '../../upstream/legacy/shared.ts';
import type { BackendLink } from '../../upstream/link.ts';
import { advertisedCapabilities, combinedInstructions } from '../capabilities.ts';
import { checkNamedParams, contentsToClient, uriErrorToClient } from '../forwarding.ts';
import { StatelessCalls, forwarded } from './calls.ts';
import { ListenSubscriptions } from './listen.ts';
import { authInfoFor, backendsFor, capabilitiesOf, principalOf, type Envelope } from './clients.ts';
import { checkParamHeaders } from './param-check.ts';
import { RpcCodes, RpcError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { ListGroup } from '../../plugins/probe.ts';
import type { Principal } from '../../auth/principal.ts';
import type { AccessLog } from '../../observability/access-log.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { requestIds } from '../../observability/request-id.ts';
import type { Tracing } from '../../observability/tracing.ts';

export interface ModernOptions {
  router: Router;
  shared: SharedBackends;
  serverInfo: Implementation;
  log: Logger;
  /** How long a call waits for a client to answer its `input_required` question. */
  inputTimeoutMs: number;
  /** How long clients may keep a list (`ttlMs` of list results); clients listening get `list_changed` sooner. */
  listTtlMs: number;
  /** Where each client request is counted and logged once it ended. */
  access: AccessLog;
  /** Counts listen streams open. */
  metrics: Metrics;
  /** Each request is a SERVER span (when tracing is on). */
  tracing: Tracing;
}

type Ctx = ServerContext;
type Params = Record<string, unknown>;

export class ModernFrontDoor {
  /** Where list and resource changes are published to clients' `subscriptions/listen` streams. */
  readonly bus = new InMemoryServerEventBus();
  readonly #options: ModernOptions;
  readonly #handler: McpHttpHandler;
  readonly #node: ReturnType<typeof toNodeHandler>;
  /** Requests being answered, and how to end each with an error (shutdown). */
  readonly #requests = new Set<(error: Error) => void>();
  readonly #calls: StatelessCalls;
  readonly #listen: ListenSubscriptions;

  constructor(options: ModernOptions) {
    this.#options = options;
    this.#calls = new StatelessCalls({ inputTimeoutMs: options.inputTimeoutMs });
    this.#listen = new ListenSubscriptions({ ...options, onUpdated: (uri) => this.resourceUpdated(uri) });
    this.#handler = createMcpHandler((context) => this.#server(principalOf(context.authInfo)), {
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
  async handle(req: IncomingMessage, res: ServerResponse, body: unknown, principal: Principal): Promise<void> {
    const refusal = await checkParamHeaders(req, body, this.#options.router, (envelope) => backendsFor(principal, envelope, this.#options));
    if (refusal) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(refusal));
      return;
    }
    const listen = body as { method?: unknown; params?: { notifications?: { resourceSubscriptions?: unknown }; _meta?: Record<string, unknown> } } | undefined;
    if (listen?.method === 'subscriptions/listen') res.once('close', this.#options.metrics.listenStreamOpened());
    const uris = listen?.method === 'subscriptions/listen' ? listen.params?.notifications?.resourceSubscriptions : undefined;
    if (Array.isArray(uris) && uris.length) {
      // Only resources of plugins the caller may use are listened to (for it, the others do not exist).
      const reachable = uris.filter((uri): uri is string => typeof uri === 'string' && this.#options.router.mayReach(uri, principal));
      if (reachable.length !== uris.length) body = { ...listen, params: { ...listen!.params, notifications: { ...listen!.params!.notifications, resourceSubscriptions: reachable } } };
      const release = this.#listen.hold(reachable, capabilitiesOf(listen!.params?._meta ?? {}));
      res.once('close', () => void release.then((done) => done()));
    }
    (req as IncomingMessage & { auth?: ReturnType<typeof authInfoFor> }).auth = authInfoFor(principal);
    return this.#node(req, res, body);
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
    this.#calls.close(error.message);
  }

  async close(): Promise<void> {
    this.#calls.close('mcp-switchboard is shutting down');
    await this.#handler.close();
  }

  /** The per-request server: the capabilities of the plugins the caller may use, and handlers that route to them. */
  #server(principal: Principal): Server {
    const { router, serverInfo } = this.#options;
    const plugins = router.plugins(principal);
    const capabilities = advertisedCapabilities(plugins, '2026-07-28');
    const server = new Server(serverInfo, { capabilities: capabilities as never, instructions: combinedInstructions(plugins, '2026-07-28') });
    for (const kind of ['tools', 'prompts', 'resources', 'resourceTemplates'] as const) {
      server.setRequestHandler(LIST_METHOD[kind] as 'tools/list', async (request, ctx) => this.#run(request, ctx, () => this.#list(kind, request.params?.cursor, ctx)) as never);
    }
    server.setRequestHandler('tools/call', async (request, ctx) => this.#run(request, ctx, () => this.#named('tools', 'tools/call', request.params as Params, ctx)) as never);
    server.setRequestHandler('prompts/get', async (request, ctx) => this.#run(request, ctx, () => this.#named('prompts', 'prompts/get', request.params as Params, ctx)) as never);
    server.setRequestHandler('resources/read', async (request, ctx) => this.#run(request, ctx, () => this.#read(request.params as Params, ctx)) as never);
    if (capabilities.completions) {
      server.setRequestHandler('completion/complete', async (request, ctx) => this.#run(request, ctx, () => this.#complete(request.params as Params, ctx)) as never);
    }
    return server;
  }

  /** Runs a handler so that shutdown can answer it with an error, in the request's SERVER span; the request is counted and logged. */
  async #run(request: { method: string; params?: unknown }, ctx: Ctx, handle: () => Promise<Result>): Promise<Result> {
    let end!: (error: Error) => void;
    const ended = new Promise<never>((_, reject) => (end = reject));
    this.#requests.add(end);
    try {
      const requestId = requestIds.getStore();
      const start = { method: request.method, era: '2026-07-28' as const, params: request.params as Params | undefined, principal: principalOf(ctx.http?.authInfo).id, requestId, signal: ctx.mcpReq.signal };
      const traced = { method: request.method, params: request.params as Params, requestId: ctx.mcpReq.id, protocolVersion: '2026-07-28', headers: ctx.http?.req?.headers };
      const serve = () => this.#options.tracing.serve(traced, handle);
      const handled = this.#options.access.observe(start, serve);
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
    return this.#calls.forward(backend, method, { ...forwarded(params, ctx), name }, ctx);
  }

  async #read(params: Params, ctx: Ctx): Promise<Result> {
    const exposed = params.uri;
    if (typeof exposed !== 'string') throw new RpcError(RpcCodes.InvalidParams, 'resources/read: "uri" must be a string');
    let route: { backend: BackendLink; uri: string };
    try {
      route = this.#options.router.routeUri(exposed, this.#backends(ctx));
    } catch (error) {
      // The 2026 spec's "resource not found" is invalid params with the URI (SEP-2164); 2025's is -32002.
      if (error instanceof RpcError && error.code === RpcCodes.ResourceNotFound) throw new RpcError(RpcCodes.InvalidParams, error.message, { uri: exposed });
      throw error;
    }
    const { backend, uri } = route;
    const result = await this.#calls.forward(backend, 'resources/read', { ...forwarded(params, ctx), uri }, ctx).catch((error: unknown) => {
      throw uriErrorToClient(error, uri, exposed);
    });
    return contentsToClient(backend.plugin, result, uri, exposed);
  }

  async #complete(params: Params, ctx: Ctx): Promise<Result> {
    const ref = params.ref as { type?: string; name?: string; uri?: string } | undefined;
    const backends = this.#backends(ctx);
    if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
      const { backend, name } = await this.#options.router.routeName('prompts', ref.name, backends);
      return this.#calls.forward(backend, 'completion/complete', { ...forwarded(params, ctx), ref: { ...ref, name } }, ctx);
    }
    if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
      const { backend, uri } = this.#options.router.routeUri(ref.uri, backends);
      return this.#calls.forward(backend, 'completion/complete', { ...forwarded(params, ctx), ref: { ...ref, uri } }, ctx);
    }
    throw new RpcError(RpcCodes.InvalidParams, 'completion/complete: "ref" must be a ref/prompt with a name or a ref/resource with a uri');
  }

  #backends(ctx: Ctx): Backends {
    return backendsFor(principalOf(ctx.http?.authInfo), (ctx.mcpReq.envelope ?? {}) as Envelope, this.#options);
  }
}

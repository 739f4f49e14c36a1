/**
 * The HTTP face: `/mcp` for both protocol eras, `/healthz`, `/readyz` and `/metrics`, and the
 * status page (`/` and `/status.json`, see status/routes.ts). Builds a Koa app
 * without listening, so tests can drive it with or without a port.
 *
 * `/mcp` checks what every request must pass (Host and Origin, shutdown, rate, method, media
 * type, body size and depth, requests in progress), parses the body once, and hands the request
 * to its era's front door: the SDK v2 classifier (era.ts, loaded on first need) tells a
 * 2026-07-28 request (a per-request envelope) from a 2025 one. CORS and the header count come
 * first, for every route.
 */
import Koa from 'koa';
import Router from '@koa/router';
import parseBody from 'co-body';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { ANONYMOUS, type Principal } from '../auth/principal.ts';
import { RpcCodes } from '../errors.ts';
import { refuseForeignHost } from './host-check.ts';
import { eraOf } from './era.ts';
import { METADATA_PATHS, protectedResourceMetadata, refuse, resourceUrl } from './auth.ts';
import { corsMiddleware, type CorsSettings } from './cors.ts';
import { HttpLimits, type LimitSettings } from './limits.ts';
import { nestingDepth, requestIdOf, sendRpcError } from './json.ts';
import type { RequestTracker } from './requests.ts';
import { statusRoutes } from '../status/routes.ts';
import type { StatusSources } from '../status/report.ts';
import { serveMetrics } from './metrics.ts';
import type { Metrics } from '../observability/metrics.ts';
import { REQUEST_ID_HEADER, requestIdFor, requestIds } from '../observability/request-id.ts';

export { RequestTracker } from './requests.ts';
export { checkHostAndOrigin } from './host-check.ts';
export { nestingDepth } from './json.ts';
export { loadEraClassifier } from './era.ts';

/** An era's front door: serves a request whose body was parsed already, from a caller whose credentials were checked. */
export interface FrontDoor {
  handle(req: IncomingMessage, res: ServerResponse, body: unknown, principal: Principal): Promise<void>;
}

export interface HttpOptions {
  /** Host names accepted in `Host` and `Origin` (DNS-rebinding protection); `*` accepts any. */
  allowedHosts: readonly string[];
  /** Browser pages on other origins allowed to call (cors.ts); unset: no CORS headers. */
  cors?: CorsSettings;
  maxBodyBytes: number;
  /** Who is calling (inbound authentication). */
  auth: Authenticator;
  /** Per-client limits: headers, rate, requests in progress (limits.ts). */
  limits: LimitSettings;
  log: Logger;
  /** The body of `GET /healthz`. */
  health: () => Record<string, unknown>;
  /**
   * `GET /readyz`: 200 when `ready`, else 503. The body lists the states of the plugins `viewer`
   * may use; with authentication on, a caller without credentials (a load balancer's probe) gets
   * the verdict alone (`viewer` undefined).
   */
  readiness: (viewer: Principal | undefined) => { ready: boolean } & Record<string, unknown>;
  /** Counts client requests in progress, so shutdown can let them finish. */
  requests: RequestTracker;
  /** True once shutdown began: new requests are refused with 503. */
  isClosing: () => boolean;
  /** What the status page (`/status.json`) reports. */
  status: StatusSources;
  /** 2025-11-25 clients (sessions). */
  legacy: FrontDoor;
  /** 2026-07-28 clients (stateless). */
  modern: FrontDoor;
  /** Served at `GET /metrics` (metrics.ts); unset: no such route here. */
  metrics?: Metrics;
}

/** Error codes of a connection the client ended (a reset, a write after it left, a body cut short). */
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Deeper than this, a body is refused: validating it would exhaust the stack. */
const MAX_JSON_DEPTH = 100;
/** Longer batches are refused before anything looks at their messages (the SDK allows 100). */
const MAX_BATCH = 100;

export function createApp(options: HttpOptions): Koa {
  const app = new Koa();
  const router = new Router();
  const limits = new HttpLimits(options.limits, options.log);

  app.on('error', (error: Error & { code?: unknown; type?: unknown }, ctx) => {
    // A client that went away (killed, timed out, reset) before its request was read or answered is not a failure of the proxy.
    if (CLIENT_GONE.has(String(error.code)) || error.type === 'request.aborted') options.log.debug({ err: error, path: ctx?.path }, 'the client closed the connection before its request was done');
    else options.log.error({ err: error, path: ctx?.path }, 'HTTP request failed');
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok', ...options.health() };
  });

  router.get('/readyz', async (ctx) => {
    const authorization = ctx.get('authorization');
    const checked = options.auth.mode === 'on' && authorization ? await options.auth.authenticate(authorization) : undefined;
    const viewer = options.auth.mode !== 'on' ? ANONYMOUS : checked?.ok ? checked.principal : undefined;
    const readiness = options.readiness(viewer);
    ctx.status = readiness.ready ? 200 : 503;
    ctx.body = readiness;
  });

  // RFC 9728: where a client learns how to get a token for /mcp.
  router.get(METADATA_PATHS, (ctx) => {
    const metadata = protectedResourceMetadata(options.auth, resourceUrl(options.auth, ctx));
    if (!metadata) return; // 404: no OAuth tokens are taken here
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = metadata;
  });

  if (options.metrics) {
    const metrics = options.metrics;
    router.get('/metrics', (ctx) => serveMetrics(ctx, metrics, options.auth, options.allowedHosts, options.cors));
  }

  router.all('/mcp', async (ctx) => {
    ctx.respond = false;
    const { res } = ctx;
    // Every answer, refusals too, names the request id; the front doors run in it (request-id.ts).
    const requestId = requestIdFor(ctx.req.headers[REQUEST_ID_HEADER]);
    res.setHeader('X-Request-Id', requestId);
    if (refuseForeignHost(ctx.req, res, options.allowedHosts, options.cors)) return;
    if (options.isClosing()) return sendRpcError(res, 503, -32000, 'The proxy is shutting down', null, { 'Retry-After': '5' });
    if (!['GET', 'POST', 'DELETE'].includes(ctx.method)) {
      return sendRpcError(res, 405, -32000, `Method not allowed: ${ctx.method} (use POST, GET or DELETE)`, null, { Allow: 'GET, POST, DELETE' });
    }

    // Credentials are checked before the body is read: a caller without them costs next to nothing.
    // The rate limit counts a caller by who it is, or by its address when it could not say.
    const authenticated = await options.auth.authenticate(ctx.get('authorization') || undefined);
    if (authenticated.ok) ctx.state.principal = authenticated.principal;
    if (await limits.refuseByRate(ctx)) return;
    if (!authenticated.ok) return refuse(res, options.auth, resourceUrl(options.auth, ctx), authenticated);
    const principal = authenticated.principal;

    let body: unknown;
    if (ctx.method === 'POST') {
      if (!ctx.is('application/json')) return sendRpcError(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
      try {
        body = await parseBody.json(ctx.req, { limit: options.maxBodyBytes, strict: true });
      } catch (error) {
        const status = (error as { status?: number }).status;
        if (status === 413) return sendRpcError(res, 413, -32000, `Request body larger than ${options.maxBodyBytes} bytes, the limit (maxBodyBytes)`);
        return sendRpcError(res, 400, RpcCodes.ParseError, `Parse error: ${(error as Error).message}`);
      }
      if (Array.isArray(body) && body.length > MAX_BATCH) {
        return sendRpcError(res, 400, RpcCodes.InvalidRequest, `Invalid Request: a batch of ${body.length} messages (at most ${MAX_BATCH})`);
      }
      if (nestingDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
        return sendRpcError(res, 400, RpcCodes.InvalidRequest, `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`, requestIdOf(body));
      }
    }

    // The SDK's classifier decides, as SDK v2 servers do; what it refuses, the 2026 front door answers.
    const era = await eraOf({
      httpMethod: ctx.method,
      protocolVersionHeader: ctx.get('mcp-protocol-version') || undefined,
      mcpMethodHeader: ctx.get('mcp-method') || undefined,
      mcpNameHeader: ctx.get('mcp-name') || undefined,
      body,
    });
    if (limits.refuseByRequestsInProgress(ctx, era, body)) return;
    if (era === 'legacy') return requestIds.run(requestId, () => options.legacy.handle(ctx.req, res, body, principal));
    const finished = options.requests.start();
    res.once('close', finished);
    await requestIds.run(requestId, () => options.modern.handle(ctx.req, res, body, principal));
  });

  // CORS first, so that every answer (refusals too) is readable by the pages it allows.
  if (options.cors) app.use(corsMiddleware(options.cors));
  app.use(limits.headerCount);
  app.use(router.routes());
  app.use(router.allowedMethods());
  const status = statusRoutes({ allowedHosts: options.allowedHosts, cors: options.cors, auth: options.auth, sources: options.status });
  app.use(status.routes());
  app.use(status.allowedMethods());
  return app;
}

/**
 * `GET /metrics`, the Prometheus text exposition, served one of two ways (config `metrics`):
 *
 * - on the proxy's own port (the default), checked like `/mcp`: `Host` and `Origin` against
 *   `allowedHosts` (a page that rebound its DNS name to the proxy reads nothing), and with
 *   authentication on, only a caller that may use every plugin reads it (the metrics name every plugin and tool, and a
 *   caller limited to some plugins never learns of the others);
 * - or on a scrape-only listener of its own (`metrics: { port, host }`, host 127.0.0.1 by
 *   default) that serves `/metrics` and nothing else, without credentials, for a Prometheus that
 *   cannot present a token. Then the proxy's own port has no `/metrics`: who can reach the
 *   scrape port is decided by where it listens (loopback, a cluster-internal interface), not by
 *   tokens.
 */
import type { ParameterizedContext } from 'koa';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator } from '../auth/authenticator.ts';
import type { Metrics } from '../observability/metrics.ts';
import { refuse, resourceUrl } from './auth.ts';
import { sendRpcError } from './json.ts';
import { refuseForeignHost } from './host-check.ts';
import type { CorsSettings } from './cors.ts';

/** Where the scrape-only listener listens, unless the config says. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** The `/metrics` route of the proxy's own port: answers, or refuses a caller as `/mcp` would. */
export async function serveMetrics(ctx: ParameterizedContext, metrics: Metrics, auth: Authenticator, allowedHosts: readonly string[], cors?: CorsSettings): Promise<void> {
  if (refuseForeignHost(ctx.req, ctx.res, allowedHosts, cors)) {
    ctx.respond = false;
    return;
  }
  if (auth.mode === 'on') {
    const authenticated = await auth.authenticate(ctx.get('authorization') || undefined);
    if (!authenticated.ok) {
      ctx.respond = false;
      return refuse(ctx.res, auth, resourceUrl(auth, ctx), authenticated);
    }
    if (authenticated.principal.plugins !== undefined) {
      ctx.respond = false;
      return sendRpcError(ctx.res, 403, -32000, `Forbidden: ${authenticated.principal.id} may use only some plugins; /metrics shows them all (give it plugins ["*"] or scrape a metrics.port listener)`);
    }
  }
  ctx.set('Content-Type', metrics.contentType);
  ctx.body = await metrics.exposition();
}

/** The scrape-only listener's request handler: `GET /metrics`, 404 for any other path, 405 for other methods. */
export function scrapeHandler(metrics: Metrics, onError: (error: unknown) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found: this listener serves /metrics only\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method Not Allowed\n');
    metrics.exposition().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (error: unknown) => {
        onError(error);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('collecting metrics failed\n');
      },
    );
  };
}

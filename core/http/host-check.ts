import type { IncomingMessage, ServerResponse } from 'node:http';
import { isCorsOrigin, type CorsSettings } from './cors.ts';
import { sendRpcError } from './json.ts';

/**
 * DNS-rebinding protection: a browser page on another site can reach localhost, but its
 * requests carry that site's name in `Host` (after rebinding) or `Origin`. An `Origin` listed in
 * `cors.origins` passes too (the `Host` must still be allowed). Returns why a request is refused,
 * or undefined when it may pass.
 *
 * Not access control: any client that is not a browser sends whatever `Host` and `Origin` it likes.
 */
export function checkHostAndOrigin(host: string, origin: string, allowedHosts: readonly string[], cors?: CorsSettings): string | undefined {
  if (allowedHosts.includes('*')) return undefined;
  const hostname = hostnameOf(host);
  if (hostname === undefined || !allowedHosts.includes(hostname)) {
    return `Host "${host}" is not allowed (allowedHosts: ${allowedHosts.join(', ')})`;
  }
  if (origin && !isCorsOrigin(origin, cors)) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).hostname;
    } catch {
      originHost = undefined;
    }
    if (originHost === undefined || !allowedHosts.includes(originHost)) {
      return `Origin "${origin}" is not allowed (allowedHosts: ${allowedHosts.join(', ')}; a web page on another site needs its origin in cors.origins)`;
    }
  }
  return undefined;
}

/**
 * The check above for an endpoint that answers in JSON-RPC (`/mcp`, `/metrics`): a refused
 * request gets a 403 that says why, and true is returned (the caller answers nothing more).
 */
export function refuseForeignHost(req: IncomingMessage, res: ServerResponse, allowedHosts: readonly string[], cors?: CorsSettings): boolean {
  const refusal = checkHostAndOrigin(req.headers.host ?? '', req.headers.origin ?? '', allowedHosts, cors);
  if (!refusal) return false;
  sendRpcError(res, 403, -32000, `Forbidden: ${refusal}`);
  return true;
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

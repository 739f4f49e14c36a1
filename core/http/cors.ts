/**
 * CORS, for MCP clients that run in a web page on another origin. Off unless `cors` is set:
 * without it no response carries CORS headers, so a browser lets no other site read an answer
 * (and refuses to send the JSON POSTs MCP uses, whose preflight then fails).
 *
 * With it, listed origins (or any, with `*`) get their preflights answered and can read the
 * headers an MCP client needs (`Mcp-Session-Id` above all). The same list lets those origins
 * past the `Origin` half of the DNS-rebinding check (host-check.ts).
 */
import cors from '@koa/cors';
import type { Context, Middleware } from 'koa';
import { SwitchboardError } from '../errors.ts';

export interface CorsSettings {
  /** Origins whose pages may call the proxy (`https://app.example.com`), or `["*"]` for any. */
  origins: readonly string[];
  /** Let pages send cookies and HTTP authentication (not with `*`); default false. */
  credentials?: boolean;
  /** How long a browser may cache a preflight's answer; default 600. */
  maxAgeSec?: number;
}

export const CORS_DEFAULTS = { credentials: false, maxAgeSec: 600 } as const;

/** Response headers a page's script may read: the session, the era, auth challenges, back-off, the request id. */
export const EXPOSED_HEADERS = ['Mcp-Session-Id', 'Mcp-Protocol-Version', 'WWW-Authenticate', 'Retry-After', 'X-Request-Id'];

/** Request headers MCP clients send (besides the CORS-safelisted ones), plus every `Mcp-Param-*`. */
const ALLOWED_HEADERS = new Set(['content-type', 'authorization', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id', 'mcp-method', 'mcp-name', 'x-request-id']);
const ALLOWED_HEADER_PREFIX = 'mcp-param-';

/** `https://App.example.com:443` -> `https://app.example.com`; `*` stays. */
export function normalizeOrigin(origin: string): string {
  return origin === '*' ? origin : new URL(origin).origin;
}

/** Whether a page on `origin` (the request's `Origin` header) is one that `cors` lists. */
export function isCorsOrigin(origin: string, settings: CorsSettings | undefined): boolean {
  if (!settings || !origin) return false;
  if (settings.origins.includes('*')) return true;
  let normalized: string;
  try {
    normalized = normalizeOrigin(origin);
  } catch {
    return false;
  }
  return settings.origins.some((listed) => listed !== '*' && normalizeOrigin(listed) === normalized);
}

/** Of the headers a preflight asks to send, those MCP clients use; the rest stay refused. */
export function allowedRequestHeaders(requested: string): string[] {
  return requested
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => ALLOWED_HEADERS.has(name) || (name.startsWith(ALLOWED_HEADER_PREFIX) && name.length > ALLOWED_HEADER_PREFIX.length));
}

/**
 * The CORS middleware. It must run before anything that can refuse a request (authentication
 * too): a preflight carries no credentials, and a refusal without CORS headers is unreadable
 * to the page, which then sees only "Failed to fetch".
 */
export function corsMiddleware(settings: CorsSettings): Middleware {
  const credentials = settings.credentials ?? CORS_DEFAULTS.credentials;
  const wildcard = settings.origins.includes('*');
  // The config check refuses this too; settings passed in directly (embedders) are checked here,
  // since it would let every site act with the user's cookies.
  if (wildcard && credentials) throw new SwitchboardError('SB_CONFIG_INVALID', 'cors: credentials cannot be used with origins ["*"]; list the origins', { culprit: 'cors' });
  const handle = cors({
    // Listed origins are echoed back (required with credentials); unlisted ones get no CORS headers.
    origin: (ctx: Context) => (isCorsOrigin(ctx.get('origin'), settings) ? (wildcard && !credentials ? '*' : ctx.get('origin')) : ''),
    credentials,
    maxAge: settings.maxAgeSec ?? CORS_DEFAULTS.maxAgeSec,
    allowMethods: ['GET', 'POST', 'DELETE'],
    exposeHeaders: EXPOSED_HEADERS,
  });
  return async (ctx, next) => {
    await handle(ctx, next);
    // A preflight @koa/cors answered: allow only the requested headers that MCP clients send.
    if (ctx.method === 'OPTIONS' && ctx.status === 204 && ctx.response.get('access-control-allow-origin')) {
      const allowed = allowedRequestHeaders(ctx.get('access-control-request-headers'));
      if (allowed.length) ctx.set('Access-Control-Allow-Headers', allowed.join(', '));
      else ctx.remove('Access-Control-Allow-Headers');
    }
  };
}

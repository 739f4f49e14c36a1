/**
 * Authentication at the HTTP face, as the MCP authorization spec asks of a resource server:
 * a request without valid credentials gets `401` with `WWW-Authenticate: Bearer ...` (RFC 6750),
 * naming the protected resource metadata (RFC 9728) that tells the client where to get a token;
 * that document is served at `/.well-known/oauth-protected-resource/mcp` (and at the root
 * well-known path, for clients that look there).
 */
import type { ParameterizedContext } from 'koa';
import type { ServerResponse } from 'node:http';
import type { Authenticator, Outcome } from '../auth/authenticator.ts';
import { sendRpcError } from './json.ts';

export const METADATA_PATHS = ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource'];

export type Refusal = Extract<Outcome, { ok: false }>;

/** The public URL of `/mcp`: configured (`auth.resource`), or as this request reached the proxy. */
export function resourceUrl(auth: Authenticator, ctx: Pick<ParameterizedContext, 'protocol' | 'host'>): string {
  return auth.settings?.resource ?? `${ctx.protocol}://${ctx.host}/mcp`;
}

/** The RFC 9728 document, or undefined when the proxy takes no OAuth tokens (static tokens alone have no authorization server). */
export function protectedResourceMetadata(auth: Authenticator, resource: string): Record<string, unknown> | undefined {
  if (!auth.usesOAuth) return undefined;
  const jwt = auth.settings!.jwt!;
  const issuers = Array.isArray(jwt.issuer) ? jwt.issuer : [jwt.issuer];
  const scopes = auth.scopesSupported;
  return {
    resource,
    authorization_servers: auth.settings!.authorizationServers ?? issuers,
    bearer_methods_supported: ['header'],
    ...(scopes.length && { scopes_supported: scopes }),
    resource_name: 'mcp-switchboard',
  };
}

/** Answers a request whose credentials were refused: the status, the challenge, and a JSON-RPC error saying why. */
export function refuse(res: ServerResponse, auth: Authenticator, resource: string, refusal: Refusal): void {
  const { status, message, headers } = refusalAnswer(auth, resource, refusal);
  sendRpcError(res, status, -32000, message, null, headers);
}

/** What a refused request is answered, whatever the route: the status, a message saying why, and the challenge (or Retry-After). */
export function refusalAnswer(auth: Authenticator, resource: string, refusal: Refusal): { status: number; message: string; headers: Record<string, string> } {
  if (refusal.status === 503) return { status: 503, message: `Service Unavailable: ${refusal.description}`, headers: { 'Retry-After': '5' } };
  const challenge = [`realm="mcp-switchboard"`];
  if (refusal.error) challenge.push(`error="${refusal.error}"`, `error_description="${quoted(refusal.description)}"`);
  if (refusal.error === 'insufficient_scope' && auth.scopesSupported.length) challenge.push(`scope="${quoted(auth.scopesSupported.join(' '))}"`);
  if (auth.usesOAuth) challenge.push(`resource_metadata="${metadataUrl(resource)}"`);
  const word = refusal.status === 401 ? 'Unauthorized' : 'Forbidden';
  return { status: refusal.status, message: `${word}: ${refusal.description}`, headers: { 'WWW-Authenticate': `Bearer ${challenge.join(', ')}` } };
}

/**
 * Where the RFC 9728 document of `resource` is: its path under `/.well-known/oauth-protected-resource`,
 * as the SDK v2's `getOAuthProtectedResourceMetadataUrl` says (test/auth.test.ts holds the two
 * together), without loading the SDK v2 for one URL.
 */
export function metadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname.length > 1 && url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
  url.pathname = `/.well-known/oauth-protected-resource${path === '/' ? '' : path}`;
  url.hash = '';
  return url.href;
}

/** A quoted-string's content: printable ASCII, with `"` and `\` escaped. */
function quoted(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&');
}

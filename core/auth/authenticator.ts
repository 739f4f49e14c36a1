/**
 * Inbound authentication: who is calling, from the request's `Authorization: Bearer` header.
 * A static token (API key) or a JWT from an OAuth authorization server; what answer a request
 * without valid credentials gets (RFC 6750 error codes, mapped to HTTP by http/auth.ts).
 */
import { ANONYMOUS, type Principal } from './principal.ts';
import { StaticTokens, type TokenEntry } from './tokens.ts';
import { CannotVerify, InvalidToken, JwtVerifier, type JwtSettings } from './jwt.ts';

export type { TokenEntry } from './tokens.ts';
export type { JwtSettings } from './jwt.ts';

/** `auth` in the config: `"none"` (explicitly open), or how callers prove who they are. */
export type AuthSettings =
  | 'none'
  | {
      tokens?: TokenEntry[];
      jwt?: JwtSettings;
      /** The public URL of `/mcp` (RFC 9728 `resource`); by default taken from each request's Host. */
      resource?: string;
      /** Where clients get tokens (RFC 9728 `authorization_servers`); default the JWT issuer(s). */
      authorizationServers?: string[];
    };

export type Outcome =
  | { ok: true; principal: Principal }
  | {
      ok: false;
      /** 401: no or bad credentials; 403: valid, but opens no plugin; 503: the credentials cannot be checked now. */
      status: 401 | 403 | 503;
      /** RFC 6750 error code; none when no credentials were sent at all. */
      error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
      description: string;
    };

export class Authenticator {
  /** `off`: no `auth` configured (open, with a warning off loopback); `none`: open on purpose; `on`: credentials required. */
  readonly mode: 'off' | 'none' | 'on';
  readonly settings: Exclude<AuthSettings, 'none'> | undefined;
  readonly #tokens: StaticTokens;
  readonly #jwt?: JwtVerifier;

  constructor(settings: AuthSettings | undefined) {
    this.mode = settings === undefined ? 'off' : settings === 'none' ? 'none' : 'on';
    this.settings = typeof settings === 'object' ? settings : undefined;
    this.#tokens = new StaticTokens(this.settings?.tokens ?? []);
    this.#jwt = this.settings?.jwt ? new JwtVerifier(this.settings.jwt) : undefined;
  }

  /** Whether JWTs are accepted (so clients are told where to get one: RFC 9728). */
  get usesOAuth(): boolean {
    return this.#jwt !== undefined;
  }

  /** What the protected resource metadata lists as `scopes_supported`. */
  get scopesSupported(): string[] {
    return this.#jwt?.scopesSupported ?? [];
  }

  /** How callers are checked, in a few words (/readyz, the start-up log). */
  describe(): string {
    if (this.mode !== 'on') return this.mode === 'none' ? 'none (auth: "none")' : 'none (not configured)';
    const ways = [this.#tokens.size ? `${this.#tokens.size} static token(s)` : '', this.#jwt ? `JWTs from ${this.settings!.jwt!.jwksUrl}` : ''].filter(Boolean);
    return `bearer: ${ways.join(' and ')}`;
  }

  async authenticate(authorization: string | undefined): Promise<Outcome> {
    if (this.mode !== 'on') return { ok: true, principal: ANONYMOUS };
    if (!authorization) return { ok: false, status: 401, description: 'this proxy requires a bearer token (Authorization: Bearer <token>)' };
    const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization);
    if (!match) return { ok: false, status: 401, error: 'invalid_request', description: 'the Authorization header must be "Bearer <token>"' };
    const token = match[1]!;
    const known = this.#tokens.match(token);
    if (known) return { ok: true, principal: known };
    if (!this.#jwt || !JwtVerifier.looksLikeJwt(token)) return { ok: false, status: 401, error: 'invalid_token', description: 'the token is not valid' };
    try {
      const principal = await this.#jwt.verify(token);
      if (principal.plugins?.length === 0) {
        return { ok: false, status: 403, error: 'insufficient_scope', description: `the token grants none of the scopes this proxy knows (${this.scopesSupported.join(', ')})` };
      }
      return { ok: true, principal };
    } catch (error) {
      if (error instanceof InvalidToken) return { ok: false, status: 401, error: 'invalid_token', description: error.message };
      if (error instanceof CannotVerify) return { ok: false, status: 503, description: `the token cannot be checked now: ${error.message}` };
      throw error;
    }
  }
}

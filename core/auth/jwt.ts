/**
 * JWT access tokens, checked as an OAuth 2.1 resource server does: the signature against the
 * authorization server's JWKS (fetched, cached, fetched again when a token names a key id it
 * has not seen: key rotation), then issuer, audience and expiry (with a clock tolerance). jose
 * does the cryptography.
 *
 * What a token may use: its `scope` claim (space-separated) or `scp` (a list), mapped to plugin
 * prefixes by `scopes`; without a `scopes` map, every plugin.
 *
 * jose is imported on the first token, not at start-up: most proxies never see a JWT, and its
 * import is a noticeable part of start-up time.
 */
import type { JWTPayload, createRemoteJWKSet } from 'jose';
import { principal, type Principal } from './principal.ts';

export interface JwtSettings {
  jwksUrl: string;
  issuer: string | string[];
  audience: string | string[];
  /** Seconds of clock difference tolerated for `exp`, `nbf` and `iat`. */
  clockToleranceSec?: number;
  /** The claim that names the caller (default `sub`). */
  principalClaim?: string;
  /** Scope -> plugin prefixes (globs) it opens. Without it, a valid token may use every plugin. */
  scopes?: Record<string, readonly string[]>;
  /** Accepted signature algorithms (default: those of the JWKS keys). */
  algorithms?: string[];
  /** After fetching the JWKS, how long an unknown key id waits before the JWKS is fetched again. */
  jwksCooldownMs?: number;
}

/** Why a token was refused, in words for the client (RFC 6750 `error_description`). */
export class InvalidToken extends Error {}
/** The token could not be checked (the JWKS did not answer): not the caller's fault. */
export class CannotVerify extends Error {}

export class JwtVerifier {
  readonly #settings: JwtSettings;
  /** jose and the JWKS it fetches and caches, made on the first token. */
  #jose?: Promise<{ jose: typeof import('jose'); keys: ReturnType<typeof createRemoteJWKSet> }>;
  /** Principals' matchers by granted scope set (tokens repeat the same few). */
  readonly #byScopes = new Map<string, readonly string[] | undefined>();

  constructor(settings: JwtSettings) {
    this.#settings = settings;
  }

  /** The scopes the configuration knows (RFC 9728 `scopes_supported`). */
  get scopesSupported(): string[] {
    return Object.keys(this.#settings.scopes ?? {});
  }

  /** Whether `token` looks like a JWT (three base64url parts), so it is worth verifying as one. */
  static looksLikeJwt(token: string): boolean {
    return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
  }

  /** The caller the token stands for; throws InvalidToken or CannotVerify. */
  async verify(token: string): Promise<Principal> {
    const { issuer, audience, clockToleranceSec = 30, algorithms } = this.#settings;
    const { jose, keys } = await (this.#jose ??= import('jose').then((jose) => ({
      jose,
      keys: jose.createRemoteJWKSet(new URL(this.#settings.jwksUrl), { cooldownDuration: this.#settings.jwksCooldownMs ?? 30_000, timeoutDuration: 5000 }),
    })));
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, keys, { issuer, audience, clockTolerance: clockToleranceSec, algorithms, requiredClaims: ['exp'] }));
    } catch (error) {
      throw describe(error, jose.errors, this.#settings);
    }
    const claim = this.#settings.principalClaim ?? 'sub';
    const id = payload[claim];
    if (typeof id !== 'string' || id === '') throw new InvalidToken(`the token has no "${claim}" claim to name the caller`);
    return principal(id, 'jwt', this.#pluginsFor(grantedScopes(payload)));
  }

  /** The prefix globs the granted scopes open (undefined: every plugin, when no scopes map is configured). */
  #pluginsFor(granted: string[]): readonly string[] | undefined {
    const map = this.#settings.scopes;
    if (!map) return undefined;
    const key = [...granted].sort().join(' ');
    if (this.#byScopes.has(key)) return this.#byScopes.get(key);
    const globs = [...new Set(granted.flatMap((scope) => map[scope] ?? []))];
    if (this.#byScopes.size >= 256) this.#byScopes.delete(this.#byScopes.keys().next().value!);
    this.#byScopes.set(key, globs);
    return globs;
  }
}

function grantedScopes(payload: JWTPayload): string[] {
  if (typeof payload.scope === 'string') return payload.scope.split(' ').filter(Boolean);
  if (Array.isArray(payload.scp)) return payload.scp.filter((s): s is string => typeof s === 'string');
  if (typeof payload.scp === 'string') return payload.scp.split(' ').filter(Boolean);
  return [];
}

/** jose's errors, in words a client can act on. */
function describe(error: unknown, errors: typeof import('jose').errors, settings: JwtSettings): Error {
  const list = (value: string | string[]) => (Array.isArray(value) ? value.join(' or ') : value);
  if (error instanceof errors.JWTExpired) return new InvalidToken('the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return new InvalidToken(`the token is not meant for this proxy (audience must be ${list(settings.audience)})`);
    if (error.claim === 'iss') return new InvalidToken(`the token was not issued by ${list(settings.issuer)}`);
    if (error.claim === 'nbf') return new InvalidToken('the token is not valid yet');
    if (error.reason === 'missing') return new InvalidToken(`the token has no "${error.claim}" claim`);
    return new InvalidToken(`the token's "${error.claim}" claim is not valid`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) return new InvalidToken('the token is signed with a key the authorization server does not publish');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new InvalidToken('the token signature is not valid');
  if (error instanceof errors.JOSEAlgNotAllowed) return new InvalidToken('the token is signed with an algorithm that is not accepted');
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return new InvalidToken('the token is not a well-formed JWT');
  if (error instanceof errors.JWKSTimeout) return new CannotVerify(`the JWKS at ${settings.jwksUrl} did not answer in time`);
  if (error instanceof errors.JWKSInvalid) return new CannotVerify(`the JWKS at ${settings.jwksUrl} is not a valid key set`);
  if (error instanceof errors.JOSEError) return new InvalidToken(`the token cannot be verified (${error.code})`);
  return new CannotVerify(`the JWKS at ${settings.jwksUrl} cannot be fetched: ${error instanceof Error ? error.message : String(error)}`);
}

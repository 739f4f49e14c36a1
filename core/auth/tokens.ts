/**
 * Static bearer tokens (API keys) from the config (`auth.tokens`) or the environment
 * (`SWITCHBOARD_AUTH_TOKENS`). Compared in constant time: both sides are hashed to the same
 * length first, so neither the length nor the content of a configured token leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { principal, type Principal } from './principal.ts';

export interface TokenEntry {
  token: string;
  /** Who the token stands for (logs, /readyz, rate limits); default `token-<n>`. */
  name?: string;
  /** Plugin prefixes (globs) it may use; default every plugin. */
  plugins?: readonly string[];
}

export class StaticTokens {
  readonly #entries: Array<{ digest: Buffer; principal: Principal }>;

  constructor(entries: readonly TokenEntry[]) {
    this.#entries = entries.map((entry, i) => ({ digest: digest(entry.token), principal: principal(entry.name ?? `token-${i + 1}`, 'token', entry.plugins) }));
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The principal a presented token stands for, or undefined. Every entry is compared, whatever matches. */
  match(presented: string): Principal | undefined {
    const candidate = digest(presented);
    let found: Principal | undefined;
    for (const entry of this.#entries) {
      if (timingSafeEqual(entry.digest, candidate) && !found) found = entry.principal;
    }
    return found;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

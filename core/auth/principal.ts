/**
 * Who is calling, once the proxy has checked their credentials, and which plugins they may
 * see and call. A caller never sees what it may not call: lists, `server/discover`,
 * capabilities and routing all ask `mayUse`.
 */
import picomatch from 'picomatch';

export interface Principal {
  /** Who: a token's name, a JWT's subject, or `anonymous` when authentication is off. */
  readonly id: string;
  /** How the caller was recognized. */
  readonly via: 'token' | 'jwt' | 'none';
  /** The plugin prefixes (globs) it may use, as configured; undefined: every plugin. */
  readonly plugins?: readonly string[];
  /** Whether it may see and call the plugin mounted at `prefix`. */
  mayUse(prefix: string): boolean;
}

/** The caller when authentication is off: may use everything. */
export const ANONYMOUS: Principal = principal('anonymous', 'none');

/**
 * A principal that may use the plugins whose prefix matches one of `plugins` (globs: `github`,
 * `git*`, `*`); undefined: every plugin. The plugin mounted without a prefix is named `""`, and
 * `*` matches it too.
 */
export function principal(id: string, via: Principal['via'], plugins?: readonly string[]): Principal {
  return Object.freeze({ id, via, plugins, mayUse: plugins === undefined ? () => true : prefixMatcher(plugins) });
}

/** A matcher for prefix globs, compiled once. */
export function prefixMatcher(globs: readonly string[]): (prefix: string) => boolean {
  const all = globs.includes('*');
  const empty = globs.includes('');
  const patterns = globs.filter((glob) => glob !== '');
  const match = patterns.length ? picomatch(patterns, { dot: true }) : () => false;
  return (prefix) => (prefix === '' ? all || empty : match(prefix));
}

/**
 * Headers a remote plugin's backend gets besides the transport's own: the client request headers
 * its policy forwards (`forwardHeaders`), and static ones (`headers`, over the manifest's
 * `remote.headers`).
 *
 * Some headers are never forwarded or set, whatever a config says: hop-by-hop headers, the
 * ones the HTTP client and the MCP transport write themselves, and MCP's own protocol headers
 * (a client's session id or protocol version means nothing to another server). `Authorization`
 * and `Cookie` are forwarded only when listed by name, never through a wildcard: the proxy's
 * own inbound credentials must not reach a backend unless a plugin asks for them.
 */
import type { InboundHeaders } from '../scope.ts';
import { globMatcher } from '../catalog/policy.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
const TRANSPORT = new Set(['host', 'content-length', 'content-type', 'accept', 'last-event-id']);
const BY_NAME_ONLY = new Set(['authorization', 'cookie']);

/** Why the header `name` may never be forwarded to or set on a backend request, or undefined if it may. */
export function neverForwarded(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (HOP_BY_HOP.has(lower) || lower.startsWith('proxy-')) return 'a hop-by-hop header';
  if (TRANSPORT.has(lower)) return 'the proxy writes it for each backend request';
  if (lower.startsWith('mcp-')) return "one of MCP's protocol headers, which the proxy writes for each backend";
  return undefined;
}

/** Whether a `forwardHeaders` entry is a pattern (`x-tenant-*`) rather than a name. */
export function isPattern(entry: string): boolean {
  return /[*?]/.test(entry);
}

/** Which of a client request's headers go on to one plugin's backend. */
export class HeaderForwarding {
  readonly #names: ReadonlySet<string>;
  readonly #pattern?: (name: string) => boolean;

  /** `entries`: header names and patterns, in any case. Names that are never forwarded are left out. */
  constructor(entries: readonly string[] = []) {
    const names = entries.filter((entry) => !isPattern(entry)).map((entry) => entry.toLowerCase());
    this.#names = new Set(names.filter((name) => neverForwarded(name) === undefined));
    const patterns = entries.filter(isPattern).map((entry) => entry.toLowerCase());
    if (patterns.length) this.#pattern = globMatcher(patterns);
  }

  /** Whether nothing is forwarded. */
  get none(): boolean {
    return this.#names.size === 0 && !this.#pattern;
  }

  /** The headers of `inbound` (names in lower case, as Node gives them) to forward, or undefined if none. */
  pick(inbound: InboundHeaders | undefined): Record<string, string> | undefined {
    if (!inbound || this.none) return undefined;
    let picked: Record<string, string> | undefined;
    for (const [raw, value] of Object.entries(inbound)) {
      if (value === undefined) continue;
      const name = raw.toLowerCase();
      const listed = this.#names.has(name) || (!BY_NAME_ONLY.has(name) && neverForwarded(name) === undefined && this.#pattern?.(name) === true);
      if (listed) (picked ??= {})[name] = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : value;
    }
    return picked;
  }
}

/** Header sets merged in order, later ones winning, names compared without case (kept as the winner spells them). */
export function mergeHeaders(...sets: ReadonlyArray<Readonly<Record<string, string>> | undefined>): Record<string, string> {
  const merged = new Map<string, [string, string]>();
  for (const set of sets) for (const [name, value] of Object.entries(set ?? {})) merged.set(name.toLowerCase(), [name, value]);
  return Object.fromEntries(merged.values());
}

/**
 * Namespacing: how a plugin's names and URIs look to clients, and back.
 *
 * - Tools and prompts: `prefix_name` (FastMCP's convention); a plugin's policy may rename an
 *   item first (`name` -> `newname`, then `prefix_newname`).
 * - Resources and templates: `scheme://prefix/rest` for URIs with an authority part
 *   (`resource://data` -> `resource://example/data`, `file:///a` -> `file://example//a`), and
 *   `scheme:prefix/rest` for URIs without one (`urn:isbn:1` -> `urn:example/isbn:1`).
 *   Both forms are reversible for every URI, query and fragment included.
 * - A plugin mounted with the empty prefix passes names and URIs through unchanged.
 *
 * Everything here is pure except the Namespace's memory of names it made safe.
 */
import { createHash } from 'node:crypto';

/** What many clients (Claude, OpenAI function calling) accept as a tool name. */
export const SAFE_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_NAME = 64;
const HASH_LENGTH = 8;

/** `prefix_name`, or the name itself for the empty prefix. */
export function joinName(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}_${name}`;
}

/**
 * A name every client accepts, derived deterministically from `name`:
 * unchanged when it already matches SAFE_NAME; otherwise every character outside
 * `[a-zA-Z0-9_-]` becomes `_`, the result is cut to 55 characters, and `_` plus the first
 * 8 hex digits of the SHA-256 of the full original name is appended, so two different
 * names never end up the same.
 */
export function safeName(name: string): string {
  if (SAFE_NAME.test(name)) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, HASH_LENGTH);
  const body = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, MAX_NAME - HASH_LENGTH - 1);
  return `${body}_${hash}`;
}

const URI = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s;

/** Splits a URI into scheme and the rest after the colon, or undefined if it has no scheme. */
function splitUri(uri: string): { scheme: string; rest: string } | undefined {
  const match = URI.exec(uri);
  return match ? { scheme: match[1]!, rest: match[2]! } : undefined;
}

/** The URI as a client sees it. Throws for a string that is not a URI (it has no scheme). */
export function prefixUri(uri: string, prefix: string): string {
  if (prefix === '') return uri;
  const parts = splitUri(uri);
  if (!parts) throw new TypeError(`not a URI (no scheme): ${JSON.stringify(uri)}`);
  const { scheme, rest } = parts;
  if (rest.startsWith('//')) return `${scheme}://${prefix}/${rest.slice(2)}`;
  return `${scheme}:${prefix}/${rest}`;
}

/** The backend's own URI for a URI a client sent, or undefined if it is not under `prefix`. */
export function unprefixUri(uri: string, prefix: string): string | undefined {
  if (prefix === '') return uri;
  const parts = splitUri(uri);
  if (!parts) return undefined;
  const { scheme, rest } = parts;
  const hierarchical = rest.startsWith('//');
  const body = hierarchical ? rest.slice(2) : rest;
  if (!body.startsWith(`${prefix}/`)) return undefined;
  const original = body.slice(prefix.length + 1);
  // `scheme:prefix///x` is not how `scheme://x` is spelled (that is `scheme://prefix/x`): one spelling per URI.
  if (!hierarchical && original.startsWith('//')) return undefined;
  return hierarchical ? `${scheme}://${original}` : `${scheme}:${original}`;
}

/** The prefix segment of a client-side URI (`scheme://PREFIX/...` or `scheme:PREFIX/...`). */
export function uriPrefixOf(uri: string): string | undefined {
  const parts = splitUri(uri);
  if (!parts) return undefined;
  const body = parts.rest.startsWith('//') ? parts.rest.slice(2) : parts.rest;
  const slash = body.indexOf('/');
  return slash > 0 ? body.slice(0, slash) : undefined;
}

/**
 * A resource template as a client sees it (RFC 6570 `{var}` parts are kept as they are).
 * Undefined when the scheme itself is templated: such a template cannot be namespaced.
 */
export function prefixUriTemplate(template: string, prefix: string): string | undefined {
  if (prefix === '') return template;
  const parts = splitUri(template);
  if (!parts) return undefined;
  return prefixUri(template, prefix);
}

/** The kinds of item that have names (tools and prompts); each has its own renames. */
export type NamedKind = 'tools' | 'prompts';

/**
 * One plugin's namespace. Tools and prompts may be renamed by the plugin's policy (backend
 * name -> new name, per kind), before the prefix is put on; a renamed item answers to its new
 * name only. The namespace also remembers the names it had to make safe, so a client calling a
 * made-safe name reaches the original.
 */
export class Namespace {
  readonly prefix: string;
  readonly #renames: Record<NamedKind, ReadonlyMap<string, string>>;
  /** Per kind: new name -> backend name. */
  readonly #renamedFrom: Record<NamedKind, ReadonlyMap<string, string>>;
  /** Per kind: made-safe client-side name -> backend name. */
  readonly #madeSafe: Record<NamedKind, Map<string, string>> = { tools: new Map(), prompts: new Map() };
  readonly #onRename: (original: string, exposed: string) => void;

  constructor(
    prefix: string,
    onRename: (original: string, exposed: string) => void = () => {},
    renames: Partial<Record<NamedKind, Readonly<Record<string, string>>>> = {},
  ) {
    this.prefix = prefix;
    this.#onRename = onRename;
    const tools = new Map(Object.entries(renames.tools ?? {}));
    const prompts = new Map(Object.entries(renames.prompts ?? {}));
    this.#renames = { tools, prompts };
    this.#renamedFrom = { tools: reverse(tools), prompts: reverse(prompts) };
  }

  /** The name a client sees for the backend's tool or prompt `name`. */
  exposeName(name: string, kind: NamedKind = 'tools'): string {
    const joined = joinName(this.prefix, this.#renames[kind].get(name) ?? name);
    const exposed = safeName(joined);
    if (exposed !== joined && this.#madeSafe[kind].get(exposed) !== name) {
      this.#madeSafe[kind].set(exposed, name);
      this.#onRename(joined, exposed);
    }
    return exposed;
  }

  /** Whether `exposed` is a name this namespace had to make safe. */
  isRenamed(exposed: string, kind: NamedKind = 'tools'): boolean {
    return this.#madeSafe[kind].has(exposed);
  }

  /**
   * The backend's name for a client-side name, or undefined if the name is not in this
   * namespace. A renamed item's old name is not: only its new name leads to it.
   */
  originalName(exposed: string, kind: NamedKind = 'tools'): string | undefined {
    const safe = this.#madeSafe[kind].get(exposed);
    if (safe !== undefined) return safe;
    let shown: string;
    if (this.prefix === '') shown = exposed;
    else if (exposed.startsWith(`${this.prefix}_`)) shown = exposed.slice(this.prefix.length + 1);
    else return undefined;
    const original = this.#renamedFrom[kind].get(shown) ?? shown;
    const renamed = this.#renames[kind].get(original);
    return renamed === undefined || renamed === shown ? original : undefined;
  }

  exposeUri(uri: string): string {
    return prefixUri(uri, this.prefix);
  }

  originalUri(uri: string): string | undefined {
    return unprefixUri(uri, this.prefix);
  }

  exposeUriTemplate(template: string): string | undefined {
    return prefixUriTemplate(template, this.prefix);
  }
}

function reverse(map: ReadonlyMap<string, string>): Map<string, string> {
  const reversed = new Map<string, string>();
  for (const [from, to] of map) if (!reversed.has(to)) reversed.set(to, from);
  return reversed;
}

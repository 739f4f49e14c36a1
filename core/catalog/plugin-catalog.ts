/**
 * One mounted plugin's lists (tools, prompts, resources, templates) as the proxy last fetched
 * them, shared by every client session that would get the same lists.
 *
 * A backend may offer different lists to different clients (server-everything registers its
 * sampling tool only for clients that declare sampling), so lists are kept per *audience*: the
 * client capabilities a backend session is opened with. The first session of an audience
 * fetches a list through its own backend session; every later session of that audience gets the
 * same array, a reference and not a copy, without opening a backend session to list. Identical
 * lists are interned by content across audiences, so 200 sessions of a 5,000-tool plugin hold
 * one list.
 *
 * The plugin's policy (policy.ts) is applied once to each list as it is fetched: what is shared is
 * what clients of the plugin may see.
 *
 * `invalidate` (the plugin announced a change) drops the lists; the last good list of each kind
 * survives it, so a plugin that stops answering can still be listed from what it last said.
 */
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { ListPolicy } from './policy.ts';

export type ListKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';
export type ListItem = Record<string, unknown>;
export const LIST_KINDS: readonly ListKind[] = ['tools', 'prompts', 'resources', 'resourceTemplates'];

/** Distinct contents kept per kind for interning (audiences rarely differ more). */
const MAX_INTERNED = 8;

export class PluginCatalog {
  readonly #lists = new Map<string, Promise<ListItem[]>>();
  readonly #interned = new Map<ListKind, Map<string, ListItem[]>>();
  readonly #lastGood = new Map<ListKind, ListItem[]>();
  /** Bumped by invalidate: a fetch that started before it does not become the last good list. */
  #generation = 0;
  readonly #policy: ListPolicy;

  constructor(policy: ListPolicy = new ListPolicy()) {
    this.#policy = policy;
  }

  /**
   * The list of `kind` for `audience`: the shared one, or the one `fetch` gets (once, however
   * many sessions ask at the same time). A failed fetch is forgotten, so the next asker tries again.
   */
  get(audience: string, kind: ListKind, fetch: () => Promise<ListItem[]>): Promise<ListItem[]> {
    const key = `${kind}\u0000${audience}`;
    let listing = this.#lists.get(key);
    if (!listing) {
      const generation = this.#generation;
      listing = fetch().then((items) => {
        const shared = this.share(kind, items);
        if (generation === this.#generation || !this.#lastGood.has(kind)) this.#lastGood.set(kind, shared);
        return shared;
      });
      this.#lists.set(key, listing);
      const settled = listing;
      settled.catch(() => {
        if (this.#lists.get(key) === settled) this.#lists.delete(key);
      });
    }
    return listing;
  }

  /** A list as the backend gave it, made what clients see (the policy applied) and shared (interned). */
  share(kind: ListKind, items: ListItem[]): ListItem[] {
    return this.intern(kind, this.#policy.apply(kind, items));
  }

  /** The shared array with the same content as `items`, or `items` itself, now shared. Shared arrays must not be modified. */
  intern(kind: ListKind, items: ListItem[]): ListItem[] {
    let contents = this.#interned.get(kind);
    if (!contents) this.#interned.set(kind, (contents = new Map()));
    const key = JSON.stringify(items);
    const shared = contents.get(key);
    if (shared) return shared;
    if (contents.size >= MAX_INTERNED) contents.delete(contents.keys().next().value!);
    contents.set(key, items);
    return items;
  }

  /** The list of `kind` the plugin last gave successfully (to any audience), if any. */
  lastGood(kind: ListKind): ListItem[] | undefined {
    return this.#lastGood.get(kind);
  }

  /** Forgets the lists of these kinds (all by default): the next asker fetches afresh. */
  invalidate(kinds: readonly ListKind[] = ['tools', 'prompts', 'resources', 'resourceTemplates']): void {
    this.#generation++;
    for (const key of [...this.#lists.keys()]) {
      if (kinds.some((kind) => key.startsWith(`${kind}\u0000`))) this.#lists.delete(key);
    }
  }
}

/**
 * The audience a client belongs to: the era the backend is spoken to in, and the client's
 * capabilities as a canonical string (keys sorted at every level), so two clients that declare
 * the same things share lists (a backend that speaks both eras may list differently in each).
 */
export function audienceOf(capabilities: ClientCapabilities | undefined, era = '2025-11-25'): string {
  return `${era} ${canonical(capabilities ?? {})}`;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

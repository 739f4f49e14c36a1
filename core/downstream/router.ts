/**
 * The router: what a client sees of the mounted plugins (merged, namespaced, paged lists) and
 * which plugin and backend name a client's tool, prompt or URI stands for. One router serves
 * every client; the client's side (a session's own backend sessions) is passed in as `Backends`.
 *
 * Isolation: a merged list never waits long on one plugin. Each plugin's list has its own
 * deadline (`listTimeoutMs`); a plugin that misses it is `degraded`: it is served from its last
 * good lists, or left out of the answer if it has none, and it becomes `ready` again (clients get
 * `list_changed`) when its list arrives. A degraded plugin is not waited for at all.
 *
 * Access: a client sees, and reaches, only the plugins its principal may use; to it, the others
 * do not exist (their tools are unknown tools, their URIs not found).
 */
import type { Plugin } from '../plugins/plugin.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import type { BackendLink } from '../upstream/link.ts';
import type { ListItem, ListKind } from '../catalog/plugin-catalog.ts';
import { merge, page, type PluginItems } from '../catalog/catalog.ts';
import { RpcCodes, RpcError, messageOf } from '../errors.ts';
import type { Principal } from '../auth/principal.ts';
import { noteRoute } from '../observability/access-log.ts';

/** The client's side: who it is, and its backend sessions, one per plugin, opened when first used. */
export interface Backends {
  readonly principal: Principal;
  backend(plugin: Plugin): BackendLink;
}

export interface RouterOptions {
  registry: PluginRegistry;
  /** Items per page of merged lists (0: no paging). */
  pageSize: number;
  /** How long a merged list waits for each plugin's list. */
  listTimeoutMs: number;
}

type NamedKind = 'tools' | 'prompts';

/** Merged lists kept for reuse: sessions with the same plugin lists get the same merged array. */
const MAX_MERGED = 32;

export class Router {
  readonly #options: RouterOptions;
  readonly #merged = new Map<string, ListItem[]>();
  readonly #listIds = new WeakMap<ListItem[], number>();
  #nextListId = 1;
  /** Per shared list: client-side name -> backend name. */
  readonly #nameIndex = new WeakMap<ListItem[], Map<string, string>>();

  constructor(options: RouterOptions) {
    this.#options = options;
  }

  get pageSize(): number {
    return this.#options.pageSize;
  }

  /** Plugins in routing order (prefixed ones in mount order, the one without a prefix last): all, or those `viewer` may use. */
  plugins(viewer?: Principal): Plugin[] {
    const plugins = viewer ? this.#options.registry.list().filter((p) => viewer.mayUse(p.prefix)) : this.#options.registry.list();
    return [...plugins.filter((p) => p.prefix !== ''), ...plugins.filter((p) => p.prefix === '')];
  }

  /** One page of the merged list of `kind`, as the client sees it. */
  async list(kind: ListKind, cursor: unknown, backends: Backends): Promise<{ items: ListItem[]; nextCursor?: string }> {
    const lists = await Promise.all(this.plugins(backends.principal).map((plugin) => this.#listOf(plugin, kind, backends)));
    return page(this.#mergedList(kind, lists.filter((list) => list !== undefined)), cursor, this.#options.pageSize);
  }

  /** The plugin and backend name for a client-side tool or prompt name. */
  async routeName(kind: NamedKind, exposed: string, backends: Backends): Promise<{ backend: BackendLink; name: string }> {
    let fallback: { backend: BackendLink; name: string } | undefined;
    let unavailable: RpcError | undefined;
    for (const plugin of this.#options.registry.candidatesForName(exposed)) {
      if (!backends.principal.mayUse(plugin.prefix)) continue;
      if (!isServing(plugin)) {
        unavailable ??= notServing(plugin);
        continue;
      }
      const backend = backends.backend(plugin);
      const listed = await this.#listOf(plugin, kind, backends);
      if (listed) {
        const name = this.#names(plugin, kind, listed.items).get(exposed);
        if (name !== undefined) {
          noteRoute(plugin.prefix, name, true);
          return { backend, name };
        }
        continue; // the plugin's list says it has no such item
      }
      // Its list is not known (it did not answer in time): route by the name alone, unless the policy hides it.
      const name = plugin.namespace.originalName(exposed, kind);
      if (name !== undefined && plugin.policy.shows(kind, name)) fallback ??= { backend, name };
    }
    if (fallback) {
      noteRoute(fallback.backend.plugin.prefix, fallback.name, false);
      return fallback;
    }
    if (unavailable) throw unavailable;
    throw new RpcError(RpcCodes.InvalidParams, `Unknown ${kind === 'tools' ? 'tool' : 'prompt'}: ${exposed}`);
  }

  /** The tool a client-side name stands for, as the client is shown it; undefined if there is none. */
  async tool(exposed: string, backends: Backends): Promise<ListItem | undefined> {
    const route = await this.routeName('tools', exposed, backends).catch(() => undefined);
    if (!route) return undefined;
    const tools = await route.backend.list('tools').catch(() => []);
    return tools.find((item) => item.name === route.name);
  }

  /** The plugin and backend URI for a client-side resource URI (or URI template, in a completion ref). */
  routeUri(exposed: string, backends: Backends): { backend: BackendLink; uri: string } {
    let unavailable: RpcError | undefined;
    for (const plugin of this.#options.registry.candidatesForUri(exposed)) {
      const uri = plugin.namespace.originalUri(exposed);
      // A plugin that has no resources has none of this URI either; one its policy hides, or the caller may not use, is not there for them.
      if (uri === undefined || !offersResources(plugin) || !plugin.policy.shows('resources', uri) || !backends.principal.mayUse(plugin.prefix)) continue;
      if (!isServing(plugin)) {
        unavailable ??= notServing(plugin);
        continue;
      }
      noteRoute(plugin.prefix);
      return { backend: backends.backend(plugin), uri };
    }
    if (unavailable) throw unavailable;
    throw new RpcError(RpcCodes.ResourceNotFound, `Resource not found: ${exposed}`, { uri: exposed });
  }

  /** Whether some plugin `viewer` may use could have the resource `exposed` (it is under that plugin's prefix). */
  mayReach(exposed: string, viewer: Principal): boolean {
    return this.#options.registry.candidatesForUri(exposed).some((plugin) => viewer.mayUse(plugin.prefix) && plugin.namespace.originalUri(exposed) !== undefined);
  }

  /** One plugin's list for this client, within the plugin's deadline (see the top of this file). */
  async #listOf(plugin: Plugin, kind: ListKind, backends: Backends): Promise<PluginItems | undefined> {
    if (!isServing(plugin)) return undefined;
    const listing = backends.backend(plugin).list(kind);
    // Most calls find their list fetched already: no deadline timer for those.
    const known = fetched.get(listing);
    const deadline = plugin.state === 'degraded' ? 0 : this.#options.listTimeoutMs;
    const outcome: Outcome = known ? { status: 'listed', items: known } : await within(listing, deadline);
    if (outcome.status === 'listed') {
      fetched.set(listing, outcome.items);
      if (plugin.state === 'degraded') plugin.setState('ready');
      return { plugin, items: outcome.items };
    }
    if (outcome.status === 'failed') {
      plugin.reportOnce('warn', `listing ${kind} failed; the plugin is left out of this list: ${plugin.scrub(messageOf(outcome.error))}`);
      return undefined;
    }
    if (plugin.state === 'ready') {
      plugin.setState('degraded', `did not list ${kind} within ${this.#options.listTimeoutMs} ms (listTimeoutMs); served from its last good lists until it answers`);
    }
    // When the list arrives after all, the plugin is ready again (and clients re-list).
    listing.then(
      () => {
        if (plugin.state === 'degraded') plugin.setState('ready');
      },
      () => {},
    );
    const last = plugin.catalog.lastGood(kind);
    return last ? { plugin, items: last } : undefined;
  }

  /** The merged list for these plugin lists, computed once for every client that has the same ones. */
  #mergedList(kind: ListKind, lists: PluginItems[]): ListItem[] {
    const key = `${kind}:${lists.map(({ plugin, items }) => `${plugin.prefix}=${this.#idOf(items)}`).join(',')}`;
    let merged = this.#merged.get(key);
    if (merged) {
      // Most recently used last.
      this.#merged.delete(key);
      this.#merged.set(key, merged);
      return merged;
    }
    // An item left out of the list is a refusal: logged as an error, once.
    merged = merge(kind, lists, (plugin, message) => plugin.reportOnce('error', message));
    if (this.#merged.size >= MAX_MERGED) this.#merged.delete(this.#merged.keys().next().value!);
    this.#merged.set(key, merged);
    return merged;
  }

  #idOf(items: ListItem[]): number {
    let id = this.#listIds.get(items);
    if (id === undefined) this.#listIds.set(items, (id = this.#nextListId++));
    return id;
  }

  /** Client-side name -> backend name for one plugin list (built once per shared list). */
  #names(plugin: Plugin, kind: NamedKind, items: ListItem[]): Map<string, string> {
    let index = this.#nameIndex.get(items);
    if (!index) {
      index = new Map();
      // The first item of a name wins, as in the merged list the client was shown.
      for (const item of items) {
        if (typeof item.name !== 'string') continue;
        const exposed = plugin.namespace.exposeName(item.name, kind);
        if (!index.has(exposed)) index.set(exposed, item.name);
      }
      this.#nameIndex.set(items, index);
    }
    return index;
  }
}

function offersResources(plugin: Plugin): boolean {
  if (!plugin.info) return true; // not probed yet: let it answer
  return plugin.info.capabilities.resources !== undefined || plugin.sessionInfo?.capabilities.resources !== undefined;
}

/** Whether a plugin's backend is expected to answer (it is listed and routed to). */
function isServing(plugin: Plugin): boolean {
  return plugin.state === 'ready' || plugin.state === 'degraded';
}

function notServing(plugin: Plugin): RpcError {
  const reason = plugin.lastError?.startsWith(`${plugin.label}: `) ? plugin.lastError.slice(plugin.label.length + 2) : plugin.lastError;
  const why = plugin.state === 'loading' ? 'is still loading' : `is ${plugin.state}${reason ? `: ${reason}` : ''}`;
  return new RpcError(RpcCodes.InternalError, `${plugin.label} ${why}`, { plugin: plugin.prefix, state: plugin.state });
}

/** Lists already fetched, by the promise that fetched them (shared lists are the same promise for every session). */
const fetched = new WeakMap<Promise<ListItem[]>, ListItem[]>();

type Outcome = { status: 'listed'; items: ListItem[] } | { status: 'failed'; error: unknown } | { status: 'late' };

/** What `listing` came to within `ms` (an already settled listing counts even for 0 ms). */
async function within(listing: Promise<ListItem[]>, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'late' }), ms);
  });
  try {
    return await Promise.race([
      listing.then(
        (items): Outcome => ({ status: 'listed', items }),
        (error: unknown): Outcome => ({ status: 'failed', error }),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

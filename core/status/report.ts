/**
 * What the status page shows (`GET /status.json`): the proxy's version and uptime, its client
 * sessions, and each plugin source the caller may use, with its state (what `/readyz` shows) and,
 * once mounted, its tools, prompts, resources and templates as clients see them (namespaced, the
 * plugin's policy applied), and how many client requests reached it.
 *
 * Pure but for reading the state it is given: nothing here starts I/O. Lists come from each
 * plugin's catalog (the last good list, as its probe or a client fetched it), never from a new
 * request to a backend, so a slow plugin cannot slow the page.
 */
import type { Principal } from '../auth/principal.ts';
import type { PluginStatus } from '../plugins/lifecycle.ts';
import type { Plugin } from '../plugins/plugin.ts';
import type { PluginRegistry } from '../plugins/registry.ts';
import { merge } from '../catalog/catalog.ts';
import { LIST_KINDS, type ListItem, type ListKind } from '../catalog/plugin-catalog.ts';
import { pluginLabel } from '../observability/metrics.ts';

/**
 * Client requests counted so far (the counters behind `/metrics`): in all, and per plugin label
 * (its prefix, `(none)` for the plugin mounted without one; `""` for requests no one plugin answered).
 */
export interface RequestCounts {
  requestTotals(): Promise<{ total: number; byPlugin: Record<string, number> }>;
}

export interface StatusSources {
  version: string;
  /** When the proxy started (uptime is counted from it). */
  startedAt: Date;
  /** Every plugin source's state (Switchboard.statuses()). */
  statuses: () => PluginStatus[];
  registry: PluginRegistry;
  /** 2025-11-25 client sessions open now. */
  sessions: () => number;
  /** Client requests in progress now, of either era. */
  requestsInProgress: () => number;
  /** How the proxy checks callers, in a few words (Authenticator.describe()). */
  auth: () => string;
  /** Request counters; without them the report has no `requests` (nothing is made up). */
  metrics?: RequestCounts;
}

/** An item of a list as the page shows it: what identifies it, what describes it, and its schema. */
export type StatusItem = Record<string, unknown>;

export interface PluginReport extends PluginStatus {
  /** The server's own name and version, as it said when the proxy connected. */
  server?: { name: string; version: string };
  /**
   * Names the lists' current content (mounted plugins only): it changes when a list does, so the
   * page asks for the lists again only then.
   */
  listsTag?: string;
  /** Its lists as clients see them: mounted plugins only, and not in a report made without lists. */
  lists?: Record<ListKind, StatusItem[]>;
  /** Client requests routed to it so far (with request counters). */
  requests?: number;
}

export interface StatusReport {
  name: 'mcp-switchboard';
  version: string;
  startedAt: string;
  /** Seconds since start. */
  uptime: number;
  /** When this report was made (the page computes request rates between two reports). */
  time: string;
  auth: string;
  /** Who the report is for: it lists only the plugins this caller may use. */
  viewer: { id: string; plugins?: readonly string[] };
  sessions: {
    /** 2025-11-25 clients keep a session (`Mcp-Session-Id`). */
    '2025-11-25': number;
    /** 2026-07-28 clients are stateless: there are no sessions, only requests. */
    '2026-07-28': 'stateless';
    requestsInProgress: number;
  };
  /**
   * Client requests counted so far, by plugin prefix; `total` (requests to no one plugin, such as
   * merged lists, included) only for a caller who may use every plugin.
   */
  requests?: { total?: number; byPlugin: Record<string, number> };
  plugins: PluginReport[];
}

/** The fields of each kind of item worth showing (the rest, such as icons and `_meta`, are left out). */
const SHOWN: Record<ListKind, readonly string[]> = {
  tools: ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations'],
  prompts: ['name', 'title', 'description', 'arguments'],
  resources: ['uri', 'name', 'title', 'description', 'mimeType'],
  resourceTemplates: ['uriTemplate', 'name', 'title', 'description', 'mimeType'],
};

export interface ReportOptions {
  /** Whether to include the plugins' lists (default true); without them the report stays small whatever the plugins offer. */
  lists?: boolean;
  now?: Date;
}

/** The status as `viewer` may see it. */
export async function statusReport(sources: StatusSources, viewer: Principal, options: ReportOptions = {}): Promise<StatusReport> {
  const { lists = true, now = new Date() } = options;
  const visible = (prefix: string | undefined) => (prefix === undefined ? viewer.plugins === undefined : viewer.mayUse(prefix));
  const totals = sources.metrics ? await sources.metrics.requestTotals() : undefined;
  const plugins = sources
    .statuses()
    .filter((status) => visible(status.prefix))
    .map((status): PluginReport => {
      const plugin = status.prefix === undefined ? undefined : sources.registry.get(status.prefix);
      const mounted = plugin && plugin.source.display === status.source ? plugin : undefined;
      const server = mounted?.info?.serverInfo;
      return {
        ...status,
        ...(server && { server: { name: server.name, version: server.version } }),
        ...(mounted && { listsTag: listsTagOf(mounted) }),
        ...(mounted && lists && { lists: listsOf(mounted) }),
        ...(totals && mounted && { requests: totals.byPlugin[pluginLabel(mounted.prefix)] ?? 0 }),
      };
    });
  // By prefix, as the page names plugins; only those the caller may use.
  const byPlugin = totals && Object.fromEntries(plugins.filter((plugin) => plugin.requests !== undefined).map((plugin) => [plugin.prefix!, plugin.requests!]));
  return {
    name: 'mcp-switchboard',
    version: sources.version,
    startedAt: sources.startedAt.toISOString(),
    uptime: Math.max(0, Math.floor((now.getTime() - sources.startedAt.getTime()) / 1000)),
    time: now.toISOString(),
    auth: sources.auth(),
    viewer: { id: viewer.id, ...(viewer.plugins && { plugins: viewer.plugins }) },
    sessions: { '2025-11-25': sources.sessions(), '2026-07-28': 'stateless', requestsInProgress: sources.requestsInProgress() },
    ...(totals && byPlugin && { requests: { ...(viewer.plugins === undefined && { total: totals.total }), byPlugin } }),
    plugins,
  };
}

/**
 * A number for each list array a catalog hands out. Shared lists are replaced, never changed in
 * place, and equal contents share one array (plugin-catalog.ts), so a new number means new content.
 */
const listIds = new WeakMap<readonly ListItem[], number>();
let nextListId = 1;

function listId(items: readonly ListItem[] | undefined): number {
  if (!items) return 0;
  let id = listIds.get(items);
  if (id === undefined) listIds.set(items, (id = nextListId++));
  return id;
}

function listsTagOf(plugin: Plugin): string {
  return LIST_KINDS.map((kind) => listId(plugin.catalog.lastGood(kind))).join('.');
}

/** A mounted plugin's last good lists, named as clients see them. */
function listsOf(plugin: Plugin): Record<ListKind, StatusItem[]> {
  const lists = {} as Record<ListKind, StatusItem[]>;
  for (const kind of LIST_KINDS) {
    const items = plugin.catalog.lastGood(kind) ?? [];
    // Items that cannot be namespaced are left out here as they are for clients (and reported there).
    lists[kind] = merge(kind, [{ plugin, items }], () => {}).map((item) => pick(item, SHOWN[kind]));
  }
  return lists;
}

function pick(item: ListItem, fields: readonly string[]): StatusItem {
  return Object.fromEntries(fields.filter((field) => item[field] !== undefined).map((field) => [field, item[field]]));
}

/**
 * The proxy's own connection to a plugin: the probe that checks a backend works before (or just
 * after) it is mounted, and then stays open as the plugin's monitor.
 *
 * The probe connects as a client with no optional capabilities, learns the backend's
 * capabilities and instructions, lists everything (which fills the plugin's shared catalog for
 * clients that declare nothing) and fingerprints the lists, so a reload tells clients only what
 * changed. Kept open, it hears the backend's own `list_changed`: client sessions that listed from
 * the shared catalog, without a backend session of their own, would not hear it otherwise.
 *
 * The 2026 side (upstream/modern/, made of the SDK v2 client and server) is loaded only when a
 * backend is probed in that era: a proxy of 2025-era plugins never loads it.
 */
import type { Implementation } from '@modelcontextprotocol/sdk/types.js';
import { Backend, type BackendPeer, type ListKind } from '../upstream/legacy/backend.ts';
import { describeNetworkError } from '../upstream/fetch.ts';
import { isModernServer } from './server-sdk.ts';
import { LIST_KINDS, type ListItem } from '../catalog/plugin-catalog.ts';
import { redactUrl } from '../redact.ts';
import { RpcCodes, RpcError, SwitchboardError, messageOf } from '../errors.ts';
import { withTimeout } from './load.ts';
import { MODERN, type Plugin } from './plugin.ts';

/** What clients re-list after a change: the `list_changed` notifications to send. */
export type ListGroup = 'tools' | 'prompts' | 'resources';

/** Each list as JSON, to tell what changed between two probes. */
export type Fingerprints = Record<ListGroup, string>;

/** The probe's connection, kept open as the plugin's monitor. */
export interface Monitor {
  close(): Promise<void>;
}

export interface ProbeOptions {
  clientInfo: Implementation;
  timeoutMs: number;
  /** Aborting gives the probe up at once (the plugin was removed, or the proxy is closing). */
  signal?: AbortSignal;
  /** The backend announced that lists changed (for every client, as far as the proxy can tell). */
  onListChanged: (plugin: Plugin, kinds: ListKind[]) => void;
}

const GROUP_OF: Record<string, ListKind[]> = {
  'notifications/tools/list_changed': ['tools'],
  'notifications/prompts/list_changed': ['prompts'],
  'notifications/resources/list_changed': ['resources', 'resourceTemplates'],
};

/**
 * Probes `plugin`: finds the era it speaks (a remote plugin is asked `server/discover` first,
 * unless its manifest names the era), fills `plugin.info`, `plugin.counts` and its catalog, and
 * returns the open monitor with the fingerprints of its lists, or the failure (nothing left open).
 */
export async function probe(plugin: Plugin, options: ProbeOptions): Promise<{ monitor: Monitor; fingerprints: Fingerprints } | SwitchboardError> {
  const era = plugin.manifest.remote?.era ?? 'auto';
  if (plugin.kind === 'in-process' && (plugin.upstream || (await makesModernServer(plugin, options.timeoutMs)))) {
    return probeModern(plugin, options) as Promise<{ monitor: Monitor; fingerprints: Fingerprints } | SwitchboardError>;
  }
  if (plugin.kind === 'remote' && era !== '2025-11-25') {
    const modern = await probeModern(plugin, options);
    if (modern !== 'wrong era') return modern;
    if (era === MODERN) {
      return new SwitchboardError('SB_BACKEND_UNAVAILABLE', plugin.scrub(`${plugin.label}: ${redactUrl(plugin.manifest.remote!.url)} does not speak ${MODERN} (its manifest says era "${MODERN}"; it did not answer server/discover)`), {
        culprit: plugin.source.display,
      });
    }
  }
  return probeLegacy(plugin, options);
}

/** Whether an in-process plugin's factory makes SDK v2 servers (a failing or hanging factory is left to the 2025 probe to report). */
async function makesModernServer(plugin: Plugin, timeoutMs: number): Promise<boolean> {
  try {
    const server = await withTimeout(Promise.resolve(plugin.manifest.server!({ sessionId: 'probe', log: plugin.log })), timeoutMs, 'the factory did not return');
    const modern = await isModernServer(server);
    await server?.close?.().catch(() => {});
    return modern;
  } catch {
    return false;
  }
}

/** A 2026-era backend: its one stateless connection is kept as the plugin's upstream (and monitor). */
async function probeModern(plugin: Plugin, options: ProbeOptions): Promise<{ monitor: Monitor; fingerprints: Fingerprints } | SwitchboardError | 'wrong era'> {
  const { ModernUpstream, isWrongEra } = await import('../upstream/modern/upstream.ts');
  const local = plugin.kind === 'in-process' && !plugin.upstream ? (await import('../upstream/modern/in-process.ts')).inProcessFetch(plugin) : undefined;
  const upstream = plugin.upstream ?? new ModernUpstream(plugin, { clientInfo: options.clientInfo, onListChanged: options.onListChanged, ...(local && { fetch: local.fetch, onClose: local.close }) });
  const attempt = (async () => {
    const discovered = plugin.upstream ? await upstream.rediscover({ timeoutMs: options.timeoutMs, signal: options.signal }) : await upstream.connect({ timeoutMs: options.timeoutMs, signal: options.signal });
    plugin.info = discovered;
    plugin.era = MODERN;
    plugin.upstream = upstream;
    const link = upstream.link(monitorPeer(plugin, options));
    const lists = await Promise.all(LIST_KINDS.map((kind) => link.list(kind)));
    upstream.listen();
    if (plugin.kind === 'remote' && (plugin.manifest.remote?.era ?? 'auto') === 'auto') plugin.sessionsToo = await servesSessions(plugin, options);
    return fingerprint(plugin, lists);
  })();
  try {
    const fingerprints = await withTimeout(attempt, options.timeoutMs, `did not answer within ${options.timeoutMs} ms (loadTimeoutMs)`);
    return { monitor: upstream, fingerprints };
  } catch (error) {
    attempt.catch(() => {});
    if (plugin.upstream !== upstream) await upstream.close();
    if (isWrongEra(error)) return 'wrong era';
    const where = plugin.manifest.remote ? `cannot reach ${redactUrl(plugin.manifest.remote.url)}` : 'its SDK v2 server does not answer';
    return new SwitchboardError(plugin.kind === 'in-process' ? 'SB_PLUGIN_FACTORY' : 'SB_BACKEND_UNAVAILABLE', plugin.scrub(`${plugin.label}: ${where}: ${describeNetworkError(error)}`), {
      cause: error,
      culprit: plugin.source.display,
    });
  }
}

/**
 * Whether a 2026-era server also serves 2025 sessions (`initialize` answered with an
 * `Mcp-Session-Id`): then 2025 clients get sessions of their own there, with nothing to
 * translate. A server whose 2025 leg is stateless cannot send a client requests mid-call, so
 * 2025 clients are better served through translation from its 2026 leg.
 */
async function servesSessions(plugin: Plugin, options: ProbeOptions): Promise<boolean> {
  const backend = new Backend(plugin, monitorPeer(plugin, options));
  try {
    const { client } = await backend.connection();
    const sessions = typeof (client.transport as { sessionId?: unknown } | undefined)?.sessionId === 'string';
    if (sessions) plugin.sessionInfo = { capabilities: client.getServerCapabilities() ?? {}, serverInfo: client.getServerVersion(), instructions: client.getInstructions() };
    return sessions;
  } catch {
    return false;
  } finally {
    void backend.close();
  }
}

/** Lists as counts on the plugin, and as fingerprints to tell what changed between probes. */
function fingerprint(plugin: Plugin, [tools, prompts, resources, resourceTemplates]: ListItem[][]): Fingerprints {
  plugin.counts = { tools: tools!.length, prompts: prompts!.length, resources: resources!.length, resourceTemplates: resourceTemplates!.length };
  return { tools: JSON.stringify(tools), prompts: JSON.stringify(prompts), resources: JSON.stringify([resources, resourceTemplates]) };
}

/** A 2025-era backend: initialize; the probe's backend session is kept as the monitor. */
async function probeLegacy(plugin: Plugin, options: ProbeOptions): Promise<{ monitor: Monitor; fingerprints: Fingerprints } | SwitchboardError> {
  const monitor = new Backend(plugin, monitorPeer(plugin, options));
  const attempt = (async () => {
    const { client } = await monitor.connection();
    plugin.info = {
      capabilities: client.getServerCapabilities() ?? {},
      serverInfo: client.getServerVersion(),
      instructions: client.getInstructions(),
    };
    return fingerprint(plugin, await Promise.all(LIST_KINDS.map((kind) => monitor.list(kind))));
  })();
  const abandon = () => void monitor.close();
  options.signal?.addEventListener('abort', abandon, { once: true });
  try {
    if (options.signal?.aborted) throw new Error('given up');
    const fingerprints = await withTimeout(attempt, options.timeoutMs, `did not answer within ${options.timeoutMs} ms (loadTimeoutMs)`);
    if (options.signal?.aborted) throw new Error('given up');
    return { monitor, fingerprints };
  } catch (error) {
    void monitor.close();
    attempt.catch(() => {});
    if (error instanceof SwitchboardError) return error;
    return new SwitchboardError('SB_BACKEND_UNAVAILABLE', plugin.scrub(`${plugin.label}: ${messageOf(error)}`), { cause: error, culprit: plugin.source.display });
  } finally {
    options.signal?.removeEventListener('abort', abandon);
  }
}

/** The monitor's stand-in for a client session: declares nothing, answers no backend requests. */
function monitorPeer(plugin: Plugin, options: ProbeOptions): BackendPeer {
  return {
    id: 'probe',
    clientCapabilities: () => ({}),
    clientInfo: () => options.clientInfo,
    onBackendRequest: async () => {
      throw new RpcError(RpcCodes.MethodNotFound, 'the proxy checks the backend and answers no requests now');
    },
    onBackendNotification: async (_backend, notification) => {
      const kinds = GROUP_OF[notification.method];
      if (kinds) options.onListChanged(plugin, kinds);
    },
  };
}

export function groupsWithItems(counts: Plugin['counts']): ListGroup[] {
  if (!counts) return ['tools', 'prompts', 'resources'];
  const groups: ListGroup[] = [];
  if (counts.tools) groups.push('tools');
  if (counts.prompts) groups.push('prompts');
  if (counts.resources || counts.resourceTemplates) groups.push('resources');
  return groups;
}

export function groupsOf(kinds: readonly ListKind[]): ListGroup[] {
  return [...new Set(kinds.map((kind): ListGroup => (kind === 'resourceTemplates' ? 'resources' : kind)))];
}

/** Which lists differ between two probes (a side never probed counts as empty). */
export function changedGroups(before: Fingerprints | undefined, after: Fingerprints | undefined, beforeCounts: Plugin['counts'], afterCounts: Plugin['counts']): ListGroup[] {
  if (!before || !after) return [...new Set([...groupsWithItems(beforeCounts ?? ZERO), ...groupsWithItems(afterCounts ?? ZERO)])];
  return (['tools', 'prompts', 'resources'] as ListGroup[]).filter((group) => before[group] !== after[group]);
}
const ZERO = { tools: 0, prompts: 0, resources: 0, resourceTemplates: 0 };

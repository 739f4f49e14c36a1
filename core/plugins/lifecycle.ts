/**
 * Plugin lifecycle: mount, reload and unmount plugins, keep each one's state, and bring back
 * the ones whose backend is down. One place holds the state of every plugin source (folder or
 * `mcpServers` entry), mounted or not; /readyz and `switchboard plugins` read it from here.
 *
 * Mounting is load -> probe -> install: the manifest is read (code imported, data parsed), one
 * probe connection checks the backend and counts its lists, and only then is the plugin put in
 * the registry, replacing its previous version. A broken new version is reported and the
 * previous one keeps serving.
 */
import { Backend, type BackendPeer, type ListKind } from '../upstream/backend.ts';
import { withTimeout } from './load.ts';
import type { PluginManifest } from './manifest.ts';
import { Plugin, type ListCounts, type PluginSource, type PluginState, type PluginKind } from './plugin.ts';
import type { PluginRegistry } from './registry.ts';
import { RpcCodes, RpcError, SwitchboardError, messageOf } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Implementation } from '@modelcontextprotocol/sdk/types.js';

/** What clients re-list after a change: the `list_changed` notifications to send. */
export type ListGroup = 'tools' | 'prompts' | 'resources';

export interface PluginStatus {
  prefix?: string;
  source: string;
  kind?: PluginKind;
  state: PluginState;
  required: boolean;
  since: string;
  error?: string;
  counts?: ListCounts;
  processes?: number;
}

export interface LifecycleOptions {
  registry: PluginRegistry;
  log: Logger;
  clientInfo: Implementation;
  requestTimeoutMs: number;
  loadTimeoutMs: number;
  maxProcessesPerPlugin: number;
  /** Connected clients should re-list these. */
  onListChanged: (groups: ListGroup[]) => void;
  /** Client sessions stop using `plugin`: let their requests finish, then close their backends. */
  retire: (plugin: Plugin, reason: string) => Promise<void>;
}

interface Entry {
  source: PluginSource;
  /** The mounted version, if any. */
  plugin?: Plugin;
  /** For a source with no mounted version: why. */
  state: PluginState;
  error?: string;
  since: Date;
  /** Bumped on every load, so a reload imports the code afresh. */
  version: number;
  /** Loads of one source run one after another. */
  queue: Promise<unknown>;
  /** Lists as last probed, to tell clients only what changed. */
  lists?: Record<ListGroup, string>;
}

type Loader = (version: number) => Promise<PluginManifest>;

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

export class PluginLifecycle {
  readonly #options: LifecycleOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #retries = new Map<Plugin, { timer: NodeJS.Timeout; attempt: number }>();
  /** Plugins being probed again right now (their state changes are the probe's own doing). */
  readonly #reprobing = new Set<Plugin>();
  /** After start-up, a newly mounted plugin is announced to connected clients. */
  #announce = false;
  #closed = false;

  constructor(options: LifecycleOptions) {
    this.#options = options;
  }

  /**
   * Mounts many sources at start-up: loaded and probed in parallel, installed in the order
   * given (so with a duplicate prefix, the later source is the one refused).
   * Resolves with the problems, one per source that could not be mounted.
   */
  async mountAll(sources: Array<{ source: PluginSource; load: Loader }>): Promise<SwitchboardError[]> {
    const prepared = await Promise.all(sources.map(({ source, load }) => this.#prepare(this.#entry(source), load)));
    const problems: SwitchboardError[] = [];
    for (const result of prepared) {
      const failure = result instanceof SwitchboardError ? result : this.#install(result.entry, result.plugin, result.lists);
      if (failure) problems.push(failure);
    }
    return problems;
  }

  /** Mounts or reloads one source. Resolves with the problem if it could not be (re)mounted. */
  mount(source: PluginSource, load: Loader): Promise<SwitchboardError | undefined> {
    const entry = this.#entry(source);
    const run = entry.queue.then(async () => {
      if (this.#closed) return undefined;
      const result = await this.#prepare(entry, load);
      return result instanceof SwitchboardError ? result : this.#install(entry, result.plugin, result.lists);
    });
    entry.queue = run.catch(() => {});
    return run;
  }

  /** Unmounts a source (its folder is gone). Its sessions' requests may finish first. */
  unmount(sourceId: string, reason: string): Promise<void> {
    const entry = this.#entries.get(sourceId);
    if (!entry) return Promise.resolve();
    const run = entry.queue.then(async () => {
      this.#entries.delete(sourceId);
      const plugin = entry.plugin;
      if (!plugin) return;
      this.#stopRetrying(plugin);
      this.#options.registry.remove(plugin);
      plugin.log.info(`unmounted ${plugin.label}: ${reason}`);
      this.#options.onListChanged(groupsWithItems(plugin.counts));
      await this.#options.retire(plugin, reason);
    });
    entry.queue = run.catch(() => {});
    return run;
  }

  /** Every source's state, mounted or not. */
  statuses(): PluginStatus[] {
    return [...this.#entries.values()].map(({ source, plugin, state, error, since }) => ({
      ...(plugin && { prefix: plugin.prefix, kind: plugin.kind }),
      source: source.display,
      state: plugin?.state ?? state,
      required: plugin?.required ?? false,
      since: (plugin?.since ?? since).toISOString(),
      ...((plugin?.lastError ?? error) !== undefined && { error: plugin?.lastError ?? error }),
      ...(plugin?.counts && { counts: plugin.counts }),
      ...(plugin?.kind === 'command' && { processes: plugin.processes.size }),
    }));
  }

  /** True when every plugin marked `required` is ready. */
  get ready(): boolean {
    return [...this.#entries.values()].every(({ plugin }) => !plugin?.required || plugin.state === 'ready');
  }

  /** Stops retrying unavailable plugins and refuses further loads. */
  close(): void {
    this.#closed = true;
    for (const { timer } of this.#retries.values()) clearTimeout(timer);
    this.#retries.clear();
  }

  #entry(source: PluginSource): Entry {
    let entry = this.#entries.get(source.id);
    if (!entry) {
      entry = { source, state: 'loading', since: new Date(), version: 0, queue: Promise.resolve() };
      this.#entries.set(source.id, entry);
    }
    return entry;
  }

  /** Load and probe: a plugin ready to install, or the failure (the previous version, if any, stays). */
  async #prepare(entry: Entry, load: Loader): Promise<{ entry: Entry; plugin: Plugin; lists?: Record<ListGroup, string> } | SwitchboardError> {
    const { source } = entry;
    let manifest: PluginManifest;
    try {
      manifest = await load(entry.version++);
    } catch (error) {
      return this.#failed(entry, asSwitchboardError(error, source));
    }
    const plugin = new Plugin({
      source,
      manifest,
      log: this.#options.log,
      defaultTimeoutMs: this.#options.requestTimeoutMs,
      defaultMaxProcesses: this.#options.maxProcessesPerPlugin,
    });
    const probed = await this.#probe(plugin);
    if (probed instanceof SwitchboardError) {
      // Code that cannot make a server is broken, and so is a change whose backend does not
      // answer (the previous version keeps serving); a new remote or command plugin whose
      // backend does not answer yet is mounted, and retried.
      if (plugin.kind === 'in-process' || entry.plugin) return this.#failed(entry, probed);
      plugin.setState('unavailable', probed.message);
      return { entry, plugin };
    }
    plugin.setState('ready');
    return { entry, plugin, lists: probed };
  }

  /** Puts a prepared plugin in the registry in place of its previous version. */
  #install(entry: Entry, plugin: Plugin, lists?: Record<ListGroup, string>): SwitchboardError | undefined {
    const previous = entry.plugin;
    try {
      if (previous) this.#options.registry.replace(previous, plugin);
      else this.#options.registry.add(plugin);
    } catch (error) {
      return this.#failed(entry, asSwitchboardError(error, entry.source));
    }
    entry.plugin = plugin;
    entry.error = undefined;
    plugin.onStateChange = (changed, before) => this.#stateChanged(entry, changed, before);
    if (plugin.state === 'unavailable') {
      plugin.log.error(`${plugin.lastError}; mounted anyway, retrying`);
      this.#retry(entry, plugin);
    } else {
      plugin.log.info({ kind: plugin.kind, counts: plugin.counts }, `${previous ? 'reloaded' : 'mounted'} ${plugin.label}`);
    }
    if (previous) {
      this.#stopRetrying(previous);
      const changed = changedGroups(entry.lists, lists, previous.counts, plugin.counts);
      if (changed.length) this.#options.onListChanged(changed);
      void this.#options.retire(previous, 'reloaded');
    } else if (this.#announce) {
      this.#options.onListChanged(groupsWithItems(plugin.counts));
    }
    entry.lists = lists;
    return undefined;
  }

  /** From now on (start-up is over), a newly mounted plugin is announced to connected clients. */
  startAnnouncing(): void {
    this.#announce = true;
  }

  #failed(entry: Entry, error: SwitchboardError): SwitchboardError {
    if (entry.plugin) {
      entry.plugin.log.error({ code: error.code }, `${error.message}; the previous version keeps serving`);
    } else {
      entry.state = 'failed';
      entry.error = error.message;
      entry.since = new Date();
      this.#options.log.error({ code: error.code, source: entry.source.display }, error.message);
    }
    return error;
  }

  /**
   * Connects once as a client with no optional capabilities: checks the backend works, learns
   * its capabilities and instructions, and fingerprints its lists (to tell clients what changed).
   */
  async #probe(plugin: Plugin): Promise<Record<ListGroup, string> | SwitchboardError> {
    const backend = new Backend(plugin, probePeer(this.#options.clientInfo));
    const attempt = (async () => {
      const connection = await backend.connection();
      const { client } = connection;
      plugin.info = {
        capabilities: client.getServerCapabilities() ?? {},
        serverInfo: client.getServerVersion(),
        instructions: client.getInstructions(),
      };
      const [tools, prompts, resources, resourceTemplates] = await Promise.all(
        (['tools', 'prompts', 'resources', 'resourceTemplates'] as ListKind[]).map((kind) => backend.list(kind)),
      );
      plugin.counts = { tools: tools!.length, prompts: prompts!.length, resources: resources!.length, resourceTemplates: resourceTemplates!.length };
      return {
        tools: JSON.stringify(tools),
        prompts: JSON.stringify(prompts),
        resources: JSON.stringify([resources, resourceTemplates]),
      };
    })();
    try {
      return await withTimeout(attempt, this.#options.loadTimeoutMs, `did not answer within ${this.#options.loadTimeoutMs} ms (loadTimeoutMs)`);
    } catch (error) {
      return asSwitchboardError(error, plugin.source, plugin.label);
    } finally {
      void backend.close();
    }
  }

  #stateChanged(entry: Entry, plugin: Plugin, before: PluginState): void {
    if (this.#reprobing.has(plugin) || this.#retries.has(plugin)) return;
    if (plugin.state === 'unavailable' && before === 'ready') {
      plugin.log.error(`${plugin.lastError}; retrying`);
      this.#retry(entry, plugin);
    } else if (plugin.state === 'ready' && before === 'unavailable') {
      // A session reached it again: probe once more to refresh its lists, and tell the clients.
      this.#retry(entry, plugin, 0);
    }
  }

  /** Probes `plugin` after `wait` ms; tries again with backoff until it answers, then announces its lists. */
  #retry(entry: Entry, plugin: Plugin, wait = RETRY_MIN_MS, attempt = 1): void {
    if (this.#closed) return;
    clearTimeout(this.#retries.get(plugin)?.timer);
    const timer = setTimeout(() => void this.#reprobe(entry, plugin, attempt), wait);
    timer.unref();
    this.#retries.set(plugin, { timer, attempt });
  }

  async #reprobe(entry: Entry, plugin: Plugin, attempt: number): Promise<void> {
    if (this.#closed || entry.plugin !== plugin) return;
    this.#reprobing.add(plugin);
    const wasUnavailable = plugin.state === 'unavailable';
    try {
      const probed = await this.#probe(plugin);
      if (this.#closed || entry.plugin !== plugin) return;
      if (probed instanceof SwitchboardError) {
        plugin.setState('unavailable', probed.message);
        this.#retry(entry, plugin, Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt), attempt + 1);
        return;
      }
      this.#retries.delete(plugin);
      const changed = changedGroups(entry.lists, probed, undefined, plugin.counts);
      entry.lists = probed;
      plugin.setState('ready');
      if (wasUnavailable) plugin.log.info(`${plugin.label} is available`);
      if (changed.length) this.#options.onListChanged(changed);
    } finally {
      this.#reprobing.delete(plugin);
    }
  }

  #stopRetrying(plugin: Plugin): void {
    clearTimeout(this.#retries.get(plugin)?.timer);
    this.#retries.delete(plugin);
  }

}

/** The probe's stand-in for a client session: declares nothing, answers no backend requests. */
function probePeer(clientInfo: Implementation): BackendPeer {
  return {
    id: 'probe',
    clientCapabilities: () => ({}),
    clientInfo: () => clientInfo,
    onBackendRequest: async () => {
      throw new RpcError(RpcCodes.MethodNotFound, 'the proxy checks the backend and answers no requests now');
    },
    onBackendNotification: async () => {},
  };
}

function groupsWithItems(counts: ListCounts | undefined): ListGroup[] {
  if (!counts) return ['tools', 'prompts', 'resources'];
  const groups: ListGroup[] = [];
  if (counts.tools) groups.push('tools');
  if (counts.prompts) groups.push('prompts');
  if (counts.resources || counts.resourceTemplates) groups.push('resources');
  return groups;
}

/** Which lists differ between two probes (a side never probed counts as empty). */
function changedGroups(
  before: Record<ListGroup, string> | undefined,
  after: Record<ListGroup, string> | undefined,
  beforeCounts: ListCounts | undefined,
  afterCounts: ListCounts | undefined,
): ListGroup[] {
  if (!before || !after) return [...new Set([...groupsWithItems(beforeCounts ?? zero), ...groupsWithItems(afterCounts ?? zero)])];
  return (['tools', 'prompts', 'resources'] as ListGroup[]).filter((group) => before[group] !== after[group]);
}
const zero: ListCounts = { tools: 0, prompts: 0, resources: 0, resourceTemplates: 0 };

function asSwitchboardError(error: unknown, source: PluginSource, label?: string): SwitchboardError {
  if (error instanceof SwitchboardError) return error;
  return new SwitchboardError('SB_PLUGIN_IMPORT', `${label ?? source.description}: ${messageOf(error)}`, { cause: error, culprit: source.display });
}

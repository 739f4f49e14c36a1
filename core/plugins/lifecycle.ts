/**
 * Plugin lifecycle: mount, reload and unmount plugins, keep each one's state, and bring back
 * the ones whose backend is down. One place holds the state of every plugin source (folder or
 * `mcpServers` entry), mounted or not; /readyz and `switchboard plugins` read it from here.
 *
 * - **First mount**: load (code imported, data parsed) -> claim the prefix in the registry (the
 *   plugin is `loading`, not listed yet) -> probe (probe.ts) -> `ready`, announced to clients
 *   with `list_changed`. Nothing waits for a slow plugin: the proxy serves the others meanwhile.
 * - **Reload**: load and probe the new version first; only a working one replaces the previous
 *   version, which keeps serving otherwise.
 * - **Prefix conflicts heal**: a plugin refused because another holds its prefix (or an
 *   ambiguous one) is kept as a candidate and mounted as soon as the conflict is gone (the other
 *   folder removed or renamed), without touching its folder. While starting up, sources are
 *   ranked in discovery order, whatever order they finish loading in; afterwards, the plugin
 *   already mounted keeps its prefix.
 * - **Unavailable** remote and command plugins are mounted anyway and probed again with backoff.
 * - **Policies** (the config's `plugins`, by prefix) go with each version as it is loaded, so a
 *   reloaded folder gets the policy of the prefix it now has. A version whose policy says
 *   `enabled: false` is not mounted (a mounted previous version is unmounted), and shown as `disabled`.
 */
import type { Metrics } from '../observability/metrics.ts';
import type { Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { LoadedManifest } from './load.ts';
import { policyKey, type PluginPolicy } from '../config/plugin-policy.ts';
import { Plugin, type ListCounts, type PluginSource, type PluginState, type PluginKind } from './plugin.ts';
import type { PluginRegistry } from './registry.ts';
import { changedGroups, groupsOf, groupsWithItems, probe, type Fingerprints, type ListGroup, type Monitor } from './probe.ts';
import { SwitchboardError, messageOf } from '../errors.ts';
import type { Secrets } from '../redact.ts';
import { Retries } from './retries.ts';
import type { Logger } from '../log.ts';

export type { ListGroup } from './probe.ts';

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
  /** The protocol era(s) the proxy speaks to it in. */
  era?: string;
}

export interface LifecycleOptions {
  registry: PluginRegistry;
  log: Logger;
  clientInfo: Implementation;
  requestTimeoutMs: number;
  loadTimeoutMs: number;
  maxProcessesPerPlugin: number;
  /** The config's policy per plugin prefix (`plugins`). */
  policies?: Readonly<Record<string, PluginPolicy>>;
  /** Where plugins' secret values are registered, so logs never show them. */
  secrets?: Secrets;
  /** Where plugins' backend trouble is counted. */
  metrics?: Metrics;
  /** Connected clients should re-list these. */
  onListChanged: (groups: ListGroup[]) => void;
  /** Client sessions stop using `plugin`: let their requests finish within `graceMs`, then close their backends. */
  retire: (plugin: Plugin, reason: string, graceMs: number) => Promise<void>;
}

interface Entry {
  source: PluginSource;
  /** Discovery order: at start-up, the earlier source wins a prefix. */
  order: number;
  /** The mounted version, if any. */
  plugin?: Plugin;
  /** A loaded version refused for a prefix conflict, mounted when the conflict is gone. */
  candidate?: Plugin;
  /** A loaded version its policy disables (`enabled: false`): not mounted, shown as such. */
  disabled?: Plugin;
  /** For a source with no mounted version: why. */
  state: PluginState;
  error?: string;
  problem?: SwitchboardError;
  since: Date;
  /** Bumped on every load, so a reload imports the code afresh. */
  version: number;
  /** Loads of one source run one after another. */
  queue: Promise<unknown>;
  /** Lists as last probed, to tell clients only what changed. */
  lists?: Fingerprints;
  /** Its folder is gone: whatever is still loading or probing for it is given up. */
  removed?: boolean;
}

type Loader = (version: number) => Promise<LoadedManifest>;


export class PluginLifecycle {
  readonly #options: LifecycleOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #retries = new Retries();
  /** Each mounted plugin's monitor (the probe's connection, kept open). */
  readonly #monitors = new Map<Plugin, Monitor>();
  /** Plugin versions being retired, whose processes may still run. */
  readonly #retiring = new Set<Plugin>();
  #nextOrder = 0;
  #starting = true;
  readonly #created = new Date();
  #closed = false;

  constructor(options: LifecycleOptions) {
    this.#options = options;
  }

  /**
   * Mounts many sources at start-up, in parallel; prefix conflicts are decided by the order
   * given, whatever order they finish loading in. Plugins that are ready earlier are served
   * earlier. Resolves once every source has been tried (see statuses() for the outcome).
   */
  async mountAll(sources: Array<{ source: PluginSource; load: Loader }>): Promise<void> {
    for (const { source } of sources) this.#entry(source);
    await Promise.all(sources.map(({ source, load }) => this.mount(source, load)));
    // From now on the plugin already mounted keeps its prefix; a refused one waits for a change.
    this.#starting = false;
    this.#warnOfUnusedPolicies();
  }

  /** Mounts or reloads one source. Resolves with the problem if it could not be (re)mounted. */
  mount(source: PluginSource, load: Loader): Promise<SwitchboardError | undefined> {
    const entry = this.#entry(source);
    const run = entry.queue.then(() => (this.#closed ? undefined : this.#load(entry, load)));
    entry.queue = run.catch(() => {});
    return run;
  }

  /** Unmounts a source (its folder is gone). Its sessions' requests may finish first. */
  unmount(sourceId: string, reason: string): Promise<void> {
    const entry = this.#entries.get(sourceId);
    if (!entry) return Promise.resolve();
    // A probe in progress (a backend that hangs, say) is given up now, not at its timeout.
    entry.removed = true;
    for (const plugin of [entry.plugin, entry.candidate]) if (plugin) this.#stopRetrying(plugin);
    const run = entry.queue.then(async () => {
      this.#entries.delete(sourceId);
      entry.candidate = undefined;
      const plugin = entry.plugin;
      if (!plugin) return void this.#forgetSecrets(sourceId);
      entry.plugin = undefined;
      this.#options.registry.remove(plugin);
      plugin.log.info(`unmounted ${plugin.label}: ${reason}`);
      this.#options.onListChanged(groupsWithItems(plugin.counts));
      // Requests in progress finish on the removed version, as they do on a reloaded one: within the plugin's timeout.
      const retiring = this.#retire(plugin, reason, plugin.timeoutMs);
      this.#reconsider();
      // Its secrets are scrubbed from logs and errors as long as its requests and processes may still print them.
      await retiring.finally(() => this.#forgetSecrets(sourceId));
    });
    entry.queue = run.catch(() => {});
    return run;
  }

  /** Stops scrubbing a removed source's secrets, unless the source came back meanwhile (and set its own). */
  #forgetSecrets(sourceId: string): void {
    if (!this.#entries.has(sourceId)) this.#options.secrets?.delete(sourceId);
  }

  /** Every source's state, mounted or not. */
  statuses(): PluginStatus[] {
    const statuses = [...this.#entries.values()].map(({ source, plugin, candidate, disabled, state, error, since }) => {
      const shown = plugin ?? candidate ?? disabled;
      return {
        ...(shown && { prefix: shown.prefix, kind: shown.kind }),
        source: source.display,
        state: plugin?.state ?? state,
        required: (plugin ?? candidate)?.required ?? false,
        since: (plugin?.since ?? since).toISOString(),
        ...((plugin?.lastError ?? error) !== undefined && { error: plugin?.lastError ?? error }),
        ...(plugin?.counts && { counts: plugin.counts }),
        ...(plugin?.kind === 'command' && { processes: plugin.processes.size }),
        ...(plugin && plugin.state !== 'loading' && { era: plugin.sessionsToo ? `${plugin.era}, 2025-11-25` : plugin.era }),
      };
    });
    // What the config requires and no source has: why /readyz says not ready.
    const missing = this.#missingRequired().map((prefix): PluginStatus => ({
      prefix,
      source: `config ${policyKey(prefix)}`,
      state: this.#starting ? 'loading' : 'failed',
      required: true,
      since: this.#created.toISOString(),
      ...(!this.#starting && { error: `no plugin has the prefix "${prefix}", which the config requires (${policyKey(prefix)}.required)` }),
    }));
    return [...statuses, ...missing];
  }

  /** Why each source that has no mounted version could not be mounted. */
  problems(): SwitchboardError[] {
    return [...this.#entries.values()].flatMap((e) => (!e.plugin && e.problem ? [e.problem] : []));
  }

  /**
   * True when every plugin marked `required` (by its policy or manifest) is ready; disabled ones
   * do not count. A prefix the config's policies require that no source has is not ready either.
   */
  get ready(): boolean {
    const mounted = [...this.#entries.values()].every(({ plugin, candidate }) => (plugin ?? candidate)?.required !== true || plugin?.state === 'ready' || plugin?.state === 'degraded');
    return mounted && this.#missingRequired().length === 0;
  }

  /** Prefixes the config's policies require (`required: true`) that no source has, loaded or not. */
  #missingRequired(): string[] {
    const known = this.#knownPrefixes();
    return Object.entries(this.#options.policies ?? {})
      .filter(([prefix, policy]) => policy.required === true && policy.enabled !== false && !known.has(prefix))
      .map(([prefix]) => prefix);
  }

  #knownPrefixes(): Set<string> {
    return new Set([...this.#entries.values()].flatMap(({ plugin, candidate, disabled }) => [plugin, candidate, disabled].flatMap((p) => (p ? [p.prefix] : []))));
  }

  /** The process ids of every plugin's child processes (mounted versions and those being retired). */
  processes(): number[] {
    const plugins = [...[...this.#entries.values()].flatMap((e) => (e.plugin ? [e.plugin] : [])), ...this.#retiring];
    return plugins.flatMap((plugin) => [...plugin.processes]);
  }

  /** Stops retrying unavailable plugins, refuses further loads, and closes the monitors. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#retries.stopAll();
    const monitors = [...this.#monitors.values()];
    this.#monitors.clear();
    await Promise.all(monitors.map((monitor) => monitor.close()));
  }

  #entry(source: PluginSource): Entry {
    let entry = this.#entries.get(source.id);
    if (!entry) {
      entry = { source, order: this.#nextOrder++, state: 'loading', since: new Date(), version: 0, queue: Promise.resolve() };
      this.#entries.set(source.id, entry);
    }
    return entry;
  }

  async #load(entry: Entry, load: Loader): Promise<SwitchboardError | undefined> {
    const { source } = entry;
    let loaded: LoadedManifest;
    try {
      loaded = await load(entry.version++);
    } catch (error) {
      return this.#failed(entry, asSwitchboardError(error, source));
    }
    const plugin = this.#newPlugin(source, loaded);
    this.#options.secrets?.set(source.id, [...(entry.plugin?.secrets ?? []), ...plugin.secrets]);
    if (!plugin.enabled) return this.#disable(entry, plugin);
    entry.disabled = undefined;
    return entry.plugin ? this.#reload(entry, entry.plugin, plugin) : this.#admit(entry, plugin);
  }

  /** A version of a source as a plugin, with the policy of its prefix. */
  #newPlugin(source: PluginSource, { manifest, substituted }: LoadedManifest): Plugin {
    const policies = this.#options.policies ?? {};
    return new Plugin({
      source,
      manifest,
      substituted,
      policy: Object.hasOwn(policies, manifest.prefix) ? policies[manifest.prefix] : undefined,
      log: this.#options.log,
      defaultTimeoutMs: this.#options.requestTimeoutMs,
      defaultMaxProcesses: this.#options.maxProcessesPerPlugin,
      metrics: this.#options.metrics,
    });
  }

  /** A version its policy disables: not mounted; a mounted previous version is unmounted. */
  async #disable(entry: Entry, plugin: Plugin): Promise<undefined> {
    entry.disabled = plugin;
    entry.candidate = undefined;
    entry.state = 'disabled';
    entry.error = undefined;
    entry.problem = undefined;
    entry.since = new Date();
    plugin.log.info(`${plugin.label} is disabled (config ${policyKey(plugin.prefix)}.enabled is false); not mounted`);
    const previous = entry.plugin;
    if (!previous) return undefined;
    entry.plugin = undefined;
    this.#options.registry.remove(previous);
    this.#options.onListChanged(groupsWithItems(previous.counts));
    const retiring = this.#retire(previous, 'disabled', previous.timeoutMs);
    this.#reconsider();
    await retiring;
    return undefined;
  }

  /** A policy for a prefix no source has is worth a word (a misspelt prefix), not an error: the plugin may come later. */
  #warnOfUnusedPolicies(): void {
    const prefixes = this.#knownPrefixes();
    for (const prefix of Object.keys(this.#options.policies ?? {})) {
      if (!prefixes.has(prefix)) this.#options.log.warn({ prefix }, `config ${policyKey(prefix)}: no plugin has the prefix "${prefix}"; the policy applies when one is mounted`);
    }
  }

  /** A new version of a mounted plugin: probed first, and put in place only if it works. */
  async #reload(entry: Entry, previous: Plugin, plugin: Plugin): Promise<SwitchboardError | undefined> {
    const refusal = this.#options.registry.refusal(plugin, previous);
    if (refusal) return this.#failed(entry, refusal);
    const probed = await this.#probe(plugin);
    if (entry.removed) return probed instanceof SwitchboardError ? undefined : void probed.monitor.close();
    if (probed instanceof SwitchboardError) return this.#failed(entry, probed);
    if (this.#closed || entry.plugin !== previous || this.#entries.get(entry.source.id) !== entry) return void probed.monitor.close();
    try {
      this.#options.registry.replace(previous, plugin);
    } catch (error) {
      void probed.monitor.close();
      return this.#failed(entry, asSwitchboardError(error, entry.source));
    }
    entry.plugin = plugin;
    entry.error = undefined;
    this.#watch(entry, plugin, probed.monitor);
    plugin.setState('ready');
    plugin.log.info({ kind: plugin.kind, counts: plugin.counts }, `reloaded ${plugin.label}`);
    this.#options.secrets?.set(entry.source.id, plugin.secrets);
    const changed = changedGroups(entry.lists, probed.fingerprints, previous.counts, plugin.counts);
    entry.lists = probed.fingerprints;
    if (changed.length) this.#options.onListChanged(changed);
    void this.#retire(previous, 'reloaded', previous.timeoutMs);
    if (plugin.prefix !== previous.prefix) this.#reconsider();
    return undefined;
  }

  /**
   * A first version: claims its prefix (displacing later sources while starting up), then is
   * probed. Refused, it stays a candidate for when the conflict is gone.
   */
  async #admit(entry: Entry, plugin: Plugin): Promise<SwitchboardError | undefined> {
    const registry = this.#options.registry;
    const conflicts = registry.conflicts(plugin);
    if (conflicts.length) {
      const outranked = this.#starting && conflicts.every((other) => this.#orderOf(other) > entry.order);
      if (!outranked) {
        const refusal = registry.refusal(plugin)!;
        entry.candidate = plugin;
        return this.#failed(entry, refusal);
      }
      for (const other of conflicts) this.#displace(other);
      registry.add(plugin);
      this.#restate();
    } else {
      registry.add(plugin);
    }
    entry.candidate = undefined;
    entry.plugin = plugin;
    entry.error = undefined;
    plugin.onStateChange = (changed, before) => this.#stateChanged(entry, changed, before);
    return this.#activate(entry, plugin);
  }

  /** Probes a plugin that holds its prefix: ready, unavailable (retried), or failed (given up). */
  async #activate(entry: Entry, plugin: Plugin): Promise<SwitchboardError | undefined> {
    const probed = await this.#probe(plugin);
    if (this.#closed || entry.removed || entry.plugin !== plugin) {
      if (!(probed instanceof SwitchboardError)) void probed.monitor.close();
      return undefined; // displaced, reloaded or removed meanwhile, or the proxy is closing
    }
    if (probed instanceof SwitchboardError) {
      if (plugin.kind === 'in-process') {
        // Code that cannot make a server is broken: the prefix is free again.
        this.#options.registry.remove(plugin);
        entry.plugin = undefined;
        this.#reconsider();
        return this.#failed(entry, probed);
      }
      plugin.setState('unavailable', probed.message);
      plugin.log.error(`${probed.message}; mounted anyway, retrying`);
      this.#retry(entry, plugin);
      return undefined;
    }
    this.#watch(entry, plugin, probed.monitor);
    entry.lists = probed.fingerprints;
    plugin.setState('ready');
    plugin.log.info({ kind: plugin.kind, counts: plugin.counts }, `mounted ${plugin.label}`);
    this.#options.onListChanged(groupsWithItems(plugin.counts));
    return undefined;
  }

  /** A plugin mounted while starting up gives its prefix to an earlier source; it becomes a candidate again. */
  #displace(plugin: Plugin): Entry | undefined {
    const entry = [...this.#entries.values()].find((e) => e.plugin === plugin);
    if (!entry) return undefined;
    this.#options.registry.remove(plugin);
    this.#stopRetrying(plugin);
    this.#monitors.get(plugin)?.close();
    this.#monitors.delete(plugin);
    entry.plugin = undefined;
    entry.candidate = this.#newPlugin(plugin.source, plugin);
    return entry;
  }

  /**
   * After a displacement, refused candidates' errors name the plugin that holds the prefix now: a
   * later folder refused because of a plugin that has since been displaced says so no longer.
   */
  #restate(): void {
    for (const entry of this.#entries.values()) {
      if (!entry.candidate || entry.plugin) continue;
      const refusal = this.#options.registry.refusal(entry.candidate);
      if (refusal && refusal.message !== entry.error) this.#failed(entry, refusal);
    }
  }

  /** Mounts refused candidates whose conflict is gone, in source order. */
  #reconsider(): void {
    if (this.#closed) return;
    const waiting = [...this.#entries.values()].filter((e) => e.candidate && !e.plugin).sort((a, b) => a.order - b.order);
    for (const entry of waiting) {
      const candidate = entry.candidate!;
      if (this.#options.registry.conflicts(candidate).length) continue;
      const run = entry.queue.then(() => {
        if (entry.candidate !== candidate || entry.plugin || this.#closed) return undefined;
        candidate.log.info(`${candidate.label}: the prefix conflict is gone; mounting it`);
        return this.#admit(entry, candidate);
      });
      entry.queue = run.catch(() => {});
    }
  }

  #orderOf(plugin: Plugin): number {
    return [...this.#entries.values()].find((e) => e.plugin === plugin)?.order ?? Number.MAX_SAFE_INTEGER;
  }

  #failed(entry: Entry, error: SwitchboardError): SwitchboardError {
    if (entry.plugin) {
      entry.plugin.log.error({ code: error.code }, `${error.message}; the previous version keeps serving`);
    } else {
      entry.state = 'failed';
      entry.disabled = undefined;
      entry.error = error.message;
      entry.problem = error;
      entry.since = new Date();
      this.#options.log.error({ code: error.code, source: entry.source.display }, error.message);
    }
    return error;
  }

  #probe(plugin: Plugin) {
    const probing = probe(plugin, {
      clientInfo: this.#options.clientInfo,
      timeoutMs: this.#options.loadTimeoutMs,
      signal: this.#retries.probeSignal(plugin),
      onListChanged: (changed, kinds) => {
        // The backend's lists changed for everyone: the shared lists go, clients re-list.
        changed.catalog.invalidate(kinds);
        if (this.#options.registry.get(changed.prefix) === changed) this.#options.onListChanged(groupsOf(kinds));
      },
    });
    // A version that did not make it (a failed reload) leaves nothing behind.
    void probing.finally(() => {
      if (![...this.#entries.values()].some((e) => e.plugin === plugin)) this.#retries.forgetProbes(plugin);
    });
    return probing;
  }

  /** Keeps `monitor` as the plugin's open connection, and follows the plugin's state changes. */
  #watch(entry: Entry, plugin: Plugin, monitor: Monitor): void {
    const previous = this.#monitors.get(plugin);
    this.#monitors.set(plugin, monitor);
    if (previous && previous !== monitor) void previous.close();
    plugin.onStateChange = (changed, before) => this.#stateChanged(entry, changed, before);
  }

  async #retire(plugin: Plugin, reason: string, graceMs: number): Promise<void> {
    this.#stopRetrying(plugin);
    const monitor = this.#monitors.get(plugin);
    this.#monitors.delete(plugin);
    this.#retiring.add(plugin);
    try {
      await Promise.all([monitor?.close(), this.#options.retire(plugin, reason, graceMs)]);
    } finally {
      this.#retiring.delete(plugin);
    }
  }

  #stateChanged(entry: Entry, plugin: Plugin, before: PluginState): void {
    if (entry.plugin !== plugin || this.#closed) return;
    if (plugin.state === 'unavailable' && (before === 'ready' || before === 'degraded') && !this.#retries.has(plugin)) {
      plugin.log.error(`${plugin.lastError}; retrying`);
      this.#retry(entry, plugin);
    } else if (plugin.state === 'ready' && before === 'unavailable' && !this.#retries.has(plugin)) {
      // A session reached it again: probe once more to refresh its lists, and tell the clients.
      this.#retry(entry, plugin, 0);
    } else if (plugin.state === 'degraded') {
      plugin.log.warn(plugin.lastError ?? 'degraded');
    } else if (plugin.state === 'ready' && before === 'degraded') {
      plugin.log.info(`${plugin.label} answers again`);
      this.#options.onListChanged(groupsWithItems(plugin.counts));
    }
  }

  /** Probes `plugin` after `wait` ms; tries again with backoff until it answers, then announces its lists. */
  #retry(entry: Entry, plugin: Plugin, wait?: number, attempt = 1): void {
    if (this.#closed) return;
    this.#retries.schedule(plugin, (n) => void this.#reprobe(entry, plugin, n), attempt, wait);
  }

  async #reprobe(entry: Entry, plugin: Plugin, attempt: number): Promise<void> {
    if (this.#closed || entry.plugin !== plugin) return;
    const wasUnavailable = plugin.state === 'unavailable';
    plugin.catalog.invalidate();
    const probed = await this.#probe(plugin);
    if (this.#closed || entry.plugin !== plugin) {
      if (!(probed instanceof SwitchboardError)) void probed.monitor.close();
      return;
    }
    if (probed instanceof SwitchboardError) {
      plugin.setState('unavailable', probed.message);
      this.#retry(entry, plugin, undefined, attempt + 1);
      return;
    }
    this.#watch(entry, plugin, probed.monitor);
    const changed = changedGroups(entry.lists, probed.fingerprints, undefined, plugin.counts);
    entry.lists = probed.fingerprints;
    plugin.setState('ready'); // while its retry is still on record, so this is not taken for a recovery to probe
    this.#retries.done(plugin);
    if (wasUnavailable) plugin.log.info(`${plugin.label} is available`);
    // Clients listed without it while it was unavailable: they re-list it all.
    const announce = wasUnavailable ? groupsWithItems(plugin.counts) : changed;
    if (announce.length) this.#options.onListChanged(announce);
  }

  /** No more probes of `plugin`: the retry timer stops, a probe in progress ends now (its process too). */
  #stopRetrying(plugin: Plugin): void {
    this.#retries.stop(plugin);
  }
}

function asSwitchboardError(error: unknown, source: PluginSource, label?: string): SwitchboardError {
  if (error instanceof SwitchboardError) return error;
  return new SwitchboardError('SB_PLUGIN_IMPORT', `${label ?? source.description}: ${messageOf(error)}`, { cause: error, culprit: source.display });
}

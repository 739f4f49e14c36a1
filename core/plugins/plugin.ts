/**
 * A mounted plugin: its validated manifest, the config's policy for its prefix, where it came
 * from, its namespace, and its state as the proxy last saw it. Client sessions open their own
 * backend connections to it (see backend.ts); the plugin itself holds no connection.
 */
import type { Metrics } from '../observability/metrics.ts';
import type { Implementation, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { PluginManifest } from './manifest.ts';
import { policyKey, type PluginPolicy } from '../config/plugin-policy.ts';
import { Namespace } from '../catalog/namespace.ts';
import { PluginCatalog } from '../catalog/plugin-catalog.ts';
import { ListPolicy } from '../catalog/policy.ts';
import { HeaderForwarding, mergeHeaders } from '../upstream/forward-headers.ts';
import { Secrets, secretsOfUrl, splitCredentials } from '../redact.ts';
import { ProcessSlots } from './process-slots.ts';
import type { ModernUpstream } from '../upstream/modern/upstream.ts';
import type { Logger } from '../log.ts';

export type PluginKind = 'in-process' | 'remote' | 'command';
export type ProtocolEra = '2025-11-25' | '2026-07-28';
/** The stateless era, spoken with the SDK v2. */
export const MODERN = '2026-07-28' satisfies ProtocolEra;
/**
 * - `loading`: being loaded and checked; not listed yet.
 * - `ready`: answering.
 * - `degraded`: connected, but it missed a list deadline; listed from its last good lists
 *   while the proxy waits for it, `ready` again (with `list_changed`) when it answers.
 * - `unavailable`: its backend does not answer; retried with backoff.
 * - `failed`: it cannot be mounted (its folder or entry is broken).
 * - `disabled`: the config's policy for its prefix says `enabled: false`; not mounted.
 */
export type PluginState = 'loading' | 'ready' | 'degraded' | 'unavailable' | 'failed' | 'disabled';

/** Where a plugin comes from: a plugin folder, or an `mcpServers` entry of a config file. */
export interface PluginSource {
  /** Stable across reloads: the folder's absolute path, or `<config file>#mcpServers.<key>`. */
  id: string;
  /** Short, for logs and the culprit of errors: `plugins/example`, `mcp.json#mcpServers.github`. */
  display: string;
  /** In a sentence: `plugin folder plugins/example`, `mcpServers entry "github" in mcp.json`. */
  description: string;
  /** Where relative paths in the manifest (a command's `cwd`) are resolved. */
  dir: string;
}

/** What the backend said about itself when the proxy connected to it. */
export interface BackendInfo {
  capabilities: ServerCapabilities;
  serverInfo?: Implementation;
  instructions?: string;
}

/** How many of each the backend listed when the proxy last probed it. */
export interface ListCounts {
  tools: number;
  prompts: number;
  resources: number;
  resourceTemplates: number;
}

export class Plugin {
  readonly source: PluginSource;
  readonly manifest: PluginManifest;
  readonly kind: PluginKind;
  readonly namespace: Namespace;
  readonly log: Logger;
  /** Longest a single request to this backend may take. */
  readonly timeoutMs: number;
  /** Most child processes at once (command plugins: one per client session). */
  readonly maxProcesses: number;
  /** Live child processes of this plugin, by pid. */
  readonly processes = new Set<number>();
  /** Command plugins: the budget of `maxProcesses` processes. */
  readonly processSlots: ProcessSlots;
  /** Remote plugins: the transport that answered last (so later connections skip a failed try). */
  remoteTransport?: 'streamable-http' | 'sse';
  /** The protocol era the proxy speaks to it in, as its probe found (2025-11-25 until then). */
  era: ProtocolEra = '2025-11-25';
  /** A 2026-era plugin's one stateless connection, shared by every client (set by its probe). */
  upstream?: ModernUpstream;
  /**
   * A 2026-era plugin that also serves 2025 sessions (with an `Mcp-Session-Id`): 2025 clients are
   * then given a backend session of their own, in their own era, with nothing to translate.
   */
  sessionsToo = false;
  /** What such a plugin said about itself to a 2025 `initialize` (its capabilities there may differ). */
  sessionInfo?: BackendInfo;
  /** The config's policy for its prefix (`plugins.<prefix>`), as given. */
  readonly policyConfig: PluginPolicy;
  /** What of its lists clients see (its renames are in the namespace). */
  readonly policy: ListPolicy;
  /** Its lists, shared by the client sessions (see plugin-catalog.ts). */
  readonly catalog: PluginCatalog;
  /** Remote plugins: which of a client request's headers go on to the backend. */
  readonly forwarding: HeaderForwarding;
  /** Remote plugins: the headers of every request (URL credentials, the manifest's `remote.headers`, the policy's `headers`). */
  readonly remoteHeaders: Readonly<Record<string, string>>;
  /** The values `${VAR}` in its manifest took from the environment (see expand.ts). */
  readonly substituted: readonly string[];
  /** The secret values in its manifest and policy (URL credentials and query values, header and environment values, and whatever came from `${VAR}`). */
  readonly secrets: readonly string[];

  state: PluginState = 'loading';
  since = new Date();
  lastError?: string;
  info?: BackendInfo;
  counts?: ListCounts;
  /** Where its backend trouble is counted (`/metrics`). */
  readonly metrics?: Metrics;
  /** Called on every state change (the plugin manager retries unavailable plugins). */
  onStateChange?: (plugin: Plugin, previous: PluginState) => void;

  readonly #warned = new Set<string>();
  readonly #scrubber = new Secrets();

  constructor(options: {
    source: PluginSource;
    manifest: PluginManifest;
    policy?: PluginPolicy;
    log: Logger;
    defaultTimeoutMs: number;
    defaultMaxProcesses: number;
    substituted?: readonly string[];
    metrics?: Metrics;
  }) {
    const { source, manifest } = options;
    const policy = options.policy ?? {};
    this.source = source;
    this.manifest = manifest;
    this.metrics = options.metrics;
    this.policyConfig = policy;
    this.kind = manifest.server ? 'in-process' : manifest.remote ? 'remote' : 'command';
    this.log = options.log.child({ plugin: manifest.prefix, source: source.display });
    this.namespace = new Namespace(
      manifest.prefix,
      (original, exposed) => this.log.warn({ original, exposed }, `name "${original}" is not accepted by every client; exposed as "${exposed}"`),
      { tools: policy.tools?.rename, prompts: policy.prompts?.rename },
    );
    this.policy = new ListPolicy(policy);
    this.catalog = new PluginCatalog(this.policy);
    this.timeoutMs = policy.timeoutMs ?? manifest.remote?.timeoutMs ?? manifest.timeoutMs ?? options.defaultTimeoutMs;
    this.maxProcesses = manifest.command?.maxProcesses ?? options.defaultMaxProcesses;
    this.processSlots = new ProcessSlots(this.maxProcesses);
    this.substituted = options.substituted ?? [];
    const remote = manifest.remote;
    const authorization = remote ? splitCredentials(remote.url).authorization : undefined;
    this.remoteHeaders = remote ? mergeHeaders(authorization ? { Authorization: authorization } : undefined, remote.headers, policy.headers) : {};
    this.forwarding = new HeaderForwarding(remote ? policy.forwardHeaders : []);
    if (!remote && (policy.forwardHeaders?.length || Object.keys(policy.headers ?? {}).length)) {
      this.log.warn(`config ${policyKey(manifest.prefix)}: forwardHeaders and headers apply to remote plugins only; ignored for this ${this.kind} plugin`);
    }
    this.secrets = [
      ...(remote ? secretsOfUrl(remote.url) : []),
      ...Object.values(remote?.headers ?? {}),
      ...Object.values(policy.headers ?? {}),
      ...Object.values(manifest.command?.env ?? {}),
      ...this.substituted,
    ];
    this.#scrubber.set('plugin', this.secrets);
  }

  /** `text` with this plugin's secrets replaced, fit for a client or a log. */
  scrub(text: string): string {
    return this.#scrubber.scrub(text);
  }

  get prefix(): string {
    return this.manifest.prefix;
  }

  /** How errors and logs name this plugin: `plugin "example" (plugins/example)`. */
  get label(): string {
    return `plugin "${this.prefix}" (${this.source.display})`;
  }

  /** What the backend offers clients of `era` (a plugin that speaks both may offer each era something else). */
  infoFor(era: ProtocolEra): BackendInfo | undefined {
    return era === '2025-11-25' && this.sessionsToo ? (this.sessionInfo ?? this.info) : this.info;
  }

  /** `GET /readyz` waits for it: the policy says so, or else the manifest. */
  get required(): boolean {
    return (this.policyConfig.required ?? this.manifest.required) === true;
  }

  /** False when the policy for its prefix says `enabled: false`: it is not mounted. */
  get enabled(): boolean {
    return this.policyConfig.enabled !== false;
  }

  setState(state: PluginState, error?: string): void {
    const previous = this.state;
    if (state !== previous || error !== this.lastError) this.since = new Date();
    this.state = state;
    this.lastError = error === undefined ? undefined : this.scrub(error);
    if (state !== previous) this.onStateChange?.(this, previous);
  }

  /** Logs a problem the first time it is seen, so one repeated on every list logs once. */
  reportOnce(level: 'warn' | 'error', message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.log[level](message);
  }
}

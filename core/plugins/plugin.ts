/**
 * A mounted plugin: its validated manifest, where it came from, its namespace, and its state
 * as the proxy last saw it. Client sessions open their own backend connections to it (see
 * backend.ts); the plugin itself holds no connection.
 */
import type { Implementation, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { PluginManifest } from './manifest.ts';
import { Namespace } from '../catalog/namespace.ts';
import type { Logger } from '../log.ts';

export type PluginKind = 'in-process' | 'remote' | 'command';
export type PluginState = 'loading' | 'ready' | 'unavailable' | 'failed';

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

/** Distinct versions of one list kept for sharing (per-session lists may differ, e.g. by client capabilities). */
const MAX_LIST_VARIANTS = 8;

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

  state: PluginState = 'loading';
  since = new Date();
  lastError?: string;
  info?: BackendInfo;
  counts?: ListCounts;
  /** Called on every state change (the plugin manager retries unavailable plugins). */
  onStateChange?: (plugin: Plugin, previous: PluginState) => void;

  readonly #warned = new Set<string>();
  /** Lists as sessions received them, so identical lists are held once (see shareList). */
  readonly #lists = new Map<string, Map<string, readonly Record<string, unknown>[]>>();

  constructor(options: { source: PluginSource; manifest: PluginManifest; log: Logger; defaultTimeoutMs: number; defaultMaxProcesses: number }) {
    const { source, manifest } = options;
    this.source = source;
    this.manifest = manifest;
    this.kind = manifest.server ? 'in-process' : manifest.remote ? 'remote' : 'command';
    this.log = options.log.child({ plugin: manifest.prefix, source: source.display });
    this.namespace = new Namespace(manifest.prefix, (original, exposed) =>
      this.log.warn({ original, exposed }, `name "${original}" is not accepted by every client; exposed as "${exposed}"`),
    );
    this.timeoutMs = manifest.remote?.timeoutMs ?? manifest.timeoutMs ?? options.defaultTimeoutMs;
    this.maxProcesses = manifest.command?.maxProcesses ?? options.defaultMaxProcesses;
  }

  get prefix(): string {
    return this.manifest.prefix;
  }

  /** How errors and logs name this plugin: `plugin "example" (plugins/example)`. */
  get label(): string {
    return `plugin "${this.prefix}" (${this.source.display})`;
  }

  get required(): boolean {
    return this.manifest.required === true;
  }

  setState(state: PluginState, error?: string): void {
    const previous = this.state;
    if (state !== previous || error !== this.lastError) this.since = new Date();
    this.state = state;
    this.lastError = error;
    if (state !== previous) this.onStateChange?.(this, previous);
  }

  /** Logs a problem the first time it is seen, so one repeated on every list logs once. */
  reportOnce(level: 'warn' | 'error', message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.log[level](message);
  }

  /**
   * The shared copy of a list identical to `items`, or `items` itself, now shared. Sessions of
   * one plugin almost always get the same lists; holding one copy instead of one per session
   * saves memory when lists are long. Callers must not modify a shared list or its items.
   */
  shareList<T extends Record<string, unknown>>(kind: string, items: T[]): T[] {
    let variants = this.#lists.get(kind);
    if (!variants) this.#lists.set(kind, (variants = new Map()));
    const key = JSON.stringify(items);
    const shared = variants.get(key);
    if (shared) return shared as T[];
    if (variants.size >= MAX_LIST_VARIANTS) variants.delete(variants.keys().next().value!);
    variants.set(key, items);
    return items;
  }
}

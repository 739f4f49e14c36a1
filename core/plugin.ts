/**
 * A mounted plugin: its validated manifest, where it came from, its namespace, and its
 * state as the proxy last saw it. Client sessions open their own backend connections to it
 * (see backend.ts); the plugin itself holds no connection.
 */
import type { Implementation, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { PluginManifest } from './manifest.ts';
import { Namespace } from './namespace.ts';
import type { Logger } from './log.ts';
import type { PluginFolder } from './discover.ts';

export type PluginKind = 'in-process' | 'remote';
export type PluginState = 'loading' | 'ready' | 'unavailable' | 'failed';

/** What the backend said about itself when the proxy first connected to it. */
export interface BackendInfo {
  capabilities: ServerCapabilities;
  serverInfo?: Implementation;
  instructions?: string;
}

/** Distinct versions of one list kept for sharing (per-session lists may differ, e.g. by client capabilities). */
const MAX_LIST_VARIANTS = 8;

export class Plugin {
  /** The plugin folder: absolute path, and the path as the user configured it (for messages). */
  readonly folder: PluginFolder;
  readonly manifest: PluginManifest;
  readonly kind: PluginKind;
  readonly namespace: Namespace;
  readonly log: Logger;
  /** Longest a single request to this backend may take. */
  readonly timeoutMs: number;

  state: PluginState = 'loading';
  since = new Date();
  lastError?: string;
  info?: BackendInfo;

  constructor(options: { folder: PluginFolder; manifest: PluginManifest; log: Logger; defaultTimeoutMs: number }) {
    const { folder, manifest } = options;
    this.folder = folder;
    this.manifest = manifest;
    this.kind = manifest.server ? 'in-process' : 'remote';
    this.log = options.log.child({ plugin: manifest.prefix, folder: folder.display });
    this.namespace = new Namespace(manifest.prefix, (original, exposed) =>
      this.log.warn({ original, exposed }, `name "${original}" is not accepted by every client; exposed as "${exposed}"`),
    );
    this.timeoutMs = manifest.remote?.timeoutMs ?? manifest.timeoutMs ?? options.defaultTimeoutMs;
  }

  get prefix(): string {
    return this.manifest.prefix;
  }

  /** How errors and logs name this plugin: `plugin "example" (plugins/example)`. */
  get label(): string {
    return `plugin "${this.prefix}" (${this.folder.display})`;
  }

  readonly #warned = new Set<string>();
  /** Lists as sessions received them, so identical lists are held once (see shareList). */
  readonly #lists = new Map<string, Map<string, readonly Record<string, unknown>[]>>();

  /**
   * The shared copy of a list identical to `items`, or `items` itself, now shared. Sessions of
   * one plugin almost always get the same lists; holding one copy instead of one per session is
   * most of a session's memory. Callers must not modify a shared list or its items.
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

  /** Logs a problem the first time it is seen, so one repeated on every list logs once. */
  reportOnce(level: 'warn' | 'error', message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.log[level](message);
  }

  setState(state: PluginState, error?: string): void {
    if (state !== this.state || error !== this.lastError) this.since = new Date();
    this.state = state;
    this.lastError = error;
  }
}

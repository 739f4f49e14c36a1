/**
 * The switchboard: finds plugin sources (folders in the plugin directories, `mcpServers`
 * entries), mounts them through the plugin lifecycle, keeps them in step with their folders,
 * and serves them all over HTTP. A plugin that fails is reported by name and left out; the rest
 * are served.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Implementation } from '@modelcontextprotocol/sdk/types.js';
import { discover, isIgnoredFolder, readFolder, type PluginFolder } from './plugins/discover.ts';
import { loadManifest } from './plugins/load.ts';
import type { PluginSource } from './plugins/plugin.ts';
import { PluginRegistry } from './plugins/registry.ts';
import { PluginLifecycle, type PluginStatus } from './plugins/lifecycle.ts';
import { mcpServerEntries, type McpServersOrigin } from './plugins/mcp-servers.ts';
import { ClientSession } from './downstream/session.ts';
import { SessionStore } from './downstream/sessions.ts';
import { createApp, RequestTracker } from './http/app.ts';
import { watchPluginDirs, type Watcher } from './plugins/watch.ts';
import { killAllChildren } from './upstream/child-process.ts';
import { DEFAULTS } from './config/config.ts';
import { createLogger, type Logger } from './log.ts';
import { SwitchboardError } from './errors.ts';

export interface SwitchboardOptions {
  /** Plugin directories, searched in order; relative ones are resolved against `cwd`. */
  pluginDirs: readonly string[];
  cwd: string;
  /** `mcpServers` objects to mount as plugins (see mcp-servers.ts). */
  mcpServers?: ReadonlyArray<{ origin: McpServersOrigin; servers: unknown }>;
  /** For `${VAR}` in `mcpServers` entries. */
  env?: Record<string, string | undefined>;
  requestTimeoutMs?: number;
  sessionIdleTimeoutMs?: number;
  pageSize?: number;
  allowedHosts?: readonly string[];
  maxBodyBytes?: number;
  resumeGraceMs?: number;
  /** Watch plugin directories (`poll`: by polling). */
  watch?: boolean | 'poll';
  /** Quiet period before a changed folder is reloaded. */
  watchDebounceMs?: number;
  loadTimeoutMs?: number;
  maxProcessesPerPlugin?: number;
  shutdownGraceMs?: number;
  log?: Logger;
}

export interface Switchboard {
  readonly registry: PluginRegistry;
  readonly sessions: SessionStore;
  /** What went wrong while mounting plugins at start-up, one error per refused source. */
  readonly problems: readonly SwitchboardError[];
  /** Every plugin source's state (what /readyz shows). */
  statuses(): PluginStatus[];
  /** The request listener, for serving without `listen` (tests, embedding). */
  callback(): ReturnType<ReturnType<typeof createApp>['callback']>;
  /** Starts serving; resolves with the `/mcp` URL. */
  listen(port: number, host?: string): Promise<string>;
  /**
   * Shuts down in order: refuse new requests, let those in progress finish (within
   * `shutdownGraceMs`), end every client session (remote backends get their DELETE, child
   * processes end), stop. Idempotent.
   */
  close(): Promise<void>;
}

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
export const SERVER_INFO: Implementation = { name: 'mcp-switchboard', version: packageJson.version };

export async function createSwitchboard(options: SwitchboardOptions): Promise<Switchboard> {
  const log = options.log ?? createLogger();
  const registry = new PluginRegistry();
  const sessions = new SessionStore({ idleMs: options.sessionIdleTimeoutMs ?? DEFAULTS.sessionIdleTimeoutMs });
  const requests = new RequestTracker();
  const loadTimeoutMs = options.loadTimeoutMs ?? DEFAULTS.loadTimeoutMs;
  let closing: Promise<void> | undefined;

  const lifecycle = new PluginLifecycle({
    registry,
    log,
    clientInfo: SERVER_INFO,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    loadTimeoutMs,
    maxProcessesPerPlugin: options.maxProcessesPerPlugin ?? DEFAULTS.maxProcessesPerPlugin,
    onListChanged: (groups) => {
      for (const session of sessions.values()) void session.notifyListChanged(groups);
    },
    retire: async (plugin, reason) => {
      await Promise.all([...sessions.values()].map((session) => session.retire(plugin, reason, plugin.timeoutMs)));
    },
  });

  const folderSource = (folder: PluginFolder): { source: PluginSource; load: (version: number) => ReturnType<typeof loadManifest> } => ({
    source: { id: folder.path, display: folder.display, description: `plugin folder ${folder.display}`, dir: folder.path },
    load: (version) => loadManifest(folder, { version, timeoutMs: loadTimeoutMs }),
  });

  const { folders, missing } = await discover(options.pluginDirs, options.cwd);
  for (const dir of missing) log.warn({ dir }, `plugin directory ${dir} does not exist; no plugins loaded from it`);
  const sources = folders.map(folderSource);
  for (const { origin, servers } of options.mcpServers ?? []) {
    for (const entry of mcpServerEntries(servers, origin, options.env ?? {})) {
      for (const note of entry.notes) log.warn({ source: entry.source.display }, `${entry.source.description}: ${note}`);
      const { manifest, error } = entry;
      if (manifest) sources.push({ source: entry.source, load: async () => manifest });
      else if (error) sources.push({ source: entry.source, load: async () => Promise.reject(error) });
    }
  }
  const problems = await lifecycle.mountAll(sources);
  lifecycle.startAnnouncing();

  // Keep mounted plugins in step with their folders: added, changed, removed.
  const sync = async (path: string) => {
    const folder = isIgnoredFolder(basename(path)) ? undefined : await readFolder(path, options.cwd);
    if (!folder) return lifecycle.unmount(path, 'removed');
    const { source, load } = folderSource(folder);
    await lifecycle.mount(source, load);
  };
  const watch = options.watch ?? DEFAULTS.watch;
  const watched = options.pluginDirs.map((dir) => resolve(options.cwd, dir)).filter((dir) => !missing.some((m) => resolve(options.cwd, m) === dir));
  const watcher: Watcher | undefined =
    watch && watched.length
      ? watchPluginDirs(watched, {
          poll: watch === 'poll',
          debounceMs: options.watchDebounceMs ?? 300,
          log,
          onFolderChanged: (path) => void sync(path).catch((error) => log.error({ err: error, folder: path }, 'reloading a plugin folder failed')),
        })
      : undefined;
  await watcher?.ready;

  const app = createApp({
    sessions,
    requests,
    allowedHosts: options.allowedHosts ?? DEFAULTS.allowedHosts,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    resumeGraceMs: options.resumeGraceMs ?? DEFAULTS.resumeGraceMs,
    log,
    isClosing: () => closing !== undefined,
    health: () => ({ plugins: registry.size, sessions: sessions.size }),
    readiness: () => ({ ready: lifecycle.ready && closing === undefined, plugins: lifecycle.statuses() }),
    newSession: (id) => new ClientSession({ id, registry, serverInfo: SERVER_INFO, pageSize: options.pageSize ?? DEFAULTS.pageSize, log }),
  });
  sessions.startSweeping((error) => log.error({ err: error }, 'session sweep failed'));

  let server: HttpServer | undefined;

  return {
    registry,
    sessions,
    problems,
    statuses: () => lifecycle.statuses(),
    callback: () => app.callback(),
    async listen(port, host = DEFAULTS.host) {
      if (server) throw new Error('already listening');
      server = createServer(app.callback());
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', (error: NodeJS.ErrnoException) => {
          server = undefined;
          if (error.code === 'EADDRINUSE') reject(new SwitchboardError('SB_CONFIG_INVALID', `port ${port} on ${host} is already in use (set another with --port or PORT)`, { cause: error, culprit: 'port' }));
          else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') reject(new SwitchboardError('SB_CONFIG_INVALID', `cannot listen on host ${host}: ${error.code} (set another with --host or HOST)`, { cause: error, culprit: 'host' }));
          else reject(error);
        });
        listening.listen(port, host, () => resolve());
      });
      const address = listening.address() as AddressInfo;
      const wildcard = host === '0.0.0.0' || host === '::';
      const url = `http://${wildcard ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/mcp`;
      const shown = wildcard ? `http://localhost:${address.port}/mcp` : url;
      log.info({ url: shown, host, port: address.port, plugins: registry.list().map((p) => p.prefix) }, `serving ${registry.size} plugin(s) at ${shown}`);
      return url;
    },
    close() {
      closing ??= (async () => {
        sessions.stopSweeping();
        lifecycle.close();
        await watcher?.close();
        const stopped = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
        const grace = options.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs;
        if (!(await requests.drained(grace))) log.warn(`${requests.count} request(s) still in progress after ${grace} ms; ending them`);
        await sessions.endAll();
        killAllChildren();
        server?.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}

/**
 * The switchboard: discovers and mounts plugins, then serves them over HTTP.
 * Start-up is discover -> import -> validate -> mount -> probe; a plugin that fails any step is
 * reported by folder and left out, and the rest are served.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Implementation } from '@modelcontextprotocol/sdk/types.js';
import { discover } from './discover.ts';
import { loadManifest } from './load.ts';
import { Plugin } from './plugin.ts';
import { PluginRegistry } from './registry.ts';
import { connect } from './connect.ts';
import { ClientSession } from './session.ts';
import { SessionStore } from './sessions.ts';
import { createApp } from './http.ts';
import { DEFAULTS } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { SwitchboardError, messageOf } from './errors.ts';

export interface SwitchboardOptions {
  /** Plugin directories, searched in order; relative ones are resolved against `cwd`. */
  pluginDirs: readonly string[];
  cwd: string;
  requestTimeoutMs?: number;
  sessionIdleTimeoutMs?: number;
  pageSize?: number;
  allowedHosts?: readonly string[];
  maxBodyBytes?: number;
  resumeGraceMs?: number;
  log?: Logger;
}

export interface Switchboard {
  readonly registry: PluginRegistry;
  readonly sessions: SessionStore;
  /** What went wrong while loading plugins, one error per refused plugin folder. */
  readonly problems: readonly SwitchboardError[];
  /** The request listener, for serving without `listen` (tests, embedding). */
  callback(): ReturnType<ReturnType<typeof createApp>['callback']>;
  /** Starts serving; resolves with the `/mcp` URL. */
  listen(port: number, host?: string): Promise<string>;
  /** Stops accepting, ends every session and its backend sessions. Idempotent. */
  close(): Promise<void>;
}

const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
export const SERVER_INFO: Implementation = { name: 'mcp-switchboard', version: packageJson.version };

export async function createSwitchboard(options: SwitchboardOptions): Promise<Switchboard> {
  const log = options.log ?? createLogger();
  const registry = new PluginRegistry();
  const sessions = new SessionStore({ idleMs: options.sessionIdleTimeoutMs ?? DEFAULTS.sessionIdleTimeoutMs });
  const problems: SwitchboardError[] = [];
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;

  const report = (error: SwitchboardError) => {
    problems.push(error);
    log.error({ code: error.code, folder: error.culprit }, error.message);
  };

  const { folders, missing } = await discover(options.pluginDirs, options.cwd);
  for (const dir of missing) log.warn({ dir }, `plugin directory ${dir} does not exist; no plugins loaded from it`);

  // Import in parallel, mount in discovery order (so "the later folder" of a duplicate is well defined).
  const loaded = await Promise.all(folders.map((folder) => loadManifest(folder).then((manifest) => ({ folder, manifest }), (error: unknown) => ({ folder, error }))));
  for (const entry of loaded) {
    if ('error' in entry) {
      report(asSwitchboardError(entry.error, entry.folder.display));
      continue;
    }
    const plugin = new Plugin({ folder: entry.folder, manifest: entry.manifest, log, defaultTimeoutMs: requestTimeoutMs });
    try {
      registry.add(plugin);
    } catch (error) {
      report(asSwitchboardError(error, entry.folder.display));
    }
  }

  await Promise.all(
    registry.list().map(async (plugin) => {
      const failure = await probe(plugin);
      if (failure && plugin.kind === 'in-process') {
        registry.remove(plugin);
        report(failure);
      } else if (failure) {
        log.error({ folder: plugin.folder.display }, `${failure.message}; mounted anyway, requests will retry`);
      } else {
        log.info({ plugin: plugin.prefix, folder: plugin.folder.display, kind: plugin.kind }, `mounted ${plugin.label}`);
      }
    }),
  );

  const app = createApp({
    sessions,
    allowedHosts: options.allowedHosts ?? DEFAULTS.allowedHosts,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    resumeGraceMs: options.resumeGraceMs ?? DEFAULTS.resumeGraceMs,
    log,
    health: () => ({ plugins: registry.size, sessions: sessions.size }),
    newSession: (id) => new ClientSession({ id, registry, serverInfo: SERVER_INFO, pageSize: options.pageSize ?? DEFAULTS.pageSize, log }),
  });
  sessions.startSweeping((error) => log.error({ err: error }, 'session sweep failed'));

  let server: HttpServer | undefined;
  let closing: Promise<void> | undefined;

  return {
    registry,
    sessions,
    problems,
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
        const stopped = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
        await sessions.endAll();
        server?.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}

/**
 * Connects to a plugin once, as a client with no optional capabilities, to learn what it
 * offers and to find out early that it does not work. Returns the failure, if any.
 */
async function probe(plugin: Plugin): Promise<SwitchboardError | undefined> {
  try {
    const connection = await connect(plugin, { sessionId: 'probe', capabilities: {}, clientInfo: SERVER_INFO });
    const { client } = connection;
    plugin.info = {
      capabilities: client.getServerCapabilities() ?? {},
      serverInfo: client.getServerVersion(),
      instructions: client.getInstructions(),
    };
    await connection.close();
    plugin.setState('ready');
    return undefined;
  } catch (error) {
    const failure = asSwitchboardError(error, plugin.folder.display);
    plugin.setState(plugin.kind === 'remote' ? 'unavailable' : 'failed', failure.message);
    return failure;
  }
}

function asSwitchboardError(error: unknown, folder: string): SwitchboardError {
  if (error instanceof SwitchboardError) return error;
  return new SwitchboardError('SB_PLUGIN_IMPORT', `plugin folder ${folder}: ${messageOf(error)}`, { cause: error, culprit: folder });
}

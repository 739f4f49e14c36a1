/**
 * The switchboard: finds plugin sources (folders in the plugin directories, `mcpServers`
 * entries), mounts them through the plugin lifecycle, keeps them in step with their folders,
 * and serves them all over HTTP. A plugin that fails is reported by name and left out; the rest
 * are served. Nothing waits for a slow plugin: the port opens at once, and each plugin joins
 * (clients get `list_changed`) when it is ready.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, resolve } from 'node:path';
import type { Implementation } from '@modelcontextprotocol/sdk/types.js';
import { discover, isIgnoredFolder, readFolder } from './plugins/discover.ts';
import { folderSource, mcpServerSources } from './plugins/sources.ts';
import { PluginRegistry } from './plugins/registry.ts';
import { PluginLifecycle, type PluginStatus } from './plugins/lifecycle.ts';
import type { McpServers } from './plugins/mcp-servers.ts';
import { watchPluginDirs, type Watcher } from './plugins/watch.ts';
import { ClientSession } from './downstream/legacy/session.ts';
import { SessionStore } from './downstream/legacy/sessions.ts';
import { LegacyHttp } from './downstream/legacy/http.ts';
import { defaultReplicaId } from './downstream/legacy/session-id.ts';
import { Router } from './downstream/router.ts';
import { OnDemandFrontDoor } from './downstream/modern/on-demand.ts';
import { safeExposeUri } from './downstream/to-client.ts';
import { SharedBackends } from './upstream/legacy/shared.ts';
import { groupsOf, type ListGroup } from './plugins/probe.ts';
import { createApp, loadEraClassifier, RequestTracker } from './http/app.ts';
import { Authenticator } from './auth/authenticator.ts';
import { policyKey } from './config/plugin-policy.ts';
import { clientErrorHandler } from './http/limits.ts';
import { signalProcessGroup } from './upstream/legacy/child-process.ts';
import { resolveSettings, type Settings } from './config/settings.ts';
import { createLogger, type Logger } from './log.ts';
import { Secrets } from './redact.ts';
import { RpcCodes, RpcError, SwitchboardError } from './errors.ts';
import { Metrics } from './observability/metrics.ts';
import { AccessLog } from './observability/access-log.ts';
import { DEFAULT_METRICS_HOST, scrapeHandler } from './http/metrics.ts';
import { Tracing } from './observability/tracing.ts';
import { VERSION } from './version.ts';
import type { SpanExporter } from '@opentelemetry/sdk-trace';

export interface SwitchboardOptions extends Partial<Settings> {
  /** Plugin directories, searched in order; relative ones are resolved against `cwd`. */
  pluginDirs: readonly string[];
  cwd: string;
  /** `mcpServers` objects to mount as plugins (see mcp-servers.ts). */
  mcpServers?: readonly McpServers[];
  /** Where `${VAR}` in data manifests (`plugin.json`, on every load) and imported `mcpServers` entries come from. */
  env?: Record<string, string | undefined>;
  /** Values the config took from the environment (Config.substituted): scrubbed from logs like plugins' secrets. */
  substituted?: readonly string[];
  log?: Logger;
  /** Where plugins' secret values go, so the logger can scrub them (see createLogger). */
  secrets?: Secrets;
  /** Test-only: spans go to this exporter as they end (tracing on whatever `tracing` says), not to a collector. */
  traceExporter?: SpanExporter;
}

export interface Switchboard {
  readonly registry: PluginRegistry;
  readonly sessions: SessionStore;
  readonly settings: Readonly<Settings>;
  /** This switchboard's Prometheus metrics (served at `/metrics` unless the config's `metrics` is false; counted either way). */
  readonly metrics: Metrics;
  /** Resolves once every plugin source has been tried once (mounted, unavailable or failed) and the plugin directories are watched. */
  readonly settled: Promise<void>;
  /** Every plugin source's state (what /readyz shows). */
  statuses(): PluginStatus[];
  /** Why each plugin source that is not mounted could not be, one error each. */
  readonly problems: readonly SwitchboardError[];
  /** The request listener, for serving without `listen` (tests, embedding). */
  callback(): ReturnType<ReturnType<typeof createApp>['callback']>;
  /** Starts serving (by default on the configured port and host); resolves with the `/mcp` URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** The scrape-only listener's `/metrics` URL (config `metrics: { port, host }`), once listening. */
  readonly metricsUrl?: string;
  /**
   * Shuts down in order: new requests get 503 while those in progress may finish (within
   * `shutdownGraceMs`); those still running then get a JSON-RPC error naming the shutdown; every
   * client session ends (remote backends get their DELETE, child processes end); the port
   * closes. Idempotent.
   */
  close(): Promise<void>;
}

/** Whether only this machine can reach `host`. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export const SERVER_INFO: Implementation = { name: 'mcp-switchboard', version: VERSION };

/** How long the answers to requests ended by a shutdown get to reach their clients. */
const SHUTDOWN_FLUSH_MS = 1000;
/**
 * Idle keep-alive connections are kept longer than clients keep theirs (undici: 4 s), so a
 * client never sends a request on a connection the proxy is closing at that moment.
 */
const KEEP_ALIVE_MS = 65_000;

export async function createSwitchboard(options: SwitchboardOptions): Promise<Switchboard> {
  const startedAt = new Date();
  const settings = resolveSettings(options);
  options.secrets?.set('config', options.substituted ?? []);
  const log = options.log ?? createLogger();
  const auth = new Authenticator(settings.auth);
  // The collector's headers (an API key, say) never reach a log line either.
  options.secrets?.set('tracing', Object.values(settings.tracing?.headers ?? {}));
  const tracing = await Tracing.start(settings.tracing, { version: SERVER_INFO.version, log, exporter: options.traceExporter, scrub: options.secrets && ((text) => options.secrets!.scrub(text)) });
  // Inbound tokens never reach a log line or an error.
  options.secrets?.set('auth', (auth.settings?.tokens ?? []).map((entry) => entry.token));
  if (auth.mode === 'on') {
    for (const [prefix, policy] of Object.entries(settings.plugins)) {
      if (!policy.forwardHeaders?.some((name) => name.toLowerCase() === 'authorization')) continue;
      log.warn({ prefix }, `config ${policyKey(prefix)}.forwardHeaders names Authorization while auth is on: the token callers present to mcp-switchboard reaches that backend too`);
    }
  }
  const registry = new PluginRegistry();
  const sessions = new SessionStore({ idleMs: settings.sessionIdleTimeoutMs });
  const requests = new RequestTracker();
  const metrics = new Metrics({ sessions: () => sessions.size, plugins: () => lifecycle.statuses() });
  const access = new AccessLog({ metrics, log });
  const router = new Router({ registry, pageSize: settings.pageSize, listTimeoutMs: settings.listTimeoutMs });
  let closing: Promise<void> | undefined;
  // Stateless (2026) clients share backend sessions with plugins spoken to in the 2025 era.
  const shared = new SharedBackends({
    clientInfo: SERVER_INFO,
    onListChanged: (plugin, kinds) => {
      plugin.catalog.invalidate(kinds);
      if (registry.get(plugin.prefix) === plugin) announce(groupsOf(kinds));
    },
    onResourceUpdated: (plugin, uri) => modern.resourceUpdated(safeExposeUri(plugin.namespace, uri)),
  });
  const modern = new OnDemandFrontDoor({ router, shared, serverInfo: SERVER_INFO, log, tracing, inputTimeoutMs: settings.inputTimeoutMs, listTtlMs: settings.listTtlMs, access, metrics });
  /** Every client hears that these lists changed: 2025 sessions, and 2026 clients listening. */
  const announce = (groups: ListGroup[]) => {
    for (const session of sessions.values()) void session.notifyListChanged(groups);
    modern.listChanged(groups);
  };

  const lifecycle = new PluginLifecycle({
    registry,
    log,
    clientInfo: SERVER_INFO,
    requestTimeoutMs: settings.requestTimeoutMs,
    loadTimeoutMs: settings.loadTimeoutMs,
    maxProcessesPerPlugin: settings.maxProcessesPerPlugin,
    policies: settings.plugins,
    secrets: options.secrets,
    metrics,
    onListChanged: announce,
    retire: async (plugin, reason, graceMs) => {
      await Promise.all([...[...sessions.values()].map((session) => session.retire(plugin, reason, graceMs)), shared.retire(plugin, reason, graceMs)]);
    },
  });

  const loadOptions = { timeoutMs: settings.loadTimeoutMs, env: options.env };
  const { folders, missing } = await discover(options.pluginDirs, options.cwd);
  for (const dir of missing) log.warn({ dir }, `plugin directory ${dir} does not exist; no plugins loaded from it`);
  const sources = [
    ...folders.map((folder) => folderSource(folder, loadOptions)),
    ...mcpServerSources(options.mcpServers ?? [], options.env ?? {}, (source, text) => log.warn({ source: source.display }, text)),
  ];
  const mounted = lifecycle.mountAll(sources);

  // Keep mounted plugins in step with their folders: added, changed, removed.
  const sync = async (path: string) => {
    const folder = isIgnoredFolder(basename(path)) ? undefined : await readFolder(path, options.cwd);
    if (!folder) return lifecycle.unmount(path, 'removed');
    const { source, load } = folderSource(folder, loadOptions);
    await lifecycle.mount(source, load);
  };
  const watched = options.pluginDirs.map((dir) => resolve(options.cwd, dir)).filter((dir) => !missing.some((m) => resolve(options.cwd, m) === dir));
  const watcher: Watcher | undefined =
    settings.watch && watched.length
      ? watchPluginDirs(watched, {
          poll: settings.watch === 'poll',
          debounceMs: settings.watchDebounceMs,
          log,
          onFolderChanged: (path) => void sync(path).catch((error) => log.error({ err: error, folder: path }, 'reloading a plugin folder failed')),
        })
      : undefined;
  // The port opens without waiting for the watcher's first scan (a large plugin directory takes a
  // while); `settled` (and the "serving" line) waits for it, so from then on changes are seen.
  const settled = Promise.all([mounted, watcher?.ready]).then(() => {});
  settled.catch((error) => log.error({ err: error }, 'mounting plugins failed'));

  const legacy = new LegacyHttp({
    sessions,
    requests,
    maxSessions: settings.maxSessions,
    maxSessionsPerCaller: settings.maxSessionsPerCaller,
    resumeGraceMs: settings.resumeGraceMs,
    replicaId: settings.replicaId ?? defaultReplicaId(),
    log,
    newSession: (id, principal) => new ClientSession({ id, principal, router, serverInfo: SERVER_INFO, log, access, tracing }),
  });
  const app = createApp({
    requests,
    allowedHosts: settings.allowedHosts,
    cors: settings.cors,
    maxBodyBytes: settings.maxBodyBytes,
    auth,
    limits: { rateLimit: settings.rateLimit, maxRequestsPerSession: settings.maxRequestsPerSession, maxHeaders: settings.maxHeaders },
    log,
    isClosing: () => closing !== undefined,
    legacy,
    modern,
    ...(settings.metrics === true && { metrics }),
    health: () => ({ plugins: registry.size, sessions: sessions.size }),
    status: {
      version: SERVER_INFO.version,
      startedAt,
      statuses: () => lifecycle.statuses(),
      registry,
      sessions: () => sessions.size,
      requestsInProgress: () => requests.count,
      auth: () => auth.describe(),
      metrics,
    },
    readiness: (viewer) => ({
      ready: lifecycle.ready && closing === undefined,
      auth: security(),
      ...(viewer
        ? { plugins: lifecycle.statuses().filter((status) => (status.prefix === undefined ? viewer.plugins === undefined : viewer.mayUse(status.prefix))) }
        : { details: 'send a bearer token (Authorization: Bearer ...) to see the plugins' }),
    }),
  });
  sessions.startSweeping((error) => log.error({ err: error }, 'session sweep failed'));

  let server: HttpServer | undefined;
  /** The scrape-only `/metrics` listener (config `metrics: { port, host }`). */
  let scrapeServer: HttpServer | undefined;
  let metricsUrl: string | undefined;
  /** Said once listening: anyone who can reach the port can call every tool when nothing checks who calls. */
  let openWarning: string | undefined;
  const security = () => ({ mode: auth.describe(), ...(openWarning && { warning: openWarning }) });

  /** Opens the scrape-only listener; resolves with its `/metrics` URL. */
  const listenForScrapes = async (port: number, host: string): Promise<string> => {
    const scraper = createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, scrapeHandler(metrics, (error) => log.error({ err: error }, 'collecting metrics failed')));
    await new Promise<void>((resolve, reject) => {
      scraper.once('error', (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use` : `cannot listen on ${host}:${port}: ${error.code ?? error.message}`;
        reject(new SwitchboardError('SB_CONFIG_INVALID', `metrics listener (config metrics.port, metrics.host): ${why}`, { cause: error, culprit: 'metrics' }));
      });
      scraper.listen(port, host, () => resolve());
    });
    scrapeServer = scraper;
    const address = scraper.address() as AddressInfo;
    const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/metrics`;
    log.info({ url, host, port: address.port }, `metrics for scraping at ${url} (no authentication: who can reach it is decided by where it listens)`);
    return url;
  };

  return {
    registry,
    sessions,
    settings,
    metrics,
    settled,
    statuses: () => lifecycle.statuses(),
    get problems() {
      return lifecycle.problems();
    },
    get metricsUrl() {
      return metricsUrl;
    },
    callback: () => app.callback(),
    async listen(port = settings.port, host = settings.host) {
      if (server) throw new Error('already listening');
      server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS, maxHeaderSize: settings.maxHeaderBytes }, app.callback());
      server.headersTimeout = KEEP_ALIVE_MS + 1000;
      // Node drops headers past this count silently; one more than allowed lets the app see the excess (431).
      server.maxHeadersCount = settings.maxHeaders + 1;
      server.on('clientError', clientErrorHandler(settings.maxHeaderBytes));
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
      if (typeof settings.metrics === 'object') {
        try {
          metricsUrl = await listenForScrapes(settings.metrics.port, settings.metrics.host ?? DEFAULT_METRICS_HOST);
        } catch (error) {
          // Not half started: the proxy's own port closes again, and listen() may be tried anew.
          server = undefined;
          await new Promise<void>((resolve) => listening.close(() => resolve()));
          throw error;
        }
      }
      const address = listening.address() as AddressInfo;
      const wildcard = host === '0.0.0.0' || host === '::';
      const url = `http://${wildcard ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/mcp`;
      const shown = wildcard ? `http://localhost:${address.port}/mcp` : url;
      log.info({ url: shown, host, port: address.port, auth: auth.describe() }, `listening at ${shown}; plugins join as they are ready`);
      if (auth.mode === 'off' && !isLoopback(host)) {
        openWarning = `listening on ${host} with no authentication: anyone who can reach port ${address.port} can call every tool of every plugin. Set auth.tokens (or SWITCHBOARD_AUTH_TOKENS) or auth.jwt, listen on 127.0.0.1, or set auth to "none" if this is intended`;
        log.warn({ host, port: address.port }, `SECURITY: ${openWarning}`);
      }
      // The SDK v2 (the 2026 era's classifier and front door) loads now, while plugins mount, so the
      // first request does not wait for it; the port is open already.
      Promise.all([loadEraClassifier(), modern.load()]).catch((error) => log.error({ err: error }, 'loading the SDK v2 (2026-07-28 clients) failed'));
      // Once every plugin source has been tried: what is served (scripts wait for this line).
      void settled.then(() => {
        if (closing) return;
        log.info({ url: shown, host, port: address.port, plugins: registry.list().map((p) => p.prefix) }, `serving ${registry.size} plugin(s) at ${shown}`);
      });
      return url;
    },
    close() {
      closing ??= (async () => {
        sessions.stopSweeping();
        await watcher?.close();
        // The port stays open through the grace period, so new requests get a 503 that says why.
        const grace = settings.shutdownGraceMs;
        if (!(await requests.drained(grace))) {
          log.warn(`${requests.count} request(s) still in progress after ${grace} ms (shutdownGraceMs); answering them with an error`);
          const error = new RpcError(
            RpcCodes.ConnectionClosed,
            'mcp-switchboard is shutting down: the request was ended before its backend answered (it may or may not have run); try again when the proxy is back',
            { reason: 'shutdown' },
          );
          for (const session of sessions.values()) session.endRequests(error);
          modern.endRequests(error);
          await requests.drained(SHUTDOWN_FLUSH_MS);
        }
        const stopped = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
        await lifecycle.close();
        await sessions.endAll();
        await modern.close();
        await shared.close();
        for (const pid of lifecycle.processes()) signalProcessGroup(pid, 'SIGKILL');
        server?.closeAllConnections();
        await stopped;
        const scraper = scrapeServer;
        if (scraper) await new Promise<void>((resolve) => scraper.close(() => resolve()).closeAllConnections());
        // Last, so the spans of requests ended by the shutdown are exported too.
        await tracing.close();
      })();
      return closing;
    },
  };
}

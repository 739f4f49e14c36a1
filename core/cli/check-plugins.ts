/**
 * What `switchboard check` checks: plugin folders and the config file, offline, with the
 * proxy's own code and messages: the config as `serve` reads it (config.ts), each folder's
 * manifest as the loader reads it (load.ts, manifest.ts), prefixes as the registry admits them
 * (registry.ts), `mcpServers` entries as they are mounted (mcp-servers.ts).
 *
 * "Offline" means no backend is contacted: remote plugins are not connected to and command
 * plugins are not started. An in-process plugin's code is imported and its factory called once
 * (then its server closed), because that is the only way to know it returns a server; that runs
 * the plugin's own code, as `serve` would.
 */
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../config/config.ts';
import { DEFAULTS } from '../config/settings.ts';
import { discover, displayPath, readFolder, type PluginFolder } from '../plugins/discover.ts';
import { withTimeout } from '../plugins/load.ts';
import { folderSource, mcpServerSources, type SourceToLoad } from '../plugins/sources.ts';
import { Plugin, type PluginKind } from '../plugins/plugin.ts';
import { PluginRegistry } from '../plugins/registry.ts';
import { createServer } from '../upstream/legacy/in-process.ts';
import { SwitchboardError, messageOf, type ErrorCode } from '../errors.ts';
import { createLogger } from '../log.ts';

export interface Problem {
  code: ErrorCode;
  message: string;
  culprit?: string;
}

export interface CheckedSource {
  /** The folder or entry, as the proxy names it: `plugins/example`, `mcp.json#mcpServers.github`. */
  source: string;
  prefix?: string;
  kind?: PluginKind;
  /** The config's policy for its prefix says `enabled: false`: it would not be mounted. */
  disabled?: boolean;
  problem?: Problem;
}

export interface CheckReport {
  ok: boolean;
  config: { file?: string; problem?: Problem };
  plugins: CheckedSource[];
  /** What `serve` would log as a warning: a missing plugin directory, an ignored field. */
  warnings: string[];
}

/** Checks the config and the plugin sources: DIRs if given (plugin folders, or directories of them), else the config's. */
export async function checkPlugins(dirs: readonly string[], options: { configFile?: string; cwd: string; env: Record<string, string | undefined> }): Promise<CheckReport> {
  const { cwd, env } = options;
  const report: CheckReport = { ok: true, config: {}, plugins: [], warnings: [] };
  let config: Config | undefined;
  try {
    config = await loadConfig({ flags: { config: options.configFile }, env, cwd });
    report.config.file = config.configFile && displayPath(config.configFile, cwd);
  } catch (error) {
    report.config.problem = problemOf(error, 'SB_CONFIG_INVALID');
  }
  const loadTimeoutMs = config?.loadTimeoutMs ?? DEFAULTS.loadTimeoutMs;
  const sources: SourceToLoad[] = [];
  const fromFolder = (folder: PluginFolder) => folderSource(folder, { timeoutMs: loadTimeoutMs, env });

  if (dirs.length) {
    for (const dir of dirs) {
      const folder = await readFolder(resolve(cwd, dir), cwd);
      if (!folder) {
        report.plugins.push({ source: dir, problem: { code: 'SB_PLUGIN_NO_ENTRY', message: `plugin folder ${dir}: does not exist or is not a directory`, culprit: dir } });
        continue;
      }
      // A folder with an entry file is a plugin; one without is a plugin directory, unless nothing in it is a plugin either.
      const inside = folder.entries.length ? [] : (await discover([folder.path], cwd)).folders;
      sources.push(...(inside.length ? inside : [folder]).map(fromFolder));
    }
  } else {
    const { folders, missing } = await discover(config?.pluginDirs ?? DEFAULTS.pluginDirs, cwd);
    for (const dir of missing) report.warnings.push(`plugin directory ${displayPath(resolve(cwd, dir), cwd)} does not exist; no plugins loaded from it`);
    sources.push(...folders.map(fromFolder), ...mcpServerSources(config?.mcpServers ?? [], env, (_source, text) => report.warnings.push(text)));
  }

  // In discovery order, as `serve` mounts them at start-up: the first of two folders with one prefix wins it.
  const registry = new PluginRegistry();
  const log = createLogger({ level: 'silent', destination: new Writable({ write: (_chunk, _encoding, done) => done() }) });
  for (const { source, load } of sources) {
    const checked: CheckedSource = { source: source.display };
    report.plugins.push(checked);
    try {
      const { manifest, substituted } = await load();
      const policy = config && Object.hasOwn(config.plugins, manifest.prefix) ? config.plugins[manifest.prefix] : undefined;
      const plugin = new Plugin({ source, manifest, substituted, policy, log, defaultTimeoutMs: DEFAULTS.requestTimeoutMs, defaultMaxProcesses: DEFAULTS.maxProcessesPerPlugin });
      checked.prefix = plugin.prefix;
      checked.kind = plugin.kind;
      if (!plugin.enabled) {
        checked.disabled = true;
        continue;
      }
      if (plugin.kind === 'in-process') {
        const server = await withTimeout(createServer(plugin, 'switchboard-check'), loadTimeoutMs, `${plugin.label}: the server factory did not return within ${loadTimeoutMs} ms (loadTimeoutMs)`);
        await server.close().catch(() => {});
      }
      registry.add(plugin);
    } catch (error) {
      checked.problem = problemOf(error, 'SB_PLUGIN_IMPORT', source.display);
    }
  }
  report.ok = !report.config.problem && report.plugins.every((p) => !p.problem);
  return report;
}

function problemOf(error: unknown, code: ErrorCode, culprit?: string): Problem {
  if (error instanceof SwitchboardError) return { code: error.code, message: error.message, culprit: error.culprit ?? culprit };
  return { code, message: culprit ? `${culprit}: ${messageOf(error)}` : messageOf(error), culprit };
}


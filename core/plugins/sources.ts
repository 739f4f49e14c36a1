/**
 * Plugin sources and how each is loaded, as `serve` mounts them (switchboard.ts) and
 * `switchboard check` checks them (cli/check-plugins.ts): a plugin folder's manifest is imported
 * or read (load.ts); an `mcpServers` entry is converted up front (mcp-servers.ts), its problem,
 * if it has one, given when it is loaded, so it fails as a folder would.
 */
import type { Env } from '../config/expand.ts';
import type { PluginFolder } from './discover.ts';
import { loadManifest, type LoadedManifest } from './load.ts';
import { mcpServerEntries, type McpServers } from './mcp-servers.ts';
import type { PluginSource } from './plugin.ts';

export interface SourceToLoad {
  source: PluginSource;
  /** `version`: 0 the first time; a reload passes a new number (see load.ts). */
  load: (version?: number) => Promise<LoadedManifest>;
}

/** A plugin folder as a source. */
export function folderSource(folder: PluginFolder, options: { timeoutMs: number; env?: Env }): SourceToLoad {
  return {
    source: { id: folder.path, display: folder.display, description: `plugin folder ${folder.display}`, dir: folder.path },
    load: (version) => loadManifest(folder, { version, timeoutMs: options.timeoutMs, env: options.env }),
  };
}

/**
 * Every entry of every `mcpServers` object as a source, in order. What is worth a warning but
 * does not stop an entry (a renamed key, ignored fields) goes to `warn`, prefixed with the entry.
 */
export function mcpServerSources(files: readonly McpServers[], env: Env, warn: (source: PluginSource, text: string) => void): SourceToLoad[] {
  const sources: SourceToLoad[] = [];
  for (const { origin, servers, expanded } of files) {
    for (const entry of mcpServerEntries(servers, origin, env, expanded)) {
      for (const note of entry.notes) warn(entry.source, `${entry.source.description}: ${note}`);
      const { manifest, error, substituted } = entry;
      if (manifest) sources.push({ source: entry.source, load: async () => ({ manifest, substituted }) });
      else if (error) sources.push({ source: entry.source, load: () => Promise.reject(error) });
    }
  }
  return sources;
}

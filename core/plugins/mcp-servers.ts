/**
 * `mcpServers` import: the server list format of Claude Desktop, Claude Code, Cursor, Windsurf
 * (`mcpServers`) and VS Code (`servers`). Each entry becomes a plugin whose prefix is its key
 * (made valid if needed). Pure: takes the parsed object and the environment, returns manifests
 * or errors naming the entry.
 *
 * `${VAR}`, `${VAR:-default}` (Claude Code) and `${env:VAR}` (VS Code, Cursor) in an entry's
 * fields are expanded from the environment entry by entry (expand.ts), so a variable missing
 * for one entry fails that entry only, as any other problem with it does. The proxy's own
 * config file is expanded as a whole when it is read (config.ts), so its entries come here
 * already expanded.
 */
import { checkDataManifest, PREFIX_PATTERN, type PluginManifest } from './manifest.ts';
import type { PluginSource } from './plugin.ts';
import { SwitchboardError } from '../errors.ts';
import { ExpansionError, expandAll, type Env, type Substitution } from '../config/expand.ts';
import { Secrets } from '../redact.ts';

export interface McpServersOrigin {
  /** Absolute path of the file the entries came from. */
  file: string;
  /** The file as messages name it. */
  display: string;
  /** Where relative paths (cwd) are resolved: the file's directory. */
  dir: string;
  /** The key the servers are under in that file, as messages name an entry: `mcpServers` (the default) or VS Code's `servers`. */
  key?: 'mcpServers' | 'servers';
}

/** An `mcpServers` object to mount, and where it came from. */
export interface McpServers {
  origin: McpServersOrigin;
  servers: unknown;
  /**
   * Set when `${VAR}` in `servers` were expanded already (the proxy's config file is, as a
   * whole): what was substituted, paths starting at the entry's key. Unset: each entry is
   * expanded when it is converted.
   */
  expanded?: readonly Substitution[];
}

export interface McpServerEntry {
  source: PluginSource;
  manifest?: PluginManifest;
  error?: SwitchboardError;
  /** Things worth a warning that do not stop the entry (a renamed key, ignored fields). */
  notes: string[];
  /** The values its `${VAR}` took from the environment: secrets, perhaps, for the plugin to scrub. */
  substituted: readonly string[];
}

/** Fields of the client formats that mean nothing to the proxy (approval lists and the like). */
const KNOWN = new Set(['type', 'command', 'args', 'env', 'cwd', 'url', 'serverUrl', 'headers', 'disabled', 'transport']);

/** `"GitHub Server"` -> `"GitHub_Server"`: a valid prefix from any key. */
export function prefixFromKey(key: string): string {
  const cleaned = key
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 32);
  return cleaned || 'server';
}

/** `servers`' entries as plugin manifests (or errors), `${VAR}` expanded from `env` unless `expanded` says it was. */
export function mcpServerEntries(servers: unknown, origin: McpServersOrigin, env: Env, expanded?: readonly Substitution[]): McpServerEntry[] {
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) {
    const source = entrySource(origin, '');
    return [{ source, notes: [], substituted: [], error: fail(source, 'must be an object of servers, by name') }];
  }
  return Object.entries(servers).map(([key, value]) => convert(key, value, origin, env, expanded?.filter((s) => s.path[0] === key)));
}

function entrySource(origin: McpServersOrigin, key: string): PluginSource {
  return {
    id: `${origin.file}#${origin.key ?? 'mcpServers'}.${key}`,
    display: `${origin.display}#${origin.key ?? 'mcpServers'}.${key}`,
    description: `${origin.key ?? 'mcpServers'} entry "${key}" in ${origin.display}`,
    dir: origin.dir,
  };
}

function fail(source: PluginSource, message: string): SwitchboardError {
  return new SwitchboardError('SB_MCP_SERVERS', `${source.description}: ${message}`, { culprit: source.display });
}

function convert(key: string, value: unknown, origin: McpServersOrigin, env: Env, expanded: readonly Substitution[] | undefined): McpServerEntry {
  const source = entrySource(origin, key);
  const notes: string[] = [];
  let substituted: readonly string[] = [];
  const failed = (message: string): McpServerEntry => ({ source, notes, substituted, error: fail(source, message) });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return failed('must be an object with "command" or "url"');
  const ignored = Object.keys(value).filter((field) => !KNOWN.has(field));
  if (ignored.length) notes.push(`ignored field${ignored.length > 1 ? 's' : ''} ${ignored.map((f) => `"${f}"`).join(', ')}`);
  if ((value as Record<string, unknown>).disabled === true) return { source, notes: [...notes, 'disabled; not mounted'], substituted };

  const prefix = prefixFromKey(key);
  if (prefix !== key) notes.push(`the key "${key}" is not a valid prefix; mounted as "${prefix}"`);
  if (!PREFIX_PATTERN.test(prefix)) return failed(`cannot make a prefix of "${key}"`);

  // Only the fields used are expanded: a variable in an ignored field cannot fail the entry.
  let entry = Object.fromEntries(Object.entries(value).filter(([field]) => KNOWN.has(field)));
  if (expanded) {
    substituted = expanded.map((s) => s.value);
  } else {
    try {
      const result = expandAll(entry, env);
      entry = result.value;
      substituted = result.substitutions.map((s) => s.value);
    } catch (error) {
      if (error instanceof ExpansionError) return failed(error.message);
      throw error;
    }
  }

  let manifest: unknown;
  const url = entry.url ?? entry.serverUrl;
  const type = typeof entry.type === 'string' ? entry.type : typeof entry.transport === 'string' ? entry.transport : undefined;
  if (type === 'stdio' || (type === undefined && entry.command !== undefined)) {
    manifest = {
      prefix,
      name: key,
      command: {
        command: entry.command,
        ...(entry.args !== undefined && { args: entry.args }),
        ...(entry.env !== undefined && { env: entry.env }),
        ...(entry.cwd !== undefined && { cwd: entry.cwd }),
      },
    };
  } else if (url !== undefined) {
    const transport =
      type === 'sse' ? 'sse' : type === 'http' || type === 'streamable-http' || type === 'streamableHttp' ? 'streamable-http' : type === undefined ? 'auto' : undefined;
    if (transport === undefined) return failed(`unknown type "${type}" (expected stdio, http or sse)`);
    manifest = { prefix, name: key, remote: { url, transport, ...(entry.headers !== undefined && { headers: entry.headers }) } };
  } else {
    return failed('needs "command" (a stdio server) or "url" (a remote server)');
  }
  const checked = checkDataManifest(manifest);
  if ('problems' in checked) {
    const scrubber = new Secrets();
    scrubber.set('entry', substituted);
    return failed(scrubber.scrub(checked.problems.map((p) => p.replace(/^command\.command/, 'command').replace(/^remote\.url/, 'url')).join('; ')));
  }
  return { source, notes, substituted, manifest: checked.manifest };
}

/**
 * `mcpServers` import: the server list format of Claude Desktop, Claude Code, Cursor, Windsurf
 * (`mcpServers`) and VS Code (`servers`). Each entry becomes a plugin whose prefix is its key
 * (made valid if needed). Pure: takes the parsed object and the environment, returns manifests
 * or errors naming the entry.
 */
import { checkDataManifest, PREFIX_PATTERN, type PluginManifest } from './manifest.ts';
import type { PluginSource } from './plugin.ts';
import { SwitchboardError } from '../errors.ts';

export interface McpServersOrigin {
  /** Absolute path of the file the entries came from. */
  file: string;
  /** The file as messages name it. */
  display: string;
  /** Where relative paths (cwd) are resolved: the file's directory. */
  dir: string;
}

export interface McpServerEntry {
  source: PluginSource;
  manifest?: PluginManifest;
  error?: SwitchboardError;
  /** Things worth a warning that do not stop the entry (a renamed key, ignored fields). */
  notes: string[];
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

/**
 * Expands `${env:NAME}`, `${NAME}` and `${NAME:-default}` (the forms VS Code and Claude Code use)
 * from `env`. Throws naming the variable when one is unset and has no default.
 */
export function expandVariables(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (whole, name: string, fallback: string | undefined) => {
    const found = env[name];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    throw new Error(`environment variable ${name} is not set (used as ${whole})`);
  });
}

export function mcpServerEntries(servers: unknown, origin: McpServersOrigin, env: Record<string, string | undefined>): McpServerEntry[] {
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) {
    const source = entrySource(origin, '');
    return [{ source, notes: [], error: fail(source, 'must be an object of servers, by name') }];
  }
  return Object.entries(servers).map(([key, value]) => convert(key, value, origin, env));
}

function entrySource(origin: McpServersOrigin, key: string): PluginSource {
  return {
    id: `${origin.file}#mcpServers.${key}`,
    display: `${origin.display}#mcpServers.${key}`,
    description: `mcpServers entry "${key}" in ${origin.display}`,
    dir: origin.dir,
  };
}

function fail(source: PluginSource, message: string): SwitchboardError {
  return new SwitchboardError('SB_MCP_SERVERS', `${source.description}: ${message}`, { culprit: source.display });
}

function convert(key: string, value: unknown, origin: McpServersOrigin, env: Record<string, string | undefined>): McpServerEntry {
  const source = entrySource(origin, key);
  const notes: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { source, notes, error: fail(source, 'must be an object with "command" or "url"') };
  }
  const entry = value as Record<string, unknown>;
  const ignored = Object.keys(entry).filter((field) => !KNOWN.has(field));
  if (ignored.length) notes.push(`ignored field${ignored.length > 1 ? 's' : ''} ${ignored.map((f) => `"${f}"`).join(', ')}`);
  if (entry.disabled === true) return { source, notes: [...notes, 'disabled; not mounted'] };

  const prefix = prefixFromKey(key);
  if (prefix !== key) notes.push(`the key "${key}" is not a valid prefix; mounted as "${prefix}"`);
  if (!PREFIX_PATTERN.test(prefix)) return { source, notes, error: fail(source, `cannot make a prefix of "${key}"`) };

  let manifest: unknown;
  try {
    const expand = (v: unknown) => (typeof v === 'string' ? expandVariables(v, env) : v);
    const expandAll = (record: unknown) =>
      record && typeof record === 'object' ? Object.fromEntries(Object.entries(record).map(([k, v]) => [k, expand(v)])) : record;
    const url = entry.url ?? entry.serverUrl;
    const type = typeof entry.type === 'string' ? entry.type : typeof entry.transport === 'string' ? entry.transport : undefined;
    if (type === 'stdio' || (type === undefined && entry.command !== undefined)) {
      manifest = {
        prefix,
        name: key,
        command: {
          command: expand(entry.command),
          ...(entry.args !== undefined && { args: Array.isArray(entry.args) ? entry.args.map(expand) : entry.args }),
          ...(entry.env !== undefined && { env: expandAll(entry.env) }),
          ...(entry.cwd !== undefined && { cwd: expand(entry.cwd) }),
        },
      };
    } else if (url !== undefined) {
      const transport =
        type === 'sse' ? 'sse' : type === 'http' || type === 'streamable-http' || type === 'streamableHttp' ? 'streamable-http' : type === undefined ? 'auto' : undefined;
      if (transport === undefined) return { source, notes, error: fail(source, `unknown type "${type}" (expected stdio, http or sse)`) };
      manifest = {
        prefix,
        name: key,
        remote: { url: expand(url), transport, ...(entry.headers !== undefined && { headers: expandAll(entry.headers) }) },
      };
    } else {
      return { source, notes, error: fail(source, 'needs "command" (a stdio server) or "url" (a remote server)') };
    }
  } catch (error) {
    return { source, notes, error: fail(source, (error as Error).message) };
  }
  const checked = checkDataManifest(manifest);
  if ('problems' in checked) return { source, notes, error: fail(source, checked.problems.map((p) => p.replace(/^command\.command/, 'command').replace(/^remote\.url/, 'url')).join('; ')) };
  return { source, notes, manifest: checked.manifest };
}

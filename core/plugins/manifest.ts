/**
 * The plugin contract: a plugin folder's default export is a manifest, plain data checked
 * here at load time. `definePlugin` only gives authors types; it returns its argument.
 */
import { z } from 'zod';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from '../log.ts';

/** Anything with the SDK server's `connect`/`close`: `McpServer` or the low-level `Server`. */
export interface McpServerLike {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

/** What an in-process plugin's factory receives for each client session. */
export interface PluginContext {
  /** The client session this server instance serves. */
  readonly sessionId: string;
  /** A logger tagged with the plugin's prefix. */
  readonly log: Logger;
  /**
   * Plugins written with the SDK v2 (served statelessly, a server per request): how to tell
   * listening clients that lists or a resource changed. A per-request server cannot send
   * `list_changed` itself. Undefined for plugins served in the 2025 era (a server per session,
   * whose own `sendToolListChanged()` works).
   */
  readonly notify?: {
    toolsChanged(): void;
    promptsChanged(): void;
    resourcesChanged(): void;
    resourceUpdated(uri: string): void;
  };
}

export type ServerFactory = (context: PluginContext) => McpServerLike | Promise<McpServerLike>;

export interface RemoteBackend {
  /** The MCP endpoint, e.g. `http://localhost:3001/mcp`. */
  url: string;
  /** Sent with every request to the backend (e.g. `Authorization`). */
  headers?: Record<string, string>;
  /** How long one request to this backend may take, in ms. Overrides the manifest's `timeoutMs`. */
  timeoutMs?: number;
  /** `auto` (default) tries streamable HTTP, then the legacy SSE transport. */
  transport?: 'auto' | 'streamable-http' | 'sse';
  /**
   * The protocol era to speak: `auto` (default) asks `server/discover` and speaks 2026-07-28 if the
   * backend answers, else 2025-11-25 (`initialize`); or one of the two, to insist.
   */
  era?: 'auto' | '2026-07-28' | '2025-11-25';
}

export interface CommandBackend {
  /** The program to start, e.g. `npx`. It speaks MCP on stdin/stdout; its stderr goes to the log. */
  command: string;
  args?: string[];
  /** Added to a minimal inherited environment (HOME, PATH, SHELL, TERM, USER, LOGNAME). */
  env?: Record<string, string>;
  /** Working directory (relative paths are relative to the plugin folder). */
  cwd?: string;
  /** Most processes of this plugin alive at once (one per client session); default from config. */
  maxProcesses?: number;
}

interface ManifestBase {
  /**
   * Names become `prefix_name`, URIs `scheme://prefix/...`. Letters, digits, `_` and `-`,
   * starting with a letter or digit, at most 32 characters. The empty string mounts the
   * plugin without a prefix (at most one plugin may do that).
   */
  prefix: string;
  name?: string;
  description?: string;
  version?: string;
  /** How long one request to this plugin may take, in ms (default from config, 60000). */
  timeoutMs?: number;
  /** `GET /readyz` answers 503 until this plugin is ready. */
  required?: boolean;
}

export interface InProcessManifest extends ManifestBase {
  /** Returns a fresh MCP server for each client session. */
  server: ServerFactory;
  remote?: never;
  command?: never;
}

export interface RemoteManifest extends ManifestBase {
  remote: RemoteBackend;
  server?: never;
  command?: never;
}

export interface CommandManifest extends ManifestBase {
  /** A stdio MCP server, one process per client session that uses it. */
  command: CommandBackend;
  server?: never;
  remote?: never;
}

export type PluginManifest = InProcessManifest | RemoteManifest | CommandManifest;

/** The kinds of plugin, by the manifest field that makes them. */
export const KINDS = ['server', 'remote', 'command'] as const;

/** Identity helper for plugin authors: `export default definePlugin({...})`. */
export function definePlugin(manifest: PluginManifest): PluginManifest {
  return manifest;
}

export const PREFIX_PATTERN = /^(?:[A-Za-z0-9][A-Za-z0-9_-]{0,31})?$/;

const timeoutMs = z.number().int().positive().max(24 * 60 * 60 * 1000);

const remoteSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  headers: z.record(z.string(), z.string()).optional(),
  timeoutMs: timeoutMs.optional(),
  transport: z.enum(['auto', 'streamable-http', 'sse']).optional(),
  era: z.enum(['auto', '2026-07-28', '2025-11-25']).optional(),
});

const commandSchema = z.strictObject({
  command: z.string({ error: 'is required (the program to start, e.g. "npx")' }).min(1),
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  cwd: z.string().optional(),
  maxProcesses: z.number().int().positive().optional(),
});

export const manifestSchema = z
  .strictObject({
    prefix: z.string({ error: 'is required (a string; "" mounts without a prefix)' }).regex(PREFIX_PATTERN, {
      error:
        'must be 1-32 letters, digits, "_" or "-", starting with a letter or digit (or "" for no prefix)',
    }),
    name: z.string().optional(),
    description: z.string().optional(),
    version: z.string().optional(),
    timeoutMs: timeoutMs.optional(),
    server: z
      .custom<ServerFactory>((value) => typeof value === 'function', {
        error: 'must be a function returning an MCP server (McpServer or Server)',
      })
      .optional(),
    remote: remoteSchema.optional(),
    command: commandSchema.optional(),
    required: z.boolean().optional(),
  })
  .superRefine((manifest, ctx) => {
    const kinds = KINDS.filter((key) => manifest[key] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message:
          kinds.length === 0
            ? 'needs exactly one of "server" (in-process), "remote" (URL) or "command" (stdio); it has none'
            : `needs exactly one of "server", "remote" or "command"; it has ${kinds.map((k) => `"${k}"`).join(' and ')}`,
      });
    }
  });

/**
 * Checks a no-code manifest (`plugin.json`, `plugin.yaml`, an `mcpServers` entry): the same
 * fields as a module's, except `server`, which needs code.
 */
export function checkDataManifest(value: unknown): { manifest: PluginManifest } | { problems: string[] } {
  if (typeof value === 'object' && value !== null && 'server' in value) {
    return { problems: ['server: needs code (an index.ts); a data manifest can be "remote" or "command"'] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problems: ['must be an object of manifest fields'] };
  return checkManifest(value);
}

/**
 * Checks a default export against the contract. Returns the manifest, or the list of
 * problems, each naming the field (`remote.url: must be ...`).
 */
export function checkManifest(value: unknown): { manifest: PluginManifest } | { problems: string[] } {
  if (value === undefined) return { problems: ['the entry file has no default export (export default definePlugin({...}))'] };
  const result = manifestSchema.safeParse(value, { reportInput: true });
  if (result.success) return { manifest: result.data as PluginManifest };
  return { problems: result.error.issues.map(describeIssue) };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const where = field ? `${field}: ` : '';
    return `${where}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${field}: is required`;
  if (issue.code === 'invalid_type') return `${field}: must be ${issue.expected}, not ${typeName(issue.input)}`;
  return field ? `${field}: ${issue.message}` : issue.message;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

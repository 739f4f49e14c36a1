/**
 * Configuration: defaults < config file < environment < command-line flags.
 *
 * The config file is found by cosmiconfig (`switchboard.config.{json,yaml,js,mjs,ts}`,
 * `.switchboardrc*`, or a "switchboard" key in package.json), or named by `--config` /
 * `SWITCHBOARD_CONFIG`. Every key can also be set by environment variable
 * (`SWITCHBOARD_` + the key in UPPER_SNAKE_CASE; `PORT` and `HOST` work too).
 * Unknown keys and bad values are errors that name the key and where it came from.
 *
 * `${VAR}` and `${VAR:-default}` in any string of the config file are expanded from the
 * environment first (expand.ts), the whole parsed file at once, before it is checked.
 */
import { cosmiconfig } from 'cosmiconfig';
import { readFile } from 'node:fs/promises';
import { delimiter, dirname, resolve } from 'node:path';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { SwitchboardError } from '../errors.ts';
import { importHooks, typeScriptLoader } from '../typescript.ts';
import { DEFAULTS, SETTING_SCHEMAS, resolveSettings, type Settings } from './settings.ts';
import { ExpansionError, expandAll, type Env, type Substitution } from './expand.ts';
import type { McpServers } from '../plugins/mcp-servers.ts';
import { displayPath } from '../plugins/discover.ts';
import { Secrets } from '../redact.ts';
import { closest } from '../did-you-mean.ts';
import { resolveTracing } from '../observability/tracing-settings.ts';

/** The settings, plus what only a config file, the environment or flags can say. */
export interface Config extends Settings {
  /** `mcpServers` objects to mount: the config file's own, then those of the files in `mcpServersFrom`. */
  mcpServers: McpServers[];
  /** The config file that was read, if any. */
  configFile?: string;
  /**
   * The values `${VAR}` in the config file took from the environment: secrets, perhaps, to be
   * scrubbed from logs (createSwitchboard registers them with its `Secrets`).
   */
  substituted: readonly string[];
}

const settings = {
  ...SETTING_SCHEMAS,
  mcpServers: z.record(z.string(), z.unknown()),
  mcpServersFrom: z.array(z.string().min(1)),
};
type Key = keyof typeof settings;
const KEYS = Object.keys(settings) as Key[];

const fileSchema = z.strictObject(Object.fromEntries(KEYS.map((key) => [key, settings[key].optional()])) as {
  [K in Key]: z.ZodOptional<(typeof settings)[K]>;
});
type FileSettings = z.infer<typeof fileSchema>;

/** `sessionIdleTimeoutMs` -> `SWITCHBOARD_SESSION_IDLE_TIMEOUT_MS`. */
export function envName(key: string): string {
  return `SWITCHBOARD_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export interface ConfigSources {
  /** Command-line flags already parsed (see main.ts). */
  flags?: { port?: string; host?: string; plugins?: string[]; mcpServers?: string[]; config?: string; logLevel?: string; logFormat?: string };
  env?: Record<string, string | undefined>;
  /** Where relative paths from the environment and flags are resolved, and the config search starts. */
  cwd: string;
}

export async function loadConfig(sources: ConfigSources): Promise<Config> {
  const env = sources.env ?? {};
  const flags = sources.flags ?? {};
  const file = await readConfigFile(flags.config ?? env.SWITCHBOARD_CONFIG, sources.cwd, env);

  const fromEnv: Record<string, unknown> = {};
  for (const key of KEYS) {
    const name = envName(key);
    const raw = env[name] ?? (key === 'port' ? env.PORT : key === 'host' ? env.HOST : key === 'logLevel' ? env.LOG_LEVEL : undefined);
    if (raw !== undefined && raw !== '' && !PATH_LISTS.includes(key)) fromEnv[key] = fromString(key, raw, `environment variable ${name}`);
  }
  const fromFlags: Record<string, unknown> = {};
  if (flags.port !== undefined) fromFlags.port = fromString('port', flags.port, 'flag --port');
  if (flags.host !== undefined) fromFlags.host = fromString('host', flags.host, 'flag --host');
  if (flags.logLevel !== undefined) fromFlags.logLevel = fromString('logLevel', flags.logLevel, 'flag --log-level');
  if (flags.logFormat !== undefined) fromFlags.logFormat = fromString('logFormat', flags.logFormat, 'flag --log-format');
  check(fromEnv, 'the environment');
  check(fromFlags, 'the command line');

  const merged = { ...DEFAULTS, ...file.settings, ...fromEnv, ...fromFlags } as typeof DEFAULTS & FileSettings;

  // Plugin directories add up: the file's (or the default `plugins`), then the environment's, then the flags'.
  const base = file.settings.pluginDirs
    ? file.settings.pluginDirs.map((dir) => resolve(file.dir, dir))
    : DEFAULTS.pluginDirs.map((dir) => resolve(sources.cwd, dir));
  const extra = [
    ...(env.SWITCHBOARD_PLUGIN_DIRS ?? '').split(delimiter).filter(Boolean),
    ...(flags.plugins ?? []),
  ].map((dir) => resolve(sources.cwd, dir));

  // mcpServers: the config file's (or the environment's, as JSON), then every file named to import from.
  const mcpServers: Config['mcpServers'] = [];
  const inline = (fromEnv.mcpServers ?? file.settings.mcpServers) as Record<string, unknown> | undefined;
  if (inline) {
    if (fromEnv.mcpServers) {
      // Expanded entry by entry when mounted (mcp-servers.ts), as an imported file's are.
      mcpServers.push({ origin: { file: 'SWITCHBOARD_MCP_SERVERS', display: 'environment variable SWITCHBOARD_MCP_SERVERS', dir: sources.cwd }, servers: inline });
    } else {
      // Already expanded with the rest of the file: what went where, by entry.
      const expanded = file.substitutions.filter((s) => s.path[0] === 'mcpServers').map((s) => ({ ...s, path: s.path.slice(1) }));
      mcpServers.push({ origin: { file: file.path!, display: displayPath(file.path!, sources.cwd), dir: file.dir }, servers: inline, expanded });
    }
  }
  const importFiles = [
    ...(file.settings.mcpServersFrom ?? []).map((f) => resolve(file.dir, expandHome(f, env))),
    ...(env.SWITCHBOARD_MCP_SERVERS_FROM ?? '').split(delimiter).filter(Boolean).map((f) => resolve(sources.cwd, expandHome(f, env))),
    ...(flags.mcpServers ?? []).map((f) => resolve(sources.cwd, expandHome(f, env))),
  ];
  for (const path of new Set(importFiles)) mcpServers.push(await readMcpServersFile(path, sources.cwd));

  // SWITCHBOARD_AUTH_TOKENS: comma-separated tokens that may use every plugin, added to auth.tokens.
  const envTokens = (env.SWITCHBOARD_AUTH_TOKENS ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const auth = envTokens.length ? withTokens(merged.auth, envTokens) : merged.auth;

  // tracing: the setting's keys over OpenTelemetry's own variables (OTEL_EXPORTER_OTLP_ENDPOINT...).
  const tracing = resolveTracing(merged.tracing, env);

  const { mcpServers: _inline, mcpServersFrom: _from, ...chosen } = merged;
  return {
    ...resolveSettings({ ...chosen, auth, tracing }),
    pluginDirs: [...new Set([...base, ...extra])],
    mcpServers,
    configFile: file.path,
    substituted: [...new Set(file.substitutions.map((s) => s.value))],
  };
}

function withTokens(auth: Settings['auth'], tokens: string[]): Settings['auth'] {
  const where = 'environment variable SWITCHBOARD_AUTH_TOKENS';
  if (auth === 'none') throw new SwitchboardError('SB_CONFIG_INVALID', `${where}: tokens are set, but auth is "none"; remove one of the two`, { culprit: where });
  const short = tokens.findIndex((token) => token.length < 16);
  if (short >= 0) throw new SwitchboardError('SB_CONFIG_INVALID', `${where}: token ${short + 1} is shorter than 16 characters (use a random one: openssl rand -hex 32)`, { culprit: where });
  const entries = tokens.map((token, i) => ({ token, name: `env-token-${i + 1}` }));
  return { ...auth, tokens: [...(auth?.tokens ?? []), ...entries] };
}

/** Settings whose environment variable is a path list (`:`-separated), handled apart. */
const PATH_LISTS: readonly Key[] = ['pluginDirs', 'mcpServersFrom'];

function expandHome(path: string, env: Record<string, string | undefined>): string {
  return path.startsWith('~/') && env.HOME ? `${env.HOME}${path.slice(1)}` : path;
}

/**
 * The servers of another client's config file: `mcpServers` (Claude Desktop, Claude Code,
 * Cursor, Windsurf) or `servers` (VS Code). Comments and trailing commas are allowed (VS Code
 * writes them); every other key of the file is left alone.
 */
async function readMcpServersFile(path: string, cwd: string): Promise<McpServers> {
  const display = displayPath(path, cwd);
  const where = `mcpServers file ${display}`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SwitchboardError('SB_CONFIG_INVALID', `${where}: cannot be read: ${(error as Error).message}`, { cause: error, culprit: display });
  }
  const errors: ParseError[] = [];
  const parsed = parseJsonc(text, errors, { allowTrailingComma: true }) as Record<string, unknown> | undefined;
  if (errors.length || typeof parsed !== 'object' || parsed === null) {
    const first = errors[0];
    throw new SwitchboardError('SB_CONFIG_INVALID', `${where}: not valid JSON${first ? ` (${printParseErrorCode(first.error)} at offset ${first.offset})` : ''}`, { culprit: display });
  }
  const servers = parsed.mcpServers ?? parsed.servers;
  if (servers === undefined) throw new SwitchboardError('SB_CONFIG_INVALID', `${where}: has no "mcpServers" (or "servers") object`, { culprit: display });
  return { origin: { file: path, display, dir: dirname(path), key: parsed.mcpServers === undefined ? 'servers' : 'mcpServers' }, servers };
}

/** Settings given as JSON in the environment, with an example for the error when they are not. */
const JSON_EXAMPLES: Partial<Record<Key, string>> = {
  mcpServers: '{"fs": {"command": "npx", "args": [...]}}',
  plugins: '{"github": {"tools": {"deny": ["delete_*"]}}}',
  cors: '{"origins": ["https://app.example.com"]}',
  rateLimit: '{"requests": 600, "perSeconds": 60}',
  auth: '{"tokens": ["<a long random token>"]}, or none',
  metrics: 'false, or {"port": 9464, "host": "0.0.0.0"}',
  tracing: '{"endpoint": "http://localhost:4318"}',
};

/** A setting from a string (environment or flag): numbers parsed, lists split on commas, objects as JSON. */
function fromString(key: Key, raw: string, where: string): unknown {
  const schema = settings[key];
  let value: unknown = raw;
  if (schema instanceof z.ZodNumber) value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
  else if (schema instanceof z.ZodArray) value = raw.split(',').map((s) => s.trim()).filter(Boolean);
  else if (key === 'watch') value = raw === 'true' ? true : raw === 'false' ? false : raw;
  else if (key === 'auth' && raw.trim() === 'none') value = 'none';
  else if (key in JSON_EXAMPLES) {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new SwitchboardError('SB_CONFIG_INVALID', `${where} (${key}): must be JSON, e.g. ${JSON_EXAMPLES[key]}`, { culprit: where });
    }
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    // Objects' problems name the key inside them (`plugins.github.tools`), as the file's do, and never quote the
    // value back (an auth setting carries tokens).
    if (key in JSON_EXAMPLES) throw configError(fileSchema.safeParse({ [key]: value }).error!, where);
    throw new SwitchboardError('SB_CONFIG_INVALID', `${where} (${key}): ${JSON.stringify(raw)} is not valid: ${result.error.issues[0]?.message}`, {
      culprit: where,
    });
  }
  return result.data;
}

function check(values: Record<string, unknown>, where: string): void {
  const result = fileSchema.safeParse(values);
  if (!result.success) throw configError(result.error, where);
}

async function readConfigFile(
  explicit: string | undefined,
  cwd: string,
  env: Env,
): Promise<{ settings: FileSettings; dir: string; path?: string; substitutions: Substitution[] }> {
  const importLoader = async (filepath: string) => {
    await (/\.m?ts$/.test(filepath) ? typeScriptLoader() : importHooks());
    return ((await import(pathToFileURL(filepath).href)) as { default?: unknown }).default;
  };
  const explorer = cosmiconfig('switchboard', {
    loaders: { '.ts': importLoader, '.mts': importLoader, '.js': importLoader, '.mjs': importLoader },
    searchPlaces: [
      'package.json',
      '.switchboardrc',
      '.switchboardrc.json',
      '.switchboardrc.yaml',
      '.switchboardrc.yml',
      '.switchboardrc.js',
      '.switchboardrc.mjs',
      '.switchboardrc.ts',
      'switchboard.config.json',
      'switchboard.config.yaml',
      'switchboard.config.yml',
      'switchboard.config.js',
      'switchboard.config.mjs',
      'switchboard.config.ts',
    ],
    stopDir: cwd,
  });
  let found;
  try {
    found = explicit ? await explorer.load(resolve(cwd, explicit)) : await explorer.search(cwd);
  } catch (error) {
    const where = explicit ? `config file ${explicit}` : 'config file';
    throw new SwitchboardError('SB_CONFIG_INVALID', `${where}: cannot be read: ${(error as Error).message}`, { cause: error, culprit: where });
  }
  if (!found || found.isEmpty) return { settings: {}, dir: cwd, path: found?.filepath, substitutions: [] };
  // Named as `switchboard check` and plugin folders are: relative to the working directory when inside it.
  const where = `config file ${displayPath(found.filepath, cwd)}`;
  let expanded: { value: unknown; substitutions: Substitution[] };
  try {
    expanded = expandAll(found.config as unknown, env);
  } catch (error) {
    if (error instanceof ExpansionError) throw new SwitchboardError('SB_CONFIG_INVALID', `${where}: ${error.message}`, { culprit: where });
    throw error;
  }
  const result = fileSchema.safeParse(expanded.value);
  if (!result.success) {
    // A value from the environment that fails its check is not quoted back (zod's messages do not quote, but to be sure).
    const scrubber = new Secrets();
    scrubber.set('config', expanded.substitutions.map((s) => s.value));
    throw configError(result.error, where, (text) => scrubber.scrub(text));
  }
  return { settings: result.data, dir: dirname(found.filepath), path: found.filepath, substitutions: expanded.substitutions };
}

function configError(error: z.ZodError, where: string, scrub: (text: string) => string = (text) => text): SwitchboardError {
  const problems = error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(fileSchema, issue.path);
      return issue.keys
        .map((key) => {
          const hint = closest(key, known);
          return `unknown key "${keyPath([...issue.path, key])}"${hint ? ` (did you mean "${hint}"?)` : ''}`;
        })
        .join('; ');
    }
    if (issue.code === 'invalid_type' && issue.path.length === 0) return `must be an object of settings`;
    if (issue.code === 'invalid_key') return `key "${keyPath(issue.path)}": ${issue.issues[0]?.message ?? issue.message}`;
    return `key "${keyPath(issue.path)}": ${issue.message}`;
  });
  return new SwitchboardError('SB_CONFIG_INVALID', scrub(`${where}: ${problems.join('; ')}`), { culprit: where });
}

/** `plugins.github.tools` (a key that is not a plain word in brackets: `plugins["my server"]`). */
function keyPath(path: readonly PropertyKey[]): string {
  return path.map((part, i) => (typeof part === 'string' && !/^[A-Za-z0-9_$-]+$/.test(part) ? `[${JSON.stringify(part)}]` : `${i ? '.' : ''}${String(part)}`)).join('');
}

/** The keys an object at `path` in `schema` may have (for "did you mean"); none if it is not a known object. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = schema;
  for (const part of path) {
    while (current instanceof z.ZodOptional) current = current.unwrap() as z.ZodType;
    if (current instanceof z.ZodObject) current = current.shape[String(part)] as z.ZodType | undefined;
    else if (current instanceof z.ZodRecord) current = current.valueType as z.ZodType;
    else return [];
  }
  while (current instanceof z.ZodOptional) current = current.unwrap() as z.ZodType;
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

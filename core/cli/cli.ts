/**
 * The `switchboard` command's client side: `list` and `call` against any MCP endpoint, in the
 * spirit of `fastmcp list` / `fastmcp call`. Takes its arguments and output streams as
 * parameters and returns an exit code; main.ts connects it to the process.
 */
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { CallToolResultSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { SERVER_INFO } from '../switchboard.ts';
import { describeNetworkError } from '../upstream/fetch.ts';

export interface Output {
  write(text: string): unknown;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
  /** The environment: SWITCHBOARD_TOKEN is the bearer token when --token is not given. */
  env?: Record<string, string | undefined>;
}

/** Exit codes: success, a failed call or request, a usage mistake. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

class UsageError extends Error {}

const CLIENT_INFO = { name: 'switchboard-cli', version: SERVER_INFO.version };

export const CLIENT_USAGE = `  switchboard plugins [URL] [--json] [--token TOKEN]
      The plugins of a running proxy (default http://localhost:8490/mcp): kind, state, counts.
  switchboard list URL [--json] [--token TOKEN] [--header "Name: value"]...
      Lists tools (with their arguments), prompts, resources and resource templates.
  switchboard call URL TOOL [key=value]... [--args JSON] [--json] [--token TOKEN] [--header "Name: value"]...
      Calls a tool. key=value arguments are typed by the tool's input schema
      (numbers, booleans, JSON for objects and arrays); --args gives them all as JSON.
      Exits 1 when the tool reports an error.
  --token (or SWITCHBOARD_TOKEN) is sent as "Authorization: Bearer TOKEN", for a proxy with auth on.`;

interface PluginRow {
  prefix?: string;
  source: string;
  kind?: string;
  state: string;
  required: boolean;
  since: string;
  error?: string;
  counts?: { tools: number; prompts: number; resources: number; resourceTemplates: number };
  processes?: number;
}

/** `switchboard plugins [URL]`: reads the proxy's /readyz and prints a table. */
export async function runPluginsCommand(argv: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false }, token: { type: 'string' } } });
  } catch (error) {
    io.stderr.write(`switchboard plugins: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const target = parsed.positionals[0] ?? 'http://localhost:8490/mcp';
  let readyz: URL;
  try {
    readyz = new URL('/readyz', target);
  } catch {
    io.stderr.write(`switchboard plugins: "${target}" is not a URL (e.g. http://localhost:8490/mcp)\n`);
    return EXIT.usage;
  }
  let body: { ready: boolean; plugins: PluginRow[]; details?: string };
  try {
    const response = await fetch(readyz, { headers: bearer(parsed.values.token, io) });
    body = (await response.json()) as typeof body;
    if (!Array.isArray(body.plugins) && body.details) throw new Error(`${body.details}: pass --token or set SWITCHBOARD_TOKEN`);
    if (!Array.isArray(body.plugins)) throw new Error(`unexpected answer from ${readyz} (HTTP ${response.status}); is it an mcp-switchboard?`);
  } catch (error) {
    io.stderr.write(`switchboard plugins: cannot read ${readyz}: ${describe(error)}\n`);
    return EXIT.failed;
  }
  if (parsed.values.json) {
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return EXIT.ok;
  }
  const rows = body.plugins.map((p) => [
    p.prefix === undefined ? '-' : p.prefix === '' ? '(none)' : p.prefix,
    p.kind ?? '-',
    `${p.state}${p.required ? ' (required)' : ''}`,
    p.counts ? String(p.counts.tools) : '-',
    p.counts ? String(p.counts.prompts) : '-',
    p.counts ? String(p.counts.resources) : '-',
    p.counts ? String(p.counts.resourceTemplates) : '-',
    p.processes === undefined ? '-' : String(p.processes),
    p.source,
  ]);
  const header = ['PREFIX', 'KIND', 'STATE', 'TOOLS', 'PROMPTS', 'RESOURCES', 'TEMPLATES', 'PROCESSES', 'SOURCE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const out = [line(header), ...rows.map(line)];
  for (const p of body.plugins) if (p.error && p.state !== 'ready') out.push(`  ${p.prefix ?? p.source}: ${p.error}`);
  out.push(body.ready ? 'ready' : 'not ready: a required plugin is not ready');
  io.stdout.write(`${out.join('\n')}\n`);
  return body.ready ? EXIT.ok : EXIT.failed;
}

export async function runClientCommand(command: 'list' | 'call', argv: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        args: { type: 'string' },
        header: { type: 'string', multiple: true, default: [] },
        token: { type: 'string' },
      },
    });
  } catch (error) {
    io.stderr.write(`switchboard ${command}: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [url, tool, ...pairs] = positionals;
  if (!url || (command === 'call' && !tool) || (command === 'list' && positionals.length > 1)) {
    io.stderr.write(`usage:\n${CLIENT_USAGE}\n`);
    return EXIT.usage;
  }

  let client: Client;
  try {
    client = await connectClient(url, { ...bearer(values.token, io), ...parseHeaders(values.header ?? []) });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`switchboard ${command}: ${error.message}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`switchboard ${command}: cannot connect to ${url}: ${describe(error)}\n`);
    return EXIT.failed;
  }
  try {
    return command === 'list' ? await list(client, values.json ?? false, io) : await call(client, tool!, pairs, values, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`switchboard ${command}: ${error.message}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`switchboard ${command}: ${describe(error)}\n`);
    return EXIT.failed;
  } finally {
    await closeClient(client);
  }
}

async function list(client: Client, json: boolean, io: CliIO): Promise<number> {
  const capabilities = client.getServerCapabilities() ?? {};
  const tools = capabilities.tools ? await all((cursor) => client.listTools({ cursor }), 'tools') : [];
  const prompts = capabilities.prompts ? await all((cursor) => client.listPrompts({ cursor }), 'prompts') : [];
  const resources = capabilities.resources ? await all((cursor) => client.listResources({ cursor }), 'resources') : [];
  const resourceTemplates = capabilities.resources
    ? await all((cursor) => client.listResourceTemplates({ cursor }), 'resourceTemplates')
    : [];
  if (json) {
    io.stdout.write(`${JSON.stringify({ tools, prompts, resources, resourceTemplates }, null, 2)}\n`);
    return EXIT.ok;
  }
  const out: string[] = [];
  out.push(`Tools (${tools.length})`);
  for (const tool of tools as Tool[]) {
    out.push(`  ${tool.name}${tool.description ? `  ${firstLine(tool.description)}` : ''}`);
    const properties = (tool.inputSchema?.properties ?? {}) as Record<string, { type?: unknown; description?: string }>;
    const required = new Set((tool.inputSchema?.required as string[] | undefined) ?? []);
    const names = Object.keys(properties);
    if (names.length === 0) out.push('      (no arguments)');
    for (const name of names) {
      const spec = properties[name]!;
      const type = Array.isArray(spec.type) ? spec.type.join('|') : String(spec.type ?? 'any');
      out.push(`      ${name}: ${type}${required.has(name) ? ' (required)' : ''}${spec.description ? `  ${firstLine(spec.description)}` : ''}`);
    }
  }
  out.push('', `Prompts (${prompts.length})`);
  for (const prompt of prompts as Array<{ name: string; description?: string; arguments?: Array<{ name: string; required?: boolean }> }>) {
    const args = (prompt.arguments ?? []).map((a) => `${a.name}${a.required ? '' : '?'}`).join(', ');
    out.push(`  ${prompt.name}(${args})${prompt.description ? `  ${firstLine(prompt.description)}` : ''}`);
  }
  out.push('', `Resources (${resources.length})`);
  for (const resource of resources as Array<{ uri: string; name?: string; mimeType?: string }>) {
    out.push(`  ${resource.uri}${resource.name ? `  ${resource.name}` : ''}${resource.mimeType ? `  (${resource.mimeType})` : ''}`);
  }
  out.push('', `Resource templates (${resourceTemplates.length})`);
  for (const template of resourceTemplates as Array<{ uriTemplate: string; name?: string }>) {
    out.push(`  ${template.uriTemplate}${template.name ? `  ${template.name}` : ''}`);
  }
  io.stdout.write(`${out.join('\n')}\n`);
  return EXIT.ok;
}

async function call(
  client: Client,
  name: string,
  pairs: string[],
  values: { json?: boolean; args?: string },
  io: CliIO,
): Promise<number> {
  const tools = (await all((cursor) => client.listTools({ cursor }), 'tools')) as Tool[];
  const tool = tools.find((t) => t.name === name);
  if (!tool) {
    const near = tools.filter((t) => t.name.includes(name) || name.includes(t.name)).map((t) => t.name);
    throw new UsageError(`no tool named "${name}"${near.length ? ` (did you mean ${near.map((n) => `"${n}"`).join(', ')}?)` : ''}; \`switchboard list\` shows the tools`);
  }
  const args = buildArguments(tool, pairs, values.args);
  // request() instead of callTool(): print exactly what the server sent, without client-side schema checks.
  const result = (await client.request({ method: 'tools/call', params: { name, arguments: args } }, CallToolResultSchema)) as CallToolResult;
  if (values.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const text = renderContent(result);
    (result.isError ? io.stderr : io.stdout).write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
  }
  return result.isError ? EXIT.failed : EXIT.ok;
}

/** Tool arguments from `--args` JSON and `key=value` pairs, typed by the tool's input schema. */
export function buildArguments(tool: Pick<Tool, 'name' | 'inputSchema'>, pairs: string[], json?: string): Record<string, unknown> {
  let args: Record<string, unknown> = {};
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      throw new UsageError(`--args is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--args must be a JSON object');
    args = parsed as Record<string, unknown>;
  }
  const properties = (tool.inputSchema?.properties ?? {}) as Record<string, { type?: unknown }>;
  const extra = tool.inputSchema?.additionalProperties;
  const closed = extra === false || (Object.keys(properties).length > 0 && (extra === undefined || extra === false));
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`argument "${pair}" is not key=value`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    const spec = properties[key];
    if (!spec && closed) {
      const known = Object.keys(properties);
      throw new UsageError(`tool "${tool.name}" has no argument "${key}"${known.length ? ` (it takes: ${known.join(', ')})` : ' (it takes none)'}`);
    }
    args[key] = typed(key, raw, spec?.type);
  }
  return args;
}

function typed(key: string, raw: string, type: unknown): unknown {
  const types = Array.isArray(type) ? type.map(String) : type === undefined ? [] : [String(type)];
  if (types.length === 1 && types[0] === 'string') return raw;
  if (types.length === 1 && (types[0] === 'number' || types[0] === 'integer')) {
    const n = Number(raw);
    if (raw.trim() === '' || Number.isNaN(n) || (types[0] === 'integer' && !Number.isInteger(n))) {
      throw new UsageError(`argument ${key} must be ${types[0] === 'integer' ? 'an integer' : 'a number'}, got "${raw}"`);
    }
    return n;
  }
  if (types.length === 1 && types[0] === 'boolean') {
    if (/^(true|yes|1)$/i.test(raw)) return true;
    if (/^(false|no|0)$/i.test(raw)) return false;
    throw new UsageError(`argument ${key} must be true or false, got "${raw}"`);
  }
  if (types.length === 1 && (types[0] === 'object' || types[0] === 'array')) {
    try {
      return JSON.parse(raw);
    } catch {
      throw new UsageError(`argument ${key} must be JSON (${types[0]}), got "${raw}"`);
    }
  }
  // No single declared type: JSON when it parses (numbers, true, {...}), the string otherwise.
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function renderContent(result: CallToolResult): string {
  const parts = (result.content ?? []).map((block) => {
    switch (block.type) {
      case 'text':
        return block.text;
      case 'image':
      case 'audio':
        return `[${block.type} ${block.mimeType}, ${Buffer.from(block.data, 'base64').length} bytes]`;
      case 'resource':
        return 'text' in block.resource ? String(block.resource.text) : `[resource ${block.resource.uri}]`;
      case 'resource_link':
        return `[resource link ${block.uri}]`;
      default:
        return JSON.stringify(block);
    }
  });
  if (parts.length === 0 && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent, null, 2);
  return parts.join('\n');
}

async function all<T>(fetchPage: (cursor?: string) => Promise<{ nextCursor?: string } & Record<string, unknown>>, key: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    items.push(...((page[key] as T[]) ?? []));
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** The Authorization header for --token, or else SWITCHBOARD_TOKEN; none without either. */
function bearer(token: string | undefined, io: CliIO): Record<string, string> {
  const value = token ?? io.env?.SWITCHBOARD_TOKEN;
  return value ? { Authorization: `Bearer ${value}` } : {};
}

function parseHeaders(headers: string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const header of headers) {
    const colon = header.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header must be "Name: value", got "${header}"`);
    result[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  return result;
}

/** Connects with streamable HTTP, falling back to legacy SSE for servers that only speak that. */
export async function connectClient(url: string, headers: Record<string, string> = {}): Promise<Client> {
  let endpoint: URL;
  try {
    endpoint = new URL(url);
  } catch {
    throw new UsageError(`"${url}" is not a URL (e.g. http://localhost:8490/mcp)`);
  }
  const client = new Client(CLIENT_INFO);
  try {
    await client.connect(new StreamableHTTPClientTransport(endpoint, { requestInit: { headers } }));
    return client;
  } catch (error) {
    if (!(error instanceof StreamableHTTPError && [400, 404, 405].includes(error.code ?? 0))) throw error;
  }
  const sseClient = new Client(CLIENT_INFO);
  await sseClient.connect(new SSEClientTransport(endpoint, { requestInit: { headers } }));
  return sseClient;
}

async function closeClient(client: Client): Promise<void> {
  const transport = client.transport;
  if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => {});
  await client.close().catch(() => {});
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

function describe(error: unknown): string {
  if (error instanceof StreamableHTTPError && (error.code === 401 || error.code === 403)) {
    // The proxy's answer is a JSON-RPC error that says why; the way out is a token.
    const said = /"message":"((?:[^"\\]|\\.)*)"/.exec(error.message)?.[1] ?? `HTTP ${error.code}`;
    return `${said.replace(/\\"/g, '"')} (pass --token or set SWITCHBOARD_TOKEN)`;
  }
  if (error instanceof McpError) return `error ${error.code}: ${error.message.replace(/^MCP error -?\d+: /, '')}`;
  return describeNetworkError(error);
}

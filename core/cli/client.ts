/**
 * The client side shared by `plugins`, `list`, `call`, `get` and `read`: the options every one of
 * them takes (`--json`, `--header`, `--token`), connecting to an MCP endpoint, and saying why a
 * request failed in words a user can act on.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../version.ts';
import { describeNetworkError } from '../upstream/fetch.ts';
import { EXIT, UsageError, type CliIO } from './io.ts';

const CLIENT_INFO = { name: 'switchboard-cli', version: VERSION };

/** The default endpoint, where `switchboard serve` listens. */
export const DEFAULT_URL = 'http://localhost:8490/mcp';

/**
 * Where a `switchboard serve` started with the same environment listens: the port in
 * SWITCHBOARD_PORT (or PORT), read as serve reads it; a value that is no port is a usage error.
 */
export function defaultUrl(env: Record<string, string | undefined> = {}): string {
  const name = env.SWITCHBOARD_PORT !== undefined ? 'SWITCHBOARD_PORT' : 'PORT';
  const raw = env[name]?.trim();
  if (!raw) return DEFAULT_URL;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port < 1 || port > 65535) throw new UsageError(`${name}=${JSON.stringify(env[name])} is not a port (1-65535); give the URL`);
  return `http://localhost:${port}/mcp`;
}

/** The options of every client command. */
export const CLIENT_OPTIONS = {
  json: { type: 'boolean' },
  header: { type: 'string', multiple: true },
  token: { type: 'string' },
} as const;

export const CLIENT_OPTIONS_HELP = `  --json                  Print the server's answer as JSON (for scripts and jq).
  --header "Name: value"  Send this header with every request (repeatable).
  --token TOKEN           Send "Authorization: Bearer TOKEN" (default: $SWITCHBOARD_TOKEN).
  -h, --help              This help.`;

export interface ClientValues {
  json?: boolean;
  header?: string[];
  token?: string;
}

/** The headers to send: `--header`s, and the bearer token of `--token` or SWITCHBOARD_TOKEN. */
export function requestHeaders(values: ClientValues, io: CliIO): Record<string, string> {
  const headers: Record<string, string> = {};
  const token = values.token ?? io.env?.SWITCHBOARD_TOKEN;
  if (token) headers.Authorization = `Bearer ${token}`;
  for (const header of values.header ?? []) {
    const colon = header.indexOf(':');
    const name = header.slice(0, colon).trim();
    if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`--header must be "Name: value", got "${header}"`);
    headers[name] = header.slice(colon + 1).trim();
  }
  return headers;
}

/** `url` as a URL, or a usage error that shows what one looks like. */
export function endpointOf(url: string): URL {
  try {
    const endpoint = new URL(url);
    if (endpoint.protocol === 'http:' || endpoint.protocol === 'https:') return endpoint;
  } catch {
    // fall through
  }
  throw new UsageError(`"${url}" is not an http(s) URL (e.g. ${DEFAULT_URL})`);
}

/** Connects with streamable HTTP, falling back to legacy SSE for servers that only speak that. */
export async function connectClient(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const endpoint = endpointOf(url);
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

/**
 * Connects to `url`, runs `work` with the client and closes it (ending the session). A usage
 * mistake exits 2; a connection or request that fails exits 1, saying why.
 */
export async function withClient(command: string, url: string, values: ClientValues, io: CliIO, work: (client: Client) => Promise<number>): Promise<number> {
  const headers = requestHeaders(values, io);
  endpointOf(url);
  let client: Client;
  try {
    client = await connectClient(url, headers);
  } catch (error) {
    io.stderr.write(`switchboard ${command}: cannot connect to ${url}: ${describeFailure(error)}\n`);
    return EXIT.failed;
  }
  try {
    return await work(client);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    io.stderr.write(`switchboard ${command}: ${describeFailure(error)}\n`);
    return EXIT.failed;
  } finally {
    const transport = client.transport;
    if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => {});
    await client.close().catch(() => {});
  }
}

/** Every page of a list. */
export async function all<T>(fetchPage: (cursor?: string) => Promise<{ nextCursor?: string } & Record<string, unknown>>, key: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    items.push(...((page[key] as T[]) ?? []));
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

export function describeFailure(error: unknown): string {
  if (error instanceof StreamableHTTPError && (error.code === 401 || error.code === 403)) {
    // The proxy's answer is a JSON-RPC error that says why; the way out is a token.
    const said = /"message":"((?:[^"\\]|\\.)*)"/.exec(error.message)?.[1] ?? `HTTP ${error.code}`;
    return `${said.replace(/\\"/g, '"')} (pass --token or set SWITCHBOARD_TOKEN)`;
  }
  if (error instanceof McpError) return `error ${error.code}: ${error.message.replace(/^(?:MCP error -?\d+: )+/, '')}`;
  return describeNetworkError(error);
}

/** `text`'s first line, trimmed: descriptions in one-line listings. */
export function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Connecting: one MCP client connection to a plugin's backend, for one client session
 * (or for the proxy's own probe). In-process plugins get a fresh server from their factory,
 * linked in memory; remote plugins get their own HTTP session; command plugins their own
 * child process.
 */
import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { ClientCapabilities, Implementation } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import type { Plugin } from '../plugins/plugin.ts';
import type { McpServerLike } from '../plugins/manifest.ts';
import { ChildProcessTransport } from './child-process.ts';
import { SwitchboardError, messageOf } from '../errors.ts';

export interface ConnectOptions {
  /** The client session this connection serves (`probe` for the proxy's own check). */
  sessionId: string;
  /** Declared to the backend, so it offers what it would offer the real client. */
  capabilities: ClientCapabilities;
  clientInfo: Implementation;
  /** Installs handlers on the client before it connects (backend-to-client traffic). */
  setup?: (client: Client) => void;
}

export interface Connection {
  client: Client;
  /** Ends the backend session (a remote backend gets its DELETE). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * One JSON Schema validator for every SDK client and server the proxy makes: the SDK would give
 * each its own Ajv instance (about 19 KiB each, three per client session).
 */
export const sharedValidator = new AjvJsonSchemaValidator();

/** Which transport answered last time, per remote URL, so later sessions skip the failed try. */
const remoteTransportKind = new Map<string, 'streamable-http' | 'sse'>();

export async function connect(plugin: Plugin, options: ConnectOptions): Promise<Connection> {
  switch (plugin.kind) {
    case 'in-process':
      return connectInProcess(plugin, options);
    case 'remote':
      return connectRemote(plugin, options);
    case 'command':
      return connectCommand(plugin, options);
  }
}

function newClient(plugin: Plugin, options: ConnectOptions): Client {
  const client = new Client(options.clientInfo, { capabilities: options.capabilities, jsonSchemaValidator: sharedValidator });
  client.onerror = (error) => plugin.log.debug({ err: error }, 'backend connection error');
  options.setup?.(client);
  return client;
}

async function connectInProcess(plugin: Plugin, options: ConnectOptions): Promise<Connection> {
  let server: McpServerLike;
  try {
    server = await plugin.manifest.server!({ sessionId: options.sessionId, log: plugin.log });
    if (typeof server?.connect !== 'function') throw new Error('the factory did not return an MCP server (McpServer or Server)');
  } catch (error) {
    throw new SwitchboardError('SB_PLUGIN_FACTORY', `${plugin.label}: server factory failed: ${messageOf(error)}`, {
      cause: error,
      culprit: plugin.source.display,
    });
  }
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = newClient(plugin, options);
  try {
    await server.connect(serverSide);
    await client.connect(clientSide, { timeout: plugin.timeoutMs });
  } catch (error) {
    await server.close().catch(() => {});
    throw new SwitchboardError('SB_PLUGIN_FACTORY', `${plugin.label}: server failed to initialize: ${messageOf(error)}`, {
      cause: error,
      culprit: plugin.source.display,
    });
  }
  return {
    client,
    close: once(async () => {
      await client.close().catch(() => {});
      await server.close().catch(() => {});
    }),
  };
}

async function connectRemote(plugin: Plugin, options: ConnectOptions): Promise<Connection> {
  const remote = plugin.manifest.remote!;
  const url = new URL(remote.url);
  const requestInit: RequestInit = { headers: remote.headers };
  const preferred = remote.transport && remote.transport !== 'auto' ? remote.transport : remoteTransportKind.get(remote.url);
  const attempts: Array<'streamable-http' | 'sse'> = preferred ? [preferred] : ['streamable-http', 'sse'];

  let lastError: unknown;
  for (const kind of attempts) {
    const client = newClient(plugin, options);
    const transport =
      kind === 'streamable-http'
        ? new StreamableHTTPClientTransport(url, { requestInit, fetch: fetchWithOwnSignal })
        : new SSEClientTransport(url, { requestInit, eventSourceInit: { fetch: withHeaders(remote.headers) } });
    try {
      await client.connect(transport, { timeout: plugin.timeoutMs });
      remoteTransportKind.set(remote.url, kind);
      return {
        client,
        close: once(async () => {
          if (transport instanceof StreamableHTTPClientTransport && transport.sessionId) {
            await transport.terminateSession().catch((error) => plugin.log.debug({ err: error }, 'DELETE to backend failed'));
          }
          await client.close().catch(() => {});
        }),
      };
    } catch (error) {
      lastError = error;
      await client.close().catch(() => {});
      // Only an HTTP answer that says "not streamable HTTP here" is worth the SSE try.
      const notStreamable = error instanceof StreamableHTTPError && [400, 404, 405].includes(error.code ?? 0);
      if (!notStreamable) break;
    }
  }
  throw new SwitchboardError('SB_BACKEND_UNAVAILABLE', `${plugin.label}: cannot reach ${remote.url}: ${describeNetworkError(lastError)}`, {
    cause: lastError,
    culprit: plugin.source.display,
  });
}

/** A command plugin: a child process of its own for this session, at most `maxProcesses` at once. */
async function connectCommand(plugin: Plugin, options: ConnectOptions): Promise<Connection> {
  const spec = plugin.manifest.command!;
  if (plugin.processes.size >= plugin.maxProcesses) {
    throw new SwitchboardError(
      'SB_PROCESS_LIMIT',
      `${plugin.label}: ${plugin.processes.size} processes are running, its limit (maxProcesses); try again when a session ends`,
      { culprit: plugin.source.display },
    );
  }
  const transport = new ChildProcessTransport({
    command: spec.command,
    args: spec.args ?? [],
    env: spec.env,
    cwd: resolve(plugin.source.dir, spec.cwd ?? '.'),
    log: plugin.log,
    onSpawn: (pid) => plugin.processes.add(pid),
    onExit: (pid) => plugin.processes.delete(pid),
  });
  const client = newClient(plugin, options);
  try {
    await client.connect(transport, { timeout: plugin.timeoutMs });
  } catch (error) {
    await transport.close().catch(() => {});
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `command not found: ${spec.command}` : messageOf(error);
    throw new SwitchboardError('SB_BACKEND_UNAVAILABLE', `${plugin.label}: cannot start ${spec.command}: ${reason}`, {
      cause: error,
      culprit: plugin.source.display,
    });
  }
  return {
    client,
    close: once(async () => {
      await client.close().catch(() => {});
      await transport.close();
    }),
  };
}

/** `close` for a Connection: runs once; later calls wait for that one. */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

/**
 * The SDK's HTTP transport hands its one AbortSignal (the one close() aborts) to every fetch,
 * and undici keeps a listener on it for each request until that request is garbage-collected:
 * a busy backend session piles up thousands (MaxListenersExceededWarning). Each fetch gets its
 * own signal instead; one listener per transport signal aborts them all, and the own signals
 * are held weakly, so a finished request leaves nothing behind.
 */
export const fetchWithOwnSignal: typeof fetch = (input, init) => {
  const shared = init?.signal;
  if (!shared) return fetch(input, init);
  const own = new AbortController();
  // The request holds its signal while it runs; the signal holds its controller.
  Object.defineProperty(own.signal, CONTROLLER, { value: own });
  if (shared.aborted) own.abort(shared.reason);
  else requestsOf(shared).add(new WeakRef(own));
  return fetch(input, { ...init, signal: own.signal });
};

const CONTROLLER = Symbol('controller');
const requests = new WeakMap<AbortSignal, Set<WeakRef<AbortController>>>();
const forget = new FinalizationRegistry<() => void>((remove) => remove());

function requestsOf(shared: AbortSignal): { add(ref: WeakRef<AbortController>): void } {
  let live = requests.get(shared);
  if (!live) {
    const set = new Set<WeakRef<AbortController>>();
    live = set;
    requests.set(shared, set);
    shared.addEventListener(
      'abort',
      () => {
        for (const ref of set) ref.deref()?.abort(shared.reason);
        set.clear();
      },
      { once: true },
    );
  }
  const set = live;
  return {
    add(ref) {
      set.add(ref);
      forget.register(ref.deref()!, () => set.delete(ref));
    },
  };
}

/** The legacy SSE transport opens its event stream with its own fetch: give it the headers too. */
function withHeaders(headers: Record<string, string> | undefined): typeof fetch {
  return (input, init) => fetch(input, { ...init, headers: { ...headers, ...Object.fromEntries(new Headers(init?.headers)) } });
}

/** `fetch failed` says nothing; its cause (ECONNREFUSED, ENOTFOUND...) says what went wrong. */
export function describeNetworkError(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return `${messageOf(error)} (${cause.code})`;
  return messageOf(error);
}

/**
 * Shared test plumbing: a proxy on port 0, the official SDK client, and real server processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { createSwitchboard, type Switchboard, type SwitchboardOptions } from '../core/switchboard.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { Secrets } from '../core/redact.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** For tests speaking raw HTTP to /mcp: the Accept header streamable HTTP asks for, and a 2025-era initialize. */
export const ACCEPT = 'application/json, text/event-stream';
export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw-http-test', version: '1' } },
};

/** A logger that keeps its lines in memory, so tests can assert on what the proxy logged. */
export function memoryLogger(secrets?: Secrets): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: createLogger({ level: 'debug', destination: sink, secrets }), lines: () => lines };
}

export interface RunningProxy {
  switchboard: Switchboard;
  url: string;
  logs: () => Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * A proxy on a free port, with its log in memory. Resolves once every plugin source has been
 * tried (the proxy itself serves before that; `settled: false` returns as soon as it listens).
 */
export async function startProxy(options: Partial<SwitchboardOptions> & { pluginDirs: readonly string[]; settled?: boolean }): Promise<RunningProxy> {
  const secrets = options.secrets ?? new Secrets();
  const { log, lines } = memoryLogger(secrets);
  const { settled = true, ...rest } = options;
  const switchboard = await createSwitchboard({ cwd: ROOT, log, secrets, ...rest });
  const url = await switchboard.listen(0, '127.0.0.1');
  if (settled) await switchboard.settled;
  return { switchboard, url, logs: lines, close: () => switchboard.close() };
}

export interface Connected {
  client: Client;
  transport: StreamableHTTPClientTransport;
  close(): Promise<void>;
}

/** The official SDK client, connected over streamable HTTP. `close()` ends the session with DELETE. */
export async function connect(url: string, capabilities: ClientCapabilities = {}, setup?: (client: Client) => void, fetch?: typeof globalThis.fetch): Promise<Connected> {
  const client = new Client({ name: 'test-client', version: '1.0.0' }, { capabilities });
  setup?.(client);
  const transport = new StreamableHTTPClientTransport(new URL(url), fetch && { fetch });
  await client.connect(transport);
  return {
    client,
    transport,
    async close() {
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

export interface RunningProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves when the output matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

/** Starts a process and waits until it prints a URL line matching `ready` (group 1 is the URL). */
export async function startProcess(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; ready: RegExp; cwd?: string; timeoutMs?: number },
): Promise<RunningProcess> {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stop() reaches grandchildren too (npm does not pass SIGTERM on).
    detached: true,
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const waitFor = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = output.match(pattern);
        if (match) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(match);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`timed out waiting for ${pattern} from ${command} ${args.join(' ')}; output so far:\n${output}`));
      }, timeoutMs);
      listeners.add(check);
      check();
      child.once('exit', () => {
        if (!output.match(pattern)) {
          clearTimeout(timer);
          listeners.delete(check);
          reject(new Error(`${command} ${args.join(' ')} exited before printing ${pattern}; output:\n${output}`));
        }
      });
    });

  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is already gone
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      signalGroup('SIGTERM');
      const killer = setTimeout(() => signalGroup('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    signalGroup('SIGKILL'); // anything of the group still around after its leader exited
  };

  try {
    const match = await waitFor(options.ready, options.timeoutMs);
    return { child, url: match[1]!, output: () => output, waitFor, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The tests' own remote MCP server (test/fixtures/remote-server.ts) as a separate process. */
export function startRemoteFixture(): Promise<RunningProcess> {
  return startProcess(process.execPath, ['--import', 'tsx', 'test/fixtures/remote-server.ts'], {
    env: { PORT: '0' },
    ready: /listening (http:\S+)/,
  });
}

/** `@modelcontextprotocol/server-everything` over streamable HTTP, a server we did not write. */
export async function startEverything(): Promise<RunningProcess> {
  const port = await freePort();
  const entry = fileURLToPath(import.meta.resolve('@modelcontextprotocol/server-everything/dist/index.js'));
  const proc = await startProcess(process.execPath, [entry, 'streamableHttp'], {
    env: { PORT: String(port) },
    ready: /listening on port (\d+)/,
  });
  return { ...proc, url: `http://127.0.0.1:${port}/mcp` };
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The text of a tool result's first content block. */
export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  const block = content[0];
  if (!block || block.type !== 'text') throw new Error(`expected a text result, got ${JSON.stringify(result)}`);
  return block.text!;
}

/** Whether a process exists (a zombie not yet reaped counts). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves true once `pid` is gone; killed processes are reaped a moment later (by init, for orphans). */
export async function gone(pid: number, timeoutMs = 8000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

/** Polls `probe` until it gives a value (not undefined); throws naming `what` after `timeoutMs`. */
export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The processes a benchmark runs (the proxy, the remote fixture, the 5,000-tool server) and
 * what can be read about them from outside: resident set size and open file descriptors from
 * /proc, readiness from the proxy's own endpoints.
 *
 * Every process is started in its own process group and remembered, so `stopAll()` ends it and
 * anything it started, whatever state the benchmark failed in; an `exit` hook sends SIGKILL to
 * any group still alive as a last resort.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Output kept per process, for error messages (a 10,000-session run prints a lot). */
const KEEP_OUTPUT = 64 * 1024;

export interface Running {
  child: ChildProcess;
  pid: number;
  /** Group 1 of the `ready` pattern (a URL). */
  url: string;
  /** The last output (stdout and stderr together). */
  output(): string;
  /** Node's process warnings it printed (`(node:PID) MaxListenersExceededWarning: ...`), the first 100. */
  warnings: string[];
  /** Resolves with the match once the output matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

const running = new Set<Running>();

/** The Node binary the processes under test run on (`--node`); the load generator stays on this one. */
let nodeBinary = process.execPath;

export function setNodeBinary(path: string): void {
  nodeBinary = path;
}

/** `vX.Y.Z` of the Node the processes under test run on. */
export function nodeVersion(): string {
  return execFileSync(nodeBinary, ['--version'], { encoding: 'utf8' }).trim();
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

process.on('exit', () => {
  for (const proc of running) signalGroup(proc.pid, 'SIGKILL');
});

/** Starts `node ARGS` (on the `--node` binary) in ROOT and resolves once its output matches `ready` (group 1: a URL). */
export function startNode(args: string[], ready: RegExp, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Running> {
  return startProcess(nodeBinary, args, ready, env, timeoutMs);
}

/** Starts `COMMAND ARGS` in ROOT and resolves once its output matches `ready` (group 1: a URL). */
export async function startProcess(command: string, args: string[], ready: RegExp, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Running> {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  // Only the output's tail is kept; waitFor matches the tail plus what arrives after it.
  const watchers = new Set<(chunk: string) => void>();
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-KEEP_OUTPUT);
    for (const watcher of watchers) watcher(text);
  };
  const warnings: string[] = [];
  let partial = '';
  child.stdout!.on('data', onData);
  child.stderr!.on('data', (chunk: Buffer) => {
    onData(chunk);
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (/^\(node:\d+\) \w*Warning/.test(line) && warnings.length < 100) warnings.push(line);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const describe = `${command} ${args.join(' ')}`;

  const waitFor = (pattern: RegExp, waitMs = timeoutMs) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      let seen = output;
      const done = (error?: Error, match?: RegExpMatchArray) => {
        watchers.delete(watch);
        clearTimeout(timer);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve(match!);
      };
      const watch = (text: string) => {
        seen = (seen + text).slice(-KEEP_OUTPUT);
        const match = seen.match(pattern);
        if (match) done(undefined, match);
      };
      const onExit = (code: number | null, signal: string | null) =>
        done(new Error(`${describe} exited (${signal ?? code}) before printing ${pattern}; output:\n${output}`));
      const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern} from ${describe}; output so far:\n${output}`)), waitMs);
      watchers.add(watch);
      child.once('exit', onExit);
      watch('');
    });

  const proc: Running = {
    child,
    pid: child.pid!,
    url: '',
    output: () => output,
    warnings,
    waitFor,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        signalGroup(child.pid!, 'SIGTERM');
        const killer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      }
      signalGroup(child.pid!, 'SIGKILL'); // anything of the group still around after its leader exited
      running.delete(proc);
    },
  };
  running.add(proc);
  try {
    proc.url = (await waitFor(ready))[1]!;
    return proc;
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

/** Stops every process started here that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((proc) => proc.stop()));
}

export interface Proxy extends Running {
  /** The inspector's WebSocket URL, when started with `inspect`. */
  inspectorUrl?: string;
  /** `http://host:port` (no `/mcp`). */
  base: string;
}

/**
 * The proxy as `node [--expose-gc --inspect=0] bin/switchboard.js serve --port 0 --host
 * 127.0.0.1 --log-format json --plugins DIR...`, once it serves and every plugin is ready.
 * `inspect` adds `--expose-gc --inspect=0` (see inspector.ts for why the inspector).
 */
let proxyNodeOptions: string[] = [];

/** Node options for every proxy the bench starts (not for its clients or backends). */
export function setProxyNodeOptions(options: string[]): void {
  proxyNodeOptions = options;
}

interface ProxyOptions {
  pluginDirs: string[];
  inspect?: boolean;
  env?: Record<string, string>;
}

/** The proxy's log line once every plugin source has been tried (group 1: the `/mcp` URL). */
export const PROXY_SERVING = /"msg":"serving[^"]*? at (http:[^"]+)"/;

/** Starts the proxy and resolves at its PROXY_SERVING line, before checking its plugins. */
export function spawnProxy(options: ProxyOptions): Promise<Running> {
  const flags = [...proxyNodeOptions, ...(options.inspect ? ['--expose-gc', '--inspect=0'] : [])];
  // bin/switchboard.js, as `npm start` and the image run it: on a Node that strips types the core
  // runs without tsx (core/typescript.ts).
  const args = [...flags, 'bin/switchboard.js', 'serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json'];
  for (const dir of options.pluginDirs) args.push('--plugins', dir);
  return startNode(args, PROXY_SERVING, options.env);
}

export async function startProxy(options: ProxyOptions): Promise<Proxy> {
  const proc = await spawnProxy(options);
  const inspectorUrl = options.inspect ? (await proc.waitFor(/Debugger listening on (ws:\/\/\S+)/))[1] : undefined;
  const base = new URL(proc.url).origin;
  await allPluginsReady(base);
  return Object.assign(proc, { inspectorUrl, base });
}

/** Polls `/readyz` until every plugin is `ready` (the port opens before plugins have joined); resolves with how many there are. */
export async function allPluginsReady(base: string, timeoutMs = 60_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    const response = await fetch(`${base}/readyz`);
    const body = (await response.json()) as { plugins: Array<{ state: string }> };
    last = JSON.stringify(body);
    if (body.plugins.length > 0 && body.plugins.every((plugin) => plugin.state === 'ready')) return body.plugins.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the proxy's plugins were not all ready after ${timeoutMs} ms: ${last}`);
}

/** The tests' remote MCP server (test/fixtures/remote-server.ts). */
export function startRemoteFixture(): Promise<Running> {
  return startNode(['--import', 'tsx', 'test/fixtures/remote-server.ts'], /listening (http:\S+)/, { PORT: '0' });
}

/** bare-server.ts serving the plugin module `plugin` (an index.ts path) on its own. */
export function startBareServer(plugin: string): Promise<Running> {
  return startNode(['--import', 'tsx', 'bench/bare-server.ts'], /listening (http:\S+)/, { PLUGIN: plugin, PORT: '0' });
}

/** The proxy's `/healthz` body: plugins mounted and client sessions open. */
export async function health(base: string): Promise<{ plugins: number; sessions: number }> {
  return (await (await fetch(`${base}/healthz`)).json()) as { plugins: number; sessions: number };
}

/** Resident set size in bytes (VmRSS). */
export async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Open file descriptors (sockets, pipes, files): the entries of /proc/PID/fd. */
export async function fdCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** Samples RSS every `everyMs` until stopped; resolves with the highest seen. */
export function sampleRss(pid: number, everyMs = 100): { stop(): Promise<number> } {
  let peak = 0;
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(async () => {
      peak = Math.max(peak, await rss(pid).catch(() => 0));
    });
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await sampling;
      return Math.max(peak, await rss(pid).catch(() => 0));
    },
  };
}

/** A TCP port free on 127.0.0.1 right now (for servers that cannot listen on port 0 and say which). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The proxy's open client sessions, waiting up to `settleMs` for them to reach 0 (closing is asynchronous). */
export async function sessionsLeft(base: string, settleMs = 5000): Promise<number> {
  const end = Date.now() + settleMs;
  for (;;) {
    const { sessions } = await health(base);
    if (sessions === 0 || Date.now() > end) return sessions;
    await sleep(100);
  }
}

/**
 * The transport to a command plugin's child process: MCP over its stdin/stdout, its stderr
 * line by line into the proxy's log. Unlike the SDK's StdioClientTransport, the child gets a
 * process group of its own and close() ends the whole group, so what `npx -y some-server`
 * starts underneath (npm, then node) goes too: no orphans.
 *
 * The transport ends when the process exits, even if something it started still holds its
 * output open; a message sent after that fails with NotDeliveredError, so the backend can start a
 * new process and send it there instead of failing the request with EPIPE.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../log.ts';
import { NotDeliveredError } from './errors.ts';

export interface ChildOptions {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd: string;
  log: Logger;
  /** Called with the pid once the child runs, and again when it has exited. */
  onSpawn?: (pid: number) => void;
  onExit?: (pid: number, code: number | null, signal: NodeJS.Signals | null) => void;
}

/** How long close() waits after closing stdin, then after SIGTERM, before SIGKILL. */
const GRACE_MS = 2000;
/** After the process exits, how long its output may still drain before the transport ends. */
const DRAIN_MS = 200;
/** stderr lines longer than this are cut, and past this many a second dropped (and counted): a process that floods stderr must not flood the log. */
const MAX_STDERR_LINE = 2000;
const MAX_STDERR_LINES_PER_SECOND = 100;
/** How many of its last stderr lines an error about a process that would not start quotes. */
const STDERR_TAIL_LINES = 3;

export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #options: ChildOptions;
  readonly #buffer = new ReadBuffer();
  #child?: ChildProcess;
  #exited?: Promise<void>;
  #running = false;
  #closing = false;
  #ended = false;
  /** Its last stderr lines (a few, as long as the log's): why a process that ended at once ended, for the error. */
  readonly #stderrTail: string[] = [];

  constructor(options: ChildOptions) {
    this.#options = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The last lines the process wrote to stderr (at most STDERR_TAIL_LINES), uncut: scrub secrets from them before cutting them short. */
  get stderrTail(): readonly string[] {
    return this.#stderrTail;
  }

  start(): Promise<void> {
    if (this.#child) throw new Error('already started');
    const { command, args, env, cwd, log } = this.#options;
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        cwd,
        env: { ...getDefaultEnvironment(), ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true, // its own process group: close() signals the whole tree
      });
      this.#child = child;
      // Exited, or never started (a spawn error has no exit event).
      this.#exited = new Promise((done) => {
        child.once('exit', () => done());
        child.once('close', () => done());
        child.once('error', () => {
          if (!this.#running) done();
        });
      });
      child.once('error', (error) => {
        this.#running = false;
        reject(error);
        this.onerror?.(error);
        this.#end();
      });
      child.once('spawn', () => {
        this.#running = true;
        this.#options.onSpawn?.(child.pid!);
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.#running = false;
        if (child.pid) this.#options.onExit?.(child.pid, code, signal);
        if (!this.#closing) log.warn({ pid: child.pid, code, signal }, `process exited (${signal ?? `code ${code}`})`);
        // What it wrote last may still be in the pipe: let it drain, then end (and end what it
        // left behind in its group, which may hold the pipe open forever).
        setTimeout(() => {
          signalGroup(child, 'SIGKILL');
          this.#end();
        }, DRAIN_MS).unref();
      });
      child.once('close', () => this.#end());
      child.stdin!.on('error', (error) => this.onerror?.(error));
      child.stdout!.on('data', (chunk: Buffer) => {
        this.#buffer.append(chunk);
        for (;;) {
          let message: JSONRPCMessage | null;
          try {
            message = this.#buffer.readMessage();
          } catch (error) {
            this.onerror?.(error as Error);
            continue;
          }
          if (message === null) break;
          this.onmessage?.(message);
        }
      });
      const stderr = stderrLogger(log, child.pid);
      createInterface({ input: child.stderr! }).on('line', (line) => {
        stderr.line(line);
        if (!line.trim()) return;
        this.#stderrTail.push(line.slice(0, MAX_STDERR_LINE));
        if (this.#stderrTail.length > STDERR_TAIL_LINES) this.#stderrTail.shift();
      });
      child.once('close', stderr.flush);
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!this.#running || !stdin || stdin.destroyed) throw new NotDeliveredError('the process is not running');
    await new Promise<void>((resolve, reject) => {
      stdin.write(serializeMessage(message), (error) => (error ? reject(new NotDeliveredError(`the process did not take the message: ${error.message}`, { cause: error })) : resolve()));
    });
  }

  /** Ends the child and everything it started: stdin closed, then SIGTERM, then SIGKILL to the group. */
  async close(): Promise<void> {
    const child = this.#child;
    if (!child || this.#closing) return this.#exited;
    this.#closing = true;
    if (this.#running) {
      child.stdin?.end();
      if (!(await exitsWithin(this.#exited!, GRACE_MS))) {
        signalGroup(child, 'SIGTERM');
        if (!(await exitsWithin(this.#exited!, GRACE_MS))) signalGroup(child, 'SIGKILL');
      }
    }
    // The leader may be gone while something it started lingers in the group.
    signalGroup(child, 'SIGKILL');
    await this.#exited;
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#running = false;
    this.onclose?.();
  }
}

/** Logs a child's stderr line by line, at most MAX_STDERR_LINES_PER_SECOND, counting what it drops. */
function stderrLogger(log: Logger, pid: number | undefined): { line: (line: string) => void; flush: () => void } {
  let second = 0;
  let logged = 0;
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (dropped) log.warn({ pid, stream: 'stderr', dropped }, `${dropped} stderr line(s) not logged (more than ${MAX_STDERR_LINES_PER_SECOND} a second)`);
    dropped = 0;
  };
  return {
    line: (line) => {
      const now = Math.floor(Date.now() / 1000);
      if (now !== second) {
        flush();
        second = now;
        logged = 0;
      }
      if (logged >= MAX_STDERR_LINES_PER_SECOND) {
        // Counted, and reported at the end of this second even if no other line comes.
        if (dropped++ === 0) timer = setTimeout(flush, 1000 - (Date.now() % 1000)).unref();
        return;
      }
      logged++;
      log.info({ pid, stream: 'stderr' }, line.length > MAX_STDERR_LINE ? `${line.slice(0, MAX_STDERR_LINE)}...` : line);
    },
    flush,
  };
}

/** Sends `signal` to the process group led by `pid` (a command plugin's process and all it started). */
export function signalProcessGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid) signalProcessGroup(child.pid, signal);
}

async function exitsWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([exited.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}

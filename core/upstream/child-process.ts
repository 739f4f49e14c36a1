/**
 * The transport to a command plugin's child process: MCP over its stdin/stdout, its stderr
 * line by line into the proxy's log. Unlike the SDK's StdioClientTransport, the child gets a
 * process group of its own and close() ends the whole group, so what `npx -y some-server`
 * starts underneath (npm, then node) goes too: no orphans.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log.ts';

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

/** Every child process group alive in this process, so shutdown can end any that remain. */
const live = new Set<ChildProcess>();

export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #options: ChildOptions;
  readonly #buffer = new ReadBuffer();
  #child?: ChildProcess;
  #exited?: Promise<void>;
  #closing = false;

  constructor(options: ChildOptions) {
    this.#options = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
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
      this.#exited = new Promise((done) => child.once('close', () => done()));
      child.once('error', (error) => {
        live.delete(child);
        reject(error);
        this.onerror?.(error);
      });
      child.once('spawn', () => {
        live.add(child);
        this.#options.onSpawn?.(child.pid!);
        resolve();
      });
      child.once('exit', (code, signal) => {
        live.delete(child);
        if (child.pid) this.#options.onExit?.(child.pid, code, signal);
        if (!this.#closing) log.warn({ pid: child.pid, code, signal }, `process exited (${signal ?? `code ${code}`})`);
      });
      child.once('close', () => {
        this.#child = undefined;
        this.onclose?.();
      });
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
      createInterface({ input: child.stderr! }).on('line', (line) => log.info({ pid: child.pid, stream: 'stderr' }, line));
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!stdin || stdin.destroyed) throw new Error('the process is not running');
    await new Promise<void>((resolve, reject) => {
      stdin.write(serializeMessage(message), (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Ends the child and everything it started: stdin closed, then SIGTERM, then SIGKILL to the group. */
  async close(): Promise<void> {
    const child = this.#child;
    if (!child || this.#closing) return this.#exited;
    this.#closing = true;
    child.stdin?.end();
    if (!(await exitsWithin(this.#exited!, GRACE_MS))) {
      signalGroup(child, 'SIGTERM');
      if (!(await exitsWithin(this.#exited!, GRACE_MS))) signalGroup(child, 'SIGKILL');
    }
    // The leader may be gone while something it started lingers in the group.
    signalGroup(child, 'SIGKILL');
    await this.#exited;
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
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

/** Ends every child process group still alive (shutdown's last step). */
export function killAllChildren(): void {
  for (const child of live) signalGroup(child, 'SIGKILL');
  live.clear();
}

/**
 * Reading the proxy's heap after forced garbage collection, from outside its process.
 *
 * The proxy is started with `--expose-gc --inspect=0`, so it prints a `ws://` URL on which the
 * Chrome DevTools Protocol answers `Runtime.evaluate`: a few rounds of `gc()` followed by
 * `process.memoryUsage()` give exactly what test/retention.test.ts measures in-process, without
 * changing the command under test (a preload listening for a signal would) or writing a heap
 * snapshot (slow, and far larger than the figure we want). The WebSocket client is `ws`.
 *
 * The session never calls `Runtime.enable` or `Debugger.enable`: those make V8 keep console
 * messages and compiled-script data, which would show up as "retained" memory.
 */
import WebSocket from 'ws';

export class Inspector {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      const pending = message.id === undefined ? undefined : this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id!);
      if (message.error) pending.reject(new Error(`inspector: ${message.error.message}`));
      else pending.resolve(message.result);
    });
    socket.on('close', () => this.#failAll(new Error('the inspector connection closed')));
    socket.on('error', (error) => this.#failAll(error));
  }

  /** Connects to a `ws://host:port/uuid` URL as printed by `--inspect`. */
  static connect(wsUrl: string): Promise<Inspector> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(wsUrl);
      socket.once('open', () => resolve(new Inspector(socket)));
      socket.once('error', reject);
    });
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Evaluates `expression` in the proxy (awaiting a promise) and returns its value. */
  async evaluate<T>(expression: string): Promise<T> {
    const answer = (await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })) as {
      result?: { value?: unknown };
      exceptionDetails?: { text?: string; exception?: { description?: string } };
    };
    if (answer.exceptionDetails) throw new Error(`inspector: ${answer.exceptionDetails.exception?.description ?? answer.exceptionDetails.text}`);
    return answer.result?.value as T;
  }

  close(): void {
    this.#socket.close();
  }

  #failAll(error: Error): void {
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
  }
}

export interface SettledMemory {
  /** V8 heap in use after forced GC, bytes. */
  heapUsed: number;
  /** V8 heap reserved (pages kept, used or not) after that GC, bytes. */
  heapTotal: number;
  /** Resident set size right after that GC, bytes. */
  rss: number;
  /** Memory of C++ objects bound to JS objects (Buffers included), bytes. */
  external: number;
  /** ArrayBuffers and Buffers (part of `external`), bytes. */
  arrayBuffers: number;
}

/**
 * The proxy's memory after forced garbage collection: several rounds with a turn of the event
 * loop between them, since finalizers and weak references need one (as in retention.test.ts).
 */
export function settledMemory(inspector: Inspector): Promise<SettledMemory> {
  return inspector.evaluate<SettledMemory>(`(async () => {
    for (let i = 0; i < 6; i++) {
      globalThis.gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const { heapUsed, heapTotal, rss, external, arrayBuffers } = process.memoryUsage();
    return { heapUsed, heapTotal, rss, external, arrayBuffers };
  })()`);
}

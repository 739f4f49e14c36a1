/**
 * The live client sessions, by session id, and the sweep that ends idle ones (the SDK keeps
 * a session until DELETE, so a client that vanishes would otherwise hold its backends forever).
 */
import type { ClientSession } from './session.ts';

export class SessionStore {
  readonly #sessions = new Map<string, ClientSession>();
  readonly #idleMs: number;
  #timer?: NodeJS.Timeout;

  constructor(options: { idleMs: number }) {
    this.#idleMs = options.idleMs;
  }

  get size(): number {
    return this.#sessions.size;
  }

  get(id: string): ClientSession | undefined {
    return this.#sessions.get(id);
  }

  values(): IterableIterator<ClientSession> {
    return this.#sessions.values();
  }

  add(session: ClientSession): void {
    this.#sessions.set(session.id, session);
  }

  /** Forgets and closes a session. */
  async end(session: ClientSession): Promise<void> {
    if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
    await session.close();
  }

  /** Ends sessions with no request in progress and nothing heard for the idle time. */
  async sweep(now = Date.now()): Promise<number> {
    const idle = [...this.#sessions.values()].filter((s) => s.active === 0 && now - s.lastSeen >= this.#idleMs);
    await Promise.all(idle.map((session) => this.end(session)));
    return idle.length;
  }

  /** Sweeps periodically (a fraction of the idle time, at most once a minute) until stopped. */
  startSweeping(onError: (error: unknown) => void): void {
    if (this.#timer || this.#idleMs <= 0) return;
    const every = Math.max(100, Math.min(60_000, Math.floor(this.#idleMs / 4)));
    this.#timer = setInterval(() => this.sweep().catch(onError), every);
    this.#timer.unref();
  }

  stopSweeping(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Ends every session. */
  async endAll(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((session) => this.end(session)));
  }
}

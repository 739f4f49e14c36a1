/**
 * The proxy's own attempts at a plugin: probes of it running now (each can be given up at once,
 * ending its connection and process) and the next retry of an unavailable one (1 s, doubling to
 * 30 s). Per plugin version; stopping one stops both.
 */
import type { Plugin } from './plugin.ts';

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

export class Retries {
  readonly #timers = new Map<Plugin, { timer: NodeJS.Timeout; attempt: number }>();
  readonly #probes = new Map<Plugin, AbortController>();

  /** Whether a retry of `plugin` is scheduled (or its probe is running). */
  has(plugin: Plugin): boolean {
    return this.#timers.has(plugin);
  }

  /** Runs `attempt` after `wait` ms (default: the backoff for attempt number `attempt`). */
  schedule(plugin: Plugin, run: (attempt: number) => void, attempt = 1, wait = backoff(attempt - 1)): void {
    clearTimeout(this.#timers.get(plugin)?.timer);
    const timer = setTimeout(() => run(attempt), wait);
    timer.unref();
    this.#timers.set(plugin, { timer, attempt });
  }

  /** The retry of `plugin` succeeded: nothing more is scheduled. */
  done(plugin: Plugin): void {
    clearTimeout(this.#timers.get(plugin)?.timer);
    this.#timers.delete(plugin);
  }

  /** A signal that aborts when probes of `plugin` are given up. */
  probeSignal(plugin: Plugin): AbortSignal {
    let giveUp = this.#probes.get(plugin);
    if (!giveUp) this.#probes.set(plugin, (giveUp = new AbortController()));
    return giveUp.signal;
  }

  /** Forgets the probe signal of a version that was not kept (it needs no giving up). */
  forgetProbes(plugin: Plugin): void {
    this.#probes.delete(plugin);
  }

  /** No more attempts at `plugin`: the retry timer stops, a probe in progress ends now (its process too). */
  stop(plugin: Plugin): void {
    this.done(plugin);
    this.#probes.get(plugin)?.abort();
    this.#probes.delete(plugin);
  }

  stopAll(): void {
    for (const plugin of new Set([...this.#timers.keys(), ...this.#probes.keys()])) this.stop(plugin);
  }
}

/** How long to wait before the attempt after `attempt` failures: 1 s, doubling, at most 30 s. */
export function backoff(attempt: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt);
}

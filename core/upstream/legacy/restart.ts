/**
 * When to start a command plugin's process again after it ended by itself: after 0.5 s the
 * first time, doubling (up to 30 s) while it keeps ending within a minute of the last time.
 */
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
const FLAPPING_WINDOW_MS = 60_000;

export class RestartBackoff {
  #exits: number[] = [];
  #restartAt = 0;

  /** The process ended: how long to wait before starting it again. */
  exited(now = Date.now()): number {
    this.#exits = [...this.#exits.filter((at) => now - at < FLAPPING_WINDOW_MS), now];
    const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (this.#exits.length - 1));
    this.#restartAt = now + delay;
    return delay;
  }

  /** How long a start must still wait (0: it may start now). */
  waitMs(now = Date.now()): number {
    return Math.max(0, this.#restartAt - now);
  }
}

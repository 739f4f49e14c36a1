/**
 * A command plugin's process budget: at most `max` child processes at once (one per client
 * session that uses the plugin, plus the proxy's own). When the budget is spent, the least
 * recently used process that is serving no request is given up to make room; its session gets
 * a new one when it needs the plugin again.
 */

/** Something that holds one of the plugin's processes (a client session's backend connection). */
export interface ProcessHolder {
  /** When it last sent a request (ms since epoch). */
  readonly lastUsed: number;
  /** Whether it has requests in progress or state that would be lost (subscriptions). */
  readonly busy: boolean;
  /** Ends its process; resolves once the process is gone. */
  giveUp(): Promise<void>;
}

export interface ProcessSlot {
  /** Gives the slot back (the process exited, or never started). Idempotent. */
  release(): void;
}

export class ProcessSlots {
  readonly max: number;
  /** Holders that may be asked to give their process up. */
  readonly holders = new Set<ProcessHolder>();
  #used = 0;

  constructor(max: number) {
    this.max = max;
  }

  get used(): number {
    return this.#used;
  }

  /** A slot for a new process, making room by ending an idle one if needed; undefined when every process is busy. */
  async claim(): Promise<ProcessSlot | undefined> {
    while (this.#used >= this.max) {
      const idle = [...this.holders].filter((holder) => !holder.busy).sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (!idle) return undefined;
      this.holders.delete(idle);
      await idle.giveUp();
    }
    this.#used++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#used--;
      },
    };
  }
}

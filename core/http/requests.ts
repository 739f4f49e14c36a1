/**
 * Client requests in progress (POSTs carrying JSON-RPC requests, of either era), so shutdown can
 * let them finish before it ends them.
 */
/** Client requests (POSTs with JSON-RPC requests) in progress, and a way to wait for none. */
export class RequestTracker {
  #count = 0;
  #waiters: Array<() => void> = [];

  get count(): number {
    return this.#count;
  }

  start(): () => void {
    this.#count++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.#count === 0) for (const resolve of this.#waiters.splice(0)) resolve();
    };
  }

  /** Resolves when no request is in progress, or after `timeoutMs`; true if all finished. */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => this.#waiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return finished;
  }
}

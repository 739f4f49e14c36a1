/**
 * Running many small jobs with bounded concurrency, counting failures instead of stopping at
 * the first: a benchmark reports how many went wrong (and the first reason) beside its figures.
 */
export interface PoolOutcome {
  done: number;
  failed: number;
  firstError?: string;
  seconds: number;
}

/** Runs `job(0..total-1)`, `concurrency` at a time (or until `stop()` says so, if `total` is Infinity). */
export async function runPool(total: number, concurrency: number, job: (i: number) => Promise<void>, stop: () => boolean = () => false): Promise<PoolOutcome> {
  const outcome: PoolOutcome = { done: 0, failed: 0, seconds: 0 };
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total && !stop()) {
        const i = next++;
        try {
          await job(i);
          outcome.done++;
        } catch (error) {
          outcome.failed++;
          outcome.firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  outcome.seconds = (performance.now() - started) / 1000;
  return outcome;
}

/** Throws if more than `allowed` jobs failed: figures from a run that mostly failed mean nothing. */
export function expectMostlyDone(what: string, outcome: PoolOutcome, allowed = 0): void {
  if (outcome.failed > allowed) throw new Error(`${what}: ${outcome.failed} of ${outcome.done + outcome.failed} failed, the first with: ${outcome.firstError}`);
}

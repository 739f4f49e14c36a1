/**
 * Abort signals that are released when their request ends.
 *
 * `AbortSignal.any([a, b])` would be the obvious way to give a forwarded request both the
 * client's cancellation and the proxy's own. On Node 20 such a composite signal is never
 * collected once a listener is on it (the SDK adds one to every request's signal and never
 * removes it), and through that listener it keeps the request's client, backend and session
 * alive: about 5 KiB per call and 40 KiB per closed session. A controller that follows its
 * parents by plain listeners, removed on release, leaves nothing behind.
 */

export interface FollowingSignal {
  readonly signal: AbortSignal;
  /** Aborts this signal (and only this one). */
  abort(reason?: unknown): void;
  /** Stops following the parents; call it when the request has ended. Idempotent. */
  release(): void;
}

/** A signal that aborts when any of `parents` does (or at once, if one already has). */
export function followSignals(...parents: Array<AbortSignal | undefined>): FollowingSignal {
  const controller = new AbortController();
  const followed: Array<[AbortSignal, () => void]> = [];
  const release = () => {
    for (const [parent, listener] of followed.splice(0)) parent.removeEventListener('abort', listener);
  };
  for (const parent of parents) {
    if (!parent) continue;
    if (parent.aborted) {
      controller.abort(parent.reason);
      break;
    }
    const listener = () => {
      release();
      controller.abort(parent.reason);
    };
    parent.addEventListener('abort', listener, { once: true });
    followed.push([parent, listener]);
  }
  if (controller.signal.aborted) release();
  return {
    signal: controller.signal,
    abort: (reason) => {
      release();
      controller.abort(reason);
    },
    release,
  };
}

/**
 * fetch for backend connections: one abort signal per request (see fetchWithOwnSignal), headers
 * for the legacy SSE transport's own fetch, and network errors described by their cause.
 */
import { messageOf } from '../errors.ts';

/**
 * The SDK's HTTP transport hands its one AbortSignal (the one close() aborts) to every fetch,
 * and undici keeps a listener on it for each request until that request is garbage-collected:
 * a busy backend session piles up thousands (MaxListenersExceededWarning). Each fetch gets its
 * own signal instead; one listener per transport signal aborts them all, and the own signals
 * are held weakly, so a finished request leaves nothing behind.
 */
export const fetchWithOwnSignal: typeof fetch = (input, init) => {
  const shared = init?.signal;
  if (!shared) return fetch(input, init);
  const own = new AbortController();
  // The request holds its signal while it runs; the signal holds its controller.
  Object.defineProperty(own.signal, CONTROLLER, { value: own });
  if (shared.aborted) own.abort(shared.reason);
  else requestsOf(shared).add(new WeakRef(own));
  return fetch(input, { ...init, signal: own.signal });
};

const CONTROLLER = Symbol('controller');
const requests = new WeakMap<AbortSignal, Set<WeakRef<AbortController>>>();
const forget = new FinalizationRegistry<() => void>((remove) => remove());

function requestsOf(shared: AbortSignal): { add(ref: WeakRef<AbortController>): void } {
  let live = requests.get(shared);
  if (!live) {
    const set = new Set<WeakRef<AbortController>>();
    live = set;
    requests.set(shared, set);
    shared.addEventListener(
      'abort',
      () => {
        for (const ref of set) ref.deref()?.abort(shared.reason);
        set.clear();
      },
      { once: true },
    );
  }
  const set = live;
  return {
    add(ref) {
      set.add(ref);
      forget.register(ref.deref()!, () => set.delete(ref));
    },
  };
}

/** The legacy SSE transport opens its event stream with its own fetch: give it the headers too. */
export function withHeaders(headers: Record<string, string> | undefined): typeof fetch {
  return (input, init) => fetch(input, { ...init, headers: { ...headers, ...Object.fromEntries(new Headers(init?.headers)) } });
}

/** `fetch failed` says nothing; its cause (ECONNREFUSED, ENOTFOUND...) says what went wrong. */
export function describeNetworkError(error: unknown): string {
  // Libraries wrap fetch's error ("Version negotiation probe failed: fetch failed"): the innermost `fetch failed` and its code say it best.
  let described = error;
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    if (current.message === 'fetch failed') described = current;
  }
  const cause = described instanceof Error ? (described.cause as { code?: string } | undefined) : undefined;
  if (cause?.code) return `${messageOf(described)} (${cause.code})`;
  return messageOf(described);
}

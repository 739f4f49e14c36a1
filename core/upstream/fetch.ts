/**
 * fetch for backend connections: headers for the legacy SSE transport's own fetch, a request's
 * own headers, and network errors described by their cause. (One abort signal per request: see
 * sdk-workarounds.ts.)
 */
import { messageOf } from '../errors.ts';
import { backendCall } from './call-scope.ts';
import { traceHeaders } from '../observability/tracing.ts';

/** The legacy SSE transport opens its event stream with its own fetch: give it the headers too. */
export function withHeaders(headers: Record<string, string> | undefined): typeof fetch {
  return (input, init) => fetch(input, { ...init, headers: { ...headers, ...Object.fromEntries(new Headers(init?.headers)) } });
}

/**
 * `base` with the headers of the backend request being sent (`Mcp-Param-*`, forwarded client
 * headers: see call-scope.ts), then its W3C trace context (when traced), put over the
 * transport's. They ride on the request's async path.
 */
export function withCallHeaders(base: typeof fetch): typeof fetch {
  return (input, init) => {
    const extra = backendCall.getStore()?.headers;
    const trace = traceHeaders();
    if (!extra && !trace) return base(input, init);
    const merged = new Headers(init?.headers);
    for (const [name, value] of Object.entries({ ...extra, ...trace })) merged.set(name, value);
    return base(input, { ...init, headers: merged });
  };
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

export { fetchWithOwnSignal } from '../sdk-workarounds.ts';

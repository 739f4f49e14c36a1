/**
 * fetch for remote backends over Node's own HTTP client, on keep-alive connections pooled per
 * process. The SDK's HTTP client transports take a `fetch` (their documented extension point);
 * this one answers the requests they make (a string body or none, redirects left to the caller)
 * without the WHATWG fetch machinery in between: no Request object, no web stream for the request
 * body, no stream at all for a reply that is not an event stream (it is read whole, as the SDK
 * reads a JSON reply whole anyway, and given as a ReadResponse: read-response.ts). Under load
 * that machinery was the largest cost of a forwarded call (issue 11's profiles: undici's
 * `writeIterable`, `makeTransferable`). An event stream in answer to a POST is read until it
 * shows what it is: one that holds nothing but the answer is handed over as that answer in JSON
 * (answer-stream.ts).
 *
 * Anything else (a body that is not a string, `redirect: 'follow'`, a URL that is not http or
 * https) goes to the global fetch (with a signal of its own: see sdk-workarounds.ts). What the caller sees is fetch's contract: a
 * `Response`; a network failure is `TypeError('fetch failed')` with the cause (ECONNREFUSED...);
 * an aborted signal rejects, or errors the reply's body, with the signal's reason.
 *
 * Each request listens to its signal only while it runs, so a long-lived transport signal
 * (the SDK hands one to every request) keeps nothing of finished requests. The requests of one
 * signal share one listener on it: many requests at once to a slow backend are no reason for
 * Node's "possible EventTarget memory leak" warning (it fired at 11).
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { fetchWithOwnSignal } from '../sdk-workarounds.ts';
import { settleEventStream } from './answer-stream.ts';
import { ReadResponse } from './read-response.ts';

/**
 * Connections to backends, kept open between requests. An idle one is closed by us before the
 * backend would close it: after 4 s, or a second before the backend's `Keep-Alive: timeout=N`
 * (Node's agent reads that hint only when it has a timeout of its own). Otherwise a request can be
 * written to a connection the backend is closing at that moment, and fail with ECONNRESET (seen
 * under load against Node backends, whose default keep-alive timeout is 5 s); undici's fetch closes
 * idle connections after 4 s for the same reason. On a connection in use the timeout does nothing.
 */
const IDLE_MS = 4000;
const agents = {
  'http:': new http.Agent({ keepAlive: true, keepAliveMsecs: 1000, timeout: IDLE_MS }),
  'https:': new https.Agent({ keepAlive: true, keepAliveMsecs: 1000, timeout: IDLE_MS }),
};

/** Statuses whose `Response` must have no body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

export const keepAliveFetch: typeof fetch = (input, init) => {
  const url = input instanceof URL ? input : typeof input === 'string' ? new URL(input) : undefined;
  const body = init?.body;
  const simple =
    url !== undefined &&
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    !url.username &&
    !url.password &&
    (body === undefined || body === null || typeof body === 'string') &&
    (init?.redirect === 'manual' || init?.redirect === 'error');
  if (!simple) return fetchWithOwnSignal(input, init);
  return send(url, init!, body ?? undefined);
};

function send(url: URL, init: RequestInit, body: string | undefined): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const headers: Record<string, string> = {};
  (init.headers instanceof Headers ? init.headers : new Headers(init.headers)).forEach((value, name) => (headers[name] = value));
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));

  return new Promise<Response>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(url, { method: init.method ?? 'GET', headers, agent: agents[url.protocol as 'http:'] });
    let settled = false;
    /** The reply is being read before it is handed over (an event stream: see answer-stream.ts); its own outcome settles. */
    let holding = false;
    let reading: IncomingMessage | undefined;
    // Until the reply is read (or its body stream ends), an abort ends the request, and errors the reply's body with the signal's reason.
    const onAbort = () => {
      const reason = signal!.reason instanceof Error ? signal!.reason : abortError(signal!.reason);
      if (reading) reading.destroy(reason);
      request.destroy(reason);
    };
    const release = signal ? whenAborted(signal, onAbort) : () => {};

    request.on('error', (error) => {
      if (holding) return;
      release();
      if (settled) return;
      settled = true;
      reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
    });
    request.on('response', (reply) => {
      reading = reply;
      if (init.redirect === 'error' && reply.statusCode! >= 300 && reply.statusCode! < 400 && reply.headers.location) {
        settled = true;
        release();
        reply.destroy();
        return reject(new TypeError('fetch failed', { cause: new Error(`redirect to ${reply.headers.location} (redirect: 'error')`) }));
      }
      const meta = { status: reply.statusCode!, statusText: reply.statusMessage ?? '', headers: headersOf(reply) };
      if (NULL_BODY.has(meta.status) || init.method === 'HEAD') {
        reply.resume();
        settled = true;
        release();
        return resolve(new Response(null, meta));
      }
      if (/^text\/event-stream/i.test(reply.headers['content-type'] ?? '')) {
        if (init.method !== 'POST') {
          settled = true;
          return resolve(new Response(streamOf(reply, signal, release), meta));
        }
        // A request's stream: its answer alone is handed over as JSON (see answer-stream.ts).
        holding = true;
        return settleEventStream(reply, (outcome) => {
          settled = true;
          if (outcome.kind === 'answer') {
            release();
            meta.headers.set('content-type', 'application/json');
            return resolve(new ReadResponse(outcome.json, meta, outcome.message));
          }
          if (!outcome.ended) return resolve(new Response(streamOf(reply, signal, release, outcome.read), meta));
          release();
          if (outcome.error && signal?.aborted) return reject(signal.reason);
          resolve(new Response(endedStream(outcome.read, outcome.error), meta));
        });
      }
      const chunks: Buffer[] = [];
      reply.on('data', (chunk: Buffer) => chunks.push(chunk));
      reply.on('end', () => {
        release();
        settled = true;
        resolve(new ReadResponse(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), meta));
      });
      const fail = (error: unknown) => {
        release();
        if (settled) return;
        settled = true;
        reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
      };
      reply.on('error', fail);
      // A connection closed early emits 'close' before its 'error' (ECONNRESET): that error, if it comes, says more.
      reply.on('close', () => setImmediate(() => fail(new Error('the connection closed before the reply ended'))));
    });
    request.end(body);
  });
}

/** The reply's body (after `read`, what was read of it already) as a byte stream that pauses the socket when the reader falls behind. */
function streamOf(reply: IncomingMessage, signal: AbortSignal | undefined, release: () => void, read: Buffer[] = []): ReadableStream<Uint8Array> {
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of read) controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      reply.on('data', (chunk: Buffer) => {
        if (cancelled) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) reply.pause();
      });
      let ended = false;
      reply.on('end', () => {
        ended = true;
        release();
        controller.close();
      });
      // An aborted request errors the body with the signal's reason; a dropped connection as fetch's does.
      let failure: Error | undefined;
      reply.on('error', (error) => (failure = error));
      reply.on('close', () => {
        release();
        if (!ended && !cancelled) controller.error(signal?.aborted ? signal.reason : new TypeError('terminated', { cause: failure }));
      });
    },
    pull() {
      reply.resume();
    },
    cancel() {
      cancelled = true;
      release();
      reply.destroy();
    },
  });
}

/** A body that was read whole, or until its connection dropped (`error`), as fetch's body stream would give it: what came, then the end or the error. */
function endedStream(read: Buffer[], error: Error | undefined): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    // One chunk a pull: an error raised with chunks still queued would discard them.
    pull(controller) {
      const chunk = read[next++];
      if (chunk) controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      else if (error) controller.error(new TypeError('terminated', { cause: error }));
      else controller.close();
    },
  });
}

function headersOf(reply: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = reply.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

function abortError(reason: unknown): Error {
  return new DOMException(reason === undefined ? 'This operation was aborted' : String(reason), 'AbortError');
}

/** The requests in progress under each signal, and the one listener that aborts them. */
const aborters = new WeakMap<AbortSignal, { requests: Set<() => void>; listener: () => void }>();

/**
 * Runs `onAbort` if `signal` aborts before the returned release is called. One listener on the
 * signal however many requests run under it, removed when the last of them is released.
 */
function whenAborted(signal: AbortSignal, onAbort: () => void): () => void {
  let entry = aborters.get(signal);
  if (!entry) {
    const requests = new Set<() => void>();
    const listener = () => {
      aborters.delete(signal);
      for (const abort of [...requests]) abort();
    };
    entry = { requests, listener };
    aborters.set(signal, entry);
    signal.addEventListener('abort', listener, { once: true });
  }
  const { requests, listener } = entry;
  const abort = () => onAbort();
  requests.add(abort);
  return () => {
    if (!requests.delete(abort) || requests.size > 0) return;
    if (aborters.get(signal)?.requests === requests) aborters.delete(signal);
    signal.removeEventListener('abort', listener);
  };
}

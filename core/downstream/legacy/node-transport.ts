/**
 * The SDK's web-standard streamable HTTP server transport, served straight onto Node's request
 * and response.
 *
 * The SDK's own Node wrapper (`StreamableHTTPServerTransport`) converts every request through
 * `@hono/node-server`: a listener built per request, its own Request shim, and a response
 * writer that, when a stream's first event is already there (the priming event of a resumable
 * stream, sent on every request here), waits a timer tick (`setTimeout`, at least 1 ms) to see
 * whether more follows. Every answer paid that millisecond, and a forwarded answer left in three
 * writes (the start, the event, the stream's end). Here the events are written as they come,
 * and a quick answer leaves in one write, as plain JSON (see `onlyMessage`).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { createParser } from 'eventsource-parser';
import { MAX_ANSWER_BYTES } from '../../upstream/answer-stream.ts';

export class NodeStreamableHttp extends WebStandardStreamableHTTPServerTransport {
  /** Serves one HTTP request of this session (or its `initialize`); `body` is the parsed JSON body of a POST. */
  async serve(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const response = await this.handleRequest(webRequestOf(req) as Request, { parsedBody: body });
    await writeResponse(response, res, req.method === 'POST');
  }
}

/**
 * What the web-standard transport reads of a request whose body it is given parsed: its method,
 * URL and headers (test/units.test.ts checks that it reads nothing else). A `Request` would
 * also make an AbortSignal and check again what Node parsed already: a twentieth of a
 * millisecond of every request on Node 20 (issue 11's timings).
 */
export type RequestView = Pick<Request, 'method' | 'url' | 'headers'>;

/** The request as the web-standard transport reads it: method, URL and headers (the body is passed parsed). */
function webRequestOf(req: IncomingMessage): RequestView {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (!raw[i]!.startsWith(':')) headers.append(raw[i]!, raw[i + 1]!);
  }
  return { method: req.method ?? 'GET', url: urlOf(req), headers };
}

function urlOf(req: IncomingMessage): string {
  const path = req.url ?? '/';
  try {
    return new URL(path, `http://${req.headers.host ?? 'localhost'}`).href;
  } catch {
    return new URL(path, 'http://localhost').href; // a Host header that is no host: the path is what matters
  }
}

/**
 * How long the start of an event stream (status, headers, the priming event) may wait for what
 * follows it. An answer ready sooner leaves with them in one write, its stream's end included;
 * a slower one finds the client already holding the event id it needs to resume.
 */
const HOLD_START_MS = 20;

/**
 * Writes `response` to `res`, its body as the transport produces it. Chunks are gathered and
 * written together: the start of the stream until HOLD_START_MS passed or more followed, later
 * ones until the end of the microtask queue, so an event and the stream's end that follows it at
 * once leave in one write. (Gathered here rather than with `res.cork()`: on Node 24 an `end()`
 * while corked lost what was written before it.) A client that goes away cancels the body, which
 * the transport hears as the stream's end.
 */
async function writeResponse(response: Response, res: ServerResponse, post: boolean): Promise<void> {
  const headers: OutgoingHttpHeaders = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (!response.body) {
    res.writeHead(response.status, headers).end();
    return;
  }
  const reader = response.body.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  res.once('close', cancel);
  let pending: Uint8Array[] = [];
  let flushing = false;
  const take = () => {
    const chunks = pending;
    pending = [];
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  };
  const flush = () => {
    flushing = false;
    clearTimeout(timer);
    if (res.writableEnded || res.destroyed) return;
    if (!res.headersSent) res.writeHead(response.status, headers);
    if (pending.length > 0) res.write(take());
    else res.flushHeaders();
  };
  // The start (headers, priming event) waits for what follows, at most HOLD_START_MS.
  let holding = true;
  const timer = setTimeout(() => {
    holding = false;
    flush();
  }, HOLD_START_MS);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return cancel();
      pending.push(value);
      if (holding && pending.length < 2) continue;
      holding = false;
      if (!flushing) {
        flushing = true;
        process.nextTick(flush);
      }
      if (res.writableNeedDrain) await drained(res);
    }
    clearTimeout(timer);
    if (res.destroyed) return;
    if (res.headersSent) return void res.end(pending.length > 0 ? take() : undefined);
    const whole = pending.length > 0 ? take() : undefined;
    const json = post && response.status === 200 && whole ? onlyMessage(whole, headers) : undefined;
    if (json === undefined) return void res.writeHead(response.status, headers).end(whole);
    delete headers['content-type'];
    delete headers['cache-control'];
    delete headers['connection'];
    res.writeHead(200, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).end(json);
  } catch {
    // The body failed (the transport closed the stream abruptly): the client sees the stream end.
    res.destroy();
  } finally {
    clearTimeout(timer);
    res.off('close', cancel);
  }
}

/**
 * A POST's event stream that was complete before anything of it was written, and carries one
 * message (besides priming events, which carry none): that message, to answer as plain JSON.
 * The spec lets a server answer a request either way, and a client must accept both (the
 * transport refused a POST whose `Accept` lacks `application/json`). Nothing is lost: a
 * stream already complete has nothing left to resume. The client is spared an event-stream
 * parse, which costs an SDK client several times a JSON one. A large answer (over
 * MAX_ANSWER_BYTES) is written as it came: making it JSON would copy it twice more, for little.
 */
function onlyMessage(body: Uint8Array, headers: OutgoingHttpHeaders): string | undefined {
  if (body.byteLength > MAX_ANSWER_BYTES || !/^text\/event-stream/i.test(String(headers['content-type'] ?? ''))) return undefined;
  const messages: string[] = [];
  const parser = createParser({
    onEvent: (event) => {
      if (event.data !== '') messages.push(event.data);
    },
  });
  parser.feed(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  return messages.length === 1 ? messages[0] : undefined;
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

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
 * and a quick answer leaves in one write with the stream's start and end.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

export class NodeStreamableHttp extends WebStandardStreamableHTTPServerTransport {
  /** Serves one HTTP request of this session (or its `initialize`); `body` is the parsed JSON body of a POST. */
  async serve(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const response = await this.handleRequest(webRequestOf(req), { parsedBody: body });
    await writeResponse(response, res);
  }
}

/** The request as the web-standard transport reads it: method, URL and headers (the body is passed parsed). */
function webRequestOf(req: IncomingMessage): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (!raw[i]!.startsWith(':')) headers.append(raw[i]!, raw[i + 1]!);
  }
  return new Request(urlOf(req), { method: req.method ?? 'GET', headers });
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
 * Writes `response` to `res`, its body chunk by chunk as the transport produces it. Each chunk
 * waits for the end of the microtask queue, so an event and the stream's end that follows it
 * at once leave together. A client that goes away cancels the body, which the transport hears
 * as the stream's end.
 */
async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
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
  res.writeHead(response.status, headers);
  res.cork();
  let holding = true;
  const release = () => {
    if (!holding) return;
    holding = false;
    clearTimeout(timer);
    res.uncork();
  };
  const timer = setTimeout(release, HOLD_START_MS);
  let chunks = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return cancel();
      if (holding) {
        if (++chunks > 1) process.nextTick(release); // the answer: the start goes out with it
      } else {
        res.cork();
        process.nextTick(() => res.uncork());
      }
      if (!res.write(value)) await drained(res);
    }
    res.end(); // uncorks fully: whatever is held leaves now
  } catch {
    // The body failed (the transport closed the stream abruptly): the client sees the stream end.
    res.destroy();
  } finally {
    holding = false;
    clearTimeout(timer);
    res.off('close', cancel);
  }
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

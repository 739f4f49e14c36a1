/**
 * keepAliveFetch (core/upstream/http-fetch.ts): the fetch remote backends are reached with keeps
 * fetch's contract for the requests the SDK transports make, over reused connections, and
 * leaves nothing on a long-lived signal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getEventListeners } from 'node:events';
import { keepAliveFetch } from '../core/upstream/http-fetch.ts';

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server; sockets: () => number }> {
  const server = createServer(handler);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, server, sockets: () => connections };
}

/** A server whose reply is an event stream that starts with `first` and stays open; `requestEnded` settles when the request's connection closes. */
async function openStream(first: string): Promise<{ url: string; server: Server; requestEnded: Promise<void> }> {
  let ended!: () => void;
  const requestEnded = new Promise<void>((resolve) => (ended = resolve));
  const { url, server } = await serve((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(first);
    req.on('close', ended);
  });
  return { url, server, requestEnded };
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections());

test('a JSON reply: status, headers and body as fetch gives them, the request headers and body as sent, connections reused', async () => {
  const seen: Array<{ method?: string; headers: Record<string, unknown>; body: string }> = [];
  const { url, server, sockets } = await serve(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({ method: req.method, headers: req.headers, body });
    res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'abc' }).end(JSON.stringify({ ok: true, echo: body }));
  });
  try {
    const controller = new AbortController();
    for (let i = 0; i < 5; i++) {
      const headers = new Headers({ 'content-type': 'application/json', 'x-extra': 'plain-value' });
      const response = await keepAliveFetch(new URL(url), { method: 'POST', headers, body: '{"n":"é"}', signal: controller.signal, redirect: 'manual' });
      assert.equal(response.status, 200);
      assert.equal(response.ok, true);
      assert.equal(response.headers.get('mcp-session-id'), 'abc');
      assert.deepEqual(await response.json(), { ok: true, echo: '{"n":"é"}' });
    }
    assert.equal(seen[0]!.method, 'POST');
    assert.equal(seen[0]!.headers['x-extra'], 'plain-value');
    assert.equal(seen[0]!.headers['content-length'], String(Buffer.byteLength('{"n":"é"}')));
    assert.equal(sockets(), 1, 'five requests one after another should share one kept-alive connection');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'finished requests must not keep listeners on the signal');
  } finally {
    await close(server);
  }
});

test('an event stream is delivered as it arrives; aborting errors the body with the reason and ends the request', async () => {
  const { url, server, requestEnded } = await openStream('id: 1\ndata: first\n\n');
  try {
    const controller = new AbortController();
    const response = await keepAliveFetch(url, { method: 'POST', body: '{}', signal: controller.signal, redirect: 'manual' });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value, 'id: 1\ndata: first\n\n');
    const reason = new Error('closed by the proxy');
    controller.abort(reason);
    await assert.rejects(reader.read(), (error) => error === reason);
    await requestEnded;
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  } finally {
    await close(server);
  }
});

test('many requests at once under one signal: one listener on it (no MaxListenersExceededWarning), an abort ends them all, none left after', async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on('warning', onWarning);
  const { url, server } = await serve(() => {}); // never answers
  try {
    const controller = new AbortController();
    const pending = Array.from({ length: 50 }, () => keepAliveFetch(url, { method: 'POST', body: '{}', signal: controller.signal, redirect: 'manual' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1, '50 requests in progress should share one listener on their signal');
    const reason = new Error('the backend session closed');
    controller.abort(reason);
    const outcomes = await Promise.allSettled(pending);
    assert.ok(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason === reason), 'every request is rejected with the reason');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings.filter((name) => name === 'MaxListenersExceededWarning'), [], 'Node warned of a listener leak');
  } finally {
    process.off('warning', onWarning);
    await close(server);
  }
});

test('a backend that drops the connection mid-stream errors the body, as fetch does', async () => {
  const { url, server } = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n', () => setTimeout(() => res.socket?.destroy(), 20));
  });
  try {
    const response = await keepAliveFetch(url, { method: 'GET', redirect: 'manual' });
    const reader = response.body!.getReader();
    await reader.read();
    await assert.rejects(reader.read(), TypeError);
  } finally {
    await close(server);
  }
});

test('a network failure is TypeError "fetch failed" with the cause (what describeNetworkError reads)', async () => {
  const { url, server } = await serve(() => {});
  await close(server);
  await assert.rejects(keepAliveFetch(url, { method: 'POST', body: '{}', redirect: 'manual' }), (error: TypeError & { cause?: { code?: string } }) => {
    assert.equal(error.message, 'fetch failed');
    assert.equal(error.cause?.code, 'ECONNREFUSED');
    return true;
  });
});

test('a signal aborted before the request rejects with its reason; 202 and 204 have empty bodies; a redirect is returned as it is', async () => {
  const { url, server } = await serve((req, res) => {
    if (req.url === '/mcp?202') return void res.writeHead(202).end();
    if (req.url === '/mcp?204') return void res.writeHead(204).end();
    res.writeHead(307, { location: '/elsewhere' }).end();
  });
  try {
    const controller = new AbortController();
    controller.abort('gone');
    await assert.rejects(keepAliveFetch(url, { method: 'POST', body: '{}', signal: controller.signal, redirect: 'manual' }), (error) => error === 'gone');
    const accepted = await keepAliveFetch(`${url}?202`, { method: 'POST', body: '{}', redirect: 'manual' });
    assert.equal(accepted.status, 202);
    assert.equal(await accepted.text(), '');
    assert.equal((await keepAliveFetch(`${url}?204`, { method: 'DELETE', redirect: 'manual' })).status, 204);
    const redirected = await keepAliveFetch(url, { method: 'POST', body: '{}', redirect: 'manual' });
    assert.equal(redirected.status, 307);
    assert.equal(redirected.headers.get('location'), '/elsewhere');
  } finally {
    await close(server);
  }
});

test('a JSON reply cut off before its end rejects with "fetch failed", not a half body', async () => {
  const { url, server } = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{"jsonrpc":"2.0",', () => setTimeout(() => res.socket?.destroy(), 20));
  });
  try {
    await assert.rejects(keepAliveFetch(url, { method: 'POST', body: '{}', redirect: 'manual' }), (error: Error) => error instanceof TypeError && error.message === 'fetch failed');
  } finally {
    await close(server);
  }
});

test("an idle kept-alive connection is closed by the proxy before the backend's keep-alive timeout, so no request races the backend's close", async () => {
  const { url, server } = await serve((req, res) => req.resume().on('end', () => res.end('{}')));
  server.keepAliveTimeout = 2000; // announced as Keep-Alive: timeout=2
  const closed = new Promise<number>((resolve) => server.once('connection', (socket) => {
    const opened = Date.now();
    socket.once('close', () => resolve(Date.now() - opened));
  }));
  try {
    const response = await keepAliveFetch(url, { method: 'POST', body: '{}', redirect: 'manual' });
    assert.equal(response.headers.get('keep-alive'), 'timeout=2');
    await response.text();
    const after = await closed;
    assert.ok(after < 1800, `the idle connection closed after ${after} ms, by the backend (2000 ms) rather than by the proxy a second before`);
  } finally {
    await close(server);
  }
});

/** SSE as SDK servers write it: a priming event (an id, no data), then messages. */
const PRIMING = 'id: p1\nretry: 1000\ndata: \n\n';
const event = (message: unknown, id: string) => `event: message\nid: ${id}\ndata: ${JSON.stringify(message)}\n\n`;
const ANSWER = { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'héllo' }] } };

test("a POST's event stream that is only a priming event and the answer is handed over as that answer in JSON, whatever the chunks", async () => {
  const { url, server } = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'mcp-session-id': 's1' });
    const text = Buffer.from(PRIMING + event(ANSWER, 'e2'));
    // Split inside the two-byte "é", and the answer's end separately: the reader must not care where chunks end.
    const cut = text.indexOf(Buffer.from('é')) + 1;
    res.write(text.subarray(0, cut));
    setTimeout(() => res.end(text.subarray(cut)), 5);
  });
  try {
    const response = await keepAliveFetch(url, { method: 'POST', body: '{}', redirect: 'manual' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json', 'the answer alone should come as JSON');
    assert.equal(response.headers.get('mcp-session-id'), 's1', 'the backend\'s other headers stay');
    assert.deepEqual(await response.json(), ANSWER);
  } finally {
    await close(server);
  }
});

test("an answer taken out of an event stream is parsed once: json() gives the parse made to recognise it; a clone made before parses its own", async () => {
  const { url, server } = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(PRIMING + event(ANSWER, 'e2'));
  });
  const parse = JSON.parse;
  let parses = 0;
  try {
    const response = await keepAliveFetch(url, { method: 'POST', body: '{}', redirect: 'manual' });
    const copy = response.clone();
    JSON.parse = (...args: Parameters<typeof JSON.parse>) => {
      parses++;
      return parse(...args);
    };
    const answer = await response.json();
    assert.equal(parses, 0, 'json() parsed the answer again, after the stream reader had parsed it');
    assert.deepEqual(answer, ANSWER);
    const copied = await copy.json();
    assert.deepEqual(copied, ANSWER);
    assert.notEqual(copied, answer, 'a clone shares the parsed object with the original: a change to one would show in the other');
  } finally {
    JSON.parse = parse;
    await close(server);
  }
});

test("a POST's event stream with news before the answer (progress) is handed over as a stream at once, not when the answer comes", async () => {
  let answer!: () => void;
  const { url, server } = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(PRIMING + event({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } }, 'e2'));
    answer = () => res.end(event(ANSWER, 'e3'));
  });
  try {
    const response = await keepAliveFetch(url, { method: 'POST', body: '{}', redirect: 'manual' });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('notifications/progress')) text += (await reader.read()).value;
    assert.ok(text.startsWith(PRIMING), 'the priming event comes first, so the client can resume');
    answer();
    for (let next = await reader.read(); !next.done; next = await reader.read()) text += next.value;
    assert.ok(text.endsWith(event(ANSWER, 'e3')));
  } finally {
    await close(server);
  }
});

test("a POST's event stream that ends without an answer (SSE polling) or drops after its priming event keeps its event id for the client's resumption", async () => {
  const { url, server } = await serve((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (req.url?.endsWith('?drop')) res.write(PRIMING, () => setTimeout(() => res.socket?.destroy(), 20));
    else res.end(PRIMING);
  });
  try {
    const polled = await keepAliveFetch(url, { method: 'POST', body: '{}', redirect: 'manual' });
    assert.equal(polled.headers.get('content-type'), 'text/event-stream');
    assert.equal(await polled.text(), PRIMING);

    const dropped = await keepAliveFetch(`${url}?drop`, { method: 'POST', body: '{}', redirect: 'manual' });
    const reader = dropped.body!.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value, PRIMING, 'the priming event (the id to resume from) before the error');
    await assert.rejects(reader.read(), TypeError);
  } finally {
    await close(server);
  }
});

test("a POST's event stream with a large answer (over 64 KiB) is handed over as a stream, not held to be copied into JSON", async () => {
  const large = { jsonrpc: '2.0', id: 8, result: { content: [{ type: 'text', text: 'y'.repeat(70 * 1024) }] } };
  const { url, server } = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(PRIMING + event(large, 'e2'));
  });
  try {
    const response = await keepAliveFetch(url, { method: 'POST', body: '{}', redirect: 'manual' });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    assert.equal(await response.text(), PRIMING + event(large, 'e2'));
  } finally {
    await close(server);
  }
});

test("a POST's event stream kept open after its answer is handed over as a stream soon after, not held until it ends", async () => {
  let end!: () => void;
  const { url, server } = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(PRIMING + event(ANSWER, 'e2'));
    end = () => res.end();
  });
  try {
    const response = await keepAliveFetch(url, { method: 'POST', body: '{}', redirect: 'manual' });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value, PRIMING + event(ANSWER, 'e2'));
    end();
    assert.equal((await reader.read()).done, true);
  } finally {
    await close(server);
  }
});

test('aborting while a POST\'s event stream is read before it is handed over rejects with the reason and ends the request', async () => {
  const { url, server, requestEnded } = await openStream(PRIMING); // a long call: nothing but the priming event yet
  try {
    const controller = new AbortController();
    const pending = keepAliveFetch(url, { method: 'POST', body: '{}', signal: controller.signal, redirect: 'manual' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const reason = new Error('the backend session closed');
    controller.abort(reason);
    await assert.rejects(pending, (error) => error === reason);
    await requestEnded;
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  } finally {
    await close(server);
  }
});

test('a reply read whole reads as a fetch Response does: once, by any method or through its body; clone before reading', async () => {
  const { url, server } = await serve((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(req.url?.endsWith('?bad') ? '{"cut' : '{"é":[1,2]}'));
  const get = () => keepAliveFetch(url, { method: 'POST', body: '{}', redirect: 'manual' });
  try {
    const first = await get();
    assert.ok(first instanceof Response);
    const copy = first.clone();
    assert.equal(first.bodyUsed, false);
    assert.deepEqual(await first.json(), { é: [1, 2] });
    assert.equal(first.bodyUsed, true);
    await assert.rejects(first.text(), TypeError, 'a body is read once');
    assert.throws(() => first.clone(), TypeError);
    assert.equal(await copy.text(), '{"é":[1,2]}');

    assert.equal(Buffer.from(await (await get()).arrayBuffer()).toString(), '{"é":[1,2]}');
    assert.equal(Buffer.from(await (await get()).bytes()).toString(), '{"é":[1,2]}');
    assert.equal(await (await (await get()).blob()).text(), '{"é":[1,2]}');

    const streamed = await get();
    assert.equal(await new Response(streamed.body).text(), '{"é":[1,2]}', 'its body stream gives the same bytes');
    assert.equal(streamed.bodyUsed, true);
    await assert.rejects(streamed.json(), TypeError);

    const invalid = await keepAliveFetch(`${url}?bad`, { method: 'POST', body: '{}', redirect: 'manual' });
    await assert.rejects(invalid.json(), SyntaxError, 'JSON that does not parse rejects as fetch\'s json() does');
  } finally {
    await close(server);
  }
});

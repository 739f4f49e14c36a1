/**
 * Every per-client limit of the HTTP face, end to end on a real proxy, each refused with a
 * JSON-RPC error that names the limit and its setting: header size (431), header count (431),
 * request rate (429 + Retry-After), requests in progress per session or per client (429 +
 * Retry-After), sessions (503 + Retry-After), body size (413).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { FIXTURES, ROOT, memoryLogger, startProxy, until, type RunningProxy, ACCEPT, INITIALIZE } from './helpers.ts';
import { HttpLimits, principalOf } from '../core/http/limits.ts';

const MODERN = '2026-07-28';
const PLUGINS = [join(ROOT, 'plugins')];
const WITH_FIXTURES = [join(ROOT, 'plugins'), join(FIXTURES, 'plugins')];

function post(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    signal,
    headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A 2025 session opened by hand: its id and the headers its requests carry. */
async function openSession(url: string): Promise<Record<string, string>> {
  const init = await post(url, INITIALIZE);
  assert.equal(init.status, 200);
  await init.text();
  const headers = { 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
  assert.equal((await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).status, 202);
  return headers;
}

function callTool(url: string, id: number, name: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
  return post(url, { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } }, headers, signal);
}

/** A stateless 2026-07-28 tools/call: no session, the envelope in `_meta`. */
function callStateless(url: string, name: string, signal?: AbortSignal): Promise<Response> {
  const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };
  return post(url, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {}, _meta: meta } }, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': name }, signal);
}

/** An HTTP/1.1 request written byte for byte (so the headers are exactly these), and its answer. */
function rawRequest(url: string, head: string[], body = ''): Promise<{ status: number; head: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = netConnect(Number(port), hostname);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const split = text.indexOf('\r\n\r\n');
      const head = text.slice(0, split);
      let body = text.slice(split + 4);
      if (/^transfer-encoding: chunked$/im.test(head)) body = body.replace(/^[0-9a-f]+\r\n|\r\n[0-9a-f]+\r\n/gim, '').replace(/\r\n$/, '');
      resolve({ status: Number(text.slice(9, 12)), head, body });
    });
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  });
}

async function withProxy(options: Parameters<typeof startProxy>[0], run: (proxy: RunningProxy) => Promise<void>): Promise<void> {
  const proxy = await startProxy(options);
  try {
    await run(proxy);
  } finally {
    await proxy.close();
  }
}

test('headers larger than maxHeaderBytes get 431 with a JSON-RPC error naming the setting (not a bare 431), and the proxy goes on', async () => {
  await withProxy({ pluginDirs: PLUGINS, maxHeaderBytes: 4096 }, async (proxy) => {
    const fits = await post(proxy.url, INITIALIZE, { 'x-padding': 'a'.repeat(3000) });
    assert.equal(fits.status, 200, 'headers under the limit pass');
    await fits.text();
    for (const size of [5000, 200_000]) {
      const tooBig = await post(proxy.url, INITIALIZE, { 'x-padding': 'a'.repeat(size) });
      assert.equal(tooBig.status, 431, `${size} bytes of headers are refused`);
      assert.match(tooBig.headers.get('content-type') ?? '', /application\/json/);
      const body = await tooBig.json();
      assert.equal(body.jsonrpc, '2.0');
      assert.equal(body.error.code, -32000);
      assert.match(body.error.message, /Request Header Fields Too Large: the headers exceed 4096 bytes, the limit \(maxHeaderBytes\)/);
    }
    // What a user of the official SDK client reads in its error.
    const client = new Client({ name: 'limits-test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: { 'x-padding': 'a'.repeat(5000) } } });
    await assert.rejects(client.connect(transport), /the headers exceed 4096 bytes, the limit \(maxHeaderBytes\)/);
    assert.equal((await fetch(proxy.url.replace('/mcp', '/healthz'))).status, 200);
  });
});

test('more headers than maxHeaders get 431 naming the setting (Node would drop the excess silently)', async () => {
  await withProxy({ pluginDirs: PLUGINS, maxHeaders: 20 }, async (proxy) => {
    const body = JSON.stringify(INITIALIZE);
    const head = (pads: number) => [
      'POST /mcp HTTP/1.1',
      `Host: ${new URL(proxy.url).host}`,
      'Content-Type: application/json',
      `Accept: ${ACCEPT}`,
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      ...Array.from({ length: pads }, (_, i) => `X-Pad-${i}: ${i}`),
    ];
    const twenty = await rawRequest(proxy.url, head(15), body);
    assert.equal(twenty.status, 200, `exactly 20 headers pass: ${twenty.head}`);
    for (const pads of [16, 1000]) {
      const over = await rawRequest(proxy.url, head(pads), body);
      assert.equal(over.status, 431, `${5 + pads} headers are refused`);
      assert.match(JSON.parse(over.body).error.message, /Request Header Fields Too Large: more than 20 headers, the limit \(maxHeaders\)/);
    }
  });
});

test('past rateLimit a client gets 429 with Retry-After in seconds and the setting named; /healthz is not limited', async () => {
  await withProxy({ pluginDirs: PLUGINS, rateLimit: { requests: 3, perSeconds: 60 } }, async (proxy) => {
    const headers = await openSession(proxy.url); // initialize and notifications/initialized: 2 requests
    assert.equal((await callTool(proxy.url, 2, 'example_hello_world', headers)).status, 200);
    const limited = await callTool(proxy.url, 3, 'example_hello_world', headers);
    assert.equal(limited.status, 429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After is whole seconds within the window: ${retryAfter}`);
    const body = await limited.json();
    assert.match(body.error.message, /Too Many Requests: more than 3 requests in 60 s from ip:127\.0\.0\.1, the limit \(rateLimit\); retry after \d+ s/);
    assert.equal((await fetch(proxy.url.replace('/mcp', '/healthz'))).status, 200);
    assert.ok(proxy.logs().some((line) => /rate limit reached/.test(String(line.msg))), 'the operator sees it in the log');
  });
});

test('the rate limit counts per principal once authentication set one, else per client address', async () => {
  const limits = new HttpLimits({ rateLimit: { requests: 2, perSeconds: 1 }, maxRequestsPerSession: 64, maxHeaders: 100 }, memoryLogger().log);
  const app = new Koa();
  // Stands in for authentication, which sets ctx.state.principal before /mcp is handled.
  app.use(async (ctx, next) => {
    if (ctx.get('x-principal')) ctx.state.principal = { id: ctx.get('x-principal') };
    await next();
  });
  app.use(async (ctx) => {
    if (await limits.refuseByRate(ctx)) return;
    ctx.body = { who: principalOf(ctx) };
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  const as = (principal?: string) => fetch(url, { headers: principal ? { 'x-principal': principal } : {} });
  try {
    assert.deepEqual(await (await as('alice')).json(), { who: 'alice' });
    assert.equal((await as('alice')).status, 200);
    const third = await as('alice');
    assert.equal(third.status, 429);
    assert.match((await third.json()).error.message, /from alice, the limit \(rateLimit\)/);
    assert.equal((await as('bob')).status, 200, 'another principal has its own budget');
    assert.deepEqual(await (await as()).json(), { who: 'ip:127.0.0.1' }, 'without authentication, the address is the key');
    await new Promise((resolve) => setTimeout(resolve, Number(third.headers.get('retry-after')) * 1000 + 50));
    assert.equal((await as('alice')).status, 200, 'after Retry-After, the next window has room');
  } finally {
    server.close();
  }
});

test('past maxRequestsPerSession requests in progress on a 2025 session, the next gets 429 with Retry-After; notifications, GET streams and other sessions are not held up', async () => {
  await withProxy({ pluginDirs: WITH_FIXTURES, maxRequestsPerSession: 2, resumeGraceMs: 0 }, async (proxy) => {
    const session = await openSession(proxy.url);
    const hangs = [new AbortController(), new AbortController()];
    for (const [i, hang] of hangs.entries()) {
      const started = await callTool(proxy.url, 10 + i, 'fid_hang', session, hang.signal);
      assert.equal(started.status, 200, 'a hanging call is in progress (its stream is open)');
    }
    const refused = await callTool(proxy.url, 3, 'example_hello_world', session);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    const body = await refused.json();
    assert.equal(body.id, 3, 'the error answers the refused request');
    assert.match(body.error.message, /Too Many Requests: 2 requests are in progress on this session, the limit \(maxRequestsPerSession\); retry when one has finished/);

    assert.equal((await post(proxy.url, { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }, session)).status, 202, 'a notification is not counted');
    const stream = await fetch(proxy.url, { headers: { accept: 'text/event-stream', ...session } });
    assert.equal(stream.status, 200, 'a GET stream is not counted');
    await stream.body?.cancel();
    const other = await openSession(proxy.url);
    assert.equal((await callTool(proxy.url, 4, 'example_hello_world', other)).status, 200, 'another session has its own count');

    hangs[0]!.abort();
    const after = await until(async () => {
      const response = await callTool(proxy.url, 5, 'example_hello_world', session);
      return response.status === 429 ? void (await response.text()) : response;
    }, 'a slot to free up once a call ended');
    assert.equal(after.status, 200);
    hangs[1]!.abort();
  });
});

test('without a session (2026-07-28), maxRequestsPerSession counts per client; subscriptions/listen streams are not counted', async () => {
  await withProxy({ pluginDirs: WITH_FIXTURES, maxRequestsPerSession: 2 }, async (proxy) => {
    const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };
    const listen = await post(
      proxy.url,
      { jsonrpc: '2.0', id: 9, method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true }, _meta: meta } },
      { 'mcp-protocol-version': MODERN, 'mcp-method': 'subscriptions/listen' },
    );
    assert.equal(listen.status, 200);
    const hangs = [new AbortController(), new AbortController()];
    // A stateless answer is sent whole, so a hanging call gives no sign it started: poll until both count.
    const answered: number[] = [];
    for (const hang of hangs) callStateless(proxy.url, 'fid_hang', hang.signal).then((response) => answered.push(response.status), () => {});
    const refused = await until(async () => {
      const response = await callStateless(proxy.url, 'example_hello_world');
      return response.status === 429 ? response : void (await response.text());
    }, 'the third concurrent stateless request to be refused');
    assert.deepEqual(answered, [], 'both hanging calls were taken (the listen stream holds no slot)');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.match(
      (await refused.json()).error.message,
      /Too Many Requests: 2 requests from ip:127\.0\.0\.1 are in progress, the limit \(maxRequestsPerSession, counted per client for requests without a session\)/,
    );
    hangs[0]!.abort();
    const after = await until(async () => {
      const response = await callStateless(proxy.url, 'example_hello_world');
      return response.status === 429 ? void (await response.text()) : response;
    }, 'a slot to free up once a stateless call ended');
    assert.equal(after.status, 200);
    hangs[1]!.abort();
    await listen.body?.cancel();
  });
});

test('past maxSessions a new session gets 503 with Retry-After; when one ends, there is room again', async () => {
  await withProxy({ pluginDirs: PLUGINS, maxSessions: 2 }, async (small) => {
    const open = () => post(small.url, INITIALIZE);
    const first = await open();
    const second = await open();
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    const third = await open();
    assert.equal(third.status, 503);
    assert.equal(third.headers.get('retry-after'), '30');
    const body = await third.json();
    assert.equal(body.id, 1);
    assert.match(body.error.message, /Too many sessions: 2 are open, the limit \(maxSessions\)/);
    const ended = await fetch(small.url, { method: 'DELETE', headers: { 'mcp-session-id': first.headers.get('mcp-session-id')! } });
    assert.equal(ended.status, 200);
    assert.equal((await open()).status, 200);
  });
});

test('a body larger than maxBodyBytes gets 413 naming the setting', async () => {
  await withProxy({ pluginDirs: PLUGINS, maxBodyBytes: 10_000 }, async (proxy) => {
    const tooBig = await post(proxy.url, { ...INITIALIZE, padding: 'x'.repeat(20_000) });
    assert.equal(tooBig.status, 413);
    assert.match((await tooBig.json()).error.message, /Request body larger than 10000 bytes, the limit \(maxBodyBytes\)/);
    const fits = await post(proxy.url, { ...INITIALIZE, params: { ...INITIALIZE.params, clientInfo: { name: 'limits-test', version: '1', title: 'x'.repeat(5_000) } } });
    assert.equal(fits.status, 200, 'a body under the limit passes');
  });
});

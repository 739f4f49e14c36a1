/**
 * The HTTP surface: health, the session handshake, and clear answers to malformed requests.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { request } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { ROOT, startProxy, type RunningProxy, ACCEPT, INITIALIZE } from './helpers.ts';
import { checkHostAndOrigin } from '../core/http/app.ts';

let proxy: RunningProxy;

before(async () => {
  proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins')] });
});
after(() => proxy.close());

function post(body: unknown, headers: Record<string, string> = {}) {
  return fetch(proxy.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function rawPost(body: unknown, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** The JSON-RPC messages of a response, whether it came as JSON or as an SSE stream. */
async function messages(response: Response): Promise<Array<Record<string, any>>> {
  const text = await response.text();
  if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) return [JSON.parse(text)];
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line.length > 6)
    .map((line) => JSON.parse(line.slice(6)));
}

test('GET /healthz answers 200 while the process serves', async () => {
  const response = await fetch(proxy.url.replace('/mcp', '/healthz'));
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.status, 'ok');
  assert.equal(body.plugins, 1);
});

test('the raw handshake works: initialize returns a session id, later requests carry it', async () => {
  const init = await post(INITIALIZE);
  assert.equal(init.status, 200);
  const sessionId = init.headers.get('mcp-session-id');
  assert.ok(sessionId, 'initialize answers with an Mcp-Session-Id header');
  const [initResult] = await messages(init);
  assert.equal(initResult!.result.protocolVersion, '2025-11-25');
  assert.equal(initResult!.result.serverInfo.name, 'mcp-switchboard');

  const headers = { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
  assert.equal((await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).status, 202);
  const list = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, headers);
  const [listed] = await messages(list);
  assert.deepEqual(listed!.result.tools.map((t: { name: string }) => t.name), ['example_hello_world']);

  const deleted = await fetch(proxy.url, { method: 'DELETE', headers });
  assert.equal(deleted.status, 200);
});

test('older protocol versions are negotiated', async () => {
  for (const version of ['2025-06-18', '2025-03-26', '2024-11-05']) {
    const response = await post({ ...INITIALIZE, params: { ...INITIALIZE.params, protocolVersion: version } });
    const [message] = await messages(response);
    assert.equal(message!.result.protocolVersion, version);
    await fetch(proxy.url, { method: 'DELETE', headers: { 'mcp-session-id': response.headers.get('mcp-session-id')! } });
  }
});

test('a request without the handshake is told to initialize first (what a bare curl sees)', async () => {
  const response = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
  assert.equal(response.status, 400);
  const body = await response.json();
  assert.equal(body.error.code, -32000);
  assert.match(body.error.message, /Mcp-Session-Id header is required \(send an initialize request first/);
});

test('an unknown or ended session gets 404, so clients re-initialize', async () => {
  const response = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-session-id': 'no-such-session' });
  assert.equal(response.status, 404);
  assert.equal((await response.json()).error.message, 'Session not found');
  assert.equal((await fetch(proxy.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': 'nope' } })).status, 404);
});

test('GET without a session is a 400, other methods a 405', async () => {
  assert.equal((await fetch(proxy.url, { headers: { accept: 'text/event-stream' } })).status, 400);
  const put = await fetch(proxy.url, { method: 'PUT', body: '{}' });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'GET, POST, DELETE');
});

// Body size and every other limit: limits.test.ts.
test('malformed bodies get clear JSON-RPC errors', async () => {
  const notJson = await post('{"jsonrpc": "2.0", "id": 1,');
  assert.equal(notJson.status, 400);
  assert.equal((await notJson.json()).error.code, -32700);

  const wrongType = await fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'text/plain', accept: ACCEPT }, body: 'hello' });
  assert.equal(wrongType.status, 415);

  const noAccept = await fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(INITIALIZE) });
  assert.equal(noAccept.status, 406, 'a client that accepts neither JSON nor SSE is refused');
});

test('JSON nested deeper than 100 levels is refused with a JSON-RPC error carrying the request id (no stack overflow)', async () => {
  // Written as text: JSON.stringify itself would overflow the stack on this.
  const deep = `${'['.repeat(4000)}1${']'.repeat(4000)}`;
  const response = await post(JSON.stringify({ ...INITIALIZE, id: 7 }).replace(/}$/, `,"deep":${deep}}`));
  assert.equal(response.status, 400);
  const body = await response.json();
  assert.equal(body.id, 7);
  assert.equal(body.error.code, -32600);
  assert.match(body.error.message, /nested deeper than 100 levels/);
  assert.equal((await fetch(proxy.url.replace('/mcp', '/healthz'))).status, 200);
});

test('a client that resets its connection mid-request is not logged as a failure of the proxy, and the proxy serves on', async () => {
  const { hostname, port } = new URL(proxy.url);
  const before = proxy.logs().length;
  await new Promise<void>((resolve, reject) => {
    const socket = connectTcp(Number(port), hostname, () => {
      // Headers and half a body, then a TCP reset: what a client killed mid-upload does.
      socket.write(`POST /mcp HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nAccept: ${ACCEPT}\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":"2.0",`);
      setTimeout(() => {
        socket.resetAndDestroy();
        resolve();
      }, 100);
    });
    socket.on('error', reject);
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const errors = proxy.logs().slice(before).filter((line) => Number(line.level) >= 50);
  assert.deepEqual(errors.map((line) => line.msg), [], 'a client going away was logged as an error of the proxy');
  assert.equal((await fetch(new URL('/healthz', proxy.url))).status, 200);
});

test('requests from a foreign Host or Origin are refused (DNS-rebinding protection)', async () => {
  // fetch will not send a forged Host header; node:http will, as a rebinding attack's browser does.
  const evilHost = await rawPost(INITIALIZE, { host: 'evil.example.com' });
  assert.equal(evilHost.status, 403);
  assert.match(JSON.parse(evilHost.body).error.message, /Host "evil\.example\.com" is not allowed/);
  const evilOrigin = await post(INITIALIZE, { origin: 'http://evil.example.com' });
  assert.equal(evilOrigin.status, 403);
  const local = await post(INITIALIZE, { origin: 'http://localhost:6274' });
  assert.equal(local.status, 200, 'a local page (e.g. the MCP Inspector) is allowed');
});

test('the host check accepts configured names, ports and IPv6, or everything with *', () => {
  const allowed = ['localhost', '127.0.0.1', '[::1]', 'proxy.internal'];
  assert.equal(checkHostAndOrigin('localhost:8490', '', allowed), undefined);
  assert.equal(checkHostAndOrigin('[::1]:8490', '', allowed), undefined);
  assert.equal(checkHostAndOrigin('proxy.internal', 'https://proxy.internal', allowed), undefined);
  assert.match(checkHostAndOrigin('10.0.0.5:8490', '', allowed)!, /not allowed/);
  assert.match(checkHostAndOrigin('localhost', 'null', allowed)!, /Origin "null"/);
  assert.equal(checkHostAndOrigin('anything.example', 'http://x.example', ['*']), undefined);
});

/**
 * CORS for browser clients, with plain fetch (which, unlike a browser, shows every header):
 * off by default; with `cors`, preflights answered for listed origins only, the headers MCP
 * clients send allowed, the ones they read exposed, and listed origins let past the Origin
 * check while the Host check stays. test/browser.test.ts does the same in a real browser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { request } from 'node:http';
import { ROOT, startProxy, type RunningProxy, ACCEPT, INITIALIZE } from './helpers.ts';
import { checkHostAndOrigin } from '../core/http/app.ts';
import { corsMiddleware, type CorsSettings } from '../core/http/cors.ts';

const APP = 'https://app.example.com';

async function withProxy(cors: CorsSettings | undefined, run: (proxy: RunningProxy) => Promise<void>, more: Record<string, unknown> = {}): Promise<void> {
  const proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins')], cors, ...more });
  try {
    await run(proxy);
  } finally {
    await proxy.close();
  }
}

function preflight(url: string, origin: string, method = 'POST', headers = 'content-type, mcp-protocol-version'): Promise<Response> {
  return fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers }, body: JSON.stringify(body) });
}

/** Every `access-control-*` header of a response. */
function corsHeaders(response: Response): Record<string, string> {
  return Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('access-control-')));
}

test('by default no response carries CORS headers, so no other site can read the proxy', async () => {
  await withProxy(undefined, async (proxy) => {
    const asked = await preflight(proxy.url, APP);
    assert.deepEqual(corsHeaders(asked), {});
    assert.notEqual(asked.status, 204, 'the preflight is not answered as one');
    const local = await post(proxy.url, INITIALIZE, { origin: 'http://localhost:6274' });
    assert.equal(local.status, 200, 'a local page still passes the Origin check');
    assert.deepEqual(corsHeaders(local), {});
  });
});

test('a listed origin gets its preflight answered: methods, max age, and only the request headers MCP clients send', async () => {
  await withProxy({ origins: [APP], maxAgeSec: 900 }, async (proxy) => {
    const asked = await preflight(proxy.url, APP, 'POST', 'Content-Type, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name, Mcp-Param-Region, X-Something-Else');
    assert.equal(asked.status, 204);
    const headers = corsHeaders(asked);
    assert.equal(headers['access-control-allow-origin'], APP);
    assert.equal(headers['access-control-allow-methods'], 'GET,POST,DELETE');
    assert.equal(headers['access-control-max-age'], '900');
    assert.equal(headers['access-control-allow-headers'], 'content-type, authorization, mcp-session-id, mcp-protocol-version, last-event-id, mcp-method, mcp-name, mcp-param-region');
    assert.equal(headers['access-control-allow-credentials'], undefined, 'no credentials unless asked for');
    assert.match(asked.headers.get('vary') ?? '', /origin/i, 'caches keep answers per origin');
    const bare = await preflight(proxy.url, APP, 'DELETE', 'mcp-session-id');
    assert.equal(bare.headers.get('access-control-allow-headers'), 'mcp-session-id');
  });
});

test('a listed origin reads Mcp-Session-Id and the other MCP headers, though its host is not in allowedHosts; errors are readable too', async () => {
  await withProxy({ origins: [APP] }, async (proxy) => {
    const init = await post(proxy.url, INITIALIZE, { origin: APP });
    assert.equal(init.status, 200, 'the Origin check accepts an origin listed in cors.origins');
    assert.equal(init.headers.get('access-control-allow-origin'), APP);
    const exposed = (init.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());
    for (const name of ['mcp-session-id', 'mcp-protocol-version', 'www-authenticate', 'retry-after', 'x-request-id']) assert.ok(exposed.includes(name), `${name} is exposed`);
    assert.ok(init.headers.get('mcp-session-id'));
    const missing = await post(proxy.url, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { origin: APP, 'mcp-session-id': 'gone' });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('access-control-allow-origin'), APP, 'a page can read why it was refused');
  });
});

test('an origin not listed gets no CORS headers and is still refused by the Origin check; a listed one with a foreign Host too', async () => {
  await withProxy({ origins: [APP] }, async (proxy) => {
    const asked = await preflight(proxy.url, 'https://evil.example.com');
    assert.deepEqual(corsHeaders(asked), {});
    const sent = await post(proxy.url, INITIALIZE, { origin: 'https://evil.example.com' });
    assert.equal(sent.status, 403);
    assert.deepEqual(corsHeaders(sent), {});
    assert.match((await sent.json()).error.message, /Origin "https:\/\/evil\.example\.com" is not allowed .*cors\.origins/);
    const otherPort = await post(proxy.url, INITIALIZE, { origin: `${APP}:8443` });
    assert.equal(otherPort.status, 403, 'an origin is scheme, host and port: another port is another origin');

    // DNS rebinding: the attacker's name in Host. node:http sends a forged Host; fetch will not.
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = request(proxy.url, { method: 'POST', headers: { host: 'evil.example.com', origin: APP, 'content-type': 'application/json', accept: ACCEPT } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(JSON.stringify(INITIALIZE));
    });
    assert.equal(rebound, 403, 'the Host check still applies to listed origins');
  });
});

test('with credentials the origin is echoed and credentials allowed; with "*" any origin, and limits refusals carry CORS headers', async () => {
  await withProxy({ origins: [APP], credentials: true }, async (proxy) => {
    const asked = await preflight(proxy.url, APP);
    assert.equal(asked.headers.get('access-control-allow-origin'), APP);
    assert.equal(asked.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(asked.headers.get('access-control-max-age'), '600', 'maxAgeSec defaults to 600');
  });
  await withProxy(
    { origins: ['*'] },
    async (proxy) => {
      const anyone = await post(proxy.url, INITIALIZE, { origin: 'https://anyone.example.org' });
      assert.equal(anyone.status, 200);
      assert.equal(anyone.headers.get('access-control-allow-origin'), '*');
      assert.equal(anyone.headers.get('access-control-allow-credentials'), null);
      await anyone.text();
      const limited = await post(proxy.url, INITIALIZE, { origin: 'https://anyone.example.org' });
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('access-control-allow-origin'), '*', 'a page can read the 429...');
      assert.match(limited.headers.get('access-control-expose-headers') ?? '', /Retry-After/, '...and its Retry-After');
    },
    { rateLimit: { requests: 1, perSeconds: 60 } },
  );
});

test('the Origin check lets through the origins cors lists (normalized), and no others', () => {
  const allowed = ['localhost', '127.0.0.1', '[::1]'];
  const cors = { origins: ['https://App.example.com:443', 'http://127.0.0.1:5173'] };
  assert.equal(checkHostAndOrigin('localhost:8490', 'https://app.example.com', allowed, cors), undefined);
  assert.equal(checkHostAndOrigin('localhost:8490', 'http://127.0.0.1:5173', allowed, cors), undefined);
  assert.match(checkHostAndOrigin('localhost:8490', 'https://app.example.com', allowed)!, /Origin "https:\/\/app\.example\.com" is not allowed/);
  assert.match(checkHostAndOrigin('localhost:8490', 'http://app.example.com', allowed, cors)!, /not allowed/, 'http is not https');
  assert.match(checkHostAndOrigin('localhost:8490', 'null', allowed, cors)!, /Origin "null"/);
  assert.match(checkHostAndOrigin('evil.example:8490', 'https://app.example.com', allowed, cors)!, /Host "evil\.example:8490"/);
  assert.equal(checkHostAndOrigin('localhost', 'https://whoever.example', allowed, { origins: ['*'] }), undefined);
});

test('credentials with every origin are refused even when the settings skip the config check (embedders)', () => {
  assert.throws(() => corsMiddleware({ origins: ['*'], credentials: true }), /cors: credentials cannot be used with origins \["\*"\]/);
});

/**
 * Inbound authentication, for both protocol eras: static tokens and JWTs checked against a JWKS
 * this test serves (expiry, audience, issuer, rotated keys), the 401 challenge and the RFC 9728
 * document that tells clients where to get a token, scopes that hide and refuse plugins, a
 * 2025 session bound to the caller that opened it, and the warning when the proxy listens on
 * the network with nothing checking who calls.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/server';
import { ROOT, memoryLogger, startProxy, startRemoteFixture, textOf, type RunningProcess, type RunningProxy } from './helpers.ts';
import { createSwitchboard } from '../core/switchboard.ts';
import { loadConfig } from '../core/config/config.ts';
import type { AuthSettings } from '../core/auth/authenticator.ts';
import { metadataUrl } from '../core/http/auth.ts';

const MODERN = '2026-07-28';
const ISSUER = 'https://issuer.test';
const AUDIENCE = 'https://switchboard.test/mcp';
const CI_TOKEN = 'ci-token-0123456789abcdef';
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

/** A JWKS the test controls: its keys can be rotated. */
class Jwks {
  server!: Server;
  url!: string;
  keys: Array<{ kid: string; privateKey: CryptoKey; jwk: JWK }> = [];
  fetches = 0;

  async start(): Promise<void> {
    await this.rotate();
    this.server = createServer((_req, res) => {
      this.fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks.json`;
  }

  /** Replaces the published key with a new one (a new kid); tokens signed with the old one stop working. */
  async rotate(): Promise<void> {
    const kid = `key-${this.keys.length + 1}-${Date.now()}`;
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    this.keys = [{ kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } }];
  }

  async token(claims: { sub?: string; scope?: string; aud?: string; iss?: string; exp?: number | string } = {}, key = this.keys[0]!): Promise<string> {
    const jwt = new SignJWT({ ...(claims.scope && { scope: claims.scope }) })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setSubject(claims.sub ?? 'alice')
      .setIssuer(claims.iss ?? ISSUER)
      .setAudience(claims.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? '5m');
    return jwt.sign(key.privateKey);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const jwks = new Jwks();
let remote: RunningProcess;
let proxy: RunningProxy;

function authSettings(): AuthSettings {
  return {
    tokens: [
      { token: CI_TOKEN, name: 'ci', plugins: ['example'] },
      { token: ADMIN_TOKEN, name: 'admin' },
    ],
    jwt: { jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE, jwksCooldownMs: 0, scopes: { 'mcp:example': ['example'], 'mcp:all': ['*'] } },
  };
}

before(async () => {
  await jwks.start();
  remote = await startRemoteFixture();
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-auth-'));
  await mkdir(join(dir, 'old'));
  await writeFile(join(dir, 'old', 'plugin.json'), JSON.stringify({ prefix: 'old', remote: { url: remote.url } }));
  proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins'), dir], auth: authSettings() });
});

after(async () => {
  await proxy?.close();
  await remote?.stop();
  await jwks.close();
});

/** One raw 2025 `initialize`, as a client would send it. */
function initialize(headers: Record<string, string> = {}): Promise<Response> {
  return fetch(proxy.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
  });
}

/** One raw 2026 request (no session), as a client would send it. */
function modernCall(method: string, params: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  const name: Record<string, string> = typeof params.name === 'string' ? { 'mcp-name': params.name } : {};
  return fetch(proxy.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': method, ...name, ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method,
      params: { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} } },
    }),
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function v1Client(token: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'v1', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: bearer(token) } });
  await client.connect(transport);
  return { client, transport };
}

async function v2Client(token: string): Promise<V2Client> {
  const client = new V2Client({ name: 'v2', version: '1' }, { versionNegotiation: { mode: { pin: MODERN } } });
  await client.connect(new V2Transport(new URL(proxy.url), { requestInit: { headers: bearer(token) } }));
  return client;
}

test('without credentials, both eras get 401 with a Bearer challenge naming the protected resource metadata, and a JSON-RPC error saying why', async () => {
  for (const response of [await initialize(), await modernCall('tools/list', {})]) {
    assert.equal(response.status, 401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer realm="mcp-switchboard"/);
    assert.match(challenge, new RegExp(`resource_metadata="${proxy.url.replace('/mcp', '')}/\\.well-known/oauth-protected-resource/mcp"`));
    assert.doesNotMatch(challenge, /error=/, 'no error code when no credentials were sent (RFC 6750)');
    const body = (await response.json()) as { error: { message: string } };
    assert.match(body.error.message, /requires a bearer token/);
  }
});

test('the protected resource metadata (RFC 9728) names this resource, the issuer and the scopes, at both well-known paths', async () => {
  const base = proxy.url.replace('/mcp', '');
  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    const response = await fetch(`${base}${path}`);
    assert.equal(response.status, 200, path);
    assert.deepEqual(await response.json(), {
      resource: proxy.url,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:example', 'mcp:all'],
      resource_name: 'mcp-switchboard',
    });
  }
});

test('bad, expired, wrong-audience, wrong-issuer and unknown-key tokens are refused with invalid_token in both eras; a token of a rotated key works', async () => {
  const other = await generateKeyPair('RS256');
  const cases: Array<[string, string, RegExp]> = [
    ['a random string', 'not-a-token-at-all-0123456789', /the token is not valid/],
    ['expired', await jwks.token({ exp: Math.floor(Date.now() / 1000) - 3600 }), /expired/],
    ['wrong audience', await jwks.token({ aud: 'https://elsewhere.test/mcp' }), /not meant for this proxy/],
    ['wrong issuer', await jwks.token({ iss: 'https://evil.test' }), /not issued by https:\/\/issuer\.test/],
    ['signed by a key nobody published', await jwks.token({}, { kid: 'stranger', privateKey: other.privateKey, jwk: {} }), /key the authorization server does not publish/],
  ];
  for (const [what, token, reason] of cases) {
    for (const response of [await initialize(bearer(token)), await modernCall('tools/list', {}, bearer(token))]) {
      assert.equal(response.status, 401, what);
      const challenge = response.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /error="invalid_token"/, what);
      assert.match(challenge, reason, `${what}: the challenge says why`);
      assert.match(((await response.json()) as { error: { message: string } }).error.message, reason, what);
    }
  }
  // The authorization server rotates its key: a token with the new kid makes the proxy fetch the JWKS again.
  const before = jwks.fetches;
  const old = await jwks.token({ scope: 'mcp:all' });
  await jwks.rotate();
  const fresh = await jwks.token({ scope: 'mcp:all' });
  assert.equal((await modernCall('tools/list', {}, bearer(fresh))).status, 200, 'a token of the new key is accepted');
  assert.ok(jwks.fetches > before, 'the JWKS was fetched again for the new key id');
  assert.equal((await modernCall('tools/list', {}, bearer(old))).status, 401, 'a token of the retired key is not');
});

test('a good JWT works in both eras; its scopes decide which plugins the caller sees and may call', async () => {
  const all = await jwks.token({ scope: 'mcp:all' });
  const example = await jwks.token({ sub: 'bob', scope: 'mcp:example' });
  const { client, transport } = await v1Client(all);
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(tools.includes('example_hello_world') && tools.includes('old_shout'), `mcp:all sees both plugins: ${tools.join(', ')}`);
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
  const limited = await v1Client(example);
  try {
    const tools = (await limited.client.listTools()).tools.map((t) => t.name);
    assert.deepEqual(tools, ['example_hello_world'], 'mcp:example sees the example plugin only');
    assert.equal(textOf(await limited.client.callTool({ name: 'example_hello_world', arguments: {} })), 'Hello from the example MCP server!');
    await assert.rejects(limited.client.callTool({ name: 'old_shout', arguments: { text: 'x' } }), /Unknown tool: old_shout/, 'a plugin it may not use does not exist for it');
  } finally {
    await limited.transport.terminateSession().catch(() => {});
    await limited.client.close();
  }
  const modern = await v2Client(example);
  try {
    assert.deepEqual((await modern.listTools()).tools.map((t) => t.name), ['example_hello_world']);
    assert.equal(textOf(await modern.callTool({ name: 'example_hello_world', arguments: {} })), 'Hello from the example MCP server!');
    await assert.rejects(modern.callTool({ name: 'old_shout', arguments: { text: 'x' } }), /Unknown tool: old_shout/);
  } finally {
    await modern.close();
  }
  // A token that grants none of the known scopes opens nothing: 403 insufficient_scope.
  const none = await jwks.token({ scope: 'calendar:read' });
  const refused = await modernCall('tools/list', {}, bearer(none));
  assert.equal(refused.status, 403);
  assert.match(refused.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="mcp:example mcp:all"/);
});

test('static tokens: compared whole, each limited to its plugins (their tools and resources do not exist for the others)', async () => {
  assert.equal((await initialize(bearer(CI_TOKEN.slice(0, -1)))).status, 401, 'a prefix of a token is not the token');
  assert.equal((await initialize(bearer(`${CI_TOKEN}x`))).status, 401, 'nor is a longer string');
  assert.equal((await initialize({ authorization: `Basic ${Buffer.from(`x:${CI_TOKEN}`).toString('base64')}` })).status, 401, 'only Bearer is taken');
  const ci = await v2Client(CI_TOKEN);
  const admin = await v2Client(ADMIN_TOKEN);
  try {
    assert.deepEqual((await ci.listTools()).tools.map((t) => t.name), ['example_hello_world']);
    assert.ok((await admin.listTools()).tools.some((t) => t.name === 'old_shout'), 'admin may use every plugin');
    // Only the remote plugin has resources: ci neither lists nor reads them.
    assert.ok((await admin.listResources()).resources.some((r) => r.uri === 'docs://old/guide/intro'), 'admin lists the remote plugin\'s resources');
    assert.deepEqual((await ci.listResources()).resources, []);
    await assert.rejects(ci.readResource({ uri: 'docs://old/guide/intro' }), /Resource not found: docs:\/\/old\/guide\/intro/);
  } finally {
    await ci.close();
    await admin.close();
  }
});

test('a 2025 session belongs to the caller that opened it: another token cannot use it', async () => {
  const { client, transport } = await v1Client(ADMIN_TOKEN);
  try {
    const response = await fetch(proxy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25', ...bearer(CI_TOKEN) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list', params: {} }),
    });
    assert.equal(response.status, 403);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /opened by another caller/);
    const noToken = await fetch(proxy.url, { method: 'DELETE', headers: { 'mcp-session-id': transport.sessionId! } });
    assert.equal(noToken.status, 401, 'nor can a caller without a token end it');
    assert.ok((await client.listTools()).tools.length > 0, 'the owner still uses it');
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
});

test('tokens never appear in the log, in /readyz or in errors', async () => {
  const jwt = await jwks.token({ scope: 'mcp:all' });
  await initialize(bearer(CI_TOKEN));
  await modernCall('tools/call', { name: 'old_shout', arguments: { text: 'hi' } }, bearer(jwt));
  const readyz = await (await fetch(proxy.url.replace('/mcp', '/readyz'))).text();
  const logs = JSON.stringify(proxy.logs());
  for (const secret of [CI_TOKEN, ADMIN_TOKEN, jwt]) {
    assert.ok(!logs.includes(secret), 'a token is in the log');
    assert.ok(!readyz.includes(secret), 'a token is in /readyz');
  }
  assert.match(readyz, /"auth":\{"mode":"bearer: 2 static token\(s\) and JWTs from http:\/\/127\.0\.0\.1:\d+\/jwks\.json"\}/);
});

test('listening beyond loopback with no auth configured is said loudly, at start-up and in /readyz; auth "none" says it is intended', async () => {
  for (const auth of [undefined, 'none' as const]) {
    const { log, lines } = memoryLogger();
    const switchboard = await createSwitchboard({ cwd: ROOT, pluginDirs: [join(ROOT, 'plugins')], log, watch: false, auth });
    try {
      const url = await switchboard.listen(0, '0.0.0.0');
      const warnings = lines().filter((line) => line.level === 40 && /^SECURITY: listening on 0\.0\.0\.0 with no authentication/.test(String(line.msg)));
      const readyz = (await (await fetch(url.replace('/mcp', '/readyz'))).json()) as { auth: { mode: string; warning?: string } };
      if (auth === undefined) {
        assert.equal(warnings.length, 1, 'one loud warning at start-up');
        assert.match(readyz.auth.warning ?? '', /anyone who can reach port \d+ can call every tool/);
        assert.equal(readyz.auth.mode, 'none (not configured)');
      } else {
        assert.equal(warnings.length, 0, 'auth "none" silences it');
        assert.equal(readyz.auth.warning, undefined);
        assert.equal(readyz.auth.mode, 'none (auth: "none")');
      }
    } finally {
      await switchboard.close();
    }
  }
  // On loopback there is nothing to warn about.
  const { log, lines } = memoryLogger();
  const local = await createSwitchboard({ cwd: ROOT, pluginDirs: [join(ROOT, 'plugins')], log, watch: false });
  try {
    await local.listen(0, '127.0.0.1');
    assert.equal(lines().filter((line) => /SECURITY/.test(String(line.msg))).length, 0);
  } finally {
    await local.close();
  }
});

test('a policy forwarding Authorization while auth is on is warned about: the caller\'s token to mcp-switchboard would reach that backend', async () => {
  const plugins = { example: { forwardHeaders: ['x-tenant-*', 'authorization'] }, other: { forwardHeaders: ['X-Trace'] } };
  const warned = async (auth: { tokens: { token: string; name: string }[] } | 'none') => {
    const { log, lines } = memoryLogger();
    const switchboard = await createSwitchboard({ cwd: ROOT, pluginDirs: [join(ROOT, 'plugins')], log, watch: false, auth, plugins });
    await switchboard.close();
    return lines().filter((line) => line.level === 40 && /forwardHeaders names Authorization while auth is on/.test(String(line.msg))).map((line) => String(line.msg));
  };
  const warnings = await warned({ tokens: [{ token: CI_TOKEN, name: 'ci' }] });
  assert.deepEqual(warnings, ['config plugins.example.forwardHeaders names Authorization while auth is on: the token callers present to mcp-switchboard reaches that backend too']);
  assert.deepEqual(await warned('none'), [], 'without auth there is no proxy token to leak');
});

test('auth in the config: SWITCHBOARD_AUTH_TOKENS adds tokens; short tokens, a JWT setup without audience and "none" with tokens are errors naming the key', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'switchboard-auth-config-'));
  const fromEnv = await loadConfig({ cwd, env: { SWITCHBOARD_AUTH_TOKENS: `${CI_TOKEN}, ${ADMIN_TOKEN}` } });
  assert.deepEqual(fromEnv.auth, { tokens: [{ token: CI_TOKEN, name: 'env-token-1' }, { token: ADMIN_TOKEN, name: 'env-token-2' }] });
  await assert.rejects(loadConfig({ cwd, env: { SWITCHBOARD_AUTH_TOKENS: 'short' } }), /SWITCHBOARD_AUTH_TOKENS: token 1 is shorter than 16 characters/);
  await assert.rejects(loadConfig({ cwd, env: { SWITCHBOARD_AUTH: 'none', SWITCHBOARD_AUTH_TOKENS: CI_TOKEN } }), /tokens are set, but auth is "none"/);
  await writeFile(join(cwd, 'switchboard.config.json'), JSON.stringify({ auth: { jwt: { jwksUrl: 'https://issuer.test/jwks', issuer: ISSUER } } }));
  await assert.rejects(loadConfig({ cwd, env: {} }), /key "auth": auth\.jwt needs "audience"/);
  await writeFile(join(cwd, 'switchboard.config.json'), JSON.stringify({ auth: { tokens: ['0123456789abcdef'], jwt: { jwksUrl: 'https://issuer.test/jwks', issuer: ISSUER }, resource: AUDIENCE } }));
  const file = await loadConfig({ cwd, env: {} });
  assert.equal(typeof file.auth === 'object' && file.auth.jwt?.audience, AUDIENCE, 'auth.resource is the audience when none is given');
  assert.deepEqual(typeof file.auth === 'object' && file.auth.tokens, [{ token: '0123456789abcdef' }]);
});

/** The installed `switchboard` bin as a real process; resolves with exit code and output. */
async function switchboard(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/switchboard.js'), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('the CLI takes a token (--token or SWITCHBOARD_TOKEN); without one it says the proxy wants one; /readyz shows plugins only to a caller with a token', async () => {
  const refused = await switchboard(['call', proxy.url, 'example_hello_world']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /requires a bearer token.*pass --token or set SWITCHBOARD_TOKEN/s);
  const called = await switchboard(['call', proxy.url, 'example_hello_world', '--token', CI_TOKEN]);
  assert.equal(called.code, 0, called.stderr);
  assert.match(called.stdout, /Hello from the example MCP server!/);
  const listed = await switchboard(['list', proxy.url], { SWITCHBOARD_TOKEN: CI_TOKEN });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /example_hello_world/);
  assert.doesNotMatch(listed.stdout, /old_shout/, "ci's list has only the example plugin");

  const probe = (await (await fetch(proxy.url.replace('/mcp', '/readyz'))).json()) as Record<string, unknown>;
  assert.equal(probe.ready, true, 'a probe without a token gets the verdict');
  assert.equal(probe.plugins, undefined, 'but not the plugins');
  const plugins = await switchboard(['plugins', proxy.url, '--json', '--token', CI_TOKEN]);
  assert.equal(plugins.code, 0, plugins.stderr);
  assert.deepEqual((JSON.parse(plugins.stdout) as { plugins: Array<{ prefix: string }> }).plugins.map((p) => p.prefix), ['example'], 'ci sees the plugins it may use');
  const anonymous = await switchboard(['plugins', proxy.url]);
  assert.equal(anonymous.code, 1);
  assert.match(anonymous.stderr, /send a bearer token .* to see the plugins: pass --token or set SWITCHBOARD_TOKEN/);
});

test('with auth on, rateLimit counts per caller: one token spending its budget does not hold up another', async () => {
  const limited = await startProxy({ pluginDirs: [join(ROOT, 'plugins')], auth: authSettings(), rateLimit: { requests: 3, perSeconds: 60 } });
  try {
    const list = (token: string) =>
      fetch(limited.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list', ...bearer(token) },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} } } }),
      });
    for (let i = 0; i < 3; i++) assert.equal((await list(CI_TOKEN)).status, 200);
    const refused = await list(CI_TOKEN);
    assert.equal(refused.status, 429);
    assert.match(((await refused.json()) as { error: { message: string } }).error.message, /more than 3 requests in 60 s from ci, the limit \(rateLimit\)/);
    assert.equal((await list(ADMIN_TOKEN)).status, 200, 'another caller is not held up');
  } finally {
    await limited.close();
  }
});

test('with auth on, maxSessionsPerCaller caps the sessions of one caller (429 naming it) without touching those of another', async () => {
  const capped = await startProxy({ pluginDirs: [join(ROOT, 'plugins')], auth: authSettings(), maxSessionsPerCaller: 2 });
  try {
    const open = (token: string) =>
      fetch(capped.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...bearer(token) },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
      });
    const first = await open(CI_TOKEN);
    assert.equal(first.status, 200);
    assert.equal((await open(CI_TOKEN)).status, 200);
    const third = await open(CI_TOKEN);
    assert.equal(third.status, 429);
    assert.equal(third.headers.get('retry-after'), '30');
    assert.match(((await third.json()) as { error: { message: string } }).error.message, /ci has 2 open, the limit \(maxSessionsPerCaller\)/);
    assert.equal((await open(ADMIN_TOKEN)).status, 200, 'another caller still opens sessions');
    await fetch(capped.url, { method: 'DELETE', headers: { 'mcp-session-id': first.headers.get('mcp-session-id')!, ...bearer(CI_TOKEN) } });
    assert.equal((await open(CI_TOKEN)).status, 200, 'ending one makes room');
  } finally {
    await capped.close();
  }
});

test("the protected resource metadata URL in a 401's challenge is the SDK v2's", () => {
  for (const resource of ['https://proxy.example/mcp', 'https://proxy.example/mcp/', 'https://proxy.example/', 'https://proxy.example', 'http://127.0.0.1:8080/a/b/mcp?x=1#frag']) {
    assert.equal(metadataUrl(resource), getOAuthProtectedResourceMetadataUrl(new URL(resource)), resource);
  }
});

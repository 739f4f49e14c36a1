/**
 * `forwardHeaders` and `headers` of a plugin's policy, proven at real remote backends that report
 * the headers they get: the 2025-era fixture (SDK v1) and the 2026-era one (SDK v2), reached by
 * clients of both eras. A client's headers go on only when its plugin forwards them; Authorization
 * and Cookie only when named; static headers arrive on every request.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import type { PluginPolicy } from '../core/config/plugin-policy.ts';
import { startProcess, startProxy, startRemoteFixture, textOf, type RunningProcess, type RunningProxy } from './helpers.ts';

let legacy: RunningProcess;
let modern: RunningProcess;
let proxy: RunningProxy;

/** What the client sends the proxy, besides the protocol's own headers. */
const CLIENT_HEADERS = {
  Authorization: 'Bearer the-proxy-token',
  Cookie: 'session=client-cookie',
  'X-Tenant': 'acme',
  'X-Trace-Id': 'trace-1',
  'X-Other': 'other',
};

const FORWARDING: PluginPolicy = { forwardHeaders: ['x-tenant', 'X-Trace-*', 'Authorization'], headers: { 'X-Static': 'from-policy' } };
const WILDCARD: PluginPolicy = { forwardHeaders: ['*'] };

before(async () => {
  [legacy, modern] = await Promise.all([
    startRemoteFixture(),
    startProcess(process.execPath, ['--import', 'tsx', 'test/fixtures/modern-server.ts'], { env: { PORT: '0' }, ready: /listening (http:\S+)/ }),
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-forward-'));
  const remotes: Record<string, string> = { fwd: legacy.url, plain: legacy.url, wild: legacy.url, mfwd: modern.url, mplain: modern.url, mwild: modern.url };
  for (const [prefix, url] of Object.entries(remotes)) {
    await mkdir(join(dir, prefix));
    await writeFile(join(dir, prefix, 'plugin.json'), JSON.stringify({ prefix, remote: { url, headers: { 'X-Manifest': 'manifest', 'X-Static': 'from-manifest' } } }));
  }
  proxy = await startProxy({ pluginDirs: [dir], plugins: { fwd: FORWARDING, mfwd: FORWARDING, wild: WILDCARD, mwild: WILDCARD } });
});

after(async () => {
  await proxy?.close();
  await Promise.all([legacy?.stop(), modern?.stop()]);
});

interface HeaderClient {
  headersAt(prefix: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

async function legacyClient(capabilities = {}): Promise<HeaderClient> {
  const client = new Client({ name: 'v1-headers', version: '1.0.0' }, { capabilities });
  const transport = new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: CLIENT_HEADERS } });
  await client.connect(transport);
  return {
    headersAt: async (prefix) => JSON.parse(textOf(await client.callTool({ name: `${prefix}_headers`, arguments: {} }))),
    close: async () => {
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

async function modernClient(): Promise<HeaderClient> {
  const client = new V2Client({ name: 'v2-headers', version: '1.0.0' }, { capabilities: {}, versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new V2Transport(new URL(proxy.url), { requestInit: { headers: CLIENT_HEADERS } }));
  return {
    headersAt: async (prefix) => JSON.parse(textOf(await client.callTool({ name: `${prefix}_headers`, arguments: {} }))),
    close: () => client.close(),
  };
}

const CLIENTS: Array<[string, () => Promise<HeaderClient>]> = [
  ['a 2025-11-25 client (SDK v1)', () => legacyClient()],
  ['a 2026-07-28 client (SDK v2)', modernClient],
];
const BACKENDS: Array<[string, { forwarding: string; plain: string; wildcard: string }]> = [
  ['a 2025-era remote (SDK v1 fixture)', { forwarding: 'fwd', plain: 'plain', wildcard: 'wild' }],
  ['a 2026-era remote (SDK v2 fixture)', { forwarding: 'mfwd', plain: 'mplain', wildcard: 'mwild' }],
];

for (const [clientName, open] of CLIENTS) {
  for (const [backendName, prefixes] of BACKENDS) {
    test(`${clientName} through ${backendName}: listed headers are forwarded, Authorization because it is named, nothing else`, async () => {
      const client = await open();
      try {
        const seen = await client.headersAt(prefixes.forwarding);
        assert.equal(seen['x-tenant'], 'acme');
        assert.equal(seen['x-trace-id'], 'trace-1', 'a pattern forwards what it matches');
        assert.equal(seen.authorization, 'Bearer the-proxy-token', 'Authorization is forwarded when named');
        assert.equal(seen.cookie, undefined, 'Cookie is not forwarded unless named');
        assert.equal(seen['x-other'], undefined, 'an unlisted header is not forwarded');
        assert.equal(seen['x-static'], 'from-policy', "the policy's static headers win over the manifest's");
        assert.equal(seen['x-manifest'], 'manifest', "the manifest's headers still arrive");
      } finally {
        await client.close();
      }
    });

    test(`${clientName} through ${backendName}: without forwardHeaders nothing of the client's reaches the backend`, async () => {
      const client = await open();
      try {
        const seen = await client.headersAt(prefixes.plain);
        for (const name of ['authorization', 'cookie', 'x-tenant', 'x-trace-id', 'x-other']) assert.equal(seen[name], undefined, `${name} is not forwarded`);
        assert.equal(seen['x-static'], 'from-manifest');
      } finally {
        await client.close();
      }
    });

    test(`${clientName} through ${backendName}: a wildcard forwards neither Authorization nor Cookie, nor the client's protocol headers`, async () => {
      const client = await open();
      try {
        const seen = await client.headersAt(prefixes.wildcard);
        assert.equal(seen['x-tenant'], 'acme');
        assert.equal(seen['x-other'], 'other');
        assert.equal(seen.authorization, undefined, 'the proxy’s inbound token never reaches a backend through a wildcard');
        assert.equal(seen.cookie, undefined);
        assert.match(seen.host ?? '', /^127\.0\.0\.1:\d+$/);
        assert.notEqual(seen.host, new URL(proxy.url).host, "the backend's own Host, not the proxy's");
      } finally {
        await client.close();
      }
    });
  }
}

test("lists and the connection's own requests carry the static headers but no client's: lists are shared by every client", async () => {
  await fetch(new URL('/control', legacy.url), { method: 'POST', body: JSON.stringify({ record: true }) });
  // A client declaring roots is an audience of its own: its lists are fetched for it, on its own backend session.
  const client = await legacyClient({ roots: { listChanged: true } });
  try {
    assert.equal((await client.headersAt('fwd'))['x-tenant'], 'acme');
    const { requests } = (await (await fetch(new URL('/control', legacy.url))).json()) as { requests: Array<{ method?: string; name?: string; headers: Record<string, string> }> };
    const initialize = requests.find((r) => r.method === 'initialize' && r.headers['x-static'] === 'from-policy');
    const list = requests.find((r) => r.method === 'tools/list' && r.headers['x-static'] === 'from-policy');
    const call = requests.find((r) => r.method === 'tools/call' && r.name === 'headers' && r.headers['x-static'] === 'from-policy');
    assert.ok(initialize && list && call, `fwd's initialize, tools/list and tools/call were recorded: ${JSON.stringify(requests.map((r) => [r.method, r.name]))}`);
    assert.equal(initialize.headers['x-tenant'], undefined);
    assert.equal(list.headers['x-tenant'], undefined, 'a list is not fetched with one client’s headers');
    assert.equal(list.headers.authorization, undefined);
    assert.equal(call.headers['x-tenant'], 'acme');
  } finally {
    await client.close();
    await fetch(new URL('/control', legacy.url), { method: 'POST', body: JSON.stringify({ record: false }) });
  }
});

test('at a 2026-era backend too, only the calls made for a client carry its headers; every request carries the static ones', async () => {
  await fetch(new URL('/control', modern.url), { method: 'POST', body: JSON.stringify({ record: true }) });
  const client = await modernClient();
  try {
    await client.headersAt('mfwd');
    const { requests } = (await (await fetch(new URL('/control', modern.url))).json()) as { requests: Array<{ http: string; headers: Record<string, string> }> };
    const ours = requests.filter((r) => r.headers['x-static'] === 'from-policy');
    const calls = ours.filter((r) => r.headers['mcp-method'] === 'tools/call');
    assert.equal(calls.length, 1, `one call of mfwd: ${JSON.stringify(ours.map((r) => r.headers['mcp-method']))}`);
    assert.equal(calls[0]!.headers['x-tenant'], 'acme');
    for (const other of ours.filter((r) => r.headers['mcp-method'] !== 'tools/call')) assert.equal(other.headers['x-tenant'], undefined, `${other.headers['mcp-method']} carries no client header`);
  } finally {
    await client.close();
    await fetch(new URL('/control', modern.url), { method: 'POST', body: JSON.stringify({ record: false }) });
  }
});

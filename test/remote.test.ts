/**
 * Remote plugins: real MCP server processes behind the proxy — the tests' own fixture server
 * (which reports its sessions) and @modelcontextprotocol/server-everything (which we did not write).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import {
  connect,
  freePort,
  startEverything,
  startProcess,
  startProxy,
  startRemoteFixture,
  textOf,
  type RunningProcess,
  type RunningProxy,
} from './helpers.ts';

let fixture: RunningProcess;
let everything: RunningProcess;
let everythingSse: RunningProcess;
let proxy: RunningProxy;
let deadUrl: string;

/** A plugin directory holding one plain-JS plugin folder per manifest. */
async function pluginDir(manifests: Record<string, object>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-remote-'));
  for (const [folder, manifest] of Object.entries(manifests)) {
    await mkdir(join(dir, folder));
    await writeFile(join(dir, folder, 'index.js'), `export default ${JSON.stringify(manifest, null, 2)};\n`);
  }
  return dir;
}

before(async () => {
  [fixture, everything] = await Promise.all([startRemoteFixture(), startEverything()]);
  const ssePort = await freePort();
  everythingSse = await startProcess(process.execPath, [join('node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'sse'], {
    env: { PORT: String(ssePort) },
    ready: /(?:listening|running) on port (\d+)/i,
  });
  deadUrl = `http://127.0.0.1:${await freePort()}/mcp`;
  const dir = await pluginDir({
    remote: { prefix: 'remote', remote: { url: fixture.url, headers: { 'X-Api-Key': 'secret-123' } } },
    everything: { prefix: 'everything', remote: { url: everything.url } },
    legacy: { prefix: 'legacy', remote: { url: `http://127.0.0.1:${ssePort}/sse` } },
    dead: { prefix: 'dead', remote: { url: deadUrl, timeoutMs: 2000 } },
  });
  proxy = await startProxy({ pluginDirs: [dir], sessionIdleTimeoutMs: 60_000 });
});

after(async () => {
  await proxy?.close();
  await Promise.all([fixture?.stop(), everything?.stop(), everythingSse?.stop()]);
});

test("a remote server's tools, prompts and resources appear under the plugin's prefix and work", async () => {
  const { client, close } = await connect(proxy.url);
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    for (const name of ['remote_whoami', 'remote_shout', 'remote_open_sessions']) assert.ok(tools.includes(name), `${name} missing: ${tools.join(', ')}`);
    assert.equal(textOf(await client.callTool({ name: 'remote_shout', arguments: { text: 'quiet' } })), 'QUIET');
    const prompt = await client.getPrompt({ name: 'remote_remote_prompt', arguments: { topic: 'owls' } });
    assert.deepEqual(prompt.messages[0]!.content, { type: 'text', text: 'Tell me about owls' });
    const doc = await client.readResource({ uri: 'docs://remote/guide/intro' });
    assert.deepEqual(doc.contents, [{ uri: 'docs://remote/guide/intro', text: 'remote intro' }]);
  } finally {
    await close();
  }
});

test("the manifest's headers reach the remote backend", async () => {
  const { client, close } = await connect(proxy.url);
  try {
    const headers = JSON.parse(textOf(await client.callTool({ name: 'remote_headers' }))) as Record<string, string>;
    assert.equal(headers['x-api-key'], 'secret-123');
  } finally {
    await close();
  }
});

test('each client session gets its own backend session, and DELETE reaches the backend', async () => {
  const a = await connect(proxy.url);
  const b = await connect(proxy.url);
  let backendA: string;
  try {
    backendA = textOf(await a.client.callTool({ name: 'remote_whoami' }));
    const backendB = textOf(await b.client.callTool({ name: 'remote_whoami' }));
    assert.notEqual(backendA, backendB, 'two client sessions must not share a backend session');
    assert.equal(textOf(await a.client.callTool({ name: 'remote_whoami' })), backendA, 'a client session keeps its backend session');
  } finally {
    await b.close();
  }
  await a.close();
  await fixture.waitFor(new RegExp(`session closed ${backendA}`), 5000);
});

test('an idle client session is swept, and its backend session gets its DELETE', async () => {
  const { client, transport } = await connect(proxy.url);
  const backendId = textOf(await client.callTool({ name: 'remote_whoami' }));
  const session = proxy.switchboard.sessions.get(transport.sessionId!)!;
  // The client goes away without DELETE: its streams close, then nothing more is heard.
  await client.close();
  while (session.active > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  const swept = await proxy.switchboard.sessions.sweep(session.lastSeen + 60_000);
  assert.ok(swept >= 1, 'the idle session is swept');
  assert.equal(proxy.switchboard.sessions.get(transport.sessionId!), undefined);
  await fixture.waitFor(new RegExp(`session closed ${backendId}`), 5000);
});

test('server-everything (a server we did not write): tools, prompts, resources and templates, namespaced, all work', async () => {
  const { client, close } = await connect(proxy.url);
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(tools.includes('everything_echo') && tools.includes('everything_get-sum'), tools.join(', '));
    assert.equal(textOf(await client.callTool({ name: 'everything_echo', arguments: { message: 'through the proxy' } })), 'Echo: through the proxy');
    assert.equal(textOf(await client.callTool({ name: 'everything_get-sum', arguments: { a: 19, b: 23 } })), 'The sum of 19 and 23 is 42.');

    const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
    assert.ok(prompts.includes('everything_args-prompt'), prompts.join(', '));
    const prompt = await client.getPrompt({ name: 'everything_args-prompt', arguments: { city: 'Lisbon' } });
    assert.match(JSON.stringify(prompt.messages), /Lisbon/);

    const resources = (await client.listResources()).resources.map((r) => r.uri);
    const doc = 'demo://everything/resource/static/document/architecture.md';
    assert.ok(resources.includes(doc), resources.join(', '));
    const read = await client.readResource({ uri: doc });
    assert.equal(read.contents[0]!.uri, doc);
    assert.ok(((read.contents[0] as { text?: string }).text ?? '').length > 0);

    const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    assert.ok(templates.includes('demo://everything/resource/dynamic/text/{resourceId}'), templates.join(', '));
    const dynamic = await client.readResource({ uri: 'demo://everything/resource/dynamic/text/7' });
    assert.equal(dynamic.contents[0]!.uri, 'demo://everything/resource/dynamic/text/7');
    assert.match((dynamic.contents[0] as { text: string }).text, /7/);
  } finally {
    await close();
  }
});

test('a remote that only speaks the legacy SSE transport is reached through the fallback', async () => {
  const { client, close } = await connect(proxy.url);
  try {
    assert.equal(textOf(await client.callTool({ name: 'legacy_echo', arguments: { message: 'old school' } })), 'Echo: old school');
  } finally {
    await close();
  }
});

test('a dead backend gets a clear error naming the plugin; everyone else is served', async () => {
  assert.equal(proxy.switchboard.registry.get('dead')?.state, 'unavailable');
  const { client, close } = await connect(proxy.url);
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(!tools.some((t) => t.startsWith('dead_')), 'nothing of the dead plugin is listed');
    assert.ok(tools.includes('remote_whoami'), 'the other plugins are listed');
    await assert.rejects(client.callTool({ name: 'dead_anything' }), (error: McpError) => {
      assert.match(error.message, /plugin "dead" \(.*dead\) is unavailable: cannot reach http:\/\/127\.0\.0\.1:\d+\/mcp: fetch failed \(ECONNREFUSED\)/);
      return true;
    });
    assert.equal(textOf(await client.callTool({ name: 'remote_shout', arguments: { text: 'ok' } })), 'OK');
  } finally {
    await close();
  }
});

/**
 * Per-plugin policy end to end (the config's `plugins`, by prefix): what clients of both eras
 * see of the in-process example plugin, a 2025-era remote and a 2026-era remote (allow, deny,
 * rename, descriptions), that hidden and renamed-away names cannot be used, and `enabled`,
 * `required`, `timeoutMs`, and a reloaded folder keeping its prefix's policy.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import type { PluginPolicy } from '../core/config/plugin-policy.ts';
import { runCommand } from '../core/cli/command.ts';
import { pluginsCommand } from '../core/cli/plugins.ts';
import { ROOT, connect, freePort, startProcess, startProxy, startRemoteFixture, textOf, until, type RunningProcess, type RunningProxy } from './helpers.ts';

const MODERN = '2026-07-28';
let legacy: RunningProcess;
let modern: RunningProcess;
let proxy: RunningProxy;

const POLICIES: Record<string, PluginPolicy> = {
  example: { tools: { rename: { hello_world: 'greet' }, descriptions: { hello_world: 'Greets you.' } } },
  old: {
    timeoutMs: 300,
    tools: { allow: ['shout', 'whoami', 'hang', 'headers'], deny: ['whoami'], rename: { shout: 'yell' }, descriptions: { shout: 'Shouts back.' } },
    prompts: { deny: ['remote_prompt'], rename: { pick: 'choose' } },
    resources: { deny: ['docs://**', 'palette://*'], descriptions: { 'watch://item': 'An item to watch.' } },
  },
  mod: {
    tools: { allow: ['echo', 'who', 'headers'], rename: { echo: 'say' }, descriptions: { echo: 'Says it back.' } },
    prompts: { deny: ['greet'] },
    resources: { descriptions: { 'modern://doc': 'The document.' } },
  },
  hid: { resources: { deny: ['modern://doc'] } },
  off: { enabled: false },
  nowhere: { timeoutMs: 1000 },
};

async function folderOf(plugins: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-policy-'));
  for (const [name, manifest] of Object.entries(plugins)) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'plugin.json'), JSON.stringify(manifest));
  }
  return dir;
}

function startModern(port = 0): Promise<RunningProcess> {
  return startProcess(process.execPath, ['--import', 'tsx', 'test/fixtures/modern-server.ts'], { env: { PORT: String(port) }, ready: /listening (http:\S+)/ });
}

before(async () => {
  [legacy, modern] = await Promise.all([startRemoteFixture(), startModern()]);
  const dir = await folderOf({
    old: { prefix: 'old', remote: { url: legacy.url } },
    mod: { prefix: 'mod', remote: { url: modern.url } },
    hid: { prefix: 'hid', remote: { url: modern.url } },
    off: { prefix: 'off', remote: { url: legacy.url } },
  });
  proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins'), dir], plugins: POLICIES });
});

after(async () => {
  await proxy?.close();
  await Promise.all([legacy?.stop(), modern?.stop()]);
});

/** What the tests ask of a client, the same for the SDK v1 client (2025-11-25) and an SDK v2 client pinned to 2026-07-28. */
interface AnyClient {
  listTools(): Promise<{ tools: Array<{ name: string; description?: string }> }>;
  callTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<unknown>;
  listPrompts(): Promise<{ prompts: Array<{ name: string }> }>;
  getPrompt(params: { name: string; arguments?: Record<string, string> }): Promise<{ messages: unknown[] }>;
  listResources(): Promise<{ resources: Array<{ uri: string; description?: string }> }>;
  listResourceTemplates(): Promise<{ resourceTemplates: Array<{ uriTemplate: string }> }>;
  readResource(params: { uri: string }): Promise<{ contents: unknown[] }>;
  complete(params: unknown): Promise<{ completion: { values: string[] } }>;
  close(): Promise<void>;
}

async function legacyClient(): Promise<AnyClient> {
  const { client, close } = await connect(proxy.url);
  const calls = client as unknown as Omit<AnyClient, 'close'>;
  return {
    listTools: () => calls.listTools(),
    callTool: (params) => calls.callTool(params),
    listPrompts: () => calls.listPrompts(),
    getPrompt: (params) => calls.getPrompt(params),
    listResources: () => calls.listResources(),
    listResourceTemplates: () => calls.listResourceTemplates(),
    readResource: (params) => calls.readResource(params),
    complete: (params) => calls.complete(params),
    close,
  };
}

async function modernClient(): Promise<AnyClient> {
  const client = new V2Client({ name: 'v2-test', version: '1.0.0' }, { capabilities: {}, versionNegotiation: { mode: { pin: MODERN } } });
  await client.connect(new V2Transport(new URL(proxy.url)));
  return client as unknown as AnyClient;
}

const ERAS: Array<[string, () => Promise<AnyClient>]> = [
  ['2025-11-25 (SDK v1 client)', legacyClient],
  ['2026-07-28 (SDK v2 client)', modernClient],
];

async function failure(promise: Promise<unknown>): Promise<{ code?: number; message: string }> {
  return promise.then(
    (value) => assert.fail(`expected an error, got ${JSON.stringify(value)}`),
    (error: Error & { code?: number }) => error,
  );
}

for (const [era, open] of ERAS) {
  test(`${era}: tools are listed as the policies say: allowed, not denied, renamed, described`, async () => {
    const client = await open();
    try {
      const tools = (await client.listTools()).tools;
      const names = tools.map((t) => t.name);
      const of = (prefix: string) => names.filter((n) => n.startsWith(`${prefix}_`)).sort();
      assert.deepEqual(of('example'), ['example_greet']);
      assert.deepEqual(of('old'), ['old_hang', 'old_headers', 'old_yell']);
      assert.deepEqual(of('mod'), ['mod_headers', 'mod_say', 'mod_who']);
      assert.deepEqual(of('off'), [], 'a disabled plugin lists nothing');
      const description = (name: string) => tools.find((t) => t.name === name)?.description;
      assert.equal(description('example_greet'), 'Greets you.');
      assert.equal(description('old_yell'), 'Shouts back.');
      assert.equal(description('mod_say'), 'Says it back.');
      assert.equal(description('old_hang'), 'Never answers; records its cancellation', 'descriptions without an override are the backend’s');
    } finally {
      await client.close();
    }
  });

  test(`${era}: a renamed tool answers to its new name only; hidden tools are unknown tools`, async () => {
    const client = await open();
    try {
      assert.equal(textOf(await client.callTool({ name: 'example_greet', arguments: {} })), 'Hello from the example MCP server!');
      assert.equal(textOf(await client.callTool({ name: 'old_yell', arguments: { text: 'hi' } })), 'HI');
      assert.equal(textOf(await client.callTool({ name: 'mod_say', arguments: { text: 'hi' } })), 'modern: hi');
      for (const name of ['example_hello_world', 'old_shout', 'old_whoami', 'old_ask', 'mod_echo', 'mod_ask', 'off_shout']) {
        const error = await failure(client.callTool({ name, arguments: { text: 'x', question: 'q' } }));
        assert.equal(error.code, -32602, `${name}: ${error.message}`);
        assert.match(error.message, new RegExp(`Unknown tool: ${name}`));
      }
    } finally {
      await client.close();
    }
  });

  test(`${era}: prompts and resources follow the policies too; completion refs to hidden ones are refused`, async () => {
    const client = await open();
    try {
      const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
      assert.ok(prompts.includes('old_choose'), prompts.join(', '));
      for (const hidden of ['old_pick', 'old_remote_prompt', 'mod_greet']) assert.ok(!prompts.includes(hidden), `${hidden} is not listed`);
      const chosen = await client.getPrompt({ name: 'old_choose', arguments: { color: 'red' } });
      assert.deepEqual(chosen.messages[0], { role: 'user', content: { type: 'text', text: 'I pick red' } });
      for (const name of ['old_pick', 'old_remote_prompt', 'mod_greet']) {
        const error = await failure(client.getPrompt({ name, arguments: { color: 'red', topic: 't', who: 'w' } }));
        assert.equal(error.code, -32602, `${name}: ${error.message}`);
        assert.match(error.message, new RegExp(`Unknown prompt: ${name}`));
      }

      const resources = (await client.listResources()).resources;
      const uris = resources.map((r) => r.uri);
      assert.ok(uris.includes('watch://old/item'), uris.join(', '));
      assert.ok(!uris.includes('docs://old/guide/intro'), 'a denied resource is not listed');
      assert.equal(resources.find((r) => r.uri === 'watch://old/item')?.description, 'An item to watch.');
      assert.equal(resources.find((r) => r.uri === 'modern://mod/doc')?.description, 'The document.');
      const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
      assert.ok(!templates.includes('palette://old/{color}'), `a denied template is not listed: ${templates.join(', ')}`);
      assert.ok((await client.readResource({ uri: 'watch://old/item' })).contents.length > 0);
      for (const uri of ['docs://old/guide/intro', 'palette://old/red']) {
        const error = await failure(client.readResource({ uri }));
        assert.match(error.message, new RegExp(`Resource not found: ${uri}`), `${uri}: ${error.message}`);
      }

      const completed = await client.complete({ ref: { type: 'ref/prompt', name: 'old_choose' }, argument: { name: 'color', value: 'r' } });
      assert.deepEqual(completed.completion.values, ['red']);
      const promptRef = await failure(client.complete({ ref: { type: 'ref/prompt', name: 'old_pick' }, argument: { name: 'color', value: 'r' } }));
      assert.match(promptRef.message, /Unknown prompt: old_pick/);
      const templateRef = await failure(client.complete({ ref: { type: 'ref/resource', uri: 'palette://old/{color}' }, argument: { name: 'color', value: 'g' } }));
      assert.match(templateRef.message, /Resource not found: palette:\/\/old\/\{color\}/);
    } finally {
      await client.close();
    }
  });

  test(`${era}: timeoutMs from the policy bounds a plugin's requests`, async () => {
    const client = await open();
    try {
      const started = Date.now();
      const error = await failure(client.callTool({ name: 'old_hang', arguments: {} }));
      assert.equal(error.code, -32001, error.message);
      assert.match(error.message, /plugin "old" \([^)]*\) did not answer tools\/call within 300 ms/);
      assert.ok(Date.now() - started < 5000, 'ended at the policy timeout, not the default 60 s');
    } finally {
      await client.close();
    }
  });
}

test('a resource the policy hides cannot be listened to (2026) or subscribed to (2025), and its updates reach nobody', async () => {
  const listener = (await modernClient()) as unknown as V2Client;
  const heard: string[] = [];
  listener.setNotificationHandler('notifications/resources/updated', (n) => void heard.push(n.params.uri));
  const subscription = await listener.listen({ resourceSubscriptions: ['modern://mod/doc', 'modern://hid/doc'] });
  const { client, close } = await connect(proxy.url);
  try {
    assert.deepEqual(subscription.honoredFilter.resourceSubscriptions, ['modern://mod/doc'], 'the hidden resource is left out of the listen filter');
    const refused = await failure(client.subscribeResource({ uri: 'modern://hid/doc' }));
    assert.match(refused.message, /Resource not found: modern:\/\/hid\/doc/);
    // Both plugins are the same backend: its update of modern://doc reaches listeners of mod's URI only.
    await new Promise((resolve) => setTimeout(resolve, 200)); // the proxy's listen stream at the backend opens with the filter
    await listener.callTool({ name: 'hid_touch', arguments: {} });
    await until(() => (heard.length ? true : undefined), 'resources/updated for modern://mod/doc');
    await listener.callTool({ name: 'hid_touch', arguments: {} });
    await until(() => (heard.length >= 2 ? true : undefined), 'a second resources/updated for modern://mod/doc');
    assert.deepEqual(heard, ['modern://mod/doc', 'modern://mod/doc'], `a listener heard of a hidden resource: ${heard.join(', ')}`);
  } finally {
    await close();
    await subscription.close();
    await listener.close();
  }
});

test('a disabled plugin is not mounted, and /readyz and `switchboard plugins` say it is disabled', async () => {
  const readyz = await fetch(proxy.url.replace('/mcp', '/readyz'));
  const body = (await readyz.json()) as { ready: boolean; plugins: Array<{ prefix?: string; state: string; required: boolean; kind?: string }> };
  const off = body.plugins.find((p) => p.prefix === 'off');
  assert.deepEqual({ state: off?.state, kind: off?.kind, required: off?.required }, { state: 'disabled', kind: 'remote', required: false });
  assert.equal(proxy.switchboard.registry.get('off'), undefined, 'not in the registry');
  assert.equal(readyz.status, 200, 'a disabled plugin does not hold readiness back');
  let out = '';
  const code = await runCommand(pluginsCommand, [proxy.url], { stdout: { write: (s: string) => void (out += s) }, stderr: { write: () => {} } } as never);
  assert.equal(code, 0);
  assert.match(out, /^off\s+remote\s+disabled\s+-\s+-\s+-\s+-\s+-\s+\S*off$/m);
});

test('a policy for a prefix no plugin has is a warning at start-up naming the prefix', () => {
  const warning = proxy.logs().find((line) => line.level === 40 && String(line.msg).includes('plugins.nowhere'));
  assert.ok(warning, 'warned about plugins.nowhere');
  assert.match(String(warning.msg), /config plugins\.nowhere: no plugin has the prefix "nowhere"/);
  assert.equal(proxy.switchboard.statuses().some((s) => s.prefix === 'nowhere'), false);
});

test('required from the policy: /readyz answers 503 until that plugin is ready, whatever its manifest says', async () => {
  const [late, other] = await Promise.all([freePort(), freePort()]);
  const dir = await folderOf({
    late: { prefix: 'late', remote: { url: `http://127.0.0.1:${late}/mcp` } },
    other: { prefix: 'other', required: true, remote: { url: `http://127.0.0.1:${other}/mcp` } },
  });
  const local = await startProxy({ pluginDirs: [dir], plugins: { late: { required: true }, other: { required: false } } });
  let remote: RunningProcess | undefined;
  try {
    const readyz = local.url.replace('/mcp', '/readyz');
    const down = await fetch(readyz);
    assert.equal(down.status, 503, 'not ready while the plugin the policy requires is down');
    const states = ((await down.json()) as { plugins: Array<{ prefix: string; state: string; required: boolean }> }).plugins;
    assert.deepEqual(states.map(({ prefix, state, required }) => ({ prefix, state, required })).sort((a, b) => a.prefix.localeCompare(b.prefix)), [
      { prefix: 'late', state: 'unavailable', required: true },
      { prefix: 'other', state: 'unavailable', required: false },
    ]);
    remote = await startProcess(process.execPath, ['--import', 'tsx', 'test/fixtures/remote-server.ts'], { env: { PORT: String(late) }, ready: /listening (http:\S+)/ });
    await until(async () => ((await fetch(readyz)).status === 200 ? true : undefined), '/readyz 200 once the required plugin is up', 30_000);
  } finally {
    await local.close();
    await remote?.stop();
  }
});

test('a plugin the policy requires that no source provides keeps /readyz at 503, with a row saying why', async () => {
  const local = await startProxy({ pluginDirs: [], plugins: { ghost: { required: true } } });
  try {
    const response = await fetch(local.url.replace('/mcp', '/readyz'));
    assert.equal(response.status, 503);
    const { plugins } = (await response.json()) as { plugins: Array<{ prefix: string; state: string; required: boolean; error?: string }> };
    assert.equal(plugins.length, 1);
    assert.deepEqual({ ...plugins[0], since: undefined }, {
      prefix: 'ghost',
      source: 'config plugins.ghost',
      state: 'failed',
      required: true,
      since: undefined,
      error: 'no plugin has the prefix "ghost", which the config requires (plugins.ghost.required)',
    });
  } finally {
    await local.close();
  }
});

test('a reloaded plugin folder gets the policy of its prefix', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-policy-reload-'));
  const folder = join(dir, 'tools');
  await mkdir(folder);
  const plugin = (names: string[]) => `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
export default {
  prefix: 'kit',
  server: () => {
    const server = new McpServer({ name: 'kit', version: '1.0.0' });
    for (const name of ${JSON.stringify(names)}) server.registerTool(name, { description: name }, async () => ({ content: [{ type: 'text', text: name }] }));
    return server;
  },
};
`;
  await writeFile(join(folder, 'index.ts'), plugin(['read_a', 'drop_a']));
  const local = await startProxy({ pluginDirs: [dir], watchDebounceMs: 50, plugins: { kit: { tools: { deny: ['drop_*'], rename: { read_b: 'fetch_b' } } } } });
  const client = await connect(local.url);
  try {
    assert.deepEqual((await client.client.listTools()).tools.map((t) => t.name), ['kit_read_a']);
    await writeFile(join(folder, 'index.ts'), plugin(['read_a', 'drop_a', 'read_b', 'drop_b']));
    const names = await until(async () => {
      const listed = (await client.client.listTools()).tools.map((t) => t.name);
      return listed.length > 1 ? listed : undefined;
    }, 'the reloaded version listed');
    assert.deepEqual(names, ['kit_read_a', 'kit_fetch_b']);
    assert.equal(textOf(await client.client.callTool({ name: 'kit_fetch_b' })), 'read_b');
  } finally {
    await client.close();
    await local.close();
  }
});

/**
 * Hot reload: plugin folders added, changed, broken, fixed and removed while a client is
 * connected; the client hears list_changed and sees the new state without a restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpError, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { FIXTURES, connect, freePort, startProxy, startRemoteFixture, textOf, until, type Connected, type RunningProcess, type RunningProxy } from './helpers.ts';

let dir: string;
let proxy: RunningProxy;
let client: Connected;
let changes = 0;
let remote: RunningProcess;

/** A plugin folder whose `greet` tool answers with what `greeting.ts` exports (`slow` after `slowMs`). */
async function writeGreeter(name: string, greeting: string, prefix = name, { timeoutMs = 1500, slowMs = 600 } = {}): Promise<void> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'greeting.ts'), `export const greeting: string = ${JSON.stringify(greeting)};\n`);
  await writeFile(
    join(folder, 'index.ts'),
    `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { definePlugin } from 'mcp-switchboard';
import { greeting } from './greeting.ts';
export default definePlugin({
  prefix: ${JSON.stringify(prefix)},
  timeoutMs: ${timeoutMs},
  server: () => {
    const server = new McpServer({ name: ${JSON.stringify(name)}, version: '1.0.0' });
    server.registerTool('greet', { description: 'Greets' }, async () => ({ content: [{ type: 'text', text: greeting }] }));
    server.registerTool('slow', { description: 'Answers after ${slowMs} ms' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, ${slowMs}));
      return { content: [{ type: 'text', text: 'slow ' + greeting }] };
    });
    server.registerTool('hang', { description: 'Never answers' }, async () => new Promise(() => {}));
    return server;
  },
});
`,
  );
}

const tools = async () => (await client.client.listTools()).tools.map((t) => t.name);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-reload-'));
  await writeGreeter('steady', 'steady hello');
  remote = await startRemoteFixture();
  proxy = await startProxy({ pluginDirs: [dir], watch: true, watchDebounceMs: 100 });
  client = await connect(proxy.url);
  client.client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changes++);
});

after(async () => {
  await client?.close();
  await proxy?.close();
  await remote?.stop();
});

test('a folder added while a client is connected is mounted: the client hears list_changed and calls the new tool', async () => {
  const before = changes;
  await writeGreeter('fresh', 'fresh hello');
  await until(() => (changes > before ? true : undefined), 'tools/list_changed');
  assert.ok((await tools()).includes('fresh_greet'));
  assert.equal(textOf(await client.client.callTool({ name: 'fresh_greet' })), 'fresh hello');
});

test('a changed file reloads the plugin, including files its entry imports', async () => {
  await writeFile(join(dir, 'fresh', 'greeting.ts'), `export const greeting: string = 'fresh hello, version 2';\n`);
  await until(async () => (textOf(await client.client.callTool({ name: 'fresh_greet' })) === 'fresh hello, version 2' ? true : undefined), 'the new version');
});

test('a broken change is reported by name and the previous version keeps serving; the fix is picked up', async () => {
  await writeFile(join(dir, 'fresh', 'greeting.ts'), `export const greeting: string = ;\n`);
  const reported = await until(
    () => proxy.logs().find((line) => line.level === 50 && /fresh.*previous version keeps serving/.test(String(line.msg))),
    'the error about the broken folder',
  );
  assert.match(String(reported.msg), /plugin folder .*fresh: import failed: [\s\S]*greeting\.ts/);
  assert.equal(textOf(await client.client.callTool({ name: 'fresh_greet' })), 'fresh hello, version 2', 'the last good version still answers');
  assert.equal(proxy.switchboard.statuses().find((s) => s.prefix === 'fresh')?.state, 'ready');

  await writeFile(join(dir, 'fresh', 'greeting.ts'), `export const greeting: string = 'fixed';\n`);
  await until(async () => (textOf(await client.client.callTool({ name: 'fresh_greet' })) === 'fixed' ? true : undefined), 'the fixed version');
});

test('a call in progress while its plugin reloads completes', async () => {
  const call = client.client.callTool({ name: 'fresh_slow' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  await writeFile(join(dir, 'fresh', 'greeting.ts'), `export const greeting: string = 'third';\n`);
  assert.equal(textOf(await call), 'slow fixed', 'the old version finished what it had started');
  await until(async () => (textOf(await client.client.callTool({ name: 'fresh_greet' })) === 'third' ? true : undefined), 'the reloaded version');
});

test('a removed folder is unmounted: list_changed, its tools gone, a hung call ends with a clear error', async () => {
  const hung = client.client.callTool({ name: 'fresh_hang' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const before = changes;
  await rm(join(dir, 'fresh'), { recursive: true });
  await until(() => (changes > before ? true : undefined), 'tools/list_changed');
  assert.ok(!(await tools()).includes('fresh_greet'));
  await assert.rejects(hung, (error: McpError) => {
    assert.match(error.message, /plugin "fresh" \(.*fresh\) (was removed while tools\/call was in progress|did not answer tools\/call within 1500 ms)/);
    return true;
  });
  await assert.rejects(client.client.callTool({ name: 'fresh_greet' }), /Unknown tool: fresh_greet/);
  assert.equal(textOf(await client.client.callTool({ name: 'steady_greet' })), 'steady hello', 'the other plugin never noticed');
});

test('a call in progress when its folder is removed finishes on the old version, within the plugin\'s timeout', async () => {
  // Longer than the 5 s the proxy once gave a removed plugin's calls, shorter than its timeout.
  await writeGreeter('lasting', 'lasting hello', 'lasting', { timeoutMs: 9000, slowMs: 5500 });
  await until(async () => ((await tools()).includes('lasting_slow') ? true : undefined), 'lasting to be mounted');
  const call = client.client.callTool({ name: 'lasting_slow' }, undefined, { timeout: 15_000 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await rm(join(dir, 'lasting'), { recursive: true });
  await until(async () => (!(await tools()).includes('lasting_greet') ? true : undefined), 'lasting to be unmounted');
  assert.equal(textOf(await call), 'slow lasting hello', 'the removed plugin did not finish a call it had started, well within its timeout');
});

test('renaming a folder to _name disables it; renaming it back enables it', async () => {
  await rename(join(dir, 'steady'), join(dir, '_steady'));
  await until(async () => (!(await tools()).includes('steady_greet') ? true : undefined), 'steady to be unmounted');
  await rename(join(dir, '_steady'), join(dir, 'steady'));
  await until(async () => ((await tools()).includes('steady_greet') ? true : undefined), 'steady to be mounted again');
});

test('no-code plugins: plugin.json (remote) and plugin.yaml (command) are mounted when dropped in', async () => {
  await mkdir(join(dir, 'remote-json'));
  await writeFile(join(dir, 'remote-json', 'plugin.json'), JSON.stringify({ prefix: 'rj', remote: { url: remote.url } }, null, 2));
  await mkdir(join(dir, 'stdio-yaml'));
  await writeFile(
    join(dir, 'stdio-yaml', 'plugin.yaml'),
    `prefix: sy\ncommand:\n  command: ${JSON.stringify(process.execPath)}\n  args: ["--import", "tsx", ${JSON.stringify(join(FIXTURES, 'stdio-server.ts'))}]\n  cwd: ${JSON.stringify(join(FIXTURES, '..', '..'))}\n`,
  );
  await until(async () => {
    const names = await tools();
    return names.includes('rj_shout') && names.includes('sy_pid') ? true : undefined;
  }, 'both no-code plugins');
  assert.equal(textOf(await client.client.callTool({ name: 'rj_shout', arguments: { text: 'json' } })), 'JSON');
  assert.match(textOf(await client.client.callTool({ name: 'sy_pid' })), /^\d+$/);
});

test('a change whose backend does not answer keeps the previous version serving', async () => {
  const dead = `http://127.0.0.1:${await freePort()}/mcp`;
  await writeFile(join(dir, 'remote-json', 'plugin.json'), JSON.stringify({ prefix: 'rj', remote: { url: dead } }));
  await until(
    () => proxy.logs().find((line) => line.level === 50 && String(line.msg).includes(`cannot reach ${dead}`) && /previous version keeps serving/.test(String(line.msg))),
    'the error about the unreachable new version',
  );
  assert.equal(textOf(await client.client.callTool({ name: 'rj_shout', arguments: { text: 'still' } })), 'STILL');
});

test('a plugin.json with a mistake is reported naming the file and the field', async () => {
  await mkdir(join(dir, 'bad-json'));
  await writeFile(join(dir, 'bad-json', 'plugin.json'), JSON.stringify({ prefix: 'bj', remote: { url: 'not a url' } }));
  const status = await until(() => proxy.switchboard.statuses().find((s) => s.source.endsWith('bad-json') && s.state === 'failed'), 'bad-json to fail');
  assert.match(status.error!, /plugin folder .*bad-json: invalid manifest in plugin\.json: remote\.url: must be an http:\/\/ or https:\/\/ URL/);
});

test('a folder with both index.ts and plugin.json is refused: one entry per plugin', async () => {
  await writeGreeter('both', 'both');
  await writeFile(join(dir, 'both', 'plugin.json'), JSON.stringify({ prefix: 'both2', remote: { url: remote.url } }));
  const status = await until(() => proxy.switchboard.statuses().find((s) => s.source.endsWith('both') && s.state === 'failed'), 'both to fail');
  assert.match(status.error!, /more than one entry file \(index\.ts, plugin\.json\); keep one/);
});

test('polling finds new folders where file events do not arrive (bind mounts)', async () => {
  const pollDir = await mkdtemp(join(tmpdir(), 'switchboard-poll-'));
  const polling = await startProxy({ pluginDirs: [pollDir], watch: 'poll', watchDebounceMs: 100 });
  try {
    const saved = dir;
    dir = pollDir;
    await writeGreeter('polled', 'found by polling');
    dir = saved;
    const { client: pollClient, close } = await connect(polling.url);
    try {
      await until(async () => ((await pollClient.listTools()).tools.some((t) => t.name === 'polled_greet') ? true : undefined), 'polling to find the folder');
      assert.equal(textOf(await pollClient.callTool({ name: 'polled_greet' })), 'found by polling');
    } finally {
      await close();
    }
  } finally {
    await polling.close();
  }
});

test('a plugin refused for an ambiguous prefix is mounted as soon as the folder in its way is removed (no touch needed)', async () => {
  await writeGreeter('aa-first', 'first', 'amb');
  await until(async () => ((await tools()).includes('amb_greet') ? true : undefined), 'the first plugin');
  await writeGreeter('bb-second', 'second', 'amb_more');
  const refused = await until(() => proxy.switchboard.statuses().find((s) => s.source.endsWith('bb-second') && s.state === 'failed'), 'the second plugin to be refused');
  assert.match(refused.error!, /prefix "amb_more", which is ambiguous with prefix "amb"/);
  assert.ok(!(await tools()).includes('amb_more_greet'));

  const before = changes;
  await rm(join(dir, 'aa-first'), { recursive: true });
  await until(() => (changes > before && proxy.switchboard.registry.get('amb_more')?.state === 'ready' ? true : undefined), 'the refused plugin to be mounted');
  const status = proxy.switchboard.statuses().find((s) => s.source.endsWith('bb-second'))!;
  assert.equal(status.state, 'ready', 'no stale error is left');
  assert.equal(status.error, undefined);
  assert.equal(textOf(await client.client.callTool({ name: 'amb_more_greet' })), 'second');
  await rm(join(dir, 'bb-second'), { recursive: true });
});

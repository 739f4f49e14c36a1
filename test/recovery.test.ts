/**
 * Failure isolation and recovery: backends down at start-up, restarting under a session,
 * plugins whose code hangs; readiness as /readyz and `switchboard plugins` report it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { McpError, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { ROOT, connect, freePort, startProcess, startProxy, textOf, until, type RunningProcess } from './helpers.ts';

const run = promisify(execFile);

function startRemoteOn(port: number): Promise<RunningProcess> {
  return startProcess(process.execPath, ['--import', 'tsx', 'test/fixtures/remote-server.ts'], { env: { PORT: String(port) }, ready: /listening (http:\S+)/ });
}

async function pluginDir(plugins: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-recovery-'));
  for (const [name, code] of Object.entries(plugins)) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, name.endsWith('.json') ? 'plugin.json' : 'index.ts'), code);
  }
  return dir;
}

test('a remote backend down at start-up: the proxy starts, the plugin is unavailable, and its tools appear when it comes up', async () => {
  const port = await freePort();
  const dir = await pluginDir({ late: `export default { prefix: 'late', required: true, remote: { url: 'http://127.0.0.1:${port}/mcp' } };\n` });
  const proxy = await startProxy({ pluginDirs: [dir, join(ROOT, 'plugins')] });
  let remote: RunningProcess | undefined;
  try {
    const readyz = proxy.url.replace('/mcp', '/readyz');
    const down = await fetch(readyz);
    assert.equal(down.status, 503, 'not ready while a required plugin is down');
    const body = await down.json();
    const late = body.plugins.find((p: { prefix?: string }) => p.prefix === 'late');
    assert.equal(late.state, 'unavailable');
    assert.match(late.error, /cannot reach http:\/\/127\.0\.0\.1:\d+\/mcp: fetch failed \(ECONNREFUSED\)/);
    assert.equal(late.required, true);

    const plugins = await run(process.execPath, [join(ROOT, 'bin/switchboard.js'), 'plugins', proxy.url]).catch((error) => error);
    assert.equal(plugins.code, 1, '`switchboard plugins` exits 1 when not ready');
    assert.match(plugins.stdout, /^PREFIX\s+KIND\s+STATE\s+TOOLS\s+PROMPTS\s+RESOURCES\s+TEMPLATES\s+PROCESSES\s+SOURCE$/m);
    assert.match(plugins.stdout, /^late\s+remote\s+unavailable \(required\)\s+-/m);
    assert.match(plugins.stdout, /^example\s+in-process\s+ready\s+1\s+0\s+0\s+0\s+-\s+plugins\/example$/m);

    const { client, close } = await connect(proxy.url);
    try {
      let changed = 0;
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
      assert.ok(!(await client.listTools()).tools.some((t) => t.name.startsWith('late_')));
      remote = await startRemoteOn(port);
      await until(() => (changed > 0 ? true : undefined), 'list_changed once the backend is up', 30_000);
      assert.equal(textOf(await client.callTool({ name: 'late_shout', arguments: { text: 'up' } })), 'UP');
      assert.equal((await fetch(readyz)).status, 200, 'ready once the required plugin is');
    } finally {
      await close();
    }
  } finally {
    await proxy.close();
    await remote?.stop();
  }
});

test('a remote backend that restarts: the call in flight fails, the next succeeds on a new backend session, subscriptions carry over', async () => {
  const port = await freePort();
  let remote = await startRemoteOn(port);
  const dir = await pluginDir({ svc: `export default { prefix: 'svc', remote: { url: 'http://127.0.0.1:${port}/mcp' } };\n` });
  const proxy = await startProxy({ pluginDirs: [dir] });
  try {
    const { client, close } = await connect(proxy.url);
    try {
      const first = textOf(await client.callTool({ name: 'svc_whoami' }));
      await client.subscribeResource({ uri: 'watch://svc/item' });

      // Restart between calls: the backend forgets the session; the proxy re-initializes and
      // sends the call (which never ran) again, transparently.
      await remote.stop();
      remote = await startRemoteOn(port);
      const second = textOf(await client.callTool({ name: 'svc_whoami' }));
      assert.notEqual(second, first, 'a new backend session');
      assert.ok(proxy.logs().some((line) => /the backend no longer knows this session; opening a new backend session/.test(String(line.msg))), 'the 404 was seen and handled');
      assert.equal(textOf(await client.callTool({ name: 'svc_touch' })), 'notified', 'the subscription was made again on the new backend session');

      // Killed during a call: that call fails at once, with a clear error; it is not replayed.
      const inFlight = client.callTool({ name: 'svc_hang' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      remote.child.kill('SIGKILL');
      await assert.rejects(inFlight, (error: McpError) => {
        assert.match(error.message, /plugin "svc" \(.*svc\) (went away during tools\/call; the call was not replayed|failed during tools\/call)/);
        return true;
      });
      assert.ok(Date.now() - started < 8000);
      await remote.stop();
      remote = await startRemoteOn(port);
      assert.match(textOf(await client.callTool({ name: 'svc_whoami' })), /^[0-9a-f-]{36}$/, 'the next call succeeds');
    } finally {
      await close();
    }
  } finally {
    await proxy.close();
    await remote.stop();
  }
});

test('a plugin whose import hangs, and one whose factory hangs, fail alone (load timeout)', async () => {
  const dir = await pluginDir({
    stuck: `await new Promise(() => {});\nexport default { prefix: 'stuck', server: () => null };\n`,
    slowfactory: `export default { prefix: 'slowfactory', server: () => new Promise(() => {}) };\n`,
  });
  const started = Date.now();
  const proxy = await startProxy({ pluginDirs: [dir, join(ROOT, 'plugins')], loadTimeoutMs: 800 });
  try {
    assert.ok(Date.now() - started < 10_000, 'start-up is not held up by hung plugins');
    const statuses = proxy.switchboard.statuses();
    const stuck = statuses.find((s) => s.source.endsWith('stuck'))!;
    assert.equal(stuck.state, 'failed');
    assert.match(stuck.error!, /plugin folder .*stuck: import failed: index\.ts did not load within 800 ms/);
    const slow = statuses.find((s) => s.source.endsWith('slowfactory'))!;
    assert.equal(slow.state, 'failed');
    assert.match(slow.error!, /slowfactory.*did not answer within 800 ms \(loadTimeoutMs\)/);
    const { client, close } = await connect(proxy.url);
    try {
      assert.equal(textOf(await client.callTool({ name: 'example_hello_world' })), 'Hello from the example MCP server!');
    } finally {
      await close();
    }
  } finally {
    await proxy.close();
  }
});

test('/readyz is 200 with every plugin state when nothing required is down; `switchboard plugins --json` prints it', async () => {
  const proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins')] });
  try {
    const response = await fetch(proxy.url.replace('/mcp', '/readyz'));
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.ready, true);
    assert.deepEqual(
      body.plugins.map((p: Record<string, unknown>) => ({ prefix: p.prefix, kind: p.kind, state: p.state, counts: p.counts })),
      [{ prefix: 'example', kind: 'in-process', state: 'ready', counts: { tools: 1, prompts: 0, resources: 0, resourceTemplates: 0 } }],
    );
    const { stdout } = await run(process.execPath, [join(ROOT, 'bin/switchboard.js'), 'plugins', proxy.url, '--json']);
    assert.equal(JSON.parse(stdout).plugins[0].prefix, 'example');
  } finally {
    await proxy.close();
  }
});

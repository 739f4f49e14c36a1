/**
 * Command (stdio) plugins: one child process per client session, bounded, restarted with
 * backoff when it crashes, its stderr in the log, and every process (whole trees) ended with
 * the session, the plugin or the proxy.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { withNpxAnswer } from '../core/upstream/legacy/command.ts';
import { FIXTURES, ROOT, alive, connect, gone, startProxy, textOf, until, type Connected, type RunningProxy } from './helpers.ts';

let proxy: RunningProxy;

/** A plugin directory with the stdio fixture as a command plugin (at most `maxProcesses` at once). */
async function stdioPluginDir(maxProcesses: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-command-'));
  await mkdir(join(dir, 'stdio'));
  await writeFile(
    join(dir, 'stdio', 'plugin.json'),
    JSON.stringify({
      prefix: 'stdio',
      command: {
        command: process.execPath,
        args: ['--import', 'tsx', join(FIXTURES, 'stdio-server.ts')],
        cwd: ROOT,
        env: { FIXTURE_GREETING: 'from the manifest' },
        maxProcesses,
      },
    }),
  );
  return dir;
}

/**
 * A proxy of its own over a temporary plugin directory holding one `plugin.json` (`folder`),
 * for `body`; the proxy closed and the directory removed afterwards.
 */
async function withOwnProxy(
  folder: string,
  manifest: Record<string, unknown>,
  options: Omit<Parameters<typeof startProxy>[0], 'pluginDirs'>,
  body: (own: RunningProxy, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `switchboard-${folder}-`));
  try {
    await mkdir(join(dir, folder));
    await writeFile(join(dir, folder, 'plugin.json'), JSON.stringify(manifest));
    const own = await startProxy({ pluginDirs: [dir], ...options });
    try {
      await body(own, dir);
    } finally {
      await own.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

before(async () => {
  proxy = await startProxy({ pluginDirs: [await stdioPluginDir(2)] });
});
after(() => proxy?.close());

// A session's processes end a moment after its DELETE is answered (stdin closed, then signals):
// each test starts with none running but the proxy's own (which gives way when needed).
// The proxy's own may be starting again (it gave way in the test before): then it is not idle yet,
// and cannot make room, so each test waits until every process in use is an idle holder.
beforeEach(async () => {
  const plugin = proxy.switchboard.registry.get('stdio')!;
  const slots = plugin.processSlots;
  const settled = () => plugin.processes.size <= 1 && slots.used === slots.holders.size && [...slots.holders].every((holder) => !holder.busy);
  const end = Date.now() + 10_000;
  while (!settled() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50));
});

test('each client session gets its own process; the manifest env reaches it; its stderr is logged with the plugin', async () => {
  const a = await connect(proxy.url);
  const b = await connect(proxy.url);
  try {
    const pidA = Number(textOf(await a.client.callTool({ name: 'stdio_pid' })));
    const pidB = Number(textOf(await b.client.callTool({ name: 'stdio_pid' })));
    assert.notEqual(pidA, pidB, 'two sessions must not share a stdio process');
    assert.equal(textOf(await a.client.callTool({ name: 'stdio_pid' })), String(pidA), 'a session keeps its process');
    assert.equal(textOf(await a.client.callTool({ name: 'stdio_env', arguments: { name: 'FIXTURE_GREETING' } })), 'from the manifest');
    await a.client.callTool({ name: 'stdio_complain', arguments: { line: 'something odd happened' } });
    const logged = proxy.logs().find((line) => line.msg === 'something odd happened');
    assert.ok(logged, 'the child stderr line is in the proxy log');
    assert.equal(logged.plugin, 'stdio');
    assert.equal(logged.stream, 'stderr');
  } finally {
    await a.close();
    await b.close();
  }
});

test('the number of processes is bounded (maxProcesses): an idle one makes room, and when all are busy the error names the limit', async () => {
  const sessions = await Promise.all([connect(proxy.url), connect(proxy.url), connect(proxy.url)]);
  const [a, b, c] = sessions as [Connected, Connected, Connected];
  try {
    // Two sessions busy with slow calls hold both processes (the proxy's own, idle, made room).
    const slow = [a, b].map((s) => s.client.callTool({ name: 'stdio_sleep', arguments: { ms: 1500 } }));
    await until(() => (proxy.switchboard.statuses().find((p) => p.prefix === 'stdio')?.processes === 2 ? true : undefined), 'two busy processes');
    await assert.rejects(c.client.callTool({ name: 'stdio_pid' }), (error: McpError) => {
      assert.match(error.message, /plugin "stdio" \(.*stdio\): all 2 of its processes \(maxProcesses\) are serving other sessions' requests/);
      return true;
    });
    const [pidA] = (await Promise.all(slow)).map(textOf);
    // Now both are idle: the third session gets a process by ending the least recently used one (a's).
    const pidC = textOf(await c.client.callTool({ name: 'stdio_pid' }));
    assert.match(pidC, /^\d+$/);
    assert.ok(await gone(Number(pidA)), "the least recently used session's process was ended to make room");
    assert.ok(proxy.logs().some((line) => /ended the idle process of session .* to make room \(maxProcesses 2\)/.test(String(line.msg))), 'the eviction is logged');
    // And that session is served again when it comes back, by a new process.
    const pidA2 = textOf(await a.client.callTool({ name: 'stdio_pid' }));
    assert.notEqual(pidA2, pidA);
    assert.equal(proxy.switchboard.statuses().find((p) => p.prefix === 'stdio')?.processes, 2, 'never more than maxProcesses');
  } finally {
    await Promise.all(sessions.map((s) => s.close().catch(() => {})));
  }
});

test("ending the session ends its process and the processes that process started", async () => {
  const { client, close } = await connect(proxy.url);
  const pid = Number(textOf(await client.callTool({ name: 'stdio_pid' })));
  const grandchild = Number(textOf(await client.callTool({ name: 'stdio_grandchild' })));
  assert.ok(alive(pid) && alive(grandchild));
  await close();
  assert.ok(await gone(pid), `the stdio process ${pid} outlived its session`);
  assert.ok(await gone(grandchild), `the process ${grandchild} it started outlived the session`);
});

test('a crashed process is restarted (with backoff), and the session goes on', async () => {
  const { client, close } = await connect(proxy.url);
  try {
    const first = Number(textOf(await client.callTool({ name: 'stdio_pid' })));
    await client.callTool({ name: 'stdio_crash' });
    assert.ok(await gone(first));
    let second = 0;
    for (let i = 0; i < 100 && !second; i++) {
      second = await client.callTool({ name: 'stdio_pid' }).then((r) => Number(textOf(r)), () => 0);
      if (!second) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(second > 0 && second !== first, `a new process answers (${second})`);
    assert.ok(proxy.logs().some((line) => /its process for session .* ended; restarting in \d+ ms/.test(String(line.msg))), 'the restart is logged');
  } finally {
    await close();
  }
});

test('no child process is left after shutdown (checked by pid, grandchildren included)', async () => {
  const own = await startProxy({ pluginDirs: [await stdioPluginDir(8)] });
  const pids: number[] = [];
  const sessions = await Promise.all(Array.from({ length: 4 }, () => connect(own.url)));
  for (const session of sessions) {
    pids.push(Number(textOf(await session.client.callTool({ name: 'stdio_pid' }))));
    pids.push(Number(textOf(await session.client.callTool({ name: 'stdio_grandchild' }))));
  }
  assert.ok(pids.every(alive));
  await own.close();
  for (const pid of pids) assert.ok(await gone(pid), `process ${pid} survived the shutdown`);
  await Promise.all(sessions.map((s) => s.client.close().catch(() => {})));
});

test('npx, and only npx, is told yes unless the manifest says otherwise', () => {
  assert.deepEqual(withNpxAnswer('npx', { TZ: 'UTC' }), { npm_config_yes: 'true', TZ: 'UTC' });
  assert.deepEqual(withNpxAnswer('/usr/local/bin/npx', undefined), { npm_config_yes: 'true' });
  assert.deepEqual(withNpxAnswer('npx', { npm_config_yes: 'false' }), { npm_config_yes: 'false' }, 'the manifest env has the last word');
  assert.equal(withNpxAnswer('uvx', undefined), undefined);
  assert.deepEqual(withNpxAnswer('node', { A: '1' }), { A: '1' });
});

test('an npx command without -y starts a server npx has yet to install (npx cannot ask on the MCP stream)', async () => {
  // A package npx has never seen (a fresh folder each run), as an mcpServers entry copied without "-y" would name one.
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-npx-'));
  await mkdir(join(dir, 'package'));
  await writeFile(join(dir, 'package', 'package.json'), JSON.stringify({ name: 'switchboard-npx-fixture', version: '1.0.0', bin: { 'switchboard-npx-fixture': 'server.mjs' } }));
  await writeFile(join(dir, 'package', 'server.mjs'), `#!/usr/bin/env node\nimport ${JSON.stringify(pathToFileURL(join(FIXTURES, 'stdio-plain.mjs')).href)};\n`, { mode: 0o755 });
  await mkdir(join(dir, 'plugins', 'viaNpx'), { recursive: true });
  await writeFile(join(dir, 'plugins', 'viaNpx', 'plugin.json'), JSON.stringify({ prefix: 'npx', command: { command: 'npx', args: ['--package', `file:${join(dir, 'package')}`, 'switchboard-npx-fixture'] }, timeoutMs: 60_000 }));
  const own = await startProxy({ pluginDirs: [join(dir, 'plugins')], loadTimeoutMs: 60_000 });
  try {
    const status = own.switchboard.statuses().find((s) => s.prefix === 'npx')!;
    assert.equal(status.state, 'ready', `the npx plugin did not start: ${status.error}`);
    const client = await connect(own.url);
    try {
      assert.match(textOf(await client.client.callTool({ name: 'npx_pid' })), /^\d+$/);
    } finally {
      await client.close();
    }
  } finally {
    await own.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("a removed plugin's secrets stay scrubbed from the log while its calls in progress finish", async () => {
  const secret = 'sk-live-REMOVED-BUT-STILL-SECRET-0123456789';
  const manifest = { prefix: 'teller', timeoutMs: 10_000, command: { command: process.execPath, args: ['--import', 'tsx', join(FIXTURES, 'stdio-server.ts')], cwd: ROOT, env: { API_KEY: secret } } };
  await withOwnProxy('teller', manifest, { watch: true, watchDebounceMs: 100 }, async (own, dir) => {
    const client = await connect(own.url);
    try {
      const call = client.client.callTool({ name: 'teller_tell', arguments: { name: 'API_KEY', ms: 1500 } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await rm(join(dir, 'teller'), { recursive: true });
      assert.equal(textOf(await call), 'told', 'the call in progress finished on the removed plugin');
      const told = await until(() => own.logs().find((line) => String(line.msg).startsWith('API_KEY is')), 'the stderr line of the removed plugin');
      assert.equal(told.msg, 'API_KEY is ***', "a removed plugin's secret reached the log");
    } finally {
      await client.close();
    }
  });
});

test('a command that ends at once is reported with what it last wrote to stderr', async () => {
  // The last line quotes a secret of the manifest's env past the point where a quoted line is cut.
  const script = "console.error('starting'); console.error(''); console.error('fatal: GITHUB_TOKEN is not set'); console.error('x'.repeat(280) + ' key=' + process.env.API_KEY); process.exit(3)";
  const secret = 'sk-live-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  await withOwnProxy('quits', { prefix: 'quits', command: { command: process.execPath, args: ['-e', script], env: { API_KEY: secret } } }, { loadTimeoutMs: 10_000 }, async (own) => {
    const status = own.switchboard.statuses().find((s) => s.prefix === 'quits')!;
    assert.equal(status.state, 'unavailable');
    assert.match(status.error!, /plugin "quits" \(.*quits\): cannot start .*node.*: .*; its stderr ended with: "starting", "fatal: GITHUB_TOKEN is not set", "x{280} key=\*\*\*"$/, 'the error does not say why the process ended');
    assert.ok(!status.error!.includes(secret.slice(0, 12)), `the error quotes part of a secret: ${status.error}`);
  });
});

test('a command that does not exist is reported naming the plugin and the command', async () => {
  await withOwnProxy('ghost', { prefix: 'ghost', command: { command: 'no-such-program-anywhere' } }, { loadTimeoutMs: 5000 }, async (own) => {
    const status = own.switchboard.statuses().find((s) => s.prefix === 'ghost')!;
    assert.equal(status.state, 'unavailable');
    assert.match(status.error!, /plugin "ghost" \(.*ghost\): cannot start no-such-program-anywhere: command not found: no-such-program-anywhere/);
  });
});

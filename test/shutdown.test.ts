/**
 * Shutdown of the real process: SIGTERM lets requests in progress finish, ends client
 * sessions (remote backends get their DELETE), stops child processes, and exits 0; a second
 * signal exits at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { FIXTURES, ROOT, alive, connect, gone, startProcess, startRemoteFixture, textOf } from './helpers.ts';

const SERVING = /serving \d+ plugin\(s\) at (http:\/\/[^\s"]+)/;

async function pluginDir(remoteUrl: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-shutdown-'));
  await mkdir(join(dir, 'stdio'));
  await writeFile(
    join(dir, 'stdio', 'plugin.json'),
    JSON.stringify({ prefix: 'stdio', command: { command: process.execPath, args: ['--import', 'tsx', join(FIXTURES, 'stdio-server.ts')], cwd: ROOT } }),
  );
  await mkdir(join(dir, 'remote'));
  await writeFile(join(dir, 'remote', 'plugin.json'), JSON.stringify({ prefix: 'remote', remote: { url: remoteUrl } }));
  await mkdir(join(dir, 'slow'));
  await writeFile(
    join(dir, 'slow', 'index.ts'),
    `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
export default { prefix: 'slow', server: () => {
  const server = new McpServer({ name: 'slow', version: '1.0.0' });
  server.registerTool('finish', {}, async () => { await new Promise((r) => setTimeout(r, 800)); return { content: [{ type: 'text', text: 'finished' }] }; });
  server.registerTool('long', {}, async () => { await new Promise((r) => setTimeout(r, 15_000)); return { content: [{ type: 'text', text: 'too late' }] }; });
  return server;
} };
`,
  );
  return dir;
}

test('SIGTERM: the request in progress finishes, sessions end, remote backends get DELETE, no child process is left, exit code 0', async () => {
  const remote = await startRemoteFixture();
  const proxy = await startProcess(process.execPath, [join(ROOT, 'bin/switchboard.js'), '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', '--plugins', await pluginDir(remote.url)], {
    ready: SERVING,
  });
  try {
    const { client } = await connect(proxy.url);
    const pid = Number(textOf(await client.callTool({ name: 'stdio_pid' })));
    const grandchild = Number(textOf(await client.callTool({ name: 'stdio_grandchild' })));
    const backendSession = textOf(await client.callTool({ name: 'remote_whoami' }));
    assert.ok(alive(pid) && alive(grandchild));

    const inProgress = client.callTool({ name: 'slow_finish' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const exited = new Promise<number | null>((resolve) => proxy.child.once('exit', (code) => resolve(code)));
    const started = Date.now();
    proxy.child.kill('SIGTERM');

    assert.equal(textOf(await inProgress), 'finished', 'the call in progress was allowed to finish');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - started < 10_000, `shutdown took ${Date.now() - started} ms`);
    assert.ok(await gone(pid), `the stdio process ${pid} outlived the proxy`);
    assert.ok(await gone(grandchild), `the process ${grandchild} started by the stdio server outlived the proxy`);
    await remote.waitFor(new RegExp(`session closed ${backendSession}`), 5000);
    await client.close().catch(() => {});
  } finally {
    await proxy.stop();
    await remote.stop();
  }
});

test('a second signal exits at once', async () => {
  const remote = await startRemoteFixture();
  const proxy = await startProcess(process.execPath, [join(ROOT, 'bin/switchboard.js'), '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', '--plugins', await pluginDir(remote.url)], {
    ready: SERVING,
  });
  try {
    const { client } = await connect(proxy.url);
    const inProgress = client.callTool({ name: 'slow_finish' }).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const exited = new Promise<number | null>((resolve) => proxy.child.once('exit', (code) => resolve(code)));
    proxy.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    proxy.child.kill('SIGINT');
    assert.equal(await exited, 1, 'the second signal exits with 1, not waiting');
    assert.ok(Date.now() - started < 500);
    await client.close().catch(() => {});
    assert.ok((await inProgress) instanceof Error, 'the call in progress did not finish: the proxy exited at once');
  } finally {
    await proxy.stop();
    await remote.stop();
  }
});

test('SIGTERM under long calls: new requests get 503 with Retry-After, calls that finish in the grace period are answered, the rest get an error naming the shutdown before the process exits', async () => {
  const remote = await startRemoteFixture();
  const proxy = await startProcess(process.execPath, [join(ROOT, 'bin/switchboard.js'), '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', '--plugins', await pluginDir(remote.url)], {
    ready: SERVING,
    env: { SWITCHBOARD_SHUTDOWN_GRACE_MS: '2500' },
  });
  const sessions = await Promise.all(Array.from({ length: 4 }, () => connect(proxy.url)));
  try {
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => proxy.child.once('exit', (code) => resolve({ code, at: Date.now() })));
    const settled = (promise: Promise<unknown>) =>
      promise.then(
        (value) => ({ value, at: Date.now() }),
        (error: Error) => ({ error, at: Date.now() }),
      );
    const long = sessions.flatMap((s) => Array.from({ length: 5 }, () => settled(s.client.callTool({ name: 'slow_long' }, undefined, { timeout: 60_000 }))));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const quick = settled(sessions[0]!.client.callTool({ name: 'slow_finish' }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalled = Date.now();
    proxy.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));

    // During the grace period: a new client, and a new request of a connected one, are told why.
    const refused = await fetch(proxy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'late', version: '1' } } }),
    });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.match((await refused.json()).error.message, /shutting down/);
    await assert.rejects(sessions[1]!.client.listTools(), /shutting down/);

    const answered = (await quick) as { value?: unknown; error?: Error };
    assert.ok(answered.value, `a call that finishes within the grace period is answered, not: ${answered.error?.message}`);
    assert.equal(textOf(answered.value), 'finished');
    const outcomes = await Promise.all(long);
    const { code, at: exitAt } = await exited;
    assert.equal(code, 0);
    for (const outcome of outcomes) {
      const error = (outcome as { error?: McpError }).error;
      assert.ok(error, 'a 15 s call cannot have finished');
      assert.equal(error.code, -32000);
      assert.match(error.message, /mcp-switchboard is shutting down: the request was ended before its backend answered/);
      assert.ok(outcome.at <= exitAt + 50, 'the error arrived before the process exited');
    }
    assert.ok(exitAt - signalled < 7000, `the proxy took ${exitAt - signalled} ms to exit (grace 2500 ms)`);
  } finally {
    await Promise.all(sessions.map((s) => s.client.close().catch(() => {})));
    await proxy.stop();
    await remote.stop();
  }
});

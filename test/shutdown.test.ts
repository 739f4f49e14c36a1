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

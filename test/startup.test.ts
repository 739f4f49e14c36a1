/**
 * Start-up does not load the SDK v2 (about half a second of CPU) for what does not need it:
 * a proxy of SDK v1 and 2025-era plugins mounts them all without it, and loads it once it
 * listens (for the first 2026 request); an SDK v2 plugin is still found to be one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { McpServer as V1McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Server as V1Server } from '@modelcontextprotocol/sdk/server/index.js';
import { McpServer as V2McpServer, Server as V2Server } from '@modelcontextprotocol/server';
import { isModernServer } from '../core/plugins/server-sdk.ts';
import { FIXTURES, ROOT } from './helpers.ts';

const run = promisify(execFile);

async function mount(...args: string[]): Promise<{ imported: string[]; eras: Record<string, string>; get?: number }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(FIXTURES, 'sdk-loads/mount.ts'), ...args], { cwd: ROOT });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

test('mounting SDK v1 plugins does not load the SDK v2', async () => {
  const { imported, eras } = await mount('plugins', join(FIXTURES, 'plugins'));
  assert.equal(eras.example, '2025-11-25');
  assert.ok(Object.keys(eras).length >= 3, `the fixtures mounted: ${JSON.stringify(eras)}`);
  assert.deepEqual(imported, [], 'nothing of the SDK v2 imported before a 2026 request or plugin needs it');
});

test('once listening, the SDK v2 is loaded for the first 2026 request; a 2025 GET does not wait for it', async () => {
  const { imported, get } = await mount('--listen', 'plugins');
  assert.equal(get, 400, 'the GET is answered by the 2025 front door (no session id)');
  assert.ok(imported.includes('@modelcontextprotocol/server'), `loaded after listen: ${JSON.stringify(imported)}`);
  assert.ok(!imported.includes('@modelcontextprotocol/client'), 'the SDK v2 client waits for a 2026 backend');
});

test('an SDK v2 in-process plugin is still probed as 2026-era', async () => {
  const { imported, eras } = await mount('plugins', join(FIXTURES, 'modern-plugins'));
  assert.equal(eras.v2, '2026-07-28');
  assert.equal(eras.example, '2025-11-25');
  assert.ok(imported.includes('@modelcontextprotocol/server'));
});

test('isModernServer tells SDK v2 servers from SDK v1 ones and from anything else', async () => {
  assert.equal(await isModernServer(new V1McpServer({ name: 'v1', version: '1' })), false);
  assert.equal(await isModernServer(new V1Server({ name: 'v1', version: '1' }, { capabilities: {} })), false);
  assert.equal(await isModernServer(new V2McpServer({ name: 'v2', version: '1' })), true);
  assert.equal(await isModernServer(new V2Server({ name: 'v2', version: '1' }, { capabilities: {} })), true);
  for (const other of [undefined, null, 'server', {}, { server: {} }]) assert.equal(await isModernServer(other), false, `${JSON.stringify(other)} is no SDK v2 server`);
});

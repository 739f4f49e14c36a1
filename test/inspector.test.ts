/**
 * A real third-party client: the MCP Inspector CLI lists and calls through the proxy.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, startProxy, type RunningProxy } from './helpers.ts';

const run = promisify(execFile);
let proxy: RunningProxy;

before(async () => {
  proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins')] });
});
after(() => proxy.close());

/** `npx @modelcontextprotocol/inspector --cli URL --transport http ...`, as the README shows it. */
async function inspector(...args: string[]): Promise<unknown> {
  const { stdout } = await run('npx', ['@modelcontextprotocol/inspector', '--cli', proxy.url, '--transport', 'http', ...args], { cwd: ROOT });
  return JSON.parse(stdout);
}

test('the MCP Inspector CLI lists example_hello_world', async () => {
  const { tools } = (await inspector('--method', 'tools/list')) as { tools: Array<{ name: string }> };
  assert.deepEqual(tools.map((t) => t.name), ['example_hello_world']);
});

test('the MCP Inspector CLI calls example_hello_world and gets the exact text', async () => {
  const result = await inspector('--method', 'tools/call', '--tool-name', 'example_hello_world');
  assert.deepEqual(result, { content: [{ type: 'text', text: 'Hello from the example MCP server!' }] });
});

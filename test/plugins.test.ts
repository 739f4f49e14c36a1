/**
 * Loading plugin folders: every broken folder is reported by name, the rest are served.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtemp, mkdir, writeFile, cp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { FIXTURES, ROOT, connect, startProxy, textOf, type RunningProxy } from './helpers.ts';

let proxy: RunningProxy;

before(async () => {
  proxy = await startProxy({ pluginDirs: [join(FIXTURES, 'broken')] });
});
after(() => proxy.close());

function problemFor(folder: string) {
  const found = proxy.switchboard.problems.find((p) => p.culprit === join('test/fixtures/broken', folder));
  assert.ok(found, `no problem reported for ${folder}; reported: ${proxy.switchboard.problems.map((p) => p.message).join('\n')}`);
  return found;
}

test('the good plugin is served despite its broken neighbours', async () => {
  assert.deepEqual(proxy.switchboard.registry.list().map((p) => p.prefix), ['ok']);
  const { client, close } = await connect(proxy.url);
  try {
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['ok_still_here']);
    assert.equal(textOf(await client.callTool({ name: 'ok_still_here' })), 'still here');
  } finally {
    await close();
  }
});

test('a syntax error is reported with the folder and the file', () => {
  const problem = problemFor('a-syntax');
  assert.equal(problem.code, 'SB_PLUGIN_IMPORT');
  assert.match(problem.message, /^plugin folder test\/fixtures\/broken\/a-syntax: import failed: .*a-syntax\/index\.ts/s);
});

test('an import that throws is reported with its message', () => {
  const problem = problemFor('b-throws');
  assert.equal(problem.code, 'SB_PLUGIN_IMPORT');
  assert.match(problem.message, /b-throws: import failed: boom at import/);
});

test('manifest mistakes are reported with the folder and the field', () => {
  const expectations: Record<string, RegExp> = {
    'c-no-default': /c-no-default: invalid manifest: the entry file has no default export/,
    'd-unknown-key': /d-unknown-key: invalid manifest: unknown field "colour"/,
    'e-missing-prefix': /e-missing-prefix: invalid manifest: prefix: is required/,
    'f-bad-prefix': /f-bad-prefix: invalid manifest: prefix: must be 1-32 letters/,
    'g-both': /g-both: invalid manifest: needs exactly one of "server", "remote" or "command"; it has "server" and "remote"/,
    'h-neither': /h-neither: invalid manifest: needs exactly one of "server" \(in-process\), "remote" \(URL\) or "command" \(stdio\); it has none/,
    'remote-bad-url': /remote-bad-url: invalid manifest: remote\.url: must be an http:\/\/ or https:\/\/ URL/,
  };
  for (const [folder, pattern] of Object.entries(expectations)) {
    const problem = problemFor(folder);
    assert.equal(problem.code, 'SB_PLUGIN_MANIFEST', folder);
    assert.match(problem.message, pattern);
  }
});

test('a folder without an entry file is reported', () => {
  const problem = problemFor('i-no-entry');
  assert.equal(problem.code, 'SB_PLUGIN_NO_ENTRY');
  assert.match(problem.message, /i-no-entry: no entry file \(expected one of index\.ts, index\.mts, index\.js, index\.mjs, plugin\.json, plugin\.yaml, plugin\.yml\)/);
});

test('a factory that throws is reported, and its plugin is not mounted', () => {
  const problem = problemFor('k-factory-throws');
  assert.equal(problem.code, 'SB_PLUGIN_FACTORY');
  assert.match(problem.message, /plugin "k" \(test\/fixtures\/broken\/k-factory-throws\): server factory failed: factory boom/);
});

test('a duplicate prefix refuses the later folder, naming both', () => {
  const problem = problemFor('z-dup');
  assert.equal(problem.code, 'SB_PLUGIN_DUPLICATE_PREFIX');
  assert.match(problem.message, /plugin folder test\/fixtures\/broken\/z-dup uses prefix "ok", which plugin folder test\/fixtures\/broken\/ok already uses/);
});

test('a prefix that would make names ambiguous is refused, naming both folders', () => {
  const problem = problemFor('overlap');
  assert.equal(problem.code, 'SB_PLUGIN_PREFIX_OVERLAP');
  assert.match(problem.message, /prefix "ok_x", which is ambiguous with prefix "ok" of plugin folder test\/fixtures\/broken\/ok/);
});

test('folders starting with . or _ are ignored, not imported', () => {
  assert.equal(proxy.switchboard.problems.filter((p) => /_disabled|\.hidden/.test(p.message)).length, 0);
  assert.equal(proxy.switchboard.problems.length, 13, proxy.switchboard.problems.map((p) => p.message).join('\n'));
});

test('every problem is logged as an error naming the folder', () => {
  const errors = proxy.logs().filter((line) => line.level === 50);
  for (const problem of proxy.switchboard.problems) {
    assert.ok(errors.some((line) => line.msg === problem.message && line.source === problem.culprit), `not logged: ${problem.message}`);
  }
});

test('a plugin folder outside the app imports the SDK, zod and mcp-switchboard, and brings its own dependencies', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-external-'));
  // A drop-in TypeScript folder with no package.json at all (as in a mounted volume).
  await mkdir(join(dir, 'weather'));
  await writeFile(
    join(dir, 'weather', 'index.ts'),
    `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { definePlugin } from 'mcp-switchboard';
import { describe } from './describe.ts';
const unit: string = await Promise.resolve('C'); // top-level await works: the folder is loaded as ESM
export default definePlugin({
  prefix: 'weather',
  server: () => {
    const server = new McpServer({ name: 'weather', version: '1.0.0' });
    server.registerTool('forecast', { inputSchema: { city: z.string() } }, async ({ city }) => ({
      content: [{ type: 'text', text: describe(city, unit) }],
    }));
    return server;
  },
});
`,
  );
  await writeFile(join(dir, 'weather', 'describe.ts'), `export const describe = (city: string, unit: string): string => \`\${city}: 21°\${unit}\`;\n`);
  // A folder with its own package.json ("commonjs", as npm init writes it) and node_modules.
  await mkdir(join(dir, 'quotes', 'node_modules', 'quote-lib'), { recursive: true });
  await writeFile(join(dir, 'quotes', 'package.json'), JSON.stringify({ name: 'quotes', type: 'commonjs', dependencies: { 'quote-lib': '1.0.0' } }));
  await writeFile(join(dir, 'quotes', 'node_modules', 'quote-lib', 'package.json'), JSON.stringify({ name: 'quote-lib', main: 'index.js' }));
  await writeFile(join(dir, 'quotes', 'node_modules', 'quote-lib', 'index.js'), `module.exports = { quote: () => 'Simplicity is prerequisite for reliability.' };\n`);
  await writeFile(
    join(dir, 'quotes', 'index.ts'),
    `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import lib from 'quote-lib';
export default {
  prefix: 'quotes',
  server: () => {
    const server = new McpServer({ name: 'quotes', version: '1.0.0' });
    server.registerTool('today', {}, async () => ({ content: [{ type: 'text', text: lib.quote() }] }));
    return server;
  },
};
`,
  );
  // The proxy's own copy of the SDK must be the one plugins get: link the example in as a control.
  await symlink(join(ROOT, 'plugins', 'example'), join(dir, 'linked-example'));
  await cp(join(FIXTURES, 'broken', 'ok'), join(dir, 'ok'), { recursive: true });

  const external = await startProxy({ pluginDirs: [dir] });
  try {
    assert.deepEqual(external.switchboard.problems.map((p) => p.message), []);
    const { client, close } = await connect(external.url);
    try {
      assert.equal(textOf(await client.callTool({ name: 'weather_forecast', arguments: { city: 'Oslo' } })), 'Oslo: 21°C');
      assert.equal(textOf(await client.callTool({ name: 'quotes_today' })), 'Simplicity is prerequisite for reliability.');
      assert.equal(textOf(await client.callTool({ name: 'example_hello_world' })), 'Hello from the example MCP server!');
    } finally {
      await close();
    }
  } finally {
    await external.close();
  }
});

test('while starting, the earliest folder wins its prefix even when it is the slowest to load, and the refused ones name it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-order-'));
  const plugin = (prefix: string, delayMs = 0) =>
    `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';\n` +
    `await new Promise((resolve) => setTimeout(resolve, ${delayMs}));\n` +
    `export default { prefix: '${prefix}', server: () => new McpServer({ name: '${prefix}', version: '1.0.0' }) };\n`;
  for (const [folder, text] of Object.entries({ 'a-slow': plugin('ok', 600), 'b-overlap': plugin('ok_x'), 'c-dup': plugin('ok') })) {
    await mkdir(join(dir, folder));
    await writeFile(join(dir, folder, 'index.ts'), text);
  }
  const ordered = await startProxy({ pluginDirs: [dir] });
  try {
    assert.deepEqual(ordered.switchboard.registry.list().map((p) => p.source.display), [join(dir, 'a-slow')], 'the first folder should hold "ok"');
    const problem = (folder: string) => ordered.switchboard.problems.find((p) => p.culprit === join(dir, folder));
    assert.equal(problem('c-dup')?.code, 'SB_PLUGIN_DUPLICATE_PREFIX', `c-dup's error: ${problem('c-dup')?.message}`);
    assert.match(problem('c-dup')!.message, /uses prefix "ok", which plugin folder .*a-slow already uses/);
    assert.equal(problem('b-overlap')?.code, 'SB_PLUGIN_PREFIX_OVERLAP');
    assert.match(problem('b-overlap')!.message, /prefix "ok_x", which is ambiguous with prefix "ok" of plugin folder .*a-slow/);
  } finally {
    await ordered.close();
  }
});

/**
 * The entry file as a user runs it: `npm start` and the `switchboard` command, real processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, connect, startProcess, textOf } from './helpers.ts';
import { ensureNode22 } from './node22.ts';

const run = promisify(execFile);
const SERVING = /serving \d+ plugin\(s\) at (http:\/\/[^\s"]+)/;

/** What `tool` (by default example_hello_world) answers through the proxy at `url`, in a session of its own. */
async function callText(url: string, tool = 'example_hello_world'): Promise<string> {
  const { client, close } = await connect(url);
  try {
    return textOf(await client.callTool({ name: tool, arguments: {} }));
  } finally {
    await close();
  }
}

test('npm start serves the example plugin (here on a free port)', async () => {
  const proxy = await startProcess('npm', ['start', '--', '--port', '0'], { ready: SERVING });
  try {
    assert.match(proxy.url, /^http:\/\/localhost:\d+\/mcp$/, 'the log shows the URL a user types');
    assert.equal(await callText(proxy.url), 'Hello from the example MCP server!');
  } finally {
    await proxy.stop();
  }
});

test('the switchboard command reads a switchboard.config.ts that needs tsx (an enum), in a folder without a package.json, and serves its plugins', async () => {
  // Without a package.json, Node takes a .ts file for CommonJS; the command once failed on such a
  // config ("Unexpected reserved word"), while npm start, under the tsx CLI, read it.
  const cwd = await mkdtemp(join(tmpdir(), 'switchboard-config-ts-'));
  await writeFile(
    join(cwd, 'switchboard.config.ts'),
    `enum Folder { Example = ${JSON.stringify(join(ROOT, 'plugins'))} }\nexport default { pluginDirs: [Folder.Example], logLevel: 'info' };\n`,
  );
  const proxy = await startProcess(process.execPath, [join(ROOT, 'bin/switchboard.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json'], { cwd, ready: SERVING });
  try {
    assert.match(proxy.output(), /"msg":"configuration read"/);
    assert.equal(await callText(proxy.url), 'Hello from the example MCP server!');
  } finally {
    await proxy.stop();
  }
});

test('PORT and HOST come from the environment; SIGTERM stops the proxy with exit code 0', async () => {
  const proxy = await startProcess(process.execPath, [join(ROOT, 'bin/switchboard.js')], {
    env: { PORT: '0', HOST: '127.0.0.1' },
    ready: SERVING,
  });
  assert.match(proxy.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  const health = await fetch(proxy.url.replace('/mcp', '/healthz'));
  assert.equal(health.status, 200);
  const exited = new Promise<number | null>((resolve) => proxy.child.once('exit', (code) => resolve(code)));
  proxy.child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('a bad config key stops start-up with exit code 1 and a message naming the key and file', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'switchboard-entry-'));
  await writeFile(join(cwd, 'switchboard.config.json'), JSON.stringify({ hots: '127.0.0.1' }));
  await assert.rejects(run(process.execPath, [join(ROOT, 'bin/switchboard.js'), 'serve'], { cwd }), (error: { code: number; stderr: string }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr, /switchboard\.config\.json: unknown key "hots" \(did you mean "host"\?\)/);
    return true;
  });
});

test('a port already in use is reported as such', async () => {
  const first = await startProcess(process.execPath, [join(ROOT, 'bin/switchboard.js'), '--port', '0', '--host', '127.0.0.1'], { ready: SERVING });
  try {
    const port = new URL(first.url).port;
    await assert.rejects(run(process.execPath, [join(ROOT, 'bin/switchboard.js'), '--port', port, '--host', '127.0.0.1'], { cwd: ROOT }), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
      return true;
    });
  } finally {
    await first.stop();
  }
});

test('--help and --version answer without starting anything', async () => {
  const help = await run(process.execPath, [join(ROOT, 'bin/switchboard.js'), '--help']);
  assert.match(help.stdout, /switchboard list URL/);
  assert.match(help.stdout, /switchboard call URL TOOL/);
  const version = await run(process.execPath, [join(ROOT, 'bin/switchboard.js'), '--version']);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('on Node 22+ the command keeps the code it compiled: a second start reads it from the compile cache', { timeout: 5 * 60_000 }, async () => {
  const node22 = ensureNode22();
  const tmp = await mkdtemp(join(tmpdir(), 'sb-compile-cache-'));
  // The default place (os.tmpdir()/node-compile-cache): no NODE_COMPILE_CACHE of the caller's.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmp, TMPDIR: tmp };
  const first = await run(node22, ['bin/switchboard.js', '--version'], { cwd: ROOT, env });
  assert.match(first.stdout, /^\d+\.\d+\.\d+/);
  const cached = await readdir(join(tmp, 'node-compile-cache')).catch(() => []);
  assert.ok(cached.length > 0, `switchboard --version on Node 22 left no compile cache in ${tmp}/node-compile-cache`);
  const second = await run(node22, ['bin/switchboard.js', '--version'], { cwd: ROOT, env: { ...env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } });
  assert.match(second.stderr, /cache for (ESM )?\S+\/core\/main\.ts was accepted/, `the second start compiled core/main.ts again:\n${second.stderr.slice(0, 2000)}`);
  await rm(tmp, { recursive: true, force: true });
});

test('on Node 22.18+ plugins load on Node\'s own type stripping; one that needs tsx (an enum, ./x.js for x.ts) gets it, its code run once', { timeout: 5 * 60_000 }, async () => {
  const node22 = ensureNode22();
  const dir = await mkdtemp(join(tmpdir(), 'sb-native-plugins-'));
  // A plugin of erasable TypeScript; its tool says whether tsx has been loaded into the process.
  const plain = `import { createRequire } from 'node:module';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { PluginManifest } from 'mcp-switchboard';
// tsx's CommonJS half adds a require() extension for .ts; Node's own stripping adds none.
const tsxLoaded = (): boolean => createRequire(import.meta.url).extensions['.ts'] !== undefined;
const manifest: PluginManifest = {
  prefix: 'plain',
  server: () => {
    const server = new McpServer({ name: 'plain', version: '1.0.0' });
    server.registerTool('tsx', { description: 'whether tsx is loaded' }, async () => ({ content: [{ type: 'text', text: String(tsxLoaded()) }] }));
    return server;
  },
};
export default manifest;
`;
  const fancy = `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Tone, shout } from './tone.js';
const runs = ((globalThis as Record<string, number>).fancyRuns = ((globalThis as Record<string, number>).fancyRuns ?? 0) + 1);
export default {
  prefix: 'fancy',
  server: () => {
    const server = new McpServer({ name: 'fancy', version: '1.0.0' });
    server.registerTool('hi', { description: 'hi' }, async () => ({ content: [{ type: 'text', text: shout('hi', Tone.Loud) + ' ' + runs }] }));
    return server;
  },
};
`;
  const tone = `export enum Tone { Loud = '!', Calm = '.' }\nexport const shout = (text: string, tone: Tone): string => text + tone;\n`;
  const plainOnly = join(dir, 'plain-only');
  const both = join(dir, 'both');
  for (const folder of [join(plainOnly, 'plain'), join(both, 'plain'), join(both, 'fancy')]) await mkdir(folder, { recursive: true });
  await writeFile(join(plainOnly, 'plain', 'index.ts'), plain);
  await writeFile(join(both, 'plain', 'index.ts'), plain);
  await writeFile(join(both, 'fancy', 'index.ts'), fancy);
  await writeFile(join(both, 'fancy', 'tone.ts'), tone);

  const serve = (plugins: string) =>
    startProcess(node22, ['bin/switchboard.js', 'serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', '--plugins', plugins], {
      env: { NODE_DISABLE_COMPILE_CACHE: '1' },
      ready: SERVING,
      timeoutMs: 60_000,
    });

  const alone = await serve(plainOnly);
  try {
    assert.equal(await callText(alone.url, 'plain_tsx'), 'false', 'tsx was loaded although every plugin is erasable TypeScript');
  } finally {
    await alone.stop();
  }
  const mixed = await serve(both);
  try {
    assert.equal(await callText(mixed.url, 'fancy_hi'), 'hi! 1', 'the plugin that needs tsx did not load through it, or its code ran twice');
    assert.equal(await callText(mixed.url, 'plain_tsx'), 'true');
    assert.doesNotMatch(mixed.output(), /"level":[56]0/, 'the fallback to tsx logged an error');
  } finally {
    await mixed.stop();
  }
  await rm(dir, { recursive: true, force: true });
});

/**
 * The precompiled core (bin/precompile.js): what `switchboard` runs where Node cannot strip
 * types (Node 20, an installed package). The build itself on a small package of its own, and the
 * command as users run it, building into a cache folder and reusing it.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { keepInUse, precompiledCore as precompile } from '../bin/precompile.js';
import { ROOT, connect, startProcess, textOf } from './helpers.ts';

const SERVING = /serving \d+ plugin\(s\) at (http:\/\/[^\s"]+)/;

/** A package with a two-file core that reads a file beside it through import.meta.url, as the real core does. */
async function tinyPackage(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'sb-precompile-'));
  await mkdir(join(root, 'core'));
  await writeFile(join(root, 'tsconfig.json'), '{}');
  await writeFile(join(root, 'core', 'note.txt'), 'beside the source');
  await writeFile(join(root, 'core', 'index.ts'), `export const greeting: string = 'one';\n`);
  await writeFile(
    join(root, 'core', 'main.ts'),
    `import { readFileSync } from 'node:fs';\nimport { greeting } from './index.ts';\nexport const note = readFileSync(new URL('./note.txt', import.meta.url), 'utf8');\nexport { greeting };\nexport const lazy = () => import('./lazy.ts');\n`,
  );
  await writeFile(join(root, 'core', 'lazy.ts'), `export const lazy: number = 42;\n`);
  return root;
}

test('the precompiled core is built once per set of sources, keeps each file\'s import.meta.url, and loads lazy modules on demand', async () => {
  const root = await tinyPackage();
  const cacheRoot = join(root, 'cache');
  const first = await precompile({ appRoot: root, cacheRoot });
  assert.equal(first.built, true);
  const main = (await import(first.main)) as { note: string; greeting: string; lazy: () => Promise<{ lazy: number }> };
  assert.equal(main.note, 'beside the source', 'a core module reading a file beside it through import.meta.url did not find it in the bundle');
  assert.equal(main.greeting, 'one');
  assert.equal((await main.lazy()).lazy, 42);
  assert.equal(((await import(first.index)) as { greeting: string }).greeting, 'one');
  assert.ok(first.main.startsWith(pathToFileURL(cacheRoot).href));

  const again = await precompile({ appRoot: root, cacheRoot });
  assert.deepEqual({ ...again, built: true }, first, 'the same sources were given another build');
  assert.equal(again.built, false, 'the same sources were built again');

  // An edited core file is rebuilt into a folder of its own; the other stays while it is recent.
  await writeFile(join(root, 'core', 'index.ts'), `export const greeting: string = 'two';\n`);
  const edited = await precompile({ appRoot: root, cacheRoot });
  assert.equal(edited.built, true, 'an edited core file was not rebuilt');
  assert.notEqual(edited.dir, first.dir);
  assert.equal(((await import(edited.index)) as { greeting: string }).greeting, 'two');
  assert.deepEqual((await readdir(cacheRoot)).sort(), [first.dir, edited.dir].map((dir) => dir.slice(cacheRoot.length + 1)).sort());

  // A build removes the cores no start has used for a day.
  const dayAgo = new Date(Date.now() - 25 * 60 * 60 * 1000);
  await utimes(first.dir, dayAgo, dayAgo);
  await writeFile(join(root, 'core', 'index.ts'), `export const greeting: string = 'three';\n`);
  const third = await precompile({ appRoot: root, cacheRoot });
  assert.deepEqual((await readdir(cacheRoot)).sort(), [edited.dir, third.dir].map((dir) => dir.slice(cacheRoot.length + 1)).sort(), 'a core unused for a day was kept');
  await rm(root, { recursive: true, force: true });
});

test('a running proxy keeps its cached core marked used, hourly, so that the day-old pruning of another start spares it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sb-in-use-'));
  const dayAgo = new Date(Date.now() - 25 * 60 * 60 * 1000);
  await utimes(dir, dayAgo, dayAgo);
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    keepInUse(dir);
    mock.timers.tick(60 * 60 * 1000);
    // utimes itself is real I/O: wait for it.
    for (let i = 0; i < 100 && (await stat(dir)).mtimeMs < Date.now() - 60_000; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok((await stat(dir)).mtimeMs > Date.now() - 60_000, 'an hour on, the core in use still looked unused for a day');
  } finally {
    mock.timers.reset();
    await rm(dir, { recursive: true, force: true });
  }
});

/**
 * A fresh copy of the package, as installed under a project's node_modules (where every Node
 * runs the core precompiled, Node not stripping types there): the command, the core, the
 * example plugin, and a node_modules of its own whose packages link to this one's, so its
 * `.cache` starts empty. Resolves with the package folder and the project folder above it.
 */
async function packageCopy(): Promise<{ app: string; project: string }> {
  const project = await mkdtemp(join(tmpdir(), 'sb-precompiled-'));
  const app = join(project, 'node_modules', 'mcp-switchboard');
  for (const entry of ['bin', 'core', 'plugins', 'package.json', 'tsconfig.json']) await cp(join(ROOT, entry), join(app, entry), { recursive: true });
  await mkdir(join(app, 'node_modules'));
  for (const entry of await readdir(join(ROOT, 'node_modules'))) {
    // Not the checkout's link to itself (a devDependency): this copy is the package here.
    if (entry !== '.cache' && entry !== 'mcp-switchboard') await symlink(join(ROOT, 'node_modules', entry), join(app, 'node_modules', entry));
  }
  return { app, project };
}

/** A plugin folder whose tool answers where `mcp-switchboard` resolves for plugin code. */
async function whencePlugins(dir: string): Promise<string> {
  const plugins = join(dir, 'more-plugins');
  await mkdir(join(plugins, 'whence'), { recursive: true });
  await writeFile(
    join(plugins, 'whence', 'index.ts'),
    `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { definePlugin } from 'mcp-switchboard';
export default definePlugin({
  prefix: 'whence',
  server: () => {
    const server = new McpServer({ name: 'whence', version: '1.0.0' });
    server.registerTool('core', { description: 'where mcp-switchboard resolves' }, async () => ({ content: [{ type: 'text', text: import.meta.resolve('mcp-switchboard') }] }));
    server.registerTool('config-core', { description: 'where it resolved for the config file' }, async () => ({ content: [{ type: 'text', text: String((globalThis as { configCore?: string }).configCore) }] }));
    return server;
  },
});
`,
  );
  return plugins;
}

const serveFrom = (app: string, env: Record<string, string> = {}, plugins: string[] = []) =>
  startProcess(process.execPath, [join(app, 'bin/switchboard.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', ...plugins.flatMap((dir) => ['--plugins', dir])], {
    cwd: app,
    env,
    ready: SERVING,
    timeoutMs: 60_000,
  });

async function call(url: string, tool: string): Promise<string> {
  const { client, close } = await connect(url);
  try {
    return textOf(await client.callTool({ name: tool, arguments: {} }));
  } finally {
    await close();
  }
}

test('installed (or on Node 20), the first start compiles the core into node_modules/.cache, later starts reuse it, and plugins importing mcp-switchboard get the running core', { timeout: 180_000 }, async () => {
  const { app, project } = await packageCopy();
  const cache = join(app, 'node_modules', '.cache', 'mcp-switchboard');
  const plugins = await whencePlugins(project);
  const first = await serveFrom(app, {}, [plugins]);
  let built: string[];
  let mainFile: string;
  try {
    built = await readdir(cache).catch(() => []);
    assert.equal(built.length, 1, `the first start left ${built.length} folders in ${cache}: ${built.join(', ')}`);
    mainFile = join(cache, built[0]!, 'main.js');
    assert.match(await readFile(mainFile, 'utf8'), /one MCP endpoint for all your MCP servers/, 'the cached main.js is not core/main.ts');
    assert.equal(await call(first.url, 'example_hello_world'), 'Hello from the example MCP server!');
    assert.equal(await call(first.url, 'whence_core'), pathToFileURL(join(cache, built[0]!, 'index.js')).href, 'a plugin importing mcp-switchboard got another copy of the core than the one running');
    assert.doesNotMatch(first.output(), /could not precompile/);
  } finally {
    await first.stop();
  }
  const builtAt = (await stat(mainFile)).mtimeMs;
  const second = await serveFrom(app);
  try {
    assert.deepEqual(await readdir(cache), built, 'the second start built the core again');
    assert.equal((await stat(mainFile)).mtimeMs, builtAt, 'the second start rewrote the cached core');
    assert.equal(await call(second.url, 'example_hello_world'), 'Hello from the example MCP server!');
  } finally {
    await second.stop();
  }
  await rm(project, { recursive: true, force: true });
});

test('a JavaScript config file that imports mcp-switchboard gets the running core too', { timeout: 180_000 }, async () => {
  const { app, project } = await packageCopy();
  await whencePlugins(project);
  // Found in the working directory; its plugin folder is the whence plugin's.
  await writeFile(
    join(project, 'switchboard.config.mjs'),
    `import { definePlugin } from 'mcp-switchboard';\nglobalThis.configCore = typeof definePlugin === 'function' ? import.meta.resolve('mcp-switchboard') : 'no definePlugin';\nexport default { pluginDirs: ['more-plugins'] };\n`,
  );
  const proxy = await startProcess(process.execPath, [join(app, 'bin/switchboard.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json'], {
    cwd: project,
    ready: SERVING,
    timeoutMs: 60_000,
  });
  try {
    const [built] = await readdir(join(app, 'node_modules', '.cache', 'mcp-switchboard'));
    assert.equal(await call(proxy.url, 'whence_config-core'), pathToFileURL(join(app, 'node_modules', '.cache', 'mcp-switchboard', built!, 'index.js')).href, 'the config file got another copy of the core than the one running');
  } finally {
    await proxy.stop();
  }
  await rm(project, { recursive: true, force: true });
});

test('a cache that cannot be written is reported and the proxy serves from the TypeScript sources; SWITCHBOARD_CORE_CACHE=off does so without trying', { timeout: 180_000 }, async () => {
  const { app, project } = await packageCopy();
  // node_modules/.cache is a file: the folder for the precompiled core cannot be made.
  await writeFile(join(app, 'node_modules', '.cache'), '');
  const unwritable = await serveFrom(app);
  try {
    assert.match(unwritable.output(), /switchboard: could not precompile the core into \S+node_modules\/\.cache\/mcp-switchboard \(.*\); running its TypeScript through tsx/);
    assert.equal(await call(unwritable.url, 'example_hello_world'), 'Hello from the example MCP server!');
  } finally {
    await unwritable.stop();
  }
  await rm(join(app, 'node_modules', '.cache'));
  const off = await serveFrom(app, { SWITCHBOARD_CORE_CACHE: 'off' });
  try {
    assert.equal(await call(off.url, 'example_hello_world'), 'Hello from the example MCP server!');
    assert.doesNotMatch(off.output(), /precompile/);
    assert.equal(await stat(join(app, 'node_modules', '.cache')).catch(() => undefined), undefined, 'SWITCHBOARD_CORE_CACHE=off still wrote a precompiled core');
  } finally {
    await off.stop();
  }
  await rm(project, { recursive: true, force: true });
});

test('a moved package builds its own core; a build cut short is built again; a cached core missing a file is reported, removed, and the sources serve', { timeout: 180_000 }, async () => {
  const { app, project } = await packageCopy();
  const cacheOf = (root: string) => join(root, 'node_modules', '.cache', 'mcp-switchboard');
  const first = await serveFrom(app);
  await first.stop();
  const [built] = await readdir(cacheOf(app));

  // Moved, node_modules and its cache along: the cached core holds the old place's file URLs.
  const moved = join(project, 'node_modules', 'moved-switchboard');
  await rename(app, moved);
  const afterMove = await serveFrom(moved);
  try {
    assert.equal(await call(afterMove.url, 'example_hello_world'), 'Hello from the example MCP server!');
    const folders = await readdir(cacheOf(moved));
    assert.equal(folders.length, 2, `the moved package ran the core built for its old place (cache: ${folders.join(', ')})`);
  } finally {
    await afterMove.stop();
  }
  const [current] = (await readdir(cacheOf(moved))).filter((folder) => folder !== built);
  const currentDir = join(cacheOf(moved), current!);

  // A build cut short (no completion mark): built again, not run half.
  await rm(join(currentDir, 'complete.json'));
  await rm(join(currentDir, 'index.js'));
  const rebuilt = await serveFrom(moved);
  try {
    assert.equal(await call(rebuilt.url, 'example_hello_world'), 'Hello from the example MCP server!');
    assert.ok(await stat(join(currentDir, 'complete.json')).catch(() => undefined), 'a build cut short was not built again');
    assert.doesNotMatch(rebuilt.output(), /incomplete|could not precompile/);
  } finally {
    await rebuilt.stop();
  }

  // Complete by its mark, but a file gone since: reported and removed, and this start runs the sources.
  // A chunk main.js imports statically (a lazily imported one would fail later, not at start).
  const chunk = /from "\.\/(chunk-[\w-]+\.js)"/.exec(await readFile(join(currentDir, 'main.js'), 'utf8'))?.[1];
  assert.ok(chunk, 'main.js imports no chunk statically');
  await rm(join(currentDir, chunk!));
  const damaged = await serveFrom(moved);
  try {
    assert.match(damaged.output(), /switchboard: the precompiled core in \S+ is incomplete \(Cannot find module .*chunk-.*\); removed it, and running the TypeScript sources through tsx this time/);
    assert.equal(await call(damaged.url, 'example_hello_world'), 'Hello from the example MCP server!');
    assert.equal(await stat(currentDir).catch(() => undefined), undefined, 'the damaged core was left in the cache');
  } finally {
    await damaged.stop();
  }
  await rm(project, { recursive: true, force: true });
});

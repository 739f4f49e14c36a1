/**
 * The container image, built and run with a real engine and the real docker CLI, with exactly
 * the commands README.md gives (read out of it; see docker.ts for the three words adapted so
 * runs do not collide: image tag, container name, published port).
 *
 *   npm run test:container
 *
 * Each `describe` starts its own container with one README command; the tests inside share it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { FIXTURES, connect, freePort, startProcess, textOf, type RunningProcess } from '../helpers.ts';
import { adapt, docker, prepareEngine, readmeDockerCommands, run, type Engine, type ReadmeCommands } from './docker.ts';

const HELLO = 'Hello from the example MCP server!';
/** Unique per run, so parallel runs and the user's own `mcp-switchboard` image are left alone. */
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const IMAGE = `mcp-switchboard-test:${RUN_ID}`;

let engine: Engine;
let commands: ReadmeCommands;
const containers = new Set<string>();
const tempDirs = new Set<string>();

before(async () => {
  commands = readmeDockerCommands();
  engine = await prepareEngine();
}, { timeout: 10 * 60_000 });

after(async () => {
  for (const name of containers) await run('docker', ['rm', '-f', name], { env: engine?.env }).catch(() => {});
  if (engine) await run('docker', ['rmi', '-f', IMAGE], { env: engine.env }).catch(() => {});
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

interface Started {
  name: string;
  port: number;
  url: string;
}

/** Runs a README `docker run` command (adapted) in `cwd` and waits until /healthz answers. */
async function startContainer(words: string[], label: string, cwd?: string): Promise<Started> {
  const name = `switchboard-test-${label}-${RUN_ID}`;
  const port = await freePort();
  const [command, ...args] = adapt(words, { image: IMAGE, container: name, port });
  assert.equal(command, 'docker');
  containers.add(name);
  await docker(engine, args, { cwd, timeoutMs: 60_000 });
  const deadline = Date.now() + 60_000;
  for (let attempt = 0; ; attempt++) {
    const health = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    if (health?.ok) break;
    if (attempt % 5 === 4) {
      const state = await docker(engine, ['inspect', '--format', '{{.State.Status}}', name]);
      if (state.stdout.trim() !== 'running') throw new Error(`container ${name} is ${state.stdout.trim()}; its log:\n${await logsOf(name)}`);
    }
    if (Date.now() > deadline) throw new Error(`container ${name} did not answer /healthz on port ${port} within 60 s; its log:\n${await logsOf(name)}`);
    await sleep(200);
  }
  // Plugins join as they become ready: wait until none is still loading (with auth on, /readyz lists none to us).
  for (;;) {
    const readyz = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.json() as Promise<{ plugins?: { state: string }[] }>, () => undefined);
    if (readyz && !readyz.plugins?.some((plugin) => plugin.state === 'loading')) break;
    if (Date.now() > deadline) throw new Error(`container ${name}: plugins still loading after 60 s: ${JSON.stringify(readyz)}; its log:\n${await logsOf(name)}`);
    await sleep(200);
  }
  return { name, port, url: `http://localhost:${port}/mcp` };
}

async function logsOf(name: string): Promise<string> {
  const logs = await run('docker', ['logs', name], { env: engine.env });
  return logs.stdout + logs.stderr;
}

/** The container's log lines at level warn or above (JSON logs), for failure messages. */
async function problemsOf(name: string): Promise<string> {
  return (await logsOf(name))
    .split('\n')
    .filter((line) => (JSON.parse(line.startsWith('{') ? line : '{}') as { level?: number }).level! >= 40)
    .join('\n');
}

async function inspect(name: string, format: string): Promise<string> {
  return (await docker(engine, ['inspect', '--format', format, name])).stdout.trim();
}

async function newTempDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `switchboard-container-${label}-`));
  tempDirs.add(dir);
  // The container's `node` user (uid 1000) reads what the tests mount from here.
  await chmod(dir, 0o755);
  return dir;
}

async function writeReadable(path: string, text: string): Promise<void> {
  await writeFile(path, text);
  await chmod(path, 0o644);
}

async function callHello(url: string): Promise<string[]> {
  const { client, close } = await connect(url);
  try {
    const { tools } = await client.listTools();
    assert.equal(textOf(await client.callTool({ name: 'example_hello_world' })), HELLO);
    return tools.map((tool) => tool.name);
  } finally {
    await close();
  }
}

test('README.md gives the docker commands these tests run', () => {
  // readmeDockerCommands() throws, naming the command, if one is missing or ambiguous.
  assert.deepEqual(commands.build, ['docker', 'build', '-t', 'mcp-switchboard', '.']);
  for (const words of [commands.run, commands.runPlugins, commands.runConfig]) {
    assert.deepEqual(words.slice(0, 2), ['docker', 'run']);
    assert.equal(words.at(-1), 'mcp-switchboard', `the image is the last word: ${words.join(' ')}`);
  }
});

test('the image builds with the README command, as node:24-slim plus little', { timeout: 10 * 60_000 }, async (t) => {
  t.diagnostic(`engine: ${engine.server}${engine.setupMs ? `, prepared by engine.sh in ${(engine.setupMs / 1000).toFixed(1)} s` : ''}`);
  const started = Date.now();
  const [command, ...args] = adapt(commands.build, { image: IMAGE });
  assert.equal(command, 'docker');
  await docker(engine, args, { timeoutMs: 10 * 60_000 });
  t.diagnostic(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const size = Number((await docker(engine, ['image', 'inspect', '--format', '{{.Size}}', IMAGE])).stdout.trim());
  // BuildKit does not list the base image it built from; pull it (the tag the build used) to measure it.
  const inspectBase = () => run('docker', ['image', 'inspect', '--format', '{{.Size}}', 'node:24-slim'], { env: engine.env });
  let baseInspected = await inspectBase();
  if (baseInspected.code !== 0) {
    await docker(engine, ['pull', '--quiet', 'node:24-slim'], { timeoutMs: 5 * 60_000 });
    baseInspected = await inspectBase();
  }
  const base = Number(baseInspected.stdout.trim());
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  t.diagnostic(`image size ${mb(size)} (node:24-slim ${mb(base)} + ${mb(size - base)})`);
  // The app and its production dependencies come to about 32 MB; typescript (an optional peer
  // npm installs even with --omit=dev), dev dependencies or tests slipping in would pass this.
  assert.ok(size - base < 55e6, `the image adds ${mb(size - base)} to node:24-slim`);

  const config = JSON.parse((await docker(engine, ['image', 'inspect', '--format', '{{json .Config}}', IMAGE])).stdout) as {
    User?: string;
    ExposedPorts?: Record<string, unknown>;
    Cmd?: string[];
    Entrypoint?: string[] | null;
    Healthcheck?: { Test?: string[] };
  };
  assert.equal(config.User, 'node');
  assert.ok(config.ExposedPorts && '8490/tcp' in config.ExposedPorts, 'EXPOSE 8490');
  assert.deepEqual(config.Cmd, ['node', 'bin/switchboard.js', 'serve'], 'node itself, not npm (the entry that runs the core on Node 24 type stripping)');
  assert.deepEqual(config.Entrypoint, ['/usr/bin/tini', '--'], 'tini as PID 1, to pass signals on and reap orphans');
  // (Podman 4's Docker API leaves Healthcheck out of image inspect; the health check test below
  // checks it on the running container.)
});

describe('docker run with the README command: the baked-in example plugin', { timeout: 3 * 60_000 }, () => {
  let proxy: Started;
  before(async () => {
    proxy = await startContainer(commands.run, 'plain');
  });

  test('the SDK client lists and calls example_hello_world through the published port', async () => {
    assert.deepEqual(await callHello(proxy.url), ['example_hello_world']);
  });

  test('the proxy runs as the node user (uid 1000), under tini as PID 1', async () => {
    assert.equal((await docker(engine, ['exec', proxy.name, 'id', '-u'])).stdout.trim(), '1000');
    const cmdline = async (pid: number) => (await docker(engine, ['exec', proxy.name, 'cat', `/proc/${pid}/cmdline`])).stdout.split('\0').filter(Boolean);
    assert.deepEqual(await cmdline(1), ['/usr/bin/tini', '--', 'node', 'bin/switchboard.js', 'serve']);
    const children = (await docker(engine, ['exec', proxy.name, 'cat', '/proc/1/task/1/children'])).stdout.trim().split(/\s+/).map(Number);
    assert.equal(children.length, 1, 'tini runs one process: the proxy');
    assert.deepEqual(await cmdline(children[0]!), ['node', 'bin/switchboard.js', 'serve']);
    for (const pid of [1, children[0]!]) {
      const status = (await docker(engine, ['exec', proxy.name, 'cat', `/proc/${pid}/status`])).stdout;
      assert.match(status, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m, `process ${pid} runs as uid 1000`);
    }
  });

  test('the image holds the app and its production dependencies, nothing else', async () => {
    const app = (await docker(engine, ['exec', proxy.name, 'ls', '-A', '/app'])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(app, ['bin', 'core', 'node_modules', 'package.json', 'plugins', 'tsconfig.json']);
    const modules = (await docker(engine, ['exec', proxy.name, 'ls', '-A', '/app/node_modules'])).stdout.split('\n');
    for (const dev of ['typescript', '@types', '@modelcontextprotocol/inspector']) assert.ok(!modules.includes(dev), `${dev} is not in the image`);
    assert.ok(modules.includes('tsx') && modules.includes('zod'));
    // The app directory is not writable by the proxy.
    const write = await run('docker', ['exec', proxy.name, 'touch', '/app/core/x'], { env: engine.env });
    assert.notEqual(write.code, 0);
  });

  test('the image carries the code Node compiled at build time: the proxy user reads it, nothing is compiled again', async () => {
    const start = await docker(engine, ['exec', '-e', 'NODE_DEBUG_NATIVE=COMPILE_CACHE', proxy.name, 'node', 'bin/switchboard.js', '--version']);
    assert.match(start.stderr, /cache for (ESM )?\S+\/app\/core\/main\.ts was accepted/, `the image's compile cache was not used:\n${start.stderr.slice(0, 2000)}`);
    assert.match(start.stderr, /\/app\/node_modules\/zod\/\S+ was accepted/, 'dependencies are compiled again in every container');
  });

  test('the CLI in the image answers too (docker exec ... bin/switchboard.js call)', async () => {
    const call = await docker(engine, ['exec', proxy.name, 'bin/switchboard.js', 'call', 'http://localhost:8490/mcp', 'example_hello_world']);
    assert.equal(call.stdout.trim(), HELLO);
  });

  test('logs are JSON lines on stdout', async () => {
    const logs = await run('docker', ['logs', proxy.name], { env: engine.env });
    const lines = logs.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg?: string; level?: number });
    assert.ok(lines.some((line) => /^serving 1 plugin\(s\) at http:\/\/localhost:8490\/mcp$/.test(line.msg ?? '')), logs.stdout);
    assert.ok(
      lines.some((line) => line.level === 40 && /^SECURITY: listening on 0\.0\.0\.0 with no authentication/.test(line.msg ?? '')),
      'a container published with no auth says so loudly',
    );
    assert.equal(logs.stderr, '', 'nothing on stderr');
  });

  test('the health check reports healthy', { timeout: 60_000 }, async (t) => {
    const check = JSON.parse(await inspect(proxy.name, '{{json .Config.Healthcheck}}')) as { Test?: string[] } | null;
    assert.deepEqual(check?.Test?.slice(0, 3), ['CMD', 'node', '-e'], 'the HEALTHCHECK survived the build (Docker image format)');
    const started = Date.now();
    let health: { Status?: string; Log?: Array<{ ExitCode: number; Output: string }> } = {};
    let ranByHand = false;
    while (Date.now() - started < 45_000) {
      health = JSON.parse(await inspect(proxy.name, '{{json .State.Health}}')) ?? {};
      if (health.Status === 'healthy') break;
      // Podman runs health checks from systemd timers; with no systemd (as in CI here) nothing
      // runs them, so run the image's check once the way Podman documents: it runs the
      // HEALTHCHECK command in the container and records the result.
      if (engine.podman && !ranByHand && Date.now() - started > 5_000 && !health.Log?.length) {
        ranByHand = true;
        const byHand = await run('podman', ['healthcheck', 'run', proxy.name]).catch((error: Error) => ({ code: -1, stdout: '', stderr: error.message }));
        t.diagnostic(`podman ran no health check by itself; podman healthcheck run: exit ${byHand.code} ${byHand.stdout.trim()}${byHand.stderr.trim()}`);
      }
      await sleep(500);
    }
    t.diagnostic(`health ${health.Status} after ${((Date.now() - started) / 1000).toFixed(1)} s${ranByHand ? ' (check run by hand)' : ''}`);
    assert.equal(health.Status, 'healthy', JSON.stringify(health));
  });

  // Last: it stops the container the tests above share.
  test('docker stop ends it with exit code 0 within 10 s', async (t) => {
    const started = Date.now();
    // `--time 10` is Docker's default, written out because Podman before 4.7 gives containers
    // created through its Docker API a stop timeout of 0 (SIGKILL at once, exit 137;
    // containers/podman#19139).
    await docker(engine, ['stop', '--time', '10', proxy.name], { timeoutMs: 30_000 });
    const took = Date.now() - started;
    t.diagnostic(`docker stop took ${(took / 1000).toFixed(2)} s`);
    assert.ok(took < 10_000, `docker stop took ${took} ms`);
    assert.equal(await inspect(proxy.name, '{{.State.ExitCode}}'), '0');
    assert.equal(await inspect(proxy.name, '{{.State.OOMKilled}}'), 'false');
    assert.match(await logsOf(proxy.name), /SIGTERM: shutting down/);
  });
});

/**
 * The README's `-v ./my-plugins:/plugins:ro` command, run in a temporary directory whose
 * `my-plugins` holds the plugin folders below. To test another kind of mounted plugin, add its
 * folder to PLUGIN_FOLDERS and a test to this describe.
 */
describe('docker run with the README plugin mount: plugins from a volume, no rebuild', { timeout: 3 * 60_000 }, () => {
  const PLUGIN_FOLDERS: Record<string, Record<string, string>> = {
    // A TypeScript in-process plugin that imports the SDK, zod and mcp-switchboard, none of
    // which the mounted folder has: they resolve to the image's copies. It also uses what Node's
    // own type stripping (which runs the core on the image's Node 24) cannot run: an enum, and a
    // .ts file imported as .js, as tsc-built projects write it. tsx runs plugins.
    mounted: {
      'index.ts': `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { definePlugin } from 'mcp-switchboard';
import { SUFFIX } from './suffix.js';

enum Tool { Shout = 'shout' }
const suffix: string = await Promise.resolve(SUFFIX); // top-level await: loaded as an ES module

export default definePlugin({
  prefix: 'mounted',
  description: 'A plugin from a mounted volume',
  server: () => {
    const server = new McpServer({ name: 'mounted', version: '1.0.0' });
    server.registerTool(
      Tool.Shout,
      { description: 'Shouts a message', inputSchema: { message: z.string().min(1) } },
      async ({ message }) => ({ content: [{ type: 'text', text: message.toUpperCase() + suffix }] }),
    );
    return server;
  },
});
`,
      'suffix.ts': `export const SUFFIX: string = '!';\n`,
    },
  };

  let proxy: Started;
  let cwd: string;
  let remote: RunningProcess;
  before(async () => {
    // A remote MCP server on this host, reachable from the container through the bridge's gateway.
    remote = await startProcess(process.execPath, ['--import', 'tsx', 'test/fixtures/remote-server.ts'], {
      env: { PORT: '0', HOST: '0.0.0.0' },
      ready: /listening (http:\S+)/,
    });
    const gateway = await hostAddressFromContainers(engine);
    // A no-code remote plugin: plugin.json, pointing at that server.
    PLUGIN_FOLDERS.remote = { 'plugin.json': JSON.stringify({ prefix: 'remote', remote: { url: remote.url.replace('127.0.0.1', gateway) } }, null, 2) };
    // A no-code command plugin: a stdio server (no dependencies) that starts processes of its own.
    PLUGIN_FOLDERS.stdio = {
      'plugin.json': JSON.stringify({ prefix: 'stdio', command: { command: 'node', args: ['server.mjs'] } }, null, 2),
      'server.mjs': await readFile(join(FIXTURES, 'stdio-plain.mjs'), 'utf8'),
    };
    cwd = await newTempDir('plugins');
    for (const [folder, files] of Object.entries(PLUGIN_FOLDERS)) {
      await mkdir(join(cwd, 'my-plugins', folder), { recursive: true, mode: 0o755 });
      await chmod(join(cwd, 'my-plugins'), 0o755);
      await chmod(join(cwd, 'my-plugins', folder), 0o755);
      for (const [file, text] of Object.entries(files)) await writeReadable(join(cwd, 'my-plugins', folder, file), text);
    }
    proxy = await startContainer(commands.runPlugins, 'plugins', cwd);
  });

  after(() => remote?.stop());

  test('a mounted TypeScript plugin importing the SDK, zod and mcp-switchboard is served under its prefix', async () => {
    const { client, close } = await connect(proxy.url);
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name).sort();
      assert.ok(names.includes('example_hello_world') && names.includes('mounted_shout'), `${names.join(', ')}; the proxy's warnings and errors:\n${await problemsOf(proxy.name)}`);
      assert.equal(textOf(await client.callTool({ name: 'mounted_shout', arguments: { message: 'hello from a volume' } })), 'HELLO FROM A VOLUME!');
      const invalid = await client.callTool({ name: 'mounted_shout', arguments: { message: '' } });
      assert.equal(invalid.isError, true, "zod's min(1) from the image's zod rejects an empty message");
      assert.equal(textOf(await client.callTool({ name: 'example_hello_world' })), HELLO);
    } finally {
      await close();
    }
  });

  test('a mounted plugin.json remote plugin is served under its prefix and reaches its server', async () => {
    const { client, close } = await connect(proxy.url);
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      assert.ok(names.includes('remote_shout'), `${names.join(', ')}; the proxy's warnings and errors:\n${await problemsOf(proxy.name)}`);
      assert.equal(textOf(await client.callTool({ name: 'remote_shout', arguments: { text: 'from the host' } })), 'FROM THE HOST');
    } finally {
      await close();
    }
  });

  test('a mounted plugin.json command plugin runs; its processes are reaped when the session ends (no zombies)', async () => {
    const { client, close } = await connect(proxy.url);
    const pid = textOf(await client.callTool({ name: 'stdio_pid' }));
    const grandchild = textOf(await client.callTool({ name: 'stdio_grandchild' }));
    assert.match(pid, /^\d+$/);
    await close();
    const deadline = Date.now() + 15_000;
    let left = '';
    for (;;) {
      // Every process of the two, alive or a zombie waiting to be reaped, shows in /proc.
      left = (await run('docker', ['exec', proxy.name, 'sh', '-c', `ls -d /proc/${pid} /proc/${grandchild} 2>/dev/null || true`], { env: engine.env })).stdout.trim();
      if (left === '' || Date.now() > deadline) break;
      await sleep(200);
    }
    assert.equal(left, '', `processes ${pid} and ${grandchild} are gone, zombies included`);
    const zombies = (await run('docker', ['exec', proxy.name, 'sh', '-c', "grep -l '^State:.Z' /proc/[0-9]*/status || true"], { env: engine.env })).stdout.trim();
    assert.equal(zombies, '', 'no zombie process in the container');
  });

  // Last: it changes the mounted folder.
  test('a plugin folder added to the mounted volume while the container runs is served without a restart', async () => {
    const { client, close } = await connect(proxy.url);
    try {
      let changed = 0;
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
      // Written under a hidden name (ignored), then renamed into place, as a copy tool would.
      const staging = join(cwd, 'my-plugins', '.late');
      await mkdir(staging, { mode: 0o755 });
      await chmod(staging, 0o755);
      await writeReadable(
        join(staging, 'index.ts'),
        `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
export default { prefix: 'late', server: () => {
  const server = new McpServer({ name: 'late', version: '1.0.0' });
  server.registerTool('arrival', {}, async () => ({ content: [{ type: 'text', text: 'arrived while running' }] }));
  return server;
} };
`,
      );
      await rename(staging, join(cwd, 'my-plugins', 'late'));
      const deadline = Date.now() + 30_000;
      let names: string[] = [];
      while (!names.includes('late_arrival') && Date.now() < deadline) {
        await sleep(250);
        names = (await client.listTools()).tools.map((tool) => tool.name);
      }
      assert.ok(names.includes('late_arrival'), `${names.join(', ')}; the proxy's warnings and errors:\n${await problemsOf(proxy.name)}`);
      assert.ok(changed > 0, 'the connected client was told the tool list changed');
      assert.equal(textOf(await client.callTool({ name: 'late_arrival' })), 'arrived while running');
    } finally {
      await close();
    }
  });
});

/** The address at which containers reach this host (the default bridge network's gateway). */
async function hostAddressFromContainers(engine: Engine): Promise<string> {
  const gateway = (await docker(engine, ['network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Gateway}}'])).stdout.trim();
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(gateway)) throw new Error(`no gateway address for the bridge network (got "${gateway}")`);
  return gateway;
}

describe('docker run with the README config command: a mounted file named by SWITCHBOARD_CONFIG', { timeout: 3 * 60_000 }, () => {
  let proxy: Started;
  before(async () => {
    const cwd = await newTempDir('config');
    await writeReadable(
      join(cwd, 'switchboard.config.json'),
      JSON.stringify({ allowedHosts: ['localhost', '127.0.0.1', 'switchboard'], logLevel: 'debug' }, null, 2),
    );
    proxy = await startContainer(commands.runConfig, 'config', cwd);
  });

  test("the file's settings are honoured (allowedHosts, logLevel)", async () => {
    // allowedHosts: a client that reaches the proxy as `switchboard` (another container) is
    // accepted; a name the file does not list is still refused.
    assert.equal((await initializeWithHost(proxy.port, `switchboard:${proxy.port}`)).status, 200);
    const refused = await initializeWithHost(proxy.port, `elsewhere:${proxy.port}`);
    assert.equal(refused.status, 403);
    const message = (JSON.parse(refused.body) as { error: { message: string } }).error.message;
    assert.match(message, /Host "elsewhere:\d+" is not allowed \(allowedHosts: localhost, 127\.0\.0\.1, switchboard\)/);
    assert.deepEqual(await callHello(proxy.url), ['example_hello_world']);

    const lines = (await logsOf(proxy.name)).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg?: string; file?: string; level?: number });
    assert.ok(lines.some((line) => line.msg === 'configuration read' && line.file === '/config/switchboard.config.json'));
    assert.ok(lines.some((line) => line.level === 20), 'logLevel debug: debug lines are logged');
  });
});

describe('docker run with the README config command and auth: a token from the environment, expanded in the mounted file', { timeout: 3 * 60_000 }, () => {
  const token = 'container-token-0123456789abcdef';
  let proxy: Started;
  before(async () => {
    const cwd = await newTempDir('auth');
    // The README's example file, auth and all.
    await writeReadable(join(cwd, 'switchboard.config.json'), JSON.stringify({ auth: { tokens: [{ token: '${SWITCHBOARD_CLIENT_TOKEN}', name: 'agents' }] } }, null, 2));
    const words = [...commands.runConfig];
    words.splice(2, 0, '-e', `SWITCHBOARD_CLIENT_TOKEN=${token}`);
    proxy = await startContainer(words, 'auth', cwd);
  });

  test('a client without the token gets 401; with it, example_hello_world answers; the token is in no log line; no SECURITY warning', async () => {
    assert.equal((await initializeWithHost(proxy.port, `localhost:${proxy.port}`)).status, 401);
    const client = new Client({ name: 'container-test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
    await client.connect(transport);
    try {
      assert.equal(textOf(await client.callTool({ name: 'example_hello_world' })), HELLO);
    } finally {
      await transport.terminateSession().catch(() => {});
      await client.close();
    }
    const logs = await logsOf(proxy.name);
    assert.ok(!logs.includes(token), 'the token is in the container log');
    assert.doesNotMatch(logs, /SECURITY/);
  });
});

test('the image runs with a read-only root file system (docker run --read-only)', { timeout: 2 * 60_000 }, async () => {
  const words = [...commands.run];
  words.splice(2, 0, '--read-only');
  const proxy = await startContainer(words, 'readonly');
  assert.deepEqual(await callHello(proxy.url), ['example_hello_world']);
  // Nothing written to /tmp either (tsx's cache would go there; Podman mounts a tmpfs on /tmp
  // with --read-only, Docker does not).
  assert.equal((await docker(engine, ['exec', proxy.name, 'ls', '-A', '/tmp'])).stdout, '');
  await docker(engine, ['rm', '-f', proxy.name]);
  containers.delete(proxy.name);
});

/** POSTs an `initialize` with the given Host header (fetch does not let a caller set Host). */
function initializeWithHost(port: number, host: string): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'container-test', version: '1' } },
  });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/mcp',
        method: 'POST',
        headers: { host, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Environment variables in the config file and in plugin manifests, end to end: `${VAR}` reaches
 * a real remote MCP server (in its URL and headers) and a real stdio server (in its args and
 * environment); a hot reload expands again; a variable that is not set stops start-up naming
 * the key; and what came from the environment never shows in the proxy's log, /readyz or the
 * errors clients get.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../core/config/config.ts';
import { readFolder } from '../core/plugins/discover.ts';
import { loadManifest } from '../core/plugins/load.ts';
import { FIXTURES, ROOT, connect, freePort, startProxy, startRemoteFixture, textOf, until, type RunningProcess } from './helpers.ts';

const run = promisify(execFile);

// Values that must never be shown. Each is long enough to be scrubbed (6 characters or more).
const TOKEN = 'tok-from-env-5f1c2a';
const PATH_TOKEN = 'path-secret-9b7e4d';
const DIR_SECRET = 'dir-secret-3c8a61';

let remote: RunningProcess;
let deadPort: number;

before(async () => {
  [remote, deadPort] = await Promise.all([startRemoteFixture(), freePort()]);
});

after(async () => {
  await remote?.stop();
});

/** Every log line as the proxy wrote it (after scrubbing), one string. */
const logText = (logs: () => Array<Record<string, unknown>>) => logs().map((line) => JSON.stringify(line)).join('\n');

test("${VAR} in the config file's mcpServers reach a real remote server; the values are scrubbed from logs, /readyz and client errors", async () => {
  const remotePort = new URL(remote.url).port;
  const cwd = await mkdtemp(join(tmpdir(), 'switchboard-env-config-'));
  await writeFile(
    join(cwd, 'switchboard.config.json'),
    JSON.stringify({
      pluginDirs: ['/nonexistent/${PLUGINS_DIR_NAME}'],
      mcpServers: {
        fixture: { url: 'http://127.0.0.1:${FIXTURE_PORT}/mcp', headers: { Authorization: 'Bearer ${FIXTURE_TOKEN}' } },
        // Nothing listens there: the proxy reports it unreachable, URL and all.
        hidden: { url: `http://127.0.0.1:${deadPort}/\${HIDDEN_PATH}/mcp` },
      },
    }),
  );
  const env = { FIXTURE_PORT: remotePort, FIXTURE_TOKEN: TOKEN, HIDDEN_PATH: PATH_TOKEN, PLUGINS_DIR_NAME: DIR_SECRET };
  const config = await loadConfig({ cwd, env });
  const proxy = await startProxy({ ...config, env, watch: false });
  const { client, close } = await connect(proxy.url);
  try {
    const seen = JSON.parse(textOf(await client.callTool({ name: 'fixture_headers' })));
    assert.equal(seen.authorization, `Bearer ${TOKEN}`, 'the backend got the header with the value from the environment');

    const failed = await client.callTool({ name: 'hidden_anything' }).then(
      () => assert.fail('a call to the unreachable plugin should fail'),
      (error: Error) => error.message,
    );
    const readyz = await (await fetch(proxy.url.replace('/mcp', '/readyz'))).text();
    assert.match(readyz, /cannot reach http:\/\/127\.0\.0\.1:\d+\/\*\*\*\/mcp/, '/readyz shows the URL with the substituted part hidden');

    const logged = logText(proxy.logs);
    assert.match(logged, /cannot reach http:\/\/127\.0\.0\.1:\d+\/\*\*\*\/mcp/, 'the failure is logged, its secret replaced');
    assert.match(logged, /plugin directory \/nonexistent\/\*\*\* does not exist/, 'a value substituted outside mcpServers is scrubbed too');
    for (const [where, text] of [['the log', logged], ['/readyz', readyz], ['the client error', failed]] as const) {
      for (const secret of [TOKEN, PATH_TOKEN, DIR_SECRET]) assert.ok(!text.includes(secret), `${secret} appears in ${where}:\n${text}`);
    }
  } finally {
    await close();
    await proxy.close();
  }
});

test('plugin.json and plugin.yaml: ${VAR:-default} in a remote URL and headers, a command\'s args and env; expanded again on reload; an unset variable names the folder, the file and the key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-env-plugins-'));
  const write = async (folder: string, file: string, text: string) => {
    await mkdir(join(dir, folder), { recursive: true });
    await writeFile(join(dir, folder, file), text);
  };
  await write('svc', 'plugin.json', JSON.stringify({ prefix: 'svc', remote: { url: `\${SVC_URL:-${remote.url}}`, headers: { 'X-Api-Token': '${SVC_TOKEN}' } } }));
  await write(
    'tool',
    'plugin.json',
    JSON.stringify({
      prefix: 'tool',
      command: { command: process.execPath, args: ['--import', 'tsx', '${FIXTURE_DIR}/stdio-server.ts'], cwd: ROOT, env: { FIXTURE_GREETING: '${GREETING:-hello from a default}' } },
    }),
  );
  await write('dead', 'plugin.yaml', `prefix: dead\nremote:\n  url: http://127.0.0.1:${deadPort}/\${HIDDEN_PATH}/mcp\n`);
  await write('needy', 'plugin.json', JSON.stringify({ prefix: 'needy', remote: { url: 'http://127.0.0.1:1/mcp', headers: { Authorization: 'Bearer ${SWITCHBOARD_TEST_NEVER_SET}' } } }));

  const env = { SVC_TOKEN: TOKEN, FIXTURE_DIR: FIXTURES.replace(/\/$/, ''), HIDDEN_PATH: PATH_TOKEN };
  const proxy = await startProxy({ pluginDirs: [dir], env, watch: true, watchDebounceMs: 100 });
  const { client, close } = await connect(proxy.url);
  try {
    const headers = async () => JSON.parse(textOf(await client.callTool({ name: 'svc_headers' })));
    assert.equal((await headers())['x-api-token'], TOKEN, 'the default URL was used, and the header came from the environment');
    assert.equal(textOf(await client.callTool({ name: 'tool_env', arguments: { name: 'FIXTURE_GREETING' } })), 'hello from a default');

    assert.deepEqual(
      proxy.switchboard.problems.map((p) => p.message),
      [
        `plugin folder ${join(dir, 'needy')}: plugin.json: key "remote.headers.Authorization": environment variable SWITCHBOARD_TEST_NEVER_SET is not set (use \${SWITCHBOARD_TEST_NEVER_SET:-default} for a default)`,
      ],
    );

    // A reload reads the manifest again, and expands it again.
    await write('svc', 'plugin.json', JSON.stringify({ prefix: 'svc', remote: { url: remote.url, headers: { 'X-Api-Token': '${SVC_TOKEN_V2:-second-version}', 'X-Again': '${SVC_TOKEN}' } } }));
    const reloaded = await until(async () => {
      const seen = await headers();
      return seen['x-api-token'] === 'second-version' ? seen : undefined;
    }, 'svc to be reloaded with its new headers');
    assert.equal(reloaded['x-again'], TOKEN);

    const logged = logText(proxy.logs);
    assert.match(logged, /cannot reach http:\/\/127\.0\.0\.1:\d+\/\*\*\*\/mcp/, 'the unreachable plugin is logged, its secret replaced');
    for (const secret of [TOKEN, PATH_TOKEN]) assert.ok(!logged.includes(secret), `${secret} appears in the log:\n${logged}`);
  } finally {
    await close();
    await proxy.close();
  }
});

test('a value from the environment that is of the wrong type is not quoted back in the manifest error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-env-wrong-'));
  await writeFile(join(dir, 'plugin.json'), JSON.stringify({ prefix: 'svc', timeoutMs: '${SVC_TIMEOUT}', remote: { url: 'http://127.0.0.1:1/mcp' } }));
  const folder = (await readFolder(dir, dir))!;
  await assert.rejects(loadManifest(folder, { env: { SVC_TIMEOUT: TOKEN } }), (error: Error) => {
    assert.match(error.message, /invalid manifest in plugin\.json: timeoutMs: must be number, not string "\*\*\*"/);
    return true;
  });
});

test('a variable the config file needs but the environment lacks stops start-up with exit code 1, naming the file and the key', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'switchboard-env-entry-'));
  await writeFile(join(cwd, 'switchboard.config.json'), JSON.stringify({ mcpServers: { github: { url: 'https://h/mcp', headers: { Authorization: 'Bearer ${SWITCHBOARD_TEST_NEVER_SET}' } } } }));
  const env = { ...process.env };
  delete env.SWITCHBOARD_TEST_NEVER_SET;
  await assert.rejects(run(process.execPath, [join(ROOT, 'bin/switchboard.js'), 'serve'], { cwd, env }), (error: { code: number; stderr: string }) => {
    assert.equal(error.code, 1);
    assert.equal(
      error.stderr,
      `switchboard: config file switchboard.config.json: key "mcpServers.github.headers.Authorization": environment variable SWITCHBOARD_TEST_NEVER_SET is not set (use \${SWITCHBOARD_TEST_NEVER_SET:-default} for a default)\n`,
    );
    return true;
  });
});

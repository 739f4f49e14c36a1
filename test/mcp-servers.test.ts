/**
 * mcpServers import: the server lists of Claude Desktop, Claude Code, Cursor and VS Code become
 * plugins, from the proxy's config file or from the client's own file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mcpServerEntries, prefixFromKey } from '../core/plugins/mcp-servers.ts';
import { loadConfig } from '../core/config/config.ts';
import { FIXTURES, ROOT, connect, startProcess, startProxy, startRemoteFixture, textOf } from './helpers.ts';

const origin = { file: '/home/ada/.cursor/mcp.json', display: '~/.cursor/mcp.json', dir: '/home/ada/.cursor' };

test('Claude Desktop / Cursor entries: command and url become command and remote plugins', () => {
  const [fs, gh] = mcpServerEntries(
    {
      filesystem: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/data'], env: { DEBUG: '1' } },
      github: { url: 'https://api.example.com/mcp', headers: { Authorization: 'Bearer t' } },
    },
    origin,
    {},
  );
  assert.deepEqual(fs!.manifest, {
    prefix: 'filesystem',
    name: 'filesystem',
    command: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/data'], env: { DEBUG: '1' } },
  });
  assert.equal(fs!.source.description, 'mcpServers entry "filesystem" in ~/.cursor/mcp.json');
  assert.deepEqual(gh!.manifest, {
    prefix: 'github',
    name: 'github',
    remote: { url: 'https://api.example.com/mcp', transport: 'auto', headers: { Authorization: 'Bearer t' } },
  });
});

test('VS Code and Claude Code entries: type stdio, http and sse', () => {
  const entries = mcpServerEntries(
    {
      local: { type: 'stdio', command: 'uvx', args: ['mcp-server-time'] },
      api: { type: 'http', url: 'https://h/mcp' },
      old: { type: 'sse', url: 'https://h/sse' },
      odd: { type: 'websocket', url: 'wss://h' },
    },
    origin,
    {},
  );
  assert.equal(entries[0]!.manifest!.command!.command, 'uvx');
  assert.equal(entries[1]!.manifest!.remote!.transport, 'streamable-http');
  assert.equal(entries[2]!.manifest!.remote!.transport, 'sse');
  assert.match(entries[3]!.error!.message, /mcpServers entry "odd" in ~\/\.cursor\/mcp\.json: unknown type "websocket" \(expected stdio, http or sse\)/);
});

test('keys become valid prefixes; fields other clients use are ignored with a note; disabled entries are skipped', () => {
  assert.equal(prefixFromKey('GitHub Server'), 'GitHub_Server');
  assert.equal(prefixFromKey('@scope/tool'), 'scope_tool');
  assert.equal(prefixFromKey('mcp.server.time'), 'mcp_server_time');
  assert.equal(prefixFromKey('***'), 'server');
  const [entry, disabled] = mcpServerEntries(
    { 'My Tools': { command: 'my-tools', alwaysAllow: ['x'], autoApprove: [] }, off: { command: 'x', disabled: true } },
    origin,
    {},
  );
  assert.equal(entry!.manifest!.prefix, 'My_Tools');
  assert.deepEqual(entry!.notes, ['ignored fields "alwaysAllow", "autoApprove"', 'the key "My Tools" is not a valid prefix; mounted as "My_Tools"']);
  assert.equal(disabled!.manifest, undefined);
  assert.equal(disabled!.error, undefined);
  assert.ok(disabled!.notes.includes('disabled; not mounted'));
});

test('${VAR}, ${env:VAR} and ${VAR:-default} in an imported entry come from the environment; an unset one fails that entry only, naming it and the key', () => {
  const [gh, fs, broken] = mcpServerEntries(
    {
      gh: { url: 'https://${HOST:-h}/mcp', headers: { Authorization: 'Bearer ${env:GITHUB_TOKEN}' }, alwaysAllow: ['${NOT_USED}'] },
      fs: { command: 'npx', args: ['-y', 'server-filesystem', '${env:HOME}/data'], env: { LEVEL: '${LEVEL:-info}' } },
      broken: { url: 'https://h/mcp', headers: { Authorization: 'Bearer ${MISSING_TOKEN}' } },
    },
    origin,
    { GITHUB_TOKEN: 'ghp-123456', HOME: '/home/ada' },
  );
  assert.deepEqual(gh!.manifest!.remote, { url: 'https://h/mcp', transport: 'auto', headers: { Authorization: 'Bearer ghp-123456' } });
  assert.deepEqual(gh!.substituted, ['ghp-123456'], 'what came from the environment, for the plugin to scrub');
  assert.deepEqual(fs!.manifest!.command, { command: 'npx', args: ['-y', 'server-filesystem', '/home/ada/data'], env: { LEVEL: 'info' } });
  assert.equal(
    broken!.error!.message,
    'mcpServers entry "broken" in ~/.cursor/mcp.json: key "headers.Authorization": environment variable MISSING_TOKEN is not set (use ${MISSING_TOKEN:-default} for a default)',
  );
});

test('entries expanded already (the proxy\'s own config file) are not expanded again: $${ stays a literal ${', () => {
  const [entry] = mcpServerEntries({ svc: { command: 'tool', args: ['${NOT_A_VARIABLE}'] } }, origin, {}, [
    { path: ['svc', 'env', 'TOKEN'], name: 'TOKEN', value: 'tok-123456' },
    { path: ['other', 'url'], name: 'HOST', value: 'elsewhere.example' },
  ]);
  assert.deepEqual(entry!.manifest!.command!.args, ['${NOT_A_VARIABLE}']);
  assert.deepEqual(entry!.substituted, ['tok-123456'], "only the entry's own substitutions");
});

test('a value from the environment in the wrong place is not quoted back in the entry\'s error', () => {
  const [entry] = mcpServerEntries({ svc: { command: 'tool', args: '${ARGS}' } }, origin, { ARGS: 'secret-args-123456' });
  assert.match(entry!.error!.message, /mcpServers entry "svc" .*: command\.args: must be array, not string "\*\*\*"/);
});

test('an entry with neither command nor url, or a bad field, is an error naming the entry and the field', () => {
  const [none, bad] = mcpServerEntries({ none: { args: ['x'] }, bad: { command: 'x', args: 'not-a-list' } }, origin, {});
  assert.match(none!.error!.message, /mcpServers entry "none" .*: needs "command" \(a stdio server\) or "url" \(a remote server\)/);
  assert.match(bad!.error!.message, /mcpServers entry "bad" .*: command\.args: must be array/);
});

test("a config file's mcpServers (a command entry and a url entry) are mounted and work; a broken entry is reported, the rest served", async () => {
  const remote = await startRemoteFixture();
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-mcpservers-'));
  await writeFile(
    join(dir, 'switchboard.config.json'),
    JSON.stringify({
      pluginDirs: [],
      mcpServers: {
        stdio: { command: process.execPath, args: ['--import', 'tsx', join(FIXTURES, 'stdio-server.ts')], cwd: ROOT, env: { FIXTURE_GREETING: '${GREETING}' } },
        'remote-fixture': { url: remote.url },
        broken: { type: 'stdio' },
      },
    }),
  );
  const config = await loadConfig({ cwd: dir, env: { GREETING: 'expanded' } });
  const proxy = await startProxy({ pluginDirs: config.pluginDirs, mcpServers: config.mcpServers, env: { GREETING: 'expanded' } });
  try {
    assert.deepEqual(proxy.switchboard.problems.map((p) => p.message), [
      'mcpServers entry "broken" in switchboard.config.json: command: is required',
    ]);
    const { client, close } = await connect(proxy.url);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes('stdio_pid') && names.includes('remote-fixture_shout'), names.join(', '));
      assert.equal(textOf(await client.callTool({ name: 'remote-fixture_shout', arguments: { text: 'hi' } })), 'HI');
      assert.equal(textOf(await client.callTool({ name: 'stdio_env', arguments: { name: 'FIXTURE_GREETING' } })), 'expanded');
    } finally {
      await close();
    }
  } finally {
    await proxy.close();
    await remote.stop();
  }
});

test('--mcp-servers points the proxy at the config a client already has (VS Code mcp.json, comments and all)', async () => {
  const remote = await startRemoteFixture();
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-vscode-'));
  await writeFile(
    join(dir, 'mcp.json'),
    `{
  // VS Code's format: "servers", a type per server, comments and trailing commas
  "inputs": [],
  "servers": {
    "fixture": { "type": "http", "url": ${JSON.stringify(remote.url)}, },
    "stdio": { "type": "stdio", "command": ${JSON.stringify(process.execPath)}, "args": ["--import", "tsx", ${JSON.stringify(join(FIXTURES, 'stdio-server.ts'))}], "cwd": ${JSON.stringify(ROOT)} },
  },
}
`,
  );
  const proxy = await startProcess(process.execPath, [join(ROOT, 'bin/switchboard.js'), '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', '--mcp-servers', join(dir, 'mcp.json')], {
    ready: /serving \d+ plugin\(s\) at (http:\/\/[^\s"]+)/,
  });
  try {
    const { client, close } = await connect(proxy.url);
    try {
      assert.equal(textOf(await client.callTool({ name: 'fixture_shout', arguments: { text: 'vs code' } })), 'VS CODE');
      assert.match(textOf(await client.callTool({ name: 'stdio_pid' })), /^\d+$/);
      assert.equal(textOf(await client.callTool({ name: 'example_hello_world' })), 'Hello from the example MCP server!');
      const { plugins } = (await (await fetch(new URL('/readyz', proxy.url))).json()) as { plugins: Array<{ source: string }> };
      const sources = plugins.map((plugin) => plugin.source);
      assert.ok(sources.includes(`${join(dir, 'mcp.json')}#servers.fixture`), `an entry is named by the key it is under in the file ("servers"): ${sources.join(', ')}`);
    } finally {
      await close();
    }
  } finally {
    await proxy.stop();
    await remote.stop();
  }
});

test('an mcpServers file that cannot be used is an error naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-badimport-'));
  await writeFile(join(dir, 'claude.json'), JSON.stringify({ globalShortcut: 'x' }));
  await assert.rejects(loadConfig({ cwd: dir, env: {}, flags: { mcpServers: ['claude.json'] } }), /mcpServers file claude\.json: has no "mcpServers" \(or "servers"\) object/);
  await writeFile(join(dir, 'broken.json'), '{ "mcpServers": ');
  await assert.rejects(loadConfig({ cwd: dir, env: {}, flags: { mcpServers: ['broken.json'] } }), /mcpServers file broken\.json: not valid JSON/);
  await assert.rejects(loadConfig({ cwd: dir, env: {}, flags: { mcpServers: ['missing.json'] } }), /mcpServers file missing\.json: cannot be read/);
});

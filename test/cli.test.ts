/**
 * The `switchboard` CLI: list and call, as `fastmcp list` / `fastmcp call` did, run as real processes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURES, ROOT, freePort, startProxy, type RunningProxy } from './helpers.ts';
import { buildArguments } from '../core/cli/arguments.ts';

const run = promisify(execFile);
let proxy: RunningProxy;

before(async () => {
  proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins'), join(FIXTURES, 'plugins')] });
});
after(() => proxy.close());

/** Runs the installed `switchboard` bin; resolves with exit code and output, never rejects. */
async function switchboard(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin/switchboard.js'), ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const addTool = {
  name: 'add',
  inputSchema: {
    type: 'object' as const,
    properties: {
      a: { type: 'number' },
      n: { type: 'integer' },
      flag: { type: 'boolean' },
      tags: { type: 'array' },
      opts: { type: 'object' },
      label: { type: 'string' },
      any: {},
    },
  },
};

test('key=value arguments are typed by the tool schema', () => {
  assert.deepEqual(buildArguments(addTool, ['a=1.5', 'n=3', 'flag=true', 'tags=["x","y"]', 'opts={"k":1}', 'label=007', 'any=12']), {
    a: 1.5,
    n: 3,
    flag: true,
    tags: ['x', 'y'],
    opts: { k: 1 },
    label: '007',
    any: 12,
  });
  assert.deepEqual(buildArguments(addTool, ['label=a=b']), { label: 'a=b' }, 'only the first = splits');
  assert.deepEqual(buildArguments(addTool, ['a=2'], '{"a":1,"label":"x"}'), { a: 2, label: 'x' }, 'pairs override --args');
});

test('argument mistakes are usage errors that say what is wrong', () => {
  assert.throws(() => buildArguments(addTool, ['a=lots']), /argument a must be a number, got "lots"/);
  assert.throws(() => buildArguments(addTool, ['n=1.5']), /argument n must be an integer/);
  assert.throws(() => buildArguments(addTool, ['flag=maybe']), /argument flag must be true or false/);
  assert.throws(() => buildArguments(addTool, ['nope=1']), /tool "add" has no argument "nope" \(it takes: a, n, flag, tags, opts, label, any\)/);
  assert.throws(() => buildArguments(addTool, ['justtext']), /argument "justtext" is not key=value/);
  assert.throws(() => buildArguments(addTool, [], '{bad'), /--args is not valid JSON/);
  assert.throws(() => buildArguments(addTool, [], '[1]'), /--args must be a JSON object/);
});

test('switchboard list shows tools with their arguments and descriptions, prompts and resources', async () => {
  const { code, stdout } = await switchboard('list', proxy.url);
  assert.equal(code, 0);
  assert.match(stdout, /^Tools \(\d+\)$/m);
  assert.match(stdout, /^  example_hello_world  Says hello from the example MCP server\.$/m);
  assert.match(stdout, /^  fx_echo  Echoes\n      message: string \(required\)$/m);
  assert.match(stdout, /^  fx_greet\(name\)  Greets$/m);
  assert.match(stdout, /^  fixture:\/\/fx\/info  info  \(text\/plain\)$/m);
  assert.match(stdout, /^  fixture:\/\/fx\/items\/\{id\}  item$/m);
});

test('switchboard list --json prints machine-readable lists', async () => {
  const { code, stdout } = await switchboard('list', proxy.url, '--json');
  assert.equal(code, 0);
  const lists = JSON.parse(stdout);
  assert.ok(lists.tools.some((t: { name: string }) => t.name === 'example_hello_world'));
  assert.ok(Array.isArray(lists.prompts) && Array.isArray(lists.resources) && Array.isArray(lists.resourceTemplates));
});

test('switchboard call prints the result; --json prints the whole result', async () => {
  const plain = await switchboard('call', proxy.url, 'example_hello_world');
  assert.equal(plain.code, 0);
  assert.equal(plain.stdout, 'Hello from the example MCP server!\n');
  const json = await switchboard('call', proxy.url, 'example_hello_world', '--json');
  assert.equal(json.code, 0);
  assert.deepEqual(JSON.parse(json.stdout), { content: [{ type: 'text', text: 'Hello from the example MCP server!' }] });
  const typed = await switchboard('call', proxy.url, 'fx_add', 'a=2', 'b=40');
  assert.equal(typed.stdout, '42\n');
  const viaArgs = await switchboard('call', proxy.url, 'fx_echo', '--args', '{"message":"from json"}');
  assert.equal(viaArgs.stdout, 'echo: from json\n');
});

test('a tool error exits 1 with the error text on stderr', async () => {
  const { code, stdout, stderr } = await switchboard('call', proxy.url, 'fx_fail');
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.equal(stderr, 'it broke\n');
});

test('mistakes exit 2 with a hint; an unreachable server exits 1 naming it', async () => {
  const unknown = await switchboard('call', proxy.url, 'example_hello');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no tool named "example_hello" \(did you mean "example_hello_world"\?\)/);
  const noUrl = await switchboard('call');
  assert.equal(noUrl.code, 2);
  assert.match(noUrl.stderr, /usage:/);
  const port = await freePort();
  const down = await switchboard('list', `http://127.0.0.1:${port}/mcp`);
  assert.equal(down.code, 1);
  assert.match(down.stderr, new RegExp(`cannot connect to http://127\\.0\\.0\\.1:${port}/mcp: fetch failed \\(ECONNREFUSED\\)`));
});

test('the npm script form works in a checkout', async () => {
  const { stdout } = await run('npm', ['run', '-s', 'switchboard', '--', 'call', proxy.url, 'example_hello_world'], { cwd: ROOT });
  assert.equal(stdout, 'Hello from the example MCP server!\n');
});

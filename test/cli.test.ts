/**
 * The `switchboard` client commands (plugins, list, call, get, read), `--help` and usage
 * mistakes, run as a user runs them: the package installed with npm, its bin as a separate
 * process, against a real proxy on port 0.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, ROOT, freePort, startProxy, type RunningProxy } from './helpers.ts';
import { defaultUrl } from '../core/cli/client.ts';
import { cleanEnv, installCli, type InstalledCli } from './cli-install.ts';
import { buildArguments, buildPromptArguments } from '../core/cli/arguments.ts';

const TOKEN = 'cli-test-token-0123456789abcdef';
const ANSI = /\x1b\[/;
let cli: InstalledCli;
let proxy: RunningProxy;
/** The same plugins behind a bearer token, for --header and --token. */
let guarded: RunningProxy;

before(async () => {
  [cli, proxy, guarded] = await Promise.all([
    installCli(),
    startProxy({ pluginDirs: [join(ROOT, 'plugins'), join(FIXTURES, 'plugins')] }),
    startProxy({ pluginDirs: [join(ROOT, 'plugins'), join(FIXTURES, 'plugins')], auth: { tokens: [{ token: TOKEN, name: 'cli' }] } }),
  ]);
});
after(async () => {
  await Promise.all([proxy?.close(), guarded?.close(), cli?.remove()]);
});

const switchboard = (...args: string[]) => cli.run(args);

test('the installed package carries what runs (core, the status page, the example plugin), not the tests or the bench', async () => {
  const { existsSync } = await import('node:fs');
  const installed = join(cli.prefix, 'node_modules', 'mcp-switchboard');
  for (const file of ['core/main.ts', 'core/status/page.html', 'plugins/example/index.ts', 'bin/switchboard.js', 'tsconfig.json']) {
    assert.ok(existsSync(join(installed, file)), `npm install of the package gives ${file}`);
  }
  for (const folder of ['test', 'bench', 'deploy', '.ci']) {
    assert.ok(!existsSync(join(installed, folder)), `npm install of the package does not ship ${folder}/ (package.json "files")`);
  }
});

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

test('prompt arguments are strings, checked against the ones the prompt declares', () => {
  const prompt = { name: 'greet', arguments: [{ name: 'name', required: true }, { name: 'tone' }] };
  assert.deepEqual(buildPromptArguments(prompt, ['name=Ada', 'tone=warm']), { name: 'Ada', tone: 'warm' });
  assert.deepEqual(buildPromptArguments(prompt, ['tone=dry'], '{"name":"Bo"}'), { name: 'Bo', tone: 'dry' });
  assert.throws(() => buildPromptArguments(prompt, ['tone=dry']), /prompt "greet" needs name=\.\.\./);
  assert.throws(() => buildPromptArguments(prompt, ['name=a', 'colour=red']), /prompt "greet" has no argument "colour" \(it takes: name, tone\)/);
  assert.throws(() => buildPromptArguments(prompt, [], '{"name":1}'), /prompt arguments are strings; "name" is 1/);
});

test('switchboard list shows tools with their arguments and descriptions, prompts and resources', async () => {
  const { code, stdout, stderr } = await switchboard('list', proxy.url);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^Tools \(\d+\)$/m);
  assert.match(stdout, /^  example_hello_world  Says hello from the example MCP server\.$/m);
  assert.match(stdout, /^  fx_echo  Echoes\n      message: string \(required\)$/m);
  assert.match(stdout, /^  fx_greet\(name\)  Greets$/m);
  assert.match(stdout, /^  fixture:\/\/fx\/info  info  \(text\/plain\)$/m);
  assert.match(stdout, /^  fixture:\/\/fx\/items\/\{id\}  item$/m);
  assert.doesNotMatch(stdout, ANSI, 'piped output has no colour codes');
});

test('switchboard list --json prints machine-readable lists', async () => {
  const { code, stdout } = await switchboard('list', proxy.url, '--json');
  assert.equal(code, 0);
  const lists = JSON.parse(stdout);
  assert.ok(lists.tools.some((t: { name: string }) => t.name === 'example_hello_world'));
  assert.ok(lists.prompts.some((p: { name: string }) => p.name === 'fx_greet'));
  assert.ok(Array.isArray(lists.resources) && Array.isArray(lists.resourceTemplates));
});

test('switchboard call prints the result; --json prints the whole result', async () => {
  const plain = await switchboard('call', proxy.url, 'example_hello_world');
  assert.equal(plain.code, 0, plain.stderr);
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

test('switchboard get prints a prompt\'s messages under their roles; --json the whole result', async () => {
  const plain = await switchboard('get', proxy.url, 'fx_greet', 'name=Ada');
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, '[user]\nHello, Ada!\n');
  const json = await switchboard('get', proxy.url, 'fx_greet', '--args', '{"name":"Bo"}', '--json');
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout).messages, [{ role: 'user', content: { type: 'text', text: 'Hello, Bo!' } }]);
  const missing = await switchboard('get', proxy.url, 'fx_greet');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /switchboard get: prompt "fx_greet" needs name=\.\.\./);
  const unknown = await switchboard('get', proxy.url, 'greet');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no prompt named "greet" \(did you mean "fx_greet"\?\)/);
});

test('switchboard read prints a resource\'s text; --json the whole result; an unknown URI exits 1', async () => {
  const plain = await switchboard('read', proxy.url, 'fixture://fx/info');
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, 'fixture info\n');
  const templated = await switchboard('read', proxy.url, 'fixture://fx/items/7', '--json');
  assert.equal(templated.code, 0, templated.stderr);
  assert.deepEqual(JSON.parse(templated.stdout), { contents: [{ uri: 'fixture://fx/items/7', text: 'item 7' }] });
  const unknown = await switchboard('read', proxy.url, 'fixture://fx/nothing-here');
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stdout, '');
  // The URI the client asked for, not the backend's own (fixture://nothing-here).
  assert.match(unknown.stderr, /^switchboard read: error -?\d+: Resource fixture:\/\/fx\/nothing-here not found$/m);
});

test('every client command sends --header (and --token); without them a guarded proxy refuses, exit 1', async () => {
  const header = ['--header', `Authorization: Bearer ${TOKEN}`];
  const commands: Array<[string, string[], RegExp]> = [
    ['plugins', [guarded.url], /^example\s+in-process\s+ready/m],
    ['list', [guarded.url], /^  example_hello_world/m],
    ['call', [guarded.url, 'example_hello_world'], /^Hello from the example MCP server!$/m],
    ['get', [guarded.url, 'fx_greet', 'name=Ada'], /^Hello, Ada!$/m],
    ['read', [guarded.url, 'fixture://fx/info'], /^fixture info$/m],
  ];
  for (const [command, args, expected] of commands) {
    const refused = await switchboard(command, ...args);
    assert.equal(refused.code, 1, `${command} without a token should fail`);
    assert.match(refused.stderr, /pass --token or set SWITCHBOARD_TOKEN/, `${command} says how to get in`);
    const withHeader = await switchboard(command, ...args, ...header);
    assert.equal(withHeader.code, 0, `${command} --header: ${withHeader.stderr}`);
    assert.match(withHeader.stdout, expected, `${command} --header`);
  }
  const viaToken = await switchboard('call', guarded.url, 'example_hello_world', '--token', TOKEN, '--json');
  assert.equal(viaToken.code, 0, `--token: ${viaToken.stderr}`);
  assert.equal(JSON.parse(viaToken.stdout).content[0].text, 'Hello from the example MCP server!');
  const viaEnv = await cli.run(['plugins', guarded.url, '--json'], { env: { SWITCHBOARD_TOKEN: TOKEN } });
  assert.equal(viaEnv.code, 0, `SWITCHBOARD_TOKEN: ${viaEnv.stderr}`);
  assert.equal(JSON.parse(viaEnv.stdout).ready, true);
  // No URL: where a `switchboard serve` with the same environment listens (SWITCHBOARD_PORT), as the user set it for both.
  const samePort = await cli.run(['plugins', '--json'], { env: { SWITCHBOARD_TOKEN: TOKEN, SWITCHBOARD_PORT: new URL(guarded.url).port } });
  assert.equal(samePort.code, 0, `plugins with SWITCHBOARD_PORT and no URL: ${samePort.stderr}`);
  assert.equal(JSON.parse(samePort.stdout).ready, true);
  const badHeader = await switchboard('list', guarded.url, '--header', 'no colon here');
  assert.equal(badHeader.code, 2);
  assert.match(badHeader.stderr, /--header must be "Name: value", got "no colon here"/);
});

test('colours on request (FORCE_COLOR), never when piped or with NO_COLOR', async () => {
  for (const [command, args] of [
    ['plugins', [proxy.url]],
    ['list', [proxy.url]],
  ] as const) {
    const plain = await cli.run([command, ...args]);
    assert.doesNotMatch(plain.stdout, ANSI, `${command} piped is plain`);
    const forced = await cli.run([command, ...args], { env: { FORCE_COLOR: '1' } });
    assert.match(forced.stdout, ANSI, `${command} with FORCE_COLOR=1 is coloured`);
    assert.equal(forced.stdout.replace(/\x1b\[[0-9;]*m/g, ''), plain.stdout, `${command}: colours change nothing else (columns stay aligned)`);
    const off = await cli.run([command, ...args], { env: { NO_COLOR: '1' } });
    assert.doesNotMatch(off.stdout, ANSI, `${command} with NO_COLOR is plain`);
  }
});

test('colours on a terminal: the same command under a pseudo-terminal (script) is coloured', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const bin = join(cli.prefix, 'node_modules', '.bin', 'switchboard');
  // script(1) from util-linux runs the command with a pseudo-terminal as its stdout. The
  // terminal's TERM is set here: CI runners often have none, and then nothing is coloured.
  const onTerminal = async (term: string | undefined) => {
    const env = cleanEnv();
    delete env.TERM;
    if (term !== undefined) env.TERM = term;
    return (await promisify(execFile)('script', ['-qec', `${bin} list ${proxy.url}`, '/dev/null'], { cwd: cli.prefix, env })).stdout;
  };
  const coloured = await onTerminal('xterm-256color');
  assert.match(coloured, ANSI, 'list on a terminal (TERM=xterm-256color) is coloured');
  assert.match(coloured.replace(/\x1b\[[0-9;]*m/g, ''), /^  example_hello_world  Says hello/m);
  for (const term of ['dumb', undefined]) {
    const plain = await onTerminal(term);
    assert.doesNotMatch(plain, ANSI, `list on a terminal with ${term === undefined ? 'no TERM' : `TERM=${term}`} is plain`);
    assert.match(plain, /^  example_hello_world  Says hello/m);
  }
});

test('switchboard plugins prints a table, and --json the proxy\'s /readyz', async () => {
  const table = await switchboard('plugins', proxy.url);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^PREFIX\s+KIND\s+STATE\s+TOOLS\s+PROMPTS\s+RESOURCES\s+TEMPLATES\s+PROCESSES\s+SOURCE$/m);
  assert.match(table.stdout, /^fx\s+in-process\s+ready\s+\d+\s+1\s+2\s+1\s+-\s+\S*test\/fixtures\/plugins\/fixture$/m);
  assert.match(table.stdout, /^ready$/m);
  const json = JSON.parse((await switchboard('plugins', proxy.url, '--json')).stdout);
  assert.equal(json.ready, true);
  assert.ok(json.plugins.some((p: { prefix: string }) => p.prefix === 'example'));
});

test('--help on every command, and switchboard --help lists them all', async () => {
  const top = await switchboard('--help');
  assert.equal(top.code, 0);
  for (const command of ['plugins', 'list', 'call', 'get', 'read', 'check', 'new plugin']) {
    assert.match(top.stdout, new RegExp(`^  switchboard ${command} `, 'm'), `switchboard --help lists ${command}`);
  }
  for (const command of ['serve', 'plugins', 'list', 'call', 'get', 'read', 'check', 'new']) {
    const flag = command === 'get' ? '-h' : '--help';
    const help = await switchboard(command, flag);
    assert.equal(help.code, 0, `${command} ${flag}: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`^usage: switchboard (\\[serve\\]|${command})`), `${command} ${flag} starts with its usage`);
    assert.match(help.stdout, /-h, --help/, `${command} ${flag} lists its options`);
  }
});

test('the default URL of plugins follows the port serve would take from the environment', () => {
  assert.equal(defaultUrl({}), 'http://localhost:8490/mcp');
  assert.equal(defaultUrl({ SWITCHBOARD_PORT: ' 18495 ' }), 'http://localhost:18495/mcp', 'trimmed, as serve trims it');
  assert.equal(defaultUrl({ PORT: '18494' }), 'http://localhost:18494/mcp');
  assert.equal(defaultUrl({ SWITCHBOARD_PORT: '', PORT: '18494' }), 'http://localhost:8490/mcp', 'an empty SWITCHBOARD_PORT leaves serve on its default, PORT unread');
  assert.throws(() => defaultUrl({ SWITCHBOARD_PORT: '70000' }), /SWITCHBOARD_PORT="70000" is not a port \(1-65535\); give the URL/);
  assert.throws(() => defaultUrl({ PORT: 'eighty' }), /PORT="eighty" is not a port/);
});

test('an unknown flag or command is a usage error (exit 2) naming it', async () => {
  for (const command of ['serve', 'plugins', 'list', 'call', 'get', 'read', 'check', 'new']) {
    const { code, stderr } = await switchboard(command, '--frobnicate');
    assert.equal(code, 2, `${command} --frobnicate exits 2: ${stderr}`);
    assert.match(stderr, /Unknown option '--frobnicate'/, `${command} names the flag`);
    assert.match(stderr, new RegExp(`\\(switchboard ${command} --help says more\\)`));
  }
  const unknown = await switchboard('frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /switchboard: unknown command "frobnicate"/);
  for (const [args, line] of [
    [['serve', '--prot', '1'], "switchboard serve: Unknown option '--prot' (did you mean --port?)"],
    [['list', '--jsn', 'http://localhost:1/mcp'], "switchboard list: Unknown option '--jsn' (did you mean --json?)"],
    [['list', '--hlep'], "switchboard list: Unknown option '--hlep' (did you mean --help?)"],
    [['serve', '--log', 'x'], "switchboard serve: Unknown option '--log'"],
  ] as const) {
    const typo = await switchboard(...args);
    assert.equal(typo.code, 2, `${args.join(' ')}: ${typo.stderr}`);
    assert.equal(typo.stderr.split('\n')[0], line, 'a mistyped flag gets the nearest one as a hint');
  }
});

test('mistakes exit 2 with a hint; an unreachable server exits 1 naming it', async () => {
  const unknown = await switchboard('call', proxy.url, 'example_hello');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no tool named "example_hello" \(did you mean "example_hello_world"\?\)/);
  const noUrl = await switchboard('call');
  assert.equal(noUrl.code, 2);
  assert.match(noUrl.stderr, /switchboard call: missing URL/);
  assert.match(noUrl.stderr, /^usage: switchboard call URL TOOL/m);
  const notUrl = await switchboard('read', 'localhost:8490', 'x://y');
  assert.equal(notUrl.code, 2);
  assert.match(notUrl.stderr, /"localhost:8490" is not an http\(s\) URL/);
  const port = await freePort();
  const down = await switchboard('list', `http://127.0.0.1:${port}/mcp`);
  assert.equal(down.code, 1);
  assert.match(down.stderr, new RegExp(`cannot connect to http://127\\.0\\.0\\.1:${port}/mcp: fetch failed \\(ECONNREFUSED\\)`));
});

test('the npm script form works in a checkout', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { stdout } = await promisify(execFile)('npm', ['run', '-s', 'switchboard', '--', 'call', proxy.url, 'example_hello_world'], { cwd: ROOT });
  assert.equal(stdout, 'Hello from the example MCP server!\n');
});

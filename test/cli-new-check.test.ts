/**
 * `switchboard new plugin` and `switchboard check`, run as a user runs them (the package
 * installed with npm, its bin as a separate process): a scaffold passes `check`, its own test
 * passes, and a proxy started on it lists and calls its tool; `check` reports what the proxy
 * would, in the proxy's words, and exits 1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURES, ROOT, startProxy, type RunningProxy } from './helpers.ts';
import { cleanEnv, installCli, type InstalledCli } from './cli-install.ts';

const exec = promisify(execFile);
let cli: InstalledCli;
/** A proxy for the scaffolded remote plugin to point at. */
let upstream: RunningProxy;

before(async () => {
  [cli, upstream] = await Promise.all([installCli(), startProxy({ pluginDirs: [join(ROOT, 'plugins')] })]);
});
after(async () => {
  await Promise.all([upstream?.close(), cli?.remove()]);
});

test('new plugin makes an in-process, a remote and a command plugin that pass check and mount', async () => {
  const made = await cli.run(['new', 'plugin', 'weather']);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /^created plugins\/weather\/ \(in-process plugin, prefix "weather"\)$/m);
  assert.deepEqual((await readdir(join(cli.prefix, 'plugins', 'weather'))).sort(), ['index.test.ts', 'index.ts', 'package.json']);
  const remote = await cli.run(['new', 'plugin', 'upstream', '--remote', upstream.url]);
  assert.equal(remote.code, 0, remote.stderr);
  const stdio = await cli.run(['new', 'plugin', 'stdio', '--command', `${process.execPath} ${join(FIXTURES, 'stdio-plain.mjs')}`]);
  assert.equal(stdio.code, 0, stdio.stderr);
  assert.deepEqual(JSON.parse(await readFile(join(cli.prefix, 'plugins', 'stdio', 'plugin.json'), 'utf8')).command, {
    command: process.execPath,
    args: [join(FIXTURES, 'stdio-plain.mjs')],
  });

  const checked = await cli.run(['check']);
  assert.equal(checked.code, 0, `check of the scaffolds: ${checked.stdout}${checked.stderr}`);
  assert.match(checked.stdout, /^ok\s+plugins\/weather: in-process, prefix "weather"$/m);
  assert.match(checked.stdout, /^ok\s+plugins\/upstream: remote, prefix "upstream"$/m);
  assert.match(checked.stdout, /^ok\s+plugins\/stdio: command, prefix "stdio"$/m);
  assert.match(checked.stdout, /^3 plugins checked, no problems$/m);

  const proxy = await cli.serve([]);
  try {
    const listed = await cli.run(['list', proxy.url]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^  weather_hello  Says hello to someone\.\n      name: string \(required\)  Who to greet$/m);
    assert.match(listed.stdout, /^  upstream_example_hello_world  /m);
    assert.match(listed.stdout, /^  stdio_pid  /m);
    const hello = await cli.run(['call', proxy.url, 'weather_hello', 'name=Ada']);
    assert.equal(hello.stdout, 'Hello, Ada!\n', hello.stderr);
    const through = await cli.run(['call', proxy.url, 'upstream_example_hello_world']);
    assert.equal(through.stdout, 'Hello from the example MCP server!\n', through.stderr);
    const pid = await cli.run(['call', proxy.url, 'stdio_pid']);
    assert.match(pid.stdout, /^\d+\n$/, pid.stderr);
  } finally {
    await proxy.stop();
  }
});

test('the scaffolded test passes, and fails when the tool breaks', async () => {
  const made = await cli.run(['new', 'plugin', 'sample', '--dir', 'more']);
  assert.equal(made.code, 0, made.stderr);
  const folder = join(cli.prefix, 'more', 'sample');
  const run = () =>
    exec(process.execPath, ['--import', 'tsx', '--test', 'index.test.ts'], { cwd: folder, env: cleanEnv() }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
  const passing = await run();
  assert.equal(passing.code, 0, `the scaffolded test fails:\n${passing.stdout}`);
  assert.match(passing.stdout, /^# pass 1$/m);
  const index = join(folder, 'index.ts');
  await writeFile(index, (await readFile(index, 'utf8')).replace('Hello, ', 'Goodbye, '));
  const failing = await run();
  assert.equal(failing.code, 1, 'a broken tool fails the scaffolded test');
  assert.match(failing.stdout, /^# fail 1$/m);
});

test('in a checkout, a scaffold\'s test passes as printed (from the checkout) and with npm test in its folder', async () => {
  // Inside the checkout, where `npm run switchboard -- new plugin` puts it; .tmp is ignored by git.
  await mkdir(join(ROOT, '.tmp'), { recursive: true });
  const dir = await mkdtemp(join(ROOT, '.tmp', 'scaffold-'));
  try {
    // As the README says to in a checkout: through the npm script.
    const made = await exec('npm', ['run', 'switchboard', '--silent', '--', 'new', 'plugin', 'notes', '--dir', dir], { cwd: ROOT, env: cleanEnv() });
    assert.match(made.stdout, /^ {2}npm run switchboard -- check \S+notes$/m, `the next steps are not in the form that works in a checkout:\n${made.stdout}`);
    const printed = made.stdout.match(/^ {2}(node --import tsx --test \S+)$/m)?.[1];
    assert.ok(printed, `new plugin printed no test command:\n${made.stdout}`);
    const fromCheckout = await exec(process.execPath, printed.split(' ').slice(1), { cwd: ROOT, env: cleanEnv() }).catch((error: { stdout: string; stderr: string }) => error);
    assert.match(fromCheckout.stdout, /^# pass 1$/m, `"${printed}" in the checkout fails:\n${fromCheckout.stdout}${fromCheckout.stderr}`);
    const npmTest = await exec('npm', ['test', '--silent'], { cwd: join(dir, 'notes'), env: cleanEnv() }).catch((error: { stdout: string; stderr: string }) => error);
    assert.match(npmTest.stdout, /^# pass 1$/m, `npm test in the scaffold's folder fails:\n${npmTest.stdout}${npmTest.stderr}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('new plugin refuses to overwrite a folder, a bad NAME and bad flags', async () => {
  const first = await cli.run(['new', 'plugin', 'keep']);
  assert.equal(first.code, 0, first.stderr);
  const index = join(cli.prefix, 'plugins', 'keep', 'index.ts');
  await writeFile(index, '// my work\n');
  const again = await cli.run(['new', 'plugin', 'keep', '--remote', 'https://example.com/mcp']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /switchboard new: plugins\/keep already exists; nothing written/);
  assert.equal(await readFile(index, 'utf8'), '// my work\n', 'the existing folder is untouched');

  const mistakes: Array<[string[], RegExp]> = [
    [['new', 'plugin', 'no good'], /NAME "no good" is not a valid prefix: 1-32 letters, digits/],
    [['new', 'plugin', '_hidden'], /NAME "_hidden" is not a valid prefix/],
    [['new', 'plugin', 'a'.repeat(33)], /is not a valid prefix/],
    [['new', 'plugin'], /missing NAME/],
    [['new', 'server', 'x'], /cannot make a "server"; `new plugin NAME` makes a plugin/],
    [['new', 'plugin', 'x', '--remote', 'ftp://example.com'], /--remote: remote\.url: must be an http:\/\/ or https:\/\/ URL/],
    [['new', 'plugin', 'x', '--remote', 'https://example.com/mcp', '--command', 'node x.js'], /--remote and --command: give one of the two/],
    [['new', 'plugin', 'x', '--command', 'server | tee log'], /--command "server \| tee log": only a program and its arguments/],
    [['new', 'plugin', 'x', '--command', ''], /--command is empty/],
  ];
  for (const [args, message] of mistakes) {
    const result = await cli.run(args);
    assert.equal(result.code, 2, `${args.join(' ')} exits 2`);
    assert.match(result.stderr, message, args.join(' '));
  }
  assert.deepEqual((await readdir(join(cli.prefix, 'plugins'))).includes('x'), false, 'nothing written on a mistake');
});

test('check reports every broken folder exactly as the proxy does, exit 1', async () => {
  const broken = join(FIXTURES, 'broken');
  const proxy = await startProxy({ pluginDirs: [broken] });
  const served = new Map(proxy.switchboard.statuses().map((s) => [s.source, s.error]));
  await proxy.close();

  const json = await cli.run(['check', 'test/fixtures/broken', '--json'], { cwd: ROOT });
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout) as { ok: boolean; plugins: Array<{ source: string; problem?: { code: string; message: string; culprit: string } }> };
  assert.equal(report.ok, false);
  assert.deepEqual(report.plugins.map((p) => p.source), [...served.keys()], 'the same folders, in the same order');
  for (const plugin of report.plugins) {
    assert.equal(plugin.problem?.message, served.get(plugin.source), `${plugin.source}: check says what the proxy says`);
    if (plugin.problem) assert.equal(plugin.problem.culprit, plugin.source, `${plugin.source}: the culprit is the folder`);
  }
  assert.ok(report.plugins.some((p) => p.problem?.code === 'SB_PLUGIN_DUPLICATE_PREFIX'));
  assert.ok(report.plugins.some((p) => p.problem?.code === 'SB_PLUGIN_FACTORY'));

  const plain = await cli.run(['check', 'test/fixtures/broken/z-dup', 'test/fixtures/broken/ok', 'test/fixtures/broken/d-unknown-key'], { cwd: ROOT });
  assert.equal(plain.code, 1);
  assert.equal(
    plain.stdout,
    [
      'ok       no config file (defaults)',
      'ok       test/fixtures/broken/z-dup: in-process, prefix "ok"',
      'error    plugin folder test/fixtures/broken/ok uses prefix "ok", which plugin folder test/fixtures/broken/z-dup already uses; test/fixtures/broken/ok is not mounted',
      'error    plugin folder test/fixtures/broken/d-unknown-key: invalid manifest: unknown field "colour"',
      '3 plugins checked, 2 problems',
      '',
    ].join('\n'),
  );
  const missing = await cli.run(['check', 'no/such/folder'], { cwd: ROOT });
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /^error\s+plugin folder no\/such\/folder: does not exist or is not a directory$/m);
});

test('check exits when done, even when a plugin leaves a timer running', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-check-'));
  try {
    await mkdir(join(dir, 'plugins', 'ticking'), { recursive: true });
    await writeFile(
      join(dir, 'plugins', 'ticking', 'index.ts'),
      `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
setInterval(() => {}, 1000);
export default { prefix: 'ticking', server: () => new McpServer({ name: 'ticking', version: '1.0.0' }) };
`,
    );
    // A check that waited for the timer would never exit: run() rejects after timeoutMs.
    const result = await cli.run(['check'], { cwd: dir, timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^ok\s+plugins\/ticking: in-process, prefix "ticking"$/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a plain index.js in a folder outside the project loads on every Node: ES module syntax without a package type, and CommonJS compiled by tsc', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-js-'));
  const manifest = (prefix: string) => `{ prefix: ${JSON.stringify(prefix)}, remote: { url: ${JSON.stringify(upstream.url)} } }`;
  try {
    // No package.json anywhere above (a mounted volume): Node 20 took this for CommonJS.
    await mkdir(join(dir, 'bare', 'esm'), { recursive: true });
    await writeFile(join(dir, 'bare', 'esm', 'index.js'), `export default ${manifest('esm')};\n`);
    // A package.json that says no type, as `npm init` writes it.
    await mkdir(join(dir, 'typeless', 'esm2'), { recursive: true });
    await writeFile(join(dir, 'typeless', 'package.json'), JSON.stringify({ name: 'my-plugins', version: '1.0.0' }));
    await writeFile(join(dir, 'typeless', 'esm2', 'index.js'), `#!/usr/bin/env node\nconst manifest = ${manifest('esm2')};\nexport default manifest;\n`);
    // Syntax that fails as CommonJS only for clashing with its names, and top-level await (Node 22+ detects both).
    await mkdir(join(dir, 'bare', 'tla'), { recursive: true });
    await writeFile(
      join(dir, 'bare', 'tla', 'index.js'),
      `const __dirname = import.meta.dirname;\nconst { basename } = await import('node:path');\nexport default { prefix: basename(__dirname), remote: { url: ${JSON.stringify(upstream.url)} } };\n`,
    );
    // tsc's CommonJS output of `export default {...}`.
    await mkdir(join(dir, 'bare', 'tsc'), { recursive: true });
    await writeFile(join(dir, 'bare', 'tsc', 'index.js'), `"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\nexports.default = ${manifest('tsc')};\n`);
    // Plain CommonJS stays CommonJS.
    await mkdir(join(dir, 'bare', 'cjs'), { recursive: true });
    await writeFile(join(dir, 'bare', 'cjs', 'index.js'), `module.exports = ${manifest('cjs')};\n`);

    const checked = await cli.run(['check', join(dir, 'bare', 'esm'), join(dir, 'typeless', 'esm2'), join(dir, 'bare', 'tla'), join(dir, 'bare', 'tsc'), join(dir, 'bare', 'cjs')]);
    assert.equal(checked.code, 0, `check of plain index.js folders: ${checked.stdout}${checked.stderr}`);
    for (const [folder, prefix] of [['bare/esm', 'esm'], ['typeless/esm2', 'esm2'], ['bare/tla', 'tla'], ['bare/tsc', 'tsc'], ['bare/cjs', 'cjs']]) {
      assert.ok(checked.stdout.includes(`ok       ${join(dir, folder)}: remote, prefix "${prefix}"`), `check of ${folder}: ${checked.stdout}`);
    }
    assert.doesNotMatch(checked.stderr, /MODULE_TYPELESS_PACKAGE_JSON/, "Node warned about the folder's package.json, as it would at every start");

    const proxy = await cli.serve(['--plugins', join(dir, 'bare'), '--plugins', join(dir, 'typeless')]);
    try {
      const listed = await cli.run(['list', proxy.url]);
      assert.equal(listed.code, 0, listed.stderr);
      for (const prefix of ['esm', 'esm2', 'tla', 'tsc', 'cjs']) assert.match(listed.stdout, new RegExp(`^  ${prefix}_example_hello_world  `, 'm'), `the ${prefix} plugin is not listed: ${listed.stdout}`);
    } finally {
      await proxy.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('check validates the config file and its mcpServers entries with the proxy\'s messages', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-check-'));
  try {
    await writeFile(join(dir, 'switchboard.config.json'), JSON.stringify({ prot: 8080 }));
    const typo = await cli.run(['check'], { cwd: dir });
    assert.equal(typo.code, 1);
    assert.match(typo.stdout, /^error\s+config file \S*switchboard\.config\.json: unknown key "prot" \(did you mean "port"\?\)$/m);

    await mkdir(join(dir, 'mine', 'hello'), { recursive: true });
    await writeFile(join(dir, 'mine', 'hello', 'plugin.json'), JSON.stringify({ prefix: 'hello', remote: { url: 'https://example.com/mcp' } }));
    await writeFile(
      join(dir, 'other.json'),
      JSON.stringify({ pluginDirs: ['mine', 'absent'], mcpServers: { good: { command: 'node', args: ['x.js'] }, bad: { type: 'carrier-pigeon', url: 'https://example.com' } } }),
    );
    const other = await cli.run(['check', '--config', 'other.json'], { cwd: dir });
    assert.equal(other.code, 1, other.stdout);
    assert.match(other.stdout, /^ok\s+config file other\.json$/m);
    assert.match(other.stdout, /^ok\s+mine\/hello: remote, prefix "hello"$/m);
    assert.match(other.stdout, /^ok\s+other\.json#mcpServers\.good: command, prefix "good"$/m);
    assert.match(other.stdout, /^error\s+mcpServers entry "bad" in other\.json: unknown type "carrier-pigeon" \(expected stdio, http or sse\)$/m);
    assert.match(other.stdout, /^warning\s+plugin directory absent does not exist; no plugins loaded from it$/m);

    await writeFile(join(dir, 'fine.json'), JSON.stringify({ pluginDirs: ['mine'] }));
    const fine = await cli.run(['check', '-c', 'fine.json', '--json'], { cwd: dir });
    assert.equal(fine.code, 0, fine.stdout);
    assert.deepEqual(JSON.parse(fine.stdout).plugins, [{ source: 'mine/hello', prefix: 'hello', kind: 'remote' }]);

    const unreadable = await cli.run(['check', '--config', 'nowhere.json'], { cwd: dir });
    assert.equal(unreadable.code, 1);
    assert.match(unreadable.stdout, /^error\s+config file nowhere\.json: cannot be read/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDataManifest, checkManifest, definePlugin } from '../core/plugins/manifest.ts';

const factory = () => ({ connect: async () => {}, close: async () => {} });

function problemsOf(value: unknown): string[] {
  const result = checkManifest(value);
  assert.ok('problems' in result, `expected ${JSON.stringify(value)} to be refused`);
  return result.problems;
}

test('a valid in-process manifest and a valid remote manifest pass', () => {
  assert.ok('manifest' in checkManifest({ prefix: 'example', name: 'Example', server: factory }));
  assert.ok('manifest' in checkManifest({ prefix: 'gh', remote: { url: 'https://api.example.com/mcp', headers: { Authorization: 'Bearer x' }, timeoutMs: 5000 } }));
  assert.ok('manifest' in checkManifest({ prefix: '', server: factory }), 'the empty prefix mounts without a prefix');
});

test('definePlugin returns its argument unchanged', () => {
  const manifest = { prefix: 'x', server: factory };
  assert.equal(definePlugin(manifest), manifest);
});

test('each manifest mistake is named by its field', () => {
  assert.deepEqual(problemsOf(undefined), ['the entry file has no default export (export default definePlugin({...}))']);
  assert.deepEqual(problemsOf({ server: factory }), ['prefix: is required']);
  assert.match(problemsOf({ prefix: 'has space', server: factory })[0]!, /^prefix: must be 1-32 letters/);
  assert.match(problemsOf({ prefix: 'x'.repeat(33), server: factory })[0]!, /^prefix: must be 1-32 letters/);
  assert.deepEqual(problemsOf({ prefix: 7, server: factory }), ['prefix: must be string, not number 7']);
  assert.deepEqual(problemsOf({ prefix: 'x', server: factory, colour: 'red' }), ['unknown field "colour"']);
  assert.deepEqual(problemsOf({ prefix: 'x', remote: { url: 'http://h/mcp', token: 't' } }), ['remote: unknown field "token"']);
  assert.deepEqual(problemsOf({ prefix: 'x', remote: { url: 'ftp://h/mcp' } }), ['remote.url: must be an http:// or https:// URL']);
  assert.deepEqual(problemsOf({ prefix: 'x', remote: {} }), ['remote.url: is required']);
  assert.deepEqual(problemsOf({ prefix: 'x', server: 'not a function' }), ['server: must be a function returning an MCP server (McpServer or Server)']);
  assert.deepEqual(problemsOf({ prefix: 'x', remote: { url: 'http://h/mcp', timeoutMs: -1 } }).length, 1);
});

test('exactly one of server, remote and command', () => {
  assert.deepEqual(problemsOf({ prefix: 'x' }), ['needs exactly one of "server" (in-process), "remote" (URL) or "command" (stdio); it has none']);
  assert.deepEqual(problemsOf({ prefix: 'x', server: factory, remote: { url: 'http://h/mcp' } }), [
    'needs exactly one of "server", "remote" or "command"; it has "server" and "remote"',
  ]);
  assert.deepEqual(problemsOf({ prefix: 'x', remote: { url: 'http://h/mcp' }, command: { command: 'npx' } }), [
    'needs exactly one of "server", "remote" or "command"; it has "remote" and "command"',
  ]);
});

test('a command plugin names its program; its fields are checked', () => {
  assert.ok('manifest' in checkManifest({ prefix: 'fs', command: { command: 'npx', args: ['-y', 'server'], env: { A: '1' }, cwd: '.', maxProcesses: 4 } }));
  assert.deepEqual(problemsOf({ prefix: 'fs', command: {} }), ['command.command: is required']);
  assert.deepEqual(problemsOf({ prefix: 'fs', command: { command: 'npx', args: 'not a list' } }), ['command.args: must be array, not string "not a list"']);
  assert.deepEqual(problemsOf({ prefix: 'fs', command: { command: 'npx', shell: true } }), ['command: unknown field "shell"']);
});

test('a no-code manifest (plugin.json) may not name a server factory', () => {
  assert.deepEqual(checkDataManifest({ prefix: 'x', server: 'index.ts' }), { problems: ['server: needs code (an index.ts); a data manifest can be "remote" or "command"'] });
  assert.ok('manifest' in checkDataManifest({ prefix: 'x', remote: { url: 'http://h/mcp' } }));
  assert.deepEqual(checkDataManifest([1]), { problems: ['must be an object of manifest fields'] });
});

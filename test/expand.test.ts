/**
 * `${VAR}` expansion (core/config/expand.ts): the forms, the escape, the errors, and what is
 * reported as substituted (the values the proxy must scrub from its logs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpansionError, expandAll, expandString } from '../core/config/expand.ts';

const env = { TOKEN: 'tok-123456', EMPTY: '', HOST: 'mcp.example.com' };
const expand = (text: string, given: Record<string, string | undefined> = env) => expandString(text, given).value;

test('${VAR}, ${env:VAR} and ${VAR:-default} take values from the environment', () => {
  assert.equal(expand('Bearer ${TOKEN}'), 'Bearer tok-123456');
  assert.equal(expand('https://${HOST}/mcp?key=${env:TOKEN}'), 'https://mcp.example.com/mcp?key=tok-123456');
  assert.equal(expand('${PORT:-3001}'), '3001');
  assert.equal(expand('${env:PORT:-3001}'), '3001');
  assert.equal(expand('${TOKEN:-unused}'), 'tok-123456');
  assert.equal(expand('${MISSING:-}'), '', 'an empty default is allowed');
  assert.equal(expand('${MISSING:-a default: with spaces, colons and $dollars}'), 'a default: with spaces, colons and $dollars');
  assert.equal(expand('no references at all'), 'no references at all');
});

test('an empty variable follows POSIX: ${VAR:-default} takes the default, ${VAR} gives ""', () => {
  assert.equal(expand('${EMPTY:-fallback}'), 'fallback');
  assert.equal(expand('[${EMPTY}]'), '[]');
});

test('$${ is a literal ${, a lone $ and $VAR stay as written, values are not expanded again', () => {
  assert.equal(expand('$${TOKEN}'), '${TOKEN}');
  assert.equal(expand('cost: $5, $TOKEN, $$, trailing $'), 'cost: $5, $TOKEN, $$, trailing $');
  assert.equal(expand('$$${TOKEN}'), '$${TOKEN}', 'a $ then the escape');
  assert.equal(expand('${NESTED}', { NESTED: '${TOKEN}' }), '${TOKEN}');
});

test('an unset variable without a default is an error naming it and saying how to give a default', () => {
  assert.throws(
    () => expandString('Bearer ${GITHUB_TOKEN}', {}),
    (error: ExpansionError) => {
      assert.ok(error instanceof ExpansionError);
      assert.equal(error.message, 'environment variable GITHUB_TOKEN is not set (use ${GITHUB_TOKEN:-default} for a default)');
      return true;
    },
  );
});

test('a malformed ${ is an error that shows it and the forms allowed', () => {
  for (const [text, problem] of [
    ['${}', /"\$\{\}" is not a variable reference \(expected \$\{NAME\}/],
    ['${1ST}', /"\$\{1ST\}" is not a variable reference/],
    ['${MY-VAR}', /"\$\{MY-VAR\}" is not a variable reference/],
    ['${VAR-default}', /"\$\{VAR-default\}" is not a variable reference/],
    ['${input:token}', /"\$\{input:token\}" is not a variable reference/],
    ['Bearer ${TOKEN', /unterminated "\$\{TOKEN": no closing "\}" .*write \$\$\{ for a literal "\$\{"/],
    ['${A:-${B}}', /"\$\{A:-\$\{B\}": a default cannot hold another "\$\{"/],
  ] as const) {
    assert.throws(() => expandString(text, env), problem, text);
  }
});

test('expandAll expands every string of nested objects and arrays, leaves other values and keys alone, and does not change its input', () => {
  const input = {
    port: 8490,
    watch: false,
    nothing: null,
    '${TOKEN}': 'keys stay',
    mcpServers: { github: { url: 'https://${HOST}/mcp', headers: { Authorization: 'Bearer ${TOKEN}' }, args: ['--a', '${TOKEN}'] } },
  };
  const copy = structuredClone(input);
  const { value, substitutions } = expandAll(input, env);
  assert.deepEqual(value, {
    port: 8490,
    watch: false,
    nothing: null,
    '${TOKEN}': 'keys stay',
    mcpServers: { github: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer tok-123456' }, args: ['--a', 'tok-123456'] } },
  });
  assert.deepEqual(input, copy, 'the input is left as it was');
  assert.deepEqual(substitutions, [
    { path: ['mcpServers', 'github', 'url'], name: 'HOST', value: 'mcp.example.com' },
    { path: ['mcpServers', 'github', 'headers', 'Authorization'], name: 'TOKEN', value: 'tok-123456' },
    { path: ['mcpServers', 'github', 'args', 1], name: 'TOKEN', value: 'tok-123456' },
  ]);
});

test('defaults and empty values are not reported as substituted (they are no secrets from the environment)', () => {
  const { substitutions } = expandAll({ a: '${MISSING:-literal}', b: '${EMPTY}', c: '${EMPTY:-x}' }, env);
  assert.deepEqual(substitutions, []);
});

test('an error from expandAll names the key path, array indexes included', () => {
  assert.throws(
    () => expandAll({ mcpServers: { github: { headers: { Authorization: 'Bearer ${GITHUB_TOKEN}' } } } }, {}),
    (error: ExpansionError) => {
      assert.equal(
        error.message,
        'key "mcpServers.github.headers.Authorization": environment variable GITHUB_TOKEN is not set (use ${GITHUB_TOKEN:-default} for a default)',
      );
      assert.deepEqual(error.path, ['mcpServers', 'github', 'headers', 'Authorization']);
      return true;
    },
  );
  assert.throws(() => expandAll({ command: { args: ['ok', '${oops'] } }, env), /^ExpansionError: key "command\.args\.1": unterminated/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { merge, page, encodeCursor } from '../core/catalog/catalog.ts';
import { Plugin } from '../core/plugins/plugin.ts';
import { createLogger } from '../core/log.ts';

const log = createLogger({ level: 'silent' });
const plugin = (prefix: string) =>
  new Plugin({
    source: { id: `/p/${prefix}`, display: `plugins/${prefix || 'root'}`, description: `plugin folder plugins/${prefix || 'root'}`, dir: `/p/${prefix}` },
    manifest: { prefix, server: () => ({ connect: async () => {}, close: async () => {} }) },
    log,
    defaultTimeoutMs: 1000,
    defaultMaxProcesses: 1,
  });

test('lists are merged in order, each item renamed into its plugin namespace', () => {
  const a = plugin('a');
  const b = plugin('b');
  const merged = merge('tools', [
    { plugin: a, items: [{ name: 'x', description: 'ax' }] },
    { plugin: b, items: [{ name: 'x', description: 'bx' }, { name: 'y' }] },
  ], () => assert.fail('nothing to report'));
  assert.deepEqual(merged, [{ name: 'a_x', description: 'ax' }, { name: 'b_x', description: 'bx' }, { name: 'b_y' }]);
});

test('a name taken by an earlier plugin is left out and reported', () => {
  const a = plugin('a');
  const root = plugin('');
  const reports: string[] = [];
  const merged = merge('tools', [
    { plugin: a, items: [{ name: 'x' }] },
    { plugin: root, items: [{ name: 'a_x' }, { name: 'plain' }] },
  ], (p, message) => reports.push(`${p.prefix}: ${message}`));
  assert.deepEqual(merged.map((t) => t.name), ['a_x', 'plain']);
  assert.equal(reports.length, 1);
  assert.match(reports[0]!, /left out "a_x": the name "a_x" is already taken by plugin "a" \(plugins\/a\)/);
});

test('resources and templates are namespaced; ones without a scheme are left out and reported', () => {
  const a = plugin('a');
  const reports: string[] = [];
  const resources = merge('resources', [{ plugin: a, items: [{ uri: 'file:///x', name: 'x' }, { uri: 'no-scheme', name: 'bad' }] }], (_p, m) => reports.push(m));
  assert.deepEqual(resources, [{ uri: 'file://a//x', name: 'x' }]);
  const templates = merge('resourceTemplates', [{ plugin: a, items: [{ uriTemplate: 'db://{table}', name: 't' }] }], () => {});
  assert.deepEqual(templates, [{ uriTemplate: 'db://a/{table}', name: 't' }]);
  assert.equal(reports.length, 1);
});

test('merged lists are paged with opaque cursors', () => {
  const items = Array.from({ length: 5 }, (_, i) => ({ name: `t${i}` }));
  const first = page(items, undefined, 2);
  assert.deepEqual(first.items.map((i) => i.name), ['t0', 't1']);
  const second = page(items, first.nextCursor, 2);
  assert.deepEqual(second.items.map((i) => i.name), ['t2', 't3']);
  const third = page(items, second.nextCursor, 2);
  assert.deepEqual(third.items.map((i) => i.name), ['t4']);
  assert.equal(third.nextCursor, undefined);
  assert.deepEqual(page(items, undefined, 0).items.length, 5, 'page size 0 sends everything');
  assert.equal(page(items, encodeCursor(9), 2).items.length, 0);
});

test('a cursor the proxy did not make is an invalid-params error', () => {
  assert.throws(() => page([], 'garbage!', 2), (error: { code?: number; message: string }) => error.code === -32602 && /Invalid cursor/.test(error.message));
  assert.throws(() => page([], 42, 2), /Invalid cursor/);
});

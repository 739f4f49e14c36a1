import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Namespace,
  SAFE_NAME,
  joinName,
  prefixUri,
  prefixUriTemplate,
  safeName,
  unprefixUri,
  uriPrefixOf,
} from '../core/catalog/namespace.ts';

test('tool and prompt names become prefix_name, and the empty prefix passes them through', () => {
  assert.equal(joinName('example', 'hello_world'), 'example_hello_world');
  assert.equal(joinName('', 'hello_world'), 'hello_world');
});

test('resource URIs are namespaced as FastMCP does, and every form round-trips', () => {
  const cases: Array<[string, string]> = [
    ['resource://data', 'resource://example/data'],
    ['file:///abs/path/file.txt', 'file://example//abs/path/file.txt'],
    ['https://host.example/a/b?q=1&r=2#frag', 'https://example/host.example/a/b?q=1&r=2#frag'],
    ['demo://resource/static/document/a.md', 'demo://example/resource/static/document/a.md'],
    ['urn:isbn:0451450523', 'urn:example/isbn:0451450523'],
    ['mailto:someone@example.com', 'mailto:example/someone@example.com'],
    ['data:text/plain;base64,SGk=', 'data:example/text/plain;base64,SGk='],
    ['custom:/rooted/path', 'custom:example//rooted/path'],
    ['x://', 'x://example/'],
    ['s3://bucket/key with spaces/ü', 's3://example/bucket/key with spaces/ü'],
  ];
  for (const [original, exposed] of cases) {
    assert.equal(prefixUri(original, 'example'), exposed, `namespacing ${original}`);
    assert.equal(unprefixUri(exposed, 'example'), original, `reversing ${exposed}`);
    assert.equal(uriPrefixOf(exposed), 'example', `finding the prefix in ${exposed}`);
  }
});

test('a URI under another prefix (or no prefix) does not reverse', () => {
  assert.equal(unprefixUri('resource://other/data', 'example'), undefined);
  assert.equal(unprefixUri('resource://example', 'example'), undefined);
  assert.equal(unprefixUri('resource://exampleX/data', 'example'), undefined);
  assert.equal(unprefixUri('not a uri', 'example'), undefined);
  assert.equal(unprefixUri('urn:other/x', 'example'), undefined);
});

test('the empty prefix leaves URIs alone', () => {
  assert.equal(prefixUri('test://static-text', ''), 'test://static-text');
  assert.equal(unprefixUri('test://static-text', ''), 'test://static-text');
});

test('a string without a scheme cannot be namespaced', () => {
  assert.throws(() => prefixUri('/just/a/path', 'example'), /not a URI/);
});

test('resource templates keep their {var} parts, and a concrete URI reverses to the backend form', () => {
  assert.equal(prefixUriTemplate('test://template/{id}/data', 'fx'), 'test://fx/template/{id}/data');
  assert.equal(prefixUriTemplate('file:///{+path}', 'fx'), 'file://fx//{+path}');
  assert.equal(prefixUriTemplate('repo://{owner}/{repo}{?ref}', 'gh'), 'repo://gh/{owner}/{repo}{?ref}');
  assert.equal(unprefixUri('test://fx/template/42/data', 'fx'), 'test://template/42/data');
  assert.equal(unprefixUri('file://fx//etc/hosts', 'fx'), 'file:///etc/hosts');
  assert.equal(prefixUriTemplate('{scheme}://x/{id}', 'fx'), undefined, 'a templated scheme cannot be namespaced');
});

test('safe names are left alone', () => {
  for (const name of ['example_hello_world', 'a', 'x-y_z', 'A'.repeat(64)]) assert.equal(safeName(name), name);
});

test('unsafe names are made safe deterministically, distinct, and within 64 characters', () => {
  const long = `fx_${'x'.repeat(100)}`;
  const dotted = 'fx_reports.quarterly';
  const underscored = 'fx_reports_quarterly';
  for (const name of [long, dotted, 'fx_héllo wörld', 'fx_a/b:c']) {
    const safe = safeName(name);
    assert.match(safe, SAFE_NAME, `${name} -> ${safe}`);
    assert.equal(safeName(name), safe, 'the same name always maps the same way');
  }
  assert.equal(safeName(long).length, 64);
  assert.notEqual(safeName(dotted), underscored, 'a dotted name must not collide with its underscored twin');
  assert.match(safeName(dotted), /^fx_reports_quarterly_[0-9a-f]{8}$/);
});

test('a namespace maps names both ways, including made-safe ones, and reports each rename once', () => {
  const renames: string[] = [];
  const ns = new Namespace('fx', (original, exposed) => renames.push(`${original} -> ${exposed}`));
  assert.equal(ns.exposeName('echo'), 'fx_echo');
  assert.equal(ns.originalName('fx_echo'), 'echo');
  assert.equal(ns.originalName('other_echo'), undefined);
  const long = 'reports.quarterly.generate_the_full_quarterly_revenue_report_for_every_region';
  const exposed = ns.exposeName(long);
  assert.match(exposed, SAFE_NAME);
  assert.equal(ns.originalName(exposed), long);
  ns.exposeName(long);
  assert.equal(renames.length, 1, 'the rename is reported once, not on every list');
  assert.ok(ns.isRenamed(exposed));
});

test('the namespace without a prefix passes names through', () => {
  const ns = new Namespace('');
  assert.equal(ns.exposeName('test_simple_text'), 'test_simple_text');
  assert.equal(ns.originalName('test_simple_text'), 'test_simple_text');
});

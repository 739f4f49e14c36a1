/**
 * Per-plugin policy, the pure parts: what of a plugin's lists clients see (allow/deny globs,
 * descriptions), renames in the namespace, routing that refuses hidden and renamed-away names
 * even when a plugin's list is not known, and which client headers go on to a backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListPolicy } from '../core/catalog/policy.ts';
import { Namespace } from '../core/catalog/namespace.ts';
import { PluginCatalog } from '../core/catalog/plugin-catalog.ts';
import { merge } from '../core/catalog/catalog.ts';
import { Plugin } from '../core/plugins/plugin.ts';
import { PluginRegistry } from '../core/plugins/registry.ts';
import { Router } from '../core/downstream/router.ts';
import { HeaderForwarding, mergeHeaders, neverForwarded } from '../core/upstream/forward-headers.ts';
import type { PluginPolicy } from '../core/config/plugin-policy.ts';
import type { BackendLink } from '../core/upstream/link.ts';
import { createLogger } from '../core/log.ts';
import { ANONYMOUS } from '../core/auth/principal.ts';
import { hiddenByPolicy } from '../core/downstream/to-client.ts';

const log = createLogger({ level: 'silent' });

function remotePlugin(prefix: string, policy?: PluginPolicy): Plugin {
  return new Plugin({
    source: { id: `/p/${prefix}`, display: `plugins/${prefix}`, description: `plugin folder plugins/${prefix}`, dir: `/p/${prefix}` },
    manifest: { prefix, remote: { url: 'http://127.0.0.1:9/mcp', headers: { Authorization: 'Bearer manifest', 'X-Team': 'a' } } },
    policy,
    log,
    defaultTimeoutMs: 1000,
    defaultMaxProcesses: 1,
  });
}

const tools = [{ name: 'read_file' }, { name: 'read_dir' }, { name: 'write_file' }, { name: 'delete_file' }];

test('allow and deny globs pick what is listed: deny wins, no allow shows all, an empty allow shows nothing', () => {
  const names = (policy: ListPolicy) => policy.apply('tools', tools).map((t) => t.name);
  assert.deepEqual(names(new ListPolicy({ tools: { allow: ['read_*'] } })), ['read_file', 'read_dir']);
  assert.deepEqual(names(new ListPolicy({ tools: { allow: ['read_*', 'write_*'], deny: ['*_dir'] } })), ['read_file', 'write_file']);
  assert.deepEqual(names(new ListPolicy({ tools: { deny: ['delete_*'] } })), ['read_file', 'read_dir', 'write_file']);
  assert.deepEqual(names(new ListPolicy({ tools: { allow: [] } })), []);
  assert.equal(new ListPolicy({ tools: { deny: ['delete_*'] } }).shows('tools', 'delete_file'), false);
  assert.equal(new ListPolicy({ tools: { deny: ['delete_*'] } }).shows('prompts', 'delete_file'), true, 'tools rules are not prompts rules');
});

test('a policy that changes nothing in a list returns the list itself; one that does never modifies the backend items', () => {
  assert.equal(new ListPolicy().apply('tools', tools), tools);
  assert.equal(new ListPolicy({ tools: { deny: ['nothing_*'] } }).apply('tools', tools), tools);
  const items = [{ name: 'read_file', description: 'old' }];
  const applied = new ListPolicy({ tools: { descriptions: { read_file: 'Reads a file.' } } }).apply('tools', items);
  assert.deepEqual(applied, [{ name: 'read_file', description: 'Reads a file.' }]);
  assert.deepEqual(items, [{ name: 'read_file', description: 'old' }], 'the backend item is not changed');
});

test('resource globs apply to URIs and URI templates; * stops at /, ** crosses it', () => {
  const policy = new ListPolicy({ resources: { allow: ['docs://**', 'test://template/**'], deny: ['docs://private/*'], descriptions: { 'docs://guide/intro': 'The intro' } } });
  const resources = [{ uri: 'docs://guide/intro' }, { uri: 'docs://private/keys' }, { uri: 'other://x' }];
  assert.deepEqual(policy.apply('resources', resources), [{ uri: 'docs://guide/intro', description: 'The intro' }]);
  assert.deepEqual(policy.apply('resourceTemplates', [{ uriTemplate: 'test://template/{id}/data' }, { uriTemplate: 'other://{x}' }]), [{ uriTemplate: 'test://template/{id}/data' }]);
  assert.equal(new ListPolicy({ resources: { allow: ['docs://*'] } }).shows('resources', 'docs://guide/intro'), false, '* does not cross /');
  assert.equal(policy.shows('resources', 'docs://private/keys'), false);
});

test('renames are per kind, then namespaced; a renamed item answers to its new name only', () => {
  const ns = new Namespace('fx', () => {}, { tools: { read_file: 'read', 'odd.name': 'made.safe' }, prompts: { greet: 'hello' } });
  assert.equal(ns.exposeName('read_file', 'tools'), 'fx_read');
  assert.equal(ns.originalName('fx_read', 'tools'), 'read_file');
  assert.equal(ns.originalName('fx_read_file', 'tools'), undefined, 'the old name is not the tool any more');
  assert.equal(ns.exposeName('read_file', 'prompts'), 'fx_read_file', 'a prompt of the same name keeps it');
  assert.equal(ns.originalName('fx_read_file', 'prompts'), 'read_file');
  assert.equal(ns.exposeName('greet', 'prompts'), 'fx_hello');
  assert.equal(ns.originalName('fx_hello', 'prompts'), 'greet');
  assert.equal(ns.originalName('fx_hello', 'tools'), 'hello', 'prompt renames are not tool renames');
  const safe = ns.exposeName('odd.name', 'tools');
  assert.match(safe, /^fx_made_safe_[0-9a-f]{8}$/, 'a new name is made safe like any other');
  assert.equal(ns.originalName(safe, 'tools'), 'odd.name');
  const bare = new Namespace('', () => {}, { tools: { a: 'b' } });
  assert.equal(bare.exposeName('a', 'tools'), 'b');
  assert.equal(bare.originalName('b', 'tools'), 'a');
  assert.equal(bare.originalName('a', 'tools'), undefined);
});

test('a plugin with a policy lists what it allows, renamed and described, and the list stays shared across audiences', async () => {
  const plugin = remotePlugin('fx', { tools: { allow: ['read_*'], rename: { read_file: 'cat' }, descriptions: { read_dir: 'Lists a folder.' } } });
  let fetches = 0;
  const fetch = async () => {
    fetches++;
    return tools.map((t) => ({ ...t }));
  };
  const one = await plugin.catalog.get('a', 'tools', fetch);
  const two = await plugin.catalog.get('b', 'tools', fetch);
  assert.equal(fetches, 2);
  assert.equal(one, two, 'the policy is applied once per fetched list, and the result is interned');
  const merged = merge('tools', [{ plugin, items: one }], () => assert.fail('nothing to report'));
  assert.deepEqual(merged, [{ name: 'fx_cat' }, { name: 'fx_read_dir', description: 'Lists a folder.' }]);
  const catalog = new PluginCatalog();
  assert.equal(catalog.share('tools', tools), tools, 'without a policy, the backend list itself is shared');
});

/** A link whose lists never come (the plugin did not answer in time), which answers requests with what it was asked. */
function unlistedLink(plugin: Plugin): BackendLink {
  return {
    plugin,
    list: () => Promise.reject(new Error('no list')),
    request: async (method, params) => ({ method, params }),
    retire: async () => {},
    close: async () => {},
  };
}

test('routing by name alone (the list is not known) refuses hidden tools and renamed-away names, and routes new names', async () => {
  const registry = new PluginRegistry();
  const plugin = remotePlugin('fx', { tools: { deny: ['delete_*'], rename: { read_file: 'cat' } }, prompts: { allow: ['public_*'] }, resources: { deny: ['secret://**'] } });
  plugin.setState('ready');
  registry.add(plugin);
  const router = new Router({ registry, pageSize: 0, listTimeoutMs: 1000 });
  const link = unlistedLink(plugin);
  const backends = { backend: () => link, principal: ANONYMOUS };
  await assert.rejects(router.routeName('tools', 'fx_delete_file', backends), { code: -32602, message: 'Unknown tool: fx_delete_file' });
  await assert.rejects(router.routeName('tools', 'fx_read_file', backends), { code: -32602, message: 'Unknown tool: fx_read_file' });
  assert.equal((await router.routeName('tools', 'fx_cat', backends)).name, 'read_file');
  assert.equal((await router.routeName('tools', 'fx_write_file', backends)).name, 'write_file');
  await assert.rejects(router.routeName('prompts', 'fx_private_prompt', backends), { code: -32602, message: 'Unknown prompt: fx_private_prompt' });
  assert.equal((await router.routeName('prompts', 'fx_public_prompt', backends)).name, 'public_prompt');
  assert.throws(() => router.routeUri('secret://fx/keys', backends), { code: -32002, message: 'Resource not found: secret://fx/keys' });
  assert.equal(router.routeUri('docs://fx/intro', backends).uri, 'docs://intro');
});

test('client headers are forwarded by name or pattern, case-insensitively; Authorization and Cookie by name only', () => {
  const inbound = {
    authorization: 'Bearer client',
    cookie: 'a=1',
    'x-tenant-id': 't1',
    'x-trace': 'abc',
    'user-agent': 'ua',
    host: 'proxy',
    'mcp-session-id': 's',
    'mcp-protocol-version': '2025-11-25',
    connection: 'keep-alive',
    'proxy-authorization': 'Basic x',
  };
  assert.deepEqual(new HeaderForwarding(['X-Tenant-ID']).pick(inbound), { 'x-tenant-id': 't1' });
  assert.deepEqual(new HeaderForwarding(['x-*']).pick(inbound), { 'x-tenant-id': 't1', 'x-trace': 'abc' });
  assert.deepEqual(new HeaderForwarding(['*']).pick(inbound), { 'x-tenant-id': 't1', 'x-trace': 'abc', 'user-agent': 'ua' }, 'a wildcard never includes credentials or protocol headers');
  assert.deepEqual(new HeaderForwarding(['Authorization', 'cookie']).pick(inbound), { authorization: 'Bearer client', cookie: 'a=1' });
  assert.equal(new HeaderForwarding(['Host', 'Mcp-Session-Id', 'Connection', 'Proxy-Authorization']).pick(inbound), undefined, 'never forwarded, even when listed');
  assert.equal(new HeaderForwarding().pick(inbound), undefined, 'nothing by default');
  assert.equal(new HeaderForwarding(['x-absent']).pick(inbound), undefined);
  for (const name of ['Connection', 'keep-alive', 'Transfer-Encoding', 'Upgrade', 'TE', 'Trailer', 'Proxy-Connection', 'Host', 'Content-Length', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Mcp-Method', 'Mcp-Name', 'Mcp-Param-Region']) {
    assert.ok(neverForwarded(name), `${name} is never forwarded`);
  }
  assert.equal(neverForwarded('Authorization'), undefined);
});

test("a remote plugin's static headers: URL credentials, then the manifest's, then the policy's, names compared without case", () => {
  assert.deepEqual(mergeHeaders({ Authorization: 'a' }, { authorization: 'b', 'X-One': '1' }), { authorization: 'b', 'X-One': '1' });
  const plugin = remotePlugin('fx', { headers: { authorization: 'Bearer policy', 'X-Extra': 'e' }, forwardHeaders: ['x-tenant'] });
  assert.deepEqual(plugin.remoteHeaders, { authorization: 'Bearer policy', 'X-Team': 'a', 'X-Extra': 'e' });
  assert.ok(plugin.secrets.includes('Bearer policy'), "the policy's header values are secrets, like the manifest's");
  assert.equal(plugin.forwarding.none, false);
});

test("a plugin's policy sets its timeout, whether it is required, and whether it is enabled", () => {
  const plain = remotePlugin('fx');
  assert.equal(plain.timeoutMs, 1000);
  assert.equal(plain.required, false);
  assert.equal(plain.enabled, true);
  const strict = remotePlugin('fx', { timeoutMs: 250, required: true });
  assert.equal(strict.timeoutMs, 250);
  assert.equal(strict.required, true);
  assert.equal(remotePlugin('fx', { enabled: false }).enabled, false);
});

test('a backend\'s update of a resource the policy hides is dropped; other notifications pass', () => {
  const plugin = { policy: new ListPolicy({ resources: { deny: ['docs://**'] } }) };
  const updated = 'notifications/resources/updated';
  assert.equal(hiddenByPolicy(plugin, updated, { uri: 'docs://guide/intro' }), true, 'an update of a denied URI would reach clients');
  assert.equal(hiddenByPolicy(plugin, updated, { uri: 'watch://item' }), false, 'an update of a shown URI was dropped');
  assert.equal(hiddenByPolicy(plugin, 'notifications/message', { uri: 'docs://guide/intro', level: 'info' }), false);
  assert.equal(hiddenByPolicy({ policy: new ListPolicy() }, updated, { uri: 'docs://guide/intro' }), false, 'without a policy everything is shown');
});

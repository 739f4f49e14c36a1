/**
 * End to end: the real proxy on port 0, the official SDK client, in-process fixture plugins.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { McpError, ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import { FIXTURES, ROOT, connect, startProxy, textOf, type RunningProxy } from './helpers.ts';
import { SAFE_NAME } from '../core/catalog/namespace.ts';

let proxy: RunningProxy;

before(async () => {
  proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins'), join(FIXTURES, 'plugins')], pageSize: 0 });
});
after(() => proxy.close());

test('a client lists example_hello_world and gets the exact greeting', async () => {
  const { client, close } = await connect(proxy.url);
  try {
    const { tools } = await client.listTools();
    const hello = tools.find((t) => t.name === 'example_hello_world');
    assert.ok(hello, `example_hello_world missing from ${tools.map((t) => t.name).join(', ')}`);
    assert.equal(hello.description, 'Says hello from the example MCP server.');
    const result = await client.callTool({ name: 'example_hello_world', arguments: {} });
    assert.equal(textOf(result), 'Hello from the example MCP server!');
  } finally {
    await close();
  }
});

test('every plugin is listed under its prefix, and calls reach the original tool', async () => {
  const { client, close } = await connect(proxy.url);
  try {
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const name of ['fx_echo', 'fx_add', 'fx_fail', 'fx_counter', 'll_tool0', 'll_tool6']) {
      assert.ok(names.includes(name), `${name} missing from ${names.join(', ')}`);
    }
    assert.ok(names.every((name) => SAFE_NAME.test(name)), `every name must be safe for strict clients: ${names.join(', ')}`);
    assert.equal(textOf(await client.callTool({ name: 'fx_echo', arguments: { message: 'hi' } })), 'echo: hi');
    const sum = await client.callTool({ name: 'fx_add', arguments: { a: 2, b: 40 } });
    assert.deepEqual(sum.structuredContent, { sum: 42 }, 'structured content and the output schema survive the trip');
  } finally {
    await close();
  }
});

test("the backend's paginated list is followed to the end", async () => {
  const { client, close } = await connect(proxy.url);
  try {
    const names = (await client.listTools()).tools.map((t) => t.name).filter((n) => n.startsWith('ll_'));
    assert.deepEqual(names, ['ll_tool0', 'll_tool1', 'll_tool2', 'll_tool3', 'll_tool4', 'll_tool5', 'll_tool6', 'll_rpc_error']);
  } finally {
    await close();
  }
});

test('a tool result with isError passes through unchanged', async () => {
  const { client, close } = await connect(proxy.url);
  try {
    const result = await client.request({ method: 'tools/call', params: { name: 'fx_fail', arguments: {} } }, ResultSchema);
    assert.deepEqual(result, {
      isError: true,
      content: [{ type: 'text', text: 'it broke' }],
      structuredContent: { reason: 'broken on purpose' },
      _meta: { 'fixture/detail': 42 },
    });
  } finally {
    await close();
  }
});

test('arguments that are not an object are invalid params (-32602) naming the field', async () => {
  const { client, close } = await connect(proxy.url);
  try {
    for (const bad of [[1, 2], 'text', 42, null]) {
      await assert.rejects(client.request({ method: 'tools/call', params: { name: 'fx_echo', arguments: bad as never } }, ResultSchema), (error: McpError) => {
        assert.equal(error.code, -32602);
        assert.match(error.message, /tools\/call: "arguments" must be an object/);
        assert.ok(!error.message.includes('invalid_type'), 'no validator dump');
        return true;
      });
    }
    assert.equal(textOf(await client.callTool({ name: 'fx_echo', arguments: { message: 'fine' } })), 'echo: fine');
  } finally {
    await close();
  }
});

test("a backend's JSON-RPC error keeps its code, message and data, wrapped once", async () => {
  const { client, close } = await connect(proxy.url);
  try {
    await assert.rejects(client.callTool({ name: 'll_rpc_error', arguments: {} }), (error: McpError) => {
      assert.equal(error.code, -32042);
      assert.equal(error.message, 'MCP error -32042: custom failure', 'the client adds its own prefix once, not twice');
      assert.deepEqual(error.data, { hint: 'from the backend' });
      return true;
    });
  } finally {
    await close();
  }
});

test('an unknown tool or prompt gets the protocol error, and the session keeps working', async () => {
  const { client, close } = await connect(proxy.url);
  try {
    // Under a plugin's prefix or not, an unknown name is the same -32602 (not a tool result with isError).
    await assert.rejects(client.callTool({ name: 'fx_nope', arguments: {} }), (error: McpError) => {
      assert.equal(error.code, -32602);
      assert.match(error.message, /Unknown tool: fx_nope/);
      return true;
    });
    await assert.rejects(client.getPrompt({ name: 'fx_nope' }), (error: McpError) => error.code === -32602 && /Unknown prompt: fx_nope/.test(error.message));
    await assert.rejects(client.callTool({ name: 'nobody_owns_this', arguments: {} }), (error: McpError) => {
      assert.equal(error.code, -32602);
      assert.match(error.message, /Unknown tool: nobody_owns_this/);
      return true;
    });
    await assert.rejects(client.getPrompt({ name: 'nope_nothing' }), /Unknown prompt: nope_nothing/);
    await assert.rejects(client.readResource({ uri: 'nowhere://x/y' }), (error: McpError) => error.code === -32002);
    await assert.rejects(client.request({ method: 'made/up', params: {} }, ResultSchema), (error: McpError) => error.code === -32601);
    assert.equal(textOf(await client.callTool({ name: 'example_hello_world' })), 'Hello from the example MCP server!');
  } finally {
    await close();
  }
});

test('a tool name too long for strict clients is made safe and still callable', async () => {
  const { client, close } = await connect(proxy.url);
  try {
    const names = (await client.listTools()).tools.map((t) => t.name);
    const safe = names.find((n) => n.startsWith('fx_reports_quarterly_'));
    assert.ok(safe, `the long tool should be listed under a safe name: ${names.join(', ')}`);
    assert.match(safe, SAFE_NAME);
    assert.equal(textOf(await client.callTool({ name: safe })), 'long name reached');
    const warned = proxy.logs().some((line) => line.level === 40 && /is not accepted by every client; exposed as/.test(String(line.msg)));
    assert.ok(warned, 'the rename is logged as a warning');
  } finally {
    await close();
  }
});

test('prompts, resources and resource templates are namespaced and work', async () => {
  const { client, close } = await connect(proxy.url);
  try {
    const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
    assert.ok(prompts.includes('fx_greet'), prompts.join(', '));
    const prompt = await client.getPrompt({ name: 'fx_greet', arguments: { name: 'Ada' } });
    assert.deepEqual(prompt.messages, [{ role: 'user', content: { type: 'text', text: 'Hello, Ada!' } }]);

    const uris = (await client.listResources()).resources.map((r) => r.uri);
    assert.ok(uris.includes('fixture://fx/info'), uris.join(', '));
    assert.ok(uris.includes('file://fx//srv/readme.txt'), uris.join(', '));
    const info = await client.readResource({ uri: 'fixture://fx/info' });
    assert.deepEqual(info.contents, [{ uri: 'fixture://fx/info', text: 'fixture info' }], 'contents carry the client-side URI');
    const file = await client.readResource({ uri: 'file://fx//srv/readme.txt' });
    assert.equal((file.contents[0] as { text: string }).text, 'absolute file');

    const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    assert.ok(templates.includes('fixture://fx/items/{id}'), templates.join(', '));
    const item = await client.readResource({ uri: 'fixture://fx/items/42' });
    assert.deepEqual(item.contents, [{ uri: 'fixture://fx/items/42', text: 'item 42' }]);
  } finally {
    await close();
  }
});

test("a backend's error about an unknown resource names the URI the client asked for, in both eras", async () => {
  const exposed = 'fixture://fx/items-gone';
  const legacy = await connect(proxy.url);
  try {
    await assert.rejects(legacy.client.readResource({ uri: exposed }), (error: McpError) => {
      assert.match(error.message, /Resource fixture:\/\/fx\/items-gone not found/, `a 2025 client was told: ${error.message}`);
      assert.doesNotMatch(error.message, /fixture:\/\/items-gone/, 'the backend\'s own URI reached the client');
      return true;
    });
  } finally {
    await legacy.close();
  }
  const modern = new V2Client({ name: 'v2-read', version: '1.0.0' }, { capabilities: {}, versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await modern.connect(new V2Transport(new URL(proxy.url)));
  try {
    await assert.rejects(modern.readResource({ uri: exposed }), (error: Error & { data?: { uri?: string } }) => {
      assert.match(error.message, /Resource fixture:\/\/fx\/items-gone not found/, `a 2026 client was told: ${error.message}`);
      if (error.data?.uri !== undefined) assert.equal(error.data.uri, exposed);
      return true;
    });
  } finally {
    await modern.close();
  }
});

test('ping is answered', async () => {
  const { client, close } = await connect(proxy.url);
  try {
    assert.deepEqual(await client.ping(), {});
  } finally {
    await close();
  }
});

test("two client sessions do not share an in-process plugin's state", async () => {
  const a = await connect(proxy.url);
  const b = await connect(proxy.url);
  try {
    assert.equal(textOf(await a.client.callTool({ name: 'fx_counter' })), '1');
    assert.equal(textOf(await a.client.callTool({ name: 'fx_counter' })), '2');
    assert.equal(textOf(await b.client.callTool({ name: 'fx_counter' })), '1', "session B must not see session A's count");
    assert.equal(textOf(await a.client.callTool({ name: 'fx_counter' })), '3');
    assert.equal(textOf(await a.client.callTool({ name: 'fx_session' })), a.transport.sessionId, 'the factory receives the client session id');
    assert.equal(textOf(await b.client.callTool({ name: 'fx_session' })), b.transport.sessionId);
  } finally {
    await a.close();
    await b.close();
  }
});

test('DELETE ends the client session and closes its backend sessions', async () => {
  const { client, transport, close } = await connect(proxy.url);
  await client.callTool({ name: 'fx_counter' });
  const id = transport.sessionId!;
  const session = proxy.switchboard.sessions.get(id);
  assert.ok(session, 'the session is live before DELETE');
  const backends = session.openedBackends();
  assert.ok(backends.length >= 1, 'calling a tool opened a backend session');
  await close();
  assert.equal(proxy.switchboard.sessions.get(id), undefined, 'the session is gone after DELETE');
  assert.ok(session.closed);
  assert.equal(session.openedBackends().length, 0, 'its backend sessions are closed');
  const response = await fetch(proxy.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': id },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  assert.equal(response.status, 404, 'a client using the ended session is told to re-initialize (404)');
});

test('a session opens only the backends it uses', async () => {
  const { client, transport, close } = await connect(proxy.url);
  try {
    await client.callTool({ name: 'example_hello_world' });
    const opened = proxy.switchboard.sessions.get(transport.sessionId!)!.openedBackends().map((b) => b.plugin.prefix);
    assert.deepEqual(opened, ['example']);
  } finally {
    await close();
  }
});

test('the proxy combines backend instructions, each introduced by its prefix', async () => {
  const { client, close } = await connect(proxy.url);
  try {
    assert.match(client.getInstructions() ?? '', /## fx\n\nFixture tools for tests\./);
  } finally {
    await close();
  }
});

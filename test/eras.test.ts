/**
 * Both protocol eras, to clients and to backends, through one /mcp: SDK v2 clients pinned to
 * 2026-07-28 and the v1 client side by side, a modern-only backend (SDK v2, 2025 refused) beside
 * a 2025-only one, and what is translated between them: a 2026 backend's input_required
 * reaches a 2025 client as real elicitation, sampling and roots requests; a 2025 backend's
 * mid-call requests reach a 2026 client as input_required, answered by its retry.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as V2Client, LOG_LEVEL_META_KEY, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { FIXTURES, ROOT, connect, startProcess, startProxy, startRemoteFixture, textOf, until, type RunningProcess, type RunningProxy } from './helpers.ts';

const MODERN = '2026-07-28';
const run = promisify(execFile);
let modern: RunningProcess;
let legacy: RunningProcess;
let proxy: RunningProxy;

function startModern(env: Record<string, string> = {}): Promise<RunningProcess> {
  return startProcess(process.execPath, ['--import', 'tsx', 'test/fixtures/modern-server.ts'], { env: { PORT: '0', ...env }, ready: /listening (http:\S+)/ });
}

before(async () => {
  [modern, legacy] = await Promise.all([startModern(), startRemoteFixture()]);
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-eras-'));
  await mkdir(join(dir, 'mod'));
  await writeFile(join(dir, 'mod', 'plugin.json'), JSON.stringify({ prefix: 'mod', remote: { url: modern.url } }));
  await mkdir(join(dir, 'old'));
  await writeFile(join(dir, 'old', 'plugin.json'), JSON.stringify({ prefix: 'old', remote: { url: legacy.url } }));
  proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins'), join(FIXTURES, 'modern-plugins'), dir] });
});

after(async () => {
  await proxy?.close();
  await Promise.all([modern?.stop(), legacy?.stop()]);
});

/** An SDK v2 client pinned to 2026-07-28 (it fails rather than fall back to 2025). */
async function modernClient(capabilities: Record<string, unknown> = {}, setup?: (client: V2Client) => void): Promise<V2Client> {
  const client = new V2Client({ name: 'v2-test', version: '1.0.0' }, { capabilities, versionNegotiation: { mode: { pin: MODERN } } });
  setup?.(client);
  await client.connect(new V2Transport(new URL(proxy.url)));
  return client;
}

const text = (result: unknown) => textOf(result);

test('each plugin is spoken to in its era: the modern-only server in 2026-07-28, the 2025 server in 2025-11-25', () => {
  assert.equal(proxy.switchboard.registry.get('mod')?.era, MODERN);
  assert.equal(proxy.switchboard.registry.get('old')?.era, '2025-11-25');
  assert.equal(proxy.switchboard.registry.get('example')?.era, '2025-11-25');
  assert.equal(proxy.switchboard.statuses().find((s) => s.prefix === 'mod')?.state, 'ready');
});

test('an SDK v2 client pinned to 2026-07-28 lists and calls example_hello_world and both backends', async () => {
  const client = await modernClient();
  try {
    assert.equal(client.getProtocolEra(), 'modern');
    assert.equal(client.getServerVersion()?.name, 'mcp-switchboard');
    const tools = (await client.listTools()).tools.map((t) => t.name);
    for (const name of ['example_hello_world', 'mod_echo', 'old_shout']) assert.ok(tools.includes(name), `${name} is listed: ${tools.join(', ')}`);
    assert.equal(text(await client.callTool({ name: 'example_hello_world', arguments: {} })), 'Hello from the example MCP server!');
    assert.equal(text(await client.callTool({ name: 'mod_echo', arguments: { text: 'hi' } })), 'modern: hi');
    assert.equal(text(await client.callTool({ name: 'old_shout', arguments: { text: 'hi' } })), 'HI');
    const prompt = await client.getPrompt({ name: 'mod_greet', arguments: { who: 'Ada' } });
    assert.deepEqual(prompt.messages[0]!.content, { type: 'text', text: 'Hello, Ada, from 2026' });
    const read = await client.readResource({ uri: 'modern://mod/doc' });
    assert.equal((read.contents[0] as { text: string }).text, 'a modern document');
    assert.equal(read.contents[0]!.uri, 'modern://mod/doc', 'the client sees its own spelling of the URI');
  } finally {
    await client.close();
  }
});

test('an SDK v2 client in auto mode settles on 2026-07-28 with the proxy', async () => {
  const client = new V2Client({ name: 'v2-auto', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new V2Transport(new URL(proxy.url)));
  try {
    assert.equal(client.getNegotiatedProtocolVersion(), MODERN);
    assert.equal(text(await client.callTool({ name: 'example_hello_world', arguments: {} })), 'Hello from the example MCP server!');
  } finally {
    await client.close();
  }
});

test('the v1 client (2025-11-25) calls the modern-only backend and the 2025 one', async () => {
  const { client, close } = await connect(proxy.url);
  try {
    assert.equal(text(await client.callTool({ name: 'mod_echo', arguments: { text: 'old client' } })), 'modern: old client');
    assert.equal(text(await client.callTool({ name: 'old_shout', arguments: { text: 'x' } })), 'X');
    assert.equal(text(await client.callTool({ name: 'example_hello_world' })), 'Hello from the example MCP server!');
    // The backend sees this client's identity and capabilities on each request.
    const envelope = JSON.parse(text(await client.callTool({ name: 'mod_who', arguments: {} })));
    assert.deepEqual(envelope['io.modelcontextprotocol/clientInfo'], { name: 'test-client', version: '1.0.0' });
  } finally {
    await close();
  }
});

test('one curl-style POST with the 2026 envelope returns a tool result, and no session', async () => {
  const response = await fetch(proxy.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': MODERN, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'example_hello_world' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'example_hello_world', arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} } },
    }),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('mcp-session-id'), null);
  const body = await response.json();
  assert.equal(body.id, 1);
  assert.equal(body.result.resultType, 'complete');
  assert.deepEqual(body.result.content, [{ type: 'text', text: 'Hello from the example MCP server!' }]);
});

test("the README's curl example, run as it is, returns example_hello_world's result with no session", async () => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Protocol eras'));
  const block = /```sh\n(curl [\s\S]*?)\n#/.exec(section)?.[1];
  assert.ok(block, 'the Protocol eras section has a curl example');
  const command = block.replace(/\\\n\s*/g, ' ').replace('http://localhost:8490/mcp', proxy.url);
  const { stdout } = await run('sh', ['-c', command]);
  const answer = JSON.parse(stdout);
  assert.deepEqual(answer.result.content, [{ type: 'text', text: 'Hello from the example MCP server!' }]);
  assert.equal(answer.result.resultType, 'complete');
});

test('2026 requests are checked as the spec says: header/body disagreement, a missing envelope, removed methods', async () => {
  const post = (headers: Record<string, string>, body: unknown) =>
    fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });
  const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };
  const mismatch = await post({ 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' }, { jsonrpc: '2.0', id: 5, method: 'prompts/list', params: { _meta: envelope } });
  assert.equal(mismatch.status, 400);
  assert.deepEqual([(await mismatch.json()).error.code], [-32020]);
  const noEnvelope = await post({ 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' }, { jsonrpc: '2.0', id: 6, method: 'tools/list', params: {} });
  assert.equal(noEnvelope.status, 400);
  const missing = await noEnvelope.json();
  assert.equal(missing.error.code, -32602);
  assert.equal(missing.id, 6, 'the error carries the request id');
  const ping = await post({ 'mcp-protocol-version': MODERN, 'mcp-method': 'ping' }, { jsonrpc: '2.0', id: 7, method: 'ping', params: { _meta: envelope } });
  assert.equal(ping.status, 404);
  assert.equal((await ping.json()).error.code, -32601);
  const discover = await post({ 'mcp-protocol-version': MODERN, 'mcp-method': 'server/discover' }, { jsonrpc: '2.0', id: 8, method: 'server/discover', params: { _meta: envelope } });
  const discovered = (await discover.json()).result;
  assert.deepEqual(discovered.supportedVersions, [MODERN]);
  assert.ok(discovered.capabilities.tools, 'the merged capabilities of the plugins');
  assert.equal(discovered._meta['io.modelcontextprotocol/serverInfo'].name, 'mcp-switchboard');
});

test("a 2026 backend's input_required reaches a 2025 client as real elicitation, sampling and roots requests, and the retry completes the call", async () => {
  const asked: string[] = [];
  const { client, close } = await connect(proxy.url, { elicitation: { form: {} }, sampling: {}, roots: {} }, (c) => {
    c.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(`elicit: ${request.params.message}`);
      return { action: 'accept', content: { answer: 'green' } };
    });
    c.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      asked.push(`sample: ${(request.params.messages[0]!.content as { text: string }).text}`);
      return { role: 'assistant', model: 'test-model', content: { type: 'text', text: 'forty-two' } };
    });
    c.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///projects/demo' }] }));
  });
  try {
    assert.equal(text(await client.callTool({ name: 'mod_ask', arguments: { question: 'Favourite colour?' } })), 'answered: green (state asked-once)');
    assert.equal(text(await client.callTool({ name: 'mod_sample', arguments: { prompt: 'the answer?' } })), 'model said: forty-two');
    assert.equal(text(await client.callTool({ name: 'mod_roots', arguments: {} })), '["file:///projects/demo"]');
    assert.deepEqual(asked, ['elicit: Favourite colour?', 'sample: the answer?']);
  } finally {
    await close();
  }
});

test("a 2025 backend's mid-call elicitation and sampling reach a 2026 client as input_required, and its retry answers them", async () => {
  const asked: string[] = [];
  const client = await modernClient({ elicitation: { form: {} }, sampling: {} }, (c) => {
    c.setRequestHandler('elicitation/create', async (request) => {
      asked.push(`elicit: ${request.params.message}`);
      return { action: 'accept', content: { answer: 'blue' } };
    });
    c.setRequestHandler('sampling/createMessage', async (request) => {
      asked.push(`sample: ${(request.params.messages[0]!.content as { text: string }).text}`);
      return { role: 'assistant', model: 'test-model', content: { type: 'text', text: 'seven' } };
    });
  });
  try {
    assert.equal(text(await client.callTool({ name: 'old_ask', arguments: { question: 'Sky colour?' } })), 'blue');
    assert.equal(text(await client.callTool({ name: 'old_sample', arguments: { prompt: 'a number' } })), 'seven');
    assert.deepEqual(asked, ['elicit: Sky colour?', 'sample: a number']);
    // By hand: the first answer is input_required with the proxy's token; the retry carries the answer.
    const first = (await client.callTool({ name: 'old_ask', arguments: { question: 'Again?' } }, { allowInputRequired: true } as never)) as Record<string, unknown>;
    assert.equal(first.resultType, 'input_required');
    const [[key, question]] = Object.entries(first.inputRequests as Record<string, { method: string; params: { message: string } }>);
    assert.equal(question!.method, 'elicitation/create');
    assert.equal(question!.params.message, 'Again?');
    const state = first.requestState as string;
    const tampered = await client
      .callTool({ name: 'old_ask', arguments: { question: 'Again?' }, inputResponses: { [key!]: { action: 'accept', content: { answer: 'x' } } }, requestState: `${state}-TAMPERED` } as never)
      .then(() => undefined, (error: Error & { code?: number }) => error);
    assert.equal(tampered?.code, -32602, 'a changed requestState is refused');
    const done = await client.callTool({ name: 'old_ask', arguments: { question: 'Again?' }, inputResponses: { [key!]: { action: 'accept', content: { answer: 'by hand' } } }, requestState: state } as never);
    assert.equal(text(done), 'by hand');
    const replay = await client
      .callTool({ name: 'old_ask', arguments: { question: 'Again?' }, inputResponses: { [key!]: { action: 'accept', content: { answer: 'twice' } } }, requestState: state } as never)
      .then(() => undefined, (error: Error & { code?: number }) => error);
    assert.equal(replay?.code, -32602, 'a requestState resumes a call once');
  } finally {
    await client.close();
  }
});

test("a 2026 backend's progress reaches both eras' clients with their own token; its log messages reach a client that asked for them", async () => {
  const { client, close } = await connect(proxy.url);
  try {
    const progress: number[] = [];
    const result = await client.callTool({ name: 'mod_count', arguments: { to: 3 } }, undefined, { onprogress: (p) => void progress.push(p.progress) });
    assert.equal(text(result), 'counted to 3');
    assert.deepEqual(progress, [1, 2, 3]);
    const messages: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push(`${n.params.logger}: ${n.params.data}`));
    await client.setLoggingLevel('info');
    await client.callTool({ name: 'mod_log', arguments: {} });
    await until(() => (messages.length ? true : undefined), 'the log message');
    assert.deepEqual(messages, ['mod/fixture: an info message'], 'at info, not debug, with the logger naming the plugin');
  } finally {
    await close();
  }
  const modernOne = await modernClient();
  try {
    const progress: number[] = [];
    const result = await modernOne.callTool({ name: 'mod_count', arguments: { to: 2 } }, { onprogress: (p: { progress: number }) => void progress.push(p.progress) } as never);
    assert.equal(text(result), 'counted to 2');
    assert.deepEqual(progress, [1, 2]);
    const logs: string[] = [];
    modernOne.setNotificationHandler('notifications/message', (n) => void logs.push(String(n.params.data)));
    await modernOne.callTool({ name: 'mod_log', arguments: {}, _meta: { [LOG_LEVEL_META_KEY]: 'debug' } } as never);
    assert.deepEqual(logs, ['an info message', 'a debug message']);
    logs.length = 0;
    await modernOne.callTool({ name: 'mod_log', arguments: {} });
    assert.deepEqual(logs, [], 'no log messages for a request that did not ask for them');
  } finally {
    await modernOne.close();
  }
});

test('list changes and resource updates of a 2026 backend reach 2025 sessions and 2026 listen streams', async () => {
  const { client, close } = await connect(proxy.url);
  let sessionHeard = 0;
  const updated: string[] = [];
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void sessionHeard++);
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
  const listener = await modernClient();
  let listenerHeard = 0;
  const listenerUpdated: string[] = [];
  listener.setNotificationHandler('notifications/tools/list_changed', () => void listenerHeard++);
  listener.setNotificationHandler('notifications/resources/updated', (n) => void listenerUpdated.push(n.params.uri));
  const subscription = await listener.listen({ toolsListChanged: true, resourceSubscriptions: ['modern://mod/doc'] });
  try {
    assert.deepEqual(subscription.honoredFilter.resourceSubscriptions, ['modern://mod/doc']);
    const before = (await client.listTools()).tools.length;
    const added = text(await client.callTool({ name: 'mod_add_tool', arguments: {} }));
    await until(() => (sessionHeard > 0 && listenerHeard > 0 ? true : undefined), 'tools/list_changed on both eras');
    const after = (await client.listTools()).tools.map((t) => t.name);
    assert.equal(after.length, before + 1);
    assert.ok(after.includes(`mod_${added}`), `the new tool mod_${added} is listed`);

    await client.subscribeResource({ uri: 'modern://mod/doc' });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the proxy's listen stream at the backend reopens with the new filter
    await client.callTool({ name: 'mod_touch', arguments: {} });
    await until(() => (updated.length && listenerUpdated.length ? true : undefined), 'resources/updated on both eras');
    assert.deepEqual(updated, ['modern://mod/doc']);
    assert.deepEqual(listenerUpdated, ['modern://mod/doc']);
  } finally {
    await subscription.close();
    await listener.close();
    await close();
  }
});

test('an in-process plugin written with the SDK v2 is spoken to in 2026-07-28, in this process, by clients of both eras', async () => {
  assert.equal(proxy.switchboard.registry.get('v2')?.era, MODERN);
  const { client, close } = await connect(proxy.url, { elicitation: { form: {} } }, (c) => {
    c.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { ok: true } }));
  });
  try {
    assert.equal(text(await client.callTool({ name: 'v2_hello', arguments: { name: 'Ada' } })), 'Hello, Ada, from an SDK v2 plugin (stateless)');
    assert.equal(text(await client.callTool({ name: 'v2_confirm', arguments: {} })), 'confirmed');
  } finally {
    await close();
  }
  const modernOne = await modernClient({ elicitation: { form: {} } }, (c) => c.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { ok: false } })));
  try {
    assert.equal(text(await modernOne.callTool({ name: 'v2_confirm', arguments: {} })), 'declined');
  } finally {
    await modernOne.close();
  }
});

test('a backend that speaks both eras fully: 2025 clients get sessions of their own there (nothing to translate), 2026 clients the stateless leg', async () => {
  const both = await startModern({ LEGACY: 'sessions' });
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-eras-both-'));
  await mkdir(join(dir, 'both'));
  await writeFile(join(dir, 'both', 'plugin.json'), JSON.stringify({ prefix: 'both', remote: { url: both.url } }));
  const other = await startProxy({ pluginDirs: [dir] });
  try {
    const plugin = other.switchboard.registry.get('both')!;
    assert.equal(plugin.era, MODERN);
    assert.equal(plugin.sessionsToo, true);
    assert.equal(other.switchboard.statuses().find((s) => s.prefix === 'both')?.era, '2026-07-28, 2025-11-25');
    const asked: string[] = [];
    const { client, close } = await connect(other.url, { elicitation: { form: {} } }, (c) => {
      c.setRequestHandler(ElicitRequestSchema, async (request) => {
        asked.push(request.params.message);
        return { action: 'accept', content: { answer: 'in a session' } };
      });
    });
    try {
      assert.equal(text(await client.callTool({ name: 'both_who', arguments: {} })), '{}', 'a 2025 request: no per-request envelope at the backend');
      assert.match(text(await client.callTool({ name: 'both_ask', arguments: { question: 'Where?' } })), /^answered: in a session/);
      assert.deepEqual(asked, ['Where?']);
    } finally {
      await close();
    }
    const modernOne = new V2Client({ name: 'v2', version: '1' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await modernOne.connect(new V2Transport(new URL(other.url)));
    try {
      const envelope = JSON.parse(text(await modernOne.callTool({ name: 'both_who', arguments: {} })));
      assert.equal(envelope['io.modelcontextprotocol/protocolVersion'], MODERN, 'a 2026 request carries its envelope to the backend');
    } finally {
      await modernOne.close();
    }
  } finally {
    await other.close();
    await both.stop();
  }
});

test('a manifest that insists on an era the backend does not speak is refused with an error that says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-eras-wrong-'));
  await mkdir(join(dir, 'insist'));
  await writeFile(join(dir, 'insist', 'plugin.json'), JSON.stringify({ prefix: 'insist', remote: { url: legacy.url, era: MODERN } }));
  const other = await startProxy({ pluginDirs: [dir], loadTimeoutMs: 5000 });
  try {
    const status = other.switchboard.statuses().find((s) => s.source.endsWith('insist'))!;
    assert.equal(status.state, 'unavailable');
    assert.match(status.error!, /does not speak 2026-07-28 \(its manifest says era "2026-07-28"; it did not answer server\/discover\)/);
  } finally {
    await other.close();
  }
});

test('a 2026 backend that omits resultType or answers in NDJSON is read anyway, for both eras, and its author is told once', async () => {
  const sloppy = await startProcess(process.execPath, ['--import', 'tsx', 'test/fixtures/sloppy-modern-server.ts'], { env: { PORT: '0' }, ready: /listening (http:\S+)/ });
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-eras-sloppy-'));
  await mkdir(join(dir, 'sloppy'));
  await writeFile(join(dir, 'sloppy', 'plugin.json'), JSON.stringify({ prefix: 'sloppy', remote: { url: sloppy.url } }));
  const other = await startProxy({ pluginDirs: [dir] });
  try {
    assert.equal(other.switchboard.registry.get('sloppy')?.era, MODERN);
    const modernOne = new V2Client({ name: 'v2', version: '1' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await modernOne.connect(new V2Transport(new URL(other.url)));
    try {
      assert.equal(text(await modernOne.callTool({ name: 'sloppy_plain', arguments: {} })), 'plain answer');
      const logs: string[] = [];
      modernOne.setNotificationHandler('notifications/message', (n) => void logs.push(String(n.params.data)));
      const lines = await modernOne.callTool({ name: 'sloppy_lines', arguments: {}, _meta: { [LOG_LEVEL_META_KEY]: 'info' } } as never);
      assert.equal(text(lines), 'answer after lines');
      assert.deepEqual(logs, ['a line before the answer'], 'the message before the answer in the NDJSON body reaches the client');
      assert.equal(text(await modernOne.callTool({ name: 'sloppy_lines', arguments: {} })), 'answer after lines');
    } finally {
      await modernOne.close();
    }
    const { client, close } = await connect(other.url);
    try {
      assert.equal(text(await client.callTool({ name: 'sloppy_plain', arguments: {} })), 'plain answer');
      assert.equal(text(await client.callTool({ name: 'sloppy_lines', arguments: {} })), 'answer after lines');
    } finally {
      await close();
    }
    const warnings = other.logs().filter((line) => line.plugin === 'sloppy' && line.level === 40).map((line) => String(line.msg));
    assert.equal(warnings.filter((msg) => /without resultType/.test(msg)).length, 1, `one warning about resultType: ${warnings.join(' | ')}`);
    assert.equal(warnings.filter((msg) => /one per line/.test(msg)).length, 1, `one warning about NDJSON: ${warnings.join(' | ')}`);
  } finally {
    await other.close();
    await sloppy.stop();
  }
});

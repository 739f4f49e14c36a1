/**
 * The pure parts, with their clocks under test control (mock.timers, no sleeps): the restart
 * backoff, shared lists and their invalidation, input_required round trips that expire, resumable
 * streams' grace period, the process budget, and Mcp-Param-* headers.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartBackoff } from '../core/upstream/legacy/restart.ts';
import { PluginCatalog, audienceOf } from '../core/catalog/plugin-catalog.ts';
import { InputGate, ParkedCalls } from '../core/downstream/modern/input.ts';
import { SessionEventStore } from '../core/downstream/legacy/events.ts';
import { ProcessSlots } from '../core/plugins/process-slots.ts';
import { encodeParamHeaders, paramHeaderMismatch, paramHeaders } from '../core/catalog/param-headers.ts';
import { followSignals } from '../core/signals.ts';
import { readAllPages } from '../core/catalog/lists.ts';

test('a process that keeps dying is restarted later each time, and sooner again once it stays up a minute', () => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  try {
    const backoff = new RestartBackoff();
    assert.deepEqual([backoff.exited(), backoff.exited(), backoff.exited(), backoff.exited()], [500, 1000, 2000, 4000]);
    for (let i = 0; i < 10; i++) backoff.exited();
    assert.equal(backoff.exited(), 30_000, 'capped at 30 s');
    assert.equal(backoff.waitMs(), 30_000);
    mock.timers.tick(30_000);
    assert.equal(backoff.waitMs(), 0);
    mock.timers.tick(61_000);
    assert.equal(backoff.exited(), 500, 'a minute without dying starts over');
  } finally {
    mock.timers.reset();
  }
});

test('lists are fetched once per audience, shared by reference, interned by content, and survive invalidation as the last good list', async () => {
  const catalog = new PluginCatalog();
  let fetches = 0;
  const fetch = async () => {
    fetches++;
    return [{ name: 'a' }, { name: 'b' }];
  };
  const [one, two] = await Promise.all([catalog.get('x', 'tools', fetch), catalog.get('x', 'tools', fetch)]);
  assert.equal(fetches, 1, 'concurrent askers share one fetch');
  assert.equal(one, two, 'the same array, not a copy');
  const other = await catalog.get('y', 'tools', fetch);
  assert.equal(fetches, 2);
  assert.equal(other, one, 'another audience with the same content shares the array');
  catalog.invalidate(['tools']);
  assert.equal(catalog.lastGood('tools'), one, 'the last good list survives invalidation');
  await catalog.get('x', 'tools', fetch);
  assert.equal(fetches, 3, 'invalidated lists are fetched again');
  await assert.rejects(catalog.get('z', 'prompts', async () => Promise.reject(new Error('down'))));
  assert.deepEqual(await catalog.get('z', 'prompts', async () => []), [], 'a failed fetch is forgotten');
  assert.equal(audienceOf({ sampling: {}, roots: { listChanged: true } }), audienceOf({ roots: { listChanged: true }, sampling: {} }), 'key order does not matter');
});

test('a parked input_required call is resumed once by its token, and given up when the client does not come back in time', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const calls = new ParkedCalls({ expiresMs: 1000 });
    const gate = new InputGate();
    const cancelled: string[] = [];
    const answer = gate.ask({ jsonrpc: '2.0', id: 0, method: 'elicitation/create', params: { message: 'Name?', _meta: { x: 1 } } }, new AbortController().signal);
    await gate.asked();
    assert.deepEqual(gate.questions(), { 'input-1': { method: 'elicitation/create', params: { message: 'Name?' } } }, 'the backend _meta stays with the backend');
    const token = calls.park({ call: new Promise(() => {}), gate, cancel: (reason) => cancelled.push(reason), rebind: () => {} });
    assert.ok(ParkedCalls.owns(token));
    const parked = calls.take(token);
    assert.throws(() => calls.take(token), /Invalid or expired requestState/, 'a token resumes a call once');
    parked.gate.answer({ 'input-1': { action: 'accept', content: { name: 'Ada' } }, unknown: {} });
    assert.deepEqual(await answer, { action: 'accept', content: { name: 'Ada' } });

    const late = new InputGate();
    const waiting = late.ask({ jsonrpc: '2.0', id: 1, method: 'roots/list' }, new AbortController().signal);
    calls.park({ call: new Promise(() => {}), gate: late, cancel: (reason) => cancelled.push(reason), rebind: () => {} });
    mock.timers.tick(1000);
    await assert.rejects(waiting, /did not answer within 1000 ms/);
    assert.match(cancelled[0]!, /did not answer the input request within 1000 ms/);
  } finally {
    mock.timers.reset();
  }
});

test('a dropped resumable stream is given up only after the grace period, and not at all if the client resumes', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const events = new SessionEventStore();
    const given: string[] = [];
    events.dropped('s1', 30_000, () => given.push('s1'));
    events.dropped('s2', 30_000, () => given.push('s2'));
    const eventId = await events.storeEvent('s2', { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } });
    mock.timers.tick(29_999);
    assert.deepEqual(given, []);
    const replayed: string[] = [];
    await events.replayEventsAfter(`0.s2`, { send: async (id) => void replayed.push(id) });
    assert.deepEqual(replayed, [eventId], 'the client resumed s2 and got what it missed');
    mock.timers.tick(1);
    assert.deepEqual(given, ['s1'], 'only the stream nobody resumed is given up');
  } finally {
    mock.timers.reset();
  }
});

test('the process budget makes room by ending the least recently used idle holder, and refuses when every holder is busy', async () => {
  const slots = new ProcessSlots(2);
  const ended: string[] = [];
  const holder = (name: string, lastUsed: number, busy: boolean) => ({
    lastUsed,
    busy,
    giveUp: async () => {
      ended.push(name);
      held.get(name)?.release(); // its process exits: the slot is free
    },
  });
  const held = new Map<string, { release(): void }>();
  held.set('old', (await slots.claim())!);
  held.set('new', (await slots.claim())!);
  slots.holders.add(holder('new', 200, false));
  slots.holders.add(holder('old', 100, false));
  assert.ok(await slots.claim(), 'room was made');
  assert.deepEqual(ended, ['old'], 'the least recently used one gave way');
  slots.holders.clear();
  slots.holders.add(holder('busy', 50, true));
  assert.equal(await slots.claim(), undefined, 'no idle holder: refused');
});

test('Mcp-Param-* headers: declared through properties, encoded (Base64 when not plain), and checked against the body', () => {
  const schema = { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, n: { type: 'integer', 'x-mcp-header': 'N' }, deep: { type: 'object', properties: { flag: { type: 'boolean', 'x-mcp-header': 'Flag' } } } }, items: { 'x-mcp-header': 'Ignored', type: 'string' } };
  const declared = paramHeaders(schema);
  assert.deepEqual(declared.map((d) => d.name), ['Region', 'N', 'Flag']);
  assert.deepEqual(encodeParamHeaders(declared, { region: 'Hello', n: 42, deep: { flag: true } }), { 'Mcp-Param-Region': 'Hello', 'Mcp-Param-N': '42', 'Mcp-Param-Flag': 'true' });
  assert.deepEqual(encodeParamHeaders(declared, { region: 'Grüße ' }), { 'Mcp-Param-Region': `=?base64?${Buffer.from('Grüße ').toString('base64')}?=` });
  const headers = (values: Record<string, string>) => (name: string) => values[name];
  assert.equal(paramHeaderMismatch(declared, { region: 'Hello' }, headers({ 'Mcp-Param-Region': '=?base64?SGVsbG8=?=' })), undefined);
  assert.equal(paramHeaderMismatch(declared, { n: 42 }, headers({ 'Mcp-Param-N': '42.0' })), undefined, 'numbers compare as numbers');
  assert.match(paramHeaderMismatch(declared, { region: 'Hello' }, headers({}))!, /Mcp-Param-Region header is absent/);
  assert.match(paramHeaderMismatch(declared, { region: 'Hello' }, headers({ 'Mcp-Param-Region': '=?base64?SGVsbG8?=' }))!, /invalid Base64/);
  assert.match(paramHeaderMismatch(declared, { region: 'Hello' }, headers({ 'Mcp-Param-Region': 'Bye' }))!, /decodes to "Bye"/);
  assert.equal(paramHeaderMismatch(declared, {}, headers({})), undefined, 'no value, no header needed');
});

test('a signal that follows others aborts with them, and lets go of them when released', () => {
  const parent = new AbortController();
  const child = followSignals(parent.signal);
  parent.abort('stop');
  assert.equal(child.signal.aborted, true);
  assert.equal(child.signal.reason, 'stop');
  const other = new AbortController();
  const released = followSignals(other.signal);
  released.release();
  other.abort();
  assert.equal(released.signal.aborted, false, 'released: no longer follows');
});

test("a backend's list is read page by page; a cursor seen before ends it, a page without the list or an endless list is an error naming the plugin", async () => {
  const pages: Record<string, { tools?: unknown; nextCursor?: string }> = {
    '': { tools: [{ name: 'a' }], nextCursor: 'p2' },
    p2: { tools: [{ name: 'b' }], nextCursor: 'p3' },
    p3: { tools: [{ name: 'c' }], nextCursor: 'p2' },
  };
  const asked: Array<string | undefined> = [];
  const items = await readAllPages('plugin "x"', 'tools', async (method, params) => {
    assert.equal(method, 'tools/list');
    asked.push(params?.cursor);
    return pages[params?.cursor ?? '']!;
  });
  assert.deepEqual(items.map((item) => item.name), ['a', 'b', 'c']);
  assert.deepEqual(asked, [undefined, 'p2', 'p3']);
  await assert.rejects(readAllPages('plugin "x"', 'prompts', async () => ({ tools: [] })), /plugin "x": prompts\/list answered without a "prompts" list/);
  let n = 0;
  await assert.rejects(readAllPages('plugin "x"', 'tools', async () => ({ tools: [], nextCursor: `c${n++}` })), /plugin "x": tools\/list did not end after 1000 pages/);
});

test("the SDK's web-standard transport reads only a request's method, URL and headers when given its body parsed (what node-transport.ts hands it)", async () => {
  const { WebStandardStreamableHTTPServerTransport } = await import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js');
  const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
  const read = new Set<string | symbol>();
  const view = (method: string, headers: Record<string, string>) =>
    new Proxy({ method, url: 'http://localhost/mcp', headers: new Headers({ host: 'localhost', ...headers }) }, {
      get: (target, name) => (read.add(name), Reflect.get(target, name)),
    }) as unknown as Request;
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: () => 's1' });
  const server = new McpServer({ name: 't', version: '1' });
  server.registerTool('hi', { description: 'hi' }, async () => ({ content: [{ type: 'text', text: 'hi' }] }));
  await server.connect(transport);
  const post = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
  const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } } as const;
  await (await transport.handleRequest(view('POST', post), { parsedBody: init })).text();
  const session = { 'mcp-session-id': 's1', 'mcp-protocol-version': '2025-11-25' };
  await (await transport.handleRequest(view('POST', { ...post, ...session }), { parsedBody: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'hi' } } })).text();
  const stream = await transport.handleRequest(view('GET', { accept: 'text/event-stream', ...session }));
  await stream.body?.cancel();
  assert.equal((await transport.handleRequest(view('DELETE', session))).status, 200);
  assert.ok(read.has('method') && read.has('url') && read.has('headers'), 'the requests were read through the view');
  const extra = [...read].filter((name) => !['method', 'url', 'headers'].includes(String(name)));
  assert.deepEqual(extra, [], 'the SDK now reads more of a request: node-transport.ts must give it a real Request (or these properties)');
  await server.close();
});

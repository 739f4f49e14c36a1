/**
 * The access log: one `info` line per MCP request, once it ended, from clients of both eras
 * (SDK v1 in 2025-11-25, SDK v2 pinned to 2026-07-28), saying who asked what of which plugin
 * and how it went, never the arguments or the result; nothing per request at `warn`. Request
 * ids tie a client's request to the backend request it caused (real remote backends report the
 * headers they got), and no secret (an inbound token, a manifest header value, a value `${VAR}`
 * took from the environment, a URI's query value) reaches an access line.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import { ACCEPT, INITIALIZE, ROOT, startProcess, startProxy, startRemoteFixture, textOf, until, type RunningProcess, type RunningProxy } from './helpers.ts';
import { createSwitchboard } from '../core/switchboard.ts';
import { createLogger } from '../core/log.ts';
import { Secrets } from '../core/redact.ts';

const TOKEN = 'access-log-token-0123456789abcdef';
const HEADER_SECRET = 'header-secret-value-5150';
const ENV_SECRET = 'env-secret-value-8086';
const URI_SECRET = 'uri-secret-value-6502';
const ARGUMENT = 'argument-value-never-logged';

let legacy: RunningProcess;
let modern: RunningProcess;
let proxy: RunningProxy;

before(async () => {
  [legacy, modern] = await Promise.all([
    startRemoteFixture(),
    startProcess(process.execPath, ['--import', 'tsx', 'test/fixtures/modern-server.ts'], { env: { PORT: '0' }, ready: /listening (http:\S+)/ }),
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-access-'));
  await mkdir(join(dir, 'old'));
  await writeFile(join(dir, 'old', 'plugin.json'), JSON.stringify({ prefix: 'old', remote: { url: legacy.url, headers: { 'X-Api-Key': HEADER_SECRET } } }));
  await mkdir(join(dir, 'mod'));
  await writeFile(join(dir, 'mod', 'plugin.json'), JSON.stringify({ prefix: 'mod', remote: { url: modern.url } }));
  proxy = await startProxy({
    pluginDirs: [join(ROOT, 'plugins'), dir],
    auth: { tokens: [{ token: TOKEN, name: 'ci-bot' }] },
    // As if the config file had said "${SOME_VAR}" and the environment gave this.
    substituted: [ENV_SECRET],
  });
});

after(async () => {
  await proxy?.close();
  await Promise.all([legacy?.stop(), modern?.stop()]);
});

const AUTH = { Authorization: `Bearer ${TOKEN}` };

async function legacyClient(headers: Record<string, string> = {}): Promise<{ client: Client; sessionId(): string | undefined; close(): Promise<void> }> {
  const client = new Client({ name: 'v1-access', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: { ...AUTH, ...headers } } });
  await client.connect(transport);
  return {
    client,
    sessionId: () => transport.sessionId,
    close: async () => {
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

async function modernClient(headers: Record<string, string> = {}): Promise<V2Client> {
  const client = new V2Client({ name: 'v2-access', version: '1.0.0' }, { capabilities: {}, versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new V2Transport(new URL(proxy.url), { requestInit: { headers: { ...AUTH, ...headers } } }));
  return client;
}

type Line = Record<string, unknown>;
const accessLines = (): Line[] => proxy.logs().filter((line) => line.access === true);

/** The access lines of tools/call requests of `tool` written after the first `skip` lines. */
function callsOf(tool: string, since: number): Line[] {
  return accessLines()
    .slice(since)
    .filter((line) => line.method === 'tools/call' && line.tool === tool);
}

test('each request of a 2025 and a 2026 client gets one info line once it ended: who asked what of which plugin, and how it went', async () => {
  const since = accessLines().length;
  const v1 = await legacyClient();
  const v2 = await modernClient();
  const session = v1.sessionId();
  try {
    assert.equal(textOf(await v1.client.callTool({ name: 'old_shout', arguments: { text: ARGUMENT } })), ARGUMENT.toUpperCase());
    assert.equal(textOf(await v2.callTool({ name: 'mod_echo', arguments: { text: ARGUMENT } })), `modern: ${ARGUMENT}`);
    await assert.rejects(v2.callTool({ name: 'mod_no_such_tool', arguments: {} }), /Unknown tool/);
    await v2.listTools();
  } finally {
    await v1.close();
    await v2.close();
  }
  const [shout, ...moreShouts] = callsOf('old_shout', since);
  assert.ok(shout, 'the 2025 call has an access line');
  assert.equal(moreShouts.length, 0, 'exactly one line per request');
  assert.equal(shout.level, 30, 'access lines are at info');
  assert.equal(shout.plugin, 'old');
  assert.equal(shout.principal, 'ci-bot', 'the line names who called (the token\'s name)');
  assert.equal(shout.era, '2025-11-25');
  assert.ok(session, 'the 2025 client has a session');
  assert.equal(shout.session, session, 'a 2025 line names the client session');
  assert.match(String(shout.requestId), /^[0-9a-f-]{36}$/, 'a request without an X-Request-Id gets one');
  assert.equal(typeof shout.durationMs, 'number');
  assert.equal(shout.outcome, 'ok');

  const [echo] = callsOf('mod_echo', since);
  assert.ok(echo, 'the 2026 call has an access line');
  assert.deepEqual({ plugin: echo.plugin, era: echo.era, principal: echo.principal, outcome: echo.outcome, session: echo.session }, {
    plugin: 'mod',
    era: '2026-07-28',
    principal: 'ci-bot',
    outcome: 'ok',
    session: undefined,
  });
  const [unknown] = callsOf('mod_no_such_tool', since);
  assert.ok(unknown, 'a refused call has an access line too');
  assert.deepEqual({ outcome: unknown.outcome, code: unknown.code, plugin: unknown.plugin }, { outcome: 'error', code: -32602, plugin: undefined });
  assert.ok(accessLines().slice(since).some((line) => line.method === 'tools/list' && line.era === '2026-07-28'), 'lists are logged too');

  const written = JSON.stringify(accessLines().slice(since));
  assert.ok(!written.includes(ARGUMENT) && !written.includes(ARGUMENT.toUpperCase()), 'arguments and results never reach an access line');
});

test('a request the client cancels is logged as cancelled', async () => {
  const since = accessLines().length;
  const v1 = await legacyClient();
  try {
    const cancel = new AbortController();
    const call = v1.client.callTool({ name: 'mod_slow', arguments: { ms: 30_000 } }, undefined, { signal: cancel.signal });
    await until(() => ([...proxy.switchboard.sessions.values()].some((session) => session.requestsInProgress > 0) ? true : undefined), 'the call to be in progress at the proxy');
    cancel.abort('the user gave up');
    await assert.rejects(call);
    const [line] = await until(() => {
      const lines = callsOf('mod_slow', since);
      return lines.length ? lines : undefined;
    }, 'the access line of the cancelled call');
    assert.equal(line!.outcome, 'cancelled');
    assert.equal(line!.plugin, 'mod');
  } finally {
    await v1.close();
  }
});

async function recordAtBackend(on: boolean): Promise<void> {
  await fetch(legacy.url.replace(/\/mcp$/, '/control'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ record: on }) });
}

async function recordedAtBackend(): Promise<Array<{ method?: string; name?: string; headers: Record<string, string> }>> {
  return ((await (await fetch(legacy.url.replace(/\/mcp$/, '/control'))).json()) as { requests: [] }).requests;
}

test('the request id ties a client request to its access line and to the backend request it caused, in both eras', async () => {
  const since = accessLines().length;
  await recordAtBackend(true);
  const v1 = await legacyClient();
  const chosen = await legacyClient({ 'X-Request-Id': 'client-chose-this-42' });
  const v2 = await modernClient({ 'X-Request-Id': 'v2-client-id.7' });
  const v2plain = await modernClient();
  try {
    await v1.client.callTool({ name: 'old_shout', arguments: { text: 'generated' } });
    await chosen.client.callTool({ name: 'old_shout', arguments: { text: 'chosen' } });
    const seenByModern = JSON.parse(textOf(await v2.callTool({ name: 'mod_headers', arguments: {} }))) as Record<string, string>;
    assert.equal(seenByModern['x-request-id'], 'v2-client-id.7', "a 2026 client's request id reaches the 2026 backend");
    const seenPlain = JSON.parse(textOf(await v2plain.callTool({ name: 'mod_headers', arguments: {} }))) as Record<string, string>;
    const [plainLine] = callsOf('mod_headers', since).filter((line) => line.requestId !== 'v2-client-id.7');
    assert.ok(plainLine, 'the 2026 call without an id has an access line');
    assert.equal(seenPlain['x-request-id'], plainLine.requestId, 'the id the proxy made up reaches the backend and its access line alike');
  } finally {
    await Promise.all([v1.close(), chosen.close(), v2.close(), v2plain.close()]);
  }
  const recorded = (await recordedAtBackend()).filter((r) => r.method === 'tools/call' && r.name === 'shout');
  await recordAtBackend(false);
  const [generated, chosenLine] = callsOf('old_shout', since);
  assert.ok(generated && chosenLine, 'both 2025 calls have access lines');
  assert.equal(chosenLine.requestId, 'client-chose-this-42', 'a sane X-Request-Id from the client is kept');
  const ids = recorded.map((r) => r.headers['x-request-id']);
  assert.ok(ids.includes(generated.requestId as string), `the backend got the id of the access line (${generated.requestId}), got ${ids.join(', ')}`);
  assert.ok(ids.includes('client-chose-this-42'), 'the backend got the id the client chose');
});

test('the response names the request id; an incoming one that is too long or has odd characters is replaced', async () => {
  const post = (id?: string) =>
    fetch(proxy.url, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json', accept: ACCEPT, ...(id && { 'x-request-id': id }) }, body: JSON.stringify(INITIALIZE) });
  assert.equal((await post('trace-0af7651916cd43dd')).headers.get('x-request-id'), 'trace-0af7651916cd43dd');
  for (const bad of ['has spaces in it', 'a'.repeat(129), 'quote"and<markup>', 'line\tbreak']) {
    const echoed = (await post(bad)).headers.get('x-request-id');
    assert.match(echoed ?? '', /^[0-9a-f-]{36}$/, `${JSON.stringify(bad.slice(0, 20))} is replaced by a fresh id, not echoed`);
  }
  const refused = await fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT }, body: JSON.stringify(INITIALIZE) });
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, 'refusals name their request id too');
});

test('no secret reaches an access line: tokens, manifest header values, values from the environment, URI query values', async () => {
  const since = accessLines().length;
  const v1 = await legacyClient();
  const v2 = await modernClient();
  try {
    // Clients can put anything in a name; the proxy must not write it out when it is a secret.
    for (const name of [`example_${TOKEN}`, `old_${HEADER_SECRET}`, `x_${ENV_SECRET}`]) {
      await assert.rejects(v1.client.callTool({ name, arguments: {} }));
      await assert.rejects(v2.callTool({ name, arguments: {} }));
    }
    await assert.rejects(v1.client.callTool({ name: 'x_forged\n{"level":50,"msg":"fake"}', arguments: {} }));
    await assert.rejects(v1.client.readResource({ uri: `docs://guide/intro?api_key=${URI_SECRET}` }));
    await assert.rejects(v2.readResource({ uri: `docs://guide/intro?api_key=${URI_SECRET}` }));
    assert.equal(textOf(await v1.client.callTool({ name: 'old_shout', arguments: { text: 'the header secret went to the backend' } })), 'THE HEADER SECRET WENT TO THE BACKEND');
  } finally {
    await v1.close();
    await v2.close();
  }
  const lines = accessLines().slice(since);
  assert.equal(lines.filter((line) => line.method === 'tools/call' && String(line.tool).includes('***')).length, 6, 'each call with a secret in its name is logged, the secret replaced');
  assert.ok(lines.some((line) => line.tool === 'x_forged?{"level":50,"msg":"fake"}'), 'a control character in a name is written as ?, so a pretty log cannot be forged');
  const reads = lines.filter((line) => line.method === 'resources/read');
  assert.equal(reads.length, 2, 'both reads are logged');
  for (const read of reads) assert.equal(read.uri, 'docs://guide/intro?api_key=***', 'a URI is logged with its query values redacted');
  const written = JSON.stringify(lines);
  for (const secret of [TOKEN, HEADER_SECRET, ENV_SECRET, URI_SECRET]) assert.ok(!written.includes(secret), `an access line shows the secret ${secret.slice(0, 12)}...`);
});

test('at warn, nothing is logged per request', async () => {
  const written: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      written.push(String(chunk));
      done();
    },
  });
  const switchboard = await createSwitchboard({ cwd: ROOT, pluginDirs: ['plugins'], log: createLogger({ level: 'warn', destination: sink, secrets: new Secrets() }) });
  const url = await switchboard.listen(0, '127.0.0.1');
  await switchboard.settled;
  const client = new Client({ name: 'quiet', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  try {
    await client.connect(transport);
    await client.listTools();
    assert.equal(textOf(await client.callTool({ name: 'example_hello_world', arguments: {} })), 'Hello from the example MCP server!');
    await assert.rejects(client.callTool({ name: 'example_nope', arguments: {} }));
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
    await switchboard.close();
  }
  const requests = (await switchboard.metrics.requestTotals()).total;
  assert.equal(requests, 3, 'the requests were served and counted');
  assert.deepEqual(written.filter((line) => line.includes('"access":true') || line.includes('tools/call')), [], 'no line per request at warn');
});

/** A destination that keeps each write it was given, as one string. */
function writesInto(writes: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
  });
}

test('batched access lines: written together within 100 ms, with any other line, at once from a warning on, and at flush()', async () => {
  const writes: string[] = [];
  const log = createLogger({ level: 'info', destination: writesInto(writes), batched: true });
  const access = (msg: string) => log.child({ plugin: 'x' }).info({ access: true }, msg);
  const msgs = (write: string) => write.trim().split('\n').map((line) => JSON.parse(line).msg);
  access('one');
  access('two');
  access('three');
  assert.equal(writes.length, 0, 'access lines were written one by one, not batched');
  await until(() => (writes.length > 0 ? true : undefined), 'the batched lines to be written', 2000);
  assert.equal(writes.length, 1, `three access lines took ${writes.length} writes`);
  assert.deepEqual(msgs(writes[0]!), ['one', 'two', 'three']);

  access('four');
  log.info('serving 1 plugin(s)');
  assert.equal(writes.length, 2, 'a line that is not an access line waited for the batch');
  assert.deepEqual(msgs(writes[1]!), ['four', 'serving 1 plugin(s)']);

  access('five');
  log.child({ plugin: 'x' }).warn('six');
  assert.equal(writes.length, 3, 'a warning waited for the batch');
  assert.deepEqual(msgs(writes[2]!), ['five', 'six']);

  access('seven');
  log.flush();
  assert.equal(writes.length, 4, 'flush() left a line waiting');
  assert.deepEqual(msgs(writes[3]!), ['seven']);
  log.flush();
  assert.equal(writes.length, 4, 'an empty flush wrote something');

  // 16 KiB waiting are written without waiting for the timer.
  for (let i = 0; i < 200; i++) access('x'.repeat(100));
  assert.ok(writes.length > 4, 'more than 16 KiB of access lines waited for the timer');
});

test('the command writes the access line of the last call before it exits (SIGTERM right after the call)', async () => {
  const proc = await startProcess(process.execPath, ['bin/switchboard.js', 'serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json'], {
    ready: /"msg":"serving \d+ plugin\(s\) at (http:[^"]+)"/,
  });
  try {
    const client = new Client({ name: 'last-call', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(proc.url)));
    assert.equal(textOf(await client.callTool({ name: 'example_hello_world', arguments: {} })), 'Hello from the example MCP server!');
    process.kill(proc.child.pid!, 'SIGTERM');
    await new Promise((resolve) => proc.child.once('exit', resolve));
    const lines = proc.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Line);
    assert.ok(
      lines.some((line) => line.access === true && line.tool === 'example_hello_world'),
      `no access line for the call among the lines the proxy wrote before exiting:\n${proc.output()}`,
    );
    assert.ok(lines.some((line) => /SIGTERM: shutting down/.test(String(line.msg))), 'the shutdown line is missing');
  } finally {
    await proc.stop();
  }
});

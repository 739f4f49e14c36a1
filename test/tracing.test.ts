/**
 * OpenTelemetry tracing, end to end: clients of both eras call tools through the real proxy on
 * backends of both eras (real remote servers that report the headers they got); spans are caught
 * by an in-process exporter. Also: the OTLP/HTTP exporter really posts to a collector, the
 * settings and OTEL_* variables, and no OpenTelemetry module is loaded while tracing is off.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import { ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { loadConfig } from '../core/config/config.ts';
import { createSwitchboard } from '../core/switchboard.ts';
import { resolveTracing } from '../core/observability/tracing-settings.ts';
import { Secrets } from '../core/redact.ts';
import { FIXTURES, ROOT, startProcess, startProxy, startRemoteFixture, textOf, until, type RunningProcess, type RunningProxy } from './helpers.ts';

const run = promisify(execFile);

let legacyBackend: RunningProcess;
let modernBackend: RunningProcess;
let proxy: RunningProxy;
const exporter = new InMemorySpanExporter();
/** A value the proxy knows as secret (as it knows tokens, manifest header values, `${VAR}` values). */
const SECRET = 'tracing-secret-value-31337';
const secrets = new Secrets();
secrets.set('test', [SECRET]);

before(async () => {
  [legacyBackend, modernBackend] = await Promise.all([
    startRemoteFixture(),
    startProcess(process.execPath, ['--import', 'tsx', 'test/fixtures/modern-server.ts'], { env: { PORT: '0' }, ready: /listening (http:\S+)/ }),
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-tracing-'));
  for (const [prefix, url] of Object.entries({ rem: legacyBackend.url, mod: modernBackend.url })) {
    await mkdir(join(dir, prefix));
    await writeFile(join(dir, prefix, 'plugin.json'), JSON.stringify({ prefix, remote: { url } }));
  }
  proxy = await startProxy({ pluginDirs: [dir, join(FIXTURES, 'plugins')], traceExporter: exporter, secrets });
  assert.equal(proxy.switchboard.registry.get('mod')?.era, '2026-07-28', 'the modern fixture is spoken to in the 2026 era');
});

after(async () => {
  await proxy?.close();
  await Promise.all([legacyBackend?.stop(), modernBackend?.stop()]);
});

/** A W3C trace context as a client that traces would send it. */
function clientTrace(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

interface TracingClient {
  readonly era: string;
  call(name: string, args?: Record<string, unknown>): Promise<unknown>;
  list(): Promise<unknown>;
  sessionId?: string;
  close(): Promise<void>;
}

async function legacyClient(headers: Record<string, string> = {}): Promise<TracingClient> {
  const client = new Client({ name: 'v1-tracing', version: '1.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers } });
  await client.connect(transport);
  return {
    era: '2025-11-25',
    sessionId: transport.sessionId,
    call: (name, args = {}) => client.callTool({ name, arguments: args }),
    list: () => client.listTools(),
    close: async () => {
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

async function modernClient(headers: Record<string, string> = {}): Promise<TracingClient> {
  const client = new V2Client({ name: 'v2-tracing', version: '1.0.0' }, { capabilities: {}, versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new V2Transport(new URL(proxy.url), { requestInit: { headers } }));
  return { era: '2026-07-28', call: (name, args = {}) => client.callTool({ name, arguments: args }), list: () => client.listTools(), close: () => client.close() };
}

const CLIENTS: Array<[string, (headers?: Record<string, string>) => Promise<TracingClient>]> = [
  ['2025-11-25', legacyClient],
  ['2026-07-28', modernClient],
];

/** The finished spans of one trace, once `count` of them are there. */
async function spansOf(traceId: string, count: number): Promise<ReadableSpan[]> {
  return until(() => {
    const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
    return spans.length >= count ? spans : undefined;
  }, `${count} finished span(s) of trace ${traceId}; have: ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}`);
}

function only(spans: ReadableSpan[], kind: SpanKind, name: string): ReadableSpan {
  const found = spans.filter((span) => span.kind === kind && span.name === name);
  assert.equal(found.length, 1, `one ${SpanKind[kind]} span named "${name}" (spans: ${spans.map((s) => `${SpanKind[s.kind]} ${s.name}`).join(', ')})`);
  return found[0]!;
}

for (const [era, open] of CLIENTS) {
  for (const [prefix, backendEra] of [
    ['rem', '2025-11-25'],
    ['mod', '2026-07-28'],
  ] as const) {
    test(`a ${era} client's call to a ${backendEra} remote backend is one trace: client -> proxy SERVER span -> CLIENT span -> backend traceparent`, async () => {
      const incoming = clientTrace();
      const client = await open({ traceparent: incoming.traceparent });
      try {
        const seen = JSON.parse(textOf(await client.call(`${prefix}_headers`))) as Record<string, string>;
        const spans = await spansOf(incoming.traceId, 2);
        const server = only(spans, SpanKind.SERVER, `tools/call ${prefix}_headers`);
        const backend = only(spans, SpanKind.CLIENT, 'tools/call headers');

        assert.equal(server.parentSpanContext?.spanId, incoming.spanId, "the client's traceparent is the parent of the proxy's span: the proxy shows up in the client's trace");
        assert.equal(backend.parentSpanContext?.spanId, server.spanContext().spanId, 'the backend request is a child of the client request');
        assert.equal(
          seen.traceparent,
          `00-${incoming.traceId}-${backend.spanContext().spanId}-01`,
          "the backend got the trace id and the proxy's CLIENT span as its parent, so its spans join the trace",
        );

        assert.equal(server.attributes['mcp.method.name'], 'tools/call');
        assert.equal(server.attributes['gen_ai.tool.name'], `${prefix}_headers`, 'the server span names the tool as the client called it');
        assert.equal(server.attributes['mcp.protocol.version'], era);
        assert.equal(server.attributes['switchboard.plugin'], prefix, 'the server span says which plugin served the call');
        if (client.sessionId) assert.equal(server.attributes['mcp.session.id'], client.sessionId);
        else assert.equal(server.attributes['mcp.session.id'], undefined, 'a stateless request has no session');
        assert.equal(backend.attributes['gen_ai.tool.name'], 'headers', "the client span names the tool as the backend knows it");
        assert.equal(backend.attributes['mcp.protocol.version'], backendEra);
        assert.equal(backend.attributes['server.address'], '127.0.0.1');
        assert.equal(server.status.code, SpanStatusCode.UNSET, 'a call that worked is no error');
      } finally {
        await client.close();
      }
    });
  }
}

test('a client that sends no traceparent starts a new trace at the proxy', async () => {
  const client = await legacyClient();
  try {
    const before = new Set(exporter.getFinishedSpans().map((span) => span.spanContext().spanId));
    await client.call('fx_echo', { message: 'hi' });
    const server = await until(
      () => exporter.getFinishedSpans().find((span) => !before.has(span.spanContext().spanId) && span.kind === SpanKind.SERVER && span.name === 'tools/call fx_echo'),
      'the SERVER span of fx_echo',
    );
    assert.equal(server.parentSpanContext, undefined, 'a root span');
    const [backend] = await spansOf(server.spanContext().traceId, 2).then((spans) => spans.filter((span) => span.kind === SpanKind.CLIENT));
    assert.equal(backend?.name, 'tools/call echo', 'an in-process plugin gets a CLIENT span too');
  } finally {
    await client.close();
  }
});

for (const [era, open] of CLIENTS) {
  test(`${era}: a tool that answers isError, and a call the proxy refuses, make their spans errors`, async () => {
    const incoming = clientTrace();
    const client = await open({ traceparent: incoming.traceparent });
    try {
      const failed = (await client.call('fx_fail')) as { isError?: boolean };
      assert.equal(failed.isError, true);
      const spans = await spansOf(incoming.traceId, 2);
      const server = only(spans, SpanKind.SERVER, 'tools/call fx_fail');
      const backend = only(spans, SpanKind.CLIENT, 'tools/call fail');
      for (const span of [server, backend]) {
        assert.equal(span.status.code, SpanStatusCode.ERROR, `${span.name}: a failed tool shows as an error in the trace`);
        assert.equal(span.attributes['error.type'], 'tool_error');
      }

      await assert.rejects(client.call('fx_no_such_tool'));
      const refused = await spansOf(incoming.traceId, 3).then((all) => only(all, SpanKind.SERVER, 'tools/call fx_no_such_tool'));
      assert.equal(refused.status.code, SpanStatusCode.ERROR);
      assert.match(String(refused.attributes['rpc.response.status_code']), /^-32\d{3}$/, 'the JSON-RPC error code is on the span');
      assert.match(refused.status.message ?? '', /fx_no_such_tool/, 'the error message says what went wrong');
    } finally {
      await client.close();
    }
  });
}

test('a method the proxy does not know is an error span (-32601)', async () => {
  const incoming = clientTrace();
  const client = new Client({ name: 'unknown-method', version: '1.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: { traceparent: incoming.traceparent } } });
  await client.connect(transport);
  try {
    await assert.rejects(client.request({ method: 'nothing/here', params: {} }, ResultSchema), /Method not found/);
    const span = await spansOf(incoming.traceId, 1).then((spans) => only(spans, SpanKind.SERVER, 'nothing/here'));
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['rpc.response.status_code'], '-32601');
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
});

test('a list request is a SERVER span too, in the client\'s trace', async () => {
  const incoming = clientTrace();
  const client = await legacyClient({ traceparent: incoming.traceparent });
  try {
    await client.list();
    const [server] = await spansOf(incoming.traceId, 1).then((spans) => spans.filter((span) => span.kind === SpanKind.SERVER));
    assert.equal(server?.name, 'tools/list');
    assert.equal(server?.attributes['mcp.method.name'], 'tools/list');
    assert.equal(server?.parentSpanContext?.spanId, incoming.spanId);
  } finally {
    await client.close();
  }
});

test('sampleRatio 0 records no new trace, but backends still get the trace context; a sampled client trace is still recorded', async () => {
  const unsampled = new InMemorySpanExporter();
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-sampling-'));
  await mkdir(join(dir, 'rem'));
  await writeFile(join(dir, 'rem', 'plugin.json'), JSON.stringify({ prefix: 'rem', remote: { url: legacyBackend.url } }));
  const sampled = await startProxy({ pluginDirs: [dir], tracing: { sampleRatio: 0 }, traceExporter: unsampled });
  try {
    const call = async (headers: Record<string, string>) => {
      const client = new Client({ name: 'sampling', version: '1.0.0' }, { capabilities: {} });
      const transport = new StreamableHTTPClientTransport(new URL(sampled.url), { requestInit: { headers } });
      await client.connect(transport);
      try {
        return JSON.parse(textOf(await client.callTool({ name: 'rem_headers', arguments: {} }))) as Record<string, string>;
      } finally {
        await transport.terminateSession().catch(() => {});
        await client.close();
      }
    };
    const seen = await call({});
    assert.match(seen.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/, `the backend gets a traceparent marked not sampled (got ${seen.traceparent})`);
    const incoming = clientTrace();
    const forced = await call({ traceparent: incoming.traceparent });
    assert.ok(forced.traceparent?.startsWith(`00-${incoming.traceId}-`), "the client's trace goes on to the backend");
    const spans = await until(() => {
      const all = unsampled.getFinishedSpans();
      return all.length >= 2 ? all : undefined;
    }, "the spans of the client's sampled trace");
    assert.ok(spans.every((span) => span.spanContext().traceId === incoming.traceId), 'only the trace the client sampled is recorded');
  } finally {
    await sampled.close();
  }
});

test('traceparent in params._meta (the MCP semantic conventions) is the parent too', async () => {
  const incoming = clientTrace();
  const client = new Client({ name: 'meta-tracing', version: '1.0.0' }, { capabilities: {} });
  const transport = new StreamableHTTPClientTransport(new URL(proxy.url));
  await client.connect(transport);
  try {
    await client.callTool({ name: 'fx_echo', arguments: { message: 'hi' }, _meta: { traceparent: incoming.traceparent } });
    const spans = await spansOf(incoming.traceId, 2);
    assert.equal(only(spans, SpanKind.SERVER, 'tools/call fx_echo').parentSpanContext?.spanId, incoming.spanId);
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
});

test('a resource URI reaches a span with its query values redacted, as in the access log (a collector is no place for a key)', async () => {
  const incoming = clientTrace();
  const transport = new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers: { traceparent: incoming.traceparent } } });
  const reader = new Client({ name: 'uri-tracing', version: '1.0.0' }, { capabilities: {} });
  await reader.connect(transport);
  try {
    await reader.readResource({ uri: 'fixture://fx/items/1?api_key=s3cret-key-value' }).catch(() => {});
    const [server] = await spansOf(incoming.traceId, 1).then((spans) => spans.filter((span) => span.kind === SpanKind.SERVER && span.name === 'resources/read'));
    const uri = String(server?.attributes['mcp.resource.uri']);
    assert.ok(!uri.includes('s3cret-key-value'), `the query value is not in the span (got ${uri})`);
    assert.match(uri, /\?api_key=\*\*\*$/, 'the key is named, its value redacted');
  } finally {
    await transport.terminateSession().catch(() => {});
    await reader.close();
  }
});

test('no secret reaches a span: a name carrying one, and the error message that repeats it, are scrubbed', async () => {
  const incoming = clientTrace();
  const client = await legacyClient({ traceparent: incoming.traceparent });
  try {
    const name = `fx_${SECRET}`;
    const answer = await client.call(name).then((result) => JSON.stringify(result), (error: Error) => error.message);
    assert.ok(answer.includes(SECRET), `the client is told about its own unknown tool (${answer})`);
    const [server] = await spansOf(incoming.traceId, 1).then((spans) => spans.filter((span) => span.kind === SpanKind.SERVER));
    assert.ok(server, 'the call made a SERVER span');
    const exported = JSON.stringify({ name: server.name, attributes: server.attributes, status: server.status, events: server.events });
    assert.ok(!exported.includes(SECRET), `a span carries the secret: ${exported}`);
    assert.match(String(server.attributes['gen_ai.tool.name']), /^fx_\*+/, 'the name is kept, the secret in it replaced');
  } finally {
    await client.close();
  }
});

test('with tracing.endpoint set, spans are posted to the OTLP/HTTP collector at /v1/traces (flushed on close)', async () => {
  const received: Array<{ path: string; headers: IncomingHttpHeaders; body: string }> = [];
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const { port } = collector.address() as AddressInfo;
  const traced = await startProxy({
    pluginDirs: [join(FIXTURES, 'plugins')],
    tracing: { endpoint: `http://127.0.0.1:${port}`, serviceName: 'switchboard-under-test', headers: { 'x-collector-key': 'k-123' } },
  });
  try {
    const client = new Client({ name: 'otlp', version: '1.0.0' }, { capabilities: {} });
    const transport = new StreamableHTTPClientTransport(new URL(traced.url));
    await client.connect(transport);
    await client.callTool({ name: 'fx_echo', arguments: { message: 'to the collector' } });
    await transport.terminateSession().catch(() => {});
    await client.close();
  } finally {
    await traced.close();
    collector.close();
  }
  const posts = received.filter((post) => post.path === '/v1/traces');
  assert.ok(posts.length > 0, `the collector got a POST to /v1/traces (got: ${received.map((r) => r.path).join(', ') || 'nothing'})`);
  assert.equal(posts[0]!.headers['x-collector-key'], 'k-123', "the collector's headers are sent");
  const body = posts.map((post) => post.body).join('\n');
  assert.match(body, /"service\.name".*"switchboard-under-test"/s, 'spans carry the service name');
  assert.match(body, /tools\/call fx_echo/, 'the SERVER span of the call reached the collector');
  assert.match(body, /tools\/call echo/, 'the CLIENT span of the call reached the collector');
});

test('with tracing off, no OpenTelemetry module is loaded; with it on, they are', async () => {
  const serve = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(FIXTURES, 'tracing-loads/serve.ts'), ...args], { cwd: ROOT });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as { imported: string[]; answer: string };
  };
  const off = await serve();
  assert.equal(off.answer, 'echo: hi', 'the call went through');
  assert.deepEqual(off.imported, [], 'tracing off: nothing of OpenTelemetry imported');
  const on = await serve('--tracing');
  assert.equal(on.answer, 'echo: hi');
  assert.ok(on.imported.includes('@opentelemetry/sdk-trace'), `tracing on loads the SDK (imported: ${JSON.stringify(on.imported)})`);
});

test('tracing settings: the tracing key over OTEL_* variables, OTEL_SDK_DISABLED, and errors naming the key', async () => {
  assert.equal(resolveTracing(undefined, {}), undefined, 'off by default');
  assert.deepEqual(resolveTracing(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SERVICE_NAME: 'edge' }), {
    endpoint: 'http://collector:4318/v1/traces',
    serviceName: 'edge',
    sampleRatio: 1,
  });
  assert.equal(resolveTracing(undefined, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otlp.example.com/otlp/v1/traces' })?.endpoint, 'https://otlp.example.com/otlp/v1/traces');
  assert.deepEqual(resolveTracing(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%3Db,x=y' })?.headers, { 'api-key': 'a=b', x: 'y' });
  const chosen = resolveTracing({ endpoint: 'http://tempo:4318', serviceName: 'mine', sampleRatio: 0.25 }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318', OTEL_SERVICE_NAME: 'theirs' });
  assert.deepEqual(chosen, { endpoint: 'http://tempo:4318/v1/traces', serviceName: 'mine', sampleRatio: 0.25 }, 'the tracing key wins');
  assert.equal(resolveTracing({ endpoint: 'http://tempo:4318' }, { OTEL_SDK_DISABLED: 'true' }), undefined, 'OTEL_SDK_DISABLED turns it off');
  assert.throws(() => resolveTracing({ serviceName: 'x' }, {}), /tracing\.endpoint.*not set/);
  assert.throws(() => resolveTracing(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }), /OTEL_EXPORTER_OTLP_ENDPOINT.*http\(s\) URL/);
  assert.throws(
    () => resolveTracing(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=50%-off-s3cret' }),
    (error: Error) => /OTEL_EXPORTER_OTLP_HEADERS: header "api-key" is not URL-encoded/.test(error.message) && !error.message.includes('s3cret'),
    'a header value that does not decode is a config error naming the variable and header, not a bare URIError, and the value is not shown',
  );

  const cwd = await mkdtemp(join(tmpdir(), 'switchboard-tracing-config-'));
  await assert.rejects(loadConfig({ cwd, env: { SWITCHBOARD_TRACING: '{"endpiont": "http://c:4318"}' } }), /unknown key "tracing\.endpiont" \(did you mean "endpoint"\?\)/);
  await assert.rejects(loadConfig({ cwd, env: { SWITCHBOARD_TRACING: '{"endpoint": "http://c:4318", "sampleRatio": 2}' } }), /tracing\.sampleRatio/);
  await writeFile(join(cwd, 'switchboard.config.json'), JSON.stringify({ tracing: { endpoint: 'ftp://c' } }));
  await assert.rejects(loadConfig({ cwd, env: {} }), /key "tracing\.endpoint": must be the http\(s\) URL/);
  await writeFile(join(cwd, 'switchboard.config.json'), JSON.stringify({ tracing: { serviceName: 'from-file' } }));
  const config = await loadConfig({ cwd, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' } });
  assert.deepEqual(config.tracing, { endpoint: 'http://c:4318/v1/traces', serviceName: 'from-file', sampleRatio: 1 }, "the file's key and the environment's endpoint together");
  await assert.rejects(createSwitchboard({ pluginDirs: [], cwd, tracing: { serviceName: 'embedded' } }), /"tracing\.endpoint": not set/, 'an embedder that forgets the endpoint is told');
});

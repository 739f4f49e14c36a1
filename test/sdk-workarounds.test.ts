/**
 * The SDK behaviours core/sdk-workarounds.ts works around, shown to be still there. When an SDK
 * upgrade fixes one, its test here fails: remove the workaround (and the test) then.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as V2Client, SdkHttpError, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import { McpServer as V2Server, createMcpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { jsonRpcErrorOf } from '../core/sdk-workarounds.ts';
import { join } from 'node:path';
import { FIXTURES, startProxy, until } from './helpers.ts';

test('typescript-sdk#2283 (SDK v1): a cancellation of request id 0 is ignored, of id 1 honoured (startRequestIdsAtOne, trackBackendRequests)', async () => {
  const server = new Server({ name: 's', version: '1' }, { capabilities: {} });
  const client = new Client({ name: 'c', version: '1' }, { capabilities: { elicitation: { form: {} } } });
  const aborted: boolean[] = [];
  client.setRequestHandler(ElicitRequestSchema, (_request, extra) =>
    new Promise((resolve) => {
      setTimeout(() => {
        aborted.push(extra.signal.aborted);
        resolve({ action: 'decline' });
      }, 100);
    }),
  );
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  const ask = () => server.request({ method: 'elicitation/create', params: { mode: 'form', message: 'q', requestedSchema: { type: 'object', properties: {} } } }, ElicitResultSchema, { timeout: 500 }).catch(() => undefined);
  for (const requestId of [0, 1]) {
    const pending = ask();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await server.notification({ method: 'notifications/cancelled', params: { requestId, reason: 'test' } });
    await pending;
  }
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.deepEqual(aborted, [false, true], 'the SDK still ignores the cancellation of id 0 (if this fails, #2283 is fixed: drop the workaround)');
  await client.close();
  await server.close();
});

test('SDK v1 streamable HTTP client transport: every fetch gets the same AbortSignal (fetchWithOwnSignal)', async () => {
  const signals: Array<AbortSignal | null | undefined> = [];
  const http = createServer((req, res) => {
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const message = JSON.parse(body);
        if (message.id === undefined) return void res.writeHead(202).end();
        const result = message.method === 'initialize' ? { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'x', version: '1' } } : {};
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
      });
    } else res.writeHead(405).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`);
  const client = new Client({ name: 'c', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(url, { fetch: (input, init) => (signals.push(init?.signal), fetch(input, init)) }));
  await client.ping();
  await client.ping();
  await client.close();
  http.close();
  const posts = signals.filter(Boolean);
  assert.ok(posts.length >= 3);
  assert.ok(posts.every((signal) => signal === posts[0]), 'one shared signal for every request (if this fails, the SDK gives each its own: drop fetchWithOwnSignal)');
});

test('SDK v2 client: a -32601 answered with HTTP 404 on a 2026-07-28 exchange arrives as an SdkHttpError, not unwrapped (jsonRpcErrorOf)', async () => {
  const handler = createMcpHandler(() => new V2Server({ name: 'v2', version: '1' }, { capabilities: { tools: {} } }), { legacy: 'reject' });
  const serve = toNodeHandler(handler);
  const http = createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const client = new V2Client({ name: 'c', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new V2Transport(new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`)));
  try {
    const error = await client.request({ method: 'resources/list', params: {} }, z.looseObject({})).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof SdkHttpError, `still an SdkHttpError (if this fails, the SDK unwraps 404 bodies: drop jsonRpcErrorOf); got ${String(error)}`);
    assert.equal(error.status, 404);
    assert.deepEqual(jsonRpcErrorOf(error), { code: -32601, message: 'Method not found', data: undefined });
  } finally {
    await client.close();
    await handler.close();
    http.close();
  }
});

test("typescript-sdk#2283 (SDK v1): a client's cancellation of its own request id 0 is dropped by the server (hearCancellationOfIdZero)", async () => {
  const server = new Server({ name: 's', version: '1' }, { capabilities: { tools: {} } });
  let sawAbort: boolean | undefined;
  server.fallbackRequestHandler = async (_request, extra) => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    sawAbort = extra.signal.aborted;
    return {};
  };
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await clientSide.start();
  const answered = new Promise<void>((resolve) => (clientSide.onmessage = () => resolve()));
  await clientSide.send({ jsonrpc: '2.0', id: 0, method: 'tools/list', params: {} });
  await clientSide.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 0, reason: 'test' } });
  await answered;
  assert.equal(sawAbort, false, 'the SDK still drops the cancellation of id 0 (if this fails, #2283 is fixed: drop hearCancellationOfIdZero)');
  await server.close();
});

test("through the proxy, a client's cancellation of its request id 0 reaches the backend", async () => {
  const proxy = await startProxy({ pluginDirs: [join(FIXTURES, 'plugins')] });
  const post = (body: unknown, session?: string) =>
    fetch(proxy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(session && { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' }) },
      body: JSON.stringify(body),
    });
  try {
    const init = await post({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    const session = init.headers.get('mcp-session-id')!;
    await init.text();
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
    const hanging = post({ jsonrpc: '2.0', id: 0, method: 'tools/call', params: { name: 'fid_hang', arguments: {} } }, session).then((r) => r.text());
    await new Promise((resolve) => setTimeout(resolve, 300));
    await post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 0, reason: 'the user gave up' } }, session);
    await hanging.catch(() => '');
    const seen = await until(async () => {
      const text = await (await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'fid_cancellations', arguments: {} } }, session)).text();
      return text.includes('the user gave up') ? text : undefined;
    }, 'the backend to see the cancellation');
    assert.match(seen, /the user gave up/);
  } finally {
    await proxy.close();
  }
});

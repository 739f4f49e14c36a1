/**
 * Protocol fidelity: every backend-to-client and client-to-backend feature through the proxy,
 * for an in-process plugin (`fid`) and a remote one (`remote`, a separate process), with the
 * official SDK client. server-everything.test.ts repeats the features against a server we did
 * not write; concurrency.test.ts checks routing under load.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  ProgressNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ResultSchema,
  ToolListChangedNotificationSchema,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { FIXTURES, ROOT, connect, startProxy, startRemoteFixture, textOf, type RunningProcess, type RunningProxy } from './helpers.ts';

let remote: RunningProcess;
let proxy: RunningProxy;

const FULL = { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } };

/** A client that answers sampling, elicitation and roots the way these tests expect. */
function answering(client: Client): void {
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const content = request.params.messages[0]!.content;
    const first = Array.isArray(content) ? content[0] : content;
    return { role: 'assistant', model: 'test-model', content: { type: 'text', text: `sampled: ${first?.type === 'text' ? first.text : '?'}` } };
  });
  client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
    if (request.params.mode === 'url') return { action: 'accept' };
    if (request.params.message === 'quick!') {
      // Never answer: wait until the backend gives up and its cancellation reaches us.
      await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve(), { once: true }));
      cancelledByBackend.push(String(extra.signal.reason));
      return { action: 'cancel' };
    }
    return { action: 'accept', content: { answer: `answer to ${request.params.message}` } };
  });
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work/project', name: 'project' }] }));
}
const cancelledByBackend: string[] = [];

before(async () => {
  remote = await startRemoteFixture();
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-fidelity-'));
  await mkdir(join(dir, 'remote'));
  await writeFile(join(dir, 'remote', 'index.js'), `export default { prefix: 'remote', remote: { url: ${JSON.stringify(remote.url)} } };\n`);
  proxy = await startProxy({ pluginDirs: [join(FIXTURES, 'plugins'), dir], resumeGraceMs: 300 });
});

after(async () => {
  await proxy?.close();
  await remote?.stop();
});

for (const prefix of ['fid', 'remote']) {
  const kind = prefix === 'fid' ? 'in-process' : 'remote';
  describe(`${kind} plugin`, () => {
    test('sampling requests reach the client and its answer reaches the backend', async () => {
      const { client, close } = await connect(proxy.url, FULL, answering);
      try {
        assert.equal(textOf(await client.callTool({ name: `${prefix}_sample`, arguments: { prompt: 'a haiku' } })), 'sampled: a haiku');
      } finally {
        await close();
      }
    });

    test('form and URL elicitation reach the client and its answer reaches the backend', async () => {
      const { client, close } = await connect(proxy.url, FULL, answering);
      try {
        assert.equal(textOf(await client.callTool({ name: `${prefix}_ask`, arguments: { question: 'your name?' } })), 'answer to your name?');
        assert.equal(textOf(await client.callTool({ name: `${prefix}_open_url`, arguments: { url: 'https://example.com/login' } })), 'accept');
      } finally {
        await close();
      }
    });

    test('roots requests reach the client; roots/list_changed reaches the backend', async () => {
      const { client, close } = await connect(proxy.url, FULL, answering);
      try {
        assert.equal(textOf(await client.callTool({ name: `${prefix}_roots` })), 'file:///work/project');
        await client.sendRootsListChanged();
        let changed = '0';
        for (let i = 0; i < 50 && changed === '0'; i++) {
          changed = textOf(await client.callTool({ name: `${prefix}_roots_changed` }));
          if (changed === '0') await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.equal(changed, '1', 'the backend heard that the roots changed');
      } finally {
        await close();
      }
    });

    test("progress reaches the client with the client's own progress token", async () => {
      const { client, close } = await connect(proxy.url, FULL, answering);
      try {
        const seen: Array<{ progressToken: unknown; progress: number; message?: string }> = [];
        client.setNotificationHandler(ProgressNotificationSchema, (notification) => void seen.push(notification.params));
        const result = await client.request(
          { method: 'tools/call', params: { name: `${prefix}_count_to`, arguments: { n: 3, delayMs: 10 }, _meta: { progressToken: 'my-token-7' } } },
          ResultSchema,
        );
        assert.equal(textOf(result), 'counted to 3');
        assert.deepEqual(seen.map((p) => [p.progressToken, p.progress, p.message]), [
          ['my-token-7', 1, 'step 1'],
          ['my-token-7', 2, 'step 2'],
          ['my-token-7', 3, 'step 3'],
        ]);
      } finally {
        await close();
      }
    });

    test('progress keeps a long call alive past the timeout (resetTimeoutOnProgress)', async () => {
      const { client, close } = await connect(proxy.url, FULL, answering);
      try {
        const result = await client.callTool({ name: `${prefix}_count_to`, arguments: { n: 8, delayMs: 100 } }, undefined, {
          onprogress: () => {},
          timeout: 400,
          resetTimeoutOnProgress: true,
        });
        assert.equal(textOf(result), 'counted to 8');
      } finally {
        await close();
      }
    });

    test("the client's cancellation cancels the backend request", async () => {
      const { client, close } = await connect(proxy.url, FULL, answering);
      try {
        const controller = new AbortController();
        const call = client.callTool({ name: `${prefix}_hang` }, undefined, { signal: controller.signal });
        await new Promise((resolve) => setTimeout(resolve, 200));
        controller.abort('user pressed stop');
        await assert.rejects(call);
        let reasons: string[] = [];
        for (let i = 0; i < 50 && reasons.length === 0; i++) {
          reasons = JSON.parse(textOf(await client.callTool({ name: `${prefix}_cancellations` })));
          if (reasons.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.equal(reasons.length, 1, 'the backend saw the cancellation');
      } finally {
        await close();
      }
    });

    test('a client that drops the request stream cancels the backend request', async () => {
      const { client, transport, close } = await connect(proxy.url, FULL, answering);
      try {
        const dropped = new AbortController();
        const response = fetch(proxy.url, {
          method: 'POST',
          signal: dropped.signal,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-session-id': transport.sessionId!,
            'mcp-protocol-version': '2025-11-25',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 'raw-1', method: 'tools/call', params: { name: `${prefix}_hang`, arguments: {} } }),
        });
        assert.equal((await response).status, 200, 'the call is under way');
        await new Promise((resolve) => setTimeout(resolve, 100));
        dropped.abort();
        let reasons: string[] = [];
        for (let i = 0; i < 50 && reasons.length === 0; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          reasons = JSON.parse(textOf(await client.callTool({ name: `${prefix}_cancellations` })));
        }
        assert.equal(reasons.length, 1, 'the backend saw the cancellation when the client went away');
      } finally {
        await close();
      }
    });

    test('a client that reconnects with Last-Event-ID gets the rest of the answer, and nothing is cancelled', async () => {
      const { client, transport, close } = await connect(proxy.url, FULL, answering);
      try {
        const headers = {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': transport.sessionId!,
          'mcp-protocol-version': '2025-11-25',
        };
        const dropped = new AbortController();
        const response = await fetch(proxy.url, {
          method: 'POST',
          signal: dropped.signal,
          headers,
          body: JSON.stringify({ jsonrpc: '2.0', id: 'resume-1', method: 'tools/call', params: { name: `${prefix}_count_to`, arguments: { n: 6, delayMs: 100 }, _meta: { progressToken: 'p' } } }),
        });
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        let text = '';
        while (!/"progress":1\b/.test(text)) text += (await reader.read()).value ?? '';
        const ids = [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]!);
        assert.ok(ids.length >= 2, `events carry ids (priming event and progress): ${text}`);
        dropped.abort();
        // Reconnect as a client does, after a moment (the proxy says `retry: 1000`), well within the grace period.
        await new Promise((resolve) => setTimeout(resolve, 100));
        const resumed = await fetch(proxy.url, { headers: { ...headers, accept: 'text/event-stream', 'last-event-id': ids.at(-1)! } });
        assert.equal(resumed.status, 200);
        const rest = resumed.body!.pipeThrough(new TextDecoderStream()).getReader();
        let replay = '';
        while (!replay.includes('"id":"resume-1"')) {
          const { value, done } = await rest.read();
          if (done) break;
          replay += value;
        }
        await rest.cancel();
        assert.match(replay, /counted to 6/, 'the result arrived on the resumed stream');
        assert.match(replay, /"progress":6/);
        assert.doesNotMatch(replay, /"progress":1\b/, 'events already seen are not sent again');
        await new Promise((resolve) => setTimeout(resolve, 400));
        assert.deepEqual(JSON.parse(textOf(await client.callTool({ name: `${prefix}_cancellations` }))), [], 'a resumed stream is not a cancellation');
      } finally {
        await close();
      }
    });

    test("the backend's cancellation of its own request reaches the client", async () => {
      const { client, close } = await connect(proxy.url, FULL, answering);
      try {
        cancelledByBackend.length = 0;
        assert.equal(textOf(await client.callTool({ name: `${prefix}_impatient_ask`, arguments: { timeoutMs: 200 } })), 'gave up');
        for (let i = 0; i < 50 && cancelledByBackend.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(cancelledByBackend.length, 1, "the client's elicitation handler was cancelled");
      } finally {
        await close();
      }
    });

    test('logging/setLevel reaches the backend; log messages reach the client naming the plugin', async () => {
      const { client, close } = await connect(proxy.url, FULL, answering);
      try {
        const messages: LoggingMessageNotification['params'][] = [];
        client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push(n.params));
        await client.setLoggingLevel('warning');
        await client.callTool({ name: `${prefix}_log_all` });
        for (let i = 0; i < 50 && messages.length < 5; i++) await new Promise((resolve) => setTimeout(resolve, 20));
        await new Promise((resolve) => setTimeout(resolve, 50));
        const mine = messages.filter((m) => m.logger === `${prefix}/fixture`);
        assert.deepEqual(mine.map((m) => m.level), ['warning', 'error', 'critical', 'alert', 'emergency'], 'only warning and above, as set');
      } finally {
        await close();
      }
    });

    test('tools/list_changed reaches the client and the new tool is listed and callable', async () => {
      const { client, close } = await connect(proxy.url, FULL, answering);
      try {
        await client.listTools();
        let notified = 0;
        client.setNotificationHandler(ToolListChangedNotificationSchema, () => void notified++);
        await client.callTool({ name: `${prefix}_add_tool`, arguments: { name: 'fresh' } });
        for (let i = 0; i < 50 && notified === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.ok(notified >= 1, 'the client was told the tool list changed');
        const names = (await client.listTools()).tools.map((t) => t.name);
        assert.ok(names.includes(`${prefix}_fresh`), `the proxy refreshed its view: ${names.join(', ')}`);
        assert.equal(textOf(await client.callTool({ name: `${prefix}_fresh` })), 'fresh works');
      } finally {
        await close();
      }
    });

    test('resource subscriptions: subscribe, updates with the namespaced URI, unsubscribe', async () => {
      const { client, close } = await connect(proxy.url, FULL, answering);
      try {
        const updates: string[] = [];
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
        const uri = `watch://${prefix}/item`;
        await client.subscribeResource({ uri });
        assert.equal(textOf(await client.callTool({ name: `${prefix}_touch` })), 'notified', 'the backend got the subscription for its own URI');
        for (let i = 0; i < 50 && updates.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.deepEqual(updates, [uri]);
        await client.unsubscribeResource({ uri });
        assert.equal(textOf(await client.callTool({ name: `${prefix}_touch` })), 'nobody subscribed');
      } finally {
        await close();
      }
    });

    test('completion for prompt arguments and resource template arguments', async () => {
      const { client, close } = await connect(proxy.url, FULL, answering);
      try {
        const prompt = await client.complete({ ref: { type: 'ref/prompt', name: `${prefix}_pick` }, argument: { name: 'color', value: 'r' } });
        assert.deepEqual(prompt.completion.values, ['red']);
        const template = await client.complete({ ref: { type: 'ref/resource', uri: `palette://${prefix}/{color}` }, argument: { name: 'color', value: 'g' } });
        assert.deepEqual(template.completion.values, ['green']);
      } finally {
        await close();
      }
    });
  });
}

/** A raw `tools/call` POST in a client session, as an HTTP client sends it (the tests below read the HTTP answer itself). */
function rawCall(sessionId: string, id: string, name: string, args: Record<string, unknown>, progressToken?: string): Promise<Response> {
  return fetch(proxy.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, ...(progressToken && { _meta: { progressToken } }) } }),
  });
}

test("a backend request travels on the stream of the client request it belongs to (relatedRequestId)", async () => {
  // Raw HTTP: the elicitation must arrive inside the tools/call response stream, not elsewhere.
  const { transport, close } = await connect(proxy.url, FULL, answering);
  try {
    for (const prefix of ['fid', 'remote']) {
      const response = await rawCall(transport.sessionId!, `raw-${prefix}`, `${prefix}_ask`, { question: 'on which stream?' });
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      while (!text.includes('elicitation/create')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      assert.match(text, /"method":"elicitation\/create"/, `the elicitation from ${prefix} came on the call's own stream`);
      await reader.cancel();
    }
  } finally {
    await close();
  }
});

test('a quick answer comes as plain JSON; an answer with progress on its way, or a large one, comes as an event stream that starts with an event id to resume from', async () => {
  const { transport, close } = await connect(proxy.url, FULL, answering);
  const call = (id: string, args: Record<string, unknown>, prefix: string) => rawCall(transport.sessionId!, id, `${prefix}_count_to`, args, id);
  try {
    for (const prefix of ['fid', 'remote']) {
      await call(`open-${prefix}`, { n: 0 }, prefix).then((response) => response.text()); // opens the session's backend connection, which may take longer than a quick answer
      const quick = await call(`quick-${prefix}`, { n: 0 }, prefix);
      assert.equal(quick.headers.get('content-type'), 'application/json', `an answer of ${prefix} ready at once should come as JSON, not a stream`);
      const answer = await quick.json();
      assert.equal(answer.id, `quick-${prefix}`);
      assert.equal(textOf(answer.result), 'counted to 0');

      const slow = await call(`slow-${prefix}`, { n: 2, delayMs: 30 }, prefix);
      assert.equal(slow.headers.get('content-type'), 'text/event-stream', `an answer of ${prefix} with progress first should come as a stream`);
      const events = (await slow.text()).split('\n\n').filter(Boolean);
      assert.match(events[0]!, /^id: \S+\nretry: \d+\ndata: $/, 'the stream opens with a priming event (an id, no data)');
      assert.deepEqual(
        events.slice(1).map((event) => JSON.parse(event.slice(event.indexOf('data: ') + 6))).map((m) => m.method ?? `answer ${m.id}`),
        ['notifications/progress', 'notifications/progress', `answer slow-${prefix}`],
      );
    }
    // A large answer is not worth copying into JSON: it streams as it came, quick or not.
    const message = 'x'.repeat(70 * 1024);
    const large = await rawCall(transport.sessionId!, 'large', 'fx_echo', { message });
    assert.equal(large.headers.get('content-type'), 'text/event-stream', 'an answer over 64 KiB should stream');
    const data = (await large.text()).split('\n').find((line) => line.startsWith('data: {'));
    assert.equal(textOf(JSON.parse(data!.slice(6)).result), `echo: ${message}`);
  } finally {
    await close();
  }
});

test('the proxy advertises what its backends offer: logging, completions, subscriptions', async () => {
  const { client, close } = await connect(proxy.url, FULL, answering);
  try {
    const capabilities = client.getServerCapabilities()!;
    assert.deepEqual(capabilities.logging, {});
    assert.deepEqual(capabilities.completions, {});
    assert.equal(capabilities.resources?.subscribe, true);
    assert.equal(capabilities.tools?.listChanged, true);
  } finally {
    await close();
  }
  const plain = await startProxy({ pluginDirs: [join(ROOT, 'plugins')] });
  try {
    const other = await connect(plain.url);
    const capabilities = other.client.getServerCapabilities()!;
    assert.equal(capabilities.logging, undefined, 'no logging when no backend logs');
    assert.equal(capabilities.completions, undefined, 'no completions when no backend completes');
    assert.equal(capabilities.resources?.subscribe, undefined, 'no subscribe when no backend supports it');
    await other.close();
  } finally {
    await plain.close();
  }
});

test('the backend sees the capabilities the client declared', async () => {
  // A client without sampling: the backend's sampling request is refused by the client, as it would be directly.
  const { client, close } = await connect(proxy.url, {}, () => {});
  try {
    const result = await client.callTool({ name: 'fid_sample', arguments: { prompt: 'x' } });
    assert.equal(result.isError, true, 'a client that does not sample cannot be asked to');
  } finally {
    await close();
  }
});

test("a plugin's timeout ends a hung request with an error naming the plugin; others are unaffected", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-timeout-'));
  await mkdir(join(dir, 'slow'));
  await writeFile(
    join(dir, 'slow', 'index.ts'),
    `import { createFidelityServer } from ${JSON.stringify(join(FIXTURES, 'fidelity.ts'))};\nexport default { prefix: 'slow', timeoutMs: 300, server: () => createFidelityServer({ name: 'slow' }) };\n`,
  );
  const timed = await startProxy({ pluginDirs: [dir, join(ROOT, 'plugins')] });
  try {
    const { client, close } = await connect(timed.url);
    try {
      const started = Date.now();
      await assert.rejects(client.callTool({ name: 'slow_hang' }), (error: McpError) => {
        assert.equal(error.code, -32001);
        assert.match(error.message, /plugin "slow" \(.*slow\) did not answer tools\/call within 300 ms/);
        return true;
      });
      assert.ok(Date.now() - started < 5000);
      assert.equal(textOf(await client.callTool({ name: 'example_hello_world' })), 'Hello from the example MCP server!');
      assert.equal(textOf(await client.callTool({ name: 'slow_count_to', arguments: { n: 1, delayMs: 1 } })), 'counted to 1', 'the plugin still serves');
    } finally {
      await close();
    }
  } finally {
    await timed.close();
  }
});

test('a remote backend that dies mid-request fails that request at once, with a clear error; others go on', async () => {
  const doomed = await startRemoteFixture();
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-crash-'));
  await mkdir(join(dir, 'doomed'));
  await writeFile(join(dir, 'doomed', 'index.js'), `export default { prefix: 'doomed', remote: { url: ${JSON.stringify(doomed.url)} } };\n`);
  const crashing = await startProxy({ pluginDirs: [dir, join(ROOT, 'plugins')] });
  try {
    const { client, close } = await connect(crashing.url);
    try {
      const started = Date.now();
      await assert.rejects(client.callTool({ name: 'doomed_crash' }), (error: McpError) => {
        assert.match(error.message, /plugin "doomed" \(.*doomed\) (went away during tools\/call|failed during tools\/call)/);
        return true;
      });
      assert.ok(Date.now() - started < 10_000, `the error came after ${Date.now() - started} ms, not at the 60 s timeout`);
      assert.equal(textOf(await client.callTool({ name: 'example_hello_world' })), 'Hello from the example MCP server!');
      await assert.rejects(client.callTool({ name: 'doomed_whoami' }), /plugin "doomed" .*cannot reach/);
    } finally {
      await close();
    }
  } finally {
    await crashing.close();
    await doomed.stop();
  }
});

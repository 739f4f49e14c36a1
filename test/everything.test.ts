/**
 * Every forwarded feature against a server we did not write:
 * @modelcontextprotocol/server-everything over streamable HTTP, mounted as a remote plugin.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { connect, startEverything, startProxy, textOf, until, type Connected, type RunningProcess, type RunningProxy } from './helpers.ts';

let everything: RunningProcess;
let proxy: RunningProxy;

before(async () => {
  everything = await startEverything();
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-everything-'));
  await mkdir(join(dir, 'everything'));
  await writeFile(join(dir, 'everything', 'index.js'), `export default { prefix: 'everything', remote: { url: ${JSON.stringify(everything.url)} } };\n`);
  proxy = await startProxy({ pluginDirs: [dir] });
});

after(async () => {
  await proxy?.close();
  await everything?.stop();
});

/** A client declaring sampling, elicitation and roots, answering each. */
function fullClient(): Promise<Connected> {
  return connect(proxy.url, { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } }, (client) => {
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      role: 'assistant',
      model: 'proxy-test-model',
      content: { type: 'text', text: 'a sampled reply' },
    }));
    client.setRequestHandler(ElicitRequestSchema, async (request) =>
      request.params.mode === 'url' ? { action: 'accept' } : { action: 'accept', content: { name: 'Ada Lovelace', check: true } },
    );
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///home/ada/project', name: 'ada-project' }] }));
  });
}

test('the backend offers its capability-dependent tools because the proxy declares what the client declared', async () => {
  const full = await fullClient();
  const bare = await connect(proxy.url);
  try {
    const fullNames = (await full.client.listTools()).tools.map((t) => t.name);
    for (const name of ['everything_trigger-sampling-request', 'everything_trigger-elicitation-request', 'everything_get-roots-list']) {
      assert.ok(fullNames.includes(name), `${name} missing for a client with sampling, elicitation and roots: ${fullNames.join(', ')}`);
    }
    const bareNames = (await bare.client.listTools()).tools.map((t) => t.name);
    assert.ok(!bareNames.includes('everything_trigger-sampling-request'), 'a client without sampling does not get the sampling tool');
  } finally {
    await full.close();
    await bare.close();
  }
});

test('sampling through the proxy', async () => {
  const { client, close } = await fullClient();
  try {
    const result = await client.callTool({ name: 'everything_trigger-sampling-request', arguments: { prompt: 'hello', maxTokens: 20 } });
    assert.match(textOf(result), /a sampled reply/);
  } finally {
    await close();
  }
});

test('form elicitation through the proxy', async () => {
  const { client, close } = await fullClient();
  try {
    const result = await client.callTool({ name: 'everything_trigger-elicitation-request' });
    const text = (result.content as Array<{ text: string }>).map((c) => c.text).join('\n');
    assert.match(text, /User provided the requested information/);
    assert.match(text, /Ada Lovelace/);
  } finally {
    await close();
  }
});

test('URL elicitation through the proxy', async () => {
  const { client, close } = await fullClient();
  try {
    const result = await client.callTool({ name: 'everything_trigger-url-elicitation', arguments: { url: 'https://example.com/authorize', message: 'Sign in' } });
    assert.match((result.content as Array<{ text: string }>).map((c) => c.text).join('\n'), /User completed the URL elicitation flow/);
  } finally {
    await close();
  }
});

test('roots through the proxy', async () => {
  const { client, close } = await fullClient();
  try {
    let listed = '';
    for (let i = 0; i < 40 && !listed.includes('file:///home/ada/project'); i++) {
      listed = textOf(await client.callTool({ name: 'everything_get-roots-list' }));
      if (!listed.includes('file:///home/ada/project')) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(listed, /ada-project\n\s+URI: file:\/\/\/home\/ada\/project/);
  } finally {
    await close();
  }
});

test('progress through the proxy', async () => {
  const { client, close } = await fullClient();
  try {
    const progress: number[] = [];
    const result = await client.callTool({ name: 'everything_trigger-long-running-operation', arguments: { duration: 1, steps: 4 } }, undefined, {
      onprogress: (p) => void progress.push(p.progress),
    });
    assert.match(textOf(result), /Long running operation completed/);
    assert.deepEqual(progress, [1, 2, 3, 4]);
  } finally {
    await close();
  }
});

test('logging through the proxy, with the logger naming the plugin', async () => {
  const { client, close } = await fullClient();
  try {
    const messages: LoggingMessageNotification['params'][] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push(n.params));
    await client.setLoggingLevel('debug');
    await client.callTool({ name: 'everything_toggle-simulated-logging' });
    const first = await until(() => messages[0], 'a log message from server-everything');
    assert.ok(first.logger === 'everything' || String(first.logger).startsWith('everything/'), `logger ${first.logger} names the plugin`);
    await client.callTool({ name: 'everything_toggle-simulated-logging' });
  } finally {
    await close();
  }
});

test('resource subscriptions through the proxy, URIs namespaced both ways', async () => {
  const { client, close } = await fullClient();
  try {
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
    const uri = 'demo://everything/resource/static/document/architecture.md';
    await client.subscribeResource({ uri });
    await client.callTool({ name: 'everything_toggle-subscriber-updates' });
    const updated = await until(() => updates[0], 'a resources/updated notification');
    assert.equal(updated, uri, 'the update names the resource as the client knows it');
    await client.unsubscribeResource({ uri });
    await client.callTool({ name: 'everything_toggle-subscriber-updates' });
  } finally {
    await close();
  }
});

test('completion for prompt arguments and resource template arguments through the proxy', async () => {
  const { client, close } = await fullClient();
  try {
    assert.deepEqual(client.getServerCapabilities()?.completions, {});
    const department = await client.complete({ ref: { type: 'ref/prompt', name: 'everything_completable-prompt' }, argument: { name: 'department', value: 'E' } });
    assert.deepEqual(department.completion.values, ['Engineering']);
    const member = await client.complete({
      ref: { type: 'ref/prompt', name: 'everything_completable-prompt' },
      argument: { name: 'name', value: 'A' },
      context: { arguments: { department: 'Engineering' } },
    });
    assert.deepEqual(member.completion.values, ['Alice']);
    const id = await client.complete({
      ref: { type: 'ref/resource', uri: 'demo://everything/resource/dynamic/text/{resourceId}' },
      argument: { name: 'resourceId', value: '3' },
    });
    assert.deepEqual(id.completion.values, ['3']);
  } finally {
    await close();
  }
});

test('tasks through the proxy: a task-augmented call, its status and its result', async () => {
  const { client, close } = await fullClient();
  try {
    assert.ok(client.getServerCapabilities()?.tasks?.requests?.tools?.call, 'the proxy advertises task-augmented tool calls');
    const seen: string[] = [];
    let final: { content?: Array<{ type: string; text?: string }> } | undefined;
    const stream = client.experimental.tasks.callToolStream(
      { name: 'everything_simulate-research-query', arguments: { topic: 'proxies' } },
      CallToolResultSchema,
      { task: { ttl: 60_000 } },
    );
    for await (const message of stream) {
      seen.push(message.type === 'taskStatus' ? `status:${message.task.status}` : message.type);
      if (message.type === 'result') final = message.result as typeof final;
      if (message.type === 'error') throw message.error;
    }
    assert.equal(seen[0], 'taskCreated');
    assert.ok(seen.includes('status:completed'), seen.join(', '));
    assert.match(final?.content?.map((c) => c.text).join('\n') ?? '', /proxies/);
    const { tasks } = await client.experimental.tasks.listTasks();
    assert.ok(tasks.length >= 1, 'tasks/list reaches the backend that holds the task');
  } finally {
    await close();
  }
});

test('ping, and the combined instructions name the plugin', async () => {
  const { client, close } = await fullClient();
  try {
    assert.deepEqual(await client.ping(), {});
    assert.match(client.getInstructions() ?? '', /^## everything\n\n\S/, "server-everything's instructions, introduced by its prefix");
  } finally {
    await close();
  }
});

/**
 * The 2026-07-28 conformance fixture: an SDK v2 `McpServer` with exactly the tools, resources and
 * prompts that `@modelcontextprotocol/conformance` asks for under `--requirements 2026-07-28`,
 * answering what its checks look for. fixture-server.ts is its 2025-era sibling (SDK v1); the
 * names they share answer the same way.
 *
 * Both set-ups use it: the standalone server (modern-server.ts) and the in-process plugin
 * (modern-plugins/conformance). SDK v2 builds one instance per HTTP request, so nothing here
 * lives in an instance across requests: a multi-round tool keeps its progress in the HMAC-signed
 * `requestState` it hands the client, and list changes are published through the serving
 * handler's `notify` (see ModernFixtureOptions).
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import {
  CLIENT_CAPABILITIES_META_KEY,
  McpServer,
  ResourceTemplate,
  completable,
  createRequestStateCodec,
  fromJsonSchema,
  inputRequired,
  inputResponse,
  type CacheHint,
  type CallToolResult,
  type ClientCapabilities,
  type InputRequests,
  type McpHttpHandler,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { JSON_SCHEMA_2020_12, PNG_BASE64, WAV_BASE64 } from './fixture-server.ts';

/** What publishes list changes to the `subscriptions/listen` streams of the handler serving the fixture. */
export type ListChangeNotifier = Pick<McpHttpHandler['notify'], 'toolsChanged' | 'promptsChanged'>;

export interface ModernFixtureOptions {
  /**
   * The notifier of the handler that serves this fixture, asked when a trigger tool runs (the
   * handler is built after its factory, hence a function). Listen streams hear only what goes
   * through it: a per-request instance's own `sendToolListChanged()` is dropped by the SDK.
   * When it gives nothing, the triggers say the change on the call's own response stream
   * instead, where a proxy in front of the fixture can hear it.
   */
  notify?: () => ListChangeNotifier | undefined;
}

/**
 * The state a multi-round tool hands the client between rounds. Signed with a key of this
 * process: every round of a flow must come back to the process that started it (true for both
 * set-ups, which run one fixture process).
 */
interface FlowState {
  flow: string;
  step: number;
  name?: string;
}
const stateCodec = createRequestStateCodec<FlowState>({ key: randomBytes(32) });

/** Lists are the same for every client and change only when a trigger says so. */
const LIST_CACHE: CacheHint = { ttlMs: 300_000, cacheScope: 'public' };

/** Values offered for `arg1` of test_prompt_with_arguments. */
const ARG1_VALUES = ['paris', 'park', 'party', 'test', 'testing', 'testValue1'];

/** SEP-2243: `region` also travels as the `Mcp-Param-Region` header, which the SDK checks against the body. */
const X_MCP_HEADER_SCHEMA = { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' } }, required: ['region'] };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });

/** What the client of this request declared (2026: per request, in the `_meta` envelope). */
function clientCapabilities(ctx: ServerContext): ClientCapabilities {
  // The SDK types the envelope as {}: its keys are read by name.
  const envelope = (ctx.mcpReq.envelope ?? {}) as Record<string, unknown>;
  return (envelope[CLIENT_CAPABILITIES_META_KEY] ?? {}) as ClientCapabilities;
}

/** The verified state of `flow`, if this request carries one (the SDK refuses a tampered one before we run). */
function stateOf(ctx: ServerContext, flow: string): FlowState | undefined {
  const state = ctx.mcpReq.requestState<FlowState>();
  return state?.flow === flow ? state : undefined;
}

const askName = () =>
  inputRequired.elicit({
    message: 'What is your name?',
    requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  });
const askCapital = () =>
  inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }], maxTokens: 100 });

/** A text answer from an elicitation key's accepted content, or undefined when it was not answered. */
function answered(ctx: ServerContext, key: string, field: string): string | undefined {
  const view = inputResponse(ctx.mcpReq.inputResponses, key);
  if (view.kind !== 'elicit' || view.action !== 'accept') return undefined;
  const value = view.content?.[field];
  return typeof value === 'string' || typeof value === 'boolean' ? String(value) : undefined;
}

function registerTools(server: McpServer, options: ModernFixtureOptions): void {
  // First in tools/list on purpose: http-header-validation calls the first tool with `{}`.
  server.registerTool('test_simple_text', { description: 'Returns simple text content' }, () => text('This is a simple text response for testing.'));
  server.registerTool('test_image_content', { description: 'Returns image content (a 1x1 PNG)' }, () => ({
    content: [{ type: 'image', data: PNG_BASE64, mimeType: 'image/png' }],
  }));
  server.registerTool('test_audio_content', { description: 'Returns audio content (a tiny WAV)' }, () => ({
    content: [{ type: 'audio', data: WAV_BASE64, mimeType: 'audio/wav' }],
  }));
  server.registerTool('test_embedded_resource', { description: 'Returns an embedded resource' }, () => ({
    content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }],
  }));
  server.registerTool('test_multiple_content_types', { description: 'Returns text, image and resource content together' }, () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: PNG_BASE64, mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) } },
    ],
  }));
  server.registerTool('test_error_handling', { description: 'Always fails with a tool error (isError: true)' }, () => ({
    isError: true,
    content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }],
  }));
  server.registerTool('test_tool_with_progress', { description: 'Reports progress 0, 50, 100 of 100 when the request has a progress token' }, async (ctx) => {
    const progressToken = (ctx.mcpReq._meta as { progressToken?: string | number } | undefined)?.progressToken;
    for (const progress of [0, 50, 100]) {
      if (progress > 0) await sleep(50);
      if (progressToken !== undefined) {
        await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` } });
      }
    }
    return text('Tool with progress executed successfully');
  });
  server.registerTool(
    'json_schema_2020_12_tool',
    { description: 'Tool with JSON Schema 2020-12 features ($schema, $defs, $anchor, allOf/anyOf, if/then/else)', inputSchema: fromJsonSchema(JSON_SCHEMA_2020_12) },
    (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
  );
  server.registerTool(
    'test_x_mcp_header',
    {
      description: 'Echoes its region, which clients also send as the Mcp-Param-Region header (SEP-2243)',
      inputSchema: fromJsonSchema<{ region: string }>(X_MCP_HEADER_SCHEMA),
    },
    ({ region }) => text(`region: ${region}`),
  );

  // --- the 2026 lifecycle: capabilities per request, no server-to-client requests, listen ---
  server.registerTool('test_missing_capability', { description: 'Needs sampling: a client that did not declare it gets -32021' }, () =>
    // The SDK checks the embedded request against the request's declared capabilities (-32021, HTTP 400).
    inputRequired({ inputRequests: { sample_request: askCapital() } }),
  );
  server.registerTool('test_streaming_elicitation', { description: 'Asks for a name the 2026 way: input_required on the response, never a request' }, () =>
    inputRequired({ inputRequests: { user_name: askName() } }),
  );
  server.registerTool('test_logging_tool', { description: 'Logs at info; the client hears it only if its request names a log level' }, async (ctx) => {
    await ctx.mcpReq.log('info', 'test_logging_tool ran', 'conformance');
    return text('Logged at info (sent only when the request carries a log level)');
  });
  const trigger = (kind: 'tools' | 'prompts') => async (ctx: ServerContext) => {
    const notify = options.notify?.();
    if (notify) {
      if (kind === 'tools') notify.toolsChanged();
      else notify.promptsChanged();
      return text(`${kind}/list_changed published to listeners`);
    }
    await ctx.mcpReq.notify({ method: kind === 'tools' ? 'notifications/tools/list_changed' : 'notifications/prompts/list_changed' });
    return text(`${kind}/list_changed sent on this call's stream (no handler to publish through)`);
  };
  server.registerTool('test_trigger_tool_change', { description: 'Says the tool list changed (to subscriptions/listen streams)' }, trigger('tools'));
  server.registerTool('test_trigger_prompt_change', { description: 'Says the prompt list changed (to subscriptions/listen streams)' }, trigger('prompts'));

  // --- multi-round (input_required, SEP-2322) -----------------------------------------------
  server.registerTool('test_input_required_result_elicitation', { description: 'Asks for the user name (elicitation), then greets' }, (ctx) => {
    const name = answered(ctx, 'user_name', 'name');
    // Anything but an accepted answer under user_name (missing, wrong key, not an elicit result) asks again.
    if (name === undefined) return inputRequired({ inputRequests: { user_name: askName() } });
    return text(`Hello, ${name}!`);
  });
  server.registerTool('test_input_required_result_sampling', { description: 'Asks the client LLM a question (sampling), then reports the answer' }, (ctx) => {
    const view = inputResponse(ctx.mcpReq.inputResponses, 'capital_question');
    if (view.kind !== 'sampling') return inputRequired({ inputRequests: { capital_question: askCapital() } });
    const content = view.result.content as { type: string; text?: string };
    return text(`LLM response: ${content.type === 'text' ? content.text : content.type}`);
  });
  server.registerTool('test_input_required_result_list_roots', { description: "Asks for the client's roots, then lists them" }, (ctx) => {
    const view = inputResponse(ctx.mcpReq.inputResponses, 'client_roots');
    if (view.kind !== 'roots') return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
    return text(`Roots: ${view.roots.map((root) => root.uri).join(', ') || '(none)'}`);
  });
  server.registerTool('test_input_required_result_request_state', { description: 'Asks for a confirmation and carries signed requestState across the round' }, async (ctx) => {
    const state = stateOf(ctx, 'request_state');
    const ok = answered(ctx, 'confirm', 'ok');
    if (state && ok !== undefined) return text(`state-ok: step ${state.step} confirmed (ok=${ok})`);
    return inputRequired({
      inputRequests: { confirm: inputRequired.elicit({ message: 'Confirm?', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } }) },
      requestState: await stateCodec.mint({ flow: 'request_state', step: 1 }),
    });
  });
  server.registerTool('test_input_required_result_multiple_inputs', { description: 'Asks for a name, an LLM greeting and the roots at once' }, async (ctx) => {
    const responses = ctx.mcpReq.inputResponses;
    const name = answered(ctx, 'user_name', 'name');
    const greeting = inputResponse(responses, 'greeting');
    const roots = inputResponse(responses, 'client_roots');
    if (stateOf(ctx, 'multiple_inputs') && name !== undefined && greeting.kind === 'sampling' && roots.kind === 'roots') {
      return text(`Got all three: name ${name}, a greeting from ${greeting.result.model}, ${roots.roots.length} root(s)`);
    }
    return inputRequired({
      inputRequests: {
        user_name: askName(),
        greeting: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Write a one-line greeting.' } }], maxTokens: 50 }),
        client_roots: inputRequired.listRoots(),
      },
      requestState: await stateCodec.mint({ flow: 'multiple_inputs', step: 1 }),
    });
  });
  server.registerTool('test_input_required_result_multi_round', { description: 'Asks for a name, then (a second round) for a favorite color' }, async (ctx) => {
    const state = stateOf(ctx, 'multi_round');
    if (state?.step === 2) {
      const color = answered(ctx, 'favorite_color', 'color');
      if (color !== undefined) return text(`${state.name}'s favorite color is ${color}`);
    }
    const name = state?.step === 1 ? answered(ctx, 'user_name', 'name') : state?.name;
    if (name === undefined) {
      return inputRequired({ inputRequests: { user_name: askName() }, requestState: await stateCodec.mint({ flow: 'multi_round', step: 1 }) });
    }
    return inputRequired({
      inputRequests: {
        favorite_color: inputRequired.elicit({
          message: 'Step 2: What is your favorite color?',
          requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
        }),
      },
      requestState: await stateCodec.mint({ flow: 'multi_round', step: 2, name }),
    });
  });
  server.registerTool('test_input_required_result_tampered_state', { description: 'Signs its requestState: a changed one is refused (-32602)' }, async (ctx) => {
    if (stateOf(ctx, 'tampered_state') && answered(ctx, 'confirm', 'ok') !== undefined) return text('state verified');
    return inputRequired({
      inputRequests: { confirm: inputRequired.elicit({ message: 'Confirm?', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } }) },
      requestState: await stateCodec.mint({ flow: 'tampered_state', step: 1 }),
    });
  });
  server.registerTool('test_input_required_result_capabilities', { description: 'Asks only for what this request says its client can answer' }, (ctx) => {
    const declared = clientCapabilities(ctx);
    const wanted: InputRequests = {
      ...(declared.elicitation && { user_name: askName() }),
      ...(declared.sampling && { capital_question: askCapital() }),
      ...(declared.roots && { client_roots: inputRequired.listRoots() }),
    };
    const responses = ctx.mcpReq.inputResponses;
    if (Object.keys(wanted).length === 0 || (responses && Object.keys(wanted).every((key) => key in responses))) {
      return text(`Asked for: ${Object.keys(wanted).join(', ') || 'nothing (no capability declared)'}`);
    }
    return inputRequired({ inputRequests: wanted });
  });
}

function registerResources(server: McpServer): void {
  server.registerResource(
    'static-text',
    'test://static-text',
    { title: 'Static text', description: 'A static text resource', mimeType: 'text/plain' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] }),
  );
  server.registerResource(
    'static-binary',
    'test://static-binary',
    { title: 'Static binary', description: 'A static binary resource (a 1x1 PNG)', mimeType: 'image/png' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG_BASE64 }] }),
  );
  server.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    { title: 'Template', description: 'A resource template with parameter substitution', mimeType: 'application/json' },
    (uri, { id }) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }] }),
  );
  server.registerResource(
    'watched-resource',
    'test://watched-resource',
    { title: 'Watched resource', description: 'A resource clients can subscribe to', mimeType: 'text/plain' },
    (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content' }] }),
  );
  // 2025 clients subscribe with requests (2026 ones on a listen stream, which the handler serves);
  // nothing here ever changes, so a subscription only has to be accepted.
  server.server.setRequestHandler('resources/subscribe', () => ({}));
  server.server.setRequestHandler('resources/unsubscribe', () => ({}));
}

function registerPrompts(server: McpServer): void {
  server.registerPrompt('test_simple_prompt', { title: 'Simple prompt', description: 'A prompt without arguments' }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt with arguments',
      description: 'A prompt with two required arguments (arg1 completes)',
      argsSchema: z.object({
        arg1: completable(z.string().describe('First test argument'), (value) => ARG1_VALUES.filter((v) => v.startsWith(value))),
        arg2: z.string().describe('Second test argument'),
      }),
    },
    ({ arg1, arg2 }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }] }),
  );
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    { title: 'Prompt with embedded resource', description: 'A prompt that embeds a resource', argsSchema: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }) },
    ({ resourceUri }) => ({
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );
  server.registerPrompt('test_prompt_with_image', { title: 'Prompt with image', description: 'A prompt with image content' }, () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: PNG_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));
  server.registerPrompt('test_input_required_result_prompt', { title: 'Prompt needing context', description: 'Asks the user for context (input_required), then builds the prompt' }, (ctx) => {
    const context = answered(ctx, 'user_context', 'context');
    if (context === undefined) {
      return inputRequired({
        inputRequests: {
          user_context: inputRequired.elicit({ message: 'What context should the prompt use?', requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] } }),
        },
      });
    }
    return { messages: [{ role: 'user', content: { type: 'text', text: `Answer with this context in mind: ${context}` } }] };
  });
}

/** Builds one fixture server (SDK v2: one per request). */
export function createModernFixture(options: ModernFixtureOptions = {}): McpServer {
  const server = new McpServer(
    { name: 'mcp-switchboard-conformance-fixture', version: '2.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
      cacheHints: { 'tools/list': LIST_CACHE, 'prompts/list': LIST_CACHE, 'resources/list': LIST_CACHE, 'resources/templates/list': LIST_CACHE },
      requestState: { verify: stateCodec.verify },
    },
  );
  registerTools(server, options);
  registerResources(server);
  registerPrompts(server);
  return server;
}

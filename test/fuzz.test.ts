/**
 * Property-based tests (fast-check): the HTTP endpoint under hostile requests, and the
 * namespacing of names and URIs for arbitrary input.
 *
 * Runs are reproducible: the seed is FUZZ_SEED (a number, or `random` for a fresh one each run),
 * else a fixed default; fast-check prints the seed and the shrunk counterexample on failure, and
 * every test prints its seed as a diagnostic. FUZZ_RUNS scales the number of runs.
 *
 * Tests marked `todo` are repros of proxy bugs these properties found; they fail (without failing
 * the file) until the bug is fixed, then should lose their `todo`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ROOT, connect, startProxy, textOf, type RunningProxy } from './helpers.ts';
import { PREFIX_PATTERN } from '../core/plugins/manifest.ts';
import {
  Namespace,
  SAFE_NAME,
  joinName,
  prefixUri,
  prefixUriTemplate,
  safeName,
  unprefixUri,
  uriPrefixOf,
} from '../core/catalog/namespace.ts';

const SEED = process.env.FUZZ_SEED === 'random' ? Date.now() ^ (Math.random() * 0x100000000) : Number(process.env.FUZZ_SEED ?? 20_260_611);
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const options = (numRuns: number) => ({ seed: SEED, numRuns: runs(numRuns), includeErrorInReport: true });

// ---------------------------------------------------------------------------------------------
// The HTTP endpoint
// ---------------------------------------------------------------------------------------------

const MAX_BODY_BYTES = 4 * 1024 * 1024; // the default maxBodyBytes
const VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];
/** The stateless era: no session, a `_meta` envelope and `Mcp-Method`/`Mcp-Name` headers on every request. */
const MODERN = '2026-07-28';
const ACCEPT_BOTH = 'application/json, text/event-stream';
const METHODS = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'resources/subscribe',
  'resources/unsubscribe',
  'logging/setLevel',
  'completion/complete',
  'tasks/get',
  'tasks/list',
  'tasks/cancel',
  'tasks/result',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
  'notifications/message',
  'server/discover',
  'subscriptions/listen',
  '',
  'rpc.discover',
  '__proto__',
  'constructor',
  'toString',
];

/** A header value fetch will send: printable ASCII, no surrounding blanks. */
const headerValue = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,60}[\x21-\x7e])?$/);

/** `arbitrary` most of the time, else absent (fc.option's `freq` is the other way round). */
function mostly<T>(arbitrary: fc.Arbitrary<T>, presentWeight: number, absentWeight = 1): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: presentWeight, arbitrary }, { weight: absentWeight, arbitrary: fc.constant(undefined) });
}

const contentType = mostly(
  fc.oneof(
    { weight: 12, arbitrary: fc.constant('application/json') },
    fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json; charset=latin1',
      'application/json-patch+json',
      'application/vnd.api+json',
      'text/plain',
      'text/event-stream',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/json;;;',
      'json',
    ),
    headerValue,
  ),
  12,
);

const accept = mostly(
  fc.oneof(
    { weight: 10, arbitrary: fc.constant(ACCEPT_BOTH) },
    fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/event-stream, application/json;q=0.1', 'text/html', 'application/*, text/*'),
    headerValue,
  ),
  12,
);

const protocolVersion = mostly(
  fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...VERSIONS) }, { weight: 4, arbitrary: fc.constant(MODERN) }, fc.constantFrom('1999-01-01', '2025-11-25, 2026-07-28', 'latest'), headerValue),
  3,
);

/** Which `Mcp-Session-Id` a request carries: none, garbage, or one of the live sessions. */
type SessionChoice = { kind: 'none' } | { kind: 'garbage'; value: string } | { kind: 'real'; index: number };
const LIVE_SESSIONS = 2;
const sessionChoice: fc.Arbitrary<SessionChoice> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: headerValue.map((value) => ({ kind: 'garbage' as const, value })) },
  { weight: 6, arbitrary: fc.nat({ max: LIVE_SESSIONS - 1 }).map((index) => ({ kind: 'real' as const, index })) },
);

const origin = mostly(fc.oneof(fc.constantFrom('http://localhost:6274', 'http://127.0.0.1', 'http://evil.example.com', 'null', 'file://'), headerValue), 1, 12);

/** Anything a JSON-RPC id could be, and things it cannot. */
const anyId = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.nat(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);

/** The 2026-07-28 request envelope in `_meta`, valid or not. */
const modernMeta = fc.record(
  {
    'io.modelcontextprotocol/protocolVersion': fc.oneof({ weight: 4, arbitrary: fc.constant(MODERN) }, fc.constantFrom(...VERSIONS), fc.string()),
    'io.modelcontextprotocol/clientCapabilities': fc.oneof(
      { weight: 3, arbitrary: fc.constant({}) },
      fc.constant({ sampling: {}, elicitation: { form: {} }, roots: {} }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    'io.modelcontextprotocol/clientInfo': fc.oneof(fc.constant({ name: 'fuzz', version: '1' }), fc.jsonValue({ maxDepth: 1 })),
    'io.modelcontextprotocol/logLevel': fc.oneof(fc.constantFrom('debug', 'error'), fc.string()),
    progressToken: fc.oneof(fc.string(), fc.integer()),
  },
  { requiredKeys: [] },
);

/** Params that get past a first look: the fields MCP requests have, with random values. */
const plausibleParams = fc.record(
  {
    name: fc.oneof(fc.constantFrom('example_hello_world', 'hello_world', 'example_', 'example_nope'), fc.string()),
    arguments: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), fc.jsonValue({ maxDepth: 2 })),
    uri: fc.oneof(fc.constantFrom('x://example/y', 'file:///etc/passwd', 'example://example/', ''), fc.string()),
    cursor: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })),
    level: fc.oneof(fc.constantFrom('debug', 'info', 'emergency'), fc.string()),
    requestId: anyId,
    progressToken: anyId,
    protocolVersion: fc.oneof(fc.constantFrom(...VERSIONS), fc.string()),
    capabilities: fc.oneof(fc.constant({}), fc.constant({ sampling: {}, elicitation: {}, roots: { listChanged: true } }), fc.jsonValue({ maxDepth: 2 })),
    clientInfo: fc.oneof(fc.constant({ name: 'fuzz', version: '1' }), fc.jsonValue({ maxDepth: 1 })),
    _meta: fc.oneof({ weight: 6, arbitrary: fc.record({ progressToken: fc.oneof(fc.string(), fc.integer()) }, { requiredKeys: [] }) }, { weight: 4, arbitrary: modernMeta }, fc.record({ progressToken: anyId }), fc.jsonValue({ maxDepth: 1 })),
  },
  { requiredKeys: [] },
);

/** A JSON-RPC-shaped object: every field may be missing, of the wrong type, or valid. */
const wildRpcObject = fc.record(
  {
    jsonrpc: fc.oneof({ weight: 6, arbitrary: fc.constant('2.0') }, fc.constantFrom('1.0', '2', 2, null)),
    id: anyId,
    method: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...METHODS) }, fc.string(), fc.integer(), fc.constant(null)),
    params: fc.oneof(plausibleParams, fc.jsonValue({ maxDepth: 3 })),
    result: fc.jsonValue({ maxDepth: 2 }),
    error: fc.oneof(fc.record({ code: fc.integer(), message: fc.string() }), fc.jsonValue({ maxDepth: 1 })),
  },
  { requiredKeys: [] },
);

/** A well-formed request or notification with a real or random method and random params. */
const wellFormed = fc.record(
  {
    jsonrpc: fc.constant('2.0'),
    id: fc.oneof(fc.string({ maxLength: 20 }), fc.integer()),
    method: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...METHODS) }, fc.string()),
    params: fc.oneof({ weight: 3, arbitrary: plausibleParams }, fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }))),
  },
  { requiredKeys: ['jsonrpc', 'method'] },
);

/** A response or error the client sends back (to no request of the proxy's). */
const clientResponse = fc.oneof(
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.oneof(fc.string(), fc.integer()), result: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.oneof(fc.string(), fc.integer()), error: fc.record({ code: fc.integer(), message: fc.string() }) }),
);

const rpcObject = fc.oneof({ weight: 5, arbitrary: wellFormed }, { weight: 3, arbitrary: wildRpcObject }, { weight: 1, arbitrary: clientResponse });

/**
 * A request body, as a recipe (so a failing case prints small even when the body is megabytes).
 * `text` bodies are sent as UTF-8, `bytes` as they are (invalid UTF-8 included).
 */
type BodyRecipe =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'truncated'; value: unknown; cut: number }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'huge'; shape: 'string-param' | 'garbage' | 'array' | 'many-keys'; size: number }
  | { kind: 'deep'; shape: 'array' | 'object' | 'in-params' | 'in-batch' | 'unbalanced'; depth: number };

const body: fc.Arbitrary<BodyRecipe> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => ({ kind: 'json' as const, value })) },
  { weight: 10, arbitrary: rpcObject.map((value) => ({ kind: 'json' as const, value })) },
  { weight: 3, arbitrary: fc.array(fc.oneof({ weight: 5, arbitrary: rpcObject }, fc.jsonValue({ maxDepth: 2 })), { maxLength: 6 }).map((value) => ({ kind: 'json' as const, value })) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncated' as const), value: fc.oneof(rpcObject, fc.jsonValue({ maxDepth: 3 })), cut: fc.nat() }) },
  { weight: 2, arbitrary: fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })).map((text) => ({ kind: 'text' as const, text })) },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }).map((bytes) => ({ kind: 'bytes' as const, bytes })) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('huge' as const),
      shape: fc.constantFrom('string-param' as const, 'garbage' as const, 'array' as const, 'many-keys' as const),
      size: fc.oneof(fc.integer({ min: 1_000, max: 200_000 }), fc.integer({ min: MAX_BODY_BYTES - 1_000, max: MAX_BODY_BYTES + 1_000 }), fc.integer({ min: MAX_BODY_BYTES, max: 6_000_000 })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('deep' as const),
      shape: fc.constantFrom('array' as const, 'object' as const, 'in-params' as const, 'in-batch' as const, 'unbalanced' as const),
      depth: fc.oneof(fc.integer({ min: 50, max: 5000 }), fc.integer({ min: 95, max: 105 })),
    }),
  },
);

function nested(depth: number, shape: 'array' | 'object'): string {
  return shape === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

function bodyBytes(recipe: BodyRecipe): Uint8Array<ArrayBuffer> | undefined {
  const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
  switch (recipe.kind) {
    case 'none':
      return undefined;
    case 'json':
      return utf8(JSON.stringify(recipe.value) ?? 'null');
    case 'truncated': {
      const text = JSON.stringify(recipe.value) ?? 'null';
      return utf8(text.slice(0, text.length > 1 ? recipe.cut % (text.length - 1) + 1 : 0));
    }
    case 'text':
      return utf8(recipe.text);
    case 'bytes':
      return new Uint8Array(recipe.bytes);
    case 'huge': {
      const filler = 'x'.repeat(recipe.size);
      if (recipe.shape === 'garbage') return utf8(filler);
      if (recipe.shape === 'array') return utf8(`[${'1,'.repeat(Math.floor(recipe.size / 2))}1]`);
      if (recipe.shape === 'many-keys') {
        const keys = Array.from({ length: Math.floor(recipe.size / 12) }, (_, i) => `"k${i}":1`).join(',');
        return utf8(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{${keys}}}`);
      }
      return utf8(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'example_hello_world', arguments: { text: filler } } }));
    }
    case 'deep': {
      const { depth, shape } = recipe;
      if (shape === 'array' || shape === 'object') return utf8(nested(depth, shape));
      if (shape === 'unbalanced') return utf8('['.repeat(depth));
      const request = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"example_hello_world","arguments":{"x":${nested(depth, 'array')}}}}`;
      return utf8(shape === 'in-params' ? request : `[${request}]`);
    }
  }
}

interface HostileRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH' | 'OPTIONS';
  contentType?: string;
  accept?: string;
  /** `Mcp-Method` and `Mcp-Name` (2026-07-28): `body` copies them from the body, else as given. */
  mcpMethod?: string;
  mcpName?: string;
  session: SessionChoice;
  protocolVersion?: string;
  origin?: string;
  body: BodyRecipe;
}

const mcpHeader = mostly(fc.oneof({ weight: 4, arbitrary: fc.constant('body') }, fc.constantFrom(...METHODS), headerValue), 1, 1);

const hostileRequest: fc.Arbitrary<HostileRequest> = fc.record({
  method: fc.oneof({ weight: 8, arbitrary: fc.constant('POST' as const) }, fc.constantFrom('GET' as const, 'DELETE' as const, 'PUT' as const, 'PATCH' as const, 'OPTIONS' as const)),
  contentType,
  accept,
  mcpMethod: mcpHeader,
  mcpName: mcpHeader,
  session: sessionChoice,
  protocolVersion,
  origin,
  body,
});

/** A JSON-RPC error object as the brief and the spec describe it. */
function isRpcError(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const message = value as { jsonrpc?: unknown; error?: { code?: unknown; message?: unknown }; id?: unknown };
  return (
    message.jsonrpc === '2.0' &&
    typeof message.error === 'object' &&
    message.error !== null &&
    Number.isInteger(message.error.code) &&
    typeof message.error.message === 'string' &&
    (!('id' in message) || message.id === null || typeof message.id === 'string' || typeof message.id === 'number')
  );
}

/** A JSON-RPC message (request, notification, result or error) as the proxy may send it. */
function isRpcMessage(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const message = value as Record<string, unknown>;
  if (message.jsonrpc !== '2.0') return false;
  if ('error' in message) return isRpcError(message);
  if ('result' in message) return typeof message.id === 'string' || typeof message.id === 'number';
  return typeof message.method === 'string';
}

/** The `data:` payloads of an SSE body (priming events have none). */
function sseData(text: string): string[] {
  const events: string[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''));
    if (data.length && data.join('') !== '') events.push(data.join('\n'));
  }
  return events;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
  sessionId: string | null;
  /** The body did not end within the read deadline (an open SSE stream). */
  open: boolean;
}

let proxy: RunningProxy;
const live: string[] = [];

function initializeBody(version = '2025-11-25') {
  return { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } };
}

/** A session made by a well-behaved client: initialize, then notifications/initialized. */
async function openSession(): Promise<string> {
  const init = await fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH }, body: JSON.stringify(initializeBody()) });
  assert.equal(init.status, 200, 'a valid initialize is accepted');
  await init.text();
  const id = init.headers.get('mcp-session-id');
  assert.ok(id, 'initialize returns a session id');
  const initialized = await fetch(proxy.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  assert.equal(initialized.status, 202);
  return id;
}

async function endSession(id: string): Promise<void> {
  await fetch(proxy.url, { method: 'DELETE', headers: { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' } }).catch(() => {});
}

/** Sends one hostile request and reads its answer (an SSE stream for at most `readMs`). */
/**
 * How long an answer may take. Generous: a large batch without a session stalls the proxy for
 * about 5 s (the todo test below), which the other properties should not trip over.
 */
const READ_DEADLINE_MS = 20_000;

async function send(request: HostileRequest, readMs = READ_DEADLINE_MS): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  if (request.accept !== undefined) headers.accept = request.accept;
  if (request.protocolVersion !== undefined) headers['mcp-protocol-version'] = request.protocolVersion;
  if (request.origin !== undefined) headers.origin = request.origin;
  const single = request.body.kind === 'json' && typeof request.body.value === 'object' && request.body.value !== null && !Array.isArray(request.body.value) ? (request.body.value as { method?: unknown; params?: { name?: unknown; uri?: unknown } }) : undefined;
  const fromBody = (value: unknown) => (typeof value === 'string' && /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value) ? value : undefined);
  const method = request.mcpMethod === 'body' ? fromBody(single?.method) : request.mcpMethod;
  const name = request.mcpName === 'body' ? fromBody(single?.params?.name ?? single?.params?.uri) : request.mcpName;
  if (method !== undefined) headers['mcp-method'] = method;
  if (name !== undefined) headers['mcp-name'] = name;
  const listens = listensIn(request);
  if (request.session.kind === 'garbage') headers['mcp-session-id'] = request.session.value;
  if (request.session.kind === 'real') headers['mcp-session-id'] = live[request.session.index]!;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), readMs);
  try {
    const response = await fetch(proxy.url, {
      method: request.method,
      headers,
      // A Uint8Array body gets no default Content-Type, so only the generated one is sent.
      body: request.method === 'GET' ? undefined : bodyBytes(request.body),
      signal: controller.signal,
    });
    const type = response.headers.get('content-type') ?? '';
    let text = '';
    let open = false;
    if (type.includes('text/event-stream') && (request.method === 'GET' || listens)) {
      // The standalone stream stays open by design: take what arrives at once, then hang up.
      open = true;
      setTimeout(() => controller.abort(), 100);
      text = await response.text().catch(() => '');
    } else {
      try {
        text = await response.text();
      } catch {
        open = true;
      }
    }
    return { status: response.status, contentType: type, text, sessionId: response.headers.get('mcp-session-id'), open };
  } finally {
    clearTimeout(timer);
  }
}

/** A `subscriptions/listen` stream stays open by design, like a GET stream. */
function listensIn(request: HostileRequest): boolean {
  return request.body.kind === 'json' && (JSON.stringify(request.body.value) ?? '').includes('"subscriptions/listen"');
}

/** What is wrong with an answer, by the properties the brief sets; empty when nothing is. */
function violations(request: HostileRequest, answer: Answer): string[] {
  const problems: string[] = [];
  const { status, contentType: type, text } = answer;
  const json = (() => {
    try {
      return { ok: true as const, value: JSON.parse(text) as unknown };
    } catch {
      return { ok: false as const };
    }
  })();
  const errorBody = json.ok && isRpcError(json.value);
  if (status >= 500 && !errorBody) problems.push(`${status} without a JSON-RPC error body: ${type} ${JSON.stringify(text.slice(0, 300))}`);
  if (status >= 400 && status < 500 && !errorBody) problems.push(`${status} without a JSON-RPC error body: ${type} ${JSON.stringify(text.slice(0, 300))}`);
  if (status >= 200 && status < 300) {
    const empty = text === '';
    if (type.includes('text/event-stream')) {
      if (request.method === 'POST' && answer.open && !listensIn(request)) problems.push(`${status} SSE answer to a POST did not end within the read deadline`);
      for (const data of sseData(text)) {
        let message: unknown;
        try {
          message = JSON.parse(data);
        } catch {
          problems.push(`SSE event that is not JSON: ${JSON.stringify(data.slice(0, 200))}`);
          continue;
        }
        const messages = Array.isArray(message) ? message : [message];
        if (!messages.every(isRpcMessage)) problems.push(`SSE event that is not a JSON-RPC message: ${data.slice(0, 200)}`);
      }
    } else if (type.includes('application/json')) {
      if (!json.ok) problems.push(`${status} application/json body that does not parse: ${JSON.stringify(text.slice(0, 200))}`);
      else {
        const messages = Array.isArray(json.value) ? json.value : [json.value];
        if (!messages.every(isRpcMessage)) problems.push(`${status} JSON body that is not JSON-RPC: ${text.slice(0, 200)}`);
      }
    } else if (request.session.kind === 'real') {
      // Documented empty answers: 202 for notifications and responses, 200 for DELETE.
      const documented = empty && (status === 202 || (status === 200 && request.method === 'DELETE'));
      if (!documented) problems.push(`${status} for a live session that is neither JSON nor SSE: ${JSON.stringify(type)} ${JSON.stringify(text.slice(0, 200))}`);
    } else if (!(empty && status === 202)) {
      problems.push(`${status} that is neither JSON nor SSE nor an empty 202: ${JSON.stringify(type)} ${JSON.stringify(text.slice(0, 200))}`);
    }
  }
  if (status < 200 || (status >= 300 && status < 400) || status >= 600) problems.push(`unexpected status ${status}`);
  return problems;
}

async function healthy(): Promise<void> {
  const response = await fetch(proxy.url.replace(/\/mcp$/, '/healthz'));
  assert.equal(response.status, 200, 'GET /healthz answers 200 after the request');
  assert.equal((await response.json()).status, 'ok');
}

/** Sessions the fuzz opened with an initialize of its own; ended after each run. */
async function cleanUp(answers: Answer[], requests: HostileRequest[]): Promise<void> {
  for (const [i, answer] of answers.entries()) {
    const request = requests[i]!;
    if (request.session.kind === 'none' && answer.sessionId) await endSession(answer.sessionId);
    // A live session the fuzz ended (DELETE) is replaced, so later runs still have one.
    if (request.session.kind === 'real' && request.method === 'DELETE' && answer.status === 200) {
      live[request.session.index] = await openSession();
    }
  }
}

/** The live sessions still answer: no hostile request may end or wedge someone else's session. */
async function sessionsAnswer(except: Set<string>): Promise<void> {
  for (const id of live) {
    if (except.has(id)) continue;
    const response = await fetch(proxy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'probe', method: 'tools/list' }),
    });
    const text = await response.text();
    assert.equal(response.status, 200, `live session ${id} still answers after hostile requests: ${text.slice(0, 200)}`);
    const [event] = sseData(text).length ? sseData(text) : [text];
    const names = (JSON.parse(event!) as { result: { tools: Array<{ name: string }> } }).result.tools.map((t) => t.name);
    assert.deepEqual(names, ['example_hello_world'], 'a live session still lists the example tool');
  }
}

describe('the /mcp endpoint under hostile requests', () => {
  before(async () => {
    proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins')] });
    for (let i = 0; i < LIVE_SESSIONS; i++) live.push(await openSession());
  });
  after(async () => {
    for (const id of live) await endSession(id);
    await proxy?.close();
  });

  test('one request at a time: no crash, 4xx/5xx carry JSON-RPC errors, 2xx for a live session is JSON or SSE', async (t) => {
    t.diagnostic(`seed ${SEED}`);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (request) => {
        const answer = await send(request);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const problems = violations(request, answer);
        await healthy();
        const ended = request.method === 'DELETE' && request.session.kind === 'real' && answer.status === 200 ? new Set([live[request.session.index]!]) : new Set<string>();
        await cleanUp([answer], [request]);
        await sessionsAnswer(ended);
        assert.deepEqual(problems, [], `answer ${answer.status} ${answer.contentType}`);
      }),
      options(700),
    );
    t.diagnostic(`statuses: ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}x${n}`).join(' ')}`);
  });

  test('well-formed envelopes with random JSON-RPC content (a live 2025 session, or the 2026-07-28 envelope): every request gets its own answer', async (t) => {
    t.diagnostic(`seed ${SEED}`);
    const envelope = fc.record({
      method: fc.constant('POST' as const),
      contentType: fc.constant('application/json'),
      accept: fc.constant(ACCEPT_BOTH),
      session: fc.nat({ max: LIVE_SESSIONS - 1 }).map((index) => ({ kind: 'real' as const, index })),
      protocolVersion: fc.constant('2025-11-25'),
      origin: fc.constant(undefined),
      body: fc.oneof(
        { weight: 4, arbitrary: fc.oneof({ weight: 3, arbitrary: wellFormed }, rpcObject).map((value) => ({ kind: 'json' as const, value })) },
        fc.array(wellFormed, { minLength: 1, maxLength: 4 }).map((value) => ({ kind: 'json' as const, value })),
      ),
    });
    // The same for the stateless era: no session, the `_meta` envelope, headers copied from the body.
    const modernRequest = fc.record(
      {
        jsonrpc: fc.constant('2.0'),
        id: fc.oneof(fc.string({ maxLength: 20 }), fc.integer()),
        method: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...METHODS) }, fc.string()),
        params: fc.record(
          {
            name: fc.oneof(fc.constantFrom('example_hello_world', 'example_nope'), fc.string()),
            arguments: fc.oneof(fc.constant({}), fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }))),
            uri: fc.oneof(fc.constantFrom('x://example/y', ''), fc.string()),
            cursor: fc.string(),
            _meta: fc.oneof(
              { weight: 4, arbitrary: fc.constant({ 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} }) },
              modernMeta,
            ),
          },
          { requiredKeys: ['_meta'] },
        ),
      },
      { requiredKeys: ['jsonrpc', 'id', 'method', 'params'] },
    );
    const modernEnvelope = fc.record({
      method: fc.constant('POST' as const),
      contentType: fc.constant('application/json'),
      accept: fc.constant(ACCEPT_BOTH),
      mcpMethod: fc.oneof({ weight: 6, arbitrary: fc.constant('body') }, fc.constantFrom(...METHODS)),
      mcpName: fc.oneof({ weight: 6, arbitrary: fc.constant('body') }, fc.constant(undefined), fc.string({ maxLength: 10 })),
      session: fc.constant({ kind: 'none' as const }),
      protocolVersion: fc.constant(MODERN),
      origin: fc.constant(undefined),
      body: modernRequest.map((value) => ({ kind: 'json' as const, value })),
    });
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.oneof(envelope, modernEnvelope), async (request) => {
        const answer = await send(request);
        const problems = violations(request, answer);
        const value = (request.body as { value: unknown }).value;
        const messages = (Array.isArray(value) ? value : [value]) as Array<Record<string, unknown>>;
        const requests = messages.filter((m) => m.jsonrpc === '2.0' && typeof m.method === 'string' && (typeof m.id === 'string' || Number.isSafeInteger(m.id)) && !('result' in m) && !('error' in m));
        // Ids reused within a batch are the client's mistake (the SDK keeps one answer per id).
        const distinct = new Set(requests.map((m) => m.id)).size === requests.length;
        if (answer.status === 200 && requests.length === messages.length && distinct) {
          const events = answer.contentType.includes('text/event-stream') ? sseData(answer.text).map((data) => JSON.parse(data)) : [JSON.parse(answer.text)];
          const responses = events.flat().filter((m: Record<string, unknown>) => 'result' in m || 'error' in m) as Array<{ id: unknown; error?: { message: string } }>;
          for (const m of requests) {
            const answered = responses.filter((r) => r.id === m.id).length;
            if (answered !== 1) problems.push(`request ${JSON.stringify(m.id)} (${String(m.method)}) got ${answered} answers`);
          }
          for (const r of responses) {
            const key = `${request.protocolVersion === MODERN ? '2026 ' : ''}${r.error ? `error: ${r.error.message.slice(0, 40)}` : 'result'}`;
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          }
        } else {
          const why = answer.status >= 400 ? `: ${(/"message":"([^"]{0,40})/.exec(answer.text) ?? [])[1] ?? ''}` : '';
          const key = `${request.protocolVersion === MODERN ? '2026 ' : ''}HTTP ${answer.status}${why}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        }
        await healthy();
        await cleanUp([answer], [request]);
        assert.deepEqual(problems, []);
      }),
      options(400),
    );
    const top = [...outcomes].sort((a, b) => b[1] - a[1]).slice(0, 12);
    t.diagnostic(`outcomes: ${top.map(([k, n]) => `${k} x${n}`).join('; ')}`);
  });

  test('bursts of concurrent hostile requests: same properties, and the live sessions keep answering', async (t) => {
    t.diagnostic(`seed ${SEED}`);
    await fc.assert(
      fc.asyncProperty(fc.array(hostileRequest, { minLength: 2, maxLength: 12 }), async (requests) => {
        const answers = await Promise.all(requests.map((request) => send(request)));
        const problems = requests.flatMap((request, i) => violations(request, answers[i]!).map((p) => `request ${i}: ${p}`));
        await healthy();
        const ended = new Set(
          requests.flatMap((request, i) => (request.method === 'DELETE' && request.session.kind === 'real' && answers[i]!.status === 200 ? [live[request.session.index]!] : [])),
        );
        await cleanUp(answers, requests);
        await sessionsAnswer(ended);
        assert.deepEqual(problems, []);
      }),
      options(60),
    );
  });

  const posted = (bodies: fc.Arbitrary<BodyRecipe>): fc.Arbitrary<HostileRequest> =>
    fc.record({
      method: fc.constant('POST' as const),
      contentType: fc.constant('application/json'),
      accept: fc.constant(ACCEPT_BOTH),
      session: sessionChoice,
      protocolVersion: fc.constant('2025-11-25'),
      origin: fc.constant(undefined),
      body: bodies,
    });

  test('deeply nested bodies (50 to 5000 levels) are refused or answered cleanly', async (t) => {
    t.diagnostic(`seed ${SEED}`);
    const deep = fc.record({
      kind: fc.constant('deep' as const),
      shape: fc.constantFrom('array' as const, 'object' as const, 'in-params' as const, 'in-batch' as const, 'unbalanced' as const),
      depth: fc.oneof(fc.integer({ min: 50, max: 5000 }), fc.integer({ min: 95, max: 105 })),
    });
    await fc.assert(
      fc.asyncProperty(posted(deep), async (request) => {
        const answer = await send(request);
        const problems = violations(request, answer);
        await healthy();
        await cleanUp([answer], [request]);
        assert.deepEqual(problems, []);
      }),
      options(60),
    );
  });

  test('bodies around maxBodyBytes: larger ones get 413, the proxy stays up', async (t) => {
    t.diagnostic(`seed ${SEED}`);
    const huge = fc.record({
      kind: fc.constant('huge' as const),
      shape: fc.constantFrom('string-param' as const, 'garbage' as const, 'array' as const, 'many-keys' as const),
      size: fc.integer({ min: MAX_BODY_BYTES - 4_000, max: MAX_BODY_BYTES + 4_000 }),
    });
    await fc.assert(
      fc.asyncProperty(posted(huge), async (request) => {
        const answer = await send(request);
        const problems = violations(request, answer);
        const size = bodyBytes(request.body)!.byteLength;
        if (size > MAX_BODY_BYTES) assert.equal(answer.status, 413, `a ${size}-byte body is refused as too large`);
        await healthy();
        await cleanUp([answer], [request]);
        assert.deepEqual(problems, []);
      }),
      options(12),
    );
  });

  // Found while checking the 2026-07-28 outcomes of the property above: with no plugin offering
  // resources (the example plugin only), `server/discover` advertises `resources` and
  // `resources/list` answers [], but `resources/read` is -32601 Method not found. With resources
  // mounted, an unknown URI is -32602 Resource not found (and a 2025 session gets -32002).
  test('a 2026-07-28 resources/read of an unknown URI says the resource is not found, not the method', async () => {
    const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };
    const ask = async (method: string, params: Record<string, unknown>, name?: string) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: ACCEPT_BOTH, 'mcp-protocol-version': MODERN, 'mcp-method': method };
      if (name) headers['mcp-name'] = name;
      const response = await fetch(proxy.url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta } }) });
      const text = await response.text();
      const [event] = response.headers.get('content-type')?.includes('text/event-stream') ? sseData(text) : [text];
      return JSON.parse(event!) as { result?: Record<string, any>; error?: { code: number; message: string } };
    };
    const discovered = await ask('server/discover', {});
    assert.ok(discovered.result?.capabilities?.resources, 'server/discover advertises resources');
    assert.deepEqual((await ask('resources/list', {})).result?.resources, []);
    const read = await ask('resources/read', { uri: 'x://example/nothing' }, 'x://example/nothing');
    assert.notEqual(read.error?.code, -32601, `resources/read answered ${JSON.stringify(read.error)} while resources are advertised`);
    assert.match(read.error?.message ?? '', /Resource not found/);
  });

  // BUG (found by the burst property above): a session-less POST's batch is validated element by
  // element before anything limits its length: by the SDK's classifier (classifyInboundRequest)
  // and by containsInitialize (the SDK's zod isInitializeRequest on every element), both in
  // core/http/app.ts; the SDK transport only refuses batches over 100 messages afterwards. A
  // 4 MB batch of 135,000 minimal notifications, no session or handshake needed, blocks the event
  // loop for about 1.7 s on the 2-core machine, freezing every client and /healthz (before the
  // classifier, a 4 MB `[1,1,1,...]` blocked it for about 5 s). Parsing and the depth check take
  // about 0.15 s of that.
  test('a large JSON batch without a session does not stall the proxy for seconds', async (t) => {
    const body = `[${Array.from({ length: 135_000 }, () => '{"jsonrpc":"2.0","method":"a"}').join(',')}]`;
    let longest = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 5);
    const started = performance.now();
    try {
      const response = await fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH }, body });
      assert.equal(response.status, 400);
      assert.ok(isRpcError(await response.json()));
    } finally {
      clearInterval(timer);
    }
    t.diagnostic(`${body.length} bytes: answered in ${Math.round(performance.now() - started)} ms, longest event-loop stall ${Math.round(longest)} ms`);
    assert.ok(longest < 1000, `the proxy froze for ${Math.round(longest)} ms answering one ${body.length}-byte request that has no session`);
  });
});

// ---------------------------------------------------------------------------------------------
// Namespacing
// ---------------------------------------------------------------------------------------------

const prefix = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/);
const toolishName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,128}$/);
const unicodeName = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }));
const anyName = fc.oneof(toolishName, unicodeName);

const scheme = fc.stringMatching(/^[A-Za-z][A-Za-z0-9+.-]{0,12}$/);
const anyText = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 10 }));
const uriRest = fc.oneof(
  anyText,
  anyText.map((s) => `//${s}`),
  anyText.map((s) => `///${s}`),
  anyText.map((s) => `/${s}`),
  fc.tuple(anyText, anyText, anyText).map(([path, query, fragment]) => `//${path}?${query}#${fragment}`),
  fc.tuple(anyText, anyText).map(([path, query]) => `${path}?${query}`),
  fc.tuple(anyText, anyText).map(([path, fragment]) => `${path}#${fragment}`),
  fc.constantFrom('', '/', '//', '///', '////', '?', '#', '//?', '//#', ':', '::', '//:', '\n', '//\n/'),
);
const uri = fc.tuple(scheme, uriRest).map(([s, rest]) => `${s}:${rest}`);

describe('namespacing, for arbitrary prefixes, names and URIs', () => {
  test('the prefix generator matches the manifest rule (non-empty prefixes)', () => {
    fc.assert(fc.property(prefix, (p) => PREFIX_PATTERN.test(p) && p !== ''), options(200));
  });

  test('safeName always matches SAFE_NAME, is deterministic, and keeps names that already match', (t) => {
    t.diagnostic(`seed ${SEED}`);
    fc.assert(
      fc.property(prefix, anyName, (p, name) => {
        const joined = joinName(p, name);
        const safe = safeName(joined);
        assert.match(safe, SAFE_NAME);
        assert.equal(safeName(joined), safe, 'the same name maps to the same safe name');
        if (SAFE_NAME.test(joined)) assert.equal(safe, joined, 'a name clients already accept is left alone');
        else assert.equal(safeName(safe), safe, 'a made-safe name is a fixed point');
      }),
      options(2000),
    );
  });

  test('two different names never map to the same safe name (within generated batches)', (t) => {
    t.diagnostic(`seed ${SEED}`);
    fc.assert(
      fc.property(prefix, fc.uniqueArray(anyName, { minLength: 2, maxLength: 60 }), (p, names) => {
        const seen = new Map<string, string>();
        for (const name of names) {
          const safe = safeName(joinName(p, name));
          const other = seen.get(safe);
          assert.equal(other, undefined, `${JSON.stringify(other)} and ${JSON.stringify(name)} both became ${safe}`);
          seen.set(safe, name);
        }
      }),
      options(500),
    );
    // Names that differ only in the characters made safe, and long names equal in their first 55.
    fc.assert(
      fc.property(prefix, fc.stringMatching(/^[A-Za-z0-9]{60,80}$/), fc.uniqueArray(fc.constantFrom('.', ' ', 'é', '/', ':', '😀', '_'), { minLength: 2, maxLength: 7 }), (p, stem, marks) => {
        const names = marks.map((mark) => `${stem}${mark}x`);
        const safe = names.map((name) => safeName(joinName(p, name)));
        assert.equal(new Set(safe).size, names.length, `collision among ${JSON.stringify(safe)}`);
      }),
      options(300),
    );
  });

  test('Namespace.originalName(exposeName(n)) === n, for every name of a batch in one namespace', (t) => {
    t.diagnostic(`seed ${SEED}`);
    fc.assert(
      fc.property(prefix, fc.uniqueArray(anyName, { minLength: 1, maxLength: 40 }), (p, names) => {
        const renames: Array<[string, string]> = [];
        const ns = new Namespace(p, (original, exposed) => renames.push([original, exposed]));
        const exposed = names.map((name) => ns.exposeName(name));
        for (const [i, name] of names.entries()) {
          assert.match(exposed[i]!, SAFE_NAME);
          assert.equal(ns.originalName(exposed[i]!), name, `${JSON.stringify(name)} -> ${exposed[i]} -> back`);
          assert.equal(ns.isRenamed(exposed[i]!), exposed[i] !== joinName(p, name));
        }
        // Exposing again changes nothing and reports nothing new.
        const before = renames.length;
        assert.deepEqual(names.map((name) => ns.exposeName(name)), exposed);
        assert.equal(renames.length, before, 'a rename is reported once');
        assert.equal(renames.length, exposed.filter((e, i) => e !== joinName(p, names[i]!)).length);
      }),
      options(500),
    );
  });

  test('URIs round-trip: unprefixUri(prefixUri(u, p), p) === u, and the prefix is found again', (t) => {
    t.diagnostic(`seed ${SEED}`);
    fc.assert(
      fc.property(prefix, uri, (p, u) => {
        const exposed = prefixUri(u, p);
        assert.equal(unprefixUri(exposed, p), u);
        assert.equal(uriPrefixOf(exposed), p);
        assert.equal(prefixUriTemplate(u, p), exposed, 'a template is namespaced as a URI is');
        const ns = new Namespace(p);
        assert.equal(ns.originalUri(ns.exposeUri(u)), u);
        assert.ok(exposed.startsWith(`${u.slice(0, u.indexOf(':'))}:`), 'the scheme is kept');
      }),
      options(3000),
    );
  });

  test('a URI under another prefix does not reverse', (t) => {
    t.diagnostic(`seed ${SEED}`);
    fc.assert(
      fc.property(prefix, prefix, uri, (p, q, u) => {
        fc.pre(p !== q);
        assert.equal(unprefixUri(prefixUri(u, q), p), undefined, `${prefixUri(u, q)} is not under ${p}`);
      }),
      options(2000),
    );
    // Prefixes that are prefixes of each other (gh, gh_enterprise) are the likely confusion.
    fc.assert(
      fc.property(prefix, fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/), uri, (p, tail, u) => {
        const q = `${p}${tail}`.slice(0, 32);
        fc.pre(q !== p);
        assert.equal(unprefixUri(prefixUri(u, q), p), undefined);
        assert.equal(unprefixUri(prefixUri(u, p), q), undefined);
      }),
      options(1000),
    );
  });

  test('nothing throws for a string with a scheme; unprefixUri and uriPrefixOf agree on any string', (t) => {
    t.diagnostic(`seed ${SEED}`);
    fc.assert(
      fc.property(prefix, fc.oneof(uri, fc.string(), fc.string({ unit: 'binary' }), fc.tuple(scheme, prefix, anyText).map(([s, p, r]) => `${s}:${p}/${r}`), fc.tuple(scheme, prefix, anyText).map(([s, p, r]) => `${s}://${p}/${r}`)), (p, x) => {
        const back = unprefixUri(x, p);
        assert.ok(back === undefined || typeof back === 'string');
        assert.equal(back !== undefined, uriPrefixOf(x) === p, 'routing by uriPrefixOf and reversing by unprefixUri agree');
        if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(x)) {
          assert.equal(typeof prefixUri(x, p), 'string');
          assert.equal(typeof prefixUriTemplate(x, p), 'string');
        }
      }),
      options(3000),
    );
  });

  // Found while checking injectivity: safeName's "two different names never end up the same"
  // does not hold for a name that is itself another name's made-safe form. merge() keeps the
  // first and logs the second as left out, but the router's name index keeps the LAST, so the
  // listed name runs the tool that was left out (core/downstream/router.ts #names vs
  // core/catalog/catalog.ts merge).
  test('a listed made-safe name reaches the tool the list describes, even when another tool has that name', async () => {
    const clash = safeName(joinName('fx', 'a.b')).slice('fx_'.length); // 'a_b_9ae3db97'
    assert.equal(safeName(joinName('fx', clash)), safeName(joinName('fx', 'a.b')), 'two different names, one safe name');
    const dir = await mkdtemp(join(tmpdir(), 'switchboard-fuzz-clash-'));
    await mkdir(join(dir, 'clash'));
    await writeFile(
      join(dir, 'clash', 'index.ts'),
      `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
export default {
  prefix: 'fx',
  server: () => {
    const server = new McpServer({ name: 'clash', version: '1.0.0' });
    server.registerTool('a.b', { description: 'the dotted tool' }, async () => ({ content: [{ type: 'text', text: 'dotted tool ran' }] }));
    server.registerTool(${JSON.stringify(clash)}, { description: 'the other tool' }, async () => ({ content: [{ type: 'text', text: 'other tool ran' }] }));
    return server;
  },
};
`,
    );
    const clashing = await startProxy({ pluginDirs: [dir] });
    const { client, close } = await connect(clashing.url);
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool) => [tool.name, tool.description]), [[`fx_${clash}`, 'the dotted tool']]);
      assert.equal(textOf(await client.callTool({ name: `fx_${clash}` })), 'dotted tool ran', `calling fx_${clash}, listed as "the dotted tool"`);
    } finally {
      await close();
      await clashing.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  // A quirk rather than a bug: `scheme:prefix///rest` and `scheme://prefix/rest` both reverse to
  // `scheme://rest`, so a backend URI has two client-side spellings (reads of either work; the
  // answer carries the second). Kept as a todo so the property is on record.
  test('every client-side URI under a prefix stands for a different backend URI', () => {
    fc.assert(
      fc.property(prefix, scheme, uriRest, fc.boolean(), (p, s, rest, hierarchical) => {
        const x = hierarchical ? `${s}://${p}/${rest}` : `${s}:${p}/${rest}`;
        const back = unprefixUri(x, p);
        if (back !== undefined) assert.equal(prefixUri(back, p), x, `${x} reverses to ${back}, which is exposed as ${prefixUri(back, p)}`);
      }),
      options(3000),
    );
  });
});

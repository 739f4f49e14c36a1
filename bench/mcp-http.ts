/**
 * A bare MCP client over streamable HTTP: plain fetch and JSON-RPC, no SDK. The session
 * benchmarks open thousands of sessions; this client costs the load generator little, sends
 * exactly the requests a benchmark names (initialize, notifications/initialized, the calls,
 * DELETE) and never opens the optional GET stream, so an "idle session" is idle.
 */
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

/** Longest a single request may take before the benchmark gives up on it. */
const REQUEST_TIMEOUT_MS = 60_000;

export class RpcFailure extends Error {
  readonly status?: number;

  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

interface RpcMessage {
  jsonrpc: '2.0';
  id?: number | string;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code: number; message: string };
}

export class McpSession {
  readonly url: string;
  readonly id: string;
  #nextId = 1;

  private constructor(url: string, id: string) {
    this.url = url;
    this.id = id;
  }

  /** initialize, then notifications/initialized: a session ready for requests. */
  static async open(url: string, capabilities: Record<string, unknown> = {}): Promise<McpSession> {
    const id = await timed(async (signal) => {
      const response = await post(
        url,
        undefined,
        { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities, clientInfo: { name: 'bench', version: '1.0.0' } } },
        signal,
      );
      await answerOf(response, 0, 'initialize');
      return response.headers.get('mcp-session-id');
    });
    if (!id) throw new RpcFailure('initialize answered without an Mcp-Session-Id');
    const session = new McpSession(url, id);
    await session.notify('notifications/initialized');
    return session;
  }

  /** The JSON-RPC id the next request will carry (to cancel it by id). */
  get nextRequestId(): number {
    return this.#nextId;
  }

  /** Sends a request; resolves with its result, throws RpcFailure on an error. `signal` drops the request stream. */
  async request<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    const id = this.#nextId++;
    return (await timed(async (own) => answerOf(await post(this.url, this.id, { jsonrpc: '2.0', id, method, ...(params && { params }) }, own), id, method), signal)) as T;
  }

  async notify(method: string, params?: Record<string, unknown>): Promise<void> {
    await timed(async (signal) => {
      const response = await post(this.url, this.id, { jsonrpc: '2.0', method, ...(params && { params }) }, signal);
      await response.arrayBuffer();
      if (response.status !== 202 && response.status !== 200) throw new RpcFailure(`${method}: HTTP ${response.status}`, response.status);
    });
  }

  /** Every item of a paginated list (`tools/list` and the like), following nextCursor. */
  async listAll(method: string, key: string): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let cursor: string | undefined;
    do {
      const page = await this.request<Record<string, unknown> & { nextCursor?: string }>(method, cursor === undefined ? {} : { cursor });
      items.push(...(page[key] as Array<Record<string, unknown>>));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return items;
  }

  async callTool(name: string, args: Record<string, unknown> = {}): Promise<{ content: Array<{ type: string; text?: string }>; isError?: boolean }> {
    const result = await this.request<{ content: Array<{ type: string; text?: string }>; isError?: boolean }>('tools/call', { name, arguments: args });
    if (result.isError) throw new RpcFailure(`${name} answered isError: ${JSON.stringify(result.content)}`);
    return result;
  }

  /** Ends the session (DELETE). */
  async close(): Promise<void> {
    await timed(async (signal) => {
      const response = await fetch(this.url, { method: 'DELETE', headers: headers(this.id), signal });
      await response.arrayBuffer();
      if (!response.ok) throw new RpcFailure(`DELETE: HTTP ${response.status}`, response.status);
    });
  }
}

function headers(sessionId?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
    ...(sessionId && { 'mcp-session-id': sessionId }),
  };
}

function post(url: string, sessionId: string | undefined, message: RpcMessage, signal: AbortSignal): Promise<Response> {
  return fetch(url, { method: 'POST', headers: headers(sessionId), body: JSON.stringify(message), signal });
}

/**
 * Runs one exchange (request and reading its answer) under its own signal: aborted after
 * REQUEST_TIMEOUT_MS or when `outer` aborts. Not AbortSignal.timeout/any, which Node 20 keeps
 * until they fire or forever: the soak sends enough requests for that to matter here too.
 */
async function timed<T>(exchange: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new RpcFailure(`no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
  const onAbort = () => controller.abort(outer!.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener('abort', onAbort, { once: true });
  try {
    return await exchange(controller.signal);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort);
  }
}

/** The answer to request `id` in a JSON or SSE response (an SSE stream may carry notifications first). */
async function answerOf(response: Response, id: number, method: string): Promise<unknown> {
  const text = await response.text();
  if (!response.ok) throw new RpcFailure(`${method}: HTTP ${response.status} ${text.slice(0, 300)}`, response.status);
  const messages: RpcMessage[] = (response.headers.get('content-type') ?? '').includes('text/event-stream')
    ? text
        .split(/\r?\n\r?\n/)
        .map((event) => event.split(/\r?\n/).filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trimStart()).join('\n'))
        .filter(Boolean)
        .map((data) => JSON.parse(data) as RpcMessage)
    : [JSON.parse(text) as RpcMessage];
  const answer = messages.find((message) => message.id === id && (message.result !== undefined || message.error !== undefined));
  if (!answer) throw new RpcFailure(`${method}: no answer in the response: ${text.slice(0, 300)}`);
  if (answer.error) throw new RpcFailure(`${method}: error ${answer.error.code} ${answer.error.message}`);
  return answer.result;
}

/**
 * Access records: one per MCP request a client sends (both eras), counted in the metrics and
 * written as one `info` line once the request ended. At `warn` and above nothing is written per
 * request (pino drops the line before it is built).
 *
 * A line says what was asked and how it went, never what was in it: method, plugin, the tool or
 * prompt name or the resource URI (query values redacted, see redact.ts), who asked
 * (the principal's id), era, session id (2025 clients), request id, duration and outcome.
 * Arguments and results are never written. The line also passes through the logger's secrets
 * scrubber like every other line (log.ts).
 *
 * The front doors start a record around each request (`observe`); the router fills in which
 * plugin answered (`noteRoute`), since only it knows. Everything else is read off the request.
 */
import type { Logger } from '../log.ts';
import { AsyncSlot } from '../async-slot.ts';
import { redactUrl } from '../redact.ts';
import { RpcCodes } from '../errors.ts';
import { pluginLabel, type Era, type Metrics, type Outcome } from './metrics.ts';

/** What is known of a request while it runs. */
interface AccessRecord {
  /** The plugin that answered (its prefix), once routed. */
  prefix?: string;
  /** The item's name as its plugin lists it (tools/call, prompts/get), once routed. */
  item?: { name: string; listed: boolean };
}

const current = new AsyncSlot<AccessRecord>('access record');

/**
 * The router says which plugin the current request goes to: `name` is the tool or prompt as the
 * plugin lists it (`listed`: found in its list), or undefined for a URI. Called where nothing is
 * being observed (a lookup outside any request), it does nothing.
 */
export function noteRoute(prefix: string, name?: string, listed = false): void {
  const record = current.getStore();
  if (!record) return;
  record.prefix = prefix;
  if (name !== undefined) record.item = { name, listed };
}

/** A request about to be served, as a front door sees it. */
export interface RequestStart {
  method: string;
  era: Era;
  /** The request's params (read for the tool, prompt or URI it names; nothing else of them is kept). */
  params: Record<string, unknown> | undefined;
  principal: string;
  requestId?: string;
  /** The client session (2025 clients). */
  sessionId?: string;
  /** Aborted when the client cancels the request. */
  signal?: AbortSignal;
}

/** Longest name or URI written to an access line; longer ones are cut (a client chose them), control characters replaced by `?`. */
const MAX_TARGET = 200;

export class AccessLog {
  readonly #metrics: Metrics;
  readonly #log: Logger;

  constructor(options: { metrics: Metrics; log: Logger }) {
    this.#metrics = options.metrics;
    this.#log = options.log;
  }

  /** Runs `serve` (the request's handling) as one observed request, and records how it ended. */
  async observe<T>(start: RequestStart, serve: () => Promise<T>): Promise<T> {
    const began = performance.now();
    const record: AccessRecord = {};
    let result: T | undefined;
    let failure: unknown;
    let failed = false;
    try {
      result = await current.run(record, serve);
      return result;
    } catch (error) {
      failed = true;
      failure = error;
      throw error;
    } finally {
      const seconds = (performance.now() - began) / 1000;
      this.#ended(start, record, seconds, failed ? { error: failure } : { result });
    }
  }

  #ended(start: RequestStart, record: AccessRecord, seconds: number, end: { result?: unknown; error?: unknown }): void {
    const { outcome, code } = outcomeOf(start, end);
    const plugin = record.prefix === undefined ? undefined : pluginLabel(record.prefix);
    const tool = start.method === 'tools/call' ? record.item : undefined;
    this.#metrics.requestEnded({ method: start.method, era: start.era, plugin, tool, outcome, code, forwarded: record.prefix !== undefined, seconds });
    if (!this.#log.isLevelEnabled('info')) return;
    const target = targetOf(start.method, start.params);
    const durationMs = Math.round(seconds * 10_000) / 10;
    this.#log.info(
      {
        access: true,
        method: start.method,
        ...(record.prefix !== undefined && { plugin: record.prefix }),
        ...target,
        principal: start.principal,
        era: start.era,
        ...(start.sessionId && { session: start.sessionId }),
        requestId: start.requestId,
        durationMs,
        outcome,
        ...(code !== undefined && { code }),
      },
      `${start.method}${target ? ` ${Object.values(target)[0]}` : ''} ${outcome}${code !== undefined ? ` ${code}` : ''} in ${durationMs} ms`,
    );
  }
}

/** How a request ended, and its JSON-RPC error code if it failed. */
function outcomeOf(start: RequestStart, end: { result?: unknown; error?: unknown }): { outcome: Outcome; code?: number } {
  if (!('error' in end)) {
    const isError = start.method === 'tools/call' && (end.result as { isError?: unknown } | undefined)?.isError === true;
    return { outcome: isError ? 'tool_error' : 'ok' };
  }
  if (start.signal?.aborted) return { outcome: 'cancelled' };
  const raw = (end.error as { code?: unknown } | undefined)?.code;
  const code = typeof raw === 'number' && Number.isInteger(raw) ? raw : RpcCodes.InternalError;
  return { outcome: code === RpcCodes.RequestTimeout ? 'timeout' : 'error', code };
}

/** What a request names, as an access line shows it: a tool or prompt name, or a URI with its query values redacted. */
function targetOf(method: string, params: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!params) return undefined;
  // Control characters would let a client forge lines in a pretty (terminal) log.
  const cut = (text: string) => (text.length > MAX_TARGET ? `${text.slice(0, MAX_TARGET)}...` : text).replace(/[\x00-\x1f\x7f]/g, '?');
  if (method === 'tools/call' && typeof params.name === 'string') return { tool: cut(params.name) };
  if (method === 'prompts/get' && typeof params.name === 'string') return { prompt: cut(params.name) };
  if (typeof params.uri === 'string') return { uri: cut(redactUrl(params.uri)) };
  const ref = params.ref as { name?: unknown; uri?: unknown } | undefined;
  if (method === 'completion/complete' && typeof ref?.name === 'string') return { prompt: cut(ref.name) };
  if (method === 'completion/complete' && typeof ref?.uri === 'string') return { uri: cut(redactUrl(ref.uri)) };
  return undefined;
}

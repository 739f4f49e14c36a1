/**
 * OpenTelemetry tracing (optional, off by default): a SERVER span for each client request the
 * proxy serves, and a CLIENT span, its child, for each request the proxy sends a backend on its
 * behalf. A client that sends W3C `traceparent` (HTTP header, or `params._meta` as the MCP
 * semantic conventions propose) gets the proxy's spans in its own trace; a remote backend gets the
 * CLIENT span's `traceparent` (and `tracestate`) on its HTTP request, so its spans join the trace.
 * Attributes follow OpenTelemetry's MCP semantic conventions (`mcp.method.name`,
 * `gen_ai.tool.name`, `mcp.session.id`, `error.type`...), plus `switchboard.plugin`.
 *
 * Off, it costs nothing: the OpenTelemetry packages are imported (dynamically) only by
 * `Tracing.start` with settings or an exporter, and the hooks in the request path cost a
 * function call each.
 *
 * Spans are carried on the request's async path in an AsyncSlot of our own and parented
 * explicitly, so no global tracer provider or context manager is registered: several
 * switchboards in one process each trace to their own exporter.
 */
import type { Context, Span, Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { AsyncSlot } from '../async-slot.ts';
import type { InboundHeaders } from '../scope.ts';
import type { Logger } from '../log.ts';
import { messageOf, SwitchboardError } from '../errors.ts';
import { isListMethod } from '../catalog/lists.ts';
import { redactUrl } from '../redact.ts';
import { DEFAULT_SERVICE_NAME, tracesUrl, type TracingSettings } from './tracing-settings.ts';

type Api = typeof import('@opentelemetry/api');
type Params = Record<string, unknown> | undefined;

/** One client request, as its SERVER span describes it. */
export interface ServedRequest {
  method: string;
  params: Params;
  /** The client's JSON-RPC id. */
  requestId: string | number;
  /** The era's version, `2025-11-25` (a session) or `2026-07-28` (stateless), when the request has no `MCP-Protocol-Version` header. */
  protocolVersion: string;
  /** The client session (2025-11-25 clients). */
  sessionId?: string;
  /** The client's HTTP request headers (where an incoming `traceparent` may be). */
  headers?: InboundHeaders | Headers;
}

/** What a CLIENT span says of the backend. */
export interface TracedPlugin {
  readonly prefix: string;
  readonly era: string;
  readonly manifest: { readonly remote?: { readonly url: string }; readonly command?: unknown };
}

/**
 * How long shutdown waits for the last spans to reach the collector: a collector that is down
 * must not hold the proxy's shutdown (the exporter itself retries for 10 s).
 */
const FLUSH_ON_CLOSE_MS = 2000;

interface Engine {
  api: Api;
  log: Logger;
  /** Where spans go, for messages. */
  destination: string;
  tracer: Tracer;
  propagator: import('@opentelemetry/api').TextMapPropagator;
  provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> };
  /** Applied to every error message a span carries: spans leave the proxy, like log lines. */
  scrub: (text: string) => string;
}

/** The span the current code runs in, and the engine that made it. */
interface Active {
  readonly engine: Engine;
  readonly span: Span;
  readonly kind: 'server' | 'client';
  /** A request served by one plugin (not a list merged from all of them): its span names the plugin. */
  readonly routed?: boolean;
}

const active = new AsyncSlot<Active>('trace span');

export interface TracingStartOptions {
  /** The proxy's version (`service.version`). */
  version: string;
  /** Where failed exports are reported. */
  log: Logger;
  /** Test-only: spans go here (each as it ends), not to a collector. */
  exporter?: SpanExporter;
  /** Removes secret values (tokens, manifest headers, `${VAR}` values) from error messages before they go into a span. */
  scrub?: (text: string) => string;
}

export class Tracing {
  /** Tracing off: every hook runs what it wraps and nothing else. */
  static readonly off = new Tracing(undefined);

  readonly #engine?: Engine;
  #closing?: Promise<void>;

  private constructor(engine: Engine | undefined) {
    this.#engine = engine;
  }

  /**
   * Tracing as `settings` say (off when they are undefined and no exporter is given). Loads the
   * OpenTelemetry packages only when on.
   */
  static async start(settings: TracingSettings | undefined, options: TracingStartOptions): Promise<Tracing> {
    if (!settings && !options.exporter) return Tracing.off;
    const endpoint = settings?.endpoint;
    if (!options.exporter && !endpoint) {
      throw new SwitchboardError('SB_CONFIG_INVALID', 'config key "tracing.endpoint": not set: where should spans go? e.g. http://localhost:4318', { culprit: 'tracing.endpoint' });
    }
    const [api, sdk, core, resources] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace'),
      import('@opentelemetry/core'),
      import('@opentelemetry/resources'),
    ]);
    let processor;
    let destination = 'the test exporter';
    if (options.exporter) {
      processor = new sdk.SimpleSpanProcessor({ exporter: options.exporter });
    } else {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
      destination = tracesUrl(endpoint!);
      const exporter = reporting(new OTLPTraceExporter({ url: destination, headers: settings?.headers ?? {} }), destination, options.log);
      processor = new sdk.BatchSpanProcessor({ exporter });
      options.log.info({ destination }, `tracing: spans go to ${destination}`);
    }
    const ratio = settings?.sampleRatio ?? 1;
    const provider = new sdk.TracerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': settings?.serviceName ?? DEFAULT_SERVICE_NAME, 'service.version': options.version }),
      sampler: new sdk.ParentBasedSampler({ root: ratio >= 1 ? new sdk.AlwaysOnSampler() : new sdk.TraceIdRatioBasedSampler(ratio) }),
      spanProcessors: [processor],
    });
    return new Tracing({ api, log: options.log, destination, tracer: provider.getTracer('mcp-switchboard', options.version), propagator: new core.W3CTraceContextPropagator(), provider, scrub: options.scrub ?? ((text) => text) });
  }

  get enabled(): boolean {
    return this.#engine !== undefined;
  }

  /**
   * Runs `handle` (serving one client request) in a SERVER span. Its parent is the client's
   * `traceparent` from `params._meta`, else from the HTTP request; the span ends when `handle`
   * settles, as an error if it throws or answers a tool call with `isError`.
   */
  serve<T>(request: ServedRequest, handle: () => Promise<T>): Promise<T> {
    const engine = this.#engine;
    if (!engine) return handle();
    const { api } = engine;
    const meta = request.params?._meta as Record<string, unknown> | undefined;
    const fromMeta = typeof meta?.traceparent === 'string';
    const carrier = (name: string) => (fromMeta ? (typeof meta?.[name] === 'string' ? (meta[name] as string) : undefined) : headerOf(request.headers, name));
    const parent = engine.propagator.extract(api.ROOT_CONTEXT, undefined, { keys: () => ['traceparent', 'tracestate'], get: (_carrier, key) => carrier(key) });
    const span = engine.tracer.startSpan(
      engine.scrub(spanName(request.method, request.params)),
      {
        kind: api.SpanKind.SERVER,
        attributes: {
          ...requestAttributes(request.method, request.params, engine.scrub),
          'mcp.protocol.version': headerOf(request.headers, 'mcp-protocol-version') ?? request.protocolVersion,
          'jsonrpc.request.id': String(request.requestId),
          ...(request.sessionId && { 'mcp.session.id': request.sessionId }),
          'network.transport': 'tcp',
          'network.protocol.name': 'http',
        },
      },
      parent,
    );
    return settle(engine, span, { engine, span, kind: 'server', routed: !isListMethod(request.method) }, handle);
  }

  /** Exports the spans not yet sent, then stops. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const engine = this.#engine;
      if (!engine) return;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), FLUSH_ON_CLOSE_MS)));
      const flushed = engine.provider
        .forceFlush()
        .then(() => engine.provider.shutdown())
        .catch(() => {});
      const outcome = await Promise.race([flushed, late]);
      clearTimeout(timer);
      if (outcome === 'late') engine.log.warn({ destination: engine.destination }, `tracing: the last spans did not reach ${engine.destination} within ${FLUSH_ON_CLOSE_MS} ms of shutdown; dropped`);
    })();
    return this.#closing;
  }
}

/**
 * Runs `send` (one request to `plugin`'s backend) in a CLIENT span, the child of the span the
 * caller runs in; with no span there (tracing off, or traffic of the proxy's own), just runs it.
 * The SERVER span of a request routed to one plugin learns which plugin served it.
 */
export function traceBackendRequest<T>(plugin: TracedPlugin, method: string, params: Params, send: () => Promise<T>): Promise<T> {
  const current = active.getStore();
  if (!current) return send();
  const { engine } = current;
  const { api } = engine;
  if (current.routed) current.span.setAttribute('switchboard.plugin', plugin.prefix);
  const remote = plugin.manifest.remote ? new URL(plugin.manifest.remote.url) : undefined;
  const span = engine.tracer.startSpan(
    engine.scrub(spanName(method, params)),
    {
      kind: api.SpanKind.CLIENT,
      attributes: {
        ...requestAttributes(method, params, engine.scrub),
        'mcp.protocol.version': plugin.era,
        'switchboard.plugin': plugin.prefix,
        ...(remote && {
          'network.transport': 'tcp',
          'network.protocol.name': 'http',
          'server.address': remote.hostname,
          'server.port': Number(remote.port || (remote.protocol === 'https:' ? 443 : 80)),
        }),
        ...(!remote && plugin.manifest.command !== undefined && { 'network.transport': 'pipe' }),
      },
    },
    api.trace.setSpan(api.ROOT_CONTEXT, current.span),
  );
  return settle(engine, span, { engine, span, kind: 'client' }, send);
}

/**
 * The W3C trace context headers (`traceparent`, `tracestate`) for an HTTP request sent now to a
 * backend: those of the CLIENT span the caller runs in, or undefined outside one.
 */
export function traceHeaders(): Record<string, string> | undefined {
  const current = active.getStore();
  if (current?.kind !== 'client') return undefined;
  const headers: Record<string, string> = {};
  const context: Context = current.engine.api.trace.setSpan(current.engine.api.ROOT_CONTEXT, current.span);
  current.engine.propagator.inject(context, headers, { set: (carrier, key, value) => ((carrier as Record<string, string>)[key] = value) });
  return headers;
}

/** `exporter`, with each failed export reported (OpenTelemetry's own error handler says nothing unless a diag logger is set up). */
function reporting(exporter: SpanExporter, destination: string, log: Logger): SpanExporter {
  return {
    export: (spans, done) =>
      exporter.export(spans, (result) => {
        if (result.code !== 0 /* ExportResultCode.SUCCESS */) log.warn({ destination, spans: spans.length, err: result.error && messageOf(result.error) }, `tracing: sending ${spans.length} span(s) to ${destination} failed; they are dropped`);
        done(result);
      }),
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/** One header (a lower-case name) of a client's request, whichever way the SDK gives them. */
function headerOf(headers: InboundHeaders | Headers | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const value = headers instanceof Headers ? headers.get(name) : headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? undefined);
}

/** `tools/call example_hello_world`: the method, and the tool or prompt when there is one (low cardinality: no URIs). */
function spanName(method: string, params: Params): string {
  const name = params?.name;
  return (method === 'tools/call' || method === 'prompts/get') && typeof name === 'string' ? `${method} ${name}` : method;
}

/**
 * The MCP semantic conventions' attributes of a request: its method, and the tool, prompt or
 * resource it names. A URI's query values are redacted, as in the access log: spans leave the
 * proxy for a collector, and a query may carry a key. Names and URIs pass the secrets scrubber
 * too (a client can put anything in them).
 */
function requestAttributes(method: string, params: Params, scrub: (text: string) => string): Record<string, string> {
  const name = typeof params?.name === 'string' ? scrub(params.name) : undefined;
  const uri = typeof params?.uri === 'string' ? scrub(redactUrl(params.uri)) : undefined;
  return {
    'mcp.method.name': method,
    ...(method === 'tools/call' && name !== undefined && { 'gen_ai.tool.name': name, 'gen_ai.operation.name': 'execute_tool' }),
    ...(method === 'prompts/get' && name !== undefined && { 'gen_ai.prompt.name': name }),
    ...(uri !== undefined && { 'mcp.resource.uri': uri }),
  };
}

/**
 * Runs `work` with `current` as the active span and ends the span when it settles: an error for
 * a thrown error (its JSON-RPC code, if any; thrown at once or later) and for a tool result with
 * `isError`.
 */
function settle<T>(engine: Engine, span: Span, current: Active, work: () => Promise<T>): Promise<T> {
  const { SpanStatusCode } = engine.api;
  let outcome: Promise<T>;
  try {
    outcome = active.run(current, work);
  } catch (error) {
    outcome = Promise.reject(error);
  }
  return outcome.then(
    (result) => {
      if ((result as { isError?: unknown } | undefined)?.isError === true) {
        span.setAttribute('error.type', 'tool_error');
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'the tool answered with isError' });
      }
      span.end();
      return result;
    },
    (error: unknown) => {
      const code = (error as { code?: unknown } | undefined)?.code;
      if (typeof code === 'number') span.setAttributes({ 'error.type': String(code), 'rpc.response.status_code': String(code) });
      else span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: engine.scrub(error instanceof Error ? error.message : String(error)) });
      span.end();
      throw error;
    },
  );
}

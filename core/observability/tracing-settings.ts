/**
 * The `tracing` setting: where spans go (an OTLP/HTTP collector), under which service name, and
 * what share of traces is kept. It can also come from OpenTelemetry's standard environment
 * variables; what the `tracing` setting says wins over them, key by key (as in OpenTelemetry's
 * SDKs, where settings given in code win over the environment), and `OTEL_SDK_DISABLED=true`
 * turns tracing off whatever else says.
 */
import { z } from 'zod';
import { SwitchboardError } from '../errors.ts';

export interface TracingSettings {
  /**
   * The collector's OTLP/HTTP address: a base (`http://localhost:4318`, to which `/v1/traces` is
   * added) or the full traces URL (any URL with a path, used as it is).
   */
  endpoint?: string;
  /** `service.name` of the spans; default `mcp-switchboard`. */
  serviceName?: string;
  /** The share of new traces recorded, 0 to 1 (default 1); a trace a client started keeps the client's choice. */
  sampleRatio?: number;
  /** HTTP headers sent to the collector (an API key, say); scrubbed from logs. */
  headers?: Record<string, string>;
}

const httpUrl = (what: string) =>
  z.string().refine((url) => /^https?:\/\//i.test(url) && URL.canParse(url), { message: `must be the http(s) URL of ${what}, e.g. http://localhost:4318` });

export const tracingSchema = z.strictObject({
  endpoint: httpUrl('an OTLP/HTTP collector').optional(),
  serviceName: z.string().min(1).optional(),
  sampleRatio: z.number().min(0).max(1).optional(),
  headers: z.record(z.string().min(1), z.string()).optional(),
});

export const DEFAULT_SERVICE_NAME = 'mcp-switchboard';

/** The traces URL for an `endpoint` setting: a bare origin gets OTLP's `/v1/traces`; a URL with a path is kept. */
export function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url.href;
}

/**
 * The tracing settings to run with: `given` (config file, `SWITCHBOARD_TRACING`) over the
 * `OTEL_*` variables of `env`; undefined when tracing is off (neither sets an endpoint, or
 * `OTEL_SDK_DISABLED=true`). A `tracing` setting with no endpoint anywhere is an error.
 */
export function resolveTracing(given: TracingSettings | undefined, env: Record<string, string | undefined>): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const fromEnv = otelEndpoint(env);
  const endpoint = given?.endpoint ? tracesUrl(given.endpoint) : fromEnv;
  if (!endpoint) {
    if (!given) return undefined;
    throw new SwitchboardError('SB_CONFIG_INVALID', 'config key "tracing.endpoint": not set (nor OTEL_EXPORTER_OTLP_ENDPOINT): where should spans go? e.g. http://localhost:4318', {
      culprit: 'tracing.endpoint',
    });
  }
  const headersVariable = env.OTEL_EXPORTER_OTLP_TRACES_HEADERS !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS';
  const headers = given?.headers ?? otelHeaders(env[headersVariable], headersVariable);
  return {
    endpoint,
    serviceName: given?.serviceName ?? (env.OTEL_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME),
    sampleRatio: given?.sampleRatio ?? 1,
    ...(headers && Object.keys(headers).length > 0 && { headers }),
  };
}

/** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the traces URL as it is) or OTEL_EXPORTER_OTLP_ENDPOINT (a base: `v1/traces` is added). */
function otelEndpoint(env: Record<string, string | undefined>): string | undefined {
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'] as const) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    const checked = httpUrl('an OTLP/HTTP collector').safeParse(raw);
    if (!checked.success) throw new SwitchboardError('SB_CONFIG_INVALID', `environment variable ${name}: ${checked.error.issues[0]?.message}`, { culprit: name });
    if (name === 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') return new URL(raw).href;
    const base = new URL(raw);
    base.pathname = `${base.pathname.replace(/\/$/, '')}/v1/traces`;
    return base.href;
  }
  return undefined;
}

/** OTEL_EXPORTER_OTLP_HEADERS (the variable `name`): `name=value` pairs, comma-separated, values URL-encoded. */
function otelHeaders(raw: string | undefined, name: string): Record<string, string> | undefined {
  if (!raw?.trim()) return undefined;
  const headers: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // The value is a secret (an API key): the message names the header, not what was given.
      throw new SwitchboardError('SB_CONFIG_INVALID', `environment variable ${name}: header "${pair.slice(0, at).trim()}" is not URL-encoded (write % as %25)`, { culprit: name });
    }
  }
  return headers;
}

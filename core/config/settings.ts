/**
 * The settings the proxy runs with: their types, defaults and checks. Resolved once into one
 * frozen object (config.ts reads them from a file, the environment and flags; embedders and
 * tests pass some directly), so no code downstream falls back to a default of its own.
 */
import { z } from 'zod';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../log.ts';
import { authSchema } from '../auth/schema.ts';
import type { AuthSettings } from '../auth/authenticator.ts';
import type { CorsSettings } from '../http/cors.ts';
import type { RateLimit } from '../http/limits.ts';
import { pluginPoliciesSchema, type PluginPolicy } from './plugin-policy.ts';
import { tracingSchema, type TracingSettings } from '../observability/tracing-settings.ts';
import { REPLICA_ID_PATTERN } from '../downstream/legacy/session-id.ts';

export interface Settings {
  port: number;
  host: string;
  /** Plugin directories, in the order they are searched (relative ones against `cwd`). */
  pluginDirs: readonly string[];
  /** A client session with no traffic for this long is ended (0: never). */
  sessionIdleTimeoutMs: number;
  /**
   * This replica's name, the first part of every 2025 session id (`<replicaId>.<uuid>`), so a load
   * balancer can send a session's requests to the replica that holds it; unset: the host name.
   */
  replicaId?: string;
  /** Most client sessions at once; past it, new ones get 503 with Retry-After. */
  maxSessions: number;
  /** Most client sessions at once of one authenticated caller; past it, 429 with Retry-After. */
  maxSessionsPerCaller: number;
  /** Default longest time for one request to a backend; a plugin's `timeoutMs` overrides it. */
  requestTimeoutMs: number;
  /** How long a merged list waits for each plugin's list before serving its last good one. */
  listTimeoutMs: number;
  /** 2026 clients: how long they may keep a list (`ttlMs`); those listening hear of changes sooner. */
  listTtlMs: number;
  /** 2026 clients: how long a call waits for the client to answer its `input_required` question. */
  inputTimeoutMs: number;
  /** Items per page of the merged lists sent to clients (0: everything in one page). */
  pageSize: number;
  /** Accepted `Host`/`Origin` host names (DNS-rebinding protection); `*` accepts any. */
  allowedHosts: readonly string[];
  /** Web pages on other origins that may call the proxy; unset: no CORS headers at all. */
  cors?: CorsSettings;
  maxBodyBytes: number;
  /** Requests to `/mcp` per principal (or client address) per window; unset: no limit. */
  rateLimit?: RateLimit;
  /** Most requests in progress per 2025 session (per principal for stateless 2026 requests); past it, 429. */
  maxRequestsPerSession: number;
  /** Most request headers; past it, 431. */
  maxHeaders: number;
  /** Largest size of a request's headers (Node's `maxHeaderSize`); past it, 431. */
  maxHeaderBytes: number;
  /** How long a dropped, resumable request stream waits for the client to reconnect before the request is cancelled. */
  resumeGraceMs: number;
  logLevel: LogLevel;
  /** `json` lines, or `pretty` for a terminal; unset: the entry picks (pretty on a TTY). */
  logFormat?: LogFormat;
  /** Watch plugin directories and mount, reload, unmount as folders change; `poll` where file events do not arrive. */
  watch: boolean | 'poll';
  /** Quiet period before a changed plugin folder is reloaded. */
  watchDebounceMs: number;
  /** A plugin whose import or first connection takes longer fails (alone). */
  loadTimeoutMs: number;
  /** Default most child processes per command plugin (one per client session). */
  maxProcessesPerPlugin: number;
  /** On shutdown, how long requests in progress may take to finish. */
  shutdownGraceMs: number;
  /** Inbound authentication; unset: open (with a warning when listening beyond loopback). */
  auth?: AuthSettings;
  /** A policy per plugin, by prefix (see plugin-policy.ts). */
  plugins: Readonly<Record<string, PluginPolicy>>;
  /** OpenTelemetry spans to an OTLP/HTTP collector; unset: no tracing (see observability/tracing.ts). */
  tracing?: TracingSettings;
  /**
   * `GET /metrics` (Prometheus): true serves it on the proxy's port (behind auth when auth is on),
   * false not at all, `{ port, host }` on a scrape-only listener of its own, without auth
   * (see http/metrics.ts).
   */
  metrics: boolean | MetricsListener;
}

/** A scrape-only listener for `/metrics`. */
export interface MetricsListener {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export const DEFAULTS: Readonly<Settings> = Object.freeze({
  port: 8490,
  host: '0.0.0.0',
  pluginDirs: ['plugins'],
  sessionIdleTimeoutMs: 10 * 60 * 1000,
  maxSessions: 5000,
  maxSessionsPerCaller: 500,
  requestTimeoutMs: 60_000,
  listTimeoutMs: 5000,
  listTtlMs: 60_000,
  inputTimeoutMs: 10 * 60 * 1000,
  // One page, as a bare SDK server and FastMCP answer: many clients never follow nextCursor.
  pageSize: 0,
  allowedHosts: ['localhost', '127.0.0.1', '[::1]'],
  maxBodyBytes: 4 * 1024 * 1024,
  maxRequestsPerSession: 64,
  maxHeaders: 100,
  maxHeaderBytes: 16 * 1024,
  resumeGraceMs: 30_000,
  logLevel: 'info' as LogLevel,
  watch: true as boolean | 'poll',
  watchDebounceMs: 300,
  loadTimeoutMs: 30_000,
  maxProcessesPerPlugin: 16,
  shutdownGraceMs: 5_000,
  plugins: Object.freeze({}),
  metrics: true as boolean | MetricsListener,
});

const metricsListenerSchema = z.strictObject({ port: z.number().int().min(0).max(65535), host: z.string().min(1).optional() });

/** How each setting is checked (a config file, the environment and flags all go through these). */
export const SETTING_SCHEMAS = {
  port: z.number().int().min(0).max(65535),
  host: z.string().min(1),
  pluginDirs: z.array(z.string().min(1)),
  sessionIdleTimeoutMs: z.number().int().min(0),
  replicaId: z.string().regex(REPLICA_ID_PATTERN, 'must be 1 to 63 letters, digits, "_" or "-" (no dot: it ends the replica part of a session id)'),
  maxSessions: z.number().int().positive(),
  maxSessionsPerCaller: z.number().int().positive(),
  requestTimeoutMs: z.number().int().positive(),
  listTimeoutMs: z.number().int().positive(),
  listTtlMs: z.number().int().min(0),
  inputTimeoutMs: z.number().int().positive(),
  pageSize: z.number().int().min(0),
  allowedHosts: z.array(z.string().min(1)),
  cors: z
    .strictObject({
      origins: z
        .array(
          z.string().refine((origin) => origin === '*' || (/^https?:\/\/[^/?#]+$/i.test(origin) && URL.canParse(origin)), {
            message: 'must be "*" or an origin: scheme, host and port, no path (e.g. https://app.example.com)',
          }),
        )
        .min(1),
      credentials: z.boolean().optional(),
      maxAgeSec: z.number().int().min(0).optional(),
    })
    .refine((cors) => !(cors.credentials && cors.origins.includes('*')), {
      message: 'credentials cannot be used with origins ["*"] (browsers refuse it); list the origins',
    }),
  maxBodyBytes: z.number().int().positive(),
  rateLimit: z.strictObject({ requests: z.number().int().positive(), perSeconds: z.number().int().positive() }),
  maxRequestsPerSession: z.number().int().positive(),
  maxHeaders: z.number().int().positive(),
  maxHeaderBytes: z.number().int().min(1024),
  resumeGraceMs: z.number().int().min(0),
  logLevel: z.enum(LOG_LEVELS as [LogLevel, ...LogLevel[]]),
  logFormat: z.enum(LOG_FORMATS as [LogFormat, ...LogFormat[]]),
  watch: z.union([z.boolean(), z.literal('poll')], { error: 'must be true, false or "poll"' }),
  watchDebounceMs: z.number().int().min(0),
  loadTimeoutMs: z.number().int().positive(),
  maxProcessesPerPlugin: z.number().int().positive(),
  shutdownGraceMs: z.number().int().min(0),
  auth: authSchema,
  plugins: pluginPoliciesSchema,
  metrics: z.unknown().transform((value, ctx): boolean | MetricsListener => {
    // true, false, or the listener, with the listener's own problems reported (a union would only say "Invalid input").
    if (typeof value === 'boolean') return value;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: 'must be true, false, or an object { "port": ..., "host": ... } for a scrape-only listener' });
      return z.NEVER;
    }
    const result = metricsListenerSchema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  }),
  tracing: tracingSchema,
} satisfies { [K in keyof Settings]-?: z.ZodType };

/** `given` over the defaults, frozen. Keys given as undefined keep their default. */
export function resolveSettings(given: Partial<Settings>): Readonly<Settings> {
  const defined = Object.fromEntries(Object.entries(given).filter(([key, value]) => value !== undefined && key in SETTING_SCHEMAS));
  return Object.freeze({ ...DEFAULTS, ...defined });
}

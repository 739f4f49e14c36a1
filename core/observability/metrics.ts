/**
 * Prometheus metrics (`GET /metrics`, prom-client): what clients asked, of which plugin, how it
 * went and how long it took; sessions and listen streams open; each plugin's state, child
 * processes and backend trouble; and the process's own (event-loop lag, heap, CPU).
 *
 * One registry per switchboard, not prom-client's global one: tests and embedders run many
 * proxies in one process, and each must count only its own traffic. The process's default
 * metrics (collectDefaultMetrics) are the process's, whichever proxy is asked, so they are
 * collected once per process into a registry of their own and merged into each switchboard's:
 * collecting them per switchboard would start an event-loop monitor and a GC observer for each
 * proxy that nothing can stop.
 *
 * Cardinality: no label value is a string a client chose. Methods outside MCP's own set count as
 * `other`; a plugin label is a mounted plugin's prefix; a tool label is a name its plugin listed,
 * at most MAX_TOOLS_PER_PLUGIN of them per plugin, the rest `other`; error codes outside the
 * JSON-RPC and MCP ones count as `other`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PluginStatus } from '../plugins/lifecycle.ts';
import type { PluginState } from '../plugins/plugin.ts';

/** The protocol era a client request came in. */
export type Era = '2025-11-25' | '2026-07-28';

/**
 * How a client request ended: answered (`ok`), a tool's own error result (`tool_error`), the
 * backend did not answer in time (`timeout`), the client cancelled it (`cancelled`), or any other
 * JSON-RPC error (`error`, with its code in the access log).
 */
export type Outcome = 'ok' | 'tool_error' | 'error' | 'timeout' | 'cancelled';

/** One client request, once it ended (see access-log.ts for where it is recorded). */
export interface RequestRecord {
  method: string;
  era: Era;
  /** The metric label of the plugin that answered (pluginLabel), or undefined when no one plugin did (a merged list). */
  plugin?: string;
  /** The tool, as its plugin lists it, of a tools/call that reached a plugin (`listed` when it was in the plugin's list). */
  tool?: { name: string; listed: boolean };
  outcome: Outcome;
  /** The JSON-RPC error code of an `error` or `timeout`. */
  code?: number;
  /** Whether the request reached the plugin's backend (then an error is the backend's). */
  forwarded: boolean;
  seconds: number;
}

/** Where the gauges read the proxy's state at scrape time. */
export interface MetricSources {
  /** Client sessions open (2025-11-25 clients; 2026 clients have none). */
  sessions(): number;
  /** Every plugin source's state, processes included (what /readyz shows). */
  plugins(): PluginStatus[];
}

/** Methods counted under their own name; any other counts as `other`. */
const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/result',
  'tasks/cancel',
  'tasks/list',
  'server/discover',
  'subscriptions/listen',
]);

/** Error codes counted under their own number: JSON-RPC's and those MCP defines or the proxy sends. */
const KNOWN_CODES = new Set([-32700, -32600, -32601, -32602, -32603, -32000, -32001, -32002, -32020, -32021, -32022, -32042]);

/** Most tool labels per plugin; the plugin's further tools count as `other`. */
export const MAX_TOOLS_PER_PLUGIN = 100;

const STATES: readonly PluginState[] = ['loading', 'ready', 'degraded', 'unavailable', 'failed', 'disabled'];

/** Tool calls and reads can take minutes; the default buckets stop at 10 s. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The `plugin` label of a plugin prefix: the prefix, or `(none)` for the plugin without one (as `switchboard plugins` shows it). */
export function pluginLabel(prefix: string): string {
  return prefix === '' ? '(none)' : prefix;
}

/** The `method` label of a method name. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'other';
}

/** The `code` label of a JSON-RPC error code. */
export function codeLabel(code: number | undefined): string {
  return code !== undefined && KNOWN_CODES.has(code) ? String(code) : 'other';
}

let processRegistry: Registry | undefined;

const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** The process's own metrics (event-loop lag, heap, GC, CPU, handles), collected once per process. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    // Gauges named like counters, which `promtool check metrics` refuses; each is the sum of the
    // per-type gauge of the same name without `_total` (nodejs_active_handles{type}...), kept.
    for (const name of MISNAMED_DEFAULTS) processRegistry.removeSingleMetric(name);
  }
  return processRegistry;
}

export class Metrics {
  /** Everything `/metrics` shows: this switchboard's metrics and the process's. */
  readonly registry: Registry;

  readonly #requests: Counter<'method' | 'plugin' | 'era' | 'outcome'>;
  readonly #duration: Histogram<'method' | 'plugin'>;
  readonly #toolDuration: Histogram<'plugin' | 'tool'>;
  readonly #listenStreams: Gauge;
  readonly #backendErrors: Counter<'plugin' | 'code'>;
  readonly #backendTimeouts: Counter<'plugin'>;
  readonly #reinitializations: Counter<'plugin'>;
  /** Per plugin label, the tool names given a label of their own. */
  readonly #toolLabels = new Map<string, Set<string>>();

  constructor(sources: MetricSources) {
    const own = new Registry();
    const registers = [own];
    this.#requests = new Counter({
      name: 'switchboard_requests_total',
      help: 'Client requests answered, by MCP method, plugin prefix (empty: not one plugin, e.g. a merged list), protocol era and outcome (ok, tool_error, error, timeout, cancelled).',
      labelNames: ['method', 'plugin', 'era', 'outcome'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'switchboard_request_duration_seconds',
      help: 'How long client requests took, from the proxy receiving them to it answering, by MCP method and plugin prefix.',
      labelNames: ['method', 'plugin'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#toolDuration = new Histogram({
      name: 'switchboard_tool_call_duration_seconds',
      help: `How long tools/call requests took, by plugin prefix and tool (as the plugin lists it; past ${MAX_TOOLS_PER_PLUGIN} tools per plugin, and for names it does not list: other).`,
      labelNames: ['plugin', 'tool'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'switchboard_sessions_active',
      help: 'Client sessions open, by protocol era (2026-07-28 clients are stateless and have none; see switchboard_listen_streams_active).',
      labelNames: ['era'],
      registers,
      collect() {
        this.set({ era: '2025-11-25' }, sources.sessions());
      },
    });
    this.#listenStreams = new Gauge({
      name: 'switchboard_listen_streams_active',
      help: 'subscriptions/listen streams open (2026-07-28 clients waiting for list and resource changes).',
      registers,
    });
    new Gauge({
      name: 'switchboard_plugin_state',
      help: `Each plugin's state: 1 for the state it is in, 0 for the others (${STATES.join(', ')}).`,
      labelNames: ['plugin', 'state'],
      registers,
      collect() {
        this.reset();
        for (const status of preferServing(sources.plugins())) {
          for (const state of STATES) this.set({ plugin: statusLabel(status), state }, state === status.state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'switchboard_child_processes',
      help: 'Child processes running, by plugin prefix (command plugins: one per client session that used the plugin).',
      labelNames: ['plugin'],
      registers,
      collect() {
        this.reset();
        for (const status of preferServing(sources.plugins())) if (status.kind === 'command') this.set({ plugin: statusLabel(status) }, status.processes ?? 0);
      },
    });
    this.#backendErrors = new Counter({
      name: 'switchboard_backend_errors_total',
      help: 'Requests forwarded to a plugin that its backend answered with an error (timeouts apart), by plugin prefix and JSON-RPC code (other: outside the JSON-RPC and MCP codes).',
      labelNames: ['plugin', 'code'],
      registers,
    });
    this.#backendTimeouts = new Counter({
      name: 'switchboard_backend_timeouts_total',
      help: 'Requests forwarded to a plugin that its backend did not answer within the timeout, by plugin prefix.',
      labelNames: ['plugin'],
      registers,
    });
    this.#reinitializations = new Counter({
      name: 'switchboard_backend_reinitializations_total',
      help: 'Backend sessions opened again after one was lost (the process ended, or the backend forgot the session), by plugin prefix.',
      labelNames: ['plugin'],
      registers,
    });
    this.registry = Registry.merge([own, processMetrics()]);
  }

  /** Counts one client request that ended. */
  requestEnded(record: RequestRecord): void {
    const plugin = record.plugin ?? '';
    const method = methodLabel(record.method);
    this.#requests.inc({ method, plugin, era: record.era, outcome: record.outcome });
    this.#duration.observe({ method, plugin }, record.seconds);
    if (record.tool && record.plugin !== undefined) this.#toolDuration.observe({ plugin, tool: this.#toolLabel(plugin, record.tool) }, record.seconds);
    if (!record.forwarded || record.plugin === undefined) return;
    if (record.outcome === 'timeout') this.#backendTimeouts.inc({ plugin });
    else if (record.outcome === 'error') this.#backendErrors.inc({ plugin, code: codeLabel(record.code) });
  }

  /** A listen stream opened; the function returned counts it closed (once, however often called). */
  listenStreamOpened(): () => void {
    this.#listenStreams.inc();
    let open = true;
    return () => {
      if (open) this.#listenStreams.dec();
      open = false;
    };
  }

  /** A backend session of the plugin with this prefix was opened again after one was lost. */
  backendReinitialized(prefix: string): void {
    this.#reinitializations.inc({ plugin: pluginLabel(prefix) });
  }

  /** Client requests counted so far (switchboard_requests_total): in all, and per plugin label (empty: not one plugin). */
  async requestTotals(): Promise<{ total: number; byPlugin: Record<string, number> }> {
    const { values } = await this.#requests.get();
    const byPlugin: Record<string, number> = {};
    let total = 0;
    for (const { value, labels } of values) {
      total += value;
      const plugin = String(labels.plugin ?? '');
      byPlugin[plugin] = (byPlugin[plugin] ?? 0) + value;
    }
    return { total, byPlugin };
  }

  /** The Prometheus text exposition of every metric. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #toolLabel(plugin: string, tool: { name: string; listed: boolean }): string {
    if (!tool.listed) return 'other';
    let labels = this.#toolLabels.get(plugin);
    if (!labels) this.#toolLabels.set(plugin, (labels = new Set()));
    if (labels.has(tool.name)) return tool.name;
    if (labels.size >= MAX_TOOLS_PER_PLUGIN) return 'other';
    labels.add(tool.name);
    return tool.name;
  }
}

/** A status's plugin label: its prefix, or its source when it failed before saying one. */
function statusLabel(status: PluginStatus): string {
  return status.prefix === undefined ? status.source : pluginLabel(status.prefix);
}

/** One status per plugin label: where two sources claim a prefix, the one serving it (a refused duplicate does not hide it). */
function preferServing(statuses: PluginStatus[]): PluginStatus[] {
  const serving = (status: PluginStatus) => status.state === 'ready' || status.state === 'degraded';
  const byLabel = new Map<string, PluginStatus>();
  for (const status of statuses) {
    const label = statusLabel(status);
    const known = byLabel.get(label);
    if (!known || (!serving(known) && serving(status))) byLabel.set(label, status);
  }
  return [...byLabel.values()];
}

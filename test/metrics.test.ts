/**
 * `GET /metrics`: what an operator's Prometheus sees after real traffic from clients of both eras
 * (an SDK v1 client in 2025-11-25, an SDK v2 client pinned to 2026-07-28) to an in-process
 * plugin, a command plugin, a 2025-era remote backend and a 2026-era one: requests by method,
 * plugin, era and outcome, latencies, sessions and listen streams, plugin states, child
 * processes, backend errors, timeouts and re-initializations. The output passes
 * `promtool check metrics`. Where it is served: behind auth like `/mcp`, on a scrape-only
 * listener, or not at all.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import { FIXTURES, ROOT, connect, freePort, memoryLogger, startProcess, startProxy, startRemoteFixture, textOf, until, type RunningProcess, type RunningProxy } from './helpers.ts';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSwitchboard } from '../core/switchboard.ts';
import { MAX_TOOLS_PER_PLUGIN, Metrics } from '../core/observability/metrics.ts';
import { loadConfig } from '../core/config/config.ts';

let legacy: RunningProcess;
let modern: RunningProcess;
let proxy: RunningProxy;

/** How long the 2025-era remote plugin `old` may take per request (its `hang` fault outlasts it). */
const OLD_TIMEOUT_MS = 1500;

before(async () => {
  [legacy, modern] = await Promise.all([
    startRemoteFixture(),
    startProcess(process.execPath, ['--import', 'tsx', 'test/fixtures/modern-server.ts'], { env: { PORT: '0' }, ready: /listening (http:\S+)/ }),
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-metrics-'));
  await mkdir(join(dir, 'old'));
  await writeFile(join(dir, 'old', 'plugin.json'), JSON.stringify({ prefix: 'old', remote: { url: legacy.url } }));
  await mkdir(join(dir, 'mod'));
  await writeFile(join(dir, 'mod', 'plugin.json'), JSON.stringify({ prefix: 'mod', remote: { url: modern.url } }));
  await mkdir(join(dir, 'cmd'));
  await writeFile(
    join(dir, 'cmd', 'plugin.json'),
    JSON.stringify({ prefix: 'cmd', command: { command: process.execPath, args: ['--import', 'tsx', join(FIXTURES, 'stdio-server.ts')], cwd: ROOT } }),
  );
  proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins'), dir], plugins: { old: { timeoutMs: OLD_TIMEOUT_MS } } });
});

after(async () => {
  await proxy?.close();
  await Promise.all([legacy?.stop(), modern?.stop()]);
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `a /metrics line is not in the Prometheus text format: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of match[2]?.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g) ?? []) labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(url = proxy.url.replace(/\/mcp$/, '/metrics'), headers: Record<string, string> = {}): Promise<{ text: string; samples: Sample[] }> {
  const response = await fetch(url, { headers });
  assert.equal(response.status, 200, `GET /metrics answers 200, not ${response.status}: ${await response.clone().text()}`);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  return { text, samples: parse(text) };
}

/** The sum of the samples of `name` whose labels include `labels`. */
function sum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((total, s) => total + s.value, 0);
}

async function modernClient(): Promise<V2Client> {
  const client = new V2Client({ name: 'v2-metrics', version: '1.0.0' }, { capabilities: {}, versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new V2Transport(new URL(proxy.url)));
  return client;
}

async function fault(body: Record<string, unknown>): Promise<void> {
  const response = await fetch(legacy.url.replace(/\/mcp$/, '/control'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(response.status, 200);
}

const REQUESTS = 'switchboard_requests_total';

test('requests from a 2025 client and a 2026 client are counted by method, plugin, era and outcome, with their latencies', async () => {
  const before = (await scrape()).samples;
  const totalsBefore = await proxy.switchboard.metrics.requestTotals();
  const v1 = await connect(proxy.url);
  const v2 = await modernClient();
  try {
    await v1.client.listTools();
    assert.equal(textOf(await v1.client.callTool({ name: 'example_hello_world', arguments: {} })), 'Hello from the example MCP server!');
    await assert.rejects(v1.client.callTool({ name: 'example_no_such_tool_4711', arguments: {} }), /Unknown tool/);
    assert.equal(textOf(await v2.callTool({ name: 'mod_echo', arguments: { text: 'hi' } })), 'modern: hi');
    assert.equal(textOf(await v2.callTool({ name: 'old_shout', arguments: { text: 'hi' } })), 'HI');
  } finally {
    await v1.close();
    await v2.close();
  }
  const { samples, text } = await scrape();
  const delta = (labels: Record<string, string>) => sum(samples, REQUESTS, labels) - sum(before, REQUESTS, labels);
  assert.equal(delta({ method: 'tools/call', plugin: 'example', era: '2025-11-25', outcome: 'ok' }), 1, 'the 2025 call of example_hello_world is counted once, as ok, for plugin example');
  assert.equal(delta({ method: 'tools/list', plugin: '', era: '2025-11-25', outcome: 'ok' }), 1, 'the merged tools/list belongs to no one plugin');
  assert.equal(delta({ method: 'tools/call', plugin: '', era: '2025-11-25', outcome: 'error' }), 1, 'the unknown tool is an error of no plugin');
  assert.equal(delta({ method: 'tools/call', plugin: 'mod', era: '2026-07-28', outcome: 'ok' }), 1, 'the 2026 call of the 2026-era backend is counted');
  assert.equal(delta({ method: 'tools/call', plugin: 'old', era: '2026-07-28', outcome: 'ok' }), 1, 'the 2026 call of the 2025-era backend is counted');
  assert.ok(!text.includes('no_such_tool_4711'), 'a tool name the client made up must not become a label value');

  const histogram = 'switchboard_request_duration_seconds_count';
  assert.equal(sum(samples, histogram, { method: 'tools/call', plugin: 'example' }) - sum(before, histogram, { method: 'tools/call', plugin: 'example' }), 1);
  const tool = 'switchboard_tool_call_duration_seconds_count';
  assert.equal(sum(samples, tool, { plugin: 'mod', tool: 'echo' }) - sum(before, tool, { plugin: 'mod', tool: 'echo' }), 1, 'the per-tool histogram names the tool as its plugin lists it');
  const slowest = samples.find((s) => s.name === 'switchboard_tool_call_duration_seconds_bucket' && s.labels.plugin === 'example' && s.labels.le === '+Inf');
  assert.ok(slowest && slowest.value >= 1, 'the per-tool histogram has its +Inf bucket');

  const totals = await proxy.switchboard.metrics.requestTotals();
  assert.equal(totals.total - totalsBefore.total, delta({}), 'requestTotals() counts what switchboard_requests_total counts');
  assert.equal((totals.byPlugin.example ?? 0) - (totalsBefore.byPlugin.example ?? 0), 1);
  assert.equal((totals.byPlugin.mod ?? 0) - (totalsBefore.byPlugin.mod ?? 0), 1);
});

test('open sessions, listen streams, plugin states and child processes are read at scrape time', async () => {
  const session = await connect(proxy.url);
  const listener = await modernClient();
  const subscription = await listener.listen({ toolsListChanged: true });
  try {
    const pid = Number(textOf(await session.client.callTool({ name: 'cmd_pid', arguments: {} })));
    assert.ok(pid > 0);
    const { samples } = await until(async () => {
      const scraped = await scrape();
      return sum(scraped.samples, 'switchboard_listen_streams_active') === 1 ? scraped : undefined;
    }, 'switchboard_listen_streams_active to count the open listen stream');
    assert.equal(sum(samples, 'switchboard_sessions_active', { era: '2025-11-25' }), proxy.switchboard.sessions.size, 'sessions_active is the number of 2025 sessions open');
    assert.ok(proxy.switchboard.sessions.size >= 1);
    assert.equal(sum(samples, 'switchboard_child_processes', { plugin: 'cmd' }), proxy.switchboard.registry.get('cmd')!.processes.size);
    assert.ok(sum(samples, 'switchboard_child_processes', { plugin: 'cmd' }) >= 1, 'the session process of the command plugin is counted');
    for (const plugin of ['example', 'old', 'mod', 'cmd']) {
      assert.equal(sum(samples, 'switchboard_plugin_state', { plugin, state: 'ready' }), 1, `plugin ${plugin} is shown ready`);
      assert.equal(sum(samples, 'switchboard_plugin_state', { plugin }), 1, `plugin ${plugin} is in exactly one state`);
    }
  } finally {
    await subscription.close();
    await listener.close();
    await session.close();
  }
  await until(async () => (sum((await scrape()).samples, 'switchboard_listen_streams_active') === 0 ? true : undefined), 'the closed listen stream to be uncounted');
  await until(async () => (sum((await scrape()).samples, 'switchboard_sessions_active') === proxy.switchboard.sessions.size ? true : undefined), 'sessions_active to follow the closed session');
});

test('a backend that does not answer in time counts as a timeout of its plugin; one that fails counts as a backend error', async () => {
  const before = (await scrape()).samples;
  const session = await connect(proxy.url);
  try {
    await fault({ fault: 'hang', methods: ['tools/call'] });
    await assert.rejects(session.client.callTool({ name: 'old_shout', arguments: { text: 'x' } }), /did not answer tools\/call within 1500 ms/);
    await fault({ fault: 'html', methods: ['tools/call'] });
    await assert.rejects(session.client.callTool({ name: 'old_shout', arguments: { text: 'x' } }));
  } finally {
    await fault({ fault: 'none' });
    await session.close();
  }
  const { samples } = await scrape();
  const delta = (name: string, labels: Record<string, string>) => sum(samples, name, labels) - sum(before, name, labels);
  assert.equal(delta('switchboard_backend_timeouts_total', { plugin: 'old' }), 1, 'the hung call is one timeout of plugin old');
  assert.equal(delta(REQUESTS, { method: 'tools/call', plugin: 'old', outcome: 'timeout' }), 1);
  assert.equal(delta('switchboard_backend_errors_total', { plugin: 'old' }), 1, 'the call answered with an HTML error page is one backend error of plugin old');
  assert.equal(delta(REQUESTS, { method: 'tools/call', plugin: 'old', outcome: 'error' }), 1);
  assert.equal(delta('switchboard_backend_errors_total', { plugin: 'example' }), 0);
});

test('a backend session opened again after its process died counts as a re-initialization of its plugin', async () => {
  const reinitialized = async () => sum((await scrape()).samples, 'switchboard_backend_reinitializations_total', { plugin: 'cmd' });
  const before = await reinitialized();
  const session = await connect(proxy.url);
  try {
    const pid = textOf(await session.client.callTool({ name: 'cmd_pid', arguments: {} }));
    await session.client.callTool({ name: 'cmd_crash', arguments: {} }).catch(() => {});
    // The proxy starts a new process by itself; the next call is answered by it.
    await until(async () => ((await reinitialized()) === before + 1 ? true : undefined), 'switchboard_backend_reinitializations_total{plugin="cmd"} to count the restart', 30_000);
    assert.notEqual(textOf(await session.client.callTool({ name: 'cmd_pid', arguments: {} })), pid, 'a new process answers');
  } finally {
    await session.close();
  }
});

test('tool labels are bounded: names a plugin does not list, and names past the cap, count as other', async () => {
  const metrics = new Metrics({ sessions: () => 0, plugins: () => [] });
  const record = (name: string, listed: boolean) =>
    metrics.requestEnded({ method: 'tools/call', era: '2025-11-25', plugin: 'many', tool: { name, listed }, outcome: 'ok', forwarded: true, seconds: 0.01 });
  record('made_up_by_a_client', false);
  for (let i = 0; i < MAX_TOOLS_PER_PLUGIN + 20; i++) record(`tool_${i}`, true);
  record('tool_0', true);
  const samples = parse(await metrics.exposition()).filter((s) => s.name === 'switchboard_tool_call_duration_seconds_count');
  const tools = new Set(samples.map((s) => s.labels.tool));
  assert.equal(tools.size, MAX_TOOLS_PER_PLUGIN + 1, `at most ${MAX_TOOLS_PER_PLUGIN} tool labels per plugin, plus other`);
  assert.ok(!tools.has('made_up_by_a_client'));
  assert.equal(sum(samples, 'switchboard_tool_call_duration_seconds_count', { tool: 'other' }), 21, 'the unlisted name and the 20 past the cap count as other');
  assert.equal(sum(samples, 'switchboard_tool_call_duration_seconds_count', { tool: 'tool_0' }), 2, 'a tool given a label keeps it');
  // Two switchboards in one process count apart.
  assert.equal((await metrics.requestTotals()).total, MAX_TOOLS_PER_PLUGIN + 22);
  assert.notEqual((await proxy.switchboard.metrics.requestTotals()).byPlugin.many, MAX_TOOLS_PER_PLUGIN + 22);
});

test('the /metrics answer after real traffic passes promtool check metrics', async (t) => {
  const found = spawnSync('promtool', ['--version'], { stdio: 'ignore' });
  if (found.error) {
    const required = process.env.CI || process.env.SWITCHBOARD_REQUIRE_PROMTOOL;
    assert.ok(!required, 'promtool is not installed but CI/SWITCHBOARD_REQUIRE_PROMTOOL asks for this check (Debian: apt-get install prometheus)');
    t.skip('promtool is not installed (Debian: apt-get install prometheus); set SWITCHBOARD_REQUIRE_PROMTOOL=1 to make this a failure');
    return;
  }
  const { text, samples } = await scrape();
  // The earlier tests left calls of every outcome, sessions and processes to check.
  for (const outcome of ['ok', 'error', 'timeout']) assert.ok(sum(samples, REQUESTS, { outcome }) > 0, `the checked output has ${outcome} requests`);
  assert.ok(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds'), 'the process metrics (event-loop lag) are there');
  assert.ok(samples.some((s) => s.name === 'nodejs_heap_size_used_bytes'), 'the process metrics (heap) are there');
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }));
    child.stdin!.end(text);
  });
  assert.equal(code, 0, `promtool check metrics found problems:\n${output}`);
});

test('with auth on, /metrics asks for the same credentials as /mcp, and only a caller that may use every plugin reads it', async () => {
  const full = 'metrics-reader-token-0123456789';
  const limited = 'limited-caller-token-0123456789';
  const guarded = await startProxy({ pluginDirs: [join(ROOT, 'plugins')], auth: { tokens: [{ token: full, name: 'ops' }, { token: limited, name: 'one-plugin', plugins: ['example'] }] } });
  try {
    const url = guarded.url.replace(/\/mcp$/, '/metrics');
    const anonymous = await fetch(url);
    assert.equal(anonymous.status, 401, 'no token: 401');
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789abc' } })).status, 401, 'a wrong token: 401');
    const refused = await fetch(url, { headers: { authorization: `Bearer ${limited}` } });
    assert.equal(refused.status, 403, 'a caller limited to some plugins must not learn of the others');
    assert.match(await refused.text(), /may use only some plugins/);
    const { samples } = await scrape(url, { authorization: `Bearer ${full}` });
    assert.equal(sum(samples, 'switchboard_plugin_state', { plugin: 'example', state: 'ready' }), 1);
  } finally {
    await guarded.close();
  }
});

test('/metrics on the proxy port refuses a Host or Origin that is not allowed (DNS rebinding), as /mcp does', async () => {
  const { request } = await import('node:http');
  const url = new URL(proxy.url.replace(/\/mcp$/, '/metrics'));
  const get = (headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject).end();
    });
  const rebound = await get({ Host: `evil.example:${url.port}` });
  assert.equal(rebound.status, 403, 'a page whose DNS name now points at the proxy must not read its metrics');
  assert.match(JSON.parse(rebound.body).error.message, /^Forbidden: Host "evil\.example:\d+" is not allowed/);
  assert.doesNotMatch(rebound.body, /switchboard_/);
  const foreignPage = await get({ Host: url.host, Origin: 'http://evil.example' });
  assert.equal(foreignPage.status, 403, 'a page on another site must not read the metrics');
  const own = await get({ Host: url.host });
  assert.equal(own.status, 200);
  assert.match(own.body, /^switchboard_requests_total/m);
});

test('metrics.port opens a scrape-only listener without auth; the proxy port then has no /metrics', async () => {
  const token = 'scrape-test-token-0123456789';
  const split = await startProxy({ pluginDirs: [join(ROOT, 'plugins')], auth: { tokens: [{ token }] }, metrics: { port: 0 } });
  try {
    const metricsUrl = split.switchboard.metricsUrl;
    assert.ok(metricsUrl, 'the switchboard says where its scrape listener is');
    assert.match(metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'the scrape listener is on loopback unless metrics.host says otherwise');
    const { samples } = await scrape(metricsUrl);
    assert.equal(sum(samples, 'switchboard_plugin_state', { plugin: 'example', state: 'ready' }), 1);
    assert.equal((await fetch(metricsUrl.replace(/\/metrics$/, '/mcp'))).status, 404, 'the scrape listener serves /metrics only');
    assert.equal((await fetch(metricsUrl, { method: 'POST' })).status, 405);
    assert.equal((await fetch(split.url.replace(/\/mcp$/, '/metrics'), { headers: { authorization: `Bearer ${token}` } })).status, 404, 'the proxy port has no /metrics then');
  } finally {
    await split.close();
  }
  await assert.rejects(fetch(split.switchboard.metricsUrl!), 'close() closes the scrape listener too');
});

test('a scrape listener that cannot open stops listen() with an error naming the setting, and leaves no port of the proxy open', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
  const busy = (taken.address() as AddressInfo).port;
  const switchboard = await createSwitchboard({ cwd: ROOT, pluginDirs: [join(ROOT, 'plugins')], log: memoryLogger().log, metrics: { port: busy } });
  const port = await freePort();
  try {
    await assert.rejects(switchboard.listen(port, '127.0.0.1'), (error: Error) => {
      assert.match(error.message, new RegExp(`metrics listener \\(config metrics\\.port, metrics\\.host\\)`), error.message);
      return true;
    });
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'the proxy port was left open after listen() failed');
  } finally {
    await switchboard.close();
    await new Promise<void>((resolve) => taken.close(() => resolve()));
  }
});

test('metrics: false serves no /metrics', async () => {
  const off = await startProxy({ pluginDirs: [join(ROOT, 'plugins')], metrics: false });
  try {
    assert.equal((await fetch(off.url.replace(/\/mcp$/, '/metrics'))).status, 404);
    assert.equal(off.switchboard.metricsUrl, undefined);
  } finally {
    await off.close();
  }
});

test('the metrics setting is checked like every other: errors name the key', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'switchboard-metrics-config-'));
  await writeFile(join(cwd, 'switchboard.config.json'), JSON.stringify({ metrics: { port: 'nine' } }));
  await assert.rejects(loadConfig({ cwd, env: {} }), /key "metrics\.port": Invalid input: expected number/);
  await writeFile(join(cwd, 'switchboard.config.json'), JSON.stringify({ metrics: { prot: 9464 } }));
  await assert.rejects(loadConfig({ cwd, env: {} }), /unknown key "metrics\.prot"/);
  await writeFile(join(cwd, 'switchboard.config.json'), JSON.stringify({ metrics: { port: 9464, host: '0.0.0.0' } }));
  assert.deepEqual((await loadConfig({ cwd, env: {} })).metrics, { port: 9464, host: '0.0.0.0' });
  assert.equal((await loadConfig({ cwd, env: { SWITCHBOARD_METRICS: 'false' } })).metrics, false);
  assert.equal((await loadConfig({ cwd: await mkdtemp(join(tmpdir(), 'switchboard-metrics-default-')), env: {} })).metrics, true, 'served on the proxy port by default');
  await assert.rejects(loadConfig({ cwd, env: { SWITCHBOARD_METRICS: 'yes' } }), /SWITCHBOARD_METRICS \(metrics\): must be JSON/);
});

/**
 * The status page's data, `GET /status.json`, and the page shell at `/`: what they show, and
 * that with authentication on the data needs the same credentials as `/mcp` and lists only the
 * caller's plugins. (test/status-page.test.ts renders the page in a real browser.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, ROOT, connect, startProxy, type RunningProxy } from './helpers.ts';
import { HOSTILE, writeBrokenPlugin, writeLookPlugin } from './fixtures/status-plugins.ts';
import { statusReport, type StatusReport } from '../core/status/report.ts';
import { principal } from '../core/auth/principal.ts';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
async function getStatus(proxy: RunningProxy, token?: string): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(new URL('/status.json', proxy.url), { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

let dir: string;
let open: RunningProxy;
let guarded: RunningProxy;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-status-'));
  await writeLookPlugin(dir, 'look', HOSTILE);
  await writeBrokenPlugin(dir, 'broken');
  const pluginDirs = [join(ROOT, 'plugins'), dir];
  open = await startProxy({ pluginDirs });
  guarded = await startProxy({
    pluginDirs,
    auth: { tokens: [{ token: 'all-secret', name: 'admin' }, { token: 'look-secret', name: 'looker', plugins: ['look'] }] },
  });
});

after(async () => {
  await open?.close();
  await guarded?.close();
});

test('/status.json shows the version, uptime, sessions and each plugin with kind, era, state, last error and its lists', async () => {
  const client = await connect(open.url);
  try {
    const { status, headers, body } = await getStatus(open);
    assert.equal(status, 200);
    assert.equal(headers.get('cache-control'), 'no-store');
    const report = body as unknown as StatusReport;
    assert.equal(report.name, 'mcp-switchboard');
    assert.equal(report.version, VERSION);
    assert.ok(Number.isInteger(report.uptime) && report.uptime >= 0, `uptime in seconds: ${report.uptime}`);
    assert.ok(Date.parse(report.startedAt) <= Date.parse(report.time));
    assert.deepEqual(report.sessions, { '2025-11-25': 1, '2026-07-28': 'stateless', requestsInProgress: 0 }, 'the connected client\'s session is counted');

    const look = report.plugins.find((plugin) => plugin.prefix === 'look');
    assert.ok(look, `the look plugin is listed: ${JSON.stringify(report.plugins.map((p) => p.prefix))}`);
    assert.equal(look.state, 'ready');
    assert.equal(look.kind, 'in-process');
    assert.equal(look.era, '2025-11-25');
    assert.deepEqual(look.server, { name: 'look-server', version: '2.3.4' });
    assert.deepEqual(look.counts, { tools: 1, prompts: 1, resources: 0, resourceTemplates: 0 });
    const [tool] = look.lists!.tools;
    assert.equal(tool!.name, 'look_look', 'tools are named as clients see them');
    assert.equal(tool!.description, HOSTILE, 'the description is passed on as it is (the page shows it as text)');
    const schema = tool!.inputSchema as { properties: Record<string, { description?: string }>; required: string[] };
    assert.equal(schema.properties.query?.description, 'what to look for');
    assert.deepEqual(schema.required, ['query']);
    assert.deepEqual(look.lists!.prompts.map((prompt) => prompt.name), ['look_ask']);

    const example = report.plugins.find((plugin) => plugin.prefix === 'example');
    assert.equal(example?.lists?.tools[0]?.name, 'example_hello_world');
    assert.equal(example?.lists?.tools[0]?.description, 'Says hello from the example MCP server.');

    const broken = report.plugins.find((plugin) => plugin.source.endsWith('broken'));
    assert.ok(broken, 'the broken folder is listed');
    assert.equal(broken.state, 'failed');
    assert.match(String(broken.error), /broken/, `its last error names the folder: ${broken.error}`);
    assert.equal(broken.lists, undefined, 'a plugin that is not mounted lists nothing');
  } finally {
    await client.close();
  }
});

test('/status.json?lists=0 leaves the lists out, with a tag per plugin that stays the same while its lists do', async () => {
  const full = (await getStatus(open)).body as unknown as StatusReport;
  const response = await fetch(new URL('/status.json?lists=0', open.url));
  const summary = (await response.json()) as StatusReport;
  const look = summary.plugins.find((plugin) => plugin.prefix === 'look')!;
  assert.equal(look.lists, undefined, 'no lists');
  assert.match(String(look.listsTag), /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(look.listsTag, full.plugins.find((plugin) => plugin.prefix === 'look')!.listsTag, 'the same lists, the same tag');
  assert.notEqual(look.listsTag, summary.plugins.find((plugin) => plugin.prefix === 'example')!.listsTag, 'other lists, another tag');
  assert.equal(summary.plugins.find((plugin) => plugin.state === 'failed')!.listsTag, undefined, 'a plugin not mounted has no lists to tag');
});

test('the page shell at / is served with a strict Content-Security-Policy and no inline script', async () => {
  const response = await fetch(new URL('/', open.url));
  assert.equal(response.status, 200);
  assert.match(String(response.headers.get('content-type')), /^text\/html/);
  const csp = String(response.headers.get('content-security-policy'));
  assert.match(csp, /default-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const html = await response.text();
  assert.match(html, /<meta name="viewport"/);
  assert.doesNotMatch(html, /<script>|<script(?![^>]*\bsrc=)[^>]*>/, 'every script is a file of its own');
  for (const asset of ['/status/page.js', '/status/page.css', '/status/icon.svg']) {
    const file = await fetch(new URL(asset, open.url));
    assert.equal(file.status, 200, `${asset} is served`);
    await file.arrayBuffer();
  }
  const missing = await fetch(new URL('/status/other.js', open.url));
  assert.equal(missing.status, 404, 'only the page\'s own files are served');
});

test('/status.json refuses a Host that is not allowed (DNS rebinding), as /mcp does', async () => {
  const { request } = await import('node:http');
  const url = new URL('/status.json', open.url);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, headers: { Host: 'evil.example' } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject).end();
  });
  assert.equal(status, 403);
});

test('with auth on, /status.json without a valid token shows nothing and says how to authenticate; the page shell still loads', async () => {
  for (const token of [undefined, 'wrong-secret']) {
    const { status, headers, body } = await getStatus(guarded, token);
    assert.equal(status, 401, `token ${token}`);
    assert.match(String(headers.get('www-authenticate')), /^Bearer realm="mcp-switchboard"/);
    assert.deepEqual(Object.keys(body), ['error'], `nothing but the error: ${JSON.stringify(body)}`);
    assert.doesNotMatch(JSON.stringify(body), /look|example|broken/);
  }
  assert.equal((await fetch(new URL('/', guarded.url))).status, 200);
});

test('with auth on, /status.json shows a caller only the plugins its token may use', async () => {
  const limited = (await getStatus(guarded, 'look-secret')).body as unknown as StatusReport;
  assert.deepEqual(limited.plugins.map((plugin) => plugin.prefix), ['look']);
  assert.deepEqual(limited.viewer, { id: 'looker', plugins: ['look'] });
  assert.equal(limited.plugins[0]!.lists!.tools[0]!.name, 'look_look');

  const admin = (await getStatus(guarded, 'all-secret')).body as unknown as StatusReport;
  assert.deepEqual(admin.viewer, { id: 'admin' });
  assert.deepEqual(admin.plugins.filter((plugin) => plugin.state === 'ready').map((plugin) => plugin.prefix).sort(), ['example', 'look']);
  assert.ok(admin.plugins.some((plugin) => plugin.state === 'failed'), 'a caller who may use every plugin also sees the folder that failed');
});

test('request totals: a caller who may use every plugin sees the total; one limited to some plugins sees its own plugins\' only', async () => {
  const switchboard = open.switchboard;
  // Known figures, labelled as the metrics label them: `(none)` is the plugin without a prefix, `""` no one plugin.
  const counts = { requestTotals: async () => ({ total: 12, byPlugin: { look: 5, example: 4, '': 3 } }) };
  const sources = {
    version: '1.2.3',
    startedAt: new Date('2026-01-01T00:00:00Z'),
    statuses: () => switchboard.statuses(),
    registry: switchboard.registry,
    sessions: () => 0,
    requestsInProgress: () => 0,
    auth: () => 'test',
    metrics: counts,
  };
  const now = new Date('2026-01-01T01:00:05Z');
  const all = await statusReport(sources, principal('admin', 'token'), { now });
  assert.equal(all.uptime, 3605);
  assert.deepEqual(all.requests, { total: 12, byPlugin: { example: 4, look: 5 } });
  assert.equal(all.plugins.find((plugin) => plugin.prefix === 'look')?.requests, 5);
  const some = await statusReport(sources, principal('looker', 'token', ['look']), { now });
  assert.deepEqual(some.requests, { byPlugin: { look: 5 } }, 'no total (it counts other plugins\' requests too), and only its own plugins');
});

test('/status.json counts each plugin\'s client requests with the proxy\'s own counters (those of /metrics)', async () => {
  const before = (await getStatus(open)).body as unknown as StatusReport;
  assert.ok(before.requests, 'request figures are present');
  assert.deepEqual(Object.keys(before.requests.byPlugin).sort(), ['example', 'look']);
  const client = await connect(open.url);
  try {
    for (const query of ['a', 'b', 'c']) await client.client.callTool({ name: 'look_look', arguments: { query } });
  } finally {
    await client.close();
  }
  const after = (await getStatus(open)).body as unknown as StatusReport;
  const look = (report: StatusReport) => report.plugins.find((plugin) => plugin.prefix === 'look')!.requests;
  assert.equal(look(after)! - look(before)!, 3, 'three tools/call to look');
  assert.equal(after.requests!.byPlugin.look, look(after));
  assert.equal(after.requests!.byPlugin.example, before.requests.byPlugin.example, 'none to example');
  assert.ok(after.requests!.total! >= before.requests.total! + 3, 'the total counts them (and the session\'s initialize and lists)');
  assert.equal(after.requests!.total, (await open.switchboard.metrics.requestTotals()).total);
});

test('a plugin spoken to in the 2026-07-28 era is shown with that era and its lists', async () => {
  const modern = await startProxy({ pluginDirs: [join(FIXTURES, 'modern-plugins')] });
  try {
    const report = (await getStatus(modern)).body as unknown as StatusReport;
    const v2 = report.plugins.find((plugin) => plugin.prefix === 'v2');
    assert.equal(v2?.state, 'ready');
    assert.match(String(v2?.era), /^2026-07-28/);
    const hello = v2?.lists?.tools.find((tool) => tool.name === 'v2_hello');
    assert.equal(hello?.description, 'Greets');
    assert.deepEqual((hello?.inputSchema as { required?: string[] }).required, ['name']);
  } finally {
    await modern.close();
  }
});

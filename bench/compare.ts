/**
 * The side-by-side rows of issue 11: the proxy against what it stands in for, each figure the
 * median of ROUNDS rounds (`--rounds`, default 3) with the reference and the proxy alternated in
 * each round (the first to run in a round alternates too), official SDK clients, one session
 * sequential for p50 and 8 sessions for throughput; a compared figure (a ratio, a difference) is
 * the median of the rounds' own (see measurePair):
 *
 *   1. in-process `echo` (the tests' fixture plugin, `fx_echo`) vs the same plugin module on a
 *      bare SDK v1 streamable-HTTP server (bare-server.ts): p50 <= x1.15, rps >= x0.9;
 *   2. a remote plugin (`rfx_echo`, that bare server mounted by URL) vs the bare server
 *      directly: p50 +0.5 ms at most, rps >= x0.8;
 *   3. the seed's FastMCP proxy vs this proxy, same FastMCP backend (fastmcp-seed.py): rps
 *      >= x20, p50 <= 1/10; only where `python3 -c "import fastmcp"` works, else left out;
 *   4. the first `tools/list` of a fresh session, 10 plugins x 100 tools through the proxy vs a
 *      bare server with 1,000 tools: <= x1.2;
 *
 * and, with no target, row 2's floor: the bare server behind a pass-through HTTP proxy that
 * parses nothing (pass-through.ts), which is what one more HTTP hop costs on the machine.
 * Also throughput with p99 at 1, 8 and 32 sessions (the bare server, in-process, remote; one
 * run each). The load generator runs on the Node that runs the bench, whatever `--node` says.
 */
import { execFileSync } from 'node:child_process';
import { sdkConnect, type SdkSession } from './latency.ts';
import { McpSession } from './mcp-http.ts';
import { FIXTURE_PLUGIN, fixturePluginDir, generatedPluginsDir, remotePluginDir } from './plugin-dirs.ts';
import { freePort, startBareServer, startNode, startProcess, startProxy, type Running } from './processes.ts';
import { median, percentile, ratio, reportWarnings, x, type Figure, type Results, type Target } from './report.ts';

export interface CompareSizes {
  /** Rounds per side-by-side figure (the median is the figure). */
  rounds: number;
  /** Sequential calls in one session, for p50. */
  latencyCalls: number;
  /** Calls in all across the sessions, for throughput. */
  loadCalls: number;
  /** Fresh sessions per round whose first `tools/list` is timed. */
  listSessions: number;
}

const SECTION = 'compare';
/** Calls each session makes before it is timed (connections, JIT, the proxy's shared lists). */
const WARM_UP = 20;
const THROUGHPUT_SESSIONS = 8;
const SCALE_SESSIONS = [1, 8, 32] as const;

/** A tool at an MCP endpoint. */
interface Endpoint {
  url: string;
  tool: string;
  args: Record<string, unknown>;
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
}

type Side = 'reference' | 'proxy';

/** `sessions` SDK sessions calling `endpoint`'s tool one call at a time each, `calls` timed calls in all. */
async function load(endpoint: Endpoint, sessions: number, calls: number): Promise<Load> {
  const open = await Promise.all(Array.from({ length: sessions }, () => sdkConnect(endpoint.url)));
  const call = async (session: SdkSession) => {
    const result = await session.client.callTool({ name: endpoint.tool, arguments: endpoint.args });
    if (result.isError) throw new Error(`${endpoint.tool} at ${endpoint.url} answered isError: ${JSON.stringify(result.content)}`);
  };
  try {
    await Promise.all(open.map(async (session) => {
      for (let i = 0; i < WARM_UP; i++) await call(session);
    }));
    const samples: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      open.map(async (session) => {
        while (next++ < calls) {
          const sent = performance.now();
          await call(session);
          samples.push(performance.now() - sent);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { rps: calls / seconds, p50: median(samples), p99: percentile(samples, 99) };
  } finally {
    await Promise.all(open.map((session) => session.close()));
  }
}

/** Runs `measure` for both sides `rounds` times, the side that goes first alternating; each side's results in round order. */
async function alternate<T>(rounds: number, measure: (side: Side) => Promise<T>): Promise<Record<Side, T[]>> {
  const out: Record<Side, T[]> = { reference: [], proxy: [] };
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? (['reference', 'proxy'] as const) : (['proxy', 'reference'] as const)) out[side].push(await measure(side));
  }
  return out;
}

interface PairFigures {
  p50: Record<Side, number>;
  rps: Record<Side, number>;
  /** The compared figures, each the median over the rounds of that round's proxy against its reference. */
  paired: { p50Ratio: number; p50Delta: number; rpsRatio: number };
}

/**
 * p50 (one session) and rps (8 sessions) on both sides, each the median over the rounds. The p50
 * rounds run first, then the rps rounds, so the two sides of a round run back to back; each
 * compared figure is the median of the rounds' own comparisons. This machine's speed drifts by
 * tens of percent within a minute (a shared VM), and a ratio of medians taken minutes apart
 * measured that drift as much as the proxy.
 */
async function measurePair(pair: Record<Side, Endpoint>, sizes: CompareSizes): Promise<PairFigures> {
  const p50 = await alternate(sizes.rounds, async (side) => (await load(pair[side], 1, sizes.latencyCalls)).p50);
  const rps = await alternate(sizes.rounds, async (side) => (await load(pair[side], THROUGHPUT_SESSIONS, sizes.loadCalls)).rps);
  const each = (runs: Record<Side, number[]>, compare: (proxy: number, reference: number) => number) => median(runs.proxy.map((value, round) => compare(value, runs.reference[round]!)));
  return {
    p50: { reference: median(p50.reference), proxy: median(p50.proxy) },
    rps: { reference: median(rps.reference), proxy: median(rps.proxy) },
    paired: { p50Ratio: each(p50, (a, b) => a / b), p50Delta: each(p50, (a, b) => a - b), rpsRatio: each(rps, (a, b) => a / b) },
  };
}

/** How a p50 target reads: the proxy's p50 over the reference's, or the proxy's minus the reference's. */
type P50Target = { kind: 'ratio'; target?: Target } | { kind: 'delta'; target?: Target };

/** Records a pair's figures (the raw ones and the compared ones, with their targets) and its row. */
function recordPair(results: Results, key: string, what: string, figures: PairFigures, targets: { p50: P50Target; rps?: Target }, targetText: string): void {
  const side = (s: Side) => `${figures.p50[s].toFixed(2)} ms, ${figures.rps[s].toFixed(0)}/s`;
  for (const s of ['reference', 'proxy'] as const) {
    results.add(SECTION, `${key}.${s}P50`, `${what}: ${s} p50`, figures.p50[s], 'ms', `${figures.p50[s].toFixed(2)} ms`);
    results.add(SECTION, `${key}.${s}Rps`, `${what}: ${s} rps (${THROUGHPUT_SESSIONS} sessions)`, figures.rps[s], 'calls/s', `${figures.rps[s].toFixed(0)} calls/s`);
  }
  const { p50Ratio, p50Delta, rpsRatio } = figures.paired;
  const p50 =
    targets.p50.kind === 'ratio'
      ? results.add(SECTION, `${key}.p50Ratio`, `${what}: p50 proxy/reference`, p50Ratio, 'ratio', x(p50Ratio), targets.p50.target)
      : results.add(SECTION, `${key}.p50Delta`, `${what}: p50 proxy - reference`, p50Delta, 'ms', `${signed(p50Delta)} ms`, targets.p50.target);
  const rps = results.add(SECTION, `${key}.rpsRatio`, `${what}: rps proxy/reference`, rpsRatio, 'ratio', x(rpsRatio), targets.rps);
  const now = targets.p50.kind === 'ratio' ? `p50 ${p50.text}, rps ${rps.text}` : `${p50.text}, rps ${rps.text}`;
  results.row({ what, reference: side('reference'), proxy: side('proxy'), now, target: targetText, figures: [p50, rps] });
}

const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(2)}`;

/** Rows 1 and 2 and the 1/8/32-session throughput: one bare echo server, one proxy mounting the same plugin in-process and it by URL. */
async function echoRows(results: Results, sizes: CompareSizes): Promise<void> {
  const bare = await startBareServer(FIXTURE_PLUGIN);
  const proxy = await startProxy({ pluginDirs: [await fixturePluginDir(), await remotePluginDir(bare.url, 'rfx')] });
  try {
    const args = { message: 'benchmark' };
    const direct: Endpoint = { url: bare.url, tool: 'echo', args };
    const inProcess: Endpoint = { url: proxy.url, tool: 'fx_echo', args };
    const remote: Endpoint = { url: proxy.url, tool: 'rfx_echo', args };

    console.log(`\n[${SECTION}] 1. in-process echo vs the same tool on a bare SDK server (${sizes.rounds} rounds)`);
    recordPair(results, 'inProcess', 'in-process `echo` vs the same tool on a bare SDK server', await measurePair({ reference: direct, proxy: inProcess }, sizes), {
      p50: { kind: 'ratio', target: ratio('<=', 1.15) },
      rps: ratio('>=', 0.9),
    }, 'p50 <= x1.15, rps >= x0.9');

    console.log(`\n[${SECTION}] 2. remote plugin vs its bare SDK server directly (${sizes.rounds} rounds)`);
    recordPair(results, 'remote', 'remote plugin vs its bare SDK server directly', await measurePair({ reference: direct, proxy: remote }, sizes), {
      p50: { kind: 'delta', target: { op: '<=', value: 0.5, text: '<= +0.5 ms' } },
      rps: ratio('>=', 0.8),
    }, 'p50 +0.5 ms, rps >= x0.8');

    // The floor of row 2: one more HTTP hop and nothing else, measured the same way.
    const passThrough = await startNode(['--import', 'tsx', 'bench/pass-through.ts'], /listening (http:\S+)/, { TARGET: bare.url, PORT: '0' });
    try {
      console.log(`\n[${SECTION}] the floor of row 2: a pass-through HTTP proxy (no MCP) vs the bare server (${sizes.rounds} rounds)`);
      const floor = await measurePair({ reference: direct, proxy: { url: passThrough.url, tool: 'echo', args } }, sizes);
      recordPair(results, 'passThrough', 'floor of row 2: a pass-through HTTP proxy (no MCP at all) vs the bare server', floor, { p50: { kind: 'delta' } }, '');
    } finally {
      await passThrough.stop();
    }

    console.log(`\n[${SECTION}] throughput and p99 at ${SCALE_SESSIONS.join(', ')} sessions (one run each)`);
    for (const sessions of SCALE_SESSIONS) {
      const measured: Figure[] = [];
      for (const [key, endpoint] of [['bare', direct], ['inProcess', inProcess], ['remote', remote]] as const) {
        const run = await load(endpoint, sessions, sizes.loadCalls);
        measured.push(results.add(SECTION, `scale${sessions}.${key}`, `${sessions} session(s), ${key}: rps`, run.rps, 'calls/s', `${run.rps.toFixed(0)}/s, p99 ${run.p99.toFixed(2)} ms`));
      }
      const [ref, inProc, rem] = measured as [Figure, Figure, Figure];
      results.row({
        what: `throughput (p99) at ${sessions} session${sessions > 1 ? 's' : ''}: bare server; in-process, remote`,
        reference: ref.text,
        proxy: `${inProc.text}; ${rem.text}`,
        now: `rps ${x(inProc.value / ref.value)}; ${x(rem.value / ref.value)}`,
        target: '',
        figures: [],
      });
    }
    reportWarnings(results, SECTION, proxy);
  } finally {
    await proxy.stop();
    await bare.stop();
  }
}

/** Why the FastMCP row cannot run here, or undefined when it can. */
function fastmcpMissing(): string | undefined {
  try {
    execFileSync('python3', ['-c', 'import fastmcp'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return undefined;
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
    return `\`python3 -c "import fastmcp"\` failed: ${stderr.split('\n').pop() || (error as Error).message}`;
  }
}

/** fastmcp-seed.py as `role` (backend, or seed proxy to `backendUrl`); it says `listening URL` once its port answers. */
async function startFastmcp(role: 'backend' | 'seed', backendUrl?: string): Promise<Running> {
  const port = await freePort();
  return startProcess('python3', ['bench/fastmcp-seed.py', role, String(port), ...(backendUrl ? [backendUrl] : [])], /listening (http:\S+)/);
}

/** Row 3: the seed's FastMCP proxy vs this proxy in front of the same FastMCP backend. */
async function fastmcpRow(results: Results, sizes: CompareSizes): Promise<void> {
  const what = "the seed's FastMCP proxy vs this proxy, same FastMCP backend";
  const targetText = 'rps >= x20, p50 <= 1/10';
  const missing = fastmcpMissing();
  if (missing) {
    results.row({ what, reference: '', proxy: '', now: '', target: targetText, figures: [], leftOut: missing });
    return;
  }
  console.log(`\n[${SECTION}] 3. ${what} (${sizes.rounds} rounds)`);
  const backend = await startFastmcp('backend');
  const seed = await startFastmcp('seed', backend.url);
  const proxy = await startProxy({ pluginDirs: [await remotePluginDir(backend.url, 'be')] });
  try {
    const args = { message: 'benchmark' };
    const figures = await measurePair({ reference: { url: seed.url, tool: 'be_echo', args }, proxy: { url: proxy.url, tool: 'be_echo', args } }, sizes);
    recordPair(results, 'fastmcp', what, figures, { p50: { kind: 'ratio', target: ratio('<=', 0.1) }, rps: ratio('>=', 20) }, targetText);
  } finally {
    await proxy.stop();
    await seed.stop();
    await backend.stop();
  }
}

/** The median time of the first `tools/list` (all pages) in `sessions` fresh sessions, one after another. */
async function firstList(url: string, sessions: number, expectAtLeast: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < sessions; i++) {
    const session = await McpSession.open(url);
    const sent = performance.now();
    const tools = await session.listAll('tools/list', 'tools');
    times.push(performance.now() - sent);
    await session.close();
    if (tools.length < expectAtLeast) throw new Error(`tools/list at ${url} listed ${tools.length} tools, expected ${expectAtLeast}`);
  }
  return median(times);
}

/** Row 4: a fresh session's first `tools/list`, 10 in-process plugins x 100 tools vs a bare server with 1,000. */
async function listRow(results: Results, sizes: CompareSizes): Promise<void> {
  const what = 'first `tools/list` in a session, 10 plugins x 100 tools, vs a bare server with 1,000 tools';
  console.log(`\n[${SECTION}] 4. ${what} (${sizes.rounds} rounds of ${sizes.listSessions} sessions)`);
  const bare = await startBareServer((await generatedPluginsDir(1, 1000)).modules[0]!);
  const proxy = await startProxy({ pluginDirs: [(await generatedPluginsDir(10, 100)).dir] });
  try {
    const urls: Record<Side, string> = { reference: bare.url, proxy: proxy.url };
    // One session each first: what is measured is a fresh session's list, not the process's first.
    for (const url of Object.values(urls)) await firstList(url, 1, 1000);
    const runs = await alternate(sizes.rounds, (side) => firstList(urls[side], sizes.listSessions, 1000));
    const reference = median(runs.reference);
    const proxied = median(runs.proxy);
    const ratioFigure = results.add(SECTION, 'firstList.ratio', 'first tools/list, proxy/bare', proxied / reference, 'ratio', x(proxied / reference), ratio('<=', 1.2));
    results.add(SECTION, 'firstList.reference', 'first tools/list, bare server with 1,000 tools', reference, 'ms', `${reference.toFixed(1)} ms`);
    results.add(SECTION, 'firstList.proxy', 'first tools/list, proxy with 10 plugins x 100 tools', proxied, 'ms', `${proxied.toFixed(1)} ms`);
    results.row({ what, reference: `${reference.toFixed(1)} ms`, proxy: `${proxied.toFixed(1)} ms`, now: ratioFigure.text, target: '<= x1.2', figures: [ratioFigure] });
    reportWarnings(results, `${SECTION}-list`, proxy);
  } finally {
    await proxy.stop();
    await bare.stop();
  }
}

export async function compareBench(results: Results, sizes: CompareSizes): Promise<void> {
  await echoRows(results, sizes);
  await fastmcpRow(results, sizes);
  await listRow(results, sizes);
}

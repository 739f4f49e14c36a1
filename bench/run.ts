/**
 * `npm run bench`: what the proxy costs and whether it gives memory back, in figures.
 *
 * Every part starts its own proxy as a real process (`node [--expose-gc --inspect=0]
 * bin/switchboard.js serve --port 0 --host 127.0.0.1 --log-format json --plugins DIR`), and the
 * servers it is compared with or forwards to, measures from outside, and stops them:
 *
 *   compare    issue 11's side-by-side rows: in-process and remote `echo` vs a bare SDK server,
 *              the seed's FastMCP proxy (when python3 has fastmcp), a fresh session's first
 *              tools/list of 10 x 100 tools vs a bare 1,000-tool server; throughput and p99 at
 *              1, 8 and 32 sessions (compare.ts)
 *   startup    spawn to the "serving" log line, 50 plugin folders and 1 (startup.ts)
 *   retention  heap after forced GC kept per forwarded call and per closed session (1,000) (retention.ts)
 *   idle       RSS with 1,000 idle sessions, target <= 150 MB; RSS per idle session (sessions.ts)
 *   cycles     RSS before/after 10,000 sessions opened, used once and closed, target < 10 % (sessions.ts)
 *   catalog    a 5,000-tool plugin, in-process and remote, 200 sessions listing it all and
 *              calling a tool, target <= 300 MB (catalog.ts)
 *   latency    the older latency/throughput figures and RSS with live SDK sessions (latency.ts);
 *              only with --only (compare measures latency and throughput side by side)
 *   soak       mixed load for a duration; RSS, heap and open descriptors before/after (soak.ts);
 *              only with --soak
 *
 * Each figure is printed with its target beside it; all go to a JSON file (default
 * .tmp/bench.json) and a closing Markdown table, followed by the side-by-side table (rows
 * recorded by compare, startup, retention and idle) with "target met" or "missed" per row.
 *
 *   npm run bench                          every part but latency and the soak, full size (about 6 minutes)
 *   npm run bench -- --quick               the same at small sizes
 *   npm run bench -- --only compare,startup  some parts (compare, startup, retention, idle, cycles, catalog, latency)
 *   npm run bench -- --node PATH           the proxy and the servers under another Node binary
 *                                          (the load generator stays on the Node running the bench)
 *   npm run bench -- --soak 10m            the soak alone (s, m or h); add --only to run parts too
 *   npm run bench -- --sessions 200 --calls 500 --idle-sessions 500 --cycles 2000 --tools 2000
 *                   --catalog-sessions 100 --retention-calls 2000 --retention-sessions 300
 *   npm run bench -- --rounds 5            alternated rounds per side-by-side figure (default 3; the
 *                                          median is the figure: more rounds, less noise)
 *   npm run bench -- --out FILE --strict   JSON elsewhere; exit 1 if a target is missed
 *   npm run bench -- --proxy-node-options=--max-semi-space-size=2
 *                                          Node options for the proxy processes only (a trade to measure)
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { catalogBench } from './catalog.ts';
import { compareBench } from './compare.ts';
import { latencyBench } from './latency.ts';
import { removeTempDirs } from './plugin-dirs.ts';
import { nodeVersion, ROOT, setNodeBinary, setProxyNodeOptions, stopAll } from './processes.ts';
import { Results, verdict } from './report.ts';
import { retentionBench } from './retention.ts';
import { cyclesBench, idleSessionsBench } from './sessions.ts';
import { parseDuration, soakBench } from './soak.ts';
import { startupBench } from './startup.ts';

const PARTS = ['compare', 'startup', 'retention', 'idle', 'cycles', 'catalog', 'latency'] as const;
type Part = (typeof PARTS)[number];
/** What runs without --only: all but `latency`, whose latency and throughput figures `compare` measures side by side. */
const DEFAULT_PARTS: readonly Part[] = PARTS.filter((part) => part !== 'latency');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    soak: { type: 'string' },
    out: { type: 'string', default: '.tmp/bench.json' },
    strict: { type: 'boolean', default: false },
    sessions: { type: 'string' },
    calls: { type: 'string' },
    'idle-sessions': { type: 'string' },
    cycles: { type: 'string' },
    tools: { type: 'string' },
    'catalog-sessions': { type: 'string' },
    'retention-calls': { type: 'string' },
    'retention-sessions': { type: 'string' },
    'proxy-node-options': { type: 'string' },
    node: { type: 'string' },
    rounds: { type: 'string' },
  },
});
if (values.node) setNodeBinary(resolve(values.node));
if (values['proxy-node-options']) setProxyNodeOptions(values['proxy-node-options'].split(/\s+/).filter(Boolean));

const quick = values.quick;
const size = (flag: string | undefined, full: number, small: number) => {
  const n = flag === undefined ? (quick ? small : full) : Number(flag);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`not a positive whole number: ${flag}`);
  return n;
};
const retentionSessions = size(values['retention-sessions'], 1000, 100);
const cycles = size(values.cycles, 10_000, 500);
const sizes = {
  compare: { rounds: size(values.rounds, 3, 3), ...(quick ? { latencyCalls: 100, loadCalls: 300, listSessions: 3 } : { latencyCalls: 300, loadCalls: 800, listSessions: 10 }) },
  startup: { rounds: quick ? 1 : 3 },
  latency: { calls: size(values.calls, 2000, 200), sessions: size(values.sessions, 1000, 100) },
  retention: {
    calls: size(values['retention-calls'], 5000, 1000),
    warmCalls: quick ? 1000 : 1500,
    sessions: retentionSessions,
    warmSessions: Math.max(20, Math.round(retentionSessions / 10)),
  },
  idle: size(values['idle-sessions'], 1000, 100),
  cycles: { cycles, warmCycles: Math.max(100, Math.round(cycles / 10)), concurrency: 4 },
  catalog: { tools: size(values.tools, 5000, 1000), sessions: size(values['catalog-sessions'], 200, 20) },
};

const only = values.only?.split(',').map((part) => part.trim());
for (const part of only ?? []) if (!PARTS.includes(part as Part)) throw new Error(`--only: unknown part "${part}" (parts: ${PARTS.join(', ')})`);
const soakSeconds = values.soak === undefined ? undefined : parseDuration(values.soak);
// --soak alone runs just the soak; the other parts run unless it was asked for without --only.
const parts: readonly Part[] = only ? (only as Part[]) : soakSeconds === undefined ? DEFAULT_PARTS : [];

const runners: Record<Part, (results: Results) => Promise<void>> = {
  compare: (results) => compareBench(results, sizes.compare),
  startup: (results) => startupBench(results, sizes.startup.rounds),
  latency: (results) => latencyBench(results, sizes.latency),
  retention: (results) => retentionBench(results, sizes.retention),
  idle: (results) => idleSessionsBench(results, sizes.idle),
  cycles: (results) => cyclesBench(results, sizes.cycles),
  catalog: async (results) => {
    await catalogBench(results, sizes.catalog, 'in-process');
    await catalogBench(results, sizes.catalog, 'remote');
  },
};

function gitState(): { commit?: string; uncommittedCore?: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const core = execFileSync('git', ['status', '--porcelain', '--', 'core'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return { commit, uncommittedCore: core !== '' };
  } catch {
    return {};
  }
}

async function main(): Promise<void> {
  const started = new Date();
  const results = new Results();
  const git = gitState();
  const underTest = nodeVersion();
  console.log(
    `node ${process.version}${underTest !== process.version || values.node ? ` (processes under test: ${underTest}${values.node ? `, ${values.node}` : ''})` : ''}, ${cpus().length} cores, ${quick ? 'quick sizes' : 'full sizes'}; commit ${git.commit?.slice(0, 7) ?? '?'}${git.uncommittedCore ? ' with uncommitted changes in core/' : ''}`,
  );
  console.log(`parts: ${[...parts, ...(soakSeconds !== undefined ? [`soak ${soakSeconds} s`] : [])].join(', ')}`);
  if (values['proxy-node-options']) console.log(`proxy started with node ${values['proxy-node-options']}`);

  for (const part of parts) {
    try {
      await runners[part](results);
    } catch (error) {
      results.fail(part, error);
      await stopAll(); // whatever the failed part left running
    }
  }
  if (soakSeconds !== undefined) {
    try {
      await soakBench(results, soakSeconds);
    } catch (error) {
      results.fail('soak', error);
    }
  }

  const seconds = (Date.now() - started.getTime()) / 1000;
  console.log(`\n${results.table()}\n`);
  if (results.rows.length) console.log(`Side by side (node ${underTest} under test; each compared figure the median of ${sizes.compare.rounds} alternated rounds):\n\n${results.sideBySide()}\n`);
  const out = resolve(ROOT, values.out!);
  await mkdir(dirname(out), { recursive: true });
  const report = {
    startedAt: started.toISOString(),
    seconds,
    node: process.version,
    nodeUnderTest: underTest,
    cores: cpus().length,
    git,
    argv: process.argv.slice(2),
    sizes: { ...Object.fromEntries(parts.map((part) => [part, sizes[part]])), ...(soakSeconds !== undefined && { soak: { seconds: soakSeconds } }) },
    figures: Object.fromEntries(results.figures.map((f) => [f.key, { measure: f.measure.trim(), value: f.value, unit: f.unit, text: f.text, target: f.target?.text, pass: f.pass }])),
    rows: results.rows.map((row) => ({ what: row.what, reference: row.reference, proxy: row.proxy, now: row.now, target: row.target, verdict: verdict(row).replaceAll('*', '') })),
    missed: results.missed.map((f) => f.key),
    failures: results.failures,
  };
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  const missed = results.missed;
  console.log(`${results.figures.length} figures, ${missed.length} targets missed${missed.length ? ` (${missed.map((f) => f.key).join(', ')})` : ''}, ${results.failures.length} parts failed; took ${(seconds / 60).toFixed(1)} min`);
  console.log(`JSON: ${out}`);
  if (results.failures.length || (values.strict && missed.length)) process.exitCode = 1;
}

// Ctrl-C (or a CI timeout) must not leave proxies behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the benchmark's processes`);
    void Promise.all([stopAll(), removeTempDirs()]).finally(() => process.exit(130));
  });
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
    await removeTempDirs();
  });

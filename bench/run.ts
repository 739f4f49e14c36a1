/**
 * `npm run bench`: what the proxy costs and whether it gives memory back, in figures.
 *
 * Every part starts its own proxy as a real process (`node [--expose-gc --inspect=0] --import
 * tsx core/main.ts serve --port 0 --host 127.0.0.1 --log-format json --plugins DIR`, with the
 * example plugin in-process and a remote plugin), measures from outside, and stops it:
 *
 *   latency    tools/call latency and throughput, RSS idle and with live SDK sessions (latency.ts)
 *   retention  heap after forced GC kept per forwarded call and per closed session (retention.ts)
 *   idle       RSS with 1,000 idle sessions, target <= 150 MB (sessions.ts)
 *   cycles     RSS before/after 10,000 sessions opened, used once and closed, target < 10 % (sessions.ts)
 *   catalog    a 5,000-tool plugin, in-process and remote, 200 sessions listing it all and
 *              calling a tool, target <= 300 MB (catalog.ts)
 *   soak       mixed load for a duration; RSS, heap and open descriptors before/after (soak.ts);
 *              only with --soak
 *
 * Each figure is printed with its target beside it; all go to a JSON file (default
 * .tmp/bench.json) and a closing Markdown table.
 *
 *   npm run bench                          everything but the soak, full size (about 10 minutes)
 *   npm run bench -- --quick               everything at small sizes (a minute or two)
 *   npm run bench -- --only idle,cycles    some parts (latency, retention, idle, cycles, catalog)
 *   npm run bench -- --soak 10m            the soak alone (s, m or h); add --only to run parts too
 *   npm run bench -- --sessions 200 --calls 500 --idle-sessions 500 --cycles 2000 --tools 2000
 *                   --catalog-sessions 100 --retention-calls 2000 --retention-sessions 300
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
import { latencyBench } from './latency.ts';
import { removeTempDirs } from './plugin-dirs.ts';
import { ROOT, setProxyNodeOptions, stopAll } from './processes.ts';
import { Results } from './report.ts';
import { retentionBench } from './retention.ts';
import { cyclesBench, idleSessionsBench } from './sessions.ts';
import { parseDuration, soakBench } from './soak.ts';

const PARTS = ['latency', 'retention', 'idle', 'cycles', 'catalog'] as const;
type Part = (typeof PARTS)[number];

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
  },
});
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
const parts: readonly Part[] = only ? (only as Part[]) : soakSeconds === undefined ? PARTS : [];

const runners: Record<Part, (results: Results) => Promise<void>> = {
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
  console.log(
    `node ${process.version}, ${cpus().length} cores, ${quick ? 'quick sizes' : 'full sizes'}; commit ${git.commit?.slice(0, 7) ?? '?'}${git.uncommittedCore ? ' with uncommitted changes in core/' : ''}`,
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
  const out = resolve(ROOT, values.out!);
  await mkdir(dirname(out), { recursive: true });
  const report = {
    startedAt: started.toISOString(),
    seconds,
    node: process.version,
    cores: cpus().length,
    git,
    argv: process.argv.slice(2),
    sizes: { ...Object.fromEntries(parts.map((part) => [part, sizes[part]])), ...(soakSeconds !== undefined && { soak: { seconds: soakSeconds } }) },
    figures: Object.fromEntries(results.figures.map((f) => [f.key, { measure: f.measure.trim(), value: f.value, unit: f.unit, text: f.text, target: f.target?.text, pass: f.pass }])),
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

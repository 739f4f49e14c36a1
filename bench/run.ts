/**
 * `npm run bench`: what the proxy costs, in figures.
 *
 * Starts the tests' remote fixture server and the proxy as real processes (the proxy with the
 * example plugin in-process and the fixture as a remote plugin), then measures with the
 * official SDK client:
 *
 *   1. latency of tools/call: direct to the remote server, through the proxy to it, and to the
 *      in-process example plugin (p50/p90/p99 over sequential calls);
 *   2. throughput: calls per second with 32 calls in flight;
 *   3. memory: the proxy's resident set size with 0 sessions and with SESSIONS (default 1000)
 *      concurrent client sessions, each having listed tools and called both plugins.
 *
 *   npm run bench [-- --sessions 1000 --calls 2000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { fetchWithOwnSignal } from '../core/upstream/fetch.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { sessions: { type: 'string', default: '1000' }, calls: { type: 'string', default: '2000' } } });
const SESSIONS = Number(values.sessions);
const CALLS = Number(values.calls);
const children: ChildProcess[] = [];

function start(args: string[], ready: RegExp, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = output.match(ready);
      if (match) resolve({ child, url: match[1]!, output: () => output });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`)));
  });
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]);
}

async function connect(url: string): Promise<{ client: Client; close: () => Promise<void> }> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  // The proxy's own fetch for remote backends, so the load generator does not pile up abort listeners either.
  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: fetchWithOwnSignal });
  await client.connect(transport);
  return {
    client,
    close: async () => {
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

function percentiles(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(2);
  return `p50 ${at(50)} ms, p90 ${at(90)} ms, p99 ${at(99)} ms`;
}

async function latency(client: Client, name: string, args: Record<string, unknown>, n: number): Promise<number[]> {
  for (let i = 0; i < 50; i++) await client.callTool({ name, arguments: args }); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await client.callTool({ name, arguments: args });
    samples.push(performance.now() - started);
  }
  return samples;
}

async function throughput(client: Client, name: string, args: Record<string, unknown>, total: number, inFlight = 32): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < total) await client.callTool({ name, arguments: args });
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const remote = await start(['--import', 'tsx', 'test/fixtures/remote-server.ts'], /listening (http:\S+)/, { PORT: '0' });
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-'));
  await mkdir(join(dir, 'remote'));
  await writeFile(join(dir, 'remote', 'index.js'), `export default { prefix: 'remote', remote: { url: ${JSON.stringify(remote.url)} } };\n`);
  const proxy = await start(
    ['--import', 'tsx', 'core/main.ts', 'serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', '--plugins', dir],
    /"msg":"serving[^"]*? at (http:[^"]+)"/,
  );
  const pid = proxy.child.pid!;
  console.log(`node ${process.version}, ${SESSIONS} sessions, ${CALLS} calls per latency run\n`);

  const direct = await connect(remote.url);
  const through = await connect(proxy.url);
  const args = { text: 'benchmark' };
  const directSamples = await latency(direct.client, 'shout', args, CALLS);
  const proxiedSamples = await latency(through.client, 'remote_shout', args, CALLS);
  const inProcessSamples = await latency(through.client, 'example_hello_world', {}, CALLS);
  console.log('tools/call latency (sequential, one session)');
  console.log(`  direct to the remote server      ${percentiles(directSamples)}`);
  console.log(`  through the proxy to it          ${percentiles(proxiedSamples)}`);
  console.log(`  through the proxy, in-process    ${percentiles(inProcessSamples)}`);
  const median = (s: number[]) => [...s].sort((a, b) => a - b)[Math.floor(s.length / 2)]!;
  console.log(`  proxy overhead on a remote call  ${(median(proxiedSamples) - median(directSamples)).toFixed(2)} ms (median)\n`);

  console.log('throughput (one session, 32 calls in flight)');
  console.log(`  direct to the remote server      ${(await throughput(direct.client, 'shout', args, CALLS)).toFixed(0)} calls/s`);
  console.log(`  through the proxy to it          ${(await throughput(through.client, 'remote_shout', args, CALLS)).toFixed(0)} calls/s`);
  console.log(`  through the proxy, in-process    ${(await throughput(through.client, 'example_hello_world', {}, CALLS)).toFixed(0)} calls/s\n`);
  await direct.close();
  await through.close();

  await new Promise((resolve) => setTimeout(resolve, 500));
  const idle = await rssKiB(pid);
  const sessions: Array<{ client: Client; close: () => Promise<void> }> = [];
  const started = performance.now();
  for (let i = 0; i < SESSIONS; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, SESSIONS - i) }, async () => {
        const session = await connect(proxy.url);
        await session.client.listTools();
        await session.client.callTool({ name: 'example_hello_world' });
        await session.client.callTool({ name: 'remote_shout', arguments: args });
        return session;
      }),
    );
    sessions.push(...batch);
  }
  const opened = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const loaded = await rssKiB(pid);
  console.log(`memory (proxy process RSS)`);
  console.log(`  idle                             ${(idle / 1024).toFixed(1)} MiB`);
  console.log(`  ${SESSIONS} live sessions, each with an in-process and a remote backend session`);
  console.log(`                                   ${(loaded / 1024).toFixed(1)} MiB (${((loaded - idle) / SESSIONS).toFixed(1)} KiB per session)`);
  console.log(`  opening them (initialize, tools/list, 2 calls each, 50 at a time) took ${opened.toFixed(1)} s`);
  await Promise.all(sessions.map((s) => s.close()));
  const warnings = proxy.output().split('\n').filter((line) => /Warning/.test(line) && !line.startsWith('{'));
  console.log(`\nproxy process warnings: ${warnings.length}${warnings.length ? `\n  ${warnings.slice(0, 3).join('\n  ')}` : ''}`);
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGTERM');
  });

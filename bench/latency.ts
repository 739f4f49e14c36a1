/**
 * What the proxy costs per call, with the official SDK client (the benchmark `npm run bench`
 * always had):
 *
 *   1. latency of tools/call: direct to the remote server, through the proxy to it, and to the
 *      in-process example plugin (p50/p90/p99 over sequential calls);
 *   2. throughput: calls per second with 32 calls in flight;
 *   3. memory: the proxy's resident set size idle and with SESSIONS concurrent client sessions,
 *      each having listed tools, called both plugins and kept the SDK client's GET stream open.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { fetchWithOwnSignal } from '../core/upstream/fetch.ts';
import { rss, sleep, startProxy, startRemoteFixture } from './processes.ts';
import { median, mib, percentile, reportWarnings, type Results } from './report.ts';
import { remotePluginDir } from './plugin-dirs.ts';

export interface SdkSession {
  client: Client;
  close(): Promise<void>;
}

/** The official SDK client over streamable HTTP (it opens the optional GET stream). `close()` sends DELETE. */
export async function sdkConnect(url: string): Promise<SdkSession> {
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

const describe = (s: number[]) => `p50 ${percentile(s, 50).toFixed(2)}, p90 ${percentile(s, 90).toFixed(2)}, p99 ${percentile(s, 99).toFixed(2)} ms`;

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

export async function latencyBench(results: Results, sizes: { calls: number; sessions: number }): Promise<void> {
  const section = 'latency';
  const { calls, sessions: SESSIONS } = sizes;
  const remote = await startRemoteFixture();
  const proxy = await startProxy({ pluginDirs: [await remotePluginDir(remote.url)] });
  console.log(`\n[${section}] tools/call latency and throughput, one SDK session, ${calls} calls per run; then ${SESSIONS} live SDK sessions`);

  const direct = await sdkConnect(remote.url);
  const through = await sdkConnect(proxy.url);
  const args = { text: 'benchmark' };
  const directSamples = await latency(direct.client, 'shout', args, calls);
  const proxiedSamples = await latency(through.client, 'remote_shout', args, calls);
  const inProcessSamples = await latency(through.client, 'example_hello_world', {}, calls);
  results.add(section, 'directP50', 'latency, direct to the remote server', median(directSamples), 'ms', describe(directSamples));
  results.add(section, 'remoteP50', 'latency, through the proxy to it', median(proxiedSamples), 'ms', describe(proxiedSamples));
  results.add(section, 'inProcessP50', 'latency, through the proxy, in-process', median(inProcessSamples), 'ms', describe(inProcessSamples));
  const overhead = median(proxiedSamples) - median(directSamples);
  results.add(section, 'overheadP50', 'proxy overhead on a remote call (median)', overhead, 'ms', `${overhead.toFixed(2)} ms`);

  for (const [key, label, session, name, a] of [
    ['throughputDirect', 'direct to the remote server', direct, 'shout', args],
    ['throughputRemote', 'through the proxy to it', through, 'remote_shout', args],
    ['throughputInProcess', 'through the proxy, in-process', through, 'example_hello_world', {}],
  ] as const) {
    const perSecond = await throughput(session.client, name, a, calls);
    results.add(section, key, `throughput (32 in flight), ${label}`, perSecond, 'calls/s', `${perSecond.toFixed(0)} calls/s`);
  }
  await direct.close();
  await through.close();

  await sleep(500);
  const idle = await rss(proxy.pid);
  const sessions: SdkSession[] = [];
  const started = performance.now();
  for (let i = 0; i < SESSIONS; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, SESSIONS - i) }, async () => {
        const session = await sdkConnect(proxy.url);
        await session.client.listTools();
        await session.client.callTool({ name: 'example_hello_world' });
        await session.client.callTool({ name: 'remote_shout', arguments: args });
        return session;
      }),
    );
    sessions.push(...batch);
  }
  const opened = (performance.now() - started) / 1000;
  await sleep(1000);
  const loaded = await rss(proxy.pid);
  results.add(section, 'rssIdle', 'proxy RSS, idle after the runs above', idle, 'bytes', mib(idle));
  results.add(
    section,
    'rssLiveSessions',
    `proxy RSS, ${SESSIONS} live SDK sessions (both plugins, GET streams)`,
    loaded,
    'bytes',
    `${mib(loaded)} (${((loaded - idle) / SESSIONS / 1024).toFixed(1)} KiB/session)`,
  );
  results.add(section, 'openSeconds', `opening them (init, list, 2 calls; 50 at a time)`, opened, 's', `${opened.toFixed(1)} s`);
  await Promise.all(sessions.map((s) => s.close()));
  reportWarnings(results, section, proxy);
  await proxy.stop();
  await remote.stop();
}

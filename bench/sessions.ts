/**
 * What sessions cost the proxy, with the bare client (mcp-http.ts), against a fresh proxy
 * each (the example plugin in-process, the remote fixture as a remote plugin):
 *
 *   - idle: RSS with IDLE sessions open, each initialized and having listed tools once, with no
 *     GET stream and no call (so no backend session): what a client that connects and waits costs;
 *   - cycles: RSS before and after CYCLES sessions opened and closed one after another (a few at
 *     a time): initialize, one call (in-process and remote in turn), DELETE. Growth means
 *     something of each session stays.
 */
import { Inspector, settledMemory, type SettledMemory } from './inspector.ts';
import { runPool, type PoolOutcome } from './load.ts';
import { McpSession } from './mcp-http.ts';
import { remotePluginDir } from './plugin-dirs.ts';
import { fdCount, rss, sampleRss, sessionsLeft, sleep, startProxy, startRemoteFixture, type Proxy, type Running } from './processes.ts';
import { remoteSessionsOpen } from './remote-probe.ts';
import { atMostMB, mib, reportWarnings, type Results } from './report.ts';

/** The example plugin's tool and the remote fixture's: what a session of these proxies lists. */
const EXPECTED_TOOLS = ['example_hello_world', 'remote_shout'];

async function withProxy(body: (proxy: Proxy, remote: Running, inspector: Inspector) => Promise<void>): Promise<void> {
  const remote = await startRemoteFixture();
  const proxy = await startProxy({ pluginDirs: [await remotePluginDir(remote.url)], inspect: true });
  const inspector = await Inspector.connect(proxy.inspectorUrl!);
  try {
    await body(proxy, remote, inspector);
  } finally {
    inspector.close();
    await proxy.stop();
    await remote.stop();
  }
}

function signedMiB(bytes: number): string {
  return `${bytes >= 0 ? '+' : '-'}${mib(Math.abs(bytes))}`;
}

/**
 * Where RSS after forced GC went, for a growth that the heap in use does not explain: pages V8
 * reserved (heapTotal), C++ memory bound to JS objects (external, Buffers in arrayBuffers), and
 * the rest of RSS. On Node 24 the rest includes the free V8 pages its page pool keeps, which
 * heapTotal does not count and only a memory-reducing GC gives back.
 */
function reportMemoryBreakdown(results: Results, section: string, before: SettledMemory, after: SettledMemory): void {
  const beyond = (settled: SettledMemory) => settled.rss - settled.heapTotal - settled.external;
  results.add(
    section,
    'heapTotalGrowth',
    `  V8 heap reserved after GC, heapTotal (${mib(before.heapTotal)} -> ${mib(after.heapTotal)})`,
    after.heapTotal - before.heapTotal,
    'bytes',
    signedMiB(after.heapTotal - before.heapTotal),
  );
  results.add(
    section,
    'externalGrowth',
    `  external after GC (${mib(before.external)} -> ${mib(after.external)}; arrayBuffers ${mib(before.arrayBuffers)} -> ${mib(after.arrayBuffers)})`,
    after.external - before.external,
    'bytes',
    signedMiB(after.external - before.external),
  );
  results.add(
    section,
    'beyondHeapGrowth',
    `  RSS after GC beyond heapTotal and external (${mib(beyond(before))} -> ${mib(beyond(after))}: V8's pooled pages, code, malloc)`,
    beyond(after) - beyond(before),
    'bytes',
    signedMiB(beyond(after) - beyond(before)),
  );
}

function reportFailures(results: Results, section: string, what: string, outcome: PoolOutcome): void {
  results.add(section, 'failures', `${what} that failed`, outcome.failed, 'count', `${outcome.failed}${outcome.firstError ? `: ${outcome.firstError.slice(0, 80)}` : ''}`, {
    op: '=',
    value: 0,
    text: '0',
  });
}

export async function idleSessionsBench(results: Results, count: number): Promise<void> {
  const section = 'idle';
  console.log(`\n[${section}] proxy RSS with ${count} idle sessions (initialized, tools listed once, no GET stream)`);
  await withProxy(async (proxy, _remote, inspector) => {
    // One session first, so the shared lists are fetched (the first session of an audience does it).
    const first = await McpSession.open(proxy.url);
    await first.listAll('tools/list', 'tools');
    await first.close();
    await sleep(1000);
    const baseline = await rss(proxy.pid);
    const baselineSettled = await settledMemory(inspector);

    const sessions: McpSession[] = [];
    let wrongLists = 0;
    const outcome = await runPool(count, 50, async () => {
      const session = await McpSession.open(proxy.url);
      sessions.push(session);
      const tools = (await session.listAll('tools/list', 'tools')).map((tool) => tool.name);
      if (!EXPECTED_TOOLS.every((name) => tools.includes(name))) wrongLists++;
    });
    await sleep(1000);
    const loaded = await rss(proxy.pid);
    const settled = await settledMemory(inspector);
    const open = sessions.length;
    results.add(section, 'rssBaseline', 'proxy RSS, fresh, after one session listed tools', baseline, 'bytes', mib(baseline));
    const perSession = (loaded - baseline) / open / 1024;
    const withSessions = results.add(section, 'rssWithSessions', `proxy RSS with ${open} idle sessions`, loaded, 'bytes', `${mib(loaded)} (+${perSession.toFixed(1)} KiB/session)`, atMostMB(150));
    results.add(section, 'rssPerSession', '  RSS per idle session', perSession * 1024, 'B', `${perSession.toFixed(1)} KiB/session`);
    results.row({
      what: `RSS per idle session (${open} sessions, bare client)`,
      reference: '',
      proxy: `${perSession.toFixed(1)} KiB (${mib(baseline)} -> ${mib(loaded)})`,
      now: '',
      target: `${withSessions.target!.text} in all`,
      figures: [withSessions],
    });
    const heapPerSession = (settled.heapUsed - baselineSettled.heapUsed) / open;
    results.add(
      section,
      'heapPerSession',
      `  heap after GC per idle session (${mib(baselineSettled.heapUsed)} -> ${mib(settled.heapUsed)}; heapTotal ${mib(baselineSettled.heapTotal)} -> ${mib(settled.heapTotal)}; RSS after GC ${mib(settled.rss)})`,
      heapPerSession,
      'B',
      `${(heapPerSession / 1024).toFixed(1)} KiB/session`,
    );
    results.add(section, 'openSeconds', `opening them (50 at a time)`, outcome.seconds, 's', `${outcome.seconds.toFixed(1)} s (${(open / outcome.seconds).toFixed(0)}/s)`);
    reportFailures(results, section, 'sessions', outcome);
    results.add(section, 'wrongLists', 'sessions whose tools/list lacked a plugin', wrongLists, 'count', String(wrongLists), { op: '=', value: 0, text: '0' });

    await runPool(sessions.length, 50, (i) => sessions[i]!.close());
    const left = await sessionsLeft(proxy.base);
    results.add(section, 'sessionsLeft', 'sessions still open after DELETE of all', left, 'count', String(left), { op: '=', value: 0, text: '0' });
    reportWarnings(results, section, proxy);
  });
}

export async function cyclesBench(results: Results, sizes: { cycles: number; warmCycles: number; concurrency: number }): Promise<void> {
  const section = 'cycles';
  console.log(`\n[${section}] ${sizes.cycles} sessions opened and closed (initialize, one call, DELETE), ${sizes.concurrency} at a time`);
  await withProxy(async (proxy, remote, inspector) => {
    const monitors = await remoteSessionsOpen(remote.url, 0, 0);
    const cycle = async (i: number) => {
      const session = await McpSession.open(proxy.url);
      try {
        if (i % 2 === 0) await session.callTool('example_hello_world');
        else await session.callTool('remote_shout', { text: 'cycle' });
      } finally {
        await session.close();
      }
    };
    await runPool(sizes.warmCycles, sizes.concurrency, cycle);
    const measure = async (): Promise<{ rss: number; fds: number; settled: SettledMemory }> => {
      await sleep(1000);
      const raw = await rss(proxy.pid);
      const fds = await fdCount(proxy.pid);
      return { rss: raw, fds, settled: await settledMemory(inspector) };
    };
    const before = await measure();
    const sampler = sampleRss(proxy.pid, 500);
    const outcome = await runPool(sizes.cycles, sizes.concurrency, cycle);
    const peak = await sampler.stop();
    const left = await sessionsLeft(proxy.base);
    const after = await measure();

    const growth = ((after.rss - before.rss) / before.rss) * 100;
    results.add(section, 'rssGrowth', `proxy RSS growth (${mib(before.rss)} -> ${mib(after.rss)})`, growth, '%', `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %`, { op: '<', value: 10, text: '< 10 %' });
    results.add(section, 'rssPeak', '  RSS peak during the cycles', peak, 'bytes', mib(peak));
    const gcGrowth = ((after.settled.rss - before.settled.rss) / before.settled.rss) * 100;
    results.add(section, 'rssGrowthAfterGc', `  RSS after forced GC (${mib(before.settled.rss)} -> ${mib(after.settled.rss)})`, gcGrowth, '%', `${gcGrowth >= 0 ? '+' : ''}${gcGrowth.toFixed(1)} %`);
    const perSession = (after.settled.heapUsed - before.settled.heapUsed) / outcome.done;
    results.add(
      section,
      'heapPerSession',
      `  heap after GC kept per session (${mib(before.settled.heapUsed)} -> ${mib(after.settled.heapUsed)})`,
      perSession,
      'B',
      `${perSession.toFixed(0)} B/session`,
      { op: '<', value: 4096, text: '< 4096 B' },
    );
    reportMemoryBreakdown(results, section, before.settled, after.settled);
    results.add(section, 'fds', `open file descriptors (${before.fds} -> ${after.fds})`, after.fds - before.fds, 'count', `${after.fds - before.fds >= 0 ? '+' : ''}${after.fds - before.fds}`, {
      op: '<=',
      value: 5,
      text: '<= +5',
    });
    results.add(section, 'rate', 'cycles per second', outcome.done / outcome.seconds, 'cycles/s', `${(outcome.done / outcome.seconds).toFixed(0)} /s (${outcome.seconds.toFixed(0)} s)`);
    reportFailures(results, section, 'cycles', outcome);
    results.add(section, 'sessionsLeft', 'client sessions still open', left, 'count', String(left), { op: '=', value: 0, text: '0' });
    const backends = (await remoteSessionsOpen(remote.url, monitors)) - monitors;
    results.add(section, 'backendSessionsLeft', `backend sessions still open at the remote (beyond the proxy's ${monitors} monitor)`, backends, 'count', String(backends), { op: '=', value: 0, text: '0' });
    reportWarnings(results, section, proxy);
  });
}

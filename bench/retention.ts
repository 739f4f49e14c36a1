/**
 * Retention: what forwarded calls and closed sessions leave behind in the proxy's heap.
 *
 * The proxy runs as its own process (`--expose-gc --inspect=0`); its heap is read after forced
 * GC through the inspector (inspector.ts) before and after CALLS calls to the in-process plugin,
 * CALLS calls to the remote plugin, and SESSIONS sessions opened and closed. The difference,
 * divided by the count, is what each call or session keeps. The same method and limits as
 * test/retention.test.ts, which measures an in-process proxy: the leak it guards against kept
 * about 5 KiB per call and 40 KiB per closed session.
 *
 * Calls and sessions use the official SDK client (so a session has its GET stream open when it
 * is closed, as a real client's does); open-close cycles with the bare client are in sessions.ts.
 */
import { Inspector, settledMemory } from './inspector.ts';
import { sdkConnect } from './latency.ts';
import { sessionsLeft, startProxy, startRemoteFixture } from './processes.ts';
import { remotePluginDir } from './plugin-dirs.ts';
import { mib, reportWarnings, type Results, type Target } from './report.ts';
import { remoteSessionsOpen } from './remote-probe.ts';

export interface RetentionSizes {
  warmCalls: number;
  calls: number;
  warmSessions: number;
  sessions: number;
}

const PER_CALL: Target = { op: '<', value: 400, text: '< 400 B' };
const PER_SESSION: Target = { op: '<', value: 4096, text: '< 4096 B' };

async function callMany(url: string, tool: string, args: Record<string, unknown>, calls: number): Promise<void> {
  const session = await sdkConnect(url);
  try {
    for (let i = 0; i < calls; i++) await session.client.callTool({ name: tool, arguments: args });
  } finally {
    await session.close();
  }
}

async function openAndClose(url: string, sessions: number): Promise<void> {
  for (let i = 0; i < sessions; i++) {
    const session = await sdkConnect(url);
    await session.client.callTool({ name: 'example_hello_world', arguments: {} });
    await session.client.callTool({ name: 'remote_shout', arguments: { text: 'x' } });
    await session.close();
  }
}

export async function retentionBench(results: Results, sizes: RetentionSizes): Promise<void> {
  const section = 'retention';
  const remote = await startRemoteFixture();
  const proxy = await startProxy({ pluginDirs: [await remotePluginDir(remote.url)], inspect: true });
  const inspector = await Inspector.connect(proxy.inspectorUrl!);
  console.log(`\n[${section}] heap after forced GC, before/after ${sizes.calls} calls per plugin kind and ${sizes.sessions} sessions opened and closed`);
  try {
    const monitors = await remoteSessionsOpen(remote.url, 0, 0);
    // Warm-up: modules, compiled code, shared validators, connection pools, the lists' caches.
    await callMany(proxy.url, 'example_hello_world', {}, sizes.warmCalls);
    await callMany(proxy.url, 'remote_shout', { text: 'x' }, sizes.warmCalls);
    await openAndClose(proxy.url, sizes.warmSessions);
    const before = await settledMemory(inspector);

    await callMany(proxy.url, 'example_hello_world', {}, sizes.calls);
    const afterInProcess = await settledMemory(inspector);
    await callMany(proxy.url, 'remote_shout', { text: 'x' }, sizes.calls);
    const afterRemote = await settledMemory(inspector);
    await openAndClose(proxy.url, sizes.sessions);
    const open = await sessionsLeft(proxy.base);
    const afterSessions = await settledMemory(inspector);

    const inProcess = (afterInProcess.heapUsed - before.heapUsed) / sizes.calls;
    const remoteCall = (afterRemote.heapUsed - afterInProcess.heapUsed) / sizes.calls;
    const session = (afterSessions.heapUsed - afterRemote.heapUsed) / sizes.sessions;
    const heaps = (a: number, b: number) => `${mib(a)} -> ${mib(b)}`;
    const perCall = [
      results.add(section, 'bytesPerCallInProcess', `heap kept per call, in-process plugin (${heaps(before.heapUsed, afterInProcess.heapUsed)})`, inProcess, 'B', `${inProcess.toFixed(0)} B/call`, PER_CALL),
      results.add(section, 'bytesPerCallRemote', `heap kept per call, remote plugin (${heaps(afterInProcess.heapUsed, afterRemote.heapUsed)})`, remoteCall, 'B', `${remoteCall.toFixed(0)} B/call`, PER_CALL),
    ];
    results.row({
      what: `forwarded call retention (heap after GC, ${sizes.calls} calls each)`,
      reference: '',
      proxy: `in-process ${perCall[0]!.text}, remote ${perCall[1]!.text}`,
      now: '',
      target: `${PER_CALL.text} per call (issue: 0)`,
      figures: perCall,
    });
    results.add(section, 'bytesPerSession', `heap kept per closed session (${heaps(afterRemote.heapUsed, afterSessions.heapUsed)})`, session, 'B', `${session.toFixed(0)} B/session`, PER_SESSION);
    results.add(section, 'sessionsLeft', 'client sessions still open after closing all', open, 'count', String(open), { op: '=', value: 0, text: '0' });
    const backends = (await remoteSessionsOpen(remote.url, monitors)) - monitors;
    results.add(section, 'backendSessionsLeft', `backend sessions still open at the remote (beyond the proxy's ${monitors} monitor)`, backends, 'count', String(backends), { op: '=', value: 0, text: '0' });
    reportWarnings(results, section, proxy);
  } finally {
    inspector.close();
    await proxy.stop();
    await remote.stop();
  }
}

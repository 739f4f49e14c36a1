/**
 * Memory that comes back: forwarded calls and closed sessions leave nothing behind. The heap is
 * measured after forced garbage collection, in this process (the proxy runs in-process), before
 * and after many calls and many sessions; what remains must be a small constant, not a per-call
 * or per-session amount.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { fetchWithOwnSignal } from '../core/sdk-workarounds.ts';
import { ROOT, connect, startProxy, startRemoteFixture, textOf, type RunningProxy } from './helpers.ts';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { createLogger } from '../core/log.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function settledHeap(): Promise<number> {
  // Several rounds: finalizers and weak references need a turn of the event loop between them.
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return process.memoryUsage().heapUsed;
}

async function callMany(proxy: RunningProxy, tool: string, args: Record<string, unknown>, calls: number): Promise<void> {
  // A signal per request: the SDK client's default leaves an abort listener per call on its one
  // signal until the request is collected, which is this process's heap too (and Node warns past 1,500).
  const session = await connect(proxy.url, {}, undefined, fetchWithOwnSignal);
  try {
    for (let i = 0; i < calls; i++) await session.client.callTool({ name: tool, arguments: args });
  } finally {
    await session.close();
  }
}

async function openAndClose(proxy: RunningProxy, sessions: number, tool: string, args: Record<string, unknown>): Promise<void> {
  for (let i = 0; i < sessions; i++) {
    const session = await connect(proxy.url);
    assert.ok(textOf(await session.client.callTool({ name: tool, arguments: args })));
    await session.client.callTool({ name: tool, arguments: args });
    await session.close();
  }
}

const KIB = 1024;

for (const kind of ['in-process', 'remote'] as const) {
  test(`${kind} plugin: forwarded calls and closed sessions are not kept in memory`, async (t) => {
    const remote = kind === 'remote' ? await startRemoteFixture() : undefined;
    let dir = join(ROOT, 'plugins');
    if (remote) {
      dir = await mkdtemp(join(tmpdir(), 'switchboard-retention-'));
      await mkdir(join(dir, 'svc'));
      await writeFile(join(dir, 'svc', 'plugin.json'), JSON.stringify({ prefix: 'svc', remote: { url: remote.url } }));
    }
    // Logging at info (one access line per request, as in production) into a sink that keeps
    // nothing: the tests' usual in-memory log would itself hold every line.
    const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
    const proxy = await startProxy({ pluginDirs: [dir], log: createLogger({ level: 'info', destination: discard }) });
    const [tool, args] = remote ? ['svc_shout', { text: 'x' }] : ['example_hello_world', {}];
    try {
      // Warm up: modules, the JIT's compiled code, shared validators, connection pools.
      await callMany(proxy, tool, args, 1500);
      await openAndClose(proxy, 100, tool, args);
      const before = await settledHeap();

      const CALLS = 3000;
      await callMany(proxy, tool, args, CALLS);
      const afterCalls = await settledHeap();
      const perCall = (afterCalls - before) / CALLS;

      const SESSIONS = 300;
      await openAndClose(proxy, SESSIONS, tool, args);
      assert.equal(proxy.switchboard.sessions.size, 0, 'every session was closed');
      const afterSessions = await settledHeap();
      const perSession = (afterSessions - afterCalls) / SESSIONS;

      const report = `heap ${(before / KIB / KIB).toFixed(1)} MiB -> ${(afterCalls / KIB / KIB).toFixed(1)} MiB after ${CALLS} calls (${perCall.toFixed(0)} B/call) -> ${(afterSessions / KIB / KIB).toFixed(1)} MiB after ${SESSIONS} closed sessions (${perSession.toFixed(0)} B/session)`;
      t.diagnostic(report);
      // The leak this guards against kept ~5 KiB per call and ~40 KiB per closed session. The heap
      // after GC moves in steps of about 1.5 MiB whatever happens (code, pools), so one such step over
      // 3,000 calls (~500 B a call) must not fail the test; a real leak is ten times that.
      assert.ok(perCall < 1024, `each forwarded call stays in memory: ${report}`);
      assert.ok(perSession < 4 * KIB, `each closed session stays in memory: ${report}`);
    } finally {
      await proxy.close();
      await remote?.stop();
    }
  });
}


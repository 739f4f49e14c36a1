/**
 * Soak: mixed load for a duration (`--soak 10m`), then the proxy's RSS, heap after GC and open
 * file descriptors compared with before it. Not run by default.
 *
 * WORKERS loops, each picking the next operation of a fixed mix:
 *   40 % a short session with the bare client: initialize, tools/list, 3 calls, DELETE;
 *   15 % a session with the SDK client (GET stream open): tools/list, 3 calls, close;
 *   25 % 5 calls on one of POOL long-lived sessions;
 *   10 % a call to the remote `hang` tool given up after 100 ms: half drop the request stream
 *        (the proxy cancels once resumeGraceMs passes), half send notifications/cancelled first;
 *    5 % a session abandoned after one call, never DELETEd (the idle sweep must end it);
 *    5 % prompts/list, resources/list, resources/templates/list and ping on a long-lived session.
 *
 * The proxy runs with sessionIdleTimeoutMs 20 s and resumeGraceMs 2 s, so after the load stops
 * and SETTLE passes, abandoned sessions and dropped requests are gone and before/after compare
 * like with like.
 */
import { Inspector, settledMemory, type SettledMemory } from './inspector.ts';
import { sdkConnect } from './latency.ts';
import { runPool } from './load.ts';
import { McpSession, RpcFailure } from './mcp-http.ts';
import { remotePluginDir } from './plugin-dirs.ts';
import { fdCount, health, rss, sampleRss, sleep, startProxy, startRemoteFixture, type Proxy } from './processes.ts';
import { remoteSessionsOpen } from './remote-probe.ts';
import { mib, reportWarnings, type Results } from './report.ts';

const WORKERS = 6;
const POOL = 20;
const IDLE_TIMEOUT_MS = 20_000;
const RESUME_GRACE_MS = 2_000;
/** Idle timeout, plus the sweep's period (a quarter of it), plus a margin. */
const SETTLE_MS = IDLE_TIMEOUT_MS + IDLE_TIMEOUT_MS / 4 + 5_000;
/** Before the first snapshot: longer than resumeGraceMs and than the HTTP keep-alive timeouts (5 s), so idle connections are closed on both sides. */
const QUIET_MS = 7_000;

/** `90`, `90s`, `10m`, `1h`, `1h30m` -> seconds. */
export function parseDuration(text: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/.exec(text.trim());
  const seconds = match ? Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0) : NaN;
  if (!(seconds > 0)) throw new Error(`--soak: not a duration: "${text}" (e.g. 90s, 10m, 1h)`);
  return seconds;
}

interface Snapshot {
  rss: number;
  fds: number;
  settled: SettledMemory;
  sessions: number;
  remoteFds: number;
}

export async function soakBench(results: Results, seconds: number): Promise<void> {
  const section = 'soak';
  console.log(`\n[${section}] mixed load for ${seconds} s with ${WORKERS} workers, then ${SETTLE_MS / 1000} s for idle sessions to be swept`);
  const remote = await startRemoteFixture();
  const proxy = await startProxy({
    pluginDirs: [await remotePluginDir(remote.url)],
    inspect: true,
    env: { SWITCHBOARD_SESSION_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS), SWITCHBOARD_RESUME_GRACE_MS: String(RESUME_GRACE_MS) },
  });
  const inspector = await Inspector.connect(proxy.inspectorUrl!);
  const snapshot = async (): Promise<Snapshot> => ({
    rss: await rss(proxy.pid),
    fds: await fdCount(proxy.pid),
    settled: await settledMemory(inspector),
    sessions: (await health(proxy.base)).sessions,
    remoteFds: await fdCount(remote.pid),
  });
  try {
    const monitors = await remoteSessionsOpen(remote.url, 0, 0);
    const load = new Load(proxy);
    // Warm-up: every kind of operation a few times (but none abandoned), then the dropped requests' grace.
    await runPool(60, WORKERS, (i) => load.operation(i % 20 === 18 ? 0 : i % 20, true));
    await load.closePool();
    await sleep(QUIET_MS);
    const before = await snapshot();
    console.log(`  before: RSS ${mib(before.rss)}, heap after GC ${mib(before.settled.heapUsed)}, ${before.fds} fds, ${before.sessions} sessions`);
    const peak = sampleRss(proxy.pid, 1000);

    const deadline = Date.now() + seconds * 1000;
    const every = Math.min(60_000, Math.max(5_000, (seconds * 1000) / 5));
    const progress = setInterval(() => {
      void Promise.all([rss(proxy.pid), fdCount(proxy.pid), health(proxy.base)]).then(
        ([now, fds, { sessions }]) =>
          console.log(`  ${((seconds * 1000 - (deadline - Date.now())) / 1000).toFixed(0)} s: ${load.done} operations (${load.failed} failed), RSS ${mib(now)}, ${fds} fds, ${sessions} sessions`),
        () => {},
      );
    }, every);
    let outcome;
    try {
      outcome = await runPool(Infinity, WORKERS, (i) => load.operation(i % 20), () => Date.now() >= deadline);
    } finally {
      clearInterval(progress);
    }
    const rssPeak = await peak.stop();
    await load.closePool();
    console.log(`  load stopped after ${outcome.done} operations; waiting ${SETTLE_MS / 1000} s for abandoned sessions to be swept`);
    await sleep(SETTLE_MS);
    const after = await snapshot();

    results.add(section, 'operations', `operations in ${seconds} s (${WORKERS} workers)`, outcome.done, 'count', `${outcome.done} (${(outcome.done / seconds).toFixed(0)}/s)`);
    results.add(section, 'failures', 'operations that failed', outcome.failed, 'count', `${outcome.failed}${outcome.firstError ? `: ${outcome.firstError.slice(0, 80)}` : ''}`, {
      op: '=',
      value: 0,
      text: '0',
    });
    const growth = ((after.rss - before.rss) / before.rss) * 100;
    results.add(section, 'rssGrowth', `proxy RSS (${mib(before.rss)} -> ${mib(after.rss)})`, growth, '%', `${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %`, { op: '<', value: 10, text: '< 10 %' });
    results.add(section, 'rssPeak', '  RSS peak under the load', rssPeak, 'bytes', mib(rssPeak));
    const gcGrowth = ((after.settled.rss - before.settled.rss) / before.settled.rss) * 100;
    results.add(section, 'rssGrowthAfterGc', `  RSS after forced GC (${mib(before.settled.rss)} -> ${mib(after.settled.rss)})`, gcGrowth, '%', `${gcGrowth >= 0 ? '+' : ''}${gcGrowth.toFixed(1)} %`);
    const heap = after.settled.heapUsed - before.settled.heapUsed;
    results.add(section, 'heapGrowth', `heap after GC (${mib(before.settled.heapUsed)} -> ${mib(after.settled.heapUsed)})`, heap, 'bytes', `${heap >= 0 ? '+' : ''}${(heap / 1024).toFixed(0)} KiB`);
    results.add(section, 'fds', `proxy open file descriptors (${before.fds} -> ${after.fds})`, after.fds - before.fds, 'count', `${after.fds - before.fds >= 0 ? '+' : ''}${after.fds - before.fds}`, {
      op: '<=',
      value: 5,
      text: '<= +5',
    });
    results.add(section, 'remoteFds', `remote server's file descriptors (${before.remoteFds} -> ${after.remoteFds})`, after.remoteFds - before.remoteFds, 'count', `${after.remoteFds - before.remoteFds >= 0 ? '+' : ''}${after.remoteFds - before.remoteFds}`);
    results.add(section, 'sessionsLeft', `client sessions open after the sweep (before: ${before.sessions})`, after.sessions, 'count', String(after.sessions), { op: '=', value: 0, text: '0' });
    const backends = (await remoteSessionsOpen(remote.url, monitors)) - monitors;
    results.add(section, 'backendSessionsLeft', `backend sessions still open at the remote (beyond the proxy's ${monitors} monitor)`, backends, 'count', String(backends), { op: '=', value: 0, text: '0' });
    results.add(section, 'reopened', 'long-lived sessions found ended and reopened', load.reopened, 'count', String(load.reopened));
    reportWarnings(results, section, proxy);
  } finally {
    inspector.close();
    await proxy.stop();
    await remote.stop();
  }
}

/** The operations of the mix; `operation(n)` runs kind n of 20 (see the file comment). */
class Load {
  readonly #proxy: Proxy;
  readonly #pool: Array<Promise<McpSession> | undefined> = [];
  #turn = 0;
  done = 0;
  failed = 0;
  reopened = 0;

  constructor(proxy: Proxy) {
    this.#proxy = proxy;
  }

  async operation(kind: number, warmUp = false): Promise<void> {
    try {
      if (kind < 8) await this.#shortSession();
      else if (kind < 11) await this.#sdkSession();
      else if (kind < 16) await this.#pooled((s) => this.#calls(s, 5));
      else if (kind < 18) await this.#pooled((s) => this.#abandonedCall(s, kind === 17));
      else if (kind < 19) await this.#abandonedSession();
      else await this.#pooled((s) => this.#otherLists(s));
      if (!warmUp) this.done++;
    } catch (error) {
      if (!warmUp) this.failed++;
      throw error;
    }
  }

  async #calls(session: McpSession, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) await session.callTool('example_hello_world');
      else await session.callTool('remote_shout', { text: 'soak' });
    }
  }

  async #shortSession(): Promise<void> {
    const session = await McpSession.open(this.#proxy.url);
    try {
      await session.listAll('tools/list', 'tools');
      await this.#calls(session, 3);
    } finally {
      await session.close();
    }
  }

  async #sdkSession(): Promise<void> {
    const session = await sdkConnect(this.#proxy.url);
    try {
      await session.client.listTools();
      await session.client.callTool({ name: 'example_hello_world' });
      await session.client.callTool({ name: 'remote_shout', arguments: { text: 'soak' } });
      await session.client.callTool({ name: 'example_hello_world' });
    } finally {
      await session.close();
    }
  }

  /** A call to the remote `hang` tool, given up after 100 ms. */
  async #abandonedCall(session: McpSession, sayCancelled: boolean): Promise<void> {
    const controller = new AbortController();
    const requestId = session.nextRequestId;
    // Settled at once into a value, so the rejection the abort causes is never unhandled.
    const outcome = session.request('tools/call', { name: 'remote_hang', arguments: {} }, controller.signal).then(
      () => new Error('remote_hang answered before it was cancelled'),
      (error: unknown) => (controller.signal.aborted ? undefined : error),
    );
    await sleep(100);
    if (sayCancelled) await session.notify('notifications/cancelled', { requestId, reason: 'soak: given up' });
    controller.abort();
    const problem = await outcome;
    if (problem) throw problem;
  }

  async #abandonedSession(): Promise<void> {
    const session = await McpSession.open(this.#proxy.url);
    await session.callTool('remote_shout', { text: 'left behind' });
  }

  async #otherLists(session: McpSession): Promise<void> {
    await session.listAll('prompts/list', 'prompts');
    await session.listAll('resources/list', 'resources');
    await session.listAll('resources/templates/list', 'resourceTemplates');
    await session.request('ping');
  }

  /** Runs `use` on the next long-lived session; one the proxy no longer knows (404) is opened again. */
  async #pooled(use: (session: McpSession) => Promise<void>): Promise<void> {
    const slot = this.#turn++ % POOL;
    let opening = this.#pool[slot];
    if (!opening) {
      const opened = McpSession.open(this.#proxy.url);
      opened.catch(() => {
        if (this.#pool[slot] === opened) this.#pool[slot] = undefined;
      });
      this.#pool[slot] = opening = opened;
    }
    const session = await opening;
    try {
      await use(session);
    } catch (error) {
      if (!(error instanceof RpcFailure && error.status === 404)) throw error;
      this.reopened++;
      if (this.#pool[slot] === opening) this.#pool[slot] = undefined;
      await this.#pooled(use);
    }
  }

  /** Closes the long-lived sessions (DELETE); the next pooled operation opens new ones. */
  async closePool(): Promise<void> {
    const pool = this.#pool.splice(0);
    await Promise.all(pool.map(async (opening) => (await opening?.catch(() => undefined))?.close().catch(() => {})));
  }
}

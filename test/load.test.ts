/**
 * Load and isolation, end to end: the remote fixture server as a real process mounted as a
 * remote plugin (`svc`, from a plugin.json), beside the in-process fixture plugins (`fx`, `fid`,
 * `ll`), with the official SDK client.
 *
 * - Load: SESSIONS concurrent client sessions, each making CALLS mixed calls in sequence (lists,
 *   tool calls on both kinds of plugin, prompts, resources), every answer checked; 0 errors. The
 *   clients run in a worker thread; the proxy runs in this one (startProxy).
 * - Isolation: rounds of a random number of sessions making random concurrent calls whose backends
 *   send the client elicitation, sampling and roots requests, progress and log messages; each
 *   client answers with its own tag, and no client may see another's traffic.
 *
 * The isolation plans are drawn by fast-check from LOAD_SEED (a number, or `random`; printed).
 * LOAD_SESSIONS, LOAD_CALLS and LOAD_ROUNDS change the sizes (defaults 100, 100 and 12).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ProgressNotificationSchema,
  ResultSchema,
  type LoggingLevel,
} from '@modelcontextprotocol/sdk/types.js';
import { FIXTURES, connect, startProxy, startRemoteFixture, textOf, until, type Connected, type RunningProcess, type RunningProxy } from './helpers.ts';

const SESSIONS = Number(process.env.LOAD_SESSIONS ?? 100);
const CALLS = Number(process.env.LOAD_CALLS ?? 100);
/** The first calls of a session open its backend sessions; latency is also given without them. */
const WARM_UP = 10;
const SEED = process.env.LOAD_SEED === 'random' ? Date.now() ^ (Math.random() * 0x100000000) : Number(process.env.LOAD_SEED ?? 4_242);
const ROUNDS = Number(process.env.LOAD_ROUNDS ?? 12);

let remote: RunningProcess;
let proxy: RunningProxy;
let pluginDir: string;

if (isMainThread) before(async () => {
  remote = await startRemoteFixture();
  pluginDir = await mkdtemp(join(tmpdir(), 'switchboard-load-'));
  await mkdir(join(pluginDir, 'svc'));
  await writeFile(join(pluginDir, 'svc', 'plugin.json'), JSON.stringify({ prefix: 'svc', remote: { url: remote.url } }));
  proxy = await startProxy({ pluginDirs: [join(FIXTURES, 'plugins'), pluginDir] });
});

if (isMainThread) after(async () => {
  await proxy?.close();
  await remote?.stop();
  if (pluginDir) await rm(pluginDir, { recursive: true, force: true });
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

/** Lines the remote fixture printed matching `pattern` so far. */
function remoteLines(pattern: RegExp): number {
  return remote.output().split('\n').filter((line) => pattern.test(line)).length;
}

// ---------------------------------------------------------------------------------------------
// Load
// ---------------------------------------------------------------------------------------------

interface SessionState {
  s: number;
  connected: Connected;
  counter: number;
  whoami?: string;
  tools?: number;
}

type Op = (state: SessionState, i: number) => Promise<void>;

const EXPECTED_TOOLS = ['fx_echo', 'fx_add', 'fx_counter', 'fx_session', 'svc_shout', 'svc_whoami', 'fid_ask', 'll_tool0'];

/** The mixed calls, each checking its answer; a session runs them in rotation, out of phase with the others. */
const OPS: Array<[string, Op]> = [
  [
    'tools/list',
    async (state) => {
      const { tools } = await state.connected.client.listTools();
      const names = new Set(tools.map((tool) => tool.name));
      for (const name of EXPECTED_TOOLS) assert.ok(names.has(name), `tools/list names ${name}`);
      state.tools ??= tools.length;
      assert.equal(tools.length, state.tools, 'tools/list is the same every time');
    },
  ],
  [
    'fx_echo',
    async (state, i) => {
      const message = `s${state.s} call ${i} ✓`;
      assert.equal(textOf(await state.connected.client.callTool({ name: 'fx_echo', arguments: { message } })), `echo: ${message}`);
    },
  ],
  [
    'svc_shout',
    async (state, i) => {
      const text = `session ${state.s} call ${i} quiet`;
      assert.equal(textOf(await state.connected.client.callTool({ name: 'svc_shout', arguments: { text } })), text.toUpperCase());
    },
  ],
  [
    'fx_add',
    async (state, i) => {
      const result = await state.connected.client.callTool({ name: 'fx_add', arguments: { a: state.s, b: i + 0.5 } });
      assert.equal(textOf(result), String(state.s + i + 0.5));
      assert.deepEqual(result.structuredContent, { sum: state.s + i + 0.5 });
    },
  ],
  [
    'svc_whoami',
    async (state) => {
      const id = textOf(await state.connected.client.callTool({ name: 'svc_whoami' }));
      assert.match(id, /^[0-9a-f-]{36}$/, 'a remote backend session id');
      state.whoami ??= id;
      assert.equal(id, state.whoami, 'one remote backend session per client session, kept for its lifetime');
    },
  ],
  [
    'fx_counter',
    async (state) => {
      const count = textOf(await state.connected.client.callTool({ name: 'fx_counter' }));
      assert.equal(count, String(++state.counter), 'the in-process server instance is this session’s own');
    },
  ],
  [
    'prompts/get fx_greet',
    async (state, i) => {
      const name = `S${state.s}-${i}`;
      const prompt = await state.connected.client.getPrompt({ name: 'fx_greet', arguments: { name } });
      assert.deepEqual(prompt.messages, [{ role: 'user', content: { type: 'text', text: `Hello, ${name}!` } }]);
    },
  ],
  [
    'prompts/get svc_remote_prompt',
    async (state, i) => {
      const topic = `topic ${state.s}/${i}`;
      const prompt = await state.connected.client.getPrompt({ name: 'svc_remote_prompt', arguments: { topic } });
      assert.deepEqual(prompt.messages, [{ role: 'user', content: { type: 'text', text: `Tell me about ${topic}` } }]);
    },
  ],
  [
    'resources/read fx',
    async (state) => {
      const { contents } = await state.connected.client.readResource({ uri: 'fixture://fx/info' });
      assert.deepEqual(contents, [{ uri: 'fixture://fx/info', text: 'fixture info' }]);
    },
  ],
  [
    'resources/read svc',
    async (state) => {
      const { contents } = await state.connected.client.readResource({ uri: 'docs://svc/guide/intro' });
      assert.deepEqual(contents, [{ uri: 'docs://svc/guide/intro', text: 'remote intro' }]);
    },
  ],
  [
    'fx_session',
    async (state) => {
      assert.equal(textOf(await state.connected.client.callTool({ name: 'fx_session' })), state.connected.transport.sessionId);
    },
  ],
];

/** What the load clients measured and found wrong (sent from the worker that runs them). */
interface LoadReport {
  connectMs: number;
  elapsed: number;
  latencies: number[];
  /** Latencies of each session's calls after its first WARM_UP (its backend sessions are open). */
  warm: number[];
  byOp: Array<[string, number[]]>;
  slowest: string[];
  failures: string[];
  failuresByOp: Array<[string, number]>;
  failed: number;
  whoami: Array<string | undefined>;
  /** Event-loop stalls over 100 ms of the clients' own thread (ms). */
  clientStalls: number[];
}

/** SESSIONS clients, each making CALLS calls in sequence; runs in a worker thread (see below). */
async function runLoadClients(url: string, sessions: number, calls: number): Promise<LoadReport> {
  const connectStart = performance.now();
  const states: SessionState[] = await Promise.all(Array.from({ length: sessions }, async (_, s) => ({ s, connected: await connect(url), counter: 0 })));
  const connectMs = performance.now() - connectStart;
  const latencies: number[] = [];
  const warm: number[] = [];
  const byOp = new Map<string, number[]>();
  const slow: Array<{ took: number; what: string }> = [];
  const failures: string[] = [];
  const failuresByOp = new Map<string, number>();
  let failed = 0;
  const start = performance.now();
  const clientStalls: number[] = [];
  let tick = performance.now();
  const monitor = setInterval(() => {
    const now = performance.now();
    if (now - tick > 100) clientStalls.push(now - tick);
    tick = now;
  }, 10);
  try {
    await Promise.all(
      states.map(async (state) => {
        for (let i = 0; i < calls; i++) {
          const [name, op] = OPS[(i + state.s) % OPS.length]!;
          const began = performance.now();
          try {
            await op(state, i);
          } catch (error) {
            failed++;
            failuresByOp.set(name, (failuresByOp.get(name) ?? 0) + 1);
            if (failures.length < 10) failures.push(`session ${state.s} call ${i} (${name}): ${(error as Error).message}`);
          }
          const took = performance.now() - began;
          latencies.push(took);
          if (i >= WARM_UP) warm.push(took);
          let times = byOp.get(name);
          if (!times) byOp.set(name, (times = []));
          times.push(took);
          slow.push({ took, what: `${name} (session ${state.s}, call ${i}, started at +${((began - start) / 1000).toFixed(1)} s)` });
          if (slow.length > 50) slow.sort((x, y) => y.took - x.took).splice(3);
        }
      }),
    );
  } finally {
    clearInterval(monitor);
    await Promise.all(states.map((state) => state.connected.close()));
  }
  return {
    connectMs,
    elapsed: performance.now() - start,
    latencies,
    warm,
    byOp: [...byOp],
    slowest: slow.sort((x, y) => y.took - x.took).slice(0, 3).map((c) => `${ms(c.took)} ${c.what}`),
    failures,
    failuresByOp: [...failuresByOp],
    failed,
    whoami: states.map((state) => state.whoami),
    clientStalls,
  };
}

/**
 * Runs the load clients in a worker thread: 100 SDK clients are more work than the proxy, and on
 * the proxy's own event loop the figures would be mostly theirs. tsx is registered in the worker
 * first. The proxy, saturated, still accepts new connections late: the first calls of the last
 * sessions to start wait seconds before the proxy sees them, then are answered in milliseconds.
 */
function inWorker(url: string, sessions: number, calls: number): Promise<LoadReport> {
  const tsx = import.meta.resolve('tsx/esm/api');
  const self = import.meta.url;
  const worker = new Worker(`import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(self)}); });`, {
    eval: true,
    workerData: { role: LOAD_WORKER, url, sessions, calls },
  });
  return new Promise<LoadReport>((resolve, reject) => {
    worker.once('message', (report: LoadReport) => {
      resolve(report);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the load worker exited (code ${code}) without a report`)));
  });
}

const LOAD_WORKER = 'switchboard-load-clients';
if (!isMainThread && (workerData as { role?: string } | null)?.role === LOAD_WORKER) {
  const { url, sessions, calls } = workerData as { url: string; sessions: number; calls: number };
  void runLoadClients(url, sessions, calls).then((report) => parentPort!.postMessage(report));
}

if (isMainThread) test(`load: ${SESSIONS} concurrent sessions x ${CALLS} mixed calls, every answer correct, 0 errors`, { timeout: 240_000 }, async (t) => {
  const closedBefore = remoteLines(/^session closed /);
  const logsBefore = proxy.logs().length;
  // The proxy runs in this thread: record how long its event loop stalls under the load.
  const stalls: number[] = [];
  let tick = performance.now();
  const monitor = setInterval(() => {
    const now = performance.now();
    if (now - tick > 100) stalls.push(now - tick);
    tick = now;
  }, 10);
  let report: LoadReport;
  try {
    report = await inWorker(proxy.url, SESSIONS, CALLS);
  } finally {
    clearInterval(monitor);
  }
  const { latencies, warm, elapsed } = report;
  const sorted = [...latencies].sort((a, b) => a - b);
  const warmSorted = [...warm].sort((a, b) => a - b);
  t.diagnostic(`${SESSIONS} sessions connected in ${ms(report.connectMs)}`);
  t.diagnostic(
    `${latencies.length} calls in ${(elapsed / 1000).toFixed(2)} s: ${Math.round(latencies.length / (elapsed / 1000))} calls/s, ` +
      `latency p50 ${ms(percentile(sorted, 50))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1) ?? 0)}`,
  );
  if (warmSorted.length) {
    t.diagnostic(`after each session's first ${WARM_UP} calls (backend sessions open): p50 ${ms(percentile(warmSorted, 50))}, p99 ${ms(percentile(warmSorted, 99))}, max ${ms(warmSorted.at(-1)!)}`);
  }
  for (const [name, times] of report.byOp) {
    const op = times.sort((a, b) => a - b);
    t.diagnostic(`  ${name}: ${op.length} calls, p50 ${ms(percentile(op, 50))}, p99 ${ms(percentile(op, 99))}, max ${ms(op.at(-1)!)}`);
  }
  t.diagnostic(`slowest: ${report.slowest.join('; ')}`);
  const stallLine = (list: number[]) => `${list.length}${list.length ? `, longest ${ms(Math.max(...list))}` : ''}`;
  t.diagnostic(`event-loop stalls over 100 ms: proxy ${stallLine(stalls)}; clients ${stallLine(report.clientStalls)}`);
  const logged = proxy.logs().slice(logsBefore).filter((line) => Number(line.level) >= 40);
  if (logged.length) {
    const kinds = countBy(logged, (line) => String(line.msg).replace(/[0-9a-f-]{36}/g, '<id>').slice(0, 140));
    t.diagnostic(`the proxy logged ${logged.length} warnings/errors: ${[...kinds].map(([msg, n]) => `${n}x ${msg}`).join(' | ')}`);
  }
  if (report.failed) t.diagnostic(`failures by call: ${report.failuresByOp.map(([name, n]) => `${name} x${n}`).join(', ')}`);

  assert.deepEqual(report.failures, [], `${report.failed} of ${SESSIONS * CALLS} calls failed or answered wrongly`);
  assert.equal(latencies.length, SESSIONS * CALLS);
  assert.equal(new Set(report.whoami).size, SESSIONS, 'every client session had its own remote backend session');
  // Ending the client sessions ends their remote backend sessions (DELETE reaches the remote).
  await until(() => (remoteLines(/^session closed /) - closedBefore >= SESSIONS ? true : undefined), `${SESSIONS} remote backend sessions closed`, 15_000);
});

// ---------------------------------------------------------------------------------------------
// Isolation under random concurrency
// ---------------------------------------------------------------------------------------------

const LEVELS: LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

type Feature = 'ask' | 'sample' | 'roots' | 'progress' | 'log' | 'plain';
interface CallPlan {
  prefix: 'fid' | 'svc';
  feature: Feature;
  /** Waits this long before calling, so calls interleave differently each round. */
  delayMs: number;
  /** For `progress`: how many steps. */
  steps: number;
}
interface SessionPlan {
  /** The level the client sets before its calls (none: every message is sent). */
  level?: LoggingLevel;
  /** The most a handler waits before answering the backend. */
  answerDelayMs: number;
  /** Connects this long after the round starts, so handshakes interleave with others' calls. */
  connectDelayMs: number;
  /** Ends the session (DELETE) as soon as its own calls are done, while others still run. */
  closeEarly: boolean;
  calls: CallPlan[];
}

const callPlan: fc.Arbitrary<CallPlan> = fc.record({
  prefix: fc.constantFrom('fid' as const, 'svc' as const),
  feature: fc.constantFrom<Feature>('ask', 'sample', 'roots', 'progress', 'log', 'plain'),
  delayMs: fc.integer({ min: 0, max: 40 }),
  steps: fc.integer({ min: 1, max: 4 }),
});

const sessionPlan: fc.Arbitrary<SessionPlan> = fc.record(
  {
    level: fc.constantFrom(...LEVELS),
    answerDelayMs: fc.integer({ min: 0, max: 25 }),
    connectDelayMs: fc.integer({ min: 0, max: 60 }),
    closeEarly: fc.boolean(),
    calls: fc.array(callPlan, { minLength: 1, maxLength: 10 }),
  },
  { requiredKeys: ['answerDelayMs', 'connectDelayMs', 'closeEarly', 'calls'] },
);

const roundPlan = fc.array(sessionPlan, { minLength: 2, maxLength: 12 });

interface Observed {
  asked: string[];
  sampled: string[];
  rootsAsked: number;
  progress: Array<{ progressToken: string | number; progress: number }>;
  logs: Array<{ level: LoggingLevel; logger?: string; data: unknown }>;
}

/** A session tagged `tag` that answers every backend request with its tag, and records all it sees. */
async function taggedSession(tag: string, plan: SessionPlan): Promise<Connected & { seen: Observed }> {
  const seen: Observed = { asked: [], sampled: [], rootsAsked: 0, progress: [], logs: [] };
  const pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * plan.answerDelayMs));
  const connected = await connect(proxy.url, { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } }, (client) => {
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      seen.asked.push(request.params.message);
      await pause();
      return { action: 'accept', content: { answer: `${tag} answers ${request.params.message}` } };
    });
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const content = request.params.messages[0]!.content;
      const first = Array.isArray(content) ? content[0] : content;
      const text = first?.type === 'text' ? first.text : '?';
      seen.sampled.push(text);
      await pause();
      return { role: 'assistant', model: tag, content: { type: 'text', text: `${tag} samples ${text}` } };
    });
    client.setRequestHandler(ListRootsRequestSchema, async () => {
      seen.rootsAsked++;
      await pause();
      return { roots: [{ uri: `file:///roots/${tag}`, name: tag }] };
    });
    client.setNotificationHandler(ProgressNotificationSchema, (notification) => {
      seen.progress.push({ progressToken: notification.params.progressToken, progress: notification.params.progress });
    });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      seen.logs.push({ level: notification.params.level, logger: notification.params.logger, data: notification.params.data });
    });
  });
  return { ...connected, seen };
}

/** Makes one planned call and checks that its answer is this call's own. */
async function planned(session: Connected, tag: string, k: number, call: CallPlan): Promise<void> {
  const { client } = session;
  const id = `${tag}-c${k}`;
  const tool = `${call.prefix}_${call.feature}`;
  await new Promise((resolve) => setTimeout(resolve, call.delayMs));
  switch (call.feature) {
    case 'ask':
      assert.equal(textOf(await client.callTool({ name: tool, arguments: { question: id } })), `${tag} answers ${id}`, `${id} (${tool}) got someone else's answer`);
      return;
    case 'sample':
      assert.equal(textOf(await client.callTool({ name: tool, arguments: { prompt: id } })), `${tag} samples ${id}`, `${id} (${tool}) got someone else's answer`);
      return;
    case 'roots':
      assert.equal(textOf(await client.callTool({ name: tool })), `file:///roots/${tag}`, `${id} (${tool}) got someone else's roots`);
      return;
    case 'progress': {
      const result = await client.request(
        { method: 'tools/call', params: { name: `${call.prefix}_count_to`, arguments: { n: call.steps, delayMs: 5 + (k % 3) * 5 }, _meta: { progressToken: id } } },
        ResultSchema,
      );
      assert.equal(textOf(result), `counted to ${call.steps}`);
      return;
    }
    case 'log':
      assert.equal(textOf(await client.callTool({ name: `${call.prefix}_log_all` })), `logged ${LEVELS.length}`);
      return;
    case 'plain': {
      const [name, args, expected] = call.prefix === 'fid' ? ['fx_echo', { message: id }, `echo: ${id}`] : ['svc_shout', { text: id }, id.toUpperCase()];
      assert.equal(textOf(await client.callTool({ name, arguments: args })), expected);
      return;
    }
  }
}

/** The log messages a session should get: for each log_all call, those at or above its level. */
function expectedLogs(plan: SessionPlan): Map<string, number> {
  const perCall = LEVELS.length - (plan.level === undefined ? 0 : LEVELS.indexOf(plan.level));
  const expected = new Map<string, number>();
  for (const call of plan.calls) if (call.feature === 'log') expected.set(`${call.prefix}/fixture`, (expected.get(`${call.prefix}/fixture`) ?? 0) + perCall);
  return expected;
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

if (isMainThread) test(`isolation: ${ROUNDS} rounds of random sessions and concurrent calls with backend-to-client traffic; no client sees another's`, { timeout: 240_000 }, async (t) => {
  t.diagnostic(`seed ${SEED}`);
  let round = 0;
  /**
   * A 2025 remote sends its log messages outside any request (on its GET stream), so the proxy
   * relays them on the client's GET stream, which the SDK client opens after the handshake without
   * waiting for it. Messages that reach the proxy before that stream is open are not delivered
   * (only kept for a resuming client): a race of the protocol, not of isolation. Directly between
   * an SDK client and the remote fixture, 4 of 60 sessions calling log_all at once right after
   * connecting lost theirs the same way.
   */
  const remoteLogs = { expected: 0, lost: 0 };
  let totalCalls = 0;
  let totalSessions = 0;
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(roundPlan, async (plans) => {
      const r = round++;
      const tags = plans.map((_, s) => `r${r}s${s}`);
      const wanted = plans.map(expectedLogs);
      const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
      const opened: Array<Connected & { seen: Observed }> = [];
      totalSessions += plans.length;
      let sessions: Array<Connected & { seen: Observed }> | undefined;
      try {
        sessions = await Promise.all(
          plans.map(async (plan, s) => {
            await new Promise((resolve) => setTimeout(resolve, plan.connectDelayMs));
            const session = await taggedSession(tags[s]!, plan);
            opened.push(session);
            if (plan.level) await session.client.setLoggingLevel(plan.level);
            await Promise.all(
              plan.calls.map((call, k) => {
                totalCalls++;
                return planned(session, tags[s]!, k, call);
              }),
            );
            if (plan.closeEarly) {
              // Its log messages are not tied to a request: let them arrive before hanging up.
              await until(() => (session.seen.logs.length >= total(wanted[s]!) ? true : undefined), 'log messages', 5000).catch(() => {});
              await session.close();
            }
            return session;
          }),
        );
      } finally {
        // A failed call: end every session this round opened (closing one twice does no harm).
        if (!sessions) await Promise.all(opened.map((session) => session.close()));
      }
      const all = sessions;
      try {
        for (const [s, session] of all.entries()) {
          const plan = plans[s]!;
          const tag = tags[s]!;
          const { seen } = session;
          const own = (text: string) => text.startsWith(`${tag}-c`);
          const count = (feature: Feature) => plan.calls.filter((call) => call.feature === feature).length;

          assert.deepEqual(seen.asked.filter((q) => !own(q)), [], `session ${tag} was asked other sessions' questions`);
          assert.equal(seen.asked.length, count('ask'), `session ${tag}: one elicitation per ask call`);
          assert.deepEqual(seen.sampled.filter((q) => !own(q)), [], `session ${tag} got other sessions' sampling requests`);
          assert.equal(seen.sampled.length, count('sample'), `session ${tag}: one sampling request per sample call`);
          if (count('roots') === 0) assert.equal(seen.rootsAsked, 0, `session ${tag} was asked for roots it never caused`);

          // Progress: each progress call's own token, steps 1..n in order; nothing else.
          const foreign = seen.progress.filter((p) => typeof p.progressToken !== 'string' || !own(p.progressToken));
          assert.deepEqual(foreign, [], `session ${tag} got progress for other sessions' calls`);
          for (const [k, call] of plan.calls.entries()) {
            if (call.feature !== 'progress') continue;
            const steps = seen.progress.filter((p) => p.progressToken === `${tag}-c${k}`).map((p) => p.progress);
            assert.deepEqual(steps, Array.from({ length: call.steps }, (_, i) => i + 1), `progress of ${tag}-c${k}`);
          }
          assert.equal(seen.progress.length, plan.calls.filter((c) => c.feature === 'progress').reduce((sum, c) => sum + c.steps, 0));
        }

        // Log messages are not tied to a request: wait for each session's, then make sure no more come.
        await until(
          () => (all.every((session, s) => session.seen.logs.length >= total(wanted[s]!)) ? true : undefined),
          'log messages',
          5000,
        ).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 100));
        for (const [s, session] of all.entries()) {
          const plan = plans[s]!;
          const minimum = plan.level === undefined ? 0 : LEVELS.indexOf(plan.level);
          const below = session.seen.logs.filter((log) => LEVELS.indexOf(log.level) < minimum);
          assert.deepEqual(below, [], `session ${tags[s]} (level ${plan.level}) got messages below its level: another session's?`);
          const got = countBy(session.seen.logs, (log) => String(log.logger));
          const describe = `session ${tags[s]} (level ${plan.level ?? 'not set'}): log messages by logger ${JSON.stringify(Object.fromEntries(got))}, expected ${JSON.stringify(Object.fromEntries(wanted[s]!))}`;
          for (const logger of got.keys()) assert.ok(wanted[s]!.has(logger), `${describe}: messages from a plugin it never called`);
          // In-process: every message arrives, each once. Remote: never more than its own, but
          // some may be lost (see remoteLogs).
          assert.equal(got.get('fid/fixture') ?? 0, wanted[s]!.get('fid/fixture') ?? 0, describe);
          const remoteGot = got.get('svc/fixture') ?? 0;
          const remoteWanted = wanted[s]!.get('svc/fixture') ?? 0;
          assert.ok(remoteGot <= remoteWanted, `${describe}: more than its own`);
          remoteLogs.expected += remoteWanted;
          remoteLogs.lost += remoteWanted - remoteGot;
        }
      } finally {
        await Promise.all(all.filter((_, s) => !plans[s]!.closeEarly).map((session) => session.close()));
      }
    }),
    { seed: SEED, numRuns: ROUNDS, endOnFailure: true, includeErrorInReport: true },
  );
  t.diagnostic(`${round} rounds, ${totalSessions} sessions, ${totalCalls} calls in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  t.diagnostic(`remote log messages sent before the client's GET stream was open (not delivered): ${remoteLogs.lost} of ${remoteLogs.expected}`);
});

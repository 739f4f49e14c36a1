/**
 * Scale-out behind a real load balancer: HAProxy (Debian's) round robin over 3 real proxy
 * processes, with the shipped deploy/haproxy/haproxy.cfg (routing on the replica named in the
 * session id) and with the Helm chart's HAProxy config (routes learned from initialize answers).
 * SDK v2 clients (2026-07-28, stateless) and SDK v1 clients (2025 sessions) call continuously
 * through it while one replica is killed (SIGKILL): the modern clients see no error, the legacy
 * client whose session was on the dead replica gets 404, initializes a new session and sends the
 * call again, and every call is answered. And 2026-07-28 listen streams: every replica announces
 * the same list change of a shared plugin folder; a killed replica's stream ends and the client
 * listens again on another.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import { ROOT, freePort, gone, startProcess, textOf, until, type RunningProcess } from './helpers.ts';
import { renderChart } from './scale-helm.ts';

const SERVING = /serving \d+ plugin\(s\) at (http:\/\/[^\s"]+)/;
const HELLO = 'Hello from the example MCP server!';
const REPLICAS = ['switchboard-1', 'switchboard-2', 'switchboard-3'] as const;
const HAPROXY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((path) => spawnSync(path, ['-v']).status === 0);

interface Cluster {
  url: string;
  replicas: RunningProcess[];
  stop(): Promise<void>;
}

/** A replica serving the example plugin, and the folders of `sharedPlugins` (watched) if given. */
function startReplica(replicaId: string, sharedPlugins?: string): Promise<RunningProcess> {
  const plugins = ['--plugins', join(ROOT, 'plugins'), ...(sharedPlugins ? ['--plugins', sharedPlugins] : [])];
  return startProcess(process.execPath, ['--import', 'tsx', join(ROOT, 'core/main.ts'), 'serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', ...plugins], {
    env: { SWITCHBOARD_REPLICA_ID: replicaId, SWITCHBOARD_WATCH: sharedPlugins ? 'true' : 'false', SWITCHBOARD_PLUGIN_DIRS: '' },
    ready: SERVING,
  });
}

/**
 * 3 replicas and HAProxy in front of them with the config file `config` (its addresses from the
 * environment; or `adapt` rewrites its text, given the replicas' host:port and HAProxy's port).
 */
async function startCluster(config: string, adapt?: (text: string, replicas: string[], port: number) => string, sharedPlugins?: string): Promise<Cluster> {
  if (!HAPROXY) throw new Error('haproxy is not installed: apt-get install -y haproxy (.ci/run does it)');
  const replicas = await Promise.all(REPLICAS.map((id) => startReplica(id, sharedPlugins)));
  const hosts = replicas.map((replica) => new URL(replica.url).host);
  const port = await freePort();
  const env: Record<string, string> = { SWITCHBOARD_LISTEN: `127.0.0.1:${port}` };
  hosts.forEach((host, i) => (env[`SWITCHBOARD_${i + 1}`] = host));
  let file = config;
  if (adapt) {
    file = join(await mkdtemp(join(tmpdir(), 'switchboard-haproxy-')), 'haproxy.cfg');
    await writeFile(file, adapt(await readFile(config, 'utf8'), hosts, port));
  }
  // -db: in the foreground, logging to stdout.
  const balancer = spawn(HAPROXY, ['-db', '-f', file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  balancer.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  balancer.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise((resolve) => balancer.once('exit', resolve));
  const stop = async () => {
    if (balancer.exitCode === null && balancer.signalCode === null) {
      balancer.kill('SIGTERM');
      await exited;
    }
    await Promise.all(replicas.map((replica) => replica.stop()));
  };
  const url = `http://127.0.0.1:${port}/mcp`;
  try {
    await until(async () => {
      if (balancer.exitCode !== null) throw new Error(`haproxy exited with ${config}:\n${log}`);
      return (await fetch(url.replace('/mcp', '/healthz')).catch(() => undefined))?.ok ? true : undefined;
    }, 'HAProxy to answer');
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, replicas, stop };
}

/** A 2025-era client as real ones behave: on 404 for its session it initializes a new one and sends the call again. */
class LegacyCaller {
  client!: Client;
  transport!: StreamableHTTPClientTransport;
  readonly sessions: string[] = [];
  attempted = 0;
  answered = 0;
  reinitialized = 0;
  readonly failures: string[] = [];
  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  async open(): Promise<void> {
    this.client = new Client({ name: 'scale-legacy', version: '1.0.0' });
    this.transport = new StreamableHTTPClientTransport(new URL(this.url));
    this.client.onerror = () => {}; // the standalone GET stream of a dead replica; the next call shows it
    await this.client.connect(this.transport);
    this.sessions.push(this.transport.sessionId!);
  }

  get session(): string {
    return this.sessions.at(-1)!;
  }

  async call(): Promise<void> {
    this.attempted++;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const result = await this.client.callTool({ name: 'example_hello_world' });
        assert.equal(textOf(result), HELLO);
        this.answered++;
        return;
      } catch (error) {
        if (!(error instanceof StreamableHTTPError && error.code === 404)) {
          this.failures.push(`session ${this.session}: ${String(error)}`);
          return;
        }
        await this.client.close().catch(() => {});
        await this.open();
        this.reinitialized++;
      }
    }
    this.failures.push(`session ${this.session}: still 404 after initializing again`);
  }

  async close(): Promise<void> {
    await this.transport.terminateSession().catch(() => {});
    await this.client.close();
  }
}

/** A 2026-07-28 client: no session; any replica answers each call. */
class ModernCaller {
  client!: V2Client;
  attempted = 0;
  answered = 0;
  readonly failures: string[] = [];
  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  async open(): Promise<void> {
    this.client = new V2Client({ name: 'scale-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await this.client.connect(new V2Transport(new URL(this.url)));
  }

  async call(): Promise<void> {
    this.attempted++;
    try {
      const result = await this.client.callTool({ name: 'example_hello_world' });
      assert.equal(textOf(result), HELLO);
      this.answered++;
    } catch (error) {
      this.failures.push(String(error));
    }
  }
}

/**
 * Both eras' clients call continuously through the cluster's HAProxy; one replica is killed
 * (SIGKILL) mid-run. Modern clients see no error; the legacy client whose session was on the
 * dead replica gets 404, initializes again and goes on; every call is answered.
 */
async function killOneReplicaMidRun(cluster: Cluster): Promise<void> {
  const { url, replicas } = cluster;
  // One legacy session per replica (initialize requests are balanced round robin).
  const legacy = [new LegacyCaller(url), new LegacyCaller(url), new LegacyCaller(url)];
  for (const caller of legacy) await caller.open();
  const owners = legacy.map((caller) => caller.session.split('.')[0]);
  assert.deepEqual([...owners].sort(), [...REPLICAS], `round robin spreads new sessions over the replicas, got sessions on ${owners.join(', ')}`);
  const modern = [new ModernCaller(url), new ModernCaller(url)];
  for (const caller of modern) await caller.open();

  let running = true;
  const loops = [...legacy, ...modern].map(async (caller) => {
    while (running) await caller.call();
  });
  const calls = () => [...legacy, ...modern].reduce((sum, caller) => sum + caller.answered, 0);
  const stopLoops = async () => {
    running = false;
    await Promise.all(loops);
  };

  try {
    // Before the kill: every session's calls reach its own replica (any other would answer 404).
    await until(() => (legacy.every((c) => c.answered >= 10) && modern.every((c) => c.answered >= 10) ? true : undefined), 'calls before the kill', 30_000);
    assert.equal(legacy.reduce((sum, c) => sum + c.reinitialized, 0), 0, 'no session was sent to a replica that does not hold it');

    const victim = replicas[1]!;
    const victimId = REPLICAS[1];
    const before = calls();
    process.kill(-victim.child.pid!, 'SIGKILL');
    assert.ok(await gone(victim.child.pid!), 'the replica was killed');

    const orphan = legacy[owners.indexOf(victimId)]!;
    const survivors = legacy.filter((caller) => caller !== orphan);
    const answeredAtKill = [...legacy, ...modern].map((c) => c.answered);
    // After the kill: every client goes on being answered, the orphaned session's by a new session.
    await until(
      () => ([...legacy, ...modern].every((c, i) => c.answered >= answeredAtKill[i]! + 20) ? true : undefined),
      'calls after the kill',
      60_000,
    );
    await stopLoops();

    assert.deepEqual(modern.flatMap((c) => c.failures), [], 'modern clients saw no error while a replica died');
    assert.deepEqual(legacy.flatMap((c) => c.failures), [], 'legacy clients saw no error but 404 (which they handle by initializing again)');
    assert.ok(orphan.reinitialized >= 1, 'the client whose replica died was told 404 and initialized a new session');
    assert.notEqual(orphan.session.split('.')[0], victimId, `the new session lives on a live replica, not ${victimId}`);
    for (const caller of survivors) {
      assert.equal(caller.reinitialized, 0, `a session on a live replica (${caller.session}) went on undisturbed`);
    }
    const everyone = [...legacy, ...modern];
    const attempted = everyone.reduce((sum, c) => sum + c.attempted, 0);
    const total = calls();
    assert.equal(total, attempted, `every call was answered (${attempted} made, ${total} answered)`);
    console.log(`scale: ${attempted} calls made, ${total} answered (${before} before the kill), ${orphan.reinitialized} re-initialize(s)`);
  } finally {
    await stopLoops();
    await Promise.all(legacy.map((caller) => caller.close().catch(() => {})));
    await Promise.all(modern.map((caller) => caller.client.close().catch(() => {})));
  }
}

test('deploy/haproxy/haproxy.cfg (compose): sessions routed by the replica in their id; a replica killed mid-run costs modern clients nothing, legacy clients a re-initialize', async () => {
  const cluster = await startCluster(join(ROOT, 'deploy/haproxy/haproxy.cfg'));
  try {
    await killOneReplicaMidRun(cluster);
  } finally {
    await cluster.stop();
  }
});

test("the Helm chart's HAProxy config: routes learned from initialize answers (server names unrelated to replica ids); the same kill", async () => {
  const rendered = (await renderChart()).find((m) => m.kind === 'ConfigMap' && m.metadata.name.endsWith('-haproxy')) as { data: Record<string, string> } | undefined;
  assert.ok(rendered, "the chart renders HAProxy's ConfigMap");
  const source = join(await mkdtemp(join(tmpdir(), 'switchboard-chart-haproxy-')), 'chart-haproxy.cfg');
  await writeFile(source, rendered.data['haproxy.cfg']!);
  const healthPort = await freePort();
  // Only the addresses change: fixed servers where Kubernetes DNS would fill the slots.
  const cluster = await startCluster(source, (text, hosts, port) => {
    const adapted = text
      .replace(/^(\s*)server-template .*$/m, (_line, indent: string) => hosts.map((host, i) => `${indent}server slot-${i + 1} ${host}`).join('\n'))
      .replace('bind *:8490', `bind 127.0.0.1:${port}`)
      .replace('bind *:8404', `bind 127.0.0.1:${healthPort}`);
    assert.doesNotMatch(adapted, /server-template|\*:8490|\*:8404/, 'every address was replaced');
    return adapted;
  });
  try {
    await killOneReplicaMidRun(cluster);
  } finally {
    await cluster.stop();
  }
});

/** An in-process plugin folder `prefix` in `dir`, with one tool `<prefix>_hi`. */
async function addPlugin(dir: string, prefix: string): Promise<void> {
  await mkdir(join(dir, prefix));
  await writeFile(
    join(dir, prefix, 'index.ts'),
    `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
export default { prefix: '${prefix}', server: () => {
  const server = new McpServer({ name: '${prefix}', version: '1.0.0' });
  server.registerTool('hi', {}, async () => ({ content: [{ type: 'text', text: 'hi from ${prefix}' }] }));
  return server;
} };
`,
  );
}

test('2026-07-28 listen streams through HAProxy: each replica announces the same list change; streams of a killed replica end, and listening again goes on', async () => {
  const shared = await mkdtemp(join(tmpdir(), 'switchboard-scale-plugins-'));
  const cluster = await startCluster(join(ROOT, 'deploy/haproxy/haproxy.cfg'), undefined, shared);
  const listeners: Array<{ client: V2Client; heard: number; relistened: number; subscription?: { close(): Promise<void> } }> = [];
  let running = true;
  const failures: string[] = [];
  try {
    for (let i = 0; i < REPLICAS.length; i++) {
      const client = new V2Client({ name: 'scale-listener', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
      await client.connect(new V2Transport(new URL(cluster.url)));
      const listener = { client, heard: 0, relistened: 0 } as (typeof listeners)[number];
      client.setNotificationHandler('notifications/tools/list_changed', () => void listener.heard++);
      listeners.push(listener);
    }
    // The listens one after another with nothing between them: round robin puts one on each replica.
    const listen = async (listener: (typeof listeners)[number]): Promise<void> => {
      const subscription = await listener.client.listen({ toolsListChanged: true });
      listener.subscription = subscription;
      void subscription.closed.then(async (why) => {
        if (why !== 'remote' || !running) return;
        listener.relistened++;
        await until(async () => (running ? await listen(listener).then(() => true, () => undefined) : true), 'listening again', 20_000).catch((error: Error) => failures.push(error.message));
      });
    };
    for (const listener of listeners) await listen(listener);

    await addPlugin(shared, 'first');
    await until(() => (listeners.every((l) => l.heard >= 1) ? true : undefined), 'every listen stream to hear tools/list_changed', 20_000);

    process.kill(-cluster.replicas[0]!.child.pid!, 'SIGKILL');
    assert.ok(await gone(cluster.replicas[0]!.child.pid!), 'the replica was killed');
    await until(() => (listeners.some((l) => l.relistened >= 1) ? true : undefined), 'the listen stream of the killed replica to end, and its client to listen again', 20_000);

    const heardBefore = listeners.map((l) => l.heard);
    await addPlugin(shared, 'second');
    await until(
      () => (listeners.every((l, i) => l.heard > heardBefore[i]!) ? true : undefined),
      'every listener, the one that listened again too, to hear the second change',
      20_000,
    );
    // Both live replicas serve the new plugin: round robin reaches each.
    const caller = listeners[1]!.client;
    for (let i = 0; i < 4; i++) assert.equal(textOf(await caller.callTool({ name: 'second_hi' })), 'hi from second');
    assert.deepEqual(failures, [], 'listening again succeeded');
  } finally {
    running = false;
    await Promise.all(listeners.map(async (l) => {
      await l.subscription?.close().catch(() => {});
      await l.client.close().catch(() => {});
    }));
    await cluster.stop();
  }
});

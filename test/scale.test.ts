/**
 * Scale-out behind a real load balancer: HAProxy (Debian's) with the shipped
 * deploy/haproxy/haproxy.cfg, round robin over 3 real proxy processes. SDK v2 clients
 * (2026-07-28, stateless) and SDK v1 clients (2025 sessions, routed by the replica named in
 * their session id) call continuously through it while one replica is killed (SIGKILL): the
 * modern clients see no error, the legacy client whose session was on the dead replica gets 404,
 * initializes a new session and retries, and every call is answered.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from '@modelcontextprotocol/client';
import { ROOT, freePort, gone, startProcess, textOf, until, type RunningProcess } from './helpers.ts';

const SERVING = /serving \d+ plugin\(s\) at (http:\/\/[^\s"]+)/;
const HELLO = 'Hello from the example MCP server!';
const REPLICAS = ['switchboard-1', 'switchboard-2', 'switchboard-3'] as const;
const HAPROXY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((path) => spawnSync(path, ['-v']).status === 0);

let replicas: RunningProcess[] = [];
let balancer: ChildProcess | undefined;
let balancerLog = '';
let url: string;

function startReplica(replicaId: string): Promise<RunningProcess> {
  return startProcess(process.execPath, ['--import', 'tsx', join(ROOT, 'core/main.ts'), 'serve', '--port', '0', '--host', '127.0.0.1', '--log-format', 'json', '--plugins', join(ROOT, 'plugins')], {
    env: { SWITCHBOARD_REPLICA_ID: replicaId, SWITCHBOARD_WATCH: 'false', SWITCHBOARD_PLUGIN_DIRS: '' },
    ready: SERVING,
  });
}

before(async () => {
  if (!HAPROXY) throw new Error('haproxy is not installed: apt-get install -y haproxy (.ci/run does it)');
  replicas = await Promise.all(REPLICAS.map(startReplica));
  const port = await freePort();
  const env: Record<string, string> = { SWITCHBOARD_LISTEN: `127.0.0.1:${port}` };
  replicas.forEach((replica, i) => (env[`SWITCHBOARD_${i + 1}`] = new URL(replica.url).host));
  // -db: foreground, logs to stdout; the shipped config, addresses from the environment.
  balancer = spawn(HAPROXY, ['-db', '-f', join(ROOT, 'deploy/haproxy/haproxy.cfg')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  balancer.stdout!.on('data', (chunk: Buffer) => (balancerLog += chunk.toString()));
  balancer.stderr!.on('data', (chunk: Buffer) => (balancerLog += chunk.toString()));
  url = `http://127.0.0.1:${port}/mcp`;
  await until(async () => {
    if (balancer!.exitCode !== null) throw new Error(`haproxy exited with deploy/haproxy/haproxy.cfg:\n${balancerLog}`);
    return (await fetch(url.replace('/mcp', '/healthz')).catch(() => undefined))?.ok ? true : undefined;
  }, 'HAProxy to answer');
});

after(async () => {
  if (balancer && balancer.exitCode === null) {
    const exited = new Promise((resolve) => balancer!.once('exit', resolve));
    balancer.kill('SIGTERM');
    await exited;
  }
  await Promise.all(replicas.map((replica) => replica.stop()));
});

/** A 2025-era client as real ones behave: on 404 for its session it initializes a new one and sends the call again. */
class LegacyCaller {
  client!: Client;
  transport!: StreamableHTTPClientTransport;
  readonly sessions: string[] = [];
  answered = 0;
  reinitialized = 0;
  readonly failures: string[] = [];

  async open(): Promise<void> {
    this.client = new Client({ name: 'scale-legacy', version: '1.0.0' });
    this.transport = new StreamableHTTPClientTransport(new URL(url));
    this.client.onerror = () => {}; // the standalone GET stream of a dead replica; the next call shows it
    await this.client.connect(this.transport);
    this.sessions.push(this.transport.sessionId!);
  }

  get session(): string {
    return this.sessions.at(-1)!;
  }

  async call(): Promise<void> {
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
  answered = 0;
  readonly failures: string[] = [];

  async open(): Promise<void> {
    this.client = new V2Client({ name: 'scale-modern', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await this.client.connect(new V2Transport(new URL(url)));
  }

  async call(): Promise<void> {
    try {
      const result = await this.client.callTool({ name: 'example_hello_world' });
      assert.equal(textOf(result), HELLO);
      this.answered++;
    } catch (error) {
      this.failures.push(String(error));
    }
  }
}

test('through HAProxy round robin, sessions stick to their replica; a replica killed mid-run costs modern clients nothing and legacy clients a re-initialize', async () => {
  // One legacy session per replica (initialize requests are balanced round robin).
  const legacy = [new LegacyCaller(), new LegacyCaller(), new LegacyCaller()];
  for (const caller of legacy) await caller.open();
  const owners = legacy.map((caller) => caller.session.split('.')[0]);
  assert.deepEqual([...owners].sort(), [...REPLICAS], `round robin spreads new sessions over the replicas, got sessions on ${owners.join(', ')}`);
  const modern = [new ModernCaller(), new ModernCaller()];
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
    const total = calls();
    assert.ok(total > before, 'calls went on after the kill');
    console.log(`scale: ${total} calls answered (${before} before the kill), ${orphan.reinitialized} re-initialize(s)`);
  } finally {
    await stopLoops();
    await Promise.all(legacy.map((caller) => caller.close().catch(() => {})));
    await Promise.all(modern.map((caller) => caller.client.close().catch(() => {})));
  }
});

/**
 * 2025 session ids name the replica that holds the session (`<replicaId>.<uuid>`), so a load
 * balancer can route on them; `replicaId` comes from config or SWITCHBOARD_REPLICA_ID (default:
 * the host name), and a replica handed another replica's session answers 404 naming both.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultReplicaId, newSessionId, replicaOf } from '../core/downstream/legacy/session-id.ts';
import { loadConfig } from '../core/config/config.ts';
import { ROOT, connect, startProxy, type RunningProxy } from './helpers.ts';

test('the default replica id is the host name first label, made a valid id', () => {
  assert.equal(defaultReplicaId('switchboard-7d9f-abcde'), 'switchboard-7d9f-abcde');
  assert.equal(defaultReplicaId('web-2.cluster.local'), 'web-2', 'the dot would end the replica part of a session id');
  assert.equal(defaultReplicaId('my host+1'), 'my-host-1');
  assert.equal(defaultReplicaId(''), 'switchboard');
  assert.equal(defaultReplicaId('x'.repeat(80)).length, 63);
});

test('a session id is <replicaId>.<uuid>, and the replica is read back from it', () => {
  const id = newSessionId('switchboard-2');
  assert.match(id, /^switchboard-2\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(replicaOf(id), 'switchboard-2');
  assert.equal(replicaOf('0b5e1c4e-6a59-4f7e-9a0e-8d7f5a1c2b3d'), undefined, 'an id without a replica part (another server, an older version)');
  assert.equal(replicaOf('.abc'), undefined);
  assert.equal(replicaOf('a b.abc'), undefined);
});

test('replicaId from the environment is checked: a dot is refused, naming the variable', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'switchboard-replica-'));
  assert.equal((await loadConfig({ cwd, env: { SWITCHBOARD_REPLICA_ID: 'switchboard-3' } })).replicaId, 'switchboard-3');
  assert.equal((await loadConfig({ cwd, env: {} })).replicaId, undefined, 'unset: the proxy uses the host name');
  await assert.rejects(loadConfig({ cwd, env: { SWITCHBOARD_REPLICA_ID: 'web.2' } }), /environment variable SWITCHBOARD_REPLICA_ID \(replicaId\): "web\.2" is not valid: must be 1 to 63 letters/);
});

let one: RunningProxy;
let two: RunningProxy;

before(async () => {
  [one, two] = await Promise.all([
    startProxy({ pluginDirs: [join(ROOT, 'plugins')], replicaId: 'replica-a', watch: false }),
    startProxy({ pluginDirs: [join(ROOT, 'plugins')], replicaId: 'replica-b', watch: false }),
  ]);
});

after(async () => {
  await Promise.all([one?.close(), two?.close()]);
});

test('a replica makes session ids with its replicaId; another replica answers such a session 404, naming both', async () => {
  const session = await connect(one.url);
  try {
    const id = session.transport.sessionId!;
    assert.equal(replicaOf(id), 'replica-a');
    const wrong = await fetch(two.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(wrong.status, 404, 'the client is told to initialize again');
    const { error } = await wrong.json();
    assert.equal(error.message, 'Session not found: it was opened on replica replica-a, which is gone or not reachable (this is replica replica-b); initialize a new session');
    assert.equal((await session.client.listTools()).tools.length > 0, true, 'on its own replica the session works');
  } finally {
    await session.close();
  }
});

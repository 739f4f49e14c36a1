/**
 * deploy/compose.yaml agrees with deploy/haproxy/haproxy.cfg: every replica's
 * SWITCHBOARD_REPLICA_ID is the name of a HAProxy `server` whose address variable points at that
 * replica (HAProxy routes a 2025 session by that name), and Compose itself accepts the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './helpers.ts';
import { REPLICA_ID_PATTERN } from '../core/downstream/legacy/session-id.ts';

const COMPOSE = join(ROOT, 'deploy/compose.yaml');
const HAPROXY_CFG = join(ROOT, 'deploy/haproxy/haproxy.cfg');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
}

test('each compose replica is a HAProxy server of its own replica id, and HAProxy reaches it by its service name', async () => {
  const compose = parse(await readFile(COMPOSE, 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const cfg = await readFile(HAPROXY_CFG, 'utf8');
  const servers = new Map([...cfg.matchAll(/^\s*server\s+(\S+)\s+"\$\{(\w+)\}"/gm)].map((m) => [m[1]!, m[2]!]));
  const replicas = Object.entries(compose.services).filter(([, service]) => service.environment?.SWITCHBOARD_REPLICA_ID);
  assert.ok(replicas.length >= 2, `compose.yaml runs several replicas, found ${replicas.length}`);
  const haproxy = compose.services.haproxy;
  assert.ok(haproxy?.volumes?.some((v) => v.startsWith('./haproxy/haproxy.cfg:')), 'the HAProxy service uses deploy/haproxy/haproxy.cfg');
  assert.deepEqual(haproxy.ports, ['8490:8490']);

  for (const [name, service] of replicas) {
    const id = service.environment!.SWITCHBOARD_REPLICA_ID!;
    assert.match(id, REPLICA_ID_PATTERN);
    const variable = servers.get(id);
    assert.ok(variable, `haproxy.cfg has a server named ${id} (replica ${name}'s id), or its sessions would never be routed back to it`);
    assert.equal(haproxy.environment?.[variable], `${name}:8490`, `${variable} points HAProxy's server ${id} at the service ${name}`);
    assert.ok(service.volumes?.includes('./plugins-mounted:/plugins:ro'), `replica ${name} serves the shared plugin folder`);
  }
  assert.equal(servers.size, replicas.length, `as many HAProxy servers (${[...servers.keys()].join(', ')}) as replicas`);
});

test('Compose accepts the file (docker compose config, or docker-compose where the plugin is missing)', (t) => {
  const attempts: Array<[string, string[]]> = [
    ['docker', ['compose', '-f', COMPOSE, 'config', '--quiet']],
    ['docker-compose', ['-f', COMPOSE, 'config', '--quiet']],
  ];
  for (const [command, args] of attempts) {
    const result = spawnSync(command, args, { encoding: 'utf8' });
    if (result.error || /unknown command|is not a docker command|unknown shorthand flag/i.test(result.stderr)) continue; // this one is not installed
    assert.equal(result.status, 0, `${command} ${args.join(' ')} refused deploy/compose.yaml:\n${result.stdout}${result.stderr}`);
    return;
  }
  t.skip('neither the docker compose plugin nor docker-compose is installed (apt-get install -y docker-compose)');
});

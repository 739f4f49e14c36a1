/**
 * The Helm chart (deploy/helm/mcp-switchboard), offline: `helm lint --strict` with the real helm
 * (unpacked from an npm package, see scale-helm.ts), its values schema refusing bad values, and
 * every object `helm template` renders validated against the Kubernetes OpenAPI schemas
 * (kubernetes-models), with the parts the design needs checked one by one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHART, renderChart, runHelm, type Manifest } from './scale-helm.ts';

/** Validates an object against its kind's schema; throws naming the object and the field. */
async function validate(manifest: Manifest): Promise<void> {
  const path = `kubernetes-models/${manifest.apiVersion}/${manifest.kind}`;
  const module = (await import(path).catch(() => {
    throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind} (${manifest.metadata.name}): not a Kubernetes kind?`);
  })) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = module[manifest.kind]!;
  try {
    new Model(manifest).validate();
  } catch (error) {
    throw new Error(`${manifest.kind} ${manifest.metadata.name} is not valid: ${(error as Error).message}`);
  }
}

function find(manifests: Manifest[], kind: string, name: string): Manifest & { spec: any; data?: Record<string, string> } {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  assert.ok(found, `the chart renders ${kind} ${name}; it rendered ${manifests.map((m) => `${m.kind} ${m.metadata.name}`).join(', ')}`);
  return found as Manifest & { spec: any };
}

test('helm lint --strict passes on the chart', async () => {
  const output = await runHelm(['lint', '--strict', CHART]);
  assert.match(output, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

test('the values schema refuses a bad value, naming it', async () => {
  await assert.rejects(runHelm(['lint', '--strict', CHART, '--set', 'replicaCount=0']), (error: Error & { stdout?: string; stderr?: string }) => {
    assert.match(`${error.stdout}${error.stderr}`, /replicaCount/);
    return true;
  });
  await assert.rejects(runHelm(['template', 'sb', CHART, '--set', 'haproxy.replicas=2']), /haproxy|replicas/, 'a misspelt key is refused, not ignored');
});

test('every rendered object is valid Kubernetes (default values, and HAProxy off with a plugins volume)', async () => {
  for (const args of [[], ['--set', 'haproxy.enabled=false', '--set', 'plugins.volume.persistentVolumeClaim.claimName=plugins', '--set', 'haproxy.podDisruptionBudget.enabled=true']]) {
    const manifests = await renderChart(args);
    assert.ok(manifests.length >= 4, `helm template ${args.join(' ')} rendered ${manifests.length} objects`);
    for (const manifest of manifests) await validate(manifest);
  }
});

test('the proxy Deployment: replicas, probes on /healthz and /readyz, resources, config from a ConfigMap, the pod name as replica id', async () => {
  const manifests = await renderChart(['--set', 'plugins.volume.configMap.name=my-plugins']);
  const deployment = find(manifests, 'Deployment', 'sb-mcp-switchboard');
  assert.equal(deployment.spec.replicas, 3);
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  assert.equal(container.livenessProbe.httpGet.path, '/healthz');
  assert.equal(container.startupProbe.httpGet.path, '/healthz');
  assert.equal(container.readinessProbe.httpGet.path, '/readyz');
  assert.ok(container.resources.requests.cpu && container.resources.requests.memory, 'resource requests are set');
  const replicaId = container.env.find((e: { name: string }) => e.name === 'SWITCHBOARD_REPLICA_ID');
  assert.equal(replicaId?.valueFrom?.fieldRef?.fieldPath, 'metadata.name', 'session ids start with the pod name, which HAProxy learns');
  assert.equal(container.env.find((e: { name: string }) => e.name === 'SWITCHBOARD_CONFIG')?.value, '/config/switchboard.config.json');
  assert.deepEqual(
    container.volumeMounts.map((m: { mountPath: string }) => m.mountPath),
    ['/config', '/tmp', '/plugins'],
  );
  assert.equal(pod.volumes.find((v: { name: string }) => v.name === 'plugins').configMap.name, 'my-plugins', 'the plugins volume source is used as given');

  const config = JSON.parse(find(manifests, 'ConfigMap', 'sb-mcp-switchboard').data!['switchboard.config.json']!);
  assert.ok(config.allowedHosts.includes('sb-mcp-switchboard-haproxy.mcp.svc'), 'clients reaching HAProxy by its Service name are not refused as DNS rebinding');
  assert.equal(config.requestTimeoutMs, 60000, 'the values config is kept');
  assert.match(deployment.spec.template.metadata.annotations['checksum/config'], /^[0-9a-f]{64}$/, 'a config change rolls the pods');

  const pdb = find(manifests, 'PodDisruptionBudget', 'sb-mcp-switchboard');
  assert.equal(pdb.spec.minAvailable, 1);
  assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels, 'the PodDisruptionBudget covers the proxy pods');
});

test('HAProxy: fronts the pods found through a headless Service, and its config is one HAProxy accepts', async () => {
  const manifests = await renderChart();
  const headless = find(manifests, 'Service', 'sb-mcp-switchboard-pods');
  assert.equal(headless.spec.clusterIP, 'None');
  const proxyPods = find(manifests, 'Deployment', 'sb-mcp-switchboard').spec.template.metadata.labels;
  assert.deepEqual(headless.spec.selector, proxyPods, 'the headless Service selects the proxy pods');
  const service = find(manifests, 'Service', 'sb-mcp-switchboard-haproxy');
  const haproxy = find(manifests, 'Deployment', 'sb-mcp-switchboard-haproxy');
  assert.deepEqual(service.spec.selector, haproxy.spec.template.metadata.labels);
  const cfg = find(manifests, 'ConfigMap', 'sb-mcp-switchboard-haproxy').data!['haproxy.cfg']!;
  assert.match(cfg, /server-template switchboard 10 sb-mcp-switchboard-pods\.mcp\.svc\.cluster\.local:8490/);
  assert.match(cfg, /stick store-response res\.hdr\(mcp-session-id\),field\(1,\.\)/);

  const haproxyBinary = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((path) => spawnSync(path, ['-v']).status === 0);
  assert.ok(haproxyBinary, 'haproxy is installed (apt-get install -y haproxy; .ci/run does it)');
  const file = join(await mkdtemp(join(tmpdir(), 'switchboard-chart-')), 'haproxy.cfg');
  await writeFile(file, cfg);
  const check = spawnSync(haproxyBinary, ['-c', '-f', file], { encoding: 'utf8' });
  assert.equal(check.status, 0, `haproxy -c refuses the chart's config:\n${check.stdout}${check.stderr}`);

  const without = await renderChart(['--set', 'haproxy.enabled=false']);
  assert.ok(!without.some((m) => m.metadata.name.endsWith('-haproxy')), 'haproxy.enabled=false renders no HAProxy');
});

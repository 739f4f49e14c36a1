/**
 * Plugin folders the benchmarks mount, written to temporary directories (removed by
 * removeTempDirs at the end). The example plugin comes from the default `plugins/`, which the
 * proxy always searches; these add to it.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './processes.ts';

const made: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-bench-'));
  made.push(dir);
  return dir;
}

/** A folder with one remote plugin `PREFIX` -> `url`. */
export async function remotePluginDir(url: string, prefix = 'remote'): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, prefix));
  await writeFile(join(dir, prefix, 'plugin.json'), JSON.stringify({ prefix, remote: { url } }));
  return dir;
}

/** A folder with one in-process plugin `big` serving `tools` generated tools (bench/big-tools.ts). */
export async function bigPluginDir(tools: number): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, 'big'));
  const module = pathToFileURL(join(ROOT, 'bench', 'big-tools.ts')).href;
  await writeFile(join(dir, 'big', 'index.ts'), `import { bigPlugin } from ${JSON.stringify(module)};\nexport default bigPlugin(${tools});\n`);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

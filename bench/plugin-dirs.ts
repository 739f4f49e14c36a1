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

/** The tests' fixture plugin (prefix `fx`, with an `echo` tool): mounted in-process and served bare. */
export const FIXTURE_PLUGIN = join(ROOT, 'test', 'fixtures', 'plugins', 'fixture', 'index.ts');

/** A folder with one in-process plugin `fx`: the tests' fixture plugin (FIXTURE_PLUGIN), re-exported. */
export async function fixturePluginDir(): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, 'fx'));
  await writeFile(join(dir, 'fx', 'index.ts'), `export { default } from ${JSON.stringify(pathToFileURL(FIXTURE_PLUGIN).href)};\n`);
  return dir;
}

/**
 * A folder of `count` in-process plugins `p00`, `p01`, ... each serving `tools` generated tools
 * (bench/big-tools.ts); with `count` 1, one plugin `big`. Resolves with the
 * folder and the plugins' module files (a bare server can serve one of them too).
 */
export async function generatedPluginsDir(count: number, tools: number): Promise<{ dir: string; modules: string[] }> {
  const dir = await tempDir();
  const width = String(count - 1).length;
  const source = pathToFileURL(join(ROOT, 'bench', 'big-tools.ts')).href;
  const modules = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const name = count === 1 ? 'big' : `p${String(i).padStart(Math.max(2, width), '0')}`;
      await mkdir(join(dir, name));
      const module = join(dir, name, 'index.ts');
      await writeFile(module, `import { bigPlugin } from ${JSON.stringify(source)};\nexport default bigPlugin(${tools}, ${JSON.stringify(name)});\n`);
      return module;
    }),
  );
  return { dir, modules };
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

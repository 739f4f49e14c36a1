// The core, precompiled for a Node that cannot run its TypeScript itself (Node 20; any Node when
// the package is installed under node_modules, where Node does not strip types). Without it, tsx
// compiles every core file and Node 20 sends every import of the process (about 1,100 files,
// the dependencies' too) through tsx's hooks thread: importing the core took 0.71-0.75 s,
// against 0.45-0.59 s for this bundle (issue 11's measurements, README: Performance).
//
// Like Vite's dependency pre-bundling, it needs no build step of the user: the first start
// bundles core/ with esbuild (already installed, tsx uses it) into
// node_modules/.cache/mcp-switchboard/core-<hash>/, and every start after it whose sources are
// the same imports that. The hash covers every core file, tsconfig.json, package.json, the
// package's place, esbuild's version and this file, so an edited core is rebuilt at its next
// start (about 0.2 s). The dependencies stay where they are, imported by name: plugins share
// them with the core.
//
// Plain JavaScript: it runs before anything can load TypeScript.
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Bump to rebuild every cached core when the build below changes in a way the hash cannot see. */
const FORMAT = 1;
/** Cached cores not used for this long are removed when another is built. */
const STALE_MS = 24 * 60 * 60 * 1000;
/** How often a running proxy marks its core used (keepInUse), well within STALE_MS. */
const IN_USE_MS = 60 * 60 * 1000;
/** Written last into a build: a folder without it is not a cached core (a build cut short). */
const COMPLETE = 'complete.json';

/**
 * The precompiled core of the package at `appRoot`, built into `cacheRoot` unless it is there.
 * Resolves with the file URLs of its `main` (core/main.ts) and `index` (core/index.ts, what
 * plugins import as `mcp-switchboard`).
 * @param {{ appRoot: string, cacheRoot: string }} options
 * @returns {Promise<{ main: string, index: string, built: boolean, dir: string }>}
 */
export async function precompiledCore({ appRoot, cacheRoot }) {
  // esbuild itself is loaded only to build: its version is in its package.json.
  const esbuildVersion = JSON.parse(await readFile(createRequire(import.meta.url).resolve('esbuild/package.json'), 'utf8')).version;
  const coreDir = join(appRoot, 'core');
  const sources = (await readdir(coreDir, { recursive: true })).filter((file) => file.endsWith('.ts')).sort();
  // The package's place too: the bundle holds each source file's URL (keepModuleUrls), so a
  // moved or copied checkout, which takes its node_modules along, must not run the old one's.
  const hash = createHash('sha256').update(`format ${FORMAT}\nesbuild ${esbuildVersion}\n${pathToFileURL(appRoot).href}\n`);
  hash.update(await readFile(new URL(import.meta.url)));
  for (const file of ['tsconfig.json', 'package.json']) hash.update(`\0${file}\0`).update(await readFile(join(appRoot, file)).catch(() => ''));
  const contents = await Promise.all(sources.map((file) => readFile(join(coreDir, file))));
  sources.forEach((file, i) => hash.update(`\0${file}\0`).update(contents[i]));
  const dir = join(cacheRoot, `core-${hash.digest('hex').slice(0, 20)}`);
  const urls = { main: pathToFileURL(join(dir, 'main.js')).href, index: pathToFileURL(join(dir, 'index.js')).href, dir };
  if (await exists(join(dir, COMPLETE))) {
    await markUsed(dir);
    return { ...urls, built: false };
  }
  // A folder without its completion mark was cut short (or tampered with): built again.
  await rm(dir, { recursive: true, force: true });

  // Built beside its final place and renamed into it: a start that finds the folder finds all
  // of it, and of two starts building at once, the second to finish keeps the first's.
  const building = `${dir}.${process.pid}-${randomBytes(4).toString('hex')}.building`;
  await mkdir(cacheRoot, { recursive: true });
  const esbuild = await import('esbuild');
  try {
    await esbuild.build({
      absWorkingDir: appRoot,
      entryPoints: { main: join(coreDir, 'main.ts'), index: join(coreDir, 'index.ts') },
      outdir: building,
      bundle: true,
      // Lazily imported core modules (the 2026 front door, `check`) stay separate chunks, loaded when needed.
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20.19',
      // The dependencies are imported by name from the package, as before: one SDK, one zod for core and plugins.
      packages: 'external',
      sourcemap: 'linked',
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [keepModuleUrls],
    });
    await writeFile(join(building, COMPLETE), `${JSON.stringify({ format: FORMAT, esbuild: esbuildVersion, appRoot, builtAt: new Date().toISOString() })}\n`);
    await rename(building, dir).catch(async (error) => {
      if (!(await exists(join(dir, COMPLETE)))) throw error;
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  await removeStale(cacheRoot, dir);
  return { ...urls, built: true };
}

/**
 * Core modules find files beside them (package.json, the status page, the import hooks) with
 * `import.meta.url`; in the bundle it stays each source file's own URL.
 * @type {import('esbuild').Plugin}
 */
const keepModuleUrls = {
  name: 'keep-module-urls',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
      const contents = (await readFile(path, 'utf8')).replaceAll('import.meta.url', JSON.stringify(pathToFileURL(path).href));
      // Any other import.meta (dirname, filename, resolve) would silently mean the cache folder.
      const other = /\bimport\.meta\b.{0,20}/.exec(contents);
      if (other) throw new Error(`${path}: "${other[0]}" cannot be kept in the precompiled core; only import.meta.url can`);
      return { contents, loader: 'ts' };
    });
  },
};

/**
 * Keeps the cached core in `dir` marked used while this process runs (an unref'd timer), so
 * that another start, which prunes cores unused for a day, does not remove it: a running proxy
 * still imports chunks of it on first need (the 2026 front door, `check`).
 * @param {string} dir
 */
export function keepInUse(dir) {
  setInterval(() => void markUsed(dir), IN_USE_MS).unref();
}

/** @param {string} dir */
async function markUsed(dir) {
  const now = new Date();
  await utimes(dir, now, now).catch(() => {});
}

/** @param {string} path */
async function exists(path) {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Removes the other cached cores that no start used for a day: a proxy still running from one
 * may yet import its lazily loaded chunks.
 * @param {string} cacheRoot
 * @param {string} keep
 */
async function removeStale(cacheRoot, keep) {
  for (const entry of await readdir(cacheRoot).catch(() => [])) {
    const path = join(cacheRoot, entry);
    if (path === keep || !entry.startsWith('core-')) continue;
    const info = await stat(path).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > STALE_MS) await rm(path, { recursive: true, force: true }).catch(() => {});
  }
}

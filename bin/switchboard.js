#!/usr/bin/env node
// The `switchboard` command. The core is TypeScript run without a build step: by Node itself
// where it strips types (22.18+, 24); elsewhere (Node 20, and any Node for an installed package,
// as Node does not strip types under node_modules) precompiled into a cache at the first start
// (precompile.js). Either way tsx, which costs a few hundred milliseconds, is registered only
// for a .ts config file or the first plugin that needs it (core/typescript.ts).
// SWITCHBOARD_CORE_CACHE=off runs the TypeScript sources through tsx instead.
import nodeModule from 'node:module';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Node 22.1+ keeps the code it compiled on disk (os.tmpdir()/node-compile-cache, or
// NODE_COMPILE_CACHE), so a later start skips compiling most of the core and its dependencies:
// on Node 24, start-up went from about 1.7 s to 1.2 s. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
nodeModule.enableCompileCache?.();

const LAUNCH = Symbol.for('mcp-switchboard.launch');
const appRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const stripsTypes = Boolean(process.features.typescript);
const cacheSetting = process.env.SWITCHBOARD_CORE_CACHE;

/** The TypeScript sources through tsx, registered before any of them loads. */
async function runSources() {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../core/main.ts');
}

if (stripsTypes && !import.meta.url.includes('/node_modules/')) {
  globalThis[LAUNCH] = { stripsTypes };
  await import('../core/main.ts');
} else if (cacheSetting === 'off') {
  await runSources();
} else {
  if (cacheSetting) process.stderr.write(`switchboard: SWITCHBOARD_CORE_CACHE="${cacheSetting}" is not understood (only "off" is); using the precompiled core\n`);
  const { precompiledCore, keepInUse } = await import('./precompile.js');
  // Inside the package's node_modules: the bundle imports the dependencies by name from there.
  const cacheRoot = join(appRoot, 'node_modules', '.cache', 'mcp-switchboard');
  const core = await precompiledCore({ appRoot, cacheRoot }).catch((error) => {
    process.stderr.write(`switchboard: could not precompile the core into ${cacheRoot} (${error?.message ?? error}); running its TypeScript through tsx, which starts slower. SWITCHBOARD_CORE_CACHE=off does so without trying.\n`);
  });
  if (!core) {
    await runSources();
  } else {
    keepInUse(core.dir);
    globalThis[LAUNCH] = { stripsTypes, selfEntry: core.index };
    try {
      await import(core.main);
    } catch (error) {
      // A file of the cached core missing: Node links every static import before it runs any, so nothing has run yet.
      if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.url).startsWith(pathToFileURL(core.dir).href)) throw error;
      process.stderr.write(`switchboard: the precompiled core in ${core.dir} is incomplete (${error.message}); removed it, and running the TypeScript sources through tsx this time\n`);
      await rm(core.dir, { recursive: true, force: true });
      delete globalThis[LAUNCH];
      await runSources();
    }
  }
}

#!/usr/bin/env node
// The `switchboard` command. The core is TypeScript run without a build step: by Node itself
// where it strips types (22.18+, 24), with tsx otherwise, registered here. Node does not strip
// types under node_modules, so an installed package uses tsx too. There, plugins are tried on
// type stripping first, and tsx is registered for a .ts config file or the first plugin that
// needs it (core/typescript.ts).
import nodeModule from 'node:module';

// Node 22.1+ keeps the code it compiled on disk (os.tmpdir()/node-compile-cache, or
// NODE_COMPILE_CACHE), so a later start skips compiling most of the core and its dependencies:
// on Node 24, start-up went from about 1.7 s to 1.2 s. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
nodeModule.enableCompileCache?.();

if (process.features.typescript && !import.meta.url.includes('/node_modules/')) {
  globalThis[Symbol.for('mcp-switchboard.tsx-deferred')] = true;
} else {
  const { register } = await import('tsx/esm/api');
  register();
}
await import('../core/main.ts');

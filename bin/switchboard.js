#!/usr/bin/env node
// The `switchboard` command. The core is TypeScript run without a build step: by Node itself
// where it strips types (22.18+, 24), with tsx otherwise, registered here. Node does not strip
// types under node_modules, so an installed package uses tsx too. Plugins and .ts config files
// always get tsx (core/typescript.ts registers it before the first is imported).
if (process.features.typescript && !import.meta.url.includes('/node_modules/')) {
  globalThis[Symbol.for('mcp-switchboard.tsx-deferred')] = true;
} else {
  const { register } = await import('tsx/esm/api');
  register();
}
await import('../core/main.ts');

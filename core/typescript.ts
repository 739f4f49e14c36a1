/**
 * TypeScript for plugin code and `.ts` config files, and the import hooks (import-hooks.ts)
 * they are loaded under.
 *
 * The core is TypeScript that needs no transform beyond removing types (tsconfig's
 * `erasableSyntaxOnly`). Where Node strips types itself (22.18+, 24: `process.features.typescript`),
 * `bin/switchboard.js` runs the core that way and defers tsx, which costs a few hundred
 * milliseconds of start-up. Plugins and config files may use what stripping cannot run (enums,
 * parameter properties, `./x.js` meaning `./x.ts`, tsconfig paths), so tsx is registered before
 * the first of them is imported. Started any other way (`node --import tsx`, `tsx`, an embedder),
 * whoever started the process arranged TypeScript already, and only the import hooks are added.
 */
import * as nodeModule from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set on `globalThis` by bin/switchboard.js when it left tsx to this module. */
const DEFERRED = Symbol.for('mcp-switchboard.tsx-deferred');

/** The package's root, which the shared packages (the SDK, zod) resolve from. */
const appRoot = dirname(dirname(fileURLToPath(import.meta.url)));

/** Registered once, before the first plugin or config file is imported (plugins load in parallel). */
let registering: Promise<void> | undefined;

/** Resolves once TypeScript files of any kind can be imported, under the proxy's import hooks. */
export function typeScriptLoader(): Promise<void> {
  registering ??= registerTsx().then(registerImportHooks);
  return registering;
}

async function registerTsx(): Promise<void> {
  if ((globalThis as Record<symbol, unknown>)[DEFERRED] !== true) return;
  // Both halves, as `node --import tsx` registers them: plugin code may require() TypeScript too
  // (the import hooks below make plugin files ES modules, not what those files require).
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  esm.register();
  cjs.register();
}

/** `module.registerHooks` (Node 22.15+), which the Node 20 types do not know. */
type RegisterHooks = (hooks: { resolve: typeof import('./plugins/import-hooks.ts').resolveSync }) => unknown;

async function registerImportHooks(): Promise<void> {
  const registerHooks = (nodeModule as { registerHooks?: RegisterHooks }).registerHooks;
  if (registerHooks) {
    const hooks = await import('./plugins/import-hooks.ts');
    await hooks.initialize({ appRoot });
    registerHooks({ resolve: hooks.resolveSync });
  } else {
    nodeModule.register(new URL('./plugins/import-hooks.ts', import.meta.url), { data: { appRoot } });
  }
}

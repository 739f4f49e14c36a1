/**
 * TypeScript for plugin code and `.ts` config files, and the import hooks (import-hooks.ts)
 * they are loaded under.
 *
 * The core is TypeScript that needs no transform beyond removing types (tsconfig's
 * `erasableSyntaxOnly`). Where Node strips types itself (22.18+, 24: `process.features.typescript`),
 * `bin/switchboard.js` runs the core that way; elsewhere (Node 20, an installed package) it runs
 * the core precompiled (bin/precompile.js). Either way it defers tsx, which costs a few hundred
 * milliseconds of start-up, to this module. Without type stripping, plugin TypeScript gets tsx
 * at the first plugin. With it, plugins are imported the same way first: most plugin code is
 * erasable TypeScript too. A plugin that uses what stripping cannot run (enums, parameter
 * properties, `./x.js` meaning `./x.ts`, tsconfig paths, JSX) fails to load before any of its
 * code ran; tsx is registered then, and the plugin imported again through it, as is every
 * plugin after it. `.ts` config files always get tsx. Started any other way (`node --import tsx`,
 * `tsx`, an embedder), whoever started the process arranged TypeScript already, and only the
 * import hooks are added.
 */
import * as nodeModule from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveSync, initialize, stripTypesNatively } from './plugins/import-hooks.ts';

/**
 * Set on `globalThis` by bin/switchboard.js when it left tsx to this module: whether Node strips
 * types itself, and where `mcp-switchboard` resolves for plugins when the core runs precompiled
 * (bin/precompile.js), so that they share the running core's modules.
 */
interface Launch {
  stripsTypes: boolean;
  selfEntry?: string;
}
const launch = (globalThis as Record<symbol, Launch | undefined>)[Symbol.for('mcp-switchboard.launch')];

/** The package's root, which the shared packages (the SDK, zod) resolve from. */
const appRoot = dirname(dirname(fileURLToPath(import.meta.url)));

/** `module.registerHooks` (Node 22.15+), which the Node 20 types do not know. */
type RegisterHooks = (hooks: { resolve: typeof resolveSync }) => unknown;
const registerHooks = (nodeModule as { registerHooks?: RegisterHooks }).registerHooks;

const selfEntry = launch?.selfEntry;

let hooks: Promise<void> | undefined;
let tsx: Promise<void> | undefined;

/** Resolves once TypeScript files of any kind can be imported, under the proxy's import hooks. */
export async function typeScriptLoader(): Promise<void> {
  await registerTsx();
  await importHooks();
}

/**
 * Imports a plugin's code (`url`, a file URL). Where Node strips types and tsx is not registered
 * yet, Node's own stripping is tried first; `retryUrl` is the URL to import through tsx if that
 * fails (another URL: Node keeps a failed import's result).
 */
export async function importPluginCode(url: string, retryUrl: () => string): Promise<unknown> {
  await importHooks();
  if (!tsx && launch?.stripsTypes && registerHooks) {
    stripTypesNatively(true);
    try {
      return await import(url);
    } catch (error) {
      if (!tsxMayLoad(error)) throw error;
    }
    await typeScriptLoader();
    return import(retryUrl());
  }
  await typeScriptLoader();
  return import(url);
}

/**
 * Whether an import failed where tsx may succeed: Node's type stripping refused the code, or a
 * module was not found (`./x.js` for `./x.ts`, a tsconfig path), or linking failed (a
 * type-only import without `type`). All of these happen before any of the plugin's code runs.
 */
function tsxMayLoad(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^ERR_(?:UNSUPPORTED_TYPESCRIPT_SYNTAX|INVALID_TYPESCRIPT_SYNTAX|MODULE_NOT_FOUND|UNKNOWN_FILE_EXTENSION|UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING|UNSUPPORTED_DIR_IMPORT|REQUIRE_ESM)$/.test(code)) return true;
  return error instanceof SyntaxError;
}

function registerTsx(): Promise<void> {
  tsx ??= (async () => {
    if (!launch) return;
    // Both halves, as `node --import tsx` registers them: plugin code may require() TypeScript too
    // (the import hooks make plugin files ES modules, not what those files require).
    const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    esm.register();
    cjs.register();
    stripTypesNatively(false);
  })();
  return tsx;
}

/**
 * Resolves once the proxy's import hooks are registered (without tsx where Node has in-thread
 * hooks): JavaScript config files need them too, so that `mcp-switchboard` and the SDK they
 * import are the running proxy's (a precompiled core's `mcp-switchboard` is not TypeScript).
 */
export function importHooks(): Promise<void> {
  hooks ??= (async () => {
    if (registerHooks) {
      await initialize({ appRoot, selfEntry });
      registerHooks({ resolve: resolveSync });
    } else {
      // The hooks thread loads this TypeScript file through tsx, so tsx is registered first.
      await registerTsx();
      nodeModule.register(new URL('./plugins/import-hooks.ts', import.meta.url), { data: { appRoot, selfEntry } });
    }
  })();
  return hooks;
}

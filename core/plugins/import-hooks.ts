/**
 * Module resolution hooks for plugin code (registered once by load.ts): in the loading thread
 * where Node has `module.registerHooks` (22.15+, 24), else on Node's hooks thread
 * (`module.register`). In-thread hooks cost nothing per import; on the hooks thread every later
 * import, the proxy's and the plugins', waits for a message to another thread and back.
 *
 * 1. `@modelcontextprotocol/sdk` (v1), `@modelcontextprotocol/server`, `/client`, `/core`, `/node` (v2),
 *    `zod` and `mcp-switchboard` always resolve to the proxy's own copies, so a plugin folder mounted from anywhere (a container volume, say) can import them
 *    without a node_modules of its own, and the process holds one SDK instance.
 * 2. TypeScript files outside any node_modules are ES modules, even in a folder with no
 *    package.json (where tsx would otherwise compile them to CommonJS and break top-level await;
 *    Node's own type stripping would guess from the syntax). So is a `.js` file there whose
 *    package.json (if any) says no `type` and that uses `import`/`export`: Node 22.7+ decides so
 *    from the syntax; Node 20 would load it as CommonJS (tsx then nests its default export one
 *    level down, or Node refuses a `require()` of it in a cycle).
 * 3. A reload imports a plugin's entry with `?switchboard-v=N`; the files it imports (outside
 *    node_modules) get the same parameter, so the whole plugin is read afresh, not only its entry.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
type ResolveContext = { parentURL?: string };
type NextResolve = (specifier: string, context: ResolveContext) => Promise<ResolveResult>;

const SHARED = /^(?:@modelcontextprotocol\/(?:sdk|server|client|core|node)|zod|mcp-switchboard)(?:\/|$)/;
const TYPESCRIPT = /\.(?:ts|tsx|mts)$/;

let appPackage = '';
/** Where `mcp-switchboard` itself resolves when the core runs precompiled (bin/switchboard.js on Node 20). */
let selfEntry: string | undefined;
/** Whether plugin TypeScript is left to Node's own type stripping (typescript.ts), not tsx. */
let native = false;

/** Point 2's format: TypeScript for Node to strip (22.18+, 24), or a module for tsx to compile. */
export function stripTypesNatively(on: boolean): void {
  native = on;
}

export async function initialize(data: { appRoot: string; selfEntry?: string }): Promise<void> {
  appPackage = pathToFileURL(`${data.appRoot}/package.json`).href;
  selfEntry = data.selfEntry;
}

/** The resolve hook for `module.register` (after `initialize`). */
export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<ResolveResult> {
  if (selfEntry && specifier === 'mcp-switchboard') return { url: selfEntry, format: 'module', shortCircuit: true };
  if (SHARED.test(specifier)) return next(specifier, { ...context, parentURL: appPackage });
  return adjust(await next(specifier, context), context.parentURL);
}

/** The same hook for `module.registerHooks`, where the next hook answers at once. */
export function resolveSync(specifier: string, context: ResolveContext, next: (specifier: string, context: ResolveContext) => ResolveResult): ResolveResult {
  if (selfEntry && specifier === 'mcp-switchboard') return { url: selfEntry, format: 'module', shortCircuit: true };
  if (SHARED.test(specifier)) return next(specifier, { ...context, parentURL: appPackage });
  return adjust(next(specifier, context), context.parentURL);
}

/** Points 2 and 3 above, on what the next hook resolved. */
function adjust(next: ResolveResult, parentURL: string | undefined): ResolveResult {
  const resolved = withVersion(next, parentURL);
  // tsx on Node 20 says 'commonjs' for such a file; Node 22+ may say nothing, or 'commonjs-typescript'.
  if (resolved.format === 'module' || resolved.format === 'module-typescript' || !resolved.url.startsWith('file:')) return resolved;
  // tsx marks the CommonJS view of a file with query parameters; the file itself is what we load.
  const path = fileURLToPath(resolved.url.replace(/(?:%3F|\?).*$/, ''));
  if (/[\\/]node_modules[\\/]/.test(path)) return resolved;
  const typeScript = TYPESCRIPT.test(path);
  // The syntax first: it is remembered per file, while the package.json walk would be done again on every import of a CommonJS file.
  if (!typeScript && !(path.endsWith('.js') && hasModuleSyntax(path) && typeless(path))) return resolved;
  const url = pathToFileURL(path);
  const version = versionOf(resolved.url);
  if (version) url.searchParams.set(VERSION, version);
  return { ...resolved, url: url.href, format: typeScript && native ? 'module-typescript' : 'module' };
}

/** Whether the package.json nearest to `path`, if there is one, leaves its `type` unsaid. */
function typeless(path: string): boolean {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, 'package.json'), 'utf8');
    } catch {
      // none here: look further up
    }
    if (text !== undefined) {
      try {
        return (JSON.parse(text) as { type?: unknown }).type === undefined;
      } catch {
        return true;
      }
    }
    if (dirname(dir) === dir) return true;
  }
}

/**
 * The messages V8 gives ES module syntax compiled as a CommonJS function body: the ones Node 22+
 * retries as an ES module on (its syntax detection), the declarations that clash only with
 * CommonJS's own names among them.
 */
const MODULE_SYNTAX = new RegExp(
  `^(?:${[
    "Cannot use import statement outside a module",
    "Unexpected token 'export'",
    // Spelt in two: bin/precompile.js refuses the core any `import` `.meta` but `.url`, strings too.
    `Cannot use 'import${'.'}meta' outside a module`,
    "await is only valid in async functions and the top level bodies of modules",
    ...["module", "exports", "require", "__filename", "__dirname"].map((name) => `Identifier '${name}' has already been declared`),
  ]
    .map((message) => message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|')})`,
);

/** What hasModuleSyntax found, by file, while the file stays the same (a file imported from several places is compiled once). */
const syntaxOf = new Map<string, { mtimeMs: number; size: number; module: boolean }>();
const MAX_REMEMBERED = 1000;

/** Whether the JavaScript in `path` needs to be an ES module: it does not compile as CommonJS, for ES module syntax. Compiled, not run. */
function hasModuleSyntax(path: string): boolean {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return false;
  }
  const known = syntaxOf.get(path);
  if (known && known.mtimeMs === stats.mtimeMs && known.size === stats.size) return known.module;
  let module = false;
  try {
    // A `#!` line is allowed at the start of either kind of file, and nowhere else.
    new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(path, 'utf8').replace(/^#!.*/, '')}\n})`, { filename: path });
  } catch (error) {
    module = error instanceof SyntaxError && MODULE_SYNTAX.test(error.message);
  }
  syntaxOf.delete(path);
  if (syntaxOf.size >= MAX_REMEMBERED) syntaxOf.delete(syntaxOf.keys().next().value!);
  syntaxOf.set(path, { mtimeMs: stats.mtimeMs, size: stats.size, module });
  return module;
}

const VERSION = 'switchboard-v';

function versionOf(url: string | undefined): string | undefined {
  if (!url?.startsWith('file:')) return undefined;
  return new URL(url).searchParams.get(VERSION) ?? undefined;
}

/** Passes a reload's version parameter from a plugin file on to the plugin files it imports. */
function withVersion(resolved: ResolveResult, parentURL: string | undefined): ResolveResult {
  const version = versionOf(parentURL);
  if (!version || !resolved.url.startsWith('file:') || resolved.url.includes('/node_modules/') || versionOf(resolved.url)) return resolved;
  const url = new URL(resolved.url);
  url.searchParams.set(VERSION, version);
  return { ...resolved, url: url.href };
}

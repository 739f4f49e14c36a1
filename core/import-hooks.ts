/**
 * Module resolution hooks for plugin code (registered once by load.ts).
 *
 * 1. `@modelcontextprotocol/sdk`, `zod` and `mcp-switchboard` always resolve to the proxy's own
 *    copies, so a plugin folder mounted from anywhere (a container volume, say) can import them
 *    without a node_modules of its own, and the process holds one SDK instance.
 * 2. TypeScript files outside any node_modules are ES modules, even in a folder with no
 *    package.json (where tsx would otherwise compile them to CommonJS and break top-level await).
 */
import { pathToFileURL, fileURLToPath } from 'node:url';

interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: { parentURL?: string }) => Promise<ResolveResult>;

const SHARED = /^(?:@modelcontextprotocol\/sdk|zod|mcp-switchboard)(?:\/|$)/;
const TYPESCRIPT = /\.(?:ts|tsx|mts)$/;

let appPackage = '';

export async function initialize(data: { appRoot: string }): Promise<void> {
  appPackage = pathToFileURL(`${data.appRoot}/package.json`).href;
}

export async function resolve(
  specifier: string,
  context: { parentURL?: string },
  next: NextResolve,
): Promise<ResolveResult> {
  if (SHARED.test(specifier)) return next(specifier, { ...context, parentURL: appPackage });
  const resolved = await next(specifier, context);
  if (resolved.format !== 'commonjs' || !resolved.url.startsWith('file:')) return resolved;
  // tsx marks the CommonJS view of a file with query parameters; the file itself is what we load.
  const path = fileURLToPath(resolved.url.replace(/(?:%3F|\?).*$/, ''));
  if (!TYPESCRIPT.test(path) || path.includes('/node_modules/')) return resolved;
  return { ...resolved, url: pathToFileURL(path).href, format: 'module' };
}

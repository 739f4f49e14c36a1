/** Types of precompile.js, which is plain JavaScript (it runs before TypeScript can load). */
export interface PrecompiledCore {
  /** File URL of the bundled core/main.ts. */
  main: string;
  /** File URL of the bundled core/index.ts, what plugins import as `mcp-switchboard`. */
  index: string;
  /** The folder it is in. */
  dir: string;
  /** Whether this call built it (else it was in the cache). */
  built: boolean;
}
export function precompiledCore(options: { appRoot: string; cacheRoot: string }): Promise<PrecompiledCore>;
/** Keeps the cached core in `dir` marked used while this process runs, so that no other start prunes it. */
export function keepInUse(dir: string): void;

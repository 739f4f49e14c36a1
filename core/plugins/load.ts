/**
 * Loading: read a plugin folder's manifest, from its code entry (imported) or its no-code
 * `plugin.json`/`plugin.yaml`, and check it. Every failure is a SwitchboardError naming the
 * folder (and the field, for manifests).
 *
 * `${VAR}` and `${VAR:-default}` in every string of a data manifest are expanded from the
 * environment (expand.ts) on every load, reloads included; code manifests read `process.env`
 * themselves.
 */
import { importPluginCode } from '../typescript.ts';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DATA_ENTRIES, ENTRY_FILES, type PluginFolder } from './discover.ts';
import { checkDataManifest, checkManifest, type PluginManifest } from './manifest.ts';
import { SwitchboardError, messageOf } from '../errors.ts';
import { ExpansionError, expandAll, type Env } from '../config/expand.ts';
import { Secrets } from '../redact.ts';


/** The query parameter that makes a reload import a folder's code afresh (import-hooks.ts passes it on). */
export const VERSION_PARAM = 'switchboard-v';

export interface LoadOptions {
  /** 0 the first time; a reload passes a new number so the code is imported afresh. */
  version?: number;
  /** An import that takes longer fails (the plugin, not the proxy). */
  timeoutMs?: number;
  /** Where `${VAR}` in a data manifest come from (none given: only defaults can be used). */
  env?: Env;
}

/** A checked manifest, and the values its `${VAR}` took from the environment (secrets, perhaps, for the plugin to scrub). */
export interface LoadedManifest {
  manifest: PluginManifest;
  substituted: readonly string[];
}

/** Reads and checks `folder`'s manifest. */
export async function loadManifest(folder: PluginFolder, options: LoadOptions = {}): Promise<LoadedManifest> {
  const fail = (code: 'SB_PLUGIN_NO_ENTRY' | 'SB_PLUGIN_IMPORT' | 'SB_PLUGIN_MANIFEST', message: string, cause?: unknown) =>
    new SwitchboardError(code, `plugin folder ${folder.display}: ${message}`, { cause, culprit: folder.display });

  if (folder.entries.length === 0) throw fail('SB_PLUGIN_NO_ENTRY', `no entry file (expected one of ${ENTRY_FILES.join(', ')})`);
  if (folder.entries.length > 1) {
    throw fail('SB_PLUGIN_NO_ENTRY', `more than one entry file (${folder.entries.map((e) => basename(e)).join(', ')}); keep one`);
  }
  const entry = folder.entries[0]!;
  const file = basename(entry);
  const data = (DATA_ENTRIES as readonly string[]).includes(file);

  let value: unknown;
  try {
    value = await withTimeout(data ? readData(entry) : importCode(entry, options.version ?? 0), options.timeoutMs, `${file} did not load within ${options.timeoutMs} ms`);
  } catch (error) {
    throw fail('SB_PLUGIN_IMPORT', `${data ? `${file} cannot be read` : 'import failed'}: ${messageOf(error)}`, error);
  }
  let substituted: string[] = [];
  if (data) {
    try {
      const expanded = expandAll(value, options.env ?? {});
      value = expanded.value;
      substituted = [...new Set(expanded.substitutions.map((s) => s.value))];
    } catch (error) {
      if (error instanceof ExpansionError) throw fail('SB_PLUGIN_MANIFEST', `${file}: ${error.message}`);
      throw error;
    }
  }
  const checked = data ? checkDataManifest(value) : checkManifest(defaultExport(value));
  if ('problems' in checked) {
    // A value from the environment is not quoted back (a problem quotes a value of the wrong type: `must be number, not string "..."`).
    const scrubber = new Secrets();
    scrubber.set('manifest', substituted);
    throw fail('SB_PLUGIN_MANIFEST', scrubber.scrub(`invalid manifest${data ? ` in ${file}` : ''}: ${checked.problems.join('; ')}`));
  }
  return { manifest: checked.manifest, substituted };
}

/**
 * A code entry's default export. CommonJS compiled from an ES module (tsc's or esbuild's
 * `exports.default`, marked `__esModule`) reaches an `import()` as `{ default: exports }`, so its
 * manifest is one level further down, where a bundler's interop would look for it.
 */
function defaultExport(namespace: unknown): unknown {
  const value = (namespace as { default?: unknown }).default;
  if (typeof value === 'object' && value !== null && (value as { __esModule?: unknown }).__esModule === true && 'default' in value) {
    return (value as { default: unknown }).default;
  }
  return value;
}

async function importCode(entry: string, version: number): Promise<unknown> {
  const url = pathToFileURL(entry);
  if (version > 0) url.searchParams.set(VERSION_PARAM, String(version));
  // Should Node's own type stripping fail, the retry through tsx reads the plugin's files afresh.
  const retry = () => {
    const again = new URL(url);
    again.searchParams.set(VERSION_PARAM, `${version}-tsx`);
    return again.href;
  };
  return importPluginCode(url.href, retry);
}

async function readData(entry: string): Promise<unknown> {
  const text = await readFile(entry, 'utf8');
  if (entry.endsWith('.json')) return JSON.parse(text);
  // yaml only for the folders that need it: its import is a noticeable part of start-up time.
  const { parse } = await import('yaml');
  return parse(text);
}

/** `promise`, or a rejection with `message` after `ms` (none when `ms` is 0 or undefined). */
export function withTimeout<T>(promise: Promise<T>, ms: number | undefined, message: string): Promise<T> {
  if (!ms) return promise;
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Discovery: which folders are plugins. Reads directories, imports nothing, starts nothing.
 */
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';

/** Code entry files a plugin folder may have, in the order they are looked for. */
export const CODE_ENTRIES = ['index.ts', 'index.mts', 'index.js', 'index.mjs'] as const;
/** No-code manifests: the same fields as a module's default export, for remote and command plugins. */
export const DATA_ENTRIES = ['plugin.json', 'plugin.yaml', 'plugin.yml'] as const;
export const ENTRY_FILES = [...CODE_ENTRIES, ...DATA_ENTRIES] as const;

export interface PluginFolder {
  /** Absolute path. */
  path: string;
  /** The path as the user wrote it (`plugins/example`), for messages. */
  display: string;
  /** Every entry file the folder has (absolute paths, in ENTRY_FILES order); a plugin has exactly one. */
  entries: string[];
}

export interface Discovery {
  folders: PluginFolder[];
  /** Configured plugin directories that do not exist or are not directories. */
  missing: string[];
}

/** Hidden (`.x`) and disabled (`_x`) folders are not plugins. */
export function isIgnoredFolder(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_');
}

/**
 * Lists the plugin folders in each directory of `dirs` (relative ones resolved against `root`),
 * directories in the order given, folders by name within each.
 */
export async function discover(dirs: readonly string[], root: string): Promise<Discovery> {
  const folders: PluginFolder[] = [];
  const missing: string[] = [];
  for (const dir of dirs) {
    const absolute = resolve(root, dir);
    let names: string[];
    try {
      const entries = await readdir(absolute, { withFileTypes: true });
      names = entries
        .filter((entry) => (entry.isDirectory() || entry.isSymbolicLink()) && !isIgnoredFolder(entry.name))
        .map((entry) => entry.name)
        .sort();
    } catch {
      missing.push(dir);
      continue;
    }
    for (const name of names) {
      const folder = await readFolder(join(absolute, name), root);
      if (folder) folders.push(folder);
    }
  }
  return { folders, missing };
}

/** One plugin folder as discovery sees it, or undefined if `path` is not a directory. */
export async function readFolder(path: string, root: string): Promise<PluginFolder | undefined> {
  if (!(await isDirectory(path))) return undefined;
  const entries: string[] = [];
  for (const file of ENTRY_FILES) if (await isFile(join(path, file))) entries.push(join(path, file));
  return { path, display: displayPath(path, root), entries };
}

/** `path` relative to `root` when it lies inside it (`plugins/example`), else absolute. */
export function displayPath(path: string, root: string): string {
  const rel = relative(root, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

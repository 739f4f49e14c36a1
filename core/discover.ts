/**
 * Discovery: which folders are plugins. Reads directories, imports nothing, starts nothing.
 */
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';

/** Entry files a plugin folder may have, in the order they are looked for. */
export const ENTRY_FILES = ['index.ts', 'index.mts', 'index.js', 'index.mjs'] as const;

export interface PluginFolder {
  /** Absolute path. */
  path: string;
  /** The path as the user wrote it (`plugins/example`), for messages. */
  display: string;
  /** The entry file's absolute path; undefined when the folder has none. */
  entry?: string;
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
      const path = join(absolute, name);
      if (!(await isDirectory(path))) continue;
      folders.push({ path, display: displayPath(path, root), entry: await findEntry(path) });
    }
  }
  return { folders, missing };
}

/** `path` relative to `root` when it lies inside it (`plugins/example`), else absolute. */
function displayPath(path: string, root: string): string {
  const rel = relative(root, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

async function findEntry(folder: string): Promise<string | undefined> {
  for (const file of ENTRY_FILES) {
    const candidate = join(folder, file);
    if (await isFile(candidate)) return candidate;
  }
  return undefined;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

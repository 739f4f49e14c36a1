/**
 * Watching plugin directories: any change under `<dir>/<folder>/` (a folder added, removed, a
 * file edited) is reported once per folder after a quiet period, so an editor's save or a
 * `cp -r` of a whole folder is one reload, not twenty. chokidar does the watching: native file
 * events, or polling where they do not arrive (some bind mounts and network file systems).
 */
import { watch, type FSWatcher } from 'chokidar';
import { basename, join, relative, sep } from 'node:path';
import type { Logger } from '../log.ts';

export interface WatchOptions {
  /** Poll instead of relying on native file events. */
  poll: boolean;
  /** A folder is reported when nothing has changed in it for this long. */
  debounceMs: number;
  log: Logger;
  /** A plugin folder (absolute path) changed, appeared or disappeared. */
  onFolderChanged: (folder: string) => void;
}

export interface Watcher {
  /** Resolves once the initial scan is done and changes are being reported. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function watchPluginDirs(dirs: readonly string[], options: WatchOptions): Watcher {
  const pending = new Map<string, NodeJS.Timeout>();
  const watcher: FSWatcher = watch([...dirs], {
    ignoreInitial: true,
    usePolling: options.poll,
    interval: 500,
    binaryInterval: 1000,
    depth: 8,
    // node_modules changes are installs in progress, not edits worth a reload
    ignored: (path) => path.split(sep).includes('node_modules') || basename(path).startsWith('.git'),
  });

  const folderOf = (path: string): string | undefined => {
    for (const dir of dirs) {
      const rel = relative(dir, path);
      if (!rel || rel.startsWith('..')) continue;
      return join(dir, rel.split(sep)[0]!);
    }
    return undefined;
  };

  watcher.on('all', (_event, path) => {
    const folder = folderOf(path);
    if (!folder) return;
    clearTimeout(pending.get(folder));
    const timer = setTimeout(() => {
      pending.delete(folder);
      options.onFolderChanged(folder);
    }, options.debounceMs);
    timer.unref();
    pending.set(folder, timer);
  });
  watcher.on('error', (error) => options.log.warn({ err: error }, 'watching plugin directories failed'));

  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    ready,
    async close() {
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
      await watcher.close();
    },
  };
}

import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/** Edits come in bursts (truncate, write, rename, chmod): one reload after the burst. */
export const WATCH_DEBOUNCE_MS = 500;

/**
 * Calls `onChange` once after pipeline files change. It watches each file's directory, not the
 * file: editors such as vim and sed -i, and ConfigMap updates in Kubernetes, replace a file by
 * renaming another over it, which ends a watch on the old inode; the directory's watch sees every
 * such replacement by name.
 */
export function watchConfigFiles(files: readonly string[], onChange: () => void, debounceMs = WATCH_DEBOUNCE_MS): { close(): void } {
  const byDir = new Map<string, Set<string>>();
  for (const file of files) {
    const path = resolve(file);
    const names = byDir.get(dirname(path)) ?? new Set<string>();
    names.add(basename(path));
    byDir.set(dirname(path), names);
  }
  let timer: NodeJS.Timeout | undefined;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    const watcher = watch(dir, { persistent: false }, (_event, name) => {
      // Some platforms give no name: then any change in the directory counts.
      if (name === null || names.has(basename(name.toString()))) changed();
    });
    watcher.on('error', () => {}); // a directory removed: SIGHUP and /-/reload still work
    watchers.push(watcher);
  }
  return {
    close: () => {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}

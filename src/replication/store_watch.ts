// Watches the quorum's key and trust store files for sslQuorumReloadCertFiles, as ZooKeeper's
// X509Util.enableCertFileReloading: each file's directory is watched and events are kept for the
// file's own name, so a store replaced by a rename (how certificate tools write) is seen as well
// as one written in place. Events come in bursts while a file is written: `changed` runs once,
// `settle_ms` after the last of them.

import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export interface StoreWatch {
  close(): void;
}

export function watchStoreFiles(paths: readonly string[], settle_ms: number, changed: () => void): StoreWatch {
  const names = new Map<string, Set<string>>();
  for (const p of paths) {
    const dir = dirname(resolve(p));
    if (!names.has(dir)) names.set(dir, new Set());
    names.get(dir)!.add(basename(p));
  }
  let timer: NodeJS.Timeout | null = null;
  const poke = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      changed();
    }, settle_ms);
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, files] of names) {
    const w = watch(dir, { persistent: false }, (_event, file) => {
      // No name (some platforms, or an overflow): possibly ours, so read again (as ZooKeeper does).
      if (file === null || files.has(String(file))) poke();
    });
    // A watched directory removed or unreadable later: the stores keep what they have.
    w.on('error', () => {});
    watchers.push(w);
  }
  return {
    close() {
      if (timer !== null) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

// Recipe parents: created on demand. The recipe's own directory is a container node (the server
// deletes it once its last child goes, so abandoned recipes leave nothing behind); its ancestors
// are persistent. A container can vanish between being ensured and being used: callers retry.

import { isZooKeeperError, type ZooKeeperClient } from '../client/index.js';

export async function ensureContainer(client: ZooKeeperClient, path: string): Promise<void> {
  if (await client.exists(path)) return;
  const slash = path.lastIndexOf('/');
  if (slash > 0) await client.mkdirp(path.slice(0, slash));
  try {
    await client.create(path, null, { mode: 'container' });
  } catch (e) {
    if (!isZooKeeperError(e, 'NODEEXISTS')) throw e;
  }
}

/** Runs `create`; if the parent container vanished meanwhile (NONODE), ensures it and tries again. */
export async function createUnder<T>(client: ZooKeeperClient, parent: string, create: () => Promise<T>, attempts_max = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    await ensureContainer(client, parent);
    try {
      return await create();
    } catch (e) {
      if (!isZooKeeperError(e, 'NONODE') || attempt >= attempts_max) throw e;
    }
  }
}

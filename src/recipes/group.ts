// Group membership: a member is an ephemeral node <group>/<id> holding its data, so it leaves the
// group by itself when its session ends. Anyone can list the members or follow the membership as
// it changes (a child watch re-armed after each change, then a re-read).

import { isZooKeeperError, type ZooKeeperClient } from '../client/index.js';
import { createUnder, ensureContainer } from './ensure_path.js';
import { Ownership, type LostReason, type OwnershipState } from './ownership.js';
import { childPath } from './sequence.js';
import { trigger, waitBounded } from './wait.js';

export type Members = Map<string, Buffer | null>;

export class GroupMember {
  private ownership: Ownership | null = null;

  constructor(
    private readonly client: ZooKeeperClient,
    readonly group: string,
    readonly id: string,
    private readonly data: string | Uint8Array | null = null,
  ) {
    if (id === '' || id.includes('/')) throw new Error(`bad member id ${JSON.stringify(id)}`);
  }

  get path(): string {
    return childPath(this.group, this.id);
  }

  /** Joins; NODEEXISTS if another live session already uses this id. */
  async join(): Promise<void> {
    try {
      await createUnder(this.client, this.group, () => this.client.create(this.path, this.data, { mode: 'ephemeral' }));
    } catch (e) {
      if (!isZooKeeperError(e, 'NODEEXISTS')) throw e;
      const stat = await this.client.exists(this.path);
      if (stat?.ephemeralOwner !== this.client.sessionId) throw e;
    }
    this.ownership = new Ownership(this.client);
    const stat = await this.client.exists(this.path, {
      watch: (ev) => {
        if (ev.type === 'NodeDeleted') this.ownership?.markLost('node_deleted');
      },
    });
    if (stat === null) this.ownership.markLost('node_deleted');
  }

  /** 'held' while a member; 'lost' once the session ended or the node was deleted. */
  get state(): OwnershipState | 'not_joined' {
    return this.ownership?.state ?? 'not_joined';
  }

  get lost(): Promise<LostReason> {
    if (this.ownership === null) return Promise.reject(new Error('not joined'));
    return this.ownership.lost;
  }

  async leave(): Promise<void> {
    const o = this.ownership;
    if (o === null) return;
    o.markReleased();
    try {
      await this.client.delete(this.path, -1);
    } catch (e) {
      if (!isZooKeeperError(e, 'NONODE', 'SESSIONEXPIRED')) throw e;
    }
  }
}

/** The group's members now: id -> data. */
export async function groupMembers(client: ZooKeeperClient, group: string): Promise<Members> {
  let ids: string[];
  try {
    ids = await client.getChildren(group);
  } catch (e) {
    if (isZooKeeperError(e, 'NONODE')) return new Map();
    throw e;
  }
  return readMembers(client, group, ids);
}

async function readMembers(client: ZooKeeperClient, group: string, ids: readonly string[]): Promise<Members> {
  const out: Members = new Map();
  const reads = ids.map((id) => client.getData(childPath(group, id)).then((r) => [id, r.data] as const, () => null));
  for (const r of await Promise.all(reads)) if (r !== null) out.set(r[0], r[1]);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Membership snapshots: the current members first, then a new snapshot after every change.
 * Ends (throws) when the session ends; stop by breaking out of the loop or with the signal.
 */
export async function* watchMembers(client: ZooKeeperClient, group: string, opts: { signal?: AbortSignal } = {}): AsyncGenerator<Members> {
  await ensureContainer(client, group);
  for (;;) {
    const t = trigger();
    let ids: string[];
    try {
      ids = await client.getChildren(group, { watch: t.listener });
    } catch (e) {
      if (!isZooKeeperError(e, 'NONODE')) throw e;
      await ensureContainer(client, group);
      continue;
    }
    yield await readMembers(client, group, ids);
    await waitBounded(client, t.fired, opts);
  }
}

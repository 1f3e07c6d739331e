// Barriers (ZooKeeper's recipes).
// - Barrier: a node that, while it exists, holds everyone calling wait(); remove() lets them go.
// - DoubleBarrier: `count` processes enter together and leave together. enter() creates the
//   member's ephemeral node and waits until `count` are in (the last one in creates 'ready');
//   leave() deletes the member's node and waits until all are out, each member watching one
//   node (the lowest waits for the highest, the others for the lowest) instead of the whole list.

import { isZooKeeperError, ZooKeeperError, type ZooKeeperClient } from '../client/index.js';
import { Err } from '../protocol/errors.js';
import { createUnder } from './ensure_path.js';
import { childPath } from './sequence.js';
import { combinedSignal, trigger, waitBounded } from './wait.js';

export interface BarrierWaitOptions {
  signal?: AbortSignal;
  timeout_ms?: number;
}

export class Barrier {
  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
  ) {}

  /** Raises the barrier (idempotent). */
  async set(): Promise<void> {
    const slash = this.path.lastIndexOf('/');
    if (slash > 0) await this.client.mkdirp(this.path.slice(0, slash));
    try {
      await this.client.create(this.path);
    } catch (e) {
      if (!isZooKeeperError(e, 'NODEEXISTS')) throw e;
    }
  }

  /** Lowers it: everyone waiting goes on. */
  async remove(): Promise<void> {
    try {
      await this.client.delete(this.path, -1);
    } catch (e) {
      if (!isZooKeeperError(e, 'NONODE')) throw e;
    }
  }

  /** Resolves once the barrier is down (at once if it is not up). */
  async wait(opts: BarrierWaitOptions = {}): Promise<void> {
    const signal = combinedSignal(opts);
    for (;;) {
      const t = trigger();
      if ((await this.client.exists(this.path, { watch: t.listener })) === null) return;
      await waitBounded(this.client, t.fired, { signal });
    }
  }
}

const READY = 'ready';

export class DoubleBarrier {
  private readonly our_name: string;

  constructor(
    private readonly client: ZooKeeperClient,
    readonly path: string,
    readonly count: number,
    /** This member's id (unique among members). */
    id: string,
  ) {
    if (!(Number.isInteger(count) && count >= 1)) throw new Error(`count must be an integer >= 1: ${count}`);
    if (id === '' || id === READY || id.includes('/')) throw new Error(`bad member id ${JSON.stringify(id)}`);
    this.our_name = id;
  }

  private get ours(): string {
    return childPath(this.path, this.our_name);
  }

  /** Waits until `count` members have entered. */
  async enter(opts: BarrierWaitOptions = {}): Promise<void> {
    const signal = combinedSignal(opts);
    const ready = trigger();
    const ready_path = childPath(this.path, READY);
    const already = (await this.client.exists(ready_path, { watch: ready.listener })) !== null;
    await createUnder(this.client, this.path, () => this.client.create(this.ours, null, { mode: 'ephemeral' }));
    if (already) return;
    const members = (await this.client.getChildren(this.path)).filter((c) => c !== READY);
    if (members.length >= this.count) {
      try {
        await this.client.create(ready_path);
      } catch (e) {
        if (!isZooKeeperError(e, 'NODEEXISTS')) throw e;
      }
      return;
    }
    await waitBounded(this.client, ready.fired, { signal });
  }

  /** Leaves; resolves once every member has left. */
  async leave(opts: BarrierWaitOptions = {}): Promise<void> {
    const signal = combinedSignal(opts);
    let ours_exists = true;
    for (;;) {
      const members = (await this.listOrNone()).filter((c) => c !== READY).sort();
      if (members.length === 0) break;
      const index = members.indexOf(this.our_name);
      if (index < 0 && ours_exists) throw new ZooKeeperError(Err.NONODE, { op: 'leave', path: this.ours, detail: 'our barrier node is gone' });
      if (members.length === 1 && index === 0) {
        await this.deleteOurs();
        break;
      }
      const t = trigger();
      // The lowest waits for the highest to leave; everyone else leaves and waits for the lowest.
      const watched = index === 0 ? members[members.length - 1]! : members[0]!;
      const stat = await this.client.exists(childPath(this.path, watched), { watch: t.listener });
      if (index !== 0 && ours_exists) {
        await this.deleteOurs();
        ours_exists = false;
      }
      if (stat !== null) await waitBounded(this.client, t.fired, { signal });
    }
    try {
      await this.client.delete(childPath(this.path, READY), -1);
    } catch (e) {
      if (!isZooKeeperError(e, 'NONODE')) throw e;
    }
  }

  /** The container directory is reaped once everyone left: no directory = no member. */
  private async listOrNone(): Promise<string[]> {
    try {
      return await this.client.getChildren(this.path);
    } catch (e) {
      if (isZooKeeperError(e, 'NONODE')) return [];
      throw e;
    }
  }

  private async deleteOurs(): Promise<void> {
    try {
      await this.client.delete(this.ours, 0);
    } catch (e) {
      if (!isZooKeeperError(e, 'NONODE')) throw e;
    }
  }
}

// The waiting line behind sequential ephemeral nodes (ZooKeeper's lock recipe, without the herd
// effect): a waiter lists the children once, finds the one node it must wait for, and watches
// only that node. When it goes, the waiter looks again. Every node is watched by at most one
// waiter, so a release wakes exactly one process.

import { isZooKeeperError, ZooKeeperError, type ZooKeeperClient } from '../client/index.js';
import { Err } from '../protocol/errors.js';
import { childPath, sortedBySequence, type SequencedNode } from './sequence.js';
import { trigger, waitBounded, type WaitOptions } from './wait.js';

/** The node `ours` must wait for, or null when it may proceed. `nodes` is sorted; ours is at `index`. */
export type BlockerRule = (nodes: readonly SequencedNode[], index: number) => SequencedNode | null;

/** Plain mutual exclusion: wait for the node just before ours. */
export const PREDECESSOR: BlockerRule = (nodes, index) => (index === 0 ? null : nodes[index - 1]!);

/** Rounds through the loop (each round follows a node leaving); bounds a misbehaving tree. */
const ROUNDS_MAX = 1_000_000;

/**
 * Resolves once `rule` lets `our_name` proceed. Rejects with NONODE if our node disappeared
 * (session expired or someone deleted it), with SESSIONEXPIRED when the session ends, and with
 * signal.reason on abort.
 */
export async function waitForTurn(
  client: ZooKeeperClient,
  dir: string,
  our_name: string,
  markers: readonly string[],
  rule: BlockerRule,
  opts: WaitOptions = {},
): Promise<void> {
  for (let round = 0; round < ROUNDS_MAX; round++) {
    opts.signal?.throwIfAborted();
    const nodes = sortedBySequence(await client.getChildren(dir), markers);
    const index = nodes.findIndex((n) => n.name === our_name);
    if (index < 0) {
      throw new ZooKeeperError(Err.NONODE, { op: 'waitForTurn', path: childPath(dir, our_name), detail: 'our node is gone' });
    }
    const blocker = rule(nodes, index);
    if (blocker === null) return;
    const t = trigger();
    try {
      // getData, not exists: on a node already gone it leaves no watch behind.
      await client.getData(childPath(dir, blocker.name), { watch: t.listener });
    } catch (e) {
      if (isZooKeeperError(e, 'NONODE')) continue;
      throw e;
    }
    await waitBounded(client, t.fired, opts);
  }
  throw new Error(`waitForTurn: more than ${ROUNDS_MAX} rounds in ${dir}`);
}

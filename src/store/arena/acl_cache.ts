// Decoded ACL lists of the shared tree, per thread: a list is decoded once per ACL blob. The key
// is the blob's address; its serial (never reused, acl_store.ts) tells a reused address apart.

import type { ACL } from '../../protocol/types.js';
import type { NodeView } from './node_view.js';

/** Lists kept at most (a few distinct lists are the norm; past it the cache starts over). */
const ACL_CACHE_ENTRIES_MAX = 4096;

export class AclCache {
  private readonly lists = new Map<number, { serial: number; acl: readonly ACL[] }>();

  /** The ACL of the node `view` has selected. */
  of(view: NodeView): readonly ACL[] {
    const addr = view.aclAddr();
    const serial = view.aclSerial();
    const hit = this.lists.get(addr);
    if (hit !== undefined && hit.serial === serial) return hit.acl;
    const acl = view.acl();
    if (this.lists.size >= ACL_CACHE_ENTRIES_MAX) this.lists.clear();
    this.lists.set(addr, { serial, acl });
    return acl;
  }
}

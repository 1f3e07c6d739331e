// A connection's authenticated ids in the order ZooKeeper iterates them.
//
// ZooKeeper keeps a connection's ids in a set backed by a ConcurrentHashMap
// (ServerCnxn.authInfo), and two things a client sees walk it in that map's order: whoAmI's list
// and the expansion of an `auth` ACL entry into one entry per authenticated id
// (PrepRequestProcessor.fixupACL), which getACL shows. That order is the hash table's bin order,
// not the order the ids were added: measured on ZooKeeper 3.8, a SASL user who is also
// zookeeper.superUser lists super, ip, sasl. So the list is kept in bin order here:
// - an Id's hash is jute's: 37 * (37 * 17 + scheme.hashCode()) + id.hashCode(), Java ints;
// - its bin is (h ^ (h >>> 16)) & (table size - 1) (ConcurrentHashMap.spread);
// - the table starts at 16 bins and doubles when the count reaches 3/4 of it;
// - within a bin, ids are in the order they were added (new nodes go at the bin's tail).
// Not modelled: the order ConcurrentHashMap's resize leaves inside a bin (it may reverse part of
// it), which needs 12 or more ids of one connection and two of them in one bin.

import type { Id } from '../protocol/types.js';

/** Java's String.hashCode: UTF-16 code units, int arithmetic. */
function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** The generated hashCode of jute's Id record. */
function idHash(id: Id): number {
  return (Math.imul(37, Math.imul(37, 17) + javaStringHash(id.scheme)) + javaStringHash(id.id)) | 0;
}

/** ConcurrentHashMap's table size for `count` entries added one by one (default capacity). */
function tableSize(count: number): number {
  let size = 16;
  while (count >= size - (size >>> 2)) size *= 2;
  return size;
}

function binOf(id: Id, size: number): number {
  const h = idHash(id);
  return ((h ^ (h >>> 16)) & 0x7fff_ffff) & (size - 1);
}

/**
 * Adds `id` to `ids` (kept in ZooKeeper's iteration order) unless an equal id is there; true when
 * added.
 */
export function addAuthId(ids: Id[], id: Id): boolean {
  if (ids.some((x) => x.scheme === id.scheme && x.id === id.id)) return false;
  ids.push(id);
  const size = tableSize(ids.length);
  // Array.prototype.sort is stable: ids of one bin keep the order they were added in.
  ids.sort((a, b) => binOf(a, size) - binOf(b, size));
  return true;
}

/** Whether one of the ids is of one of `schemes` (AuthenticationHelper.isCnxnAuthenticated). */
export function hasIdOfScheme(ids: readonly Id[], schemes: readonly string[]): boolean {
  for (const id of ids) if (schemes.includes(id.scheme)) return true;
  return false;
}

// The shared, immutable, off-heap data tree: layouts and their invariants (the main file of
// src/store/arena/; every other file implements one concept described here).
//
// ## Memory
// The arena is `segments_max` SharedArrayBuffers of `segment_bytes`, all created up front
// (memory.ts). A SAB costs no RSS until its pages are touched (measured: 32 x 64 MiB SABs add
// 1 MiB of RSS), and the allocator always takes the lowest free page, so RSS follows the high
// water mark of pages in use. Readers get the whole table when they attach: a root can never
// refer to a segment a reader lacks, so there is no attach protocol to get wrong.
//
// An address is a u32 counting 16-byte units from the start of segment 0:
//   segment = addr >>> (log2(segment_bytes) - 4), byte offset = (addr & unit_mask) << 4.
// Address 0 is null (page 0 of segment 0 is reserved). Everything allocated is 16-byte aligned.
//
// Allocation (writer thread only, page_alloc.ts / slab.ts / blob.ts):
// - pages: a bitmap per segment, lowest free page first; runs of contiguous pages (never
//   crossing a segment) for blobs larger than the largest slab class;
// - blobs up to (page_bytes - 16) / 2 bytes: slab pages of one size class each (16-byte
//   granularity to 128 B, then four classes per power of two). Slab page header:
//
//   | off | size | field                                                   |
//   |-----|------|---------------------------------------------------------|
//   | 0   | u8   | page kind (PAGE_SLAB)                                    |
//   | 1   | u8   | size class                                               |
//   | 2   | u16  | slots in use                                             |
//   | 4   | u16  | free list head: slot index + 1 (0 = empty)               |
//   | 6   | u16  | slots ever handed out (bump)                             |
//   | 8   | u32  | previous page with free slots: page number + 1 (0 none)  |
//   | 12  | u32  | next page with free slots: page number + 1 (0 none)      |
//   | 16  |      | slots                                                    |
//
// ## Why a B+tree (measured, Node 20, CPU time per lookup of a random existing path, keys as in
// the load generator's key space): an open-addressing hash over a SAB, the best case for any
// hash-based index (a copy-on-write HAMT adds 3-4 levels of misses), took 74 / 709 / 1474 ns at
// 1k / 100k / 1M keys; this B+tree 245 / 1245 / 2533 ns. Both are memory-bound at scale; for
// 1.7x on point lookups the B+tree gives what a hash cannot: getChildren as a range scan in
// name order (10k children into a reply buffer: 230 us vs 660 us for the heap tree + UTF-8),
// O(log n) descendant counts (getAllChildrenNumber), and a snapshot stream in key order,
// which the loader turns into packed pages in one pass (1M znodes: 220 B each, ~1.8 s).
//
// ## Trees
// Two copy-on-write B+trees share the arena (LMDB-style: a batch copies the pages on the path
// it changes, the copies are written in place until the batch commits, then never again):
// - the znode tree, key = parent path + 0x00 + child name, i.e. the path with its LAST '/'
//   replaced by 0x00 ("/a/b" -> "/a" 00 "b", "/a" -> 00 "a", "/" -> 00). A lookup is one
//   descent; the children of P are the contiguous range of keys starting with P 00 (00 alone
//   for "/", skipping the root's own key); a parent sorts before its children (00 < '/');
//   the path is the key with its 00 replaced by '/';
// - the owner index, key = ephemeralOwner as 8 bytes big-endian + path, no value: a session's
//   ephemerals, the containers (owner 0x8000000000000000) and the TTL nodes (top byte 0xFF)
//   are range scans. Persistent nodes (owner 0) are not indexed.
// Branch entries carry the number of leaf entries under their child (a counted B+tree): node
// counts and getAllChildrenNumber are O(log n) rank differences, not walks.
//
// B+tree page (PAGE_LEAF / PAGE_BRANCH), all integers big-endian:
//
//   | off        | size     | field                                                     |
//   |------------|----------|-----------------------------------------------------------|
//   | 0          | u8       | page kind: PAGE_LEAF or PAGE_BRANCH                       |
//   | 1          | u8       | tree: TREE_ZNODES or TREE_OWNERS                          |
//   | 2          | u16      | entry count                                               |
//   | 4          | u16      | heap start: entries live in [heap start, page_bytes)      |
//   | 6          | u16      | garbage bytes in the heap (removed entries)               |
//   | 8          | u32      | generation of the batch that wrote this copy (diagnostic) |
//   | 12         | u32      | branch: leftmost child (keys < entry 0's key); leaf: 0    |
//   | 16         | u32      | branch: leaf entries under the leftmost child; leaf: 0    |
//   | 20         | u16      | head position h: every key in the page shares bytes 0..h-1 |
//   | 22         | u16      | reserved (0)                                              |
//   | 24         | 6 * n    | slots in key order: u16 byte offset of entry i in the     |
//   |            |          | page, u32 head = key bytes h..h+3 (0-padded past the end) |
//   | ...        |          | free space                                                |
//   | heap start | ...      | entries, written from the end of the page downwards       |
//
// Heads make the binary search compare integers inside the slot array (a few cache lines) and
// touch an entry only when heads tie: 0-padding keeps head order consistent with key order
// (head(a) <= head(b) for a < b), so unequal heads decide, equal heads fall back to the key.
// h need not be the longest common prefix: inserting a key that shares fewer bytes lowers h
// and recomputes the heads; removing keys leaves h as it is; rebuilding a page (split, merge,
// compaction) sets h to the common prefix of its first and last key (capped at HEAD_POS_MAX).
// Entry = key part + value. Key part: u16 len, then `len` key bytes when len < 0x8000
// (inline, len <= page_bytes / 8); else len = 0x8000 and u32 full key length + u32 address of
// a blob holding the whole key (overflow: ZooKeeper paths are only bounded by jute.maxbuffer).
// An overflow blob belongs to exactly one entry of the newest tree; it is released when that
// entry is removed (a separator pulled down by a branch merge keeps its blob).
// Value: leaf of the znode tree = the znode record, then the node's data when it is inline;
// leaf of the owner index = nothing; branch = u32 child address + u32 leaf entries under that child.
// Inline data (dataInline): a value of 1..INLINE_DATA_MAX bytes whose entry stays within the
// largest entry pages are sized for (key part + data <= 2 + keyInlineMax) follows the record in
// the entry; its record's data blob address is 0. Why: at 1M znodes a read's data blob is a cache
// and TLB miss of its own (~450 ns of a 1.2 us lookup + Stat + data, measured); inline, the data
// shares the entry's lines. The reader tells inline data by dataLength > 0 with address 0.
//
// Znode record (RECORD_BYTES = 76). The first 68 bytes are ZooKeeper's Stat in jute order,
// except for the three fields marked *, which readers transform while copying (record.ts):
//
//   | off | size | field                                                                |
//   |-----|------|----------------------------------------------------------------------|
//   | 0   | i64  | czxid                                                                |
//   | 8   | i64  | mzxid                                                                |
//   | 16  | i64  | ctime (ms)                                                           |
//   | 24  | i64  | mtime (ms)                                                           |
//   | 32  | i32  | version                                                              |
//   | 36  | i32  | * cversion as ZooKeeper stores it (child creates); Stat shows        |
//   |     |      |   cversion * 2 - numChildren                                         |
//   | 40  | i32  | aversion                                                             |
//   | 44  | i64  | * ephemeralOwner as stored (Stat shows 0 for containers and TTL)     |
//   | 52  | i32  | * dataLength, -1 for null data (Stat shows 0)                        |
//   | 56  | i32  | numChildren                                                          |
//   | 60  | i64  | pzxid                                                                |
//   | 68  | u32  | data blob address (0 when dataLength <= 0 or the data is inline)     |
//   | 72  | u32  | ACL blob address (never 0)                                           |
//
// ACL blob (acl_store.ts): u32 serial (never reused: readers may cache decoded lists by address
// + serial) | u32 byte length | the ACL list as jute writes it (vector<ACL>), so getACL copies
// it into a reply as is. The writer interns lists (one blob per distinct list) and counts
// references; a list no node uses any more is released like any replaced page.
//
// ## Publication, pinning and reclamation (control.ts)
// A batch produces generation g (u32 serial arithmetic; 0 is skipped). commit() writes g's root
// descriptor into the root ring (seqlock: gen word cleared, fields, gen word set) and then
// Atomics.store(PUBLISHED_GEN, g): every page, blob and descriptor of g is written before
// (release), and a reader that loads g (acquire) sees them.
// A reader pins the newest root LMDB-style: g = load(PUBLISHED_GEN); store(slot, g); if
// load(PUBLISHED_GEN) != g, retry. All Atomics are sequentially consistent, so either the writer's
// slot scan (which follows its store of a newer generation) sees the pin, or the reader sees the
// newer generation and retries.
// Memory replaced by the batch producing generation b (page copies, old data blobs, removed
// keys, unused ACLs) is reachable only from roots older than b. It is retired with tag b and
// freed when every pinned generation is >= b (the oldest pinned generation, or the published
// one when nothing is pinned). Memory allocated and replaced within the same batch was never
// published and is freed at once.
//
// Invariants:
// - only the writer thread writes to the arena; a published page or blob is never written again
//   until it is freed, and it is freed only when no pin can reach it;
// - every key in a branch's child i is >= separator i and < separator i + 1;
// - all leaves are at the same depth; counts in branch entries equal the leaf entries below;
// - a znode's numChildren equals the number of keys in its children range, and every node but
//   "/" has its parent in the tree.

/** Addresses count 16-byte units. */
export const UNIT_SHIFT = 4;
export const UNIT_BYTES = 16;
export const NULL_ADDR = 0;

// Page kinds (byte 0 of a page; the writer also keeps them per page in page_alloc.ts).
export const PAGE_FREE = 0;
export const PAGE_LEAF = 1;
export const PAGE_BRANCH = 2;
export const PAGE_SLAB = 3;
export const PAGE_RUN_HEAD = 4;
export const PAGE_RUN_BODY = 5;
export const PAGE_RESERVED = 6;

export const TREE_ZNODES = 0;
export const TREE_OWNERS = 1;

// B+tree page header.
export const PG_KIND = 0;
export const PG_TREE = 1;
export const PG_COUNT = 2;
export const PG_HEAP = 4;
export const PG_GARBAGE = 6;
export const PG_GEN = 8;
export const PG_LEFTMOST = 12;
export const PG_LEFTMOST_COUNT = 16;
export const PG_HEAD_POS = 20;
export const PG_SLOTS = 24;
export const PG_HEADER_BYTES = 24;
/** u16 entry offset + u32 head. */
export const SLOT_BYTES = 6;
export const HEAD_POS_MAX = 1024;

export const KEY_OVERFLOW = 0x8000;
/** Key part of an overflow entry: u16 flag + u32 full length + u32 blob address. */
export const KEY_OVERFLOW_PART_BYTES = 10;
/** Branch value: u32 child + u32 count. */
export const BRANCH_VALUE_BYTES = 8;

/** Longest key stored inline in a page (longer keys overflow into a blob). */
export function keyInlineMax(page_bytes: number): number {
  return page_bytes >>> 3;
}

// Znode record.
export const REC_CZXID = 0;
export const REC_MZXID = 8;
export const REC_CTIME = 16;
export const REC_MTIME = 24;
export const REC_VERSION = 32;
export const REC_CVERSION = 36;
export const REC_AVERSION = 40;
export const REC_OWNER = 44;
export const REC_DATA_LENGTH = 52;
export const REC_NUM_CHILDREN = 56;
export const REC_PZXID = 60;
export const REC_DATA_ADDR = 68;
export const REC_ACL_ADDR = 72;
export const RECORD_BYTES = 76;
/** Bytes of ZooKeeper's Stat on the wire. */
export const STAT_WIRE_BYTES = 68;

/** Longest node data kept inline in its leaf entry (see "Inline data" above). */
export const INLINE_DATA_MAX = 128;

/**
 * Whether data of `data_len` bytes goes inline in an entry whose key part is `kp_bytes` long:
 * only when the entry stays within an inline key of `key_inline_max` bytes plus a record, the
 * largest entry the page split rules were made for.
 */
export function dataInline(kp_bytes: number, data_len: number, key_inline_max: number): boolean {
  return data_len > 0 && data_len <= INLINE_DATA_MAX && kp_bytes + data_len <= 2 + key_inline_max;
}

/** Value bytes of the leaf entry of `tree` whose value starts at byte r of u8. */
export function leafValueBytes(tree: number, u8: Uint8Array, r: number): number {
  if (tree !== TREE_ZNODES) return 0;
  const at = r + REC_DATA_LENGTH;
  const len = (u8[at] << 24) | (u8[at + 1] << 16) | (u8[at + 2] << 8) | u8[at + 3];
  if (len <= 0) return RECORD_BYTES;
  const a = r + REC_DATA_ADDR;
  return (u8[a] | u8[a + 1] | u8[a + 2] | u8[a + 3]) === 0 ? RECORD_BYTES + len : RECORD_BYTES;
}

/** Owner index keys start with the 8-byte owner. */
export const OWNER_KEY_BYTES = 8;

// ACL blob.
export const ACL_SERIAL = 0;
export const ACL_LENGTH = 4;
export const ACL_WIRE = 8;

/** Deepest B+tree supported (fan-out >= 4 makes 2^32 entries fit in 16 levels). */
export const DEPTH_MAX = 32;

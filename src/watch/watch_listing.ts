// Watch listings (wchc, wchp, the admin `watches` / `watches_by_path` commands): inherently
// O(watches), so a session shard never builds one in a single turn of its loop. A ListingJob
// walks the watch table's lazy pair iterators a slice at a time (WatchWork calls step between
// ring polls) and encodes what it sees into byte chunks, which travel to the supervisor as
// transferred ArrayBuffers (no structured clone of a million strings on the shard's thread).
// The supervisor merges the shards' parts (mergeListings) into one WatchListing and formats it.
//
// Bounded: a shard stops encoding once its part reaches bytes_max, and the merge stops at
// bytes_max over all shards; either sets `truncated`, which the answer states.
//
// Encoding of a part: records, each a tag byte then its body, never split across chunks.
//   GROUP (1): the key shared by the VALUE records that follow it
//   VALUE (2): one value of the current group
// by_session: key = session id (int64 BE), value = path (u32 BE byte length + UTF-8)
// by_path:    key = path (u32 BE byte length + UTF-8), value = session id (int64 BE)

import assert from 'node:assert/strict';
import type { WatchTable } from './watch_table.js';

export type ListingOrder = 'by_session' | 'by_path';

/** What the supervisor asks a shard for (part of the stats control request). */
export interface WatchListingRequest {
  readonly order: ListingOrder;
  /** Encoded bytes after which the shard stops listing (waitfree.watch.listingBytesMax). */
  readonly bytes_max: number;
}

/** One shard's answer. `chunks` are meant to be transferred (each owns its ArrayBuffer). */
export interface WatchListingPart {
  readonly order: ListingOrder;
  readonly chunks: Uint8Array<ArrayBuffer>[];
  /** Pairs encoded. */
  readonly pairs: number;
  readonly truncated: boolean;
}

/**
 * The merged listing the formatters print: groups in first-seen order. A value appears once per
 * group, except that a pair removed and added again while a shard walked its table may show twice
 * (the walk is live, not a snapshot; see WatchTable.pairsByWatcher).
 */
export type WatchListing =
  | {
      readonly order: 'by_session';
      readonly groups: ReadonlyMap<bigint, readonly string[]>;
      readonly truncated: boolean;
      readonly bytes_max: number;
    }
  | {
      readonly order: 'by_path';
      readonly groups: ReadonlyMap<string, readonly bigint[]>;
      readonly truncated: boolean;
      readonly bytes_max: number;
    };

const TAG_GROUP = 1;
const TAG_VALUE = 2;
const CHUNK_BYTES = 256 * 1024;
/** Tag + int64. */
const ID_RECORD_BYTES = 9;
/** Tag + u32 length. */
const STRING_RECORD_HEAD_BYTES = 5;

/** Appends records to fixed-size chunks; a record bigger than a chunk gets a chunk of its own. */
class ChunkWriter {
  readonly sealed: Uint8Array<ArrayBuffer>[] = [];
  private chunk = new Uint8Array(0);
  private view = new DataView(this.chunk.buffer);
  private used = 0;
  /** Bytes written over every chunk. */
  bytes = 0;
  private readonly encoder = new TextEncoder();

  idRecord(tag: number, id: bigint): void {
    this.room(ID_RECORD_BYTES);
    this.chunk[this.used] = tag;
    this.view.setBigInt64(this.used + 1, id);
    this.advance(ID_RECORD_BYTES);
  }

  /** Writes a string record; returns its size. UTF-8 needs at most 3 bytes per UTF-16 unit. */
  stringRecord(tag: number, s: string): number {
    this.room(STRING_RECORD_HEAD_BYTES + 3 * s.length);
    const at = this.used;
    const { written } = this.encoder.encodeInto(s, this.chunk.subarray(at + STRING_RECORD_HEAD_BYTES));
    this.chunk[at] = tag;
    this.view.setUint32(at + 1, written);
    this.advance(STRING_RECORD_HEAD_BYTES + written);
    return STRING_RECORD_HEAD_BYTES + written;
  }

  /** The chunks written so far, each trimmed to what it holds (the last one copied). */
  finish(): Uint8Array<ArrayBuffer>[] {
    this.seal();
    return this.sealed;
  }

  private room(bytes: number): void {
    if (this.chunk.length - this.used >= bytes) return;
    this.seal();
    this.chunk = new Uint8Array(Math.max(CHUNK_BYTES, bytes));
    this.view = new DataView(this.chunk.buffer);
    this.used = 0;
  }

  private advance(bytes: number): void {
    this.used += bytes;
    this.bytes += bytes;
  }

  private seal(): void {
    if (this.used === 0) return;
    // A full chunk is sent as is; a partly used one is copied so the rest is not transferred.
    this.sealed.push(this.used === this.chunk.length ? this.chunk : this.chunk.slice(0, this.used));
    this.used = 0;
    this.chunk = new Uint8Array(0);
  }
}

/** Byte length of a string record without writing it (UTF-8). */
function stringRecordBytes(s: string): number {
  return STRING_RECORD_HEAD_BYTES + Buffer.byteLength(s, 'utf8');
}

/** Looks up the session of a watcher (connection id); undefined when it has none (gone). */
export type SessionOf = (watcher_id: number) => bigint | undefined;

/**
 * One listing being built by a shard. step() visits at most `pairs_max` pairs of the table;
 * pairs of connections without a session are skipped (they count towards the slice).
 */
export class ListingJob {
  private readonly out = new ChunkWriter();
  private readonly pairs: Iterator<readonly [number, string] | readonly [string, number]>;
  private last_watcher: number | undefined;
  private last_path: string | undefined;
  private pairs_encoded = 0;
  private truncated = false;
  private done = false;

  constructor(
    table: WatchTable,
    readonly request: WatchListingRequest,
    private readonly session_of: SessionOf,
  ) {
    assert(request.bytes_max >= 1, 'bytes_max must be positive');
    this.pairs = request.order === 'by_session' ? table.pairsByWatcher() : table.pairsByPath();
  }

  isDone(): boolean {
    return this.done;
  }

  /** Visits up to pairs_max pairs; returns how many it visited. Sets done at the end or the bound. */
  step(pairs_max: number): number {
    let visited = 0;
    while (!this.done && visited < pairs_max) {
      const next = this.pairs.next();
      if (next.done === true) {
        this.done = true;
        break;
      }
      visited += 1;
      if (this.request.order === 'by_session') this.addBySession(next.value as readonly [number, string]);
      else this.addByPath(next.value as readonly [string, number]);
    }
    return visited;
  }

  result(): WatchListingPart {
    assert(this.done, 'listing not finished');
    return { order: this.request.order, chunks: this.out.finish(), pairs: this.pairs_encoded, truncated: this.truncated };
  }

  private addBySession([watcher_id, path]: readonly [number, string]): void {
    const session_id = this.session_of(watcher_id);
    if (session_id === undefined) return;
    const group_new = watcher_id !== this.last_watcher;
    const bytes = (group_new ? ID_RECORD_BYTES : 0) + stringRecordBytes(path);
    if (!this.fits(bytes)) return;
    if (group_new) this.out.idRecord(TAG_GROUP, session_id);
    this.last_watcher = watcher_id;
    this.out.stringRecord(TAG_VALUE, path);
    this.pairs_encoded += 1;
  }

  private addByPath([path, watcher_id]: readonly [string, number]): void {
    const session_id = this.session_of(watcher_id);
    if (session_id === undefined) return;
    const group_new = path !== this.last_path;
    const bytes = (group_new ? stringRecordBytes(path) : 0) + ID_RECORD_BYTES;
    if (!this.fits(bytes)) return;
    if (group_new) this.out.stringRecord(TAG_GROUP, path);
    this.last_path = path;
    this.out.idRecord(TAG_VALUE, session_id);
    this.pairs_encoded += 1;
  }

  /** False (and the job ends, cut) when `bytes` more would pass the bound. */
  private fits(bytes: number): boolean {
    if (this.out.bytes + bytes <= this.request.bytes_max) return true;
    this.truncated = true;
    this.done = true;
    return false;
  }
}

// ---- the supervisor's side ----

/** Reads one record at `at` (its tag byte) into `item` and returns the record's size. */
type Reader<T> = (chunk: Buffer, at: number, item: { value: T }) => number;

const readId: Reader<bigint> = (chunk, at, item) => {
  item.value = chunk.readBigInt64BE(at + 1);
  return ID_RECORD_BYTES;
};
const readString: Reader<string> = (chunk, at, item) => {
  const length = chunk.readUInt32BE(at + 1);
  const from = at + STRING_RECORD_HEAD_BYTES;
  item.value = chunk.toString('utf8', from, from + length);
  return STRING_RECORD_HEAD_BYTES + length;
};

/**
 * Adds every pair of the parts to `groups` until the encoded bytes would pass bytes_max (a
 * group's key is counted once, when the group is created). A plain loop with no per-pair
 * allocation besides the decoded strings: a merge of 10^6 pairs runs on the supervisor.
 * Within one run of a group a shard lists distinct values, so values are checked for duplicates
 * only in a group that comes back (its child-only run, the same path from another shard, a
 * session's second connection): those get a Set.
 */
function mergeGroups<K, V>(
  parts: readonly WatchListingPart[],
  readKey: Reader<K>,
  readValue: Reader<V>,
  bytes_max: number,
): { groups: Map<K, V[]>; truncated: boolean } {
  const groups = new Map<K, V[]>();
  const seen = new Map<K, Set<V>>();
  const key = { value: undefined as K | undefined };
  const value = { value: undefined as V | undefined };
  let bytes = 0;
  for (const part of parts) {
    let values: V[] | undefined;
    let seen_values: Set<V> | undefined;
    let key_bytes = 0;
    for (const bytes_of_chunk of part.chunks) {
      const chunk = Buffer.from(bytes_of_chunk.buffer, bytes_of_chunk.byteOffset, bytes_of_chunk.byteLength);
      let at = 0;
      while (at < chunk.length) {
        const tag = chunk[at];
        if (tag === TAG_GROUP) {
          key_bytes = readKey(chunk, at, key as { value: K });
          at += key_bytes;
          const k = key.value as K;
          values = groups.get(k);
          seen_values = values === undefined ? undefined : (seen.get(k) ?? seen.set(k, new Set(values)).get(k));
          continue;
        }
        assert(tag === TAG_VALUE, `bad listing record tag ${tag}`);
        assert(key_bytes > 0, 'listing value before any group');
        const value_bytes = readValue(chunk, at, value as { value: V });
        at += value_bytes;
        const v = value.value as V;
        if (seen_values !== undefined) {
          if (seen_values.has(v)) continue;
          seen_values.add(v);
        }
        const cost = (values === undefined ? key_bytes : 0) + value_bytes;
        if (bytes + cost > bytes_max) return { groups, truncated: true };
        bytes += cost;
        if (values === undefined) {
          values = [];
          groups.set(key.value as K, values);
        }
        values.push(v);
      }
    }
  }
  return { groups, truncated: parts.some((p) => p.truncated) };
}

/**
 * Merges the shards' parts into one listing: a key listed by several shards (a path watched
 * from connections on two shards) becomes one group; a value appears once per group. Stops at
 * bytes_max (counted as the shards count: a group's key once, each value) and says so.
 */
export function mergeListings(order: ListingOrder, parts: readonly WatchListingPart[], bytes_max: number): WatchListing {
  for (const part of parts) assert(part.order === order, `listing part in ${part.order} order, ${order} asked`);
  if (order === 'by_session') return { order, ...mergeGroups(parts, readId, readString, bytes_max), bytes_max };
  return { order, ...mergeGroups(parts, readString, readId, bytes_max), bytes_max };
}

/** Total pairs of a merged listing. */
export function listingPairs(listing: WatchListing): number {
  let n = 0;
  for (const values of listing.groups.values()) n += values.length;
  return n;
}

// Quotas as ZooKeeper keeps them (Quotas.java, StatsTrack.java and DataTree's bookkeeping): a
// quota on path P is the node /zookeeper/quota/P/zookeeper_limits, whose data is the limit
// ("count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1", as zkCli's setquota writes it), and
// beside it zookeeper_stats, whose data the server keeps equal to P's subtree (P included):
// "count=N,bytes=B". The server changes the stats node's data in place as nodes under P are
// created, deleted or written; its Stat (version, mzxid, mtime) stays, as in ZooKeeper, and no
// watch fires. Pure leaves: the paths, the StatsTrack text and the set of quota'd paths.

import { isValidPath } from './path_rules.js';

export const QUOTA_ROOT = '/zookeeper/quota';
const QUOTA_LIMIT_NODE = 'zookeeper_limits';
const QUOTA_STAT_NODE = 'zookeeper_stats';

const QUOTA_PREFIX = `${QUOTA_ROOT}/`;

/** Quotas.limitPath: the limit node of a quota on `path`. */
export function quotaLimitPath(path: string): string {
  return `${QUOTA_ROOT}${path}/${QUOTA_LIMIT_NODE}`;
}

/** Quotas.statPath: the stats node of a quota on `path`. */
export function quotaStatPath(path: string): string {
  return `${QUOTA_ROOT}${path}/${QUOTA_STAT_NODE}`;
}

/** True when `path` may be a quota's limit or stats node (a cheap test for the apply path). */
export function underQuotaRoot(path: string): boolean {
  return path.startsWith(QUOTA_PREFIX);
}

export interface QuotaNode {
  readonly kind: 'limit' | 'stat';
  /** The path the quota is on (Quotas.trimQuotaPath of the node's parent). */
  readonly quota_path: string;
}

/**
 * Which quota node `path` is, if any: /zookeeper/quota/P/zookeeper_limits or .../zookeeper_stats
 * for a path P other than "/" (ZooKeeper never applies a quota on the root: its
 * getMaxPrefixWithQuota answers null for it).
 */
export function quotaNodeOf(path: string): QuotaNode | null {
  if (!path.startsWith(QUOTA_PREFIX)) return null;
  const slash = path.lastIndexOf('/');
  const name = path.slice(slash + 1);
  const kind = name === QUOTA_LIMIT_NODE ? 'limit' : name === QUOTA_STAT_NODE ? 'stat' : null;
  if (kind === null || slash <= QUOTA_ROOT.length) return null;
  const quota_path = path.slice(QUOTA_ROOT.length, slash);
  return isValidPath(quota_path) ? { kind, quota_path } : null;
}

/** Java long arithmetic (ZooKeeper's counters are longs). */
function int64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

const LONG_TEXT = /^[+-]?\d+$/;
const PAIRS_SEPARATOR = /[,;]+/;
const COUNT = 'count';
const BYTES = 'bytes';
const COUNT_HARD_LIMIT = 'countHardLimit';
const BYTE_HARD_LIMIT = 'byteHardLimit';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * StatsTrack: the key=value text of a limit or stats node. Parsing follows ZooKeeper (pairs split
 * on runs of ',' and ';', an empty value is -1, a missing key reads -1); a pair ZooKeeper would
 * throw on (no '=', no key, not a number) is skipped, so a client's garbage in a stats node never stops
 * the replica. Formatting is ZooKeeper's byte for byte: count and bytes first, the other keys
 * after an extra '=' in sorted order.
 */
export class StatsTrack {
  private readonly values = new Map<string, bigint>();

  static parse(data: Uint8Array | null): StatsTrack {
    const track = new StatsTrack();
    if (data === null || data.length === 0) return track;
    for (const pair of decoder.decode(data).split(PAIRS_SEPARATOR)) {
      const kv = pair.split('=');
      if (kv.length < 2 || kv[0] === '') continue;
      const value = kv[1] === '' ? '-1' : kv[1];
      if (!LONG_TEXT.test(value)) continue;
      const n = BigInt(value);
      if (n !== int64(n)) continue;
      track.values.set(kv[0], n);
    }
    return track;
  }

  /** A stats node's text for `count` nodes of `bytes` data bytes (DataTree.updateQuotaForPath). */
  static usage(count: bigint, bytes: bigint): StatsTrack {
    const track = new StatsTrack();
    track.set(COUNT, count);
    track.set(BYTES, bytes);
    return track;
  }

  get count(): bigint {
    return this.get(COUNT);
  }

  get bytes(): bigint {
    return this.get(BYTES);
  }

  get count_hard_limit(): bigint {
    return this.get(COUNT_HARD_LIMIT);
  }

  get byte_hard_limit(): bigint {
    return this.get(BYTE_HARD_LIMIT);
  }

  /** DataTree.updateQuotaStat: count and bytes move by the diffs (a missing one starts at -1). */
  add(bytes_diff: bigint, count_diff: bigint): void {
    this.set(COUNT, int64(this.count + count_diff));
    this.set(BYTES, int64(this.bytes + bytes_diff));
  }

  toString(): string {
    let text = `${COUNT}=${this.count},${BYTES}=${this.bytes}`;
    const others = [...this.values.keys()].filter((k) => k !== COUNT && k !== BYTES).sort();
    if (others.length === 0) return text;
    // ZooKeeper's extra '=' makes older parsers ignore the keys after it.
    text += '=';
    for (const key of others) text += `;${key}=${this.values.get(key)}`;
    return text;
  }

  toBytes(): Uint8Array {
    return encoder.encode(this.toString());
  }

  private get(key: string): bigint {
    return this.values.get(key) ?? -1n;
  }

  private set(key: string, value: bigint): void {
    this.values.set(key, value);
  }
}

/** What a write would do to a quota (ZooKeeperServer.checkQuota): within it, over a soft limit
 *  (ZooKeeper logs it and lets the write through) or over a hard one (QUOTAEXCEEDED). */
export type QuotaVerdict = 'within' | 'soft' | 'hard';

/**
 * ZooKeeperServer.checkQuota for one quota: `limit` is its limit node, `usage` its stats node;
 * the write changes the count by count_diff and the bytes by bytes_diff. A hard limit, when set,
 * takes the place of the soft one of the same kind.
 */
export function quotaVerdict(limit: StatsTrack, usage: StatsTrack, bytes_diff: bigint, count_diff: bigint): QuotaVerdict {
  let verdict: QuotaVerdict = 'within';
  if (count_diff !== 0n && (limit.count > -1n || limit.count_hard_limit > -1n)) {
    const hard = limit.count_hard_limit > -1n;
    if (usage.count + count_diff > (hard ? limit.count_hard_limit : limit.count)) {
      if (hard) return 'hard';
      verdict = 'soft';
    }
  }
  if (bytes_diff !== 0n && (limit.bytes > -1n || limit.byte_hard_limit > -1n)) {
    const hard = limit.byte_hard_limit > -1n;
    if (usage.bytes + bytes_diff > (hard ? limit.byte_hard_limit : limit.bytes)) {
      if (hard) return 'hard';
      verdict = 'soft';
    }
  }
  return verdict;
}

/**
 * The paths that have a quota (ZooKeeper's PathTrie of them). One difference, on purpose:
 * ZooKeeper's trie, when a quota's limit node is deleted, also forgets every quota nested under
 * that path until the next restart; here each quota lives exactly as long as its limit node.
 */
export class QuotaPaths {
  private readonly paths = new Set<string>();

  get size(): number {
    return this.paths.size;
  }

  add(path: string): void {
    this.paths.add(path);
  }

  delete(path: string): void {
    this.paths.delete(path);
  }

  clear(): void {
    this.paths.clear();
  }

  [Symbol.iterator](): IterableIterator<string> {
    return this.paths.values();
  }

  /**
   * The deepest quota'd path that is `path` or an ancestor of it (getMaxPrefixWithQuota), or
   * null. O(1) while no quota exists: the apply path calls it for every write.
   */
  maxPrefix(path: string): string | null {
    if (this.paths.size === 0) return null;
    let p = path;
    while (p.length > 1) {
      if (this.paths.has(p)) return p;
      p = p.slice(0, p.lastIndexOf('/'));
    }
    return null;
  }
}

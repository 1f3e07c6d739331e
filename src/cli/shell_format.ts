// How `waitfree shell` prints things, close to zkCli.sh: stats as "name = value" lines with
// zxids in hex, ACLs as "'scheme,'id" + ": perms", events as WatchedEvent lines, and errors in
// zkCli's words where it has them.

import { permsToString, ZooKeeperError, type ACL, type Stat, type WatchEvent } from '../client/index.js';

const hex = (n: number | bigint): string => `0x${BigInt.asUintN(64, BigInt(n)).toString(16)}`;
const time = (ms: number): string => new Date(ms).toUTCString();

export function formatStat(s: Stat): string[] {
  return [
    `cZxid = ${hex(s.czxid)}`,
    `ctime = ${time(s.ctime)}`,
    `mZxid = ${hex(s.mzxid)}`,
    `mtime = ${time(s.mtime)}`,
    `pZxid = ${hex(s.pzxid)}`,
    `cversion = ${s.cversion}`,
    `dataVersion = ${s.version}`,
    `aclVersion = ${s.aversion}`,
    `ephemeralOwner = ${hex(s.ephemeralOwner)}`,
    `dataLength = ${s.dataLength}`,
    `numChildren = ${s.numChildren}`,
  ];
}

export function formatAcl(acl: readonly ACL[]): string[] {
  return acl.flatMap((a) => [`'${a.id.scheme},'${a.id.id}`, `: ${permsToString(a.perms)}`]);
}

/** Data as text; "null" for null data, as zkCli prints it. */
export function formatData(data: Buffer | null): string {
  return data === null ? 'null' : data.toString('utf8');
}

export function formatEvent(e: WatchEvent): string {
  return `WatchedEvent state:SyncConnected type:${e.type} path:${e.path}`;
}

const ZKCLI_WORDS: Readonly<Partial<Record<string, string>>> = {
  NONODE: 'Node does not exist',
  NODEEXISTS: 'Node already exists',
  NOTEMPTY: 'Node not empty',
  BADVERSION: 'version No is not valid',
  NOAUTH: 'Insufficient permission',
  NOCHILDRENFOREPHEMERALS: 'Ephemerals cannot have children',
};

export function formatError(e: unknown): string {
  if (e instanceof ZooKeeperError) {
    const words = ZKCLI_WORDS[e.code];
    if (words !== undefined && e.path !== undefined) return `${words}: ${e.path}`;
    return `${e.code}: ${e.message}`;
  }
  return e instanceof Error ? e.message : String(e);
}

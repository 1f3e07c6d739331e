// Prep of a reconfig request (ZooKeeper's PrepRequestProcessor, case OpCode.reconfig): from the
// committed membership and the request to the txn that replaces /zookeeper/config, or the error
// ZooKeeper answers, checked in ZooKeeper's order (a client can see which comes first):
//
//   reconfigEnabled=false                       RECONFIGDISABLED
//   a standalone server                         UNIMPLEMENTED
//   a reconfig proposed and not yet committed   RECONFIGINPROGRESS
//   curConfigId neither -1 nor the version      BADVERSION
//   a leaving id or joining sid not a number    MARSHALLINGERROR (ZooKeeper's NumberFormatException)
//   a server string that does not parse, no     BADARGUMENTS
//   client port, too few voters
//   the servers synced with the leader (it      NEWCONFIGNOQUORUM
//   included) are no quorum of the new voters
//   no WRITE on /zookeeper/config (super only)  NOAUTH
//
// Anything may change: voters and observers join, leave, change roles or addresses. While the
// txn is in flight it commits on a quorum of the old voters and one of the new (src/zab/
// membership.ts), which is why the new voters must already hold a quorum of synced servers: else
// the ensemble would stop until enough new voters caught up. As ZooKeeper 3.8 does (measured
// against it), an observer may be given an address another member has. Pure.

import { Perms } from '../protocol/constants.js';
import { Err } from '../protocol/errors.js';
import type { ACL, Id, ReconfigRequest } from '../protocol/types.js';
import { ConfigError } from '../config/config_error.js';
import type { EnsembleMember } from '../config/ensemble_config.js';
import { membershipText, type Membership } from '../config/quorum_config_text.js';
import { parseServerLine, SERVER_ID_MAX_RECONFIG } from '../config/server_line.js';
import { parseZooCfg, type ZooCfg } from '../config/zoo_cfg.js';
import { checkAcl } from '../tree/acl.js';
import type { TxnOp } from '../tree/txn.js';

export interface ReconfigPrepInput {
  /** reconfigEnabled. */
  readonly enabled: boolean;
  /** False on a standalone server (ZooKeeper: reconfig needs a LeaderZooKeeperServer). */
  readonly ensemble: boolean;
  /** Fewest voters a membership may have: 2, or 1 with standaloneEnabled=false (ZooKeeper's rule). */
  readonly voters_min: number;
  /** A reconfig was proposed and is not committed yet (ZooKeeper: lastSeenQV != QV). */
  readonly in_progress: boolean;
  /** The newest membership (what /zookeeper/config holds). */
  readonly current: Membership;
  /** The voters synced with the leader, the leader included (ZooKeeper's isQuorumSynced). */
  readonly synced: readonly number[];
  /** The zxid the txn will get: the new membership's version. */
  readonly zxid: number;
  /** /zookeeper/config's ACL and the session's ids (WRITE is checked last, as ZooKeeper does). */
  readonly config_acl: readonly ACL[];
  readonly auth: readonly Id[];
  readonly is_super: boolean;
}

/** A request error: which code, and why (for the log). */
class Refused extends Error {
  constructor(
    readonly err: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ReconfigPrep {
  readonly op: TxnOp;
  /** Why it was refused (for a log line); null when it makes a reconfig txn. */
  readonly reason: string | null;
}

const encoder = new TextEncoder();

export function prepReconfig(req: ReconfigRequest, input: ReconfigPrepInput): ReconfigPrep {
  try {
    const next = nextMembers(req, input);
    checkSynced(next, input.synced);
    if (!checkAcl(input.config_acl, Perms.WRITE, input.auth, input.is_super)) throw new Refused(Err.NOAUTH, 'no WRITE permission on /zookeeper/config (reconfig needs the super user)');
    const text = membershipText({ members: next, version: input.zxid });
    return { op: { kind: 'reconfig', data: encoder.encode(text) }, reason: null };
  } catch (e) {
    if (e instanceof Refused) return { op: { kind: 'error', err: e.err }, reason: e.message };
    throw e;
  }
}

/** The membership the request asks for (ZooKeeper's checks up to the new quorum's). */
function nextMembers(req: ReconfigRequest, input: ReconfigPrepInput): EnsembleMember[] {
  if (!input.enabled) throw new Refused(Err.RECONFIGDISABLED, 'reconfigEnabled is false');
  if (!input.ensemble) throw new Refused(Err.UNIMPLEMENTED, 'a standalone server cannot be reconfigured');
  if (input.in_progress) throw new Refused(Err.RECONFIGINPROGRESS, 'another reconfig is not committed yet');
  if (req.curConfigId !== -1 && req.curConfigId !== input.current.version) {
    throw new Refused(Err.BADVERSION, `from config version ${req.curConfigId.toString(16)}, the current one is ${input.current.version.toString(16)}`);
  }
  const next = req.newMembers !== null ? newMembers(req.newMembers) : incremental(req, input.current.members);
  const voters = next.filter((m) => m.role === 'participant').length;
  if (voters < input.voters_min) throw new Refused(Err.BADARGUMENTS, `the new configuration has ${voters} voter(s): it must include at least ${input.voters_min}`);
  return next.sort((a, b) => a.sid - b.sid);
}

/** ZooKeeper's StringUtils.split: pieces trimmed, empty ones dropped. */
function splitList(text: string, sep: string): string[] {
  return text
    .split(sep)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Long.parseLong of an id; its NumberFormatException is ZooKeeper's MARSHALLINGERROR. */
function idOf(text: string): number {
  if (!/^[+-]?\d{1,15}$/.test(text)) throw new Refused(Err.MARSHALLINGERROR, `${JSON.stringify(text)} is not a server id`);
  return Number(text);
}

function parseMember(sid: number, spec: string): EnsembleMember {
  try {
    return parseServerLine({ key: `server.${sid}`, value: spec, where: 'reconfig' }, SERVER_ID_MAX_RECONFIG);
  } catch (e) {
    if (e instanceof ConfigError) throw new Refused(Err.BADARGUMENTS, e.message);
    throw e;
  }
}

/** Incremental: the current members, minus the leaving ids, with the joining lines put in. */
function incremental(req: ReconfigRequest, current: readonly EnsembleMember[]): EnsembleMember[] {
  const next = new Map(current.map((m) => [m.sid, m]));
  for (const leaving of splitList(req.leavingServers ?? '', ',')) next.delete(idOf(leaving));
  for (const joiner of splitList(req.joiningServers ?? '', ',')) {
    const parts = splitList(joiner, '=');
    if (parts.length !== 2) throw new Refused(Err.BADARGUMENTS, `${JSON.stringify(joiner)}: wrong format of server string`);
    const sid = idOf(parts[0]!.slice(parts[0]!.lastIndexOf('.') + 1));
    const m = parseMember(sid, parts[1]!);
    if (m.client_port === null) throw new Refused(Err.BADARGUMENTS, `${JSON.stringify(joiner)}: each server should have 3 ports specified`);
    next.delete(sid);
    next.set(sid, m);
  }
  return [...next.values()];
}

/**
 * Non-incremental: the whole new membership, `server.N=spec` separated by commas or newlines,
 * read as ZooKeeper reads it (commas to newlines, then Properties.load: a key given twice, the
 * last wins).
 */
function newMembers(text: string): EnsembleMember[] {
  let props: ZooCfg;
  try {
    props = parseZooCfg(text.replaceAll(',', '\n'), 'reconfig');
  } catch (e) {
    if (e instanceof ConfigError) throw new Refused(Err.BADARGUMENTS, e.message);
    throw e;
  }
  const next: EnsembleMember[] = [];
  for (const [key, { value }] of props) {
    if (key === 'version') continue;
    if (!key.startsWith('server.')) throw new Refused(Err.BADARGUMENTS, `${JSON.stringify(key)}: expected server.N=spec`);
    const sid = idOf(key.slice('server.'.length));
    next.push(parseMember(sid, value));
  }
  return next;
}

/** A quorum of the new voters is synced with the leader now (ZooKeeper's isQuorumSynced). */
function checkSynced(next: readonly EnsembleMember[], synced: readonly number[]): void {
  const voters = next.filter((m) => m.role === 'participant').map((m) => m.sid);
  const have = new Set(synced);
  const count = voters.filter((sid) => have.has(sid)).length;
  if (count < Math.floor(voters.length / 2) + 1) {
    throw new Refused(Err.NEWCONFIGNOQUORUM, `of the new voters [${voters}], only [${voters.filter((sid) => have.has(sid))}] are synced with the leader: no quorum`);
  }
}

// A replica's place in its ensemble as ZooKeeper's operators read it: the peer state line of mntr
// (QuorumPeer.getDetailedPeerState: "leading - broadcast", "following - synchronization - diff",
// "looking"), the Zab phase names of `zabstate` (QuorumPeer.ZabState), the member strings of
// `voting_view`, and the JSON of the admin commands leader / voting_view / zabstate
// (admin/Commands.java). Pure: built from a ZabView snapshot.

import type { JsonValue } from './http/json.js';

type JsonObject = { [key: string]: JsonValue };

/** One server.N line, as the admin commands show it. */
export interface ZabMemberView {
  readonly sid: number;
  readonly host: string;
  readonly quorum_port: number;
  readonly election_port: number;
  readonly role: 'participant' | 'observer';
  /** From the line's `;[host:]port`; null when the line has none. */
  readonly client_host: string | null;
  readonly client_port: number | null;
}

/** What the Zab driver and the config say about this replica (an ensemble member only). */
export interface ZabView {
  readonly my_sid: number;
  /** LOOKING, FOLLOWING, LEADING, OBSERVING. */
  readonly state: string;
  /** The core's phase: election, discovery, sync, broadcast. */
  readonly phase: string;
  /** As a learner being synchronized: diff, snap or trunc; null otherwise. */
  readonly sync_mode: string | null;
  readonly leader_sid: number | null;
  /** Every server.N line, by sid. */
  readonly members: readonly ZabMemberView[];
  /** The client address this replica serves on (host:port). */
  readonly client_address: string;
  /** Last zxid applied here (zabstate's last_zxid, zab_epoch, zab_counter). */
  readonly last_zxid: bigint;
}

/** QuorumPeer.ZabState names, lower case as zabstate prints them. */
const ZAB_STATE_OF_PHASE: Readonly<Record<string, string>> = {
  election: 'election',
  discovery: 'discovery',
  sync: 'synchronization',
  broadcast: 'broadcast',
};

export function zabStateName(phase: string): string {
  return ZAB_STATE_OF_PHASE[phase] ?? phase;
}

/**
 * getDetailedPeerState: the server state in lower case, then " - <zab state>" unless in election,
 * then " - <sync mode>" while a sync mode is set.
 */
export function peerState(z: ZabView): string {
  let s = z.state.toLowerCase();
  const zab = zabStateName(z.phase);
  if (zab !== 'election') s += ` - ${zab}`;
  if (z.sync_mode !== null) s += ` - ${z.sync_mode}`;
  return s;
}

/** Java's InetSocketAddress host text: IPv6 in brackets (QuorumServer.delimitedHostString). */
function delimitedHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The wildcard a line without a client host means (ZooKeeper reads it as every address). */
const ANY_ADDRESS = '0.0.0.0';

/**
 * VotingViewCommand's member text: host:quorumPort:electionPort:participant|observer, then
 * ";clientHost:clientPort" when the line gave a client address.
 */
export function memberText(m: ZabMemberView): string {
  const client = m.client_port === null ? '' : `;${delimitedHost(m.client_host ?? ANY_ADDRESS)}:${m.client_port}`;
  return `${delimitedHost(m.host)}:${m.quorum_port}:${m.election_port}:${m.role}${client}`;
}

/** voting_view: {current_config: {sid: text}} over the voting members (participants), by sid. */
export function votingView(z: ZabView | null): JsonObject {
  if (z === null) return { current_config: {} };
  const view: JsonObject = {};
  for (const m of [...z.members].sort((a, b) => a.sid - b.sid)) if (m.role === 'participant') view[String(m.sid)] = memberText(m);
  return { current_config: view };
}

/** leader: is_leader, leader_id (-1 without one), leader_ip (the leader's host; "" without one). */
export function leaderInfo(z: ZabView | null): JsonObject {
  if (z === null) return { error: 'server is not initialized' };
  const leader = z.leader_sid === null ? undefined : z.members.find((m) => m.sid === z.leader_sid);
  return {
    is_leader: z.state === 'LEADING',
    leader_id: z.leader_sid ?? -1,
    leader_ip: leader === undefined ? '' : leader.host,
  };
}

const COUNTER_BITS = 32n;
const COUNTER_MASK = (1n << COUNTER_BITS) - 1n;

/**
 * zabstate (ZooKeeper 3.9's fields: myid, is_leader, quorum / election / client address, voting,
 * last_zxid split into zab_epoch and zab_counter, zabstate), plus peer_state (mntr's line).
 */
export function zabStateInfo(z: ZabView | null): JsonObject {
  if (z === null) return { voting: false, zabstate: '' };
  const me = z.members.find((m) => m.sid === z.my_sid);
  const zxid = BigInt.asUintN(64, z.last_zxid);
  return {
    myid: z.my_sid,
    is_leader: z.state === 'LEADING',
    quorum_address: me === undefined ? '' : `${delimitedHost(me.host)}:${me.quorum_port}`,
    election_address: me === undefined ? '' : `${delimitedHost(me.host)}:${me.election_port}`,
    client_address: z.client_address,
    voting: me?.role === 'participant',
    last_zxid: `0x${zxid.toString(16)}`,
    zab_epoch: Number(zxid >> COUNTER_BITS),
    zab_counter: Number(zxid & COUNTER_MASK),
    zabstate: zabStateName(z.phase),
    peer_state: peerState(z),
  };
}

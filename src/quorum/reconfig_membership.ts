// What a reconfig txn does to Zab's quorums: the voters and observers of the membership it writes
// into /zookeeper/config (reconfig_prep.ts made the text). The Zab core calls this for every txn
// that enters its log (ZabConfig.membership_of): other txns cost a look at one byte. Pure.

import { parseQuorumConfigText, type Membership } from '../config/quorum_config_text.js';
import { isReconfigTxn, txnFromBytes } from '../tree/txn_codec.js';
import type { MembershipSpec } from '../zab/membership.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The membership a reconfig txn installs, or null for any other txn. Throws on a reconfig txn
 *  whose membership does not parse (the leader's prep wrote it: a broken invariant). */
export function reconfigMembership(txn: Uint8Array): Membership | null {
  if (!isReconfigTxn(txn)) return null;
  const t = txnFromBytes(txn);
  if (t.op.kind !== 'reconfig') return null;
  return parseQuorumConfigText(decoder.decode(t.op.data), `reconfig txn 0x${t.header.zxid.toString(16)}`);
}

export function membershipSpec(m: Membership): MembershipSpec {
  return {
    voters: m.members.filter((x) => x.role === 'participant').map((x) => x.sid),
    observers: m.members.filter((x) => x.role === 'observer').map((x) => x.sid),
  };
}

/** ZabConfig.membership_of for the replica's txns. */
export function membershipOfTxn(txn: Uint8Array): MembershipSpec | null {
  const m = reconfigMembership(txn);
  return m === null ? null : membershipSpec(m);
}

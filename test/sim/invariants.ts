// Safety invariants, checked as the simulation runs (every apply, snapshot, role change and
// client acknowledgement) and once more at the end.
//
// - One established leader per epoch.
// - Committed prefixes agree: the committed history is one chain; each replica's applies must
//   follow it (a replica applying z after p where the chain says p -> z' != z is a fork).
// - Equal digests at equal zxids (the hash chain over payloads).
// - No acknowledged write is lost: an acknowledged write is in the chain, and at the end in
//   every replica's applied state.
// - Client histories: each client's acknowledged writes have increasing zxids in the order it
//   submitted them.

import { zxidFromNumber, zxidToNumber, zxidToString, ZXID_ZERO, type Zxid } from '../../src/zab/zxid.js';

const zs = (n: number): string => (n < 0 ? 'nothing' : zxidToString(zxidFromNumber(n)));

export class SimFailure extends Error {
  override readonly name = 'SimFailure';
}

interface ChainLink {
  readonly prev: number;
  readonly digest: string;
  readonly id: number;
}

export class Checker {
  private readonly leaders = new Map<number, number>();
  private readonly chain = new Map<number, ChainLink>();
  private readonly succ = new Map<number, number>();
  /** write id -> zxid (number) at which it was acknowledged. */
  readonly acked = new Map<number, number>();
  private readonly client_last = new Map<number, { seq: number; zxid: number }>();
  applies = 0;

  constructor(private readonly trace: (line: string) => void) {
    this.chain.set(0, { prev: -1, digest: '', id: -1 });
  }

  fail(msg: string): never {
    this.trace(`FAIL ${msg}`);
    throw new SimFailure(msg);
  }

  onEstablished(sid: number, epoch: number): void {
    const other = this.leaders.get(epoch);
    if (other !== undefined && other !== sid) this.fail(`two established leaders in epoch ${epoch}: ${other} and ${sid}`);
    this.leaders.set(epoch, sid);
  }

  /** Replica `sid` applied `z` (payload id `id`) right after `prev`, reaching `digest`. */
  onApply(sid: number, prev: Zxid, z: Zxid, digest: string, id: number): void {
    this.applies += 1;
    const zn = zxidToNumber(z);
    const pn = zxidToNumber(prev);
    const known = this.chain.get(zn);
    if (known !== undefined) {
      if (known.prev !== pn) this.fail(`r${sid} applied ${zxidToString(z)} after ${zxidToString(prev)}; committed history has it after ${zs(known.prev)}`);
      if (known.digest !== digest || known.id !== id) this.fail(`r${sid} digest/payload differs at ${zxidToString(z)}`);
      return;
    }
    if (!this.chain.has(pn)) this.fail(`r${sid} applied ${zxidToString(z)} after ${zxidToString(prev)}, which is not committed history`);
    const next = this.succ.get(pn);
    if (next !== undefined && next !== zn) this.fail(`fork after ${zxidToString(prev)}: r${sid} applied ${zxidToString(z)}, another replica ${zs(next)}`);
    this.chain.set(zn, { prev: pn, digest, id });
    this.succ.set(pn, zn);
  }

  /** Replica `sid` loaded a snapshot (or restarted from one) at `z` with `digest`. */
  onSnapshot(sid: number, z: Zxid, digest: string): void {
    if (z.epoch === ZXID_ZERO.epoch && z.counter === 0) return;
    const known = this.chain.get(zxidToNumber(z));
    if (known === undefined) this.fail(`r${sid} loaded a snapshot at ${zxidToString(z)}, not committed history`);
    if (known.digest !== digest) this.fail(`r${sid} snapshot digest differs at ${zxidToString(z)}`);
  }

  /** A client learned its write `id` (seq within the client) committed at `z`. */
  onAck(client: number, seq: number, id: number, z: Zxid): void {
    const zn = zxidToNumber(z);
    const link = this.chain.get(zn);
    if (link === undefined || link.id !== id) this.fail(`client ${client} acknowledged write ${id} at ${zxidToString(z)}, not in committed history`);
    const last = this.client_last.get(client);
    if (last !== undefined && (seq <= last.seq || zn <= last.zxid)) {
      this.fail(`client ${client}: write seq ${seq} at ${zxidToString(z)} acknowledged after seq ${last.seq} at ${zs(last.zxid)}`);
    }
    this.client_last.set(client, { seq, zxid: zn });
    this.acked.set(id, zn);
  }

  /** Final: every replica reached the same zxid with the same digest and holds every acked write. */
  checkConverged(states: { sid: number; zxid: Zxid; digest: string; ids: readonly number[] }[]): void {
    const first = states[0];
    for (const s of states) {
      if (zxidToNumber(s.zxid) !== zxidToNumber(first.zxid) || s.digest !== first.digest) {
        this.fail(`not converged: r${s.sid} at ${zxidToString(s.zxid)} ${s.digest}, r${first.sid} at ${zxidToString(first.zxid)} ${first.digest}`);
      }
      const have = new Set(s.ids);
      for (const id of this.acked.keys()) if (!have.has(id)) this.fail(`acknowledged write ${id} lost on r${s.sid}`);
    }
  }

  get established_epochs(): number {
    return this.leaders.size;
  }
}

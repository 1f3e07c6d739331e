import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  encodeMessageParts,
  frameLength,
  PACKET_CODE,
  ZabDecodeError,
  type PeerMessage,
  type ServerState,
} from '../../src/zab/messages.js';
import { bounded } from '../support/fc_bounds.js';

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const zxid = fc.record({ epoch: u32, counter: u32 });
const txnZxid = fc.record({ epoch: u32, counter: fc.integer({ min: 1, max: 0xffff_ffff }) });
const bytes = fc.uint8Array({ maxLength: 64 });
const state = fc.constantFrom<ServerState>('LOOKING', 'FOLLOWING', 'LEADING', 'OBSERVING');

const messageArb: fc.Arbitrary<PeerMessage> = fc.oneof(
  fc.record({
    type: fc.constant('NOTIFICATION' as const),
    state,
    leader: u32,
    zxid,
    election_epoch: u32,
    peer_epoch: u32,
    config: fc.option(
      fc.uniqueArray(u32, { minLength: 1, maxLength: 9 }).chain((sids) =>
        fc.integer({ min: 1, max: sids.length }).chain((n) => fc.record({ version: zxid, voters: fc.constant(sids.slice(0, n)), observers: fc.constant(sids.slice(n)) })),
      ),
      { nil: null },
    ),
  }),
  fc.record({ type: fc.constantFrom('FOLLOWERINFO' as const, 'OBSERVERINFO' as const), sid: u32, accepted_epoch: u32, protocol_version: u32 }),
  fc.record({ type: fc.constant('LEADERINFO' as const), epoch: u32, protocol_version: u32 }),
  fc.record({ type: fc.constant('ACKEPOCH' as const), current_epoch: u32, last_zxid: zxid, fresh: fc.boolean() }),
  fc.record({ type: fc.constantFrom('DIFF' as const, 'TRUNC' as const, 'UPTODATE' as const, 'ACK' as const, 'COMMIT' as const), zxid }),
  fc.record({ type: fc.constant('SNAP' as const), zxid, snapshot: bytes }),
  fc.record({ type: fc.constant('NEWLEADER' as const), zxid, epoch: u32 }),
  fc.record({ type: fc.constantFrom('PROPOSAL' as const, 'INFORM' as const), zxid: txnZxid, txn: bytes }),
  fc.record({ type: fc.constantFrom('PING' as const, 'REVALIDATE' as const), data: bytes }),
  fc.record({ type: fc.constant('REQUEST' as const), txn: bytes }),
);

describe('peer messages: binary codec', () => {
  it('round-trips every message (decode(encode(m)) = m, and re-encodes to the same bytes)', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const frame = encodeMessage(m);
        expect(frameLength(frame, 0)).toBe(frame.length);
        const back = decodeMessage(frame);
        expect(back).toEqual(m);
        expect(encodeMessage(back)).toEqual(frame);
      }),
      bounded({ numRuns: 500 }),
    );
  });

  it('uses ZooKeeper\'s QuorumPacket type codes and its zxid layout (u64 big-endian)', () => {
    const frame = encodeMessage({ type: 'COMMIT', zxid: { epoch: 0x12, counter: 0x3456 } });
    expect([...frame]).toEqual([0, 0, 0, 9, PACKET_CODE.COMMIT, 0, 0, 0, 0x12, 0, 0, 0x34, 0x56]);
    expect(PACKET_CODE.PROPOSAL).toBe(2);
    expect(PACKET_CODE.ACKEPOCH).toBe(18);
    expect(PACKET_CODE.REVALIDATE).toBe(6);
  });

  it('decoded byte fields are copies: reusing the frame does not change them', () => {
    const frame = encodeMessage({ type: 'PROPOSAL', zxid: { epoch: 1, counter: 1 }, txn: new Uint8Array([1, 2, 3]) });
    const m = decodeMessage(frame);
    frame.fill(0);
    expect(m.type === 'PROPOSAL' && [...m.txn]).toEqual([1, 2, 3]);
  });

  it('encode asserts validity (a bug of the caller), decode reports the same rules as ZabDecodeError', () => {
    const bad: PeerMessage = { type: 'PROPOSAL', zxid: { epoch: 1, counter: 0 }, txn: new Uint8Array(0) };
    expect(() => encodeMessage(bad)).toThrow(/counter >= 1/);
    expect(() => encodeMessage({ type: 'LEADERINFO', epoch: -1, protocol_version: 0 })).toThrow(/u32/);
    // The same message built by hand on the wire is refused by the decoder.
    const wire = new Uint8Array([0, 0, 0, 13, PACKET_CODE.PROPOSAL, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => decodeMessage(wire)).toThrow(ZabDecodeError);
    expect(() => encodeMessage({ type: 'PING', data: new Uint8Array(100) }, 50)).toThrow(/frame_bytes_max/);
  });

  it('refuses malformed frames with ZabDecodeError: unknown type, short, trailing bytes, bad state, oversize', () => {
    const ok = encodeMessage({ type: 'ACK', zxid: { epoch: 1, counter: 2 } });
    const unknown = ok.slice();
    unknown[4] = 99;
    expect(() => decodeMessage(unknown)).toThrow(/unknown packet type 99/);
    expect(() => decodeMessage(ok.subarray(0, ok.length - 1))).toThrow(ZabDecodeError);
    const longer = new Uint8Array(ok.length + 1);
    longer.set(ok);
    new DataView(longer.buffer).setUint32(0, ok.length + 1 - 4);
    expect(() => decodeMessage(longer)).toThrow(/trailing/);
    const note = encodeMessage({ type: 'NOTIFICATION', state: 'LOOKING', leader: 1, zxid: { epoch: 0, counter: 0 }, election_epoch: 1, peer_epoch: 0, config: null });
    note[5] = 7;
    expect(() => decodeMessage(note)).toThrow(/server state/);
    // An announced membership a QuorumVerifier would refuse, or one that claims too many sids.
    const config = { version: { epoch: 1, counter: 2 }, voters: [1, 2], observers: [3] };
    const good = encodeMessage({ type: 'NOTIFICATION', state: 'LOOKING', leader: 1, zxid: { epoch: 0, counter: 0 }, election_epoch: 1, peer_epoch: 0, config });
    expect(decodeMessage(good)).toMatchObject({ config });
    const repeated = good.slice();
    new DataView(repeated.buffer).setUint32(repeated.length - 4, 2); // observer 3 -> 2, a voter
    expect(() => decodeMessage(repeated)).toThrow(/repeated sid/);
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(5 + 4 + 8 + 4 + 4 + 8, 0xffff_ffff); // voters count
    expect(() => decodeMessage(huge)).toThrow(/membership of/);
    expect(() => frameLength(new Uint8Array([0, 0, 1, 0]), 0, 255)).toThrow(/outside/);
    expect(() => frameLength(new Uint8Array([0, 0, 0, 0]), 0)).toThrow(/outside/);
    expect(frameLength(new Uint8Array([0, 0]), 0)).toBeNull();
  });

  it('never throws anything but ZabDecodeError on corrupted frames (bit flips, cuts)', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), fc.integer({ min: 0, max: 7 }), fc.nat(), (m, at, bit, cut) => {
        const frame = encodeMessage(m);
        const flipped = frame.slice();
        flipped[at % frame.length] ^= 1 << bit;
        for (const f of [flipped, frame.subarray(0, cut % frame.length)]) {
          try {
            const back = decodeMessage(f);
            expect(encodeMessage(back).length).toBe(f.length); // what decodes is valid
          } catch (e) {
            expect(e).toBeInstanceOf(ZabDecodeError);
          }
        }
      }),
      bounded({ numRuns: 1000 }),
    );
  });

  it('a SNAP encodes as parts (head, then the snapshot buffer itself, not a copy) that make the same frame', () => {
    const snapshot = new Uint8Array(100_000).map((_, i) => i & 0xff);
    const msg: PeerMessage = { type: 'SNAP', zxid: { epoch: 3, counter: 77 }, snapshot };
    const parts = encodeMessageParts(msg);
    expect(parts).toHaveLength(2);
    expect(parts[1]).toBe(snapshot);
    expect(Buffer.concat(parts)).toEqual(Buffer.from(encodeMessage(msg)));
    const ping: PeerMessage = { type: 'PING', data: new Uint8Array(3) };
    expect(encodeMessageParts(ping)).toEqual([encodeMessage(ping)]);
  });
});

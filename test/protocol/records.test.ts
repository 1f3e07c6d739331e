import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JuteError, JuteReader } from '../../src/protocol/jute.js';
import {
  RECORD_NAMES,
  STAT_BYTES,
  decodeRecord,
  encodeRecord,
  type RecordName,
} from '../../src/protocol/records.js';
import type { Stat } from '../../src/protocol/types.js';
import { bounded } from '../support/fc_bounds.js';
import { recordArbitrary } from './arbitraries.js';
import { ascii, hex, written } from './helpers.js';

function roundTrip<N extends RecordName>(name: N, value: unknown): unknown {
  const bytes = written((w) => encodeRecord(name, value as never, w));
  const r = new JuteReader(bytes);
  const decoded = decodeRecord(name, r);
  r.expectEnd();
  return decoded;
}

// Every Stat field gets a value whose bytes are easy to check by eye; pzxid exercises the hi word,
// ephemeralOwner the sign bit (container marker), cversion a negative int.
const STAT: Stat = {
  czxid: 1,
  mzxid: 2,
  ctime: 0x01_0203_0405,
  mtime: Number.MAX_SAFE_INTEGER,
  version: 3,
  cversion: -1,
  aversion: 0,
  ephemeralOwner: -(2n ** 63n),
  dataLength: 5,
  numChildren: 0,
  pzxid: 0x1_0000_0000,
};
const STAT_HEX = `
  00 00 00 00 00 00 00 01 | 00 00 00 00 00 00 00 02 | 00 00 00 01 02 03 04 05 | 00 1f ff ff ff ff ff ff
  00 00 00 03 | ff ff ff ff | 00 00 00 00 | 80 00 00 00 00 00 00 00 | 00 00 00 05 | 00 00 00 00
  00 00 00 01 00 00 00 00`;

describe('record table', () => {
  it('has a schema for every record the protocol uses', () => {
    for (const name of ['Stat', 'CreateTTLRequest', 'SetWatches2', 'WhoAmIResponse', 'ReconfigRequest', 'SetSASLResponse']) {
      expect(RECORD_NAMES).toContain(name);
    }
  });

  it.each(RECORD_NAMES)('%s survives encode/decode for any value', (name) => {
    fc.assert(
      fc.property(recordArbitrary(name), (value) => {
        expect(roundTrip(name, value)).toEqual(value);
      }),
      bounded({ numRuns: 60 }),
    );
  });

  it.each(RECORD_NAMES)('%s truncated anywhere throws JuteError', (name) => {
    fc.assert(
      fc.property(recordArbitrary(name), fc.nat(), (value, cut_seed) => {
        const bytes = written((w) => encodeRecord(name, value as never, w));
        const cut = cut_seed % bytes.length;
        expect(() => decodeRecord(name, new JuteReader(bytes, 0, cut))).toThrow(JuteError);
      }),
      bounded({ numRuns: 30 }),
    );
  });
});

describe('golden bytes (jute rules by hand)', () => {
  it('Stat is 68 bytes in field order', () => {
    const bytes = written((w) => encodeRecord('Stat', STAT, w));
    expect(bytes.length).toBe(STAT_BYTES);
    expect(bytes).toEqual(hex(STAT_HEX));
    expect(decodeRecord('Stat', new JuteReader(hex(STAT_HEX)))).toEqual(STAT);
  });

  it('ReplyHeader: int xid, long zxid, int err', () => {
    const bytes = written((w) => encodeRecord('ReplyHeader', { xid: 7, zxid: -1, err: -101 }, w));
    expect(bytes).toEqual(hex('00 00 00 07 | ff ff ff ff ff ff ff ff | ff ff ff 9b'));
  });

  it('CreateRequest with one world:anyone ACL', () => {
    const req = {
      path: '/a',
      data: new Uint8Array([0x68, 0x69]),
      acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }],
      flags: 1,
    };
    const expected = hex(`
      00 00 00 02 2f 61 | 00 00 00 02 68 69 | 00 00 00 01
      00 00 00 1f | 00 00 00 05 ${ascii('world')} | 00 00 00 06 ${ascii('anyone')}
      00 00 00 01`);
    expect(written((w) => encodeRecord('CreateRequest', req, w))).toEqual(expected);
    expect(decodeRecord('CreateRequest', new JuteReader(expected))).toEqual(req);
  });

  it('null buffers and strings are length -1 and decode back to null', () => {
    const bytes = written((w) => encodeRecord('GetDataResponse', { data: null, stat: STAT }, w));
    expect(bytes.subarray(0, 4)).toEqual(hex('ff ff ff ff'));
    expect(decodeRecord('GetDataResponse', new JuteReader(bytes)).data).toBeNull();

    const reconfig = { joiningServers: null, leavingServers: 'x', newMembers: null, curConfigId: -1 };
    expect(written((w) => encodeRecord('ReconfigRequest', reconfig, w))).toEqual(
      hex('ff ff ff ff | 00 00 00 01 78 | ff ff ff ff | ff ff ff ff ff ff ff ff'),
    );
  });

  it('strings are UTF-8 with a byte length', () => {
    const bytes = written((w) => encodeRecord('SyncRequest', { path: '/é' }, w));
    expect(bytes).toEqual(hex('00 00 00 03 2f c3 a9'));
  });
});

describe('malformed input', () => {
  it('a null path (length -1) is malformed', () => {
    expect(() => decodeRecord('GetDataRequest', new JuteReader(hex('ff ff ff ff 00')))).toThrow(JuteError);
  });

  it('a null vector reads as an empty list', () => {
    expect(decodeRecord('GetChildrenResponse', new JuteReader(hex('ff ff ff ff')))).toEqual({ children: [] });
  });

  it('a null AuthPacket.auth reads as empty bytes', () => {
    const bytes = hex(`00 00 00 00 | 00 00 00 06 ${ascii('digest')} | ff ff ff ff`);
    expect(decodeRecord('AuthPacket', new JuteReader(bytes)).auth).toEqual(new Uint8Array(0));
  });

  it('a zxid beyond 2^53 is malformed, not silently rounded', () => {
    const bytes = hex('00 00 00 01 | 00 20 00 00 00 00 00 00 | 00 00 00 00');
    expect(() => decodeRecord('ReplyHeader', new JuteReader(bytes))).toThrow(JuteError);
  });

  it('a vector count larger than the bytes left is malformed', () => {
    expect(() => decodeRecord('GetChildrenResponse', new JuteReader(hex('7f ff ff ff 00 00')))).toThrow(JuteError);
  });

  it('encoding a value of the wrong type throws JuteError', () => {
    const bad = { path: null, watch: true } as unknown as { path: string; watch: boolean };
    expect(() => written((w) => encodeRecord('GetDataRequest', bad, w))).toThrow(JuteError);
    const bad_owner = { ...STAT, ephemeralOwner: 1 } as unknown as Stat;
    expect(() => written((w) => encodeRecord('Stat', bad_owner, w))).toThrow(JuteError);
  });
});

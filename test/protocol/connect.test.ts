import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeConnectRequest,
  decodeConnectResponse,
  encodeConnectRequest,
  encodeConnectResponse,
} from '../../src/protocol/connect.js';
import { JuteError } from '../../src/protocol/jute.js';
import type { ConnectRequest, ConnectResponse } from '../../src/protocol/types.js';
import { bounded } from '../support/fc_bounds.js';
import { fieldArbitrary } from './arbitraries.js';
import { framePayload, hex, written } from './helpers.js';

const PASSWD_HEX = '00 00 00 10 | 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00';
// protocolVersion 0, lastZxidSeen 0x20, timeOut 30000, sessionId 0, 16-byte zero passwd.
const REQUEST_BASE_HEX = `00 00 00 00 | 00 00 00 00 00 00 00 20 | 00 00 75 30 | 00 00 00 00 00 00 00 00 | ${PASSWD_HEX}`;
const REQUEST_BASE: Omit<ConnectRequest, 'readOnly'> = {
  protocolVersion: 0,
  lastZxidSeen: 0x20,
  timeOut: 30_000,
  sessionId: 0n,
  passwd: new Uint8Array(16),
};

const read_only = fc.option(fc.boolean(), { nil: null });
const requestArbitrary = fc.record({
  protocolVersion: fc.integer(),
  lastZxidSeen: fieldArbitrary('long53'),
  timeOut: fc.integer(),
  sessionId: fieldArbitrary('long'),
  passwd: fc.uint8Array({ maxLength: 16 }),
  readOnly: read_only,
}) as fc.Arbitrary<ConnectRequest>;
const responseArbitrary = fc.record({
  protocolVersion: fc.integer(),
  timeOut: fc.integer(),
  sessionId: fieldArbitrary('long'),
  passwd: fc.uint8Array({ maxLength: 16 }),
  readOnly: read_only,
}) as fc.Arbitrary<ConnectResponse>;

describe('ConnectRequest', () => {
  it('decodes a 3.4+ request with the readOnly byte', () => {
    expect(decodeConnectRequest(hex(`${REQUEST_BASE_HEX} | 01`))).toEqual({ ...REQUEST_BASE, readOnly: true });
  });

  it('decodes a <= 3.3 request without the readOnly byte as readOnly null', () => {
    expect(decodeConnectRequest(hex(REQUEST_BASE_HEX))).toEqual({ ...REQUEST_BASE, readOnly: null });
  });

  it('rejects more than one trailing byte', () => {
    expect(() => decodeConnectRequest(hex(`${REQUEST_BASE_HEX} | 00 00`))).toThrow(JuteError);
  });

  it('encodes a length-prefixed frame, without the byte when readOnly is null', () => {
    const frame = written((w) => encodeConnectRequest({ ...REQUEST_BASE, readOnly: false }, w));
    expect(frame).toEqual(hex(`00 00 00 2d | ${REQUEST_BASE_HEX} | 00`));
    const old_client = written((w) => encodeConnectRequest({ ...REQUEST_BASE, readOnly: null }, w));
    expect(framePayload(old_client)).toEqual(hex(REQUEST_BASE_HEX));
  });

  it('round-trips with and without readOnly', () => {
    fc.assert(
      fc.property(requestArbitrary, (req) => {
        const payload = framePayload(written((w) => encodeConnectRequest(req, w)));
        expect(decodeConnectRequest(payload)).toEqual(req);
      }),
      bounded(),
    );
  });

  it('random bytes decode or throw JuteError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeConnectRequest(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(JuteError);
        }
      }),
      bounded({ numRuns: 500 }),
    );
  });
});

describe('ConnectResponse', () => {
  it('omits the readOnly byte when the client sent none', () => {
    const resp: ConnectResponse = { protocolVersion: 0, timeOut: 4000, sessionId: 0x0123n, passwd: new Uint8Array(16), readOnly: null };
    const expected = hex(`00 00 00 24 | 00 00 00 00 | 00 00 0f a0 | 00 00 00 00 00 00 01 23 | ${PASSWD_HEX}`);
    expect(written((w) => encodeConnectResponse(resp, w))).toEqual(expected);
    const with_byte = written((w) => encodeConnectResponse({ ...resp, readOnly: false }, w));
    expect(with_byte.length).toBe(expected.length + 1);
  });

  it('round-trips, tolerating a server that omits readOnly', () => {
    fc.assert(
      fc.property(responseArbitrary, (resp) => {
        const payload = framePayload(written((w) => encodeConnectResponse(resp, w)));
        expect(decodeConnectResponse(payload)).toEqual(resp);
      }),
      bounded(),
    );
  });
});

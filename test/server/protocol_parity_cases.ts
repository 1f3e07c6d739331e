// Protocol behaviours where waitfree must answer exactly as Apache ZooKeeper 3.8 does, as wire
// cases that take a server's port. test/server/protocol_parity.test.ts runs them against waitfree
// (in-process); test/interop/protocol_parity.test.ts runs the same cases against Apache ZooKeeper
// (Debian 3.8.0) and waitfree, so every expectation here is checked against the reference too.
//
// The server must run with tickTime 100 ms (session timeouts clamped into [200, 2000] ms): the
// session-touch case waits for a 200 ms session to expire. The cases run in PARITY_CASES order
// on one server; the first one compares zxids exactly, so it runs before any other session
// exists (an expiring session would take zxids in between).

import { expect } from 'vitest';
import { decodeConnectResponse } from '../../src/protocol/connect.js';
import { Perms, Xid } from '../../src/protocol/constants.js';
import { Err } from '../../src/protocol/errors.js';
import { JuteReader, JuteWriter } from '../../src/protocol/jute.js';
import { encodeRequest, type OpCode, type RequestInput } from '../../src/protocol/messages.js';
import { Op } from '../../src/protocol/opcodes.js';
import { recordCodec } from '../../src/protocol/records.js';
import type { GetACLResponse, ReplyHeader, RequestACL, WhoAmIResponse } from '../../src/protocol/types.js';
import type { WireClient } from '../support/wire_client.js';
import { OPEN_ACL, RawConn, asReply, connect, connectRequestFrame, rawSession, sleep, utf8 } from './harness.js';

export const PARITY_TICK_TIME_MS = 100;

export interface ParityCase {
  name: string;
  run(port: number): Promise<void>;
}

const FRAMES_WAIT_MS = 10_000;

/** One request frame (length prefix included), with any xid. */
function requestFrame<C extends OpCode>(xid: number, type: C, body: RequestInput<C>): Uint8Array {
  const w = new JuteWriter();
  encodeRequest(xid, type, body, w);
  return w.toBytes();
}

/** A request frame with a body given as raw bytes (for bodies no encoder writes). */
function rawRequestFrame(xid: number, type: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  const head = Buffer.alloc(12);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(xid, 4);
  head.writeInt32BE(type, 8);
  return Buffer.concat([head, body]);
}

function replyHeader(payload: Uint8Array): ReplyHeader {
  return recordCodec('ReplyHeader').read(new JuteReader(payload));
}

/** Node names unique per run, so the cases never meet each other's nodes. */
let node_seq = 0;
function freshPath(tag: string): string {
  node_seq++;
  return `/parity-${tag}-${process.pid}-${node_seq}`;
}

function auth(c: WireClient, scheme: string, credential: string): Promise<number> {
  return c.requestSpecial(Xid.AUTH, Op.auth, { type: 0, scheme, auth: utf8(credential) }).then((r) => r.err);
}

async function createWith(c: WireClient, path: string, acl: RequestACL[]): Promise<number> {
  return asReply(await c.request(Op.create, { path, data: utf8('x'), acl, flags: 0 })).err;
}

const entry = (scheme: string | null, id: string | null, perms: number = Perms.ALL): RequestACL => ({ perms, id: { scheme, id } });

// ---- item 10: what arrives before the ConnectResponse is answered after it ----

const earlyRequestsWaitForTheHandshake: ParityCase = {
  name: 'auth, ping and a read sent behind the ConnectRequest are answered after the ConnectResponse, in arrival order',
  async run(port) {
    const raw = await RawConn.open(port);
    try {
      // auth first: ZooKeeper answers it in its network layer, the ping and getData in its
      // pipeline, so this order is deterministic on ZooKeeper too.
      raw.write(
        Buffer.concat([
          connectRequestFrame(),
          requestFrame(Xid.AUTH, Op.auth, { type: 0, scheme: 'digest', auth: utf8('early:pw') }),
          requestFrame(Xid.PING, Op.ping, null),
          requestFrame(1, Op.getData, { path: '/', watch: false }),
        ]),
      );
      expect(await raw.until(() => raw.frames().length >= 4, FRAMES_WAIT_MS), 'four answers').toBe(true);
      const [connect_response, ...rest] = raw.frames();
      expect(decodeConnectResponse(connect_response).timeOut, 'the ConnectResponse comes first').toBeGreaterThan(0);
      const [auth_reply, ping_reply, read_reply] = rest.map(replyHeader);
      expect(auth_reply).toEqual({ xid: Xid.AUTH, zxid: 0, err: 0 });
      expect(ping_reply).toMatchObject({ xid: Xid.PING, err: 0 });
      expect(read_reply).toMatchObject({ xid: 1, err: 0 });
      // The ping is answered once the session exists: its zxid already counts createSession.
      expect(ping_reply.zxid).toBe(read_reply.zxid);
    } finally {
      raw.destroy();
    }
  },
};

const earlyFailedAuthAfterTheHandshake: ParityCase = {
  name: 'a failing auth sent behind the ConnectRequest: the ConnectResponse, then AUTHFAILED, then the close',
  async run(port) {
    const raw = await RawConn.open(port);
    try {
      raw.write(
        Buffer.concat([
          connectRequestFrame(),
          requestFrame(Xid.AUTH, Op.auth, { type: 0, scheme: 'nosuchscheme', auth: utf8('x') }),
          requestFrame(1, Op.getData, { path: '/', watch: false }),
        ]),
      );
      expect(await raw.waitClosed(FRAMES_WAIT_MS), 'the server closes the connection').toBe(true);
      const frames = raw.frames();
      expect(frames.length, 'ConnectResponse and the auth reply, nothing after').toBe(2);
      expect(decodeConnectResponse(frames[0]).timeOut).toBeGreaterThan(0);
      expect(replyHeader(frames[1])).toEqual({ xid: Xid.AUTH, zxid: 0, err: Err.AUTHFAILED });
    } finally {
      raw.destroy();
    }
  },
};

// ---- item 3: SASL without a SASL configuration ----

const saslWithoutConfig: ParityCase = {
  name: 'sasl without a SASL config: OK with a null token and zxid 0; the connection stays open',
  async run(port) {
    const c = await connect(port);
    try {
      // kazoo numbers its SASL packets 1, 2, ... (an ordinary xid): the body is a null token.
      const r = await c.request(Op.sasl, { token: new Uint8Array(0) });
      expect(r).toEqual({ xid: r.xid, zxid: 0, err: 0, body: { token: null } });
      // Any xid gets the same answer (-8 here), whatever the token says.
      const special = await c.requestSpecial(Xid.SET_WATCHES, Op.sasl, { token: utf8('not a SASL token') });
      expect(special).toMatchObject({ xid: Xid.SET_WATCHES, zxid: 0, err: 0 });
      expect(asReply(await c.request(Op.exists, { path: '/', watch: false })).err, 'still serving').toBe(0);
      expect(c.isClosed()).toBe(false);
    } finally {
      c.destroy();
    }
  },
};

const saslNullToken: ParityCase = {
  name: 'a SASL packet with a null token closes the connection without a reply',
  async run(port) {
    const c = await connect(port);
    try {
      // ZooKeeper reads the token's length before anything else: the NullPointerException ends
      // the connection. The request behind it is never answered either.
      const sasl = c.request(Op.sasl, { token: null }).then(
        () => 'answered',
        () => 'not answered',
      );
      const read = c.request(Op.exists, { path: '/', watch: false }).then(
        () => 'answered',
        () => 'not answered',
      );
      expect(await c.waitClosed(FRAMES_WAIT_MS), 'the server closes the connection').toBe(true);
      expect([await sasl, await read]).toEqual(['not answered', 'not answered']);
    } finally {
      c.destroy();
    }
  },
};

const SESSION_TIMEOUT_MS = 2 * PARITY_TICK_TIME_MS;
const REPEAT_EVERY_MS = 20;
/** Far beyond the 200 ms session: a server that keeps the session alive fails here. */
const EXPIRY_WAIT_MS = 8_000;
const KEEPALIVE_CHECK_MS = 1_000;

/**
 * Sends `send` every REPEAT_EVERY_MS (one at a time: no burst) until the server closes the
 * connection or `for_ms` passes. True when the server closed it.
 */
async function repeatUntilClosed(c: WireClient, send: () => Promise<unknown>, for_ms: number): Promise<boolean> {
  const deadline = Date.now() + for_ms;
  while (Date.now() < deadline && !c.isClosed()) {
    await send().catch(() => undefined); // the close rejects the request in flight
    await sleep(REPEAT_EVERY_MS);
  }
  return c.isClosed();
}

const saslAndAuthDoNotTouch: ParityCase = {
  name: 'sasl and auth packets do not keep a session alive (a client looping on SASL sees its session expire); pings do',
  async run(port) {
    const sasl = await connect(port, { timeout_ms: SESSION_TIMEOUT_MS });
    const digest = await connect(port, { timeout_ms: SESSION_TIMEOUT_MS });
    const pinger = await connect(port, { timeout_ms: SESSION_TIMEOUT_MS });
    try {
      const [sasl_closed, auth_closed, ping_closed] = await Promise.all([
        repeatUntilClosed(sasl, () => sasl.request(Op.sasl, { token: new Uint8Array(0) }), EXPIRY_WAIT_MS),
        repeatUntilClosed(digest, () => auth(digest, 'digest', 'loop:pw'), EXPIRY_WAIT_MS),
        repeatUntilClosed(pinger, () => pinger.requestSpecial(Xid.PING, Op.ping, null), KEEPALIVE_CHECK_MS),
      ]);
      expect(sasl_closed, 'SASL-only session expired and its connection closed').toBe(true);
      expect(auth_closed, 'auth-only session expired and its connection closed').toBe(true);
      expect(ping_closed, 'pings at the same pace keep the session').toBe(false);
    } finally {
      for (const c of [sasl, digest, pinger]) c.destroy();
    }
  },
};

// ---- item 4: digest credentials without ':' ----

/** base64(sha1("user")): DigestAuthenticationProvider hashes the whole credential. */
const DIGEST_OF_USER = 'user:Et6pb+wgWTVmq3VpLJlJWWgzrck=';

const digestWithoutColon: ParityCase = {
  name: 'addauth digest "user" (no ":") authenticates as user:base64(sha1("user"))',
  async run(port) {
    const c = await connect(port);
    try {
      expect(await auth(c, 'digest', 'user')).toBe(0);
      const who = asReply(await c.request(Op.whoAmI, null)).body as WhoAmIResponse;
      const ids = who.clientInfo.map((i) => `${i.authScheme}:${i.user}`).sort();
      expect(ids).toEqual(['digest:user', 'ip:127.0.0.1']);
      const path = freshPath('nocolon');
      expect(await createWith(c, path, [entry('auth', '')])).toBe(0);
      const acl = asReply(await c.request(Op.getACL, { path })).body as GetACLResponse;
      expect(acl.acl).toEqual([{ perms: Perms.ALL, id: { scheme: 'digest', id: DIGEST_OF_USER } }]);
      // The ACL names that id: another session with the same credential may read the node.
      const other = await connect(port);
      try {
        expect(asReply(await other.request(Op.getData, { path, watch: false })).err).toBe(Err.NOAUTH);
        expect(await auth(other, 'digest', 'user')).toBe(0);
        expect(asReply(await other.request(Op.getData, { path, watch: false })).err).toBe(0);
      } finally {
        other.destroy();
      }
    } finally {
      c.destroy();
    }
  },
};

// ---- item 5: ACL ids as kazoo sends them (null strings) ----

/** [ACL, error] as Apache ZooKeeper 3.8 answers a create; the first bad entry decides. */
const NULL_ID_CREATES: ReadonlyArray<[string, RequestACL[], number]> = [
  ['world, null id', [entry('world', null)], Err.MARSHALLINGERROR],
  ['digest, null id', [entry('digest', null)], Err.MARSHALLINGERROR],
  ['ip, null id', [entry('ip', null)], Err.MARSHALLINGERROR],
  ['unknown scheme, null id', [entry('foo', null)], Err.INVALIDACL],
  ['null scheme', [entry(null, 'x')], Err.INVALIDACL],
  ['world:anyone then a null scheme (duplicate check)', [entry('world', 'anyone'), entry(null, 'x')], Err.MARSHALLINGERROR],
  ['a null scheme then world:anyone', [entry(null, 'x'), entry('world', 'anyone')], Err.INVALIDACL],
  ['world:anyone then ip, null id', [entry('world', 'anyone'), entry('ip', null)], Err.MARSHALLINGERROR],
  ['unknown scheme then world, null id', [entry('foo', 'x'), entry('world', null)], Err.INVALIDACL],
];

const nullAclIds: ParityCase = {
  name: 'ACL entries with null strings (kazoo writes "" as null) get ZooKeeper\'s answers, and the connection stays open',
  async run(port) {
    const c = await connect(port);
    try {
      // ('auth', null) is kazoo's CREATOR_ALL_ACL: INVALIDACL without an authenticated id...
      expect(await createWith(c, freshPath('auth-null'), [entry('auth', null)])).toBe(Err.INVALIDACL);
      for (const [what, acl, err] of NULL_ID_CREATES) expect(await createWith(c, freshPath('null-id'), acl), what).toBe(err);
      // ... and the caller's digest ids once it has one.
      expect(await auth(c, 'digest', 'kazoo:pw')).toBe(0);
      const path = freshPath('auth-null');
      expect(await createWith(c, path, [entry('auth', null)])).toBe(0);
      const stored = (asReply(await c.request(Op.getACL, { path })).body as GetACLResponse).acl;
      expect(stored.map((a) => `${a.perms} ${a.id.scheme} ${a.id.id.split(':')[0]}`)).toEqual([`${Perms.ALL} digest kazoo`]);
      // setACL decides the same way.
      const set = (acl: RequestACL[]) => c.request(Op.setACL, { path, acl, version: -1 }).then((r) => r.err);
      expect(await set([entry('world', null)])).toBe(Err.MARSHALLINGERROR);
      expect(await set([entry('auth', null)])).toBe(0);
      expect(c.isClosed()).toBe(false);
    } finally {
      c.destroy();
    }
  },
};

const nullAclIdInMulti: ParityCase = {
  name: 'a null ACL id inside a multi fails the whole request with MARSHALLINGERROR (no MultiResponse, nothing applied)',
  async run(port) {
    const c = await connect(port);
    try {
      const first = freshPath('multi-ok');
      const create = (path: string, acl: RequestACL[]) => ({ type: Op.create as 1, request: { path, data: utf8('x'), acl, flags: 0 } });
      const r = asReply(await c.request(Op.multi, { ops: [create(first, OPEN_ACL), create(freshPath('multi-null'), [entry('world', null)])] }));
      expect(r).toMatchObject({ err: Err.MARSHALLINGERROR, body: null });
      expect(asReply(await c.request(Op.exists, { path: first, watch: false })).err, 'the first create was not applied').toBe(Err.NONODE);
      // An INVALIDACL inside a multi stays a per-op result.
      const invalid = asReply(await c.request(Op.multi, { ops: [create(freshPath('multi-bad'), [entry('foo', 'x')])] }));
      expect(invalid.err).toBe(0);
      expect(invalid.body).toEqual([{ type: -1, response: { err: Err.INVALIDACL } }]);
    } finally {
      c.destroy();
    }
  },
};

// ---- issue 10, fuzzer findings: bodies that do not decode, trailing bytes, pings in order ----

/** The fuzzer's frame: a multi (xid 0x344801cd) whose first op header has type -1 and done=false. */
const BAD_MULTI = Buffer.from('00000011344801cd0000000effffffff00ffffffff', 'hex');
const BAD_MULTI_XID = 0x344801cd;
/** The fuzzer's ping with 7 bytes after its header. */
const PING_WITH_TRAILING_BYTES = Buffer.from('0000000ffffffffe0000000beb183499cb1667', 'hex');

/** create2 of `path` whose ACL vector claims 1000 entries, with one int left in the frame. */
function create2WithVectorPastFrame(xid: number, path: string): Buffer {
  const w = new JuteWriter();
  w.writeUString(path);
  w.writeBuffer(utf8('x'));
  w.writeInt(1000);
  w.writeInt(Perms.ALL);
  return rawRequestFrame(xid, Op.create2, w.toBytes());
}

/** A path string whose length (50) runs past the frame: the body of getData or sync. */
const PATH_PAST_FRAME = Buffer.from([0, 0, 0, 50, 0x2f]);

const NEXT_REPLY_WAIT_MS = FRAMES_WAIT_MS;

/** Zxids of the six replies, relative to the first, in malformedBodies' order (measured on
 *  ZooKeeper 3.8: each malformed write is an error txn with the next zxid, its reply carries it;
 *  the read and the sync are answered at the current zxid, taking none). */
const MALFORMED_ZXID_DELTAS = [0, 1, 2, 2, 2, 3];
/** Runs of the sequence when another session's txn took a zxid in between. */
const MALFORMED_ATTEMPTS_MAX = 3;

/** One run of malformedBodies' sequence on a fresh session: the replies' zxids relative to the first. */
async function malformedSequence(port: number): Promise<number[]> {
  const raw = await rawSession(port);
  try {
    const [a, b] = [freshPath('malformed-a'), freshPath('malformed-b')];
    raw.write(
      Buffer.concat([
        requestFrame(1, Op.create, { path: a, data: utf8('x'), acl: OPEN_ACL, flags: 0 }),
        BAD_MULTI,
        create2WithVectorPastFrame(2, freshPath('malformed-c')),
        rawRequestFrame(3, Op.getData, PATH_PAST_FRAME),
        rawRequestFrame(4, Op.sync, PATH_PAST_FRAME),
        requestFrame(5, Op.create, { path: b, data: utf8('x'), acl: OPEN_ACL, flags: 0 }),
      ]),
    );
    expect(await raw.until(() => raw.frames().length >= 7, NEXT_REPLY_WAIT_MS), 'six replies after the ConnectResponse').toBe(true);
    const replies = raw.frames().slice(1).map(replyHeader);
    const M = Err.MARSHALLINGERROR;
    expect(replies.map((r) => [r.xid, r.err])).toEqual([[1, 0], [BAD_MULTI_XID, M], [2, M], [3, M], [4, M], [5, 0]]);
    expect(raw.isClosed()).toBe(false);
    raw.write(requestFrame(6, Op.exists, { path: b, watch: false }));
    expect(await raw.until(() => raw.frames().length >= 8, NEXT_REPLY_WAIT_MS), 'still served').toBe(true);
    expect(replyHeader(raw.frames()[7])).toMatchObject({ xid: 6, err: 0 });
    // Closed cleanly, so no expiring session takes zxids during the next cases.
    raw.write(requestFrame(7, Op.closeSession, null));
    expect(await raw.waitClosed(FRAMES_WAIT_MS)).toBe(true);
    const z = replies[0].zxid;
    return replies.map((r) => r.zxid - z);
  } finally {
    raw.destroy();
  }
}

const malformedBodies: ParityCase = {
  name: 'a body that does not decode: MARSHALLINGERROR in its place in the session order; a write\'s error takes a zxid, a read\'s or a sync\'s does not; the connection stays open',
  async run(port) {
    // The server is shared with the other cases (tickTime 100 ms): a session of an earlier case
    // expiring takes a zxid of its own, which may land inside the sequence. Such a run shows
    // larger gaps, never smaller ones, and never a zxid going back; it is run again.
    for (let attempt = 1; ; attempt++) {
      const deltas = await malformedSequence(port);
      const shifted = deltas.every((d, i) => i === 0 || (d - deltas[i - 1] >= MALFORMED_ZXID_DELTAS[i] - MALFORMED_ZXID_DELTAS[i - 1] && d >= deltas[i - 1]));
      if (attempt < MALFORMED_ATTEMPTS_MAX && shifted && deltas.join() !== MALFORMED_ZXID_DELTAS.join()) continue;
      expect(deltas).toEqual(MALFORMED_ZXID_DELTAS);
      return;
    }
  },
};

const trailingBytesIgnored: ParityCase = {
  name: 'bytes after a request body are ignored: the fuzzer\'s ping with 7 extra bytes, a getData and a create with extra bytes are served',
  async run(port) {
    const raw = await rawSession(port);
    try {
      const path = freshPath('trailing');
      const extra = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
      const withExtra = (frame: Uint8Array): Buffer => {
        const b = Buffer.concat([frame, extra]);
        b.writeInt32BE(b.length - 4, 0);
        return b;
      };
      raw.write(
        Buffer.concat([
          PING_WITH_TRAILING_BYTES,
          requestFrame(1, Op.getData, { path: '/zookeeper', watch: false }),
          withExtra(requestFrame(2, Op.getData, { path: '/zookeeper', watch: false })),
          withExtra(requestFrame(3, Op.create, { path, data: utf8('x'), acl: OPEN_ACL, flags: 0 })),
          requestFrame(4, Op.exists, { path, watch: false }),
        ]),
      );
      expect(await raw.until(() => raw.frames().length >= 6, NEXT_REPLY_WAIT_MS), 'five replies after the ConnectResponse').toBe(true);
      expect(raw.frames().slice(1).map((f) => [replyHeader(f).xid, replyHeader(f).err])).toEqual([[Xid.PING, 0], [1, 0], [2, 0], [3, 0], [4, 0]]);
      expect(raw.isClosed()).toBe(false);
    } finally {
      raw.destroy();
    }
  },
};

const malformedBehindConnect: ParityCase = {
  name: 'a malformed request in the same write as the ConnectRequest: the ConnectResponse, then MARSHALLINGERROR, and the connection stays open',
  async run(port) {
    const raw = await RawConn.open(port);
    try {
      raw.write(Buffer.concat([connectRequestFrame(), BAD_MULTI, requestFrame(1, Op.exists, { path: '/', watch: false })]));
      expect(await raw.until(() => raw.frames().length >= 3, FRAMES_WAIT_MS), 'three answers').toBe(true);
      const [connect_response, ...rest] = raw.frames();
      expect(decodeConnectResponse(connect_response).timeOut).toBeGreaterThan(0);
      expect(rest.map((f) => [replyHeader(f).xid, replyHeader(f).err])).toEqual([[BAD_MULTI_XID, Err.MARSHALLINGERROR], [1, 0]]);
      expect(raw.isClosed()).toBe(false);
    } finally {
      raw.destroy();
    }
  },
};

const pingsInOrder: ParityCase = {
  name: 'a ping is answered in its place in the session order (after an earlier create), and always with xid -2',
  async run(port) {
    const raw = await rawSession(port);
    try {
      raw.write(
        Buffer.concat([
          requestFrame(1, Op.create, { path: freshPath('ping-order'), data: utf8('x'), acl: OPEN_ACL, flags: 0 }),
          requestFrame(Xid.PING, Op.ping, null),
          requestFrame(2, Op.exists, { path: '/', watch: false }),
          requestFrame(5, Op.ping, null),
        ]),
      );
      expect(await raw.until(() => raw.frames().length >= 5, NEXT_REPLY_WAIT_MS), 'four replies').toBe(true);
      expect(raw.frames().slice(1).map((f) => [replyHeader(f).xid, replyHeader(f).err])).toEqual([[1, 0], [Xid.PING, 0], [2, 0], [Xid.PING, 0]]);
    } finally {
      raw.destroy();
    }
  },
};

const nothingAfterCloseSession: ParityCase = {
  name: 'requests sent behind a closeSession are not served: its reply, then the close',
  async run(port) {
    const raw = await rawSession(port);
    try {
      raw.write(Buffer.concat([requestFrame(1, Op.closeSession, null), requestFrame(2, Op.exists, { path: '/', watch: false })]));
      expect(await raw.waitClosed(FRAMES_WAIT_MS), 'the server closes the connection').toBe(true);
      const replies = raw.frames().slice(1).map((f) => [replyHeader(f).xid, replyHeader(f).err]);
      expect(replies[0]).toEqual([1, 0]);
      // Apache ZooKeeper sometimes answers the request behind the close SESSIONEXPIRED before it
      // closes (a race in its connection teardown); it never serves it. waitfree answers nothing.
      expect(replies.slice(1).every(([, err]) => err === Err.SESSIONEXPIRED)).toBe(true);
    } finally {
      raw.destroy();
    }
  },
};

export const PARITY_CASES: readonly ParityCase[] = [
  // First: it compares zxids exactly (see the file's head).
  malformedBodies,
  trailingBytesIgnored,
  malformedBehindConnect,
  pingsInOrder,
  nothingAfterCloseSession,
  earlyRequestsWaitForTheHandshake,
  earlyFailedAuthAfterTheHandshake,
  saslWithoutConfig,
  saslNullToken,
  saslAndAuthDoNotTouch,
  digestWithoutColon,
  nullAclIds,
  nullAclIdInMulti,
];

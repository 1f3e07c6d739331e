// Fuzz: random bytes, mutated real frames (bytes flipped, inserted, deleted; opcode or xid
// swapped; length prefix fixed, kept, shifted or random) and well-formed requests with odd values,
// over fresh connections, some after a valid handshake. Whatever arrives, the server may close
// that connection or answer it, but it must not die, hang or disturb anybody else.
//
// How this fails: after each input a well-behaved session on every shard must answer an exists
// within a bound; a worker that throws on some input exits (the supervisor then stops the server),
// so the next check gets no reply and the property fails, printing fast-check's seed and the
// input. After the run, create/get/delete, `ruok` and `srvr` (which needs a stats answer from
// every worker thread: net, commit and each shard) must still work.

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JuteWriter } from '../../src/protocol/jute.js';
import { encodeRequest, type OpCode, type RequestInput } from '../../src/protocol/messages.js';
import { OPCODE_TABLE } from '../../src/protocol/opcodes.js';
import type { GetDataResponse } from '../../src/protocol/types.js';
import type { WireClient } from '../support/wire_client.js';
import { fourLetter } from '../support/servers.js';
import { OPEN_ACL, RawConn, asReply, connect, connectMany, connectRequestFrame, startTestServer, text, utf8, type TestServer } from './harness.js';

const READ_WORKERS = 2;
const RUNS = 300;
const TIME_LIMIT_MS = 15_000;
/** How long one input's connection is watched for the server's reaction before it is dropped. */
const REACTION_MS = 25;
const HEALTH_WAIT_MS = 3_000;

// ---- the corpus: real encoded requests, well-formed and semantically odd ----

function req<C extends OpCode>(type: C, body: RequestInput<C>, xid = 1): Uint8Array {
  const w = new JuteWriter();
  encodeRequest(xid, type, body, w);
  return w.toBytes();
}

function rawHeaderOnly(xid: number, type: number): Uint8Array {
  const b = Buffer.alloc(12);
  b.writeInt32BE(8, 0);
  b.writeInt32BE(xid, 4);
  b.writeInt32BE(type, 8);
  return b;
}

const DIGEST_ACL = [{ perms: 31, id: { scheme: 'digest', id: 'u:x' } }];
const BAD_ACL = [{ perms: 99, id: { scheme: 'nope', id: '' } }];

/** Whole frames (length prefix included). */
const CORPUS: readonly Uint8Array[] = [
  req(1, { path: '/fz', data: utf8('d'), acl: OPEN_ACL, flags: 0 }),
  req(1, { path: '/fz/e', data: null, acl: OPEN_ACL, flags: 1 }),
  req(1, { path: '/fz/s', data: utf8('s'), acl: OPEN_ACL, flags: 3 }),
  req(1, { path: '/fz/bad', data: null, acl: [], flags: 0 }),
  req(1, { path: '/fz/bad', data: null, acl: BAD_ACL, flags: 0 }),
  req(1, { path: '/fz/dg', data: null, acl: DIGEST_ACL, flags: 0 }),
  req(1, { path: 'relative', data: null, acl: OPEN_ACL, flags: 99 }),
  req(1, { path: '/zookeeper/x', data: null, acl: OPEN_ACL, flags: 0 }),
  req(1, { path: '/', data: null, acl: OPEN_ACL, flags: 0 }),
  req(15, { path: '/fz/c2', data: null, acl: OPEN_ACL, flags: 2 }),
  req(19, { path: '/fz/cont', data: null, acl: OPEN_ACL, flags: 4 }),
  req(21, { path: '/fz/ttl', data: null, acl: OPEN_ACL, flags: 5, ttl: 100 }),
  req(21, { path: '/fz/ttl0', data: null, acl: OPEN_ACL, flags: 0, ttl: 0 }),
  req(2, { path: '/fz', version: -1 }),
  req(2, { path: '/', version: 5 }),
  req(3, { path: '/fz', watch: true }),
  req(4, { path: '/fz', watch: true }),
  req(4, { path: '//x/.', watch: false }),
  req(5, { path: '/fz', data: utf8('x'), version: 7 }),
  req(5, { path: '/fz', data: null, version: -2 }),
  req(6, { path: '/fz' }),
  req(7, { path: '/fz', acl: BAD_ACL, version: -1 }),
  req(7, { path: '/fz', acl: [], version: 0 }),
  req(8, { path: '/', watch: true }),
  req(12, { path: '/fz', watch: true }),
  req(9, { path: '/fz' }),
  req(9, { path: 'no-slash' }),
  req(13, { path: '/fz', version: 0 }),
  req(14, {
    ops: [
      { type: 1, request: { path: '/fz/m', data: null, acl: OPEN_ACL, flags: 0 } },
      { type: 5, request: { path: '/fz/m', data: utf8('y'), version: 0 } },
      { type: 13, request: { path: '/fz', version: -1 } },
      { type: 2, request: { path: '/fz/m', version: -1 } },
    ],
  }),
  req(14, { ops: [{ type: 4, request: { path: '/fz', watch: false } }, { type: 2, request: { path: '/fz', version: -1 } }] }),
  req(14, { ops: [] }),
  req(22, { ops: [{ type: 8, request: { path: '/', watch: false } }, { type: 4, request: { path: '/nope', watch: true } }] }),
  req(22, { ops: [{ type: 1, request: { path: '/fz/r', data: null, acl: OPEN_ACL, flags: 0 } }] }),
  req(103, { prefixPath: '/' }),
  req(104, { path: '/' }),
  req(106, { path: '/fz', mode: 1 }),
  req(106, { path: '/fz', mode: 9 }),
  req(17, { path: '/fz', type: 3 }),
  req(18, { path: '/fz', type: 7 }),
  req(101, { relativeZxid: 0, dataWatches: ['/fz'], existWatches: ['/nope'], childWatches: ['/'] }, -8),
  req(
    105,
    { relativeZxid: 2 ** 40, dataWatches: ['bad'], existWatches: [], childWatches: ['/fz'], persistentWatches: ['/'], persistentRecursiveWatches: ['/fz'] },
    -8,
  ),
  req(100, { type: 0, scheme: 'digest', auth: utf8('u:x') }, -4),
  req(100, { type: 0, scheme: 'ip', auth: utf8('1.2.3.4') }, -4),
  req(16, { joiningServers: 'a', leavingServers: 'b', newMembers: '', curConfigId: -1 }),
  req(102, { token: utf8('t') }),
  rawHeaderOnly(2, 107), // whoAmI
  rawHeaderOnly(-2, 11), // ping
  rawHeaderOnly(3, -11), // closeSession
  rawHeaderOnly(4, 20), // deleteContainer (internal)
  rawHeaderOnly(5, 0), // notification (internal)
  rawHeaderOnly(6, -10), // createSession (internal)
  rawHeaderOnly(7, 12345),
  connectRequestFrame(),
  connectRequestFrame({ readOnly: null, sessionId: 0x1234n, timeout_ms: -1 }),
];

// ---- mutations ----

type Edit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; n: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0x00, 0xff, 0x7f, 0x80, 0x2f, 0x01) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
);

/** What the length prefix becomes: fixed to the mutated payload, the original, or anything. */
const lengthRule = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'fix' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'keep' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delta' as const), by: fc.integer({ min: -16, max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('any' as const), value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }) },
);

function applyEdits(payload: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let b = Buffer.from(payload);
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % (b.length + (e.kind === 'insert' ? 1 : 0));
    switch (e.kind) {
      case 'flip':
        if (b.length > 0) b[at] ^= 1 << e.bit;
        break;
      case 'set':
        if (b.length > 0) b[at] = e.byte;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.n)]);
        break;
    }
  }
  return b;
}

/** Every opcode the protocol knows, plus a few it does not. */
const OPCODES = [...OPCODE_TABLE.map((o) => o.code), 10, 23, 108, -12, 0x7fffffff];
const SPECIAL_XIDS = [-1, -2, -4, -8, 0, 0x7fffffff, -0x80000000];

/** Header edits keep the body intact: a valid body under another opcode, or a special xid. */
const header = fc.record({
  type: fc.option(fc.constantFrom(...OPCODES), { nil: undefined }),
  xid: fc.option(fc.constantFrom(...SPECIAL_XIDS), { nil: undefined }),
});

const mutatedFrame = fc
  .record({
    base: fc.nat({ max: CORPUS.length - 1 }),
    header,
    edits: fc.array(edit, { minLength: 0, maxLength: 4 }),
    length: lengthRule,
  })
  .map(({ base, header, edits, length }) => {
    const original = Buffer.from(CORPUS[base]);
    const retyped = Buffer.from(original.subarray(4));
    if (header.xid !== undefined && retyped.length >= 4) retyped.writeInt32BE(header.xid, 0);
    if (header.type !== undefined && retyped.length >= 8) retyped.writeInt32BE(header.type, 4);
    const payload = applyEdits(retyped, edits);
    const prefix = Buffer.alloc(4);
    const value =
      length.kind === 'fix'
        ? payload.length
        : length.kind === 'keep'
          ? original.readInt32BE(0)
          : length.kind === 'delta'
            ? payload.length + length.by
            : length.value;
    prefix.writeInt32BE(value | 0, 0);
    return new Uint8Array(Buffer.concat([prefix, payload]));
  });

// ---- well-formed requests with odd values: they decode, so they reach the read path, the
// session ops, prep and apply (the random and mutated bytes above mostly stop at the decoder) ----

const PATHS = ['/', '/fz', '/fz/a', '/fz/a/b', '/fzq', '/zookeeper', '/zookeeper/quota', '/zookeeper/config', 'rel', '', '/fz/', '//', '/fz/./a', '/fz\u0001', '/\u0000'];
const path = fc.constantFrom(...PATHS);
const int32 = fc.oneof(fc.integer({ min: -3, max: 8 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
const data = fc.option(fc.uint8Array({ maxLength: 16 }), { nil: null });
const ACLS = [OPEN_ACL, [], BAD_ACL, DIGEST_ACL, [{ perms: 31, id: { scheme: 'auth', id: '' } }], [{ perms: 1, id: { scheme: 'ip', id: '127.0.0.1/40' } }], [{ perms: 0, id: { scheme: 'world', id: 'anyone' } }]];
const acl = fc.constantFrom(...ACLS);
const ttl = fc.oneof(fc.integer({ min: -2, max: 2000 }), fc.maxSafeInteger());
const createBody = fc.record({ path, data, acl, flags: int32 });
const pathWatch = fc.record({ path, watch: fc.boolean() });
const pathVersion = fc.record({ path, version: int32 });
const paths = fc.array(path, { maxLength: 3 });

const multiOp = fc.oneof(
  fc.record({ type: fc.constantFrom(1 as const, 15 as const, 19 as const), request: createBody }),
  fc.record({ type: fc.constant(21 as const), request: fc.record({ path, data, acl, flags: int32, ttl }) }),
  fc.record({ type: fc.constant(2 as const), request: pathVersion }),
  fc.record({ type: fc.constant(5 as const), request: fc.record({ path, data, version: int32 }) }),
  fc.record({ type: fc.constant(13 as const), request: pathVersion }),
  fc.record({ type: fc.constantFrom(4 as const, 8 as const), request: pathWatch }),
);
const multiBody = fc.record({ ops: fc.array(multiOp, { maxLength: 4 }) });

const wellFormed: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.tuple(fc.constantFrom(1 as const, 15 as const, 19 as const), createBody).map(([t, b]) => req(t, b)),
  fc.record({ path, data, acl, flags: int32, ttl }).map((b) => req(21, b)),
  pathVersion.map((b) => req(2, b)),
  fc.tuple(fc.constantFrom(3 as const, 4 as const, 8 as const, 12 as const), pathWatch).map(([t, b]) => req(t, b)),
  fc.record({ path, data, version: int32 }).map((b) => req(5, b)),
  path.map((p) => req(6, { path: p })),
  fc.record({ path, acl, version: int32 }).map((b) => req(7, b)),
  path.map((p) => req(9, { path: p })),
  pathVersion.map((b) => req(13, b)),
  multiBody.map((b) => req(14, b)),
  multiBody.map((b) => req(22, b)),
  path.map((p) => req(103, { prefixPath: p })),
  path.map((p) => req(104, { path: p })),
  fc.record({ path, mode: int32 }).map((b) => req(106, b)),
  fc.tuple(fc.constantFrom(17 as const, 18 as const), fc.record({ path, type: int32 })).map(([t, b]) => req(t, b)),
  fc
    .record({ relativeZxid: fc.oneof(fc.integer({ min: -1, max: 100 }), fc.maxSafeInteger()), dataWatches: paths, existWatches: paths, childWatches: paths })
    .map((b) => req(101, b, -8)),
  fc
    .record({
      relativeZxid: fc.integer({ min: -1, max: 100 }),
      dataWatches: paths,
      existWatches: paths,
      childWatches: paths,
      persistentWatches: paths,
      persistentRecursiveWatches: paths,
    })
    .map((b) => req(105, b, -8)),
  fc
    .record({ type: int32, scheme: fc.constantFrom('digest', 'ip', 'world', 'super', ''), auth: fc.uint8Array({ maxLength: 12 }) })
    .map((b) => req(100, b, -4)),
  fc.constantFrom(rawHeaderOnly(9, 107), rawHeaderOnly(-2, 11), rawHeaderOnly(10, 11)),
);

const validFrame = fc.nat({ max: CORPUS.length - 1 }).map((i) => CORPUS[i]);
const randomBytes = fc.uint8Array({ minLength: 1, maxLength: 256 });

const input = fc.record({
  /** none: bytes are the connection's first; wait: after the ConnectResponse; eager: right behind the ConnectRequest. */
  handshake: fc.constantFrom('none', 'wait', 'eager'),
  frames: fc.array(
    fc.oneof(
      { weight: 4, arbitrary: mutatedFrame },
      { weight: 4, arbitrary: wellFormed },
      { weight: 2, arbitrary: randomBytes },
      { weight: 1, arbitrary: validFrame },
    ),
    { minLength: 1, maxLength: 3 },
  ),
});

// ---- the test ----

/**
 * The workers log every connection they close for malformed input (and every session they refuse);
 * hundreds of fuzz inputs would bury the test report in those lines. They are counted, not
 * printed, while the fuzz runs. Anything else (a worker's crash report) still goes through.
 */
function muteMalformedLogs(): { restore(): number } {
  const original = process.stderr.write.bind(process.stderr);
  let muted = 0;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    const s = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
    if (/^waitfree: (closing connection .*(malformed|outside|jute\.maxbuffer)|refusing session)/.test(s)) {
      muted++;
      return true;
    }
    return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  return {
    restore() {
      process.stderr.write = original;
      return muted;
    },
  };
}

// The fuzz may setACL on / (it is in the path pool): the well-behaved sessions authenticate as the
// super user so that an ACL the fuzz set cannot be mistaken for a broken server.
const SUPER_DIGEST = `super:${createHash('sha1').update('super:fuzz').digest('base64')}`;

async function authAsSuper(c: WireClient): Promise<void> {
  const r = await c.requestSpecial(-4, 100, { type: 0, scheme: 'digest', auth: utf8('super:fuzz') });
  expect(r.err).toBe(0);
}

describe('fuzz: random and mutated frames', () => {
  let server: TestServer;
  let good: WireClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      read_workers: READ_WORKERS,
      jute_max_buffer_bytes: 64 * 1024,
      four_letter_whitelist: 'ruok,srvr',
      extended_types_enabled: true,
      super_digest: SUPER_DIGEST,
    });
    good = await connectMany(server.port, READ_WORKERS, { timeout_ms: 40_000 });
    for (const g of good) {
      await authAsSuper(g);
      g.startKeepalive(2_000);
    }
  });
  afterAll(async () => {
    for (const g of good) g.destroy();
    await server?.stop();
  });

  /** Every well-behaved session answers an exists within HEALTH_WAIT_MS. */
  async function healthy(): Promise<boolean> {
    const answers = await Promise.all(
      good.map(async (g) => {
        if (g.isClosed()) return false;
        const r = g.request(3, { path: '/', watch: false }).then(
          (x) => x.err === 0,
          () => false,
        );
        const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), HEALTH_WAIT_MS).unref());
        return Promise.race([r, timeout]);
      }),
    );
    return answers.every(Boolean);
  }

  it('the server survives random and mutated input, and serves everyone else throughout', async () => {
    const mute = muteMalformedLogs();
    let runs = 0;
    try {
      await fc.assert(
        fc.asyncProperty(input, async ({ handshake, frames }) => {
          runs++;
          const c = await RawConn.open(server.port);
          try {
            if (handshake === 'wait') {
              c.write(connectRequestFrame({ timeout_ms: 1 }));
              await c.until(() => c.frames().length >= 1, 2_000);
            }
            const bytes = Buffer.concat(frames.map((f) => Buffer.from(f)));
            c.write(handshake === 'eager' ? Buffer.concat([connectRequestFrame({ timeout_ms: 1 }), bytes]) : bytes);
            await c.until(() => c.isClosed(), REACTION_MS);
          } finally {
            c.destroy();
          }
          return healthy();
        }),
        { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, endOnFailure: true },
      );
    } finally {
      const muted = mute.restore();
      console.log(`fuzz: ${runs} inputs, ${muted} malformed-input closes logged by the server (muted)`);
    }

    // Everybody else still gets served: the old sessions and a new one.
    const fresh = await connect(server.port);
    await authAsSuper(fresh);
    try {
      for (const [i, g] of [...good, fresh].entries()) {
        const path = `/after-fuzz-${i}`;
        expect(asReply(await g.request(1, { path, data: utf8('ok'), acl: OPEN_ACL, flags: 0 })).err).toBe(0);
        expect(text((asReply(await g.request(4, { path, watch: false })).body as GetDataResponse).data)).toBe('ok');
        expect(asReply(await g.request(2, { path, version: -1 })).err).toBe(0);
      }
    } finally {
      fresh.destroy();
    }
    expect(await fourLetter(server.port, 'ruok')).toBe('imok');
    // srvr gathers stats from every worker thread (net, commit, each shard): all alive.
    const srvr = await fourLetter(server.port, 'srvr');
    expect(srvr).toContain('Zookeeper version:');
    expect(srvr).toContain('Mode: standalone');
    expect(srvr).not.toContain('Error:');
  }, 60_000);
});

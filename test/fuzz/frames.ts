// Frame generators for the protocol fuzz (fast-check arbitraries), shared by the CI test
// (test/fuzz/protocol_fuzz.test.ts) and the long run (test/fuzz/long_run.fuzz.ts).
//
// Four sources of request frames, all whole frames (int32 length prefix included):
// - well-formed: every opcode of OPCODE_TABLE, encoded by src/protocol/messages.ts encodeRequest
//   from typed bodies with odd but encodable values (they decode, so they reach the read path,
//   session ops, prep and apply);
// - mutated: a well-formed frame with bytes flipped, set, inserted or deleted, truncated at any
//   length, extended, and a length prefix that is fixed, kept, shifted, > jute.maxbuffer or < 0;
// - hostile: bodies written field by field from the record schemas (RECORD_SCHEMAS), where any
//   field may be invalid UTF-8, a null or negative length, a length or vector count far beyond
//   the frame (2^31-1 children in a 40-byte frame), a bool of 0xff; multi bodies with garbage op
//   headers, nested multis, missing terminators, negative types;
// - random bytes.
//
// Invariant: every arbitrary here is pure (a value depends only on fast-check's random source), so
// a seed reproduces a case exactly.

import fc from 'fast-check';
import { encodeConnectRequest } from '../../src/protocol/connect.js';
import type { FieldType } from '../../src/protocol/codec.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import { encodeRequest, opBodies, type OpCode, type RequestInput } from '../../src/protocol/messages.js';
import { OPCODE_TABLE } from '../../src/protocol/opcodes.js';
import { RECORD_SCHEMAS, type RecordName } from '../../src/protocol/records.js';
import type { ACL, MultiOp } from '../../src/protocol/types.js';

/** The bounds of the server under test that the generators aim at (and just past). */
export interface FuzzLimits {
  /** The server's jute.maxbuffer: the largest frame payload it accepts. */
  readonly jute_max_buffer_bytes: number;
}

const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;

// ---- byte helpers ----

function int32(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v | 0, 0);
  return b;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}

/** len | payload, with the true length. */
export function framed(payload: Uint8Array): Uint8Array {
  return concat([int32(payload.length), payload]);
}

function encodeFrame<C extends OpCode>(xid: number, type: C, body: RequestInput<C>): Uint8Array {
  const w = new JuteWriter();
  encodeRequest(xid, type, body, w);
  return w.toBytes();
}

/** Session timeout the fuzz asks for: longer than any wait for an answer (conn_driver.ts
 *  reply_wait_ms), so that a session expiring can never pass for the server answering with a
 *  close; short enough that the sessions the fuzz leaves behind expire soon. */
export const FUZZ_SESSION_TIMEOUT_MS = 20_000;

/** A whole ConnectRequest frame. */
export function connectFrame(opts: { timeout_ms?: number; sessionId?: bigint; lastZxidSeen?: number; readOnly?: boolean | null } = {}): Uint8Array {
  const w = new JuteWriter();
  encodeConnectRequest(
    {
      protocolVersion: 0,
      lastZxidSeen: opts.lastZxidSeen ?? 0,
      timeOut: opts.timeout_ms ?? FUZZ_SESSION_TIMEOUT_MS,
      sessionId: opts.sessionId ?? 0n,
      passwd: new Uint8Array(16),
      readOnly: opts.readOnly === undefined ? false : opts.readOnly,
    },
    w,
  );
  return w.toBytes();
}

// ---- value pools for well-formed bodies ----

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Paths the fuzz may touch. Never a bystander's path (test/fuzz/bystanders.ts uses /bystander-*). */
export const FUZZ_PATHS = [
  '/',
  '/fz',
  '/fz/a',
  '/fz/a/b',
  '/fzq',
  '/zookeeper',
  '/zookeeper/quota',
  '/zookeeper/config',
  'rel',
  '',
  '/fz/',
  '//',
  '/fz/./a',
  '/fz\u0001',
  '/\u0000',
  '/fz/\ud800', // a lone surrogate: TextEncoder writes U+FFFD
  '/fz/é/日本',
] as const;

const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const ACLS: ACL[][] = [
  OPEN_ACL,
  [],
  [{ perms: 99, id: { scheme: 'nope', id: '' } }],
  [{ perms: 31, id: { scheme: 'digest', id: 'u:x' } }],
  [{ perms: 31, id: { scheme: 'auth', id: '' } }],
  [{ perms: 1, id: { scheme: 'ip', id: '127.0.0.1/40' } }],
  [{ perms: 1, id: { scheme: 'ip', id: 'not-an-ip' } }],
  [{ perms: 0, id: { scheme: 'world', id: 'anyone' } }],
  [{ perms: -1, id: { scheme: 'world', id: 'nobody' } }],
];

const path = fc.constantFrom(...FUZZ_PATHS);
const paths = fc.array(path, { maxLength: 3 });
const smallInt = fc.oneof(fc.integer({ min: -3, max: 8 }), fc.constantFrom(INT32_MAX, INT32_MIN, 0x10000));
const anyInt = fc.oneof(smallInt, fc.integer({ min: INT32_MIN, max: INT32_MAX }));
const long53 = fc.oneof(fc.integer({ min: -1, max: 100 }), fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 40));
const data = fc.option(fc.uint8Array({ maxLength: 24 }), { nil: null });
const acl = fc.constantFrom(...ACLS);
const createBody = fc.record({ path, data, acl, flags: anyInt });
const createTtlBody = fc.record({ path, data, acl, flags: anyInt, ttl: long53 });
const pathWatch = fc.record({ path, watch: fc.boolean() });
const pathVersion = fc.record({ path, version: anyInt });
const pathType = fc.record({ path, type: anyInt });

const multiOp: fc.Arbitrary<MultiOp> = fc.oneof(
  fc.record({ type: fc.constantFrom(1 as const, 15 as const, 19 as const), request: createBody }),
  fc.record({ type: fc.constant(21 as const), request: createTtlBody }),
  fc.record({ type: fc.constantFrom(2 as const, 13 as const), request: pathVersion }),
  fc.record({ type: fc.constant(5 as const), request: fc.record({ path, data, version: anyInt }) }),
  fc.record({ type: fc.constantFrom(4 as const, 8 as const), request: pathWatch }),
);
const multiBody = fc.record({ ops: fc.array(multiOp, { maxLength: 5 }) });
const setWatchesBody = fc.record({ relativeZxid: long53, dataWatches: paths, existWatches: paths, childWatches: paths });

/**
 * A typed body arbitrary for every opcode of OPCODE_TABLE: the mapped type makes a new opcode a
 * compile error here until the fuzz knows how to build its body.
 */
const BODIES: { readonly [C in OpCode]: fc.Arbitrary<RequestInput<C>> } = {
  0: fc.constant(null),
  1: createBody,
  2: pathVersion,
  3: pathWatch,
  4: pathWatch,
  5: fc.record({ path, data, version: anyInt }),
  6: fc.record({ path }),
  7: fc.record({ path, acl, version: anyInt }),
  8: pathWatch,
  9: fc.record({ path }),
  11: fc.constant(null),
  12: pathWatch,
  13: pathVersion,
  14: multiBody,
  15: createBody,
  16: fc.record({
    joiningServers: fc.option(fc.constantFrom('server.2=127.0.0.1:2888:3888', ''), { nil: null }),
    leavingServers: fc.option(fc.constantFrom('1', 'x'), { nil: null }),
    newMembers: fc.option(fc.constantFrom('', 'server.1=a'), { nil: null }),
    curConfigId: long53,
  }),
  17: pathType,
  18: pathType,
  19: createBody,
  20: pathVersion,
  21: createTtlBody,
  22: multiBody,
  100: fc.record({
    type: smallInt,
    scheme: fc.constantFrom('digest', 'ip', 'world', 'super', 'sasl', ''),
    auth: fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.constantFrom(utf8('u:x'), utf8('super:wrong'), utf8(':'), utf8('127.0.0.1'))),
  }),
  101: setWatchesBody,
  102: fc.record({ token: fc.option(fc.uint8Array({ maxLength: 12 }), { nil: null }) }),
  103: fc.record({ prefixPath: path }),
  104: fc.record({ path }),
  105: fc.record({
    relativeZxid: long53,
    dataWatches: paths,
    existWatches: paths,
    childWatches: paths,
    persistentWatches: paths,
    persistentRecursiveWatches: paths,
  }),
  106: fc.record({ path, mode: smallInt }),
  107: fc.constant(null),
  [-10]: fc.constant(null),
  [-11]: fc.constant(null),
  [-1]: fc.constant(null),
};

/** Every opcode in OPCODE_TABLE. */
export const ALL_OPCODES: readonly OpCode[] = OPCODE_TABLE.map((o) => o.code);

/** The xid a well-behaved client uses for the op (special ones for ping, auth, setWatches). */
function usualXid(code: number): number {
  if (code === 11) return -2;
  if (code === 100) return -4;
  if (code === 101 || code === 105) return -8;
  return 1;
}

const SPECIAL_XIDS = [-1, -2, -4, -8, 0, INT32_MAX, INT32_MIN] as const;
const xidFor = (code: number): fc.Arbitrary<number> =>
  fc.oneof({ weight: 8, arbitrary: fc.constant(usualXid(code)) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 1000 }) }, { weight: 1, arbitrary: fc.constantFrom(...SPECIAL_XIDS) });

/** A well-formed request frame of the given opcode. */
export function wellFormedOf<C extends OpCode>(code: C): fc.Arbitrary<Uint8Array> {
  const body: fc.Arbitrary<RequestInput<C>> = BODIES[code];
  return fc.tuple(xidFor(code), body).map(([xid, b]) => encodeFrame(xid, code, b));
}

/** A well-formed request frame, opcode drawn uniformly from OPCODE_TABLE. */
export const wellFormedFrame: fc.Arbitrary<Uint8Array> = fc.constantFrom(...ALL_OPCODES).chain((code) => wellFormedOf(code));

// ---- mutations of whole frames ----

type Edit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; n: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0x00, 0xff, 0x7f, 0x80, 0x2f, 0x01, 0xc0, 0xed) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
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
  return new Uint8Array(b);
}

/** What the length prefix of a mutated frame says. */
type LengthRule =
  | { kind: 'fix' }
  | { kind: 'keep' }
  | { kind: 'delta'; by: number }
  | { kind: 'over_max'; by: number }
  | { kind: 'negative'; value: number }
  | { kind: 'any'; value: number };

const lengthRule: fc.Arbitrary<LengthRule> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ kind: 'fix' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'keep' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delta' as const), by: fc.integer({ min: -16, max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('over_max' as const), by: fc.constantFrom(1, 2, 4096, INT32_MAX) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('negative' as const), value: fc.constantFrom(-1, -2, -8, INT32_MIN) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('any' as const), value: fc.integer({ min: INT32_MIN, max: INT32_MAX }) }) },
);

function lengthPrefix(rule: LengthRule, original_len: number, payload_len: number, limits: FuzzLimits): number {
  switch (rule.kind) {
    case 'fix':
      return payload_len;
    case 'keep':
      return original_len;
    case 'delta':
      return payload_len + rule.by;
    case 'over_max':
      return Math.min(INT32_MAX, limits.jute_max_buffer_bytes + rule.by);
    case 'negative':
    case 'any':
      return rule.value;
  }
}

/** What happens to the payload's tail: nothing, cut at any length, or more bytes appended. */
type Tail = { kind: 'as_is' } | { kind: 'truncate'; keep: number } | { kind: 'extend'; bytes: Uint8Array };

const tail: fc.Arbitrary<Tail> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'as_is' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }) },
);

function applyTail(payload: Uint8Array, t: Tail): Uint8Array {
  if (t.kind === 'truncate') return payload.subarray(0, t.keep % (payload.length + 1));
  if (t.kind === 'extend') return concat([payload, t.bytes]);
  return payload;
}

/** The frame's xid or opcode replaced (a valid body under another opcode, or an odd xid). */
const OPCODE_SWAPS = [...ALL_OPCODES, 10, 23, 108, -12, INT32_MAX, INT32_MIN];
const rarely = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
const headerSwap = fc.record({ type: rarely(fc.constantFrom(...OPCODE_SWAPS)), xid: rarely(fc.constantFrom(...SPECIAL_XIDS)) });

/** Mutates a whole frame (prefix included): header swaps, edits, a tail rule, a length rule. */
export function mutated(source: fc.Arbitrary<Uint8Array>, limits: FuzzLimits): fc.Arbitrary<Uint8Array> {
  return fc
    .record({ frame: source, header: headerSwap, edits: fc.array(edit, { maxLength: 4 }), tail, length: lengthRule })
    .map(({ frame, header, edits, tail: t, length }) => {
      const original = Buffer.from(frame);
      const payload = Buffer.from(original.subarray(4));
      if (header.xid !== undefined && payload.length >= 4) payload.writeInt32BE(header.xid, 0);
      if (header.type !== undefined && payload.length >= 8) payload.writeInt32BE(header.type, 4);
      const out = applyTail(applyEdits(payload, edits), t);
      return concat([int32(lengthPrefix(length, original.readInt32BE(0), out.length, limits)), out]);
    });
}

// ---- hostile bodies, written field by field from the record schemas ----

/** Byte sequences that are not UTF-8: bad lead/continuation bytes, overlongs, surrogates, cut sequences. */
export const INVALID_UTF8: readonly Uint8Array[] = [
  Uint8Array.of(0xff),
  Uint8Array.of(0xfe, 0xfe),
  Uint8Array.of(0xc3, 0x28),
  Uint8Array.of(0xc0, 0xaf), // overlong '/'
  Uint8Array.of(0xe0, 0x80, 0xaf), // overlong '/'
  Uint8Array.of(0xed, 0xa0, 0x80), // UTF-16 surrogate
  Uint8Array.of(0xf4, 0x90, 0x80, 0x80), // > U+10FFFF
  Uint8Array.of(0xe2, 0x82), // cut 3-byte sequence
  Uint8Array.of(0x80),
  Uint8Array.of(0x2f, 0x00, 0x2f), // NUL inside
];

const invalidUtf8 = fc.constantFrom(...INVALID_UTF8);

/** A string field's bytes (length prefix included), valid or not. */
const stringField: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: path.map((p) => withLength(utf8(p))) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom('/', '/fz/', ''), invalidUtf8, fc.constantFrom('', 'x', '/a'))
      .map(([pre, bad, post]) => withLength(concat([utf8(pre), bad, utf8(post)]))),
  },
  { weight: 3, arbitrary: oddLength() },
);

/** A buffer field's bytes: a short buffer, null, or an odd length. */
const bufferField: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 24 }).map(withLength) },
  { weight: 2, arbitrary: invalidUtf8.map(withLength) },
  { weight: 3, arbitrary: oddLength() },
);

function withLength(b: Uint8Array): Uint8Array {
  return concat([int32(b.length), b]);
}

/** A length that does not describe what follows: null, negative, or far more than the frame holds. */
function oddLength(): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.constantFrom(-1, -2, INT32_MIN, INT32_MAX, 0x7ffffff0, 0x100000, 1000, 17), fc.uint8Array({ maxLength: 8 }))
    .map(([len, following]) => concat([int32(len), following]));
}

const intField = anyInt.map(int32);
const longField: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    fc.constantFrom(0n, -1n, 1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 0x1234n),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  )
  .map((v) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v, 0);
    return new Uint8Array(b);
  });
const boolField = fc.constantFrom(0, 1, 2, 0x80, 0xff).map((v) => Uint8Array.of(v));

const field_arbs = new Map<string, fc.Arbitrary<Uint8Array>>();

/** A field of any wire type, usually valid, often not. Records are never recursive: no depth bound needed. */
function fieldOf(type: FieldType): fc.Arbitrary<Uint8Array> {
  const key = JSON.stringify(type);
  const known = field_arbs.get(key);
  if (known !== undefined) return known;
  let arb: fc.Arbitrary<Uint8Array>;
  if (typeof type === 'string') {
    arb = {
      int: intField,
      long: longField,
      long53: longField,
      bool: boolField,
      ustring: stringField,
      string: stringField,
      buffer: bufferField,
      bytes: bufferField,
    }[type];
  } else if ('vector' in type) {
    arb = vectorOf(fieldOf(type.vector));
  } else {
    arb = hostileRecord(type.record as RecordName);
  }
  field_arbs.set(key, arb);
  return arb;
}

/** A vector: a true count, null (-1), negative, or a huge count (2^31-1) over 0-2 elements. */
function vectorOf(element: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.array(element, { maxLength: 3 }).map((els) => concat([int32(els.length), ...els])) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(INT32_MAX, 0x40000000, 1_000_000, 65_536, -1, -2, INT32_MIN), fc.array(element, { maxLength: 2 }))
        .map(([count, els]) => concat([int32(count), ...els])),
    },
  );
}

/** A record written field by field in schema order, any field hostile. */
export function hostileRecord(name: RecordName): fc.Arbitrary<Uint8Array> {
  const fields: readonly (readonly [string, FieldType])[] = RECORD_SCHEMAS[name];
  return fc.tuple(...fields.map(([, type]) => fieldOf(type))).map((parts) => concat(parts));
}

/** Op types a multi header may carry: valid ones, read ops, the terminator's -1, nested multis, junk. */
const MULTI_HEADER_TYPES = [1, 2, 5, 13, 15, 19, 21, 4, 8, 14, 22, -1, 0, 3, 11, 100, -11, INT32_MAX, INT32_MIN, -5] as const;

const MULTI_OP_RECORDS: ReadonlyMap<number, RecordName> = new Map([
  [1, 'CreateRequest'],
  [15, 'CreateRequest'],
  [19, 'CreateRequest'],
  [21, 'CreateTTLRequest'],
  [2, 'DeleteRequest'],
  [5, 'SetDataRequest'],
  [13, 'CheckVersionRequest'],
  [4, 'GetDataRequest'],
  [8, 'GetChildrenRequest'],
]);

/** One multi element: header (type, done, err) + a body (the type's record, hostile or not, or junk). */
const multiElement: fc.Arbitrary<Uint8Array> = fc
  .record({
    type: fc.constantFrom(...MULTI_HEADER_TYPES),
    done: fc.constantFrom(0, 0, 0, 1, 2, 0xff),
    err: fc.constantFrom(-1, 0, 5, INT32_MIN),
    body: fc.nat(),
    junk: fc.uint8Array({ maxLength: 12 }),
  })
  .chain(({ type, done, err, body, junk }) => {
    const head = concat([int32(type), Uint8Array.of(done), int32(err)]);
    const record = MULTI_OP_RECORDS.get(type);
    if (type === 14 || type === 22) return garbageMultiBody(1).map((inner) => concat([head, inner]));
    if (record === undefined || body % 4 === 0) return fc.constant(concat([head, junk]));
    return hostileRecord(record).map((b) => concat([head, b]));
  });

/** A multi body: 0-5 elements, then the terminator, a garbage terminator, or nothing. */
function garbageMultiBody(depth: number): fc.Arbitrary<Uint8Array> {
  const element = depth <= 0 ? multiElementFlat : multiElement;
  return fc
    .tuple(fc.array(element, { maxLength: 5 }), fc.constantFrom('terminator', 'terminator', 'not_done', 'none', 'done_type_5'))
    .map(([els, end]) => {
      const terminator =
        end === 'terminator'
          ? concat([int32(-1), Uint8Array.of(1), int32(-1)])
          : end === 'not_done'
            ? concat([int32(-1), Uint8Array.of(0), int32(-1)])
            : end === 'done_type_5'
              ? concat([int32(5), Uint8Array.of(1), int32(0)])
              : new Uint8Array(0);
      return concat([...els, terminator]);
    });
}

/** An element that does not nest further (bounds the recursion of nested multis). */
const multiElementFlat: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.constantFrom(...MULTI_HEADER_TYPES), fc.constantFrom(0, 1, 0xff), fc.uint8Array({ maxLength: 16 }))
  .map(([type, done, junk]) => concat([int32(type), Uint8Array.of(done), int32(-1), junk]));

/** The body bytes the given opcode's request record would have, written hostile. */
function hostileBodyOf(code: number): fc.Arbitrary<Uint8Array> {
  const request = opBodies(code)?.request ?? null;
  if (request === null) return fc.uint8Array({ maxLength: 8 });
  if (request === 'MultiOperationRecord') return garbageMultiBody(2);
  if (request === 'MultiResponse') return fc.uint8Array({ maxLength: 8 });
  return hostileRecord(request);
}

/** A request of any opcode with a hostile body, the length prefix true to the payload. */
export const hostileFrame: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.constantFrom(...ALL_OPCODES), fc.nat())
  .chain(([code, xid_pick]) => hostileBodyOf(code).map((body) => framed(concat([int32(xid_pick % 2 === 0 ? usualXid(code) : xid_pick), int32(code), body]))));

/** Hostile bodies of one opcode (for the per-opcode tests). */
export function hostileOf(code: number): fc.Arbitrary<Uint8Array> {
  return hostileBodyOf(code).map((body) => framed(concat([int32(usualXid(code)), int32(code), body])));
}

/** Bytes from nowhere. */
export const randomBytes = fc.uint8Array({ minLength: 1, maxLength: 256 });

/** Any request frame the fuzz sends. */
export function anyFrame(limits: FuzzLimits): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 4, arbitrary: wellFormedFrame },
    { weight: 4, arbitrary: mutated(wellFormedFrame, limits) },
    { weight: 3, arbitrary: hostileFrame },
    { weight: 1, arbitrary: mutated(hostileFrame, limits) },
    { weight: 1, arbitrary: randomBytes },
  );
}

/** The first frame of a connection that skips the scripted handshake: a (mutated) ConnectRequest or anything. */
export function openingFrame(limits: FuzzLimits): fc.Arbitrary<Uint8Array> {
  const connects = fc.constantFrom(
    connectFrame(),
    connectFrame({ readOnly: null }),
    connectFrame({ readOnly: true }),
    connectFrame({ sessionId: 0x1234n }),
    connectFrame({ lastZxidSeen: 2 ** 40 }),
    connectFrame({ timeout_ms: -1 }),
  );
  return fc.oneof({ weight: 3, arbitrary: mutated(connects, limits) }, { weight: 1, arbitrary: connects }, { weight: 1, arbitrary: anyFrame(limits) });
}

// ---- connection scripts ----

/**
 * What one fuzz connection does, in two phases.
 * - handshake 'wait': a valid ConnectRequest, wait for the ConnectResponse, then the frames;
 *   'eager': the ConnectRequest and the frames in one stream; 'none': the frames alone (the first
 *   one, a valid or mutated ConnectRequest or anything, is taken as the ConnectRequest).
 * - served: well-formed requests (phase 1); odd: frames of any kind (phase 2). Most odd frames
 *   end the connection (the server closes on a malformed one), so well-formed ones come first:
 *   they build session state (watches, ephemerals, auth) that the odd frames then meet.
 * - settle: wait for every phase-1 frame to be answered (or the connection closed) before phase
 *   2, so that no later close can hide a request that was never answered; without it both phases
 *   go out back to back (a malformed frame lands while earlier requests are in flight).
 * - cuts: where each phase's bytes are split into separate socket writes (offsets taken modulo
 *   the phase's length); empty = one write per phase.
 * - end: 'half_close' ends the client's side after writing (the server must close the
 *   connection); 'open' leaves it open until the answers are in.
 */
export interface ConnScript {
  readonly handshake: 'wait' | 'eager' | 'none';
  readonly served: readonly Uint8Array[];
  readonly odd: readonly Uint8Array[];
  readonly settle: boolean;
  readonly cuts: readonly number[];
  readonly end: 'half_close' | 'open';
}

/** A script that sends just these frames after an eager handshake (for the deterministic cases). */
export function oddOnly(frames: readonly Uint8Array[]): ConnScript {
  return { handshake: 'eager', served: [], odd: frames, settle: false, cuts: [], end: 'open' };
}

export function connScript(limits: FuzzLimits, frames_max: number): fc.Arbitrary<ConnScript> {
  return fc
    .record({
      handshake: fc.constantFrom('wait' as const, 'eager' as const, 'eager' as const, 'none' as const),
      opening: openingFrame(limits),
      served: fc.array(wellFormedFrame, { maxLength: frames_max }),
      odd: fc.array(anyFrame(limits), { minLength: 1, maxLength: 3 }),
      settle: fc.boolean(),
      cuts: fc.oneof({ weight: 3, arbitrary: fc.constant<number[]>([]) }, { weight: 2, arbitrary: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }) }),
      end: fc.constantFrom('half_close' as const, 'open' as const),
    })
    .map(({ handshake, opening, served, odd, settle, cuts, end }) => ({
      handshake,
      served: handshake === 'none' ? [opening, ...served] : served,
      odd,
      settle,
      cuts,
      end,
    }));
}

/** Several connections run at the same time. */
export function connBatch(limits: FuzzLimits, frames_max: number, conns_max: number): fc.Arbitrary<ConnScript[]> {
  return fc.array(connScript(limits, frames_max), { minLength: 1, maxLength: conns_max });
}

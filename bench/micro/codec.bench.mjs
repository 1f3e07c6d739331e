// Micro-benchmark of the wire codec (encode + decode of hot-path frames).
// Run after a build:  npm run build && node bench/micro/codec.bench.mjs
import { Bench } from 'tinybench';
import {
  JuteReader,
  JuteWriter,
  Op,
  decodeRecord,
  decodeReply,
  decodeRequest,
  encodeRecord,
  encodeReply,
  encodeRequest,
} from '../../dist/protocol/index.js';

const stat = {
  czxid: 0x1_0000_0001, mzxid: 0x1_0000_0002, ctime: Date.now(), mtime: Date.now(), version: 3, cversion: 7,
  aversion: 0, ephemeralOwner: 0n, dataLength: 1024, numChildren: 0, pzxid: 0x1_0000_0002,
};
const header = { xid: 42, zxid: 0x1_0000_0002, err: 0 };
const data_1k = new Uint8Array(1024).fill(7);
const w = new JuteWriter(4096);

/** Payload (after the length prefix) of whatever `encode` writes. */
function payloadOf(encode) {
  w.reset();
  encode();
  return w.toBytes().subarray(4);
}

const cases = {
  GetDataRequest: {
    encode: () => encodeRequest(42, Op.getData, { path: '/bench/node-0000000042', watch: false }, w),
    decode: (p) => decodeRequest(p),
  },
  'GetDataResponse 1KiB': {
    encode: () => encodeReply(header, 'GetDataResponse', { data: data_1k, stat }, w),
    decode: (p) => decodeReply(p, 'GetDataResponse'),
  },
  Create2Response: {
    encode: () => encodeReply(header, 'Create2Response', { path: '/bench/lock-0000000042', stat }, w),
    decode: (p) => decodeReply(p, 'Create2Response'),
  },
  Stat: {
    encode: () => encodeRecord('Stat', stat, w),
    decode: (p) => decodeRecord('Stat', new JuteReader(p)),
    raw: true, // a bare record, no frame
  },
};

const bench = new Bench({ time: 300, warmupTime: 100 });
for (const [name, c] of Object.entries(cases)) {
  const payload = c.raw ? (w.reset(), c.encode(), w.toBytes()) : payloadOf(c.encode);
  bench.add(`encode ${name}`, () => {
    w.reset();
    c.encode();
  });
  bench.add(`decode ${name}`, () => c.decode(payload));
}

await bench.run();
console.log(`node ${process.version}, ${new Date().toISOString()}`);
console.table(bench.table());

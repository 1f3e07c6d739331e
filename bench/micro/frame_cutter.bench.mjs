// Micro-benchmark of the net worker's frame cutter: frames delivered whole (the common case:
// views into the socket's chunk, no copy) and one large frame trickled in small segments (each
// byte copied once into a buffer that doubles; before issue 10 item 11 every segment re-copied
// everything pending, so 16 MiB in 256-byte writes was quadratic).
// Run after a build:  npm run build && node bench/micro/frame_cutter.bench.mjs
import { Bench } from 'tinybench';
import { FrameCutter } from '../../dist/workers/net/frame_cutter.js';

const MiB = 1024 * 1024;

function frame(len) {
  const b = Buffer.alloc(4 + len, 7);
  b.writeInt32BE(len, 0);
  return b;
}

function segments(bytes, size) {
  const out = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/** Pushes every chunk into a fresh cutter; returns the payload bytes emitted. */
function cutAll(chunks, frame_bytes_max) {
  const cutter = new FrameCutter(frame_bytes_max);
  let bytes = 0;
  for (const c of chunks) {
    const bad = cutter.push(c, (_b, s, e) => (bytes += e - s));
    if (bad !== null) throw new Error(bad);
  }
  return bytes;
}

// 64 KiB socket reads holding many small requests (~100-byte getData frames).
const small = segments(Buffer.concat(Array.from({ length: 8192 }, () => frame(100))), 64 * 1024);
const trickled_1m = segments(frame(MiB), 256);
const trickled_16m = segments(frame(16 * MiB), 256);

const bench = new Bench({ time: 500, warmupTime: 100 });
bench.add('8192 x 100 B frames in 64 KiB reads', () => cutAll(small, MiB));
bench.add('1 MiB frame in 256 B segments', () => cutAll(trickled_1m, 16 * MiB));
bench.add('16 MiB frame in 256 B segments', () => cutAll(trickled_16m, 16 * MiB));

await bench.run();
console.log(`node ${process.version}, ${new Date().toISOString()}`);
console.table(bench.table());

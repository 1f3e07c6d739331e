// A/B of the shared tree's read path between two builds, in ONE process: both builds are loaded
// (their dist/ directories as separate module graphs), each builds the same tree, and rounds of
// random lookups alternate between them (A B, B A, A B, ...). Why: on a shared or virtual host
// the same code's speed drifts by 10-40 % between processes minutes apart, more than most
// changes to a lookup are worth; within one process, alternating rounds, the drift hits both
// sides alike and the per-round ratio B/A is what is reported.
//
// A lookup is what a getData costs the tree: find + Stat + data copied out. Between two lookups
// POLLUTE bytes of other memory are written (one store per cache line), standing in for the rest
// of a read's work that evicts the tree's lines from the caches.
//
//   npm run build
//   git worktree add ../base HEAD~1 && (cd ../base && npm ci && npm run build)
//   GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node bench/micro/lookup_ab.mjs --a ../base/dist --b dist \
//     [--znodes 1000000] [--pollute 4096] [--rounds 9] [--lookups 65536]
//
// GLIBC_TUNABLES gives the trees huge pages, as the server's launchers do (src/server/huge_pages.ts).
import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const { values: opt } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    znodes: { type: 'string', default: '1000000' },
    pollute: { type: 'string', default: '4096' },
    rounds: { type: 'string', default: '9' },
    lookups: { type: 'string', default: '65536' },
  },
});
if (opt.a === undefined || opt.b === undefined) {
  process.stderr.write('usage: node bench/micro/lookup_ab.mjs --a DIST_DIR --b DIST_DIR [--znodes N] [--pollute BYTES] [--rounds R] [--lookups N]\n');
  process.exit(2);
}
function positiveInt(name, text, min) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be an integer >= ${min}, got ${text}\n`);
    process.exit(2);
  }
  return n;
}
const ZNODES = positiveInt('znodes', opt.znodes, 1);
const POLLUTE_BYTES = positiveInt('pollute', opt.pollute, 0);
const ROUNDS = positiveInt('rounds', opt.rounds, 3);
const LOOKUPS = positiveInt('lookups', opt.lookups, 1);
const VALUE_BYTES = 100;
const KEY_DIGITS = 7;
if (ZNODES > 10 ** KEY_DIGITS) {
  process.stderr.write(`--znodes is at most ${10 ** KEY_DIGITS}\n`);
  process.exit(2);
}

const ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const PARENT = '/ab';
const pathOf = (k) => `${PARENT}/k${String(k).padStart(KEY_DIGITS, '0')}`;
const PATH_BYTES = pathOf(0).length;

// The paths as bytes, as a request frame holds them; and one fixed random order of lookups.
const paths = new Uint8Array(ZNODES * PATH_BYTES);
const encoder = new TextEncoder();
for (let k = 0; k < ZNODES; k++) encoder.encodeInto(pathOf(k), paths.subarray(k * PATH_BYTES, (k + 1) * PATH_BYTES));
const order = new Int32Array(LOOKUPS);
let seed = 12345;
for (let i = 0; i < LOOKUPS; i++) {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  order[i] = seed % ZNODES;
}

const JUNK_BYTES = 32 << 20;
const junk = new Uint8Array(JUNK_BYTES);
let junk_at = 0;
function pollute() {
  for (let i = 0; i < POLLUTE_BYTES; i += 64) junk[(junk_at + i) & (JUNK_BYTES - 1)]++;
  junk_at += POLLUTE_BYTES;
}

/** Loads one build and builds the tree in it; returns its timed round. */
async function side(dist) {
  const dir = isAbsolute(dist) ? dist : resolve(dist);
  const load = (file) => import(pathToFileURL(`${dir}/store/arena/${file}`).href);
  const { TreeReader } = await load('tree_reader.js');
  const { createSystemNodes, TreeWriter } = await load('tree_writer.js');
  const writer = TreeWriter.create({ segments_max: 64, page_bytes: 4096 });
  const value = new Uint8Array(VALUE_BYTES).fill(7);
  let zxid = 0;
  writer.begin();
  createSystemNodes(writer);
  writer.create(PARENT, null, ACL, 0n, ++zxid, 1, 1);
  for (let k = 0; k < ZNODES; k++) {
    writer.create(pathOf(k), value, ACL, 0n, ++zxid, 1, k + 1);
    if (k % 1000 === 999) {
      writer.commit(zxid);
      writer.begin();
    }
  }
  writer.commit(zxid);
  const reader = new TreeReader(writer.handle);
  reader.pin();
  const out = new Uint8Array(4096);
  // A function of its own per side (new Function): each gets its own type feedback, so the
  // second build's code is not compiled for the first build's classes.
  const makeRound = new Function(
    'reader', 'paths', 'PATH_BYTES', 'out', 'order', 'pollute', 'VALUE_BYTES',
    `return function round() {
       let sink = 0;
       const t0 = process.hrtime.bigint();
       for (let i = 0; i < order.length; i++) {
         pollute();
         const k = order[i];
         if (!reader.find(paths, k * PATH_BYTES, PATH_BYTES)) throw new Error('lookup missed');
         reader.statTo(out, 0);
         sink += reader.copyData(out, 68);
       }
       if (sink !== order.length * VALUE_BYTES) throw new Error('data length off');
       return Number(process.hrtime.bigint() - t0) / order.length;
     };`,
  );
  return makeRound(reader, paths, PATH_BYTES, out, order, pollute, VALUE_BYTES);
}

const rounds = [await side(opt.a), await side(opt.b)];
const baseline = new Function('order', 'pollute', `return function round() {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < order.length; i++) pollute();
  return Number(process.hrtime.bigint() - t0) / order.length;
};`)(order, pollute);

const ns = [[], []];
for (let r = 0; r < ROUNDS; r++) {
  const pollute_ns = baseline();
  for (const s of r % 2 === 0 ? [0, 1] : [1, 0]) ns[s].push(rounds[s]() - pollute_ns);
}
// Round 0 warms both sides up (JIT, caches) and is left out.
const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
const a = ns[0].slice(1);
const b = ns[1].slice(1);
const ratios = a.map((x, i) => b[i] / x);
console.log(`${ZNODES.toLocaleString('en-US')} znodes, ${POLLUTE_BYTES} B of other memory written per lookup, ${LOOKUPS} lookups x ${ROUNDS - 1} rounds per side`);
console.log(`A ${opt.a}: median ${median(a).toFixed(0)} ns per lookup`);
console.log(`B ${opt.b}: median ${median(b).toFixed(0)} ns per lookup`);
console.log(`B / A per round: median ${median(ratios).toFixed(3)} [${ratios.map((x) => x.toFixed(2)).join(' ')}]`);

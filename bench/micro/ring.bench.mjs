// Ring throughput between two threads: the main thread produces, a worker consumes.
//
//   npx tsc -p . && node bench/micro/ring.bench.mjs [duration_ms]
//
// For each frame size and flush batch: the producer writes frames for `duration_ms`, flushing
// every `batch` frames and sleeping (Atomics.wait) when the ring is full; the consumer polls up to
// 256 frames per batch and sleeps (Atomics.wait) when the ring is empty. Prints frames/s, MB/s and
// how often each side slept. Not a tinybench case: tinybench times one thread, this is a pipeline.
import { loadavg } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Ring } from '../../dist/ring/ring.js';

const RING_BYTES = 256 * 1024;
const POLL_FRAMES_MAX = 256;

if (isMainThread) {
  await main(Number(process.argv[2] ?? 1500));
} else {
  consume(workerData.sab);
}

async function main(duration_ms) {
  const rows = [];
  for (const frame_bytes of [64, 1024]) {
    for (const batch of [64, 1]) rows.push(await runCase(frame_bytes, batch, duration_ms));
  }
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`ring: ${RING_BYTES / 1024} KiB, SPSC, main thread -> worker, ${duration_ms} ms per case, node ${process.version}, load avg ${load}`);
  console.table(rows);
}

async function runCase(frame_bytes, batch, duration_ms) {
  const sab = Ring.create({ capacity_bytes: RING_BYTES });
  const worker = new Worker(new URL(import.meta.url), { workerData: { sab } });
  const consumed = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await new Promise((resolve) => worker.once('online', resolve));
  const producer = Ring.attachProducer(sab);
  const frame = new Uint8Array(frame_bytes).fill(7);
  const t0 = performance.now();
  let frames = 0;
  for (let elapsed = 0; elapsed < duration_ms; elapsed = performance.now() - t0) {
    for (let k = 0; k < 4096; k++) {
      frame[0] = frames & 0xff;
      while (!producer.tryWrite(frame)) producer.waitForSpace(frame_bytes, 10_000);
      frames++;
      if (frames % batch === 0) producer.flush();
    }
  }
  producer.close();
  const got = await consumed;
  const seconds = (performance.now() - t0) / 1000;
  await worker.terminate();
  if (got.frames !== frames) throw new Error(`consumer saw ${got.frames} frames, producer wrote ${frames}`);
  const stats = Ring.stats(sab);
  return {
    frame_bytes,
    flush_every: batch,
    'frames/s': Math.round(frames / seconds).toLocaleString('en-US'),
    'MB/s': Math.round((frames * frame_bytes) / seconds / 1e6),
    'consumer sleeps': stats.consumers[0].data_waits,
    'producer sleeps': stats.producer.space_waits,
    notifies: stats.producer.notifies,
    'frames/poll': Math.round(stats.consumers[0].frames / Math.max(1, stats.consumers[0].batches)),
  };
}

function consume(sab) {
  const consumer = Ring.attachConsumer(sab, 0);
  let frames = 0;
  let sink = 0;
  const onFrame = (bytes, start, end) => {
    sink ^= bytes[start] + end;
    frames++;
  };
  for (;;) {
    if (consumer.poll(onFrame, POLL_FRAMES_MAX) !== 0) continue;
    if (consumer.isFinished()) break;
    consumer.waitForData(10_000);
  }
  parentPort.postMessage({ frames, sink });
}

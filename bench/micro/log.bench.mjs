// Micro-benchmark of log append: the project's LogWriter (src/log/log_writer.ts) when it is
// built, next to a plain node:fs baseline (append + fdatasync), one record per sync and 64 per
// sync (group commit). The disk decides these numbers; run where the data dir will live:
//   npm run build && node bench/micro/log.bench.mjs [DIR]
import { closeSync, existsSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

const RECORD_BYTES = 1024 + 64; // a 1 KiB setData txn with its headers, roughly
const GROUP = 64;
const SEGMENT_BYTES = 16 * 1024 * 1024;
const dir = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'waitfree-log-bench-'));
const one = new Uint8Array(RECORD_BYTES).fill(1);
const group = new Uint8Array(RECORD_BYTES * GROUP).fill(2);

const bench = new Bench({ time: 1500, warmupTime: 200, iterations: 16 });

// Baseline: plain appends to a growing file.
const base_fd = openSync(join(dir, 'baseline'), 'w');
let base_at = 0;
const baseline = (bytes, sync) => () => {
  writeSync(base_fd, bytes, 0, bytes.length, base_at);
  base_at += bytes.length;
  if (sync) fdatasyncSync(base_fd);
};
bench.add('fs append 1 record + fdatasync', baseline(one, true));
bench.add(`fs append ${GROUP} records + fdatasync`, baseline(group, true));
bench.add('fs append 1 record, no sync', baseline(one, false));

// The project's log writer, once src/log is built.
const writer_url = new URL('../../dist/log/log_writer.js', import.meta.url);
const fs_url = new URL('../../dist/log/log_fs.js', import.meta.url);
let writers = [];
let zxid = 1;
if (existsSync(fileURLToPath(writer_url)) && existsSync(fileURLToPath(fs_url))) {
  const { LogWriter } = await import(writer_url.href);
  const { NODE_LOG_FS } = await import(fs_url.href);
  for (const fsync of [true, false]) {
    const wdir = join(dir, `writer-${fsync ? 'fsync' : 'nosync'}`);
    rmSync(wdir, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(wdir);
    const w = await LogWriter.open(NODE_LOG_FS, { dir: wdir, segment_bytes: SEGMENT_BYTES, fsync, now_ms: () => Date.now() }, null);
    writers.push(w);
    const label = fsync ? 'fdatasync' : 'no sync';
    bench.add(`LogWriter append 1 record (${label})`, async () => {
      await w.append(one, 0, one.length, zxid++);
    });
    bench.add(`LogWriter append ${GROUP} records (${label})`, async () => {
      await w.append(group, 0, group.length, zxid);
      zxid += GROUP;
    });
  }
} else {
  console.log('dist/log/log_writer.js not built: only the node:fs baseline runs (npm run build once src/log exists)');
}

try {
  await bench.run();
} finally {
  for (const w of writers) await w.close();
  closeSync(base_fd);
  rmSync(dir, { recursive: true, force: true });
}
console.log(`log append: ${RECORD_BYTES} B records, dir ${dir}, node ${process.version}, load avg ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.table(bench.table());
// Records per second is what a commit pipeline sees: ops/s times the records each op appends.
for (const task of bench.tasks) {
  const per_op = task.name.includes(`${GROUP} records`) ? GROUP : 1;
  const hz = task.result?.throughput?.mean ?? task.result?.hz ?? 0;
  console.log(`${task.name.padEnd(44)} ${Math.round(hz * per_op).toLocaleString('en-US').padStart(12)} records/s`);
}

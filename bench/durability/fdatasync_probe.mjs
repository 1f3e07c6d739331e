#!/usr/bin/env node
// Raw fdatasync rate of the disk under a directory: N x (pwrite of one block into a zero-filled,
// preallocated file + fdatasync), one at a time: the ceiling for one durable write at a time,
// and the yardstick for group commit (BENCHMARKS.md, "Durability").
//
//   node bench/durability/fdatasync_probe.mjs [--dir DIR] [--count N] [--bytes B] [--json]

import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export function probeFdatasync({ dir, count = 2000, bytes = 4096 } = {}) {
  const root = mkdtempSync(join(dir ?? tmpdir(), 'waitfree-fsync-probe-'));
  const path = join(root, 'probe');
  const fd = openSync(path, 'w+');
  try {
    const zeros = Buffer.alloc(1 << 20);
    const size = count * bytes;
    for (let at = 0; at < size; at += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, size - at), at);
    fdatasyncSync(fd);
    const block = Buffer.alloc(bytes, 0x5a);
    const lat = [];
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const s = performance.now();
      writeSync(fd, block, 0, bytes, i * bytes);
      fdatasyncSync(fd);
      lat.push(performance.now() - s);
    }
    const seconds = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    return {
      dir: dir ?? tmpdir(),
      count,
      bytes,
      per_second: Math.round(count / seconds),
      p50_ms: +lat[Math.floor(count * 0.5)].toFixed(3),
      p99_ms: +lat[Math.floor(count * 0.99)].toFixed(3),
    };
  } finally {
    closeSync(fd);
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, count: { type: 'string' }, bytes: { type: 'string' }, json: { type: 'boolean' } } });
  const r = probeFdatasync({ dir: values.dir, count: Number(values.count ?? 2000), bytes: Number(values.bytes ?? 4096) });
  if (values.json) console.log(JSON.stringify(r));
  else console.log(`fdatasync probe (${r.dir}): ${r.per_second}/s with ${r.bytes} B writes (p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, ${r.count} syncs)`);
}

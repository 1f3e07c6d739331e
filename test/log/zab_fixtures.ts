// Histories for the Zab log-operation tests: a seeded workload, a fork of it (same prefix, a
// different suffix: what a learner holds when a new leader truncates it), both optionally moved
// to a high epoch (zxid = epoch * 2^32 + counter), and a LogFs that fails at a chosen call
// (a crash between two steps of an operation).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { NODE_LOG_FS, type LogFs } from '../../src/log/log_fs.js';
import { DataTree } from '../../src/tree/data_tree.js';
import type { Txn } from '../../src/tree/txn.js';
import { Harness } from '../tree/harness.js';
import { Workload } from '../durability/workload.js';

export const EPOCH3 = 3 * 2 ** 32;

const dirs: string[] = [];
export function tempDir(prefix = 'waitfree-zablog-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** `n` txns of a seeded workload, zxids 1..n. */
export function history(seed: number, n: number): Txn[] {
  const w = new Workload(seed);
  // Not every step makes a txn (e.g. closing a session when none is open): bounded by 10 n steps.
  for (let steps = 0; w.txns.length < n && steps < 10 * n; steps++) w.step();
  expect(w.txns.length).toBe(n);
  return [...w.txns];
}

/** The first `keep` txns of `txns`, then `more` txns of a different history (zxids keep+1...). */
export function fork(txns: readonly Txn[], keep: number, more: number): Txn[] {
  const h = new Harness();
  for (const t of txns.slice(0, keep)) h.tree.apply(t);
  h.zxid = keep;
  if (keep > 0) h.time_ms = txns[keep - 1].header.time_ms;
  for (let i = 0; i < more; i++) h.create(`/fork-${i}`, `other history ${i}`);
  return [...txns.slice(0, keep), ...h.log];
}

/** The same txns with zxid base + (old zxid): base EPOCH3 makes them (epoch 3, counter 1...). */
export function shift(txns: readonly Txn[], base: number): Txn[] {
  return renumber(txns, (i) => base + i);
}

/** The same txns with zxid zxidOf(old zxid) (old zxids are 1, 2, 3...; cxids stay small). */
export function renumber(txns: readonly Txn[], zxidOf: (i: number) => number): Txn[] {
  return txns.map((t) => ({ ...t, header: { ...t.header, zxid: zxidOf(t.header.zxid) } }));
}

/** How a Zab ensemble numbers txns 1..: epoch 3 for the first 35, epoch 4 for the next 35, then epoch 7. */
export function zabNumbering(i: number): number {
  if (i <= 35) return EPOCH3 + i;
  if (i <= 70) return 4 * 2 ** 32 + (i - 35);
  return 7 * 2 ** 32 + (i - 70);
}

/** The numbering standalone uses: 1, 2, 3... */
export const standaloneNumbering = (i: number): number => i;

export const hex = (zxid: number): string => `0x${zxid.toString(16)}`;

export function treeOf(txns: readonly Txn[]): DataTree {
  const tree = new DataTree();
  for (const t of txns) tree.apply(t);
  return tree;
}

/**
 * NODE_LOG_FS that records each call (method names, in order) and throws an EIO (a crash at that
 * point) at the first call for which `fail(method, calls_before)` is true.
 */
export function faultyFs(fail: (method: keyof LogFs, calls_before: readonly string[]) => boolean = () => false): { fs: LogFs; calls: string[] } {
  const calls: string[] = [];
  let failed = false;
  const fs = {} as Record<keyof LogFs, unknown>;
  for (const key of Object.keys(NODE_LOG_FS) as (keyof LogFs)[]) {
    const real = NODE_LOG_FS[key] as (...args: unknown[]) => Promise<unknown>;
    fs[key] = async (...args: unknown[]) => {
      const hit = !failed && fail(key, calls);
      calls.push(key);
      if (hit) {
        failed = true;
        throw Object.assign(new Error(`injected crash at ${key}`), { code: 'EIO' });
      }
      return real(...args);
    };
  }
  return { fs: fs as unknown as LogFs, calls };
}

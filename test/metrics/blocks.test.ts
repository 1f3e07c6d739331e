// Per-thread metric blocks: each thread writes its own SharedArrayBuffer, a scrape sums them.
// How these fail: a slot shared by two layouts (one op's count under another op), summing that
// forgets a shard, a block of the wrong size accepted silently, a write from another thread not
// visible to the reader.

import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { CommitMetrics, createCommitMetricsBlock, readCommitMetrics } from '../../src/metrics/commit_metrics.js';
import { createNetMetricsBlock, NetMetrics, readNetMetrics } from '../../src/metrics/net_metrics.js';
import { createShardMetricsBlock, ShardMetrics, sumShardMetrics } from '../../src/metrics/shard_metrics.js';
import { Op } from '../../src/protocol/opcodes.js';

describe('shard metric blocks', () => {
  it('sums per-op requests, errors and latencies over every shard, listing only ops seen', () => {
    const blocks = [createShardMetricsBlock(), createShardMetricsBlock(), createShardMetricsBlock()];
    const shards = blocks.map((b) => new ShardMetrics(b));
    for (let i = 0; i < 5; i++) shards[i % 3].request(Op.getData, 0.2, 0);
    shards[1].request(Op.getData, 3, -101);
    shards[2].request(Op.create, 1, 0);
    shards[0].request(12345, 1, 0);
    shards[0].watchEvent();
    shards[2].watchEvent();
    shards[1].commitWait();
    shards[2].commitWait();
    shards[2].commitWaitTimeout();
    const t = sumShardMetrics(blocks);
    expect(t.ops.map((o) => o.op)).toEqual(['create', 'getData', 'unknown']);
    const getData = t.ops.find((o) => o.op === 'getData')!;
    expect(getData.requests).toBe(6);
    expect(getData.errors).toBe(1);
    expect(getData.latency_ms.count).toBe(6);
    expect(getData.latency_ms.sum).toBeCloseTo(5 * 0.2 + 3);
    expect(t.ops.find((o) => o.op === 'create')!.errors).toBe(0);
    expect(t.watch_events).toBe(2);
    expect([t.commit_waits, t.commit_wait_timeouts]).toEqual([2, 1]);
  });

  it('refuses a block made for another layout', () => {
    expect(() => new ShardMetrics(createNetMetricsBlock())).toThrow(/shard block/);
    expect(() => new CommitMetrics(createShardMetricsBlock())).toThrow(/commit block/);
  });

  it('a reader on another thread sees what the owner wrote (plain stores on a SAB)', async () => {
    const sab = createShardMetricsBlock();
    const url = new URL('../../dist/metrics/shard_metrics.js', import.meta.url).href;
    const worker = new Worker(
      `import(${JSON.stringify(url)}).then(({ ShardMetrics }) => {
         const m = new ShardMetrics(require('node:worker_threads').workerData);
         for (let i = 0; i < 1000; i++) m.request(4, 0.1, 0);
         require('node:worker_threads').parentPort.postMessage('done');
       });`,
      { eval: true, workerData: sab },
    );
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(sumShardMetrics([sab]).ops).toMatchObject([{ op: 'getData', requests: 1000 }]);
  });
});

describe('net and commit metric blocks', () => {
  it('net counters add up', () => {
    const sab = createNetMetricsBlock();
    const m = new NetMetrics(sab);
    m.add('connections_accepted');
    m.add('connections_accepted');
    m.add('bytes_received', 4096);
    expect(readNetMetrics(sab)).toMatchObject({ connections_accepted: 2, bytes_received: 4096, bytes_sent: 0 });
  });

  it('commit metrics: batch sizes, fsync latency, and the last snapshot (-1 before any)', () => {
    const sab = createCommitMetricsBlock();
    expect(readCommitMetrics(sab)).toMatchObject({ last_snapshot_zxid: -1, last_snapshot_time_ms: -1, txns: 0 });
    const m = new CommitMetrics(sab);
    m.batch(1, 100);
    m.batch(37, 5000);
    m.fsync(0.4);
    m.fsync(2);
    m.snapshotSaved(0x1234, 800, 1_700_000_000_000);
    const c = readCommitMetrics(sab);
    expect(c.txns).toBe(38);
    expect(c.batch_bytes).toBe(5100);
    expect(c.batch_txns.count).toBe(2);
    expect(c.batch_txns.sum).toBe(38);
    expect(c.fsync_ms.count).toBe(2);
    expect(c.snapshot_ms.count).toBe(1);
    expect(c.last_snapshot_zxid).toBe(0x1234);
    expect(c.last_snapshot_time_ms).toBe(1_700_000_000_000);
  });
});

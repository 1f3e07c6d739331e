// A slow txn log shows where ZooKeeper shows it: every sync's time in mntr (zk_*_fsynctime),
// and each sync over fsync.warningthresholdms counted (the admin server's server_stats,
// fsync_threshold_exceed_count) and logged. The disk is made slow with the fault knob
// waitfree.log.fsyncDelayUs (SYNC_DELAY_MS added to every log sync).
//
// How this fails: sync times not fed to the counter leave zk_cnt_fsynctime at 0 after writes;
// the threshold not applied leaves fsync_threshold_exceed_count at 0 (or counts every sync
// with the default 1000 ms).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fourLetter } from '../support/servers.js';
import { OPEN_ACL, asReply, connectClient, startTestServer, type TestServer } from './harness.js';

const SYNC_DELAY_MS = 30;
const THRESHOLD_MS = 10;
const WRITES = 4;

function mntrValue(text: string, key: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${key}\t`));
  if (line === undefined) throw new Error(`${key} not in mntr:\n${text}`);
  return Number(line.split('\t')[1]);
}

async function thresholdExceeded(server: TestServer): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${server.admin!.port}/commands/server_stats`);
  const body = (await r.json()) as { server_stats: { fsync_threshold_exceed_count: number } };
  return body.server_stats.fsync_threshold_exceed_count;
}

describe('log sync times and the slow-sync threshold', () => {
  let slow: TestServer;
  let normal: TestServer;

  beforeAll(async () => {
    slow = await startTestServer({ four_letter_whitelist: '*', log_fsync_delay_us: SYNC_DELAY_MS * 1000, fsync_warning_threshold_ms: THRESHOLD_MS });
    normal = await startTestServer({ four_letter_whitelist: '*', log_fsync_delay_us: SYNC_DELAY_MS * 1000 });
  });
  afterAll(async () => {
    await slow?.stop();
    await normal?.stop();
  });

  async function writeSome(server: TestServer): Promise<void> {
    const { client } = await connectClient(server.port);
    try {
      // One at a time: each write is its own batch, so each is one sync.
      for (let i = 0; i < WRITES; i++) expect(asReply(await client.request(1, { path: `/slow-${i}`, data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    } finally {
      client.destroy();
    }
  }

  it('mntr reports every sync, and those over fsync.warningthresholdms are counted', async () => {
    const before = await fourLetter(slow.port, 'mntr');
    const cnt0 = mntrValue(before, 'zk_cnt_fsynctime');
    await writeSome(slow);
    const after = await fourLetter(slow.port, 'mntr');
    expect(mntrValue(after, 'zk_cnt_fsynctime')).toBeGreaterThanOrEqual(cnt0 + WRITES);
    expect(mntrValue(after, 'zk_min_fsynctime')).toBeGreaterThanOrEqual(SYNC_DELAY_MS);
    expect(mntrValue(after, 'zk_max_fsynctime')).toBeGreaterThanOrEqual(SYNC_DELAY_MS);
    expect(mntrValue(after, 'zk_sum_fsynctime')).toBeGreaterThanOrEqual(SYNC_DELAY_MS * (cnt0 + WRITES));
    expect(mntrValue(after, 'zk_avg_fsynctime')).toBeGreaterThanOrEqual(SYNC_DELAY_MS);
    expect(await thresholdExceeded(slow)).toBe(mntrValue(after, 'zk_cnt_fsynctime'));
  });

  it('with the default threshold (1000 ms) the same syncs are not over it', async () => {
    await writeSome(normal);
    const mntr = await fourLetter(normal.port, 'mntr');
    expect(mntrValue(mntr, 'zk_cnt_fsynctime')).toBeGreaterThanOrEqual(WRITES);
    expect(await thresholdExceeded(normal)).toBe(0);
  });
});

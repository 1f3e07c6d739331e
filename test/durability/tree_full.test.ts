// The shared tree's memory bound (waitfree.tree.segmentsMax x segmentBytes) is a hard bound: a
// replica whose tree reaches it stops loudly, naming the keys, and never answers a write it could
// not apply. Every write it acknowledged was durable first, so raising the bound and starting
// again brings all of them back.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WireClient } from '../support/wire_client.js';
import { startServerProcess } from './server_process.js';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
/** 2 x 256 KiB of tree: a few dozen 16 KiB values fill it. */
const SMALL_TREE = ['jute.maxbuffer=65536', 'waitfree.tree.segmentBytes=262144', 'waitfree.tree.segmentsMax=2'];
const VALUE_BYTES = 16 * 1024;
const CREATES_MAX = 200;

const dir = mkdtempSync(join(tmpdir(), 'waitfree-tree-full-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a full shared tree', () => {
  it('stops the replica loudly; raised, every acknowledged write is back', async () => {
    const data_dir = join(dir, 'data');
    const cfg = join(dir, 'zoo.cfg');
    const server = await startServerProcess(data_dir, cfg, SMALL_TREE);
    const acked: string[] = [];
    try {
      const { client } = await WireClient.connect(server.port, { timeout_ms: 10_000, handshakeTimeout_ms: 10_000 });
      for (let i = 0; i < CREATES_MAX && !server.exited(); i++) {
        const path = `/v${i}`;
        const r = await client.request(1, { path, data: new Uint8Array(VALUE_BYTES).fill(i & 0xff), acl: OPEN, flags: 0 }).catch(() => null);
        if (r === null) break;
        expect(r.err).toBe(0);
        acked.push(path);
      }
      client.destroy();
      const deadline = Date.now() + 10_000;
      while (!server.exited() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(server.exited(), 'the replica stopped').toBe(true);
      expect(acked.length).toBeGreaterThan(0);
      expect(acked.length).toBeLessThan(CREATES_MAX);
      expect(server.output()).toMatch(/arena full: .*waitfree\.tree\.segmentsMax x waitfree\.tree\.segmentBytes/);
    } finally {
      await server.kill9();
    }

    const raised = await startServerProcess(data_dir, cfg, [...SMALL_TREE.slice(0, 2), 'waitfree.tree.segmentsMax=16']);
    try {
      const { client } = await WireClient.connect(raised.port, { timeout_ms: 10_000, handshakeTimeout_ms: 10_000 });
      for (const path of acked) {
        const r = await client.request(4, { path, watch: false });
        expect(r.err, path).toBe(0);
        expect((r.body as { data: Uint8Array }).data.length).toBe(VALUE_BYTES);
      }
      client.destroy();
    } finally {
      await raised.stop();
    }
  }, 120_000);
});

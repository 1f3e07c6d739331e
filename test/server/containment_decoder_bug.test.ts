// The containment rule's "BUG" path (ARCHITECTURE.md, Containment): a decoder that throws
// something other than its own error type while decoding one client's frame is a decoder bug;
// it is logged as BUG with its stack, and it costs only that connection: the process, the read
// worker and every other session (on the same read worker) go on.
//
// The fault is injected without editing the server: the server runs as a child process with
// test/support/containment_decoder_fault.mjs preloaded into every thread, which makes
// TextDecoder.decode (what JuteReader.readUString uses for paths) throw a TypeError for a string
// holding MARKER.
//
// How this fails: a shard that only contains JuteError (any other throw escapes onClientFrame,
// the worker dies, the supervisor exits 70 and every client is disconnected); a BUG that is not
// logged, or logged without its stack or without the peer; the bad connection left open and
// silent; a write whose decoding failed reaching the commit worker anyway.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWaitfreePreloaded, type PreloadedServer } from '../support/containment_launch.js';
import { WireClient } from '../support/wire_client.js';
import { OPEN_ACL, connect, connectClient, sleep } from './harness.js';

/** DECODER_FAULT_MARKER in containment_decoder_fault.mjs (if they drift, no fault is injected
 *  and the first test fails: the request is answered). */
const MARKER = 'containment-inject-decoder-bug';
const FAULT_MESSAGE = 'injected decoder fault';
const LOG_WAIT_MS = 5_000;

describe('a decoder that throws something other than JuteError (the BUG path)', () => {
  let server: PreloadedServer;
  let bystander: WireClient;

  beforeAll(async () => {
    // One read worker: the bad connections and the bystander share it.
    server = await startWaitfreePreloaded('test/support/containment_decoder_fault.mjs', ['waitfree.readWorkers=1']);
    bystander = await connect(server.port);
    bystander.startKeepalive(1_000);
    expect((await bystander.request(1, { path: '/kept', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
  }, 60_000);
  afterAll(async () => {
    bystander?.destroy();
    await server?.stop();
  });

  async function bystanderServed(): Promise<void> {
    const r = await bystander.request(3, { path: '/kept', watch: false });
    expect(r.err).toBe(0);
  }

  it('a read whose decoding throws a TypeError: that connection is closed and logged as BUG with a stack; the rest goes on', async () => {
    const { client: bad } = await connectClient(server.port);
    // getChildren: a getData or exists is answered in place (path compared as bytes, never
    // decoded: ShardSession.tryReadNow), so it would not reach the decoder.
    const outcome = await bad.request(8, { path: `/${MARKER}`, watch: false }).then(
      (r) => `answered err ${r.err}`,
      (e: unknown) => String(e),
    );
    expect(outcome).toMatch(/connection closed/);
    expect(bad.isClosed()).toBe(true);

    expect(await waitFor(() => server.output().includes(FAULT_MESSAGE), LOG_WAIT_MS), server.output()).toBe(true);
    const log = server.output();
    const at = log.indexOf('waitfree: BUG: decoding a frame from 127.0.0.1:');
    expect(at, log).toBeGreaterThanOrEqual(0);
    const entry = log.slice(at, at + 4000);
    expect(entry).toMatch(/^waitfree: BUG: decoding a frame from 127\.0\.0\.1:\d+ threw; closing that connection/);
    expect(entry).toContain(`TypeError: ${FAULT_MESSAGE}`);
    // The stack: the throw site and the decoder frame that called it.
    expect(entry).toMatch(/\n\s+at .*decodeWithFault/);
    expect(entry).toMatch(/\n\s+at .*readUString/);

    expect(server.alive(), server.output()).toBe(true);
    await bystanderServed();
    const fresh = await connect(server.port);
    expect((await fresh.request(3, { path: '/kept', watch: false })).err).toBe(0);
    fresh.destroy();
  });

  it('a write whose decoding throws: only that connection goes, and nothing of it is applied', async () => {
    const { client: bad } = await connectClient(server.port);
    const outcome = await bad.request(1, { path: `/${MARKER}-write`, data: null, acl: OPEN_ACL, flags: 0 }).then(
      (r) => `answered err ${r.err}`,
      (e: unknown) => String(e),
    );
    expect(outcome).toMatch(/connection closed/);
    // The bystander's write goes through the same read worker and the commit worker.
    expect((await bystander.request(1, { path: '/after', data: null, acl: OPEN_ACL, flags: 0 })).err).toBe(0);
    // The bad create never became a txn (listing / is safe: the marker is never decoded there).
    const children = (await bystander.request(8, { path: '/', watch: false })).body as { children: string[] };
    expect(children.children.filter((c) => c.startsWith('containment-'))).toEqual([]);
    expect(children.children).toContain('after');
    // Many more of them, back to back: each costs its own connection only.
    for (let i = 0; i < 20; i++) {
      const { client } = await connectClient(server.port);
      await client.request(8, { path: `/${MARKER}/${i}`, watch: false }).catch(() => undefined);
      expect(await client.waitClosed(LOG_WAIT_MS)).toBe(true);
    }
    await sleep(200);
    expect(server.alive(), server.output()).toBe(true);
    expect(server.exitCode()).toBeNull();
    await bystanderServed();
  });
});

async function waitFor(pred: () => boolean, timeout_ms: number): Promise<boolean> {
  const deadline = Date.now() + timeout_ms;
  while (!pred()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

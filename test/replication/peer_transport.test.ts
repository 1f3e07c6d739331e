// The Zab peer transport over real TCP on 127.0.0.1 (ephemeral ports): FIFO per connection,
// queueing until a connection exists, one reset per lost connection and before anything of the
// next one, refusals of bad handshakes, and the frame / queue bounds.

import * as net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeHello } from '../../src/replication/peer_hello.js';
import { PeerTransport, type PeerTransportOptions } from '../../src/replication/peer_transport.js';
import { encodeMessage, type PeerMessage, type Proposal } from '../../src/zab/messages.js';
import { startTcpProxy } from '../support/tcp_proxy.js';

const HOST = '127.0.0.1';
const WAIT_MS_MAX = 15_000;

type Event = { readonly kind: 'msg'; readonly from: number; readonly msg: PeerMessage } | { readonly kind: 'reset'; readonly peer: number };

/** A transport with what its handlers saw and what it logged. */
interface Node {
  readonly sid: number;
  readonly t: PeerTransport;
  readonly events: Event[];
  readonly logs: string[];
  port: number;
}

const transports: PeerTransport[] = [];
const raw_sockets: net.Socket[] = [];
const raw_servers: net.Server[] = [];

afterEach(async () => {
  for (const s of raw_sockets.splice(0)) s.destroy();
  for (const t of transports.splice(0)) await t.close();
  for (const srv of raw_servers.splice(0)) await new Promise<void>((r) => srv.close(() => r()));
});

function makeNode(sid: number, peers: readonly { sid: number; port: number }[], over: Partial<PeerTransportOptions> = {}, port = 0): Node {
  const events: Event[] = [];
  const logs: string[] = [];
  const t = new PeerTransport(
    {
      sid,
      listen: { host: HOST, port },
      peers: peers.map((p) => ({ sid: p.sid, host: HOST, port: p.port })),
      frame_bytes_max: 64 * 1024 * 1024,
      queue_bytes_max: 64 * 1024 * 1024,
      connect_retry_ms_min: 10,
      connect_retry_ms_max: 100,
      random: Math.random,
      log: (line) => logs.push(line),
      ...over,
    },
    {
      message: (from, msg) => events.push({ kind: 'msg', from, msg }),
      reset: (peer) => events.push({ kind: 'reset', peer }),
    },
  );
  transports.push(t);
  return { sid, t, events, logs, port: -1 };
}

/** Starts every node on an ephemeral port, then tells each the others' ports. */
async function startAll(nodes: readonly Node[]): Promise<void> {
  for (const n of nodes) n.port = await n.t.start();
  for (const n of nodes) for (const m of nodes) if (m !== n) n.t.setPeerPort(m.sid, m.port);
}

async function cluster(sids: readonly number[], over: Partial<PeerTransportOptions> = {}): Promise<Node[]> {
  const nodes = sids.map((sid) => makeNode(sid, sids.filter((s) => s !== sid).map((s) => ({ sid: s, port: 0 })), over));
  await startAll(nodes);
  await waitFor(() => nodes.every((n) => nodes.every((m) => m === n || n.t.connected(m.sid))), 'every pair connected');
  return nodes;
}

async function waitFor(cond: () => boolean, what: string, timeout_ms = WAIT_MS_MAX): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout_ms} ms waiting for: ${what}`);
    await sleep(5);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function proposal(counter: number, bytes = 16): Proposal {
  const txn = new Uint8Array(bytes).fill(counter & 0xff);
  return { type: 'PROPOSAL', zxid: { epoch: 1, counter }, txn };
}

function msgsFrom(n: Node, from: number): PeerMessage[] {
  return n.events.flatMap((e) => (e.kind === 'msg' && e.from === from ? [e.msg] : []));
}

function resetsOf(n: Node, peer: number): number {
  return n.events.filter((e) => e.kind === 'reset' && e.peer === peer).length;
}

function counters(msgs: readonly PeerMessage[]): number[] {
  return msgs.flatMap((m) => (m.type === 'PROPOSAL' ? [m.zxid.counter] : []));
}

/** A plain TCP client to a transport's port (plays a misbehaving or scripted peer). */
async function rawDial(port: number): Promise<net.Socket> {
  const s = net.connect({ host: HOST, port });
  raw_sockets.push(s);
  s.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('error', reject);
  });
  return s;
}

function closedPromise(s: net.Socket): Promise<void> {
  return new Promise((r) => (s.destroyed ? r() : s.once('close', () => r())));
}

describe('PeerTransport: delivery', () => {
  it('three replicas exchange hundreds of messages both ways in FIFO order, a 5 MB SNAP among them', async () => {
    const nodes = await cluster([1, 2, 3]);
    const snapshot = new Uint8Array(5 * 1024 * 1024);
    for (let i = 0; i < snapshot.length; i += 4093) snapshot[i] = (i / 4093) & 0xff;
    const count = 300;
    for (let i = 1; i <= count; i++) {
      for (const n of nodes) {
        for (const m of nodes) {
          if (m === n) continue;
          n.t.send(m.sid, proposal(i));
          if (i === 150) n.t.send(m.sid, { type: 'SNAP', zxid: { epoch: 1, counter: 150 }, snapshot });
        }
      }
    }
    await waitFor(() => nodes.every((n) => n.events.length === 2 * (count + 1)), 'every message delivered');
    const expected = Array.from({ length: count }, (_, i) => i + 1);
    for (const n of nodes) {
      for (const m of nodes) {
        if (m === n) continue;
        const got = msgsFrom(n, m.sid);
        expect(counters(got)).toEqual(expected);
        const snap_at = got.findIndex((x) => x.type === 'SNAP');
        expect(snap_at).toBe(150); // right after PROPOSAL 150
        const snap = got[snap_at];
        expect(snap.type === 'SNAP' && Buffer.from(snap.snapshot).equals(Buffer.from(snapshot))).toBe(true);
      }
      expect(n.events.some((e) => e.kind === 'reset')).toBe(false);
    }
    const s1 = nodes[0].t.stats().find((s) => s.peer === 2);
    expect(s1).toMatchObject({ connected: true, sent_msgs: count + 1, recv_msgs: count + 1, resets: 0 });
  });

  it('a tick\'s messages leave at flush(), to the peers named last after the others, and not again at the tick\'s end', async () => {
    const [a, b, c] = await cluster([1, 2, 3]);
    // Sid 3 dialed 1 and 2: its sockets' remote ports are theirs. Which socket sends first is what
    // a follower's client sees: the one in `last` holds a client waiting for this COMMIT.
    const uncork = net.Socket.prototype.uncork;
    const sent_to: number[] = [];
    const spy = vi.spyOn(net.Socket.prototype, 'uncork').mockImplementation(function (this: net.Socket) {
      if (this.remotePort === a.port) sent_to.push(1);
      if (this.remotePort === b.port) sent_to.push(2);
      return uncork.call(this);
    });
    try {
      for (const last of [new Set([1]), null, new Set([2])]) {
        sent_to.length = 0;
        c.t.send(1, proposal(1));
        c.t.send(2, proposal(1));
        expect(sent_to).toEqual([]); // corked until the end of the tick, or flush()
        c.t.flush(last);
        expect(sent_to).toEqual(last?.has(1) === true ? [2, 1] : [1, 2]);
        await new Promise((resolve) => setImmediate(resolve));
        expect(sent_to).toHaveLength(2);
      }
    } finally {
      spy.mockRestore();
    }
    await waitFor(() => msgsFrom(a, 3).length === 3 && msgsFrom(b, 3).length === 3, 'every message delivered');
  });

  it('queues messages sent before the peer is up and delivers them, in order, once it starts', async () => {
    const one = makeNode(1, [{ sid: 3, port: 0 }]);
    one.port = await one.t.start();
    for (let i = 1; i <= 50; i++) one.t.send(3, proposal(i)); // 1 only accepts: waits for 3 to dial
    const three = makeNode(3, [{ sid: 1, port: one.port }]);
    for (let i = 1; i <= 50; i++) three.t.send(1, proposal(i)); // before 3 even listens
    expect(three.t.connected(1)).toBe(false);
    expect(three.t.stats()[0].queued_bytes).toBeGreaterThan(0);
    await three.t.start();
    await waitFor(() => one.events.length === 50 && three.events.length === 50, 'queued messages delivered');
    const expected = Array.from({ length: 50 }, (_, i) => i + 1);
    expect(counters(msgsFrom(one, 3))).toEqual(expected);
    expect(counters(msgsFrom(three, 1))).toEqual(expected);
  });
});

describe('PeerTransport: lost connections', () => {
  it('a replica that stops is reset once at each other replica; after it restarts messages flow again', async () => {
    const [one, two, three] = await cluster([1, 2, 3]);
    await two.t.close();
    await waitFor(() => resetsOf(one, 2) === 1 && resetsOf(three, 2) === 1, 'resets of 2');
    await sleep(300); // 3 keeps dialing 2 in vain meanwhile: failed dials are not resets
    expect(resetsOf(one, 2)).toBe(1);
    expect(resetsOf(three, 2)).toBe(1);
    expect(one.t.connected(2) || three.t.connected(2)).toBe(false);

    const two_again = makeNode(2, [{ sid: 1, port: one.port }, { sid: 3, port: three.port }], {}, two.port);
    await two_again.t.start();
    await waitFor(() => one.t.connected(2) && three.t.connected(2) && two_again.t.connected(1) && two_again.t.connected(3), 'reconnected');
    one.t.send(2, proposal(7));
    three.t.send(2, proposal(8));
    two_again.t.send(1, proposal(9));
    two_again.t.send(3, proposal(10));
    await waitFor(() => two_again.events.length === 2 && msgsFrom(one, 2).length === 1 && msgsFrom(three, 2).length === 1, 'new messages');
    expect(counters(msgsFrom(two_again, 1))).toEqual([7]);
    expect(counters(msgsFrom(two_again, 3))).toEqual([8]);
    expect(counters(msgsFrom(one, 2))).toEqual([9]);
    expect(counters(msgsFrom(three, 2))).toEqual([10]);
    // The reset came before the first message of the new connection.
    expect(one.events.map((e) => e.kind)).toEqual(['reset', 'msg']);
    expect(three.events.map((e) => e.kind)).toEqual(['reset', 'msg']);
  });

  it('disconnect() closes without a local reset, drops what it had not sent, and the peer sees a reset', async () => {
    const [one, two] = await cluster([1, 2]);
    one.t.send(2, proposal(1)); // still corked in this tick: dropped by the disconnect below
    one.t.disconnect(2);
    expect(one.t.connected(2)).toBe(false);
    await waitFor(() => resetsOf(two, 1) === 1, '2 sees the reset');
    await waitFor(() => one.t.connected(2) && two.t.connected(1), '2 dials again');
    one.t.send(2, proposal(2));
    two.t.send(1, proposal(3));
    await waitFor(() => msgsFrom(two, 1).length === 1 && msgsFrom(one, 2).length === 1, 'messages on the new connection');
    expect(counters(msgsFrom(two, 1))).toEqual([2]);
    expect(counters(msgsFrom(one, 2))).toEqual([3]);
    expect(resetsOf(one, 2)).toBe(0);
    expect(two.events.map((e) => e.kind)).toEqual(['reset', 'msg']);
  });

  it('a new connection from a peer replaces the old one, which is reset first', async () => {
    const one = makeNode(1, [{ sid: 2, port: 0 }]);
    one.port = await one.t.start();
    const first = await rawDial(one.port);
    first.write(encodeHello(2));
    first.write(encodeMessage(proposal(1)));
    await waitFor(() => one.events.length === 1, 'first connection message');
    const second = await rawDial(one.port);
    second.write(Buffer.concat([encodeHello(2), encodeMessage(proposal(2))])); // hello and a frame in one segment
    await waitFor(() => one.events.length === 3, 'reset and second connection message');
    expect(one.events.map((e) => (e.kind === 'reset' ? `reset ${e.peer}` : `msg ${counters([e.msg])[0]}`))).toEqual(['msg 1', 'reset 2', 'msg 2']);
    await closedPromise(first);
    expect(one.t.connected(2)).toBe(true);
  });
});

describe('PeerTransport: membership changes (reconfig)', () => {
  it('setPeer adds a peer that then connects both ways; removePeer closes it without a local reset and refuses it after', async () => {
    const [one, two] = await cluster([1, 2]);
    // 5 is not a peer yet: it dials 1 and 2 in vain (refused hellos).
    const five = makeNode(5, [{ sid: 1, port: one.port }, { sid: 2, port: two.port }]);
    five.port = await five.t.start();
    await waitFor(() => one.logs.some((l) => /sid 5: not a configured peer/.test(l)), '1 refuses 5');
    // (a redial may be open for a moment, between its TCP connect and 1's refusal)
    await waitFor(() => !five.t.connected(1), '5 not connected to 1');
    one.t.setPeer({ sid: 5, host: HOST, port: five.port });
    two.t.setPeer({ sid: 5, host: HOST, port: five.port });
    await waitFor(() => one.t.connected(5) && two.t.connected(5) && five.t.connected(1) && five.t.connected(2), '5 connected');
    one.t.send(5, proposal(1));
    five.t.send(1, proposal(2));
    await waitFor(() => msgsFrom(five, 1).length === 1 && msgsFrom(one, 5).length === 1, 'messages with 5');

    // Sent in the same tick as the removal (still corked): 5 gets it before the close, as a
    // removed follower gets the COMMIT of the reconfig that removed it.
    const resets_before = resetsOf(five, 1); // refused dials before 1 knew 5 count too
    one.t.send(5, proposal(30));
    one.t.removePeer(5);
    expect(one.t.connected(5)).toBe(false);
    await waitFor(() => resetsOf(five, 1) > resets_before, '5 sees the close');
    expect(counters(msgsFrom(five, 1))).toEqual([1, 30]);
    await waitFor(() => one.logs.some((l) => /sid 5: removed from the ensemble by reconfig/.test(l)), '1 refuses 5 again');
    one.t.send(5, proposal(3)); // dropped: 5 is no peer of 1 any more
    expect(resetsOf(one, 5)).toBe(0);
    expect(one.t.connected(5)).toBe(false);
    // Refused after the TCP connect, 5 does not redial at the shortest delay (its back-off grows),
    // and 1 logs the refusal once, not at every attempt.
    const before = one.t.refused_hellos;
    // (retry 10..100 ms: ~18 a second with the back-off growing, ~65 if every connect reset it)
    await sleep(1000);
    expect(one.t.refused_hellos - before).toBeGreaterThan(2);
    expect(one.t.refused_hellos - before).toBeLessThan(35);
    expect(one.logs.filter((l) => /sid 5: removed/.test(l))).toHaveLength(1);
    expect(five.logs.filter((l) => /peer 1 .*closed before the peer sent anything/.test(l)).length).toBeLessThanOrEqual(2);
    // 2 still has 5; and 1 takes it back.
    expect(two.t.connected(5)).toBe(true);
    one.t.setPeer({ sid: 5, host: HOST, port: five.port });
    await waitFor(() => one.t.connected(5), '5 back at 1');
  });
});

describe('PeerTransport: a peer that moves (reconfig)', () => {
  it('keeps the live connection to a peer whose address changes; the next connection goes to the new address', async () => {
    const [one, two] = await cluster([1, 2]);
    // 2 dials 1 (the higher sid dials). 1 "moves" to a proxy in front of it.
    const proxy = await startTcpProxy(one.port);
    try {
      two.t.setPeer({ sid: 1, host: HOST, port: proxy.port });
      expect(two.t.connected(1)).toBe(true);
      two.t.send(1, proposal(1));
      one.t.send(2, proposal(2));
      await waitFor(() => msgsFrom(one, 2).length === 1 && msgsFrom(two, 1).length === 1, 'messages on the connection it had');
      expect(resetsOf(two, 1) + resetsOf(one, 2)).toBe(0);
      expect(proxy.accepted()).toBe(0);
      expect(two.logs.some((l) => /peer 1: moves to .* by reconfig \(the connection it has stays/.test(l))).toBe(true);
      // That connection lost: 2 dials 1 again, at its new address.
      one.t.disconnect(2);
      await waitFor(() => one.t.connected(2) && two.t.connected(1) && proxy.accepted() === 1, '2 dials 1 at the proxy');
      two.t.send(1, proposal(3));
      await waitFor(() => msgsFrom(one, 2).length === 2, 'a message through the new address');
    } finally {
      await proxy.close();
    }
  });
});

describe('PeerTransport: refusals and bounds', () => {
  it('refuses a garbage hello, an unknown sid and a lower sid dialing, without disturbing live connections', async () => {
    const [one, two] = await cluster([1, 2]);
    const garbage = await rawDial(one.port);
    garbage.write('GET / HTTP/1.1\r\n\r\n');
    const unknown = await rawDial(one.port);
    unknown.write(encodeHello(99));
    const lower = await rawDial(two.port);
    lower.write(encodeHello(1)); // 1 < 2: 2 dials 1, never the other way
    const bad_version = await rawDial(one.port);
    bad_version.write(Buffer.from([0x57, 0x46, 0x5a, 0x51, 0, 0, 0, 9, 0, 0, 0, 2]));
    await Promise.all([closedPromise(garbage), closedPromise(unknown), closedPromise(lower), closedPromise(bad_version)]);
    expect(one.logs.some((l) => l.includes('refused') && l.includes('bad magic'))).toBe(true);
    expect(one.logs.some((l) => l.includes('refused') && l.includes('sid 99') && l.includes('not a configured peer'))).toBe(true);
    expect(two.logs.some((l) => l.includes('refused') && l.includes('sid 1') && l.includes('below mine'))).toBe(true);
    expect(one.logs.some((l) => l.includes('refused') && l.includes('hello version 9'))).toBe(true);
    one.t.send(2, proposal(1));
    two.t.send(1, proposal(2));
    await waitFor(() => one.events.length === 1 && two.events.length === 1, 'messages still flow');
    expect(one.events).toEqual([{ kind: 'msg', from: 2, msg: proposal(2) }]);
    expect(two.events).toEqual([{ kind: 'msg', from: 1, msg: proposal(1) }]);
  });

  it('closes an accepted connection that sends no hello within handshake_timeout_ms', async () => {
    const one = makeNode(1, [{ sid: 2, port: 0 }], { handshake_timeout_ms: 100 });
    one.port = await one.t.start();
    const silent = await rawDial(one.port);
    silent.write(encodeHello(2).subarray(0, 5)); // part of a hello, then nothing
    await closedPromise(silent);
    expect(one.logs.some((l) => l.includes('refused') && l.includes('no hello within 100 ms'))).toBe(true);
    expect(one.events).toEqual([]);
  });

  it('a length prefix over frame_bytes_max closes that connection with a reset, after the frames before it', async () => {
    const one = makeNode(1, [{ sid: 2, port: 0 }], { frame_bytes_max: 1024 * 1024 });
    one.port = await one.t.start();
    const peer = await rawDial(one.port);
    const oversize = Buffer.alloc(4);
    oversize.writeUInt32BE(1024 * 1024 + 1);
    peer.write(Buffer.concat([encodeHello(2), encodeMessage(proposal(1)), oversize, Buffer.alloc(64)]));
    await closedPromise(peer);
    await waitFor(() => resetsOf(one, 2) === 1, 'reset of 2');
    expect(one.events.map((e) => e.kind)).toEqual(['msg', 'reset']);
    expect(one.logs.some((l) => l.includes('peer 2') && l.includes('frame_bytes_max'))).toBe(true);
    expect(one.t.connected(2)).toBe(false);
  });

  it('an undecodable frame closes that connection with a reset and a log line naming the peer', async () => {
    const one = makeNode(1, [{ sid: 2, port: 0 }]);
    one.port = await one.t.start();
    const peer = await rawDial(one.port);
    peer.write(Buffer.concat([encodeHello(2), Buffer.from([0, 0, 0, 1, 0x77])])); // packet type 0x77 does not exist
    await closedPromise(peer);
    await waitFor(() => resetsOf(one, 2) === 1, 'reset of 2');
    expect(one.logs.some((l) => l.includes('peer 2') && l.includes('undecodable') && l.includes('unknown packet type 119'))).toBe(true);
  });

  it('a peer that does not read is reset once its unsent bytes pass queue_bytes_max', async () => {
    const server = net.createServer((s) => {
      raw_sockets.push(s);
      s.on('error', () => {});
      s.once('data', () => s.pause()); // reads the hello, then nothing
    });
    raw_servers.push(server);
    await new Promise<void>((r) => server.listen(0, HOST, () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const two = makeNode(2, [{ sid: 1, port }], { queue_bytes_max: 1024 * 1024 });
    await two.t.start();
    await waitFor(() => two.t.connected(1), 'connected to the silent peer');
    let sent = 0;
    while (resetsOf(two, 1) === 0 && sent < 400) {
      two.t.send(1, proposal(++sent, 256 * 1024));
      await sleep(1);
    }
    expect(resetsOf(two, 1)).toBe(1);
    expect(two.logs.some((l) => l.includes('peer 1') && l.includes('queue_bytes_max'))).toBe(true);
  });

  it('messages queued while not connected are dropped with a reset once they pass queue_bytes_max', async () => {
    const two = makeNode(2, [{ sid: 1, port: 0 }], { queue_bytes_max: 1024 * 1024 }); // port 0: never dialed
    await two.t.start();
    for (let i = 1; i <= 3; i++) two.t.send(1, proposal(i, 400 * 1024));
    expect(resetsOf(two, 1)).toBe(0); // reported from a microtask, never from inside send()
    await sleep(0);
    expect(resetsOf(two, 1)).toBe(1);
    expect(two.t.stats()[0]).toMatchObject({ queued_bytes: 0, resets: 1 });
    two.t.send(1, proposal(4)); // belongs to the next connection
    expect(two.t.stats()[0].queued_bytes).toBeGreaterThan(0);
  });

  it('start() rejects naming host:port when the port is taken', async () => {
    const one = makeNode(1, []);
    const port = await one.t.start();
    const again = makeNode(1, [], {}, port);
    await expect(again.t.start()).rejects.toThrow(`${HOST}:${port}`);
  });
});

// Quorum TLS on the Zab peer transport (sslQuorum, ssl.quorum.*, portUnification), over real TCP
// on 127.0.0.1 with the test CA's certificates (test/fixtures/tls): links come up and carry
// messages inside TLS; a member whose certificate the trust store does not verify, one without a
// certificate, one whose certificate names another host, and a member of the other kind (plain
// against TLS-only, TLS against plain-only) are refused with a log line that says why; with
// portUnification one port takes both kinds.

import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import type { QuorumTlsConfig } from '../../src/config/tls_config.js';
import { encodeHello } from '../../src/replication/peer_hello.js';
import { peerTlsFrom, type PeerTls } from '../../src/replication/peer_tls.js';
import { PeerTransport } from '../../src/replication/peer_transport.js';
import type { PeerMessage } from '../../src/zab/messages.js';
import { TLS_FIXTURES } from '../support/servers.js';

const HOST = '127.0.0.1';
const WAIT_MS_MAX = 15_000;

const fixture = (name: string): Uint8Array => readFileSync(join(TLS_FIXTURES, name));

/** A member's quorum TLS: its PEM key store, the test CA as trust store. */
function quorumTls(over: Partial<QuorumTlsConfig> & { store?: string } = {}): PeerTls {
  const { store = 'server.pem', ...rest } = over;
  return peerTlsFrom({
    key_store: { kind: 'pem', pem: fixture(store) },
    passphrase: '',
    trust_pem: fixture('ca.pem'),
    client_auth: 'NEED',
    min_version: 'TLSv1.2',
    max_version: 'TLSv1.3',
    dial_tls: true,
    port_unification: false,
    hostname_verification: true,
    ...rest,
  });
}

interface Member {
  readonly sid: number;
  readonly t: PeerTransport;
  readonly got: PeerMessage[];
  readonly logs: string[];
  /** on_refused calls (the waitfree_quorum_links_refused_total counter's source). */
  readonly refused: { n: number };
  port: number;
}

const transports: PeerTransport[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const t of transports.splice(0)) await t.close();
});

async function member(sid: number, peers: readonly number[], peer_tls: PeerTls | null): Promise<Member> {
  const got: PeerMessage[] = [];
  const logs: string[] = [];
  const refused = { n: 0 };
  const t = new PeerTransport(
    {
      sid,
      listen: { host: HOST, port: 0 },
      peers: peers.map((p) => ({ sid: p, host: HOST, port: 0 })),
      frame_bytes_max: 16 * 1024 * 1024,
      queue_bytes_max: 16 * 1024 * 1024,
      connect_retry_ms_min: 10,
      connect_retry_ms_max: 100,
      handshake_timeout_ms: 3000,
      tls: peer_tls,
      random: Math.random,
      log: (line) => logs.push(line),
      on_refused: () => refused.n++,
    },
    { message: (_from, msg) => got.push(msg), reset: () => {} },
  );
  transports.push(t);
  const port = await t.start();
  return { sid, t, got, logs, refused, port };
}

/** Member 2 (which dials) and member 1 (which accepts), each told the other's port. */
async function pair(accepting: PeerTls | null, dialing: PeerTls | null): Promise<{ one: Member; two: Member }> {
  const one = await member(1, [2], accepting);
  const two = await member(2, [1], dialing);
  one.t.setPeerPort(2, two.port);
  two.t.setPeerPort(1, one.port);
  return { one, two };
}

async function waitFor(cond: () => boolean, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + WAIT_MS_MAX;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${typeof what === "string" ? what : what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Both ways, a few proposals in order. */
async function exchanges(one: Member, two: Member): Promise<void> {
  await waitFor(() => one.t.connected(2) && two.t.connected(1), 'the link up');
  for (let counter = 1; counter <= 20; counter++) {
    const msg: PeerMessage = { type: 'PROPOSAL', zxid: { epoch: 1, counter }, txn: new Uint8Array(64).fill(counter) };
    one.t.send(2, msg);
    two.t.send(1, msg);
  }
  await waitFor(() => one.got.length === 20 && two.got.length === 20, 'every message delivered');
  const counters = (msgs: PeerMessage[]): number[] => msgs.map((m) => (m.type === 'PROPOSAL' ? m.zxid.counter : -1));
  expect(counters(one.got)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  expect(counters(two.got)).toEqual(counters(one.got));
}

/** Waits until `m` logged a line matching `pattern`; the link never came up meanwhile. */
async function refusedWith(m: Member, pattern: RegExp): Promise<string> {
  await waitFor(() => m.logs.some((l) => pattern.test(l)), () => `a log line matching ${pattern} in:\n${m.logs.join("\n")}`);
  return m.logs.find((l) => pattern.test(l))!;
}

describe('quorum TLS: links between members', () => {
  it('two members with certificates from the trusted CA link up and exchange messages inside TLS', async () => {
    const { one, two } = await pair(quorumTls(), quorumTls());
    await exchanges(one, two);
    // What goes over the wire is TLS: a plain client offering a hello is not taken.
    const raw = net.connect({ host: HOST, port: one.port });
    sockets.push(raw);
    raw.on('error', () => {});
    raw.write(encodeHello(2));
    await new Promise<void>((r) => raw.once('close', () => r()));
    expect(await refusedWith(one, /refused connection from 127\.0\.0\.1:\d+: TLS handshake failed: .*not TLS: is sslQuorum=false on that member\?/)).toBeTruthy();
    expect(one.t.connected(2)).toBe(true);
  });

  it('refuses a member whose certificate another CA signed, and the dialer refuses such a server', async () => {
    const stranger = quorumTls({ store: 'stranger.pem' });
    const a = await pair(quorumTls(), stranger);
    await refusedWith(a.one, /refused connection from 127\.0\.0\.1:\d+: its certificate does not verify: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    const b = await pair(stranger, quorumTls());
    await refusedWith(b.two, /peer 1 \(127\.0\.0\.1:\d+\): cannot connect: unable to verify the first certificate; retrying/);
    expect(a.one.t.connected(2) || b.two.t.connected(1)).toBe(false);
    // Each refusal is counted (the log line is rate-limited, the count is not); the dialer keeps trying.
    await waitFor(() => a.one.refused.n >= 2, 'a second refusal counted');
    expect(a.one.logs.filter((l) => /does not verify/.test(l))).toHaveLength(1);
  });

  it('new certificates (setTls, as sslQuorumReloadCertFiles does) serve the next links without a restart; a reload cannot change the link kinds', async () => {
    const { one, two } = await pair(quorumTls(), quorumTls({ store: 'stranger.pem' }));
    await refusedWith(one, /its certificate does not verify/);
    // (The dialer may count itself connected for a moment: with TLS 1.3 its side of the handshake
    // ends before the acceptor has checked its certificate.)
    expect(one.t.connected(2)).toBe(false);
    // The dialer's certificate is replaced: its next dial presents the new one.
    two.t.setTls(quorumTls());
    await exchanges(one, two);
    expect(() => two.t.setTls(quorumTls({ dial_tls: false }))).toThrow(/cannot change which kinds of link/);
  });

  it('ssl.quorum.clientAuth: NEED refuses a dialer without a certificate; WANT and NONE let it in', async () => {
    // A dialer without a certificate: a raw TLS client that verifies the server as a member would.
    const bare = async (port: number): Promise<tls.TLSSocket> => {
      const s = tls.connect({ host: HOST, port, ca: Buffer.from(fixture('ca.pem')) });
      sockets.push(s);
      s.on('error', () => {});
      await new Promise<void>((r) => s.once('secureConnect', () => r()));
      return s;
    };
    const need = await member(1, [2], quorumTls());
    const s1 = await bare(need.port);
    await new Promise<void>((r) => (s1.destroyed ? r() : s1.once('close', () => r())));
    await refusedWith(need, /refused connection from 127\.0\.0\.1:\d+: no certificate \(ssl\.quorum\.clientAuth=NEED\)/);
    for (const client_auth of ['WANT', 'NONE'] as const) {
      const m = await member(1, [2], quorumTls({ client_auth }));
      const s = await bare(m.port);
      // Taken: it waits for the hello, then refuses the hello of an unknown sid (not the certificate).
      s.write(encodeHello(7));
      await refusedWith(m, /refused connection from 127\.0\.0\.1:\d+: sid 7: not a configured peer of 1/);
      expect(m.logs.join('\n')).not.toMatch(/certificate/);
    }
  });

  it('hostname verification: a certificate that does not name 127.0.0.1 is refused both ways; off, it links up', async () => {
    const elsewhere = quorumTls({ store: 'elsewhere.pem' });
    const a = await pair(quorumTls(), elsewhere);
    await refusedWith(a.one, /its certificate names neither 127\.0\.0\.1 nor a name that address resolves to \(ssl\.quorum\.hostnameVerification\)/);
    const b = await pair(elsewhere, quorumTls());
    await refusedWith(b.two, /cannot connect: Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list/);
    const c = await pair(quorumTls({ store: 'elsewhere.pem', hostname_verification: false }), quorumTls({ hostname_verification: false }));
    await exchanges(c.one, c.two);
  });

  it('a TLS dialer and a plain-only port, a plain dialer and a TLS-only port: refused, saying which is which', async () => {
    const a = await pair(null, quorumTls());
    await refusedWith(a.one, /refused connection from 127\.0\.0\.1:\d+: a TLS link to a plain quorum port \(is sslQuorum=true on that member\?/);
    const b = await pair(quorumTls(), null);
    await refusedWith(b.one, /TLS handshake failed: .*\(not TLS: is sslQuorum=false on that member\? portUnification=true here takes both\)/);
    expect(a.one.t.connected(2) || b.one.t.connected(2)).toBe(false);
  });

  it('portUnification: one quorum port takes a TLS member and a plain one (the rolling upgrade to quorum TLS)', async () => {
    // The higher sid dials: member 3 (sslQuorum=true, upgraded) dials 1 and 2 with TLS, member 2
    // (sslQuorum=false, not yet) dials 1 plain; 1 and 2 take both (portUnification=true).
    const one = await member(1, [2, 3], quorumTls({ dial_tls: false, port_unification: true }));
    const two = await member(2, [1, 3], quorumTls({ dial_tls: false, port_unification: true }));
    const three = await member(3, [1, 2], quorumTls({ dial_tls: true, port_unification: true }));
    for (const [m, others] of [[one, [two, three]], [two, [one, three]], [three, [one, two]]] as const) {
      for (const o of others) m.t.setPeerPort(o.sid, o.port);
    }
    await waitFor(() => one.t.connected(2) && one.t.connected(3) && two.t.connected(3), 'every pair linked');
    one.t.send(3, { type: 'PROPOSAL', zxid: { epoch: 1, counter: 1 }, txn: new Uint8Array(8) });
    three.t.send(1, { type: 'PROPOSAL', zxid: { epoch: 1, counter: 2 }, txn: new Uint8Array(8) });
    two.t.send(1, { type: 'PROPOSAL', zxid: { epoch: 1, counter: 3 }, txn: new Uint8Array(8) });
    await waitFor(() => three.got.length === 1 && one.got.length === 2, 'messages over both kinds of link');
    expect(one.logs.join('\n')).not.toMatch(/refused/);
  });
});

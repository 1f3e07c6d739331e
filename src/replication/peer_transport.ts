// Real TCP between Zab replicas: the network the Zab driver (src/quorum/quorum_driver.ts) sends
// on, with the connection model the core assumes and the simulator implements
// (test/sim/network.ts; "What the driver must guarantee" in src/zab/zab_core.ts).
//
// One connection per pair of replicas: the higher sid dials, the lower only accepts. The dialer
// keeps dialing (jittered back-off, dial_backoff.ts) while it has no connection, and opens with a
// hello (peer_hello.ts). The acceptor checks the hello: a configured peer with a sid above its
// own, else it logs why (remote address and sid) and closes. A valid hello from a peer that
// already has a connection replaces it (the old one is reset first: the peer restarted, or
// its side of the old connection is gone).
//
// Per-connection FIFO and resets:
// - messages are delivered in the order their connection carried them, decoded, and none after
//   the connection closed (every delivery checks the connection is still open);
// - when a connection closes for any reason except disconnect(), `reset(peer)` is called once,
//   BEFORE any message of a later connection with that peer. From socket callbacks it is called
//   at once; from send() (queue overflow, message over frame_bytes_max) it is deferred to a
//   microtask so the driver is not re-entered, and a later connection cannot deliver before it:
//   delivery only happens in socket callbacks, and microtasks run before the next one;
// - a message sent while no connection exists waits in the peer's queue and is written when the
//   next connection opens. What a closed connection had not sent is dropped with it. When that
//   queue would pass queue_bytes_max, it is dropped and reset(peer) reported, as if a connection
//   had been lost: the core never sees a gap inside one connection.
//
// TLS (sslQuorum, portUnification; peer_tls.ts): a dialer opens TLS before its hello, an
// acceptor runs the handshake (or, taking both kinds, tells TLS from plain by the first byte)
// before it reads the hello; everything above works on the TLS socket as on a plain one. The
// handshake counts against the acceptor's hello wait (handshake_timeout_ms, PENDING_HELLOS_MAX)
// and the dialer's connect bound.
//
// Bounds: frames (body 1..frame_bytes_max, both ways), unsent bytes per peer (queue_bytes_max,
// checked before each write so one message larger than the bound still leaves whole on an idle
// connection), accepted sockets waiting for their hello (PENDING_HELLOS_MAX, each for at most
// handshake_timeout_ms), connect attempts (handshake_timeout_ms each).
//
// Containment: a peer's bytes can only close that peer's connection. A frame that does not
// decode (ZabDecodeError) closes it with a log line naming the peer; any other throw while
// decoding is a decoder bug reached by peer bytes, logged as BUG with its stack, and it still
// costs only that connection. Exceptions from the handlers are the driver's and propagate.

import * as net from 'node:net';
import * as tls from 'node:tls';
import { decodeMessage, encodeMessageParts, FRAME_HEADER_BYTES, ZabDecodeError, type PeerMessage } from '../zab/messages.js';
import { DialBackoff } from './dial_backoff.js';
import { encodeHello, HelloReader } from './peer_hello.js';
import { TLS_HANDSHAKE_RECORD } from '../protocol/tls_record.js';
import { acceptTls, dialOptions, plainIp, type PeerTls } from './peer_tls.js';
import { Link, PeerSlot } from './peer_slot.js';

export interface PeerAddress {
  readonly sid: number;
  readonly host: string;
  /** 0 = not known yet: not dialed until setPeerPort() gives it. */
  readonly port: number;
}

export interface PeerTransportOptions {
  /** My server id. */
  readonly sid: number;
  /** My quorum port (port 0: any free port, see start()). */
  readonly listen: { readonly host: string; readonly port: number };
  /** Every other member (voters and observers). */
  readonly peers: readonly PeerAddress[];
  /** Largest frame body accepted or sent (a SNAP carries a whole snapshot). */
  readonly frame_bytes_max: number;
  /** Unsent bytes per peer before that connection is reset. */
  readonly queue_bytes_max: number;
  readonly connect_retry_ms_min: number;
  readonly connect_retry_ms_max: number;
  /** Bound on a TCP connect and on the wait for an accepted socket's hello (default 5000). */
  readonly handshake_timeout_ms?: number;
  /** TLS on the links (sslQuorum, portUnification); null or absent = plain only. */
  readonly tls?: PeerTls | null;
  /** Jitter source, in [0, 1). */
  readonly random: () => number;
  readonly log: (line: string) => void;
  /** Told of each connection refused for who it is (its sid, its certificate, its kind). */
  readonly on_refused?: () => void;
}

export interface PeerHandlers {
  /** A decoded message, in its connection's FIFO order. */
  message(from: number, msg: PeerMessage): void;
  /** The connection with `peer` closed (not called for a close asked with disconnect()). */
  reset(peer: number): void;
}

export interface PeerStats {
  readonly peer: number;
  readonly connected: boolean;
  readonly queued_bytes: number;
  readonly sent_msgs: number;
  readonly recv_msgs: number;
  readonly resets: number;
}

/** A refused sid is logged at most once per this interval. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;
/** Refusal reasons remembered for that (the map is cleared past it: a bound, not a cache). */
const REFUSALS_TRACKED_MAX = 256;
/** Accepted sockets that have not sent their hello yet; more are closed at once. */
export const PENDING_HELLOS_MAX = 64;
const HANDSHAKE_TIMEOUT_MS_DEFAULT = 5000;
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;
/** A frame's body length is a u32. */
const FRAME_BODY_BYTES_LIMIT = 0xffff_ffff;

function frameBytes(frame: readonly Uint8Array[]): number {
  let n = 0;
  for (const part of frame) n += part.length;
  return n;
}

type ResetReport = 'now' | 'soon' | 'none';

/** A removed peer's connection gets this long to take what was sent to it before it is destroyed. */
const REMOVED_FLUSH_MS = 5000;

export class PeerTransport {
  private readonly sid: number;
  private readonly slots = new Map<number, PeerSlot>();
  private readonly pending_hellos = new Set<net.Socket>();
  private readonly handshake_timeout_ms: number;
  /** Replaced whole by setTls (sslQuorumReloadCertFiles); each dial and accept reads it once. */
  private tls: PeerTls | null;
  private server: net.Server | null = null;
  private bound_port = -1;
  private closed = false;

  constructor(
    private readonly opts: PeerTransportOptions,
    private readonly handlers: PeerHandlers,
  ) {
    checkOptions(opts);
    this.sid = opts.sid;
    this.handshake_timeout_ms = opts.handshake_timeout_ms ?? HANDSHAKE_TIMEOUT_MS_DEFAULT;
    this.tls = opts.tls ?? null;
    for (const p of opts.peers) {
      const backoff = new DialBackoff(opts.connect_retry_ms_min, opts.connect_retry_ms_max, opts.random);
      this.slots.set(p.sid, new PeerSlot(p.sid, p.host, p.port, p.sid < opts.sid, backoff));
    }
  }

  /** Listens, then dials every lower-sid peer whose port is known. Resolves with the bound port. */
  /**
   * New certificates and trust for the links made from now on (sslQuorumReloadCertFiles); links
   * up keep theirs. Only the stores may change: which kinds of link this member dials and takes
   * comes from its config, which a reload does not change.
   */
  setTls(next: PeerTls): void {
    const now = this.tls;
    if (now === null || now.dial_tls !== next.dial_tls || now.accept_tls !== next.accept_tls || now.accept_plain !== next.accept_plain) {
      throw new Error('peer transport: a TLS reload cannot change which kinds of link are dialed and taken');
    }
    this.tls = next;
  }

  async start(): Promise<number> {
    if (this.server !== null || this.closed) throw new Error(`PeerTransport ${this.sid}: start() called twice or after close()`);
    const { host, port } = this.opts.listen;
    const server = net.createServer((socket) => this.onAccept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const failed = (e: Error): void => reject(new Error(`peer transport ${this.sid}: cannot listen on ${host}:${port}: ${e.message}`));
      server.once('error', failed);
      server.listen({ host, port }, () => {
        server.off('error', failed);
        resolve();
      });
    });
    server.on('error', (e) => this.opts.log(`peer transport ${this.sid}: listener error on ${host}:${port}: ${e.message}`));
    const address = server.address();
    this.bound_port = typeof address === 'object' && address !== null ? address.port : port;
    for (const slot of this.slots.values()) this.dial(slot);
    return this.bound_port;
  }

  /** The port start() bound (-1 before). */
  get port(): number {
    return this.bound_port;
  }

  /** Sets a peer's port (tests use ephemeral ports); dials it now if this replica dials it. */
  setPeerPort(sid: number, port: number): void {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`setPeerPort: peer ${sid}: bad port ${port}`);
    const slot = this.slotOf(sid);
    slot.port = port;
    if (slot.link !== null || slot.dialing !== null || this.server === null) return;
    this.clearRetry(slot);
    this.dial(slot);
  }

  /**
   * Membership change (reconfig): `p` becomes a peer, again a peer, or moves to another address.
   * A live connection to a peer that moves stays: it is to that server (its hello named it),
   * wherever the server will listen; the new address is for the next dial, once this connection
   * is lost (ZooKeeper's QuorumCnxManager keeps a connection it has too). Closing it would cut a
   * leader off from a follower that has not moved yet, while the reconfig that moves it is in
   * flight. Dialed now if this replica dials it and has no connection.
   */
  setPeer(p: PeerAddress): void {
    if (this.closed) return;
    let slot = this.slots.get(p.sid);
    if (slot === undefined) {
      slot = new PeerSlot(p.sid, p.host, p.port, p.sid < this.sid, new DialBackoff(this.opts.connect_retry_ms_min, this.opts.connect_retry_ms_max, this.opts.random));
      this.slots.set(p.sid, slot);
    } else {
      const moved = slot.host !== p.host || slot.port !== p.port;
      if (slot.member && !moved) return;
      slot.member = true;
      slot.host = p.host;
      slot.port = p.port;
      if (moved && slot.link !== null) this.opts.log(`peer ${slot.sid}: moves to ${slot.address} by reconfig (the connection it has stays; the next one goes there)`);
      slot.dialing?.destroy();
    }
    if (this.server !== null) this.dial(slot);
  }

  /** Membership change (reconfig): `sid` is no peer any more. Its connection is closed (no reset
   *  report: the caller tells the core), nothing is sent to it or accepted from it from now on.
   *  What was sent to it before is delivered first (FIN, not RST): the COMMIT of the reconfig
   *  that removed it, which it must apply to answer its clients and to know it left. */
  removePeer(sid: number): void {
    const slot = this.slots.get(sid);
    if (slot === undefined || !slot.member || this.closed) return;
    slot.member = false;
    this.clearRetry(slot);
    slot.dialing?.destroy();
    slot.dialing = null;
    slot.takeQueue();
    if (slot.link !== null) this.closeLink(slot, slot.link, 'removed from the ensemble by reconfig', 'none', 'flush');
  }

  /** Writes `msg` to the peer's connection, or queues it for the next one. Never throws for a down peer. */
  send(to: number, msg: PeerMessage): void {
    const slot = this.slotOf(to);
    if (this.closed || !slot.member) return;
    // Encoded against the u32 limit, then checked against our bound: an invalid message is a bug
    // of the caller (encodeMessage throws), an oversize one only costs this peer's connection.
    const frame = encodeMessageParts(msg, FRAME_BODY_BYTES_LIMIT);
    const frame_bytes = frameBytes(frame);
    const body_bytes = frame_bytes - FRAME_HEADER_BYTES;
    if (body_bytes > this.opts.frame_bytes_max) {
      this.dropPeer(slot, `${msg.type} of ${body_bytes} B is over frame_bytes_max ${this.opts.frame_bytes_max}; not sent`);
      return;
    }
    if (slot.link !== null) {
      this.writeFrame(slot, slot.link, frame);
      return;
    }
    if (slot.queued_bytes > 0 && slot.queued_bytes + frame_bytes > this.opts.queue_bytes_max) {
      this.dropPeer(slot, `${slot.queued_bytes} B queued while not connected + ${frame_bytes} B is over queue_bytes_max ${this.opts.queue_bytes_max}`);
      return;
    }
    slot.enqueue(frame);
  }

  /** Sends now what this tick's writes corked, on every connection (see writeFrame); to the
   *  peers in `last` after all others. */
  flush(last: ReadonlySet<number> | null = null): void {
    for (const slot of this.slots.values()) if (last === null || !last.has(slot.sid)) slot.link?.uncork();
    if (last === null) return;
    for (const slot of this.slots.values()) if (last.has(slot.sid)) slot.link?.uncork();
  }

  /** Closes the connection with `peer` now and drops what is queued for it; no reset() for this close. */
  disconnect(peer: number): void {
    const slot = this.slotOf(peer);
    if (this.closed) return;
    slot.takeQueue();
    if (slot.link !== null) this.closeLink(slot, slot.link, 'disconnect() asked locally', 'none');
  }

  connected(peer: number): boolean {
    return this.slotOf(peer).link !== null;
  }

  stats(): PeerStats[] {
    return [...this.slots.values()].map((s) => ({
      peer: s.sid,
      connected: s.link !== null,
      queued_bytes: s.link !== null ? s.link.socket.writableLength : s.queued_bytes,
      sent_msgs: s.sent_msgs,
      recv_msgs: s.recv_msgs,
      resets: s.resets,
    }));
  }

  /** Stops listening and dialing, closes every connection. No handler is called after this starts. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots.values()) {
      this.clearRetry(slot);
      slot.dialing?.destroy();
      slot.dialing = null;
      if (slot.link !== null) {
        slot.link.open = false;
        slot.link.socket.destroy();
        slot.link = null;
      }
      slot.takeQueue();
    }
    for (const socket of this.pending_hellos) socket.destroy();
    this.pending_hellos.clear();
    const server = this.server;
    if (server === null) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- dialing (this sid above the peer's) ------------------------------------------------

  private dial(slot: PeerSlot): void {
    if (this.closed || !slot.member || !slot.dials || slot.link !== null || slot.dialing !== null || slot.port === 0) return;
    this.clearRetry(slot);
    const secure = this.tls !== null && this.tls.dial_tls ? this.tls : null;
    const socket = secure === null ? net.connect({ host: slot.host, port: slot.port }) : tls.connect(dialOptions(secure, slot.host, slot.port));
    slot.dialing = socket;
    let failure = 'closed';
    const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${this.handshake_timeout_ms} ms`)), this.handshake_timeout_ms);
    const onError = (e: Error): void => {
      failure = e.message;
    };
    const onClose = (): void => {
      clearTimeout(timer);
      if (slot.dialing !== socket) return;
      slot.dialing = null;
      if (this.closed) return;
      if (!slot.dial_failing) this.opts.log(`peer ${slot.sid} (${slot.address}): cannot connect: ${failure}; retrying`);
      slot.dial_failing = true;
      this.scheduleDial(slot);
    };
    socket.on('error', onError);
    socket.once('close', onClose);
    // A TLS link is usable once its handshake is done (the peer's certificate verified).
    socket.once(secure === null ? 'connect' : 'secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('close', onClose);
      slot.dialing = null;
      if (this.closed) {
        socket.destroy();
        return;
      }
      prepareSocket(socket);
      socket.write(encodeHello(this.sid));
      this.adopt(slot, socket, `${slot.address}`, null);
    });
  }

  private scheduleDial(slot: PeerSlot): void {
    if (this.closed || !slot.member || !slot.dials || slot.link !== null || slot.dialing !== null || slot.retry_timer !== null) return;
    slot.retry_timer = setTimeout(() => {
      slot.retry_timer = null;
      this.dial(slot);
    }, slot.backoff.next_ms());
  }

  private clearRetry(slot: PeerSlot): void {
    if (slot.retry_timer === null) return;
    clearTimeout(slot.retry_timer);
    slot.retry_timer = null;
  }

  // ---- accepting (this sid below the peer's) ----------------------------------------------

  private onAccept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.on('error', () => {}); // the close that follows is what counts
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.pending_hellos.size >= PENDING_HELLOS_MAX) {
      this.opts.log(`peer transport ${this.sid}: refused ${remote}: ${PENDING_HELLOS_MAX} connections already wait for their hello`);
      socket.destroy();
      return;
    }
    prepareSocket(socket);
    this.pending_hellos.add(socket);
    // One bound for the TLS handshake and the hello; refuse() ends whichever socket is current.
    let current: net.Socket = socket;
    const timer = setTimeout(() => this.refuse(socket, remote, `no hello within ${this.handshake_timeout_ms} ms`, false, current), this.handshake_timeout_ms);
    socket.once('close', () => {
      clearTimeout(timer);
      this.pending_hellos.delete(socket);
    });
    const secured = (accepted: net.Socket): void =>
      acceptTls(accepted, plainIp(socket.remoteAddress), this.tls!, this.handshake_timeout_ms, (r) => {
        if (socket.destroyed || !this.pending_hellos.has(socket)) return;
        if (!r.ok) return this.refuse(socket, remote, r.reason, true);
        current = r.socket;
        r.socket.on('error', () => {});
        this.awaitHello(socket, r.socket, remote, timer, null);
      });
    const t = this.tls;
    if (t === null || !t.accept_tls) return this.awaitHello(socket, socket, remote, timer, null);
    if (!t.accept_plain) return secured(socket);
    // Both kinds (portUnification): the first byte tells. A TLS link gets its first bytes back
    // with unshift: node:tls feeds a wrapped socket's buffered bytes to the handshake first, and
    // the TLS then runs on the socket's own handle.
    socket.once('data', (head: Buffer) => {
      socket.pause();
      if (head[0] !== TLS_HANDSHAKE_RECORD) return this.awaitHello(socket, socket, remote, timer, head);
      socket.unshift(head);
      secured(socket);
    });
  }

  /** Reads the hello from `link_socket` (the accepted socket, or TLS over it) and adopts it. */
  private awaitHello(socket: net.Socket, link_socket: net.Socket, remote: string, timer: NodeJS.Timeout, head: Buffer | null): void {
    const reader = new HelloReader();
    // A port that takes TLS never hands a ClientHello here (onAccept sends it to the handshake).
    const plain_only = this.tls === null || !this.tls.accept_tls;
    let first = true;
    const onData = (chunk: Buffer): void => {
      const client_hello = first && plain_only && chunk[0] === TLS_HANDSHAKE_RECORD;
      first = false;
      if (client_hello) {
        clearTimeout(timer);
        link_socket.off('data', onData);
        return this.refuse(socket, remote, 'a TLS link to a plain quorum port (is sslQuorum=true on that member? sslQuorum or portUnification here takes it)', true);
      }
      const r = reader.push(chunk);
      if (r.kind === 'more') return;
      clearTimeout(timer);
      link_socket.off('data', onData);
      if (r.kind === 'bad') return this.refuse(socket, remote, r.reason, false, link_socket);
      const problem = this.helloProblem(r.sid);
      if (problem !== null) return this.refuse(socket, remote, `sid ${r.sid}: ${problem}`, true, link_socket);
      this.pending_hellos.delete(socket);
      this.adopt(this.slotOf(r.sid), link_socket, remote, r.rest);
    };
    link_socket.on('data', onData);
    if (head !== null) {
      onData(head);
      if (!link_socket.destroyed) link_socket.resume();
    }
  }

  private helloProblem(sid: number): string | null {
    const slot = this.slots.get(sid);
    if (slot === undefined) return `not a configured peer of ${this.sid}`;
    if (!slot.member) return `removed from the ensemble by reconfig`;
    if (sid < this.sid) return `below mine (${this.sid}): the higher sid dials, so ${this.sid} dials ${sid}`;
    return null;
  }

  /** Connections refused for who they are (their hello's sid, their certificate), since start. */
  refused_hellos = 0;
  /** When a refusal was last logged, by reason, and how many since (a server that is not a
   *  member, e.g. removed by a reconfig, keeps dialing: one line a minute, not one a second). */
  private readonly refusals = new Map<string, { logged_ms: number; since: number }>();

  /** Ends an accepted connection that did not become a link (`current`: TLS over `socket`, if
   *  any); `rate_limited` reasons (a sid, a certificate) are logged once a minute each. */
  private refuse(socket: net.Socket, remote: string, reason: string, rate_limited = false, current: net.Socket = socket): void {
    this.pending_hellos.delete(socket);
    if (socket.destroyed) return;
    current.destroy();
    socket.destroy();
    if (rate_limited) {
      this.refused_hellos += 1;
      this.opts.on_refused?.();
      const now = Date.now();
      const seen = this.refusals.get(reason);
      if (seen !== undefined && now - seen.logged_ms < REFUSAL_LOG_INTERVAL_MS) {
        seen.since += 1;
        return;
      }
      if (seen === undefined && this.refusals.size >= REFUSALS_TRACKED_MAX) this.refusals.clear();
      this.refusals.set(reason, { logged_ms: now, since: 0 });
      if (seen !== undefined && seen.since > 0) reason += ` (and ${seen.since} times since the last line)`;
    }
    this.opts.log(`peer transport ${this.sid}: refused connection from ${remote}: ${reason}`);
  }

  // ---- an established connection ------------------------------------------------------------

  /** Makes `socket` the connection with the peer (replacing an older one) and writes the queue. */
  private adopt(slot: PeerSlot, socket: net.Socket, remote: string, rest: Buffer | null): void {
    if (slot.link !== null) this.closeLink(slot, slot.link, `replaced by a new connection from ${remote}`, 'now');
    const link = new Link(socket, remote, this.opts.frame_bytes_max);
    slot.link = link;
    // A dialer's connection counts once the peer sends (it took the hello); see onLinkData.
    if (!slot.dials) this.opts.log(`peer ${slot.sid} (${remote}): connected`);
    socket.on('error', (e) => {
      link.error = e.message;
    });
    socket.on('close', () => this.closeLink(slot, link, link.error ?? 'closed by the peer', 'now'));
    socket.on('data', (chunk: Buffer) => this.onLinkData(slot, link, chunk));
    for (const frame of slot.takeQueue()) {
      if (!link.open) break;
      this.writeFrame(slot, link, frame);
    }
    if (rest !== null && rest.length > 0) this.onLinkData(slot, link, rest);
  }

  private onLinkData(slot: PeerSlot, link: Link, chunk: Buffer): void {
    if (!link.open || this.closed) return;
    if (!link.heard) {
      // Not at connect: a peer that refuses the hello (this sid unknown to it, or removed by a
      // reconfig) accepts the TCP connection first, and would be redialed at the shortest delay.
      link.heard = true;
      slot.backoff.reset();
      if (slot.dials) {
        slot.dial_failing = false;
        this.opts.log(`peer ${slot.sid} (${link.remote}): connected`);
      }
    }
    const problem = link.cutter.push(chunk, (frame) => this.deliver(slot, link, frame));
    if (problem !== null) this.closeLink(slot, link, `malformed stream: ${problem}`, 'now');
  }

  /** Decodes and hands over one frame; false once the connection is closed (stop cutting). */
  private deliver(slot: PeerSlot, link: Link, frame: Uint8Array): boolean {
    let msg: PeerMessage;
    try {
      msg = decodeMessage(frame, this.opts.frame_bytes_max);
    } catch (e) {
      const why = e instanceof ZabDecodeError ? `undecodable frame: ${e.message}` : `BUG: decoding a frame threw ${(e as Error)?.stack ?? String(e)}`;
      this.closeLink(slot, link, why, 'now');
      return false;
    }
    slot.recv_msgs += 1;
    this.handlers.message(slot.sid, msg);
    return link.open && !this.closed;
  }

  /** Writes one frame (its parts in order), unless the unsent bytes would pass queue_bytes_max (then resets). */
  private writeFrame(slot: PeerSlot, link: Link, frame: readonly Uint8Array[]): void {
    const socket = link.socket;
    const unsent = socket.writableLength;
    const frame_bytes = frameBytes(frame);
    if (unsent > 0 && unsent + frame_bytes > this.opts.queue_bytes_max) {
      this.closeLink(slot, link, `${unsent} B unsent + ${frame_bytes} B is over queue_bytes_max ${this.opts.queue_bytes_max} (peer not reading)`, 'soon');
      return;
    }
    if (!link.corked) {
      // Messages of one driver step leave together (one writev), without waiting for a timer:
      // at the end of this tick, or sooner at flush().
      link.cork();
      process.nextTick(() => link.uncork());
    }
    for (const part of frame) socket.write(part);
    slot.sent_msgs += 1;
  }

  /**
   * Closes `link` once: drops what it had not sent ('reset') or sends it first ('flush': FIN after
   * the bytes, the socket destroyed after REMOVED_FLUSH_MS at most if the peer does not read),
   * reports as asked, and redials if we dial.
   */
  private closeLink(slot: PeerSlot, link: Link, reason: string, report: ResetReport, how: 'reset' | 'flush' = 'reset'): void {
    if (!link.open) return;
    link.open = false;
    if (!link.socket.destroyed) {
      if (how === 'flush') {
        link.uncork();
        link.socket.end();
        const socket = link.socket;
        setTimeout(() => socket.destroy(), REMOVED_FLUSH_MS).unref();
      } else {
        // RST, not FIN: what this side had not sent must not reach the peer after the close.
        // (A TLS socket cannot send one: destroy() drops what it had not written.)
        if (link.socket instanceof tls.TLSSocket) link.socket.destroy();
        else link.socket.resetAndDestroy();
      }
    }
    if (slot.link === link) slot.link = null;
    if (this.closed) return;
    if (slot.dials && !link.heard) {
      // The peer closed before a word: it refused our hello (logged once, as a failed dial).
      if (!slot.dial_failing) this.opts.log(`peer ${slot.sid} (${link.remote}): closed before the peer sent anything (${reason}: it refused the hello, or went away); retrying`);
      slot.dial_failing = true;
    } else this.opts.log(`peer ${slot.sid} (${link.remote}): connection closed: ${reason}`);
    this.report(slot, report);
    this.scheduleDial(slot);
  }

  /** Drops the peer's connection or, without one, its queue, as a lost connection (reset soon). */
  private dropPeer(slot: PeerSlot, reason: string): void {
    if (slot.link !== null) {
      this.closeLink(slot, slot.link, reason, 'soon');
      return;
    }
    slot.takeQueue();
    this.opts.log(`peer ${slot.sid} (${slot.address}): queue dropped: ${reason}`);
    this.report(slot, 'soon');
  }

  private report(slot: PeerSlot, report: ResetReport): void {
    if (report === 'none') return;
    slot.resets += 1;
    if (report === 'now') {
      this.handlers.reset(slot.sid);
      return;
    }
    queueMicrotask(() => {
      if (!this.closed) this.handlers.reset(slot.sid);
    });
  }

  private slotOf(sid: number): PeerSlot {
    const slot = this.slots.get(sid);
    if (slot === undefined) throw new Error(`peer transport ${this.sid}: ${sid} is not a configured peer`);
    return slot;
  }
}

function prepareSocket(socket: net.Socket): void {
  socket.setNoDelay(true); // Zab is latency-bound: a PROPOSAL or ACK must not wait for Nagle
  socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
}

function checkOptions(o: PeerTransportOptions): void {
  const u32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff;
  if (!u32(o.sid)) throw new Error(`peer transport: sid ${o.sid} is not a u32`);
  if (!Number.isInteger(o.frame_bytes_max) || o.frame_bytes_max < 1 || o.frame_bytes_max > FRAME_BODY_BYTES_LIMIT) {
    throw new Error(`peer transport ${o.sid}: frame_bytes_max ${o.frame_bytes_max} outside 1..${FRAME_BODY_BYTES_LIMIT}`);
  }
  if (!Number.isInteger(o.queue_bytes_max) || o.queue_bytes_max < 1) throw new Error(`peer transport ${o.sid}: queue_bytes_max ${o.queue_bytes_max}`);
  if (o.handshake_timeout_ms !== undefined && !(o.handshake_timeout_ms >= 1)) {
    throw new Error(`peer transport ${o.sid}: handshake_timeout_ms ${o.handshake_timeout_ms}`);
  }
  const seen = new Set<number>();
  for (const p of o.peers) {
    if (!u32(p.sid) || p.sid === o.sid || seen.has(p.sid)) throw new Error(`peer transport ${o.sid}: peer sid ${p.sid} is invalid, mine or repeated`);
    if (!Number.isInteger(p.port) || p.port < 0 || p.port > 65535) throw new Error(`peer transport ${o.sid}: peer ${p.sid} has bad port ${p.port}`);
    seen.add(p.sid);
  }
}

// The networking worker: owns every client socket. It cuts the byte stream into frames (length
// prefix, bounded by jute.maxbuffer), routes each connection's frames to its session shard, and
// writes the shards' replies back, coalesced per connection per batch. It never decodes bodies.
// Four-letter words are recognised in the first 4 bytes of a connection and answered with text
// the supervisor composes. The admin HTTP server (/commands, /metrics) also lives here, on
// uWebSockets.js or its native-free twin; the supervisor composes its answers too.

import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { fourLetterFromInt } from '../admin/four_letter.js';
import type { HttpAnswer } from '../admin/http/admin_router.js';
import type { AdminListening, HttpBackend } from '../admin/http/backend.js';
import { chooseHttpBackend, nativeWanted } from '../admin/http/load_backend.js';
import { NetMetrics } from '../metrics/net_metrics.js';
import { Ring, type RingConsumer } from '../ring/ring.js';
import { serveControl } from './control.js';
import { Doorbell } from './doorbell.js';
import { HeadReader, HeadWriter, LinkWriter } from './link.js';
import { NetToShard, ShardToNet } from './link_kinds.js';
import type { WorkerInit } from './topology.js';
import { FrameCutter } from './net/frame_cutter.js';

const POLL_FRAMES_MAX = 1024;
const IDLE_WAIT_MS_MAX = 100;
/** A client that does not read its replies is cut off past this much unsent output. */
const CONN_OUTBOUND_BYTES_MAX = 64 * 1024 * 1024;
/** An admin HTTP request the supervisor has not answered by then gets a 503. */
const ADMIN_ANSWER_TIMEOUT_MS = 10_000;

interface NetConn {
  readonly id: number;
  readonly socket: net.Socket;
  readonly shard: number;
  readonly ip: string;
  readonly cutter: FrameCutter;
  /** Paused by its shard (session bound) or by a full ring (backpressure). */
  paused_by_shard: boolean;
  paused_by_ring: boolean;
  closing: boolean;
}

class NetWorker {
  private readonly server: net.Server;
  private readonly conns = new Map<number, NetConn>();
  private readonly per_ip = new Map<string, number>();
  private readonly to_shard: LinkWriter[];
  private readonly from_shard: RingConsumer[];
  private readonly doorbell: Doorbell;
  private readonly head = new HeadWriter();
  private readonly reader = new HeadReader();
  /** Output gathered during one poll batch, written once per connection. */
  private readonly outbound = new Map<NetConn, Buffer[]>();
  private next_conn_id = 1;
  private stopping = false;
  private readonly metrics: NetMetrics;
  private admin: HttpBackend | null = null;
  /** Admin HTTP requests forwarded to the supervisor, by request id. */
  private readonly admin_waiting = new Map<number, (a: HttpAnswer) => void>();
  private next_admin_id = 1;

  constructor(private readonly init: WorkerInit) {
    const { topology } = init;
    this.to_shard = topology.net_to_shard.map(
      (sab, i) => new LinkWriter(Ring.attachProducer(sab), [new Doorbell(topology.shard_doorbells[i])]),
    );
    this.from_shard = topology.shard_to_net.map((sab) => Ring.attachConsumer(sab, 0));
    this.doorbell = new Doorbell(topology.net_doorbell);
    this.metrics = new NetMetrics(topology.metrics.net);
    this.server = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
  }

  listen(): Promise<number> {
    const { client_port, client_port_address } = this.init.config;
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(client_port, client_port_address, () => {
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr !== null ? addr.port : client_port);
      });
    });
  }

  async run(): Promise<void> {
    while (!this.stopping) {
      const seen = this.doorbell.seq();
      let frames = 0;
      for (let i = 0; i < this.from_shard.length; i++) frames += this.from_shard[i].poll(this.onShardFrame, POLL_FRAMES_MAX);
      this.writeOutbound();
      if (frames === 0) {
        await this.doorbell.sleep(seen, IDLE_WAIT_MS_MAX, () => this.from_shard.some((r) => r.hasData()));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.doorbell.ring();
    // uWS sockets must be closed before the thread ends, or the process crashes.
    await this.admin?.close();
    this.admin = null;
    for (const answer of this.admin_waiting.values()) answer(adminUnavailable('the server is stopping'));
    this.admin_waiting.clear();
    for (const c of this.conns.values()) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- sockets ----

  private onConnection(socket: net.Socket): void {
    const ip = normaliseIp(socket.remoteAddress ?? '');
    const max = this.init.config.max_client_cnxns;
    const count = this.per_ip.get(ip) ?? 0;
    if (max > 0 && count >= max) {
      console.warn(`waitfree: too many connections from ${ip} - max is ${max}`);
      this.metrics.add('connections_rejected');
      socket.destroy();
      return;
    }
    this.per_ip.set(ip, count + 1);
    this.metrics.add('connections_accepted');
    const id = this.allocateConnId();
    const shard = id % this.to_shard.length;
    const conn: NetConn = {
      id,
      socket,
      shard,
      ip,
      cutter: new FrameCutter(this.init.config.jute_max_buffer_bytes),
      paused_by_shard: false,
      paused_by_ring: false,
      closing: false,
    };
    this.conns.set(id, conn);
    this.to_shard[shard].send(this.head.begin(NetToShard.OPEN).u32(id).str8(ip).u32(socket.remotePort ?? 0));
    this.to_shard[shard].flush();
    socket.on('data', (chunk) => this.onData(conn, chunk));
    socket.on('error', () => {});
    socket.on('close', () => this.onSocketClosed(conn));
  }

  private allocateConnId(): number {
    let id = this.next_conn_id;
    while (id === 0 || this.conns.has(id)) id = (id + 1) >>> 0;
    this.next_conn_id = (id + 1) >>> 0;
    return id;
  }

  private onData(conn: NetConn, chunk: Buffer): void {
    this.metrics.add('bytes_received', chunk.length);
    if (conn.cutter.isFirst()) {
      const word = conn.cutter.peekFirstWord(chunk);
      const cmd = word === null ? null : fourLetterFromInt(word);
      if (cmd !== null) {
        this.onFourLetterWord(conn, cmd);
        return;
      }
    }
    const link = this.to_shard[conn.shard];
    const outcome = conn.cutter.push(chunk, (payload) => {
      this.metrics.add('packets_received');
      link.send(this.head.begin(NetToShard.DATA).u32(conn.id), payload);
    });
    link.flush();
    if (outcome !== null) {
      console.warn(`waitfree: closing connection ${conn.ip}: ${outcome}`);
      this.metrics.add('malformed_closes');
      this.closeConn(conn);
      return;
    }
    if (link.blocked) this.pauseForRing(conn, link);
  }

  /** The shard's ring is full: stop reading this socket until the overflow drains. */
  private pauseForRing(conn: NetConn, link: LinkWriter): void {
    if (conn.paused_by_ring) return;
    conn.paused_by_ring = true;
    conn.socket.pause();
    void link.drainAsync(IDLE_WAIT_MS_MAX * 10).then(() => {
      if (link.blocked) return this.pauseForRing(conn, link);
      conn.paused_by_ring = false;
      if (!conn.paused_by_shard && !conn.closing) conn.socket.resume();
    });
  }

  private onFourLetterWord(conn: NetConn, cmd: string): void {
    conn.closing = true;
    this.metrics.add('four_letter_words');
    parentPort?.postMessage({ type: 'four_letter', conn_id: conn.id, cmd });
  }

  /** The supervisor's answer to a four-letter word. */
  answerFourLetter(conn_id: number, text: string): void {
    const conn = this.conns.get(conn_id);
    if (conn === undefined) return;
    conn.socket.end(text);
  }

  private onSocketClosed(conn: NetConn): void {
    if (!this.conns.delete(conn.id)) return;
    const left = (this.per_ip.get(conn.ip) ?? 1) - 1;
    if (left <= 0) this.per_ip.delete(conn.ip);
    else this.per_ip.set(conn.ip, left);
    this.to_shard[conn.shard].send(this.head.begin(NetToShard.CLOSED).u32(conn.id));
    this.to_shard[conn.shard].flush();
  }

  private closeConn(conn: NetConn): void {
    conn.closing = true;
    conn.socket.destroy();
  }

  // ---- from the shards ----

  private readonly onShardFrame = (bytes: Uint8Array, start: number, end: number): void => {
    const r = this.reader.reset(bytes, start, end);
    const kind = r.u8();
    const conn = this.conns.get(r.u32());
    if (conn === undefined) return;
    switch (kind) {
      case ShardToNet.SEND: {
        const chunks = this.outbound.get(conn);
        const copy = Buffer.copyBytesFrom(bytes, r.offset, end - r.offset);
        if (chunks === undefined) this.outbound.set(conn, [copy]);
        else chunks.push(copy);
        break;
      }
      case ShardToNet.CLOSE:
        this.flushConn(conn);
        conn.closing = true;
        conn.socket.end();
        break;
      case ShardToNet.PAUSE:
        conn.paused_by_shard = true;
        conn.socket.pause();
        break;
      case ShardToNet.RESUME:
        conn.paused_by_shard = false;
        if (!conn.paused_by_ring && !conn.closing) conn.socket.resume();
        break;
      default:
        throw new Error(`net worker: unknown shard frame kind ${kind}`);
    }
  };

  private writeOutbound(): void {
    for (const conn of this.outbound.keys()) this.flushConn(conn);
    this.outbound.clear();
  }

  private flushConn(conn: NetConn): void {
    const chunks = this.outbound.get(conn);
    if (chunks === undefined) return;
    this.outbound.delete(conn);
    if (conn.socket.destroyed || conn.socket.writableEnded) return;
    const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    this.metrics.add('bytes_sent', data.length);
    conn.socket.write(data);
    if (conn.socket.writableLength > CONN_OUTBOUND_BYTES_MAX) {
      console.warn(`waitfree: closing connection ${conn.ip}: client does not read its replies`);
      this.closeConn(conn);
    }
  }

  stats(): unknown {
    return {
      connections: this.conns.size,
      packets_received: this.metrics.get('packets_received'),
      bytes_received: this.metrics.get('bytes_received'),
      bytes_sent: this.metrics.get('bytes_sent'),
      rejected_connections: this.metrics.get('connections_rejected'),
      malformed_closes: this.metrics.get('malformed_closes'),
    };
  }

  // ---- the admin HTTP server ----

  /**
   * Starts the admin server if enabled. Not being able to bind it does not stop the replica
   * (clients matter more than the admin API): it is logged and 'listening' says admin: null.
   */
  async startAdmin(): Promise<AdminListening | null> {
    const { admin_enable_server, admin_server_address, admin_server_port, native } = this.init.config;
    if (!admin_enable_server) return null;
    const { backend } = await chooseHttpBackend(nativeWanted(native));
    try {
      const port = await backend.listen(admin_server_address, admin_server_port, (method, url) => this.forwardAdmin(method, url));
      if (this.stopping) {
        await backend.close();
        return null;
      }
      this.admin = backend;
      return { address: admin_server_address, port, backend: backend.name };
    } catch (e) {
      await backend.close();
      console.warn(`waitfree: admin server off: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
  }

  /** The supervisor composes the answer (it holds every worker's stats and every SAB). */
  private forwardAdmin(method: string, url: string): Promise<HttpAnswer> {
    this.metrics.add('admin_requests');
    if (this.stopping) return Promise.resolve(adminUnavailable('the server is stopping'));
    const id = this.next_admin_id++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.admin_waiting.delete(id);
        resolve(adminUnavailable(`no answer within ${ADMIN_ANSWER_TIMEOUT_MS} ms`));
      }, ADMIN_ANSWER_TIMEOUT_MS);
      this.admin_waiting.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      parentPort?.postMessage({ type: 'admin_http', req_id: id, method, url });
    });
  }

  answerAdmin(req_id: number, answer: HttpAnswer): void {
    const resolve = this.admin_waiting.get(req_id);
    this.admin_waiting.delete(req_id);
    resolve?.(answer);
  }
}

function adminUnavailable(why: string): HttpAnswer {
  return { status: 503, content_type: 'text/plain; charset=utf-8', body: `admin server unavailable: ${why}\n` };
}

/** IPv4-mapped IPv6 addresses as plain IPv4, like Java's InetAddress.getHostAddress. */
function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

const worker = new NetWorker(workerData as WorkerInit);
serveControl({
  stats: () => worker.stats(),
  stop: () => worker.stop(),
  other: (m) => {
    const msg = m as { type?: string; conn_id?: number; text?: string; req_id?: number; answer?: HttpAnswer };
    if (msg.type === 'four_letter_answer') worker.answerFourLetter(msg.conn_id ?? 0, msg.text ?? '');
    else if (msg.type === 'admin_http_answer' && msg.answer !== undefined) worker.answerAdmin(msg.req_id ?? 0, msg.answer);
  },
});
worker
  .listen()
  .then(async (port) => {
    const admin = await worker.startAdmin();
    parentPort?.postMessage({ type: 'listening', port, admin });
    return worker.run();
  })
  .catch((e: unknown) => {
    parentPort?.postMessage({ type: 'failed', error: String(e) });
  });

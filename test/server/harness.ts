// Shared pieces of the server-level suite: start a real server in-process (compiled workers from
// dist/), connect protocol clients, and talk raw bytes when a test needs to send what no codec
// would produce.
//
// Shard placement: the net worker assigns connection ids in accept order and a connection's shard
// is `id % read_workers`. Every helper here completes a connection (TCP + ConnectResponse) before
// the next one starts, so k <= read_workers consecutive connections land on k different shards.

import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { encodeConnectRequest } from '../../src/protocol/connect.js';
import { JuteWriter } from '../../src/protocol/jute.js';
import type { OpCode, RequestInput } from '../../src/protocol/messages.js';
import type { ACL, ConnectResponse } from '../../src/protocol/types.js';
import type { ConfigFlags } from '../../src/config/load.js';
import type { RunningServer } from '../../src/server/server.js';
import type { AdminListening } from '../../src/admin/http/backend.js';
import { WireClient, type ConnectOptions, type Received, type Reply } from '../support/wire_client.js';

type ServerModule = typeof import('../../src/server/server.js');
type LoadModule = typeof import('../../src/config/load.js');

// Worker threads need compiled JS: the server under test is the one in dist/ (npm test builds it).
const SERVER_JS = '../../dist/server/server.js';
const LOAD_JS = '../../dist/config/load.js';

export const OPEN_ACL: ACL[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

export interface TestServer {
  port: number;
  /** The secure client port (secureClientPort); -1 when the test configured none. */
  secure_port: number;
  /** The admin HTTP server (any free port), null when a test turned it off. */
  admin: AdminListening | null;
  stop(): Promise<void>;
}

/**
 * WAITFREE_NATIVE=false runs every server of the suite with waitfree.native=false (the
 * native-free/ twins); CI runs test/server both ways.
 */
export function nativeFromEnv(): boolean {
  return process.env['WAITFREE_NATIVE'] !== 'false';
}

/**
 * Starts a standalone server on 127.0.0.1, any free port, in a fresh temp data dir, with the
 * admin HTTP server on another free port.
 */
export async function startTestServer(flags: ConfigFlags = {}): Promise<TestServer> {
  const { startServer } = (await import(SERVER_JS)) as ServerModule;
  const { loadConfig } = (await import(LOAD_JS)) as LoadModule;
  const data_dir = mkdtempSync(join(tmpdir(), 'waitfree-server-test-'));
  const { config } = loadConfig({
    flags: { client_port: 0, client_port_address: '127.0.0.1', data_dir, admin_server_port: 0, native: nativeFromEnv(), ...flags },
  });
  let running: RunningServer;
  try {
    running = await startServer(config);
  } catch (e) {
    rmSync(data_dir, { recursive: true, force: true });
    throw e;
  }
  return {
    port: running.port,
    secure_port: running.secure_port,
    admin: running.admin,
    async stop() {
      await running.stop();
      rmSync(data_dir, { recursive: true, force: true });
    },
  };
}

/** The net worker's fast-read counter (waitfree.net.fastReads), from the admin server's /metrics;
 *  NaN when it is missing. */
export async function fastReads(server: TestServer): Promise<number> {
  return netCounter(server, 'fast_reads');
}

/** A counter of the net worker's metric block (src/metrics/net_metrics.ts), from /metrics. */
export async function netCounter(server: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.admin!.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`waitfree_net_${name}_total `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

/** Connects and asserts the server granted a live session. */
export async function connectClient(port: number, opts: ConnectOptions = {}): Promise<{ client: WireClient; response: ConnectResponse }> {
  const { client, outcome } = await WireClient.connect(port, { handshakeTimeout_ms: 10_000, ...opts });
  if (outcome.kind !== 'connected') throw new Error('server closed the connection instead of answering the ConnectRequest');
  expect(outcome.response.timeOut).toBeGreaterThan(0);
  return { client, response: outcome.response };
}

export async function connect(port: number, opts: ConnectOptions = {}): Promise<WireClient> {
  return (await connectClient(port, opts)).client;
}

/** `n` clients connected one after another: with n <= read_workers, each on its own shard. */
export async function connectMany(port: number, n: number, opts: ConnectOptions = {}): Promise<WireClient[]> {
  const out: WireClient[] = [];
  for (let i = 0; i < n; i++) out.push(await connect(port, opts));
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array | null | undefined): string | null => (b == null ? null : new TextDecoder().decode(b));

/**
 * Sends a request without waiting and never rejects: a missing reply shows up as an Error value,
 * so a test can bound its own wait and fail with a clear message instead of a stray rejection.
 */
export function fire<C extends OpCode>(client: WireClient, type: C, body: RequestInput<C>): Promise<Reply | Error> {
  return client.request(type, body).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
}

export function asReply(r: Reply | Error): Reply {
  if (r instanceof Error) throw r;
  return r;
}

/** Replies (not notifications) in arrival order. */
export function replies(client: WireClient): Array<Extract<Received, { kind: 'reply' }>> {
  return client.received.filter((r): r is Extract<Received, { kind: 'reply' }> => r.kind === 'reply');
}

/** Creates a persistent node with open ACL; asserts success. */
export async function mkdir(client: WireClient, path: string, data = ''): Promise<void> {
  const r = await client.request(1, { path, data: utf8(data), acl: OPEN_ACL, flags: 0 });
  expect(r.err, `create ${path}`).toBe(0);
}

/** A whole ConnectRequest frame (length prefix included). readOnly null = omit the trailing byte. */
export function connectRequestFrame(opts: { timeout_ms?: number; sessionId?: bigint; passwd?: Uint8Array; readOnly?: boolean | null } = {}): Buffer {
  const w = new JuteWriter();
  encodeConnectRequest(
    {
      protocolVersion: 0,
      lastZxidSeen: 0,
      timeOut: opts.timeout_ms ?? 30_000,
      sessionId: opts.sessionId ?? 0n,
      passwd: opts.passwd ?? new Uint8Array(16),
      readOnly: opts.readOnly === undefined ? false : opts.readOnly,
    },
    w,
  );
  return Buffer.from(w.toBytes());
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A raw TCP connection: writes whatever bytes it is given and keeps everything the server sends.
 * For inputs no well-formed client would produce.
 */
export class RawConn {
  private chunks: Buffer[] = [];
  private closed = false;
  private waiters: Array<() => void> = [];

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (b: Buffer) => {
      this.chunks.push(b);
      this.wake();
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number): Promise<RawConn> {
    const sock = net.connect({ host: '127.0.0.1', port });
    return new Promise((resolve, reject) => {
      sock.once('connect', () => {
        sock.setNoDelay(true);
        resolve(new RawConn(sock));
      });
      sock.once('error', reject);
    });
  }

  write(bytes: Uint8Array): void {
    if (!this.closed) this.sock.write(bytes);
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** Resolves true once `pred` holds, false after timeout_ms (or when closed and pred is false). */
  async until(pred: () => boolean, timeout_ms: number): Promise<boolean> {
    const deadline = Date.now() + timeout_ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return pred();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  waitClosed(timeout_ms: number): Promise<boolean> {
    return this.until(() => this.closed, timeout_ms);
  }

  /** Payloads of the complete frames received so far (length prefix stripped). */
  frames(): Buffer[] {
    const all = this.bytes();
    const out: Buffer[] = [];
    let at = 0;
    while (all.length - at >= 4) {
      const len = all.readInt32BE(at);
      if (len < 0 || all.length - at - 4 < len) break;
      out.push(all.subarray(at + 4, at + 4 + len));
      at += 4 + len;
    }
    return out;
  }

  destroy(): void {
    this.sock.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** Opens a raw connection and completes the handshake (ConnectResponse received). */
export async function rawSession(port: number): Promise<RawConn> {
  const c = await RawConn.open(port);
  c.write(connectRequestFrame());
  const ok = await c.until(() => c.frames().length >= 1, 10_000);
  if (!ok) throw new Error('raw session: no ConnectResponse');
  return c;
}

// Servers the client and recipe suites run against, behind one interface: waitfree in-process
// (compiled server from dist/, as test/server/harness.ts does) for `npm test`, Apache ZooKeeper
// 3.8 (Debian, via test/support/servers.ts) for the interop run. Both use a short tick so
// session expiry takes about a second, with a maxSessionTimeout large enough for ordinary tests.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigFlags } from '../../../src/config/load.js';
import { startApacheZk } from '../../support/servers.js';
import { ZooKeeperClient, type ClientOptions } from '../../../src/client/index.js';

type ServerModule = typeof import('../../../src/server/server.js');
type LoadModule = typeof import('../../../src/config/load.js');
const SERVER_JS = '../../../dist/server/server.js';
const LOAD_JS = '../../../dist/config/load.js';

export type TargetKind = 'waitfree' | 'zookeeper';

export interface Target {
  kind: TargetKind;
  port: number;
  connectString: string;
  stop(): Promise<void>;
}

export const TICK_MS = 100;
export const MAX_SESSION_TIMEOUT_MS = 30_000;
/** Session timeout of ordinary test clients (long enough for a loaded 2-core machine). */
export const SESSION_TIMEOUT_MS = 8_000;
/** Session timeout of clients whose expiry a test waits for. */
export const SHORT_SESSION_TIMEOUT_MS = 1_500;

export async function startWaitfreeTarget(flags: ConfigFlags = {}): Promise<Target> {
  const { startServer } = (await import(SERVER_JS)) as ServerModule;
  const { loadConfig } = (await import(LOAD_JS)) as LoadModule;
  const data_dir = mkdtempSync(join(tmpdir(), 'waitfree-client-test-'));
  const { config } = loadConfig({
    flags: {
      client_port: 0,
      client_port_address: '127.0.0.1',
      data_dir,
      tick_time_ms: TICK_MS,
      max_session_timeout_ms: MAX_SESSION_TIMEOUT_MS,
      extended_types_enabled: true,
      container_check_interval_ms: 500,
      four_letter_whitelist: ['*'],
      ...flags,
    },
  });
  const running = await startServer(config).catch((e: unknown) => {
    rmSync(data_dir, { recursive: true, force: true });
    throw e;
  });
  return {
    kind: 'waitfree',
    port: running.port,
    connectString: `127.0.0.1:${running.port}`,
    async stop() {
      await running.stop();
      rmSync(data_dir, { recursive: true, force: true });
    },
  };
}

export async function startZooKeeperTarget(): Promise<Target> {
  const s = await startApacheZk({
    tickTime_ms: TICK_MS,
    maxSessionTimeout_ms: MAX_SESSION_TIMEOUT_MS,
    extendedTypesEnabled: true,
    containerCheckInterval_ms: 500,
  });
  return { kind: 'zookeeper', port: s.port, connectString: s.connectString, stop: () => s.stop() };
}

export function startTarget(kind: TargetKind): Promise<Target> {
  return kind === 'waitfree' ? startWaitfreeTarget() : startZooKeeperTarget();
}

let namespace_seq = 0;

/**
 * Clients for one test, isolated under a fresh namespace node; all closed by closeAll().
 * `client()` connects with a chroot on the namespace; `raw()` without.
 */
export class TestClients {
  readonly ns: string;
  private readonly clients: ZooKeeperClient[] = [];
  private ns_made = false;

  constructor(
    readonly target: Target,
    name = 'ns',
  ) {
    this.ns = `/${name}-${process.pid}-${++namespace_seq}`;
  }

  async raw(opts: ClientOptions = {}, connectString = this.target.connectString): Promise<ZooKeeperClient> {
    const c = await ZooKeeperClient.connect(connectString, { sessionTimeout_ms: SESSION_TIMEOUT_MS, ...opts });
    this.clients.push(c);
    return c;
  }

  /** A client chrooted at the namespace (created on first use). */
  async client(opts: ClientOptions = {}, hosts = this.target.connectString): Promise<ZooKeeperClient> {
    if (!this.ns_made) {
      const admin = await this.raw();
      await admin.mkdirp(this.ns);
      this.ns_made = true;
    }
    return this.raw(opts, `${hosts}${this.ns}`);
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
    this.clients.length = 0;
  }
}

/** Polls `check` until true; fails with `what` after timeout_ms. Bounded, never a timing assert. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeout_ms = 15_000): Promise<void> {
  const deadline = Date.now() + timeout_ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout_ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves with the next value a one-shot listener receives. */
export function nextValue<T>(): { listener: (v: T) => void; value: Promise<T>; got: T[] } {
  let resolve!: (v: T) => void;
  const value = new Promise<T>((r) => (resolve = r));
  const got: T[] = [];
  return {
    listener: (v: T) => {
      got.push(v);
      resolve(v);
    },
    value,
    got,
  };
}

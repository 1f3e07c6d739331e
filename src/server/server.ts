// The supervisor (main thread): creates the replica's shared memory, starts the commit worker and
// N session shards, waits until they have all recovered the same state from dataDir, tells the
// commit worker to serve (it repairs and opens the log), and only then starts the net worker, so
// no client ever talks to a replica that has not finished recovery. It answers four-letter words
// from the workers' stats and stops everything on request. It is never on the request path.

import type { ServerConfig } from '../config/server_config.js';
import { createTopology, type WorkerInit } from '../workers/topology.js';
import type { WorkerEvent } from '../workers/control.js';
import type { AdminListening } from '../admin/http/backend.js';
import type { StatsPart } from '../admin/four_letter.js';
import { answerAdminHttp } from '../admin/http/admin_router.js';
import { adminDeps } from '../admin/http/replica_sources.js';
import { WorkerHandle } from './worker_handle.js';
import { entryScript, type WorkerName } from './entry_scripts.js';
import { lockDir, type DirLock } from '../log/dir_lock.js';
import { answerFourLetter, gatherStats, type StatsSources } from './four_letter_answer.js';
import { ReplicaControl } from './replica_control.js';

export interface RunningServer {
  /** The client port actually bound (useful with clientPort=0). */
  port: number;
  /** The secure client port bound (secureClientPort; useful with 0); -1 when there is none. */
  secure_port: number;
  /** The admin HTTP server (/commands, /metrics): where it listens and on which backend; null when off. */
  admin: AdminListening | null;
  stop(): Promise<void>;
}

export interface ReplicaWorkers {
  net: WorkerHandle;
  commit: WorkerHandle;
  shards: WorkerHandle[];
}

const script = (name: WorkerName): URL => entryScript(name).url;

/** What a worker reports once it has rebuilt its state from dataDir. */
interface Recovered {
  name: string;
  zxid: number;
  snapshot_zxid: number;
  nodes: number;
}


/** Collects the start-up reports of the commit worker and every shard. */
class Startup {
  readonly recovered: Recovered[] = [];
  private resolve_all: () => void = () => {};
  private resolve_commit: () => void = () => {};
  /** The commit worker recovered and published the tree: the shards may attach to it. */
  readonly commit_recovered = new Promise<void>((r) => (this.resolve_commit = r));
  private resolve_serving: () => void = () => {};
  readonly all_recovered = new Promise<void>((r) => (this.resolve_all = r));
  readonly serving = new Promise<void>((r) => (this.resolve_serving = r));

  constructor(private readonly expected: number) {}

  onMessage(name: string, m: WorkerEvent, fail: (e: Error) => void): void {
    if (m.type === 'recovered') {
      this.recovered.push({ name, zxid: m.zxid, snapshot_zxid: m.snapshot_zxid, nodes: m.nodes });
      if (name === 'commit') this.resolve_commit();
      if (this.recovered.length === this.expected) this.resolve_all();
    } else if (m.type === 'startup_failed') fail(new Error(m.error));
    else if (m.type === 'serving') this.resolve_serving();
    // The commit worker said what the fault means for this replica (FATAL DISK ERROR ...).
    else if (m.type === 'disk_fault') console.error(`waitfree: disk fault: ${m.error}`);
  }

  /** Every shard must see the tree the commit worker recovered; anything else is a bug, never
   *  served. */
  checkAgreement(): void {
    const [first, ...rest] = this.recovered;
    for (const r of rest) {
      if (r.zxid !== first.zxid || r.nodes !== first.nodes) {
        throw new Error(
          `workers recovered different states: ${first.name} zxid 0x${first.zxid.toString(16)} (${first.nodes} znodes), ` +
            `${r.name} zxid 0x${r.zxid.toString(16)} (${r.nodes} znodes)`,
        );
      }
    }
  }
}

/** Locks dataDir (and dataLogDir when it differs): one server per directory. */
function lockDirs(config: ServerConfig): DirLock[] {
  const locks = [lockDir(config.data_dir)];
  try {
    if (config.data_log_dir !== config.data_dir) locks.push(lockDir(config.data_log_dir));
  } catch (e) {
    locks[0].release();
    throw e;
  }
  return locks;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const locks = lockDirs(config);
  try {
    return await startLocked(config, locks);
  } catch (e) {
    for (const lock of locks) lock.release();
    throw e;
  }
}

async function startLocked(config: ServerConfig, locks: readonly DirLock[]): Promise<RunningServer> {
  const topology = createTopology(config);
  const init = (role: WorkerInit['role'], index = 0): WorkerInit => ({ role, index, config, topology });
  const started_ms = Date.now();
  let stopping = false;
  let ready = false;
  let fail: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {});
  const startup = new Startup(1 + topology.shards);

  const onExit = (name: string) => (code: number) => {
    if (stopping) return;
    if (!ready) {
      fail(new Error(`${name} worker exited with code ${code} during start-up`));
      return;
    }
    // A worker died: the replica cannot serve correctly without it. Stop loudly.
    console.error(`waitfree: ${name} worker exited with code ${code}; shutting down`);
    void stop().finally(() => process.exit(70));
  };
  const onMessage = (name: string) => (m: WorkerEvent) => startup.onMessage(name, m, fail);

  const commit = new WorkerHandle('commit', script('commit_worker'), init('commit'), onMessage('commit'), onExit('commit'), {
    maxYoungGenerationSizeMb: config.commit_young_generation_mb,
  });
  // The shards and the net worker start now, so that their threads and modules load while the
  // commit worker recovers. The shards attach to the tree once it is published ('attach'); the
  // net worker opens the client port once the replica serves ('listen'): clients only ever
  // reach a recovered replica.
  const shards: WorkerHandle[] = [];
  for (let i = 0; i < topology.shards; i++) {
    shards.push(new WorkerHandle(`shard-${i}`, script('shard_worker'), init('shard', i), onMessage(`shard-${i}`), onExit(`shard-${i}`)));
  }
  const started = startNet();
  const net = started.handle;
  const workers: ReplicaWorkers = { net, commit, shards };

  async function stop(): Promise<void> {
    stopping = true;
    await net.stop();
    await Promise.all([...shards.map((s) => s.stop()), commit.stop()]);
    for (const lock of locks) lock.release();
  }

  try {
    await Promise.race([startup.commit_recovered, failed]);
    for (const shard of shards) shard.post({ type: 'attach' });
    await Promise.race([startup.all_recovered, failed]);
    startup.checkAgreement();
    commit.post({ type: 'serve' });
    await Promise.race([startup.serving, failed]);
    net.post({ type: 'listen' });
    const { port, secure_port } = await Promise.race([started.ready, failed]);
    ready = true;
    return { port, secure_port, admin: started.admin(), stop };
  } catch (e) {
    await stop();
    throw e;
  }

  // ---- the net worker ----

  function startNet(): { handle: WorkerHandle; ready: Promise<{ port: number; secure_port: number }>; admin: () => AdminListening | null } {
    let listening: (ports: { port: number; secure_port: number }) => void = () => {};
    // The config with the ports as bound (clientPort=0, secureClientPort=0), for stats and conf.
    let bound: ServerConfig = config;
    let admin: AdminListening | null = null;
    // Read when a word or command comes, after start-up: `workers` is set once startNet returns.
    const control = new ReplicaControl(() => workers);
    const sources: StatsSources = {
      get config() {
        return bound;
      },
      get workers() {
        return workers;
      },
      started_ms,
      topology,
      control,
    };
    const stats = (needs?: readonly StatsPart[]) => gatherStats(sources, needs);
    const admin_deps = adminDeps(topology, stats, control, config.initial_configuration);
    const ready = new Promise<{ port: number; secure_port: number }>((resolve) => (listening = resolve));
    const handle: WorkerHandle = new WorkerHandle(
      'net',
      script('net_worker'),
      init('net'),
      (msg) => {
        if (msg.type === 'listening') {
          bound = { ...config, client_port: msg.port, secure_client_port: msg.secure_port };
          admin = msg.admin;
          listening({ port: msg.port, secure_port: msg.secure_port });
        } else if (msg.type === 'failed') fail(new Error(`cannot listen on ${msg.error}`));
        else if (msg.type === 'four_letter') {
          void answerFourLetter(msg.cmd, msg.arg, sources).then((text) => {
            // Encoded here and handed over: a watch listing can be tens of MB, and the net
            // worker (on every request's path) should neither copy nor encode it.
            const bytes = new TextEncoder().encode(text);
            handle.post({ type: 'four_letter_answer', conn_id: msg.conn_id, text: bytes }, [bytes.buffer]);
          });
        } else if (msg.type === 'admin_http') {
          void answerAdminHttp(msg.method, msg.url, admin_deps).then((answer) =>
            handle.post({ type: 'admin_http_answer', req_id: msg.req_id, answer }),
          );
        }
      },
      onExit('net'),
    );
    return { handle, ready, admin: () => admin };
  }
}

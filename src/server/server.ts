// The supervisor (main thread): creates the replica's shared memory, starts the net worker, the
// commit worker and N session shards, answers four-letter words from their stats, and stops
// everything on request. It is never on the request path.

import type { ServerConfig } from '../config/server_config.js';
import { createTopology, type WorkerInit } from '../workers/topology.js';
import { WorkerHandle } from './worker_handle.js';
import { answerFourLetter } from './four_letter_answer.js';

export interface RunningServer {
  /** The client port actually bound (useful with clientPort=0). */
  port: number;
  stop(): Promise<void>;
}

export interface ReplicaWorkers {
  net: WorkerHandle;
  commit: WorkerHandle;
  shards: WorkerHandle[];
}

const script = (name: string): URL => new URL(`../workers/${name}.js`, import.meta.url);

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const topology = createTopology(config);
  const init = (role: WorkerInit['role'], index = 0): WorkerInit => ({ role, index, config, topology });
  const started_ms = Date.now();
  let stopping = false;
  let fail: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));

  const onExit = (name: string) => (code: number) => {
    if (stopping) return;
    // A worker died: the replica cannot serve correctly without it. Stop loudly.
    console.error(`waitfree: ${name} worker exited with code ${code}; shutting down`);
    fail(new Error(`${name} worker exited with code ${code}`));
    void stop().finally(() => process.exit(70));
  };

  const commit = new WorkerHandle('commit', script('commit_worker'), init('commit'), () => {}, onExit('commit'));
  const shards = Array.from({ length: topology.shards }, (_, i) =>
    new WorkerHandle(`shard-${i}`, script('shard_worker'), init('shard', i), () => {}, onExit(`shard-${i}`)),
  );
  let listening: (port: number) => void = () => {};
  let bound_port = config.client_port;
  const port_ready = new Promise<number>((resolve) => (listening = resolve));
  const workers: ReplicaWorkers = { net: undefined as unknown as WorkerHandle, commit, shards };
  const net = new WorkerHandle(
    'net',
    script('net_worker'),
    init('net'),
    (m) => {
      const msg = m as { type?: string; port?: number; error?: string; conn_id?: number; cmd?: string };
      if (msg.type === 'listening') {
        bound_port = msg.port ?? 0;
        listening(bound_port);
      }
      else if (msg.type === 'failed') fail(new Error(`cannot listen on ${config.client_port_address}:${config.client_port}: ${msg.error}`));
      else if (msg.type === 'four_letter') {
        void answerFourLetter(msg.cmd ?? '', { ...config, client_port: bound_port }, workers, started_ms).then((text) =>
          net.post({ type: 'four_letter_answer', conn_id: msg.conn_id, text }),
        );
      }
    },
    onExit('net'),
  );
  workers.net = net;

  async function stop(): Promise<void> {
    stopping = true;
    await net.stop();
    await Promise.all([...shards.map((s) => s.stop()), commit.stop()]);
  }

  try {
    const port = await Promise.race([port_ready, failed]);
    return { port, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

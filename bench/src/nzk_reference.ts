// An independent client as a yardstick: node-zookeeper-client (a devDependency, loaded only when
// installed) driving the same closed loop as our load generator (sessions x window of async
// getData/setData), so its numbers can be set beside ours at the same settings.

import { createRequire } from 'node:module';
import { keyPath, OpMix } from './mix.js';
import { clientSeed } from '../../dist/check/prng.js';
import { processCpuSeconds } from './proc_cpu.js';

type Callback = (error: Error | null, ...rest: unknown[]) => void;

/** The part of node-zookeeper-client's Client this file uses. */
interface NzkClient {
  connect(): void;
  close(): void;
  once(event: 'connected', listener: () => void): void;
  getData(path: string, callback: Callback): void;
  setData(path: string, data: Buffer, version: number, callback: Callback): void;
}

interface NzkModule {
  createClient(connect: string, options: { sessionTimeout: number; retries: number }): NzkClient;
}

export function loadNodeZookeeperClient(): NzkModule | null {
  try {
    return createRequire(import.meta.url)('node-zookeeper-client') as NzkModule;
  } catch {
    return null;
  }
}

export interface ReferenceOptions {
  readonly connect: string;
  readonly clients: number;
  readonly window: number;
  readonly read_fraction: number;
  readonly value_bytes: number;
  readonly key_count: number;
  readonly root: string;
  readonly warmup_ms: number;
  readonly measure_ms: number;
  /** Server process whose CPU over the window gives µs/request (null: not measured). */
  readonly server_pid: number | null;
}

export interface ReferenceResult {
  readonly ops_per_s: number;
  readonly errors: number;
  /** This process's CPU in the window (the client may be the bottleneck). */
  readonly client_cores: number;
  readonly server_us_per_request: number | null;
}

const CONNECT_TIMEOUT_MS = 10_000;

function connectOne(zk: NzkModule, connect: string): Promise<NzkClient> {
  return new Promise((resolve, reject) => {
    const c = zk.createClient(connect, { sessionTimeout: 30_000, retries: 0 });
    const timer = setTimeout(() => {
      c.close();
      reject(new Error('node-zookeeper-client: no session within 10 s'));
    }, CONNECT_TIMEOUT_MS);
    c.once('connected', () => {
      clearTimeout(timer);
      resolve(c);
    });
    c.connect();
  });
}

/** Closed loop with node-zookeeper-client; the key space must already exist. */
export async function runReference(zk: NzkModule, o: ReferenceOptions): Promise<ReferenceResult> {
  const clients = await Promise.all(Array.from({ length: o.clients }, () => connectOne(zk, o.connect)));
  const value = Buffer.alloc(o.value_bytes, 0x78);
  const paths = Array.from({ length: o.key_count }, (_, k) => keyPath(o.root, k));
  const t0 = performance.now();
  const window_start = t0 + o.warmup_ms;
  const window_end = window_start + o.measure_ms;
  let ops = 0;
  let errors = 0;
  let in_flight = 0;
  let cpu_start = process.cpuUsage();
  const issue = (c: NzkClient, mix: OpMix): void => {
    if (performance.now() >= window_end) return;
    const choice = mix.next();
    in_flight++;
    const done: Callback = (err) => {
      in_flight--;
      const now = performance.now();
      if (now >= window_start && now < window_end) {
        ops++;
        if (err !== null) errors++;
      }
      issue(c, mix);
    };
    if (choice.kind === 'read') c.getData(paths[choice.key]!, done);
    else c.setData(paths[choice.key]!, value, -1, done);
  };
  clients.forEach((c, i) => {
    const mix = new OpMix(o.read_fraction, o.key_count, clientSeed(7, i));
    for (let k = 0; k < o.window; k++) issue(c, mix);
  });
  await sleepUntil(window_start);
  cpu_start = process.cpuUsage();
  const server_start = o.server_pid === null ? null : processCpuSeconds(o.server_pid);
  await sleepUntil(window_end);
  const cpu = process.cpuUsage(cpu_start);
  const server_end = o.server_pid === null ? null : processCpuSeconds(o.server_pid);
  const server_us_per_request = server_start === null || server_end === null || ops === 0 ? null : ((server_end - server_start) * 1e6) / ops;
  const drain_deadline = performance.now() + 10_000;
  while (in_flight > 0 && performance.now() < drain_deadline) await sleepUntil(performance.now() + 10);
  for (const c of clients) c.close();
  return { ops_per_s: (ops * 1000) / o.measure_ms, errors, client_cores: (cpu.user + cpu.system) / 1000 / o.measure_ms, server_us_per_request };
}

function sleepUntil(t_ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, t_ms - performance.now())));
}

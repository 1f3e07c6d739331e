// `node bench/loadgen.mjs`: the load generator against any ZooKeeper-compatible server or
// ensemble, by connect string. Prints a text report (and --json FILE writes the full result).

import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { ownsKeys, type ClientPlan, type LoopMode } from './client_loop.js';
import { parseConnectString, type EndpointTls } from './connect_string.js';
import { runLoad } from './driver.js';
import { createKeySpace, removeKeySpace } from './key_space.js';
import { Progress } from './progress.js';
import { textReport } from './report_text.js';

export const LOADGEN_USAGE = `usage: node bench/loadgen.mjs --connect HOST:PORT[,HOST:PORT...] [options]
  --reads PCT          percent of reads (getData) vs writes (setData), 0..100   [50]
  --mode M             closed (saturation) | open (fixed --rate) | create (Table 2 loop)
                       | phases (load_gen's create/set/get/delete cycle over --keys nodes)   [closed]
  --clients N          sessions, spread over the endpoints                       [32]
  --outstanding N      requests in flight per session (the paper: 100)           [100]
  --rate N             open loop: requests/s over all clients (implies --mode open)
  --value-bytes N      value size for setData / create                            [1024]
  --keys N             znodes in the key space                                    [1000]
  --duration S         measured seconds                                           [10]
  --warmup S           seconds before the window opens                            [2]
  --threads N          load-generator worker threads                              [min(2, cores)]
  --server-pid PID     server process to charge CPU to (repeat per process); gives µs/request
  --root PATH          parent znode of the key space                              [/waitfree-bench-PID]
  --seed N             PRNG seed                                                  [1]
  --json FILE          write the full result as JSON
  --keep               leave the key space on the server
  --tls-ca FILE        connect over TLS (secure client ports), verifying them with these PEM CAs
  --tls-cert FILE      with this PEM client key and certificate (one file)`;

export interface LoadgenArgs {
  readonly connect: string;
  /** TLS for every endpoint (--tls-ca, --tls-cert); null: plain TCP. */
  readonly tls: EndpointTls | null;
  readonly plan: ClientPlan;
  readonly clients: number;
  readonly threads: number;
  readonly warmup_ms: number;
  readonly measure_ms: number;
  readonly server_pids: number[];
  readonly seed: number;
  readonly json: string | null;
  readonly keep: boolean;
}

function num(v: string | undefined, dflt: number, what: string, min = 0): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${what} ${v}: expected a number >= ${min}`);
  return n;
}

export function parseLoadgenArgs(argv: readonly string[]): LoadgenArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      connect: { type: 'string' }, reads: { type: 'string' }, mode: { type: 'string' }, clients: { type: 'string' },
      outstanding: { type: 'string' }, rate: { type: 'string' }, 'value-bytes': { type: 'string' }, keys: { type: 'string' },
      duration: { type: 'string' }, warmup: { type: 'string' }, threads: { type: 'string' },
      'server-pid': { type: 'string', multiple: true }, root: { type: 'string' }, seed: { type: 'string' },
      json: { type: 'string' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      'tls-ca': { type: 'string' }, 'tls-cert': { type: 'string' },
    },
  });
  if (values.help) throw new Error(LOADGEN_USAGE);
  if (values.connect === undefined) throw new Error(`--connect is required\n${LOADGEN_USAGE}`);
  const rate = num(values.rate, 0, 'rate');
  const mode = parseMode(values.mode ?? (rate > 0 ? 'open' : 'closed'));
  const clients = num(values.clients, 32, 'clients', 1);
  const plan: ClientPlan = {
    mode,
    read_fraction: num(values.reads, 50, 'reads') / 100,
    outstanding_max: num(values.outstanding, 100, 'outstanding', 1),
    value_bytes: num(values['value-bytes'], 1024, 'value-bytes'),
    key_count: num(values.keys, 1000, 'keys', 1),
    root: values.root ?? `/waitfree-bench-${process.pid}`,
    rate_per_s: rate / clients,
  };
  if (plan.read_fraction > 1) throw new Error('--reads must be 0..100');
  if (values['tls-cert'] !== undefined && values['tls-ca'] === undefined) throw new Error('--tls-cert needs --tls-ca');
  return {
    connect: values.connect,
    tls: values['tls-ca'] === undefined ? null : { ca_file: values['tls-ca'], cert_file: values['tls-cert'] ?? null },
    plan,
    clients,
    threads: num(values.threads, Math.min(2, availableParallelism()), 'threads', 1),
    warmup_ms: num(values.warmup, 2, 'warmup') * 1000,
    measure_ms: num(values.duration, 10, 'duration') * 1000,
    server_pids: (values['server-pid'] ?? []).map((p) => num(p, 0, 'server-pid', 1)),
    seed: num(values.seed, 1, 'seed'),
    json: values.json ?? null,
    keep: values.keep === true,
  };
}

function parseMode(m: string): LoopMode {
  if (m === 'closed' || m === 'open') return m;
  if (m === 'create' || m === 'create_sync') return 'create_sync';
  if (m === 'phases') return 'phases';
  throw new Error(`--mode ${m}: expected closed, open, create or phases`);
}

export async function loadgenMain(argv: readonly string[]): Promise<number> {
  let args: LoadgenArgs;
  try {
    args = parseLoadgenArgs(argv);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  const endpoints = parseConnectString(args.connect).map((e) => (args.tls === null ? e : { ...e, tls: args.tls }));
  const progress = new Progress();
  await createKeySpace(endpoints[0]!, args.plan.root, ownsKeys(args.plan.mode) ? 0 : args.plan.key_count, args.plan.value_bytes);
  try {
    const result = await runLoad({
      endpoints, plan: args.plan, clients: args.clients, threads: args.threads, warmup_ms: args.warmup_ms,
      measure_ms: args.measure_ms, sample_ms: 250, session_timeout_ms: 30_000, seed: args.seed,
      server_pids: args.server_pids, label: `loadgen ${args.connect}`, progress: progress.show,
    });
    progress.done();
    process.stdout.write(`${textReport(result)}\n`);
    if (args.json !== null) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    progress.done();
    if (!args.keep) await removeKeySpace(endpoints[0]!, args.plan.root);
  }
  return 0;
}

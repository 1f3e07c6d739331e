// What the runner measures: one system, standalone (src/check/launch.ts) or an ensemble
// (ensemble_launch.ts), behind one shape: where clients connect, whose CPU is the server's, how
// to stop it. Ensembles also expose their members (Figure 8 and failover kill them).

import { launchServer, type FsyncPolicy, type ServerKind } from '../../dist/check/launch.js';
import { DEFAULT_TIMING, launchEnsemble, type LaunchedEnsemble, type QuorumTiming } from './ensemble_launch.js';
import type { SystemInfo } from './run_record.js';

export interface Target {
  readonly kind: ServerKind;
  /** Every member's client address. */
  readonly connect: string;
  /** The ensemble (null when standalone). */
  readonly ensemble: LaunchedEnsemble | null;
  readonly fsync_policy: string;
  readonly heap: string;
  readonly command: string;
  readonly config_text: string;
  /** PIDs running now; their CPU is the server's. */
  pids(): number[];
  alive(): boolean;
  output(): string;
  stop(): Promise<void>;
}

export interface TargetOptions {
  /** 1 = standalone; 3 or more = an ensemble. */
  readonly replicas: number;
  readonly fsync: FsyncPolicy;
  readonly heap_mb: number;
  readonly read_workers: number | undefined;
  readonly data_root: string | undefined;
  readonly extra_config: readonly string[];
  /** waitfree only: another checkout whose build runs; null = this one. */
  readonly waitfree_root?: string | null;
  /** Ensembles only; default ZooKeeper's sample timing. */
  readonly timing?: QuorumTiming;
}

export async function launchTarget(kind: ServerKind, o: TargetOptions): Promise<Target> {
  if (o.replicas === 1) {
    const s = await launchServer(kind, { fsync: o.fsync, heap_mb: o.heap_mb, read_workers: o.read_workers, data_root: o.data_root, extra_config: o.extra_config, waitfree_root: o.waitfree_root ?? undefined });
    return {
      kind,
      connect: s.connect,
      ensemble: null,
      fsync_policy: s.fsync_policy,
      heap: s.heap,
      command: s.command,
      config_text: s.config_text,
      pids: () => (s.alive() ? [s.pid] : []),
      alive: () => s.alive(),
      output: () => s.output(),
      stop: () => s.stop(),
    };
  }
  const e = await launchEnsemble(kind, {
    replicas: o.replicas,
    fsync: o.fsync,
    heap_mb: o.heap_mb,
    read_workers: o.read_workers,
    data_root: o.data_root,
    timing: o.timing ?? DEFAULT_TIMING,
    extra_config: o.extra_config,
    waitfree_root: o.waitfree_root ?? null,
  });
  return {
    kind,
    connect: e.connect,
    ensemble: e,
    fsync_policy: e.fsync_policy,
    heap: e.heap,
    command: e.command,
    config_text: e.config_text,
    pids: () => e.pids(),
    alive: () => e.alive(),
    output: () => e.output(),
    stop: () => e.stop(),
  };
}

export function systemInfo(id: string, t: Target): SystemInfo {
  return { id, kind: t.kind, fsync_policy: t.fsync_policy, heap: t.heap, config_text: t.config_text, command: t.command };
}

// The supervisor's handle on one worker thread: start it, ask it for stats, stop it. Requests
// and replies go over postMessage (control plane only).

import { type ResourceLimits, Worker } from 'node:worker_threads';
import { STATS_SUMMARY, type ControlReply, type ControlRequest, type StatsDetail, type StatsReset, type SupervisorMessage, type WorkerEvent } from '../workers/control.js';
import type { WorkerInit } from '../workers/topology.js';

const CONTROL_TIMEOUT_MS = 5_000;
/** A watch listing is built in slices between a shard's ring polls: allow it longer. */
const LISTING_TIMEOUT_MS = 60_000;

export class WorkerHandle {
  readonly worker: Worker;
  private next_id = 1;
  private readonly waiting = new Map<number, (r: ControlReply) => void>();
  exited = false;

  constructor(
    readonly name: string,
    script: URL,
    init: WorkerInit,
    on_message: (m: WorkerEvent) => void,
    on_exit: (code: number) => void,
    resource_limits?: ResourceLimits,
  ) {
    this.worker = new Worker(script, { workerData: init, name, resourceLimits: resource_limits });
    this.worker.on('message', (m: unknown) => {
      const reply = m as Partial<ControlReply>;
      const resolve = typeof reply.id === 'number' ? this.waiting.get(reply.id) : undefined;
      if (resolve !== undefined && 'ok' in reply) {
        this.waiting.delete(reply.id!);
        resolve(reply as ControlReply);
      } else {
        on_message(m as WorkerEvent);
      }
    });
    this.worker.on('error', (e) => console.error(`waitfree: ${name} worker error:`, e));
    this.worker.on('exit', (code) => {
      this.exited = true;
      for (const resolve of this.waiting.values()) resolve({ id: 0, ok: false, error: `${name} exited` });
      this.waiting.clear();
      on_exit(code);
    });
  }

  /**
   * Asks for stats (what `detail` needs) or a stop. A watch listing may take many of the shard's
   * loop turns, so it gets the longer LISTING_TIMEOUT_MS.
   */
  request(type: 'stats' | 'stop', detail: StatsDetail = STATS_SUMMARY): Promise<unknown> {
    const timeout_ms = type === 'stats' && detail.watches !== null ? LISTING_TIMEOUT_MS : CONTROL_TIMEOUT_MS;
    return this.send((id) => (type === 'stats' ? { id, type, detail } : { id, type }), timeout_ms);
  }

  /** srst / crst: resolves once the worker has reset its counters (control.ts StatsReset). */
  resetStats(scope: StatsReset): Promise<unknown> {
    return this.send((id) => ({ id, type: 'reset_stats', scope }), CONTROL_TIMEOUT_MS);
  }

  private send(message: (id: number) => ControlRequest, timeout_ms: number): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const request = message(this.next_id++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(request.id);
        reject(new Error(`${this.name}: no answer to ${request.type} within ${timeout_ms} ms`));
      }, timeout_ms);
      this.waiting.set(request.id, (r) => {
        clearTimeout(timer);
        if (r.ok) resolve(r.value);
        else reject(new Error(r.error));
      });
      this.worker.postMessage(request);
    });
  }

  /** `transfer`: buffers handed over instead of copied (they are unusable here afterwards). */
  post(message: SupervisorMessage, transfer: readonly ArrayBuffer[] = []): void {
    this.worker.postMessage(message, [...transfer]);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    await this.request('stop').catch(() => {});
    await this.worker.terminate();
  }
}

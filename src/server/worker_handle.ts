// The supervisor's handle on one worker thread: start it, ask it for stats, stop it. Requests
// and replies go over postMessage (control plane only).

import { Worker } from 'node:worker_threads';
import type { ControlReply, ControlRequest } from '../workers/control.js';
import type { WorkerInit } from '../workers/topology.js';

const CONTROL_TIMEOUT_MS = 5_000;

export class WorkerHandle {
  readonly worker: Worker;
  private next_id = 1;
  private readonly waiting = new Map<number, (r: ControlReply) => void>();
  exited = false;

  constructor(
    readonly name: string,
    script: URL,
    init: WorkerInit,
    on_message: (m: unknown) => void,
    on_exit: (code: number) => void,
  ) {
    this.worker = new Worker(script, { workerData: init, name });
    this.worker.on('message', (m: unknown) => {
      const reply = m as Partial<ControlReply>;
      const resolve = typeof reply.id === 'number' ? this.waiting.get(reply.id) : undefined;
      if (resolve !== undefined && 'ok' in reply) {
        this.waiting.delete(reply.id!);
        resolve(reply as ControlReply);
      } else {
        on_message(m);
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

  request(type: ControlRequest['type']): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.next_id++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: no answer to ${type} within ${CONTROL_TIMEOUT_MS} ms`));
      }, CONTROL_TIMEOUT_MS);
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        if (r.ok) resolve(r.value);
        else reject(new Error(r.error));
      });
      this.worker.postMessage({ id, type } satisfies ControlRequest);
    });
  }

  post(message: unknown): void {
    this.worker.postMessage(message);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    await this.request('stop').catch(() => {});
    await this.worker.terminate();
  }
}

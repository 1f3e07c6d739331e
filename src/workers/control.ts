// The control plane between the supervisor and a worker: postMessage, never on the request
// path. The supervisor asks for stats (four-letter words, admin) and tells workers to stop.

import { parentPort } from 'node:worker_threads';

export type ControlRequest = { id: number; type: 'stats' } | { id: number; type: 'stop' };
export type ControlReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface ControlHandlers {
  stats(): unknown;
  stop(): void | Promise<void>;
  /** Messages that are not control requests (e.g. four-letter-word answers to the net worker). */
  other?(message: unknown): void;
}

function isControlRequest(m: unknown): m is ControlRequest {
  return typeof m === 'object' && m !== null && 'type' in m && 'id' in m && (m.type === 'stats' || m.type === 'stop');
}

export function serveControl(handlers: ControlHandlers): void {
  const port = parentPort;
  if (port === null) throw new Error('serveControl: not in a worker thread');
  port.on('message', (m: unknown) => {
    if (!isControlRequest(m)) {
      handlers.other?.(m);
      return;
    }
    void (async () => {
      try {
        const value = m.type === 'stats' ? handlers.stats() : await handlers.stop();
        port.postMessage({ id: m.id, ok: true, value } satisfies ControlReply);
      } catch (e) {
        port.postMessage({ id: m.id, ok: false, error: String(e) } satisfies ControlReply);
      }
    })();
  });
}

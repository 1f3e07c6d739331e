// Waiting inside recipes: for a watch to fire, bounded by the caller's AbortSignal and by the
// session (an expired or closed client rejects the wait with SESSIONEXPIRED instead of hanging).
// A disconnection does not end the wait: the client re-registers the watch when it reconnects.

import { ZooKeeperError, type WatchEvent, type WatchListener, type ZooKeeperClient } from '../client/index.js';
import { Err } from '../protocol/errors.js';

export interface WaitOptions {
  signal?: AbortSignal;
}

/** A one-shot watch listener and the promise of its first event. */
export interface Trigger {
  listener: WatchListener;
  fired: Promise<WatchEvent>;
}

export function trigger(): Trigger {
  let resolve!: (e: WatchEvent) => void;
  const fired = new Promise<WatchEvent>((r) => (resolve = r));
  return { listener: (e) => resolve(e), fired };
}

/** Resolves with `p`, or rejects on abort (signal.reason) or when the session ends. */
export function waitBounded<T>(client: ZooKeeperClient, p: Promise<T>, opts: WaitOptions = {}): Promise<T> {
  opts.signal?.throwIfAborted();
  if (client.state === 'expired' || client.state === 'closed') return Promise.reject(sessionGone(client));
  return new Promise<T>((resolve, reject) => {
    const cleanup = (): void => {
      off();
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      cleanup();
      reject(opts.signal?.reason);
    };
    const off = client.on('state', (e) => {
      if (e.state !== 'expired' && e.state !== 'closed') return;
      cleanup();
      reject(sessionGone(client));
    });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        cleanup();
        resolve(v);
      },
      (e: unknown) => {
        cleanup();
        reject(e);
      },
    );
  });
}

export function sessionGone(client: ZooKeeperClient): ZooKeeperError {
  return new ZooKeeperError(Err.SESSIONEXPIRED, { detail: client.state === 'closed' ? 'the client is closed' : 'the session expired' });
}

/** AbortSignal for { signal, timeout_ms }: either, both, or none. */
export function combinedSignal(opts: { signal?: AbortSignal; timeout_ms?: number }): AbortSignal | undefined {
  const signals: AbortSignal[] = [];
  if (opts.signal !== undefined) signals.push(opts.signal);
  if (opts.timeout_ms !== undefined) signals.push(AbortSignal.timeout(opts.timeout_ms));
  if (signals.length === 0) return undefined;
  return signals.length === 1 ? signals[0] : AbortSignal.any(signals);
}

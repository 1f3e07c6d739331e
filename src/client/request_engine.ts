// Turns requests into promises: one CallSpec per operation, submitted to the connection core
// through the socket driver, with per-call deadlines, AbortSignal, bounded outstanding requests
// (FifoGate) and retries where they are safe. Also routes server events to the watch registry and
// session state changes to listeners.
//
// Ordering: when a permit is free, call() submits synchronously, so calls made one after another
// without awaiting reach the server in that order (the session's FIFO guarantee). Watch
// registration (CallSpec.onReply) runs synchronously while the reply is processed, before any
// later event of the same connection is dispatched.

import type { ConnectionOptions } from 'node:tls';
import { Err } from '../protocol/errors.js';
import { JuteError } from '../protocol/jute.js';
import type { OpCode, RequestInput, ResponseValue } from '../protocol/messages.js';
import type { ReplyHeader } from '../protocol/types.js';
import { Chroot } from './chroot.js';
import { formatHost, type HostPort } from './connect_string.js';
import { ConnectionCore, type CoreOptions, type FailReason, type SessionState, type StateReason } from './connection_core.js';
import { ZooKeeperError } from './errors.js';
import { FifoGate } from './fifo_gate.js';
import { SocketDriver, type AppEffect } from './socket_driver.js';
import { nodeEventName, WatchRegistry, type WatchEvent, type WatchListener } from './watch_registry.js';
import type { WatchStream } from './watch_stream.js';

/** Internal: a call made on behalf of another call that already holds a permit. */
export const UNGATED: unique symbol = Symbol('ungated');

export interface CallOptions {
  /** @internal */
  [UNGATED]?: true;
  /** Give up after this long (the request may still take effect): REQUESTTIMEOUT. */
  timeout_ms?: number;
  /** Abort the call: rejects with signal.reason. A request already sent may still take effect. */
  signal?: AbortSignal;
  /** false = never retry this call after a connection loss. */
  retry?: boolean;
  /**
   * Called synchronously when the reply's header arrives, before any later reply or watch event of
   * the connection is dispatched (a history recorder sees the exact arrival order and zxid).
   */
  onReplyHeader?: (header: ReplyHeader) => void;
}

/** How one operation is sent and how its reply becomes a result. */
export interface CallSpec<C extends OpCode, T> {
  readonly op: string;
  /** Chroot-relative path, for error messages. */
  readonly path?: string;
  readonly type: C;
  readonly body: RequestInput<C>;
  /** 'safe' = may be re-sent after a connection loss (reads, version-checked writes). */
  readonly retry: 'never' | 'safe';
  /** Runs synchronously when the reply arrives (watch registration). */
  onReply?(err: number): void;
  result(body: ResponseValue<C>): T;
  /** An error code that is an answer, not a failure (exists: NONODE -> null). */
  resultOnError?(err: number): { value: T } | undefined;
  /** After a connection loss, before re-sending: finds out whether the op already happened. */
  recover?(): Promise<{ value: T } | undefined>;
  /** The error of a re-sent attempt: may prove the first attempt took effect (else rethrow). */
  afterRetryError?(e: ZooKeeperError): Promise<T>;
}

export interface SessionEvent {
  readonly state: SessionState;
  readonly previous: SessionState;
  readonly reason: StateReason;
  readonly sessionId: bigint;
  /** "host:port" of the server when connected. */
  readonly host: string | null;
}

export type StateListener = (event: SessionEvent) => void;

export interface EngineOptions {
  hosts: readonly HostPort[];
  chroot: string | null;
  session_timeout_ms: number;
  reconnect_delay_ms: number;
  close_timeout_ms: number;
  outstanding_max: number;
  frame_bytes_max: number;
  /** TLS options for every connection (a secure client port); null: plain TCP. */
  tls: ConnectionOptions | null;
  retry_attempts_max: number;
  timeout_ms: number | undefined;
  session?: CoreOptions['session'];
  expire_when_unreachable: boolean;
  now?: () => number;
}

interface Pending {
  onReply(header: ReplyHeader, body: unknown): void;
  onFail(why: FailReason): void;
}

const FAIL_ERRNO: Readonly<Record<FailReason, number>> = {
  connection_loss: Err.CONNECTIONLOSS,
  expired: Err.SESSIONEXPIRED,
  closed: Err.SESSIONEXPIRED,
  auth_failed: Err.AUTHFAILED,
  marshalling: Err.MARSHALLINGERROR,
};

const FAIL_DETAIL: Readonly<Record<FailReason, string | undefined>> = {
  connection_loss: 'the connection was lost; the request may or may not have been applied',
  expired: undefined,
  closed: 'the client is closed',
  auth_failed: 'authentication failed; the client is closed',
  marshalling: 'the reply could not be decoded',
};

/** Re-throws a listener's exception outside the I/O path (like an EventEmitter with no handler). */
function reportListenerError(e: unknown): void {
  queueMicrotask(() => {
    throw e;
  });
}

export class RequestEngine {
  readonly chroot: Chroot;
  readonly watches = new WatchRegistry();
  readonly streams = new Set<WatchStream>();
  private readonly core: ConnectionCore;
  private readonly driver: SocketDriver;
  private readonly gate: FifoGate;
  private readonly pendings = new Map<number, Pending>();
  private readonly state_listeners = new Set<StateListener>();
  private next_token = 1;
  private readonly now: () => number;
  /** The state before the last change, reported with each SessionEvent. */
  private previous: SessionState = 'connecting';

  constructor(private readonly opts: EngineOptions) {
    this.chroot = new Chroot(opts.chroot);
    this.now = opts.now ?? (() => performance.now());
    this.gate = new FifoGate(opts.outstanding_max);
    this.core = new ConnectionCore({
      hosts: opts.hosts,
      session_timeout_ms: opts.session_timeout_ms,
      reconnect_delay_ms: opts.reconnect_delay_ms,
      close_timeout_ms: opts.close_timeout_ms,
      session: opts.session,
      expire_when_unreachable: opts.expire_when_unreachable,
      watches: () => this.serverWatchLists(),
    });
    this.driver = new SocketDriver(this.core, (e) => this.onEffect(e), { frame_bytes_max: opts.frame_bytes_max, now: this.now, tls: opts.tls });
    this.driver.run((now) => this.core.start(now));
  }

  get state(): SessionState {
    return this.core.state;
  }
  get session_id(): bigint {
    return this.core.session_id;
  }
  get passwd(): Uint8Array {
    return this.core.passwd;
  }
  get negotiated_timeout_ms(): number {
    return this.core.negotiated_timeout_ms;
  }
  get last_zxid(): number {
    return this.core.last_zxid;
  }
  get host(): string | null {
    const h = this.core.host;
    return h === null ? null : formatHost(h);
  }

  onState(listener: StateListener): () => void {
    this.state_listeners.add(listener);
    return () => this.state_listeners.delete(listener);
  }

  /** Runs a call, retrying after connection losses when the spec and options allow. */
  async call<C extends OpCode, T>(spec: CallSpec<C, T>, opts: CallOptions = {}): Promise<T> {
    const gated = opts[UNGATED] !== true;
    opts.signal?.throwIfAborted();
    const timeout_ms = opts.timeout_ms ?? this.opts.timeout_ms;
    const deadline = timeout_ms === undefined ? null : this.now() + timeout_ms;
    if (gated && !this.gate.tryAcquire()) await this.waitForPermit(spec, opts.signal, timeout_ms);
    try {
      return await this.withRetries(spec, opts, deadline);
    } finally {
      if (gated) this.gate.release();
    }
  }

  /** Waits its turn for a permit, within the call's timeout (REQUESTTIMEOUT) and signal. */
  private async waitForPermit<C extends OpCode, T>(spec: CallSpec<C, T>, signal: AbortSignal | undefined, timeout_ms: number | undefined): Promise<void> {
    if (timeout_ms === undefined) return this.gate.acquire(signal);
    const timeout = new AbortController();
    const detail = `still waiting for one of ${this.opts.outstanding_max} outstanding slots`;
    const timer = setTimeout(() => timeout.abort(new ZooKeeperError(Err.REQUESTTIMEOUT, { op: spec.op, path: spec.path, detail })), timeout_ms);
    try {
      await this.gate.acquire(signal === undefined ? timeout.signal : AbortSignal.any([signal, timeout.signal]));
    } finally {
      clearTimeout(timer);
    }
  }

  private async withRetries<C extends OpCode, T>(spec: CallSpec<C, T>, opts: CallOptions, deadline: number | null): Promise<T> {
    let lost = false;
    for (let attempt = 1; ; attempt++) {
      try {
        if (lost && spec.recover !== undefined) {
          const found = await spec.recover();
          if (found !== undefined) return found.value;
        }
        return await this.attempt(spec, deadline, opts.signal, opts.onReplyHeader);
      } catch (e) {
        const code = e instanceof ZooKeeperError ? e.code : null;
        if (lost && code !== null && code !== 'CONNECTIONLOSS' && spec.afterRetryError !== undefined) {
          return await spec.afterRetryError(e as ZooKeeperError);
        }
        const may_retry = spec.retry === 'safe' && opts.retry !== false && attempt < this.opts.retry_attempts_max;
        if (code !== 'CONNECTIONLOSS' || !may_retry) throw e;
        lost = true;
      }
    }
  }

  /** One submission: resolves or rejects on its reply, a failure, the deadline or an abort. */
  private attempt<C extends OpCode, T>(spec: CallSpec<C, T>, deadline: number | null, signal?: AbortSignal, onHeader?: (h: ReplyHeader) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      signal?.throwIfAborted();
      const token = this.next_token++;
      let timer: NodeJS.Timeout | undefined;
      const settle = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pendings.delete(token);
      };
      const giveUp = (error: unknown): void => {
        settle();
        this.driver.run(() => this.core.cancel(token));
        reject(error);
      };
      const onAbort = (): void => giveUp(signal?.reason);
      this.pendings.set(token, {
        onReply: (header, body) => {
          settle();
          try {
            onHeader?.(header);
          } catch (e) {
            reportListenerError(e);
          }
          this.settleReply(spec, header.err, body, resolve, reject);
        },
        onFail: (why) => {
          settle();
          reject(new ZooKeeperError(FAIL_ERRNO[why], { op: spec.op, path: spec.path, detail: FAIL_DETAIL[why] }));
        },
      });
      if (deadline !== null) {
        const left_ms = Math.max(0, deadline - this.now());
        const detail = 'no reply in time; the request may still take effect';
        timer = setTimeout(() => giveUp(new ZooKeeperError(Err.REQUESTTIMEOUT, { op: spec.op, path: spec.path, detail })), left_ms);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        this.driver.run((now) => this.core.submit(token, spec.type, spec.body, now));
      } catch (e) {
        settle();
        if (!(e instanceof JuteError)) throw e;
        reject(new ZooKeeperError(Err.BADARGUMENTS, { op: spec.op, path: spec.path, detail: e.message }));
      }
    });
  }

  private settleReply<C extends OpCode, T>(
    spec: CallSpec<C, T>,
    err: number,
    body: unknown,
    resolve: (v: T) => void,
    reject: (e: unknown) => void,
  ): void {
    try {
      spec.onReply?.(err);
      if (err === 0) return resolve(spec.result(body as ResponseValue<C>));
      const answer = spec.resultOnError?.(err);
      if (answer !== undefined) return resolve(answer.value);
      reject(new ZooKeeperError(err, { op: spec.op, path: spec.path }));
    } catch (e) {
      reject(e);
    }
  }

  /** addAuth: completes on the server's answer; re-sent by the core on every reconnect. */
  addAuth(scheme: string, auth: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      const token = this.next_token++;
      const op = 'addAuth';
      this.pendings.set(token, {
        onReply: (header) => {
          this.pendings.delete(token);
          if (header.err === 0) resolve();
          else reject(new ZooKeeperError(header.err, { op, detail: `scheme ${scheme}` }));
        },
        onFail: (why) => {
          this.pendings.delete(token);
          reject(new ZooKeeperError(FAIL_ERRNO[why], { op, detail: FAIL_DETAIL[why] }));
        },
      });
      this.driver.run((now) => this.core.addAuth(token, scheme, auth, now));
    });
  }

  /** Ends the session; resolves once the client is closed (or already was). */
  close(): Promise<void> {
    if (this.core.state === 'closed' || this.core.state === 'expired') return Promise.resolve();
    const done = new Promise<void>((resolve) => {
      const off = this.onState((e) => {
        if (e.state === 'closed' || e.state === 'expired') {
          off();
          resolve();
        }
      });
    });
    this.driver.run((now) => this.core.close(now));
    return done;
  }

  private serverWatchLists() {
    const l = this.watches.lists();
    const s = (paths: readonly string[]) => paths.map((p) => this.chroot.toServer(p));
    return {
      data: s(l.data),
      exist: s(l.exist),
      child: s(l.child),
      persistent: s(l.persistent),
      persistentRecursive: s(l.persistentRecursive),
    };
  }

  // ---- effects from the core ----

  private onEffect(e: AppEffect): void {
    switch (e.kind) {
      case 'reply':
        return this.pendings.get(e.token)?.onReply(e.header, e.body);
      case 'fail':
        return this.pendings.get(e.token)?.onFail(e.why);
      case 'event': {
        const type = nodeEventName(e.event.type);
        if (type === undefined) return;
        const event: WatchEvent = { type, path: this.chroot.fromServer(e.event.path), zxid: e.zxid };
        return this.fire(this.watches.trigger(type, event.path), event);
      }
      case 'state':
        return this.onStateEffect(e.state, e.reason, e.host);
    }
  }

  fire(listeners: Iterable<WatchListener>, event: WatchEvent): void {
    for (const l of listeners) {
      try {
        l(event);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }

  private onStateEffect(state: SessionState, reason: StateReason, host: HostPort | null): void {
    const event: SessionEvent = {
      state,
      previous: this.previous,
      reason,
      sessionId: this.core.session_id,
      host: host === null ? null : formatHost(host),
    };
    this.previous = state;
    if (state === 'expired' || state === 'closed') this.teardown(state, reason);
    for (const l of [...this.state_listeners]) {
      try {
        l(event);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }

  private teardown(state: 'expired' | 'closed', reason: StateReason): void {
    this.watches.clear();
    const why: FailReason = state === 'expired' ? 'expired' : reason === 'auth_failed' ? 'auth_failed' : 'closed';
    const error = new ZooKeeperError(FAIL_ERRNO[why], { detail: FAIL_DETAIL[why] });
    for (const s of this.streams) s.end(error);
    this.streams.clear();
    this.gate.rejectAll(error);
    this.driver.shutdown();
  }
}

// Sleeping and waking across threads with Atomics, shared by producer and consumer.
//
// Protocol (for both directions; "waiter" = consumer waiting for data or producer waiting for space,
// "notifier" = the other side):
//   waiter:   announce (set own SLEEPING bit / PRODUCER_WAITING = 1) → seen = load(SEQ) → re-check
//             the condition → if still unmet, Atomics.wait(SEQ, seen) → loop (re-announce) or, when
//             done, retract the announcement.
//   notifier: publish (store cursor) → load announcement → only if set: take it (exchange/CAS to
//             0, so later publishes do not notify again for the same sleep), SEQ += 1, notify.
// All these are seq-cst Atomics ops, so either the waiter's re-check sees the publish, or the
// notifier's load sees the announcement and bumps SEQ after the waiter read it (the wait then
// returns "not-equal" at once or is woken). A steady stream therefore pays one load per flush/poll
// and no notify; notify is paid only when the other side really is (about to be) asleep.
//
// Taking the announcement adds one rule: the waiter sleeps only if its announcement still stands
// after it read SEQ; otherwise it re-announces and re-checks. A taker that acted before the waiter
// read SEQ has its bump already counted in `seen`, and the event it reacted to may not end this
// wait: a publish the consumer had already polled before announcing (data), or one consumer
// reaching the target while another still lags (space, SPMC). Sleeping then would wait for a
// wake-up nobody sends, since the announcement is gone. (The space race showed up in stress runs
// as multi-second stalls; the data race has the same shape, with a narrower window.)
//
// PITFALL (Node 20): a pending Atomics.waitAsync does NOT keep a worker thread alive. A worker whose
// only pending work is waitForDataAsync()/waitForSpaceAsync() exits silently. Hold a ref'd timer,
// socket or MessagePort while waiting (a worker that serves sockets already does).

type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };
type WaitAsyncFn = (typed: Int32Array, index: number, value: number, timeout_ms?: number) => WaitAsyncResult;

// lib ES2023 does not declare Atomics.waitAsync; Node >= 16 has it.
const atomics_wait_async = (Atomics as unknown as { waitAsync?: WaitAsyncFn }).waitAsync;

export function checkTimeout(timeout_ms: number): void {
  if (!(timeout_ms >= 0)) throw new RangeError(`ring: timeout_ms must be >= 0 or Infinity, got ${timeout_ms}`);
}

/** Blocks the thread until `header[index] !== seen`, a notify, or the timeout. */
export function sleepOn(header: Int32Array, index: number, seen: number, timeout_ms: number): void {
  Atomics.wait(header, index, seen, timeout_ms);
}

/**
 * Async variant of sleepOn: a promise settled on notify/timeout, or null when the word already
 * changed (or timeout_ms is 0) and there is nothing to wait for.
 */
export function sleepOnAsync(header: Int32Array, index: number, seen: number, timeout_ms: number): Promise<unknown> | null {
  if (atomics_wait_async === undefined) throw new Error('ring: Atomics.waitAsync is not available (need Node >= 16)');
  const result = atomics_wait_async(header, index, seen, timeout_ms);
  return result.async ? result.value : null;
}

/** Notifier side, called only after seeing an announcement: bump the sequence word, wake waiters. */
export function wake(header: Int32Array, seq_index: number): void {
  Atomics.add(header, seq_index, 1);
  Atomics.notify(header, seq_index);
}

/** Absolute deadline (performance.now() clock) for a timeout; Infinity stays Infinity. */
export function deadlineAfter(timeout_ms: number): number {
  return timeout_ms === Infinity ? Infinity : performance.now() + timeout_ms;
}

/** Milliseconds left until `deadline` (<= 0 once passed). */
export function msUntil(deadline: number): number {
  return deadline === Infinity ? Infinity : deadline - performance.now();
}

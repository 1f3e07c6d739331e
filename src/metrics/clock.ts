// The clock request latencies are measured with: milliseconds on the epoch scale (so it can
// stand in for Date.now() in timestamps), with sub-millisecond resolution (Date.now() would put
// every fast request in the 0 ms bucket). Monotonic within a thread: performance.now() is.

// performance.timeOrigin is a getter V8 does not inline (a call per read, seen in profiles); it
// is constant for the thread (each worker has its own, and its own copy of this module).
const TIME_ORIGIN_MS = performance.timeOrigin;

export function hrNowMs(): number {
  return TIME_ORIGIN_MS + performance.now();
}

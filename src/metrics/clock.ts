// The clock request latencies are measured with: milliseconds on the epoch scale (so it can
// stand in for Date.now() in timestamps), with sub-millisecond resolution (Date.now() would put
// every fast request in the 0 ms bucket). Monotonic within a thread: performance.now() is.

export function hrNowMs(): number {
  return performance.timeOrigin + performance.now();
}

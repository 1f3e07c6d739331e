// CRC-32C (Castagnoli) for log records and snapshots. CRC-32C rather than zlib.crc32 (CRC-32/IEEE,
// built into Node 20): both are native-speed here, but Castagnoli keeps Hamming distance 4 up to
// 2^31 bits where IEEE drops to 3 past ~91 kbit, and snapshots are far longer than that.
//
// Implementations: @node-rs/crc32 (SSE4.2/SIMD via a prebuilt napi binary, ~3 GB/s on 1 MiB) and,
// as its pure-JS twin (native-free), the table-driven one of @chainsafe/fast-crc32c (~350 MB/s).
// The native one is used when it loads and computes the check value; WAITFREE_NATIVE=false forces
// the twin. Both chain: crc32c(b, crc32c(a)) === crc32c(a ++ b).

import { createRequire } from 'node:module';

type Crc32cFn = (bytes: Uint8Array, initial: number) => number;

/** The standard check input and its CRC-32C. */
const CHECK_INPUT = new TextEncoder().encode('123456789');
const CHECK_VALUE = 0xe3069283;

const require = createRequire(import.meta.url);

function loadNative(): Crc32cFn | null {
  if (process.env.WAITFREE_NATIVE === 'false') return null;
  try {
    const mod = require('@node-rs/crc32') as { crc32c(input: Uint8Array, initial?: number): number };
    const fn: Crc32cFn = (bytes, initial) => mod.crc32c(bytes, initial);
    return fn(CHECK_INPUT, 0) === CHECK_VALUE ? fn : null;
  } catch {
    return null;
  }
}

function loadJs(): Crc32cFn {
  const mod = require('@chainsafe/fast-crc32c/impls/js_crc32c') as { calculate(input: Uint8Array, initial?: number): number };
  const fn: Crc32cFn = (bytes, initial) => mod.calculate(bytes, initial) >>> 0;
  if (fn(CHECK_INPUT, 0) !== CHECK_VALUE) throw new Error('crc32c: the JS implementation fails its check value');
  return fn;
}

const native = loadNative();
const impl: Crc32cFn = native ?? loadJs();

/** Which implementation this process uses. */
export const CRC32C_IMPL: 'native' | 'js' = native === null ? 'js' : 'native';

/** CRC-32C of `bytes`, continuing from `initial` (the CRC of what came before). Unsigned. */
export function crc32c(bytes: Uint8Array, initial = 0): number {
  return impl(bytes, initial);
}

/** The pure-JS implementation, whatever the process uses (for tests comparing the two). */
export function crc32cJs(bytes: Uint8Array, initial = 0): number {
  return loadJsOnce()(bytes, initial);
}

let js_cached: Crc32cFn | null = null;
function loadJsOnce(): Crc32cFn {
  js_cached ??= loadJs();
  return js_cached;
}

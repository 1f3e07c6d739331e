// Chooses the admin server's backend: uWebSockets.js unless asked not to (waitfree.native=false,
// `--native=false`) or unless it cannot load here (another Node ABI, musl, another arch, the
// optional package missing); then the node:http twin in native-free/, with one log line.

import type { HttpBackend } from './backend.js';
import { loadUws, UwsBackend, type UwsModule } from './uws_backend.js';

import { NATIVE_FREE_HTTP } from '../native_free_path.js';

interface NativeFreeModule {
  createHttpBackend(): HttpBackend;
}

async function nativeFreeBackend(): Promise<HttpBackend> {
  const mod = (await import(NATIVE_FREE_HTTP.href)) as Partial<NativeFreeModule>;
  if (typeof mod.createHttpBackend !== 'function') throw new Error(`${NATIVE_FREE_HTTP.pathname}: no createHttpBackend export`);
  return mod.createHttpBackend();
}

/**
 * Native addons are used unless the config says no (waitfree.native=false, --native=false) or
 * the process environment does (WAITFREE_NATIVE=false: the switch modules that choose at load
 * time read, e.g. the CRC-32C in src/log/; the CLI sets it from the config).
 */
export function nativeWanted(config_native: boolean): boolean {
  return config_native && process.env['WAITFREE_NATIVE'] !== 'false';
}

export interface ChosenBackend {
  backend: HttpBackend;
  /** Why the native backend was not used when it was wanted (logged once); null otherwise. */
  fallback_reason: string | null;
}

/** `load` and `warn` are seams for tests (a module that cannot load is hard to arrange for real). */
export async function chooseHttpBackend(
  native: boolean,
  warn: (line: string) => void = console.warn,
  load: () => UwsModule = loadUws,
): Promise<ChosenBackend> {
  if (!native) return { backend: await nativeFreeBackend(), fallback_reason: null };
  try {
    return { backend: new UwsBackend(load()), fallback_reason: null };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    warn(`waitfree: uWebSockets.js cannot load (${reason}); the admin server uses node:http (native-free/)`);
    return { backend: await nativeFreeBackend(), fallback_reason: reason };
  }
}

// The arena's two failure kinds. ArenaFullError is an expected, reportable condition (the
// configured memory is used up, often because a reader pins an old root); ArenaInvariantError is
// a bug or a caller breaking a documented precondition (e.g. creating a node twice): loud, never
// silently tolerated.

/** An allocation did not fit in the configured segments. The writer is unusable afterwards. */
export class ArenaFullError extends Error {
  override readonly name = 'ArenaFullError';
}

/** A broken invariant or precondition of the arena (a bug in the caller or in the arena). */
export class ArenaInvariantError extends Error {
  override readonly name = 'ArenaInvariantError';
}

/** A configuration value out of range; the message names the config key. */
export class ArenaConfigError extends Error {
  override readonly name = 'ArenaConfigError';
}

/** For constant messages. A message built from values goes through fail() behind an if, so it
 *  is only built when the check fails (checks sit on hot paths). */
export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ArenaInvariantError(message);
}

export function fail(message: string): never {
  throw new ArenaInvariantError(message);
}

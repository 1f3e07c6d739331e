// Typed client errors. Every failure the server reports, and every local failure that has a
// ZooKeeper equivalent, is a ZooKeeperError whose `code` is the KeeperException code name
// ('NONODE', 'CONNECTIONLOSS', ...) and whose `errno` is the wire number. Aborts (AbortSignal)
// reject with the signal's reason, as web APIs do.

import { Err, errorMessage, errorName, type ErrorName } from '../protocol/errors.js';

export type { ErrorName } from '../protocol/errors.js';

export interface ZooKeeperErrorDetails {
  /** The path the request named, as the application gave it (chroot-relative). */
  path?: string;
  /** The operation, e.g. 'create', 'getData', 'multi'. */
  op?: string;
  /** More context, appended to the message. */
  detail?: string;
}

export class ZooKeeperError extends Error {
  override readonly name: string = 'ZooKeeperError';
  /** KeeperException code name, e.g. 'NONODE'. */
  readonly code: ErrorName;
  /** The wire error number, e.g. -101. */
  readonly errno: number;
  readonly path: string | undefined;
  readonly op: string | undefined;

  constructor(errno: number, details: ZooKeeperErrorDetails = {}) {
    const where = [details.op, details.path].filter((x) => x !== undefined).join(' ');
    const extra = details.detail === undefined ? '' : `: ${details.detail}`;
    super(`${errorName(errno)} (${errorMessage(errno)})${where === '' ? '' : ` for ${where}`}${extra}`);
    this.code = errorName(errno) as ErrorName;
    this.errno = errno;
    this.path = details.path;
    this.op = details.op;
  }
}

/** One op's outcome inside a failed multi: `errno` 0 for ops before the failing one. */
export interface MultiOpError {
  readonly index: number;
  readonly code: ErrorName;
  readonly errno: number;
}

/** A multi that failed as a whole: `index` is the op that failed; nothing was applied. */
export class MultiError extends ZooKeeperError {
  override readonly name = 'MultiError';
  constructor(
    errno: number,
    readonly index: number,
    readonly results: readonly MultiOpError[],
    details: ZooKeeperErrorDetails = {},
  ) {
    super(errno, { ...details, detail: `op #${index} failed; no op of the multi was applied` });
  }
}

/** The persistent watch stream could not keep up: more events were buffered than allowed. */
export class WatchOverflowError extends Error {
  override readonly name = 'WatchOverflowError';
  constructor(readonly path: string, readonly buffered_max: number) {
    super(`watch on ${path}: more than ${buffered_max} events buffered; consumer too slow`);
  }
}

/** True when `e` is a ZooKeeperError, optionally with one of the given code names. */
export function isZooKeeperError(e: unknown, ...codes: ErrorName[]): e is ZooKeeperError {
  return e instanceof ZooKeeperError && (codes.length === 0 || codes.includes(e.code));
}

/** The session can no longer be used: expired, closed, or authentication failed. */
export function isSessionGone(e: unknown): boolean {
  return isZooKeeperError(e, 'SESSIONEXPIRED', 'AUTHFAILED');
}

export function connectionLoss(details: ZooKeeperErrorDetails = {}): ZooKeeperError {
  return new ZooKeeperError(Err.CONNECTIONLOSS, details);
}

// KeeperException.Code as data: one row per code. The encoder, decoder, docs and the client's
// typed errors all read this table.

export const ERROR_TABLE = [
  { code: 0, name: 'OK', message: 'ok' },
  { code: -1, name: 'SYSTEMERROR', message: 'system error' },
  { code: -2, name: 'RUNTIMEINCONSISTENCY', message: 'runtime inconsistency' },
  { code: -3, name: 'DATAINCONSISTENCY', message: 'data inconsistency' },
  { code: -4, name: 'CONNECTIONLOSS', message: 'connection loss' },
  { code: -5, name: 'MARSHALLINGERROR', message: 'marshalling error' },
  { code: -6, name: 'UNIMPLEMENTED', message: 'unimplemented' },
  { code: -7, name: 'OPERATIONTIMEOUT', message: 'operation timeout' },
  { code: -8, name: 'BADARGUMENTS', message: 'bad arguments' },
  { code: -12, name: 'UNKNOWNSESSION', message: 'unknown session' },
  { code: -13, name: 'NEWCONFIGNOQUORUM', message: 'new config has no quorum' },
  { code: -14, name: 'RECONFIGINPROGRESS', message: 'reconfig in progress' },
  { code: -100, name: 'APIERROR', message: 'api error' },
  { code: -101, name: 'NONODE', message: 'no node' },
  { code: -102, name: 'NOAUTH', message: 'not authenticated' },
  { code: -103, name: 'BADVERSION', message: 'bad version' },
  { code: -108, name: 'NOCHILDRENFOREPHEMERALS', message: 'ephemerals cannot have children' },
  { code: -110, name: 'NODEEXISTS', message: 'node exists' },
  { code: -111, name: 'NOTEMPTY', message: 'directory not empty' },
  { code: -112, name: 'SESSIONEXPIRED', message: 'session expired' },
  { code: -113, name: 'INVALIDCALLBACK', message: 'invalid callback' },
  { code: -114, name: 'INVALIDACL', message: 'invalid ACL' },
  { code: -115, name: 'AUTHFAILED', message: 'authentication failed' },
  { code: -118, name: 'SESSIONMOVED', message: 'session moved' },
  { code: -119, name: 'NOTREADONLY', message: 'not a read-only call' },
  { code: -120, name: 'EPHEMERALONLOCALSESSION', message: 'ephemeral on local session' },
  { code: -121, name: 'NOWATCHER', message: 'no watcher' },
  { code: -122, name: 'REQUESTTIMEOUT', message: 'request timeout' },
  { code: -123, name: 'RECONFIGDISABLED', message: 'reconfig disabled' },
  { code: -124, name: 'SESSIONCLOSEDREQUIRESASLAUTH', message: 'session closed: SASL auth required' },
  { code: -125, name: 'QUOTAEXCEEDED', message: 'quota exceeded' },
  { code: -127, name: 'THROTTLEDOP', message: 'op throttled' },
] as const;

export type ErrorName = (typeof ERROR_TABLE)[number]['name'];

/** Err.NONODE === -101 and so on, derived from the table. */
export const Err = Object.fromEntries(ERROR_TABLE.map((e) => [e.name, e.code])) as {
  readonly [K in ErrorName]: Extract<(typeof ERROR_TABLE)[number], { name: K }>['code'];
};

const by_code = new Map<number, (typeof ERROR_TABLE)[number]>(ERROR_TABLE.map((e) => [e.code, e]));

export function errorName(code: number): string {
  return by_code.get(code)?.name ?? `UNKNOWN(${code})`;
}

export function errorMessage(code: number): string {
  return by_code.get(code)?.message ?? `unknown error ${code}`;
}

/** A request-level failure carrying a KeeperException code; thrown by prep and tree code. */
export class KeeperError extends Error {
  override readonly name = 'KeeperError';
  constructor(
    readonly code: number,
    readonly path?: string,
  ) {
    super(`${errorName(code)}${path === undefined ? '' : ` for ${path}`}`);
  }
}

// What a session opened in read-only mode may not do (ZooKeeper's ReadOnlyRequestProcessor). The
// shard answers these itself, in the session's FIFO order, at the current zxid, without
// forwarding anything: the replica has no quorum to commit them.

import { Err } from '../../protocol/errors.js';
import { Op } from '../../protocol/opcodes.js';
import type { ServerRequest } from '../../protocol/messages.js';
import type { Answer } from './shard_session.js';

/** ReadOnlyRequestProcessor's list: answered NOTREADONLY whatever their body (it filters by
 *  opcode before prep reads the body, so a malformed create is NOTREADONLY too). */
const REFUSED_READ_ONLY: ReadonlySet<number> = new Set([
  Op.sync,
  Op.create,
  Op.create2,
  Op.createTTL,
  Op.createContainer,
  Op.delete,
  Op.deleteContainer,
  Op.setData,
  Op.reconfig,
  Op.setACL,
  Op.multi,
  Op.check,
]);

const NOT_READ_ONLY: Answer = { err: Err.NOTREADONLY, name: null, body: null };
/** closeSession of a local session: answered, then the connection closes (no txn). */
const CLOSE_LOCAL_SESSION: Answer = { err: 0, name: null, body: null, close: true };

/** The answer a read-only session gets for `request`, or null if it is served as usual. */
export function readOnlyAnswer(request: ServerRequest): Answer | null {
  const type = request.header.type;
  if (REFUSED_READ_ONLY.has(type)) return NOT_READ_ONLY;
  if (type === Op.closeSession) return CLOSE_LOCAL_SESSION;
  return null;
}

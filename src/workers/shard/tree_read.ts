// Reads served by a shard from its tree copy, with the watch registrations ZooKeeper makes.

import { Op } from '../../protocol/opcodes.js';
import type { DecodedRequest } from '../../protocol/messages.js';
import { opBodies } from '../../protocol/messages.js';
import { validatePath } from '../../protocol/paths.js';
import type { MultiRequest } from '../../protocol/multi.js';
import { serveRead, type ReadRequest } from '../../tree/read_ops.js';
import type { Conn } from './conn.js';
import type { Answer, ShardContext } from './shard_session.js';

export function serveTreeRead(ctx: ShardContext, conn: Conn, request: DecodedRequest): Answer {
  const opcode = request.header.type;
  const body = opcode === Op.multiRead ? (request.body as MultiRequest).ops : (request.body as ReadRequest);
  const result = serveRead(ctx.tree, { auth: conn.auth, is_super: conn.is_super, session_id: conn.session_id }, opcode, body);
  // A path the tree cannot hold can never fire: ZooKeeper's client never sends one, so skip it.
  for (const w of result.watches) if (validatePath(w.path) === null) ctx.watches.addWatch(w.path, conn.id, w.kind);
  return { err: result.err, name: opBodies(opcode)?.response ?? null, body: result.response };
}

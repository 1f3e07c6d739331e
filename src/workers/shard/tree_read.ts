// Reads served by a shard from the shared tree, with the watch registrations ZooKeeper makes.
// exists and getData (nearly every read) write their reply body straight from the tree into the
// reply (data copied once, no Stat object); the other reads go through serveRead's records.

import { Op } from '../../protocol/opcodes.js';
import type { DecodedRequest } from '../../protocol/messages.js';
import { opBodies } from '../../protocol/messages.js';
import { validatePath } from '../../protocol/paths.js';
import type { MultiRequest } from '../../protocol/multi.js';
import type { PathWatchRequest } from '../../protocol/types.js';
import { decideRead, serveRead, type ReadContext, type ReadRequest, type WatchRegistration } from '../../tree/read_ops.js';
import type { Conn } from './conn.js';
import type { Answer, ShardContext } from './shard_session.js';

export function serveTreeRead(ctx: ShardContext, conn: Conn, request: DecodedRequest): Answer {
  const opcode = request.header.type;
  const read_ctx: ReadContext = { auth: conn.auth, is_super: conn.is_super, session_id: conn.session_id };
  if (opcode === Op.getData || opcode === Op.exists) {
    // Invariant: the body writer runs in this same turn (answerNow -> reply -> send), before
    // any other call on the tree, so the node decideRead selected is still the one selected.
    const d = decideRead(ctx.tree, read_ctx, opcode, request.body as PathWatchRequest);
    registerWatches(ctx, conn, d.watches);
    const write_body = d.err !== 0 ? undefined : ctx.tree.bodyWriter(opcode);
    return { err: d.err, name: null, body: null, write_body };
  }
  const body = opcode === Op.multiRead ? (request.body as MultiRequest).ops : (request.body as ReadRequest);
  const result = serveRead(ctx.tree, read_ctx, opcode, body);
  registerWatches(ctx, conn, result.watches);
  return { err: result.err, name: opBodies(opcode)?.response ?? null, body: result.response };
}

function registerWatches(ctx: ShardContext, conn: Conn, watches: readonly WatchRegistration[]): void {
  // A path the tree cannot hold can never fire: ZooKeeper's client never sends one, so skip it.
  for (const w of watches) if (validatePath(w.path) === null) ctx.watches.addWatch(w.path, conn.id, w.kind);
}

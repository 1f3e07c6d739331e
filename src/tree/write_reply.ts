// The reply body of a committed write, from the result of applying its txn. The record is the one
// OPCODE_TABLE names for the opcode, so the reply shape cannot drift from the decoder's.

import { opBodies, type BodyName } from '../protocol/messages.js';
import { Op } from '../protocol/opcodes.js';
import type { ApplyResult } from './data_tree.js';
import type { TxnOp } from './txn.js';

export interface ReplyBody {
  name: BodyName | null;
  body: unknown;
}

export function writeReplyBody(opcode: number, result: ApplyResult): ReplyBody {
  const name = opBodies(opcode)?.response ?? null;
  // A failed request's reply is the header alone.
  if (result.err !== 0) return { name, body: null };
  switch (name) {
    case null:
      return { name, body: null };
    case 'CreateResponse':
      return { name, body: { path: result.path } };
    case 'Create2Response':
      return { name, body: { path: result.path, stat: result.stat } };
    case 'SetDataResponse':
    case 'SetACLResponse':
      return { name, body: { stat: result.stat } };
    case 'MultiResponse':
      return { name, body: result.multi };
    case 'GetDataResponse':
      // reconfig: the new config and the config node's Stat.
      return { name, body: { data: result.data, stat: result.stat } };
    default:
      throw new Error(`no write reply for opcode ${opcode} (${name})`);
  }
}

/**
 * The opcode whose reply record answers a txn: the request's (a create keeps the opcode the
 * client used; every other write request makes a txn of its own kind). -1 where the reply is
 * the header alone (an error txn; session txns are answered by the shard itself).
 */
export function replyOpcodeOf(op: TxnOp): number {
  switch (op.kind) {
    case 'create':
      return op.opcode;
    case 'delete':
      return Op.delete;
    case 'setData':
      return Op.setData;
    case 'setACL':
      return Op.setACL;
    case 'check':
      return Op.check;
    case 'multi':
      return Op.multi;
    case 'reconfig':
      return Op.reconfig;
    default:
      return -1;
  }
}

// The reply body of a committed write, from the result of applying its txn. The record is the one
// OPCODE_TABLE names for the opcode, so the reply shape cannot drift from the decoder's.

import { opBodies, type BodyName } from '../../protocol/messages.js';
import type { ApplyResult } from '../../tree/data_tree.js';

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
    default:
      throw new Error(`no write reply for opcode ${opcode} (${name})`);
  }
}

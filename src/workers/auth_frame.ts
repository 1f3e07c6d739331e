// The body of ShardToCommit.AUTH_ADD: an authenticated id, as two jute ustrings. Ids can be as
// long as a client makes them (digest user names), so they travel in the body, not the head.

import { JuteReader, JuteWriter } from '../protocol/jute.js';
import type { Id } from '../protocol/types.js';

export function encodeAuthId(id: Id): Uint8Array {
  const w = new JuteWriter(16 + id.scheme.length + id.id.length * 3);
  w.writeUString(id.scheme);
  w.writeUString(id.id);
  return w.view_bytes();
}

export function decodeAuthId(bytes: Uint8Array, start: number, end: number): Id {
  const r = new JuteReader(bytes, start, end);
  const id = { scheme: r.readString(), id: r.readString() };
  r.expectEnd();
  return id;
}

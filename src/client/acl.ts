// ACL helpers (ZooDefs.Ids and the digest scheme). A digest id is
// "user:base64(sha1(user:password))"; the auth packet for it carries "user:password".

import { createHash } from 'node:crypto';
import { Perms } from '../protocol/constants.js';
import type { ACL, Id } from '../protocol/types.js';

export { Perms } from '../protocol/constants.js';

export const ANYONE_ID: Id = { scheme: 'world', id: 'anyone' };
/** Replaced by the server with the creator's authenticated ids. */
export const AUTH_IDS: Id = { scheme: 'auth', id: '' };

/** Anyone may do anything (ZooDefs.Ids.OPEN_ACL_UNSAFE). The default for create. */
export const OPEN_ACL_UNSAFE: readonly ACL[] = [{ perms: Perms.ALL, id: ANYONE_ID }];
/** Only the creator's authenticated ids (ZooDefs.Ids.CREATOR_ALL_ACL). */
export const CREATOR_ALL_ACL: readonly ACL[] = [{ perms: Perms.ALL, id: AUTH_IDS }];
/** Anyone may read (ZooDefs.Ids.READ_ACL_UNSAFE). */
export const READ_ACL_UNSAFE: readonly ACL[] = [{ perms: Perms.READ, id: ANYONE_ID }];

/** "user:base64(sha1(user:password))", the digest scheme's id for a user and password. */
export function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

export function digestAcl(user: string, password: string, perms: number = Perms.ALL): ACL {
  return { perms, id: { scheme: 'digest', id: digestId(user, password) } };
}

const PERM_LETTERS: readonly (readonly [string, number])[] = [
  ['c', Perms.CREATE],
  ['d', Perms.DELETE],
  ['r', Perms.READ],
  ['w', Perms.WRITE],
  ['a', Perms.ADMIN],
];

/** zkCli's permission letters: "cdrwa" <-> bits. */
export function permsToString(perms: number): string {
  return PERM_LETTERS.filter(([, bit]) => (perms & bit) !== 0)
    .map(([letter]) => letter)
    .join('');
}

export function parsePerms(text: string): number {
  let perms = 0;
  for (const ch of text) {
    const row = PERM_LETTERS.find(([letter]) => letter === ch.toLowerCase());
    if (row === undefined) throw new Error(`bad permission letter ${JSON.stringify(ch)} (use c, d, r, w, a)`);
    perms |= row[1];
  }
  return perms;
}

/** zkCli's ACL text: "scheme:id:perms[,scheme:id:perms...]"; the id may contain ':' (digest). */
export function parseAclText(text: string): ACL[] {
  return text.split(',').map((entry) => {
    const first = entry.indexOf(':');
    const last = entry.lastIndexOf(':');
    if (first < 0 || last === first) throw new Error(`bad ACL ${JSON.stringify(entry)}: expected scheme:id:perms`);
    return { id: { scheme: entry.slice(0, first), id: entry.slice(first + 1, last) }, perms: parsePerms(entry.slice(last + 1)) };
  });
}

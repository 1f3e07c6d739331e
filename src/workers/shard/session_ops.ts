// Session-level ops a shard answers itself: auth, setWatches(2), addWatch, removeWatches,
// checkWatches, whoAmI. They run at the head of the session's FIFO like reads.

import { DigestMd5Server, ZOOKEEPER_DIGEST, type DigestMd5Step } from '../../auth/digest_md5_server.js';
import { AddWatchMode } from '../../protocol/constants.js';
import { Err } from '../../protocol/errors.js';
import type { DecodedRequest } from '../../protocol/messages.js';
import { Op } from '../../protocol/opcodes.js';
import { validatePath } from '../../protocol/paths.js';
import type { AddWatchRequest, AuthPacket, ClientInfo, Id, SASLRequest, WatchTypeRequest } from '../../protocol/types.js';
import { utf8Lenient } from '../../protocol/utf8.js';
import { digestId } from '../../tree/acl.js';
import type { Delivery, SetWatchesLists } from '../../watch/watch_table.js';
import { encodeAuthId } from '../auth_frame.js';
import { ShardToCommit } from '../link_kinds.js';
import type { Conn } from './conn.js';
import type { Answer, ShardContext } from './shard_session.js';

const OK: Answer = { err: 0, name: null, body: null };

export function serveSessionOp(
  ctx: ShardContext,
  conn: Conn,
  request: DecodedRequest,
  deliver: (d: Delivery) => void,
): Answer {
  switch (request.header.type) {
    case Op.auth:
      return auth(ctx, conn, request.body as AuthPacket);
    case Op.setWatches:
    case Op.setWatches2: {
      const tree = { statOf: (path: string) => ctx.tree.stat(path) };
      const lists = validPathsOnly(request.body as SetWatchesLists);
      for (const d of ctx.watches.setWatches(conn.id, lists, tree)) deliver(d);
      return OK;
    }
    case Op.addWatch: {
      const req = request.body as AddWatchRequest;
      if (req.mode !== AddWatchMode.PERSISTENT && req.mode !== AddWatchMode.PERSISTENT_RECURSIVE) {
        // AddWatchMode.fromValue fails: ZooKeeper answers MARSHALLINGERROR.
        return { err: Err.MARSHALLINGERROR, name: null, body: null };
      }
      // ZooKeeper does not validate the path here; a path no znode can have simply never fires.
      if (validatePath(req.path) === null) {
        ctx.watches.addWatch(req.path, conn.id, req.mode === AddWatchMode.PERSISTENT ? 'persistent' : 'persistentRecursive');
      }
      return { err: 0, name: 'ErrorResponse', body: { err: 0 } };
    }
    case Op.removeWatches:
    case Op.checkWatches: {
      const req = request.body as WatchTypeRequest;
      const remove = request.header.type === Op.removeWatches;
      const found = remove
        ? ctx.watches.removeWatches(req.path, conn.id, req.type)
        : ctx.watches.checkWatches(req.path, conn.id, req.type);
      return found ? OK : { err: Err.NOWATCHER, name: null, body: null };
    }
    case Op.sasl:
      return sasl(ctx, conn, request.body as SASLRequest);
    case Op.whoAmI:
      return { err: 0, name: 'WhoAmIResponse', body: { clientInfo: conn.auth.map(clientInfo) } };
    default:
      return { err: Err.UNIMPLEMENTED, name: null, body: null };
  }
}

/**
 * ZooKeeperServer.processSasl, measured on Apache ZooKeeper 3.8. Every reply has zxid 0. A null
 * token makes ZooKeeper throw (it reads the token's length first): the connection closes with no
 * reply. Without a SASL configuration (no JAAS file, or no section in it) every token gets OK
 * with a null token and the connection stays open; so a SASL client never completes and its
 * session expires (sasl does not touch it, see ShardSession.admitConnected). With one, the
 * connection's DIGEST-MD5 exchange answers each token: a challenge, then rspauth, with the ids
 * sasl:<user> (and super, for zookeeper.superUser) added on success; a failure is AUTHFAILED and
 * the connection closes.
 */
function sasl(ctx: ShardContext, conn: Conn, request: SASLRequest): Answer {
  if (request.token === null) return SASL_NULL_TOKEN;
  const passwords = ctx.sasl_passwords;
  if (passwords === null) return SASL_NO_PROVIDER;
  conn.sasl ??= new DigestMd5Server({
    ...ZOOKEEPER_DIGEST,
    passwordOf: (user) => passwords.get(user),
    randomBytes: (n) => ctx.randomBytes(n),
  });
  return saslAnswer(ctx, conn, conn.sasl.evaluate(request.token));
}

function saslAnswer(ctx: ShardContext, conn: Conn, step: DigestMd5Step): Answer {
  switch (step.kind) {
    case 'challenge':
      return { err: 0, name: 'SetSASLResponse', body: { token: step.token }, zxid: 0 };
    case 'success':
      addAuth(ctx, conn, { scheme: 'sasl', id: step.authorization_id });
      if (isSaslSuperUser(ctx, step.authorization_id)) addSuper(ctx, conn);
      return { err: 0, name: 'SetSASLResponse', body: { token: step.token }, zxid: 0 };
    case 'failure': {
      // Where SASL is required (zookeeper.enforce.auth with the sasl scheme), ZooKeeper says so.
      const required = ctx.enforced_auth_schemes.includes('sasl');
      console.warn(`waitfree: SASL login from ${conn.remote_ip}:${conn.remote_port} failed (${step.reason}): ${required ? 'SESSIONCLOSEDREQUIRESASLAUTH' : 'AUTHFAILED'}, closing`);
      return required ? SASL_FAILED_REQUIRED : SASL_FAILED;
    }
    case 'abort':
      // Java's NumberFormatException escapes ZooKeeper's handler: closed, no reply.
      console.warn(`waitfree: SASL login from ${conn.remote_ip}:${conn.remote_port} failed (${step.reason}): closing`);
      return SASL_NULL_TOKEN;
  }
}

/** zookeeper.superUser, never matched by an empty id (a JAAS entry `user_="pw"`) when unset. */
function isSaslSuperUser(ctx: ShardContext, authorization_id: string): boolean {
  return authorization_id !== '' && authorization_id === ctx.init.config.sasl_super_user;
}

const SASL_NO_PROVIDER: Answer = { err: 0, name: 'SetSASLResponse', body: { token: null }, zxid: 0 };
const SASL_NULL_TOKEN: Answer = { err: 0, name: null, body: null, close_unanswered: true };
/** With a SetSASLResponse (null token) after the error header, as ZooKeeper: the Java client
 *  reads it as the server's token, fails its exchange and reports AuthFailed; without it, it
 *  takes the short reply for a broken connection and reconnects, again and again. */
const SASL_FAILED: Answer = { err: Err.AUTHFAILED, name: 'SetSASLResponse', body: { token: null }, body_on_error: true, close: true, zxid: 0 };
const SASL_FAILED_REQUIRED: Answer = { ...SASL_FAILED, err: Err.SESSIONCLOSEDREQUIRESASLAUTH };

/** Drops paths no znode can have (only a broken client sends them; they could never fire). */
function validPathsOnly(lists: SetWatchesLists): SetWatchesLists {
  const keep = (paths: string[] | undefined) => paths?.filter((p) => validatePath(p) === null);
  return {
    relativeZxid: lists.relativeZxid,
    dataWatches: keep(lists.dataWatches) ?? [],
    existWatches: keep(lists.existWatches) ?? [],
    childWatches: keep(lists.childWatches) ?? [],
    persistentWatches: keep(lists.persistentWatches),
    persistentRecursiveWatches: keep(lists.persistentRecursiveWatches),
  };
}

/** The auth reply: ZooKeeper sends ReplyHeader.zxid 0 for it, success or failure. */
const AUTH_OK: Answer = { err: 0, name: null, body: null, zxid: 0 };
const AUTH_FAILED: Answer = { err: Err.AUTHFAILED, name: null, body: null, close: true, zxid: 0 };

/**
 * The providers ZooKeeper registers by default: digest (`user:password`, or any text; a digest
 * equal to superDigest also makes the connection the super user) and ip (authenticates as the
 * peer's address). Any other scheme is AUTHFAILED, and ZooKeeper closes the connection after
 * saying so.
 */
function auth(ctx: ShardContext, conn: Conn, packet: AuthPacket): Answer {
  if (packet.scheme === 'ip') {
    addAuth(ctx, conn, { scheme: 'ip', id: conn.remote_ip });
    return AUTH_OK;
  }
  if (packet.scheme !== 'digest') return AUTH_FAILED;
  // Any text is a credential, ':' or not (DigestAuthenticationProvider hashes the whole string
  // and takes the user from before the first ':'): `addauth digest user` is the id
  // user:base64(sha1("user")).
  const id: Id = { scheme: 'digest', id: digestId(utf8Lenient.decode(packet.auth)) };
  addAuth(ctx, conn, id);
  const super_digest = ctx.init.config.super_digest;
  if (super_digest !== null && id.id === super_digest) addSuper(ctx, conn);
  return AUTH_OK;
}

/** The super id: every ACL check passes (ZooKeeperServer.checkACL looks for the scheme). */
function addSuper(ctx: ShardContext, conn: Conn): void {
  conn.is_super = true;
  addAuth(ctx, conn, { scheme: 'super', id: '' });
}

function addAuth(ctx: ShardContext, conn: Conn, id: Id): void {
  if (!conn.addAuthId(id)) return;
  ctx.to_commit.send(ctx.head.begin(ShardToCommit.AUTH_ADD).u32(conn.id), encodeAuthId(id));
}

/** whoAmI's view of an id (AuthUtil.getUser): digest ids show the user name only, as its
 *  provider does; super has no provider, so its user is empty (the x509 super user's id too). */
function clientInfo(id: Id): ClientInfo {
  const user = id.scheme === 'digest' ? id.id.slice(0, id.id.indexOf(':')) : id.scheme === 'super' ? '' : id.id;
  return { authScheme: id.scheme, user };
}

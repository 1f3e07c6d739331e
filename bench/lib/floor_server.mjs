#!/usr/bin/env node
// The latency floor of a ZooKeeper server written in Node on this host (bench/unloaded_latency.mjs,
// system "floor"): one thread, no tree, no hops. It answers the ZooKeeper wire protocol with
// canned bodies: getData with a 1 KiB value, setData after one write + fdatasync of the request
// to a file in --data-dir (what a synced write cannot do without), creates with NODEEXISTS, the
// rest with an empty OK. What a real server adds above it is its own work and its thread hops;
// what is below it (loopback, the event loop's wake-ups, the client) no Node server removes.
//
//   node bench/lib/floor_server.mjs --data-dir DIR   (prints "port N" once listening on 127.0.0.1)
//
// Frames are cut by the length prefix; a malformed stream closes the connection.

import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } } });
if (values['data-dir'] === undefined) throw new Error('--data-dir is required');
const log_fd = openSync(join(values['data-dir'], 'floor.log'), 'w');

const FRAME_BYTES_MAX = 1 << 20;
const STAT = Buffer.alloc(68);
const VALUE = Buffer.alloc(1024, 0x61);
const GET_DATA_BODY = Buffer.concat([int32(VALUE.length), VALUE, STAT]);
const EMPTY = Buffer.alloc(0);
const Op = { create: 1, exists: 3, getData: 4, setData: 5, getChildren: 8, getChildren2: 12, create2: 15 };
const NODEEXISTS = -110;

function int32(v) {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

function reply(xid, err, body) {
  const b = Buffer.alloc(20 + body.length);
  b.writeInt32BE(16 + body.length, 0);
  b.writeInt32BE(xid, 4);
  b.writeBigInt64BE(1n, 8);
  b.writeInt32BE(err, 16);
  body.copy(b, 20);
  return b;
}

function connectResponse() {
  const b = Buffer.alloc(4 + 4 + 4 + 8 + 4 + 16 + 1);
  b.writeInt32BE(b.length - 4, 0);
  b.writeInt32BE(30_000, 8); // timeOut
  b.writeBigInt64BE(0x1234n, 12); // sessionId
  b.writeInt32BE(16, 20); // passwd length
  return b;
}

function answer(frame) {
  const xid = frame.readInt32BE(0);
  const op = frame.readInt32BE(4);
  switch (op) {
    case Op.getData:
      return reply(xid, 0, GET_DATA_BODY);
    case Op.setData:
      writeSync(log_fd, frame);
      fdatasyncSync(log_fd);
      return reply(xid, 0, STAT);
    case Op.exists:
      return reply(xid, 0, STAT);
    case Op.create:
    case Op.create2:
      return reply(xid, NODEEXISTS, EMPTY);
    case Op.getChildren:
      return reply(xid, 0, int32(0));
    case Op.getChildren2:
      return reply(xid, 0, Buffer.concat([int32(0), STAT]));
    default:
      return reply(xid, 0, EMPTY);
  }
}

const sockets = new Set();
const server = net.createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  let pending = EMPTY;
  let session = false;
  socket.on('data', (chunk) => {
    let buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const out = [];
    while (buf.length >= 4) {
      const n = buf.readInt32BE(0);
      if (n < 8 || n > FRAME_BYTES_MAX) {
        socket.destroy();
        return;
      }
      if (buf.length < 4 + n) break;
      const frame = buf.subarray(4, 4 + n);
      buf = buf.subarray(4 + n);
      out.push(session ? answer(frame) : connectResponse());
      session = true;
    }
    pending = buf;
    if (out.length > 0) socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
const stop = () => {
  for (const socket of sockets) socket.destroy();
  server.close(() => {
    closeSync(log_fd);
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

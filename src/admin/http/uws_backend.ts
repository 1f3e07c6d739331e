// The admin server on uWebSockets.js (npm @trufflesuite/uws-js-unofficial, prebuilt for Node
// 16/18/20 on linux/darwin/win, x64 and arm64). The package's own entry point falls back to a
// JS implementation with a multi-line warning; we load the prebuilt binary directly instead, so
// "cannot load" is a clear error the caller turns into one log line and the native-free twin.
//
// uWS pitfall: a thread that ends (worker.terminate, process.exit) while uWS sockets are open
// takes the whole process down. close() closes the listen socket and every connection; the net
// worker calls it in stop(), before the supervisor terminates the thread.

import { createRequire } from 'node:module';
import { STATUS_CODES } from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { answerOrError, type HttpBackend, type HttpHandler } from './backend.js';

/** The part of uWS.js's API this file uses (its own typings live in the optional package). */
interface UwsResponse {
  onAborted(handler: () => void): UwsResponse;
  cork(cb: () => void): UwsResponse;
  writeStatus(status: string): UwsResponse;
  writeHeader(key: string, value: string): UwsResponse;
  end(body?: string): UwsResponse;
}
interface UwsRequest {
  getMethod(): string;
  getUrl(): string;
  getQuery(): string | undefined;
}
type UwsListenSocket = object;
interface UwsApp {
  any(pattern: string, handler: (res: UwsResponse, req: UwsRequest) => void): UwsApp;
  /** `options`: ListenOptions bits (LIBUS_LISTEN_EXCLUSIVE_PORT). */
  listen(host: string, port: number, options: number, cb: (socket: UwsListenSocket | false) => void): UwsApp;
  close?(): void;
}
export interface UwsModule {
  App(): UwsApp;
  us_listen_socket_close(socket: UwsListenSocket): void;
  us_socket_local_port(socket: UwsListenSocket): number;
}

export const UWS_PACKAGE = '@trufflesuite/uws-js-unofficial';

/**
 * uSockets binds with SO_REUSEPORT unless told otherwise, so a second replica started with the
 * same admin port would bind it too and the kernel would spread /metrics scrapes over both,
 * silently. This bit makes the bind exclusive: a port in use is refused, as node:http (the twin)
 * and ZooKeeper's AdminServer refuse it. SO_REUSEADDR stays, so a restart binds at once.
 */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

/** Loads the prebuilt binary for this platform, arch and Node ABI; throws with the reason. */
export function loadUws(): UwsModule {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve(`${UWS_PACKAGE}/package.json`));
  } catch {
    throw new Error(`the optional package ${UWS_PACKAGE} is not installed`);
  }
  const file = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  try {
    return require(join(dir, 'binaries', file)) as UwsModule;
  } catch (e) {
    const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new Error(`${file}: ${reason}`);
  }
}

/**
 * uWS reports a failed listen as `false`, without the reason. Binding the same address with
 * node:net (only after uWS failed, and released at once) says why, in the twin's words
 * (EADDRINUSE, EADDRNOTAVAIL, EACCES).
 */
function bindErrorCode(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve('refused by uWebSockets.js')));
  });
}

function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

export class UwsBackend implements HttpBackend {
  readonly name = 'uWebSockets.js';
  private app: UwsApp | null = null;
  private socket: UwsListenSocket | null = null;

  constructor(private readonly uws: UwsModule) {}

  listen(host: string, port: number, handler: HttpHandler): Promise<number> {
    const app = this.uws.App();
    app.any('/*', (res, req) => this.onRequest(res, req, handler));
    this.app = app;
    return new Promise((resolve, reject) => {
      app.listen(host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
        if (socket === false) {
          void bindErrorCode(host, port).then((code) => reject(new Error(`cannot listen on ${host}:${port} (${code})`)));
          return;
        }
        this.socket = socket;
        resolve(this.uws.us_socket_local_port(socket));
      });
    });
  }

  /** The request object is valid only during this call: read it now, answer later. */
  private onRequest(res: UwsResponse, req: UwsRequest, handler: HttpHandler): void {
    const query = req.getQuery();
    const url = req.getUrl() + (query ? `?${query}` : '');
    let aborted = false;
    res.onAborted(() => (aborted = true));
    // uWS reports methods in lower case; the handler contract is node:http's upper case.
    void answerOrError(handler, req.getMethod().toUpperCase(), url).then((a) => {
      if (aborted) return;
      res.cork(() => res.writeStatus(statusLine(a.status)).writeHeader('Content-Type', a.content_type).end(a.body));
    });
  }

  async close(): Promise<void> {
    if (this.socket !== null) this.uws.us_listen_socket_close(this.socket);
    this.socket = null;
    this.app?.close?.();
    this.app = null;
  }
}

// The admin server's transport: something that listens on (host, port) and hands each HTTP
// request's (method, url) to a handler that answers with (status, content type, body). Two
// implementations: uWebSockets.js (uws_backend.ts, the design card's choice) and its
// native-free twin on node:http (native-free/http_backend.js, plain ESM so it needs no build).

import type { HttpAnswer } from './admin_router.js';

/** `method` in upper case ('GET'); `url` is the request target (path and query, as sent). */
export type HttpHandler = (method: string, url: string) => Promise<HttpAnswer>;

/** Where a started admin server listens, and on which backend. */
export interface AdminListening {
  address: string;
  port: number;
  /** HttpBackend.name: 'uWebSockets.js' or 'node:http'. */
  backend: string;
}

export interface HttpBackend {
  /** 'uWebSockets.js' or 'node:http'. */
  readonly name: string;
  /** Resolves with the bound port (port 0 picks a free one); rejects if it cannot listen. */
  listen(host: string, port: number, handler: HttpHandler): Promise<number>;
  /** Closes the listen socket and every open connection. Required before a uWS thread ends. */
  close(): Promise<void>;
}

/** A handler's failure must not leave the client hanging: it becomes a 500. */
export async function answerOrError(handler: HttpHandler, method: string, url: string): Promise<HttpAnswer> {
  try {
    return await handler(method, url);
  } catch (e) {
    return { status: 500, content_type: 'text/plain; charset=utf-8', body: `internal error: ${e instanceof Error ? e.message : String(e)}\n` };
  }
}

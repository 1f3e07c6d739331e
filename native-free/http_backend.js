// @ts-check
// The admin server's native-free twin: the same HttpBackend contract as
// src/admin/http/uws_backend.ts (uWebSockets.js), on node:http. Chosen when the native module
// cannot load (another Node ABI, musl, another arch) or when asked (waitfree.native=false,
// `waitfree server --native=false`). Routing and answers live in src/admin/http/admin_router.ts,
// shared by both, so the endpoints are the same by construction; this file only moves bytes.
//
// Plain ESM with JSDoc types: dist/ code loads it by URL (native-free/ sits beside dist/), so it
// needs no build step.

import http from 'node:http';

/** @typedef {{ status: number, content_type: string, body: string }} HttpAnswer */
/** @typedef {(method: string, url: string) => Promise<HttpAnswer>} HttpHandler */
/**
 * @typedef {object} HttpBackend
 * @property {string} name
 * @property {(host: string, port: number, handler: HttpHandler) => Promise<number>} listen
 * @property {() => Promise<void>} close
 */

/**
 * @param {HttpHandler} handler
 * @param {string} method
 * @param {string} url
 * @returns {Promise<HttpAnswer>}
 */
async function answerOrError(handler, method, url) {
  try {
    return await handler(method, url);
  } catch (e) {
    return { status: 500, content_type: 'text/plain; charset=utf-8', body: `internal error: ${e instanceof Error ? e.message : String(e)}\n` };
  }
}

/** @returns {HttpBackend} */
export function createHttpBackend() {
  /** @type {http.Server | null} */
  let server = null;
  return {
    name: 'node:http',

    listen(host, port, handler) {
      const s = http.createServer((req, res) => {
        void answerOrError(handler, req.method ?? 'GET', req.url ?? '/').then((a) => {
          if (res.destroyed) return;
          res.writeHead(a.status, { 'Content-Type': a.content_type, 'Content-Length': Buffer.byteLength(a.body) });
          res.end(a.body);
        });
      });
      server = s;
      return new Promise((resolve, reject) => {
        s.once('error', (e) => reject(new Error(`cannot listen on ${host}:${port} (${/** @type {NodeJS.ErrnoException} */ (e).code ?? e.message})`)));
        // exclusive: never share the port (a cluster worker would otherwise share the primary's
        // handle); node:net sets no SO_REUSEPORT, so a port in use fails with EADDRINUSE.
        s.listen({ port, host, exclusive: true }, () => {
          const addr = s.address();
          resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
        });
      });
    },

    close() {
      const s = server;
      server = null;
      if (s === null || !s.listening) return Promise.resolve();
      return new Promise((resolve) => {
        s.close(() => resolve());
        // Keep-alive connections would hold close() open until they time out.
        s.closeAllConnections();
      });
    },
  };
}

// The admin server's two transports, without a replica: uWebSockets.js and native-free/'s
// node:http twin carry the same handler the same way; the native one is replaced by the twin,
// with one log line, when it cannot load.
//
// How these fail: a backend that drops the status or content type, a close() that waits for
// idle keep-alive connections (or leaves uWS sockets open, which crashes the process when the
// thread ends), a handler error that leaves the client hanging, a fallback that logs a stack
// trace or nothing.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpBackend, HttpHandler } from '../../src/admin/http/backend.js';
import { chooseHttpBackend } from '../../src/admin/http/load_backend.js';
import { UWS_PACKAGE } from '../../src/admin/http/uws_backend.js';

const handler: HttpHandler = async (method, url) => {
  if (url.startsWith('/boom')) throw new Error('kaput');
  return { status: url === '/missing' ? 404 : 200, content_type: 'application/json', body: JSON.stringify({ method, url }) };
};

/** One GET over a keep-alive agent (the connection stays open after the answer). */
function get(port: number, path: string, agent: http.Agent): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }));
      })
      .on('error', reject);
  });
}

function uwsBinaryShipped(): boolean {
  try {
    const dir = dirname(createRequire(import.meta.url).resolve(`${UWS_PACKAGE}/package.json`));
    return existsSync(join(dir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`));
  } catch {
    return false;
  }
}

const open: HttpBackend[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.close();
});

describe('choosing the backend', () => {
  it('native=false: node:http, nothing logged', async () => {
    const lines: string[] = [];
    const { backend, fallback_reason } = await chooseHttpBackend(false, (l) => lines.push(l));
    expect(backend.name).toBe('node:http');
    expect(fallback_reason).toBeNull();
    expect(lines).toEqual([]);
  });

  it('a native module that cannot load: node:http and exactly one log line saying why', async () => {
    const lines: string[] = [];
    const { backend, fallback_reason } = await chooseHttpBackend(true, (l) => lines.push(l), () => {
      throw new Error('uws_linux_x64_115.node: Error relocating: symbol not found');
    });
    expect(backend.name).toBe('node:http');
    expect(fallback_reason).toContain('symbol not found');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^waitfree: uWebSockets\.js cannot load \(uws_linux_x64_115\.node: .*symbol not found\); the admin server uses node:http \(native-free\/\)$/);
  });

  it.runIf(uwsBinaryShipped())('native=true where a prebuilt binary exists: uWebSockets.js', async () => {
    const lines: string[] = [];
    const { backend } = await chooseHttpBackend(true, (l) => lines.push(l));
    expect(backend.name).toBe('uWebSockets.js');
    expect(lines).toEqual([]);
  });
});

describe.each([true, false])('backend (native=%s)', (native) => {
  it('answers with the handler status, type and body; a handler error is a 500; close() does not wait for idle keep-alive connections', async () => {
    const { backend } = await chooseHttpBackend(native, () => {});
    open.push(backend);
    const port = await backend.listen('127.0.0.1', 0, handler);
    expect(port).toBeGreaterThan(0);
    const agent = new http.Agent({ keepAlive: true });
    const ok = await get(port, '/commands/x?y=1', agent);
    expect(ok).toEqual({ status: 200, type: 'application/json', body: JSON.stringify({ method: 'GET', url: '/commands/x?y=1' }) });
    expect((await get(port, '/missing', agent)).status).toBe(404);
    const boom = await get(port, '/boom', agent);
    expect(boom.status).toBe(500);
    expect(boom.body).toContain('kaput');
    const closed = backend.close();
    const winner = await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('timeout'), 3000))]);
    expect(winner).toBe('closed');
    agent.destroy();
    await expect(get(port, '/again', new http.Agent())).rejects.toThrow(/ECONNREFUSED|ECONNRESET|socket hang up/);
  });
});

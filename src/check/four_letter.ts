// A four-letter word over a plain TCP connection (srvr, to tell a leader from a follower).

import net from 'node:net';

export function fourLetter(port: number, word: string, timeout_ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`${word} on port ${port}: no answer in ${timeout_ms} ms`));
    }, timeout_ms);
    sock.on('connect', () => sock.write(word));
    sock.on('data', (b) => chunks.push(b));
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

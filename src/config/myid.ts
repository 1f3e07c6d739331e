// `<dataDir>/myid`: which server.N line is this replica. ZooKeeper reads the first line of the
// file as a number; we also trim blanks around it (an editor's trailing space or CRLF is harmless).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config_error.js';
import { SERVER_ID_MAX, SERVER_ID_MIN } from './server_line.js';

/** A myid file is one short line; anything longer is not one (and is not read whole). */
const MYID_FILE_BYTES_MAX = 4096;

export function myidPath(data_dir: string): string {
  return join(data_dir, 'myid');
}

/**
 * The id in `<data_dir>/myid`, or null when the file does not exist. Throws a ConfigError naming
 * the file when it cannot be read or does not hold an id in SERVER_ID_MIN..SERVER_ID_MAX.
 */
export function readMyid(data_dir: string): number | null {
  const path = myidPath(data_dir);
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MYID_FILE_BYTES_MAX) throw new ConfigError(`${path}: ${bytes.length} bytes is not a myid file (one line holding this server's id)`, 'dataDir');
    text = bytes.toString('utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    if (code === 'ENOENT') return null;
    throw new ConfigError(`cannot read ${path}: ${code}`, 'dataDir');
  }
  const first = (text.split(/\r\n|\r|\n/)[0] ?? '').trim();
  const id = /^\d{1,6}$/.test(first) ? Number(first) : Number.NaN;
  if (!(id >= SERVER_ID_MIN && id <= SERVER_ID_MAX)) {
    throw new ConfigError(`${path}: ${JSON.stringify(first)} is not a server id (expected an integer in ${SERVER_ID_MIN}..${SERVER_ID_MAX} on the first line)`, 'dataDir');
  }
  return id;
}

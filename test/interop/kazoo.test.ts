// kazoo (the Python client, Debian's python3-kazoo 2.8 with python3-pure-sasl) against Apache
// ZooKeeper 3.8 and waitfree: small scripts that replay what kazoo's own tests do where waitfree
// used to answer differently (issue 10, items 3, 4 and 5). Each script prints one JSON line;
// both servers must produce the same one.

import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverKindsUnderTest, startServer, type RunningServer } from '../support/servers.js';
import { APACHE_ZK_FILES, missingTools, toolPresenceTest } from '../support/tools.js';

/** Debian's python3 (kazoo is installed for it; other pythons on PATH may lack it). */
const PYTHON = '/usr/bin/python3';
const KAZOO_FILES = [
  PYTHON,
  '/usr/lib/python3/dist-packages/kazoo/client.py',
  '/usr/lib/python3/dist-packages/puresasl/client.py',
] as const;
const SCRIPT_TIMEOUT_MS = 60_000;
/** Session timeouts are clamped into [200, 2000] ms at this tickTime. */
const TICK_TIME_MS = 100;

const kazoo_missing = missingTools(KAZOO_FILES);
const zk_missing = missingTools(APACHE_ZK_FILES, true);
toolPresenceTest('kazoo for /usr/bin/python3 (apt-get install -y python3-kazoo python3-pure-sasl)', kazoo_missing);
toolPresenceTest('Apache ZooKeeper 3.8 (Debian)', zk_missing);

/** Runs a python script with the connect string as argv[1]; returns its last stdout line, parsed. */
function runPython(script: string, connect_string: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, ['-c', script, connect_string], { timeout: SCRIPT_TIMEOUT_MS }, (error, stdout, stderr) => {
      const lines = stdout.trim().split('\n');
      if (error !== null) {
        reject(new Error(`python failed: ${error.message}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr.slice(-4000)}`));
        return;
      }
      try {
        resolve(JSON.parse(lines[lines.length - 1]));
      } catch {
        reject(new Error(`no JSON result line\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr.slice(-4000)}`));
      }
    });
  });
}

const PRELUDE = `
import json, logging, os, sys, time, uuid
logging.basicConfig(level=logging.CRITICAL)
from kazoo.client import KazooClient
hosts = sys.argv[1]
def chrooted():
    root = '/kazoo-' + uuid.uuid4().hex[:12]
    setup = KazooClient(hosts)
    setup.start(timeout=15)
    setup.ensure_path(root)
    setup.stop(); setup.close()
    return hosts + root
`;

// kazoo/tests/test_client.py test_create_makepath_incompatible_acls: kazoo writes its
// CREATOR_ALL_ACL ('auth', '') with the empty id as a null string; waitfree used to close the
// connection on it, so the creating client saw ConnectionLoss instead of the NoAuthError below.
const MAKEPATH_INCOMPATIBLE_ACLS = `${PRELUDE}
from kazoo.exceptions import NoAuthError
from kazoo.security import make_digest_acl_credential, CREATOR_ALL_ACL
url = chrooted()
client = KazooClient(url); client.start(timeout=15)
alt = KazooClient(url, max_retries=5, auth_data=[('digest', make_digest_acl_credential('username', 'password'))])
alt.start(timeout=15)
out = {}
alt.create('/1/2', b'val2', makepath=True, acl=CREATOR_ALL_ACL)
out['acl'] = [(a.perms, a.id.scheme, a.id.id.split(':')[0]) for a in alt.get_acls('/1/2')[0]]
try:
    client.create('/1/2/3/4/5', b'val2', makepath=True)
    out['create'] = 'created'
except NoAuthError:
    out['create'] = 'NoAuthError'
except Exception as e:
    out['create'] = type(e).__name__
alt.delete('/', recursive=True)
alt.stop(); alt.close(); client.stop(); client.close()
print(json.dumps(out))
`;

// kazoo/tests/test_sasl.py against a server without a SASL (JAAS) configuration: ZooKeeper
// answers each SASL packet OK with a null token, kazoo's DIGEST-MD5 loop never completes, and
// since SASL packets do not touch the session it expires after its timeout; kazoo then sees the
// connection drop and fails with AuthFailedError. waitfree used to keep the session alive (the
// client looped forever).
const SASL_WITHOUT_SERVER_CONFIG = `${PRELUDE}
from kazoo.exceptions import AuthFailedError
client = KazooClient(hosts, timeout=2.0, connection_retry={'max_tries': 1},
                     sasl_options={'mechanism': 'DIGEST-MD5', 'username': 'jaasuser', 'password': 'jaas_password'})
# start() returns once the session exists (before SASL); the request waits for the SASL loop
# and fails with the AuthFailedError kazoo raises when the connection drops during SASL.
try:
    client.start(timeout=10)
    client.exists_async('/').get(timeout=15)
    outcome = 'answered'
except AuthFailedError:
    outcome = 'AuthFailedError'
except Exception as e:
    outcome = type(e).__name__
print(json.dumps({'exists': outcome}), flush=True)
# No stop(): while kazoo still loops on SASL (the failure this case catches) it would not return.
os._exit(0)
`;

// go-zookeeper's TestGetSetACL (and zkCli's addauth): a digest credential without ':' is a
// valid identity, user:base64(sha1(credential)).
const DIGEST_WITHOUT_COLON = `${PRELUDE}
from kazoo.security import CREATOR_ALL_ACL
url = chrooted()
client = KazooClient(url); client.start(timeout=15)
client.add_auth('digest', 'user')
client.create('/n', b'', acl=CREATOR_ALL_ACL)
acl = [(a.perms, a.id.scheme, a.id.id) for a in client.get_acls('/n')[0]]
client.delete('/n'); client.stop(); client.close()
print(json.dumps({'acl': acl}))
`;

const CASES: ReadonlyArray<{ name: string; script: string; expected: unknown }> = [
  {
    name: 'test_create_makepath_incompatible_acls: NoAuthError (kazoo sends the auth id as a null string)',
    script: MAKEPATH_INCOMPATIBLE_ACLS,
    expected: { acl: [[31, 'digest', 'username']], create: 'NoAuthError' },
  },
  {
    name: 'SASL DIGEST-MD5 without a server JAAS config: AuthFailedError once the session expires',
    script: SASL_WITHOUT_SERVER_CONFIG,
    expected: { exists: 'AuthFailedError' },
  },
  {
    name: 'add_auth digest "user" (no ":") works and names user:base64(sha1("user"))',
    script: DIGEST_WITHOUT_COLON,
    expected: { acl: [[31, 'digest', 'user:Et6pb+wgWTVmq3VpLJlJWWgzrck=']] },
  },
];

for (const kind of serverKindsUnderTest()) {
  const missing = kind === 'zookeeper' ? [...kazoo_missing, ...zk_missing] : kazoo_missing;
  describe.skipIf(missing.length > 0)(`kazoo on ${kind}`, () => {
    let server: RunningServer;

    beforeAll(async () => {
      server = await startServer(kind, { tickTime_ms: TICK_TIME_MS });
    });

    afterAll(async () => {
      await server?.stop();
    });

    for (const c of CASES) {
      it(c.name, async () => {
        expect(await runPython(c.script, server.connectString)).toEqual(c.expected);
      });
    }
  });
}

# reconfig requests from kazoo, one per line of output: "<case> <outcome>", where the outcome is
# OK (with what the new config says about the observers it added) or the exception's class name.
# Run against ZooKeeper and waitfree by test/interop/reconfig_differential.test.ts; the two
# outputs must be equal. argv: hosts, the quorum port of server.1 (an address another member has).
import sys
from kazoo.client import KazooClient

hosts, taken_port = sys.argv[1], sys.argv[2]
user = KazooClient(hosts=hosts)
user.start()
admin = KazooClient(hosts=hosts, auth_data=[('digest', 'super:test')])
admin.start()
data, stat = user.get('/zookeeper/config')
lines = data.decode().split('\n')
version = int(lines[-1].split('=')[1], 16)
server1 = [l for l in lines if l.startswith('server.1=')][0]
print('config-stat-version', stat.version)
OBSERVER = 'server.100=0.0.0.0:1234:2345:observer;0.0.0.0:3456'
cases = [
    ('user-joins-observer', user, dict(joining=OBSERVER)),
    ('user-bad-input', user, dict(joining='some thing')),
    ('user-stale-version', user, dict(joining=OBSERVER, from_config=version + 5)),
    ('admin-no-client-port', admin, dict(joining='server.101=127.0.0.1:1235:2346:observer')),
    ('admin-leaving-not-a-number', admin, dict(leaving='abc')),
    ('admin-joining-sid-not-a-number', admin, dict(joining='server.x=127.0.0.1:1235:2346:observer;3457')),
    ('admin-address-taken', admin, dict(joining='server.102=127.0.0.1:%s:2347:observer;3458' % taken_port)),
    ('admin-one-voter', admin, dict(new_members=server1)),
    ('admin-members-garbage', admin, dict(new_members='flavour=vanilla')),
    ('admin-leaving-unknown', admin, dict(leaving='77')),
    ('admin-joins-observer', admin, dict(joining=OBSERVER)),
    ('admin-leaves-observer', admin, dict(leaving='100')),
    ('admin-leaves-102', admin, dict(leaving='102')),
]
for name, client, change in cases:
    change.setdefault('joining', None)
    change.setdefault('leaving', None)
    change.setdefault('new_members', None)
    try:
        data, stat = client.reconfig(**change)
        new = data.decode().split('\n')
        observers = sorted(l.split('=')[0] for l in new if ':observer' in l)
        print(name, 'OK', ','.join(observers), 'stat.version', stat.version, 'version-is-mzxid', new[-1] == 'version=%x' % stat.mzxid)
    except Exception as e:
        print(name, type(e).__name__)
user.stop()
admin.stop()

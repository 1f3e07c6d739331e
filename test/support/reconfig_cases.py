# reconfig requests from kazoo, one per line of output: "<case> <outcome>", where the outcome is
# OK (with what the new config says about the observers it added) or the exception's class name.
# Run against ZooKeeper and waitfree by test/interop/reconfig_differential.test.ts; the two
# outputs must be equal. argv: hosts (server 1, 2, 3 in order), the quorum port of server.1 (an
# address another member has), the id of a follower (the voter cases move it; the clients do not
# connect to it, so that its leaving does not drop their connection).
import sys
from kazoo.client import KazooClient

hosts, taken_port, follower = sys.argv[1], sys.argv[2], int(sys.argv[3])
hosts = ','.join(h for i, h in enumerate(hosts.split(',')) if i + 1 != follower)
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
follower_line = [l for l in lines if l.startswith('server.%d=' % follower)][0]
STRANGERS = 'server.7=127.0.0.1:1:2:participant;127.0.0.1:3,server.8=127.0.0.1:4:5:participant;127.0.0.1:6'
voter_cases = [
    ('admin-voters-none-synced', admin, dict(new_members=STRANGERS)),
    ('admin-follower-leaves', admin, dict(leaving=str(follower))),
    ('admin-follower-back', admin, dict(joining=follower_line)),
    ('admin-follower-to-observer', admin, dict(joining=follower_line.replace(':participant;', ':observer;'))),
    ('admin-observer-to-voter', admin, dict(joining=follower_line)),
]
def servers(new, role):
    return ','.join(sorted(l.split('=')[0] for l in new if ':%s' % role in l))


def run(cases, describe):
    for name, client, change in cases:
        change.setdefault('joining', None)
        change.setdefault('leaving', None)
        change.setdefault('new_members', None)
        try:
            data, stat = client.reconfig(**change)
            print(name, 'OK', describe(data.decode().split('\n'), stat))
        except Exception as e:
            print(name, type(e).__name__)


run(cases, lambda new, stat: '%s stat.version %d version-is-mzxid %s' % (servers(new, 'observer'), stat.version, new[-1] == 'version=%x' % stat.mzxid))
run(voter_cases, lambda new, stat: 'voters %s observers %s' % (servers(new, 'participant'), servers(new, 'observer')))
user.stop()
admin.stop()

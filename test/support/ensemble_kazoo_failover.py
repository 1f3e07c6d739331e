# kazoo (python3-kazoo) across a leader kill, driven by test/support/ensemble_kazoo.ts.
# argv[1] = connect string (every member). Protocol on stdout: one JSON line per phase.
#   1. {"phase": "locked", ...}  a kazoo Lock is held; the driver then kills the leader, waits
#      for the survivors to elect another one and writes one line on stdin;
#   2. {"phase": "done", ...}    what held across the failover and what works after it.
# Every wait is bounded (WAIT_S); on any failure the script prints {"phase": "error", ...}.

import json
import logging
import sys
import time
import traceback

logging.basicConfig(level=logging.CRITICAL)

from kazoo.client import KazooClient  # noqa: E402

WAIT_S = 30.0
SESSION_S = 10.0
LOCK = '/kz-lock'
# Reconnect promptly: at most 1 s between attempts, no limit on attempts (the session bounds it).
RETRY = {'max_tries': -1, 'delay': 0.1, 'backoff': 1.5, 'max_delay': 1.0}


def emit(obj):
    print(json.dumps(obj), flush=True)


def wait_until(what, pred):
    deadline = time.monotonic() + WAIT_S
    while not pred():
        if time.monotonic() >= deadline:
            raise RuntimeError('%s: not within %.0f s' % (what, WAIT_S))
        time.sleep(0.05)


def client(hosts):
    c = KazooClient(hosts=hosts, timeout=SESSION_S, connection_retry=RETRY, command_retry=RETRY)
    c.start(timeout=WAIT_S)
    return c


def session_hex(c):
    return '%x' % c.client_id[0]


def main(hosts):
    holder = client(hosts)
    states = []
    holder.add_listener(lambda s: states.append(str(s)))
    session = session_hex(holder)
    lock = holder.Lock(LOCK, 'holder')
    if not lock.acquire(timeout=WAIT_S):
        raise RuntimeError('lock not acquired on a healthy ensemble')
    node = '%s/%s' % (LOCK, lock.node)
    emit({'phase': 'locked', 'session': session, 'node': node,
          'owner': '%x' % holder.exists(node).ephemeralOwner,
          'children': sorted(holder.get_children(LOCK))})

    if sys.stdin.readline().strip() != 'leader-killed':
        raise RuntimeError('driver did not say leader-killed')
    # Every member drops its clients while it elects: kazoo suspends, then reconnects.
    wait_until('SUSPENDED after the leader kill', lambda: 'SUSPENDED' in states)
    wait_until('CONNECTED again', lambda: holder.connected and states[-1] == 'CONNECTED')

    is_acquired = lock.is_acquired
    owner = holder.exists(node)
    children = sorted(holder.get_children(LOCK))
    contender = client(hosts)
    other_lock = contender.Lock(LOCK, 'contender')
    other_got_it = other_lock.acquire(blocking=False)

    # Recipes after the failover: a Counter and an Election with two candidates.
    counter = holder.Counter('/kz-counter')
    counter += 1
    counter += 5
    elected = []
    holder.Election('/kz-election', 'holder').run(lambda: elected.append('holder'))
    contender.Election('/kz-election', 'contender').run(lambda: elected.append('contender'))

    lock.release()
    after_release = other_lock.acquire(timeout=WAIT_S)
    other_lock.release()

    out = {'phase': 'done', 'session': session_hex(holder), 'is_acquired_after_failover': is_acquired,
           'node_owner': None if owner is None else '%x' % owner.ephemeralOwner,
           'children': children, 'contender_got_lock_while_held': other_got_it,
           'contender_got_lock_after_release': after_release,
           'counter': counter.value, 'elected': elected, 'states': states}
    emit(out)
    contender.stop()
    contender.close()
    holder.stop()
    holder.close()


if __name__ == '__main__':
    try:
        main(sys.argv[1])
    except Exception as e:  # noqa: BLE001 -- reported to the driver, which fails the test
        emit({'phase': 'error', 'error': '%s: %s' % (type(e).__name__, e), 'trace': traceback.format_exc()})
        sys.exit(1)

#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: cluster faults.

Cluster faults through the sidecar, on a cluster of its own: a node killed and revived
under a write load (no acknowledged write lost, none applied twice), a revived node
serving again at once, leader failovers and their write latency, every node dead
(timely errors, recovery).

Usage: python3 tests/e2e/test_cluster.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import re
import sys
import threading
import time

import redis

from harness import (E, Fail, RUN, check, eq, hang_nodes, key, kill_node, revive_node, test,
                     wait_for, main)


@test
def fault_kill_and_revive_node():
    dn, sc, _ = E.fault_cluster()
    ok, failed, stop_flag = {}, [], threading.Event()
    counts = {}

    def writer(t):
        c = sc.client()
        i = 0
        while not stop_flag.is_set():
            k = key("fault", "t%d-%d" % (t, i))
            v = "%s-%d-%d" % (RUN, t, i)
            try:
                if c.set(k, v) is True:
                    ok[k] = v
            except redis.RedisError as e:
                failed.append(str(e))
            i += 1

    ths = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(4)]
    for th in ths:
        th.start()
    try:
        time.sleep(0.8)
        counts["before"] = len(ok)
        dn.control("kill 1")
        time.sleep(2.0)
        counts["killed"] = len(ok)
        dn.control("revive 1")
        time.sleep(1.2)
    finally:
        stop_flag.set()
        for th in ths:
            th.join(25)
    check(not any(th.is_alive() for th in ths), "the writers to stop", "a writer hangs")
    counts["after"] = len(ok)
    if E.verbose:
        print("  acknowledged writes: %r, failed %d" % (counts, len(failed)))
    check(counts["before"] > 20 and len(ok) > counts["killed"] > counts["before"],
          "writes to succeed before, during and after the outage", counts)
    c = sc.client()
    keys = list(ok)
    bad = []
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        for k, v in zip(chunk, c.mget(chunk)):
            if v is None or v.decode() != ok[k]:
                bad.append((k, ok[k], v))
    check(not bad, "all %d acknowledged writes to read back (%d failed writes)" %
          (len(ok), len(failed)), bad[:5])
    st = dn.stats()
    eq(st["duplicate_applies"], 0, "devnode duplicate_applies (writes applied twice)")
    check(st["puts_applied"] >= len(ok), "puts_applied >= acknowledged writes",
          (st["puts_applied"], len(ok)))


@test
def fault_revived_node_serves_again():
    # Node 1 dies under load (the sidecar marks it down) and comes back; then shards are
    # moved to it, as a Raft leadership transfer does. The sidecar knows the new leaders
    # from the cluster view and the node answers: each write must go through at once
    # (within 2 s), not wait out the down-node probe pause while other nodes answer
    # NOT_LEADER until the deadline.
    dn, sc, _ = E.fault_cluster()
    c = sc.client()
    feeders, targets = [], []
    for i in range(400):
        k = key("revived", "%d" % i)
        shard = c.execute_command("NORI.SHARD", k)[0]
        if shard in [s for _, s in feeders + targets]:
            continue
        (feeders if len(feeders) < 8 else targets).append((k, shard))
        if len(targets) == 3:
            break
    for k, shard in feeders:
        dn.control("move %d 1" % shard)
    for k, shard in targets:
        dn.control("move %d 3" % shard)
    wait_for(lambda: all(c.set(k, "warm") for k, _ in feeders + targets), 10, "warm-up writes")
    stop_flag = threading.Event()

    def writer(t):
        w = sc.client(socket_timeout=10)
        n = 0
        while not stop_flag.is_set():
            try:
                w.set(feeders[(t + n) % len(feeders)][0], "w%d-%d" % (t, n))
            except redis.RedisError:
                pass
            n += 1

    ths = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(4)]
    took = []
    dead = False
    try:
        dn.control("kill 1")
        dead = True
        for th in ths:
            th.start()
        time.sleep(2.5)
        dn.control("revive 1")
        dead = False
        time.sleep(0.5)
        stop_flag.set()
        for th in ths:
            th.join(15)
        if E.verbose:
            print("  before the moves: " + _diag(sc))
        for k, shard in targets:
            dn.control("move %d 1" % shard)
        for k, shard in targets:
            t0 = time.monotonic()
            try:
                c.set(k, "after")
                took.append(round(time.monotonic() - t0, 3))
            except redis.ResponseError as e:
                raise Fail("SET to shard %d (moved to the revived node 1) to succeed; got %r "
                           "after %.2f s; sidecar %s" % (shard, str(e), time.monotonic() - t0,
                                                         _diag(sc)))
    finally:
        stop_flag.set()
        if dead:
            dn.control("revive 1")
    check(max(took) < 2.0, "each SET to a shard moved to the revived node within 2 s",
          "%s s; sidecar %s" % (took, _diag(sc)))


@test
def fault_failover_write_latency():
    # After a shard's leader dies, the devnode elects a new one within --election-ms
    # (300 ms) and pushes the new view; with the retry backoff (100, 200, 400 ms, each
    # + <= 100 ms jitter) a write to that shard completes in about 1 s. Six failovers in a
    # row (the victim revived after each, as a restarted node): each write within 2 s.
    dn, sc, _ = E.fault_cluster()
    c = sc.client()
    n = 0
    for rnd, victim in enumerate((2, 3, 1, 2, 3, 1)):
        keys = []
        while len(keys) < 3 and n < 3000:
            k = key("failover", "%d" % n)
            n += 1
            if int(dn.control("leader %d" % c.execute_command("NORI.SHARD", k)[0])) == victim:
                keys.append(k)
        if len(keys) < 3:  # node `victim` leads no shard now (revived): give it some
            keys = [key("failover", "m%d-%d" % (rnd, j)) for j in range(3)]
            for k in keys:
                dn.control("move %d %d" % (c.execute_command("NORI.SHARD", k)[0], victim))
        for k in keys:
            wait_for(lambda: c.set(k, "before") is True, 10, "SET before failover %d" % (rnd + 1))
        took = []
        dn.control("kill %d" % victim)
        try:
            for k in keys:
                t0 = time.monotonic()
                try:
                    c.set(k, "after-%d" % rnd)
                except redis.ResponseError as e:
                    shard = c.execute_command("NORI.SHARD", k)
                    raise Fail("failover %d (node %d killed): SET to succeed; got %r after %.2f s; "
                               "shard %s led by node %s, by %r for the sidecar; sidecar %s" % (
                                   rnd + 1, victim, str(e), time.monotonic() - t0, shard[0],
                                   dn.control("leader %d" % shard[0]), shard[1], _diag(sc)))
                took.append(round(time.monotonic() - t0, 3))
        finally:
            dn.control("revive %d" % victim)
        check(max(took) < 2.0, "failover %d (node %d killed): each SET to its shards within 2 s"
              % (rnd + 1, victim), "%s s; sidecar %s" % (took, _diag(sc)))
        time.sleep(0.5)


def _diag(sc):
    """The sidecar's view of the cluster, for failure messages."""
    text = sc.info("pool") + sc.info("topology")
    return "; ".join(l for l in text.replace("\r", "").split("\n") if l and l[0] != "#")


def served(call):
    """call()'s result, or False on an error reply: for set-up and recovery on the 1 s
    sidecar, whose channels to nodes earlier tests killed and revived may be stale and whose
    leaders it has yet to find (no hints, views per node), retried as a client would."""
    try:
        return call()
    except redis.ResponseError:
        return False


def fails_in_time(call, what, bound):
    """call() must answer an UNAVAILABLE or TIMEOUT error within bound seconds."""
    t0 = time.monotonic()
    try:
        got = call()
        raise Fail("%s to fail; it returned %r" % (what, got))
    except redis.ResponseError as e:
        check(re.match(r"(UNAVAILABLE|TIMEOUT) ", str(e)), "an UNAVAILABLE or TIMEOUT error",
              str(e))
    took = time.monotonic() - t0
    check(took < bound, "the error of %s within %.1f s" % (what, bound), "%.2f s" % took)


@test
def fault_all_nodes_dead():
    dn, _, sc = E.fault_cluster()  # the sidecar with cluster.timeout_ms=1000
    c = sc.client()
    k = key("dead")
    wait_for(lambda: served(lambda: c.set(k, "before") is True), 10, "SET before the outage")
    nodes = range(1, len(dn.addrs) + 1)
    try:
        for n in nodes:
            kill_node(dn, n)  # the real server's processes: SIGKILL
        # within timeout_ms 1000 plus 1.5 s slack
        fails_in_time(lambda: c.set(k, "during"), "SET with every node dead", 2.5)
        fails_in_time(lambda: c.get(k), "GET with every node dead", 2.5)
        eq(c.ping(), True, "PING while the cluster is down")
    finally:
        for n in nodes:
            revive_node(dn, n)  # the real server: again on its data directory
    wait_for(lambda: served(lambda: c.set(k, "after") is True), 15,
             "SET to work again after every node came back")
    # the revived nodes may still be settling who leads (elections of shards whose every
    # node was down): a read that times out within the 1 s deadline is retried
    wait_for(lambda: served(lambda: c.get(k) == b"after"), 15,
             "GET after recovery to read the value written after it")


@test
def fault_all_nodes_hang():
    # Every node stops answering without closing anything (the real server's processes get
    # SIGSTOP: the kernel still accepts connections, nothing answers; the devnode holds
    # every call): a command answers TIMEOUT within its deadline, other clients' PING goes
    # on, and once the nodes answer again (SIGCONT) the value written before is read back.
    dn, _, sc = E.fault_cluster()  # the sidecar with cluster.timeout_ms=1000
    c = sc.client()
    k = key("hang")
    wait_for(lambda: served(lambda: c.set(k, "before") is True), 10,
             "SET before the nodes hang")
    hang_nodes(dn, True)
    try:
        fails_in_time(lambda: c.get(k), "GET with every node hanging", 2.5)
        eq(c.ping(), True, "PING while the nodes hang")
    finally:
        hang_nodes(dn, False)
    wait_for(lambda: served(lambda: c.get(k) == b"before"), 15,
             "GET to read the value written before, once the nodes answer again")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

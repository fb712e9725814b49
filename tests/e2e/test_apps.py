#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: everyday app patterns through redis-py, on a sidecar
that stores strings in the typed format (README "Types and TTLs"): a session store with a
sliding TTL, a hash-backed object store, a leaderboard on a sorted set, a work queue on a
list, and the tutorial rate limiter. tests/e2e/apps-ioredis.js and apps-node-redis.js do
the same through the Node.js clients.

Usage: python3 tests/e2e/test_apps.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import sys
import threading
import time

from harness import E, Sidecar, check, eq, key, test, main

_typed = []


def client():
    if not _typed:
        _typed.append(Sidecar("apps-sidecar", E.dn, "--sidecar.string_format=typed"))
    return _typed[0].client(decode_responses=True)


@test
def apps_session_store():
    r, k = client(), key("apps_session")
    eq(r.set(k, '{"user": 42}', ex=60), True, "SET EX 60")
    check(55 < r.ttl(k) <= 60, "a 60 s session's TTL", r.ttl(k))
    eq(r.pexpire(k, 700), True, "sliding the expiry")
    eq(r.set(k, '{"user": 42, "seen": 1}', keepttl=True), True, "SET KEEPTTL")
    check(0 < r.pttl(k) <= 700, "the TTL kept", r.pttl(k))
    time.sleep(0.9)
    eq(r.get(k), None, "the session expired")


@test
def apps_object_store():
    r, k = client(), key("apps_object")
    eq(r.hset(k, mapping={"name": "Ada", "email": "ada@example.org", "visits": 0}), 3, "HSET")
    eq(r.hincrby(k, "visits", 3), 3, "HINCRBY")
    eq(r.hgetall(k), {"name": "Ada", "email": "ada@example.org", "visits": "3"}, "HGETALL")
    eq(r.hdel(k, "email"), 1, "HDEL")
    eq(sorted(r.hkeys(k)), ["name", "visits"], "HKEYS")
    eq(r.type(k), "hash", "TYPE")
    with r.pipeline(transaction=True) as p:  # MULTI/EXEC on one key
        p.hset(k, "name", "Grace")
        p.hincrby(k, "visits", 1)
        p.expire(k, 100)
        eq(p.execute(), [0, 4, True], "MULTI HSET HINCRBY EXPIRE EXEC")
    check(95 < r.ttl(k) <= 100, "the object's TTL", r.ttl(k))


@test
def apps_leaderboard():
    r, k = client(), key("apps_board")
    eq(r.zadd(k, {"ann": 10, "bob": 25, "cid": 17}), 3, "ZADD")
    eq(r.zincrby(k, 20, "ann"), 30.0, "ZINCRBY")
    eq(r.zrevrange(k, 0, 1, withscores=True), [("ann", 30.0), ("bob", 25.0)], "the top two")
    eq(r.zrevrank(k, "cid"), 2, "ZREVRANK")
    eq(r.zrangebyscore(k, 15, 26), ["cid", "bob"], "ZRANGEBYSCORE 15 26")

    def play(i):
        c = client()
        for _ in range(25):
            c.zincrby(k, 1, "p%d" % i)
    threads = [threading.Thread(target=play, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    eq([r.zscore(k, "p%d" % i) for i in range(4)], [25.0] * 4,
       "every player's 25 increments from 4 clients at once")


@test
def apps_work_queue():
    k, got, lock = key("apps_queue"), [], threading.Lock()
    producer = client()
    for j in range(100):
        producer.rpush(k, "job-%d" % j)
    eq(producer.llen(k), 100, "LLEN after 100 RPUSH")

    def consume():
        c = client()
        while True:
            item = c.lpop(k)
            if item is None:
                return
            with lock:
                got.append(item)
    threads = [threading.Thread(target=consume) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    eq(sorted(got), sorted("job-%d" % j for j in range(100)),
       "every job consumed exactly once by 3 consumers")
    eq(producer.exists(k), 0, "the drained queue is gone")


@test
def apps_rate_limiter():
    # INCR, and EXPIRE on the first hit: the window's TTL survives the later INCRs
    r, k = client(), key("apps_limiter")
    hits = []
    for _ in range(5):
        n = r.incr(k)
        if n == 1:
            r.pexpire(k, 600)
        hits.append(n)
    eq(hits, [1, 2, 3, 4, 5], "five hits in one window")
    time.sleep(0.8)
    eq(r.incr(k), 1, "the next window starts again at 1")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

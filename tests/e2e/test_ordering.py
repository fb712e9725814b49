#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: [sidecar] ordering, connection and key.

By connection (the default), a write pipelined after a write held by a slow node does not
take effect before it, as another connection sees; by key it does, and its reply still
comes second. By key, a long pipeline of SETs and GETs over a few keys, with the cluster
failing a share of calls (retried by the sidecar, so each call's time varies), has every
GET answer the SET before it on its key; state changes and transactions keep their place.

Usage: python3 tests/e2e/test_ordering.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import random
import sys

from harness import E, Sidecar, check, eq, key, stop, test, writes_overlap, main


@test
def ordering_connection_keeps_writes_in_order():
    eq(E.sc.client().config_get("sidecar.ordering"), {"sidecar.ordering": "connection"},
       "CONFIG GET sidecar.ordering by default")
    check(not writes_overlap(E.dn, E.sc.sock, "by-connection"),
          "by connection: the second SET unseen while the first is held", "it was seen")


@test
def ordering_key_overlaps_writes_to_other_keys():
    s = Sidecar("by-key-sidecar", E.dn, "--sidecar.ordering=key")
    try:
        eq(s.client().config_get("sidecar.ordering"), {"sidecar.ordering": "key"},
           "CONFIG GET sidecar.ordering")
        check(writes_overlap(E.dn, s.sock, "by-key"),
              "by key: the second SET seen while the first is held", "it was not")
    finally:
        stop(s.proc)


@test
def ordering_key_per_key_order_in_pipelines():
    s = Sidecar("per-key-sidecar", E.dn, "--sidecar.ordering=key",
                "--retry.initial_delay_ms=2", "--retry.max_delay_ms=20", "--retry.jitter_ms=5",
                "--retry.max_attempts=30")
    rng = random.Random(12)
    keys = [key("per-key", "%d" % i) for i in range(6)]
    try:
        c = s.client()
        c.delete(*keys)
        E.dn.control("fail 0 0.2 UNAVAILABLE")
        value = {}
        for rnd in range(3):
            p = c.pipeline(transaction=False)
            want = []
            for i in range(300):
                k = rng.choice(keys)
                if rng.random() < 0.5:
                    value[k] = "r%d-%d" % (rnd, i)
                    p.set(k, value[k])
                    want.append(True)
                elif rng.random() < 0.1:
                    p.client_setname("round-%d-%d" % (rnd, i))  # a state change between
                    want.append(True)
                else:
                    p.get(k)
                    want.append(value[k].encode() if k in value else None)
            got = p.execute()
            for i, (g, w) in enumerate(zip(got, want)):
                if g != w:
                    check(False, "round %d, command %d: the reply the commands before it on "
                          "its key imply" % (rnd, i), "%r instead of %r" % (g, w))
            eq(len(got), len(want), "replies in round %d" % rnd)
    finally:
        E.dn.control("clear")
        stop(s.proc)


if __name__ == "__main__":
    rc = main(sys.argv[1:])
    sys.exit(rc)

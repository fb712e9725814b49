#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: the NoriKV commands and norikv-cli.

The NoriKV commands through redis-cli: NORI.PUT (IFMATCH, TTL, IDEMPOTENCY), NORI.GET and
its consistency levels, NORI.DEL, NORI.SHARD and NORI.TOPOLOGY against the devnode's own
answers, NORI.STATS, NORI.CONSISTENCY; and norikv-cli reading and writing the same keys
as the sidecar.

Usage: python3 tests/e2e/test_nori.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import re
import sys

from harness import (CLI, E, RUN, check, cli_ok, eq, key, run, test, main)


@test
def cli_nori_put_get_del():
    k = key("nori_put_get")
    r = E.sc.cli("NORI.PUT", k, "v1")
    m = re.fullmatch(r"(\d+)\n(\d+)\n", r.out)
    check(r.rc == 0 and m, "NORI.PUT to print the version as two integers", r)
    term, index = int(m.group(1)), int(m.group(2))
    cli_ok(E.sc.cli("NORI.GET", k), "v1\n%d\n%d\n" % (term, index), "NORI.GET after NORI.PUT")
    cli_ok(E.sc.cli("NORI.GET", k, "CONSISTENCY", "STALE_OK"), "v1\n%d\n%d\n" % (term, index),
           "NORI.GET CONSISTENCY STALE_OK")
    cli_ok(E.sc.cli("NORI.GET", k, "CONSISTENCY", "linearizable"),
           "v1\n%d\n%d\n" % (term, index), "NORI.GET CONSISTENCY linearizable")
    r = E.sc.cli("NORI.PUT", k, "v2", "IFMATCH", term, index)
    m = re.fullmatch(r"(\d+)\n(\d+)\n", r.out)
    check(r.rc == 0 and m and int(m.group(2)) > index,
          "NORI.PUT IFMATCH <current version> to print a newer version", r)
    cli_ok(E.sc.cli("NORI.GET", k), "v2\n%s\n%s\n" % (m.group(1), m.group(2)),
           "NORI.GET after the IFMATCH put")
    cli_ok(E.sc.cli("NORI.DEL", k), "1\n", "NORI.DEL")
    cli_ok(E.sc.cli("NORI.GET", k, opts=["--no-raw"]), "(nil)\n", "NORI.GET after NORI.DEL")
    cli_ok(E.sc.cli("NORI.GET", k, "CONSISTENCY", "strong"),
           "ERR unknown consistency level 'strong': expected lease, linearizable or stale_ok\n\n",
           "NORI.GET with an unknown level")
    r = E.sc.cli("NORI.PUT", k, "ttl", "TTL", "60000", "IDEMPOTENCY", "e2e-" + RUN)
    check(r.rc == 0 and re.fullmatch(r"\d+\n\d+\n", r.out), "NORI.PUT TTL IDEMPOTENCY to work", r)
    again = E.sc.cli("NORI.PUT", k, "other", "IDEMPOTENCY", "e2e-" + RUN)
    eq(again.out, r.out, "NORI.PUT replayed with the same idempotency key: the first version")
    cli_ok(E.sc.cli("GET", k), "ttl\n", "GET after the replayed NORI.PUT")


@test
def cli_nori_put_ifmatch_mismatch():
    k = key("nori_ifmatch")
    r1 = E.sc.cli("NORI.PUT", k, "a").out.split()
    r2 = E.sc.cli("NORI.PUT", k, "b", "IFMATCH", r1[0], r1[1]).out.split()
    check(len(r1) == 2 and len(r2) == 2, "two versions", (r1, r2))
    res = E.sc.cli("NORI.PUT", k, "c", "IFMATCH", r1[0], r1[1])
    cli_ok(res, "VERSIONMISMATCH expected %s:%s, current %s:%s\n\n" % (r1[0], r1[1], r2[0], r2[1]),
           "NORI.PUT IFMATCH <stale version>")
    cli_ok(E.sc.cli("GET", k), "b\n", "GET after the refused CAS")


@test
def cli_nori_put_ifmatch_missing():
    k = key("nori_ifmatch_missing")
    cli_ok(E.sc.cli("NORI.PUT", k, "v", "IFMATCH", "0", "5"),
           "VERSIONMISMATCH expected 0:5, key does not exist\n\n",
           "NORI.PUT IFMATCH on a missing key")
    cli_ok(E.sc.cli("EXISTS", k), "0\n", "EXISTS after the refused CAS")


@test
def cli_nori_shard():
    # the leader of any shard is known from the cluster view (the friendly profile's); the
    # real server's per-node views name only the watched node's own shards
    dn, sc = E.cluster("cluster-view", "--view", "cluster")
    k = key("nori_shard")
    r = sc.cli("NORI.SHARD", k)
    m = re.fullmatch(r"(\d+)\n(127\.0\.0\.1:\d+)\n", r.out)
    check(r.rc == 0 and m, "NORI.SHARD to print a shard and a node address", r)
    shard, addr = int(m.group(1)), m.group(2)
    check(0 <= shard < 1024, "a shard in [0, 1024)", shard)
    node = int(dn.control("leader %d" % shard))
    eq(addr, dn.addrs[node - 1],
       "NORI.SHARD's leader vs the devnode's leader of shard %d" % shard)
    cli_ok(sc.cli("NORI.SHARD", k), r.out, "NORI.SHARD again (stable)")


@test
def cli_nori_topology():
    # every shard with its leader: the cluster view (the friendly profile's)
    dn, sc = E.cluster("cluster-view", "--view", "cluster")
    r = sc.cli("NORI.TOPOLOGY")
    lines = r.out.split("\n")
    check(r.rc == 0 and lines[:1] == ["epoch"] and lines[1].isdigit(),
          "NORI.TOPOLOGY to start with epoch <n>", r)
    eq(lines[2:4], ["total_shards", "1024"], "NORI.TOPOLOGY total_shards")
    eq(lines[4], "nodes", "NORI.TOPOLOGY's third field")
    nodes = lines[5:5 + 18]
    for i, addr in enumerate(dn.addrs):
        check(addr in nodes, "node %s in NORI.TOPOLOGY's nodes" % addr, nodes)
    eq(lines[23], "shards", "the field after the three nodes")
    shards = lines[24:24 + 2048]
    eq([int(s) for s in shards[0::2]], list(range(1024)), "shard ids 0..1023 in order")
    check(all(a in dn.addrs for a in shards[1::2]), "every shard led by one of the nodes",
          sorted(set(shards[1::2]))[:5])
    leader7 = int(dn.control("leader 7"))
    eq(shards[2 * 7 + 1], dn.addrs[leader7 - 1], "shard 7's leader vs the devnode's")


@test
def cli_nori_stats():
    r = E.sc.cli("NORI.STATS")
    lines = r.out.split("\n")
    check(r.rc == 0, "exit 0", r)
    for sec in ("pool", "router", "topology", "retries"):
        check(sec in lines, "section %s in NORI.STATS" % sec, r.out)
    fields = dict(zip(lines[lines.index("router") + 1::2], lines[lines.index("router") + 2::2]))
    eq(fields.get("total_shards"), "1024", "router total_shards")
    eq(fields.get("total_nodes"), str(len(E.dn.addrs)), "router total_nodes")
    check("operations" in lines and "not_leader" in lines, "retries operations and not_leader",
          r.out)


@test
def cli_nori_consistency():
    cli_ok(E.sc.cli("NORI.CONSISTENCY"), "lease\n", "NORI.CONSISTENCY on a new connection")
    cli_ok(E.sc.cli("NORI.CONSISTENCY", "stale_ok"), "OK\n", "NORI.CONSISTENCY stale_ok")
    cli_ok(E.sc.cli("NORI.CONSISTENCY", "LINEARIZABLE"), "OK\n", "NORI.CONSISTENCY LINEARIZABLE")
    cli_ok(E.sc.cli("NORI.CONSISTENCY", "bogus"),
           "ERR unknown consistency level 'bogus': expected lease, linearizable or stale_ok\n\n",
           "NORI.CONSISTENCY bogus")
    # the level is the connection's own
    with E.sc.conn() as c:
        eq(c.cmd("NORI.CONSISTENCY", "stale_ok"), "OK", "NORI.CONSISTENCY stale_ok")
        eq(c.cmd("NORI.CONSISTENCY"), b"stale_ok", "NORI.CONSISTENCY on the same connection")
        with E.sc.conn() as other:
            eq(other.cmd("NORI.CONSISTENCY"), b"lease", "NORI.CONSISTENCY on another connection")
        eq(c.cmd("RESET"), "RESET", "RESET")
        eq(c.cmd("NORI.CONSISTENCY"), b"lease", "NORI.CONSISTENCY after RESET")


@test
def norikv_cli_sees_sidecar_writes():
    c = E.sc.client()
    k = key("cli-tool")
    c.set(k, "through the sidecar")
    r = run([CLI, "--nodes", E.dn.nodes, "get", k])
    eq((r.rc, r.out), (0, "through the sidecar\n"), "norikv-cli get of a key SET via the sidecar")
    k2 = key("cli-tool", "2")
    r = run([CLI, "--nodes", E.dn.nodes, "put", k2, "from norikv-cli"])
    check(r.rc == 0, "norikv-cli put", r)
    eq(c.get(k2), b"from norikv-cli", "GET via the sidecar of a key norikv-cli put")
    eq(c.delete(k), 1, "DEL via the sidecar")
    r = run([CLI, "--nodes", E.dn.nodes, "get", k])
    eq(r.rc, 1, "norikv-cli get exit status after the DEL (1: not found)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

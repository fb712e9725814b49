#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: vector search.

Redis 8 vector sets on NoriKV vector namespaces (VADD, VSIM, VREM, VEMB, VISMEMBER) with
FP32 and VALUES vectors, ELE, COUNT, WITHSCORES ordering and values (Redis' cosine
similarity), EPSILON, RESP2 and RESP3 reply forms, missing keys as Redis answers them, and
every refused command and option; NoriKV's vector API (NORI.VCREATE, NORI.VDROP,
NORI.VINSERT, NORI.VDELETE, NORI.VSEARCH, NORI.VGET) with each distance checked against
the distances computed here; the errors of bad input; and -NOTSUPPORTED from a cluster
that serves no vectors (the real server today, the devnode's --no-vector).

Usage: python3 tests/e2e/test_vector.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import math
import struct
import sys

from harness import E, Error, check, eq, key, main, test


def vec_cluster():
    # the devnode serves Vector with --vector (the friendly profile's default)
    return E.cluster("vector", "--vector")


def fp32(*v):
    return struct.pack("<%df" % len(v), *v)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def cos_score(a, b):
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(x * x for x in b))
    if na == 0 or nb == 0:
        return 0.5
    c = max(-1.0, min(1.0, sum(x * y for x, y in zip(a, b)) / (na * nb)))
    return 1 - (1 - c) / 2


def is_error(r, prefix):
    return isinstance(r, Error) and r.startswith(prefix)


POINTS = {"east": (1.0, 0.0, 0.0), "north": (0.0, 1.0, 0.0), "west": (-1.0, 0.0, 0.0),
          "northeast": (0.7, 0.7, 0.0), "up": (0.0, 0.0, 2.0)}


def fill(c, ns, fp32_form=False):
    for name, v in POINTS.items():
        if fp32_form:
            r = c.cmd("VADD", ns, "FP32", fp32(*v), name)
        else:
            r = c.cmd("VADD", ns, "VALUES", "3", *[repr(x) for x in v], name)
        eq(r, 1, "VADD %s (new)" % name)


@test
def vadd_vsim_withscores_values_and_fp32():
    dn, sc = vec_cluster()
    for form in ("values", "fp32"):
        ns = key("vset", form)
        with sc.conn() as c:
            fill(c, ns, fp32_form=form == "fp32")
            q = (1.0, 0.2, 0.0)
            r = c.cmd("VSIM", ns, "VALUES", "3", "1", "0.2", "0", "WITHSCORES")
            names, scores = r[0::2], [float(s) for s in r[1::2]]
            want = sorted(POINTS, key=lambda n: -cos_score(q, POINTS[n]))
            eq([n.decode() for n in names], want, "%s: VSIM order, nearest first" % form)
            for n, s in zip(names, scores):
                exp = cos_score([f32(x) for x in q], POINTS[n.decode()])
                check(abs(s - exp) < 1e-6, "%s: score of %s = %.7f" % (form, n, exp), s)
            eq(scores[-1] < 0.1 and scores[0] > 0.95, True, "scores from ~1 (same) to ~0 (opposite)")
            eq(c.cmd("VSIM", ns, "FP32", fp32(*q), "COUNT", "2"),
               [w.encode() for w in want[:2]], "%s: VSIM FP32 COUNT 2" % form)
            r = c.cmd("VSIM", ns, "ELE", "east", "WITHSCORES", "COUNT", "3")
            eq(r[0], b"east", "VSIM ELE: the element itself first")
            check(abs(float(r[1]) - 1.0) < 1e-6, "its score 1", r)
            eq(len(r), 6, "COUNT 3 with scores: 6 items")
            eq(c.cmd("VSIM", ns, "ELE", "east"), [n.encode() for n in sorted(
                POINTS, key=lambda n: -cos_score(POINTS["east"], POINTS[n]))],
               "VSIM ELE without options: every element (default COUNT 10)")


@test
def vsim_resp3_map_and_epsilon():
    dn, sc = vec_cluster()
    ns = key("vset-resp3")
    with sc.conn() as c:
        fill(c, ns)
        eq(c.cmd("HELLO", "3").get("proto"), 3, "HELLO 3")
        r = c.cmd("VSIM", ns, "ELE", "north", "WITHSCORES")
        check(isinstance(r, dict) and isinstance(r.get("north"), float),
              "RESP3 VSIM WITHSCORES: a map of element -> double", r)
        check(abs(r["northeast"] - cos_score(POINTS["north"], POINTS["northeast"])) < 1e-6,
              "northeast's score", r)
        # (the harness's raw connection gives a map's keys as str)
        # EPSILON: only elements whose 1 - score is at most it
        r = c.cmd("VSIM", ns, "ELE", "north", "EPSILON", "0.2")
        eq(r, [b"north", b"northeast"], "EPSILON 0.2 keeps score >= 0.8")
        eq(c.cmd("VSIM", ns, "ELE", "north", "EPSILON", "0.5", "WITHSCORES", "TRUTH", "NOTHREAD",
                 "EF", "50").keys() >= {"north", "east", "west", "up"}, True,
           "EPSILON 0.5 keeps the orthogonal ones; TRUTH, NOTHREAD and EF accepted")
        r = c.cmd("VEMB", ns, "northeast")
        check(isinstance(r, list) and all(isinstance(x, float) for x in r),
              "RESP3 VEMB: doubles", r)
        eq(r, [f32(0.7), f32(0.7), 0.0], "VEMB values, exactly as stored")
        eq(c.cmd("VISMEMBER", ns, "up"), True, "RESP3 VISMEMBER: a boolean")
        eq(c.cmd("VADD", ns, "VALUES", "3", "0", "0", "1", "up"), False, "RESP3 VADD update")


@test
def vadd_update_vemb_vrem_vismember():
    dn, sc = vec_cluster()
    ns = key("vset-update")
    with sc.conn() as c:
        eq(c.cmd("VADD", ns, "VALUES", "2", "3", "4", "a", "CAS", "NOQUANT", "EF", "200", "M",
                 "16"), 1, "VADD with CAS NOQUANT EF M (accepted, ignored)")
        eq(c.cmd("VADD", ns, "VALUES", "2", "1.5", "-2", "a", "Q8"), 0, "VADD of an existing element")
        eq(c.cmd("VADD", ns, "FP32", fp32(0.25, 8), "b", "BIN"), 1, "VADD FP32 BIN")
        eq(c.cmd("VEMB", ns, "a"), [b"1.5", b"-2"], "RESP2 VEMB: bulk strings, updated vector")
        raw = c.cmd("VEMB", ns, "a", "RAW")
        eq(raw[0], "f32", "VEMB RAW: the quantization")
        norm = math.hypot(1.5, 2)
        eq(struct.unpack("<2f", raw[1]), (f32(1.5 / norm), f32(-2 / norm)),
           "VEMB RAW: the normalized float32 blob")
        check(abs(float(raw[2]) - norm) < 1e-9, "VEMB RAW: the L2 norm", raw)
        eq(c.cmd("VISMEMBER", ns, "a"), 1, "VISMEMBER a")
        eq(c.cmd("VISMEMBER", ns, "zz"), 0, "VISMEMBER of a missing element")
        eq(c.cmd("VREM", ns, "a"), 1, "VREM a")
        eq(c.cmd("VREM", ns, "a"), 0, "VREM a again")
        eq(c.cmd("VISMEMBER", ns, "a"), 0, "VISMEMBER after VREM")
        eq(c.cmd("VEMB", ns, "a"), None, "VEMB after VREM: nil")
        eq(c.cmd("VSIM", ns, "VALUES", "2", "1", "1"), [b"b"], "VSIM after VREM")
        # a missing key answers as Redis answers for one
        nokey = key("vset-none")
        eq(c.cmd("VSIM", nokey, "VALUES", "2", "1", "1"), [], "VSIM of a missing key: empty")
        eq(c.cmd("VSIM", nokey, "ELE", "a"), [], "VSIM ELE of a missing key: empty")
        eq(c.cmd("VEMB", nokey, "a"), None, "VEMB of a missing key: nil")
        eq(c.cmd("VISMEMBER", nokey, "a"), 0, "VISMEMBER of a missing key: 0")
        eq(c.cmd("VREM", nokey, "a"), 0, "VREM of a missing key: 0")


@test
def vector_set_errors():
    dn, sc = vec_cluster()
    ns = key("vset-errors")
    with sc.conn() as c:
        eq(c.cmd("VADD", ns, "VALUES", "3", "1", "2", "3", "a"), 1, "VADD a")
        cases = [
            (("VADD", ns, "VALUES", "2", "1", "2", "b"),
             "ERR Vector dimension mismatch - got 2 but set has 3"),
            (("VADD", ns, "VALUES", "2", "1", "2", "a"),
             "ERR Vector dimension mismatch - got 2 but set has 3"),
            (("VSIM", ns, "VALUES", "2", "1", "2"),
             "ERR Vector dimension mismatch - got 2 but set has 3"),
            (("VADD", ns, "FP32", b"\0" * 7, "b"), "ERR invalid vector specification: an FP32 "
             "blob has 4 bytes per component"),
            (("VSIM", ns, "FP32", b"\0" * 5), "ERR invalid vector specification"),
            (("VADD", ns, "FP32", fp32(1, float("nan"), 3), "b"),
             "ERR invalid vector specification: component 2 is not a finite number"),
            (("VADD", ns, "FP32", fp32(float("inf"), 1, 3), "b"),
             "ERR invalid vector specification: component 1 is not a finite number"),
            (("VADD", ns, "VALUES", "3", "1", "x", "3", "b"),
             "ERR invalid vector specification: component 2"),
            (("VADD", ns, "VALUES", "3", "1", "inf", "3", "b"),
             "ERR invalid vector specification: component 2"),
            (("VADD", ns, "VALUES", "9", "1", "2", "b"), "ERR invalid vector specification"),
            (("VADD", ns, "VALUES", "3", "1", "2", "3"),
             "ERR wrong number of arguments for 'vadd' command"),
            (("VADD", ns, "BLOB", "x", "b"), "ERR invalid vector specification"),
            (("VADD", ns, "REDUCE", "2", "VALUES", "3", "1", "2", "3", "b"),
             "ERR REDUCE is not supported"),
            (("VADD", ns, "VALUES", "3", "1", "2", "3", "b", "SETATTR", '{"a":1}'),
             "ERR SETATTR is not supported"),
            (("VADD", ns, "VALUES", "3", "1", "2", "3", "b", "EF", "0"), "ERR invalid EF"),
            (("VADD", ns, "VALUES", "3", "1", "2", "3", "b", "M", "x"), "ERR invalid M"),
            (("VADD", ns, "VALUES", "3", "1", "2", "3", "b", "BOGUS"),
             "ERR invalid option after element"),
            (("VSIM", ns, "ELE", "a", "FILTER", ".x > 1"), "ERR FILTER is not supported"),
            (("VSIM", ns, "ELE", "a", "FILTER-EF", "10"), "ERR FILTER is not supported"),
            (("VSIM", ns, "ELE", "a", "WITHATTRIBS"), "ERR WITHATTRIBS is not supported"),
            (("VSIM", ns, "ELE", "a", "COUNT", "0"), "ERR invalid COUNT"),
            (("VSIM", ns, "ELE", "a", "EPSILON", "-1"), "ERR invalid EPSILON"),
            (("VSIM", ns, "ELE", "a", "EF", "x"), "ERR invalid EF"),
            (("VSIM", ns, "ELE", "a", "BOGUS"), "ERR syntax error in VSIM command"),
            (("VSIM", ns, "ELE", "zz"), "ERR element not found in set"),
            (("VSIM", ns, "VECTOR", "x"), "ERR vector type must be ELE, FP32 or VALUES"),
            (("VEMB", ns, "a", "BOGUS"), "ERR invalid option"),
            (("VADD", ns), "ERR wrong number of arguments for 'vadd' command"),
            (("VREM", ns), "ERR wrong number of arguments for 'vrem' command"),
        ]
        for args, prefix in cases:
            r = c.cmd(*args)
            check(is_error(r, prefix), "%r: an error starting %r" % (args[:3] + args[4:5], prefix), r)
        eq(c.cmd("VISMEMBER", ns, "b"), 0, "no refused VADD added anything")
        refused = [
            (("VCARD", ns), "ERR VCARD is not supported: NoriKV cannot count"),
            (("VDIM", ns), "ERR VDIM is not supported: NoriKV does not tell"),
            (("VINFO", ns), "ERR VINFO is not supported"),
            (("VRANDMEMBER", ns, "2"), "ERR VRANDMEMBER is not supported: NoriKV cannot enumerate"),
            (("VRANGE", ns, "-", "+"), "ERR VRANGE is not supported: NoriKV cannot enumerate"),
            (("VLINKS", ns, "a"), "ERR VLINKS is not supported"),
            (("VGETATTR", ns, "a"), "ERR VGETATTR is not supported: NoriKV keeps no attributes"),
            (("VSETATTR", ns, "a", "{}"), "ERR VSETATTR is not supported"),
        ]
        for args, prefix in refused:
            r = c.cmd(*args)
            check(is_error(r, prefix), "%s refused with the reason" % args[0], r)
        docs = c.cmd("COMMAND", "DOCS", "VADD")
        summary = docs[1][docs[1].index(b"summary") + 1].decode()
        check("accepted and ignored" in summary and "REDUCE and SETATTR are refused" in summary,
              "COMMAND DOCS VADD says what is ignored and what refused", summary)


def euclid(a, b):
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))


def cosine_distance(a, b):
    return 1 - (2 * cos_score(a, b) - 1)


def neg_dot(a, b):
    return -sum(x * y for x, y in zip(a, b))


@test
def nori_vector_api_each_distance():
    dn, sc = vec_cluster()
    pts = {"p1": (1.0, 2.0), "p2": (3.0, -1.0), "p3": (-2.0, 0.5), "p4": (0.5, 0.5)}
    q = (1.0, 1.0)
    for dist, fn in (("EUCLIDEAN", euclid), ("COSINE", cosine_distance),
                     ("INNER_PRODUCT", neg_dot)):
        ns = key("nori", dist.lower())
        with sc.conn() as c:
            eq(c.cmd("NORI.VCREATE", ns, "2", dist.lower(), "BRUTE_FORCE", "IDEMPOTENCY",
                     ns + "-create"), 1, "NORI.VCREATE %s" % dist)
            eq(c.cmd("NORI.VCREATE", ns, "2", dist, "HNSW"), 0, "NORI.VCREATE again: 0")
            for i, (name, v) in enumerate(pts.items()):
                if i % 2:
                    r = c.cmd("NORI.VINSERT", ns, name, "FP32", fp32(*v))
                else:
                    r = c.cmd("NORI.VINSERT", ns, name, *[repr(x) for x in v], "IDEMPOTENCY",
                              ns + name)
                check(isinstance(r, list) and len(r) == 2 and all(isinstance(x, int) for x in r),
                      "NORI.VINSERT: a version [term, index]", r)
            r = c.cmd("NORI.VSEARCH", ns, "3", "VALUES", "1", "1", "CONSISTENCY", "linearizable")
            matches, took = r[:-1], r[-1]
            check(isinstance(took, int) and took >= 0, "search_time_us, the final element", r)
            want = sorted(pts, key=lambda n: fn(q, pts[n]))[:3]
            eq([m[0].decode() for m in matches], want, "%s: the 3 nearest, ascending" % dist)
            for m in matches:
                exp = fn(q, pts[m[0].decode()])
                check(abs(float(m[1]) - exp) < 1e-5, "%s: distance of %s = %.6f" % (
                    dist, m[0], exp), m)
            r = c.cmd("NORI.VSEARCH", ns, "1", "FP32", fp32(*q), "WITHVECTORS")
            eq(r[0][0].decode(), want[0], "NORI.VSEARCH FP32 k=1")
            eq([float(x) for x in r[0][2]], list(pts[want[0]]), "WITHVECTORS: the vector")
            eq(c.cmd("NORI.VGET", ns, "p2"), [b"3", b"-1"], "NORI.VGET")
            eq(c.cmd("NORI.VGET", ns, "p2", "CONSISTENCY", "stale_ok"), [b"3", b"-1"],
               "NORI.VGET CONSISTENCY stale_ok")
            eq(c.cmd("NORI.VGET", ns, "nope"), None, "NORI.VGET of a missing id: nil")
            eq(c.cmd("NORI.VDELETE", ns, "p2"), 1, "NORI.VDELETE")
            eq(c.cmd("NORI.VGET", ns, "p2"), None, "NORI.VGET after NORI.VDELETE")
            eq(c.cmd("NORI.VDROP", ns), 1, "NORI.VDROP")
            r = c.cmd("NORI.VGET", ns, "p1")
            check(is_error(r, "ERR not found:") and "not found" in r,
                  "NORI.VGET in a dropped namespace: not found", r)


@test
def nori_vector_errors():
    dn, sc = vec_cluster()
    ns = key("nori-errors")
    with sc.conn() as c:
        eq(c.cmd("NORI.VCREATE", ns, "3", "COSINE"), 1, "NORI.VCREATE")
        cases = [
            (("NORI.VINSERT", ns, "a", "1", "2"), "ERR invalid argument: "),
            (("NORI.VSEARCH", ns, "2", "VALUES", "1", "2"), "ERR invalid argument: "),
            (("NORI.VSEARCH", key("nori-none"), "2", "VALUES", "1", "2", "3"), "ERR not found: "),
            (("NORI.VINSERT", key("nori-none"), "a", "1", "2", "3"), "ERR not found: "),
            (("NORI.VCREATE", ns, "3", "MANHATTAN"), "ERR unknown distance 'MANHATTAN'"),
            (("NORI.VCREATE", ns, "0", "COSINE"), "ERR invalid argument: dimensions"),
            (("NORI.VCREATE", ns, "x", "COSINE"), "ERR value is not an integer"),
            (("NORI.VCREATE", ns, "3", "COSINE", "IVF"), "ERR syntax error"),
            (("NORI.VSEARCH", ns, "0", "VALUES", "1", "2", "3"), "ERR invalid argument: k"),
            (("NORI.VSEARCH", ns, "4294967296", "VALUES", "1", "2", "3"),
             "ERR invalid argument: k must be between 1 and 4294967295"),
            (("NORI.VSEARCH", ns, "+2", "VALUES", "1", "2", "3"), "ERR value is not an integer"),
            (("NORI.VSEARCH", ns, "2", "VALUES", "1", "2", "3", "CONSISTENCY", "strong"),
             "ERR unknown consistency level 'strong'"),
            (("NORI.VSEARCH", ns, "2", "VALUES", "1", "x", "3"),
             "ERR invalid vector specification: component 2"),
            (("NORI.VSEARCH", ns, "2", "BLOB", "1"), "ERR syntax error"),
            (("NORI.VINSERT", ns, "a", "FP32", b"\1\2\3"), "ERR invalid vector specification"),
            (("NORI.VINSERT", ns, "a", "IDEMPOTENCY", "k"), "ERR invalid vector specification"),
            (("NORI.VGET", ns, "a", "BOGUS"), "ERR syntax error"),
            (("NORI.VDROP", ns, "EXTRA"), "ERR syntax error"),
        ]
        for args, prefix in cases:
            r = c.cmd(*args)
            check(is_error(r, prefix), "%r: an error starting %r" % (args, prefix), r)
        r = c.cmd("NORI.VINSERT", ns, "a", "1", "2")
        check("dimension mismatch" in r, "the dimension mismatch named", r)


@test
def no_vector_cluster_is_notsupported():
    dn, sc = E.cluster("no-vector", "--no-vector")
    ns = key("nv")
    with sc.conn() as c:
        for args in (("VADD", ns, "VALUES", "2", "1", "2", "a"), ("VSIM", ns, "ELE", "a"),
                     ("VEMB", ns, "a"), ("VISMEMBER", ns, "a"), ("VREM", ns, "a"),
                     ("NORI.VCREATE", ns, "2", "COSINE"), ("NORI.VSEARCH", ns, "1", "VALUES", "1"),
                     ("NORI.VINSERT", ns, "a", "1"), ("NORI.VGET", ns, "a"),
                     ("NORI.VDELETE", ns, "a"), ("NORI.VDROP", ns)):
            r = c.cmd(*args)
            check(is_error(r, "NOTSUPPORTED "), "%s on a cluster without Vector: -NOTSUPPORTED" %
                  args[0], r)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

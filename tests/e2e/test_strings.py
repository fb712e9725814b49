#!/usr/bin/python3
"""End-to-end tests of norikv-sidecar: the bit commands, SUBSTR, LCS and CLIENT REPLY.

Each command is sent to the sidecar and to a redis-server of the run's own (harness
same_as_redis), in RESP2 and RESP3, and must get the same reply, errors word for word:
SETBIT, GETBIT, BITCOUNT and BITPOS with their ranges (negative, BYTE and BIT, reversed,
out of the value), BITFIELD and BITFIELD_RO (every type, "#" offsets, WRAP, SAT and FAIL,
Redis' argument errors, a seeded random run of operations), SUBSTR, LCS (its string, LEN,
IDX with MINMATCHLEN and WITHMATCHLEN, random pairs, two values of 4095 bytes: the largest
table the sidecar fills), the bit commands inside MULTI, and CLIENT REPLY ON, OFF and SKIP
(pipelines whose replies, the ones dropped and the ones sent, match Redis', by connection
and by key ordering). Where the sidecar differs on purpose the expectation is written out:
offsets past NoriKV's 1 MiB values, LCS over its table budget, BITOP refused.

Usage: python3 tests/e2e/test_strings.py [-v] [NAME-SUBSTRING ...]; see harness.py.
"""

import random
import sys

from harness import (E, VALUE_MAX, Conn, Error, Sidecar, check, encode, eq, key, same_as_redis,
                     stop, test, main)

PROTOS = (2, 3)
LIMIT = VALUE_MAX  # NoriKV's largest value (CELL_VALUE_LIMIT), less a typed string's header
TOO_FAR = ("ERR bit offset is out of range for NoriKV: values are at most %d bytes (bit "
           "offsets below %d)" % (LIMIT, 8 * LIMIT))


def fresh(*keys):
    """DEL of the keys, first thing of a sequence: both servers start from missing keys."""
    return [("DEL", k) for k in keys]


@test
def strings_setbit_getbit():
    k, m = key("setbit"), key("setbit", "missing")
    same_as_redis(fresh(k, m) + [
        ("SETBIT", k, 7, 1), ("GETBIT", k, 7), ("GETBIT", k, 6), ("GET", k),
        ("SETBIT", k, 7, 1), ("SETBIT", k, 7, 0), ("GET", k), ("STRLEN", k),
        ("SETBIT", k, 100, 1), ("STRLEN", k), ("GET", k), ("GETBIT", k, 100),
        ("GETBIT", k, 101), ("GETBIT", k, 1000), ("GETBIT", k, 4294967295),
        ("SETBIT", k, 0, 0), ("SETBIT", k, 1, 1), ("GET", k),
        ("SETBIT", m, 0, 0), ("GET", m), ("STRLEN", m), ("DEL", m),
        ("GETBIT", m, 0), ("GETBIT", m, 4294967295),
        # Redis' argument errors, in its order
        ("SETBIT", k, -1, 1), ("SETBIT", k, "abc", 1), ("SETBIT", k, "1.5", 1),
        ("SETBIT", k, 4294967296, 1), ("SETBIT", k, "#8", 1), ("SETBIT", k, 0, 2),
        ("SETBIT", k, 0, -1), ("SETBIT", k, 0, "x"), ("SETBIT", k, 0, ""),
        ("SETBIT", k, "x", "x"), ("GETBIT", k, -1), ("GETBIT", k, 4294967296),
        ("GETBIT", k, "01"), ("SETBIT", k, 0), ("GETBIT", k), ("GETBIT", k, 0, 1),
        ("GET", k),
    ], "SETBIT and GETBIT", PROTOS)


@test
def strings_bitcount():
    k, e, m = key("bitcount"), key("bitcount", "empty"), key("bitcount", "missing")
    cmds = fresh(k, e, m) + [("SET", k, "foobar"), ("SET", e, "")]
    for args in [(), (0, 0), (1, 1), (1, 1, "BYTE"), (1, 1, "byte"), (5, 30, "BIT"),
                 (5, 30, "bit"), (-1, -1), (-2, -1, "BIT"), (-1, -2), (-1, -2, "FOO"),
                 (0,), (0, 1, "FOO"), ("a", "b"), (0, "b"), ("a", 0), (-100, 100),
                 (0, -100, "BIT"), (3, 2), (0, 9223372036854775807, "BIT"),
                 (-9223372036854775808, -1, "BIT"), (47, 47, "BIT"), (48, 100, "BIT"),
                 (0, 1, "BIT", "x"), (0, 1, 2, 3, 4, 5), (5, 5)]:
        cmds += [("BITCOUNT", k) + args, ("BITCOUNT", e) + args, ("BITCOUNT", m) + args]
    cmds.append(("BITCOUNT",))
    same_as_redis(cmds, "BITCOUNT", PROTOS)


@test
def strings_bitpos():
    k, e, m = key("bitpos"), key("bitpos", "empty"), key("bitpos", "missing")
    cmds = fresh(k, e, m) + [("SET", e, "")]
    for value in (b"\xff\xf0\x00", b"\xff\xff\xff", b"\x00\x00\x00", b"\x00\x01\x80\xff",
                  b"\x7f"):
        cmds.append(("SET", k, value))
        for bit in (0, 1):
            for args in [(), (1,), (1, -1), (2, -1, "BYTE"), (7, 15, "BIT"), (0, 3, "bit"),
                         (-1,), (-3, -2), (3,), (5, 1), (-100, 100, "BIT"), (9, 9, "BIT"),
                         (23, 23, "BIT"), (24, 100, "BIT"), (0, 0), (2, 2)]:
                cmds += [("BITPOS", k, bit) + args, ("BITPOS", m, bit) + args]
        cmds += [("BITPOS", e, 0), ("BITPOS", e, 1), ("BITPOS", e, 0, 0, -1)]
    cmds += [
        ("BITPOS", k, 2), ("BITPOS", k, -1), ("BITPOS", k, "x"), ("BITPOS", m, 2),
        ("BITPOS", m, 1, "a", "b", "c"), ("BITPOS", k, 0, "x"), ("BITPOS", k, 0, 1, "x"),
        ("BITPOS", k, 0, 1, "x", "FOO"), ("BITPOS", k, 0, 1, 2, "FOO"),
        ("BITPOS", k, 1, 0, -1, "BIT", "extra"), ("BITPOS", k), ("BITPOS", k, "01"),
    ]
    same_as_redis(cmds, "BITPOS", PROTOS)


@test
def strings_bitfield():
    k, m, r = key("bitfield"), key("bitfield", "missing"), key("bitfield", "ro")
    same_as_redis(fresh(k, m, r) + [
        ("BITFIELD", k, "SET", "u8", 0, 255, "GET", "u8", 0, "INCRBY", "u8", 0, 1),
        ("BITFIELD", k, "OVERFLOW", "SAT", "INCRBY", "u8", 0, 300, "INCRBY", "u8", 0, -300),
        ("BITFIELD", k, "OVERFLOW", "FAIL", "INCRBY", "u8", 0, 256, "GET", "u8", 0),
        ("BITFIELD", k, "overflow", "wrap", "incrby", "u8", 0, 257, "get", "i8", 0),
        ("BITFIELD", k, "SET", "i8", "#1", -100, "GET", "i8", "#1", "GET", "u8", "#1"),
        ("BITFIELD", k, "SET", "i5", 3, 20, "GET", "i5", 3, "GET", "u5", 3),
        ("BITFIELD", k, "INCRBY", "i64", 0, 9223372036854775807, "INCRBY", "i64", 0, 1,
         "OVERFLOW", "SAT", "INCRBY", "i64", 0, 9223372036854775807, "OVERFLOW", "FAIL",
         "INCRBY", "i64", 0, 1, "INCRBY", "i64", 0, -9223372036854775808),
        ("BITFIELD", k, "SET", "u63", 1, 9223372036854775807, "GET", "u63", 1,
         "INCRBY", "u63", 1, 1, "GET", "i64", 0),
        ("BITFIELD", k, "OVERFLOW", "SAT", "SET", "u8", 0, -1, "SET", "i8", 0,
         -9223372036854775808, "SET", "i8", 0, -9223372036854775680, "GET", "i8", 0),
        ("BITFIELD", k, "SET", "u8", 0, -1, "SET", "i8", 0, 200, "SET", "i8", 0,
         -9223372036854775808, "GET", "u8", 0),
        ("BITFIELD", k, "OVERFLOW", "FAIL", "SET", "u8", 0, 256, "SET", "i8", 0, 128,
         "SET", "i8", 0, -129, "SET", "u1", 0, 1, "GET", "u1", 0),
        ("GET", k),
        ("BITFIELD", k), ("BITFIELD", m), ("BITFIELD", m, "GET", "u8", 0),
        ("EXISTS", m),
        ("BITFIELD", m, "OVERFLOW", "FAIL", "SET", "u8", 100, 300), ("GET", m),
        ("BITFIELD", k, "GET", "u8", 4294967288, "GET", "i8", "#536870911",
         "GET", "u32", 33),
        # Redis' argument errors, in its order
        ("BITFIELD", k, "GET", "u64", 0), ("BITFIELD", k, "GET", "x8", 0),
        ("BITFIELD", k, "GET", "i0", 0), ("BITFIELD", k, "GET", "i65", 0),
        ("BITFIELD", k, "GET", "U8", 0), ("BITFIELD", k, "GET", "i", 0),
        ("BITFIELD", k, "GET", "u08", 0), ("BITFIELD", k, "GET", "", 0),
        ("BITFIELD", k, "GET", "u8", -1), ("BITFIELD", k, "GET", "u8", "#-1"),
        ("BITFIELD", k, "GET", "u8", "#"), ("BITFIELD", k, "GET", "u8", "a"),
        ("BITFIELD", k, "GET", "u8", 4294967296), ("BITFIELD", k, "GET", "u8", "#536870912"),
        ("BITFIELD", k, "SET", "u8", 0, "x"), ("BITFIELD", k, "INCRBY", "u8", 0, "1.5"),
        ("BITFIELD", k, "OVERFLOW", "foo"), ("BITFIELD", k, "OVERFLOW"),
        ("BITFIELD", k, "FOO", "u8", 0), ("BITFIELD", k, "GET", "u8"),
        ("BITFIELD", k, "SET", "u8", 0), ("BITFIELD", k, "GET", "u8", 0, "SET", "u64", 0, 1),
        ("BITFIELD", k, "SET", "u8", 0, 1, "GET", "u8", "x"),
        ("GET", k), ("BITFIELD",),
        ("SET", r, "\x01\x02\x03"),
        ("BITFIELD_RO", r, "GET", "u8", 0, "GET", "i16", 4), ("BITFIELD_RO", r),
        ("BITFIELD_RO", m, "GET", "u8", 0), ("BITFIELD_RO", r, "SET", "u8", 0, 1),
        ("BITFIELD_RO", r, "INCRBY", "u8", 0, 1, "GET", "u64", 0),
        ("BITFIELD_RO", r, "OVERFLOW", "SAT", "GET", "u8", 0), ("BITFIELD_RO", r, "GET"),
        ("GET", r),
    ], "BITFIELD and BITFIELD_RO", PROTOS)


@test
def strings_bitfield_random():
    """A seeded random run of BITFIELD operations on one key, small offsets so that the
    fields overlap, every type and overflow mode, values around each type's edges."""
    rnd = random.Random(21)
    k = key("bitfield_random")
    cmds = fresh(k)
    for _ in range(300):
        args = ["BITFIELD", k]
        for _ in range(rnd.randint(1, 4)):
            signed = rnd.random() < 0.5
            bits = rnd.randint(1, 64 if signed else 63)
            enc = ("i" if signed else "u") + str(bits)
            off = rnd.choice([rnd.randint(0, 40), "#%d" % rnd.randint(0, 3)])
            edge = 1 << (bits - 1 if signed else bits)
            val = rnd.choice([rnd.randint(-3, 3), edge - 1, edge, -edge, -edge - 1,
                              rnd.randint(-(1 << 63), (1 << 63) - 1)])
            val = max(-(1 << 63), min((1 << 63) - 1, val))
            op = rnd.choice(["GET", "SET", "INCRBY", "OVERFLOW"])
            if op == "OVERFLOW":
                args += ["OVERFLOW", rnd.choice(["WRAP", "SAT", "FAIL"])]
            elif op == "GET":
                args += ["GET", enc, off]
            else:
                args += [op, enc, off, val]
        cmds.append(tuple(args))
        if rnd.random() < 0.2:
            cmds.append(("GET", k))
    same_as_redis(cmds, "a random run of BITFIELD", (2,))


@test
def strings_bits_in_multi():
    k = key("bits_multi")
    same_as_redis(fresh(k) + [
        ("MULTI",), ("SETBIT", k, 1, 1), ("SETBIT", k, 9, 1), ("BITCOUNT", k),
        ("BITPOS", k, 1), ("GETBIT", k, 9), ("BITFIELD", k, "INCRBY", "u4", 0, 3),
        ("BITFIELD_RO", k, "GET", "u16", 0), ("SUBSTR", k, 0, 0), ("EXEC",), ("GET", k),
        ("MULTI",), ("BITFIELD", k, "GET", "u8", "x"), ("EXEC",),
    ], "the bit commands inside MULTI", PROTOS)


@test
def strings_substr():
    k, m = key("substr"), key("substr", "missing")
    same_as_redis(fresh(k, m) + [
        ("SET", k, "Hello World"), ("SUBSTR", k, 0, 4), ("SUBSTR", k, -5, -1),
        ("SUBSTR", k, 5, 1), ("SUBSTR", k, -1, -5), ("SUBSTR", k, 0, -1),
        ("SUBSTR", k, 6, 100), ("SUBSTR", k, -100, 2), ("SUBSTR", m, 0, -1),
        ("SUBSTR", k, "a", 1), ("SUBSTR", k, 0, "b"), ("SUBSTR", k, 0),
        ("SUBSTR", k, 0, 1, 2), ("GETRANGE", k, 0, 4),
    ], "SUBSTR", PROTOS)


def _lcs_cases(a, b):
    return [("LCS", a, b), ("LCS", a, b, "LEN"), ("LCS", a, b, "IDX"),
            ("LCS", a, b, "IDX", "WITHMATCHLEN"),
            ("LCS", a, b, "IDX", "MINMATCHLEN", 2, "WITHMATCHLEN"),
            ("LCS", b, a, "idx", "minmatchlen", 3)]


@test
def strings_lcs():
    a, b, m = key("lcs", "a"), key("lcs", "b"), key("lcs", "missing")
    cmds = fresh(a, b, m) + [("SET", a, "ohmytext"), ("SET", b, "mynewtext")]
    cmds += _lcs_cases(a, b) + _lcs_cases(a, a) + _lcs_cases(a, m) + _lcs_cases(m, m)
    cmds += [
        ("LCS", a, b, "IDX", "MINMATCHLEN", 4, "WITHMATCHLEN"),
        ("LCS", a, b, "IDX", "MINMATCHLEN", -5), ("LCS", a, b, "LEN", "IDX"),
        ("LCS", a, b, "IDX", "LEN"), ("LCS", a, b, "MINMATCHLEN"),
        ("LCS", a, b, "MINMATCHLEN", "x"), ("LCS", a, b, "MINMATCHLEN", "1.5", "IDX"),
        ("LCS", a, b, "FOO"), ("LCS", a, b, "LEN", "LEN"), ("LCS", a, b, "WITHMATCHLEN"),
        ("LCS", a, b, "MINMATCHLEN", 2), ("LCS", a), ("LCS",),
        ("SET", a, "ABCBDAB"), ("SET", b, "BDCABA"),
    ] + _lcs_cases(a, b) + _lcs_cases(b, a)
    rnd = random.Random(7)
    for n in range(30):
        cmds += [("SET", a, "".join(rnd.choice("abc") for _ in range(rnd.randint(0, 40)))),
                 ("SET", b, "".join(rnd.choice("abc") for _ in range(rnd.randint(0, 40))))]
        cmds += _lcs_cases(a, b)
    same_as_redis(cmds, "LCS", PROTOS)


@test
def strings_lcs_budget():
    a, b = key("lcs_budget", "a"), key("lcs_budget", "b")
    rnd = random.Random(4095)
    x = "".join(rnd.choice("ab") for _ in range(4095))
    y = "".join(rnd.choice("ab") for _ in range(4095))
    # (4095 + 1) * (4095 + 1) = 16777216 cells: the largest table the sidecar fills
    same_as_redis(fresh(a, b) + [("SET", a, x), ("SET", b, y), ("LCS", a, b, "LEN"),
                                 ("LCS", a, b), ("LCS", a, b, "IDX", "MINMATCHLEN", 6,
                                                 "WITHMATCHLEN")],
                  "LCS of two values of 4095 bytes", (2,))
    with E.sc.conn() as c:
        eq(c.cmd("SET", b, y + "a"), "OK", "SET of 4096 bytes")
        eq(c.cmd("LCS", a, b, "LEN"),
           "ERR LCS of values of 4095 and 4096 bytes needs a table of 16781312 cells, over the "
           "sidecar's budget of 16777216 cells (compare shorter strings)",
           "LCS over the table budget")
        big = "x" * LIMIT
        eq(c.cmd("SET", a, big), "OK", "SET of 1 MiB")
        eq(c.cmd("SET", b, "x" * 14), "OK", "SET of 14 bytes")
        # (LIMIT + 1) * (14 + 1) <= 15728655 cells: within the budget
        eq(c.cmd("LCS", a, b), b"x" * 14, "LCS of 1 MiB and 14 bytes")
        got = c.cmd("LCS", a, a, "LEN")
        check(isinstance(got, Error) and got.startswith(
            "ERR LCS of values of %d and %d bytes needs a table of" % (LIMIT, LIMIT)),
            "LCS of two 1 MiB values to be refused", got)


@test
def strings_limits():
    k = key("limits")
    d, s1 = key("limits", "dest"), key("limits", "src")
    with E.sc.conn() as c:
        c.cmd("DEL", k)
        eq(c.cmd("SETBIT", k, 8 * LIMIT, 1), TOO_FAR, "SETBIT past 1 MiB")
        eq(c.cmd("EXISTS", k), 0, "the key after a refused SETBIT")
        eq(c.cmd("SETBIT", k, 8 * LIMIT - 1, 1), 0, "SETBIT of the last bit of 1 MiB")
        eq(c.cmd("STRLEN", k), LIMIT, "STRLEN after it")
        eq(c.cmd("GETBIT", k, 8 * LIMIT - 1), 1, "GETBIT of that bit")
        eq(c.cmd("GETBIT", k, 8 * LIMIT), 0, "GETBIT past 1 MiB (Redis' rule: a read)")
        eq(c.cmd("BITCOUNT", k), 1, "BITCOUNT of it")
        eq(c.cmd("BITPOS", k, 1), 8 * LIMIT - 1, "BITPOS of it")
        eq(c.cmd("BITFIELD", k, "SET", "u8", 8 * LIMIT - 8, 255), [1], "BITFIELD SET of the "
           "last byte")
        eq(c.cmd("BITFIELD", k, "SET", "u16", 8 * LIMIT - 8, 1, "GET", "u8", 0), TOO_FAR,
           "BITFIELD SET past 1 MiB")
        eq(c.cmd("BITFIELD", k, "GET", "u8", 8 * LIMIT - 8, "GET", "u8", 8 * LIMIT),
           [255, 0], "BITFIELD GET at and past 1 MiB")
        c.cmd("DEL", k)
        eq(c.cmd("BITFIELD", k, "OVERFLOW", "FAIL", "SET", "u8", "#%d" % LIMIT, 1), TOO_FAR,
           "BITFIELD with a # offset past 1 MiB")
        eq(c.cmd("EXISTS", k), 0, "the key after a refused BITFIELD")
        eq(c.cmd("BITOP", "AND", d, s1, s1),
           "ERR BITOP is not supported: NoriKV has no writes across keys (BITOP stores what it "
           "computes from other keys under a key of its own)", "BITOP")
    same_as_redis([("BITOP", "AND", d), ("BITOP",)], "BITOP's arity", PROTOS)


# ---- CLIENT REPLY ---------------------------------------------------------------------

END = b"end-of-pipeline"


def _pipeline(conn, cmds):
    """Sends cmds then CLIENT REPLY ON and ECHO END in one write; the replies up to END."""
    conn.send(b"".join(encode(*c) for c in cmds) + encode("CLIENT", "REPLY", "ON") +
              encode("ECHO", END))
    got = []
    while True:
        r = conn.reply()
        if r == END:
            return got
        got.append(r)


def _same_pipeline(cmds, what, sock=None):
    for proto in PROTOS:
        with Conn(sock or E.sc.sock) as a, E.redis().conn() as b:
            if proto == 3:
                a.cmd("HELLO", 3)
                b.cmd("HELLO", 3)
            ra, rb = _pipeline(a, cmds), _pipeline(b, cmds)
            eq(ra, rb, "%s (RESP%d): the replies sent, as redis-server's" % (what, proto))
            eq(a.cmd("PING"), "PONG", "%s: PING after it" % what)


def _client_reply_cases(k):
    return [
        ("OFF then ON", [("SET", k, "1"), ("CLIENT", "REPLY", "OFF"), ("INCR", k), ("GET", k),
                         ("NOSUCHCOMMAND",), ("GET",), ("INCR", k), ("CLIENT", "REPLY", "ON"),
                         ("GET", k)]),
        ("SKIP", [("SET", k, "a"), ("CLIENT", "REPLY", "SKIP"), ("GET", k), ("GET", k),
                  ("CLIENT", "REPLY", "SKIP"), ("NOSUCHCOMMAND",), ("PING",),
                  ("CLIENT", "REPLY", "SKIP"), ("GET",), ("ECHO", "after")]),
        ("SKIP twice", [("CLIENT", "REPLY", "SKIP"), ("CLIENT", "REPLY", "SKIP"), ("PING", "x"),
                        ("PING", "y")]),
        ("SKIP then ON", [("CLIENT", "REPLY", "SKIP"), ("CLIENT", "REPLY", "ON"), ("PING",)]),
        ("SKIP while OFF", [("CLIENT", "REPLY", "OFF"), ("CLIENT", "REPLY", "SKIP"),
                            ("CLIENT", "REPLY", "ON"), ("PING", "seen")]),
        ("SKIP last", [("PING", "a"), ("CLIENT", "REPLY", "SKIP")]),
        ("OFF then RESET", [("CLIENT", "REPLY", "OFF"), ("PING",), ("RESET",), ("PING", "z")]),
        ("SKIP then RESET", [("CLIENT", "REPLY", "SKIP"), ("RESET",), ("PING", "z")]),
        ("errors", [("CLIENT", "REPLY", "FOO"), ("CLIENT", "REPLY"),
                    ("CLIENT", "REPLY", "ON", "x"), ("CLIENT", "REPLY", "OFF"),
                    ("CLIENT", "REPLY", "FOO")]),
        ("a write silenced", [("CLIENT", "REPLY", "OFF"), ("SET", k, "silent"),
                              ("APPEND", k, "!"), ("CLIENT", "REPLY", "ON"), ("GET", k)]),
    ]


@test
def strings_client_reply():
    k = key("client_reply")
    for what, cmds in _client_reply_cases(k):
        _same_pipeline(cmds, "CLIENT REPLY: " + what)


@test
def strings_client_reply_by_key():
    """Under ordering = key requests run out of order (a PING passes a GET held by its
    node): the replies dropped are still exactly those of the requests between OFF and ON,
    and those SKIP names."""
    s = Sidecar("reply-by-key", E.dn, "--sidecar.ordering=key")
    try:
        k = key("client_reply_by_key")
        for what, cmds in _client_reply_cases(k):
            _same_pipeline(cmds, "CLIENT REPLY by key: " + what, s.sock)
        ks = [key("client_reply_by_key", str(i)) for i in range(8)]
        cmds = [("SET", x, x) for x in ks] + [("GET", x) for x in ks]
        cmds += [("CLIENT", "REPLY", "SKIP")] + [("GET", x) for x in ks]
        cmds += [("CLIENT", "REPLY", "OFF")] + [("GET", x) for x in ks] + [("PING",)]
        _same_pipeline(fresh(*ks) + cmds, "CLIENT REPLY by key: many keys", s.sock)
    finally:
        stop(s.proc)


@test
def strings_client_reply_releases():
    """Replies dropped hold nothing: after 40 GETs of 1 MiB under OFF, the client's CLIENT
    LIST line shows next to nothing held, and nothing was written to it but OK and END."""
    k = key("client_reply_releases")
    with E.sc.conn() as a, E.sc.conn() as b:
        eq(a.cmd("SET", k, b"v" * LIMIT), "OK", "SET of 1 MiB")
        name = "reply-off-%s" % key("x").replace(":", "-")
        eq(a.cmd("CLIENT", "SETNAME", name), "OK", "CLIENT SETNAME")
        got = _pipeline(a, [("CLIENT", "REPLY", "OFF")] + [("GET", k)] * 40)
        eq(got, ["OK"], "what 40 silenced GETs of 1 MiB sent")
        line = [x for x in b.cmd("CLIENT", "LIST").decode().splitlines() if name in x]
        eq(len(line), 1, "the client's CLIENT LIST line")
        fields = dict(f.split("=", 1) for f in line[0].split())
        check(int(fields["tot-mem"]) < 64 * 1024 and int(fields["omem"]) == 0,
              "the silenced client to hold under 64 KiB and no output", line[0])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
"""Writes the seed corpus of tests/fuzz/fuzz_cmd.c into tests/fuzz/corpus/cmd/.

Run once after changing the cases below (python3 tests/fuzz/make-cmd-corpus.py); the files
are committed. Each file is an input of fuzz_cmd in its own format (see fuzz_cmd.c): a byte
of settings (bit 0: the input completes the cluster operations, bit 1: small reply_backlog,
max_reply and max_pending, bit 2: HELLO 3 first, bit 3: ordering by key), then requests, each a count byte (the
words after the command name, 1 + count % 8 words in all), 0xff, the command's name as a
length byte and its bytes (a subcommand as "CLIENT|KILL", whose two words count as one),
and one byte per further word:
0x80 | n followed by n literal bytes. With bit 0, each request is followed by a byte n and n
bytes that complete as many operations (b >> 2: which, counting back from the newest
outstanding; b & 3: 0 fails, 1 misses or succeeds, 2 and 3 find a value); what is still out
at the end is answered as missing.
The names are spelled out so that the corpus stays valid when the command table changes.
The cases are the commands of every kind: reads, writes, fan-outs with repeated keys,
read-modify-writes, transactions, connection state, introspection, CLIENT KILL of itself,
QUIT in a pipeline, the attacks of issue 14 in small, pipelines ordered by key whose
operations finish out of order, the bit commands, LCS and CLIENT REPLY.
"""

import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "cmd")

MANUAL, SMALL, RESP3, BYKEY = 1, 2, 4, 8


def req(name, *words):
    """One request: the command (a subcommand as "CLIENT|KILL") and its other words."""
    assert len(words) < 8, name
    out = bytes([len(words), 0xFF, len(name)]) + name.encode()
    for w in words:
        w = w.encode() if isinstance(w, str) else w
        assert len(w) < 32
        out += bytes([0x80 | len(w)]) + w
    return out


def case(flags, *requests):
    return bytes([flags]) + b"".join(requests)


def done(*how):
    """After a request of a MANUAL case: complete len(how) operations, each byte as
    fuzz_cmd.c reads it (b >> 2: which, counting back from the newest; b & 3: how)."""
    return bytes([len(how)]) + bytes(how)


FAIL, MISS, FOUND = 0, 1, 2

CASES = {
    "get-set": case(0, req("SET", "k0", "v"), req("GET", "k0"), req("GET", "k1")),
    "set-options": case(0, req("SET", "k0", "v", "EX", "10"), req("SET", "k0", "v", "XX", "GET"),
                        req("SETEX", "k1", "5", "x"), req("PSETEX", "k1", "-1", "x"),
                        req("SET", "k0", "v", "NX")),
    "mset-repeated": case(0, req("MSET", "k0", "1", "k1", "2", "k0", "3"), req("GET", "k0"),
                          req("MGET", "k0", "k1", "k0", "k2")),
    "del-repeated": case(0, req("MSET", "k0", "1", "k1", "2"), req("DEL", "k0", "k0", "k1"),
                         req("EXISTS", "k0", "k0"), req("UNLINK", "k1", "k1")),
    "incr-family": case(0, req("INCR", "k0"), req("INCRBY", "k0", "10"), req("DECR", "k0"),
                        req("APPEND", "k0", "x"), req("GETDEL", "k0"), req("INCR", "k0")),
    "multi-exec": case(0, req("MULTI"), req("INCR", "k0"), req("EXPIRE", "k0", "60"),
                       req("GET", "k0"), req("EXEC")),
    "multi-abort": case(0, req("MULTI"), req("SET", "k0", "1"), req("SET", "k1", "1"),
                        req("EXEC"), req("PING")),
    "watch": case(0, req("WATCH", "k0"), req("MULTI"), req("SET", "k0", "2"), req("EXEC")),
    "connection": case(RESP3, req("PING"), req("ECHO", "hi"), req("CLIENT|SETNAME", "fz"),
                       req("CLIENT|GETNAME"), req("CLIENT|INFO"), req("CLIENT|LIST"),
                       req("SELECT", "0"), req("RESET"), req("HELLO", "2")),
    "introspection": case(0, req("INFO", "server", "server", "all"), req("CONFIG|GET", "*"),
                          req("CONFIG|GET", "*[", "sidecar.*"), req("COMMAND|COUNT"),
                          req("COMMAND|DOCS", "get"), req("TIME")),
    "nori": case(0, req("NORI.PUT", "k0", "v", "TTL", "100"), req("NORI.GET", "k0"),
                 req("NORI.DEL", "k0", "IFMATCH", "1", "2"), req("NORI.CONSISTENCY", "stale_ok"),
                 req("NORI.SHARD", "k0")),
    "kill-self": case(0, req("CLIENT|ID"), req("CLIENT|KILL", "ID", "1", "SKIPME", "no"),
                      req("SET", "k0", "after")),
    "quit-pipeline": case(0, req("GET", "k0"), req("QUIT"), req("SET", "k0", "after")),
    "manual-fanout": case(MANUAL, req("MGET", "k0", "k1", "k2", "k0"),
                          done(FOUND, 4 + MISS, FOUND + 1, 8 + FAIL),
                          req("MSET", "k0", "1", "k1", "2"), done(),
                          req("DEL", "k0", "k1"), done(FOUND, 4 + MISS, MISS, MISS, FOUND)),
    "manual-failures": case(MANUAL, req("GET", "k0"), done(FAIL), req("SET", "k0", "1"),
                            done(MISS), req("INCR", "k0"), done(FOUND + 1, FAIL)),
    "manual-out-of-order": case(MANUAL, req("GET", "k0"), done(), req("GET", "k1"), done(),
                                req("MGET", "k2", "k0"), done(FOUND, 4 + MISS, 8 + FOUND + 1),
                                req("PING"), done(FOUND)),
    "small-limits": case(SMALL | MANUAL, req("GET", "k0"), done(), req("GET", "k1"), done(),
                         req("GET", "k2"), done(),
                         req("MGET", "k0", "k1", "k2", "k0", "k1", "k2", "k0"), done(),
                         req("INFO", "all"), done(), req("COMMAND|DOCS"),
                         done(*[FOUND] * 7)),
    "long-pipeline": case(0, *([req("PING")] * 100 + [req("GET", "k0")] + [req("ECHO", "x")] * 99)),
    "subscribe": case(0, req("SUBSCRIBE", "norikv:topology", "other"), req("PING"),
                      req("GET", "k0"), req("PSUBSCRIBE", "*"), req("UNSUBSCRIBE"),
                      req("PUNSUBSCRIBE"), req("GET", "k0")),
    "resp3-small": case(RESP3 | SMALL, req("CLIENT|LIST"), req("CONFIG|GET", "*"),
                        req("MGET", "k0", "k1"), req("PING", "x")),
    "bykey-writes": case(BYKEY | MANUAL, req("SET", "k0", "1"), done(), req("SET", "k1", "2"),
                         done(FOUND), req("SET", "k0", "3"), done(), req("GET", "k0"), done(),
                         req("GET", "k1"), done(FOUND, FOUND), req("MSET", "k2", "1", "k1", "4"),
                         done(MISS, 4 + FOUND), req("DEL", "k2", "k0"),
                         done(FOUND, FOUND, FOUND, FOUND)),
    "bykey-state": case(BYKEY | MANUAL, req("SET", "k0", "1"), req("SET", "k1", "1"),
                        req("CLIENT|SETNAME", "fz"), req("INCR", "k2"), done(4 + FOUND),
                        req("MULTI"), req("INCR", "k1"), req("EXEC"), req("GET", "k1"),
                        done(FOUND, FOUND, FOUND)),
    "bykey-small": case(BYKEY | SMALL, req("SET", "k0", "1"), req("SET", "k1", "1"),
                        req("GET", "k0"), req("SET", "k2", "1"), req("MGET", "k0", "k1", "k2"),
                        req("QUIT"), req("SET", "k0", "after")),
    "bits": case(0, req("SETBIT", "k0", "7", "1"), req("GETBIT", "k0", "7"),
                 req("BITCOUNT", "k0", "0", "-1", "BIT"), req("BITPOS", "k0", "1", "0"),
                 req("BITFIELD", "k0", "OVERFLOW", "SAT", "INCRBY", "i8", "#1", "200"),
                 req("BITFIELD_RO", "k0", "GET", "u8", "0"), req("SUBSTR", "k0", "0", "-1"),
                 req("SETBIT", "k1", "8388608", "1"), req("BITOP", "AND", "k2", "k0", "k1")),
    "lcs": case(MANUAL, req("SET", "k0", "ohmytext"), done(FOUND), req("SET", "k1", "mynewtext"),
                done(FOUND), req("LCS", "k0", "k1", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"),
                done(FOUND, 4 + FOUND), req("LCS", "k0", "k2", "LEN"), done(MISS, 4 + FAIL),
                req("LCS", "k0", "k1", "LEN", "IDX")),
    "client-reply": case(BYKEY, req("CLIENT|REPLY", "SKIP"), req("GET", "k0"),
                         req("CLIENT|REPLY", "OFF"), req("SET", "k0", "1"), req("GET"),
                         req("CLIENT|REPLY", "ON"), req("GET", "k0"), req("CLIENT|REPLY", "x")),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    for name, data in CASES.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print("%d inputs in %s" % (len(CASES), OUT))


if __name__ == "__main__":
    main()

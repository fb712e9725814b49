#!/usr/bin/python3
"""Writes the seed corpus of tests/fuzz/fuzz_resp.c into tests/fuzz/corpus/resp/.

Run once after changing the cases below (python3 tests/fuzz/make-corpus.py); the files are
committed. Each file is an input of fuzz_resp in its own format: a byte that picks the limits
(bits 1-2: one of fuzz_resp.c's limit_sets; bit 0: restricted, as before AUTH; bit 3: bulk
data through resp_bulk_window), a byte n (1 + n % 8 piece sizes follow), the piece sizes
(each byte b feeds b + 1 bytes), then the bytes the parser gets. The cases are those of
tests/unit/check_resp.c: valid multibulk and inline requests, pipelines, the limits at their
edge and past it, and every protocol error the parser of src/sidecar/resp.c replies.
"""

import os
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "resp")

# fuzz_resp.c's limit_sets: 0 the defaults (1 MiB bulk), 1 small (64-byte bulk, 8 args,
# 256 bytes), 2 around RESP_BIG_ARG (4 args), 3 nothing but one empty argument
DEFAULT, SMALL, BIG, NONE = 0, 1, 2, 3
BIG_ARG = 32 * 1024  # RESP_BIG_ARG
INLINE_MAX = 64 * 1024  # RESP_INLINE_MAX
RESTRICTED_BULK = 16 * 1024  # RESP_RESTRICTED_BULK


def mb(*args):
    """A multibulk request of the arguments."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


CASES = [
    # name, bytes, limits, restricted, window, piece sizes (each fed as size + 1 bytes)
    # ---- valid requests
    ("ok-multibulk-ping", mb("PING"), DEFAULT, False, False, [0]),
    ("ok-multibulk-set", mb("SET", "key", "value"), DEFAULT, False, False, [2, 5]),
    ("ok-inline-crlf", b"PING\r\n", DEFAULT, False, False, [0]),
    ("ok-inline-lf", b"set k v\n", DEFAULT, False, False, [1]),
    ("ok-inline-blanks", b"  set \t k   v  \r\nECHO    spaced     \r\n", DEFAULT, False, False,
     [3]),
    ("ok-inline-cr-vtab", b"a\rb\na\vb c\r\n$foo bar\r\n", DEFAULT, False, False, [0, 2]),
    ("ok-inline-quotes", b"set \"a b\" 'c d'\r\nset ab\"c d\"\r\nget \"k\"\r\nset k \"\" ''\r\n",
     DEFAULT, False, False, [4, 0, 1]),
    ("ok-inline-escapes",
     b"echo \"\\n\\r\\t\\b\\a\\\\\\\"\\x41\\x7a\\xfF\\q\\xZZ\\x4\"\r\necho 'it\\'s' 'a\\nb\"c'\r\n",
     DEFAULT, False, False, [0]),
    ("ok-inline-nul", b"get a\0b c\r\n\0\0\0\r\nPING\r\n", DEFAULT, False, False, [6]),
    ("ok-binary-bulk", mb("SET", b"a\0b\r\n\r\nc") + mb(b"\r\n\r\n"), DEFAULT, False, False,
     [0, 1, 2]),
    ("ok-empty-bulks", mb("GET", "") + mb("", ""), DEFAULT, False, False, [3]),
    ("ok-pipeline", mb("PING") + mb("ECHO", "hi") + b"PING\r\nGET x\n", DEFAULT, False, False,
     [0, 7]),
    ("ok-empty-requests", b"\r\n*0\r\n*1\r\n$1\r\na\r\n*-1\r\n\n   \r\n*-10\r\nb\r\n\n",
     DEFAULT, False, False, [2]),
    ("ok-length-line-edges", b"*1\r\n$9\r\n*$\r\n0-9$*\r\n*1\r\n$1\r\n$\r\n", DEFAULT, False,
     False, [0]),
    ("ok-small-limits-at-edge",
     mb(*("a" * 8)) + mb("x" * 64) + mb("y" * 64, "z" * 64, "w" * 64, "v" * 64) +
     b"a b c d e f g h\r\n", SMALL, False, False, [9, 30]),
    ("ok-restricted-10-args", mb(*"0123456789") + b"0 1 2 3 4 5 6 7 8 9\r\n", DEFAULT, True,
     False, [5]),
    ("ok-none-one-empty-arg", mb("") + b"\r\n", NONE, False, False, [0]),
    ("ok-big-bulk-window", mb("SET", "k", b"x" * BIG_ARG), BIG, False, True, [255, 40]),
    ("ok-big-bulk-pieces", mb(b"y" * (BIG_ARG + 16)), BIG, False, False, [255]),
    ("ok-big-bulk-header-only", b"*1\r\n$1048576\r\n" + b"z" * 1000, DEFAULT, False, True, [99]),
    # ---- protocol errors: counts
    ("err-count-out-of-range", b"*3000000000\r\n", DEFAULT, False, False, [0]),
    ("err-count-not-a-number", b"*1x\r\n", DEFAULT, False, False, [0]),
    ("err-count-leading-zero", b"*01\r\n", DEFAULT, False, False, [1]),
    ("err-count-plus-sign", b"*+1\r\n", DEFAULT, False, False, [0]),
    ("err-count-space", b"* 1\r\n", DEFAULT, False, False, [0]),
    ("err-count-empty", b"*\r\n", DEFAULT, False, False, [0]),
    ("err-count-minus-zero", b"*-0\r\n", DEFAULT, False, False, [0]),
    ("err-count-without-cr", b"*1\n$1\r\na\r\n", DEFAULT, False, False, [0]),
    ("err-count-overflows", b"*99999999999999999999999\r\n", DEFAULT, False, False, [3]),
    ("err-count-int-max-plus-1", b"*2147483648\r\n", DEFAULT, False, False, [0]),
    ("err-count-over-max-args", b"*9\r\n" + b"a b c d e f g h i\r\n", SMALL, False, False, [0]),
    ("err-inline-over-max-args", b"a b c d e f g h i\r\n", SMALL, False, False, [2]),
    ("err-count-restricted-11", b"*11\r\n", DEFAULT, True, False, [0]),
    ("err-inline-restricted-11", b"0 1 2 3 4 5 6 7 8 9 10\r\n", DEFAULT, True, False, [0]),
    ("err-count-line-too-big", b"*" + b"1" * (INLINE_MAX + 1), DEFAULT, False, False, [255]),
    # ---- protocol errors: bulk lengths
    ("err-bulk-negative", b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n",
     DEFAULT, False, False, [0]),
    ("err-bulk-out-of-range", b"*1\r\n$2000000000\r\n", DEFAULT, False, False, [0]),
    ("err-bulk-not-a-number", b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n", DEFAULT, False, False,
     [1]),
    ("err-bulk-leading-zero", b"*1\r\n$01\r\na\r\n", DEFAULT, False, False, [0]),
    ("err-bulk-empty", b"*1\r\n$\r\n", DEFAULT, False, False, [0]),
    ("err-bulk-without-cr", b"*1\r\n$1\na\r\n", DEFAULT, False, False, [0]),
    ("err-bulk-overflows", b"*1\r\n$99999999999999999999\r\n", DEFAULT, False, False, [4]),
    ("err-bulk-over-max-bulk", b"*1\r\n$65\r\n" + b"x" * 65 + b"\r\n", SMALL, False, False, [0]),
    ("err-bulk-restricted", b"*1\r\n$16385\r\n", DEFAULT, True, False, [0]),
    ("err-inline-restricted-bulk", b"b" * (RESTRICTED_BULK + 1) + b"\r\n", DEFAULT, True, False,
     [255]),
    ("err-bulk-none", b"*1\r\n$1\r\na\r\n", NONE, False, False, [0]),
    ("err-bulk-line-too-big", b"*1\r\n$" + b"1" * (INLINE_MAX + 1), DEFAULT, False, False, [255]),
    # ---- protocol errors: the rest
    ("err-expected-dollar", b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", DEFAULT, False, False,
     [0]),
    ("err-expected-dollar-got-star", b"*2\r\n$1\r\na\r\n*1\r\n", DEFAULT, False, False, [2]),
    ("err-no-crlf-after-data", b"*1\r\n$3\r\nfooXY", DEFAULT, False, False, [0]),
    ("err-cr-junk-after-data", b"*1\r\n$3\r\nfoo\rX", DEFAULT, False, False, [0]),
    ("err-lf-alone-after-data", b"*1\r\n$3\r\nfoo\n", DEFAULT, False, False, [0]),
    ("err-crlf-after-big-bulk", b"*1\r\n$%d\r\n" % BIG_ARG + b"q" * BIG_ARG + b"XY", BIG, False,
     True, [200]),
    ("err-too-big-request", mb("a" * 64, "b" * 64, "c" * 64, "d" * 64, "e"), SMALL, False,
     False, [15]),
    ("err-too-big-request-inline", b" ".join([b"x" * 60] * 5) + b"\r\n", SMALL, False, False,
     [0]),
    ("err-unbalanced-quotes", b"set k \"abc\r\nget 'abc\r\n", DEFAULT, False, False, [0]),
    ("err-unbalanced-quotes-after", b"set \"\"\"test-key\"\"\" test-value\r\nping\r\n", DEFAULT,
     False, False, [0]),
    ("err-backslash-end-in-quotes", b"get \"abc\\\r\n", DEFAULT, False, False, [0]),
    ("err-nul-in-quotes", b"get \"a\0b\"\r\n", DEFAULT, False, False, [0]),
    ("err-single-quote-then-char", b"get 'a'b\r\n", DEFAULT, False, False, [0]),
    ("err-after-requests", b"PING\r\n*1\r\n$1\r\na\r\n*1\r\nfoo", DEFAULT, False, False, [1, 0]),
    ("err-inline-too-big", b"a" * (INLINE_MAX + 1) + b"\n", DEFAULT, False, False, [255]),
    ("err-desync-nuls", b"$" + b"\0" * (INLINE_MAX + 8), DEFAULT, False, False, [255, 255]),
]


def entry(payload, limits, restricted, window, sizes):
    assert 1 <= len(sizes) <= 8 and all(0 <= s <= 255 for s in sizes)
    cfg = (limits << 1) | (1 if restricted else 0) | (8 if window else 0)
    return bytes([cfg, len(sizes) - 1] + sizes) + payload


def main():
    os.makedirs(OUT, exist_ok=True)
    names = set()
    for name, payload, limits, restricted, window, sizes in CASES:
        assert name not in names, name
        names.add(name)
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(entry(payload, limits, restricted, window, sizes))
    for old in set(os.listdir(OUT)) - names:  # cases no longer listed
        os.remove(os.path.join(OUT, old))
    print("%d inputs in %s" % (len(CASES), OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())

/*
 * check_common: the shared helpers every program leans on: strict integer parsing, the
 * node address parser (its accept/reject table and the reasons it gives), the clocks,
 * allocation (and the slab of fixed-size objects), the hash table (lookups, its size as it
 * grows and shrinks, walks), reading a file whole, and the log: its line formats and rate
 * limits.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "addr.h"
#include "clock.h"
#include "dict.h"
#include "file.h"
#include "glob.h"
#include "log.h"
#include "parse.h"
#include "slab.h"
#include "xalloc.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

typedef struct ll_case {
    const char *s;
    long long lo, hi;
    bool ok;
    long long want;
} ll_case;

static const ll_case ll_cases[] = {
    {"0", 0, 10, true, 0},
    {"10", 0, 10, true, 10},
    {"-5", -10, 10, true, -5},
    {"11", 0, 10, false, 0},
    {"-1", 0, 10, false, 0},
    {"", 0, 10, false, 0},
    {"-", -10, 10, false, 0},
    {" 5", 0, 10, false, 0},
    {"+5", 0, 10, false, 0},
    {"5 ", 0, 10, false, 0},
    {"5x", 0, 10, false, 0},
    {"0x10", 0, 100, false, 0},
    {"9223372036854775807", 0, 9223372036854775807LL, true, 9223372036854775807LL},
    {"9223372036854775808", 0, 9223372036854775807LL, false, 0},
    {"-9223372036854775808", -9223372036854775807LL - 1, 0, true, -9223372036854775807LL - 1},
};

START_TEST(test_parse_ll)
{
    const ll_case *c = &ll_cases[_i];
    long long v = 42;

    ck_assert_msg(parse_ll(c->s, c->lo, c->hi, &v) == c->ok, "'%s'", c->s);
    ck_assert_int_eq(v, c->ok ? c->want : 42); /* untouched on failure */
}
END_TEST

START_TEST(test_parse_ll_prefix)
{
    long long v;
    const char *rest;

    ck_assert(parse_ll_prefix("64kb", &v, &rest));
    ck_assert_int_eq(v, 64);
    ck_assert_str_eq(rest, "kb");
    ck_assert(!parse_ll_prefix("kb", &v, &rest));
    ck_assert(!parse_ll_prefix("+1", &v, &rest));
}
END_TEST

/* Redis' string2ll: what RESP lengths and Redis' integer arguments must look like. */
typedef struct redis_ll_case {
    const char *s;
    bool ok;
    long long want;
} redis_ll_case;

static const redis_ll_case redis_ll_cases[] = {
    {"0", true, 0},
    {"7", true, 7},
    {"-7", true, -7},
    {"9223372036854775807", true, 9223372036854775807LL},
    {"-9223372036854775808", true, -9223372036854775807LL - 1},
    {"9223372036854775808", false, 0},
    {"-9223372036854775809", false, 0},
    {"", false, 0},
    {"-", false, 0},
    {"-0", false, 0},
    {"007", false, 0},
    {"+1", false, 0},
    {" 1", false, 0},
    {"1 ", false, 0},
    {"1a", false, 0},
    {"000000000000000000001", false, 0}, /* over 20 characters */
};

START_TEST(test_parse_redis_ll)
{
    const redis_ll_case *c = &redis_ll_cases[_i];
    long long v = 42;

    ck_assert_msg(parse_redis_ll(c->s, strlen(c->s), &v) == c->ok, "'%s'", c->s);
    if (c->ok)
        ck_assert_int_eq(v, c->want);
    /* only the n bytes given are read */
    ck_assert(parse_redis_ll("12x", 2, &v) && v == 12);
}
END_TEST

typedef struct addr_case {
    const char *addr;
    const char *host; /* NULL: rejected */
    int port;
    const char *why; /* what the reason must contain */
} addr_case;

static const addr_case addr_cases[] = {
    {"127.0.0.1:9001", "127.0.0.1", 9001, NULL},
    {"localhost:1", "localhost", 1, NULL},
    {"node-1.example_x:65535", "node-1.example_x", 65535, NULL},
    {"[::1]:7447", "[::1]", 7447, NULL},
    {"[fe80::1%eth0]:7447", "[fe80::1%eth0]", 7447, NULL},
    {"127.0.0.1", NULL, 0, "has no port"},
    {"127.0.0.1:", NULL, 0, "expected a port from 1 to 65535"},
    {"127.0.0.1:0", NULL, 0, "expected a port from 1 to 65535"},
    {"127.0.0.1:65536", NULL, 0, "expected a port from 1 to 65535"},
    {"127.0.0.1:9x", NULL, 0, "expected a port from 1 to 65535"},
    {"::1:7447", NULL, 0, "more than one ':'"},
    {":9001", NULL, 0, "has no host"},
    {"a b:9001", NULL, 0, "not allowed in a host name"},
    {"[::1]7447", NULL, 0, "is not [host]:port"},
    {"[]:7447", NULL, 0, "no IPv6 address between its brackets"},
    {"[abc]:7447", NULL, 0, "no IPv6 address between its brackets"},
    {"node1-shard5", NULL, 0, "has no port"},
};

START_TEST(test_addr_split)
{
    const addr_case *c = &addr_cases[_i];
    char host[64] = "", why[256] = "";
    int port = 0;
    bool ok = addr_split(c->addr, strlen(c->addr), host, sizeof(host), &port, why, sizeof(why));

    ck_assert_msg(ok == (c->host != NULL), "'%s': %s", c->addr, why);
    if (ok) {
        ck_assert_str_eq(host, c->host);
        ck_assert_int_eq(port, c->port);
    } else {
        ck_assert_msg(strstr(why, c->why) != NULL, "'%s': '%s'", c->addr, why);
        ck_assert_msg(strstr(why, c->addr) != NULL, "the reason quotes the address: '%s'", why);
    }
}
END_TEST

START_TEST(test_addr_split_bounds)
{
    char host[4];
    int port;

    /* only n bytes are read: the rest of the buffer is not part of the address */
    ck_assert(addr_split("ab:12,cd:34", 5, host, sizeof(host), &port, NULL, 0));
    ck_assert_str_eq(host, "ab");
    ck_assert_int_eq(port, 12);
    /* a host longer than the caller's buffer is refused, not cut */
    ck_assert(!addr_split("abcd:12", 7, host, sizeof(host), &port, NULL, 0));
}
END_TEST

START_TEST(test_clocks)
{
    int64_t ms = clock_now_ms(), us = clock_now_us(), ns = clock_now_ns();

    ck_assert_int_ge(us / 1000, ms);
    ck_assert_int_ge(ns / 1000, us);
    ck_assert_int_ge(clock_now_ms(), ms); /* monotonic */
    /* wall time: after 2020-01-01 and the two units agree */
    ck_assert_int_gt(clock_unix_ms(), 1577836800000LL);
    ck_assert_int_le(clock_unix_ms() - clock_unix_us() / 1000, 1000);
}
END_TEST

START_TEST(test_xalloc)
{
    char *p = xmemdup0("abc\0def", 7), *z = xmalloc(0), *s = xstrdup("nori");
    int *v = xcalloc(4, sizeof(*v));

    ck_assert_mem_eq(p, "abc\0def", 8); /* the NUL after the copy included */
    ck_assert_str_eq(s, "nori");
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(v[i], 0);
    v = xrealloc(v, 1000 * sizeof(*v));
    v[999] = 7;
    ck_assert_int_eq(v[0] + v[999], 7);
    free(p);
    free(z);
    free(s);
    free(v);
}
END_TEST

START_TEST(test_file_read_all)
{
    char path[] = "/tmp/check_common.XXXXXX", err[256] = "";
    int fd = mkstemp(path);
    char *got;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "-----BEGIN X-----\n", 18), 18);
    close(fd);
    got = file_read_all(path, 18, err, sizeof(err));
    ck_assert_str_eq(got, "-----BEGIN X-----\n");
    free(got);
    ck_assert_ptr_null(file_read_all(path, 17, err, sizeof(err)));
    ck_assert_msg(strstr(err, "larger than 17 bytes") != NULL, "%s", err);
    unlink(path);
    ck_assert_ptr_null(file_read_all(path, 100, err, sizeof(err)));
    ck_assert_msg(strstr(err, "cannot open") && strstr(err, path), "%s", err);
}
END_TEST

/* What log_write puts on stderr for one line, with the format and level given. */
static char *logged(log_format f, void (*emit)(void))
{
    static char buf[4096];
    int fds[2], saved = dup(STDERR_FILENO);
    ssize_t n;

    ck_assert_int_eq(pipe(fds), 0);
    dup2(fds[1], STDERR_FILENO);
    log_format_current = f;
    emit();
    log_format_current = LOG_FORMAT_TEXT;
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void emit_quote(void)
{
    log_write(LOG_WARNING, "node %s said \"%s\"", "a:1", "no\nway");
}

static void emit_held(void)
{
    log_write_held(LOG_NOTICE, 3, "up again");
}

/* One matcher for CONFIG GET (case folded) and pub/sub (exact), bounded per request. */
static int glob(const char *pat, const char *s, bool nocase)
{
    long budget = 1000000;

    return glob_match(pat, strlen(pat), s, strlen(s), nocase, &budget);
}

START_TEST(test_glob)
{
    ck_assert_int_eq(glob("norikv:*", "norikv:topology", false), 1);
    ck_assert_int_eq(glob("NORIKV:*", "norikv:topology", false), 0);
    ck_assert_int_eq(glob("NORIKV:*", "norikv:topology", true), 1);
    ck_assert_int_eq(glob("*:t?pology", "norikv:topology", false), 1);
    ck_assert_int_eq(glob("*:t[a-p]pology", "norikv:topology", false), 1);
    ck_assert_int_eq(glob("*:t[^o]pology", "norikv:topology", false), 0);
    ck_assert_int_eq(glob("*:t[z-a]pology", "norikv:topology", false), 1); /* reversed range */
    ck_assert_int_eq(glob("a\\*b", "a*b", false), 1);                      /* escaped star */
    ck_assert_int_eq(glob("a\\*b", "axb", false), 0);
    ck_assert_int_eq(glob("a\\", "a\\", false), 1); /* a trailing backslash is itself */
    ck_assert_int_eq(glob("[abc", "b", false), 1);  /* unclosed class runs to the end */
    ck_assert_int_eq(glob("", "", false), 1);
    ck_assert_int_eq(glob("", "x", false), 0);
    ck_assert_int_eq(glob("***", "", false), 1);
    ck_assert_int_eq(glob("a*b*c", "abxbxc", false), 1);
    ck_assert_int_eq(glob("a*b*c", "abxbxd", false), 0);

    /* a pattern that fails late at every start: n * 100 steps, so the budget runs out and
     * says so; with no budget it still ends (time is the product of the lengths) */
    size_t n = 200000;
    char *subject = xmalloc(n + 1), pat[103];
    memset(subject, 'a', n);
    subject[n] = '\0';
    pat[0] = '*';
    memset(pat + 1, 'a', 100);
    pat[101] = 'b';
    pat[102] = '\0';
    long budget = 1000000;
    ck_assert_int_eq(glob_match(pat, 102, subject, n, false, &budget), -1);
    ck_assert(budget < 0);
    budget = LONG_MAX;
    ck_assert_int_eq(glob_match(pat, 102, subject, 5000, false, &budget), 0);
    ck_assert(LONG_MAX - budget >= 100L * 4900); /* it did the work, and finished */
    free(subject);

    /* a class or a run of stars of a megabyte is read only as far as the budget: the
     * budget ends a few steps below 0, not a megabyte below */
    size_t big = 1 << 20;
    char *long_pat = xmalloc(big + 2);
    long_pat[0] = '*';
    long_pat[1] = '[';
    memset(long_pat + 2, 'a', big);
    for (int star = 0; star < 2; star++) {
        if (star)
            memset(long_pat, '*', big);
        budget = 1000;
        ck_assert_int_eq(glob_match(long_pat, big + 2, "norikv:topology", 15, false, &budget), -1);
        ck_assert(budget < 0 && budget > -4);
    }
    free(long_pat);
    /* the same within its budget finishes, and a class is one character */
    budget = LONG_MAX;
    ck_assert_int_eq(glob_match("*[yz]", 5, "norikv:topology", 15, false, &budget), 1);
    budget = 18; /* not enough to reach the end: none of it is an answer */
    ck_assert_int_eq(glob_match("*[yz]", 5, "norikv:topology", 15, false, &budget), -1);
}
END_TEST

START_TEST(test_log_lines)
{
    char *line, want[64];

    unsetenv("JOURNAL_STREAM");
    line = logged(LOG_FORMAT_TEXT, emit_quote);
    /* 2026-12-01T13:41:50.518Z norikv-sidecar[1761]: warning: ... */
    ck_assert_msg(strlen(line) > 25 && line[4] == '-' && line[10] == 'T' && line[23] == 'Z', "%s",
                  line);
    snprintf(want, sizeof(want), " norikv-sidecar[%ld]: warning: node a:1 said", (long)getpid());
    ck_assert_msg(strstr(line, want) != NULL, "%s", line);
    ck_assert(line[strlen(line) - 1] == '\n');
    line = logged(LOG_FORMAT_JSON, emit_quote);
    snprintf(want, sizeof(want), "\"program\":\"norikv-sidecar\",\"pid\":%ld,", (long)getpid());
    ck_assert_msg(line[0] == '{' && strstr(line, want) != NULL, "%s", line);
    ck_assert_msg(strstr(line, "\"level\":\"warning\",\"message\":\"node a:1 said "
                               "\\\"no\\u000away\\\"\"}\n") != NULL,
                  "%s", line);
    line = logged(LOG_FORMAT_TEXT, emit_held);
    ck_assert_msg(strstr(line, "notice: up again (3 similar lines held back by the rate limit)\n"),
                  "%s", line);
    setenv("JOURNAL_STREAM", "8:1234", 1);
    line = logged(LOG_FORMAT_TEXT, emit_quote);
    ck_assert_msg(strncmp(line, "<4>norikv-sidecar: node a:1", 27) == 0, "%s", line);
    unsetenv("JOURNAL_STREAM");
    ck_assert_int_eq(log_format_parse("JSON"), LOG_FORMAT_JSON);
    ck_assert_int_eq(log_format_parse("text"), LOG_FORMAT_TEXT);
    ck_assert_int_eq(log_format_parse("xml"), -1);
}
END_TEST

/* What the calls of emit put on stderr, whole. */
static char *captured(void (*emit)(void))
{
    static char buf[16384];
    int fds[2], saved = dup(STDERR_FILENO);
    ssize_t n, got = 0;

    ck_assert_int_eq(pipe(fds), 0);
    dup2(fds[1], STDERR_FILENO);
    emit();
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
        got += n;
    close(fds[0]);
    buf[got] = '\0';
    return buf;
}

static int count(const char *text, const char *needle)
{
    int n = 0;

    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* 25 lines of one kind (the same text but for the port: what gRPC says of each failed
 * handshake), between them lines of other kinds */
static void emit_flood(void)
{
    for (int i = 0; i < 25; i++) {
        log_write(LOG_WARNING, "grpc: Handshake failed with 127.0.0.1:%d", 9000 + i);
        if (i % 5 == 0)
            log_write(LOG_NOTICE, "grpc: Handshake failed with 127.0.0.1:%d", 9000 + i);
        if (i % 10 == 0)
            log_write(LOG_WARNING, "node node%d marked down", i);
    }
}

static void emit_sweep(void)
{
    log_sweep();
}

static void emit_one_more(void)
{
    log_write(LOG_WARNING, "grpc: Handshake failed with 127.0.0.1:%d", 1);
}

/* Every line passes the limit of its kind: LOG_BURST of a kind per window, the rest
 * counted and told once, by the sweep or by the kind's next line. */
START_TEST(test_log_burst)
{
    char *out;

    unsetenv("JOURNAL_STREAM");
    log_burst_window_ms = 300;
    out = captured(emit_flood);
    ck_assert_int_eq(count(out, "warning: grpc: Handshake failed with 127.0.0.1:"), LOG_BURST);
    ck_assert_int_eq(count(out, "notice: grpc: Handshake failed"), 5); /* another level */
    ck_assert_int_eq(count(out, "marked down"), 3);                    /* another text */
    ck_assert_int_eq(count(out, "suppressed"), 0);
    ck_assert_msg(strstr(captured(emit_sweep), "suppressed") == NULL, "%s", out);
    usleep(350 * 1000); /* the window is over: the sweep tells the count, once */
    out = captured(emit_sweep);
    ck_assert_int_eq(count(out, "\n"), 1);
    ck_assert_msg(strstr(out, "warning: suppressed 15 similar lines (over 10 in 0.3 s), the last: "
                              "grpc: Handshake failed with 127.0.0.1:9024\n") != NULL,
                  "%s", out);
    ck_assert_str_eq(captured(emit_sweep), "");
    /* a new window: the next lines go out; past the burst, the kind's next line after the
     * window tells the count before itself */
    out = captured(emit_flood);
    ck_assert_int_eq(count(out, "warning: grpc: Handshake failed"), LOG_BURST);
    usleep(350 * 1000);
    out = captured(emit_one_more);
    ck_assert_int_eq(count(out, "\n"), 2);
    ck_assert_msg(strstr(out, "suppressed 15 similar lines") < strstr(out, "127.0.0.1:1\n") &&
                      strstr(out, "suppressed 15 similar lines") != NULL,
                  "%s", out);
    log_burst_window_ms = LOG_LIMIT_MS;
}
END_TEST

START_TEST(test_log_limit)
{
    log_limit l;
    unsigned held = 99;

    memset(&l, 0, sizeof(l));
    ck_assert(log_limit_pass(&l, &held));
    ck_assert_uint_eq(held, 0);
    for (int i = 0; i < 5; i++) /* a burst within the window: held back */
        ck_assert(!log_limit_pass(&l, &held));
    ck_assert_uint_eq(l.held, 5);
    l.next_ms = clock_now_ms(); /* the window is over */
    ck_assert(log_limit_pass(&l, &held));
    ck_assert_uint_eq(held, 5);
    ck_assert_uint_eq(l.held, 0);
}
END_TEST

START_TEST(test_log_flag)
{
    log_flag f;
    unsigned held = 0;

    memset(&f, 0, sizeof(f));
    ck_assert(log_flag_set(&f, true, &held));   /* down: told */
    ck_assert(!log_flag_set(&f, false, &held)); /* up within the window: held */
    ck_assert(!log_flag_due(&f, &held));        /* the window is not over */
    f.lim.next_ms = clock_now_ms();
    ck_assert(log_flag_due(&f, &held)); /* over, and the log still says down: tell up */
    ck_assert(!f.told && !f.now);
    ck_assert_uint_eq(held, 1);
    ck_assert(!log_flag_due(&f, &held)); /* told once */
    /* down and up again inside a window: the log's last word (up) is still true */
    ck_assert(!log_flag_set(&f, true, &held));
    ck_assert(!log_flag_set(&f, false, &held));
    f.lim.next_ms = clock_now_ms();
    ck_assert(!log_flag_due(&f, &held));
}
END_TEST

/* Objects come zeroed, aligned and apart; freed ones are reused before a block is mapped;
 * a block whose objects are all gone is unmapped but for one spare, which slab_trim
 * gives back. */
START_TEST(test_slab)
{
    enum { COUNT = 1000, SIZE = 1000 };
    static unsigned char *obj[COUNT];
    static unsigned char want[SIZE];
    slab_pool p;
    size_t peak;

    slab_init(&p, SIZE);
    ck_assert_uint_eq(p.size, 1008);
    for (int i = 0; i < COUNT; i++) {
        obj[i] = slab_alloc(&p);
        ck_assert_uint_eq((uintptr_t)obj[i] % 16, 0);
        memset(want, 0, SIZE);
        ck_assert(memcmp(obj[i], want, SIZE) == 0);
        memset(obj[i], i & 0xff, SIZE);
    }
    ck_assert_uint_eq(p.objects, COUNT);
    peak = p.blocks;
    ck_assert_uint_ge(peak, COUNT * 1008 / (64 * 1024) + 1); /* about 64 to a block */
    for (int i = 0; i < COUNT; i++) {                        /* nobody wrote over another */
        memset(want, i & 0xff, SIZE);
        ck_assert(memcmp(obj[i], want, SIZE) == 0);
    }
    for (int i = 0; i < COUNT; i += 2)
        slab_free(&p, obj[i]);
    ck_assert_uint_eq(p.blocks, peak); /* every block still has objects */
    for (int i = 0; i < COUNT; i += 2)
        obj[i] = slab_alloc(&p);
    ck_assert_uint_eq(p.blocks, peak); /* the holes were filled first */
    for (int i = 0; i < COUNT; i++)
        slab_free(&p, obj[i]);
    slab_free(&p, NULL);
    ck_assert_uint_eq(p.objects, 0);
    ck_assert_uint_eq(p.blocks, 1); /* the spare */
    obj[0] = slab_alloc(&p);        /* from the spare, zeroed again */
    ck_assert_uint_eq(p.blocks, 1);
    ck_assert_uint_eq(obj[0][0], 0);
    slab_free(&p, obj[0]);
    slab_trim(&p);
    ck_assert_uint_eq(p.blocks, 0);
    slab_trim(&p);
}
END_TEST

#if defined(__SANITIZE_ADDRESS__)
/* Under AddressSanitizer a use of a freed slab object is reported, as one of malloc's
 * would be: the child running this exits with ASan's status 1. */
START_TEST(test_slab_use_after_free_reported)
{
    slab_pool p;
    char *a, *b;

    slab_init(&p, 256);
    a = slab_alloc(&p);
    b = slab_alloc(&p);
    b[100] = 1; /* a live object: no report */
    slab_free(&p, a);
    fprintf(stderr, "check_common: a use after free follows, on purpose\n");
    a[100] = 1;
}
END_TEST
#endif

/* ---- dict ---------------------------------------------------------------------------- */

typedef struct item {
    dict_entry e;
    int value;
    size_t len;
    char key[24];
} item;

static item *item_new(int value)
{
    item *it = xcalloc(1, sizeof(*it));

    it->value = value;
    it->len = (size_t)snprintf(it->key, sizeof(it->key), "key:%d", value);
    return it;
}

static item *lookup(const dict *d, int value)
{
    char key[24];
    size_t len = (size_t)snprintf(key, sizeof(key), "key:%d", value);
    dict_entry *e = dict_find(d, key, len);

    return e != NULL ? dict_item(e, item, e) : NULL;
}

/* The size rule: no memory while empty, never more entries than buckets, and, past the
 * smallest table, never under a quarter full. */
static void assert_sized(const dict *d)
{
    if (d->count == 0) {
        ck_assert_ptr_null(d->buckets);
        ck_assert_uint_eq(dict_mem(d), 0);
        return;
    }
    ck_assert_uint_le(d->count, d->nbuckets);
    ck_assert(d->nbuckets == 8 || d->count >= d->nbuckets / 4);
    ck_assert_uint_eq(dict_mem(d), d->nbuckets * sizeof(dict_entry *));
}

/* Every entry once in a walk; returns how many, and their values' sum in *sum. */
static size_t walk(const dict *d, long *sum)
{
    size_t n = 0;

    *sum = 0;
    for (dict_entry *e = dict_next(d, NULL); e != NULL; e = dict_next(d, e)) {
        *sum += dict_item(e, item, e)->value;
        n++;
    }
    return n;
}

START_TEST(test_dict)
{
    enum { n = 20000 };
    static item *items[n];
    dict d;
    long sum;

    dict_init(&d, dict_seed());
    assert_sized(&d);
    ck_assert_ptr_null(lookup(&d, 1));
    ck_assert_ptr_null(dict_next(&d, NULL));
    for (int i = 0; i < n; i++) {
        items[i] = item_new(i);
        dict_add(&d, &items[i]->e, items[i]->key, items[i]->len);
        assert_sized(&d);
    }
    ck_assert_uint_eq(d.count, n);
    for (int i = 0; i < n; i++)
        ck_assert_ptr_eq(lookup(&d, i), items[i]);
    ck_assert_ptr_null(lookup(&d, n));
    ck_assert_ptr_null(dict_find(&d, "key:1", 4)); /* a prefix is another key */
    ck_assert_uint_eq(walk(&d, &sum), n);
    ck_assert_int_eq(sum, (long)n * (n - 1) / 2);

    /* the table shrinks as it empties, and holds nothing once empty */
    size_t full = dict_mem(&d);
    for (int i = 0; i < n; i++) {
        if (i % 10 == 0)
            continue;
        dict_remove(&d, &items[i]->e);
        free(items[i]);
        items[i] = NULL;
        assert_sized(&d);
    }
    ck_assert_uint_eq(d.count, n / 10);
    ck_assert_uint_le(dict_mem(&d), full / 4);
    for (int i = 0; i < n; i++)
        ck_assert_ptr_eq(lookup(&d, i), items[i]);
    ck_assert_uint_eq(walk(&d, &sum), n / 10);
    for (int i = 0; i < n; i += 10) {
        dict_remove(&d, &items[i]->e);
        free(items[i]);
        assert_sized(&d);
    }
    ck_assert_uint_eq(d.count, 0);
    ck_assert_uint_eq(walk(&d, &sum), 0);
    dict_release(&d);
}
END_TEST

/* Keys are bytes: empty, with NULs, differing in their last byte or their length. */
START_TEST(test_dict_bytes)
{
    static const struct {
        const char *key;
        size_t len;
    } keys[] = {{"", 0}, {"\0", 1}, {"\0\0", 2}, {"a\0b", 3}, {"a\0c", 3}, {"a", 1}, {"ab", 2}};
    item its[7];
    dict d;

    dict_init(&d, 42);
    for (size_t i = 0; i < N(keys); i++) {
        ck_assert_ptr_null(dict_find(&d, keys[i].key, keys[i].len));
        its[i].value = (int)i;
        dict_add(&d, &its[i].e, keys[i].key, keys[i].len);
    }
    for (size_t i = 0; i < N(keys); i++) {
        dict_entry *e = dict_find(&d, keys[i].key, keys[i].len);
        ck_assert_ptr_nonnull(e);
        ck_assert_int_eq(dict_item(e, item, e)->value, (int)i);
    }
    dict_remove(&d, &its[0].e);
    ck_assert_ptr_null(dict_find(&d, "", 0));
    ck_assert_ptr_nonnull(dict_find(&d, "\0", 1));
    dict_release(&d);
    ck_assert_ptr_null(dict_find(&d, "a", 1));
}
END_TEST

/* The seed decides where a key goes: two tables seeded apart place keys apart, so keys
 * chosen to collide in one do not in the other; one seed always hashes alike. */
START_TEST(test_dict_seeds)
{
    item a, b, c;
    dict d1, d2, d3;
    uint64_t s1 = dict_seed(), s2 = dict_seed();

    ck_assert(s1 != s2);
    dict_init(&d1, s1);
    dict_init(&d2, s2);
    dict_init(&d3, s1);
    dict_add(&d1, &a.e, "norikv:topology", 15);
    dict_add(&d2, &b.e, "norikv:topology", 15);
    dict_add(&d3, &c.e, "norikv:topology", 15);
    ck_assert(a.e.hash != b.e.hash);
    ck_assert(a.e.hash == c.e.hash);
    dict_release(&d1);
    dict_release(&d2);
    dict_release(&d3);
}
END_TEST

static Suite *common_suite(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("helpers");

    tcase_add_loop_test(tc, test_parse_ll, 0, (int)N(ll_cases));
    tcase_add_test(tc, test_parse_ll_prefix);
    tcase_add_loop_test(tc, test_parse_redis_ll, 0, (int)N(redis_ll_cases));
    tcase_add_loop_test(tc, test_addr_split, 0, (int)N(addr_cases));
    tcase_add_test(tc, test_addr_split_bounds);
    tcase_add_test(tc, test_clocks);
    tcase_add_test(tc, test_xalloc);
    tcase_add_test(tc, test_slab);
#if defined(__SANITIZE_ADDRESS__)
    tcase_add_exit_test(tc, test_slab_use_after_free_reported, 1);
#endif
    tcase_add_test(tc, test_file_read_all);
    tcase_add_test(tc, test_glob);
    tcase_add_test(tc, test_dict);
    tcase_add_test(tc, test_dict_bytes);
    tcase_add_test(tc, test_dict_seeds);
    tcase_add_test(tc, test_log_lines);
    tcase_add_test(tc, test_log_burst);
    tcase_add_test(tc, test_log_limit);
    tcase_add_test(tc, test_log_flag);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(common_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

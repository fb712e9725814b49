/*
 * check_common: the shared helpers every program leans on: strict integer parsing, the
 * node address parser (its accept/reject table and the reasons it gives), the clocks and
 * allocation.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "addr.h"
#include "clock.h"
#include "parse.h"
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

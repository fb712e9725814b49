/*
 * check_stats: the sidecar's counters that need arithmetic: the latency histogram behind
 * INFO latencystats (each value lands in a bucket whose upper end is within 1/8 above it,
 * percentiles by rank), the fixed buckets /metrics exports (fine between 1 and 5 ms), error
 * replies by kind (the first word, at most STATS_ERROR_KINDS kinds), the memory figures
 * and the process_* ones.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "stats.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* what test_memory touches to see RSS move */
#define RSS_REGION ((size_t)32 << 20)

static const uint64_t values[] = {0,    1,     7,      8,       9,       15,         16,
                                  17,   100,   103,    104,     999,     1000,       1023,
                                  1024, 65537, 999999, 1000000, 3600000, 1ULL << 39, 1ULL << 50};

/* One value alone: every percentile is the upper end of its bucket, at or above it and
 * within an eighth of it (values up to 2^42 us; beyond, the last bucket). */
START_TEST(test_one_value)
{
    uint64_t v = values[_i];
    cmd_stat cs;
    double p;

    memset(&cs, 0, sizeof(cs));
    stats_record_latency(&cs, v);
    p = stats_latency_percentile(&cs, 50);
    ck_assert_double_eq(p, stats_latency_percentile(&cs, 99.9));
    if (v < (1ULL << 42)) {
        ck_assert_msg(p >= (double)v && p <= (double)v * 1.125 + 1, "%llu -> %.0f",
                      (unsigned long long)v, p);
    }
    free(cs.lat);
}
END_TEST

START_TEST(test_percentiles)
{
    cmd_stat cs;

    memset(&cs, 0, sizeof(cs));
    ck_assert_double_eq(stats_latency_percentile(&cs, 50), 0);
    for (int i = 0; i < 990; i++)
        stats_record_latency(&cs, 100);
    for (int i = 0; i < 9; i++)
        stats_record_latency(&cs, 10000);
    stats_record_latency(&cs, 1000000);
    /* 1000 calls: the 500th and the 990th took 100 us, the 999th 10 ms, the last 1 s */
    ck_assert_double_eq(stats_latency_percentile(&cs, 50), stats_latency_percentile(&cs, 99));
    ck_assert(stats_latency_percentile(&cs, 50) < 113);
    ck_assert(stats_latency_percentile(&cs, 99.9) >= 10000 &&
              stats_latency_percentile(&cs, 99.9) < 11250);
    ck_assert(stats_latency_percentile(&cs, 100) >= 1000000);
    free(cs.lat);
}
END_TEST

/* LATENCY HISTOGRAM's points: the calls below each power of two of microseconds, only
 * where the count grows, the last one every call (the largest value included). */
START_TEST(test_latency_cdf)
{
    static const uint64_t took[] = {0, 1, 3, 100, 1000, 1023, 1024, UINT64_MAX};
    static const uint64_t want_upto[] = {1, 2, 4, 128, 1024, 2048};
    static const uint64_t want_count[] = {1, 2, 3, 4, 6, 7};
    uint64_t upto[STATS_CDF_POINTS], count[STATS_CDF_POINTS];
    cmd_stat cs;
    size_t n;

    memset(&cs, 0, sizeof(cs));
    ck_assert_uint_eq(stats_latency_cdf(&cs, upto, count), 0);
    for (size_t i = 0; i < sizeof(took) / sizeof(took[0]); i++)
        stats_record_latency(&cs, took[i]);
    n = stats_latency_cdf(&cs, upto, count);
    ck_assert_uint_eq(n, 7);
    for (size_t i = 0; i < 6; i++) {
        ck_assert_uint_eq(upto[i], want_upto[i]);
        ck_assert_uint_eq(count[i], want_count[i]);
    }
    ck_assert_uint_eq(count[6], 8); /* the largest, in the last bucket */
    ck_assert(upto[6] > 2048);
    free(cs.lat);
}
END_TEST

START_TEST(test_prom_buckets)
{
    cmd_stat cs;
    uint64_t total = 0;

    memset(&cs, 0, sizeof(cs));
    stats_record_latency(&cs, 100);      /* le 0.0001 */
    stats_record_latency(&cs, 101);      /* le 0.00025 */
    stats_record_latency(&cs, 10000000); /* le 10 */
    stats_record_latency(&cs, 10000001); /* only +Inf */
    ck_assert_uint_eq(cs.prom[0], 1);
    ck_assert_uint_eq(cs.prom[1], 1);
    ck_assert_uint_eq(cs.prom[STATS_PROM_COUNT - 1], 1);
    for (int i = 0; i < STATS_PROM_COUNT; i++)
        total += cs.prom[i];
    ck_assert_uint_eq(total, 3);
    for (int i = 1; i < STATS_PROM_COUNT; i++)
        ck_assert(stats_prom_bounds_us[i] > stats_prom_bounds_us[i - 1]);
    free(cs.lat);
}
END_TEST

/* Between 1 and 5 ms, where a command that goes to the cluster usually ends, the buckets
 * are at most half a millisecond apart; they span 100 us to 10 s. */
START_TEST(test_prom_buckets_fine)
{
    cmd_stat cs;
    int i2ms = -1;

    ck_assert_uint_eq(stats_prom_bounds_us[0], 100);
    ck_assert_uint_eq(stats_prom_bounds_us[STATS_PROM_COUNT - 1], 10000000);
    for (int i = 1; i < STATS_PROM_COUNT; i++) {
        if (stats_prom_bounds_us[i] > 1000 && stats_prom_bounds_us[i - 1] < 5000)
            ck_assert_uint_le(stats_prom_bounds_us[i] - stats_prom_bounds_us[i - 1], 500);
        if (stats_prom_bounds_us[i] == 2000)
            i2ms = i;
    }
    ck_assert_int_ge(i2ms, 0);
    memset(&cs, 0, sizeof(cs));
    stats_record_latency(&cs, 1800); /* le 0.002, above 0.0015 */
    ck_assert_uint_eq(cs.prom[i2ms], 1);
    free(cs.lat);
}
END_TEST

/* The process_* figures, against what the test does to its own process. */
START_TEST(test_process)
{
    stats_process before, after;
    struct rlimit rl;
    int fds[8];
    time_t now = time(NULL);
    clock_t c0 = clock();
    char *volatile p = malloc(8 << 20);

    memset(p, 1, 8 << 20);
    ck_assert_int_eq(p[(8 << 20) - 1], 1); /* read back: the pages stay touched */
    stats_process_read(&before);
    for (size_t i = 0; i < N(fds); i++)
        ck_assert_int_ge(fds[i] = open("/dev/null", O_RDONLY), 0);
    while (clock() - c0 < CLOCKS_PER_SEC / 4) /* a quarter of a second of CPU */
        ;
    stats_process_read(&after);
    for (size_t i = 0; i < N(fds); i++)
        close(fds[i]);
    ck_assert_double_eq(after.open_fds, before.open_fds + (double)N(fds));
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    ck_assert_double_eq(after.max_fds, (double)rl.rlim_cur);
    ck_assert_double_ge(after.resident_bytes, 8 << 20);
    ck_assert_double_ge(after.virtual_bytes, after.resident_bytes);
    ck_assert_double_ge(after.cpu_seconds, before.cpu_seconds + 0.2);
    ck_assert_double_le(after.start_time, (double)now + 1);
    ck_assert_double_ge(after.start_time, (double)now - 600);
    free(p);
}
END_TEST

START_TEST(test_error_kinds)
{
    stats st;
    char name[32];

    stats_init(&st, 1);
    stats_count_error(&st, "ERR unknown command 'x'", 23);
    stats_count_error(&st, "ERR wrong number of arguments", 29);
    stats_count_error(&st, "UNAVAILABLE every node", 22);
    stats_count_error(&st, "NOAUTH", 6);
    stats_count_error(&st, "", 0);
    ck_assert_int_eq(st.nerrors, 3);
    ck_assert_str_eq(st.errors[0].name, "ERR");
    ck_assert_uint_eq(st.errors[0].count, 2);
    ck_assert_str_eq(st.errors[1].name, "UNAVAILABLE");
    ck_assert_str_eq(st.errors[2].name, "NOAUTH");
    for (int i = 0; i < STATS_ERROR_KINDS + 5; i++) {
        int n = snprintf(name, sizeof(name), "KIND%d x", i);
        stats_count_error(&st, name, (size_t)n);
    }
    ck_assert_int_eq(st.nerrors, STATS_ERROR_KINDS);
    ck_assert_uint_eq(st.errors_untold, 3 + 5);
    stats_free(&st);
}
END_TEST

START_TEST(test_memory)
{
    /* volatile: the compiler may not elide a block nobody reads */
    char *volatile p = malloc(1 << 20);
    long page = sysconf(_SC_PAGESIZE);
    uint64_t before, touched, after;
    char *region;

    memset(p, 1, 1 << 20);
    ck_assert_uint_ge(stats_used_memory(), 1 << 20);
    free(p);

    /* /proc/self/statm's resident figure comes from per-CPU counters that the kernel
     * folds in only every few dozen pages per CPU, so a process that touched 1 MiB can read
     * 944 KiB: the region is many times that slack, and the figure must move by most of it,
     * up when the pages are touched and down when they are unmapped. */
    before = stats_rss_memory();
    region = mmap(NULL, RSS_REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(region, MAP_FAILED);
    for (size_t off = 0; off < RSS_REGION; off += (size_t)page)
        ((volatile char *)region)[off] = 1;
    touched = stats_rss_memory();
    ck_assert_uint_ge(touched, before + RSS_REGION * 3 / 4);
    ck_assert_int_eq(munmap(region, RSS_REGION), 0);
    after = stats_rss_memory();
    ck_assert_uint_le(after + RSS_REGION * 3 / 4, touched);
}
END_TEST

static Suite *stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("stats");

    tcase_add_loop_test(tc, test_one_value, 0, (int)N(values));
    tcase_add_test(tc, test_percentiles);
    tcase_add_test(tc, test_latency_cdf);
    tcase_add_test(tc, test_prom_buckets);
    tcase_add_test(tc, test_prom_buckets_fine);
    tcase_add_test(tc, test_process);
    tcase_add_test(tc, test_error_kinds);
    tcase_add_test(tc, test_memory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(stats_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

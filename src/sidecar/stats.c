/*
 * stats: the sidecar's own counters: setting up the per-command slots, the once-a-second
 * rate sample, latency histograms, error kinds and memory figures. Counting itself is a
 * plain increment where things happen; rendering them is info.c's and metrics.c's job.
 */
#include "stats.h"

#include <dirent.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "xalloc.h"

const uint64_t stats_prom_bounds_us[STATS_PROM_COUNT] = {
    100,  250,  500,   750,   1000,  1500,   2000,   2500,   3000,    3500,    4000,    4500,
    5000, 7500, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

void stats_init(stats *st, size_t ncmds)
{
    memset(st, 0, sizeof(*st));
    st->cmds = xcalloc(ncmds, sizeof(*st->cmds));
    st->ncmds = ncmds;
}

void stats_free(stats *st)
{
    for (size_t i = 0; st->cmds != NULL && i < st->ncmds; i++)
        free(st->cmds[i].lat);
    free(st->cmds);
    st->cmds = NULL;
}

void stats_sample(stats *st)
{
    uint64_t used = stats_used_memory();

    st->ops_per_sec = st->total_commands_processed - st->last_commands;
    st->last_commands = st->total_commands_processed;
    if (used > st->peak_memory)
        st->peak_memory = used;
}

/* Values below STATS_LAT_SUB have a bucket each; above, a power of two is split in
 * STATS_LAT_SUB equal parts. */
static int lat_bucket(uint64_t us)
{
    int e, b;

    if (us < STATS_LAT_SUB)
        return (int)us;
    e = 63 - __builtin_clzll(us); /* >= 3 */
    b = (e - 2) * STATS_LAT_SUB + (int)((us >> (e - 3)) & (STATS_LAT_SUB - 1));
    return b < STATS_LAT_BUCKETS ? b : STATS_LAT_BUCKETS - 1;
}

/* The largest value bucket b holds. */
static uint64_t lat_upper(int b)
{
    int e, m;

    if (b < STATS_LAT_SUB)
        return (uint64_t)b;
    e = b / STATS_LAT_SUB + 2;
    m = b % STATS_LAT_SUB;
    return ((uint64_t)(STATS_LAT_SUB + m + 1) << (e - 3)) - 1;
}

void stats_record_latency(cmd_stat *cs, uint64_t usec)
{
    if (cs->lat == NULL)
        cs->lat = xcalloc(STATS_LAT_BUCKETS, sizeof(*cs->lat));
    cs->lat[lat_bucket(usec)]++;
    for (int i = 0; i < STATS_PROM_COUNT; i++) {
        if (usec <= stats_prom_bounds_us[i]) {
            cs->prom[i]++;
            break;
        }
    }
}

double stats_latency_percentile(const cmd_stat *cs, double pct)
{
    uint64_t total = 0, seen = 0, rank;

    if (cs->lat == NULL)
        return 0;
    for (int b = 0; b < STATS_LAT_BUCKETS; b++)
        total += cs->lat[b];
    if (total == 0)
        return 0;
    rank = (uint64_t)((double)total * pct / 100.0 + 0.999999);
    if (rank < 1)
        rank = 1;
    for (int b = 0; b < STATS_LAT_BUCKETS; b++) {
        seen += cs->lat[b];
        if (seen >= rank)
            return (double)lat_upper(b);
    }
    return (double)lat_upper(STATS_LAT_BUCKETS - 1);
}

size_t stats_latency_cdf(const cmd_stat *cs, uint64_t *upto_us, uint64_t *count)
{
    uint64_t seen = 0;
    size_t n = 0;
    int b = 0;

    if (cs->lat == NULL)
        return 0;
    /* bucket b holds values up to lat_upper(b), and a power of two starts a bucket */
    for (int k = 0; k < STATS_CDF_POINTS && b < STATS_LAT_BUCKETS; k++) {
        uint64_t bound = (uint64_t)1 << k, before = seen;
        while (b < STATS_LAT_BUCKETS && (lat_upper(b) < bound || k == STATS_CDF_POINTS - 1))
            seen += cs->lat[b++];
        if (seen > before) {
            upto_us[n] = bound;
            count[n++] = seen;
        }
    }
    return n;
}

void stats_count_error(stats *st, const char *text, size_t len)
{
    size_t n = 0;

    while (n < len && n + 1 < STATS_ERROR_NAME_MAX && text[n] != ' ' && text[n] != '\r' &&
           text[n] != '\n')
        n++;
    if (n == 0)
        return;
    for (int i = 0; i < st->nerrors; i++) {
        if (strlen(st->errors[i].name) == n && memcmp(st->errors[i].name, text, n) == 0) {
            st->errors[i].count++;
            return;
        }
    }
    if (st->nerrors == STATS_ERROR_KINDS) {
        st->errors_untold++;
        return;
    }
    memcpy(st->errors[st->nerrors].name, text, n);
    st->errors[st->nerrors].name[n] = '\0';
    st->errors[st->nerrors].count = 1;
    st->nerrors++;
}

#if defined(__SANITIZE_ADDRESS__)
#define STATS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STATS_ASAN 1
#endif
#endif
#ifdef STATS_ASAN
/* AddressSanitizer's allocator replaces glibc's, whose mallinfo2 then reports nothing */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

uint64_t stats_used_memory(void)
{
#ifdef STATS_ASAN
    return (uint64_t)__sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();

    return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
#endif
}

uint64_t stats_rss_memory(void)
{
    unsigned long long size, resident;
    FILE *f = fopen("/proc/self/statm", "r");
    long page = sysconf(_SC_PAGESIZE);
    int got;

    if (f == NULL)
        return 0;
    got = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    return got == 2 && page > 0 ? (uint64_t)resident * (uint64_t)page : 0;
}

/* utime, stime and starttime in clock ticks, vsize in bytes and rss in pages, from
 * /proc/self/stat (proc(5): fields 14, 15, 22, 23 and 24). The command name, field 2, may
 * hold spaces and parentheses: the fields are counted from its closing one. */
static bool read_stat(unsigned long *utime, unsigned long *stime, unsigned long long *start,
                      unsigned long *vsize, long *rss)
{
    char buf[1024];
    size_t n;
    const char *rest;
    FILE *f = fopen("/proc/self/stat", "r");

    if (f == NULL)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    rest = strrchr(buf, ')');
    return rest != NULL &&
           sscanf(rest + 1,
                  " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d "
                  "%llu %lu %ld",
                  utime, stime, start, vsize, rss) == 5;
}

/* The system's boot time, seconds since the Unix epoch (/proc/stat's btime); -1 unknown. */
static double boot_time(void)
{
    char line[256];
    long long btime = -1;
    FILE *f = fopen("/proc/stat", "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "btime %lld", &btime) == 1)
            break;
    }
    fclose(f);
    return (double)btime;
}

/* Entries of /proc/self/fd but the one reading it; -1 when it cannot be read (out of
 * descriptors, say). */
static double open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    double n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
            n++;
    }
    closedir(d);
    return n;
}

void stats_process_read(stats_process *p)
{
    unsigned long utime, stime, vsize;
    unsigned long long start;
    long rss, tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    double boot = boot_time();
    struct rlimit rl;

    p->cpu_seconds = p->start_time = p->resident_bytes = p->virtual_bytes = -1;
    if (read_stat(&utime, &stime, &start, &vsize, &rss) && tick > 0) {
        p->cpu_seconds = (double)(utime + stime) / (double)tick;
        if (boot >= 0)
            p->start_time = boot + (double)start / (double)tick;
        p->virtual_bytes = (double)vsize;
        if (page > 0)
            p->resident_bytes = (double)rss * (double)page;
    }
    p->open_fds = open_fds();
    p->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                     ? (double)rl.rlim_cur
                     : -1;
}

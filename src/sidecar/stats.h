/*
 * stats: the sidecar's own counters, from one table (connections, commands, bytes) plus
 * one slot per command table entry (calls, errors, latency histograms), error replies by
 * kind, and memory figures. INFO, NORI.STATS, /metrics and the systemd status line are
 * rendered from it by info.c and metrics.c, the cluster client's figures from kv.h's table.
 * Counting is a plain increment on the loop thread; reading costs nothing until someone asks.
 */
#ifndef NORIKV_STATS_H
#define NORIKV_STATS_H

#include <stddef.h>
#include <stdint.h>

/* name, help */
#define STATS_TABLE(X)                                                                             \
    X(total_connections_received, "client connections accepted")                                   \
    X(rejected_connections, "connections refused at max_clients")                                  \
    X(total_commands_processed, "commands executed, local or on the cluster")                      \
    X(total_error_replies, "error replies sent")                                                   \
    X(protocol_errors, "connections closed after a protocol error")                                \
    X(keyspace_hits, "keys read that existed")                                                     \
    X(keyspace_misses, "keys read that did not exist")                                             \
    X(total_net_input_bytes, "bytes read from clients")                                            \
    X(total_net_output_bytes, "bytes written to clients")                                          \
    X(client_query_pauses, "times reading from a client paused for its backlog")                   \
    X(client_output_buffer_limit_disconnections,                                                   \
      "subscribers and monitors closed: unsent output over reply_backlog with more coming")        \
    X(replies_over_max, "requests answered with an error because their reply was over max_reply")  \
    X(accept_pauses, "times accepting paused for lack of file descriptors (EMFILE, ENFILE)")       \
    X(http_rejected_connections,                                                                   \
      "connections to the metrics listener closed at once, over metrics.max_connections")          \
    X(http_request_timeouts,                                                                       \
      "connections to the metrics listener closed without a whole request in 10 s")                \
    X(cas_rounds, "compare-and-swap rounds: reads of a key to modify it")                          \
    X(cas_conflicts, "rounds whose conditional write found the key changed")                       \
    X(cas_exhausted, "read-modify-writes that gave up with CONFLICT after cas_max_rounds")         \
    X(cas_waits, "read-modify-writes that waited for another on the same key")                     \
    X(cas_groups, "groups of read-modify-writes on one key that shared their rounds (2 or more)")  \
    X(cas_merged_blocks, "read-modify-writes that ran in such a group")                            \
    X(cas_watch_aborts, "EXECs answered nil because the watched key changed")

/*
 * Latency of one command, two ways: a log-linear histogram (STATS_LAT_SUB buckets per power
 * of two of microseconds, 1/8 relative precision) for INFO latencystats' percentiles, and
 * the fixed buckets /metrics exports (stats_prom_bounds_us: 100 us to 10 s, upper bounds,
 * half a millisecond apart from 1 to 5 ms, where a command that goes to the cluster
 * usually ends).
 */
#define STATS_LAT_SUB     8
#define STATS_LAT_BUCKETS (STATS_LAT_SUB * 40)
#define STATS_PROM_COUNT  24
extern const uint64_t stats_prom_bounds_us[STATS_PROM_COUNT];

typedef struct cmd_stat {
    uint64_t calls, usec, failed_calls, rejected_calls;
    uint64_t *lat;                   /* STATS_LAT_BUCKETS, from the command's first call */
    uint64_t prom[STATS_PROM_COUNT]; /* calls within each bound (and above the one before) */
} cmd_stat;

/* Error replies by their first word ("ERR", "UNAVAILABLE", ...), as INFO errorstats. */
#define STATS_ERROR_KINDS    128 /* as Redis: further kinds are not told apart */
#define STATS_ERROR_NAME_MAX 32
typedef struct error_stat {
    char name[STATS_ERROR_NAME_MAX];
    uint64_t count;
} error_stat;

typedef struct stats {
#define STATS_FIELD(name, help) uint64_t name;
    STATS_TABLE(STATS_FIELD)
#undef STATS_FIELD
    cmd_stat *cmds; /* one per command table entry */
    size_t ncmds;
    /* commands per second, from the once-a-second sample */
    uint64_t last_commands;
    uint64_t ops_per_sec;
    error_stat errors[STATS_ERROR_KINDS];
    int nerrors;
    uint64_t errors_untold; /* error replies of kinds beyond STATS_ERROR_KINDS */
    uint64_t peak_memory;   /* largest used_memory seen by the sample */
} stats;

/* ncmds: the size of the command table */
void stats_init(stats *st, size_t ncmds);
void stats_free(stats *st);
void stats_sample(stats *st); /* once a second */

/* One finished call of a command, taking usec. */
void stats_record_latency(cmd_stat *cs, uint64_t usec);
/* The latency below which pct percent of the command's calls took, in microseconds (the
 * upper end of its histogram bucket); 0 before any call. */
double stats_latency_percentile(const cmd_stat *cs, double pct);
/* LATENCY HISTOGRAM's cumulative distribution, as Redis answers it: for each power of two
 * of microseconds K (1, 2, 4, ...) at which the count grows, the calls that took less than
 * K (K into upto_us[n], the count into count[n]); returns n, at most STATS_CDF_POINTS. */
#define STATS_CDF_POINTS 64
size_t stats_latency_cdf(const cmd_stat *cs, uint64_t *upto_us, uint64_t *count);
/* An error reply: text is the error without its "-", kind its first word. */
void stats_count_error(stats *st, const char *text, size_t len);

/* Bytes the allocator has handed out and not got back (mallinfo2), and the process'
 * resident set (/proc/self/statm); 0 when unknown. */
uint64_t stats_used_memory(void);
uint64_t stats_rss_memory(void);

/* The process as Prometheus' client libraries describe it (their process_* series), from
 * /proc/self and RLIMIT_NOFILE; a figure that could not be read is -1. */
typedef struct stats_process {
    double cpu_seconds;    /* user and system time */
    double start_time;     /* seconds since the Unix epoch */
    double resident_bytes; /* resident set */
    double virtual_bytes;  /* address space */
    double open_fds;
    double max_fds; /* the soft limit */
} stats_process;

void stats_process_read(stats_process *p);

#endif

/*
 * stats: the sidecar's counters, from two tables: the front end's own (connections,
 * commands, bytes) and the cluster client's (pool, router, topology, retries). INFO,
 * NORI.STATS and the systemd status line are all generated from them. Counting is a
 * plain increment on the loop thread; reading costs nothing until someone asks.
 */
#ifndef NORIKV_STATS_H
#define NORIKV_STATS_H

#include <stdint.h>

#include <event2/buffer.h>

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
    X(client_query_pauses, "times reading from a client paused for its backlog")

typedef struct cmd_stat {
    uint64_t calls, usec, failed_calls, rejected_calls;
} cmd_stat;

typedef struct stats {
#define STATS_FIELD(name, help) uint64_t name;
    STATS_TABLE(STATS_FIELD)
#undef STATS_FIELD
    cmd_stat *cmds; /* one per command table entry */
    /* commands per second, from the once-a-second sample */
    uint64_t last_commands;
    uint64_t ops_per_sec;
} stats;

struct sidecar;

int stats_init(stats *st);
void stats_free(stats *st);
void stats_sample(struct sidecar *s); /* once a second */

/* The INFO text for section ("" or "default", "all", "everything", or one name). */
void stats_info(struct sidecar *s, const char *section, struct evbuffer *out);
/* NORI.STATS: a map of pool, router, topology, retries; proto 2 or 3. */
void stats_nori(struct sidecar *s, int proto, struct evbuffer *out);
/* One line for systemd's STATUS=. */
void stats_status_line(struct sidecar *s, char *buf, size_t len);

#endif

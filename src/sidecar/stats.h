/*
 * stats: the sidecar's own counters, from one table (connections, commands, bytes) plus
 * one slot per command table entry. INFO, NORI.STATS and the systemd status line are
 * rendered from it by info.c, the cluster client's figures from kv.h's table. Counting
 * is a plain increment on the loop thread; reading costs nothing until someone asks.
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
      "subscribers closed: unsent output over reply_backlog with messages coming")                 \
    X(replies_over_max, "requests answered with an error because their reply was over max_reply")  \
    X(accept_pauses, "times accepting paused for lack of file descriptors (EMFILE, ENFILE)")       \
    X(cas_rounds, "compare-and-swap rounds: reads of a key to modify it")                          \
    X(cas_conflicts, "rounds whose conditional write found the key changed")                       \
    X(cas_exhausted, "read-modify-writes that gave up with CONFLICT after cas_max_rounds")         \
    X(cas_waits, "read-modify-writes that waited for another on the same key")                     \
    X(cas_watch_aborts, "EXECs answered nil because the watched key changed")

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

/* ncmds: the size of the command table */
void stats_init(stats *st, size_t ncmds);
void stats_free(stats *st);
void stats_sample(stats *st); /* once a second */

#endif

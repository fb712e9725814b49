/*
 * pool: the NoriKV nodes the client knows and its gRPC channels to them.
 * Each node gets channels_per_node channels, created on first use, each with its own
 * connection and registered method handles; calls spread round-robin over them. A node
 * that keeps failing is marked down and probed with one call at a time after a growing
 * pause, not hammered; going down and coming back up are logged, at most one line per
 * node per rate-limit window. Loop thread only.
 */
#ifndef NORIKV_POOL_H
#define NORIKV_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>

#include "kv.h"
#include "method.h"

#define POOL_ADDR_MAX   KV_ADDR_MAX
#define POOL_DOWN_AFTER 3 /* consecutive failures */

typedef struct pool_node pool_node;

/* What callers may know of a node: its figures, copied out. */
typedef struct pool_node_stats {
    bool seed, down;
    int channels;       /* created so far */
    int channels_ready; /* connected now */
    uint64_t calls, failures, marked_down;
} pool_node_stats;

typedef struct pool pool;

typedef struct pool_config {
    int channels_per_node;
    int connect_backoff_initial_ms;
    int connect_backoff_max_ms;
    int probe_initial_ms; /* first pause once a node is marked down */
    int probe_max_ms;
    grpc_channel_credentials *creds; /* TLS; NULL: plaintext. The pool takes it over. */
    const char *server_name;         /* for TLS: the name certificates carry; NULL: the host */
} pool_config;

pool *pool_new(const pool_config *cfg);
void pool_free(pool *p);

/* The node with this address, added when new; -1 when the address is unusable. */
int pool_add(pool *p, const char *addr, bool seed);
int pool_find(const pool *p, const char *addr);
int pool_count(const pool *p);
/* Node index's address, NULL when there is no such node; stable for the pool's life. */
const char *pool_addr(const pool *p, int index);
bool pool_is_seed(const pool *p, int index);
/* False when there is no such node. */
bool pool_node_stats_get(const pool *p, int index, pool_node_stats *out);

/* A new call to method m (method.h's table gives its path) on node, on the next of its channels
 * (created if need be); the channel's number goes to *channel when not NULL. */
grpc_call *pool_call(pool *p, int node, method_id m, grpc_completion_queue *cq,
                     gpr_timespec deadline, int *channel);
/* Whether that channel is connected: a call that failed on a connected channel was
 * answered by the server, which says nothing against the node's health. */
bool pool_channel_ready(pool *p, int node, int channel);

/* Whether a call may go to node now: it is up, or down with a probe due (then the
 * caller's call is the probe). */
bool pool_usable(pool *p, int node, int64_t now_ms);
/* Whether no node is usable now: every one is marked down and none has a probe due. */
bool pool_none_usable(pool *p, int64_t now_ms);
/* Tells, once its rate limit allows, a node's state that changed while lines about it
 * were held back. Once a second. */
void pool_log_due(pool *p);
/* Nodes marked down now. */
int pool_down_count(const pool *p);
void pool_begin_call(pool *p, int node, int64_t now_ms);
void pool_success(pool *p, int node);
/* cause: what went wrong, for the log and for pool_last_error. */
void pool_failure(pool *p, int node, int64_t now_ms, const char *cause);
/* The cause of node's last failure, "" if none. */
const char *pool_last_error(const pool *p, int node);

/* Channels open across all nodes. */
int pool_active_connections(const pool *p);
int pool_channels_per_node(const pool *p);

#endif

/*
 * pool: the NoriKV nodes the client knows, their gRPC channels and their health. Each node
 * gets channels_per_node channels, created on first use, each with its own connection and
 * registered method handles; calls spread round-robin over them. A node is marked down at
 * once when a connection to it is refused or reset, or when it owes an answer and has said
 * nothing for connect_timeout_ms (then its channels are made anew: the next connection is
 * a fresh one, its host name resolved again). Down nodes get no calls but probes, which
 * health.c sends; going down and coming back up are logged, at most one line per node per
 * rate-limit window. Loop thread only.
 */
#ifndef NORIKV_POOL_H
#define NORIKV_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>

#include "kv.h"
#include "method.h"

#define POOL_ADDR_MAX KV_ADDR_MAX

typedef struct pool_node pool_node;

/* What callers may know of a node: its figures, copied out. */
typedef struct pool_node_stats {
    bool seed, down, retired;
    int channels;       /* open now */
    int channels_ready; /* connected now */
    uint64_t calls, failures, marked_down, probes, probe_failures;
} pool_node_stats;

typedef struct pool pool;

typedef struct pool_config {
    int channels_per_node;
    int connect_backoff_initial_ms;
    int connect_backoff_max_ms;
    int connect_timeout_ms; /* a node that owes an answer and is silent this long is down */
    int probe_interval_ms;  /* down nodes are probed this often, idle ones checked */
    grpc_channel_credentials *creds; /* TLS; NULL: plaintext. The pool takes it over. */
    const char *server_name;         /* for TLS: the name certificates carry; NULL: the host */
} pool_config;

pool *pool_new(const pool_config *cfg);
void pool_free(pool *p);
/* Reloaded settings: they apply at once to health, and to channels opened from now on. */
void pool_set_timing(pool *p, int connect_timeout_ms, int probe_interval_ms);
int pool_connect_timeout(const pool *p);

/* Told when a node is marked down (silent: for saying nothing, not for a refused
 * connection) or up again; it may start and cancel calls, never free the pool. */
typedef void pool_listener(void *arg, int node, bool up, bool silent);
void pool_set_listener(pool *p, pool_listener *fn, void *arg);

/* The node with this address, added when new (a node retired with that address comes back
 * to its old index, marked down and probed at once); -1 when the address is unusable. */
int pool_add(pool *p, const char *addr, bool seed);
/* node left: its channels are closed, it is never called, probed or counted again (until
 * pool_add brings it back); its index stays its own. Seeds are never retired. */
void pool_retire(pool *p, int node, const char *why);
bool pool_is_retired(const pool *p, int node);
/* Nodes not retired, and the index of the i-th of them (-1 past the last). */
int pool_live_count(const pool *p);
int pool_live_index(const pool *p, int i);
int pool_find(const pool *p, const char *addr);
int pool_count(const pool *p);
/* Node index's address, NULL when there is no such node; stable for the pool's life. */
const char *pool_addr(const pool *p, int index);
bool pool_is_seed(const pool *p, int index);
/* False when there is no such node. */
bool pool_node_stats_get(const pool *p, int index, pool_node_stats *out);

/* What a call is for: an operation's attempt owes an answer (a node silent past
 * connect_timeout_ms while it owes one is down); a stream does not. */
typedef enum pool_call_kind { POOL_CALL_OP, POOL_CALL_STREAM } pool_call_kind;

/* A new call to method m (method.h's table gives its path) on node, on the next of its channels
 * (created if need be); the channel's number goes to *channel when not NULL. Every call of
 * kind OP that this returns is matched by one pool_call_end when it completes. */
grpc_call *pool_call(pool *p, int node, pool_call_kind kind, method_id m, grpc_completion_queue *cq,
                     gpr_timespec deadline, int *channel);
void pool_call_end(pool *p, int node);

/* A probe of node (a Meta/WatchCluster call): on one of its channels while it is up; while
 * it is marked down, on a channel made for this probe alone (a fresh connection, its host
 * name resolved again), which goes to *own and which the caller destroys once the call is
 * over. It owes an answer like a call; pool_probe_end when it completes. NULL when no call
 * could be made (the next probe is due after the interval all the same). */
grpc_call *pool_probe_call(pool *p, int node, grpc_completion_queue *cq, gpr_timespec deadline,
                           grpc_channel **own);
void pool_probe_end(pool *p, int node);
/* Whether node answered anything at or after since_ms. */
bool pool_heard_since(const pool *p, int node, int64_t since_ms);
/* Whether that channel is connected: a call that failed on a connected channel was
 * answered by the server, which says nothing against the node's health. */
bool pool_channel_ready(pool *p, int node, int channel);

/* Whether a call may go to node now: it is not marked down, and not silent past
 * connect_timeout_ms while it owes an answer. */
bool pool_usable(const pool *p, int node, int64_t now_ms);
/* The node answered something: it is up. */
void pool_heard(pool *p, int node, int64_t now_ms);

typedef enum pool_fault {
    POOL_REFUSED, /* the connection was refused, reset or never made */
    POOL_SILENT,  /* nothing heard for connect_timeout_ms while an answer was owed */
} pool_fault;

/* node failed: marked down at once (a node already down just keeps the cause). cause is
 * for the log and pool_last_error. */
void pool_failure(pool *p, int node, int64_t now_ms, pool_fault fault, const char *cause);
/* The cause of node's last failure, "" if none. */
const char *pool_last_error(const pool *p, int node);

/* When node's next probe is due: for a node marked down, every probe_interval_ms (a probe
 * that has not answered yet does not hold the next one back: each has its own
 * connection); for one up, once nothing was heard from it for that long (or half of
 * connect_timeout_ms, if shorter) and no probe is out (INT64_MAX while one is). */
int64_t pool_probe_at(const pool *p, int node);
/* When node, up and owing an answer, turns silent (INT64_MAX when it owes none):
 * connect_timeout_ms after its last answer, and at least half of that after it was asked. */
int64_t pool_silent_at(const pool *p, int node);
/* node is worth a probe now (a view lists it again, a call to it just failed). */
void pool_probe_soon(pool *p, int node);

/* Tells, once its rate limit allows, a node's state that changed while lines about it
 * were held back. Once a second. */
void pool_log_due(pool *p);
/* Nodes marked down now. */
int pool_down_count(const pool *p);

/* Channels open across all nodes. */
int pool_active_connections(const pool *p);
int pool_channels_per_node(const pool *p);

#endif

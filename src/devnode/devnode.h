/*
 * devnode: the context of norikv-devnode, a NoriKV-compatible node set for
 * development and tests. One struct owns the whole process state (nodes, shards,
 * store, caches, faults, counters); every module works on it from the loop thread.
 * Nothing here is shared with the sidecar.
 */
#ifndef NORIKV_DEVNODE_H
#define NORIKV_DEVNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <grpc/grpc.h>

#include "dn_table.h"
#include "evgrpc.h"

#define DN_KEY_LIMIT   1024u
#define DN_VALUE_LIMIT 1048576u
#define DN_MAX_NODES   64

/* How a node that does not lead a shard says so. */
typedef enum { DN_NL_UNAVAILABLE, DN_NL_FAILED_PRECONDITION } dn_not_leader_style;
/* Which trailer carries the leader hint, and in what form. */
typedef enum { DN_HINT_NONE, DN_HINT_LEADER_HINT, DN_HINT_X_NORIKV_LEADER } dn_hint_key;
typedef enum { DN_HINT_ADDR, DN_HINT_RAFT_ID } dn_hint_form;
/* The whole cluster in every view, or each node's own partial view as the real server sends. */
typedef enum { DN_VIEW_CLUSTER, DN_VIEW_PER_NODE } dn_view_style;
/* How shards get their first leaders: shard % nodes (the client's own guess before its
 * first view), or a seeded shuffle of that balanced assignment (--leader-seed). */
typedef enum { DN_LEADERS_ROUND_ROBIN, DN_LEADERS_SHUFFLE } dn_leaders;

typedef struct dn_opts {
    int nodes;
    int base_port;
    const char *host;
    uint32_t total_shards;
    const char *control_path;
    bool idem_per_node;
    dn_not_leader_style not_leader;
    dn_hint_key hint_key;
    dn_hint_form hint_form;
    bool missing_not_found;
    dn_view_style view;
    int view_interval_ms;
    int election_ms;
    int fresh_shard_ms;
    int commit_tick_ms;  /* writes apply and answer on the next tick of this period (0: now) */
    int start_delay_ms;  /* nodes listen this long after the start (and after a revive) */
    int propose_race_us; /* writes to one shard this close together share a log index */
    bool vector;
    bool transfer_shard; /* Admin/TransferShard served, else UNIMPLEMENTED */
    dn_leaders leaders;
    uint64_t leader_seed;
    bool police_pings; /* GOAWAY "too_many_pings" as gRPC core's defaults, else as tonic */
    uint64_t seed;
    const char *tls_cert, *tls_key; /* PEM files: serve TLS; NULL: plaintext */
} dn_opts;

typedef struct dn_version {
    uint64_t term, index;
} dn_version;

struct dn_srv;

typedef struct dn_node {
    int index;     /* 0-based; users see index + 1 */
    char id[16];   /* "node1" */
    char addr[64]; /* "127.0.0.1:9001" */
    int port;
    bool alive;
    uint64_t epoch; /* own epoch counter in the per-node view style; restarts at revive */
    dn_table *idem; /* idempotency cache when it is per node */
    int latency_ms;
    double fail_rate;
    grpc_status_code fail_status;
    uint64_t calls;
    struct dn_srv *srv; /* the gRPC server, NULL while down */
} dn_node;

typedef struct dn_shard {
    int leader;              /* node index, -1 while electing */
    int64_t touched_ms;      /* first request, 0 never touched */
    uint64_t raft_index;     /* last applied log index */
    int64_t last_write_us;   /* when the last write to it arrived (--propose-race-us) */
    int64_t last_write_tick; /* in which commit tick */
} dn_shard;

/* The process's counters, X(name, help), in the order the control socket's stats command
 * prints them (dn_control.c): a new counter is one line here. */
#define DN_COUNTERS(X)                                                                             \
    X(puts_applied, "Puts applied to the store")                                                   \
    X(deletes_applied, "Deletes applied to the store")                                             \
    X(idempotent_replays, "writes answered from an idempotency cache instead of applied")          \
    X(duplicate_applies, "Puts applied with the key and value of an earlier applied Put")          \
    X(calls, "gRPC calls received, every node and method")                                         \
    X(not_leader, "calls refused because the node does not lead the shard")                        \
    X(writes_lost_to_races, "writes acknowledged but not applied (--propose-race-us)")             \
    X(faults_failed, "calls failed by an injected fault (control: fail)")                          \
    X(replies_lost, "writes applied, then failed UNAVAILABLE (control: lose-reply)")               \
    X(unimplemented, "calls to methods the devnode does not serve")                                \
    X(vector_writes_applied, "Vector CreateIndex, DropIndex, Insert and Delete applied")           \
    X(watch_views_sent, "views sent on WatchCluster streams")

typedef struct dn_counters {
#define DN_COUNTER_FIELD(name, help) uint64_t name;
    DN_COUNTERS(DN_COUNTER_FIELD)
#undef DN_COUNTER_FIELD
} dn_counters;

typedef struct devnode {
    dn_opts o;
    struct event_base *base;
    evgrpc *eg;
    dn_node nodes[DN_MAX_NODES];
    dn_shard *shards;
    uint64_t epoch;       /* cluster epoch, cluster view style */
    dn_table *kv;         /* key -> dn_entry */
    dn_table *idem;       /* cluster-wide idempotency cache: key -> dn_version */
    dn_table *history;    /* key -> hashes of every value applied to it */
    dn_table *vindex;     /* namespace -> dn_vns */
    dn_table *videm;      /* vector idempotency cache */
    uint64_t vraft_index; /* the vector group's log index */
    double lose_rate;
    uint64_t rng; /* the fault generator's state (dn_random) */
    dn_counters st;
    struct event *tick;     /* view pushes */
    struct event *election; /* leaderless shards get a leader when it fires */
    struct event *sigterm, *sigint;
    struct dn_control *control;
    int servers_stopping;
    bool shutting_down;
    char *tls_cert_pem, *tls_key_pem; /* read from o.tls_cert and o.tls_key at start */
} devnode;

#endif

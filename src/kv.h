/*
 * kv: the NoriKV cluster client. An asynchronous API on a libevent loop for Put, Get,
 * Delete and the vector operations, with everything an SDK does, done right: local
 * validation, routing to shard leaders, redirects on NOT_LEADER from any hint form,
 * retries with backoff under one deadline per operation, idempotency keys on every
 * write, consistency levels the server accepts, statistics. No RESP, no config files.
 * Every callback runs on the loop thread; pointers in a result live until it returns.
 */
#ifndef NORIKV_KV_H
#define NORIKV_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <grpc/grpc.h>

#include "retry.h"

#define KV_KEY_LIMIT             1024u
#define KV_VALUE_LIMIT           1048576u
#define KV_NAMESPACE_LIMIT       256u
#define KV_VECTOR_ID_LIMIT       512u
#define KV_VECTOR_DIM_LIMIT      4096u
#define KV_IDEMPOTENCY_KEY_LIMIT 256u

typedef struct kv_config {
    const char *nodes; /* seed addresses, "host:port,host:port" */
    uint32_t total_shards;
    int timeout_ms; /* per operation, across all its attempts */
    int channels_per_node;
    bool watch_cluster;
    retry_config retry;
} kv_config;

void kv_config_default(kv_config *cfg);

typedef enum kv_consistency { KV_LEASE, KV_LINEARIZABLE, KV_STALE_OK } kv_consistency;
bool kv_consistency_parse(const char *s, kv_consistency *out);
const char *kv_consistency_name(kv_consistency c);
/* What the server accepts for the level: "" (strong) or "eventual". */
const char *kv_consistency_wire(kv_consistency c);

typedef enum kv_distance {
    KV_DIST_EUCLIDEAN = 1,
    KV_DIST_COSINE = 2,
    KV_DIST_INNER_PRODUCT = 3,
} kv_distance;
typedef enum kv_index_type { KV_INDEX_DEFAULT, KV_INDEX_BRUTE_FORCE, KV_INDEX_HNSW } kv_index_type;

typedef struct kv_version {
    uint64_t term, index;
} kv_version;

typedef struct kv_match {
    const char *id;
    float distance;
    const float *vector; /* NULL unless asked for */
    size_t dims;
} kv_match;

typedef struct kv_result {
    kv_err err;
    const char *message;     /* why it failed, the last cause included; "" when OK */
    grpc_status_code status; /* of the last attempt */
    /* Get: found is false for a missing key (value empty, no version) */
    bool found;
    const uint8_t *value;
    size_t value_len;
    bool has_version;
    kv_version version;
    bool tombstoned; /* Delete */
    /* vector: created, dropped, inserted, deleted, or found for VGet */
    bool flag;
    const float *vector;
    size_t dims;
    const kv_match *matches;
    size_t n_matches;
    uint64_t search_time_us;
    /* how it went */
    int attempts, redirects;
    const char *idempotency_key; /* the key a write carried */
} kv_result;

typedef void kv_callback(const kv_result *r, void *arg);
typedef struct kv_client kv_client;
typedef struct kv_op kv_op;

typedef struct kv_put_args {
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    uint64_t ttl_ms;             /* 0: none */
    const char *idempotency_key; /* NULL: one is generated */
    const kv_version *if_match;  /* NULL: unconditional */
    int timeout_ms;              /* 0: the client's */
} kv_put_args;

typedef struct kv_get_args {
    const void *key;
    size_t key_len;
    kv_consistency consistency;
    int timeout_ms;
} kv_get_args;

typedef struct kv_del_args {
    const void *key;
    size_t key_len;
    const char *idempotency_key;
    const kv_version *if_match; /* sent, but today's server ignores it on Delete */
    int timeout_ms;
} kv_del_args;

typedef struct kv_vcreate_args {
    const char *ns;
    uint32_t dims;
    kv_distance distance;
    kv_index_type index_type;
    const char *idempotency_key;
    int timeout_ms;
} kv_vcreate_args;

typedef struct kv_vdrop_args {
    const char *ns;
    const char *idempotency_key;
    int timeout_ms;
} kv_vdrop_args;

typedef struct kv_vinsert_args {
    const char *ns;
    const char *id;
    const float *vector;
    size_t dims;
    const char *idempotency_key;
    int timeout_ms;
} kv_vinsert_args;

typedef struct kv_vdelete_args {
    const char *ns;
    const char *id;
    const char *idempotency_key;
    int timeout_ms;
} kv_vdelete_args;

typedef struct kv_vsearch_args {
    const char *ns;
    const float *query;
    size_t dims;
    uint32_t k;
    bool include_vectors;
    kv_consistency consistency;
    int timeout_ms;
} kv_vsearch_args;

typedef struct kv_vget_args {
    const char *ns;
    const char *id;
    kv_consistency consistency;
    int timeout_ms;
} kv_vget_args;

/* NULL with a message in err when the configuration is unusable. */
kv_client *kv_client_new(struct event_base *base, const kv_config *cfg, char *err, size_t errlen);
/* Cancels what is in flight (no callbacks), closes channels and the completion queue. */
void kv_client_free(kv_client *c);

/*
 * Each starts an operation and returns its handle. Arguments are copied: they need not
 * outlive the call. When the operation ends at once (local validation failed, no channel
 * could be opened), cb runs before the function returns and the result is NULL.
 */
kv_op *kv_put(kv_client *c, const kv_put_args *a, kv_callback *cb, void *arg);
kv_op *kv_get(kv_client *c, const kv_get_args *a, kv_callback *cb, void *arg);
kv_op *kv_del(kv_client *c, const kv_del_args *a, kv_callback *cb, void *arg);
kv_op *kv_vcreate(kv_client *c, const kv_vcreate_args *a, kv_callback *cb, void *arg);
kv_op *kv_vdrop(kv_client *c, const kv_vdrop_args *a, kv_callback *cb, void *arg);
kv_op *kv_vinsert(kv_client *c, const kv_vinsert_args *a, kv_callback *cb, void *arg);
kv_op *kv_vdelete(kv_client *c, const kv_vdelete_args *a, kv_callback *cb, void *arg);
kv_op *kv_vsearch(kv_client *c, const kv_vsearch_args *a, kv_callback *cb, void *arg);
kv_op *kv_vget(kv_client *c, const kv_vget_args *a, kv_callback *cb, void *arg);

/* The caller lost interest (its client went away): the operation runs to its end, but
 * its callback is not called. */
void kv_op_detach(kv_op *op);

/* Routing, for tools: the shard of a key and the address of its cached leader (NULL). */
uint32_t kv_shard(const kv_client *c, const void *key, size_t len);
const char *kv_shard_leader(const kv_client *c, uint32_t shard);

typedef struct kv_stats {
    /* pool */
    int active_connections; /* channels connected now */
    int channels_open;
    int max_connections_per_node;
    /* router */
    int total_nodes; /* known nodes, seeds and learned */
    uint32_t total_shards;
    size_t cached_leaders;
    /* topology */
    bool has_view;
    uint64_t epoch;
    size_t view_nodes, view_shards;
    uint64_t views, watch_streams, watch_failures, topology_events;
    /* operations */
    uint64_t ops, ops_ok, ops_failed, inflight;
    uint64_t attempts, retries, redirects, not_leader, nodes_marked_down;
    uint64_t attempt_status[17]; /* attempts by gRPC status code */
    uint64_t failed_by_err[KV_ERR_CANCELLED + 1];
} kv_stats;

void kv_get_stats(const kv_client *c, kv_stats *st);

typedef struct kv_node_info {
    const char *addr;
    const char *id; /* as the view names it, "" if unknown */
    bool seed, down, connected;
    int channels;
    uint64_t calls, failures;
} kv_node_info;

int kv_node_count(const kv_client *c);
void kv_node_get(const kv_client *c, int i, kv_node_info *info);

/* The cluster view's nodes and the leader cache, for topology commands and events. */
#include "topo.h"
topo *kv_topology(kv_client *c);

#endif

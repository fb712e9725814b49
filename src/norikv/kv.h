/*
 * kv: the NoriKV cluster client. An asynchronous API on a libevent loop for Put, Get,
 * Delete and the vector operations, with everything an SDK does, done right: local
 * validation, routing to shard leaders, redirects on NOT_LEADER from any hint form,
 * retries with backoff under one deadline per operation, idempotency keys on every
 * write, consistency levels the server accepts, statistics. No RESP, no config files.
 * Every callback runs on the loop thread, never inside the call that started its operation;
 * pointers in a result live until it returns.
 */
#ifndef NORIKV_KV_H
#define NORIKV_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#define KV_KEY_LIMIT             1024u
#define KV_VALUE_LIMIT           1048576u
#define KV_NAMESPACE_LIMIT       256u
#define KV_VECTOR_ID_LIMIT       512u
#define KV_VECTOR_DIM_LIMIT      4096u
#define KV_IDEMPOTENCY_KEY_LIMIT 256u

/* What a failed (or successful) operation means to the caller. */
typedef enum kv_err {
    KV_OK = 0,
    KV_ERR_INVALID,          /* bad request: never retried */
    KV_ERR_VERSION_MISMATCH, /* CAS: the key has another version */
    KV_ERR_KEY_MISSING,      /* CAS: the key does not exist */
    KV_ERR_NOT_FOUND,        /* a named thing does not exist (vector namespace, ...) */
    KV_ERR_EXISTS,
    KV_ERR_UNAVAILABLE,   /* no node could serve it within the attempts */
    KV_ERR_TIMEOUT,       /* the operation's deadline passed */
    KV_ERR_NOT_SUPPORTED, /* the cluster lacks the feature (UNIMPLEMENTED) */
    KV_ERR_TOO_LARGE,     /* a message over the transport's limit */
    KV_ERR_INTERNAL,      /* the server failed and a retry was not safe or did not help */
    KV_ERR_CANCELLED,
} kv_err;
#define KV_ERR_COUNT (KV_ERR_CANCELLED + 1)

const char *kv_err_name(kv_err e);

/* gRPC status codes, 0 (OK) to 16 (UNAUTHENTICATED), as results and statistics carry them. */
#define KV_STATUS_COUNT 17
/* "OK", "CANCELLED", ..., "UNAUTHENTICATED"; "UNKNOWN" for anything else. */
const char *kv_status_name(int status);

typedef struct kv_retry_config {
    int max_attempts;     /* total tries, the first included */
    int initial_delay_ms; /* before the first retry */
    int max_delay_ms;     /* cap of the exponential part */
    int jitter_ms;        /* uniform [0, jitter] added to each delay */
} kv_retry_config;

#define KV_RETRY_DEFAULT_MAX_ATTEMPTS     10
#define KV_RETRY_DEFAULT_INITIAL_DELAY_MS 100
#define KV_RETRY_DEFAULT_MAX_DELAY_MS     5000
#define KV_RETRY_DEFAULT_JITTER_MS        100

#define KV_DEFAULT_CONNECT_TIMEOUT_MS 1000
#define KV_DEFAULT_PROBE_INTERVAL_MS  500
#define KV_DEFAULT_RETIRE_AFTER_MS    60000

/*
 * The transport's process-wide state: kv_global_init once before the first client,
 * kv_global_shutdown after the last is freed. log receives the transport's own messages
 * (error: whether it is one); NULL drops them.
 */
typedef void kv_log_fn(bool error, const char *message);
void kv_global_init(kv_log_fn *log);
void kv_global_shutdown(void);

/* TLS to the nodes (gRPC's SSL credentials); off: plaintext. Files are PEM, read once when
 * the client starts. */
typedef struct kv_tls_config {
    bool enabled;
    const char *ca_file;     /* roots to verify the nodes with; NULL or "": gRPC's defaults */
    const char *cert_file;   /* the client's certificate for mutual TLS, with key_file */
    const char *key_file;    /* NULL or "": no client certificate */
    const char *server_name; /* the name the nodes' certificates carry; NULL or "": the host */
} kv_tls_config;

/* With TLS on: reads the files cfg names and checks them as the client will when it
 * starts (the authorities' file holds certificates, the client certificate parses, the key
 * parses and belongs to it); -1 with err naming the file and the fault. 0 with TLS off. */
int kv_tls_check(const kv_tls_config *cfg, char *err, size_t errlen);

typedef struct kv_config {
    const char *nodes; /* seed addresses, "host:port,host:port" */
    uint32_t total_shards;
    int timeout_ms; /* per operation, across all its attempts */
    /* A node that owes an answer (a connection being made, a call, a probe) and says
     * nothing this long is marked down, and an attempt waiting on it goes elsewhere. */
    int connect_timeout_ms;
    /* Nodes marked down are probed this often, in the background; a node up but silent
     * this long (idle) is probed too. */
    int probe_interval_ms;
    /* A node neither in the configuration (nodes) nor in the views for this long is
     * retired: its channels closed, its figures no longer listed. */
    int retire_after_ms;
    int channels_per_node;
    bool watch_cluster;
    kv_retry_config retry;
    kv_tls_config tls;
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
    const char *message; /* why it failed, the last cause included; "" when OK */
    int status;          /* gRPC status code of the last attempt */
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
/* What a reload may change: the deadline and retry policy of operations started from now
 * on, connect_timeout_ms and probe_interval_ms at once; the rest of cfg is ignored (it is
 * the client's for its life). */
void kv_client_set_limits(kv_client *c, const kv_config *cfg);

/*
 * Each starts an operation and returns its handle, never NULL. Arguments are copied: they
 * need not outlive the call. cb runs exactly once, on the loop thread, and never before the
 * function has returned: an operation that ends at once (local validation failed, no
 * channel could be opened) reports from the loop's next pass. The handle is valid until cb
 * has run; kv_op_detach() may be called on it until then.
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

/*
 * The client's statistics, one table: INFO section, name, kind, help. It defines the
 * fields of kv_stats (section_name) and is all the sidecar reads to render INFO's pool,
 * router, topology and retries sections and NORI.STATS, so they cannot disagree.
 * GAUGE is a level now, COUNTER only grows.
 */
#define KV_STATS_TABLE(X)                                                                          \
    X(pool, active_connections, GAUGE, "gRPC channels connected now")                              \
    X(pool, channels_open, GAUGE, "gRPC channels opened so far")                                   \
    X(pool, max_connections_per_node, GAUGE, "channels per node, at most")                         \
    X(pool, nodes_marked_down, COUNTER, "times a node was marked down")                            \
    X(pool, nodes_down, GAUGE, "nodes marked down now")                                            \
    X(pool, probes, COUNTER, "health probes sent to nodes")                                        \
    X(pool, probe_failures, COUNTER, "health probes that got no answer")                           \
    X(router, total_nodes, GAUGE, "nodes known: seeds and learned")                                \
    X(router, total_shards, GAUGE, "shards keys hash into")                                        \
    X(router, cached_leaders, GAUGE, "shards whose leader is known")                               \
    X(topology, current_epoch, GAUGE, "epoch of the current view (0 before any)")                  \
    X(topology, view_live, GAUGE, "1 while a WatchCluster stream delivers views, else 0")          \
    X(topology, total_nodes, GAUGE, "nodes in the current view")                                   \
    X(topology, total_shards, GAUGE, "shards the current view lists")                              \
    X(topology, cached_leaders, GAUGE, "shards whose leader is known")                             \
    X(topology, views, COUNTER, "views received")                                                  \
    X(topology, watch_streams, COUNTER, "WatchCluster streams opened")                             \
    X(topology, watch_failures, COUNTER, "streams that ended in failure")                          \
    X(topology, events, COUNTER, "topology change events")                                         \
    X(retries, operations, COUNTER, "cluster operations started")                                  \
    X(retries, succeeded, COUNTER, "operations that succeeded")                                    \
    X(retries, failed, COUNTER, "operations that failed")                                          \
    X(retries, in_flight, GAUGE, "operations in flight now")                                       \
    X(retries, attempts, COUNTER, "gRPC calls made")                                               \
    X(retries, retries, COUNTER, "attempts after a backoff")                                       \
    X(retries, redirects, COUNTER, "attempts sent at once to a hinted leader or the next node")    \
    X(retries, not_leader, COUNTER, "NOT_LEADER answers")                                          \
    X(retries, fail_fast, COUNTER, "operations failed at once: every node marked down")

/* The table's sections, in the order INFO and NORI.STATS show them. */
#define KV_STATS_SECTIONS(X) X(pool) X(router) X(topology) X(retries)

typedef struct kv_stats {
#define KV_STATS_FIELD(section, name, kind, help) uint64_t section##_##name;
    KV_STATS_TABLE(KV_STATS_FIELD)
#undef KV_STATS_FIELD
    bool has_view; /* a view arrived: topology_current_epoch means something */
    uint64_t attempt_status[KV_STATUS_COUNT]; /* attempts by gRPC status code */
    uint64_t failed_by_err[KV_ERR_COUNT];     /* failed operations by error kind */
} kv_stats;

void kv_get_stats(const kv_client *c, kv_stats *st);

/*
 * Whether the client can serve: with watch_cluster, a WatchCluster stream delivers views;
 * and not every node is marked down. When not, why says so (the last cause included).
 */
bool kv_ready(const kv_client *c, char *why, size_t len);

typedef struct kv_node_info {
    const char *addr;
    const char *id; /* as the view names it, "" if unknown */
    bool seed, down, connected;
    int channels;
    uint64_t calls, failures;
} kv_node_info;

int kv_node_count(const kv_client *c);
void kv_node_get(const kv_client *c, int i, kv_node_info *info);

/* ---- the cluster view, for topology commands and events ---- */

#define KV_ADDR_MAX 128

/* A node of the current view, as clients should see it. */
typedef struct kv_view_node {
    char id[64];
    char addr[KV_ADDR_MAX];
    char role[32];
} kv_view_node;

/* The nodes of the current view (count in *n); NULL before any view. Valid until the next
 * view arrives, that is until control returns to the loop. */
const kv_view_node *kv_view_nodes(const kv_client *c, size_t *n);

typedef struct kv_leader_change {
    uint32_t shard;
    const char *old_addr; /* NULL: none */
    const char *new_addr; /* NULL: none */
} kv_leader_change;

/* What one new view changed. */
typedef struct kv_topology_event {
    bool has_previous;
    uint64_t previous_epoch, epoch;
    const char **added; /* node addresses */
    size_t n_added;
    const char **removed;
    size_t n_removed;
    const kv_leader_change *changes;
    size_t n_changes;
} kv_topology_event;

typedef void kv_topology_listener(const kv_topology_event *ev, void *arg);

/* fn runs on the loop thread after each view that changed something; the id unsubscribes. */
int kv_subscribe_topology(kv_client *c, kv_topology_listener *fn, void *arg);
void kv_unsubscribe_topology(kv_client *c, int id);

#endif

/*
 * testnode: what the integration tests need to drive a devnode. Starts a
 * norikv-devnode process on free loopback ports (killed with the test if the test
 * dies), talks to its control socket, and makes blocking gRPC calls to its nodes.
 */
#ifndef NORIKV_TESTNODE_H
#define NORIKV_TESTNODE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

#include "norikv.pb-c.h"

#define TN_REAL_MAX 4

typedef struct tn_proc {
    pid_t pid;
    int nodes;
    int base_port;
    char dir[64];
    char control[96];
    /* NoriKV's own server instead of a devnode (tn_real()): one process a node, gRPC on
     * base_port + i, HTTP on base_port + nodes + i, data in dir/node<i> */
    bool real;
    pid_t real_pids[TN_REAL_MAX];
    pid_t drain_pids[TN_REAL_MAX]; /* each copies its node's output to dir/node<i>.log */
    int startup_ms;                /* from the (last) process start to its ready line */
} tn_proc;

/* The real server's binary when NORIKV_SERVER names one (the suites then run their cases
 * that need no devnode against it), else NULL. */
const char *tn_real(void);
/* How many real nodes tn_start starts (NORIKV_SERVER_NODES: 1, the default, up to
 * TN_REAL_MAX; more than one are given each other as seeds). */
int tn_real_nodes(void);

/* Starts a devnode with `nodes` nodes and extra options (may be NULL); 0 when every
 * node is ready. Unless extra names a --profile, the real profile's timings are switched
 * off (--commit-tick-ms 0 --fresh-shard-ms 0 --start-delay-ms 0). With tn_real(),
 * starts tn_real_nodes() real servers instead (p->nodes says how many; extra is ignored:
 * the caller leaves out what needs the devnode). */
int tn_start(tn_proc *p, int nodes, const char *extra);
/* With tn_real(): SIGKILLs real node i (0-based), or starts it again on its ports and data
 * directory; 0 once it is ready. */
int tn_real_kill(tn_proc *p, int i);
int tn_real_restart(tn_proc *p, int i);
/* SIGTERM, then waits (up to 10 s, then SIGKILL); the exit status as waitpid gives it. */
int tn_stop(tn_proc *p);
/* Sends one control line; returns the answer line (malloc'd, no newline) or NULL. */
char *tn_control(tn_proc *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Asserts the control answer starts with "OK". */
void tn_control_ok(tn_proc *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A counter from the control socket's stats JSON. */
uint64_t tn_stat(tn_proc *p, const char *name);
/* Node (1-based) leading shard, 0 while electing. */
int tn_leader(tn_proc *p, uint32_t shard);

grpc_channel *tn_channel(tn_proc *p, int node);

typedef struct tn_result {
    grpc_status_code status;
    char *details;
    grpc_metadata_array trailers;
    ProtobufCMessage *msg; /* decoded response when status is OK */
} tn_result;

/* One unary call; the result is always filled (status, details) and must be freed. */
void tn_call(grpc_channel *ch, const char *path, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp, int timeout_ms, tn_result *r);
void tn_result_free(tn_result *r);
/* The trailer's value as a NUL-terminated string in r (valid until freed), or NULL. */
const char *tn_trailer(tn_result *r, const char *key);

/* Waits (up to 5 s) until the node behind ch serves key's shard: the real server, and the
 * devnode's real profile, answer UNAVAILABLE "NOT_LEADER" while a shard first touched
 * elects itself. Returns the milliseconds waited; asserts the shard did come up. */
int tn_warm(grpc_channel *ch, const char *key);

/* Kv shorthands. version_out may be NULL. */
void tn_put(grpc_channel *ch, const char *key, const char *value, const char *idem,
            const Norikv__V1__Version *if_match, uint64_t ttl_ms, tn_result *r);
void tn_get(grpc_channel *ch, const char *key, const char *consistency, tn_result *r);
void tn_del(grpc_channel *ch, const char *key, const char *idem, tn_result *r);
#define TN_PUT(r) ((Norikv__V1__PutResponse *)(r)->msg)
#define TN_GET(r) ((Norikv__V1__GetResponse *)(r)->msg)
#define TN_DEL(r) ((Norikv__V1__DeleteResponse *)(r)->msg)

/* A WatchCluster stream. */
typedef struct tn_watch {
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_metadata_array initial, trailers;
    grpc_status_code status;
    grpc_slice details;
} tn_watch;

int tn_watch_open(grpc_channel *ch, tn_watch *w, int timeout_ms);
/* The next view, or NULL when the stream ended or nothing came within timeout_ms. */
Norikv__V1__ClusterView *tn_watch_next(tn_watch *w, int timeout_ms);
/* Ends the stream: cancels it if still open; returns the final status. */
grpc_status_code tn_watch_close(tn_watch *w);

/* A key (written into buf) that hashes to a shard led by node `node` (1-based) when
 * shards are led round-robin over `nodes` nodes (the devnode's --leaders round-robin, in
 * its friendly profile); prefix keeps tests apart. */
const char *tn_key_for_node(char *buf, size_t len, const char *prefix, int node, int nodes,
                            uint32_t total_shards);

/* A key (written into buf) whose shard node `node` (1-based) leads now, as the control
 * socket says: right whatever --leaders the devnode runs with. */
const char *tn_key_led_by(tn_proc *p, char *buf, size_t len, const char *prefix, int node,
                          uint32_t total_shards);

/* A channel to node (1-based) that pings the server every keepalive_ms, with or without
 * calls, and sends as many pings without data as it likes. */
grpc_channel *tn_channel_pinging(tn_proc *p, int node, int keepalive_ms);

#endif

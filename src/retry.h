/*
 * retry: what to do with each outcome of a NoriKV call, and when to try again.
 * One table maps a gRPC status (and, where the server overloads a code, its message)
 * to an error kind and a decision; backoff is exponential with jitter under one
 * per-operation deadline. Pure functions: no I/O, no clocks, no globals.
 */
#ifndef NORIKV_RETRY_H
#define NORIKV_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include <grpc/grpc.h>

typedef struct retry_config {
    int max_attempts;     /* total tries, the first included */
    int initial_delay_ms; /* before the first retry */
    int max_delay_ms;     /* cap of the exponential part */
    int jitter_ms;        /* uniform [0, jitter] added to each delay */
} retry_config;

#define RETRY_DEFAULT_MAX_ATTEMPTS     10
#define RETRY_DEFAULT_INITIAL_DELAY_MS 100
#define RETRY_DEFAULT_MAX_DELAY_MS     5000
#define RETRY_DEFAULT_JITTER_MS        100

void retry_config_default(retry_config *rc);

/* What a failed (or successful) call means to the caller. */
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

const char *kv_err_name(kv_err e);

typedef enum retry_action {
    RETRY_DONE,       /* OK: hand the result back */
    RETRY_FAIL,       /* give up now with the error kind */
    RETRY_NOT_LEADER, /* follow the hint, or back off and try another node */
    RETRY_BACKOFF,    /* the node or call failed: back off, maybe another node */
} retry_action;

typedef struct retry_verdict {
    retry_action action;
    kv_err err;      /* the kind to report if this ends the operation */
    bool node_fault; /* counts against the node's health */
} retry_verdict;

/* The table. `safe` says whether the operation may run twice: reads, and writes that
 * carry an idempotency key. */
retry_verdict retry_classify(grpc_status_code status, const char *message, bool safe);

/* Delay before retry number n (1 = the first retry); rand01 is uniform in [0, 1). */
int64_t retry_delay_ms(const retry_config *rc, int n, double rand01);

#endif

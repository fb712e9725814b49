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

#include "kv.h"

typedef kv_retry_config retry_config;

void retry_config_default(retry_config *rc);

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

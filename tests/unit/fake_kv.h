/*
 * fake_kv: a stand-in for the NoriKV cluster client (kv.h) that a test drives by hand.
 * Every operation started is kept, in start order, until fake_kv_reset: its kind, key,
 * value and callback. The test completes op N whenever it likes with the result it likes,
 * or lets the fake answer by itself from a small in-memory store, from the loop (as the
 * real library always does) or at once inside the kv_* call (which kv.h forbids the library;
 * it stands here for handlers that finish inside their own start, as local commands do).
 * A detached operation never calls its callback, whatever completes it.
 */
#ifndef NORIKV_FAKE_KV_H
#define NORIKV_FAKE_KV_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "kv.h"

typedef enum fake_kind { FAKE_GET, FAKE_PUT, FAKE_DEL, FAKE_KINDS } fake_kind;

typedef enum fake_mode {
    FAKE_MANUAL, /* outstanding until the test completes it */
    FAKE_SYNC,   /* answered from the store before kv_* returns (which returns NULL) */
    FAKE_LOOP,   /* answered from the store by the loop, on its next pass */
} fake_mode;

struct kv_op {
    int n; /* start order, from 0 */
    fake_kind kind;
    char *key; /* NUL-terminated copies */
    size_t key_len;
    char *value;
    size_t value_len;
    uint64_t ttl_ms;
    kv_consistency consistency;
    kv_callback *cb;
    void *arg;
    fake_mode mode;     /* how it was started */
    bool done;          /* completed (callback run or not) */
    bool detached;      /* kv_op_detach was called while it was outstanding */
    bool called;        /* its callback ran */
    bool in_callback;   /* its callback is running */
    struct event *fire; /* FAKE_LOOP: the loop's completion */
    char *answer;       /* the value an automatic Get answered with */
};
typedef struct kv_op fake_op;

/* Forgets every operation and the store; every kind back to FAKE_MANUAL. base is the
 * loop FAKE_LOOP completes from. */
void fake_kv_reset(struct event_base *base);
/* Frees what the fake holds (operations, events, store). */
void fake_kv_free(void);
/* The handle the sidecar passes to kv_*. */
kv_client *fake_kv_client(void);

void fake_kv_set_mode(fake_kind kind, fake_mode mode);
void fake_kv_set_mode_all(fake_mode mode);
/* The store the automatic modes answer from (FAKE_MANUAL completions do not touch it). */
void fake_kv_store(const char *key, const char *value);

/* Operations started so far, op N (NULL if none), outstanding now, most ever outstanding. */
int fake_kv_count(void);
fake_op *fake_kv_op(int n);
int fake_kv_outstanding(void);
int fake_kv_max_outstanding(void);
/* The first operation of kind on key, or -1. */
int fake_kv_find(fake_kind kind, const char *key);
/* kv_op_detach on an operation already completed (a dangling handle in the caller). */
int fake_kv_stale_detaches(void);
/* Callbacks run so far. */
int fake_kv_callbacks(void);

/* Completes outstanding op n: runs its callback with res unless it was detached. */
void fake_kv_complete(int n, const kv_result *res);
/* The usual results: a Get that found value, a Get of a missing key, a Put or Delete that
 * succeeded, a failure with err and message. */
void fake_kv_found(int n, const char *value);
void fake_kv_missing(int n);
void fake_kv_ok(int n);
void fake_kv_fail(int n, kv_err err, const char *message);

/* Topology events: how many listeners are subscribed now, and an event told to them. The
 * vector operations are not faked: calling one aborts the test. */
int fake_kv_topology_listeners(void);
void fake_kv_topology_event(const kv_topology_event *ev);

#endif

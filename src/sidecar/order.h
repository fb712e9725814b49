/*
 * order: the ordering rule of one connection's requests ([sidecar] ordering). Given the
 * requests before it that have not finished, says whether a queued request may start.
 * Keeps a connection's running requests in an order_running as they start and finish
 * (client.c tells it), so a scan of the queue looks only at the requests still queued;
 * never starts, finishes or frees a request itself.
 */
#ifndef NORIKV_ORDER_H
#define NORIKV_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "resp.h"

typedef struct req req; /* client.h */

typedef enum order_mode {
    ORDER_CONNECTION, /* reads overlap reads; a write or a state change runs alone */
    ORDER_KEY         /* only requests on a common key (one of them a write) keep their order */
} order_mode;

/* The mode [sidecar] ordering names. */
order_mode order_mode_of(const conf *cf);

/* A request with more keys than this is ordered as if it touched every key. */
#define ORDER_MAX_KEYS 64
/* By key: requests that wait for an earlier one, past which a scan looks no further. */
#define ORDER_LOOKAHEAD 64

typedef struct order_slot {
    uint64_t hash;
    const resp_arg *key; /* NULL: empty */
    bool write;          /* an unfinished write touches it (else only reads) */
} order_slot;

#define ORDER_INLINE_SLOTS 128

/* Running requests of one key: by its 64-bit hash alone, so two keys that collide only
 * make the later request wait longer than it must, never less. */
typedef struct order_count {
    uint64_t hash; /* 0: empty */
    uint32_t reads, writes;
} order_count;

/*
 * A connection's running requests, counted under both modes (a reload may change the mode
 * while they run): order_running_add() when a request starts and goes on running,
 * order_running_remove() when it finishes, with the same request (its command, keys and
 * by_key unchanged in between). Keys are counted only for requests started by key; by
 * key, those started by connection are waited for as if they touched every key.
 */
typedef struct order_running {
    uint32_t all;        /* running requests */
    uint32_t alone[2];   /* ... of them that run alone, by order_mode */
    uint32_t writes;     /* by key: running writes (a wide read waits for them) */
    uint32_t wide_reads; /* by key: running reads of keys not listed (a write waits for them) */
    uint32_t unkeyed_reads, unkeyed_writes; /* reads and writes of keys not counted */
    order_count *slots; /* by key: the running reads and writes of each key, open addressing */
    size_t cap, used;
} order_running;

void order_running_add(order_running *run, const req *r);
void order_running_remove(order_running *run, const req *r);
void order_running_free(order_running *run);

/*
 * One pass over a connection's queued requests, in order: order_note() every one left
 * waiting, and ask order_may_start() of each before starting it (one that starts is then
 * in run). Nothing after a request that runs alone starts: order_barrier().
 */
typedef struct order_scan {
    order_mode mode;
    const order_running *run;
    bool unfinished;   /* some request noted has not finished */
    bool barrier;      /* one of them runs alone: nothing after it may start */
    bool write;        /* by key: one of them writes */
    bool wide_read;    /* by key: one of them reads without keys, or too many to list */
    order_slot *slots; /* by key: the keys of those noted, open addressing */
    size_t cap, used;
    order_slot inline_slots[ORDER_INLINE_SLOTS];
} order_scan;

void order_scan_begin(order_scan *s, order_mode mode, const order_running *run);
void order_scan_end(order_scan *s);
bool order_may_start(const order_scan *s, const req *r);
void order_note(order_scan *s, const req *r);

static inline bool order_barrier(const order_scan *s)
{
    return s->barrier || s->run->alone[s->mode] > 0;
}

/* Whether `after` must wait for `before`, an earlier request of the same connection that
 * has not finished, under mode. */
bool order_conflict(const req *before, const req *after, order_mode mode);

#endif

/*
 * order: the ordering rule of one connection's requests ([sidecar] ordering). Given the
 * requests before it that have not finished, says whether a queued request may start.
 * Owns only the table of one scan of the queue; never starts, finishes or frees a request
 * (client.c does) and keeps no state between scans.
 */
#ifndef NORIKV_ORDER_H
#define NORIKV_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "conf.h"

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

/*
 * One pass over a connection's queue, from its head: order_note() every request that has
 * not finished (running, or left waiting), and ask order_may_start() of each queued one
 * before starting it. Requests after one that runs alone never start: order_barrier().
 */
typedef struct order_scan {
    order_mode mode;
    bool unfinished;   /* some request seen has not finished */
    bool barrier;      /* one of them runs alone: nothing after it may start */
    bool write;        /* by key: one of them writes */
    bool wide_read;    /* by key: one of them reads without keys, or too many to list */
    order_slot *slots; /* by key: the keys of those seen, open addressing */
    size_t cap, used;
    order_slot inline_slots[ORDER_INLINE_SLOTS];
} order_scan;

void order_scan_begin(order_scan *s, order_mode mode);
void order_scan_end(order_scan *s);
bool order_may_start(const order_scan *s, const req *r);
void order_note(order_scan *s, const req *r);

static inline bool order_barrier(const order_scan *s)
{
    return s->barrier;
}

/* Whether `after` must wait for `before`, an earlier request of the same connection that
 * has not finished, under mode. */
bool order_conflict(const req *before, const req *after, order_mode mode);

#endif

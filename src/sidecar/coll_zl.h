/*
 * coll_zl: what the list and sorted-set commands (cell_list.c, cell_zset.c) share: a
 * collection payload read into slices of the cell's own bytes, written back under NoriKV's
 * size limit, and Redis' argument rules and errors. Pure functions, no I/O; a malformed
 * payload is an error reply, never a read past its end.
 */
#ifndef NORIKV_COLL_ZL_H
#define NORIKV_COLL_ZL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "cell.h"

#define ZL_ERR_NOT_INT   "ERR value is not an integer or out of range"
#define ZL_ERR_NOT_FLOAT "ERR value is not a valid float"
#define ZL_ERR_SYNTAX    "ERR syntax error"
#define ZL_ERR_POSITIVE  "ERR value is out of range, must be positive"

/* A byte string inside the cell's payload or an argument; never owned. */
typedef struct zl_str {
    const char *p;
    size_t len;
} zl_str;

bool zl_fail(struct evbuffer *out, const char *text);
bool zl_arg_is(const resp_arg *a, const char *word);
bool zl_str_eq(const char *a, size_t alen, const char *b, size_t blen);

/* Redis' getRangeLongFromObjectOrReply: an integer from lo to hi; msg (NULL: Redis' own
 * words) is the error for a non-integer and for one out of range. */
bool zl_arg_range(const resp_arg *a, long long lo, long long hi, const char *msg, long long *v,
                  struct evbuffer *out);
/* Any integer (Redis' getLongFromObjectOrReply). */
bool zl_arg_ll(const resp_arg *a, long long *v, struct evbuffer *out);
/* Redis' string2d: what strtod reads, all of it, no leading blank, not NaN. */
bool zl_parse_double(const char *p, size_t len, double *v);

/* The error a write answers when its payload (len bytes) would not fit a NoriKV value. */
bool zl_fits(const cell_ctx *x, tval_type type, size_t len, struct evbuffer *out);
bool zl_malformed(struct evbuffer *out);

/* The elements of a list payload (a set's members: same layout), as slices of it; *items
 * is xmalloc'ed with room for extra more, NULL-free even when empty. A malformed payload:
 * the error is the reply and the result false. */
bool zl_read_strs(const cell *c, size_t extra, zl_str **items, size_t *n, struct evbuffer *out);

/* A random generator for one command (ZRANDMEMBER), seeded from the kernel's random source
 * (dict_seed): splitmix64. */
typedef struct zl_rng {
    uint64_t s;
} zl_rng;

void zl_rng_init(zl_rng *g);
/* Uniform in [0, n), n > 0, without modulo bias. */
uint64_t zl_rand_below(zl_rng *g, uint64_t n);

#endif

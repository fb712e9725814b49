/*
 * coll: a hash's or a set's payload (tval.h) as the commands of cell_hash.c and cell_set.c
 * work on it: decoded once into an array of items in stored order, with a hash index on
 * the fields or members, changed in memory, encoded back once. Items point into the
 * payload read, the command's arguments or the collection's own copies, so nothing is
 * copied that is not new. Also what those commands share: the size limit, SCAN's options
 * and cursor, and a random source.
 */
#ifndef NORIKV_COLL_H
#define NORIKV_COLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "cell.h"
#include "dict.h"

typedef struct coll_item {
    dict_entry de; /* in the index, under k */
    const char *k; /* the field (hash) or member (set) */
    size_t klen;
    const char *v; /* a hash's value; NULL in a set */
    size_t vlen;
    bool dead; /* removed: skipped when encoded */
} coll_item;

typedef struct coll {
    tval_type type; /* TVAL_HASH (field, value pairs) or TVAL_SET (members) */
    coll_item *items;
    size_t n, cap; /* items used, dead ones included, and room: never grown */
    size_t live;   /* items not dead */
    size_t bytes;  /* the payload's size as encoded now */
    dict idx;
    char **own; /* copies made by coll_copy, freed with the collection */
    size_t nown;
} coll;

/*
 * Reads c's payload as a collection of type with room for extra more items. A missing key
 * reads as empty; a key of another type answers WRONGTYPE; a payload that does not decode
 * (or names a field or member twice) answers an error. False after an error reply.
 */
bool coll_load(coll *co, const cell *c, tval_type type, size_t extra, struct evbuffer *out);
void coll_free(coll *co);

coll_item *coll_find(const coll *co, const char *k, size_t klen);
/* Appends a new item (k not in co; room for it reserved by coll_load). */
coll_item *coll_add(coll *co, const char *k, size_t klen, const char *v, size_t vlen);
void coll_set_value(coll *co, coll_item *it, const char *v, size_t vlen);
void coll_del(coll *co, coll_item *it);
/* A copy of len bytes that lives as long as co. */
const char *coll_copy(coll *co, const char *p, size_t len);
/*
 * Writes co back into c: deleted when empty, else the new payload, unless it is over the
 * largest value NoriKV stores: then that error is the reply, c is unchanged and the
 * result false.
 */
bool coll_store(coll *co, cell *c, const cell_ctx *x, struct evbuffer *out);

#define COLL_ERR_LIMIT "ERR the value of this key would exceed NoriKV's limit of 1048576 bytes"

/* ---- SCAN ------------------------------------------------------------------------------- */

/* HSCAN or SSCAN on c, whole: cursor, key, options, reply, in Redis' order of checks:
 * key cursor [MATCH pattern] [COUNT count] (HSCAN also [NOVALUES], Redis 7.4). The cursor
 * is the position in stored order to go on from; COUNT items are looked at per call (10
 * by default), and the next cursor is 0 once the end is reached. */
bool coll_scan_command(const cell *c, tval_type type, const resp_arg *argv, int argc,
                       struct evbuffer *out);

/* ---- random ----------------------------------------------------------------------------- */

/* A generator for one command, seeded from the block's random seed (cell_ctx.seed, from
 * the kernel's random source): splitmix64. */
typedef struct coll_rng {
    uint64_t s;
} coll_rng;

void coll_rng_init(coll_rng *g, uint64_t seed);
/* Uniform in [0, n), n > 0, without modulo bias. */
uint64_t coll_rand_below(coll_rng *g, uint64_t n);
/* k distinct positions of [0, n), k <= n, in random order, into a new array. */
size_t *coll_sample(coll_rng *g, size_t n, size_t k);

/* HRANDFIELD's and SRANDMEMBER's reply to a count l on co as loaded (no item removed: a
 * position is an item), Redis' cases: l >= 0 distinct items
 * (the whole collection in stored order when l is its size or more), l < 0 -l items that
 * may repeat, at most 2^20 of them (more: an error, the result false). */
bool coll_random_reply(const coll *co, const cell_ctx *x, long long l, bool withvalues,
                       struct evbuffer *out);

/* ---- shared argument helpers -------------------------------------------------------------- */

/* A count argument of HRANDFIELD and SRANDMEMBER: Redis' range -LONG_MAX .. LONG_MAX. */
bool coll_arg_count(const resp_arg *a, long long *v, struct evbuffer *out);
/* "ERR wrong number of arguments for 'name' command", name in lower case. */
bool coll_fail_arity(const resp_arg *name, struct evbuffer *out);

#endif

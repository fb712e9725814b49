/*
 * coll: what the collection commands (cell_hash.c, cell_set.c, cell_list.c, cell_zset.c)
 * share. A hash's or a set's payload (tval.h) decoded once into an array of items in
 * stored order, with a hash index on the fields or members, changed in memory, encoded
 * back once; a list-shaped payload read into slices of the cell's bytes. Items point into
 * the payload read, the command's arguments or the collection's own copies, so nothing is
 * copied that is not new. Also: the size limit, the malformed-payload error, Redis'
 * argument rules and errors, SCAN's options and cursor, and a random source. Pure
 * functions, no I/O; a malformed payload is an error reply, never a read past its end.
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

/* ---- any collection's payload ------------------------------------------------------------ */

/* A byte string inside the cell's payload or an argument; never owned. */
typedef struct coll_str {
    const char *p;
    size_t len;
} coll_str;

/* Starts reading c's payload (c exists): its item count, of items of per bytes at least (a
 * larger count is malformed, and nothing is allocated from it). False: malformed. */
bool coll_reader_init(tval_reader *r, const cell *c, size_t per, uint32_t *count);
/* "ERR the value of this key is malformed: ..." naming type; false. */
bool coll_malformed(tval_type type, struct evbuffer *out);
/* The error a write answers when its payload (len bytes) would not fit a NoriKV value. */
bool coll_fits(const cell_ctx *x, tval_type type, size_t len, struct evbuffer *out);

/* The elements of a list payload (a set's members: same layout), as slices of it; *items
 * is xmalloc'ed with room for extra more, NULL-free even when empty. A malformed payload:
 * the error is the reply and the result false. */
bool coll_read_strs(const cell *c, size_t extra, coll_str **items, size_t *n, struct evbuffer *out);

/* ---- SCAN ------------------------------------------------------------------------------- */

/* HSCAN or SSCAN on c, whole: cursor, key, options, reply, in Redis' order of checks:
 * key cursor [MATCH pattern] [COUNT count] (HSCAN also [NOVALUES], Redis 7.4). The cursor
 * is the position in stored order to go on from; COUNT items are looked at per call (10
 * by default), and the next cursor is 0 once the end is reached. */
bool coll_scan_command(const cell *c, tval_type type, const resp_arg *argv, int argc,
                       struct evbuffer *out);

/* ---- random ----------------------------------------------------------------------------- */

/* A generator for one command (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER), seeded from
 * the block's random seed (cell_ctx.seed, from the kernel's random source): splitmix64. */
typedef struct coll_rng {
    uint64_t s;
} coll_rng;

void coll_rng_init(coll_rng *g, const cell_ctx *x);
/* Uniform in [0, n), n > 0, without modulo bias. */
uint64_t coll_rand_below(coll_rng *g, uint64_t n);
/* k distinct positions of [0, n), k <= n, in random order, into a new array. */
size_t *coll_sample(coll_rng *g, size_t n, size_t k);

/* The most picks a negative count may ask HRANDFIELD, SRANDMEMBER or ZRANDMEMBER for
 * (repetitions allowed): Redis would build the reply until the client's output limit
 * closes it; the sidecar refuses it before. */
#define COLL_RANDOM_PICKS_MAX (1L << 20)

/* The array header of a reply of count picks that may repeat, mul RESP items each; past
 * COLL_RANDOM_PICKS_MAX that error instead, and false. */
bool coll_picks_start(unsigned long long count, long mul, struct evbuffer *out);

/* HRANDFIELD's and SRANDMEMBER's reply to a count l on co as loaded (no item removed: a
 * position is an item), Redis' cases: l >= 0 distinct items
 * (the whole collection in stored order when l is its size or more), l < 0 -l items that
 * may repeat, at most 2^20 of them (more: an error, the result false). */
bool coll_random_reply(const coll *co, const cell_ctx *x, long long l, bool withvalues,
                       struct evbuffer *out);

/* ---- arguments and errors ----------------------------------------------------------------- */

#define COLL_ERR_NOT_INT   "ERR value is not an integer or out of range"
#define COLL_ERR_NOT_FLOAT "ERR value is not a valid float"
#define COLL_ERR_SYNTAX    "ERR syntax error"
#define COLL_ERR_POSITIVE  "ERR value is out of range, must be positive"

/* text as the error reply; false. */
bool coll_fail(struct evbuffer *out, const char *text);
/* "ERR wrong number of arguments for 'name' command", name in lower case. */
bool coll_fail_arity(const resp_arg *name, struct evbuffer *out);
bool coll_arg_is(const resp_arg *a, const char *word);
bool coll_str_eq(const char *a, size_t alen, const char *b, size_t blen);

/* Redis' getRangeLongFromObjectOrReply: an integer from lo to hi; msg (NULL: Redis' own
 * words) is the error for a non-integer and for one out of range. */
bool coll_arg_range(const resp_arg *a, long long lo, long long hi, const char *msg, long long *v,
                    struct evbuffer *out);
/* Any integer (Redis' getLongFromObjectOrReply). */
bool coll_arg_ll(const resp_arg *a, long long *v, struct evbuffer *out);
/* Redis' string2d: what strtod reads, all of it, no leading blank, not NaN. */
bool coll_parse_double(const char *p, size_t len, double *v);

/* Redis' inclusive range of indexes start..end (negative from the end) clipped to n
 * items: false when it holds none, else *from..*to, ascending. */
bool coll_range(long long start, long long end, size_t n, size_t *from, size_t *to);

#endif

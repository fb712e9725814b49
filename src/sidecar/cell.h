/*
 * cell: one key's value as a read-modify-write sees it, and the Redis commands that read
 * or change it, as pure functions: no I/O, no clock of their own, no knowledge of NoriKV
 * calls. The compare-and-swap engine (cas.c) reads the key into a cell, runs one command
 * (or a transaction's commands, in order) on it, and writes the cell back with one Put
 * (or Delete) conditional on the version it read. Replies and errors are Redis' own.
 *
 * Types and TTL: NoriKV keeps bytes and a TTL it never tells back. A value in the typed
 * format (tval.h) carries its Redis type and its expiry, so a cell read from it knows both
 * (ttl_known). A plain value is a string whose TTL is unknown; a command that writes it
 * without setting a TTL leaves the key with none, unless the block set or cleared the TTL.
 */
#ifndef NORIKV_CELL_H
#define NORIKV_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "resp.h"
#include "tval.h"

#define CELL_VALUE_LIMIT 1048576u /* NoriKV's largest value */

typedef struct cell {
    bool exists;
    tval_type type; /* when exists */
    char *value;    /* the payload (tval.h): len bytes and a NUL; owned, NULL when !exists */
    size_t len;
    bool ttl_known;    /* read from a typed value, or this block set or cleared the TTL */
    int64_t expire_at; /* Unix ms; 0: no TTL (meaningful when ttl_known) */
    bool dirty;        /* changed: to be written (deleted when !exists) */
    bool read_typed;   /* read from a value in the typed format */
} cell;

/* What a command needs besides its arguments: the client's protocol for replies, the wall
 * clock (Unix ms) the whole block runs at, for EX/EXAT and friends, and whether strings are
 * written in the typed format (string_format typed). */
typedef struct cell_ctx {
    int proto;
    int64_t now_ms;
    bool typed_strings;
    uint64_t seed;    /* random, for the commands that pick at random (SPOP, HRANDFIELD...) */
    size_t reply_max; /* max_reply: the most one reply may hold (0: no bound) */
} cell_ctx;

/*
 * Runs one command, argv[0] its name, on c and appends its reply (a value, or an error in
 * Redis' words) to out, a buffer of that reply alone. On error c is unchanged and the result is
 * false. A command that only reads leaves dirty as it was. Keyless commands allowed in a
 * transaction (PING, ECHO) ignore c.
 */
typedef bool cell_fn(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                     struct evbuffer *out);

void cell_init(cell *c); /* a missing key */
/* The key as read (value as stored, tval.h): a typed value gives its type and expiry, and
 * one expired at now_ms leaves the key missing; a plain one is a string of unknown TTL.
 * Not dirty. */
void cell_set_read(cell *c, const void *value, size_t len, int64_t now_ms);
void cell_free(cell *c);

/* The bytes a Put of c stores: the payload alone for a string kept plain (typed_strings
 * false, and a payload that does not start with the magic), else the header and the
 * payload in a new buffer, returned in *owned for the caller to free (else *owned NULL). */
const char *cell_stored(const cell *c, bool typed_strings, size_t *len, char **owned);
/* Whether c's value is stored in the typed format (cell_stored's choice). */
bool cell_is_typed(const cell *c, bool typed_strings);

/* For the type modules (cell_*.c). The key exists of another type than want: WRONGTYPE is
 * the reply and the result false. */
bool cell_want(const cell *c, tval_type want, struct evbuffer *out);
/* Whether out, a command's reply being built, has grown past x->reply_max: then it holds
 * Redis' error for that instead, and the result is true. The commands that repeat items as
 * often as a client asks (HMGET, a negative count of HRANDFIELD, SRANDMEMBER, ZRANDMEMBER)
 * check it after each item, so a reply is never built far past max_reply. */
bool cell_reply_over(const cell_ctx *x, struct evbuffer *out, const char *hint);
/* The largest payload of this type a Put can carry (NoriKV's limit less any header). */
size_t cell_payload_max(const cell_ctx *x, tval_type type);
/* The value becomes buf (len bytes and a NUL, xmalloc'ed, now the cell's) of this type; a
 * key created this way has no TTL, one that existed keeps its own. */
void cell_take(cell *c, tval_type type, char *buf, size_t len);
/* The key is gone, and with it any TTL (a collection left empty goes this way). */
void cell_remove(cell *c);

/* Redis' float syntax for arguments and stored numbers (what strtold reads, all of it, not
 * NaN), and its human format for results (17 decimals at most, no trailing zeros). */
bool cell_parse_ld(const char *p, size_t len, long double *v);
size_t cell_format_ld(char *buf, size_t cap, long double v);
#define CELL_FLOAT_CHARS_MAX 5120 /* the longest float argument + 1, and a formatted result */

/* The TTL in ms a Put of c should carry: 0 for none. *expired when the TTL set by the
 * block is already past at now_ms, in which case the key is to be deleted instead. */
uint64_t cell_put_ttl(const cell *c, int64_t now_ms, bool *expired);

/* Commands (argv as the client sent them; arity already checked by the command table). */
cell_fn cell_get, cell_set, cell_setex, cell_psetex, cell_getset, cell_getdel, cell_getex, cell_del,
    cell_exists, cell_incr, cell_decr, cell_incrby, cell_decrby, cell_incrbyfloat, cell_append,
    cell_strlen, cell_getrange, cell_setrange, cell_expire, cell_pexpire, cell_expireat,
    cell_pexpireat, cell_persist, cell_ttl, cell_expiretime, cell_type, cell_object_encoding,
    cell_ping, cell_echo, cell_select, cell_unwatch;

/* Lists (cell_list.c) and sorted sets (cell_zset.c). */
cell_fn cell_lpush, cell_rpush, cell_lpushx, cell_rpushx, cell_lpop, cell_rpop, cell_llen,
    cell_lindex, cell_lrange, cell_lset, cell_ltrim, cell_lrem, cell_linsert, cell_lpos, cell_lmove,
    cell_rpoplpush, cell_zadd, cell_zincrby, cell_zrem, cell_zcard, cell_zscore, cell_zmscore,
    cell_zrank, cell_zrevrank, cell_zrange, cell_zrevrange, cell_zpopmin, cell_zpopmax,
    cell_zrangebyscore, cell_zrevrangebyscore, cell_zrangebylex, cell_zrevrangebylex, cell_zcount,
    cell_zlexcount, cell_zremrangebyrank, cell_zremrangebyscore, cell_zremrangebylex,
    cell_zrandmember, cell_zscan;

#endif

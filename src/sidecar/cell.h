/*
 * cell: one key's value as a read-modify-write sees it, and the Redis commands that read
 * or change it, as pure functions: no I/O, no clock of their own, no knowledge of NoriKV
 * calls. The compare-and-swap engine (cas.c) reads the key into a cell, runs one command
 * (or a transaction's commands, in order) on it, and writes the cell back with one Put
 * (or Delete) conditional on the version it read. Replies and errors are Redis' own.
 *
 * TTL: NoriKV never tells a key's remaining time to live and every Put replaces it. So a
 * cell read from the cluster has an unknown TTL (ttl_known false); a command that writes
 * the value without setting a TTL leaves the key with none; only a command of the same
 * block that set or cleared the TTL makes it known.
 */
#ifndef NORIKV_CELL_H
#define NORIKV_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "resp.h"

#define CELL_VALUE_LIMIT 1048576u /* NoriKV's largest value */

typedef struct cell {
    bool exists;
    char *value; /* len bytes and a NUL; owned (xmalloc), NULL when !exists */
    size_t len;
    bool ttl_known;    /* this block set or cleared the TTL */
    int64_t expire_at; /* Unix ms; 0: no TTL (meaningful when ttl_known) */
    bool dirty;        /* changed: to be written (deleted when !exists) */
} cell;

/* What a command needs besides its arguments: the client's protocol for replies, and the
 * wall clock (Unix ms) the whole block runs at, for EX/EXAT and friends. */
typedef struct cell_ctx {
    int proto;
    int64_t now_ms;
} cell_ctx;

/*
 * Runs one command, argv[0] its name, on c and appends its reply (a value, or an error in
 * Redis' words) to out. On error c is unchanged and the result is false. A command that
 * only reads leaves dirty as it was. Keyless commands allowed in a transaction (PING,
 * ECHO) ignore c.
 */
typedef bool cell_fn(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                     struct evbuffer *out);

void cell_init(cell *c); /* a missing key */
/* The key as read: it exists with this value; TTL unknown; not dirty. */
void cell_set_read(cell *c, const void *value, size_t len);
void cell_free(cell *c);
/* The value becomes buf (len bytes and a NUL, xmalloc'ed, now the cell's): dirty; a key
 * created this way has no TTL, as in Redis. For the commands of other modules (cell_bits.c). */
void cell_take_value(cell *c, char *buf, size_t len);

/* The TTL in ms a Put of c should carry: 0 for none. *expired when the TTL set by the
 * block is already past at now_ms, in which case the key is to be deleted instead. */
uint64_t cell_put_ttl(const cell *c, int64_t now_ms, bool *expired);

/* Commands (argv as the client sent them; arity already checked by the command table). */
cell_fn cell_get, cell_set, cell_setex, cell_psetex, cell_getset, cell_getdel, cell_getex, cell_del,
    cell_exists, cell_incr, cell_decr, cell_incrby, cell_decrby, cell_incrbyfloat, cell_append,
    cell_strlen, cell_getrange, cell_setrange, cell_expire, cell_pexpire, cell_expireat,
    cell_pexpireat, cell_persist, cell_ttl, cell_ping, cell_echo, cell_select, cell_unwatch;

#endif

/*
 * The hash and set commands on one key's value (cell_hash.c, cell_set.c): cell functions
 * (cell.h) run by the compare-and-swap engine, with Redis 7.2's replies and errors.
 */
#ifndef NORIKV_CELL_HASH_SET_H
#define NORIKV_CELL_HASH_SET_H

#include "cell.h"

cell_fn cell_hset, cell_hsetnx, cell_hget, cell_hmget, cell_hdel, cell_hlen, cell_hstrlen,
    cell_hexists, cell_hgetall, cell_hkeys, cell_hvals, cell_hincrby, cell_hincrbyfloat,
    cell_hrandfield, cell_hscan;

cell_fn cell_sadd, cell_srem, cell_sismember, cell_smismember, cell_smembers, cell_scard, cell_spop,
    cell_srandmember, cell_sscan;

/* SINTER, SUNION, SDIFF and SINTERCARD on values read apart (cells[0 .. n-1], in key order,
 * missing ones included): the reply, or the first key's error (WRONGTYPE, malformed) and
 * false. SINTERCARD answers the count, at most limit (0: no limit). */
typedef enum cell_set_op {
    CELL_SET_INTER,
    CELL_SET_UNION,
    CELL_SET_DIFF,
    CELL_SET_INTERCARD
} cell_set_op;
bool cell_set_combine(const cell *cells, int n, cell_set_op op, long long limit, int proto,
                      struct evbuffer *out);

#endif

/*
 * cell_hash: Redis' hash commands on one key's value (cell_hash_set.h). A hash is kept as
 * its fields and values in insertion order (Redis' own order for small hashes), decoded
 * and encoded whole by coll.c; every command is O(size of the hash + its arguments).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cell_hash_set.h"
#include "coll.h"
#include "parse.h"

/* ---- writes ---------------------------------------------------------------------------- */

/* HSET and HMSET: field value pairs; HSET answers how many fields are new, HMSET OK. */
bool cell_hset(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    coll co;
    long long created = 0;

    if (argc % 2 == 1)
        return coll_fail_arity(&argv[0], out);
    if (!coll_load(&co, c, TVAL_HASH, (size_t)(argc - 2) / 2, out))
        return false;
    for (int i = 2; i < argc; i += 2) {
        coll_item *it = coll_find(&co, argv[i].ptr, argv[i].len);
        if (it != NULL) {
            coll_set_value(&co, it, argv[i + 1].ptr, argv[i + 1].len);
        } else {
            coll_add(&co, argv[i].ptr, argv[i].len, argv[i + 1].ptr, argv[i + 1].len);
            created++;
        }
    }
    if (!coll_store(&co, c, x, out)) {
        coll_free(&co);
        return false;
    }
    coll_free(&co);
    if (argv[0].len > 1 && (argv[0].ptr[1] == 's' || argv[0].ptr[1] == 'S'))
        resp_add_int(out, created);
    else
        resp_add_simple(out, "OK");
    return true;
}

bool cell_hsetnx(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    coll co;
    bool ok = true, added = false;

    (void)argc;
    if (!coll_load(&co, c, TVAL_HASH, 1, out))
        return false;
    if (coll_find(&co, argv[2].ptr, argv[2].len) == NULL) {
        coll_add(&co, argv[2].ptr, argv[2].len, argv[3].ptr, argv[3].len);
        ok = added = coll_store(&co, c, x, out);
    }
    coll_free(&co);
    if (ok)
        resp_add_int(out, added ? 1 : 0);
    return ok;
}

bool cell_hdel(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    coll co;
    long long deleted = 0;
    bool ok = true;

    if (!coll_load(&co, c, TVAL_HASH, 0, out))
        return false;
    for (int i = 2; i < argc; i++) {
        coll_item *it = coll_find(&co, argv[i].ptr, argv[i].len);
        if (it != NULL) {
            coll_del(&co, it);
            deleted++;
        }
    }
    if (deleted > 0)
        ok = coll_store(&co, c, x, out);
    coll_free(&co);
    if (ok)
        resp_add_int(out, deleted);
    return ok;
}

/* The field's value becomes the new number's text (a copy co owns), and co is stored. */
static bool put_number(coll *co, cell *c, const cell_ctx *x, const resp_arg *field, coll_item *it,
                       const char *text, size_t len, struct evbuffer *out)
{
    const char *v = coll_copy(co, text, len);

    if (it != NULL)
        coll_set_value(co, it, v, len);
    else
        coll_add(co, field->ptr, field->len, v, len);
    return coll_store(co, c, x, out);
}

bool cell_hincrby(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    coll co;
    coll_item *it;
    long long by, v = 0;
    char buf[32];
    int n;
    bool ok;

    (void)argc;
    if (!coll_arg_ll(&argv[3], &by, out))
        return false;
    if (!coll_load(&co, c, TVAL_HASH, 1, out))
        return false;
    it = coll_find(&co, argv[2].ptr, argv[2].len);
    if (it != NULL && !parse_redis_ll(it->v, it->vlen, &v)) {
        coll_free(&co);
        return coll_fail(out, "ERR hash value is not an integer");
    }
    if (__builtin_add_overflow(v, by, &v)) {
        coll_free(&co);
        return coll_fail(out, "ERR increment or decrement would overflow");
    }
    n = snprintf(buf, sizeof(buf), "%lld", v);
    ok = put_number(&co, c, x, &argv[2], it, buf, (size_t)n, out);
    coll_free(&co);
    if (ok)
        resp_add_int(out, v);
    return ok;
}

bool cell_hincrbyfloat(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                       struct evbuffer *out)
{
    coll co;
    coll_item *it;
    long double by, v = 0;
    char buf[CELL_FLOAT_CHARS_MAX];
    size_t n;
    bool ok;

    (void)argc;
    if (!cell_parse_ld(argv[3].ptr, argv[3].len, &by))
        return coll_fail(out, COLL_ERR_NOT_FLOAT);
    if (isnan(by) || isinf(by))
        return coll_fail(out, "ERR value is NaN or Infinity");
    if (!coll_load(&co, c, TVAL_HASH, 1, out))
        return false;
    it = coll_find(&co, argv[2].ptr, argv[2].len);
    if (it != NULL && !cell_parse_ld(it->v, it->vlen, &v)) {
        coll_free(&co);
        return coll_fail(out, "ERR hash value is not a float");
    }
    v += by;
    if (isnan(v) || isinf(v)) {
        coll_free(&co);
        return coll_fail(out, "ERR increment would produce NaN or Infinity");
    }
    n = cell_format_ld(buf, sizeof(buf), v);
    ok = put_number(&co, c, x, &argv[2], it, buf, n, out);
    coll_free(&co);
    if (ok)
        resp_add_bulk(out, buf, n);
    return ok;
}

/* ---- reads ----------------------------------------------------------------------------- */

enum { F_VALUE, F_STRLEN, F_EXISTS };

/* HGET, HMGET (many: an array), HSTRLEN and HEXISTS: what the hash has at each field given,
 * the field's value, its length or whether it is there. */
static bool hget_fields(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, int what,
                        bool many, struct evbuffer *out)
{
    coll co;

    if (!coll_load(&co, c, TVAL_HASH, 0, out))
        return false;
    if (many)
        resp_add_array(out, argc - 2);
    for (int i = 2; i < argc; i++) {
        const coll_item *it = coll_find(&co, argv[i].ptr, argv[i].len);
        if (what == F_STRLEN)
            resp_add_int(out, it != NULL ? (long long)it->vlen : 0);
        else if (what == F_EXISTS)
            resp_add_int(out, it != NULL ? 1 : 0);
        else if (it != NULL)
            resp_add_bulk(out, it->v, it->vlen);
        else
            resp_add_null(out, x->proto);
        if (cell_reply_over(x, out, "ask for fewer fields")) { /* HMGET k f f f ... */
            coll_free(&co);
            return false;
        }
    }
    coll_free(&co);
    return true;
}

bool cell_hget(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return hget_fields(c, x, argv, argc, F_VALUE, false, out);
}

bool cell_hmget(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return hget_fields(c, x, argv, argc, F_VALUE, true, out);
}

bool cell_hstrlen(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return hget_fields(c, x, argv, argc, F_STRLEN, false, out);
}

bool cell_hexists(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return hget_fields(c, x, argv, argc, F_EXISTS, false, out);
}

bool cell_hlen(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    coll co;

    (void)x;
    (void)argv;
    (void)argc;
    if (!coll_load(&co, c, TVAL_HASH, 0, out))
        return false;
    resp_add_int(out, (long long)co.live);
    coll_free(&co);
    return true;
}

enum { H_KEYS = 1, H_VALUES = 2 };

/* HGETALL (a map in RESP3), HKEYS, HVALS. */
static bool hget_many(cell *c, const cell_ctx *x, unsigned what, struct evbuffer *out)
{
    coll co;

    if (!coll_load(&co, c, TVAL_HASH, 0, out))
        return false;
    if (what == (H_KEYS | H_VALUES))
        resp_add_map(out, x->proto, (long)co.live);
    else
        resp_add_array(out, (long)co.live);
    for (size_t i = 0; i < co.n; i++) {
        if (what & H_KEYS)
            resp_add_bulk(out, co.items[i].k, co.items[i].klen);
        if (what & H_VALUES)
            resp_add_bulk(out, co.items[i].v, co.items[i].vlen);
    }
    coll_free(&co);
    return true;
}

bool cell_hgetall(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)argv;
    (void)argc;
    return hget_many(c, x, H_KEYS | H_VALUES, out);
}

bool cell_hkeys(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)argv;
    (void)argc;
    return hget_many(c, x, H_KEYS, out);
}

bool cell_hvals(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)argv;
    (void)argc;
    return hget_many(c, x, H_VALUES, out);
}

bool cell_hrandfield(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                     struct evbuffer *out)
{
    coll co;
    long long l = 0;
    bool withvalues = false, ok = true;
    coll_rng g;

    if (argc >= 3) {
        if (!coll_arg_range(&argv[2], -LONG_MAX, LONG_MAX, NULL, &l, out))
            return false;
        if (argc > 4 || (argc == 4 && strcasecmp(argv[3].ptr, "withvalues") != 0))
            return coll_fail(out, COLL_ERR_SYNTAX);
        withvalues = argc == 4;
        if (withvalues && (l < -LONG_MAX / 2 || l > LONG_MAX / 2))
            return coll_fail(out, "ERR value is out of range");
    }
    if (!coll_load(&co, c, TVAL_HASH, 0, out))
        return false;
    if (argc >= 3) {
        ok = coll_random_reply(&co, x, l, withvalues, out);
    } else if (co.live == 0) {
        resp_add_null(out, x->proto);
    } else {
        coll_rng_init(&g, x);
        coll_item *it = &co.items[coll_rand_below(&g, co.live)];
        resp_add_bulk(out, it->k, it->klen);
    }
    coll_free(&co);
    return ok;
}

bool cell_hscan(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)x;
    return coll_scan_command(c, TVAL_HASH, argv, argc, out);
}

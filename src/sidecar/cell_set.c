/*
 * cell_set: Redis' set commands on one key's value (cell_hash_set.h). A set is kept as its
 * members in insertion order (Redis orders small sets of integers numerically and big
 * sets at random: clients must not rely on an order), decoded and encoded whole by coll.c;
 * every command is O(size of the set + its arguments).
 */
#include <limits.h>
#include <stdlib.h>

#include "cell_hash_set.h"
#include "coll.h"
#include "xalloc.h"

/* SADD (add) and SREM (!add): how many members were added or removed. */
static bool change(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, bool add,
                   struct evbuffer *out)
{
    coll co;
    long long n = 0;
    bool ok = true;

    if (!coll_load(&co, c, TVAL_SET, add ? (size_t)(argc - 2) : 0, out))
        return false;
    for (int i = 2; i < argc; i++) {
        coll_item *it = coll_find(&co, argv[i].ptr, argv[i].len);
        if (add && it == NULL) {
            coll_add(&co, argv[i].ptr, argv[i].len, NULL, 0);
            n++;
        } else if (!add && it != NULL) {
            coll_del(&co, it);
            n++;
        }
    }
    if (n > 0)
        ok = coll_store(&co, c, x, out);
    coll_free(&co);
    if (ok)
        resp_add_int(out, n);
    return ok;
}

bool cell_sadd(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return change(c, x, argv, argc, true, out);
}

bool cell_srem(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return change(c, x, argv, argc, false, out);
}

/* SISMEMBER (one member, an integer) and SMISMEMBER (an array of them). */
static bool is_member(cell *c, const resp_arg *argv, int argc, bool many, struct evbuffer *out)
{
    coll co;

    if (!coll_load(&co, c, TVAL_SET, 0, out))
        return false;
    if (many)
        resp_add_array(out, argc - 2);
    for (int i = 2; i < argc; i++)
        resp_add_int(out, coll_find(&co, argv[i].ptr, argv[i].len) != NULL ? 1 : 0);
    coll_free(&co);
    return true;
}

bool cell_sismember(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                    struct evbuffer *out)
{
    (void)x;
    return is_member(c, argv, argc, false, out);
}

bool cell_smismember(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                     struct evbuffer *out)
{
    (void)x;
    return is_member(c, argv, argc, true, out);
}

/* The members of the items given (all of co when pick is NULL) as a set reply. */
static void add_members(const coll *co, const size_t *pick, size_t n, int proto,
                        struct evbuffer *out)
{
    resp_add_set(out, proto, (long)n);
    for (size_t i = 0; i < n; i++) {
        const coll_item *it = &co->items[pick != NULL ? pick[i] : i];
        resp_add_bulk(out, it->k, it->klen);
    }
}

bool cell_smembers(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    coll co;

    (void)argv;
    (void)argc;
    if (!coll_load(&co, c, TVAL_SET, 0, out))
        return false;
    add_members(&co, NULL, co.live, x->proto, out);
    coll_free(&co);
    return true;
}

bool cell_scard(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    coll co;

    (void)x;
    (void)argv;
    (void)argc;
    if (!coll_load(&co, c, TVAL_SET, 0, out))
        return false;
    resp_add_int(out, (long long)co.live);
    coll_free(&co);
    return true;
}

/* SPOP key count: count distinct members at random, removed (the whole set when count is
 * its size or more: the key is deleted). */
static bool spop_count(cell *c, const cell_ctx *x, const resp_arg *a, struct evbuffer *out)
{
    coll co;
    long long l;
    size_t n, *pick;
    coll_rng g;
    bool ok;

    /* one error for a non-integer and a negative one, as Redis */
    if (!coll_arg_range(a, 0, LLONG_MAX, COLL_ERR_POSITIVE, &l, out))
        return false;
    if (!coll_load(&co, c, TVAL_SET, 0, out))
        return false;
    if (l == 0 || co.live == 0) {
        resp_add_set(out, x->proto, 0);
        coll_free(&co);
        return true;
    }
    n = (unsigned long long)l < co.live ? (size_t)l : co.live;
    coll_rng_init(&g, x);
    pick = coll_sample(&g, co.live, n);
    for (size_t i = 0; i < n; i++)
        coll_del(&co, &co.items[pick[i]]);
    /* the reply first: the members point into the value a store replaces (smaller than
     * it was, it fits) */
    add_members(&co, pick, n, x->proto, out);
    ok = coll_store(&co, c, x, out);
    free(pick);
    coll_free(&co);
    return ok;
}

bool cell_spop(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    coll co;
    coll_rng g;
    coll_item *it;
    bool ok;

    if (argc == 3)
        return spop_count(c, x, &argv[2], out);
    if (argc > 3)
        return coll_fail(out, COLL_ERR_SYNTAX);
    if (!coll_load(&co, c, TVAL_SET, 0, out))
        return false;
    if (co.live == 0) {
        resp_add_null(out, x->proto);
        coll_free(&co);
        return true;
    }
    coll_rng_init(&g, x);
    it = &co.items[coll_rand_below(&g, co.live)];
    coll_del(&co, it);
    resp_add_bulk(out, it->k, it->klen); /* first: it points into the value stored over */
    ok = coll_store(&co, c, x, out);
    coll_free(&co);
    return ok;
}

bool cell_srandmember(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                      struct evbuffer *out)
{
    coll co;
    long long l = 0;
    coll_rng g;
    bool ok = true;

    if (argc > 3)
        return coll_fail(out, COLL_ERR_SYNTAX);
    if (argc == 3 && !coll_arg_range(&argv[2], -LONG_MAX, LONG_MAX, NULL, &l, out))
        return false;
    if (!coll_load(&co, c, TVAL_SET, 0, out))
        return false;
    if (argc == 3) {
        ok = coll_random_reply(&co, x, l, false, out);
    } else if (co.live == 0) {
        resp_add_null(out, x->proto);
    } else {
        const coll_item *it;
        coll_rng_init(&g, x);
        it = &co.items[coll_rand_below(&g, co.live)];
        resp_add_bulk(out, it->k, it->klen);
    }
    coll_free(&co);
    return ok;
}

bool cell_sscan(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)x;
    return coll_scan_command(c, TVAL_SET, argv, argc, out);
}

/* ---- SINTER, SUNION, SDIFF, SINTERCARD: several keys read apart (cmd_data.c) ---------- */

/* Whether it is in every set of sets[0 .. n-1] but skip. */
static bool in_all(const coll *sets, int n, int skip, const coll_item *it)
{
    for (int j = 0; j < n; j++) {
        if (j != skip && coll_find(&sets[j], it->k, it->klen) == NULL)
            return false;
    }
    return true;
}

/* The members chosen, as a set reply. */
static void add_picked(coll_item *const *picked, size_t n, int proto, struct evbuffer *out)
{
    resp_add_set(out, proto, (long)n);
    for (size_t i = 0; i < n; i++)
        resp_add_bulk(out, picked[i]->k, picked[i]->klen);
}

/* Adds the members of set that acc lacks to acc (and to picked, when not NULL). */
static void gather(coll *acc, const coll *set, coll_item **picked, size_t *k)
{
    for (size_t i = 0; i < set->n; i++) {
        const coll_item *it = &set->items[i];
        if (coll_find(acc, it->k, it->klen) != NULL)
            continue;
        coll_item *added = coll_add(acc, it->k, it->klen, NULL, 0);
        if (picked != NULL)
            picked[(*k)++] = added;
    }
}

/* The result of op on the loaded sets, into picked (room for every member of every set):
 * how many; a SINTERCARD stops at limit (0: none). */
static size_t combine(coll *sets, int n, cell_set_op op, long long limit, coll *acc,
                      coll_item **picked)
{
    size_t k = 0;
    int small = 0;

    if (op == CELL_SET_UNION) {
        for (int j = 0; j < n; j++)
            gather(acc, &sets[j], picked, &k);
        return k;
    }
    if (op == CELL_SET_DIFF) { /* the other sets' members in acc, then the first's not there */
        for (int j = 1; j < n; j++)
            gather(acc, &sets[j], NULL, &k);
        for (size_t i = 0; i < sets[0].n; i++) {
            if (coll_find(acc, sets[0].items[i].k, sets[0].items[i].klen) == NULL)
                picked[k++] = &sets[0].items[i];
        }
        return k;
    }
    for (int j = 1; j < n; j++) { /* the intersection walks the smallest set */
        if (sets[j].live < sets[small].live)
            small = j;
    }
    for (size_t i = 0; i < sets[small].n; i++) {
        if (limit > 0 && k >= (size_t)limit)
            break;
        if (in_all(sets, n, small, &sets[small].items[i]))
            picked[k++] = &sets[small].items[i];
    }
    return k;
}

bool cell_set_combine(const cell *cells, int n, cell_set_op op, long long limit, int proto,
                      struct evbuffer *out)
{
    coll *sets = xcalloc((size_t)n, sizeof(*sets)), acc;
    coll_item **picked;
    size_t total = 0, k;
    int loaded = 0;

    while (loaded < n && coll_load(&sets[loaded], &cells[loaded], TVAL_SET, 0, out))
        total += sets[loaded++].live;
    if (loaded < n) { /* WRONGTYPE, or a malformed value: the reply */
        for (int j = 0; j < loaded; j++)
            coll_free(&sets[j]);
        free(sets);
        return false;
    }
    picked = xcalloc(total > 0 ? total : 1, sizeof(*picked));
    coll_load(&acc, &(cell){0}, TVAL_SET, op == CELL_SET_UNION || op == CELL_SET_DIFF ? total : 0,
              out);
    k = combine(sets, n, op, limit, &acc, picked);
    if (op == CELL_SET_INTERCARD)
        resp_add_int(out, (long long)k);
    else
        add_picked(picked, k, proto, out);
    coll_free(&acc);
    for (int j = 0; j < n; j++)
        coll_free(&sets[j]);
    free(picked);
    free(sets);
    return true;
}

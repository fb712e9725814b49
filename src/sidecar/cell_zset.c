/*
 * cell_zset: Redis' sorted-set commands on one key's value, a sorted-set payload (tval.h: a
 * count, then per member its score and the member, in score then member order). A command
 * reads the payload into an array, finds members through a seeded hash table (dict.h),
 * sorts once when scores changed and writes one payload: O(N log N + M), never O(N*M).
 * Replies and errors are Redis 7.2's; a set left empty deletes the key.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "coll_zl.h"
#include "dict.h"
#include "xalloc.h"

typedef struct zitem {
    double score;
    const char *m;
    size_t len;
    bool gone;
    dict_entry entry;
} zitem;

typedef struct zset {
    zitem *items;
    size_t n;
    dict index; /* by member, built on demand (zset_index) */
    bool indexed;
} zset;

static void zset_free(zset *z)
{
    if (z->indexed)
        dict_release(&z->index);
    free(z->items);
}

/* The key holds a sorted set (or nothing): its members, room for extra more. */
static bool read_zset(const cell *c, size_t extra, zset *z, struct evbuffer *out)
{
    tval_reader r;
    uint32_t count = 0;

    memset(z, 0, sizeof(*z));
    if (!cell_want(c, TVAL_ZSET, out))
        return false;
    if (c->exists) {
        tval_reader_init(&r, c->value, c->len);
        if (!tval_read_u32(&r, &count) || count > c->len / 12)
            return zl_malformed(out);
    }
    z->items = xcalloc((size_t)count + extra + 1, sizeof(*z->items));
    for (uint32_t i = 0; i < count; i++) {
        zitem *it = &z->items[i];

        if (!tval_read_double(&r, &it->score) || isnan(it->score) ||
            !tval_read_str(&r, &it->m, &it->len)) {
            free(z->items);
            return zl_malformed(out);
        }
    }
    if (c->exists && !tval_reader_done(&r)) {
        free(z->items);
        return zl_malformed(out);
    }
    z->n = count;
    return true;
}

static void zset_index(zset *z)
{
    dict_init(&z->index, dict_seed());
    z->indexed = true;
    for (size_t i = 0; i < z->n; i++)
        dict_add(&z->index, &z->items[i].entry, z->items[i].m, z->items[i].len);
}

static zitem *zset_find(const zset *z, const char *m, size_t len)
{
    dict_entry *e = dict_find(&z->index, m, len);

    return e == NULL ? NULL : dict_item(e, zitem, entry);
}

static int zcmp(const void *pa, const void *pb)
{
    const zitem *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int r;

    if (a->score != b->score)
        return a->score < b->score ? -1 : 1;
    r = n == 0 ? 0 : memcmp(a->m, b->m, n);
    if (r != 0)
        return r;
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

/* The set becomes z's members not gone, sorted when sort: one payload, or the key deleted
 * when none is left; an error, and the cell unchanged, past NoriKV's limit. */
static bool write_zset(cell *c, const cell_ctx *x, zset *z, bool sort, struct evbuffer *out)
{
    size_t len = 4, k = 0;
    tval_writer w;
    char *buf;

    for (size_t i = 0; i < z->n; i++) {
        if (!z->items[i].gone) {
            len += 8 + TVAL_STR_COST(z->items[i].len);
            k++;
        }
    }
    if (k == 0) {
        cell_remove(c);
        return true;
    }
    if (k > UINT32_MAX || !zl_fits(x, TVAL_ZSET, len, out))
        return false;
    if (z->indexed) { /* the entries move when sorted */
        dict_release(&z->index);
        z->indexed = false;
    }
    if (sort)
        qsort(z->items, z->n, sizeof(*z->items), zcmp);
    tval_writer_init(&w, len);
    tval_write_u32(&w, (uint32_t)k);
    for (size_t i = 0; i < z->n; i++) {
        if (!z->items[i].gone) {
            tval_write_double(&w, z->items[i].score);
            tval_write_str(&w, z->items[i].m, z->items[i].len);
        }
    }
    buf = tval_writer_take(&w, &len);
    cell_take(c, TVAL_ZSET, buf, len);
    return true;
}

static bool arg_score(const resp_arg *a, double *v, struct evbuffer *out)
{
    if (!zl_parse_double(a->ptr, a->len, v))
        return zl_fail(out, ZL_ERR_NOT_FLOAT);
    return true;
}

/* ---- ZADD ZINCRBY ------------------------------------------------------------------------ */

enum { Z_NX = 1, Z_XX = 2, Z_GT = 4, Z_LT = 8, Z_CH = 16, Z_INCR = 32 };

/* Adds or updates the pairs (scores[i], argv[from + 2i + 1]); the reply as ZADD's. */
static bool zadd(cell *c, const cell_ctx *x, const resp_arg *argv, int from, size_t pairs,
                 unsigned f, struct evbuffer *out)
{
    double *scores = xmalloc(pairs * sizeof(*scores)), result = 0;
    size_t added = 0, updated = 0;
    bool done = false, ok = false;
    zset z;

    for (size_t i = 0; i < pairs; i++) {
        if (!arg_score(&argv[from + 2 * i], &scores[i], out)) {
            free(scores);
            return false;
        }
    }
    if (!read_zset(c, pairs, &z, out)) {
        free(scores);
        return false;
    }
    zset_index(&z);
    for (size_t i = 0; i < pairs; i++) {
        const resp_arg *m = &argv[from + 2 * i + 1];
        zitem *it = zset_find(&z, m->ptr, m->len);
        double score = scores[i];

        if (it != NULL) {
            if (f & Z_NX)
                continue;
            if (f & Z_INCR) {
                score += it->score;
                if (isnan(score)) {
                    zl_fail(out, "ERR resulting score is not a number (NaN)");
                    goto done;
                }
            }
            if (((f & Z_LT) && score >= it->score) || ((f & Z_GT) && score <= it->score))
                continue;
            result = score;
            done = true;
            if (score != it->score) {
                it->score = score;
                updated++;
            }
        } else {
            if (f & Z_XX)
                continue;
            it = &z.items[z.n++];
            *it = (zitem){.score = score, .m = m->ptr, .len = m->len};
            dict_add(&z.index, &it->entry, it->m, it->len);
            result = score;
            done = true;
            added++;
        }
    }
    if ((added > 0 || updated > 0) && !write_zset(c, x, &z, true, out))
        goto done;
    if (f & Z_INCR) {
        if (done)
            resp_add_double(out, x->proto, result);
        else
            resp_add_null(out, x->proto);
    } else {
        resp_add_int(out, (long long)(added + ((f & Z_CH) ? updated : 0)));
    }
    ok = true;
done:
    zset_free(&z);
    free(scores);
    return ok;
}

bool cell_zadd(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    static const struct {
        const char *name;
        unsigned flag;
    } opts[] = {{"NX", Z_NX}, {"XX", Z_XX}, {"GT", Z_GT},
                {"LT", Z_LT}, {"CH", Z_CH}, {"INCR", Z_INCR}};
    unsigned f = 0;
    int i = 2;

    for (; i < argc; i++) {
        size_t k = 0;

        while (k < sizeof(opts) / sizeof(opts[0]) && !zl_arg_is(&argv[i], opts[k].name))
            k++;
        if (k == sizeof(opts) / sizeof(opts[0]))
            break;
        f |= opts[k].flag;
    }
    if ((argc - i) % 2 != 0 || argc == i)
        return zl_fail(out, ZL_ERR_SYNTAX);
    if ((f & Z_INCR) && argc - i > 2)
        return zl_fail(out, "ERR INCR option supports a single increment-element pair");
    if ((f & Z_NX) && (f & Z_XX))
        return zl_fail(out, "ERR XX and NX options at the same time are not compatible");
    if (((f & Z_GT) && (f & Z_NX)) || ((f & Z_LT) && (f & Z_NX)) || ((f & Z_GT) && (f & Z_LT)))
        return zl_fail(out, "ERR GT, LT, and/or NX options at the same time are not compatible");
    return zadd(c, x, argv, i, (size_t)(argc - i) / 2, f, out);
}

bool cell_zincrby(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)argc;
    return zadd(c, x, argv, 2, 1, Z_INCR, out);
}

/* ---- ZREM ---------------------------------------------------------------------------------- */

bool cell_zrem(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    size_t removed = 0;
    bool ok = true;
    zset z;

    if (!read_zset(c, 0, &z, out))
        return false;
    zset_index(&z);
    for (int i = 2; i < argc; i++) {
        zitem *it = zset_find(&z, argv[i].ptr, argv[i].len);

        if (it != NULL && !it->gone) {
            it->gone = true;
            removed++;
        }
    }
    if (removed > 0)
        ok = write_zset(c, x, &z, false, out);
    zset_free(&z);
    if (ok)
        resp_add_int(out, (long long)removed);
    return ok;
}

/* ---- reads ------------------------------------------------------------------------------- */

bool cell_zcard(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    zset z;

    (void)x;
    (void)argv;
    (void)argc;
    if (!read_zset(c, 0, &z, out))
        return false;
    resp_add_int(out, (long long)z.n);
    zset_free(&z);
    return true;
}

bool cell_zscore(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    zset z;
    size_t i;

    (void)argc;
    if (!read_zset(c, 0, &z, out))
        return false;
    for (i = 0; i < z.n; i++) {
        if (zl_str_eq(z.items[i].m, z.items[i].len, argv[2].ptr, argv[2].len))
            break;
    }
    if (i < z.n)
        resp_add_double(out, x->proto, z.items[i].score);
    else
        resp_add_null(out, x->proto);
    zset_free(&z);
    return true;
}

bool cell_zmscore(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    zset z;

    if (!read_zset(c, 0, &z, out))
        return false;
    zset_index(&z);
    resp_add_array(out, argc - 2);
    for (int i = 2; i < argc; i++) {
        zitem *it = zset_find(&z, argv[i].ptr, argv[i].len);

        if (it != NULL)
            resp_add_double(out, x->proto, it->score);
        else
            resp_add_null(out, x->proto);
    }
    zset_free(&z);
    return true;
}

/* ZRANK and ZREVRANK: key member [WITHSCORE]. */
static bool zrank(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, bool rev,
                  struct evbuffer *out)
{
    bool withscore = argc == 4;
    zset z;
    size_t i;

    if (argc > 4 || (argc == 4 && !zl_arg_is(&argv[3], "WITHSCORE")))
        return zl_fail(out, ZL_ERR_SYNTAX);
    if (!read_zset(c, 0, &z, out))
        return false;
    for (i = 0; i < z.n; i++) {
        if (zl_str_eq(z.items[i].m, z.items[i].len, argv[2].ptr, argv[2].len))
            break;
    }
    if (i == z.n) {
        if (withscore)
            resp_add_null_array(out, x->proto);
        else
            resp_add_null(out, x->proto);
    } else {
        if (withscore)
            resp_add_array(out, 2);
        resp_add_int(out, (long long)(rev ? z.n - 1 - i : i));
        if (withscore)
            resp_add_double(out, x->proto, z.items[i].score);
    }
    zset_free(&z);
    return true;
}

bool cell_zrank(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return zrank(c, x, argv, argc, false, out);
}

bool cell_zrevrank(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return zrank(c, x, argv, argc, true, out);
}

/* Members from..to (inclusive, ascending indexes; reversed when rev), with their scores:
 * RESP2 flat, RESP3 as pairs. */
static void reply_members(const zset *z, size_t from, size_t to, bool rev, bool scores,
                          const cell_ctx *x, struct evbuffer *out)
{
    size_t k = to - from + 1;

    resp_add_array(out, (long)(scores && x->proto < 3 ? 2 * k : k));
    for (size_t j = 0; j < k; j++) {
        const zitem *it = &z->items[rev ? to - j : from + j];

        if (scores && x->proto >= 3)
            resp_add_array(out, 2);
        resp_add_bulk(out, it->m, it->len);
        if (scores)
            resp_add_double(out, x->proto, it->score);
    }
}

/* ZRANGE by index (REV, WITHSCORES); ZREVRANGE (rev, WITHSCORES). */
static bool zrange(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, bool rev,
                   bool zrange_opts, struct evbuffer *out)
{
    long long start, end, len;
    bool scores = false;
    zset z;

    for (int i = 4; i < argc; i++) {
        if (zl_arg_is(&argv[i], "WITHSCORES")) {
            scores = true;
        } else if (zrange_opts && zl_arg_is(&argv[i], "REV")) {
            rev = true;
        } else if (zrange_opts && (zl_arg_is(&argv[i], "BYSCORE") || zl_arg_is(&argv[i], "BYLEX") ||
                                   zl_arg_is(&argv[i], "LIMIT"))) {
            return zl_fail(out, "ERR ZRANGE BYSCORE, BYLEX and LIMIT are not supported by "
                                "this sidecar yet: ZRANGE by index only");
        } else {
            return zl_fail(out, ZL_ERR_SYNTAX);
        }
    }
    if (!zl_arg_ll(&argv[2], &start, out) || !zl_arg_ll(&argv[3], &end, out) ||
        !read_zset(c, 0, &z, out))
        return false;
    len = (long long)z.n;
    if (start < 0)
        start += len;
    if (end < 0)
        end += len;
    if (start < 0)
        start = 0;
    if (start > end || start >= len) {
        resp_add_array(out, 0);
    } else {
        if (end >= len)
            end = len - 1;
        if (rev) /* indexes count from the highest */
            reply_members(&z, (size_t)(len - 1 - end), (size_t)(len - 1 - start), true, scores, x,
                          out);
        else
            reply_members(&z, (size_t)start, (size_t)end, false, scores, x, out);
    }
    zset_free(&z);
    return true;
}

bool cell_zrange(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return zrange(c, x, argv, argc, false, true, out);
}

bool cell_zrevrange(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                    struct evbuffer *out)
{
    return zrange(c, x, argv, argc, true, false, out);
}

/* ---- ZPOPMIN ZPOPMAX ----------------------------------------------------------------------- */

static bool zpop(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, bool max,
                 struct evbuffer *out)
{
    long long count = 1;
    size_t k;
    bool ok;
    zset z;

    if (argc > 3)
        return zl_fail(out, ZL_ERR_SYNTAX);
    if (argc == 3 && !zl_arg_range(&argv[2], 0, LLONG_MAX, ZL_ERR_POSITIVE, &count, out))
        return false;
    if (!read_zset(c, 0, &z, out))
        return false;
    k = (unsigned long long)count < z.n ? (size_t)count : z.n;
    if (k == 0) {
        resp_add_array(out, 0);
        zset_free(&z);
        return true;
    }
    if (argc == 3 || x->proto < 3) { /* RESP3 nests pairs only when a count was given */
        reply_members(&z, max ? z.n - k : 0, max ? z.n - 1 : k - 1, max, true, x, out);
    } else {
        const zitem *it = &z.items[max ? z.n - 1 : 0];

        resp_add_array(out, 2);
        resp_add_bulk(out, it->m, it->len);
        resp_add_double(out, x->proto, it->score);
    }
    for (size_t i = 0; i < k; i++)
        z.items[max ? z.n - 1 - i : i].gone = true;
    ok = write_zset(c, x, &z, false, out);
    zset_free(&z);
    return ok;
}

bool cell_zpopmin(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return zpop(c, x, argv, argc, false, out);
}

bool cell_zpopmax(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return zpop(c, x, argv, argc, true, out);
}

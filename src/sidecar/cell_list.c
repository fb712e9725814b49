/*
 * cell_list: Redis' list commands on one key's value, a list payload (tval.h: a count, then
 * the elements head to tail). Each command reads the payload into slices of the cell's
 * bytes, works on them and writes a new payload once: O(length of the list and of the
 * arguments). Replies and errors are Redis 7.2's; a list left empty deletes the key, and a
 * list that would outgrow a NoriKV value is not written (an error says so).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "coll.h"
#include "xalloc.h"

#define LEFT  0
#define RIGHT 1

/* The key holds a list (or nothing); its elements in *items (NULL on error). */
static bool read_list(const cell *c, size_t extra, coll_str **items, size_t *n,
                      struct evbuffer *out)
{
    *items = NULL;
    *n = 0;
    if (!cell_want(c, TVAL_LIST, out))
        return false;
    return coll_read_strs(c, extra, items, n, out);
}

/* The list becomes items[0..n): written as one payload, the key deleted when n is 0; an
 * error, and the cell unchanged, when it would not fit a NoriKV value. */
static bool write_list(cell *c, const cell_ctx *x, const coll_str *items, size_t n,
                       struct evbuffer *out)
{
    size_t len = 4;
    tval_writer w;
    char *buf;

    if (n == 0) {
        cell_remove(c);
        return true;
    }
    for (size_t i = 0; i < n; i++)
        len += TVAL_STR_COST(items[i].len);
    if (n > UINT32_MAX || !coll_fits(x, TVAL_LIST, len, out))
        return false;
    tval_writer_init(&w, len);
    tval_write_u32(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        tval_write_str(&w, items[i].p, items[i].len);
    buf = tval_writer_take(&w, &len);
    cell_take(c, TVAL_LIST, buf, len);
    return true;
}

static void reply_str(struct evbuffer *out, const coll_str *s)
{
    resp_add_bulk(out, s->p, s->len);
}

/* Redis' index: negative counts from the tail; -1 when out of range. */
static long long list_index(long long i, size_t n)
{
    if (i < 0)
        i += (long long)n;
    return i < 0 || i >= (long long)n ? -1 : i;
}

/* ---- LPUSH RPUSH LPUSHX RPUSHX ----------------------------------------------------------- */

static bool push(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, int where, bool xx,
                 struct evbuffer *out)
{
    size_t m = (size_t)argc - 2, n;
    coll_str *items;
    bool ok;

    if (!cell_want(c, TVAL_LIST, out))
        return false;
    if (xx && !c->exists) {
        resp_add_int(out, 0);
        return true;
    }
    if (!read_list(c, m, &items, &n, out))
        return false;
    if (where == LEFT) {
        memmove(items + m, items, n * sizeof(*items));
        for (size_t i = 0; i < m; i++) /* each pushed at the head in turn */
            items[m - 1 - i] = (coll_str){argv[2 + i].ptr, argv[2 + i].len};
    } else {
        for (size_t i = 0; i < m; i++)
            items[n + i] = (coll_str){argv[2 + i].ptr, argv[2 + i].len};
    }
    ok = write_list(c, x, items, n + m, out);
    free(items);
    if (ok)
        resp_add_int(out, (long long)(n + m));
    return ok;
}

bool cell_lpush(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return push(c, x, argv, argc, LEFT, false, out);
}

bool cell_rpush(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return push(c, x, argv, argc, RIGHT, false, out);
}

bool cell_lpushx(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return push(c, x, argv, argc, LEFT, true, out);
}

bool cell_rpushx(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return push(c, x, argv, argc, RIGHT, true, out);
}

/* ---- LPOP RPOP ------------------------------------------------------------------------- */

static bool pop(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, int where,
                struct evbuffer *out)
{
    bool has_count = argc == 3, ok;
    long long count = 1;
    size_t n, k;
    coll_str *items;

    if (argc > 3)
        return coll_fail_arity(&argv[0], out);
    if (has_count && !coll_arg_range(&argv[2], 0, LLONG_MAX, COLL_ERR_POSITIVE, &count, out))
        return false;
    if (!c->exists) {
        if (has_count)
            resp_add_null_array(out, x->proto);
        else
            resp_add_null(out, x->proto);
        return true;
    }
    if (!read_list(c, 0, &items, &n, out))
        return false;
    if (has_count && count == 0) {
        free(items);
        resp_add_array(out, 0);
        return true;
    }
    k = (unsigned long long)count < n ? (size_t)count : n;
    if (has_count)
        resp_add_array(out, (long)k);
    for (size_t i = 0; i < k; i++)
        reply_str(out, where == LEFT ? &items[i] : &items[n - 1 - i]);
    ok = write_list(c, x, where == LEFT ? items + k : items, n - k, out);
    free(items);
    return ok;
}

bool cell_lpop(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return pop(c, x, argv, argc, LEFT, out);
}

bool cell_rpop(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return pop(c, x, argv, argc, RIGHT, out);
}

/* ---- reads ------------------------------------------------------------------------------ */

bool cell_llen(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    coll_str *items;
    size_t n;

    (void)x;
    (void)argv;
    (void)argc;
    if (!read_list(c, 0, &items, &n, out))
        return false;
    free(items);
    resp_add_int(out, (long long)n);
    return true;
}

bool cell_lindex(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    coll_str *items;
    size_t n;
    long long i;

    (void)argc;
    if (!c->exists) {
        resp_add_null(out, x->proto);
        return true;
    }
    if (!cell_want(c, TVAL_LIST, out) || !coll_arg_ll(&argv[2], &i, out) ||
        !read_list(c, 0, &items, &n, out))
        return false;
    i = list_index(i, n);
    if (i < 0)
        resp_add_null(out, x->proto);
    else
        reply_str(out, &items[i]);
    free(items);
    return true;
}

bool cell_lrange(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    long long start, end;
    coll_str *items;
    size_t n, from, to;

    (void)x;
    (void)argc;
    if (!coll_arg_ll(&argv[2], &start, out) || !coll_arg_ll(&argv[3], &end, out) ||
        !read_list(c, 0, &items, &n, out))
        return false;
    if (!coll_range(start, end, n, &from, &to)) {
        resp_add_array(out, 0);
    } else {
        resp_add_array(out, (long)(to - from + 1));
        for (size_t i = from; i <= to; i++)
            reply_str(out, &items[i]);
    }
    free(items);
    return true;
}

/* ---- LSET LTRIM LREM LINSERT --------------------------------------------------------------- */

bool cell_lset(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    coll_str *items;
    size_t n;
    long long i;
    bool ok;

    (void)argc;
    if (!c->exists)
        return coll_fail(out, "ERR no such key");
    if (!cell_want(c, TVAL_LIST, out) || !coll_arg_ll(&argv[2], &i, out) ||
        !read_list(c, 0, &items, &n, out))
        return false;
    i = list_index(i, n);
    if (i < 0) {
        free(items);
        return coll_fail(out, "ERR index out of range");
    }
    items[i] = (coll_str){argv[3].ptr, argv[3].len};
    ok = write_list(c, x, items, n, out);
    free(items);
    if (ok)
        resp_add_simple(out, "OK");
    return ok;
}

bool cell_ltrim(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    long long start, end;
    coll_str *items;
    size_t n, from = 0, to = 0;
    bool ok = true;

    (void)argc;
    if (!coll_arg_ll(&argv[2], &start, out) || !coll_arg_ll(&argv[3], &end, out) ||
        !read_list(c, 0, &items, &n, out))
        return false;
    if (!coll_range(start, end, n, &from, &to))
        ok = write_list(c, x, items, 0, out);
    else if (from > 0 || to + 1 < n)
        ok = write_list(c, x, items + from, to - from + 1, out);
    free(items);
    if (ok)
        resp_add_simple(out, "OK");
    return ok;
}

bool cell_lrem(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    const resp_arg *e = &argv[3];
    long long count;
    coll_str *items;
    size_t n, kept = 0, removed = 0, limit;
    bool ok = true;

    (void)argc;
    if (!coll_arg_range(&argv[2], -LLONG_MAX, LLONG_MAX, NULL, &count, out) ||
        !read_list(c, 0, &items, &n, out))
        return false;
    limit = count == 0 ? n : (size_t)llabs(count) < n ? (size_t)llabs(count) : n;
    if (count >= 0) {
        for (size_t i = 0; i < n; i++) {
            if (removed < limit && coll_str_eq(items[i].p, items[i].len, e->ptr, e->len))
                removed++;
            else
                items[kept++] = items[i];
        }
    } else { /* from the tail: keep the survivors packed at the end, then slide them down */
        kept = n;
        for (size_t i = n; i-- > 0;) {
            if (removed < limit && coll_str_eq(items[i].p, items[i].len, e->ptr, e->len))
                removed++;
            else
                items[--kept] = items[i];
        }
        memmove(items, items + kept, (n - kept) * sizeof(*items));
        kept = n - kept;
    }
    if (removed > 0)
        ok = write_list(c, x, items, kept, out);
    free(items);
    if (ok)
        resp_add_int(out, (long long)removed);
    return ok;
}

bool cell_linsert(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    const resp_arg *pivot = &argv[3];
    coll_str *items;
    size_t n, i;
    bool after, ok;

    (void)argc;
    if (coll_arg_is(&argv[2], "AFTER"))
        after = true;
    else if (coll_arg_is(&argv[2], "BEFORE"))
        after = false;
    else
        return coll_fail(out, COLL_ERR_SYNTAX);
    if (!c->exists) {
        resp_add_int(out, 0);
        return true;
    }
    if (!read_list(c, 1, &items, &n, out))
        return false;
    for (i = 0; i < n; i++) {
        if (coll_str_eq(items[i].p, items[i].len, pivot->ptr, pivot->len))
            break;
    }
    if (i == n) {
        free(items);
        resp_add_int(out, -1);
        return true;
    }
    if (after)
        i++;
    memmove(items + i + 1, items + i, (n - i) * sizeof(*items));
    items[i] = (coll_str){argv[4].ptr, argv[4].len};
    ok = write_list(c, x, items, n + 1, out);
    free(items);
    if (ok)
        resp_add_int(out, (long long)(n + 1));
    return ok;
}

/* ---- LPOS --------------------------------------------------------------------------------- */

bool cell_lpos(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    const resp_arg *e = &argv[2];
    long long rank = 1, count = -1, maxlen = 0, matches = 0, found = -1, nfound = 0;
    struct evbuffer *list;
    coll_str *items;
    size_t n;

    for (int j = 3; j < argc; j++) {
        bool more = j + 1 < argc;

        if (coll_arg_is(&argv[j], "RANK") && more) {
            if (!coll_arg_range(&argv[++j], -LLONG_MAX, LLONG_MAX, NULL, &rank, out))
                return false;
            if (rank == 0)
                return coll_fail(out, "ERR RANK can't be zero: use 1 to start from the first "
                                      "match, 2 from the second ... or use negative to start from "
                                      "the end of the list");
        } else if (coll_arg_is(&argv[j], "COUNT") && more) {
            if (!coll_arg_range(&argv[++j], 0, LLONG_MAX, "ERR COUNT can't be negative", &count,
                                out))
                return false;
        } else if (coll_arg_is(&argv[j], "MAXLEN") && more) {
            if (!coll_arg_range(&argv[++j], 0, LLONG_MAX, "ERR MAXLEN can't be negative", &maxlen,
                                out))
                return false;
        } else {
            return coll_fail(out, COLL_ERR_SYNTAX);
        }
    }
    if (!c->exists) {
        if (count != -1)
            resp_add_array(out, 0);
        else
            resp_add_null(out, x->proto);
        return true;
    }
    if (!read_list(c, 0, &items, &n, out))
        return false;
    list = evbuffer_new();
    for (size_t k = 0; k < n && (maxlen == 0 || (long long)k < maxlen); k++) {
        size_t i = rank > 0 ? k : n - 1 - k;

        if (!coll_str_eq(items[i].p, items[i].len, e->ptr, e->len))
            continue;
        if (++matches < llabs(rank))
            continue;
        found = (long long)i;
        if (count == -1)
            break;
        resp_add_int(list, found);
        nfound++;
        if (count != 0 && matches - llabs(rank) + 1 >= count)
            break;
    }
    free(items);
    if (count != -1) {
        resp_add_array(out, (long)nfound);
        evbuffer_add_buffer(out, list);
    } else if (found >= 0) {
        resp_add_int(out, found);
    } else {
        resp_add_null(out, x->proto);
    }
    evbuffer_free(list);
    return true;
}

/* ---- LMOVE RPOPLPUSH: one key only ---------------------------------------------------------- */

static bool move(cell *c, const cell_ctx *x, const resp_arg *argv, int from, int to,
                 const char *cmd, struct evbuffer *out)
{
    coll_str *items, e;
    size_t n;
    bool ok;

    if (!coll_str_eq(argv[1].ptr, argv[1].len, argv[2].ptr, argv[2].len)) {
        resp_add_errorf(out,
                        "ERR %s is not supported across two keys: NoriKV cannot write two keys "
                        "in one atomic step (the source and destination must be the same key)",
                        cmd);
        return false;
    }
    if (!c->exists) {
        resp_add_null(out, x->proto);
        return true;
    }
    if (!read_list(c, 0, &items, &n, out))
        return false;
    e = from == LEFT ? items[0] : items[n - 1];
    if (from != to) { /* a rotation; the same end gives the list back unchanged */
        if (from == LEFT) {
            memmove(items, items + 1, (n - 1) * sizeof(*items));
            items[n - 1] = e;
        } else {
            memmove(items + 1, items, (n - 1) * sizeof(*items));
            items[0] = e;
        }
    }
    reply_str(out, &e); /* before the write frees the bytes e points into; the same
                           number of bytes is written, so the write cannot fail */
    ok = write_list(c, x, items, n, out);
    free(items);
    return ok;
}

static bool where_arg(const resp_arg *a, int *where)
{
    if (coll_arg_is(a, "LEFT"))
        *where = LEFT;
    else if (coll_arg_is(a, "RIGHT"))
        *where = RIGHT;
    else
        return false;
    return true;
}

bool cell_lmove(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    int from, to;

    (void)argc;
    if (!where_arg(&argv[3], &from) || !where_arg(&argv[4], &to))
        return coll_fail(out, COLL_ERR_SYNTAX);
    return move(c, x, argv, from, to, "LMOVE", out);
}

bool cell_rpoplpush(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                    struct evbuffer *out)
{
    (void)argc;
    return move(c, x, argv, RIGHT, LEFT, "RPOPLPUSH", out);
}

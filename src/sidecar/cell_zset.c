/*
 * cell_zset: Redis' sorted-set commands on one key's value, a sorted-set payload (tval.h: a
 * count, then per member its score and the member, in score then member order). A command
 * reads the payload into an array, finds members through a seeded hash table (dict.h),
 * sorts once when scores changed and writes one payload: O(N log N + M), never O(N*M).
 * Ranges of scores and members are walked as Redis walks its small sets; reads write
 * nothing. Replies and errors are Redis 7.2's; a set left empty deletes the key.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "coll.h"
#include "dict.h"
#include "glob.h"
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
    if (c->exists && !coll_reader_init(&r, c, 12, &count)) /* a score and a length */
        return coll_malformed(TVAL_ZSET, out);
    z->items = xcalloc((size_t)count + extra + 1, sizeof(*z->items));
    for (uint32_t i = 0; i < count; i++) {
        zitem *it = &z->items[i];

        if (!tval_read_double(&r, &it->score) || isnan(it->score) ||
            !tval_read_str(&r, &it->m, &it->len)) {
            free(z->items);
            return coll_malformed(TVAL_ZSET, out);
        }
    }
    if (c->exists && !tval_reader_done(&r)) {
        free(z->items);
        return coll_malformed(TVAL_ZSET, out);
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
    if (k > UINT32_MAX || !coll_fits(x, TVAL_ZSET, len, out))
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
    if (!coll_parse_double(a->ptr, a->len, v))
        return coll_fail(out, COLL_ERR_NOT_FLOAT);
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
                    coll_fail(out, "ERR resulting score is not a number (NaN)");
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

        while (k < sizeof(opts) / sizeof(opts[0]) && !coll_arg_is(&argv[i], opts[k].name))
            k++;
        if (k == sizeof(opts) / sizeof(opts[0]))
            break;
        f |= opts[k].flag;
    }
    if ((argc - i) % 2 != 0 || argc == i)
        return coll_fail(out, COLL_ERR_SYNTAX);
    if ((f & Z_INCR) && argc - i > 2)
        return coll_fail(out, "ERR INCR option supports a single increment-element pair");
    if ((f & Z_NX) && (f & Z_XX))
        return coll_fail(out, "ERR XX and NX options at the same time are not compatible");
    if (((f & Z_GT) && (f & Z_NX)) || ((f & Z_LT) && (f & Z_NX)) || ((f & Z_GT) && (f & Z_LT)))
        return coll_fail(out, "ERR GT, LT, and/or NX options at the same time are not compatible");
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
        if (coll_str_eq(z.items[i].m, z.items[i].len, argv[2].ptr, argv[2].len))
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

    if (argc > 4 || (argc == 4 && !coll_arg_is(&argv[3], "WITHSCORE")))
        return coll_fail(out, COLL_ERR_SYNTAX);
    if (!read_zset(c, 0, &z, out))
        return false;
    for (i = 0; i < z.n; i++) {
        if (coll_str_eq(z.items[i].m, z.items[i].len, argv[2].ptr, argv[2].len))
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

/* ---- ranges ------------------------------------------------------------------------------- */

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

/* One end of a lex range: '-' (inf -1) below every member, '+' (inf 1) above, or bytes. */
typedef struct zlex {
    int inf;
    const char *p;
    size_t len;
} zlex;

/* A range of scores (Redis' zrangespec) or of members (zlexrangespec). */
typedef struct zspec {
    bool lex;
    bool minex, maxex;
    double min, max;
    zlex lmin, lmax;
} zspec;

/* Redis' zslParseRange on one end: '(' exclusive, then all that strtod reads up to the first
 * NUL (so blanks before the number, an empty string as 0, an overflow as inf), not NaN. */
static bool parse_score_end(const resp_arg *a, double *v, bool *ex)
{
    size_t skip = a->len > 0 && a->ptr[0] == '(' ? 1 : 0;
    char *s = xmemdup0(a->ptr + skip, a->len - skip), *end;
    bool ok;

    *ex = skip == 1;
    *v = strtod(s, &end);
    ok = *end == '\0' && !isnan(*v);
    free(s);
    return ok;
}

/* Redis' zslParseLexRangeItem: '-', '+', '(' bytes (exclusive) or '[' bytes. */
static bool parse_lex_end(const resp_arg *a, zlex *v, bool *ex)
{
    if (a->len == 0)
        return false;
    switch (a->ptr[0]) {
    case '+':
    case '-':
        if (a->len > 1 && a->ptr[1] != '\0')
            return false;
        *v = (zlex){.inf = a->ptr[0] == '+' ? 1 : -1};
        *ex = true;
        return true;
    case '(':
    case '[':
        *v = (zlex){.p = a->ptr + 1, .len = a->len - 1};
        *ex = a->ptr[0] == '(';
        return true;
    default:
        return false;
    }
}

static bool parse_spec(const resp_arg *min, const resp_arg *max, bool lex, zspec *s,
                       struct evbuffer *out)
{
    memset(s, 0, sizeof(*s));
    s->lex = lex;
    if (lex) {
        if (!parse_lex_end(min, &s->lmin, &s->minex) || !parse_lex_end(max, &s->lmax, &s->maxex))
            return coll_fail(out, "ERR min or max not valid string range item");
    } else if (!parse_score_end(min, &s->min, &s->minex) ||
               !parse_score_end(max, &s->max, &s->maxex)) {
        return coll_fail(out, "ERR min or max is not a float");
    }
    return true;
}

/* Redis' sdscmplex: bytes compared as memcmp, the shorter first; '-' and '+' outside. */
static int lexcmp(const zlex *a, const zlex *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int r;

    if (a->inf != 0 && a->inf == b->inf)
        return 0;
    if (a->inf < 0 || b->inf > 0)
        return -1;
    if (a->inf > 0 || b->inf < 0)
        return 1;
    r = n == 0 ? 0 : memcmp(a->p, b->p, n);
    if (r != 0)
        return r;
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

static bool gte_min(const zspec *s, const zitem *it)
{
    if (s->lex) {
        zlex v = {.p = it->m, .len = it->len};
        int r = lexcmp(&v, &s->lmin);

        return s->minex ? r > 0 : r >= 0;
    }
    return s->minex ? it->score > s->min : it->score >= s->min;
}

static bool lte_max(const zspec *s, const zitem *it)
{
    if (s->lex) {
        zlex v = {.p = it->m, .len = it->len};
        int r = lexcmp(&v, &s->lmax);

        return s->maxex ? r < 0 : r <= 0;
    }
    return s->maxex ? it->score < s->max : it->score <= s->max;
}

/* Whether the range can hold no member at all, or none of this set's. */
static bool none_in(const zset *z, const zspec *s)
{
    int r;

    if (s->lex) {
        r = lexcmp(&s->lmin, &s->lmax);
        if (r > 0 || (r == 0 && (s->minex || s->maxex)))
            return true;
    } else if (s->min > s->max || (s->min == s->max && (s->minex || s->maxex))) {
        return true;
    }
    return z->n == 0 || !gte_min(s, &z->items[z->n - 1]) || !lte_max(s, &z->items[0]);
}

/* The first member in range, walking up from the lowest as Redis walks a small set (so a
 * lex range over members of different scores answers as Redis' small sets do); z->n when
 * none. */
static size_t first_in(const zset *z, const zspec *s)
{
    if (none_in(z, s))
        return z->n;
    for (size_t i = 0; i < z->n; i++) {
        if (gte_min(s, &z->items[i]))
            return lte_max(s, &z->items[i]) ? i : z->n;
    }
    return z->n;
}

/* The last member in range, walking down from the highest; z->n when none. */
static size_t last_in(const zset *z, const zspec *s)
{
    if (none_in(z, s))
        return z->n;
    for (size_t i = z->n; i-- > 0;) {
        if (lte_max(s, &z->items[i]))
            return gte_min(s, &z->items[i]) ? i : z->n;
    }
    return z->n;
}

/* How many members from the first in range on (index from) are in it, up to limit (no
 * limit when negative). */
static size_t run_up(const zset *z, const zspec *s, size_t from, long long limit)
{
    size_t k = 0;

    while (from + k < z->n && (limit < 0 || k < (unsigned long long)limit) &&
           lte_max(s, &z->items[from + k]))
        k++;
    return k;
}

/* BYSCORE and BYLEX: from the first member in range (the last when rev), skip offset
 * members, then reply up to limit (all when negative) while they are in range. */
static void reply_by(const zset *z, const zspec *s, long long offset, long long limit, bool rev,
                     bool scores, const cell_ctx *x, struct evbuffer *out)
{
    size_t start = rev ? last_in(z, s) : first_in(z, s), k = 0;

    /* Redis walks a negative offset off the end of the set */
    if (start == z->n || offset < 0 ||
        (unsigned long long)offset >= (rev ? start + 1 : z->n - start)) {
        resp_add_array(out, 0);
        return;
    }
    if (!rev) {
        start += (size_t)offset;
        k = run_up(z, s, start, limit);
    } else {
        start -= (size_t)offset;
        while (k <= start && (limit < 0 || k < (unsigned long long)limit) &&
               gte_min(s, &z->items[start - k]))
            k++;
    }
    if (k == 0)
        resp_add_array(out, 0);
    else if (rev)
        reply_members(z, start - (k - 1), start, true, scores, x, out);
    else
        reply_members(z, start, start + k - 1, false, scores, x, out);
}

enum { ZR_AUTO, ZR_RANK, ZR_SCORE, ZR_LEX };
enum { ZD_AUTO, ZD_FORWARD, ZD_REV };

/* Redis' zrangeGenericCommand: ZRANGE (any type and direction, by its options) and the
 * commands of a fixed type or direction (ZREVRANGE, ZRANGEBYSCORE, ...). The options
 * first, in order, then the range, then the key. */
static bool zrange(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, int type, int dir,
                   struct evbuffer *out)
{
    long long start = 0, end = 0, offset = 0, limit = -1;
    bool scores = false;
    int minidx = 2, maxidx = 3;
    size_t from, to;
    zspec s;
    zset z;

    for (int i = 4; i < argc; i++) {
        if (coll_arg_is(&argv[i], "WITHSCORES")) {
            scores = true;
        } else if (coll_arg_is(&argv[i], "LIMIT") && argc - i - 1 >= 2) {
            if (!coll_arg_ll(&argv[i + 1], &offset, out) || !coll_arg_ll(&argv[i + 2], &limit, out))
                return false;
            i += 2;
        } else if (dir == ZD_AUTO && coll_arg_is(&argv[i], "REV")) {
            dir = ZD_REV;
        } else if (type == ZR_AUTO && coll_arg_is(&argv[i], "BYLEX")) {
            type = ZR_LEX;
        } else if (type == ZR_AUTO && coll_arg_is(&argv[i], "BYSCORE")) {
            type = ZR_SCORE;
        } else {
            return coll_fail(out, COLL_ERR_SYNTAX);
        }
    }
    if (type == ZR_AUTO)
        type = ZR_RANK;
    /* Redis tells a LIMIT apart by its count: LIMIT x -1 passes, as if not given */
    if (limit != -1 && type == ZR_RANK)
        return coll_fail(out, "ERR syntax error, LIMIT is only supported in combination with "
                              "either BYSCORE or BYLEX");
    if (scores && type == ZR_LEX)
        return coll_fail(out,
                         "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    if (dir == ZD_REV && type != ZR_RANK) { /* the range is given as max min */
        minidx = 3;
        maxidx = 2;
    }
    if (type == ZR_RANK) {
        if (!coll_arg_ll(&argv[minidx], &start, out) || !coll_arg_ll(&argv[maxidx], &end, out))
            return false;
    } else if (!parse_spec(&argv[minidx], &argv[maxidx], type == ZR_LEX, &s, out)) {
        return false;
    }
    if (!read_zset(c, 0, &z, out))
        return false;
    if (type != ZR_RANK) {
        reply_by(&z, &s, offset, limit, dir == ZD_REV, scores, x, out);
    } else if (!coll_range(start, end, z.n, &from, &to)) {
        resp_add_array(out, 0);
    } else if (dir == ZD_REV) { /* indexes count from the highest */
        reply_members(&z, z.n - 1 - to, z.n - 1 - from, true, scores, x, out);
    } else {
        reply_members(&z, from, to, false, scores, x, out);
    }
    zset_free(&z);
    return true;
}

bool cell_zrange(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return zrange(c, x, argv, argc, ZR_AUTO, ZD_AUTO, out);
}

bool cell_zrevrange(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                    struct evbuffer *out)
{
    return zrange(c, x, argv, argc, ZR_RANK, ZD_REV, out);
}

bool cell_zrangebyscore(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                        struct evbuffer *out)
{
    return zrange(c, x, argv, argc, ZR_SCORE, ZD_FORWARD, out);
}

bool cell_zrevrangebyscore(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                           struct evbuffer *out)
{
    return zrange(c, x, argv, argc, ZR_SCORE, ZD_REV, out);
}

bool cell_zrangebylex(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                      struct evbuffer *out)
{
    return zrange(c, x, argv, argc, ZR_LEX, ZD_FORWARD, out);
}

bool cell_zrevrangebylex(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                         struct evbuffer *out)
{
    return zrange(c, x, argv, argc, ZR_LEX, ZD_REV, out);
}

/* ZCOUNT and ZLEXCOUNT. */
static bool zcount(cell *c, const resp_arg *argv, bool lex, struct evbuffer *out)
{
    zspec s;
    zset z;

    if (!parse_spec(&argv[2], &argv[3], lex, &s, out) || !read_zset(c, 0, &z, out))
        return false;
    resp_add_int(out, (long long)run_up(&z, &s, first_in(&z, &s), -1));
    zset_free(&z);
    return true;
}

bool cell_zcount(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)x;
    (void)argc;
    return zcount(c, argv, false, out);
}

bool cell_zlexcount(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                    struct evbuffer *out)
{
    (void)x;
    (void)argc;
    return zcount(c, argv, true, out);
}

/* ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX: the members of the range go, the
 * last one deleting the key; the reply is how many. */
static bool zremrange(cell *c, const cell_ctx *x, const resp_arg *argv, int type,
                      struct evbuffer *out)
{
    long long start = 0, end = 0;
    size_t from = 0, k = 0;
    bool ok = true;
    zspec s;
    zset z;

    if (type == ZR_RANK) {
        if (!coll_arg_ll(&argv[2], &start, out) || !coll_arg_ll(&argv[3], &end, out))
            return false;
    } else if (!parse_spec(&argv[2], &argv[3], type == ZR_LEX, &s, out)) {
        return false;
    }
    if (!read_zset(c, 0, &z, out))
        return false;
    if (type == ZR_RANK) {
        size_t to;

        if (coll_range(start, end, z.n, &from, &to))
            k = to - from + 1;
    } else {
        from = first_in(&z, &s);
        k = run_up(&z, &s, from, -1);
    }
    for (size_t i = 0; i < k; i++)
        z.items[from + i].gone = true;
    if (k > 0)
        ok = write_zset(c, x, &z, false, out);
    zset_free(&z);
    if (ok)
        resp_add_int(out, (long long)k);
    return ok;
}

bool cell_zremrangebyrank(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                          struct evbuffer *out)
{
    (void)argc;
    return zremrange(c, x, argv, ZR_RANK, out);
}

bool cell_zremrangebyscore(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                           struct evbuffer *out)
{
    (void)argc;
    return zremrange(c, x, argv, ZR_SCORE, out);
}

bool cell_zremrangebylex(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                         struct evbuffer *out)
{
    (void)argc;
    return zremrange(c, x, argv, ZR_LEX, out);
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
        return coll_fail(out, COLL_ERR_SYNTAX);
    if (argc == 3 && !coll_arg_range(&argv[2], 0, LLONG_MAX, COLL_ERR_POSITIVE, &count, out))
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

/* ---- ZRANDMEMBER --------------------------------------------------------------------------- */

static void add_pick(const zitem *it, bool scores, const cell_ctx *x, struct evbuffer *out)
{
    if (scores && x->proto >= 3)
        resp_add_array(out, 2);
    resp_add_bulk(out, it->m, it->len);
    if (scores)
        resp_add_double(out, x->proto, it->score);
}

/* Redis' cases for a count l: none for 0; for l < 0 (or 1), -l members drawn with
 * repetition; for l >= size the whole set, highest first; else l distinct members, lowest
 * first, as Redis answers for its small sets. */
static bool zrandom(const zset *z, long long l, bool scores, const cell_ctx *x,
                    struct evbuffer *out)
{
    unsigned long long count = l >= 0 ? (unsigned long long)l : 0ULL - (unsigned long long)l;
    long mul = scores && x->proto < 3 ? 2 : 1;
    size_t need;
    coll_rng g;

    if (count == 0 || z->n == 0) {
        resp_add_array(out, 0);
        return true;
    }
    coll_rng_init(&g, x);
    if (l < 0 || count == 1) {
        if (!coll_picks_start(count, mul, out))
            return false;
        while (count-- > 0) {
            add_pick(&z->items[coll_rand_below(&g, z->n)], scores, x, out);
            if (cell_reply_over(x, out, "ask for fewer random picks"))
                return false;
        }
        return true;
    }
    need = count < z->n ? (size_t)count : z->n;
    resp_add_array(out, (long)need * mul);
    if (need == z->n) { /* the whole set, highest first, as Redis iterates it */
        for (size_t i = z->n; i-- > 0;)
            add_pick(&z->items[i], scores, x, out);
        return true;
    }
    /* selection sampling (Knuth's algorithm S): each subset of need members equally likely,
     * one pass, no memory */
    for (size_t i = 0; i < z->n && need > 0; i++) {
        if (coll_rand_below(&g, z->n - i) < need) {
            add_pick(&z->items[i], scores, x, out);
            need--;
        }
    }
    return true;
}

bool cell_zrandmember(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                      struct evbuffer *out)
{
    bool scores = false, ok = true;
    long long l = 0;
    zset z;

    if (argc >= 3) {
        if (!coll_arg_range(&argv[2], -LLONG_MAX, LLONG_MAX, NULL, &l, out))
            return false;
        if (argc > 4 || (argc == 4 && !coll_arg_is(&argv[3], "WITHSCORES")))
            return coll_fail(out, COLL_ERR_SYNTAX);
        scores = argc == 4;
        if (scores && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2))
            return coll_fail(out, "ERR value is out of range");
    }
    if (!read_zset(c, 0, &z, out))
        return false;
    if (argc >= 3) {
        ok = zrandom(&z, l, scores, x, out);
    } else if (z.n == 0) {
        resp_add_null(out, x->proto);
    } else {
        coll_rng g;

        coll_rng_init(&g, x);
        add_pick(&z.items[coll_rand_below(&g, z.n)], false, x, out);
    }
    zset_free(&z);
    return ok;
}

/* ---- ZSCAN ----------------------------------------------------------------------------------- */

/* Steps a MATCH pattern may take per byte of the set and of the pattern, as for HSCAN and
 * SSCAN (coll.c): ample for any pattern a person writes, and ZSCAN stays linear in what it
 * reads. */
#define ZSCAN_GLOB_STEPS 8

/* Redis' parseScanCursorOrReply: what strtoul reads, all of it up to the first NUL, no
 * leading blank, no overflow (so "" is 0 and "-1" the largest cursor, as in Redis). */
static bool parse_cursor(const resp_arg *a, unsigned long long *cursor)
{
    char *s = xmemdup0(a->ptr, a->len), *end;
    bool ok;

    errno = 0;
    *cursor = strtoull(s, &end, 10);
    ok = !isspace((unsigned char)s[0]) && *end == '\0' && errno != ERANGE;
    free(s);
    return ok;
}

/* ZSCAN key cursor [MATCH pattern] [COUNT n]: the cursor is a position in the stored order
 * (by score, then member); each call looks at COUNT members from there and answers those
 * matching, with the next position, 0 after the last. */
bool cell_zscan(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    unsigned long long cursor;
    long long count = 10;
    const resp_arg *pat = NULL;
    size_t from, to, k = 0, *hits;
    long budget;
    zset z;

    (void)x;
    if (!parse_cursor(&argv[2], &cursor))
        return coll_fail(out, "ERR invalid cursor");
    if (!read_zset(c, 0, &z, out))
        return false;
    /* as in Redis, the options are read only once the key is known to be a sorted set */
    if (!c->exists) {
        zset_free(&z);
        resp_add_array(out, 2);
        resp_add_bulk(out, "0", 1);
        resp_add_array(out, 0);
        return true;
    }
    for (int i = 3; i < argc; i++) {
        if (coll_arg_is(&argv[i], "COUNT") && argc - i >= 2) {
            if (!coll_arg_ll(&argv[i + 1], &count, out)) {
                zset_free(&z);
                return false;
            }
            if (count < 1) {
                zset_free(&z);
                return coll_fail(out, COLL_ERR_SYNTAX);
            }
            i++;
        } else if (coll_arg_is(&argv[i], "MATCH") && argc - i >= 2) {
            pat = argv[i + 1].len == 1 && argv[i + 1].ptr[0] == '*' ? NULL : &argv[i + 1];
            i++;
        } else {
            zset_free(&z);
            return coll_fail(out, COLL_ERR_SYNTAX);
        }
    }
    from = cursor < z.n ? (size_t)cursor : z.n;
    to = (unsigned long long)count < z.n - from ? from + (size_t)count : z.n;
    budget = ZSCAN_GLOB_STEPS * (long)(c->len + (pat != NULL ? pat->len : 0) + 1);
    hits = xmalloc((to - from + 1) * sizeof(*hits));
    for (size_t i = from; i < to; i++) {
        int m = pat == NULL
                    ? 1
                    : glob_match(pat->ptr, pat->len, z.items[i].m, z.items[i].len, false, &budget);

        if (m < 0) {
            free(hits);
            zset_free(&z);
            return coll_fail(out, "ERR ZSCAN pattern too costly to match: use a simpler pattern");
        }
        if (m == 1)
            hits[k++] = i;
    }
    resp_add_array(out, 2);
    resp_add_bulkf(out, "%llu", to < z.n ? (unsigned long long)to : 0ULL);
    resp_add_array(out, (long)(2 * k));
    for (size_t j = 0; j < k; j++) {
        resp_add_bulk(out, z.items[hits[j]].m, z.items[hits[j]].len);
        resp_add_double(out, 2, z.items[hits[j]].score); /* a bulk string in RESP3 too */
    }
    free(hits);
    zset_free(&z);
    return true;
}

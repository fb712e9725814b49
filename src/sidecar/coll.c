/*
 * coll: a hash's or a set's payload decoded into items with an index, a list-shaped
 * payload read into slices, and what the collection commands share (coll.h). Owns nothing
 * past a call but a coll, freed by coll_free.
 */
#include "coll.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "glob.h"
#include "parse.h"
#include "xalloc.h"

/* The glob steps a SCAN call may spend on MATCH, per byte of the value and of the pattern
 * (past them the scan answers an error rather than leave out an item it could not decide):
 * ample for any pattern a person writes (a few stars cost a few steps per byte), and a scan
 * costs what a read of its value does, which is what a group of blocks on a key is budgeted
 * by (cas.c). */
#define SCAN_GLOB_STEPS 8

/* ---- any collection's payload ----------------------------------------------------------- */

bool coll_reader_init(tval_reader *r, const cell *c, size_t per, uint32_t *count)
{
    tval_reader_init(r, c->value, c->len);
    return tval_read_u32(r, count) && *count <= c->len / per;
}

bool coll_malformed(tval_type type, struct evbuffer *out)
{
    resp_add_errorf(out,
                    "ERR the value of this key is malformed: its payload does not decode as a "
                    "%s (README, \"The typed value format\")",
                    tval_type_name(type));
    return false;
}

bool coll_fits(const cell_ctx *x, tval_type type, size_t len, struct evbuffer *out)
{
    if (len > cell_payload_max(x, type))
        return coll_fail(out, COLL_ERR_LIMIT);
    return true;
}

bool coll_read_strs(const cell *c, size_t extra, coll_str **items, size_t *n, struct evbuffer *out)
{
    tval_reader r;
    uint32_t count;

    *items = NULL;
    *n = 0;
    if (!c->exists) {
        *items = xmalloc((extra + 1) * sizeof(**items));
        return true;
    }
    /* every item takes 4 bytes at least */
    if (!coll_reader_init(&r, c, 4, &count))
        return coll_malformed(c->type, out);
    *items = xmalloc(((size_t)count + extra + 1) * sizeof(**items));
    for (uint32_t i = 0; i < count; i++) {
        if (!tval_read_str(&r, &(*items)[i].p, &(*items)[i].len))
            break;
        (*n)++;
    }
    if (*n < count || !tval_reader_done(&r)) {
        free(*items);
        *items = NULL;
        *n = 0;
        return coll_malformed(c->type, out);
    }
    return true;
}

/* ---- the collection -------------------------------------------------------------------- */

void coll_free(coll *co)
{
    for (size_t i = 0; i < co->nown; i++)
        free(co->own[i]);
    free(co->own);
    free(co->items);
    dict_release(&co->idx);
    memset(co, 0, sizeof(*co));
}

static void index_item(coll *co, coll_item *it)
{
    dict_add(&co->idx, &it->de, it->k, it->klen);
}

bool coll_load(coll *co, const cell *c, tval_type type, size_t extra, struct evbuffer *out)
{
    tval_reader r;
    uint32_t count = 0;
    size_t per = type == TVAL_HASH ? 8 : 4; /* the fewest bytes an item takes */

    memset(co, 0, sizeof(*co));
    co->type = type;
    co->bytes = 4;
    dict_init(&co->idx, dict_seed());
    if (!cell_want(c, type, out))
        return false;
    if (c->exists) {
        if (!coll_reader_init(&r, c, per, &count)) {
            coll_free(co);
            return coll_malformed(type, out);
        }
        co->bytes = c->len;
    }
    co->cap = count + extra;
    co->items = xcalloc(co->cap > 0 ? co->cap : 1, sizeof(*co->items));
    for (uint32_t i = 0; i < count; i++) {
        coll_item *it = &co->items[i];
        if (!tval_read_str(&r, &it->k, &it->klen) ||
            (type == TVAL_HASH && !tval_read_str(&r, &it->v, &it->vlen)) ||
            dict_find(&co->idx, it->k, it->klen) != NULL) {
            coll_free(co);
            return coll_malformed(type, out);
        }
        index_item(co, it);
        co->n++;
    }
    if (c->exists && !tval_reader_done(&r)) {
        coll_free(co);
        return coll_malformed(type, out);
    }
    co->live = co->n;
    return true;
}

coll_item *coll_find(const coll *co, const char *k, size_t klen)
{
    dict_entry *e = dict_find(&co->idx, k, klen);

    return e != NULL ? dict_item(e, coll_item, de) : NULL;
}

static size_t item_cost(const coll *co, const coll_item *it)
{
    return TVAL_STR_COST(it->klen) + (co->type == TVAL_HASH ? TVAL_STR_COST(it->vlen) : 0);
}

coll_item *coll_add(coll *co, const char *k, size_t klen, const char *v, size_t vlen)
{
    coll_item *it;

    if (co->n >= co->cap)
        abort(); /* the caller reserved too little: a bug */
    it = &co->items[co->n++];
    *it = (coll_item){.k = k, .klen = klen, .v = v, .vlen = vlen};
    index_item(co, it);
    co->live++;
    co->bytes += item_cost(co, it);
    return it;
}

void coll_set_value(coll *co, coll_item *it, const char *v, size_t vlen)
{
    co->bytes = co->bytes - it->vlen + vlen;
    it->v = v;
    it->vlen = vlen;
}

void coll_del(coll *co, coll_item *it)
{
    dict_remove(&co->idx, &it->de);
    it->dead = true;
    co->live--;
    co->bytes -= item_cost(co, it);
}

const char *coll_copy(coll *co, const char *p, size_t len)
{
    co->own = xrealloc(co->own, (co->nown + 1) * sizeof(*co->own));
    co->own[co->nown] = xmemdup0(p, len);
    return co->own[co->nown++];
}

bool coll_store(coll *co, cell *c, const cell_ctx *x, struct evbuffer *out)
{
    tval_writer w;
    char *buf;
    size_t len;

    if (co->live == 0) {
        cell_remove(c);
        return true;
    }
    if (!coll_fits(x, co->type, co->bytes, out))
        return false;
    tval_writer_init(&w, co->bytes);
    tval_write_u32(&w, (uint32_t)co->live);
    for (size_t i = 0; i < co->n; i++) {
        const coll_item *it = &co->items[i];
        if (it->dead)
            continue;
        tval_write_str(&w, it->k, it->klen);
        if (co->type == TVAL_HASH)
            tval_write_str(&w, it->v, it->vlen);
    }
    buf = tval_writer_take(&w, &len);
    cell_take(c, co->type, buf, len);
    return true;
}

/* ---- SCAN ------------------------------------------------------------------------------ */

typedef struct coll_scan {
    unsigned long cursor;
    long count;
    const char *pat; /* NULL: every item */
    size_t plen;
    bool novalues; /* HSCAN NOVALUES: the fields alone */
} coll_scan;

/* The cursor (argv[2]): "ERR invalid cursor" as Redis answers, else true. */
static bool scan_cursor(const resp_arg *argv, coll_scan *s, struct evbuffer *out)
{
    char *end;
    const char *p = argv[2].ptr;

    memset(s, 0, sizeof(*s));
    s->count = 10;
    errno = 0;
    s->cursor = strtoul(p, &end, 10);
    if (isspace((unsigned char)p[0]) || *end != '\0' || errno == ERANGE) {
        resp_add_error(out, "ERR invalid cursor");
        return false;
    }
    return true;
}

/* The options from argv[3] on, of a scan of type. */
static bool scan_opts(const resp_arg *argv, int argc, tval_type type, coll_scan *s,
                      struct evbuffer *out)
{
    for (int i = 3; i < argc; i += 2) {
        long long v;

        if (type == TVAL_HASH && coll_arg_is(&argv[i], "NOVALUES")) {
            s->novalues = true;
            i--; /* a word without a value */
        } else if (coll_arg_is(&argv[i], "COUNT") && i + 1 < argc) {
            if (!coll_arg_ll(&argv[i + 1], &v, out))
                return false;
            if (v < 1)
                return coll_fail(out, COLL_ERR_SYNTAX);
            s->count = (long)v;
        } else if (coll_arg_is(&argv[i], "MATCH") && i + 1 < argc) {
            bool all = argv[i + 1].len == 1 && argv[i + 1].ptr[0] == '*';
            s->pat = all ? NULL : argv[i + 1].ptr;
            s->plen = argv[i + 1].len;
        } else {
            return coll_fail(out, COLL_ERR_SYNTAX);
        }
    }
    return true;
}

static void add_cursor(struct evbuffer *out, unsigned long cursor)
{
    resp_add_array(out, 2);
    resp_add_bulkf(out, "%lu", cursor);
}

/* Redis' empty scan reply: cursor 0, no items (a missing key). */
static void scan_empty(struct evbuffer *out)
{
    add_cursor(out, 0);
    resp_add_array(out, 0);
}

/* Replies [next cursor, items]: field and value of each hash item, a set's members; false,
 * with the error, when MATCH ran past its budget. */
static bool scan_reply(const coll *co, const coll_scan *s, size_t value_len, struct evbuffer *out)
{
    size_t from = s->cursor < co->n ? (size_t)s->cursor : co->n;
    size_t to = co->n - from > (size_t)s->count ? from + (size_t)s->count : co->n;
    size_t nmatch = 0, k = 0;
    bool *hit = xcalloc(to - from + 1, sizeof(*hit));
    long budget = SCAN_GLOB_STEPS * (long)(value_len + s->plen + 1);

    for (size_t i = from; i < to; i++) {
        const coll_item *it = &co->items[i];
        int m = s->pat == NULL ? 1 : glob_match(s->pat, s->plen, it->k, it->klen, false, &budget);
        if (m < 0) {
            free(hit);
            resp_add_errorf(out, "ERR %s pattern too costly to match: use a simpler pattern",
                            co->type == TVAL_HASH ? "HSCAN" : "SSCAN");
            return false;
        }
        hit[i - from] = m == 1;
        nmatch += hit[i - from];
    }
    add_cursor(out, to < co->n ? (unsigned long)to : 0);
    resp_add_array(out, (long)(nmatch * (co->type == TVAL_HASH && !s->novalues ? 2 : 1)));
    for (size_t i = from; i < to; i++, k++) {
        const coll_item *it = &co->items[i];
        if (!hit[k])
            continue;
        resp_add_bulk(out, it->k, it->klen);
        if (co->type == TVAL_HASH && !s->novalues)
            resp_add_bulk(out, it->v, it->vlen);
    }
    free(hit);
    return true;
}

bool coll_scan_command(const cell *c, tval_type type, const resp_arg *argv, int argc,
                       struct evbuffer *out)
{
    coll co;
    coll_scan s;
    bool ok = false;

    if (!scan_cursor(argv, &s, out) || !coll_load(&co, c, type, 0, out))
        return false;
    if (!c->exists) {
        scan_empty(out); /* Redis reads no option of a missing key */
        ok = true;
    } else if (scan_opts(argv, argc, type, &s, out)) {
        ok = scan_reply(&co, &s, c->len, out);
    }
    coll_free(&co);
    return ok;
}

/* ---- random ---------------------------------------------------------------------------- */

void coll_rng_init(coll_rng *g, const cell_ctx *x)
{
    g->s = x->seed;
}

static uint64_t next64(coll_rng *g)
{
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t coll_rand_below(coll_rng *g, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, v;

    do {
        v = next64(g);
    } while (v >= limit);
    return v % n;
}

size_t *coll_sample(coll_rng *g, size_t n, size_t k)
{
    size_t *p = xcalloc(n > 0 ? n : 1, sizeof(*p));

    for (size_t i = 0; i < n; i++)
        p[i] = i;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)coll_rand_below(g, n - i), t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

bool coll_picks_start(unsigned long long count, long mul, struct evbuffer *out)
{
    if (count > (unsigned long long)COLL_RANDOM_PICKS_MAX) {
        resp_add_errorf(out, "ERR count is over the sidecar's limit of %ld random picks",
                        COLL_RANDOM_PICKS_MAX);
        return false;
    }
    resp_add_array(out, (long)count * mul);
    return true;
}

/* One random item: the field or member, and with values its value (a pair in RESP3). */
static void add_field(const coll_item *it, bool withvalues, int proto, struct evbuffer *out)
{
    if (withvalues && proto > 2)
        resp_add_array(out, 2);
    resp_add_bulk(out, it->k, it->klen);
    if (withvalues)
        resp_add_bulk(out, it->v, it->vlen);
}

bool coll_random_reply(const coll *co, const cell_ctx *x, long long l, bool withvalues,
                       struct evbuffer *out)
{
    unsigned long long count = l >= 0 ? (unsigned long long)l : 0ULL - (unsigned long long)l;
    size_t size = co->live, reply_n;
    long mul = withvalues && x->proto == 2 ? 2 : 1;
    coll_rng g;

    coll_rng_init(&g, x);
    if (count == 0 || size == 0) {
        resp_add_array(out, 0);
        return true;
    }
    if (l < 0 || count == 1) {
        if (!coll_picks_start(count, mul, out))
            return false;
        while (count-- > 0) {
            add_field(&co->items[coll_rand_below(&g, size)], withvalues, x->proto, out);
            if (cell_reply_over(x, out, "ask for fewer random picks"))
                return false;
        }
        return true;
    }
    reply_n = count < size ? (size_t)count : size;
    resp_add_array(out, (long)reply_n * mul);
    if (reply_n == size) {
        for (size_t i = 0; i < size; i++)
            add_field(&co->items[i], withvalues, x->proto, out);
    } else {
        size_t *pick = coll_sample(&g, size, reply_n);
        for (size_t i = 0; i < reply_n; i++)
            add_field(&co->items[pick[i]], withvalues, x->proto, out);
        free(pick);
    }
    return true;
}

/* ---- arguments and errors --------------------------------------------------------------- */

bool coll_fail(struct evbuffer *out, const char *text)
{
    resp_add_error(out, text);
    return false;
}

bool coll_fail_arity(const resp_arg *name, struct evbuffer *out)
{
    char n[32];
    size_t i;

    for (i = 0; i < name->len && i + 1 < sizeof(n); i++)
        n[i] = (char)tolower((unsigned char)name->ptr[i]);
    n[i] = '\0';
    resp_add_errorf(out, "ERR wrong number of arguments for '%s' command", n);
    return false;
}

bool coll_arg_is(const resp_arg *a, const char *word)
{
    return a->len == strlen(word) && strncasecmp(a->ptr, word, a->len) == 0;
}

bool coll_str_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

bool coll_arg_ll(const resp_arg *a, long long *v, struct evbuffer *out)
{
    if (!parse_redis_ll(a->ptr, a->len, v))
        return coll_fail(out, COLL_ERR_NOT_INT);
    return true;
}

bool coll_arg_range(const resp_arg *a, long long lo, long long hi, const char *msg, long long *v,
                    struct evbuffer *out)
{
    if (!parse_redis_ll(a->ptr, a->len, v))
        return coll_fail(out, msg != NULL ? msg : COLL_ERR_NOT_INT);
    if (*v < lo || *v > hi) {
        if (msg != NULL)
            return coll_fail(out, msg);
        resp_add_errorf(out, "ERR value is out of range, value must between %lld and %lld", lo, hi);
        return false;
    }
    return true;
}

bool coll_parse_double(const char *p, size_t len, double *v)
{
    char buf[CELL_FLOAT_CHARS_MAX], *end;
    double d;

    if (len == 0 || len >= sizeof(buf) || memchr(p, '\0', len) != NULL)
        return false;
    memcpy(buf, p, len);
    buf[len] = '\0';
    errno = 0;
    d = strtod(buf, &end);
    if (isspace((unsigned char)buf[0]) || *end != '\0' || isnan(d))
        return false;
    if (errno == ERANGE && (isinf(d) || d == 0))
        return false;
    *v = d;
    return true;
}

bool coll_range(long long start, long long end, size_t n, size_t *from, size_t *to)
{
    long long len = (long long)n;

    if (start < 0)
        start += len;
    if (end < 0)
        end += len;
    if (start < 0)
        start = 0;
    if (start > end || start >= len)
        return false;
    if (end >= len)
        end = len - 1;
    *from = (size_t)start;
    *to = (size_t)end;
    return true;
}

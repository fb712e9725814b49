/*
 * coll_zl: helpers the list and sorted-set commands share (coll_zl.h): payload slices,
 * the size limit, Redis' integer and float argument rules. Owns nothing past a call.
 */
#include "coll_zl.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dict.h"
#include "parse.h"
#include "xalloc.h"

#define DOUBLE_CHARS_MAX 5120

bool zl_fail(struct evbuffer *out, const char *text)
{
    resp_add_error(out, text);
    return false;
}

bool zl_arg_is(const resp_arg *a, const char *word)
{
    return a->len == strlen(word) && strncasecmp(a->ptr, word, a->len) == 0;
}

bool zl_str_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

bool zl_arg_ll(const resp_arg *a, long long *v, struct evbuffer *out)
{
    if (!parse_redis_ll(a->ptr, a->len, v))
        return zl_fail(out, ZL_ERR_NOT_INT);
    return true;
}

bool zl_arg_range(const resp_arg *a, long long lo, long long hi, const char *msg, long long *v,
                  struct evbuffer *out)
{
    if (!parse_redis_ll(a->ptr, a->len, v))
        return zl_fail(out, msg != NULL ? msg : ZL_ERR_NOT_INT);
    if (*v < lo || *v > hi) {
        if (msg != NULL)
            return zl_fail(out, msg);
        resp_add_errorf(out, "ERR value is out of range, value must between %lld and %lld", lo, hi);
        return false;
    }
    return true;
}

bool zl_parse_double(const char *p, size_t len, double *v)
{
    char buf[DOUBLE_CHARS_MAX], *end;
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

bool zl_fits(const cell_ctx *x, tval_type type, size_t len, struct evbuffer *out)
{
    if (len > cell_payload_max(x, type)) {
        resp_add_errorf(out, "ERR the value of this key would exceed NoriKV's limit of %u bytes",
                        CELL_VALUE_LIMIT);
        return false;
    }
    return true;
}

bool zl_malformed(struct evbuffer *out)
{
    return zl_fail(out, "ERR the value of this key is malformed (not a valid payload of its "
                        "type in the typed format)");
}

bool zl_read_strs(const cell *c, size_t extra, zl_str **items, size_t *n, struct evbuffer *out)
{
    tval_reader r;
    uint32_t count;

    *items = NULL;
    *n = 0;
    if (!c->exists) {
        *items = xmalloc((extra + 1) * sizeof(**items));
        return true;
    }
    tval_reader_init(&r, c->value, c->len);
    /* every item takes 4 bytes at least: a count larger than that is malformed, and no
     * allocation is made from it */
    if (!tval_read_u32(&r, &count) || count > c->len / 4)
        return zl_malformed(out);
    *items = xmalloc(((size_t)count + extra + 1) * sizeof(**items));
    for (uint32_t i = 0; i < count; i++) {
        if (!tval_read_str(&r, &(*items)[i].p, &(*items)[i].len)) {
            free(*items);
            *items = NULL;
            return zl_malformed(out);
        }
    }
    if (!tval_reader_done(&r)) {
        free(*items);
        *items = NULL;
        return zl_malformed(out);
    }
    *n = count;
    return true;
}

void zl_rng_init(zl_rng *g)
{
    g->s = dict_seed();
}

static uint64_t next64(zl_rng *g)
{
    uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t zl_rand_below(zl_rng *g, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, v;

    do {
        v = next64(g);
    } while (v >= limit);
    return v % n;
}

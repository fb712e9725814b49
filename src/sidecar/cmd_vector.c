/*
 * cmd_vector: vector search on NoriKV's vector namespaces, two ways. Redis 8's vector sets
 * (VADD, VSIM, VREM, VEMB, VISMEMBER: the key is the namespace, the element the vector id),
 * so that clients' vector-set methods work unchanged, each command one to three NoriKV
 * calls in a row; and NoriKV's own vector API (NORI.VCREATE ... NORI.VGET), one call each.
 * Owns the parsing of vectors (little-endian FP32 blobs, VALUES). Never makes up what
 * NoriKV cannot tell: such commands and options are refused in the command table or here.
 */
#include "cmd_vector.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "cmd.h"
#include "xalloc.h"

#define VSIM_DEFAULT_COUNT 10
#define ERR_VECTOR         "ERR invalid vector specification"

/* ---- vectors ------------------------------------------------------------------------ */

typedef struct vec {
    float *v;
    size_t dims;
} vec;

static bool dims_ok(req *r, size_t dims)
{
    if (dims >= 1 && dims <= KV_VECTOR_DIM_LIMIT)
        return true;
    reply_errorf(r, ERR_VECTOR ": NoriKV vectors have 1 to %u components, not %zu",
                 KV_VECTOR_DIM_LIMIT, dims);
    return false;
}

static bool finite_ok(req *r, const vec *out)
{
    for (size_t i = 0; i < out->dims; i++) {
        if (!isfinite(out->v[i])) {
            reply_errorf(r, ERR_VECTOR ": component %zu is not a finite number", i + 1);
            return false;
        }
    }
    return true;
}

/* The FP32 blob at argument i: little-endian float32s, as Redis defines it. */
static bool parse_fp32(req *r, int i, vec *out)
{
    const resp_arg *a = &r->argv[i];
    const unsigned char *p = (const unsigned char *)a->ptr;

    if (a->len == 0 || a->len % 4 != 0) {
        reply_errorf(r, ERR_VECTOR ": an FP32 blob has 4 bytes per component, not %zu bytes",
                     a->len);
        return false;
    }
    if (!dims_ok(r, a->len / 4))
        return false;
    out->dims = a->len / 4;
    out->v = xmalloc(out->dims * sizeof(float));
    for (size_t k = 0; k < out->dims; k++) {
        uint32_t bits = (uint32_t)p[4 * k] | (uint32_t)p[4 * k + 1] << 8 |
                        (uint32_t)p[4 * k + 2] << 16 | (uint32_t)p[4 * k + 3] << 24;
        memcpy(&out->v[k], &bits, sizeof(float));
    }
    return finite_ok(r, out);
}

/* A number as Redis reads a double: the whole argument, no spaces. */
static bool arg_double(const req *r, int i, double *d)
{
    const resp_arg *a = &r->argv[i];
    char *end;

    if (a->len == 0 || isspace((unsigned char)a->ptr[0]))
        return false;
    errno = 0;
    *d = strtod(a->ptr, &end);
    return end == a->ptr + a->len && errno != ERANGE;
}

/* n values from argument i on. */
static bool parse_values(req *r, int i, size_t n, vec *out)
{
    if (!dims_ok(r, n))
        return false;
    out->dims = n;
    out->v = xmalloc(n * sizeof(float));
    for (size_t k = 0; k < n; k++) {
        double d;
        if (!arg_double(r, i + (int)k, &d) || !isfinite((float)d)) {
            reply_errorf(r, ERR_VECTOR ": component %zu is not a finite number", k + 1);
            return false;
        }
        out->v[k] = (float)d;
    }
    return true;
}

/* Namespaces and ids go to NoriKV as strings. */
static bool text_ok(req *r, int i)
{
    if (strlen(r->argv[i].ptr) == r->argv[i].len)
        return true;
    reply_error(r, "ERR invalid argument: a vector namespace or id cannot hold a NUL byte");
    return false;
}

static void add_floats(struct evbuffer *b, int proto, const float *v, size_t n)
{
    resp_add_array(b, (long)n);
    for (size_t i = 0; i < n; i++)
        resp_add_double(b, proto, v[i]);
}

/* "Vector dimension mismatch: expected D, got N" (NoriKV) as Redis' "... - got N but set
 * has D"; false for any other error. */
static bool reply_dim_mismatch(req *r, const kv_result *res)
{
    unsigned long want, got;
    const char *m = strstr(res->message, "dimension mismatch: expected ");

    if (res->err != KV_ERR_INVALID || m == NULL ||
        sscanf(m, "dimension mismatch: expected %lu, got %lu", &want, &got) != 2)
        return false;
    reply_errorf(r, "ERR Vector dimension mismatch - got %lu but set has %lu", got, want);
    return true;
}

/* FP32 blob or VALUES n v1 ... vn at argument i (Redis' forms); *used: arguments taken. */
static bool parse_vector(req *r, int i, vec *out, int *used)
{
    long long n;

    if (i + 1 >= r->argc) {
        reply_error(r, ERR_VECTOR);
        return false;
    }
    if (strcasecmp(r->argv[i].ptr, "FP32") == 0) {
        *used = 2;
        return parse_fp32(r, i + 1, out);
    }
    if (strcasecmp(r->argv[i].ptr, "VALUES") != 0) {
        reply_error(r, ERR_VECTOR);
        return false;
    }
    if (!arg_ll(r, i + 1, &n) || n < 1 || n > r->argc - i - 2) {
        reply_errorf(r, ERR_VECTOR ": VALUES takes a count and that many numbers");
        return false;
    }
    *used = 2 + (int)n;
    return parse_values(r, i + 2, (size_t)n, out);
}

/* The L2 norm, and Redis' similarity of two vectors: 1 - cosine distance / 2, that is 1
 * for the same direction, 0.5 orthogonal, 0 opposite (0.5 when either is zero, as
 * NoriKV's cosine distance of a zero vector is 1). */
static double norm(const float *a, size_t n)
{
    double s = 0;

    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * a[i];
    return sqrt(s);
}

static double similarity(const float *a, const float *b, size_t n)
{
    double dot = 0, na = norm(a, n), nb = norm(b, n), cos;

    if (na == 0 || nb == 0)
        return 0.5;
    for (size_t i = 0; i < n; i++)
        dot += (double)a[i] * b[i];
    cos = dot / (na * nb);
    cos = cos > 1 ? 1 : cos < -1 ? -1 : cos;
    return 1.0 - (1.0 - cos) / 2.0;
}

/* ---- the vector-set commands -------------------------------------------------------- */

/* What a vector-set command carries from one call to the next: r's scratch. */
/* A search's matches, copied out of the result so that the reply is built a slice at a
 * time across loop passes: NORI.VSEARCH WITHVECTORS can run to tens of megabytes of text,
 * which in one go held the loop (and every other client) for over a second. */
typedef struct match_copy {
    char *id;
    double score; /* VSIM: the similarity; NORI.VSEARCH: NoriKV's distance */
    float *vector;
    size_t dims;
} match_copy;

typedef struct slices {
    match_copy *m;
    size_t n, next;
    float *vectors;     /* every match's vector, one block */
    struct event *ev;   /* the next slice, once the loop has polled the others */
    uint64_t search_us; /* NORI.VSEARCH's tail */
    bool nori;          /* NORI.VSEARCH's form (else VSIM's) */
} slices;

typedef struct vset_op {
    slices out;   /* VSIM's and NORI.VSEARCH's reply, while it is built */
    vec v;        /* VADD's vector, VSIM's query */
    int element;  /* the element's argument */
    bool existed; /* VADD: the element was there before */
    bool raw;     /* VEMB RAW */
    bool scores, epsilon;
    double max_distance;
    long long count;
} vset_op;

static void vset_op_free(void *p)
{
    vset_op *x = p;

    if (x->out.ev != NULL)
        event_free(x->out.ev);
    for (size_t i = 0; i < x->out.n; i++)
        free(x->out.m[i].id);
    free(x->out.m);
    free(x->out.vectors);
    free(x->v.v);
    free(x);
}

static vset_op *vset_op_new(req *r)
{
    vset_op *x = xcalloc(1, sizeof(*x));

    r->scratch = x;
    r->scratch_free = vset_op_free;
    return x;
}

static const char *ns_of(const req *r)
{
    return r->argv[1].ptr;
}

static const char *element_of(const req *r)
{
    return r->argv[((const vset_op *)r->scratch)->element].ptr;
}

static void vget(req *r, kv_consistency level, kv_callback *cb)
{
    kv_vget_args a = {ns_of(r), element_of(r), level, 0};

    r->op = kv_vget(r->c->s->kv, &a, cb, r);
}

static void fail(req *r, const kv_result *res)
{
    if (!reply_dim_mismatch(r, res))
        reply_kv_error(r, res, NULL);
    req_done(r);
}

/* VADD: read the element (a missing namespace shows there), create the namespace if need
 * be, insert. */

static void on_vadd_insert(const kv_result *res, void *arg)
{
    req *r = arg;
    vset_op *x = r->scratch;

    r->op = NULL;
    if (res->err != KV_OK) {
        fail(r, res);
        return;
    }
    resp_add_bool(reply(r), r->c->proto, !x->existed);
    req_done(r);
}

static void vadd_insert(req *r)
{
    vset_op *x = r->scratch;
    kv_vinsert_args a = {ns_of(r), element_of(r), x->v.v, x->v.dims, NULL, 0};

    r->op = kv_vinsert(r->c->s->kv, &a, on_vadd_insert, r);
}

static void on_vadd_create(const kv_result *res, void *arg)
{
    req *r = arg;

    r->op = NULL;
    if (res->err != KV_OK) {
        fail(r, res);
        return;
    }
    vadd_insert(r);
}

static void on_vadd_read(const kv_result *res, void *arg)
{
    req *r = arg;
    vset_op *x = r->scratch;

    r->op = NULL;
    if (res->err == KV_ERR_NOT_FOUND) {
        /* no such namespace: the first VADD makes it, cosine, the vector's dimension */
        kv_vcreate_args a = {ns_of(r), (uint32_t)x->v.dims, KV_DIST_COSINE, KV_INDEX_DEFAULT, NULL,
                             0};
        r->op = kv_vcreate(r->c->s->kv, &a, on_vadd_create, r);
        return;
    }
    if (res->err != KV_OK) {
        fail(r, res);
        return;
    }
    if (res->flag && res->dims != x->v.dims) {
        reply_errorf(r, "ERR Vector dimension mismatch - got %zu but set has %zu", x->v.dims,
                     res->dims);
        req_done(r);
        return;
    }
    x->existed = res->flag;
    vadd_insert(r);
}

/* A positive integer option at argument i, at most max; replies err when it is not. */
static bool positive_opt(req *r, int i, long long max, const char *err)
{
    long long v;

    if (arg_ll(r, i, &v) && v > 0 && v <= max)
        return true;
    reply_error(r, err);
    return false;
}

void cmd_vadd(req *r)
{
    vset_op *x;
    int used;

    if (!text_ok(r, 1))
        goto done;
    if (strcasecmp(r->argv[2].ptr, "REDUCE") == 0) {
        reply_error(r, "ERR REDUCE is not supported: NoriKV stores vectors as given, with no "
                       "projection");
        goto done;
    }
    x = vset_op_new(r);
    if (!parse_vector(r, 2, &x->v, &used))
        goto done;
    x->element = 2 + used;
    if (x->element >= r->argc) {
        reply_error(r, "ERR wrong number of arguments for 'vadd' command");
        goto done;
    }
    for (int i = x->element + 1; i < r->argc; i++) {
        const char *opt = r->argv[i].ptr;
        if (strcasecmp(opt, "CAS") == 0 || strcasecmp(opt, "NOQUANT") == 0 ||
            strcasecmp(opt, "Q8") == 0 || strcasecmp(opt, "BIN") == 0) {
            continue; /* no NoriKV meaning: accepted, ignored */
        } else if (strcasecmp(opt, "EF") == 0 && i + 1 < r->argc) {
            if (!positive_opt(r, ++i, 1000000, "ERR invalid EF"))
                goto done;
        } else if (strcasecmp(opt, "M") == 0 && i + 1 < r->argc) {
            if (!positive_opt(r, ++i, 4096, "ERR invalid M"))
                goto done;
        } else if (strcasecmp(opt, "SETATTR") == 0 && i + 1 < r->argc) {
            reply_error(r, "ERR SETATTR is not supported: NoriKV keeps no attributes with a "
                           "vector");
            goto done;
        } else {
            reply_error(r, "ERR invalid option after element");
            goto done;
        }
    }
    if (!text_ok(r, x->element))
        goto done;
    vget(r, KV_LINEARIZABLE, on_vadd_read);
    return;
done:
    req_done(r);
}

/* VSIM: the element's vector first for ELE, then one search. */

/* What one pass adds to a reply before the loop serves the others. */
#define SLICE_BYTES (256 * 1024)

static void add_match(req *r, const match_copy *m)
{
    vset_op *x = r->scratch;
    int proto = r->c->proto;

    if (x->out.nori) {
        resp_add_array(reply(r), m->vector != NULL ? 3 : 2);
        resp_add_bulk_str(reply(r), m->id);
        resp_add_double(reply(r), proto, m->score);
        if (m->vector != NULL)
            add_floats(reply(r), proto, m->vector, m->dims);
    } else {
        resp_add_bulk_str(reply(r), m->id);
        if (x->scores)
            resp_add_double(reply(r), proto, m->score);
    }
}

static void on_slice_timer(evutil_socket_t fd, short what, void *arg);

/* Adds matches until SLICE_BYTES more are in the reply; what is left goes on from a timer,
 * which runs after the loop has polled the other clients. */
static void build_slice(req *r)
{
    vset_op *x = r->scratch;
    slices *o = &x->out;
    size_t start = evbuffer_get_length(reply(r));

    while (o->next < o->n && evbuffer_get_length(reply(r)) - start < SLICE_BYTES && !reply_full(r))
        add_match(r, &o->m[o->next++]);
    if (reply_full(r)) {
        reply_over_max(r, "ask for fewer matches");
    } else if (o->next < o->n) {
        static const struct timeval now = {0, 0};
        if (o->ev == NULL)
            o->ev = evtimer_new(r->c->s->base, on_slice_timer, r);
        evtimer_add(o->ev, &now);
        return;
    } else if (o->nori) {
        resp_add_int(reply(r), (long long)o->search_us);
    }
    req_done(r);
}

static void on_slice_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    build_slice(arg);
}

/* Copies the matches to keep (keep: NULL for all) into x->out, each with its score (scores:
 * NULL for NoriKV's distance) and, if vectors, its vector. */
static void copy_matches(vset_op *x, const kv_result *res, const double *scores, const bool *keep,
                         bool vectors)
{
    slices *o = &x->out;
    size_t floats = 0, at = 0;

    o->m = xcalloc(res->n_matches + 1, sizeof(*o->m));
    for (size_t i = 0; i < res->n_matches; i++)
        if (vectors && res->matches[i].vector != NULL && (keep == NULL || keep[i]))
            floats += res->matches[i].dims;
    o->vectors = floats > 0 ? xmalloc(floats * sizeof(float)) : NULL;
    for (size_t i = 0; i < res->n_matches; i++) {
        const kv_match *m = &res->matches[i];
        match_copy *c;
        if (keep != NULL && !keep[i])
            continue;
        c = &o->m[o->n++];
        c->id = xstrdup(m->id);
        c->score = scores != NULL ? scores[i] : m->distance;
        if (vectors && m->vector != NULL) {
            c->vector = o->vectors + at;
            c->dims = m->dims;
            memcpy(c->vector, m->vector, m->dims * sizeof(float));
            at += m->dims;
        }
    }
}

static void on_vsim(const kv_result *res, void *arg)
{
    req *r = arg;
    vset_op *x = r->scratch;
    int proto = r->c->proto;
    double *scores;
    bool *keep;
    size_t n = 0;

    r->op = NULL;
    if (res->err == KV_ERR_NOT_FOUND) {
        resp_add_array(reply(r), 0); /* no such key, as Redis answers */
        req_done(r);
        return;
    }
    if (res->err != KV_OK) {
        fail(r, res);
        return;
    }
    scores = xcalloc(res->n_matches + 1, sizeof(*scores));
    keep = xcalloc(res->n_matches + 1, sizeof(*keep));
    for (size_t i = 0; i < res->n_matches; i++) {
        const kv_match *m = &res->matches[i];
        scores[i] = m->vector != NULL && m->dims == x->v.dims
                        ? similarity(x->v.v, m->vector, m->dims)
                        : 1.0 - m->distance / 2.0;
        keep[i] = !(x->epsilon && 1.0 - scores[i] > x->max_distance);
        n += keep[i];
    }
    copy_matches(x, res, scores, keep, false);
    free(scores);
    free(keep);
    if (x->scores && proto >= 3)
        resp_add_map(reply(r), proto, (long)n);
    else
        resp_add_array(reply(r), (long)(x->scores ? 2 * n : n));
    build_slice(r);
}

static void vsim_search(req *r)
{
    vset_op *x = r->scratch;
    kv_vsearch_args a = {
        ns_of(r),          x->v.v, x->v.dims, (uint32_t)x->count, x->scores || x->epsilon,
        r->c->consistency, 0};

    r->op = kv_vsearch(r->c->s->kv, &a, on_vsim, r);
}

static void on_vsim_element(const kv_result *res, void *arg)
{
    req *r = arg;
    vset_op *x = r->scratch;

    r->op = NULL;
    if (res->err == KV_ERR_NOT_FOUND) {
        resp_add_array(reply(r), 0);
        req_done(r);
        return;
    }
    if (res->err != KV_OK) {
        fail(r, res);
        return;
    }
    if (!res->flag) {
        reply_error(r, "ERR element not found in set");
        req_done(r);
        return;
    }
    x->v.dims = res->dims;
    x->v.v = xmalloc(res->dims * sizeof(float) + 1);
    memcpy(x->v.v, res->vector, res->dims * sizeof(float));
    vsim_search(r);
}

void cmd_vsim(req *r)
{
    vset_op *x = vset_op_new(r);
    const char *type = r->argv[2].ptr;
    int i;

    x->count = VSIM_DEFAULT_COUNT;
    if (!text_ok(r, 1))
        goto done;
    if (strcasecmp(type, "ELE") == 0) {
        x->element = 3;
        i = 4;
    } else if (strcasecmp(type, "FP32") == 0 || strcasecmp(type, "VALUES") == 0) {
        int used;
        if (!parse_vector(r, 2, &x->v, &used))
            goto done;
        i = 2 + used;
    } else {
        reply_error(r, "ERR vector type must be ELE, FP32 or VALUES");
        goto done;
    }
    for (; i < r->argc; i++) {
        const char *opt = r->argv[i].ptr;
        if (strcasecmp(opt, "WITHSCORES") == 0) {
            x->scores = true;
        } else if (strcasecmp(opt, "TRUTH") == 0 || strcasecmp(opt, "NOTHREAD") == 0) {
            continue; /* NoriKV's search is what it is: accepted, ignored */
        } else if (strcasecmp(opt, "WITHATTRIBS") == 0) {
            reply_error(r, "ERR WITHATTRIBS is not supported: NoriKV keeps no attributes with "
                           "a vector");
            goto done;
        } else if ((strcasecmp(opt, "FILTER") == 0 || strcasecmp(opt, "FILTER-EF") == 0) &&
                   i + 1 < r->argc) {
            reply_error(r, "ERR FILTER is not supported: NoriKV keeps no attributes to filter on");
            goto done;
        } else if (strcasecmp(opt, "COUNT") == 0 && i + 1 < r->argc) {
            if (!positive_opt(r, ++i, UINT32_MAX, "ERR invalid COUNT"))
                goto done;
            arg_ll(r, i, &x->count);
        } else if (strcasecmp(opt, "EF") == 0 && i + 1 < r->argc) {
            if (!positive_opt(r, ++i, 1000000, "ERR invalid EF"))
                goto done;
        } else if (strcasecmp(opt, "EPSILON") == 0 && i + 1 < r->argc) {
            if (!arg_double(r, ++i, &x->max_distance) || !(x->max_distance > 0)) {
                reply_error(r, "ERR invalid EPSILON");
                goto done;
            }
            x->epsilon = true;
        } else {
            reply_error(r, "ERR syntax error in VSIM command");
            goto done;
        }
    }
    if (x->element > 0) {
        if (!text_ok(r, x->element))
            goto done;
        vget(r, r->c->consistency, on_vsim_element);
    } else {
        vsim_search(r);
    }
    return;
done:
    req_done(r);
}

/* VREM: a read, then the delete if the element is there. */

static void on_vrem_delete(const kv_result *res, void *arg)
{
    req *r = arg;

    r->op = NULL;
    if (res->err != KV_OK) {
        fail(r, res);
        return;
    }
    resp_add_bool(reply(r), r->c->proto, true);
    req_done(r);
}

static void on_vrem_read(const kv_result *res, void *arg)
{
    req *r = arg;

    r->op = NULL;
    if (res->err == KV_ERR_NOT_FOUND || (res->err == KV_OK && !res->flag)) {
        resp_add_bool(reply(r), r->c->proto, false);
        req_done(r);
        return;
    }
    if (res->err != KV_OK) {
        fail(r, res);
        return;
    }
    kv_vdelete_args a = {ns_of(r), element_of(r), NULL, 0};
    r->op = kv_vdelete(r->c->s->kv, &a, on_vrem_delete, r);
}

/* The one-read commands: VEMB, VISMEMBER. */

static void on_vemb(const kv_result *res, void *arg)
{
    req *r = arg;
    vset_op *x = r->scratch;
    int proto = r->c->proto;

    r->op = NULL;
    if (res->err != KV_OK && res->err != KV_ERR_NOT_FOUND) {
        fail(r, res);
        return;
    }
    if (res->err == KV_ERR_NOT_FOUND || !res->flag) {
        resp_add_null(reply(r), proto);
    } else if (x->raw) {
        double l2 = norm(res->vector, res->dims);
        unsigned char *blob = xmalloc(res->dims * 4 + 1);
        for (size_t i = 0; i < res->dims; i++) {
            float f = l2 > 0 ? (float)(res->vector[i] / l2) : res->vector[i];
            uint32_t bits;
            memcpy(&bits, &f, sizeof(bits));
            for (int k = 0; k < 4; k++)
                blob[4 * i + (size_t)k] = (unsigned char)(bits >> (8 * k));
        }
        resp_add_array(reply(r), 3);
        resp_add_simple(reply(r), "f32");
        resp_add_bulk(reply(r), blob, res->dims * 4);
        resp_add_double(reply(r), proto, l2);
        free(blob);
    } else {
        add_floats(reply(r), proto, res->vector, res->dims);
    }
    req_done(r);
}

static void on_vismember(const kv_result *res, void *arg)
{
    req *r = arg;

    r->op = NULL;
    if (res->err != KV_OK && res->err != KV_ERR_NOT_FOUND) {
        fail(r, res);
        return;
    }
    resp_add_bool(reply(r), r->c->proto, res->err == KV_OK && res->flag);
    req_done(r);
}

static bool element_cmd(req *r)
{
    vset_op *x = vset_op_new(r);

    x->element = 2;
    if (text_ok(r, 1) && text_ok(r, 2))
        return true;
    req_done(r);
    return false;
}

void cmd_vrem(req *r)
{
    if (element_cmd(r))
        vget(r, KV_LINEARIZABLE, on_vrem_read);
}

void cmd_vemb(req *r)
{
    vset_op *x;

    for (int i = 3; i < r->argc; i++) {
        if (strcasecmp(r->argv[i].ptr, "RAW") != 0) {
            reply_error(r, "ERR invalid option");
            req_done(r);
            return;
        }
    }
    if (!element_cmd(r))
        return;
    x = r->scratch;
    x->raw = r->argc > 3;
    vget(r, r->c->consistency, on_vemb);
}

void cmd_vismember(req *r)
{
    if (element_cmd(r))
        vget(r, r->c->consistency, on_vismember);
}

/* ---- NORI.V* ------------------------------------------------------------------------ */

/* IDEMPOTENCY k and CONSISTENCY level from argument i on, as allowed ("IDEMPOTENCY",
 * "CONSISTENCY", "WITHVECTORS", "INDEX" for HNSW|BRUTE_FORCE). Replies the error. */
typedef struct vopts {
    const char *idem;
    kv_consistency level;
    bool with_vectors;
    kv_index_type index;
} vopts;

static bool parse_vopts(req *r, int i, const char *allowed, vopts *o)
{
    memset(o, 0, sizeof(*o));
    o->level = r->c->consistency;
    for (; i < r->argc; i++) {
        const char *opt = r->argv[i].ptr;
        bool more = i + 1 < r->argc;
        if (strstr(allowed, "IDEMPOTENCY") && strcasecmp(opt, "IDEMPOTENCY") == 0 && more) {
            o->idem = r->argv[++i].ptr;
        } else if (strstr(allowed, "CONSISTENCY") && strcasecmp(opt, "CONSISTENCY") == 0 && more) {
            if (!kv_consistency_parse(r->argv[++i].ptr, &o->level)) {
                reply_errorf(r,
                             "ERR unknown consistency level '%.64s': expected lease, "
                             "linearizable or stale_ok",
                             r->argv[i].ptr);
                return false;
            }
        } else if (strstr(allowed, "WITHVECTORS") && strcasecmp(opt, "WITHVECTORS") == 0) {
            o->with_vectors = true;
        } else if (strstr(allowed, "INDEX") && strcasecmp(opt, "HNSW") == 0) {
            o->index = KV_INDEX_HNSW;
        } else if (strstr(allowed, "INDEX") && strcasecmp(opt, "BRUTE_FORCE") == 0) {
            o->index = KV_INDEX_BRUTE_FORCE;
        } else {
            reply_error(r, "ERR syntax error");
            return false;
        }
    }
    return true;
}

static void on_flag(const kv_result *res, void *arg)
{
    req *r = arg;

    r->op = NULL;
    if (res->err != KV_OK)
        reply_kv_error(r, res, NULL);
    else
        resp_add_int(reply(r), res->flag ? 1 : 0);
    req_done(r);
}

void cmd_nori_vcreate(req *r)
{
    static const struct {
        const char *name;
        kv_distance d;
    } distances[] = {
        {"EUCLIDEAN", KV_DIST_EUCLIDEAN},
        {"COSINE", KV_DIST_COSINE},
        {"INNER_PRODUCT", KV_DIST_INNER_PRODUCT},
    };
    kv_distance d = 0;
    long long dims;
    vopts o;

    if (!text_ok(r, 1))
        goto done;
    if (!arg_ll(r, 2, &dims)) {
        reply_error(r, ERR_NOT_INTEGER);
        goto done;
    }
    if (dims < 1 || dims > KV_VECTOR_DIM_LIMIT) {
        reply_errorf(r, "ERR invalid argument: dimensions must be between 1 and %u",
                     KV_VECTOR_DIM_LIMIT);
        goto done;
    }
    for (size_t i = 0; i < sizeof(distances) / sizeof(distances[0]); i++)
        if (strcasecmp(r->argv[3].ptr, distances[i].name) == 0)
            d = distances[i].d;
    if (d == 0) {
        reply_errorf(r,
                     "ERR unknown distance '%.64s': expected EUCLIDEAN, COSINE or "
                     "INNER_PRODUCT",
                     r->argv[3].ptr);
        goto done;
    }
    if (!parse_vopts(r, 4, "INDEX IDEMPOTENCY", &o))
        goto done;
    kv_vcreate_args a = {r->argv[1].ptr, (uint32_t)dims, d, o.index, o.idem, 0};
    r->op = kv_vcreate(r->c->s->kv, &a, on_flag, r);
    return;
done:
    req_done(r);
}

void cmd_nori_vdrop(req *r)
{
    vopts o;

    if (!text_ok(r, 1) || !parse_vopts(r, 2, "IDEMPOTENCY", &o)) {
        req_done(r);
        return;
    }
    kv_vdrop_args a = {r->argv[1].ptr, o.idem, 0};
    r->op = kv_vdrop(r->c->s->kv, &a, on_flag, r);
}

static void on_nori_vinsert(const kv_result *res, void *arg)
{
    req *r = arg;

    r->op = NULL;
    if (res->err != KV_OK) {
        reply_kv_error(r, res, NULL);
    } else {
        resp_add_array(reply(r), 2);
        resp_add_int(reply(r), (long long)res->version.term);
        resp_add_int(reply(r), (long long)res->version.index);
    }
    req_done(r);
}

/* The first argument from i on that is one of the words (space-separated), or argc. */
static int find_word(const req *r, int i, const char *words)
{
    for (; i < r->argc; i++) {
        char w[32];
        const char *p = words;
        int n;
        while (sscanf(p, "%31s%n", w, &n) == 1) {
            if (strcasecmp(r->argv[i].ptr, w) == 0)
                return i;
            p += n;
        }
    }
    return r->argc;
}

void cmd_nori_vinsert(req *r)
{
    vset_op *x = vset_op_new(r);
    int opts;
    vopts o;

    if (!text_ok(r, 1) || !text_ok(r, 2))
        goto done;
    if (strcasecmp(r->argv[3].ptr, "FP32") == 0) {
        if (r->argc < 5) {
            reply_error(r, "ERR syntax error");
            goto done;
        }
        if (!parse_fp32(r, 4, &x->v))
            goto done;
        opts = 5;
    } else {
        opts = find_word(r, 3, "IDEMPOTENCY");
        if (!parse_values(r, 3, (size_t)(opts - 3), &x->v))
            goto done;
    }
    if (!parse_vopts(r, opts, "IDEMPOTENCY", &o))
        goto done;
    kv_vinsert_args a = {r->argv[1].ptr, r->argv[2].ptr, x->v.v, x->v.dims, o.idem, 0};
    r->op = kv_vinsert(r->c->s->kv, &a, on_nori_vinsert, r);
    return;
done:
    req_done(r);
}

void cmd_nori_vdelete(req *r)
{
    vopts o;

    if (!text_ok(r, 1) || !text_ok(r, 2) || !parse_vopts(r, 3, "IDEMPOTENCY", &o)) {
        req_done(r);
        return;
    }
    kv_vdelete_args a = {r->argv[1].ptr, r->argv[2].ptr, o.idem, 0};
    r->op = kv_vdelete(r->c->s->kv, &a, on_flag, r);
}

static void on_nori_vsearch(const kv_result *res, void *arg)
{
    req *r = arg;
    vset_op *x = r->scratch;

    r->op = NULL;
    if (res->err != KV_OK) {
        reply_kv_error(r, res, NULL);
        req_done(r);
        return;
    }
    x->out.nori = true;
    x->out.search_us = res->search_time_us;
    copy_matches(x, res, NULL, NULL, true);
    resp_add_array(reply(r), (long)x->out.n + 1);
    build_slice(r);
}

void cmd_nori_vsearch(req *r)
{
    vset_op *x = vset_op_new(r);
    long long k;
    int opts;
    vopts o;

    if (!text_ok(r, 1))
        goto done;
    if (!arg_ll(r, 2, &k)) {
        reply_error(r, ERR_NOT_INTEGER);
        goto done;
    }
    if (k < 1 || k > UINT32_MAX) {
        reply_errorf(r, "ERR invalid argument: k must be between 1 and %u", UINT32_MAX);
        goto done;
    }
    if (strcasecmp(r->argv[3].ptr, "FP32") == 0) {
        if (!parse_fp32(r, 4, &x->v))
            goto done;
        opts = 5;
    } else if (strcasecmp(r->argv[3].ptr, "VALUES") == 0) {
        opts = find_word(r, 4, "WITHVECTORS CONSISTENCY");
        if (!parse_values(r, 4, (size_t)(opts - 4), &x->v))
            goto done;
    } else {
        reply_error(r, "ERR syntax error: the query is VALUES v1 ... vn or FP32 blob");
        goto done;
    }
    if (!parse_vopts(r, opts, "WITHVECTORS CONSISTENCY", &o))
        goto done;
    kv_vsearch_args a = {r->argv[1].ptr, x->v.v,  x->v.dims, (uint32_t)k,
                         o.with_vectors, o.level, 0};
    r->op = kv_vsearch(r->c->s->kv, &a, on_nori_vsearch, r);
    return;
done:
    req_done(r);
}

static void on_nori_vget(const kv_result *res, void *arg)
{
    req *r = arg;

    r->op = NULL;
    if (res->err != KV_OK)
        reply_kv_error(r, res, NULL);
    else if (!res->flag)
        resp_add_null_array(reply(r), r->c->proto);
    else
        add_floats(reply(r), r->c->proto, res->vector, res->dims);
    req_done(r);
}

void cmd_nori_vget(req *r)
{
    vopts o;

    if (!text_ok(r, 1) || !text_ok(r, 2) || !parse_vopts(r, 3, "CONSISTENCY", &o)) {
        req_done(r);
        return;
    }
    kv_vget_args a = {r->argv[1].ptr, r->argv[2].ptr, o.level, 0};
    r->op = kv_vget(r->c->s->kv, &a, on_nori_vget, r);
}

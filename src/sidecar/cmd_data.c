/*
 * cmd_data: the data commands, each turned into NoriKV operations on the cluster client:
 * GET, SET and its expiry forms, DEL/UNLINK, EXISTS, MGET, MSET and the NORI.* commands.
 * Multi-key commands fan out concurrently and answer once every key is done, in request
 * order. Never weakens a command silently: what NoriKV cannot do is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "clock.h"
#include "xalloc.h"

static kv_consistency level_of(const req *r)
{
    return r->c->consistency;
}

/* ---- single-key commands ------------------------------------------------------------ */

static void on_get(const kv_result *res, void *arg)
{
    req *r = arg;
    stats *st = &r->c->s->st;

    r->op = NULL;
    if (res->err != KV_OK) {
        reply_kv_error(r, res, NULL);
    } else if (res->found) {
        st->keyspace_hits++;
        resp_add_bulk(reply(r), res->value, res->value_len);
    } else {
        st->keyspace_misses++;
        resp_add_null(reply(r), r->c->proto);
    }
    req_done(r);
}

void cmd_get(req *r)
{
    kv_get_args a = {r->argv[1].ptr, r->argv[1].len, level_of(r), 0};

    r->op = kv_get(r->c->s->kv, &a, on_get, r);
}

static void on_ok(const kv_result *res, void *arg)
{
    req *r = arg;

    r->op = NULL;
    if (res->err != KV_OK)
        reply_kv_error(r, res, NULL);
    else
        resp_add_simple(reply(r), "OK");
    req_done(r);
}

/*
 * SET, SETEX and PSETEX without XX or GET do not depend on the value there: cell.c's rules,
 * run on a blank cell, check the arguments and decide the value's TTL (or that an expiry
 * already past deletes the key, as in Redis, still answering OK); then one unconditional
 * Put or Delete. value is the index of the value argument, written from the request itself.
 */
static void blind_write(req *r, int value)
{
    kv_client *kv = r->c->s->kv;
    cell_ctx x = {r->c->proto, clock_unix_ms()};
    struct evbuffer *answer = evbuffer_new();
    bool expired = false;
    uint64_t ttl;
    cell c;

    cell_init(&c);
    if (!r->cmd->cell(&c, &x, r->argv, r->argc, answer)) {
        r->failed = true;
        evbuffer_add_buffer(reply(r), answer); /* the error */
        evbuffer_free(answer);
        cell_free(&c);
        req_done(r);
        return;
    }
    evbuffer_free(answer); /* +OK, once the write is done */
    ttl = c.exists ? cell_put_ttl(&c, x.now_ms, &expired) : 0;
    if (!c.exists || expired) {
        kv_del_args d = {r->argv[1].ptr, r->argv[1].len, NULL, NULL, 0};
        r->op = kv_del(kv, &d, on_ok, r);
    } else {
        kv_put_args a = {r->argv[1].ptr,
                         r->argv[1].len,
                         r->argv[value].ptr,
                         r->argv[value].len,
                         ttl,
                         NULL,
                         NULL,
                         0};
        r->op = kv_put(kv, &a, on_ok, r);
    }
    cell_free(&c);
}

void cmd_set(req *r)
{
    /* XX and GET depend on the value there: a compare-and-swap of the key */
    for (int i = 3; i < r->argc; i++) {
        if (strcasecmp(r->argv[i].ptr, "XX") == 0 || strcasecmp(r->argv[i].ptr, "GET") == 0) {
            cmd_cas(r);
            return;
        }
    }
    blind_write(r, 2);
}

void cmd_setex(req *r)
{
    blind_write(r, 3);
}

void cmd_psetex(req *r)
{
    blind_write(r, 3);
}

/* ---- fan-out commands --------------------------------------------------------------- */

/* What a fan-out remembers besides its parts: the first error. */
typedef struct fanout {
    bool failed;
    kv_result first_error; /* its message lives in error_text */
    char error_text[512];
} fanout;

/* Sets r up for n parts, each pointing back to r; the fanout is r's scratch. */
static void fanout_start(req *r, int n)
{
    fanout *f = xcalloc(1, sizeof(*f));

    r->parts = xcalloc((size_t)n, sizeof(*r->parts));
    r->nparts = n;
    r->pending = n;
    r->scratch = f;
    for (int k = 0; k < n; k++)
        r->parts[k].r = r;
}

static void fanout_fail(fanout *f, const kv_result *res)
{
    if (f->failed)
        return;
    f->failed = true;
    f->first_error = *res;
    snprintf(f->error_text, sizeof(f->error_text), "%s", res->message);
    f->first_error.message = f->error_text;
}

static void on_mget(const kv_result *res, void *arg)
{
    req_part *p = arg;
    req *r = p->r;
    fanout *f = r->scratch;
    stats *st = &r->c->s->st;

    p->op = NULL;
    if (res->err != KV_OK) {
        fanout_fail(f, res);
    } else if (res->found) {
        st->keyspace_hits++;
        p->found = true;
        p->len = res->value_len;
        p->value = xmemdup0(res->value, res->value_len);
    } else {
        st->keyspace_misses++;
    }
    if (--r->pending > 0)
        return;
    if (f->failed) {
        reply_kv_error(r, &f->first_error, NULL);
    } else if (r->cmd->proc == cmd_exists) {
        long long n = 0;
        for (int i = 0; i < r->nparts; i++)
            n += r->parts[i].found;
        resp_add_int(reply(r), n);
    } else {
        resp_add_array(reply(r), r->nparts);
        for (int i = 0; i < r->nparts; i++) {
            if (r->parts[i].found)
                resp_add_bulk(reply(r), r->parts[i].value, r->parts[i].len);
            else
                resp_add_null(reply(r), r->c->proto);
        }
    }
    req_done(r);
}

static void read_keys(req *r)
{
    int n = r->argc - 1;

    fanout_start(r, n);
    for (int k = 0; k < n; k++) {
        req_part *p = &r->parts[k];
        p->i = k + 1;
        kv_get_args a = {r->argv[p->i].ptr, r->argv[p->i].len, level_of(r), 0};
        p->op = kv_get(r->c->s->kv, &a, on_mget, p);
    }
}

void cmd_mget(req *r)
{
    read_keys(r);
}

void cmd_exists(req *r)
{
    read_keys(r);
}

static void on_mset(const kv_result *res, void *arg)
{
    req_part *p = arg;
    req *r = p->r;
    fanout *f = r->scratch;

    p->op = NULL;
    if (res->err != KV_OK)
        fanout_fail(f, res);
    if (--r->pending > 0)
        return;
    if (f->failed)
        reply_kv_error(r, &f->first_error, NULL);
    else
        resp_add_simple(reply(r), "OK");
    req_done(r);
}

void cmd_mset(req *r)
{
    int n = (r->argc - 1) / 2;

    if ((r->argc - 1) % 2 != 0) {
        reply_error(r, "ERR wrong number of arguments for 'mset' command");
        req_done(r);
        return;
    }
    fanout_start(r, n);
    for (int k = 0; k < n; k++) {
        req_part *p = &r->parts[k];
        p->i = 1 + 2 * k;
        kv_put_args a = {r->argv[p->i].ptr,
                         r->argv[p->i].len,
                         r->argv[p->i + 1].ptr,
                         r->argv[p->i + 1].len,
                         0,
                         NULL,
                         NULL,
                         0};
        p->op = kv_put(r->c->s->kv, &a, on_mset, p);
    }
}

/* DEL: NoriKV's Delete reports a tombstone whether or not the key existed, so each key is
 * read first and counted if it was there, then deleted. */
static void on_del_done(const kv_result *res, void *arg)
{
    req_part *p = arg;
    req *r = p->r;
    fanout *f = r->scratch;

    p->op = NULL;
    if (res->err != KV_OK)
        fanout_fail(f, res);
    if (--r->pending > 0)
        return;
    if (f->failed) {
        reply_kv_error(r, &f->first_error, NULL);
    } else {
        long long n = 0;
        for (int i = 0; i < r->nparts; i++)
            n += r->parts[i].found;
        resp_add_int(reply(r), n);
    }
    req_done(r);
}

static void on_del_read(const kv_result *res, void *arg)
{
    req_part *p = arg;
    req *r = p->r;

    p->op = NULL;
    if (res->err != KV_OK) {
        on_del_done(res, p);
        return;
    }
    p->found = res->found;
    kv_del_args d = {r->argv[p->i].ptr, r->argv[p->i].len, NULL, NULL, 0};
    p->op = kv_del(r->c->s->kv, &d, on_del_done, p);
}

void cmd_del(req *r)
{
    int n = r->argc - 1;

    fanout_start(r, n);
    for (int k = 0; k < n; k++) {
        req_part *p = &r->parts[k];
        p->i = k + 1;
        kv_get_args a = {r->argv[p->i].ptr, r->argv[p->i].len, KV_LINEARIZABLE, 0};
        p->op = kv_get(r->c->s->kv, &a, on_del_read, p);
    }
}

/* ---- NORI.* ------------------------------------------------------------------------- */

typedef struct nori_opts {
    bool has_ttl, has_version;
    long long ttl;
    const char *idem;
    kv_version version;
    kv_consistency level;
} nori_opts;

/* IFMATCH's term and index at arguments i and i + 1; replies the error when they are wrong. */
static bool parse_version(req *r, int i, kv_version *v)
{
    long long t, x;

    if (!arg_ll(r, i, &t) || !arg_ll(r, i + 1, &x)) {
        reply_error(r, ERR_NOT_INTEGER);
        return false;
    }
    if (t < 0 || x < 0) {
        reply_error(r, "ERR IFMATCH takes a term and an index, both 0 or more");
        return false;
    }
    v->term = (uint64_t)t;
    v->index = (uint64_t)x;
    return true;
}

/* Options from argument `from` on; allowed is a set of "TTL", "IDEMPOTENCY", "IFMATCH",
 * "CONSISTENCY". Replies the error and returns false when they are wrong. */
static bool parse_nori_opts(req *r, int from, const char *allowed, nori_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->level = level_of(r);
    for (int i = from; i < r->argc; i++) {
        const char *opt = r->argv[i].ptr;
        bool known = strcasestr(allowed, opt) != NULL && r->argv[i].len >= 3;
        if (known && strcasecmp(opt, "TTL") == 0 && i + 1 < r->argc) {
            if (!arg_ll(r, ++i, &o->ttl)) {
                reply_error(r, ERR_NOT_INTEGER);
                return false;
            }
            if (o->ttl < 0) {
                reply_error(r, "ERR TTL takes milliseconds, 0 or more (0: no expiry)");
                return false;
            }
            o->has_ttl = true;
        } else if (known && strcasecmp(opt, "IDEMPOTENCY") == 0 && i + 1 < r->argc) {
            o->idem = r->argv[++i].ptr;
        } else if (known && strcasecmp(opt, "IFMATCH") == 0 && i + 2 < r->argc) {
            if (!parse_version(r, i + 1, &o->version))
                return false;
            o->has_version = true;
            i += 2;
        } else if (known && strcasecmp(opt, "CONSISTENCY") == 0 && i + 1 < r->argc) {
            if (!kv_consistency_parse(r->argv[++i].ptr, &o->level)) {
                reply_errorf(r,
                             "ERR unknown consistency level '%.64s': expected lease, "
                             "linearizable or stale_ok",
                             r->argv[i].ptr);
                return false;
            }
        } else {
            reply_error(r, "ERR syntax error");
            return false;
        }
    }
    return true;
}

typedef struct nori_ctx {
    req *r;
    bool has_expected;
    kv_version expected;
} nori_ctx;

static void on_nori_put(const kv_result *res, void *arg)
{
    req *r = arg;
    nori_ctx *x = r->scratch;

    r->op = NULL;
    if (res->err != KV_OK) {
        reply_kv_error(r, res, x->has_expected ? &x->expected : NULL);
    } else {
        resp_add_array(reply(r), 2);
        resp_add_int(reply(r), (long long)res->version.term);
        resp_add_int(reply(r), (long long)res->version.index);
    }
    req_done(r);
}

void cmd_nori_put(req *r)
{
    nori_opts o;
    nori_ctx *x;

    if (!parse_nori_opts(r, 3, "TTL IDEMPOTENCY IFMATCH", &o)) {
        req_done(r);
        return;
    }
    x = xcalloc(1, sizeof(*x));
    x->r = r;
    x->has_expected = o.has_version;
    x->expected = o.version;
    r->scratch = x;
    kv_put_args a = {r->argv[1].ptr,
                     r->argv[1].len,
                     r->argv[2].ptr,
                     r->argv[2].len,
                     (uint64_t)o.ttl,
                     o.idem,
                     o.has_version ? &o.version : NULL,
                     0};
    r->op = kv_put(r->c->s->kv, &a, on_nori_put, r);
}

static void on_nori_get(const kv_result *res, void *arg)
{
    req *r = arg;
    stats *st = &r->c->s->st;

    r->op = NULL;
    if (res->err != KV_OK) {
        reply_kv_error(r, res, NULL);
    } else if (!res->found) {
        st->keyspace_misses++;
        resp_add_null_array(reply(r), r->c->proto);
    } else {
        st->keyspace_hits++;
        resp_add_array(reply(r), 3);
        resp_add_bulk(reply(r), res->value, res->value_len);
        resp_add_int(reply(r), (long long)res->version.term);
        resp_add_int(reply(r), (long long)res->version.index);
    }
    req_done(r);
}

void cmd_nori_get(req *r)
{
    nori_opts o;

    if (!parse_nori_opts(r, 2, "CONSISTENCY", &o)) {
        req_done(r);
        return;
    }
    kv_get_args a = {r->argv[1].ptr, r->argv[1].len, o.level, 0};
    r->op = kv_get(r->c->s->kv, &a, on_nori_get, r);
}

static void on_nori_del(const kv_result *res, void *arg)
{
    req *r = arg;

    r->op = NULL;
    if (res->err != KV_OK)
        reply_kv_error(r, res, NULL);
    else
        resp_add_int(reply(r), res->tombstoned ? 1 : 0);
    req_done(r);
}

void cmd_nori_del(req *r)
{
    nori_opts o;

    if (!parse_nori_opts(r, 2, "IDEMPOTENCY IFMATCH", &o)) {
        req_done(r);
        return;
    }
    kv_del_args a = {r->argv[1].ptr, r->argv[1].len, o.idem, o.has_version ? &o.version : NULL, 0};
    r->op = kv_del(r->c->s->kv, &a, on_nori_del, r);
}

/*
 * cmd_data: the data commands, each turned into NoriKV operations on the cluster client:
 * GET, SET and its expiry forms, DEL/UNLINK, EXISTS, MGET, MSET and the NORI.* commands.
 * Multi-key commands fan out concurrently, a window of keys at a time, and answer once
 * every key is done, in request order. Never weakens a command silently: what NoriKV
 * cannot do is refused.
 */
#include "cmd_data.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "cas.h"
#include "cell_hash_set.h"
#include "cmd.h"
#include "clock.h"
#include "lcs.h"
#include "xalloc.h"

static kv_consistency level_of(const req *r)
{
    return r->c->consistency;
}

/* ---- single-key commands ------------------------------------------------------------ */

/* What a read found, as Redis sees it: a typed value (tval.h) already expired is missing;
 * v is the value's type and payload. */
static bool found_live(const kv_result *res, tval *v)
{
    if (!res->found)
        return false;
    if (!tval_decode(res->value, res->value_len, v))
        return true;
    return v->expire_at == 0 || v->expire_at > clock_unix_ms();
}

static void on_get(const kv_result *res, void *arg)
{
    req *r = arg;
    stats *st = &r->c->s->st;
    tval v;
    bool live = res->err == KV_OK && found_live(res, &v);

    r->op = NULL;
    if (res->err != KV_OK) {
        reply_kv_error(r, res, NULL);
    } else if (live && v.type != TVAL_STRING) {
        st->keyspace_hits++;
        reply_error(r, "WRONGTYPE Operation against a key holding the wrong kind of value");
    } else if (live) {
        st->keyspace_hits++;
        resp_add_bulk(reply(r), v.payload, v.len);
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
    cell_ctx x = cas_ctx(r);
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
    } else { /* the request's own bytes, or a copy with the typed format's header */
        char *owned = NULL;
        size_t len = r->argv[value].len;
        const char *v = r->argv[value].ptr;
        if (x.typed_strings || tval_looks_typed(v, len))
            v = cell_stored(&c, x.typed_strings, &len, &owned);
        kv_put_args a = {r->argv[1].ptr, r->argv[1].len, v, len, ttl, NULL, NULL, 0};
        r->op = kv_put(kv, &a, on_ok, r);
        free(owned);
    }
    cell_free(&c);
}

void cmd_set(req *r)
{
    /* XX, GET and KEEPTTL depend on the value there: a compare-and-swap of the key */
    for (int i = 3; i < r->argc; i++) {
        if (strcasecmp(r->argv[i].ptr, "XX") == 0 || strcasecmp(r->argv[i].ptr, "GET") == 0 ||
            strcasecmp(r->argv[i].ptr, "KEEPTTL") == 0) {
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

/* Keys of one multi-key command in flight at once: a request of thousands of keys never
 * puts more than this many values on the loop in one pass. */
#define FANOUT_WINDOW 16

typedef void part_start(req *r, req_part *p);
typedef void fanout_finish(req *r);

/* What a fan-out remembers besides its parts: the window and the first error. */
typedef struct fanout {
    part_start *start;
    fanout_finish *finish; /* replies and ends the request, once every part is done */
    int next;              /* the next part to start */
    int running;           /* parts started and not finished */
    bool starting;         /* inside fanout_go's loop */
    int written;           /* MGET: reply positions whose value is in the reply already */
    bool failed, too_big;
    bool wrongtype;        /* LCS: a key of another type (the failure, with no kv_result) */
    kv_result first_error; /* its message lives in error_text */
    char error_text[512];
    /* MGET of a key named more than once: one part per distinct key, and reply position k
     * answers part slot[k]; last[j] is the last position part j answers (its value is
     * kept until then). NULL when every key is distinct: position k is part k. */
    int *slot, *last;
    int npos;
    bool first_again; /* SDIFF: its first key named again, which makes the result empty */
} fanout;

/* Starts parts while the window has room, unless the request already failed; finishes
 * the request when nothing runs any more. A part that ends inside its own start (an
 * argument the cluster client refuses at once) lets the loop here go on. */
static void fanout_go(req *r)
{
    fanout *f = r->scratch;

    if (f->starting)
        return;
    f->starting = true;
    while (!f->failed && f->running < FANOUT_WINDOW && f->next < r->nparts) {
        f->running++;
        f->start(r, &r->parts[f->next++]);
    }
    f->starting = false;
    if (f->running == 0)
        f->finish(r);
}

/* Sets r up for the parts at the argument indices keys[0 .. n-1], each pointing back to
 * r, with room for npos reply positions (0: none but the parts); the fanout is r's scratch,
 * freed with it. */
static fanout *fanout_new(req *r, const int *keys, int n, int npos, part_start *start,
                          fanout_finish *finish)
{
    fanout *f = xcalloc(1, sizeof(*f) + 2 * (size_t)npos * sizeof(int));

    r->parts = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*r->parts));
    r->nparts = n;
    r->scratch = f;
    f->start = start;
    f->finish = finish;
    for (int k = 0; k < n; k++) {
        r->parts[k].r = r;
        r->parts[k].i = keys[k];
    }
    if (npos > 0) {
        f->slot = (int *)(f + 1);
        f->last = f->slot + npos;
        f->npos = npos;
    }
    return f;
}

/* fanout_new, then the first window starts. */
static void fanout_start(req *r, const int *keys, int n, part_start *start, fanout_finish *finish)
{
    fanout_new(r, keys, n, 0, start, finish);
    fanout_go(r);
}

/* A part is done: the next ones start, or the request finishes. */
static void fanout_part_done(req *r)
{
    fanout *f = r->scratch;

    f->running--;
    fanout_go(r);
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

/* The failure as the reply, in place of anything written so far. */
static void fanout_reply_failure(req *r)
{
    fanout *f = r->scratch;
    struct evbuffer *b = reply(r);

    if (f->too_big) {
        reply_over_max(r, "ask for fewer keys");
    } else {
        evbuffer_drain(b, evbuffer_get_length(b));
        reply_kv_error(r, &f->first_error, NULL);
    }
}

/* Argument indices first, first + step, ... below end: n of them into out. */
static int every_key(int first, int end, int step, int *out)
{
    int n = 0;

    for (int i = first; i < end; i += step)
        out[n++] = i;
    return n;
}

typedef struct key_ref {
    const char *ptr;
    size_t len;
    int i;
} key_ref;

static int key_ref_cmp(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int d = memcmp(x->ptr, y->ptr, n);

    if (d != 0)
        return d;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return (x > y) - (x < y);
}

/*
 * Like every_key, but each key once: at its last occurrence when keep_last (a write of
 * the same key twice in one command leaves the later value, as in Redis), else its
 * first; in argument order. O(n log n), whatever the request repeats.
 */
static int distinct_keys(const req *r, int first, int end, int step, bool keep_last, int *out)
{
    int n = every_key(first, end, step, out), m = 0;
    key_ref *refs = xcalloc((size_t)(n > 0 ? n : 1), sizeof(*refs));

    for (int k = 0; k < n; k++)
        refs[k] = (key_ref){r->argv[out[k]].ptr, r->argv[out[k]].len, out[k]};
    qsort(refs, (size_t)n, sizeof(*refs), key_ref_cmp);
    for (int k = 0; k < n; k++) {
        bool last_of_run = k + 1 == n || refs[k + 1].len != refs[k].len ||
                           memcmp(refs[k + 1].ptr, refs[k].ptr, refs[k].len) != 0;
        bool first_of_run = k == 0 || refs[k - 1].len != refs[k].len ||
                            memcmp(refs[k - 1].ptr, refs[k].ptr, refs[k].len) != 0;
        if (keep_last ? last_of_run : first_of_run)
            out[m++] = refs[k].i;
    }
    free(refs);
    qsort(out, (size_t)m, sizeof(*out), int_cmp);
    return m;
}

static int *key_slots(const req *r)
{
    return xcalloc((size_t)(r->argc > 1 ? r->argc : 1), sizeof(int));
}

/* Keeps a copy of the value read for p until its request answers (or is freed, client.c),
 * in the client's ledger (HOLD_READS). */
static void part_keep(req_part *p, const void *value, size_t len)
{
    p->len = len;
    p->value = xmemdup0(value, len);
    p->r->kept += len;
    client_charge(p->r->c, HOLD_READS, len);
}

/* Frees what part_keep kept for p, if anything. */
static void part_drop(req_part *p)
{
    if (p->value == NULL)
        return;
    free(p->value);
    p->value = NULL;
    p->r->kept -= p->len;
    client_refund(p->r->c, HOLD_READS, p->len);
}

/* MGET's values go into the reply in key order as soon as every key before them is done,
 * so that a value is held once, and the reply is refused once it passes max_reply. */
static void mget_write_ready(req *r)
{
    fanout *f = r->scratch;
    struct evbuffer *b = reply(r);
    int npos = f->slot != NULL ? f->npos : r->nparts;

    while (!f->failed && f->written < npos) {
        int j = f->slot != NULL ? f->slot[f->written] : f->written;
        req_part *p = &r->parts[j];
        if (j >= f->next || p->op != NULL)
            break; /* not started, or not back yet */
        if (p->found)
            resp_add_bulk(b, p->value, p->len);
        else
            resp_add_null(b, r->c->proto);
        if (f->slot == NULL || f->last[j] == f->written)
            part_drop(p);
        f->written++;
        if (reply_full(r)) {
            f->too_big = true;
            f->failed = true;
        }
    }
}

static void on_mget(const kv_result *res, void *arg)
{
    req_part *p = arg;
    req *r = p->r;
    fanout *f = r->scratch;
    stats *st = &r->c->s->st;
    bool exists = r->cmd->proc == cmd_exists;
    tval v;

    p->op = NULL;
    if (res->err != KV_OK) {
        fanout_fail(f, res);
    } else if (found_live(res, &v) && (exists || v.type == TVAL_STRING)) {
        /* MGET answers nil for a key of another type, as Redis does */
        st->keyspace_hits++;
        p->found = true;
        if (!exists && f->slot == NULL && p == &r->parts[f->written] && !f->failed) {
            /* the next in order: into the reply at once, without a copy of its own */
            resp_add_bulk(reply(r), v.payload, v.len);
            f->written++;
            if (reply_full(r))
                f->too_big = f->failed = true;
        } else if (!exists) {
            part_keep(p, v.payload, v.len);
        }
    } else {
        st->keyspace_misses++;
    }
    if (!exists)
        mget_write_ready(r);
    fanout_part_done(r);
}

/* MGET's and EXISTS' end, and DEL's: the values are in the reply already, or the count. */
static void reads_finish(req *r)
{
    fanout *f = r->scratch;

    if (f->failed) {
        fanout_reply_failure(r);
    } else if (r->cmd->proc != cmd_mget) { /* EXISTS: each position counts */
        long long n = 0;
        int npos = f->slot != NULL ? f->npos : r->nparts;
        for (int k = 0; k < npos; k++)
            n += r->parts[f->slot != NULL ? f->slot[k] : k].found;
        resp_add_int(reply(r), n);
    }
    req_done(r);
}

static void start_get(req *r, req_part *p)
{
    kv_get_args a = {r->argv[p->i].ptr, r->argv[p->i].len, level_of(r), 0};

    p->op = kv_get(r->c->s->kv, &a, on_mget, p);
}

/* The reply position of each key of an MGET (or EXISTS) that names one more than once:
 * slot[k] is the part (an index into distinct, the first occurrences in argument order) of
 * position k, last[j] the last position of part j. */
static void mget_map_repeats(const req *r, const int *distinct, int m, fanout *f)
{
    int n = f->npos;
    key_ref *refs = xcalloc((size_t)n, sizeof(*refs));

    for (int k = 0; k < n; k++)
        refs[k] = (key_ref){r->argv[1 + k].ptr, r->argv[1 + k].len, 1 + k};
    qsort(refs, (size_t)n, sizeof(*refs), key_ref_cmp); /* by key, then argument */
    for (int k = 0, j = 0; k < n; k++) {
        if (k == 0 || refs[k].len != refs[k - 1].len ||
            memcmp(refs[k].ptr, refs[k - 1].ptr, refs[k].len) != 0) {
            /* a run's first is its first occurrence: find its part */
            int lo = 0, hi = m - 1;
            while (lo < hi) {
                int mid = (lo + hi) / 2;
                if (distinct[mid] < refs[k].i)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            j = lo;
        }
        f->slot[refs[k].i - 1] = j;
        if (refs[k].i - 1 > f->last[j])
            f->last[j] = refs[k].i - 1;
    }
    free(refs);
}

/* MGET and EXISTS: each distinct key read once, its answer at each of its positions. */
static void read_each_once(req *r)
{
    int *keys = key_slots(r), n = r->argc - 1, m = distinct_keys(r, 1, r->argc, 1, false, keys);

    if (m == n) {
        fanout_start(r, keys, n, start_get, reads_finish);
    } else {
        fanout *f = fanout_new(r, keys, m, n, start_get, reads_finish);
        mget_map_repeats(r, keys, m, f);
        fanout_go(r);
    }
    free(keys);
}

/* MGET: a key named more than once is read once, and answered at each of its positions. */
void cmd_mget(req *r)
{
    resp_add_array(reply(r), r->argc - 1);
    read_each_once(r);
}

/* EXISTS counts a key as often as it is named, as Redis does, and reads it once. */
void cmd_exists(req *r)
{
    read_each_once(r);
}

/*
 * ---- SINTER, SUNION, SDIFF, SINTERCARD: each key read (linearizable) concurrently ----
 * Each distinct key is read once, and the sets are combined once every one is read, in one
 * pass of the loop: the values held meanwhile (in the client's ledger) stop at
 * SETS_READ_MAX or max_reply, whichever is less, past which the command is refused. The sets
 * are decoded whole to be combined (several times their size for small members), so 16 MiB
 * of them is ~0.1 s of the loop and ~100 MB for a moment.
 */
#define SETS_READ_MAX ((size_t)16 << 20)

static size_t sets_read_max(const req *r)
{
    size_t max_reply = (size_t)r->c->s->cfg.sidecar.max_reply;

    return max_reply < SETS_READ_MAX ? max_reply : SETS_READ_MAX;
}

static void on_set_read(const kv_result *res, void *arg)
{
    req_part *p = arg;
    req *r = p->r;
    fanout *f = r->scratch;

    p->op = NULL;
    if (res->err != KV_OK) {
        fanout_fail(f, res);
    } else if (res->found) {
        r->c->s->st.keyspace_hits++;
        p->found = true;
        if (r->kept + res->value_len > sets_read_max(r))
            f->too_big = f->failed = true; /* no more reads start */
        else if (!f->failed)
            part_keep(p, res->value, res->value_len);
    } else {
        r->c->s->st.keyspace_misses++;
    }
    fanout_part_done(r);
}

static void start_set_read(req *r, req_part *p)
{
    kv_get_args a = {r->argv[p->i].ptr, r->argv[p->i].len, level_of(r), 0};

    p->op = kv_get(r->c->s->kv, &a, on_set_read, p);
}

/* SINTERCARD's numkeys and LIMIT, as Redis checks them; the error is r's reply. */
static bool sintercard_args(req *r, long long *numkeys, long long *limit)
{
    *limit = 0;
    if (!arg_ll(r, 1, numkeys) || *numkeys < 1) {
        reply_error(r, "ERR numkeys should be greater than 0");
        return false;
    }
    if (*numkeys > r->argc - 2) {
        reply_error(r, "ERR Number of keys can't be greater than number of args");
        return false;
    }
    for (int j = 2 + (int)*numkeys; j < r->argc; j++) {
        if (strcasecmp(r->argv[j].ptr, "LIMIT") == 0 && j + 1 < r->argc) {
            if (!arg_ll(r, ++j, limit) || *limit < 0) {
                reply_error(r, "ERR LIMIT can't be negative");
                return false;
            }
        } else {
            reply_error(r, "ERR syntax error");
            return false;
        }
    }
    return true;
}

static cell_set_op op_of(const req *r)
{
    switch (toupper((unsigned char)r->cmd->name[1])) {
    case 'U':
        return CELL_SET_UNION;
    case 'D':
        return CELL_SET_DIFF;
    default:
        return strlen(r->cmd->name) > 6 ? CELL_SET_INTERCARD : CELL_SET_INTER;
    }
}

/* Every key read: the sets combined (cell_set.c), or the first failure. */
static void sets_finish(req *r)
{
    fanout *f = r->scratch;
    cell_set_op op = op_of(r);
    long long numkeys, limit = 0;
    int64_t now = clock_unix_ms();
    cell *cells;

    if (f->too_big) {
        reply_errorf(r,
                     "ERR the sets read would hold more than %zu bytes (the smaller of "
                     "max_reply and 16 MiB): ask for fewer or smaller sets",
                     sets_read_max(r));
        req_done(r);
        return;
    }
    if (f->failed) {
        fanout_reply_failure(r);
        req_done(r);
        return;
    }
    if (op == CELL_SET_INTERCARD)
        sintercard_args(r, &numkeys, &limit); /* checked before the reads */
    cells = xcalloc((size_t)r->nparts + 1, sizeof(*cells));
    for (int i = 0; i < r->nparts; i++) {
        req_part *p = &r->parts[i];
        cell_init(&cells[i]);
        if (p->found)
            cell_set_read(&cells[i], p->value, p->len, now);
        part_drop(p);
    }
    /* SDIFF k ... k ...: the first set less itself, empty once the types are checked (a
     * view of the first cell, not freed apart) */
    if (f->first_again)
        cells[r->nparts] = cells[0];
    if (!cell_set_combine(cells, r->nparts + f->first_again, op, limit, r->c->proto, reply(r)))
        r->failed = true;
    else if (reply_full(r))
        reply_over_max(r, "ask for fewer or smaller sets");
    for (int i = 0; i < r->nparts; i++)
        cell_free(&cells[i]);
    free(cells);
    req_done(r);
}

/* Reads each distinct key of r's argv[first .. end - 1] once and combines them: a set named
 * again changes no result but SDIFF's, when it is its first key (as in Redis). */
static void set_combine_keys(req *r, int first, int end)
{
    int *keys = key_slots(r), n = distinct_keys(r, first, end, 1, false, keys);
    fanout *f = fanout_new(r, keys, n, 0, start_set_read, sets_finish);

    if (op_of(r) == CELL_SET_DIFF)
        for (int i = first + 1; i < end && !f->first_again; i++)
            f->first_again = r->argv[i].len == r->argv[first].len &&
                             memcmp(r->argv[i].ptr, r->argv[first].ptr, r->argv[i].len) == 0;
    fanout_go(r);
    free(keys);
}

/* SINTER, SUNION, SDIFF: each key is read on its own, so the result is not a snapshot of
 * the keys at one moment (NoriKV has no reads across keys). */
void cmd_set_combine(req *r)
{
    set_combine_keys(r, 1, r->argc);
}

void cmd_sintercard(req *r)
{
    long long numkeys, limit;

    if (!sintercard_args(r, &numkeys, &limit)) {
        r->failed = true;
        req_done(r);
        return;
    }
    set_combine_keys(r, 2, 2 + (int)numkeys);
}

static void on_mset(const kv_result *res, void *arg)
{
    req_part *p = arg;
    req *r = p->r;
    fanout *f = r->scratch;

    p->op = NULL;
    if (res->err != KV_OK)
        fanout_fail(f, res);
    fanout_part_done(r);
}

static void mset_finish(req *r)
{
    fanout *f = r->scratch;

    if (f->failed)
        fanout_reply_failure(r);
    else
        resp_add_simple(reply(r), "OK");
    req_done(r);
}

static void start_put(req *r, req_part *p)
{
    const resp_arg *val = &r->argv[p->i + 1];
    cell_ctx x = cas_ctx(r);
    char *owned = NULL;
    const char *v = val->ptr;
    size_t len = val->len;

    if (x.typed_strings || tval_looks_typed(v, len)) { /* with the typed format's header */
        cell c;
        cell_init(&c);
        c.exists = true;
        c.value = (char *)val->ptr; /* borrowed: cell_stored only reads it */
        c.len = val->len;
        v = cell_stored(&c, x.typed_strings, &len, &owned);
    }
    kv_put_args a = {r->argv[p->i].ptr, r->argv[p->i].len, v, len, 0, NULL, NULL, 0};
    p->op = kv_put(r->c->s->kv, &a, on_mset, p);
    free(owned);
}

/* The keys' writes run concurrently, so a key named twice is written once, with its last
 * value: what Redis leaves. */
void cmd_mset(req *r)
{
    int *keys, n;

    if ((r->argc - 1) % 2 != 0) {
        reply_error(r, "ERR wrong number of arguments for 'mset' command");
        req_done(r);
        return;
    }
    keys = key_slots(r);
    n = distinct_keys(r, 1, r->argc, 2, true, keys);
    fanout_start(r, keys, n, start_put, mset_finish);
    free(keys);
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
    fanout_part_done(r);
}

static void on_del_read(const kv_result *res, void *arg)
{
    req_part *p = arg;
    req *r = p->r;
    tval v;

    p->op = NULL;
    if (res->err != KV_OK) {
        on_del_done(res, p);
        return;
    }

    p->found = found_live(res, &v); /* an expired typed value is deleted, not counted */
    kv_del_args d = {r->argv[p->i].ptr, r->argv[p->i].len, NULL, NULL, 0};
    p->op = kv_del(r->c->s->kv, &d, on_del_done, p);
}

static void start_del(req *r, req_part *p)
{
    kv_get_args a = {r->argv[p->i].ptr, r->argv[p->i].len, KV_LINEARIZABLE, 0};

    p->op = kv_get(r->c->s->kv, &a, on_del_read, p);
}

/* DEL and UNLINK count a key named twice once, as Redis does. */
void cmd_del(req *r)
{
    int *keys = key_slots(r), n = distinct_keys(r, 1, r->argc, 1, false, keys);

    fanout_start(r, keys, n, start_del, reads_finish);
    free(keys);
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

/* ---- LCS ----------------------------------------------------------------------------
 * Two linearizable reads, one per key, at once (not a snapshot across the keys: a write
 * between them shows in one and not the other), then Redis' table. A table over
 * LCS_MAX_CELLS is refused. One that fits in a slice is filled at once; a bigger one waits
 * its turn in the sidecar's one queue of tables (s->lcs) and is filled a slice per loop
 * pass, so that other clients are served in between and at most one big table exists. */

/* Cells filled in one go: about a millisecond of the loop. */
#define LCS_SLICE_CELLS (256u * 1024)

typedef struct lcs_task {
    req *r;
    lcs_job *job; /* its table, made when its turn comes */
    bool queued;  /* in s->lcs's queue */
    TAILQ_ENTRY(lcs_task) link;
} lcs_task;

typedef struct lcs_runner {
    struct event *tick;
    bool ticking;                 /* inside on_lcs_tick: it frees the runner itself */
    TAILQ_HEAD(, lcs_task) queue; /* the first one is being filled */
} lcs_runner;

static void lcs_runner_free_if_idle(sidecar *s)
{
    lcs_runner *q = s->lcs;

    if (q == NULL || q->ticking || !TAILQ_EMPTY(&q->queue))
        return;
    event_free(q->tick);
    free(q);
    s->lcs = NULL;
}

static void lcs_task_free(void *p)
{
    lcs_task *t = p;
    sidecar *s = t->r->c->s;

    if (t->queued) { /* the client went away while it waited or ran */
        TAILQ_REMOVE(&s->lcs->queue, t, link);
        t->queued = false;
        lcs_runner_free_if_idle(s);
    }
    lcs_free(t->job);
    free(t);
}

/* The table is full (or could not be made): the reply, and the request ends. */
static void lcs_answer(lcs_task *t)
{
    req *r = t->r;
    lcs_opts o;

    if (t->job == NULL) {
        reply_error(r, "ERR Insufficient memory, failed allocating transient memory for LCS");
    } else {
        lcs_parse_opts(r->argv, r->argc, &o, reply(r)); /* parsed once already: no error */
        lcs_reply(t->job, &o, r->c->proto, reply(r));
    }
    lcs_free(t->job);
    t->job = NULL;
    req_done(r);
}

static lcs_job *lcs_task_job(const lcs_task *t)
{
    const req *r = t->r;

    return lcs_new(r->parts[0].value, r->parts[0].len, r->parts[1].value, r->parts[1].len);
}

static void lcs_arm(lcs_runner *q)
{
    static const struct timeval now = {0, 0}; /* after the loop polled the others */

    evtimer_add(q->tick, &now);
}

static void on_lcs_tick(evutil_socket_t fd, short what, void *arg)
{
    sidecar *s = arg;
    lcs_runner *q = s->lcs;
    lcs_task *t = TAILQ_FIRST(&q->queue);

    (void)fd;
    (void)what;
    q->ticking = true;
    if (t != NULL) {
        if (t->job == NULL)
            t->job = lcs_task_job(t);
        if (t->job == NULL || lcs_fill(t->job, LCS_SLICE_CELLS)) {
            TAILQ_REMOVE(&q->queue, t, link);
            t->queued = false;
            lcs_answer(t); /* may start more requests, and queue more tables */
        }
    }
    q->ticking = false;
    if (TAILQ_EMPTY(&q->queue))
        lcs_runner_free_if_idle(s);
    else
        lcs_arm(q);
}

static void lcs_enqueue(lcs_task *t)
{
    sidecar *s = t->r->c->s;

    if (s->lcs == NULL) {
        s->lcs = xcalloc(1, sizeof(*s->lcs));
        TAILQ_INIT(&s->lcs->queue);
        s->lcs->tick = evtimer_new(s->base, on_lcs_tick, s);
        if (s->lcs->tick == NULL) {
            fprintf(stderr, "lcs: cannot make a timer: aborting\n");
            abort();
        }
        lcs_arm(s->lcs);
    }
    TAILQ_INSERT_TAIL(&s->lcs->queue, t, link);
    t->queued = true;
}

static void lcs_reads_done(req *r)
{
    fanout *f = r->scratch;
    uint64_t cells = lcs_cells(r->parts[0].len, r->parts[1].len);
    lcs_task *t;

    if (f->failed && f->wrongtype) {
        reply_error(r, "WRONGTYPE Operation against a key holding the wrong kind of value");
        req_done(r);
        return;
    }
    if (f->failed) {
        fanout_reply_failure(r);
        req_done(r);
        return;
    }
    if (cells > LCS_MAX_CELLS) {
        reply_errorf(r,
                     "ERR LCS of values of %zu and %zu bytes needs a table of %llu cells, over "
                     "the sidecar's budget of %llu cells (compare shorter strings)",
                     r->parts[0].len, r->parts[1].len, (unsigned long long)cells,
                     (unsigned long long)LCS_MAX_CELLS);
        req_done(r);
        return;
    }
    /* the fanout is done with: the task takes its place */
    free(f);
    t = xcalloc(1, sizeof(*t));
    t->r = r;
    r->scratch = t;
    r->scratch_free = lcs_task_free;
    if (cells > LCS_SLICE_CELLS) {
        lcs_enqueue(t);
        return;
    }
    t->job = lcs_task_job(t);
    if (t->job != NULL)
        lcs_fill(t->job, cells);
    lcs_answer(t);
}

/* A key of another type than string: LCS answers WRONGTYPE (in the task's place, before
 * the reads are done the scratch is the fanout: its first failure wins, as any). */
static void lcs_wrongtype(req *r, bool wrong)
{
    fanout *f = r->scratch;

    if (wrong && !f->failed) {
        f->failed = true;
        f->wrongtype = true;
    }
}

static void on_lcs_read(const kv_result *res, void *arg)
{
    req_part *p = arg;
    req *r = p->r;

    tval v;

    p->op = NULL;
    if (res->err != KV_OK) {
        fanout_fail(r->scratch, res);
    } else {
        /* a missing key is an empty string, as in Redis; a typed one is its payload */
        p->found = found_live(res, &v);
        part_keep(p, p->found ? v.payload : "", p->found ? v.len : 0);
        lcs_wrongtype(r, p->found && v.type != TVAL_STRING);
    }
    fanout_part_done(r);
}

static void start_lcs_read(req *r, req_part *p)
{
    kv_get_args a = {r->argv[p->i].ptr, r->argv[p->i].len, KV_LINEARIZABLE, 0};

    p->op = kv_get(r->c->s->kv, &a, on_lcs_read, p);
}

void cmd_lcs(req *r)
{
    static const int keys[2] = {1, 2};
    lcs_opts o;

    if (!lcs_parse_opts(r->argv, r->argc, &o, reply(r))) {
        r->failed = true;
        req_done(r);
        return;
    }
    fanout_start(r, keys, 2, start_lcs_read, lcs_reads_done);
}

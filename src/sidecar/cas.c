/*
 * cas: rounds of read, compute, conditional write for one key. Owns its block: the cell,
 * the commands and their replies, the operation in flight. Blocks on one key queue behind
 * the one running (a cas_key, found by the key in the sidecar's cas_keys), so its own clients never
 * make each other lose a round; other writers to the cluster still can, and then the round is
 * redone.
 */
#include "cas.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "clock.h"
#include "cmd.h"
#include "dict.h"
#include "xalloc.h"

typedef struct cas_step {
    cell_fn *fn;
    resp_arg *argv;
    int argc;
    bool owned;
    bool ok; /* its last run succeeded */
    struct evbuffer *reply;
} cas_step;

struct cas_block {
    req *r;
    sidecar *s;
    char *key; /* NULL: keyless */
    size_t klen;
    cas_step *steps;
    int nsteps, cap;
    bool as_array;
    bool watching;
    cas_watch watch;
    int rounds;
    int64_t deadline_ms;
    cell c;
    bool read_found;
    bool typed_strings; /* string_format typed when the round computed */
    kv_version read_version;
    kv_op *op;
    struct event *pause;   /* between a lost round and the next */
    struct cas_key *queue; /* its key's queue, running or waiting there; NULL: on none */
    TAILQ_ENTRY(cas_block) wait_link;
};

/* The blocks on one key: the one running and those waiting behind it, in arrival order.
 * In the sidecar's cas_keys (by the key's bytes) while it has a running block. */
typedef struct cas_key {
    dict_entry entry;
    cas_block *running; /* its key's bytes are the entry's key */
    TAILQ_HEAD(, cas_block) waiters;
} cas_key;

static void block_free(void *p);
static void schedule_round(cas_block *b, int64_t delay_us);
static void start_round(cas_block *b);

cas_block *cas_block_new(req *r, const resp_arg *key, int nsteps)
{
    cas_block *b = xcalloc(1, sizeof(*b));

    b->r = r;
    b->s = r->c->s;
    if (key != NULL) {
        b->key = xmemdup0(key->ptr, key->len);
        b->klen = key->len;
    }
    b->cap = nsteps > 0 ? nsteps : 1;
    b->steps = xcalloc((size_t)b->cap, sizeof(*b->steps));
    cell_init(&b->c);
    r->scratch = b;
    r->scratch_free = block_free;
    return b;
}

void cas_block_add(cas_block *b, cell_fn *fn, resp_arg *argv, int argc, bool owned)
{
    cas_step *st;

    if (b->nsteps == b->cap) {
        b->cap *= 2;
        b->steps = xrealloc(b->steps, (size_t)b->cap * sizeof(*b->steps));
    }
    st = &b->steps[b->nsteps++];
    memset(st, 0, sizeof(*st));
    st->fn = fn;
    st->argv = argv;
    st->argc = argc;
    st->owned = owned;
    st->reply = evbuffer_new();
}

/* ---- the key's queue ------------------------------------------------------------------ */

/* b is done with its key (finished or abandoned): if it was running, the next block
 * waiting on the key runs, and the queue goes with the last. O(1) either way. */
static void release_key(cas_block *b)
{
    cas_key *q = b->queue;
    cas_block *next;

    if (q == NULL)
        return;
    b->queue = NULL;
    if (q->running != b) {
        TAILQ_REMOVE(&q->waiters, b, wait_link);
        return;
    }
    dict_remove(&b->s->cas_keys, &q->entry); /* keyed by b's bytes, which go with b */
    next = TAILQ_FIRST(&q->waiters);
    if (next == NULL) {
        free(q);
        return;
    }
    TAILQ_REMOVE(&q->waiters, next, wait_link);
    q->running = next;
    dict_add(&next->s->cas_keys, &q->entry, next->key, next->klen);
    /* From the loop, never from here: b may be going away inside its client's scheduler
     * (a freed request), and next may belong to that very client. */
    schedule_round(next, 0);
}

static void block_free(void *p)
{
    cas_block *b = p;

    kv_op_detach(b->op);
    if (b->pause != NULL)
        event_free(b->pause);
    release_key(b);
    for (int i = 0; i < b->nsteps; i++) {
        if (b->steps[i].owned)
            resp_argv_free(b->steps[i].argv, b->steps[i].argc);
        evbuffer_free(b->steps[i].reply);
    }
    free(b->steps);
    cell_free(&b->c);
    free(b->key);
    free(b);
}

/* ---- answering ------------------------------------------------------------------------ */

static void finish(cas_block *b)
{
    req *r = b->r;

    release_key(b);
    req_done(r); /* frees r, and b with it, once its reply can leave */
}

/* Every command's reply: one command's own, or EXEC's array of them. */
static void answer(cas_block *b)
{
    struct evbuffer *out = reply(b->r);

    if (b->as_array)
        resp_add_array(out, b->nsteps);
    for (int i = 0; i < b->nsteps; i++) {
        if (!b->steps[i].ok && !b->as_array)
            b->r->failed = true;
        evbuffer_add_buffer(out, b->steps[i].reply);
    }
    finish(b);
}

static void fail(cas_block *b, const kv_result *res)
{
    reply_kv_error(b->r, res, NULL);
    finish(b);
}

/* The watched key changed: EXEC answers a null array, as Redis does. */
static void watch_lost(cas_block *b)
{
    b->s->st.cas_watch_aborts++;
    resp_add_null_array(reply(b->r), b->r->c->proto);
    finish(b);
}

/* ---- rounds --------------------------------------------------------------------------- */

static int remaining_ms(const cas_block *b)
{
    int64_t left = b->deadline_ms - clock_now_ms();

    return left > 0 ? (int)left : 0;
}

static void timed_out(cas_block *b)
{
    reply_errorf(b->r, "TIMEOUT deadline of %d ms passed after %d round%s of compare-and-swap",
                 b->s->cfg.cluster.timeout_ms, b->rounds, b->rounds == 1 ? "" : "s");
    finish(b);
}

static void on_pause_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    start_round(arg);
}

/* The next round, from the loop after delay_us. */
static void schedule_round(cas_block *b, int64_t delay_us)
{
    struct timeval tv = {(time_t)(delay_us / 1000000), (suseconds_t)(delay_us % 1000000)};

    if (b->pause == NULL)
        b->pause = evtimer_new(b->s->base, on_pause_done, b);
    if (b->pause == NULL || evtimer_add(b->pause, &tv) != 0) {
        fprintf(stderr, "cas: cannot arm a timer: aborting\n");
        abort();
    }
}

/*
 * A lost round waits a random moment before the next: up to 1 ms after the first loss,
 * doubling to 32 ms. Without it, two sidecars hammering one key fall into step, the same
 * one reading just ahead of the other's write every time, and the other runs out of rounds.
 */
static void pause_then_retry(cas_block *b)
{
    int64_t cap_us = 1000LL << (b->rounds - 1 < 5 ? b->rounds - 1 : 5);
    uint64_t x = (uint64_t)clock_now_ns() ^ ((uint64_t)(uintptr_t)b << 16);

    x ^= x >> 33; /* the clock's low bits and the block's address, mixed */
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    schedule_round(b, (int64_t)(x % (uint64_t)cap_us));
}

static void on_written(const kv_result *res, void *arg)
{
    cas_block *b = arg;

    b->op = NULL;
    if (res->err == KV_OK) {
        answer(b);
        return;
    }
    if (res->err != KV_ERR_VERSION_MISMATCH && res->err != KV_ERR_KEY_MISSING) {
        fail(b, res);
        return;
    }
    /* someone wrote the key between our read and our write */
    b->s->st.cas_conflicts++;
    if (b->watching) {
        watch_lost(b);
        return;
    }
    if (b->rounds >= b->s->cfg.sidecar.cas_max_rounds) {
        b->s->st.cas_exhausted++;
        reply_errorf(b->r,
                     "CONFLICT the key kept changing: %d rounds of compare-and-swap lost to "
                     "other writers (cas_max_rounds)",
                     b->rounds);
        finish(b);
        return;
    }
    pause_then_retry(b);
}

cell_ctx cas_ctx(const req *r)
{
    cell_ctx x = {r->c->proto, clock_unix_ms(),
                  strcmp(r->c->s->cfg.sidecar.string_format, "typed") == 0, dict_seed()};

    return x;
}

/* Runs the commands on the value read, from scratch: a redone round recomputes. */
static bool compute(cas_block *b, const void *value, size_t len, bool found)
{
    cell_ctx x = cas_ctx(b->r);
    bool dirty = false;

    b->typed_strings = x.typed_strings;
    cell_free(&b->c);
    cell_init(&b->c);
    if (found)
        cell_set_read(&b->c, value, len, x.now_ms);
    for (int i = 0; i < b->nsteps; i++) {
        cas_step *st = &b->steps[i];
        evbuffer_drain(st->reply, evbuffer_get_length(st->reply));
        st->ok = st->fn(&b->c, &x, st->argv, st->argc, st->reply);
    }
    dirty = b->c.dirty;
    return dirty;
}

static void write_back(cas_block *b)
{
    kv_client *kv = b->s->kv;
    const kv_version *if_match = b->read_found ? &b->read_version : NULL;
    bool expired = false;
    uint64_t ttl = b->c.exists ? cell_put_ttl(&b->c, clock_unix_ms(), &expired) : 0;
    int left = remaining_ms(b);

    if (left == 0) {
        timed_out(b);
        return;
    }
    if (!b->c.exists || expired) {
        if (!b->read_found) { /* missing before, missing after: nothing to write */
            answer(b);
            return;
        }
        /* The condition goes along, though today's server ignores it on Delete. */
        kv_del_args d = {b->key, b->klen, NULL, if_match, left};
        b->op = kv_del(kv, &d, on_written, b);
        return;
    }
    /* A key that was missing has no version to match: the create is unconditional. */
    char *owned;
    size_t len;
    const char *value = cell_stored(&b->c, b->typed_strings, &len, &owned);
    kv_put_args a = {b->key, b->klen, value, len, ttl, NULL, if_match, left};
    b->op = kv_put(kv, &a, on_written, b);
    free(owned); /* kv_put copies the value */
}

static void on_read(const kv_result *res, void *arg)
{
    cas_block *b = arg;

    b->op = NULL;
    if (res->err != KV_OK) {
        fail(b, res);
        return;
    }
    b->read_found = res->found;
    if (res->found)
        b->read_version = res->version;
    if (b->watching && (res->found != b->watch.existed ||
                        (res->found && (res->version.term != b->watch.version.term ||
                                        res->version.index != b->watch.version.index)))) {
        watch_lost(b);
        return;
    }
    if (compute(b, res->value, res->value_len, res->found))
        write_back(b);
    else
        answer(b);
}

static void start_round(cas_block *b)
{
    int left = remaining_ms(b);

    if (left == 0) {
        timed_out(b);
        return;
    }
    b->rounds++;
    b->s->st.cas_rounds++;
    kv_get_args a = {b->key, b->klen, KV_LINEARIZABLE, left};
    b->op = kv_get(b->s->kv, &a, on_read, b);
}

void cas_run(cas_block *b, bool as_array, const cas_watch *watch)
{
    dict_entry *e;

    b->as_array = as_array;
    b->deadline_ms = clock_now_ms() + b->s->cfg.cluster.timeout_ms;
    if (watch != NULL) {
        b->watching = true;
        b->watch = *watch;
    }
    if (b->key == NULL) { /* keyless commands only: nothing to read or write */
        compute(b, NULL, 0, false);
        answer(b);
        return;
    }
    e = dict_find(&b->s->cas_keys, b->key, b->klen);
    if (e != NULL) { /* wait for the block running on this key */
        b->queue = dict_item(e, cas_key, entry);
        TAILQ_INSERT_TAIL(&b->queue->waiters, b, wait_link);
        b->s->st.cas_waits++;
        return;
    }
    b->queue = xcalloc(1, sizeof(*b->queue));
    b->queue->running = b;
    TAILQ_INIT(&b->queue->waiters);
    dict_add(&b->s->cas_keys, &b->queue->entry, b->key, b->klen);
    start_round(b);
}

void cmd_cas(req *r)
{
    const cmd_def *d = r->cmd;
    cas_block *b = cas_block_new(r, d->first_key > 0 ? &r->argv[d->first_key] : NULL, 1);

    cas_block_add(b, d->cell, r->argv, r->argc, false);
    cas_run(b, false, NULL);
}

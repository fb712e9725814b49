/*
 * cas: rounds of read, compute, conditional write for one key. Owns its blocks (the
 * commands and their replies) and each key's record (a cas_key, found by the key in the
 * sidecar's cas_keys): the blocks waiting on the key, the group running, its cell and the
 * operation in flight. A key's turn takes the blocks waiting in a row that can share it as
 * one group: one read, each block's commands in queue order, one conditional write of the
 * final value. Its own clients never make each other lose a round; other writers to the
 * cluster still can, and then the whole group is redone.
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

/*
 * A group holds at most CAS_GROUP_MAX blocks, and stops taking blocks once their replies
 * reach CAS_GROUP_REPLY_BYTES, or once the values its blocks ran on and their arguments reach
 * CAS_GROUP_WORK_BYTES (the block that crosses either stays in, so one block always runs;
 * those after it go back to the head of the queue): a group holds every reply until its
 * write is acknowledged, computes them all again on a redo, and runs in one pass of the
 * loop, each block costing about the size of the value (a collection is decoded and
 * encoded whole: 8 blocks on a 1 MiB list take ~20 ms, not 256 of them ~0.6 s). 256 is
 * far more than a key's queue holds between two rounds at a few hundred clients (50
 * clients make groups of about 25), so it bounds a pathological queue, not the common case.
 */
#define CAS_GROUP_MAX         256
#define CAS_GROUP_REPLY_BYTES (1u << 20)
#define CAS_GROUP_WORK_BYTES  (8u << 20)

/*
 * A block's work: for each of its commands, the value it runs on, its arguments, and
 * CAS_STEP_COST for running a command at all (about a microsecond, what decoding that many
 * bytes of a collection costs). A transaction (EXEC: a block of several commands, as many
 * as query_buffer_limit lets a client queue) runs in one pass of the loop on one value, so
 * it is bounded on its own: past CAS_BLOCK_WORK_BYTES of work, or max_reply of replies, it
 * is discarded whole, the value left as it was read, and EXEC answers why. 32 MiB is about
 * 30 commands on a 1 MiB collection (~0.2 s of the loop), or 100,000 on a small value; one
 * command is bounded by its own arguments, its value and max_reply.
 */
#define CAS_BLOCK_WORK_BYTES (32u << 20)
#define CAS_STEP_COST        256

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
    size_t arg_bytes; /* its commands' arguments, and CAS_STEP_COST for each */
    enum { KEPT, OVER_WORK, OVER_REPLY } discarded; /* by its last run, and why */
    bool watching;
    cas_watch watch;
    int64_t deadline_ms;
    struct cas_key *queue; /* its key's record, waiting there or in its group; NULL: on none */
    int slot;              /* its place in the group; -1 while waiting */
    size_t held;           /* charged to its client as HOLD_CAS (charge_group) */
    TAILQ_ENTRY(cas_block) wait_link;
};

/* One key's blocks: those waiting, in arrival order, and the group running, in the order
 * it took them. In the sidecar's cas_keys while any block is on it. */
typedef struct cas_key {
    dict_entry entry;
    sidecar *s;
    char *key; /* the entry's key */
    size_t klen;
    TAILQ_HEAD(, cas_block) waiters;
    cas_block **group; /* a slot is NULL once its block left (answered, gone, timed out) */
    int ngroup, nlive, gcap;
    bool watching;  /* the group is one block with a WATCH */
    bool answering; /* its blocks are being answered: the last one leaving ends nothing */
    int rounds;
    cell c;
    bool dirty;          /* a block of the group changed the key */
    bool w_ttl_known;    /* the TTL the group writes, as the last block that changed ... */
    int64_t w_expire_at; /* ... the key left it (cell.h's ttl_known, expire_at) */
    bool read_found;
    bool typed_strings; /* string_format typed when the round computed */
    kv_version read_version;
    kv_op *op;
    struct event *pause;  /* the next round, or the next group */
    struct event *expiry; /* the earliest deadline of the group's blocks */
} cas_key;

static void block_free(void *p);
static void block_charge(cas_block *b, size_t n);
static void on_pause_done(evutil_socket_t fd, short what, void *arg);
static void on_expiry(evutil_socket_t fd, short what, void *arg);
static void start_round(cas_key *q);
static void arm_expiry(cas_key *q);
static void schedule(cas_key *q, int64_t delay_us);
static void end_group(cas_key *q);

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
    b->slot = -1;
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
    b->arg_bytes += CAS_STEP_COST;
    for (int i = 0; i < argc; i++)
        b->arg_bytes += argv[i].len;
}

/* ---- the ledger ------------------------------------------------------------------------
 * What a group holds from its compute until its write is acknowledged is charged to the
 * clients of its blocks (HOLD_CAS, client.h), so that a client with many rounds in flight
 * (under ordering = key, up to max_pending writes to distinct keys of a megabyte each) is
 * seen to hold them. The rule, cheap and summing to what the group holds: each block is
 * charged its own replies (the steps' buffers, moved into its reply when it is answered)
 * and an equal share of what the group holds for all of them, the key's value as computed
 * (the cell) and the bytes given to the write (the Put's copy, until it is answered). A
 * block alone on its key, the case of many keys in flight, carries its value whole. The
 * shares are set when the write goes out and kept through a redo's pause (the cell is
 * still held); a block that leaves the group (answered, timed out, its client gone) gives
 * its charge back then, and the shares of those left are not raised. */

/* b's charge becomes n bytes. */
static void block_charge(cas_block *b, size_t n)
{
    client *c = b->r->c;

    if (n == b->held)
        return;
    client_refund(c, HOLD_CAS, b->held);
    client_charge(c, HOLD_CAS, n);
    b->held = n;
}

/* The group's write goes out, put_len bytes given to it (0 for a Delete). */
static void charge_group(cas_key *q, size_t put_len)
{
    size_t shared = (q->c.value != NULL ? q->c.len + 1 : 0) + put_len, share;

    if (q->nlive == 0)
        return;
    share = (shared + (size_t)q->nlive - 1) / (size_t)q->nlive;
    for (int i = 0; i < q->ngroup; i++) {
        cas_block *b = q->group[i];
        size_t replies = 0;

        if (b == NULL)
            continue;
        for (int k = 0; k < b->nsteps; k++)
            replies += evbuffer_get_length(b->steps[k].reply);
        block_charge(b, share + replies);
    }
}

/* ---- the key's record ----------------------------------------------------------------- */

static cas_key *key_new(sidecar *s, const char *key, size_t klen)
{
    cas_key *q = xcalloc(1, sizeof(*q));

    q->s = s;
    q->key = xmemdup0(key, klen);
    q->klen = klen;
    TAILQ_INIT(&q->waiters);
    cell_init(&q->c);
    q->pause = evtimer_new(s->base, on_pause_done, q);
    q->expiry = evtimer_new(s->base, on_expiry, q);
    if (q->pause == NULL || q->expiry == NULL) {
        fprintf(stderr, "cas: cannot make a timer: aborting\n");
        abort();
    }
    dict_add(&s->cas_keys, &q->entry, q->key, q->klen);
    return q;
}

static void key_free(cas_key *q)
{
    dict_remove(&q->s->cas_keys, &q->entry);
    kv_op_detach(q->op);
    event_free(q->pause);
    event_free(q->expiry);
    cell_free(&q->c);
    free(q->group);
    free(q->key);
    free(q);
}

/* b leaves its key's record (its client went away, or it is answered): if it was the
 * group's last block, what the group has in flight is let go and the next group's turn
 * comes; the record goes with the last block. */
static void release_key(cas_block *b)
{
    cas_key *q = b->queue;

    block_charge(b, 0);
    if (q == NULL)
        return;
    b->queue = NULL;
    if (b->slot < 0) {
        TAILQ_REMOVE(&q->waiters, b, wait_link);
        if (q->ngroup == 0 && TAILQ_EMPTY(&q->waiters))
            key_free(q);
        return;
    }
    q->group[b->slot] = NULL;
    b->slot = -1;
    if (--q->nlive == 0 && !q->answering)
        end_group(q);
}

static void block_free(void *p)
{
    cas_block *b = p;

    release_key(b);
    for (int i = 0; i < b->nsteps; i++) {
        if (b->steps[i].owned)
            resp_argv_free(b->steps[i].argv, b->steps[i].argc);
        evbuffer_free(b->steps[i].reply);
    }
    free(b->steps);
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

    if (b->discarded == OVER_WORK) {
        reply_errorf(b->r,
                     "EXECABORT Transaction discarded: its commands would work on more than "
                     "%u bytes of values and arguments in one round (NoriKV runs a "
                     "transaction as one compare-and-swap of its key); nothing of it was "
                     "applied: split it, or use a pipeline without MULTI",
                     CAS_BLOCK_WORK_BYTES);
        finish(b);
        return;
    }
    if (b->discarded == OVER_REPLY) {
        reply_errorf(b->r,
                     "EXECABORT Transaction discarded: its replies would be over max_reply "
                     "(%ld bytes); nothing of it was applied",
                     b->s->cfg.sidecar.max_reply);
        finish(b);
        return;
    }
    if (b->as_array)
        resp_add_array(out, b->nsteps);
    for (int i = 0; i < b->nsteps; i++) {
        if (!b->steps[i].ok && !b->as_array)
            b->r->failed = true;
        evbuffer_add_buffer(out, b->steps[i].reply);
    }
    finish(b);
}

static void answer_timeout(cas_key *q, cas_block *b)
{
    reply_errorf(b->r, "TIMEOUT deadline of %d ms passed after %d round%s of compare-and-swap",
                 b->s->cfg.cluster.timeout_ms, q->rounds, q->rounds == 1 ? "" : "s");
    finish(b);
}

typedef enum outcome { ANSWER, FAIL, WATCH_LOST, TIMED_OUT, EXHAUSTED } outcome;

/* Ends the group: every block still in it is answered alike (with res for FAIL), in the
 * group's order, and the key's next group gets its turn. */
static void end_all(cas_key *q, outcome how, const kv_result *res)
{
    sidecar *s = q->s;

    q->answering = true; /* a block's req_done() may free others: the record stays */
    for (int i = 0; i < q->ngroup; i++) {
        cas_block *b = q->group[i];
        if (b == NULL)
            continue;
        switch (how) {
        case ANSWER:
            answer(b);
            break;
        case FAIL:
            reply_kv_error(b->r, res, NULL);
            finish(b);
            break;
        case WATCH_LOST: /* EXEC answers a null array, as Redis does */
            s->st.cas_watch_aborts++;
            resp_add_null_array(reply(b->r), b->r->c->proto);
            finish(b);
            break;
        case TIMED_OUT:
            answer_timeout(q, b);
            break;
        case EXHAUSTED:
            s->st.cas_exhausted++;
            reply_errorf(b->r,
                         "CONFLICT the key kept changing: %d rounds of compare-and-swap lost to "
                         "other writers (cas_max_rounds)",
                         q->rounds);
            finish(b);
            break;
        }
    }
    q->answering = false;
    end_group(q);
}

/* ---- deadlines ------------------------------------------------------------------------- */

/* Each block of a group keeps its own deadline: one whose deadline passed is answered
 * TIMEOUT at once and leaves the group (what the group has in flight may still write its
 * commands, as a lone block's write may after its TIMEOUT); the rest go on. */
static void expire_blocks(cas_key *q)
{
    int64_t now = clock_now_ms();

    q->answering = true;
    for (int i = 0; i < q->ngroup; i++) {
        cas_block *b = q->group[i];
        if (b != NULL && b->deadline_ms <= now)
            answer_timeout(q, b);
    }
    q->answering = false;
}

static void on_expiry(evutil_socket_t fd, short what, void *arg)
{
    cas_key *q = arg;

    (void)fd;
    (void)what;
    expire_blocks(q);
    if (q->nlive == 0)
        end_group(q);
    else
        arm_expiry(q);
}

static void arm_expiry(cas_key *q)
{
    int64_t first = INT64_MAX, left;
    struct timeval tv;

    for (int i = 0; i < q->ngroup; i++)
        if (q->group[i] != NULL && q->group[i]->deadline_ms < first)
            first = q->group[i]->deadline_ms;
    left = first - clock_now_ms();
    if (left < 0)
        left = 0;
    tv.tv_sec = (time_t)(left / 1000);
    tv.tv_usec = (suseconds_t)(left % 1000 * 1000);
    if (evtimer_add(q->expiry, &tv) != 0) {
        fprintf(stderr, "cas: cannot arm a timer: aborting\n");
        abort();
    }
}

/* What the group's next operation may take: until the last deadline of its blocks. */
static int remaining_ms(const cas_key *q)
{
    int64_t last = 0, left;

    for (int i = 0; i < q->ngroup; i++)
        if (q->group[i] != NULL && q->group[i]->deadline_ms > last)
            last = q->group[i]->deadline_ms;
    left = last - clock_now_ms();
    return left > 0 ? (int)left : 0;
}

/* ---- groups ---------------------------------------------------------------------------- */

/* A block shares a group unless it runs alone: an EXEC whose WATCH is checked against the
 * version read, or a block whose client is gone. */
static bool can_merge(const cas_block *b)
{
    return !b->watching && !b->r->c->closing;
}

static void group_add(cas_key *q, cas_block *b)
{
    if (q->ngroup == q->gcap) {
        q->gcap = q->gcap > 0 ? q->gcap * 2 : 8;
        q->group = xrealloc(q->group, (size_t)q->gcap * sizeof(*q->group));
    }
    TAILQ_REMOVE(&q->waiters, b, wait_link);
    b->slot = q->ngroup;
    q->group[q->ngroup++] = b;
    q->nlive++;
}

/* The key's turn: the first block waiting, and the blocks after it that can merge, in
 * queue order, up to CAS_GROUP_MAX. */
static void start_group(cas_key *q)
{
    cas_block *b = TAILQ_FIRST(&q->waiters);

    q->rounds = 0;
    q->watching = b->watching;
    group_add(q, b);
    if (can_merge(b)) {
        while (q->ngroup < CAS_GROUP_MAX && (b = TAILQ_FIRST(&q->waiters)) != NULL && can_merge(b))
            group_add(q, b);
    }
    start_round(q);
}

/* The group is over (answered, or every block left it): what it had in flight is let go,
 * and the next group starts from the loop, never from here: a block may be going away
 * inside its client's scheduler (a freed request), and the next may belong to that very
 * client. With nobody waiting the record goes. */
static void end_group(cas_key *q)
{
    if (q->ngroup > 1) {
        q->s->st.cas_groups++;
        q->s->st.cas_merged_blocks += (uint64_t)q->ngroup;
    }
    kv_op_detach(q->op);
    q->op = NULL;
    evtimer_del(q->expiry);
    evtimer_del(q->pause);
    /* the value is charged to nobody once the group's blocks are gone: the next group
     * reads its own */
    cell_free(&q->c);
    cell_init(&q->c);
    q->ngroup = q->nlive = 0;
    if (TAILQ_EMPTY(&q->waiters)) {
        key_free(q);
        return;
    }
    schedule(q, -1);
}

/* Blocks past the reply budget go back to the head of the queue, in their order. */
static void cut_group(cas_key *q, int keep)
{
    for (int i = q->ngroup - 1; i >= keep; i--) {
        cas_block *b = q->group[i];
        if (b == NULL)
            continue;
        block_charge(b, 0); /* charged by an earlier round of the group, if any */
        b->slot = -1;
        TAILQ_INSERT_HEAD(&q->waiters, b, wait_link);
        q->nlive--;
    }
    q->ngroup = keep;
}

/* ---- rounds --------------------------------------------------------------------------- */

static void on_pause_done(evutil_socket_t fd, short what, void *arg)
{
    cas_key *q = arg;

    (void)fd;
    (void)what;
    if (q->ngroup == 0)
        start_group(q);
    else
        start_round(q);
}

/* The next round after delay_us, or with -1 the next group at once, from the loop. */
static void schedule(cas_key *q, int64_t delay_us)
{
    int64_t d = delay_us > 0 ? delay_us : 0;
    struct timeval tv = {(time_t)(d / 1000000), (suseconds_t)(d % 1000000)};

    if (evtimer_add(q->pause, &tv) != 0) {
        fprintf(stderr, "cas: cannot arm a timer: aborting\n");
        abort();
    }
}

/*
 * A lost round waits a random moment before the next: up to 1 ms after the first loss,
 * doubling to 32 ms. Without it, two sidecars hammering one key fall into step, the same
 * one reading just ahead of the other's write every time, and the other runs out of rounds.
 */
static void pause_then_retry(cas_key *q)
{
    int64_t cap_us = 1000LL << (q->rounds - 1 < 5 ? q->rounds - 1 : 5);
    uint64_t x = (uint64_t)clock_now_ns() ^ ((uint64_t)(uintptr_t)q << 16);

    x ^= x >> 33; /* the clock's low bits and the record's address, mixed */
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    schedule(q, (int64_t)(x % (uint64_t)cap_us));
}

static void on_written(const kv_result *res, void *arg)
{
    cas_key *q = arg;

    q->op = NULL;
    if (res->err == KV_OK) {
        end_all(q, ANSWER, NULL);
        return;
    }
    if (res->err != KV_ERR_VERSION_MISMATCH && res->err != KV_ERR_KEY_MISSING) {
        end_all(q, FAIL, res);
        return;
    }
    /* someone wrote the key between our read and our write */
    q->s->st.cas_conflicts++;
    if (q->watching) {
        end_all(q, WATCH_LOST, NULL);
        return;
    }
    if (q->rounds >= q->s->cfg.sidecar.cas_max_rounds) {
        end_all(q, EXHAUSTED, NULL);
        return;
    }
    pause_then_retry(q);
}

cell_ctx cas_ctx(const req *r)
{
    /* no seed: the commands run outside a block (SET's blind write, MSET) pick nothing at
     * random; run_block draws one per block */
    cell_ctx x = {r->c->proto, clock_unix_ms(),
                  strcmp(r->c->s->cfg.sidecar.string_format, "typed") == 0, 0,
                  (size_t)r->c->s->cfg.sidecar.max_reply};

    return x;
}

/* A transaction past its budget (CAS_BLOCK_WORK_BYTES, or max_reply of replies): c back
 * to saved (taken), every reply let go, and why, for EXEC's answer. */
static void discard(cas_block *b, cell *c, cell *saved, int why)
{
    cell_free(c);
    *c = *saved;
    cell_init(saved);
    for (int i = 0; i < b->nsteps; i++)
        evbuffer_drain(b->steps[i].reply, evbuffer_get_length(b->steps[i].reply));
    b->discarded = why;
}

/* A block's commands, in order, on c. */
static void run_block(cas_block *b, cell *c, int64_t now_ms, bool typed_strings)
{
    size_t max_reply = (size_t)b->s->cfg.sidecar.max_reply, work = b->arg_bytes, held = 0;
    cell_ctx x = {b->r->c->proto, now_ms, typed_strings, dict_seed(), max_reply};
    bool bounded = b->nsteps > 1; /* a transaction: discarded whole past its budget */
    cell saved;

    b->discarded = KEPT;
    cell_init(&saved);
    if (bounded) {
        saved = *c;
        saved.value = c->exists ? xmemdup0(c->value, c->len) : NULL;
    }
    for (int i = 0; i < b->nsteps; i++) {
        cas_step *st = &b->steps[i];
        evbuffer_drain(st->reply, evbuffer_get_length(st->reply));
        work += c->len + TVAL_HEADER_LEN;
        if (bounded && work > CAS_BLOCK_WORK_BYTES) {
            discard(b, c, &saved, OVER_WORK);
            return;
        }
        st->ok = st->fn(c, &x, st->argv, st->argc, st->reply);
        held += evbuffer_get_length(st->reply);
        if (bounded && held > max_reply) {
            b->s->st.replies_over_max++;
            discard(b, c, &saved, OVER_REPLY);
            return;
        }
    }
    cell_free(&saved);
}

/*
 * Between two blocks of a group, the cell becomes what the next block would have read had
 * the first written alone: a value stored in the typed format (tval.h) tells its expiry
 * (none when the block left it unknown, as cell_stored writes it); a plain one tells none,
 * as NoriKV never tells a TTL (cell.h: only the block's own commands make it known). The
 * group still writes the TTL the last block that changed the key left.
 */
static void settle(cas_key *q)
{
    cell *c = &q->c;

    if (!c->dirty)
        return;
    q->dirty = true;
    q->w_ttl_known = c->ttl_known;
    q->w_expire_at = c->expire_at;
    if (c->exists && cell_is_typed(c, q->typed_strings)) {
        c->expire_at = c->ttl_known ? c->expire_at : 0;
        c->ttl_known = true;
        c->read_typed = true;
    } else {
        c->ttl_known = false;
        c->expire_at = 0;
        c->read_typed = false;
    }
    c->dirty = false;
}

/* Runs the group's blocks on the value read, from scratch: a redone round recomputes.
 * Whether the key is to be written. */
static bool compute(cas_key *q, const void *value, size_t len, bool found)
{
    int64_t now_ms = clock_unix_ms();
    size_t held = 0, work = 0;

    q->typed_strings = strcmp(q->s->cfg.sidecar.string_format, "typed") == 0;
    cell_free(&q->c);
    cell_init(&q->c);
    if (found)
        cell_set_read(&q->c, value, len, now_ms);
    q->dirty = false;
    q->w_ttl_known = false;
    q->w_expire_at = 0;
    for (int i = 0; i < q->ngroup; i++) {
        cas_block *b = q->group[i];
        if (b == NULL)
            continue;
        work += q->c.len + TVAL_HEADER_LEN + b->arg_bytes; /* the value and arguments */
        run_block(b, &q->c, now_ms, q->typed_strings);
        settle(q);
        for (int k = 0; k < b->nsteps; k++)
            held += evbuffer_get_length(b->steps[k].reply);
        if (held >= CAS_GROUP_REPLY_BYTES || work >= CAS_GROUP_WORK_BYTES)
            cut_group(q, i + 1);
    }
    q->c.ttl_known = q->w_ttl_known;
    q->c.expire_at = q->w_expire_at;
    q->c.dirty = q->dirty;
    return q->c.dirty;
}

static void write_back(cas_key *q)
{
    kv_client *kv = q->s->kv;
    const kv_version *if_match = q->read_found ? &q->read_version : NULL;
    bool expired = false;
    uint64_t ttl = q->c.exists ? cell_put_ttl(&q->c, clock_unix_ms(), &expired) : 0;
    int left = remaining_ms(q);

    if (left == 0) {
        end_all(q, TIMED_OUT, NULL);
        return;
    }
    if (!q->c.exists || expired) {
        if (!q->read_found) { /* missing before, missing after: nothing to write */
            end_all(q, ANSWER, NULL);
            return;
        }
        /* The condition goes along, though today's server ignores it on Delete. */
        kv_del_args d = {q->key, q->klen, NULL, if_match, left};
        charge_group(q, 0);
        q->op = kv_del(kv, &d, on_written, q);
        return;
    }
    /* A key that was missing has no version to match: the create is unconditional. Each
     * round's write is an operation of its own, with an idempotency key of its own (NULL:
     * the cluster client makes one, and its retries of that write carry it). */
    char *owned;
    size_t len;
    const char *value = cell_stored(&q->c, q->typed_strings, &len, &owned);
    kv_put_args a = {q->key, q->klen, value, len, ttl, NULL, if_match, left};
    charge_group(q, len);
    q->op = kv_put(kv, &a, on_written, q);
    free(owned); /* kv_put copies the value */
}

static void on_read(const kv_result *res, void *arg)
{
    cas_key *q = arg;
    const cas_watch *w;

    q->op = NULL;
    if (res->err != KV_OK) {
        end_all(q, FAIL, res);
        return;
    }
    expire_blocks(q); /* before the write, not only when the timer comes round */
    if (q->nlive == 0) {
        end_group(q);
        return;
    }
    q->read_found = res->found;
    if (res->found)
        q->read_version = res->version;
    w = q->watching ? &q->group[0]->watch : NULL;
    if (w != NULL &&
        (res->found != w->existed || (res->found && (res->version.term != w->version.term ||
                                                     res->version.index != w->version.index)))) {
        end_all(q, WATCH_LOST, NULL);
        return;
    }
    if (compute(q, res->value, res->value_len, res->found))
        write_back(q);
    else
        end_all(q, ANSWER, NULL);
}

static void start_round(cas_key *q)
{
    int left;

    expire_blocks(q);
    if (q->nlive == 0) {
        end_group(q);
        return;
    }
    arm_expiry(q);
    left = remaining_ms(q);
    q->rounds++;
    q->s->st.cas_rounds++;
    kv_get_args a = {q->key, q->klen, KV_LINEARIZABLE, left};
    q->op = kv_get(q->s->kv, &a, on_read, q);
}

/* A block of keyless commands only: nothing to read or write. */
static void run_keyless(cas_block *b)
{
    cell c;

    cell_init(&c);
    run_block(b, &c, clock_unix_ms(), false);
    cell_free(&c);
    answer(b);
}

void cas_run(cas_block *b, bool as_array, const cas_watch *watch)
{
    dict_entry *e;
    cas_key *q;

    b->as_array = as_array;
    b->deadline_ms = clock_now_ms() + b->s->cfg.cluster.timeout_ms;
    if (watch != NULL) {
        b->watching = true;
        b->watch = *watch;
    }
    if (b->key == NULL) {
        run_keyless(b);
        return;
    }
    e = dict_find(&b->s->cas_keys, b->key, b->klen);
    q = e != NULL ? dict_item(e, cas_key, entry) : key_new(b->s, b->key, b->klen);
    b->queue = q;
    TAILQ_INSERT_TAIL(&q->waiters, b, wait_link);
    if (e != NULL) { /* its turn comes when the group running on the key is done */
        b->s->st.cas_waits++;
        return;
    }
    start_group(q);
}

void cmd_cas(req *r)
{
    const cmd_def *d = r->cmd;
    cas_block *b = cas_block_new(r, d->first_key > 0 ? &r->argv[d->first_key] : NULL, 1);

    cas_block_add(b, d->cell, r->argv, r->argc, false);
    cas_run(b, false, NULL);
}

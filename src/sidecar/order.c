/*
 * order: whether a connection's queued request may start, under [sidecar] ordering. By
 * connection: reads (and the sidecar's own answers) overlap reads; a write or a state
 * change waits for all before it, and all after it wait for it. By key: a read waits only
 * for earlier writes to one of its keys, a write for earlier reads and writes of them;
 * state changes, and writes without keys or with too many, still run alone.
 *
 * A queued request waits for the unfinished requests before it. Those are running or still
 * queued: the running ones are counted in the connection's order_running as they start and
 * finish (a running request after a queued one never conflicts with it: it started past
 * it), and a scan notes the queued ones it leaves waiting. So a completion costs the queued
 * requests, not the whole queue: a pipeline of a thousand writes to distinct keys does not
 * walk a thousand running requests for each reply.
 */
#include "order.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "dict.h"
#include "xalloc.h"

order_mode order_mode_of(const conf *cf)
{
    return strcmp(cf->sidecar.ordering, "key") == 0 ? ORDER_KEY : ORDER_CONNECTION;
}

/* What a request is to the rule. */
typedef enum kind {
    KIND_FREE,      /* never waits and is never waited for, but behind one that runs alone */
    KIND_READ,      /* reads its keys */
    KIND_WIDE_READ, /* reads without keys (a vector namespace by name) or with too many */
    KIND_WRITE,     /* writes its keys */
    KIND_ALONE      /* waits for all before it; all after it wait for it */
} kind;

/* The request's keys: its argument indices first, first + step, ... up to last; 0 when it
 * has none, and ORDER_MAX_KEYS + 1 when it has more than ORDER_MAX_KEYS. */
static int key_span(const req *r, int *first, int *last, int *step)
{
    const struct cmd_def *d = r->cmd;
    int n;

    *first = 1, *last = 0, *step = 1; /* no key: loops over them do nothing */
    if (d == NULL || d->first_key <= 0 || d->key_step <= 0 || r->argc <= d->first_key)
        return 0;
    *first = d->first_key;
    *step = d->key_step;
    *last = d->last_key < 0 ? r->argc + d->last_key : d->last_key;
    if (*last >= r->argc)
        *last = r->argc - 1;
    if (*last < *first)
        return 0;
    n = (*last - *first) / *step + 1;
    return n > ORDER_MAX_KEYS ? ORDER_MAX_KEYS + 1 : n;
}

static kind kind_of(const req *r, order_mode mode)
{
    unsigned flags = r->cmd != NULL ? r->cmd->flags : CMD_LOCAL;
    int first, last, step, keys;

    if (mode == ORDER_CONNECTION)
        return (flags & (CMD_WRITE | CMD_STATE)) ? KIND_ALONE : KIND_FREE;
    if (flags & CMD_STATE)
        return KIND_ALONE; /* AUTH, SELECT, MULTI, EXEC, WATCH, SUBSCRIBE, CLIENT KILL, ... */
    if (flags & CMD_LOCAL)
        return KIND_FREE; /* answered from the sidecar's own state, which only those change */
    keys = key_span(r, &first, &last, &step);
    if (flags & CMD_WRITE)
        return keys >= 1 && keys <= ORDER_MAX_KEYS ? KIND_WRITE : KIND_ALONE;
    if (flags & CMD_READ)
        return keys >= 1 && keys <= ORDER_MAX_KEYS ? KIND_READ : KIND_WIDE_READ;
    return KIND_ALONE; /* nothing says what it touches */
}

/* ---- the key table ------------------------------------------------------------------ */

/* Seeded once per process from the kernel's random source: keys a client chooses cannot
 * be made to collide, which would make the linear probing below O(n) a key. */
static uint64_t key_hash(const resp_arg *k)
{
    static uint64_t seed;
    static bool seeded;
    uint64_t h;

    if (!seeded) {
        seed = dict_seed();
        seeded = true;
    }
    h = dict_hash(seed, k->ptr, k->len);
    return h != 0 ? h : 1; /* 0 marks an empty order_count */
}

static order_slot *slot_for(order_slot *slots, size_t cap, const resp_arg *k, uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);

    while (slots[i].key != NULL) {
        if (slots[i].hash == h && slots[i].key->len == k->len &&
            memcmp(slots[i].key->ptr, k->ptr, k->len) == 0)
            break;
        i = (i + 1) & (cap - 1);
    }
    return &slots[i];
}

static void grow(order_scan *s)
{
    size_t cap = s->cap * 2;
    order_slot *slots = xcalloc(cap, sizeof(*slots));

    for (size_t i = 0; i < s->cap; i++) {
        if (s->slots[i].key != NULL)
            *slot_for(slots, cap, s->slots[i].key, s->slots[i].hash) = s->slots[i];
    }
    if (s->slots != s->inline_slots)
        free(s->slots);
    s->slots = slots;
    s->cap = cap;
}

static void add_key(order_scan *s, const resp_arg *k, bool write)
{
    uint64_t h = key_hash(k);
    order_slot *slot;

    if (s->used == 0 && s->slots == s->inline_slots)
        memset(s->inline_slots, 0, sizeof(s->inline_slots)); /* cleared when first needed */
    if (2 * (s->used + 1) > s->cap)
        grow(s);
    slot = slot_for(s->slots, s->cap, k, h);
    if (slot->key == NULL) {
        slot->key = k;
        slot->hash = h;
        s->used++;
    }
    slot->write |= write;
}

/* Whether an unfinished request seen touches k: any (writes_only false) or a writer. */
static bool key_taken(const order_scan *s, const resp_arg *k, bool writes_only)
{
    const order_slot *slot;

    if (s->used == 0)
        return false;
    slot = slot_for(s->slots, s->cap, k, key_hash(k));
    return slot->key != NULL && (slot->write || !writes_only);
}

/* ---- the running requests ----------------------------------------------------------- */

#define RUNNING_INITIAL_SLOTS 64

static order_count *count_for(const order_running *run, uint64_t h)
{
    size_t i = (size_t)h & (run->cap - 1);

    while (run->slots[i].hash != 0 && run->slots[i].hash != h)
        i = (i + 1) & (run->cap - 1);
    return &run->slots[i];
}

static void running_grow(order_running *run)
{
    order_count *old = run->slots;
    size_t old_cap = run->cap;

    run->cap = old_cap ? old_cap * 2 : RUNNING_INITIAL_SLOTS;
    run->slots = xcalloc(run->cap, sizeof(*run->slots));
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].hash != 0)
            *count_for(run, old[i].hash) = old[i];
    }
    free(old);
}

static void count_key(order_running *run, const resp_arg *k, bool write)
{
    order_count *slot;
    uint64_t h = key_hash(k);

    if (2 * (run->used + 1) > run->cap)
        running_grow(run);
    slot = count_for(run, h);
    if (slot->hash == 0) {
        slot->hash = h;
        run->used++;
    }
    if (write)
        slot->writes++;
    else
        slot->reads++;
}

/* Linear probing's deletion: the entries after the hole that it would cut off from their
 * home slot move back into it. */
static void uncount_key(order_running *run, const resp_arg *k, bool write)
{
    order_count *slot = count_for(run, key_hash(k));
    size_t hole, i, home, mask = run->cap - 1;

    assert(slot->hash != 0 && (write ? slot->writes : slot->reads) > 0);
    if (write)
        slot->writes--;
    else
        slot->reads--;
    if (slot->reads > 0 || slot->writes > 0)
        return;
    hole = (size_t)(slot - run->slots);
    run->slots[hole].hash = 0;
    run->used--;
    for (i = (hole + 1) & mask; run->slots[i].hash != 0; i = (i + 1) & mask) {
        home = (size_t)run->slots[i].hash & mask;
        /* stays unless its home lies cyclically in (hole, i] */
        if (hole <= i ? (home > hole && home <= i) : (home > hole || home <= i))
            continue;
        run->slots[hole] = run->slots[i];
        memset(&run->slots[i], 0, sizeof(run->slots[i]));
        hole = i;
    }
}

static void running_change(order_running *run, const req *r, int by)
{
    kind k = kind_of(r, ORDER_KEY);
    int first, last, step;

    run->all += (uint32_t)by;
    if (kind_of(r, ORDER_CONNECTION) == KIND_ALONE)
        run->alone[ORDER_CONNECTION] += (uint32_t)by;
    switch (k) {
    case KIND_FREE:
        return;
    case KIND_ALONE:
        run->alone[ORDER_KEY] += (uint32_t)by;
        return;
    case KIND_WIDE_READ:
        run->wide_reads += (uint32_t)by;
        return;
    case KIND_READ:
    case KIND_WRITE:
        break;
    }
    if (k == KIND_WRITE)
        run->writes += (uint32_t)by;
    if (!r->by_key) {
        /* started by connection: no key is looked at on that path */
        if (k == KIND_WRITE)
            run->unkeyed_writes += (uint32_t)by;
        else
            run->unkeyed_reads += (uint32_t)by;
        return;
    }
    key_span(r, &first, &last, &step);
    for (int i = first; i <= last; i += step) {
        if (by > 0)
            count_key(run, &r->argv[i], k == KIND_WRITE);
        else
            uncount_key(run, &r->argv[i], k == KIND_WRITE);
    }
}

void order_running_add(order_running *run, const req *r)
{
    running_change(run, r, 1);
}

void order_running_remove(order_running *run, const req *r)
{
    assert(run->all > 0);
    running_change(run, r, -1);
}

void order_running_free(order_running *run)
{
    free(run->slots);
    memset(run, 0, sizeof(*run));
}

/* Whether a running request touches the key: any (writes_only false) or a writer. */
static bool key_running(const order_running *run, const resp_arg *k, bool writes_only)
{
    const order_count *slot;

    if (run->used == 0)
        return false;
    slot = count_for(run, key_hash(k));
    return slot->hash != 0 && (slot->writes > 0 || (!writes_only && slot->reads > 0));
}

/* ---- the scan ----------------------------------------------------------------------- */

void order_scan_begin(order_scan *s, order_mode mode, const order_running *run)
{
    s->mode = mode;
    s->run = run;
    s->unfinished = s->barrier = s->write = s->wide_read = false;
    s->slots = s->inline_slots;
    s->cap = ORDER_INLINE_SLOTS;
    s->used = 0;
}

void order_scan_end(order_scan *s)
{
    if (s->slots != s->inline_slots)
        free(s->slots);
    s->slots = NULL;
}

bool order_may_start(const order_scan *s, const req *r)
{
    const order_running *run = s->run;
    kind k = kind_of(r, s->mode);
    int first, last, step;

    if (order_barrier(s))
        return false;
    switch (k) {
    case KIND_FREE:
        return true;
    case KIND_ALONE:
        return !s->unfinished && run->all == 0;
    case KIND_WIDE_READ:
        return !s->write && run->writes == 0;
    case KIND_READ:
        if (run->unkeyed_writes > 0)
            return false;
        break;
    case KIND_WRITE:
        if (s->wide_read || run->wide_reads > 0 || run->unkeyed_reads > 0 ||
            run->unkeyed_writes > 0)
            return false;
        break;
    }
    key_span(r, &first, &last, &step);
    for (int i = first; i <= last; i += step) {
        if (key_taken(s, &r->argv[i], k == KIND_READ) ||
            key_running(run, &r->argv[i], k == KIND_READ))
            return false;
    }
    return true;
}

void order_note(order_scan *s, const req *r)
{
    kind k = kind_of(r, s->mode);
    int first, last, step;

    s->unfinished = true;
    switch (k) {
    case KIND_FREE:
        return;
    case KIND_ALONE:
        s->barrier = true;
        return;
    case KIND_WIDE_READ:
        s->wide_read = true;
        return;
    case KIND_READ:
    case KIND_WRITE:
        break;
    }
    if (k == KIND_WRITE)
        s->write = true;
    key_span(r, &first, &last, &step);
    for (int i = first; i <= last; i += step)
        add_key(s, &r->argv[i], k == KIND_WRITE);
}

static bool share_a_key(const req *a, const req *b)
{
    int af, al, as, bf, bl, bs;

    key_span(a, &af, &al, &as);
    key_span(b, &bf, &bl, &bs);
    for (int i = af; i <= al; i += as) {
        for (int j = bf; j <= bl; j += bs) {
            if (a->argv[i].len == b->argv[j].len &&
                memcmp(a->argv[i].ptr, b->argv[j].ptr, a->argv[i].len) == 0)
                return true;
        }
    }
    return false;
}

/* The rule between two requests, without a table: what a scan that noted only `before`
 * would answer for `after`. */
bool order_conflict(const req *before, const req *after, order_mode mode)
{
    kind b = kind_of(before, mode), a = kind_of(after, mode);

    if (b == KIND_ALONE || a == KIND_ALONE)
        return true;
    if (b == KIND_FREE || a == KIND_FREE)
        return false;
    if (a == KIND_WIDE_READ)
        return b == KIND_WRITE;
    if (b == KIND_WIDE_READ)
        return a == KIND_WRITE;
    if (a == KIND_READ && b == KIND_READ)
        return false;
    return share_a_key(before, after);
}

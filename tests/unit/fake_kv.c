/*
 * fake_kv: the cluster client of kv.h, faked for the sidecar's unit tests (see fake_kv.h).
 * Only what the sidecar calls is here; the introspection calls answer with nothing.
 */
#include "fake_kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct kv_client {
    int unused;
};

typedef struct entry {
    char *key, *value;
    size_t key_len, value_len;
} entry;

static struct {
    struct kv_client client;
    struct event_base *base;
    fake_op **ops;
    int nops, cap;
    int outstanding, max_outstanding;
    int stale_detaches, callbacks;
    fake_mode mode[FAKE_KINDS];
    entry *store;
    size_t nstore;
} fk;

static void die(const char *what)
{
    fprintf(stderr, "fake_kv: %s\n", what);
    abort();
}

static void *must(void *p)
{
    if (p == NULL)
        die("out of memory");
    return p;
}

static char *dup_bytes(const void *p, size_t len)
{
    char *d = must(malloc(len + 1));

    if (len > 0)
        memcpy(d, p, len);
    d[len] = '\0';
    return d;
}

/* ---- the store ---------------------------------------------------------------------- */

static entry *store_find(const char *key, size_t len)
{
    for (size_t i = 0; i < fk.nstore; i++)
        if (fk.store[i].key_len == len && memcmp(fk.store[i].key, key, len) == 0)
            return &fk.store[i];
    return NULL;
}

static void store_put(const char *key, size_t key_len, const char *value, size_t value_len)
{
    entry *e = store_find(key, key_len);

    if (e == NULL) {
        fk.store = must(realloc(fk.store, (fk.nstore + 1) * sizeof(*fk.store)));
        e = &fk.store[fk.nstore++];
        e->key = dup_bytes(key, key_len);
        e->key_len = key_len;
    } else {
        free(e->value);
    }
    e->value = dup_bytes(value, value_len);
    e->value_len = value_len;
}

static void store_del(const char *key, size_t key_len)
{
    entry *e = store_find(key, key_len);

    if (e == NULL)
        return;
    free(e->key);
    free(e->value);
    *e = fk.store[--fk.nstore];
}

void fake_kv_store(const char *key, const char *value)
{
    store_put(key, strlen(key), value, strlen(value));
}

/* ---- operations --------------------------------------------------------------------- */

void fake_kv_reset(struct event_base *base)
{
    fake_kv_free();
    fk.base = base;
}

void fake_kv_free(void)
{
    for (int i = 0; i < fk.nops; i++) {
        fake_op *op = fk.ops[i];
        if (op->fire != NULL)
            event_free(op->fire);
        free(op->key);
        free(op->value);
        free(op->answer);
        free(op);
    }
    free(fk.ops);
    for (size_t i = 0; i < fk.nstore; i++) {
        free(fk.store[i].key);
        free(fk.store[i].value);
    }
    free(fk.store);
    memset(&fk, 0, sizeof(fk));
}

kv_client *fake_kv_client(void)
{
    return &fk.client;
}

void fake_kv_set_mode(fake_kind kind, fake_mode mode)
{
    fk.mode[kind] = mode;
}

void fake_kv_set_mode_all(fake_mode mode)
{
    for (int k = 0; k < FAKE_KINDS; k++)
        fk.mode[k] = mode;
}

int fake_kv_count(void)
{
    return fk.nops;
}

fake_op *fake_kv_op(int n)
{
    return n >= 0 && n < fk.nops ? fk.ops[n] : NULL;
}

int fake_kv_outstanding(void)
{
    return fk.outstanding;
}

int fake_kv_max_outstanding(void)
{
    return fk.max_outstanding;
}

int fake_kv_find(fake_kind kind, const char *key)
{
    for (int i = 0; i < fk.nops; i++)
        if (fk.ops[i]->kind == kind && strcmp(fk.ops[i]->key, key) == 0)
            return i;
    return -1;
}

int fake_kv_stale_detaches(void)
{
    return fk.stale_detaches;
}

int fake_kv_callbacks(void)
{
    return fk.callbacks;
}

static void finish(fake_op *op, const kv_result *res)
{
    if (op->done)
        die("an operation completed twice");
    op->done = true;
    fk.outstanding--;
    if (op->detached)
        return;
    op->called = true;
    fk.callbacks++;
    op->in_callback = true;
    op->cb(res, op->arg);
    op->in_callback = false;
}

void fake_kv_complete(int n, const kv_result *res)
{
    fake_op *op = fake_kv_op(n);

    if (op == NULL)
        die("no such operation");
    finish(op, res);
}

void fake_kv_found(int n, const char *value)
{
    kv_result res = {.message = "", .found = true};

    res.value = (const uint8_t *)value;
    res.value_len = strlen(value);
    res.has_version = true;
    res.version = (kv_version){1, (uint64_t)n + 1};
    fake_kv_complete(n, &res);
}

void fake_kv_missing(int n)
{
    kv_result res = {.message = ""};

    fake_kv_complete(n, &res);
}

void fake_kv_ok(int n)
{
    kv_result res = {.message = "", .has_version = true, .tombstoned = true};

    res.version = (kv_version){1, (uint64_t)n + 1};
    fake_kv_complete(n, &res);
}

void fake_kv_fail(int n, kv_err err, const char *message)
{
    kv_result res = {.err = err, .message = message, .status = 14, .attempts = 1};

    fake_kv_complete(n, &res);
}

/* The automatic modes: the store answers, as a one-node cluster would. */
static void answer(fake_op *op)
{
    kv_result res = {.message = "", .attempts = 1, .has_version = true};
    entry *e;

    res.version = (kv_version){1, (uint64_t)op->n + 1};
    switch (op->kind) {
    case FAKE_GET:
        if ((e = store_find(op->key, op->key_len)) != NULL) {
            op->answer = dup_bytes(e->value, e->value_len);
            res.found = true;
            res.value = (const uint8_t *)op->answer;
            res.value_len = e->value_len;
        } else {
            res.has_version = false;
        }
        break;
    case FAKE_PUT:
        store_put(op->key, op->key_len, op->value, op->value_len);
        break;
    case FAKE_DEL:
        store_del(op->key, op->key_len);
        res.tombstoned = true;
        break;
    case FAKE_KINDS:
        break;
    }
    finish(op, &res);
}

static void on_fire(evutil_socket_t fd, short what, void *arg)
{
    fake_op *op = arg;

    (void)fd;
    (void)what;
    answer(op);
}

/* What only some kinds of operation have. */
typedef struct extra {
    const void *value; /* Put */
    size_t value_len;
    uint64_t ttl_ms;
    kv_consistency consistency; /* Get */
} extra;

static kv_op *start(fake_kind kind, const void *key, size_t key_len, const extra *ex,
                    kv_callback *cb, void *arg)
{
    fake_op *op = must(calloc(1, sizeof(*op)));

    if (fk.nops == fk.cap) {
        fk.cap = fk.cap ? fk.cap * 2 : 16;
        fk.ops = must(realloc(fk.ops, (size_t)fk.cap * sizeof(*fk.ops)));
    }
    op->n = fk.nops;
    fk.ops[fk.nops++] = op;
    op->kind = kind;
    op->key = dup_bytes(key, key_len);
    op->key_len = key_len;
    if (ex->value != NULL) {
        op->value = dup_bytes(ex->value, ex->value_len);
        op->value_len = ex->value_len;
    }
    op->ttl_ms = ex->ttl_ms;
    op->consistency = ex->consistency;
    op->cb = cb;
    op->arg = arg;
    op->mode = fk.mode[kind];
    if (++fk.outstanding > fk.max_outstanding)
        fk.max_outstanding = fk.outstanding;
    switch (op->mode) {
    case FAKE_SYNC:
        answer(op);
        return NULL; /* as kv.h says of an operation that ended at once */
    case FAKE_LOOP:
        if (fk.base == NULL)
            die("FAKE_LOOP without a loop");
        op->fire = must(event_new(fk.base, -1, 0, on_fire, op));
        event_active(op->fire, EV_TIMEOUT, 0);
        break;
    case FAKE_MANUAL:
        break;
    }
    return op;
}

kv_op *kv_get(kv_client *c, const kv_get_args *a, kv_callback *cb, void *arg)
{
    extra x = {.consistency = a->consistency};

    (void)c;
    return start(FAKE_GET, a->key, a->key_len, &x, cb, arg);
}

kv_op *kv_put(kv_client *c, const kv_put_args *a, kv_callback *cb, void *arg)
{
    extra x = {a->value != NULL ? a->value : "", a->value_len, a->ttl_ms, KV_LEASE};

    (void)c;
    return start(FAKE_PUT, a->key, a->key_len, &x, cb, arg);
}

kv_op *kv_del(kv_client *c, const kv_del_args *a, kv_callback *cb, void *arg)
{
    extra x = {NULL, 0, 0, KV_LEASE};

    (void)c;
    return start(FAKE_DEL, a->key, a->key_len, &x, cb, arg);
}

void kv_op_detach(kv_op *op)
{
    if (op == NULL)
        return;
    if (op->done) {
        fk.stale_detaches++;
        return;
    }
    op->detached = true;
}

/* ---- names and introspection -------------------------------------------------------- */

const char *kv_err_name(kv_err e)
{
    static const char *const names[KV_ERR_COUNT] = {
        "OK",          "INVALID", "VERSION_MISMATCH", "KEY_MISSING", "NOT_FOUND", "EXISTS",
        "UNAVAILABLE", "TIMEOUT", "NOT_SUPPORTED",    "TOO_LARGE",   "INTERNAL",  "CANCELLED",
    };

    return (unsigned)e < KV_ERR_COUNT ? names[e] : "UNKNOWN";
}

const char *kv_status_name(int status)
{
    static const char *const names[KV_STATUS_COUNT] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    };

    return status >= 0 && status < KV_STATUS_COUNT ? names[status] : "UNKNOWN";
}

static const char *const levels[] = {"lease", "linearizable", "stale_ok"};

bool kv_consistency_parse(const char *s, kv_consistency *out)
{
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(s, levels[i]) == 0) {
            *out = (kv_consistency)i;
            return true;
        }
    }
    return false;
}

const char *kv_consistency_name(kv_consistency c)
{
    return (unsigned)c < 3 ? levels[c] : "lease";
}

uint32_t kv_shard(const kv_client *c, const void *key, size_t len)
{
    (void)c;
    (void)key;
    (void)len;
    return 0;
}

const char *kv_shard_leader(const kv_client *c, uint32_t shard)
{
    (void)c;
    (void)shard;
    return NULL;
}

void kv_get_stats(const kv_client *c, kv_stats *st)
{
    (void)c;
    memset(st, 0, sizeof(*st));
}

bool kv_ready(const kv_client *c, char *why, size_t len)
{
    (void)c;
    snprintf(why, len, "ready");
    return true;
}

int kv_node_count(const kv_client *c)
{
    (void)c;
    return 0;
}

void kv_node_get(const kv_client *c, int i, kv_node_info *info)
{
    (void)c;
    (void)i;
    memset(info, 0, sizeof(*info));
    info->addr = "";
    info->id = "";
}

const kv_view_node *kv_view_nodes(const kv_client *c, size_t *n)
{
    (void)c;
    *n = 0;
    return NULL;
}

/* ---- topology events and the vector operations -------------------------------------- */

#define FAKE_LISTENERS 8

static struct {
    kv_topology_listener *fn;
    void *arg;
} listeners[FAKE_LISTENERS];

int kv_subscribe_topology(kv_client *c, kv_topology_listener *fn, void *arg)
{
    (void)c;
    for (int i = 0; i < FAKE_LISTENERS; i++) {
        if (listeners[i].fn == NULL) {
            listeners[i].fn = fn;
            listeners[i].arg = arg;
            return i;
        }
    }
    return -1;
}

void kv_unsubscribe_topology(kv_client *c, int id)
{
    (void)c;
    if (id >= 0 && id < FAKE_LISTENERS)
        listeners[id].fn = NULL;
}

int fake_kv_topology_listeners(void)
{
    int n = 0;

    for (int i = 0; i < FAKE_LISTENERS; i++)
        n += listeners[i].fn != NULL;
    return n;
}

void fake_kv_topology_event(const kv_topology_event *ev)
{
    for (int i = 0; i < FAKE_LISTENERS; i++)
        if (listeners[i].fn != NULL)
            listeners[i].fn(ev, listeners[i].arg);
}

#define NOT_FAKED(op, args)                                                                        \
    kv_op *op(kv_client *c, const args *a, kv_callback *cb, void *arg)                             \
    {                                                                                              \
        (void)c;                                                                                   \
        (void)a;                                                                                   \
        (void)cb;                                                                                  \
        (void)arg;                                                                                 \
        die(#op " is not faked");                                                                  \
        return NULL;                                                                               \
    }
NOT_FAKED(kv_vcreate, kv_vcreate_args)
NOT_FAKED(kv_vdrop, kv_vdrop_args)
NOT_FAKED(kv_vinsert, kv_vinsert_args)
NOT_FAKED(kv_vdelete, kv_vdelete_args)
NOT_FAKED(kv_vsearch, kv_vsearch_args)
NOT_FAKED(kv_vget, kv_vget_args)

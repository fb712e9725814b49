/*
 * kv: operations of the NoriKV cluster client. Owns the completion queue bridge, the
 * pool, the topology and every operation in flight. An operation packs its request once,
 * then runs attempts: a node chosen by choose.c's rules, a call, the outcome classified
 * with the retry table, and either the end, a leader hint followed at once, or a pause.
 * One deadline bounds all attempts.
 */
#include "kv.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <dlfcn.h>

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>

#include "choose.h"
#include "clock.h"
#include "health.h"
#include "log.h"
#include "norikv.pb-c.h"
#include "pbgrpc.h"
#include "pool.h"
#include "retry.h"
#include "route.h"
#include "tls.h"
#include "topo.h"
#include "xalloc.h"

#define MAX_REDIRECTS 5 /* immediate hint-following per operation, before backing off */
#define MAX_SEEDS     64
#define SPARE_OPS     256   /* finished operations kept for reuse */
#define ARENA_SIZE    16384 /* decoding room for one response; bigger ones use malloc */

/* Where deliver decodes a response: a bump allocator over a buffer of the client's, reset
 * for each response (a result points into it only until its callback returns); what does
 * not fit, or a response decoded while another is being delivered, goes to malloc. */
typedef struct decode_arena {
    ProtobufCAllocator alloc;
    size_t used;
    bool busy;    /* a response is decoded in it now */
    bool spilled; /* and some of it went to malloc */
    _Alignas(max_align_t) unsigned char buf[ARENA_SIZE];
} decode_arena;

struct kv_client {
    struct event_base *base;
    kv_config cfg;
    evgrpc *eg;
    pool *pool;
    topo *topo;
    health *health;
    int nseeds;
    LIST_HEAD(, kv_op) ops; /* in flight */
    char idem_prefix[32];
    uint64_t idem_counter;
    uint64_t rng;
    kv_stats st;             /* the counters; gauges are filled in when asked */
    char last_cause[192];    /* the last failure that counted against a node */
    log_flag all_down;       /* every node marked down: operations are failing fast */
    struct event *log_sweep; /* once a second: states whose lines were held back */
    kv_op *spare;            /* finished operations, linked through ->spare_next */
    int nspare;
    decode_arena arena;
    /* One write at a time per shard. The real server gives writes to one shard that
     * reach it at the same moment the same Raft log index, acknowledges every one and
     * keeps one (README: "NoriKV server behaviours the sidecar works around"). A Put or
     * Delete waits in its shard's queue while another write to that shard is out, and
     * goes when that one ends, in the order they came. */
    uint8_t *writing;          /* a bit per shard: a write to it is out */
    struct gate_queue *queues; /* per shard: the writes waiting, oldest first */
};

struct kv_op {
    kv_client *c;           /* NULL once the client is gone */
    LIST_ENTRY(kv_op) link; /* in c->ops while c is set */
    method_id m;
    kv_callback *cb;
    void *arg;
    grpc_byte_buffer *req;
    uint32_t group; /* shard, or total_shards for the vector group */
    bool safe;      /* may run twice: a read, or a write with an idempotency key */
    int64_t deadline;
    int timeout_ms; /* what the deadline was set from, for messages */
    int attempts, redirects, node, channel;
    choose_memory mem; /* what its attempts taught about the nodes, for the next choice */
    char idem[KV_IDEMPOTENCY_KEY_LIMIT + 1];
    /* the attempt in flight */
    grpc_call *call;
    evgrpc_tag tag;
    grpc_metadata_array initial, trailing;
    grpc_byte_buffer *send, *resp;
    grpc_status_code status;
    grpc_slice details;
    struct event *timer;
    /* the last failure, for the final message */
    grpc_status_code last_status;
    char last[192];
    bool gave_up;  /* the attempt's node was found silent: its call was cancelled */
    bool counted;  /* launched: counts in the statistics */
    bool starting; /* inside the kv_* call that began it: no callback may run yet */
    /* an end found while starting, reported from the loop */
    struct event *later;
    kv_err later_err;
    grpc_status_code later_status;
    char later_msg[320];
    kv_op *spare_next; /* in c->spare */
    bool gate;         /* the write out to its shard */
    bool gated;        /* waits in its shard's queue */
    TAILQ_ENTRY(kv_op) gate_link;
};

TAILQ_HEAD(gate_queue, kv_op);

static double rand01(kv_client *c)
{
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return (double)((c->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ---- configuration ------------------------------------------------------------------ */

void kv_config_default(kv_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->nodes = "127.0.0.1:9001";
    cfg->total_shards = ROUTE_DEFAULT_TOTAL_SHARDS;
    cfg->timeout_ms = 5000;
    cfg->connect_timeout_ms = KV_DEFAULT_CONNECT_TIMEOUT_MS;
    cfg->probe_interval_ms = KV_DEFAULT_PROBE_INTERVAL_MS;
    cfg->retire_after_ms = KV_DEFAULT_RETIRE_AFTER_MS;
    cfg->channels_per_node = 2;
    cfg->watch_cluster = true;
    retry_config_default(&cfg->retry);
}

static const char *const level_names[] = {"lease", "linearizable", "stale_ok"};

bool kv_consistency_parse(const char *s, kv_consistency *out)
{
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (kv_consistency)i;
            return true;
        }
    }
    return false;
}

const char *kv_consistency_name(kv_consistency c)
{
    return (unsigned)c < 3 ? level_names[c] : "lease";
}

const char *kv_consistency_wire(kv_consistency c)
{
    /* The server takes "" (strong), "strong", "eventual", "bounded_staleness" only:
     * lease and linearizable reads both need the leader. */
    return c == KV_STALE_OK ? "eventual" : "";
}

/* ---- decoding ----------------------------------------------------------------------- */

static void *arena_alloc(void *data, size_t size)
{
    decode_arena *a = data;
    size_t at = (a->used + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);

    if (size > ARENA_SIZE || at > ARENA_SIZE - size) {
        a->spilled = true;
        return xmalloc(size);
    }
    a->used = at + size;
    return a->buf + at;
}

static void arena_free(void *data, void *p)
{
    decode_arena *a = data;

    if ((unsigned char *)p < a->buf || (unsigned char *)p >= a->buf + ARENA_SIZE)
        free(p); /* only the arena's own pointers lie inside it */
}

/* ---- client ------------------------------------------------------------------------- */

/* gRPC's SSL credentials from the PEM files of cfg; NULL with err when one cannot be read
 * or does not parse. */
static grpc_channel_credentials *tls_credentials(const kv_tls_config *cfg, char *err, size_t errlen)
{
    tls_pem pem;
    grpc_ssl_pem_key_cert_pair pair;
    grpc_channel_credentials *creds;

    if (tls_pem_load(&pem, cfg, err, errlen) != 0)
        return NULL;
    pair.cert_chain = pem.cert;
    pair.private_key = pem.key;
    creds = grpc_ssl_credentials_create(pem.ca, pem.cert != NULL ? &pair : NULL, NULL, NULL);
    if (creds == NULL)
        snprintf(err, errlen, "gRPC refused the TLS settings");
    tls_pem_free(&pem);
    return creds;
}

int kv_tls_check(const kv_tls_config *cfg, char *err, size_t errlen)
{
    tls_pem pem;

    if (!cfg->enabled)
        return 0;
    if (tls_pem_load(&pem, cfg, err, errlen) != 0)
        return -1;
    tls_pem_free(&pem);
    return 0;
}

/* States whose lines a rate limit held back are told once it allows. */
static void on_log_sweep(evutil_socket_t fd, short what, void *arg)
{
    kv_client *c = arg;
    unsigned held;

    (void)fd;
    (void)what;
    pool_log_due(c->pool);
    topo_log_due(c->topo);
    log_sweep(); /* the counts of every source's lines the log's own limit held back */
    if (log_flag_due(&c->all_down, &held)) {
        if (c->all_down.now)
            log_write_held(LOG_WARNING, held, "every node of the cluster is still marked down");
        else
            log_write_held(LOG_NOTICE, held, "the cluster answers again");
    }
}

/* The pool marked a node down or up. A node found silent takes its attempts with it: they
 * would otherwise wait for their deadlines on it; cancelled, they go elsewhere at once (a
 * write's outcome there is then unknown, as after a lost connection). */
static void on_node_change(void *arg, int node, bool up, bool silent)
{
    kv_client *c = arg;
    kv_op *op;

    if (up) {
        if (c->all_down.now)
            log_flag_change(&c->all_down, false, LOG_NOTICE, "the cluster answers again: %s is up",
                            pool_addr(c->pool, node));
        topo_node_up(c->topo, node);
        /* operations pausing between attempts (every node they could ask said no or was
         * down) try again now: the node back may be the one they need */
        LIST_FOREACH(op, &c->ops, link)
        {
            if (op->call == NULL && !op->gated && op->timer != NULL &&
                evtimer_pending(op->timer, NULL)) {
                evtimer_del(op->timer);
                event_active(op->timer, EV_TIMEOUT, 0);
            }
        }
        return;
    }
    snprintf(c->last_cause, sizeof(c->last_cause), "%s", pool_last_error(c->pool, node));
    if (silent) {
        LIST_FOREACH(op, &c->ops, link)
        {
            if (op->call != NULL && op->node == node && !op->gave_up) {
                op->gave_up = true;
                grpc_call_cancel_with_status(op->call, GRPC_STATUS_UNAVAILABLE,
                                             pool_last_error(c->pool, node), NULL);
            }
        }
    }
    topo_node_down(c->topo, node);
}

kv_client *kv_client_new(struct event_base *base, const kv_config *cfg, char *err, size_t errlen)
{
    struct timeval second = {1, 0};
    kv_client *c = xcalloc(1, sizeof(*c));
    pool_config pc = {
        cfg->channels_per_node, 100, 2000, cfg->connect_timeout_ms, cfg->probe_interval_ms, NULL,
        cfg->tls.server_name};
    uint8_t rnd[16];
    char *list, *save = NULL;

    c->base = base;
    c->cfg = *cfg;
    LIST_INIT(&c->ops);
    c->arena.alloc.alloc = arena_alloc;
    c->arena.alloc.free = arena_free;
    c->arena.alloc.allocator_data = &c->arena;
    if (cfg->total_shards == 0 || cfg->timeout_ms <= 0 || cfg->retry.max_attempts < 1 ||
        cfg->connect_timeout_ms <= 0 || cfg->probe_interval_ms <= 0) {
        snprintf(err, errlen,
                 "total_shards, timeout_ms, connect_timeout_ms, probe_interval_ms and "
                 "max_attempts must be positive");
        free(c);
        return NULL;
    }
    if (cfg->tls.enabled && (pc.creds = tls_credentials(&cfg->tls, err, errlen)) == NULL) {
        free(c);
        return NULL;
    }
    c->pool = pool_new(&pc);
    list = xstrdup(cfg->nodes != NULL ? cfg->nodes : "");
    for (char *tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        char host[POOL_ADDR_MAX];
        int port;
        if (!topo_split_addr(tok, host, sizeof(host), &port)) {
            snprintf(err, errlen, "bad node address '%s': expected host:port", tok);
            free(list);
            pool_free(c->pool);
            free(c);
            return NULL;
        }
        if (c->nseeds < MAX_SEEDS && pool_find(c->pool, tok) < 0) {
            pool_add(c->pool, tok, true);
            c->nseeds++;
        }
    }
    free(list);
    if (c->nseeds == 0) {
        snprintf(err, errlen, "no node addresses given");
        pool_free(c->pool);
        free(c);
        return NULL;
    }
    c->eg = evgrpc_new(base);
    c->topo = c->eg ? topo_new(base, c->eg, c->pool, cfg->total_shards, cfg->watch_cluster,
                               cfg->retire_after_ms > 0 ? cfg->retire_after_ms
                                                        : KV_DEFAULT_RETIRE_AFTER_MS,
                               &c->st)
                    : NULL;
    c->health = c->topo != NULL ? health_new(base, c->eg, c->pool, &c->st) : NULL;
    if (c->health != NULL)
        pool_set_listener(c->pool, on_node_change, c);
    c->log_sweep = c->health != NULL ? event_new(base, -1, EV_PERSIST, on_log_sweep, c) : NULL;
    c->writing = xcalloc(cfg->total_shards / 8 + 1, 1);
    c->queues = xcalloc(cfg->total_shards, sizeof(*c->queues));
    for (uint32_t s = 0; s < cfg->total_shards; s++)
        TAILQ_INIT(&c->queues[s]);
    if (c->log_sweep == NULL || event_add(c->log_sweep, &second) != 0) {
        snprintf(err, errlen, "cannot start the gRPC client");
        kv_client_free(c);
        return NULL;
    }
    /* Unique across restarts and across sidecars on one host: 96 random bits. */
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)clock_now_ms();
        memcpy(rnd, &t, 8);
        memcpy(rnd + 8, &c, sizeof(c) < 8 ? sizeof(c) : 8);
    }
    snprintf(c->idem_prefix, sizeof(c->idem_prefix),
             "nk%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
             rnd[4], rnd[5], rnd[6], rnd[7], rnd[8], rnd[9], rnd[10], rnd[11]);
    memcpy(&c->rng, rnd + 8, 8);
    c->rng |= 1;
    return c;
}

static void op_free(kv_op *op);

void kv_client_set_limits(kv_client *c, const kv_config *cfg)
{
    c->cfg.timeout_ms = cfg->timeout_ms;
    c->cfg.retry = cfg->retry;
    if (cfg->connect_timeout_ms > 0 && cfg->probe_interval_ms > 0) {
        c->cfg.connect_timeout_ms = cfg->connect_timeout_ms;
        c->cfg.probe_interval_ms = cfg->probe_interval_ms;
        pool_set_timing(c->pool, cfg->connect_timeout_ms, cfg->probe_interval_ms);
        health_kick(c->health);
    }
}

void kv_client_free(kv_client *c)
{
    if (c == NULL)
        return;
    if (c->log_sweep != NULL)
        event_free(c->log_sweep);
    while (!LIST_EMPTY(&c->ops)) { /* the waiting writes among them */
        kv_op *op = LIST_FIRST(&c->ops);
        LIST_REMOVE(op, link);
        op->c = NULL;
        op->cb = NULL;
        if (op->call != NULL)
            grpc_call_cancel(op->call, NULL); /* freed when its completion drains */
        else
            op_free(op);
    }
    health_free(c->health);
    topo_free(c->topo);
    evgrpc_free(c->eg); /* runs the completions of cancelled calls */
    pool_free(c->pool);
    while (c->spare != NULL) {
        kv_op *op = c->spare;
        c->spare = op->spare_next;
        grpc_metadata_array_destroy(&op->initial);
        grpc_metadata_array_destroy(&op->trailing);
        free(op);
    }
    free(c->writing);
    free(c->queues);
    free(c);
}

const kv_view_node *kv_view_nodes(const kv_client *c, size_t *n)
{
    return topo_nodes(c->topo, n);
}

int kv_subscribe_topology(kv_client *c, kv_topology_listener *fn, void *arg)
{
    return topo_subscribe(c->topo, fn, arg);
}

void kv_unsubscribe_topology(kv_client *c, int id)
{
    topo_unsubscribe(c->topo, id);
}

const char *kv_status_name(int status)
{
    return pbgrpc_status_name((grpc_status_code)status);
}

static kv_log_fn *transport_log;

/* gRPC's own lines go to the caller's log at their levels, not to a bare stderr. */
static void on_grpc_log(gpr_log_func_args *args)
{
    if (transport_log != NULL)
        transport_log(args->severity == GPR_LOG_SEVERITY_ERROR, args->message);
}

/* gRPC locks absl mutexes on every call; Debian builds absl with assertions on, which makes
 * each lock of one also check a global lock-order graph for deadlocks (under a global lock of
 * its own). absl::SetMutexDeadlockDetectionMode(kIgnore) turns that off; it is C++, so it is
 * looked up under the names it has in absl's releases, and skipped when none is there. */
static void absl_deadlock_detection_off(void)
{
    static const char *const names[] = {
        "_ZN4absl7debian329SetMutexDeadlockDetectionModeENS0_15OnDeadlockCycleE",
        "_ZN4absl12lts_2022062330SetMutexDeadlockDetectionModeENS0_15OnDeadlockCycleE",
        "_ZN4absl29SetMutexDeadlockDetectionModeENS_15OnDeadlockCycleE",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        void *sym = dlsym(RTLD_DEFAULT, names[i]);
        void (*set_mode)(int);
        if (sym == NULL)
            continue;
        memcpy(&set_mode, &sym, sizeof(set_mode));
        set_mode(0); /* absl::OnDeadlockCycle::kIgnore */
        return;
    }
}

void kv_global_init(kv_log_fn *log)
{
    transport_log = log;
    gpr_set_log_function(on_grpc_log);
    absl_deadlock_detection_off();
    grpc_init();
}

void kv_global_shutdown(void)
{
    grpc_shutdown_blocking();
}

uint32_t kv_shard(const kv_client *c, const void *key, size_t len)
{
    return route_shard(key, len, c->cfg.total_shards);
}

const char *kv_shard_leader(const kv_client *c, uint32_t shard)
{
    return pool_addr(c->pool, topo_leader(c->topo, shard));
}

/* ---- operations --------------------------------------------------------------------- */

/* op_link follows every op_new at once: an operation is in c->ops from then until op_free,
 * or until kv_client_free unlinks and orphans it (op->c NULL). */
static void op_unlink(kv_op *op)
{
    if (op->c != NULL)
        LIST_REMOVE(op, link);
}

static void attempt_cleanup(kv_op *op)
{
    if (op->call != NULL) {
        grpc_call_unref(op->call);
        op->call = NULL;
    }
    /* The arrays keep their room for the next attempt; their entries were the call's. */
    op->initial.count = 0;
    op->trailing.count = 0;
    if (op->send != NULL)
        grpc_byte_buffer_destroy(op->send);
    if (op->resp != NULL)
        grpc_byte_buffer_destroy(op->resp);
    op->send = op->resp = NULL;
    grpc_slice_unref(op->details);
    op->details = grpc_empty_slice();
}

static void op_free(kv_op *op)
{
    if (op->gated && op->c != NULL)
        TAILQ_REMOVE(&op->c->queues[op->group], op, gate_link);
    op_unlink(op);
    attempt_cleanup(op);
    if (op->req != NULL)
        grpc_byte_buffer_destroy(op->req);
    if (op->timer != NULL)
        event_free(op->timer);
    if (op->later != NULL)
        event_free(op->later);
    if (op->c != NULL && op->c->nspare < SPARE_OPS) { /* kept with its metadata arrays */
        op->spare_next = op->c->spare;
        op->c->spare = op;
        op->c->nspare++;
        return;
    }
    grpc_metadata_array_destroy(&op->initial);
    grpc_metadata_array_destroy(&op->trailing);
    free(op);
}

void kv_op_detach(kv_op *op)
{
    if (op != NULL)
        op->cb = NULL;
}

static void gate_release(kv_client *c, kv_op *op);

static void finish(kv_op *op, kv_result *r)
{
    kv_client *c = op->c;

    r->attempts = op->attempts;
    r->redirects = op->redirects;
    r->idempotency_key = op->idem[0] ? op->idem : NULL;
    if (r->message == NULL)
        r->message = "";
    if (c != NULL && op->counted) {
        c->st.retries_in_flight--;
        if (r->err == KV_OK) {
            c->st.retries_succeeded++;
        } else {
            c->st.retries_failed++;
            c->st.failed_by_err[r->err]++;
        }
    }
    if (op->cb != NULL)
        op->cb(r, op->arg);
    if (c != NULL && op->gate) /* after the callback: a write it starts queues behind */
        gate_release(c, op);
    op_free(op);
}

static void finish_error(kv_op *op, kv_err err, grpc_status_code status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void on_finish_later(evutil_socket_t fd, short what, void *arg)
{
    kv_op *op = arg;

    (void)fd;
    (void)what;
    finish_error(op, op->later_err, op->later_status, "%s", op->later_msg);
}

/* Ends op with an error. While the kv_* call that began it is still running, the end is
 * kept and reported from the loop's next pass: a caller never sees its callback run before
 * the call returns, so it needs no guard against re-entering itself. */
static void finish_error(kv_op *op, kv_err err, grpc_status_code status, const char *fmt, ...)
{
    kv_result r;
    char msg[320];
    va_list ap;

    memset(&r, 0, sizeof(r));
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (op->starting) {
        op->later_err = err;
        op->later_status = status;
        snprintf(op->later_msg, sizeof(op->later_msg), "%s", msg);
        op->later = evtimer_new(op->c->base, on_finish_later, op);
        if (op->later == NULL) {
            fprintf(stderr, "kv: cannot create an event: aborting\n");
            abort();
        }
        event_active(op->later, EV_TIMEOUT, 0);
        return;
    }
    r.err = err;
    r.status = status;
    r.message = msg;
    finish(op, &r);
}

/* pool_usable, as choose.h asks for it. */
typedef struct usable_at {
    pool *pool;
    int64_t now_ms;
} usable_at;

static bool usable_now(void *arg, int node)
{
    usable_at *u = arg;

    return pool_usable(u->pool, node, u->now_ms);
}

/* The cluster as op's next choice sees it; u lives as long as the result. */
static choose_cluster cluster_for(const kv_op *op, usable_at *u)
{
    kv_client *c = op->c;
    choose_cluster cl;

    u->pool = c->pool;
    u->now_ms = clock_now_ms();
    cl.count = pool_count(c->pool);
    cl.seeds = c->nseeds;
    cl.leader = topo_leader(c->topo, op->group);
    cl.group = op->group;
    cl.usable = usable_now;
    cl.arg = u;
    return cl;
}

/* When no node is usable (every one is marked down, or silent while it owes an answer),
 * waiting out the deadline on backoffs would only delay the answer: op ends at once with
 * UNAVAILABLE and the cause, and true is returned. Down nodes are probed in the background
 * (health.c); the first operation after a probe finds one back is served by it. */
static bool fail_fast(kv_op *op)
{
    kv_client *c = op->c;
    int n = pool_live_count(c->pool);
    const char *last = op->last[0] ? op->last : c->last_cause;
    usable_at u;
    choose_cluster cl = cluster_for(op, &u);

    if (!choose_none_usable(&cl))
        return false;
    c->st.retries_fail_fast++;
    if (!c->all_down.now)
        log_flag_change(&c->all_down, true, LOG_WARNING,
                        "every node of the cluster (%d) is unreachable and marked down; "
                        "operations fail at once with UNAVAILABLE while probes go on (last: %s)",
                        n, last[0] ? last : "no detail");
    attempt_cleanup(op);
    finish_error(op, KV_ERR_UNAVAILABLE, GRPC_STATUS_UNAVAILABLE,
                 "every node of the cluster is marked down (%d of %d)%s%s",
                 pool_down_count(c->pool), n, last[0] ? "; last: " : "", last);
    return true;
}

static void on_attempt_done(evgrpc_tag *tag, bool ok);

/* Starts the next attempt; false when the operation ended instead (op is freed). */
static bool attempt(kv_op *op)
{
    kv_client *c = op->c;
    int64_t now = clock_now_ms();
    grpc_op ops[6];
    gpr_timespec deadline;

    if (now >= op->deadline) {
        finish_error(op, KV_ERR_TIMEOUT, GRPC_STATUS_DEADLINE_EXCEEDED,
                     "deadline of %d ms passed after %d attempts%s%s", op->timeout_ms, op->attempts,
                     op->last[0] ? "; last: " : "", op->last);
        return false;
    }
    deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                            gpr_time_from_millis(op->deadline - now, GPR_TIMESPAN));
    op->call =
        pool_call(c->pool, op->node, POOL_CALL_OP, op->m, evgrpc_cq(c->eg), deadline, &op->channel);
    if (op->call == NULL) {
        finish_error(op, KV_ERR_UNAVAILABLE, GRPC_STATUS_UNAVAILABLE, "cannot open a channel to %s",
                     pool_addr(c->pool, op->node));
        return false;
    }
    op->gave_up = false;
    health_watch(c->health, op->node);
    op->attempts++;
    c->st.retries_attempts++;
    op->send = grpc_byte_buffer_copy(op->req);
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = op->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &op->initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &op->resp;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &op->trailing;
    ops[5].data.recv_status_on_client.status = &op->status;
    ops[5].data.recv_status_on_client.status_details = &op->details;
    if (grpc_call_start_batch(op->call, ops, 6, &op->tag, NULL) != GRPC_CALL_OK) {
        pool_call_end(c->pool, op->node);
        attempt_cleanup(op);
        finish_error(op, KV_ERR_INTERNAL, GRPC_STATUS_INTERNAL, "cannot start a gRPC call");
        return false;
    }
    return true;
}

static void on_backoff_done(evutil_socket_t fd, short what, void *arg)
{
    kv_op *op = arg;
    usable_at u;
    choose_cluster cl;

    (void)fd;
    (void)what;
    if (op->gated) { /* its deadline passed while an earlier write to its shard was out */
        TAILQ_REMOVE(&op->c->queues[op->group], op, gate_link);
        op->gated = false;
        finish_error(op, KV_ERR_TIMEOUT, GRPC_STATUS_DEADLINE_EXCEEDED,
                     "deadline of %d ms passed while an earlier write to its shard was out "
                     "(one write at a time per shard)",
                     op->timeout_ms);
        return;
    }
    if (fail_fast(op))
        return;
    cl = cluster_for(op, &u);
    op->node = choose_after_pause(&cl, &op->mem);
    (void)attempt(op);
}

/* Waits before the next attempt, or ends the operation when attempts or time run out. */
static void back_off(kv_op *op, kv_err err)
{
    kv_client *c = op->c;
    int64_t delay, now = clock_now_ms();
    struct timeval tv;

    if (op->attempts >= c->cfg.retry.max_attempts) {
        finish_error(op, err, op->last_status, "no success after %d attempts; last: %s",
                     op->attempts, op->last);
        return;
    }
    if (fail_fast(op))
        return;
    delay = retry_delay_ms(&c->cfg.retry, op->attempts, rand01(c));
    if (now + delay >= op->deadline) {
        finish_error(op, KV_ERR_TIMEOUT, GRPC_STATUS_DEADLINE_EXCEEDED,
                     "deadline of %d ms would pass before attempt %d; last: %s", op->timeout_ms,
                     op->attempts + 1, op->last);
        return;
    }
    c->st.retries_retries++;
    if (op->timer == NULL)
        op->timer = evtimer_new(c->base, on_backoff_done, op);
    tv.tv_sec = (time_t)(delay / 1000);
    tv.tv_usec = (suseconds_t)((delay % 1000) * 1000);
    if (op->timer == NULL || evtimer_add(op->timer, &tv) != 0)
        on_backoff_done(-1, 0, op);
}

static const char *leader_hint(const grpc_metadata_array *md, size_t *len)
{
    const char *h = pbgrpc_md_find(md, "leader-hint", len);

    return h != NULL ? h : pbgrpc_md_find(md, "x-norikv-leader", len);
}

static void deliver(kv_op *op);

/* What an attempt that failed says of its node, told to the pool: the server answered
 * (UNAVAILABLE from a server we are connected to, a lost reply, a failing store: no sign
 * of a dead node), or the connection was refused or broken (marked down at once), or the
 * node was already found silent. A deadline on a connected node says nothing by itself:
 * the node owed that answer, and health.c judges its silence. Whether the node was
 * connected is returned. */
static bool judge_node(kv_op *op, const retry_verdict *v, int64_t now)
{
    kv_client *c = op->c;
    bool connected;

    if (op->gave_up)
        return false;
    connected = pool_channel_ready(c->pool, op->node, op->channel);
    if (!v->node_fault || (connected && op->status != GRPC_STATUS_DEADLINE_EXCEEDED))
        pool_heard(c->pool, op->node, now);
    else if (!connected)
        pool_failure(c->pool, op->node, now, POOL_REFUSED, op->last);
    return connected;
}

static void on_attempt_done(evgrpc_tag *tag, bool ok)
{
    kv_op *op = (kv_op *)((char *)tag - offsetof(kv_op, tag));
    kv_client *c = op->c;
    char small[256], *details = small;
    size_t dlen = GRPC_SLICE_LENGTH(op->details);
    retry_verdict v;
    size_t hlen;
    const char *hint;
    int node = op->node, to;
    int64_t now;
    bool connected;
    usable_at u;
    choose_cluster cl;

    if (c == NULL) { /* the client is gone */
        op_free(op);
        return;
    }
    now = clock_now_ms();
    pool_call_end(c->pool, node);
    if (!ok) {
        op->status = GRPC_STATUS_UNAVAILABLE;
    }
    if (dlen >= sizeof(small))
        details = xmalloc(dlen + 1);
    memcpy(details, GRPC_SLICE_START_PTR(op->details), dlen);
    details[dlen] = '\0';
    c->st.attempt_status[(unsigned)op->status < KV_STATUS_COUNT ? op->status
                                                                : GRPC_STATUS_UNKNOWN]++;
    /* A server answering NOT_FOUND for a missing key (Go/Java test servers) is a miss. */
    if (op->status == GRPC_STATUS_NOT_FOUND && op->m == METHOD_GET)
        v = (retry_verdict){RETRY_DONE, KV_OK, false};
    else
        v = retry_classify(op->status, details, op->safe);
    /* its node was found silent and the call cancelled (or the channel under it closed):
     * that node's fault, whatever status the cancel left */
    if (op->gave_up && v.action == RETRY_BACKOFF)
        v = (retry_verdict){RETRY_BACKOFF, KV_ERR_UNAVAILABLE, true};
    if (v.action != RETRY_DONE) {
        /* cut to fit: the message is for people */
        if (snprintf(op->last, sizeof(op->last), "%s %s from %s", pbgrpc_status_name(op->status),
                     details[0] ? details : "(no message)", pool_addr(c->pool, node)) < 0)
            op->last[0] = '\0';
        op->last_status = op->status;
    }
    if (details != small)
        free(details);

    switch (v.action) {
    case RETRY_DONE:
        pool_heard(c->pool, node, now);
        if (c->all_down.now)
            log_flag_change(&c->all_down, false, LOG_NOTICE,
                            "the cluster answers again: %s served an operation",
                            pool_addr(c->pool, node));
        topo_kick(c->topo);
        topo_set_leader(c->topo, op->group, node); /* it served: it leads */
        deliver(op);
        return;
    case RETRY_FAIL:
        judge_node(op, &v, now);
        attempt_cleanup(op);
        finish_error(op, v.err, op->last_status, "%s", op->last);
        return;
    case RETRY_NOT_LEADER:
        c->st.retries_not_leader++;
        op->mem.sticky = -1; /* its cache had no answer: the write is for the leader now */
        pool_heard(c->pool, node, now); /* it answered: the node is fine */
        hint = leader_hint(&op->trailing, &hlen);
        to = hint != NULL ? topo_resolve_hint(c->topo, hint, hlen, node) : -1;
        attempt_cleanup(op);
        if (to >= 0 && to != node)
            topo_set_leader(c->topo, op->group, to);
        /* (a leader marked down is not asked: its probes tell when it answers again) */
        if (to >= 0 && to != node && pool_usable(c->pool, to, now) &&
            op->redirects < MAX_REDIRECTS) {
            op->redirects++;
            c->st.retries_redirects++;
            op->node = to;
            (void)attempt(op);
            return;
        }
        topo_forget_leader(c->topo, op->group, node);
        /* No hint (the real server never sends one): a node that answered is healthy, just
         * not the leader, so ask the next one at once; pause only when every node said no
         * (an election in progress). */
        cl = cluster_for(op, &u);
        to = choose_not_leader(&cl, &op->mem, node);
        if (to >= 0 && op->redirects < MAX_REDIRECTS) {
            op->redirects++;
            c->st.retries_redirects++;
            op->node = to;
            (void)attempt(op);
            return;
        }
        choose_paused(&op->mem, node);
        back_off(op, v.err);
        return;
    case RETRY_BACKOFF:
        connected = judge_node(op, &v, now);
        /* A leader that cannot be reached leads nothing we can use: forget it, so the next
         * attempts look for its successor (a follower's NOT_LEADER would otherwise send us
         * straight back to it). The real server's views do not name a successor. */
        if (v.node_fault && !connected)
            topo_forget_leader(c->topo, op->group, node);
        attempt_cleanup(op);
        choose_failed(&op->mem, node, connected, op->idem[0] != '\0');
        /* Its node is marked down now: another node at once, if any is up (no pause: the
         * failure said nothing about them), else the end at once. */
        if (v.node_fault && !connected && op->redirects < MAX_REDIRECTS &&
            op->attempts < c->cfg.retry.max_attempts) {
            if (fail_fast(op))
                return;
            cl = cluster_for(op, &u);
            op->node = choose_after_pause(&cl, &op->mem);
            op->redirects++;
            c->st.retries_redirects++;
            (void)attempt(op);
            return;
        }
        back_off(op, v.err);
        return;
    }
}

/* ---- results ------------------------------------------------------------------------ */

/* Frees a response deliver decoded (own: in the arena, which it releases). */
static void decoded_free(decode_arena *a, bool own, ProtobufCMessage *msg)
{
    if (msg != NULL && (!own || a->spilled))
        protobuf_c_message_free_unpacked(msg, own ? &a->alloc : NULL);
    if (own)
        a->busy = false;
}

static void deliver(kv_op *op)
{
    decode_arena *a = &op->c->arena;
    bool own = !a->busy; /* a callback of this delivery may deliver another */
    ProtobufCAllocator *alloc = own ? &a->alloc : NULL;
    ProtobufCMessage *msg;
    kv_match *matches = NULL;
    kv_result r;

    if (own) {
        a->busy = true;
        a->used = 0;
        a->spilled = false;
    }
    msg = pbgrpc_unpack_with(op->resp, method_get(op->m)->response, alloc);

    memset(&r, 0, sizeof(r));
    r.status = op->status;
    if (op->status == GRPC_STATUS_NOT_FOUND) { /* a Get miss, NOT_FOUND style */
        attempt_cleanup(op);
        finish(op, &r);
        decoded_free(a, own, msg);
        return;
    }
    if (msg == NULL) {
        attempt_cleanup(op);
        decoded_free(a, own, NULL);
        finish_error(op, KV_ERR_INTERNAL, GRPC_STATUS_INTERNAL, "undecodable response from %s",
                     pool_addr(op->c->pool, op->node));
        return;
    }
    switch (op->m) {
    case METHOD_PUT: {
        Norikv__V1__PutResponse *p = (void *)msg;
        if ((r.has_version = p->version != NULL))
            r.version = (kv_version){p->version->term, p->version->index};
        break;
    }
    case METHOD_GET: {
        Norikv__V1__GetResponse *g = (void *)msg;
        /* only the version tells a missing key from an empty value */
        r.found = r.has_version = g->version != NULL;
        if (r.found) {
            r.version = (kv_version){g->version->term, g->version->index};
            r.value = g->value.data;
            r.value_len = g->value.len;
        }
        break;
    }
    case METHOD_DELETE: {
        Norikv__V1__DeleteResponse *d = (void *)msg;
        r.tombstoned = d->tombstoned;
        if ((r.has_version = d->version != NULL))
            r.version = (kv_version){d->version->term, d->version->index};
        break;
    }
    case METHOD_VECTOR_CREATE_INDEX:
        r.flag = ((Norikv__V1__CreateVectorIndexResponse *)msg)->created;
        break;
    case METHOD_VECTOR_DROP_INDEX:
        r.flag = ((Norikv__V1__DropVectorIndexResponse *)msg)->dropped;
        break;
    case METHOD_VECTOR_INSERT: {
        Norikv__V1__VectorInsertResponse *v = (void *)msg;
        r.flag = v->inserted;
        if ((r.has_version = v->version != NULL))
            r.version = (kv_version){v->version->term, v->version->index};
        break;
    }
    case METHOD_VECTOR_DELETE:
        r.flag = ((Norikv__V1__VectorDeleteResponse *)msg)->deleted;
        break;
    case METHOD_VECTOR_SEARCH: {
        Norikv__V1__VectorSearchResponse *s = (void *)msg;
        matches = xcalloc(s->n_matches + 1, sizeof(*matches));
        for (size_t i = 0; i < s->n_matches; i++) {
            matches[i].id = s->matches[i]->id;
            matches[i].distance = s->matches[i]->distance;
            matches[i].vector = s->matches[i]->n_vector ? s->matches[i]->vector : NULL;
            matches[i].dims = s->matches[i]->n_vector;
        }
        r.matches = matches;
        r.n_matches = s->n_matches;
        r.search_time_us = s->search_time_us;
        break;
    }
    case METHOD_VECTOR_GET: {
        Norikv__V1__VectorGetResponse *g = (void *)msg;
        r.flag = r.found = g->found;
        r.vector = g->n_vector ? g->vector : NULL;
        r.dims = g->n_vector;
        break;
    }
    default:
        break;
    }
    attempt_cleanup(op);
    finish(op, &r);
    free(matches);
    decoded_free(a, own, msg);
}

/* ---- starting operations ------------------------------------------------------------ */

static kv_op *op_new(kv_client *c, method_id m, kv_callback *cb, void *arg, int timeout_ms);
static void op_link(kv_client *c, kv_op *op);

/* An operation refused before anything was sent: KV_ERR_INVALID with the reason, reported
 * from the loop like every other end. */
static kv_op *reject(kv_client *c, kv_callback *cb, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static kv_op *reject(kv_client *c, kv_callback *cb, void *arg, const char *fmt, ...)
{
    kv_op *op = op_new(c, METHOD_GET, cb, arg, 0);
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    op_link(c, op);
    op->starting = true;
    finish_error(op, KV_ERR_INVALID, GRPC_STATUS_INVALID_ARGUMENT, "%s", msg);
    op->starting = false;
    return op;
}

#define IDEM_CHECK(c, cb, arg, given)                                                              \
    do {                                                                                           \
        if ((given) != NULL && strlen(given) > KV_IDEMPOTENCY_KEY_LIMIT)                           \
            return reject(c, cb, arg, "idempotency key longer than %u bytes",                      \
                          KV_IDEMPOTENCY_KEY_LIMIT);                                               \
    } while (0)

/* The caller's idempotency key, or a new one: the same key goes with every retry of this
 * write and with no other write. */
static void take_idem(kv_client *c, kv_op *op, const char *given)
{
    if (given != NULL && given[0] != '\0')
        snprintf(op->idem, sizeof(op->idem), "%s", given);
    else
        snprintf(op->idem, sizeof(op->idem), "%s-%llx", c->idem_prefix,
                 (unsigned long long)++c->idem_counter);
}

static kv_op *op_new(kv_client *c, method_id m, kv_callback *cb, void *arg, int timeout_ms)
{
    kv_op *op = c->spare;

    if (op != NULL) {
        grpc_metadata_array initial = op->initial, trailing = op->trailing;
        c->spare = op->spare_next;
        c->nspare--;
        memset(op, 0, sizeof(*op));
        op->initial = initial;
        op->trailing = trailing;
    } else {
        op = xcalloc(1, sizeof(*op));
        grpc_metadata_array_init(&op->initial);
        grpc_metadata_array_init(&op->trailing);
    }

    op->c = c;
    op->m = m;
    op->cb = cb;
    op->arg = arg;
    op->safe = true;
    choose_init(&op->mem);
    op->tag.done = on_attempt_done;
    op->details = grpc_empty_slice();
    op->timeout_ms = timeout_ms > 0 ? timeout_ms : c->cfg.timeout_ms;
    op->deadline = clock_now_ms() + op->timeout_ms;
    return op;
}

static void op_link(kv_client *c, kv_op *op)
{
    LIST_INSERT_HEAD(&c->ops, op, link);
}

static bool bit_get(const uint8_t *bits, uint32_t i)
{
    return (bits[i / 8] >> (i % 8)) & 1;
}

static void bit_put(uint8_t *bits, uint32_t i, bool on)
{
    if (on)
        bits[i / 8] |= (uint8_t)(1u << (i % 8));
    else
        bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

/* Whether op, a write, must wait for another write to its shard (then it is queued, and
 * its timer ends it with TIMEOUT at its deadline if it is still waiting then); a write
 * that may go takes its shard. Reads and vector calls go at once. */
static bool gate_wait(kv_client *c, kv_op *op)
{
    if ((op->m != METHOD_PUT && op->m != METHOD_DELETE) || op->group >= c->cfg.total_shards)
        return false;
    if (bit_get(c->writing, op->group)) {
        int64_t left = op->deadline - clock_now_ms();
        struct timeval tv = {(time_t)(left > 0 ? left / 1000 : 0),
                             (suseconds_t)(left > 0 ? (left % 1000) * 1000 : 0)};
        op->gated = true;
        TAILQ_INSERT_TAIL(&c->queues[op->group], op, gate_link);
        if (op->timer == NULL)
            op->timer = evtimer_new(c->base, on_backoff_done, op);
        if (op->timer == NULL || evtimer_add(op->timer, &tv) != 0) {
            fprintf(stderr, "kv: cannot create an event: aborting\n");
            abort();
        }
        return true;
    }
    bit_put(c->writing, op->group, true);
    op->gate = true;
    return false;
}

static void start(kv_op *op)
{
    usable_at u;
    choose_cluster cl;

    if (!fail_fast(op)) {
        cl = cluster_for(op, &u);
        op->node = choose_first(&cl, &op->mem);
        (void)attempt(op);
    }
}

/* op, the write out to its shard, ended: the shard's oldest waiting write goes (it may end
 * at once, with TIMEOUT when its deadline passed while it waited, and pass the shard on). */
static void gate_release(kv_client *c, kv_op *op)
{
    kv_op *next = TAILQ_FIRST(&c->queues[op->group]);

    op->gate = false;
    bit_put(c->writing, op->group, false);
    if (next == NULL)
        return;
    TAILQ_REMOVE(&c->queues[next->group], next, gate_link);
    next->gated = false;
    evtimer_del(next->timer);
    bit_put(c->writing, next->group, true);
    next->gate = true;
    next->starting = true; /* an end found now is reported from the loop: no recursion */
    start(next);
    next->starting = false;
}

static kv_op *launch(kv_client *c, kv_op *op, const ProtobufCMessage *req)
{
    op->req = pbgrpc_pack(req);
    op_link(c, op);
    op->counted = true;
    c->st.retries_operations++;
    c->st.retries_in_flight++;
    op->starting = true;
    if (!gate_wait(c, op))
        start(op);
    op->starting = false;
    return op;
}

#define KEY_CHECK(c, cb, arg, len)                                                                 \
    do {                                                                                           \
        if ((len) > KV_KEY_LIMIT)                                                                  \
            return reject(c, cb, arg, "key of %zu bytes exceeds the limit of %u", (size_t)(len),   \
                          KV_KEY_LIMIT);                                                           \
    } while (0)

kv_op *kv_put(kv_client *c, const kv_put_args *a, kv_callback *cb, void *arg)
{
    Norikv__V1__PutRequest req = NORIKV__V1__PUT_REQUEST__INIT;
    Norikv__V1__Version v = NORIKV__V1__VERSION__INIT;
    kv_op *op;

    KEY_CHECK(c, cb, arg, a->key_len);
    if (a->value_len > KV_VALUE_LIMIT)
        return reject(c, cb, arg, "value of %zu bytes exceeds the limit of %u", a->value_len,
                      KV_VALUE_LIMIT);
    IDEM_CHECK(c, cb, arg, a->idempotency_key);
    op = op_new(c, METHOD_PUT, cb, arg, a->timeout_ms);
    take_idem(c, op, a->idempotency_key);
    op->group = route_shard(a->key, a->key_len, c->cfg.total_shards);
    req.key.data = (uint8_t *)a->key;
    req.key.len = a->key_len;
    req.value.data = (uint8_t *)a->value;
    req.value.len = a->value_len;
    req.ttl_ms = a->ttl_ms;
    req.idempotency_key = op->idem;
    if (a->if_match != NULL) { /* presence is the condition: {0, 0} is a real version */
        v.term = a->if_match->term;
        v.index = a->if_match->index;
        req.if_match = &v;
    }
    return launch(c, op, &req.base);
}

kv_op *kv_get(kv_client *c, const kv_get_args *a, kv_callback *cb, void *arg)
{
    Norikv__V1__GetRequest req = NORIKV__V1__GET_REQUEST__INIT;
    kv_op *op;

    KEY_CHECK(c, cb, arg, a->key_len);
    op = op_new(c, METHOD_GET, cb, arg, a->timeout_ms);
    op->group = route_shard(a->key, a->key_len, c->cfg.total_shards);
    req.key.data = (uint8_t *)a->key;
    req.key.len = a->key_len;
    req.consistency = (char *)kv_consistency_wire(a->consistency);
    return launch(c, op, &req.base);
}

kv_op *kv_del(kv_client *c, const kv_del_args *a, kv_callback *cb, void *arg)
{
    Norikv__V1__DeleteRequest req = NORIKV__V1__DELETE_REQUEST__INIT;
    Norikv__V1__Version v = NORIKV__V1__VERSION__INIT;
    kv_op *op;

    KEY_CHECK(c, cb, arg, a->key_len);
    IDEM_CHECK(c, cb, arg, a->idempotency_key);
    op = op_new(c, METHOD_DELETE, cb, arg, a->timeout_ms);
    take_idem(c, op, a->idempotency_key);
    op->group = route_shard(a->key, a->key_len, c->cfg.total_shards);
    req.key.data = (uint8_t *)a->key;
    req.key.len = a->key_len;
    req.idempotency_key = op->idem;
    if (a->if_match != NULL) {
        v.term = a->if_match->term;
        v.index = a->if_match->index;
        req.if_match = &v;
    }
    return launch(c, op, &req.base);
}

/* ---- vectors ------------------------------------------------------------------------ */

static const char *check_ns(const char *ns)
{
    size_t len = ns != NULL ? strlen(ns) : 0;

    if (len == 0)
        return "namespace must not be empty";
    if (len > KV_NAMESPACE_LIMIT)
        return "namespace longer than 256 bytes";
    return NULL;
}

static const char *check_id(const char *id)
{
    size_t len = id != NULL ? strlen(id) : 0;

    if (len == 0)
        return "vector id must not be empty";
    if (len > KV_VECTOR_ID_LIMIT)
        return "vector id longer than 512 bytes";
    return NULL;
}

static const char *check_dims(size_t dims)
{
    if (dims == 0)
        return "vector must not be empty";
    if (dims > KV_VECTOR_DIM_LIMIT)
        return "vector has more than 4096 dimensions";
    return NULL;
}

static kv_op *vector_op(kv_client *c, method_id m, kv_callback *cb, void *arg, int timeout_ms,
                        const char *idem, bool write)
{
    kv_op *op = op_new(c, m, cb, arg, timeout_ms);

    op->group = c->cfg.total_shards; /* vector calls go to the vector group's leader */
    if (write)
        take_idem(c, op, idem);
    return op;
}

kv_op *kv_vcreate(kv_client *c, const kv_vcreate_args *a, kv_callback *cb, void *arg)
{
    Norikv__V1__CreateVectorIndexRequest req = NORIKV__V1__CREATE_VECTOR_INDEX_REQUEST__INIT;
    const char *bad = check_ns(a->ns);
    kv_op *op;

    if (bad != NULL)
        return reject(c, cb, arg, "%s", bad);
    if (a->dims < 1 || a->dims > KV_VECTOR_DIM_LIMIT)
        return reject(c, cb, arg, "dimensions must be between 1 and %u", KV_VECTOR_DIM_LIMIT);
    if (a->distance < KV_DIST_EUCLIDEAN || a->distance > KV_DIST_INNER_PRODUCT)
        return reject(c, cb, arg, "unknown distance function");
    IDEM_CHECK(c, cb, arg, a->idempotency_key);
    op = vector_op(c, METHOD_VECTOR_CREATE_INDEX, cb, arg, a->timeout_ms, a->idempotency_key, true);
    req.namespace_ = (char *)a->ns;
    req.dimensions = a->dims;
    req.distance = (Norikv__V1__DistanceFunction)a->distance;
    req.index_type = (Norikv__V1__VectorIndexType)a->index_type;
    req.idempotency_key = op->idem;
    return launch(c, op, &req.base);
}

kv_op *kv_vdrop(kv_client *c, const kv_vdrop_args *a, kv_callback *cb, void *arg)
{
    Norikv__V1__DropVectorIndexRequest req = NORIKV__V1__DROP_VECTOR_INDEX_REQUEST__INIT;
    const char *bad = check_ns(a->ns);
    kv_op *op;

    if (bad != NULL)
        return reject(c, cb, arg, "%s", bad);
    IDEM_CHECK(c, cb, arg, a->idempotency_key);
    op = vector_op(c, METHOD_VECTOR_DROP_INDEX, cb, arg, a->timeout_ms, a->idempotency_key, true);
    req.namespace_ = (char *)a->ns;
    req.idempotency_key = op->idem;
    return launch(c, op, &req.base);
}

kv_op *kv_vinsert(kv_client *c, const kv_vinsert_args *a, kv_callback *cb, void *arg)
{
    Norikv__V1__VectorInsertRequest req = NORIKV__V1__VECTOR_INSERT_REQUEST__INIT;
    const char *bad = check_ns(a->ns);
    kv_op *op;

    if (bad == NULL)
        bad = check_id(a->id);
    if (bad == NULL)
        bad = check_dims(a->dims);
    if (bad != NULL)
        return reject(c, cb, arg, "%s", bad);
    IDEM_CHECK(c, cb, arg, a->idempotency_key);
    op = vector_op(c, METHOD_VECTOR_INSERT, cb, arg, a->timeout_ms, a->idempotency_key, true);
    req.namespace_ = (char *)a->ns;
    req.id = (char *)a->id;
    req.n_vector = a->dims;
    req.vector = (float *)a->vector;
    req.idempotency_key = op->idem;
    return launch(c, op, &req.base);
}

kv_op *kv_vdelete(kv_client *c, const kv_vdelete_args *a, kv_callback *cb, void *arg)
{
    Norikv__V1__VectorDeleteRequest req = NORIKV__V1__VECTOR_DELETE_REQUEST__INIT;
    const char *bad = check_ns(a->ns);
    kv_op *op;

    if (bad == NULL)
        bad = check_id(a->id);
    if (bad != NULL)
        return reject(c, cb, arg, "%s", bad);
    IDEM_CHECK(c, cb, arg, a->idempotency_key);
    op = vector_op(c, METHOD_VECTOR_DELETE, cb, arg, a->timeout_ms, a->idempotency_key, true);
    req.namespace_ = (char *)a->ns;
    req.id = (char *)a->id;
    req.idempotency_key = op->idem;
    return launch(c, op, &req.base);
}

kv_op *kv_vsearch(kv_client *c, const kv_vsearch_args *a, kv_callback *cb, void *arg)
{
    Norikv__V1__VectorSearchRequest req = NORIKV__V1__VECTOR_SEARCH_REQUEST__INIT;
    const char *bad = check_ns(a->ns);
    kv_op *op;

    if (bad == NULL)
        bad = check_dims(a->dims);
    if (bad != NULL)
        return reject(c, cb, arg, "%s", bad);
    if (a->k == 0)
        return reject(c, cb, arg, "k must be greater than 0");
    op = vector_op(c, METHOD_VECTOR_SEARCH, cb, arg, a->timeout_ms, NULL, false);
    req.namespace_ = (char *)a->ns;
    req.n_query = a->dims;
    req.query = (float *)a->query;
    req.k = a->k;
    req.include_vectors = a->include_vectors;
    req.consistency = (char *)kv_consistency_wire(a->consistency);
    return launch(c, op, &req.base);
}

kv_op *kv_vget(kv_client *c, const kv_vget_args *a, kv_callback *cb, void *arg)
{
    Norikv__V1__VectorGetRequest req = NORIKV__V1__VECTOR_GET_REQUEST__INIT;
    const char *bad = check_ns(a->ns);
    kv_op *op;

    if (bad == NULL)
        bad = check_id(a->id);
    if (bad != NULL)
        return reject(c, cb, arg, "%s", bad);
    op = vector_op(c, METHOD_VECTOR_GET, cb, arg, a->timeout_ms, NULL, false);
    req.namespace_ = (char *)a->ns;
    req.id = (char *)a->id;
    req.consistency = (char *)kv_consistency_wire(a->consistency);
    return launch(c, op, &req.base);
}

/* ---- statistics --------------------------------------------------------------------- */

void kv_get_stats(const kv_client *c, kv_stats *st)
{
    *st = c->st;
    for (int i = 0; i < pool_count(c->pool); i++) {
        pool_node_stats ns;
        pool_node_stats_get(c->pool, i, &ns);
        st->pool_active_connections += (uint64_t)ns.channels_ready;
        st->pool_nodes_marked_down += ns.marked_down;
    }
    st->pool_channels_open = (uint64_t)pool_active_connections(c->pool);
    st->pool_nodes_down = (uint64_t)pool_down_count(c->pool);
    st->pool_max_connections_per_node = (uint64_t)pool_channels_per_node(c->pool);
    st->router_total_nodes = (uint64_t)pool_live_count(c->pool);
    st->router_total_shards = c->cfg.total_shards;
    topo_get_stats(c->topo, st);
    st->router_cached_leaders = st->topology_cached_leaders;
}

bool kv_ready(const kv_client *c, char *why, size_t len)
{
    const char *stream;
    int n = pool_live_count(c->pool);

    if (topo_watching(c->topo) && !topo_live(c->topo, &stream)) {
        kv_stats st;
        topo_get_stats(c->topo, &st);
        snprintf(why, len, "%s: %s", st.has_view ? "cluster view lost" : "no cluster view yet",
                 stream);
        return false;
    }
    if (n > 0 && pool_down_count(c->pool) == n) {
        snprintf(why, len, "every node of the cluster is marked down (%d); last: %s", n,
                 c->last_cause[0] ? c->last_cause : "no detail");
        return false;
    }
    snprintf(why, len, "ready");
    return true;
}

int kv_node_count(const kv_client *c)
{
    return pool_live_count(c->pool); /* retired nodes are not listed */
}

void kv_node_get(const kv_client *c, int i, kv_node_info *info)
{
    pool_node_stats ns;

    memset(info, 0, sizeof(*info));
    i = pool_live_index(c->pool, i);
    if (!pool_node_stats_get(c->pool, i, &ns))
        return;
    info->addr = pool_addr(c->pool, i);
    info->id = topo_node_id(c->topo, i);
    info->seed = ns.seed;
    info->down = ns.down;
    info->channels = ns.channels;
    info->connected = ns.channels_ready > 0;
    info->calls = ns.calls;
    info->failures = ns.failures;
}

/*
 * pool: node table, channels and health. Owns every grpc_channel the client opens.
 * Channels of one node use a local subchannel pool so that each is its own HTTP/2
 * connection; reconnect backoff comes from channel args, and connect_timeout_ms bounds a
 * connection attempt. Health is per node: an answer of any kind is heard, a refused
 * connection or connect_timeout_ms of silence while an answer is owed marks it down. The
 * pool never starts a call of its own: probes are health.c's.
 */
#include "pool.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>

#include "clock.h"
#include "log.h"
#include "xalloc.h"

struct pool_node {
    int index;
    char addr[POOL_ADDR_MAX];
    bool seed;
    bool retired;
    int nchannels; /* open now */
    grpc_channel **channels;
    void **handles; /* [channel * METHOD_COUNT + method] */
    unsigned next;  /* round-robin cursor */
    bool down;
    int owed;              /* calls and probes out that have not completed */
    int64_t owed_ms;       /* since when it has owed one without a break */
    int64_t heard_ms;      /* its last answer, or when it was added or came up */
    int probes_out;        /* probes that have not completed */
    int64_t next_probe_ms; /* when marked down: its next probe */
    uint64_t calls, failures, marked_down, probes, probe_failures;
    char last_error[192];
    log_flag down_log; /* marked down, up again: told under a rate limit */
};

struct pool {
    pool_config cfg;
    char *server_name; /* owned copy of cfg.server_name */
    pool_node **nodes;
    int count, cap;
    pool_listener *listener;
    void *listener_arg;
};

pool *pool_new(const pool_config *cfg)
{
    pool *p = xcalloc(1, sizeof(*p));

    p->cfg = *cfg;
    p->server_name =
        cfg->server_name != NULL && cfg->server_name[0] != '\0' ? xstrdup(cfg->server_name) : NULL;
    if (p->cfg.channels_per_node < 1)
        p->cfg.channels_per_node = 1;
    pool_set_timing(p, cfg->connect_timeout_ms, cfg->probe_interval_ms);
    return p;
}

void pool_set_timing(pool *p, int connect_timeout_ms, int probe_interval_ms)
{
    p->cfg.connect_timeout_ms = connect_timeout_ms > 0 ? connect_timeout_ms : 1000;
    p->cfg.probe_interval_ms = probe_interval_ms > 0 ? probe_interval_ms : 500;
}

int pool_connect_timeout(const pool *p)
{
    return p->cfg.connect_timeout_ms;
}

void pool_set_listener(pool *p, pool_listener *fn, void *arg)
{
    p->listener = fn;
    p->listener_arg = arg;
}

/* The node's channels are destroyed (calls on them end as gRPC ends them); new ones open
 * on the next call, with a fresh connection and the host name resolved again. */
static void close_channels(pool_node *n)
{
    for (int i = 0; i < n->nchannels; i++)
        grpc_channel_destroy(n->channels[i]);
    n->nchannels = 0;
    n->next = 0;
}

static void node_free(pool_node *n)
{
    close_channels(n);
    free(n->channels);
    free(n->handles);
    free(n);
}

void pool_free(pool *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->count; i++)
        node_free(p->nodes[i]);
    free(p->nodes);
    if (p->cfg.creds != NULL)
        grpc_channel_credentials_release(p->cfg.creds);
    free(p->server_name);
    free(p);
}

int pool_find(const pool *p, const char *addr)
{
    for (int i = 0; i < p->count; i++)
        if (strcmp(p->nodes[i]->addr, addr) == 0)
            return i;
    return -1;
}

int pool_add(pool *p, const char *addr, bool seed)
{
    int i = pool_find(p, addr);
    pool_node *n;

    if (i >= 0) {
        n = p->nodes[i];
        n->seed |= seed;
        if (n->retired) { /* back: probed before any call goes to it */
            n->retired = false;
            n->down = true;
            n->next_probe_ms = 0;
            n->heard_ms = clock_now_ms();
            log_notice("node %s is listed again: probing it", n->addr);
        }
        return i;
    }
    if (addr[0] == '\0' || strlen(addr) >= POOL_ADDR_MAX)
        return -1;
    if (p->count == p->cap) {
        int cap = p->cap ? p->cap * 2 : 8;
        p->nodes = xrealloc(p->nodes, (size_t)cap * sizeof(*p->nodes));
        p->cap = cap;
    }
    n = xcalloc(1, sizeof(*n));
    n->channels = xcalloc((size_t)p->cfg.channels_per_node, sizeof(*n->channels));
    n->handles = xcalloc((size_t)p->cfg.channels_per_node * METHOD_COUNT, sizeof(*n->handles));
    n->index = p->count;
    snprintf(n->addr, sizeof(n->addr), "%s", addr);
    n->seed = seed;
    n->heard_ms = clock_now_ms(); /* a new node is given the benefit of the doubt */
    p->nodes[p->count++] = n;
    return n->index;
}

int pool_count(const pool *p)
{
    return p->count;
}

static pool_node *pool_node_at(const pool *p, int index)
{
    return index >= 0 && index < p->count ? p->nodes[index] : NULL;
}

const char *pool_addr(const pool *p, int index)
{
    pool_node *n = pool_node_at(p, index);

    return n != NULL ? n->addr : NULL;
}

void pool_retire(pool *p, int node, const char *why)
{
    pool_node *n = pool_node_at(p, node);

    if (n == NULL || n->seed || n->retired)
        return;
    n->retired = true;
    n->down = false;
    close_channels(n);
    log_notice("node %s retired: %s", n->addr, why);
}

bool pool_is_retired(const pool *p, int node)
{
    pool_node *n = pool_node_at(p, node);

    return n != NULL && n->retired;
}

int pool_live_count(const pool *p)
{
    int live = 0;

    for (int i = 0; i < p->count; i++)
        live += !p->nodes[i]->retired;
    return live;
}

int pool_live_index(const pool *p, int i)
{
    for (int k = 0; k < p->count; k++)
        if (!p->nodes[k]->retired && i-- == 0)
            return k;
    return -1;
}

bool pool_is_seed(const pool *p, int index)
{
    pool_node *n = pool_node_at(p, index);

    return n != NULL && n->seed;
}

static bool channel_ready(grpc_channel *ch)
{
    return grpc_channel_check_connectivity_state(ch, 0) == GRPC_CHANNEL_READY;
}

bool pool_node_stats_get(const pool *p, int index, pool_node_stats *out)
{
    pool_node *n = pool_node_at(p, index);

    memset(out, 0, sizeof(*out));
    if (n == NULL)
        return false;
    out->seed = n->seed;
    out->down = n->down;
    out->retired = n->retired;
    out->channels = n->nchannels;
    for (int k = 0; k < n->nchannels; k++)
        out->channels_ready += channel_ready(n->channels[k]);
    out->calls = n->calls;
    out->failures = n->failures;
    out->marked_down = n->marked_down;
    out->probes = n->probes;
    out->probe_failures = n->probe_failures;
    return true;
}

static grpc_channel *create_channel(pool *p, const char *addr)
{
    /* Measured on the sidecar and norikv-cli (GET at 50 in flight, CPU per call):
     * - minimal_stack turns gRPC's optional features off (per-message compression, which
     *   this client never asks for, among them): 10-15% less CPU per call. It also turns off
     *   the client-side deadline timer, which a call stuck on a hung node needs:
     *   enable_deadline_checking puts that back.
     * - enable_retries=0: gRPC's own retry layer buffers every call for a replay this client
     *   never asks of it (it retries itself, with idempotency keys): about 12% less.
     * - http2.bdp_probe=0 paid nothing measurable with small values and would stop the flow
     *   control window from growing for 1 MiB ones, so it is not set.
     * gRPC takes the minimum reconnect backoff as the least time it gives a connection
     * attempt: connect_timeout_ms, so that a node slow to accept is not given up on sooner
     * than the client's own rule says. */
    grpc_arg args[] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, {.integer = 1}},
        {GRPC_ARG_INTEGER,
         GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
         {.integer = p->cfg.connect_backoff_initial_ms}},
        {GRPC_ARG_INTEGER,
         GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
         {.integer = p->cfg.connect_timeout_ms}},
        {GRPC_ARG_INTEGER,
         GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
         {.integer = p->cfg.connect_backoff_max_ms}},
        {GRPC_ARG_INTEGER, GRPC_ARG_MINIMAL_STACK, {.integer = 1}},
        {GRPC_ARG_INTEGER, GRPC_ARG_ENABLE_DEADLINE_CHECKS, {.integer = 1}},
        {GRPC_ARG_INTEGER, GRPC_ARG_ENABLE_RETRIES, {.integer = 0}},
        {GRPC_ARG_STRING, GRPC_SSL_TARGET_NAME_OVERRIDE_ARG, {.string = p->server_name}},
    };
    size_t nargs = sizeof(args) / sizeof(args[0]);
    /* the name override (the last) only with TLS and a name given */
    grpc_channel_args chargs = {p->cfg.creds != NULL && p->server_name != NULL ? nargs : nargs - 1,
                                args};
    grpc_channel_credentials *creds =
        p->cfg.creds != NULL ? p->cfg.creds : grpc_insecure_credentials_create();
    grpc_channel *ch = grpc_channel_create(addr, creds, &chargs);

    if (creds != p->cfg.creds)
        grpc_channel_credentials_release(creds);
    return ch;
}

static bool open_channel(pool *p, pool_node *n)
{
    grpc_channel *ch = create_channel(p, n->addr);
    int k = n->nchannels;

    if (ch == NULL)
        return false;
    n->channels[k] = ch;
    for (int m = 0; m < METHOD_COUNT; m++)
        n->handles[k * METHOD_COUNT + m] =
            grpc_channel_register_call(ch, method_get((method_id)m)->path, NULL, NULL);
    n->nchannels++;
    return true;
}

grpc_call *pool_call(pool *p, int node, pool_call_kind kind, method_id m, grpc_completion_queue *cq,
                     gpr_timespec deadline, int *channel)
{
    pool_node *n = pool_node_at(p, node);
    grpc_call *call;
    int k;

    if (n == NULL)
        return NULL;
    k = (int)(n->next++ % (unsigned)p->cfg.channels_per_node);
    /* Channels open lazily, in order, as the cursor first reaches them. */
    if (k >= n->nchannels && !open_channel(p, n))
        k = 0;
    if (n->nchannels == 0)
        return NULL;
    if (k >= n->nchannels)
        k = n->nchannels - 1;
    /* A channel in its reconnect pause would fail the call at once, though the node may be
     * back (a restarted node, a probe of one marked down): reconnect now, and the call
     * waits for the connection instead. A node still gone refuses it quickly. */
    if (grpc_channel_check_connectivity_state(n->channels[k], 0) == GRPC_CHANNEL_TRANSIENT_FAILURE)
        grpc_channel_reset_connect_backoff(n->channels[k]);
    call = grpc_channel_create_registered_call(n->channels[k], NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                               n->handles[k * METHOD_COUNT + m], deadline, NULL);
    if (call == NULL)
        return NULL;
    if (channel != NULL)
        *channel = k;
    if (kind == POOL_CALL_OP) {
        n->calls++;
        if (n->owed++ == 0)
            n->owed_ms = clock_now_ms();
    }
    return call;
}

void pool_call_end(pool *p, int node)
{
    pool_node *n = pool_node_at(p, node);

    if (n != NULL && n->owed > 0)
        n->owed--;
}

grpc_call *pool_probe_call(pool *p, int node, grpc_completion_queue *cq, gpr_timespec deadline,
                           grpc_channel **own)
{
    pool_node *n = pool_node_at(p, node);
    grpc_call *call;

    *own = NULL;
    if (n == NULL)
        return NULL;
    n->next_probe_ms = clock_now_ms() + p->cfg.probe_interval_ms;
    if (!n->down)
        call = pool_call(p, node, POOL_CALL_STREAM, METHOD_WATCH_CLUSTER, cq, deadline, NULL);
    else if ((*own = create_channel(p, n->addr)) != NULL)
        call = grpc_channel_create_call(
            *own, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
            grpc_slice_from_static_string(method_get(METHOD_WATCH_CLUSTER)->path), NULL, deadline,
            NULL);
    else
        call = NULL;
    if (call == NULL) {
        if (*own != NULL)
            grpc_channel_destroy(*own);
        *own = NULL;
        return NULL;
    }
    n->probes++;
    n->probes_out++;
    if (n->owed++ == 0)
        n->owed_ms = clock_now_ms();
    return call;
}

void pool_probe_end(pool *p, int node)
{
    pool_node *n = pool_node_at(p, node);

    if (n == NULL)
        return;
    if (n->probes_out > 0)
        n->probes_out--;
    if (n->owed > 0)
        n->owed--;
}

bool pool_heard_since(const pool *p, int node, int64_t since_ms)
{
    pool_node *n = pool_node_at(p, node);

    return n != NULL && n->heard_ms >= since_ms;
}

bool pool_channel_ready(pool *p, int node, int channel)
{
    pool_node *n = pool_node_at(p, node);

    if (n == NULL || channel < 0 || channel >= n->nchannels)
        return false;
    return grpc_channel_check_connectivity_state(n->channels[channel], 0) == GRPC_CHANNEL_READY;
}

bool pool_usable(const pool *p, int node, int64_t now_ms)
{
    pool_node *n = pool_node_at(p, node);

    return n != NULL && !n->down && !n->retired && now_ms < pool_silent_at(p, node);
}

void pool_heard(pool *p, int node, int64_t now_ms)
{
    pool_node *n = pool_node_at(p, node);

    if (n == NULL || n->retired)
        return;
    n->heard_ms = now_ms;
    if (!n->down)
        return;
    n->down = false;
    /* its channels may be waiting out a reconnect pause, or hold a connection from before
     * the fault: the first calls get fresh ones */
    close_channels(n);
    log_flag_change(&n->down_log, false, LOG_NOTICE, "node %s answers again: marked up", n->addr);
    if (p->listener != NULL)
        p->listener(p->listener_arg, node, true, false);
}

void pool_failure(pool *p, int node, int64_t now_ms, pool_fault fault, const char *cause)
{
    pool_node *n = pool_node_at(p, node);

    if (n == NULL || n->retired)
        return;
    snprintf(n->last_error, sizeof(n->last_error), "%s", cause != NULL ? cause : "");
    n->failures++;
    if (!n->down) {
        n->down = true;
        n->marked_down++;
        /* one probe at once: a connection reset on a node that is fine (a server closing
         * it) costs no more than that probe */
        n->next_probe_ms = now_ms;
        log_flag_change(&n->down_log, true, LOG_WARNING,
                        "node %s marked down (%s); probed every %d ms from now on", n->addr,
                        n->last_error[0] ? n->last_error : "no detail", p->cfg.probe_interval_ms);
        if (p->listener != NULL) /* first: calls it cancels end with its reason */
            p->listener(p->listener_arg, node, false, fault == POOL_SILENT);
    }
    /* A connection that hangs is dropped: the next attempt is a fresh connection (to the
     * address the host name has now), not a wait on one that may never answer again. */
    if (fault == POOL_SILENT)
        close_channels(n);
}

const char *pool_last_error(const pool *p, int node)
{
    pool_node *n = pool_node_at(p, node);

    return n != NULL ? n->last_error : "";
}

int64_t pool_probe_at(const pool *p, int node)
{
    pool_node *n = pool_node_at(p, node);

    if (n == NULL || n->retired)
        return INT64_MAX;
    if (n->down) /* no more out than fit in connect_timeout_ms, and one */
        return n->probes_out <= p->cfg.connect_timeout_ms / p->cfg.probe_interval_ms + 1
                   ? n->next_probe_ms
                   : INT64_MAX;
    if (n->probes_out > 0)
        return INT64_MAX;
    /* at most half of connect_timeout_ms too: a node found silent leaves none that has been
     * unheard from longer, so an attempt moved off it is not held again as long */
    return n->heard_ms + (p->cfg.probe_interval_ms < p->cfg.connect_timeout_ms / 2
                              ? p->cfg.probe_interval_ms
                              : p->cfg.connect_timeout_ms / 2);
}

int64_t pool_silent_at(const pool *p, int node)
{
    pool_node *n = pool_node_at(p, node);
    int64_t after_heard, after_asked;

    if (n == NULL || n->down || n->retired || n->owed == 0)
        return INT64_MAX;
    /* connect_timeout_ms since it last said anything, but never less than half of it since
     * it was asked: an idle node's probe is given time to answer */
    after_heard = n->heard_ms + p->cfg.connect_timeout_ms;
    after_asked =
        (n->owed_ms > n->heard_ms ? n->owed_ms : n->heard_ms) + p->cfg.connect_timeout_ms / 2;
    return after_heard > after_asked ? after_heard : after_asked;
}

void pool_probe_soon(pool *p, int node)
{
    pool_node *n = pool_node_at(p, node);

    if (n != NULL && n->down)
        n->next_probe_ms = 0;
}

void pool_log_due(pool *p)
{
    for (int i = 0; i < p->count; i++) {
        pool_node *n = p->nodes[i];
        unsigned held;
        if (!log_flag_due(&n->down_log, &held))
            continue;
        if (n->down_log.now)
            log_write_held(LOG_WARNING, held, "node %s is marked down (last: %s)", n->addr,
                           n->last_error[0] ? n->last_error : "no detail");
        else
            log_write_held(LOG_NOTICE, held, "node %s answers again: marked up", n->addr);
    }
}

int pool_down_count(const pool *p)
{
    int n = 0;

    for (int i = 0; i < p->count; i++)
        n += p->nodes[i]->down;
    return n;
}

int pool_active_connections(const pool *p)
{
    int total = 0;

    for (int i = 0; i < p->count; i++)
        total += p->nodes[i]->nchannels;
    return total;
}

int pool_channels_per_node(const pool *p)
{
    return p->cfg.channels_per_node;
}

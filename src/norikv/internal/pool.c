/*
 * pool: node table and channels. Owns every grpc_channel the client opens. Channels of
 * one node use a local subchannel pool so that each is its own HTTP/2 connection;
 * reconnect backoff comes from channel args. Health is counted per node: after
 * POOL_DOWN_AFTER consecutive failures the node is down, and one probe call is let
 * through when its pause ends (the pause doubles up to probe_max_ms while probes fail).
 */
#include "pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>

#include "log.h"
#include "xalloc.h"

struct pool_node {
    int index;
    char addr[POOL_ADDR_MAX];
    bool seed;
    int nchannels; /* created so far */
    grpc_channel **channels;
    void **handles; /* [channel * METHOD_COUNT + method] */
    unsigned next;  /* round-robin cursor */
    int fails;      /* consecutive */
    bool down;
    bool probing;       /* a probe call is out */
    int64_t down_until; /* ms, monotonic: next probe */
    int64_t pause_ms;   /* grows while probes fail */
    uint64_t calls, failures, marked_down;
    char last_error[192];
    log_flag down_log; /* marked down, up again: told under a rate limit */
};

struct pool {
    pool_config cfg;
    char *server_name; /* owned copy of cfg.server_name */
    pool_node **nodes;
    int count, cap;
};

pool *pool_new(const pool_config *cfg)
{
    pool *p = xcalloc(1, sizeof(*p));

    p->cfg = *cfg;
    p->server_name =
        cfg->server_name != NULL && cfg->server_name[0] != '\0' ? xstrdup(cfg->server_name) : NULL;
    if (p->cfg.channels_per_node < 1)
        p->cfg.channels_per_node = 1;
    return p;
}

static void node_free(pool_node *n)
{
    for (int i = 0; i < n->nchannels; i++)
        grpc_channel_destroy(n->channels[i]);
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
        p->nodes[i]->seed |= seed;
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
    out->channels = n->nchannels;
    for (int k = 0; k < n->nchannels; k++)
        out->channels_ready += channel_ready(n->channels[k]);
    out->calls = n->calls;
    out->failures = n->failures;
    out->marked_down = n->marked_down;
    return true;
}

static bool open_channel(pool *p, pool_node *n)
{
    /* Measured on the sidecar and norikv-cli (GET at 50 in flight, CPU per call):
     * - minimal_stack turns gRPC's optional features off (per-message compression, which
     *   this client never asks for, among them): 10-15% less CPU per call. It also turns off
     *   the client-side deadline timer, which a call stuck on a hung node needs:
     *   enable_deadline_checking puts that back.
     * - enable_retries=0: gRPC's own retry layer buffers every call for a replay this client
     *   never asks of it (it retries itself, with idempotency keys): about 12% less.
     * - http2.bdp_probe=0 paid nothing measurable with small values and would stop the flow
     *   control window from growing for 1 MiB ones, so it is not set. */
    grpc_arg args[] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, {.integer = 1}},
        {GRPC_ARG_INTEGER,
         GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
         {.integer = p->cfg.connect_backoff_initial_ms}},
        {GRPC_ARG_INTEGER,
         GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
         {.integer = p->cfg.connect_backoff_initial_ms}},
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
    grpc_channel *ch = grpc_channel_create(n->addr, creds, &chargs);
    int k = n->nchannels;

    if (creds != p->cfg.creds)
        grpc_channel_credentials_release(creds);
    if (ch == NULL)
        return false;
    n->channels[k] = ch;
    for (int m = 0; m < METHOD_COUNT; m++)
        n->handles[k * METHOD_COUNT + m] =
            grpc_channel_register_call(ch, method_get((method_id)m)->path, NULL, NULL);
    n->nchannels++;
    return true;
}

grpc_call *pool_call(pool *p, int node, method_id m, grpc_completion_queue *cq,
                     gpr_timespec deadline, int *channel)
{
    pool_node *n = pool_node_at(p, node);
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
    n->calls++;
    if (channel != NULL)
        *channel = k;
    /* A channel in its reconnect pause would fail the call at once, though the node may be
     * back (a restarted node, a probe of one counted as down): reconnect now, and the call
     * waits for the connection instead. A node still gone refuses it quickly. */
    if (grpc_channel_check_connectivity_state(n->channels[k], 0) == GRPC_CHANNEL_TRANSIENT_FAILURE)
        grpc_channel_reset_connect_backoff(n->channels[k]);
    return grpc_channel_create_registered_call(n->channels[k], NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                               n->handles[k * METHOD_COUNT + m], deadline, NULL);
}

bool pool_channel_ready(pool *p, int node, int channel)
{
    pool_node *n = pool_node_at(p, node);

    if (n == NULL || channel < 0 || channel >= n->nchannels)
        return false;
    return grpc_channel_check_connectivity_state(n->channels[channel], 0) == GRPC_CHANNEL_READY;
}

bool pool_usable(pool *p, int node, int64_t now_ms)
{
    pool_node *n = pool_node_at(p, node);

    if (n == NULL)
        return false;
    return !n->down || (!n->probing && now_ms >= n->down_until);
}

void pool_begin_call(pool *p, int node, int64_t now_ms)
{
    pool_node *n = pool_node_at(p, node);

    if (n != NULL && n->down && now_ms >= n->down_until)
        n->probing = true;
}

void pool_success(pool *p, int node)
{
    pool_node *n = pool_node_at(p, node);

    if (n == NULL)
        return;
    if (n->down)
        log_flag_change(&n->down_log, false, LOG_NOTICE, "node %s answers again: marked up",
                        n->addr);
    n->fails = 0;
    n->down = false;
    n->probing = false;
    n->pause_ms = 0;
}

void pool_failure(pool *p, int node, int64_t now_ms, const char *cause)
{
    pool_node *n = pool_node_at(p, node);

    if (n == NULL)
        return;
    snprintf(n->last_error, sizeof(n->last_error), "%s", cause != NULL ? cause : "");
    n->failures++;
    n->fails++;
    if (n->down) {
        /* a failed probe: wait longer before the next */
        n->probing = false;
        n->pause_ms = n->pause_ms * 2 > p->cfg.probe_max_ms ? p->cfg.probe_max_ms : n->pause_ms * 2;
        n->down_until = now_ms + n->pause_ms;
    } else if (n->fails >= POOL_DOWN_AFTER) {
        n->down = true;
        n->marked_down++;
        n->pause_ms = p->cfg.probe_initial_ms;
        n->down_until = now_ms + n->pause_ms;
        log_flag_change(&n->down_log, true, LOG_WARNING,
                        "node %s marked down after %d failures in a row (last: %s); probed "
                        "from now on",
                        n->addr, n->fails, n->last_error[0] ? n->last_error : "no detail");
    }
}

const char *pool_last_error(const pool *p, int node)
{
    pool_node *n = pool_node_at(p, node);

    return n != NULL ? n->last_error : "";
}

bool pool_none_usable(pool *p, int64_t now_ms)
{
    for (int i = 0; i < p->count; i++)
        if (pool_usable(p, i, now_ms))
            return false;
    return true;
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

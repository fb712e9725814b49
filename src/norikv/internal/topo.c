/*
 * topo: the WatchCluster stream and the cluster view. Owns the leader cache (one entry
 * per shard, plus one for the vector group), the current view's node list, the ids the
 * views gave each pool node, and the stream object. The stream holds a reference per
 * outstanding batch and outlives topo_free until its last completion arrives.
 */
#include "topo.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "addr.h"
#include "clock.h"
#include "log.h"
#include "norikv.pb-c.h"
#include "pbgrpc.h"
#include "xalloc.h"

#define RESUBSCRIBE_INITIAL_MS 1000
#define RESUBSCRIBE_MAX_MS     5000
#define MAX_LISTENERS          8

typedef struct watch watch;

struct topo {
    struct event_base *base;
    evgrpc *eg;
    pool *pool;
    uint32_t total_shards;
    bool watch_enabled;
    int *leader; /* total_shards + 1 entries: the last is the vector group */
    size_t cached;
    /* the current view */
    bool has_view;
    uint64_t epoch;
    kv_view_node *nodes;
    size_t n_nodes;
    size_t view_shards;
    /* the id views gave each pool node, and since when views have not listed it (0:
     * listed), indexed like the pool */
    char (*ids)[64];
    int64_t *absent_ms;
    int ids_cap;
    int retire_after_ms;
    /* the stream */
    watch *w;
    int next_seed;
    int64_t backoff_ms;
    bool live;              /* the open stream has delivered a view */
    int64_t lost_ms;        /* when the view was lost, 0 while live or before any */
    int64_t kicked_ms;      /* the last pause a call's success cut short */
    char stream_error[256]; /* how the last stream ended */
    log_limit watch_log;
    log_flag lost_log;
    struct event *resubscribe;
    struct {
        topo_listener *fn;
        void *arg;
    } listeners[MAX_LISTENERS];
    kv_stats *counters; /* the client's */
};

struct watch {
    topo *t; /* NULL once topo is gone */
    int node;
    grpc_call *call;
    evgrpc_tag on_start, on_msg, on_status;
    grpc_metadata_array initial, trailing;
    grpc_byte_buffer *send, *recv;
    grpc_status_code status;
    grpc_slice details;
    int refs;
    bool got_view;
    bool moved; /* cancelled because its node was marked down */
    uint64_t last_epoch;
    int64_t started_ms;
};

/* ---- pure helpers ------------------------------------------------------------------- */

bool topo_split_addr(const char *addr, char *host, size_t hostlen, int *port)
{
    return addr_split(addr, strlen(addr), host, hostlen, port, NULL, 0);
}

static bool unspecified_host(const char *h)
{
    return h[0] == '\0' || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "[::]") == 0 ||
           strcmp(h, "::") == 0 || strcmp(h, "[::0]") == 0;
}

bool topo_map_addr(const char *addr, const char *via, const char *const *seeds, size_t nseeds,
                   char *out, size_t outlen)
{
    char host[POOL_ADDR_MAX], vhost[POOL_ADDR_MAX], shost[POOL_ADDR_MAX];
    int port, vport, sport, same_port = -1, nsame = 0;
    bool unspecified, swim = false;

    if (!topo_split_addr(addr, host, sizeof(host), &port))
        return false;
    unspecified = unspecified_host(host);
    if (unspecified) {
        if (via == NULL || !topo_split_addr(via, vhost, sizeof(vhost), &vport))
            return false;
        snprintf(host, sizeof(host), "%s", vhost);
    }
    for (size_t i = 0; i < nseeds; i++) {
        if (!topo_split_addr(seeds[i], shost, sizeof(shost), &sport))
            continue;
        swim |= port == sport + 1000;
        if (port == sport && nsame++ == 0)
            same_port = (int)i;
        if (strcmp(host, shost) != 0)
            continue;
        if (port == sport || port == sport + 1000) { /* itself, or its SWIM address */
            snprintf(out, outlen, "%s", seeds[i]);
            return true;
        }
    }
    /* A node that gives no host, on a port one seed alone has: that seed, though it is
     * known by another name than via's (nodes of one host named apart, say) */
    if (unspecified && nsame == 1) {
        snprintf(out, outlen, "%s", seeds[same_port]);
        return true;
    }
    if (swim) /* a peer's SWIM address under a name we do not know it by */
        return false;
    if ((size_t)snprintf(out, outlen, "%s:%d", host, port) >= outlen)
        return false;
    return true;
}

void topo_raft_node_id(const char *hint, size_t len, char *out, size_t outlen)
{
    size_t n = len < outlen - 1 ? len : outlen - 1;
    char *dash;

    memcpy(out, hint, n);
    out[n] = '\0';
    /* strip a trailing "-shard<digits>" */
    dash = strstr(out, "-shard");
    if (dash != NULL && dash[6] != '\0') {
        const char *d = dash + 6;
        while (isdigit((unsigned char)*d))
            d++;
        if (*d == '\0')
            *dash = '\0';
    }
}

/* ---- leader cache ------------------------------------------------------------------- */

int topo_leader(const topo *t, uint32_t shard)
{
    return shard <= t->total_shards ? t->leader[shard] : -1;
}

static void set_leader(topo *t, uint32_t shard, int node)
{
    if (t->leader[shard] < 0 && node >= 0)
        t->cached++;
    else if (t->leader[shard] >= 0 && node < 0)
        t->cached--;
    t->leader[shard] = node;
}

void topo_set_leader(topo *t, uint32_t shard, int node)
{
    if (shard <= t->total_shards)
        set_leader(t, shard, node);
}

void topo_forget_leader(topo *t, uint32_t shard, int node)
{
    if (shard <= t->total_shards && t->leader[shard] == node)
        set_leader(t, shard, -1);
}

uint32_t topo_total_shards(const topo *t)
{
    return t->total_shards;
}

const char *topo_node_id(const topo *t, int node)
{
    return node >= 0 && node < t->ids_cap ? t->ids[node] : "";
}

static void grow(topo *t, int node)
{
    int cap;

    if (node < t->ids_cap)
        return;
    cap = node + 16;
    t->ids = xrealloc(t->ids, (size_t)cap * sizeof(*t->ids));
    memset(t->ids + t->ids_cap, 0, (size_t)(cap - t->ids_cap) * sizeof(*t->ids));
    t->absent_ms = xrealloc(t->absent_ms, (size_t)cap * sizeof(*t->absent_ms));
    memset(t->absent_ms + t->ids_cap, 0, (size_t)(cap - t->ids_cap) * sizeof(*t->absent_ms));
    t->ids_cap = cap;
}

static void set_id(topo *t, int node, const char *id)
{
    grow(t, node);
    snprintf(t->ids[node], sizeof(t->ids[node]), "%s", id);
}

/* Seed addresses, for address mapping. */
static size_t seed_addrs(topo *t, const char **out, size_t max)
{
    size_t n = 0;

    for (int i = 0; i < pool_count(t->pool) && n < max; i++)
        if (pool_is_seed(t->pool, i))
            out[n++] = pool_addr(t->pool, i);
    return n;
}

int topo_resolve_hint(topo *t, const char *hint, size_t len, int via)
{
    char buf[POOL_ADDR_MAX], mapped[POOL_ADDR_MAX], host[POOL_ADDR_MAX];
    const char *seeds[64];
    const char *via_addr = pool_addr(t->pool, via);
    int port;

    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, hint, len);
    buf[len] = '\0';
    if (topo_split_addr(buf, host, sizeof(host), &port)) {
        size_t ns = seed_addrs(t, seeds, 64);
        if (!topo_map_addr(buf, via_addr, seeds, ns, mapped, sizeof(mapped)))
            return -1;
        return pool_add(t->pool, mapped, false);
    }
    topo_raft_node_id(hint, len, buf, sizeof(buf));
    for (int i = 0; i < t->ids_cap; i++)
        if (t->ids[i][0] != '\0' && strcmp(t->ids[i], buf) == 0)
            return i;
    return -1;
}

/* ---- views -------------------------------------------------------------------------- */

static const Norikv__V1__ClusterNode *view_node_by_id(const Norikv__V1__ClusterView *v,
                                                      const char *id)
{
    for (size_t i = 0; i < v->n_nodes; i++)
        if (strcmp(v->nodes[i]->id, id) == 0)
            return v->nodes[i];
    return NULL;
}

static bool in_nodes(const kv_view_node *nodes, size_t n, const char *addr)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(nodes[i].addr, addr) == 0)
            return true;
    return false;
}

/* Nodes that are neither seeds nor in the views for retire_after_ms leave the pool (pod
 * addresses change with every reschedule: the old ones would be probed for ever); the
 * leaders and ids that name them are forgotten. Judged only on views, so a client that has
 * lost its view retires nothing. */
static void retire_absent(topo *t, const kv_view_node *nodes, size_t nn)
{
    int64_t now = clock_now_ms();
    char why[96];

    grow(t, pool_count(t->pool) - 1);
    for (int i = 0; i < pool_count(t->pool); i++) {
        if (pool_is_seed(t->pool, i) || pool_is_retired(t->pool, i) ||
            in_nodes(nodes, nn, pool_addr(t->pool, i))) {
            t->absent_ms[i] = 0;
            continue;
        }
        if (t->absent_ms[i] == 0) {
            t->absent_ms[i] = now;
            continue;
        }
        if (now - t->absent_ms[i] < t->retire_after_ms)
            continue;
        snprintf(why, sizeof(why), "neither configured nor in the views for %d ms",
                 t->retire_after_ms);
        pool_retire(t->pool, i, why);
        t->absent_ms[i] = 0;
        t->ids[i][0] = '\0';
        for (uint32_t s = 0; s <= t->total_shards; s++)
            if (t->leader[s] == i)
                set_leader(t, s, -1);
    }
}

static void apply_view(topo *t, watch *w, const Norikv__V1__ClusterView *v)
{
    const char *seeds[64], *via = pool_addr(t->pool, w->node);
    size_t ns = seed_addrs(t, seeds, 64);
    kv_view_node *nodes = xcalloc(v->n_nodes + 1, sizeof(*nodes)), *old_nodes;
    int *index = xcalloc(v->n_nodes + 1, sizeof(*index));
    kv_leader_change *changes = NULL;
    const char **added = NULL, **removed = NULL;
    size_t nn = 0, nchanges = 0, nadded = 0, nremoved = 0;
    bool listeners = false;
    kv_topology_event ev;

    for (int i = 0; i < MAX_LISTENERS; i++)
        listeners |= t->listeners[i].fn != NULL;

    for (size_t i = 0; i < v->n_nodes; i++) {
        const Norikv__V1__ClusterNode *vn = v->nodes[i];
        char addr[POOL_ADDR_MAX];
        int idx;
        if (!topo_map_addr(vn->addr, via, seeds, ns, addr, sizeof(addr)))
            continue;
        if (in_nodes(nodes, nn, addr))
            continue; /* two view entries for one dialable node */
        idx = pool_add(t->pool, addr, false);
        if (idx < 0)
            continue;
        set_id(t, idx, vn->id);
        snprintf(nodes[nn].id, sizeof(nodes[nn].id), "%s", vn->id);
        snprintf(nodes[nn].addr, sizeof(nodes[nn].addr), "%s", addr);
        snprintf(nodes[nn].role, sizeof(nodes[nn].role), "%s", vn->role);
        index[nn++] = idx;
    }

    if (listeners) {
        changes = xcalloc(v->n_shards + 1, sizeof(*changes));
        added = xcalloc(nn + 1, sizeof(*added));
        removed = xcalloc(t->n_nodes + 1, sizeof(*removed));
    }
    for (size_t i = 0; i < v->n_shards; i++) {
        const Norikv__V1__ShardInfo *s = v->shards[i];
        int old, now = -1;
        bool old_listed = false;
        if (s->id >= t->total_shards)
            continue;
        old = t->leader[s->id];
        for (size_t k = 0; k < s->n_replicas; k++) {
            const Norikv__V1__ClusterNode *vn = view_node_by_id(v, s->replicas[k]->node_id);
            int idx = -1;
            for (size_t j = 0; vn != NULL && j < nn; j++)
                if (strcmp(nodes[j].id, vn->id) == 0)
                    idx = index[j];
            if (idx >= 0 && idx == old)
                old_listed = true;
            if (s->replicas[k]->leader && idx >= 0)
                now = idx;
        }
        /* No leader named: forget ours only if the view says it is not, or does not know it. */
        if (now < 0 && old >= 0 && !old_listed && in_nodes(nodes, nn, pool_addr(t->pool, old)))
            now = old;
        if (now == old)
            continue;
        set_leader(t, s->id, now);
        if (listeners) {
            changes[nchanges].shard = s->id;
            changes[nchanges].old_addr = old >= 0 ? pool_addr(t->pool, old) : NULL;
            changes[nchanges].new_addr = now >= 0 ? pool_addr(t->pool, now) : NULL;
            nchanges++;
        }
    }
    /* A node the view lists again after it was gone may be back: probe it now rather than
     * after its interval (a probe, not a call: the view is another node's opinion). */
    for (size_t i = 0; i < nn; i++)
        if (t->has_view && !in_nodes(t->nodes, t->n_nodes, nodes[i].addr))
            pool_probe_soon(t->pool, index[i]);
    if (listeners) {
        for (size_t i = 0; i < nn; i++)
            if (!in_nodes(t->nodes, t->n_nodes, nodes[i].addr))
                added[nadded++] = nodes[i].addr;
        for (size_t i = 0; i < t->n_nodes; i++)
            if (!in_nodes(nodes, nn, t->nodes[i].addr))
                removed[nremoved++] = t->nodes[i].addr;
    }

    ev.has_previous = t->has_view;
    ev.previous_epoch = t->epoch;
    ev.epoch = v->epoch;
    t->has_view = true;
    t->epoch = v->epoch;
    t->view_shards = v->n_shards;
    t->counters->topology_views++;
    /* the old node list lives until the listeners are told: removed[] points into it */
    old_nodes = t->nodes;
    t->nodes = nodes;
    t->n_nodes = nn;

    if (listeners && (nadded || nremoved || nchanges || !ev.has_previous)) {
        ev.added = added;
        ev.n_added = nadded;
        ev.removed = removed;
        ev.n_removed = nremoved;
        ev.changes = changes;
        ev.n_changes = nchanges;
        t->counters->topology_events++;
        for (int i = 0; i < MAX_LISTENERS; i++)
            if (t->listeners[i].fn != NULL)
                t->listeners[i].fn(&ev, t->listeners[i].arg);
    }
    retire_absent(t, nodes, nn);
    free(old_nodes);
    free(index);
    free(changes);
    free(added);
    free(removed);
}

/* ---- the stream --------------------------------------------------------------------- */

static void schedule_resubscribe(topo *t, bool at_once);

static void mark_live(topo *t, watch *w, uint64_t epoch)
{
    /* the stream's node answers: one counted as down is up again, for calls too */
    pool_heard(t->pool, w->node, clock_now_ms());
    if (t->live || t->w != w)
        return;
    t->live = true;
    if (t->lost_ms > 0)
        log_flag_change(&t->lost_log, false, LOG_NOTICE,
                        "cluster view regained from %s (epoch %llu) after %lld ms",
                        pool_addr(t->pool, w->node), (unsigned long long)epoch,
                        (long long)(clock_now_ms() - t->lost_ms));
    t->lost_ms = 0;
}

static void watch_unref(watch *w)
{
    if (--w->refs > 0)
        return;
    if (w->send != NULL)
        grpc_byte_buffer_destroy(w->send);
    if (w->recv != NULL)
        grpc_byte_buffer_destroy(w->recv);
    grpc_metadata_array_destroy(&w->initial);
    grpc_metadata_array_destroy(&w->trailing);
    grpc_slice_unref(w->details);
    if (w->call != NULL)
        grpc_call_unref(w->call);
    free(w);
}

static bool arm_recv(watch *w)
{
    grpc_op op;

    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &w->recv;
    w->refs++;
    if (grpc_call_start_batch(w->call, &op, 1, &w->on_msg, NULL) != GRPC_CALL_OK) {
        w->refs--;
        return false;
    }
    return true;
}

static void on_watch_start(evgrpc_tag *tag, bool ok)
{
    watch *w = (watch *)((char *)tag - offsetof(watch, on_start));

    (void)ok;
    watch_unref(w);
}

static void on_watch_msg(evgrpc_tag *tag, bool ok)
{
    watch *w = (watch *)((char *)tag - offsetof(watch, on_msg));
    Norikv__V1__ClusterView *v;

    if (!ok || w->recv == NULL || w->t == NULL) { /* the stream is over */
        watch_unref(w);
        return;
    }
    v = (Norikv__V1__ClusterView *)pbgrpc_unpack(w->recv, &norikv__v1__cluster_view__descriptor);
    grpc_byte_buffer_destroy(w->recv);
    w->recv = NULL;
    if (v != NULL) {
        /* Epochs are per node and restart with it: compare only within this stream. */
        pool_heard(w->t->pool, w->node, clock_now_ms()); /* any view: the node is there */
        if (!w->got_view || v->epoch > w->last_epoch) {
            w->got_view = true;
            w->last_epoch = v->epoch;
            w->t->backoff_ms = RESUBSCRIBE_INITIAL_MS;
            apply_view(w->t, w, v);
            mark_live(w->t, w, v->epoch);
        }
        protobuf_c_message_free_unpacked(&v->base, NULL);
    }
    if (!arm_recv(w))
        grpc_call_cancel(w->call, NULL);
    watch_unref(w);
}

static void on_watch_status(evgrpc_tag *tag, bool ok)
{
    watch *w = (watch *)((char *)tag - offsetof(watch, on_status));
    topo *t = w->t;
    char *details;

    (void)ok;
    if (t != NULL) {
        t->w = NULL;
        details = grpc_slice_to_c_string(w->details);
        snprintf(t->stream_error, sizeof(t->stream_error), "WatchCluster stream to %s ended: %s %s",
                 pool_addr(t->pool, w->node), pbgrpc_status_name(w->status),
                 details[0] ? details : "(no message)");
        gpr_free(details);
        if (w->status != GRPC_STATUS_OK || !w->got_view) {
            t->counters->topology_watch_failures++;
            log_limited(&t->watch_log, LOG_WARNING, "%s%s", t->stream_error,
                        w->got_view ? "" : " before any view");
        }
        if (t->live) {
            t->live = false;
            t->lost_ms = clock_now_ms();
            log_flag_change(&t->lost_log, true, LOG_WARNING,
                            "cluster view lost (%s); routing on the last view (epoch %llu) "
                            "while resubscribing",
                            t->stream_error, (unsigned long long)t->epoch);
        }
        /* A stream that served views for a while and ended: the next seed at once, the
         * usual pause only when that fails too. */
        schedule_resubscribe(t,
                             w->moved || (w->got_view && clock_now_ms() - w->started_ms >= 1000));
    }
    watch_unref(w);
}

/* The node the next stream goes to: the next seed not marked down, else any node not
 * marked down (one the views taught), else none (then the stream waits for a node to come
 * back: topo_node_up). */
static int pick_node(topo *t)
{
    int n = pool_count(t->pool);
    int64_t now = clock_now_ms();

    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < n; k++) {
            int i = (t->next_seed + k) % n;
            if ((pass == 1 || pool_is_seed(t->pool, i)) && pool_usable(t->pool, i, now)) {
                t->next_seed = i + 1;
                return i;
            }
        }
    }
    return -1;
}

static void start_watch(topo *t)
{
    Norikv__V1__ClusterView empty = NORIKV__V1__CLUSTER_VIEW__INIT;
    grpc_op ops[4];
    watch *w;
    int node = pick_node(t);

    if (node < 0)
        return;
    w = xcalloc(1, sizeof(*w));
    w->t = t;
    w->node = node;
    w->started_ms = clock_now_ms();
    w->on_start.done = on_watch_start;
    w->on_msg.done = on_watch_msg;
    w->on_status.done = on_watch_status;
    w->details = grpc_empty_slice();
    grpc_metadata_array_init(&w->initial);
    grpc_metadata_array_init(&w->trailing);
    w->call = pool_call(t->pool, node, POOL_CALL_STREAM, METHOD_WATCH_CLUSTER, evgrpc_cq(t->eg),
                        gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    w->refs = 1;
    if (w->call == NULL) {
        watch_unref(w);
        schedule_resubscribe(t, false);
        return;
    }
    t->counters->topology_watch_streams++;
    t->w = w;
    w->send = pbgrpc_pack(&empty.base);

    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = w->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &w->initial;
    if (grpc_call_start_batch(w->call, ops, 4, &w->on_start, NULL) != GRPC_CALL_OK) {
        t->w = NULL;
        watch_unref(w);
        schedule_resubscribe(t, false);
        return;
    }
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[0].data.recv_status_on_client.trailing_metadata = &w->trailing;
    ops[0].data.recv_status_on_client.status = &w->status;
    ops[0].data.recv_status_on_client.status_details = &w->details;
    w->refs++;
    if (grpc_call_start_batch(w->call, ops, 1, &w->on_status, NULL) != GRPC_CALL_OK) {
        /* its end would never be told, and the view never resubscribed: drop it (the
         * started batch completes and lets go of it) and try again after a pause */
        w->refs--;
        w->t = NULL;
        t->w = NULL;
        grpc_call_cancel(w->call, NULL);
        schedule_resubscribe(t, false);
        return;
    }
    if (!arm_recv(w))
        grpc_call_cancel(w->call, NULL);
}

static void on_resubscribe(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    start_watch(arg);
}

static void schedule_resubscribe(topo *t, bool at_once)
{
    struct timeval tv = {t->backoff_ms / 1000, (t->backoff_ms % 1000) * 1000};

    if (at_once) {
        tv.tv_sec = 0;
        tv.tv_usec = 0;
        evtimer_add(t->resubscribe, &tv);
        return;
    }
    evtimer_add(t->resubscribe, &tv);
    t->backoff_ms = t->backoff_ms * 2 > RESUBSCRIBE_MAX_MS ? RESUBSCRIBE_MAX_MS : t->backoff_ms * 2;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

topo *topo_new(struct event_base *base, evgrpc *eg, pool *p, uint32_t total_shards,
               bool watch_cluster, int retire_after_ms, kv_stats *counters)
{
    topo *t = xcalloc(1, sizeof(*t));

    t->retire_after_ms = retire_after_ms;
    t->base = base;
    t->eg = eg;
    t->pool = p;
    t->total_shards = total_shards;
    t->watch_enabled = watch_cluster;
    t->counters = counters;
    t->backoff_ms = RESUBSCRIBE_INITIAL_MS;
    t->leader = xmalloc(((size_t)total_shards + 1) * sizeof(*t->leader));
    t->resubscribe = evtimer_new(base, on_resubscribe, t);
    if (t->resubscribe == NULL) {
        topo_free(t);
        return NULL;
    }
    for (uint32_t s = 0; s <= total_shards; s++)
        t->leader[s] = -1;
    if (watch_cluster)
        start_watch(t);
    return t;
}

void topo_free(topo *t)
{
    if (t == NULL)
        return;
    if (t->w != NULL) {
        t->w->t = NULL;
        grpc_call_cancel(t->w->call, NULL);
    }
    if (t->resubscribe != NULL)
        event_free(t->resubscribe);
    free(t->leader);
    free(t->nodes);
    free(t->ids);
    free(t->absent_ms);
    free(t);
}

int topo_subscribe(topo *t, topo_listener *fn, void *arg)
{
    for (int i = 0; i < MAX_LISTENERS; i++) {
        if (t->listeners[i].fn == NULL) {
            t->listeners[i].fn = fn;
            t->listeners[i].arg = arg;
            return i;
        }
    }
    return -1;
}

void topo_unsubscribe(topo *t, int id)
{
    if (id >= 0 && id < MAX_LISTENERS)
        t->listeners[id].fn = NULL;
}

bool topo_live(const topo *t, const char **why)
{
    *why = t->stream_error[0] ? t->stream_error : "no WatchCluster stream has delivered a view yet";
    return t->live;
}

void topo_log_due(topo *t)
{
    unsigned held;

    if (!log_flag_due(&t->lost_log, &held))
        return;
    if (t->lost_log.now)
        log_write_held(LOG_WARNING, held, "cluster view lost (%s)", t->stream_error);
    else
        log_write_held(LOG_NOTICE, held, "cluster view regained (epoch %llu)",
                       (unsigned long long)t->epoch);
}

void topo_node_up(topo *t, int node)
{
    struct timeval now = {0, 0};

    (void)node;
    /* no stream (every node was down, or the last one failed): one now, pause or not */
    if (t->watch_enabled && t->w == NULL)
        evtimer_add(t->resubscribe, &now);
}

void topo_node_down(topo *t, int node)
{
    /* the stream's node is gone: the stream goes to another node now rather than when
     * its connection gives up */
    if (t->w != NULL && t->w->node == node) {
        t->w->moved = true;
        grpc_call_cancel(t->w->call, NULL);
    }
}

void topo_kick(topo *t)
{
    struct timeval now = {0, 0};
    int64_t ms;

    if (!t->watch_enabled || t->w != NULL || !evtimer_pending(t->resubscribe, NULL))
        return;
    /* at most once a second: a cluster whose calls work but whose stream keeps failing must
     * not get a new stream per call */
    ms = clock_now_ms();
    if (ms - t->kicked_ms < RESUBSCRIBE_INITIAL_MS)
        return;
    t->kicked_ms = ms;
    evtimer_add(t->resubscribe, &now);
}

bool topo_watching(const topo *t)
{
    return t->watch_enabled;
}

void topo_get_stats(const topo *t, kv_stats *st)
{
    st->has_view = t->has_view;
    st->topology_view_live = t->live;
    st->topology_current_epoch = t->epoch;
    st->topology_total_nodes = t->n_nodes;
    st->topology_total_shards = t->view_shards;
    st->topology_cached_leaders = t->cached;
}

const kv_view_node *topo_nodes(const topo *t, size_t *n)
{
    *n = t->n_nodes;
    return t->has_view ? t->nodes : NULL;
}

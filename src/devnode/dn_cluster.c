/*
 * dn_cluster: shard leadership (round-robin or a seeded shuffle at start), elections
 * after a node dies,
 * epochs and the ClusterView messages. Owns d->shards and the election and tick
 * timers. Must never block: an election is a timer, not a wait.
 */
#include "dn_cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dn_server.h"
#include "norikv.pb-c.h"
#include "parse.h"
#include "pbgrpc.h"
#include "xalloc.h"

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    devnode *d = arg;

    (void)fd;
    (void)what;
    dn_cluster_changed(d);
}

static int alive_count(const devnode *d)
{
    int n = 0;

    for (int i = 0; i < d->o.nodes; i++)
        n += d->nodes[i].alive;
    return n;
}

/* Leaderless shards go round-robin to the nodes that are up. */
static void elect(devnode *d)
{
    int up[DN_MAX_NODES], nup = 0;
    uint32_t next = 0;
    bool changed = false;

    for (int i = 0; i < d->o.nodes; i++)
        if (d->nodes[i].alive)
            up[nup++] = i;
    if (nup == 0)
        return;
    for (uint32_t s = 0; s < d->o.total_shards; s++) {
        if (d->shards[s].leader < 0) {
            d->shards[s].leader = up[next++ % (uint32_t)nup];
            changed = true;
        }
    }
    if (changed)
        dn_cluster_changed(d);
}

static void on_election(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    elect(arg);
}

/* The round-robin assignment (each node leads its share), shuffled with a generator of
 * its own seeded by --leader-seed (Fisher-Yates): reproducible, balanced, and led where a
 * client guesses (shard % nodes) for about 1/nodes of the shards only. */
static void shuffle_leaders(devnode *d)
{
    uint64_t rng = d->o.leader_seed ^ 0x9e3779b97f4a7c15ULL;

    if (rng == 0)
        rng = 1;
    for (uint32_t s = d->o.total_shards; s > 1; s--) {
        uint32_t k = (uint32_t)(dn_random(&rng) * s);
        int t;
        if (k >= s)
            k = s - 1;
        t = d->shards[s - 1].leader;
        d->shards[s - 1].leader = d->shards[k].leader;
        d->shards[k].leader = t;
    }
}

int dn_cluster_init(devnode *d)
{
    struct timeval tv = {d->o.view_interval_ms / 1000, (d->o.view_interval_ms % 1000) * 1000};

    d->shards = xcalloc(d->o.total_shards, sizeof(*d->shards));
    for (uint32_t s = 0; s < d->o.total_shards; s++)
        d->shards[s].leader = (int)(s % (uint32_t)d->o.nodes);
    if (d->o.leaders == DN_LEADERS_SHUFFLE)
        shuffle_leaders(d);
    d->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
    d->election = evtimer_new(d->base, on_election, d);
    if (d->tick == NULL || d->election == NULL || event_add(d->tick, &tv) != 0)
        return -1;
    d->epoch = 1;
    return 0;
}

void dn_cluster_free(devnode *d)
{
    if (d->tick != NULL)
        event_free(d->tick);
    if (d->election != NULL)
        event_free(d->election);
    d->tick = d->election = NULL;
    free(d->shards);
    d->shards = NULL;
}

bool dn_cluster_hint(const devnode *d, uint32_t shard, char *buf, size_t len)
{
    int leader = d->shards[shard].leader;

    if (leader < 0)
        return false;
    if (d->o.hint_form == DN_HINT_ADDR)
        snprintf(buf, len, "%s", d->nodes[leader].addr);
    else
        snprintf(buf, len, "%s-shard%u", d->nodes[leader].id, shard);
    return true;
}

bool dn_cluster_leads(devnode *d, const dn_node *n, uint32_t shard, const char *reason, dn_reply *r)
{
    dn_shard *s = &d->shards[shard];
    int64_t now = clock_now_ms();
    char hint[96];
    bool has_hint;

    if (s->touched_ms == 0)
        s->touched_ms = now;
    if (s->leader == n->index && now - s->touched_ms >= d->o.fresh_shard_ms)
        return true;

    d->st.not_leader++;
    /* A fresh shard is still electing: nobody can be named. */
    has_hint = s->leader != n->index && dn_cluster_hint(d, shard, hint, sizeof(hint));
    if (d->o.not_leader == DN_NL_UNAVAILABLE)
        dn_reply_error(r, GRPC_STATUS_UNAVAILABLE, "%s", reason);
    else
        dn_reply_error(r, GRPC_STATUS_FAILED_PRECONDITION, "NOT_LEADER: %s",
                       has_hint ? hint : "unknown");
    if (has_hint && d->o.hint_key != DN_HINT_NONE) {
        r->trailer_key = d->o.hint_key == DN_HINT_LEADER_HINT ? "leader-hint" : "x-norikv-leader";
        snprintf(r->trailer, sizeof(r->trailer), "%s", hint);
    }
    return false;
}

void dn_cluster_changed(devnode *d)
{
    d->epoch++;
    for (int i = 0; i < d->o.nodes; i++)
        if (d->nodes[i].alive)
            d->nodes[i].epoch++;
    dn_server_push_views(d);
}

void dn_cluster_node_down(devnode *d, dn_node *n)
{
    struct timeval tv = {d->o.election_ms / 1000, (d->o.election_ms % 1000) * 1000};

    n->alive = false;
    for (uint32_t s = 0; s < d->o.total_shards; s++)
        if (d->shards[s].leader == n->index)
            d->shards[s].leader = -1;
    if (alive_count(d) > 0)
        evtimer_add(d->election, &tv);
    dn_cluster_changed(d);
}

void dn_cluster_node_up(devnode *d, dn_node *n)
{
    n->alive = true;
    n->epoch = 0; /* a restarted node's counter starts again, as the real server's does */
    if (!evtimer_pending(d->election, NULL))
        elect(d); /* shards orphaned while every node was down */
    dn_cluster_changed(d);
}

int dn_cluster_move(devnode *d, uint32_t shard, dn_node *to)
{
    if (shard >= d->o.total_shards || !to->alive)
        return -1;
    d->shards[shard].leader = to->index;
    dn_cluster_changed(d);
    return 0;
}

dn_node *dn_cluster_node_by_name(devnode *d, const char *name, size_t len)
{
    char buf[64], *end;
    long long v;

    if (len >= sizeof(buf))
        return NULL;
    memcpy(buf, name, len);
    buf[len] = '\0';
    end = strstr(buf, "-shard");
    if (end != NULL)
        *end = '\0';
    name = strncmp(buf, "node", 4) == 0 ? buf + 4 : buf;
    if (!parse_ll(name, 1, d->o.nodes, &v))
        return NULL;
    return &d->nodes[v - 1];
}

/* The view of the whole cluster: nodes that are up, every shard with its replicas. */
static grpc_byte_buffer *cluster_view(devnode *d)
{
    Norikv__V1__ClusterView view = NORIKV__V1__CLUSTER_VIEW__INIT;
    Norikv__V1__ClusterNode nodes[DN_MAX_NODES], *node_ptrs[DN_MAX_NODES];
    Norikv__V1__ShardReplica reps[DN_MAX_NODES];
    Norikv__V1__ShardInfo *shards = xcalloc(d->o.total_shards, sizeof(*shards));
    Norikv__V1__ShardInfo **shard_ptrs = xcalloc(d->o.total_shards, sizeof(*shard_ptrs));
    Norikv__V1__ShardReplica leader_rep[DN_MAX_NODES];
    int up[DN_MAX_NODES], nup = 0;
    bool leads_any[DN_MAX_NODES] = {false};
    grpc_byte_buffer *bb;

    for (int i = 0; i < d->o.nodes; i++)
        if (d->nodes[i].alive)
            up[nup++] = i;
    for (uint32_t s = 0; s < d->o.total_shards; s++)
        if (d->shards[s].leader >= 0)
            leads_any[d->shards[s].leader] = true;

    /* Replica entries are shared between shards: one follower and one leader entry per node;
     * each shard lists the up nodes in order with its leader's entry swapped in. */
    for (int k = 0; k < nup; k++) {
        dn_node *n = &d->nodes[up[k]];
        norikv__v1__cluster_node__init(&nodes[k]);
        nodes[k].id = n->id;
        nodes[k].addr = n->addr;
        nodes[k].role = leads_any[n->index] ? "leader" : "follower";
        node_ptrs[k] = &nodes[k];
        norikv__v1__shard_replica__init(&reps[k]);
        reps[k].node_id = n->id;
        norikv__v1__shard_replica__init(&leader_rep[k]);
        leader_rep[k].node_id = n->id;
        leader_rep[k].leader = true;
    }
    view.epoch = d->epoch;
    view.n_nodes = (size_t)nup;
    view.nodes = node_ptrs;
    view.n_shards = d->o.total_shards;
    view.shards = shard_ptrs;

    /* Every shard needs its own pointer array; one allocation for all of them. */
    Norikv__V1__ShardReplica **all =
        xcalloc((size_t)d->o.total_shards * (size_t)(nup ? nup : 1), sizeof(*all));
    for (uint32_t s = 0; s < d->o.total_shards; s++) {
        Norikv__V1__ShardReplica **r = all + (size_t)s * (size_t)nup;
        norikv__v1__shard_info__init(&shards[s]);
        shards[s].id = s;
        for (int k = 0; k < nup; k++)
            r[k] = up[k] == d->shards[s].leader ? &leader_rep[k] : &reps[k];
        shards[s].n_replicas = (size_t)nup;
        shards[s].replicas = r;
        shard_ptrs[s] = &shards[s];
    }
    bb = pbgrpc_pack(&view.base);
    free(all);
    free(shards);
    free(shard_ptrs);
    return bb;
}

/* The real server's view: itself at its bind address, peers at their SWIM ports,
 * and only the shards it has instantiated, each with itself as the only replica. */
static grpc_byte_buffer *node_view(devnode *d, dn_node *self)
{
    Norikv__V1__ClusterView view = NORIKV__V1__CLUSTER_VIEW__INIT;
    Norikv__V1__ClusterNode nodes[DN_MAX_NODES], *node_ptrs[DN_MAX_NODES];
    char addrs[DN_MAX_NODES][64];
    Norikv__V1__ShardReplica me = NORIKV__V1__SHARD_REPLICA__INIT, me_leader;
    Norikv__V1__ShardReplica *me_ptr = &me, *me_leader_ptr = &me_leader;
    Norikv__V1__ShardInfo *shards = xcalloc(d->o.total_shards, sizeof(*shards));
    Norikv__V1__ShardInfo **shard_ptrs = xcalloc(d->o.total_shards, sizeof(*shard_ptrs));
    size_t ns = 0, nn = 0;
    grpc_byte_buffer *bb;

    me.node_id = self->id;
    me_leader = me;
    me_leader.leader = true;
    for (int i = 0; i < d->o.nodes; i++) {
        dn_node *n = &d->nodes[i];
        norikv__v1__cluster_node__init(&nodes[nn]);
        nodes[nn].id = n->id;
        if (n == self) {
            snprintf(addrs[nn], sizeof(addrs[nn]), "0.0.0.0:%d", n->port);
            nodes[nn].role = "unknown";
        } else {
            snprintf(addrs[nn], sizeof(addrs[nn]), "%s:%d", d->o.host, n->port + 1000);
            nodes[nn].role = n->alive ? "follower" : "failed";
        }
        nodes[nn].addr = addrs[nn];
        node_ptrs[nn] = &nodes[nn];
        nn++;
    }
    for (uint32_t s = 0; s < d->o.total_shards; s++) {
        /* Shard 0 exists from the start; the others once a request touched them. */
        if (s != 0 && d->shards[s].touched_ms == 0)
            continue;
        norikv__v1__shard_info__init(&shards[ns]);
        shards[ns].id = s;
        shards[ns].n_replicas = 1;
        shards[ns].replicas = d->shards[s].leader == self->index ? &me_leader_ptr : &me_ptr;
        shard_ptrs[ns] = &shards[ns];
        ns++;
    }
    view.epoch = self->epoch;
    view.n_nodes = nn;
    view.nodes = node_ptrs;
    view.n_shards = ns;
    view.shards = shard_ptrs;
    bb = pbgrpc_pack(&view.base);
    free(shards);
    free(shard_ptrs);
    return bb;
}

grpc_byte_buffer *dn_cluster_view(devnode *d, dn_node *n)
{
    return d->o.view == DN_VIEW_CLUSTER ? cluster_view(d) : node_view(d, n);
}

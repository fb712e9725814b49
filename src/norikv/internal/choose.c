/*
 * choose: the node of each attempt. Owns nothing: an operation's memory is the caller's,
 * and the cluster is read through choose_cluster. Must stay free of I/O, clocks and gRPC.
 */
#include "choose.h"

#include <stddef.h>

void choose_init(choose_memory *m)
{
    m->avoid = -1;
    m->sticky = -1;
    m->refused = 0;
    m->unreachable = 0;
}

static uint64_t bit(int i)
{
    return i >= 0 && i < 64 ? 1ULL << i : 0;
}

/* Whether node i is outside the mask (nodes past 63 are never masked). */
static bool unmasked(uint64_t mask, int i)
{
    return i >= 64 || !(mask & (1ULL << i));
}

static bool usable(const choose_cluster *c, int node)
{
    return c->usable(c->arg, node);
}

bool choose_none_usable(const choose_cluster *c)
{
    for (int i = 0; i < c->count; i++)
        if (usable(c, i))
            return false;
    return true;
}

static int seed_of(const choose_cluster *c)
{
    return c->seeds > 0 ? (int)(c->group % (uint32_t)c->seeds) : 0;
}

/* The cached leader unless avoided, masked or unusable, else the shard's seed or the node
 * after `avoid`, else the next usable node after it; -1 when there is none outside the
 * mask. */
static int pick(const choose_cluster *c, int avoid, uint64_t mask)
{
    int leader = c->leader, start;

    if (leader >= 0 && leader != avoid && unmasked(mask, leader) && usable(c, leader))
        return leader;
    start = avoid >= 0 ? avoid + 1 : seed_of(c);
    for (int k = 0; k < c->count; k++) {
        int i = (start + k) % c->count;
        if (i != avoid && unmasked(mask, i) && usable(c, i))
            return i;
    }
    return -1;
}

/* A node that has neither said NOT_LEADER nor been unreachable since the last pause, else
 * one not unreachable, else any usable; when every node is unusable or avoided, the one
 * we would have started with. */
static int choose(const choose_cluster *c, choose_memory *m, int avoid)
{
    const uint64_t masks[] = {m->refused | m->unreachable, m->unreachable, 0};

    for (size_t k = 0; k < sizeof(masks) / sizeof(masks[0]); k++) {
        int i = pick(c, avoid, masks[k]);
        if (i >= 0)
            return i;
    }
    if (c->leader >= 0 && c->leader != avoid)
        return c->leader;
    return avoid >= 0 && c->count > 0 ? (avoid + 1) % c->count : seed_of(c);
}

int choose_first(const choose_cluster *c, choose_memory *m)
{
    return choose(c, m, -1);
}

int choose_after_pause(const choose_cluster *c, choose_memory *m)
{
    /* A write whose outcome on a node is unknown goes back to that node while it is up,
     * leader or not: the server answers from its idempotency cache before any leader
     * check, so a write it applied is replayed there, not applied again by a new leader.
     * Otherwise the node is chosen now, not when the pause began: a view that arrived
     * meanwhile names the leader. */
    if (m->sticky >= 0 && usable(c, m->sticky))
        return m->sticky;
    return choose(c, m, m->avoid);
}

int choose_not_leader(const choose_cluster *c, choose_memory *m, int node)
{
    m->sticky = -1; /* its cache had no answer: the write is for the leader now */
    m->refused |= bit(node);
    return pick(c, node, m->refused | m->unreachable);
}

void choose_paused(choose_memory *m, int node)
{
    /* after the pause every node gets another chance: a connection that failed may have
     * been a stale one to a node that has since come back */
    m->refused = 0;
    m->unreachable = 0;
    m->avoid = node;
}

void choose_failed(choose_memory *m, int node, bool connected, bool write)
{
    /* The outcome of a write on a node still connected is unknown (a lost reply, a
     * deadline): its retry goes back there while the node is up. A node whose connection
     * is gone cannot answer from its cache: the retry goes to the leader. */
    m->sticky = write && connected ? node : -1;
    if (!connected)
        m->unreachable |= bit(node);
    m->avoid = connected ? -1 : node;
}

/*
 * choose: which node an operation's next attempt goes to. The rules (the cached leader, a
 * write's sticky node, the nodes that said NOT_LEADER or could not be reached since the last
 * pause, the deterministic seed of a shard, nodes marked down, the whole cluster down) in
 * one place, over a picture of the cluster the caller fills in: no gRPC, no clocks, no
 * pool, so the rules are tested without a cluster (tests/unit/check_choose.c).
 */
#ifndef NORIKV_CHOOSE_H
#define NORIKV_CHOOSE_H

#include <stdbool.h>
#include <stdint.h>

/* The cluster as one choice sees it. */
typedef struct choose_cluster {
    int count;      /* nodes known: 0 .. count-1 */
    int seeds;      /* nodes 0 .. seeds-1 are the seeds, in the order given */
    int leader;     /* the operation's shard's cached leader, -1 when none is known */
    uint32_t group; /* the shard (or the vector group): its seed is group % seeds */
    /* Whether a call may go to node now. */
    bool (*usable)(void *arg, int node);
    void *arg;
} choose_cluster;

/* What an operation remembers of its attempts so far. Masks hold nodes 0..63; a node past
 * 63 is never masked (it is then only avoided right after it failed). */
typedef struct choose_memory {
    int avoid;            /* not the next node (it said NOT_LEADER, or failed): -1 none */
    int sticky;           /* a write's outcome there is unknown: retried there first, -1 */
    uint64_t refused;     /* nodes that said NOT_LEADER since the last pause */
    uint64_t unreachable; /* nodes whose connection failed since the last pause */
} choose_memory;

void choose_init(choose_memory *m);

/* Whether no node is usable: the operation should fail at once. */
bool choose_none_usable(const choose_cluster *c);

/* The node of an operation's first attempt: the cached leader if usable, else the shard's
 * seed, else the next usable node; when none is usable, the leader or the seed. */
int choose_first(const choose_cluster *c, choose_memory *m);

/* The node after a pause: the sticky node while it is usable, else the first node neither
 * refused nor unreachable since the last pause, else one not unreachable, else any usable
 * (starting after the node avoided); when none is, the leader or the node after avoid. */
int choose_after_pause(const choose_cluster *c, choose_memory *m);

/* node answered NOT_LEADER without a usable hint: the next node to ask at once, or -1 when
 * every usable node has said no or cannot be reached (then choose_paused, and a pause).
 * A node marked down is never asked: it gets probes, and is usable again once one answers. */
int choose_not_leader(const choose_cluster *c, choose_memory *m, int node);

/* Every node said no: after the pause each gets another chance, the leader first. */
void choose_paused(choose_memory *m, int node);

/* node failed in a way that is retried after a pause (connected: the server answered, or
 * the connection stayed up; write: the operation carries an idempotency key, so a retry
 * on that same node is answered from its cache). */
void choose_failed(choose_memory *m, int node, bool connected, bool write);

#endif

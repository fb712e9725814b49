/*
 * health: the active health checks of the pool's nodes. A probe is a Meta/WatchCluster
 * call that ends at its first view: a node marked down is probed every probe_interval_ms,
 * in the background, never with a user's operation; a node up but silent that long (idle,
 * or its calls slow) is probed too, so a node that dies with no traffic is marked down
 * within one interval. A node that owes an answer and has said nothing for
 * connect_timeout_ms is marked down here too. Loop thread only.
 */
#ifndef NORIKV_HEALTH_H
#define NORIKV_HEALTH_H

#include <event2/event.h>

#include "evgrpc.h"
#include "kv.h"
#include "pool.h"

typedef struct health health;

/* counters is the client's statistics, where health counts its probes. */
health *health_new(struct event_base *base, evgrpc *eg, pool *p, kv_stats *counters);
/* Cancels the probes out; each frees itself when its completions arrive. */
void health_free(health *h);
/* node owes an answer now (an attempt went to it): check it in time. */
void health_watch(health *h, int node);
/* The pool's state or timing changed: look at every node now. */
void health_kick(health *h);

#endif

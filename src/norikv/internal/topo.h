/*
 * topo: the client's picture of the cluster. Watches Meta/WatchCluster on one stream
 * (re-subscribed with backoff to the next seed when it ends), keeps the last good view,
 * compares epochs only within one stream, maps undialable view addresses back to the
 * seeds, caches shard leaders (from views, hints and successful calls) and tells
 * subscribers what changed. Logs streams that fail and the view being lost and regained,
 * each under its own rate limit. Loop thread only.
 */
#ifndef NORIKV_TOPO_H
#define NORIKV_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "evgrpc.h"
#include "kv.h"
#include "pool.h"

typedef struct topo topo;

typedef kv_topology_listener topo_listener;

/* counters is the client's statistics, where topo counts its views, streams and events. */
topo *topo_new(struct event_base *base, evgrpc *eg, pool *p, uint32_t total_shards,
               bool watch_cluster, int retire_after_ms, kv_stats *counters);
/* Cancels the stream; the stream object frees itself when its batches complete. */
void topo_free(topo *t);

/* The cached leader of shard (a pool index), or -1. */
int topo_leader(const topo *t, uint32_t shard);
/* Learned from a hint or a successful call. */
void topo_set_leader(topo *t, uint32_t shard, int node);
/* node said NOT_LEADER without a hint: forget it as shard's leader. */
void topo_forget_leader(topo *t, uint32_t shard, int node);
/* The pool index a hint names ("host:port" or a Raft id "nodeK-shardN"), or -1. via is
 * the node that sent the hint (for unspecified hosts). */
int topo_resolve_hint(topo *t, const char *hint, size_t len, int via);

int topo_subscribe(topo *t, topo_listener *fn, void *arg);
void topo_unsubscribe(topo *t, int id);

/* Whether a WatchCluster stream is open and has delivered a view; *why says how the last
 * stream ended (or that none has delivered one yet). */
bool topo_live(const topo *t, const char **why);
/* Tells, once its rate limit allows, a view lost or regained while lines about it were
 * held back. Once a second. */
void topo_log_due(topo *t);
/* A node answered a call: if the stream is waiting out a pause, resubscribe now (at most
 * once a second). */
void topo_kick(topo *t);
/* The pool marked node up: with no stream open, one starts now. */
void topo_node_up(topo *t, int node);
/* The pool marked node down: a stream on it moves to another node now. */
void topo_node_down(topo *t, int node);
/* Whether the client watches the cluster at all (watch_cluster). */
bool topo_watching(const topo *t);
/* Fills the topology gauges of st, and has_view. */
void topo_get_stats(const topo *t, kv_stats *st);
/* The nodes of the current view (count in *n); NULL before any view. */
const kv_view_node *topo_nodes(const topo *t, size_t *n);
uint32_t topo_total_shards(const topo *t);
/* The id views gave pool node `node`, "" if none. */
const char *topo_node_id(const topo *t, int node);

/* Pure helpers, exposed for tests. */

/* Splits "host:port" / "[v6]:port"; false when it is not one. */
bool topo_split_addr(const char *addr, char *host, size_t hostlen, int *port);
/* A view address made dialable: an unspecified host (0.0.0.0, ::) becomes via's host, or
 * the one seed with that port if via's host has none; an address whose port is a seed's
 * port + 1000 on the seed's host (a SWIM peer address) is that seed. False when nothing
 * dialable can be made of it, a SWIM address on another host among them (its port a
 * seed's + 1000: the real server's peers, listed by the address they gossip on, not by
 * the one that serves gRPC). */
bool topo_map_addr(const char *addr, const char *via, const char *const *seeds, size_t nseeds,
                   char *out, size_t outlen);
/* "nodeK-shardN" -> "nodeK"; other ids unchanged. */
void topo_raft_node_id(const char *hint, size_t len, char *out, size_t outlen);

#endif

/*
 * dn_cluster: who leads what in the devnode cluster, and the views it pushes.
 * Owns shard leadership, epochs, elections after a node dies, and the ClusterView
 * each node sends. Knows nothing of gRPC calls: dn_server starts and stops servers.
 */
#ifndef NORIKV_DN_CLUSTER_H
#define NORIKV_DN_CLUSTER_H

#include "devnode.h"
#include "dn_util.h"

int dn_cluster_init(devnode *d);
void dn_cluster_free(devnode *d);

/* Marks the shard touched (fresh-shard window) and tells whether n leads it now.
 * When it does not, fills r with the NOT_LEADER answer of the configured style,
 * with reason as the message ("NOT_LEADER" or "NOT_LEADER: ...") and the hint trailer. */
bool dn_cluster_leads(devnode *d, const dn_node *n, uint32_t shard, const char *reason,
                      dn_reply *r);
/* Fills buf with the hint for shard's leader in the configured form; false if none. */
bool dn_cluster_hint(const devnode *d, uint32_t shard, char *buf, size_t len);

void dn_cluster_node_down(devnode *d, dn_node *n);
void dn_cluster_node_up(devnode *d, dn_node *n);
int dn_cluster_move(devnode *d, uint32_t shard, dn_node *to);
/* The epoch moves on; views are pushed to every watcher. */
void dn_cluster_changed(devnode *d);

/* The packed view node n sends now, as a new byte buffer (the caller destroys it). */
grpc_byte_buffer *dn_cluster_view(devnode *d, dn_node *n);
/* Parses "3", "node3" or "node3-shard12" into a node; NULL when it names none. */
dn_node *dn_cluster_node_by_name(devnode *d, const char *name, size_t len);

#endif

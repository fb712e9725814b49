/*
 * dn_kv: the Kv service of the devnode (Put, Get, Delete) over one in-memory store
 * shared by all nodes, with the real server's order of checks, messages, versions,
 * TTL and idempotency cache. Owns d->kv, d->idem, d->history and the node caches.
 */
#ifndef NORIKV_DN_KV_H
#define NORIKV_DN_KV_H

#include <protobuf-c/protobuf-c.h>

#include "devnode.h"
#include "dn_util.h"

void dn_kv_init(devnode *d);
void dn_kv_free(devnode *d);
/* Drops a node's own idempotency cache, as a restart of the real server does. */
void dn_kv_node_restarted(devnode *d, dn_node *n);

/* "", strong, eventual, bounded_staleness; else INVALID_ARGUMENT as the server words it. */
bool dn_consistency_ok(const char *level, dn_reply *r);

void dn_kv_put(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);
void dn_kv_get(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);
void dn_kv_delete(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);
/* Put's and Delete's apply, once their checks passed: at once, or at the node's next
 * commit tick when --commit-tick-ms is set (the real server's Raft commits a proposal on
 * its next 150 ms heartbeat, and checks a Put's if_match when the call arrives, so two
 * conditional Puts on one version within one tick both succeed). */
void dn_kv_put_commit(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);
void dn_kv_delete_commit(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);
void dn_admin_transfer_shard(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);
/* Admin/SnapshotShard: OK with the shard's id and n as its one replica (leader=true when n
 * leads it) for a shard below total_shards, NOT_FOUND otherwise. Nothing is snapshotted:
 * the store is memory only. */
void dn_admin_snapshot_shard(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);

#endif

/*
 * dn_kv: Put/Get/Delete as the NoriKV server answers them:
 * size checks, then the idempotency cache (before any leader or CAS check), then CAS,
 * then the leader check and the apply. Versions are {0, shard log index}. It also keeps
 * the apply history that lets tests prove no write was applied twice.
 */
#include "dn_kv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "clock.h"
#include "dn_cluster.h"
#include "norikv.pb-c.h"
#include "pbgrpc.h"
#include "route.h"
#include "xalloc.h"

typedef struct dn_entry {
    dn_version version;
    int64_t expires_ms; /* 0: never */
    size_t len;
    unsigned char value[];
} dn_entry;

typedef struct history {
    size_t n, cap;
    uint64_t hashes[];
} history;

static void free_val(void *v)
{
    free(v);
}

void dn_kv_init(devnode *d)
{
    d->kv = dn_table_new(free_val);
    d->idem = dn_table_new(free_val);
    d->history = dn_table_new(free_val);
    for (int i = 0; i < d->o.nodes; i++)
        d->nodes[i].idem = dn_table_new(free_val);
}

void dn_kv_free(devnode *d)
{
    dn_table_free(d->kv);
    dn_table_free(d->idem);
    dn_table_free(d->history);
    for (int i = 0; i < d->o.nodes; i++) {
        dn_table_free(d->nodes[i].idem);
        d->nodes[i].idem = NULL;
    }
}

void dn_kv_node_restarted(devnode *d, dn_node *n)
{
    (void)d;
    dn_table_free(n->idem);
    n->idem = dn_table_new(free_val);
}

static dn_table *idem_cache(devnode *d, dn_node *n)
{
    return d->o.idem_per_node ? n->idem : d->idem;
}

static const dn_version *idem_lookup(devnode *d, dn_node *n, const char *key)
{
    void **slot;

    if (key == NULL || key[0] == '\0')
        return NULL;
    slot = dn_table_get(idem_cache(d, n), key, strlen(key));
    if (slot == NULL)
        return NULL;
    d->st.idempotent_replays++;
    return *slot;
}

static void idem_store(devnode *d, dn_node *n, const char *key, dn_version v)
{
    void **slot;
    dn_version *copy;

    if (key == NULL || key[0] == '\0')
        return;
    slot = dn_table_put(idem_cache(d, n), key, strlen(key));
    copy = xmalloc(sizeof(*copy));
    *copy = v;
    free(*slot);
    *slot = copy;
}

/* The live entry of key: expired entries read as absent and are dropped. */
static dn_entry *live_entry(devnode *d, const ProtobufCBinaryData *key)
{
    void **slot = dn_table_get(d->kv, key->data, key->len);
    dn_entry *e;

    if (slot == NULL)
        return NULL;
    e = *slot;
    if (e->expires_ms != 0 && clock_now_ms() >= e->expires_ms) {
        dn_table_del(d->kv, key->data, key->len);
        return NULL;
    }
    return e;
}

static void note_apply(devnode *d, const ProtobufCBinaryData *key, const ProtobufCBinaryData *val)
{
    uint64_t h = XXH64(val->data, val->len, 0);
    void **slot = dn_table_put(d->history, key->data, key->len);
    history *hist = *slot;

    for (size_t i = 0; hist != NULL && i < hist->n; i++) {
        if (hist->hashes[i] == h) {
            d->st.duplicate_applies++;
            return;
        }
    }
    if (hist == NULL || hist->n == hist->cap) {
        size_t cap = hist ? hist->cap * 2 : 2;
        history *grown = xrealloc(hist, sizeof(*hist) + cap * sizeof(uint64_t));
        if (hist == NULL)
            grown->n = 0;
        grown->cap = cap;
        hist = grown;
        *slot = hist;
    }
    hist->hashes[hist->n++] = h;
}

/* When a Put with ttl_ms made at now_ms expires: 0 never; a TTL past the end of the clock
 * saturates at INT64_MAX (never reached) instead of wrapping to an instant expiry. */
static int64_t expiry_ms(int64_t now_ms, uint64_t ttl_ms)
{
    if (ttl_ms == 0)
        return 0;
    if (now_ms < 0 || ttl_ms >= (uint64_t)(INT64_MAX - now_ms))
        return INT64_MAX;
    return now_ms + (int64_t)ttl_ms;
}

static bool key_too_big(const ProtobufCBinaryData *key, dn_reply *r)
{
    if (key->len <= DN_KEY_LIMIT)
        return false;
    dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT, "Key size %zu exceeds limit %u", key->len,
                   DN_KEY_LIMIT);
    return true;
}

static void reply_put(dn_reply *r, dn_version v)
{
    Norikv__V1__PutResponse resp = NORIKV__V1__PUT_RESPONSE__INIT;
    Norikv__V1__Version ver = NORIKV__V1__VERSION__INIT;

    ver.term = v.term;
    ver.index = v.index;
    resp.version = &ver;
    r->payload = pbgrpc_pack(&resp.base);
}

static void reply_delete(dn_reply *r, dn_version v)
{
    Norikv__V1__DeleteResponse resp = NORIKV__V1__DELETE_RESPONSE__INIT;
    Norikv__V1__Version ver = NORIKV__V1__VERSION__INIT;

    ver.term = v.term;
    ver.index = v.index;
    resp.tombstoned = true; /* always, as the real server: it writes a tombstone either way */
    resp.version = &ver;
    r->payload = pbgrpc_pack(&resp.base);
}

/* Whether a write to shard, arriving now, races the one before it: the real server reads
 * the log's last index and appends at the next without a lock, so writes to one shard that
 * arrive together get one index; each is acknowledged and the log keeps one. Modelled as:
 * a write within --propose-race-us of the previous one to its shard, in the same commit
 * tick, is acknowledged with that one's version and not applied. */
static bool propose_race(devnode *d, uint32_t shard)
{
    dn_shard *s = &d->shards[shard];
    int64_t now = clock_now_us(), tick = clock_now_ms() / d->o.commit_tick_ms;
    bool raced = d->o.propose_race_us > 0 && s->last_write_tick == tick &&
                 now - s->last_write_us <= d->o.propose_race_us;

    s->last_write_us = now;
    s->last_write_tick = tick;
    return raced;
}

/* With a commit tick, a write whose checks passed is left to `commit` at the node's next
 * tick (the server keeps the request until then); false: it is to be applied now. */
static bool commit_later(devnode *d, uint32_t shard, dn_reply *r, dn_commit_fn *commit)
{
    if (d->o.commit_tick_ms <= 0)
        return false;
    r->commit = commit;
    r->raced = propose_race(d, shard);
    return true;
}

/* Whether a write kept for its tick ends at its commit without being applied: leadership
 * moved before the tick (NOT_LEADER: the proposal is not committed), or it raced the write
 * before it (the version that one got, nothing applied). */
static bool not_applied(devnode *d, dn_node *n, uint32_t shard, dn_reply *r, bool put)
{
    dn_version v = {0, d->shards[shard].raft_index};

    if (d->o.commit_tick_ms > 0 && !dn_cluster_leads(d, n, shard, "NOT_LEADER", r))
        return true;
    if (!r->raced)
        return false;
    d->st.writes_lost_to_races++;
    if (put)
        reply_put(r, v);
    else
        reply_delete(r, v);
    return true;
}

void dn_kv_put(devnode *d, dn_node *n, const ProtobufCMessage *msg, dn_reply *r)
{
    const Norikv__V1__PutRequest *req = (const Norikv__V1__PutRequest *)msg;
    const dn_version *cached;
    uint32_t shard;
    dn_entry *e;

    if (key_too_big(&req->key, r))
        return;
    if (req->value.len > DN_VALUE_LIMIT) {
        dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT, "Value size %zu exceeds limit %u",
                       req->value.len, DN_VALUE_LIMIT);
        return;
    }
    if ((cached = idem_lookup(d, n, req->idempotency_key)) != NULL) {
        reply_put(r, *cached);
        return;
    }
    shard = route_shard(req->key.data, req->key.len, d->o.total_shards);
    if (req->if_match != NULL) {
        if (!dn_cluster_leads(d, n, shard, "NOT_LEADER: CAS requires leader", r))
            return;
        e = live_entry(d, &req->key);
        if (e == NULL) {
            dn_reply_error(r, GRPC_STATUS_FAILED_PRECONDITION, "CAS failed: key does not exist");
            return;
        }
        if (e->version.term != req->if_match->term || e->version.index != req->if_match->index) {
            dn_reply_error(
                r, GRPC_STATUS_FAILED_PRECONDITION,
                "Version mismatch: expected term=%llu index=%llu, got term=%llu index=%llu",
                (unsigned long long)req->if_match->term, (unsigned long long)req->if_match->index,
                (unsigned long long)e->version.term, (unsigned long long)e->version.index);
            return;
        }
    }
    if (!dn_cluster_leads(d, n, shard, "NOT_LEADER", r))
        return;
    if (!commit_later(d, shard, r, dn_kv_put_commit)) /* the checks are all done, as the server's */
        dn_kv_put_commit(d, n, msg, r);
}

void dn_kv_put_commit(devnode *d, dn_node *n, const ProtobufCMessage *msg, dn_reply *r)
{
    const Norikv__V1__PutRequest *req = (const Norikv__V1__PutRequest *)msg;
    uint32_t shard = route_shard(req->key.data, req->key.len, d->o.total_shards);
    dn_entry *e;
    void **slot;
    dn_version v;

    if (not_applied(d, n, shard, r, true))
        return;
    slot = dn_table_put(d->kv, req->key.data, req->key.len);
    e = xrealloc(*slot, sizeof(*e) + req->value.len);
    *slot = e;
    v.term = 0;
    v.index = ++d->shards[shard].raft_index;
    e->version = v;
    e->expires_ms = expiry_ms(clock_now_ms(), req->ttl_ms);
    e->len = req->value.len;
    if (req->value.len > 0)
        memcpy(e->value, req->value.data, req->value.len);
    d->st.puts_applied++;
    note_apply(d, &req->key, &req->value);
    idem_store(d, n, req->idempotency_key, v);
    reply_put(r, v);
}

static const char *const consistency_levels[] = {"", "strong", "eventual", "bounded_staleness"};

bool dn_consistency_ok(const char *level, dn_reply *r)
{
    for (size_t i = 0; i < sizeof(consistency_levels) / sizeof(*consistency_levels); i++)
        if (strcmp(level, consistency_levels[i]) == 0)
            return true;
    dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT, "Unknown consistency level: %s", level);
    return false;
}

void dn_kv_get(devnode *d, dn_node *n, const ProtobufCMessage *msg, dn_reply *r)
{
    const Norikv__V1__GetRequest *req = (const Norikv__V1__GetRequest *)msg;
    Norikv__V1__GetResponse resp = NORIKV__V1__GET_RESPONSE__INIT;
    Norikv__V1__Version ver = NORIKV__V1__VERSION__INIT;
    uint32_t shard;
    dn_entry *e;

    if (key_too_big(&req->key, r) || !dn_consistency_ok(req->consistency, r))
        return;
    /* Every read takes the read-index path on the real server, whatever the level. */
    shard = route_shard(req->key.data, req->key.len, d->o.total_shards);
    if (!dn_cluster_leads(d, n, shard, "NOT_LEADER", r))
        return;
    e = live_entry(d, &req->key);
    if (e == NULL && d->o.missing_not_found) {
        dn_reply_error(r, GRPC_STATUS_NOT_FOUND, "key not found");
        return;
    }
    if (e != NULL) {
        resp.value.data = e->value;
        resp.value.len = e->len;
        ver.term = e->version.term;
        ver.index = e->version.index;
        resp.version = &ver;
    }
    r->payload = pbgrpc_pack(&resp.base);
}

void dn_kv_delete(devnode *d, dn_node *n, const ProtobufCMessage *msg, dn_reply *r)
{
    const Norikv__V1__DeleteRequest *req = (const Norikv__V1__DeleteRequest *)msg;
    const dn_version *cached;
    uint32_t shard;

    if (key_too_big(&req->key, r))
        return;
    if ((cached = idem_lookup(d, n, req->idempotency_key)) != NULL) {
        reply_delete(r, *cached);
        return;
    }
    /* if_match is accepted and ignored, as the real server does. */
    shard = route_shard(req->key.data, req->key.len, d->o.total_shards);
    if (!dn_cluster_leads(d, n, shard, "NOT_LEADER", r))
        return;
    if (!commit_later(d, shard, r, dn_kv_delete_commit))
        dn_kv_delete_commit(d, n, msg, r);
}

void dn_kv_delete_commit(devnode *d, dn_node *n, const ProtobufCMessage *msg, dn_reply *r)
{
    const Norikv__V1__DeleteRequest *req = (const Norikv__V1__DeleteRequest *)msg;
    uint32_t shard = route_shard(req->key.data, req->key.len, d->o.total_shards);
    dn_version v;

    if (not_applied(d, n, shard, r, false))
        return;
    dn_table_del(d->kv, req->key.data, req->key.len);
    v.term = 0;
    v.index = ++d->shards[shard].raft_index;
    d->st.deletes_applied++;
    idem_store(d, n, req->idempotency_key, v);
    reply_delete(r, v);
}

void dn_admin_transfer_shard(devnode *d, dn_node *n, const ProtobufCMessage *msg, dn_reply *r)
{
    const Norikv__V1__ShardInfo *req = (const Norikv__V1__ShardInfo *)msg;
    Norikv__V1__ShardInfo resp = NORIKV__V1__SHARD_INFO__INIT;
    Norikv__V1__ShardReplica rep = NORIKV__V1__SHARD_REPLICA__INIT, *rep_ptr = &rep;
    dn_node *to = NULL;

    (void)n;
    if (req->id >= d->o.total_shards) {
        dn_reply_error(r, GRPC_STATUS_NOT_FOUND, "Shard %u not found", req->id);
        return;
    }
    for (size_t i = 0; i < req->n_replicas && to == NULL; i++) {
        const char *id = req->replicas[i]->node_id;
        if (req->replicas[i]->leader && (to = dn_cluster_node_by_name(d, id, strlen(id))) == NULL) {
            dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT, "Unknown node %s", id);
            return;
        }
    }
    if (to == NULL) {
        dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT,
                       "TransferShard needs a replica with leader=true naming the new leader");
        return;
    }
    if (dn_cluster_move(d, req->id, to) != 0) {
        dn_reply_error(r, GRPC_STATUS_UNAVAILABLE, "Node %s is down", to->id);
        return;
    }
    resp.id = req->id;
    rep.node_id = to->id;
    rep.leader = true;
    resp.n_replicas = 1;
    resp.replicas = &rep_ptr;
    r->payload = pbgrpc_pack(&resp.base);
}

void dn_admin_snapshot_shard(devnode *d, dn_node *n, const ProtobufCMessage *msg, dn_reply *r)
{
    const Norikv__V1__ShardInfo *req = (const Norikv__V1__ShardInfo *)msg;
    Norikv__V1__ShardInfo resp = NORIKV__V1__SHARD_INFO__INIT;
    Norikv__V1__ShardReplica rep = NORIKV__V1__SHARD_REPLICA__INIT, *rep_ptr = &rep;

    if (req->id >= d->o.total_shards) {
        dn_reply_error(r, GRPC_STATUS_NOT_FOUND, "Shard %u not found", req->id);
        return;
    }
    resp.id = req->id;
    rep.node_id = n->id;
    rep.leader = d->shards[req->id].leader == n->index;
    resp.n_replicas = 1;
    resp.replicas = &rep_ptr;
    r->payload = pbgrpc_pack(&resp.base);
}

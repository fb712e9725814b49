/*
 * dn_vector: vector indexes and exact search for the devnode. Validation messages are
 * the server's; where the server only logs an apply error (missing namespace, wrong
 * dimension), the devnode answers it, so clients meet the errors they should handle.
 * Writes and strong reads need the vector group's leader (shard 0's leader).
 */
#include "dn_vector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dn_cluster.h"
#include "dn_kv.h"
#include "norikv.pb-c.h"
#include "pbgrpc.h"
#include "xalloc.h"

typedef struct vns {
    uint32_t dims;
    int distance;
    int index_type;
    dn_table *vectors; /* id -> float[dims] */
} vns;

static void free_vns(void *p)
{
    vns *ns = p;

    if (ns == NULL)
        return;
    dn_table_free(ns->vectors);
    free(ns);
}

static void free_plain(void *p)
{
    free(p);
}

void dn_vector_init(devnode *d)
{
    d->vindex = dn_table_new(free_vns);
    d->videm = dn_table_new(free_plain);
}

void dn_vector_free(devnode *d)
{
    dn_table_free(d->vindex);
    dn_table_free(d->videm);
}

float dn_vector_distance(int distance, const float *a, const float *b, size_t dim)
{
    double dot = 0, na = 0, nb = 0, sq = 0, c;

    for (size_t i = 0; i < dim; i++) {
        double x = a[i], y = b[i];
        dot += x * y;
        na += x * x;
        nb += y * y;
        sq += (x - y) * (x - y);
    }
    switch (distance) {
    case NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_EUCLIDEAN:
        return (float)sqrt(sq);
    case NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_INNER_PRODUCT:
        return (float)-dot;
    default: /* cosine */
        if (na == 0 || nb == 0)
            return 1.0f;
        c = dot / (sqrt(na) * sqrt(nb));
        c = c > 1 ? 1 : c < -1 ? -1 : c;
        return (float)(1.0 - c);
    }
}

static bool check_namespace(const char *ns, dn_reply *r)
{
    size_t len = strlen(ns);

    if (len == 0) {
        dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT, "Namespace cannot be empty");
        return false;
    }
    if (len > DN_VEC_NAMESPACE_LIMIT) {
        dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT, "Namespace size %zu exceeds limit %u", len,
                       DN_VEC_NAMESPACE_LIMIT);
        return false;
    }
    return true;
}

static bool check_id(const char *id, dn_reply *r)
{
    size_t len = strlen(id);

    if (len == 0) {
        dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT, "Vector ID cannot be empty");
        return false;
    }
    if (len > DN_VEC_ID_LIMIT) {
        dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT, "Vector ID size %zu exceeds limit %u", len,
                       DN_VEC_ID_LIMIT);
        return false;
    }
    return true;
}

static bool check_vector(size_t n, dn_reply *r)
{
    if (n == 0) {
        dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT, "Vector cannot be empty");
        return false;
    }
    if (n > DN_VEC_DIM_LIMIT) {
        dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT, "Vector dimensions %zu exceeds limit %u", n,
                       DN_VEC_DIM_LIMIT);
        return false;
    }
    return true;
}

/* Writes check idempotency, then leadership: FAILED_PRECONDITION "Not leader" with the
 * x-norikv-leader trailer, as the server's vector service answers. */
static bool vector_leader(devnode *d, dn_node *n, dn_reply *r)
{
    int leader = d->shards[0].leader;

    if (leader == n->index)
        return true;
    d->st.not_leader++;
    dn_reply_error(r, GRPC_STATUS_FAILED_PRECONDITION, "Not leader");
    if (dn_cluster_hint(d, 0, r->trailer, sizeof(r->trailer)))
        r->trailer_key = "x-norikv-leader";
    return false;
}

/* Strong reads need the leader; eventual and bounded_staleness do not. */
static bool vector_read_ok(devnode *d, dn_node *n, const char *level, dn_reply *r)
{
    if (!dn_consistency_ok(level, r))
        return false;
    if ((level[0] != '\0' && strcmp(level, "strong") != 0) || d->shards[0].leader == n->index)
        return true;
    d->st.not_leader++;
    dn_reply_error(r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER: strong consistency requires leader");
    if (dn_cluster_hint(d, 0, r->trailer, sizeof(r->trailer)))
        r->trailer_key = "x-norikv-leader";
    return false;
}

static bool idem_seen(devnode *d, const char *key)
{
    if (key[0] == '\0' || dn_table_get(d->videm, key, strlen(key)) == NULL)
        return false;
    d->st.idempotent_replays++;
    return true;
}

static void idem_note(devnode *d, const char *key)
{
    if (key[0] != '\0')
        dn_table_put(d->videm, key, strlen(key));
}

static vns *find_ns(devnode *d, const char *name, dn_reply *r)
{
    void **slot = dn_table_get(d->vindex, name, strlen(name));

    if (slot == NULL) {
        dn_reply_error(r, GRPC_STATUS_NOT_FOUND, "Vector namespace '%s' not found", name);
        return NULL;
    }
    return *slot;
}

static bool dims_match(const vns *ns, size_t n, dn_reply *r)
{
    if (n == ns->dims)
        return true;
    dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT,
                   "Vector dimension mismatch: expected %u, got %zu", ns->dims, n);
    return false;
}

void dn_vector_create(devnode *d, dn_node *n, const ProtobufCMessage *msg, dn_reply *r)
{
    const Norikv__V1__CreateVectorIndexRequest *req = (const void *)msg;
    Norikv__V1__CreateVectorIndexResponse resp = NORIKV__V1__CREATE_VECTOR_INDEX_RESPONSE__INIT;
    void **slot;
    vns *ns;

    if (!check_namespace(req->namespace_, r))
        return;
    if (req->dimensions < 1 || req->dimensions > DN_VEC_DIM_LIMIT) {
        dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT, "Dimensions must be between 1 and %u",
                       DN_VEC_DIM_LIMIT);
        return;
    }
    if (req->distance < NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_EUCLIDEAN ||
        req->distance > NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_INNER_PRODUCT) {
        dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT, "Distance function must be specified");
        return;
    }
    if (idem_seen(d, req->idempotency_key)) {
        resp.created = true;
        r->payload = pbgrpc_pack(&resp.base);
        return;
    }
    if (!vector_leader(d, n, r))
        return;
    slot = dn_table_put(d->vindex, req->namespace_, strlen(req->namespace_));
    if (*slot == NULL) {
        ns = xcalloc(1, sizeof(*ns));
        ns->vectors = dn_table_new(free_plain);
        ns->dims = req->dimensions;
        ns->distance = req->distance;
        ns->index_type = req->index_type ? req->index_type
                                         : NORIKV__V1__VECTOR_INDEX_TYPE__VECTOR_INDEX_TYPE_HNSW;
        *slot = ns;
        resp.created = true;
    }
    d->vraft_index++;
    d->st.vector_writes_applied++;
    idem_note(d, req->idempotency_key);
    r->payload = pbgrpc_pack(&resp.base);
}

void dn_vector_drop(devnode *d, dn_node *n, const ProtobufCMessage *msg, dn_reply *r)
{
    const Norikv__V1__DropVectorIndexRequest *req = (const void *)msg;
    Norikv__V1__DropVectorIndexResponse resp = NORIKV__V1__DROP_VECTOR_INDEX_RESPONSE__INIT;

    if (!check_namespace(req->namespace_, r))
        return;
    if (idem_seen(d, req->idempotency_key)) {
        resp.dropped = true;
        r->payload = pbgrpc_pack(&resp.base);
        return;
    }
    if (!vector_leader(d, n, r))
        return;
    resp.dropped = dn_table_del(d->vindex, req->namespace_, strlen(req->namespace_));
    d->vraft_index++;
    d->st.vector_writes_applied++;
    idem_note(d, req->idempotency_key);
    r->payload = pbgrpc_pack(&resp.base);
}

void dn_vector_insert(devnode *d, dn_node *n, const ProtobufCMessage *msg, dn_reply *r)
{
    const Norikv__V1__VectorInsertRequest *req = (const void *)msg;
    Norikv__V1__VectorInsertResponse resp = NORIKV__V1__VECTOR_INSERT_RESPONSE__INIT;
    Norikv__V1__Version ver = NORIKV__V1__VERSION__INIT;
    void **slot;
    float *copy;
    vns *ns;

    if (!check_namespace(req->namespace_, r) || !check_id(req->id, r) ||
        !check_vector(req->n_vector, r))
        return;
    resp.inserted = true;
    resp.version = &ver;
    ver.term = 1;
    if (idem_seen(d, req->idempotency_key)) {
        /* The server answers a replay with the group's current commit index. */
        ver.index = d->vraft_index;
        r->payload = pbgrpc_pack(&resp.base);
        return;
    }
    if (!vector_leader(d, n, r) || (ns = find_ns(d, req->namespace_, r)) == NULL ||
        !dims_match(ns, req->n_vector, r))
        return;
    slot = dn_table_put(ns->vectors, req->id, strlen(req->id));
    copy = xmalloc(req->n_vector * sizeof(float));
    memcpy(copy, req->vector, req->n_vector * sizeof(float));
    free(*slot);
    *slot = copy;
    ver.index = ++d->vraft_index;
    d->st.vector_writes_applied++;
    idem_note(d, req->idempotency_key);
    r->payload = pbgrpc_pack(&resp.base);
}

void dn_vector_delete(devnode *d, dn_node *n, const ProtobufCMessage *msg, dn_reply *r)
{
    const Norikv__V1__VectorDeleteRequest *req = (const void *)msg;
    Norikv__V1__VectorDeleteResponse resp = NORIKV__V1__VECTOR_DELETE_RESPONSE__INIT;
    vns *ns;

    if (!check_namespace(req->namespace_, r) || !check_id(req->id, r))
        return;
    if (idem_seen(d, req->idempotency_key)) {
        resp.deleted = true;
        r->payload = pbgrpc_pack(&resp.base);
        return;
    }
    if (!vector_leader(d, n, r) || (ns = find_ns(d, req->namespace_, r)) == NULL)
        return;
    resp.deleted = dn_table_del(ns->vectors, req->id, strlen(req->id));
    d->vraft_index++;
    d->st.vector_writes_applied++;
    idem_note(d, req->idempotency_key);
    r->payload = pbgrpc_pack(&resp.base);
}

typedef struct scored {
    const char *id;
    size_t id_len;
    float distance;
    const float *vector;
} scored;

typedef struct search_ctx {
    const vns *ns;
    const float *query;
    scored *all;
    size_t n;
} search_ctx;

static void score_one(const void *key, size_t len, void *val, void *arg)
{
    search_ctx *c = arg;
    scored *s = &c->all[c->n++];

    s->id = key;
    s->id_len = len;
    s->vector = val;
    s->distance = dn_vector_distance(c->ns->distance, c->query, val, c->ns->dims);
}

static int by_distance(const void *pa, const void *pb)
{
    const scored *a = pa, *b = pb;
    size_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
    int c;

    if (a->distance != b->distance)
        return a->distance < b->distance ? -1 : 1;
    c = memcmp(a->id, b->id, n); /* ties in id order, so results are deterministic */
    return c != 0 ? c : (a->id_len > b->id_len) - (a->id_len < b->id_len);
}

void dn_vector_search(devnode *d, dn_node *n, const ProtobufCMessage *msg, dn_reply *r)
{
    const Norikv__V1__VectorSearchRequest *req = (const void *)msg;
    Norikv__V1__VectorSearchResponse resp = NORIKV__V1__VECTOR_SEARCH_RESPONSE__INIT;
    int64_t started = clock_now_us();
    search_ctx c = {0};
    Norikv__V1__VectorMatch *matches, **ptrs;
    char **ids;
    size_t k;

    if (!check_namespace(req->namespace_, r) || !check_vector(req->n_query, r))
        return;
    if (req->k == 0) {
        dn_reply_error(r, GRPC_STATUS_INVALID_ARGUMENT, "k must be greater than 0");
        return;
    }
    if (!vector_read_ok(d, n, req->consistency, r) ||
        (c.ns = find_ns(d, req->namespace_, r)) == NULL || !dims_match(c.ns, req->n_query, r))
        return;
    c.query = req->query;
    c.all = xmalloc((dn_table_count(c.ns->vectors) + 1) * sizeof(*c.all));
    dn_table_each(c.ns->vectors, score_one, &c);
    qsort(c.all, c.n, sizeof(*c.all), by_distance);
    k = req->k < c.n ? req->k : c.n;
    matches = xcalloc(k + 1, sizeof(*matches));
    ptrs = xcalloc(k + 1, sizeof(*ptrs));
    ids = xcalloc(k + 1, sizeof(*ids));
    for (size_t i = 0; i < k; i++) {
        norikv__v1__vector_match__init(&matches[i]);
        ids[i] = xmemdup0(c.all[i].id, c.all[i].id_len);
        matches[i].id = ids[i];
        matches[i].distance = c.all[i].distance;
        if (req->include_vectors) {
            matches[i].n_vector = c.ns->dims;
            matches[i].vector = (float *)c.all[i].vector;
        }
        ptrs[i] = &matches[i];
    }
    resp.n_matches = k;
    resp.matches = ptrs;
    resp.search_time_us = (uint64_t)(clock_now_us() - started);
    r->payload = pbgrpc_pack(&resp.base);
    for (size_t i = 0; i < k; i++)
        free(ids[i]);
    free(ids);
    free(ptrs);
    free(matches);
    free(c.all);
}

void dn_vector_get(devnode *d, dn_node *n, const ProtobufCMessage *msg, dn_reply *r)
{
    const Norikv__V1__VectorGetRequest *req = (const void *)msg;
    Norikv__V1__VectorGetResponse resp = NORIKV__V1__VECTOR_GET_RESPONSE__INIT;
    void **slot;
    vns *ns;

    if (!check_namespace(req->namespace_, r) || !check_id(req->id, r) ||
        !vector_read_ok(d, n, req->consistency, r) || (ns = find_ns(d, req->namespace_, r)) == NULL)
        return;
    slot = dn_table_get(ns->vectors, req->id, strlen(req->id));
    if (slot != NULL) {
        resp.found = true;
        resp.n_vector = ns->dims;
        resp.vector = *slot;
    }
    r->payload = pbgrpc_pack(&resp.base);
}

/*
 * dn_server: per-node gRPC servers for the devnode. Owns each node's grpc_server, the
 * call objects (requested, delayed, replying) and the WatchCluster streams. A server
 * object lives until its shutdown completed and its last call was freed; every call
 * takes a reference. Must never block the loop: latency faults are timers.
 */
#include "dn_server.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <grpc/grpc_security.h>

#include "clock.h"
#include "dn_cluster.h"
#include "dn_kv.h"
#include "dn_util.h"
#include "dn_vector.h"
#include "method.h"
#include "norikv.pb-c.h"
#include "pbgrpc.h"
#include "xalloc.h"

typedef void dn_handler(devnode *d, dn_node *n, const ProtobufCMessage *req, dn_reply *r);

enum { F_WRITE = 1, F_VECTOR = 2, F_STREAM = 4, F_TRANSFER = 8 };

/* The wire table's methods, and the ones only the devnode serves after them. */
enum { M_SNAPSHOT_SHARD = METHOD_COUNT, M_COUNT };

/* What the devnode adds to the wire table's methods (method.h: path, request message). */
typedef struct dn_method {
    dn_handler *fn;
    unsigned flags;
    int backlog; /* requests kept outstanding */
} dn_method;

static const dn_method methods[M_COUNT] = {
    [METHOD_PUT] = {dn_kv_put, F_WRITE, 64},
    [METHOD_GET] = {dn_kv_get, 0, 64},
    [METHOD_DELETE] = {dn_kv_delete, F_WRITE, 32},
    [METHOD_WATCH_CLUSTER] = {NULL, F_STREAM, 8},
    [METHOD_TRANSFER_SHARD] = {dn_admin_transfer_shard, F_TRANSFER, 4},
    [METHOD_VECTOR_CREATE_INDEX] = {dn_vector_create, F_WRITE | F_VECTOR, 4},
    [METHOD_VECTOR_DROP_INDEX] = {dn_vector_drop, F_WRITE | F_VECTOR, 4},
    [METHOD_VECTOR_INSERT] = {dn_vector_insert, F_WRITE | F_VECTOR, 16},
    [METHOD_VECTOR_DELETE] = {dn_vector_delete, F_WRITE | F_VECTOR, 8},
    [METHOD_VECTOR_SEARCH] = {dn_vector_search, F_VECTOR, 16},
    [METHOD_VECTOR_GET] = {dn_vector_get, F_VECTOR, 8},
    [M_SNAPSHOT_SHARD] = {dn_admin_snapshot_shard, 0, 4},
};

/* The devnode's own methods, from the generated descriptors as method.c builds its table. */
static method_info own[M_COUNT - METHOD_COUNT];

static const method_info *wire_of(int m)
{
    if (m < METHOD_COUNT)
        return method_get((method_id)m);
    if (own[0].request == NULL) {
        const ProtobufCServiceDescriptor *sd = &norikv__v1__admin__descriptor;
        const ProtobufCMethodDescriptor *md =
            protobuf_c_service_descriptor_get_method_by_name(sd, "SnapshotShard");
        snprintf(own[0].path, sizeof(own[0].path), "/%s/%s", sd->name, md->name);
        own[0].service = sd;
        own[0].name = md->name;
        own[0].request = md->input;
        own[0].response = md->output;
    }
    return &own[m - METHOD_COUNT];
}

/* The real server's (tonic's) largest request: one over it is answered OUT_OF_RANGE with
 * tonic's text. gRPC core takes up to DN_RECEIVE_MAX (beyond, its own RESOURCE_EXHAUSTED)
 * so that process() sees such a request. */
#define DN_MESSAGE_LIMIT (4 << 20)
#define DN_RECEIVE_MAX   (64 << 20)

#define GENERIC         (-1)
#define GENERIC_BACKLOG 4

typedef struct call call;
typedef struct watch watch;

typedef struct dn_srv {
    devnode *d;
    dn_node *node;
    grpc_server *server;
    void *handles[M_COUNT];
    evgrpc_tag on_shutdown;
    void (*stopped)(void *arg); /* called once the port is closed and calls are done */
    void *stopped_arg;
    int refs; /* 1 for the server until its shutdown completes, 1 per call object */
    bool stopping;
    LIST_HEAD(, call) delayed;     /* calls held by a latency fault */
    TAILQ_HEAD(, call) committing; /* writes waiting for the next commit tick, in order */
    struct event *commit_timer;    /* pending while committing is not empty */
    LIST_HEAD(, watch) watches;
} dn_srv;

struct call {
    evgrpc_tag on_new, on_done;
    dn_srv *srv;
    int m; /* a method_id, or GENERIC */
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_byte_buffer *payload;
    grpc_call_details details; /* GENERIC only */
    dn_reply reply;
    grpc_metadata trailer;
    grpc_slice status_details;
    int cancelled;
    struct event *timer;
    LIST_ENTRY(call) delayed_link; /* in srv->delayed while its timer is pending */
    ProtobufCMessage *req;         /* a write kept for its commit tick */
    TAILQ_ENTRY(call) commit_link; /* in srv->committing while req is kept */
};

struct watch {
    evgrpc_tag on_send, on_close;
    dn_srv *srv;
    grpc_call *call;
    grpc_byte_buffer *sending;
    int cancelled;
    int refs; /* one per outstanding batch */
    bool sent_md, busy, stale, closed;
    LIST_ENTRY(watch) link; /* in srv->watches until its last reference goes */
};

static void srv_unref(dn_srv *s)
{
    if (--s->refs > 0)
        return;
    if (s->node->srv == s)
        s->node->srv = NULL;
    if (s->commit_timer != NULL)
        event_free(s->commit_timer);
    free(s);
}

/* ---- requested calls ---------------------------------------------------------------- */

static void on_new_call(evgrpc_tag *tag, bool ok);
static void on_reply_done(evgrpc_tag *tag, bool ok);

static void request_call(dn_srv *s, int m)
{
    grpc_completion_queue *cq = evgrpc_cq(s->d->eg);
    call *c = xcalloc(1, sizeof(*c));
    grpc_call_error err;

    c->on_new.done = on_new_call;
    c->on_done.done = on_reply_done;
    c->srv = s;
    c->m = m;
    grpc_metadata_array_init(&c->md);
    s->refs++;
    if (m == GENERIC) {
        grpc_call_details_init(&c->details);
        err =
            grpc_server_request_call(s->server, &c->call, &c->details, &c->md, cq, cq, &c->on_new);
    } else {
        err = grpc_server_request_registered_call(s->server, s->handles[m], &c->call, &c->deadline,
                                                  &c->md, &c->payload, cq, cq, &c->on_new);
    }
    if (err != GRPC_CALL_OK) {
        grpc_metadata_array_destroy(&c->md);
        if (m == GENERIC)
            grpc_call_details_destroy(&c->details);
        free(c);
        srv_unref(s);
    }
}

static void call_free(call *c)
{
    dn_srv *s = c->srv;

    if (c->call != NULL)
        grpc_call_unref(c->call);
    grpc_metadata_array_destroy(&c->md);
    if (c->m == GENERIC)
        grpc_call_details_destroy(&c->details);
    if (c->payload != NULL)
        grpc_byte_buffer_destroy(c->payload);
    if (c->reply.payload != NULL)
        grpc_byte_buffer_destroy(c->reply.payload);
    if (c->timer != NULL)
        event_free(c->timer);
    if (c->req != NULL)
        protobuf_c_message_free_unpacked(c->req, NULL);
    free(c);
    srv_unref(s);
}

static void send_reply(call *c)
{
    grpc_op ops[4], *op = ops;
    grpc_call_error err;

    memset(ops, 0, sizeof(ops));
    c->status_details = grpc_slice_from_copied_string(c->reply.message);
    op->op = GRPC_OP_SEND_INITIAL_METADATA;
    op++;
    if (c->reply.status == GRPC_STATUS_OK && c->reply.payload != NULL) {
        op->op = GRPC_OP_SEND_MESSAGE;
        op->data.send_message.send_message = c->reply.payload;
        op++;
    }
    op->op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    op->data.send_status_from_server.status = c->reply.status;
    op->data.send_status_from_server.status_details = &c->status_details;
    if (c->reply.trailer_key != NULL) {
        c->trailer.key = grpc_slice_from_static_string(c->reply.trailer_key);
        c->trailer.value = grpc_slice_from_copied_string(c->reply.trailer);
        op->data.send_status_from_server.trailing_metadata_count = 1;
        op->data.send_status_from_server.trailing_metadata = &c->trailer;
    }
    op++;
    op->op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op->data.recv_close_on_server.cancelled = &c->cancelled;
    op++;
    err = grpc_call_start_batch(c->call, ops, (size_t)(op - ops), &c->on_done, NULL);
    if (err != GRPC_CALL_OK)
        on_reply_done(&c->on_done, false);
}

static void on_reply_done(evgrpc_tag *tag, bool ok)
{
    call *c = (call *)((char *)tag - offsetof(call, on_done));

    (void)ok;
    grpc_slice_unref(c->status_details);
    if (c->reply.trailer_key != NULL)
        grpc_slice_unref(c->trailer.value);
    call_free(c);
}

/* Answers a call whose handler ran: a write's reply may be lost by the lose-reply fault. */
static void finish(call *c)
{
    devnode *d = c->srv->d;

    if (c->reply.status == GRPC_STATUS_OK && c->m != GENERIC && (methods[c->m].flags & F_WRITE) &&
        d->lose_rate > 0 && dn_random(&d->rng) < d->lose_rate) {
        d->st.replies_lost++;
        dn_reply_error(&c->reply, GRPC_STATUS_UNAVAILABLE, "reply lost (injected fault)");
    }
    send_reply(c);
}

/* The commit tick: every write kept since the last one is applied, in arrival order, and
 * answered. Ticks fall on multiples of commit_tick_ms of the monotonic clock. */
static void on_commit_tick(evutil_socket_t fd, short what, void *arg)
{
    dn_srv *s = arg;
    call *c;

    (void)fd;
    (void)what;
    while ((c = TAILQ_FIRST(&s->committing)) != NULL) {
        TAILQ_REMOVE(&s->committing, c, commit_link);
        dn_commit_fn *commit = c->reply.commit;
        c->reply.commit = NULL;
        commit(s->d, s->node, c->req, &c->reply);
        protobuf_c_message_free_unpacked(c->req, NULL);
        c->req = NULL;
        finish(c);
    }
}

static void commit_later(call *c, ProtobufCMessage *req)
{
    dn_srv *s = c->srv;
    int tick = s->d->o.commit_tick_ms;

    c->req = req;
    TAILQ_INSERT_TAIL(&s->committing, c, commit_link);
    if (s->commit_timer == NULL)
        s->commit_timer = evtimer_new(s->d->base, on_commit_tick, s);
    if (s->commit_timer != NULL && !evtimer_pending(s->commit_timer, NULL)) {
        int64_t wait = tick - clock_now_ms() % tick;
        struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
        if (evtimer_add(s->commit_timer, &tv) == 0)
            return;
    }
    if (s->commit_timer == NULL || !evtimer_pending(s->commit_timer, NULL))
        on_commit_tick(-1, 0, s); /* no timer: commit now rather than never */
}

static void process(call *c)
{
    devnode *d = c->srv->d;
    dn_node *n = c->srv->node;
    const dn_method *m;
    ProtobufCMessage *req;

    c->reply.status = GRPC_STATUS_OK;
    if (c->m == GENERIC) {
        d->st.unimplemented++;
        c->reply.status = GRPC_STATUS_UNIMPLEMENTED;
        send_reply(c);
        return;
    }
    m = &methods[c->m];
    if (n->fail_rate > 0 && dn_random(&d->rng) < n->fail_rate) {
        d->st.faults_failed++;
        dn_reply_error(&c->reply, n->fail_status, "injected fault");
        send_reply(c);
        return;
    }
    if (c->payload != NULL && grpc_byte_buffer_length(c->payload) > DN_MESSAGE_LIMIT) {
        dn_reply_error(&c->reply, GRPC_STATUS_OUT_OF_RANGE,
                       "Error, message length too large: found %zu bytes, the limit is: %d bytes",
                       grpc_byte_buffer_length(c->payload), DN_MESSAGE_LIMIT);
        send_reply(c);
        return;
    }
    req = pbgrpc_unpack(c->payload, wire_of(c->m)->request);
    if (req == NULL) {
        dn_reply_error(&c->reply, GRPC_STATUS_INTERNAL, "failed to decode Protobuf message");
        send_reply(c);
        return;
    }
    m->fn(d, n, req, &c->reply);
    if (c->reply.commit != NULL && c->reply.status == GRPC_STATUS_OK) {
        commit_later(c, req);
        return;
    }
    protobuf_c_message_free_unpacked(req, NULL);
    finish(c);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    call *c = arg;

    (void)fd;
    (void)what;
    LIST_REMOVE(c, delayed_link);
    process(c);
}

static void start_watch(call *c);

static void on_new_call(evgrpc_tag *tag, bool ok)
{
    call *c = (call *)((char *)tag - offsetof(call, on_new));
    dn_srv *s = c->srv;
    dn_node *n = s->node;
    devnode *d = s->d;

    if (!ok) { /* the server is shutting down */
        call_free(c);
        return;
    }
    if (!s->stopping)
        request_call(s, c->m);
    n->calls++;
    d->st.calls++;
    if (c->m != GENERIC && (methods[c->m].flags & F_STREAM)) {
        start_watch(c);
        return;
    }
    if (n->latency_ms > 0 && !s->stopping) {
        struct timeval tv = {n->latency_ms / 1000, (n->latency_ms % 1000) * 1000};
        c->timer = evtimer_new(d->base, on_delay, c);
        if (c->timer != NULL && evtimer_add(c->timer, &tv) == 0) {
            LIST_INSERT_HEAD(&s->delayed, c, delayed_link);
            return;
        }
    }
    process(c);
}

/* ---- WatchCluster streams ----------------------------------------------------------- */

static void watch_unref(watch *w)
{
    dn_srv *s = w->srv;

    if (--w->refs > 0)
        return;
    LIST_REMOVE(w, link);
    grpc_call_unref(w->call);
    free(w);
    srv_unref(s);
}

static void watch_send(watch *w, grpc_byte_buffer *view)
{
    grpc_op ops[2], *op = ops;

    if (w->closed || w->srv->stopping)
        return;
    if (w->busy) {
        w->stale = true; /* send the newest view when this one is out */
        return;
    }
    memset(ops, 0, sizeof(ops));
    if (!w->sent_md) {
        op->op = GRPC_OP_SEND_INITIAL_METADATA;
        op++;
        w->sent_md = true;
    }
    w->sending =
        view != NULL ? grpc_byte_buffer_copy(view) : dn_cluster_view(w->srv->d, w->srv->node);
    if (w->sending == NULL)
        return;
    op->op = GRPC_OP_SEND_MESSAGE;
    op->data.send_message.send_message = w->sending;
    op++;
    w->busy = true;
    w->refs++;
    w->srv->d->st.watch_views_sent++;
    if (grpc_call_start_batch(w->call, ops, (size_t)(op - ops), &w->on_send, NULL) != GRPC_CALL_OK)
        w->on_send.done(&w->on_send, false);
}

static void on_watch_send(evgrpc_tag *tag, bool ok)
{
    watch *w = (watch *)((char *)tag - offsetof(watch, on_send));

    grpc_byte_buffer_destroy(w->sending);
    w->sending = NULL;
    w->busy = false;
    if (!ok)
        w->closed = true;
    if (w->stale && !w->closed) {
        w->stale = false;
        watch_send(w, NULL);
    }
    watch_unref(w);
}

static void on_watch_close(evgrpc_tag *tag, bool ok)
{
    watch *w = (watch *)((char *)tag - offsetof(watch, on_close));

    (void)ok;
    w->closed = true;
    watch_unref(w);
}

/* The call object hands its grpc_call over to a watch and goes away. */
static void start_watch(call *c)
{
    dn_srv *s = c->srv;
    watch *w = xcalloc(1, sizeof(*w));
    grpc_op op;

    w->on_send.done = on_watch_send;
    w->on_close.done = on_watch_close;
    w->srv = s;
    w->call = c->call;
    c->call = NULL;
    s->refs++;
    LIST_INSERT_HEAD(&s->watches, w, link);
    call_free(c);

    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &w->cancelled;
    w->refs = 1;
    if (grpc_call_start_batch(w->call, &op, 1, &w->on_close, NULL) != GRPC_CALL_OK) {
        w->closed = true;
        watch_unref(w);
        return;
    }
    watch_send(w, NULL); /* the first view at once */
}

void dn_server_push_views(devnode *d)
{
    grpc_byte_buffer *shared = NULL;

    if (d->shutting_down)
        return;
    for (int i = 0; i < d->o.nodes; i++) {
        dn_srv *s = d->nodes[i].srv;
        if (s == NULL || s->stopping || LIST_EMPTY(&s->watches))
            continue;
        /* One packed view serves every stream unless each node has its own. */
        if (d->o.view == DN_VIEW_PER_NODE || shared == NULL) {
            if (shared != NULL)
                grpc_byte_buffer_destroy(shared);
            shared = dn_cluster_view(d, s->node);
        }
        /* watch_send drops only the reference it takes itself: no stream leaves the list */
        for (watch *w = LIST_FIRST(&s->watches); w != NULL; w = LIST_NEXT(w, link))
            watch_send(w, shared);
    }
    if (shared != NULL)
        grpc_byte_buffer_destroy(shared);
}

/* ---- server lifecycle --------------------------------------------------------------- */

static void on_shutdown(evgrpc_tag *tag, bool ok)
{
    dn_srv *s = (dn_srv *)((char *)tag - offsetof(dn_srv, on_shutdown));
    devnode *d = s->d;

    (void)ok;
    grpc_server_destroy(s->server);
    s->server = NULL;
    if (s->stopped != NULL)
        s->stopped(s->stopped_arg);
    if (--d->servers_stopping == 0 && d->shutting_down)
        event_base_loopbreak(d->base);
    srv_unref(s);
}

int dn_server_start(devnode *d, dn_node *n)
{
    /* The real server's gRPC (tonic) polices no keepalive pings: a client that pings an
     * idle channel every few seconds keeps its connection. gRPC core's defaults (pings
     * without data at most every 5 minutes, GOAWAY "too_many_pings" at the third strike)
     * are kept for --pings police only. */
    grpc_arg arg[4] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_ALLOW_REUSEPORT, {.integer = 0}},
        /* messages over tonic's 4 MiB are refused by process(), in tonic's words */
        {GRPC_ARG_INTEGER, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = DN_RECEIVE_MAX}},
        {GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MAX_PING_STRIKES, {.integer = 0}},
        {GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, {.integer = 0}},
    };
    grpc_channel_args args = {d->o.police_pings ? 2 : 4, arg};
    grpc_server_credentials *creds;
    dn_srv *s;
    int port;

    if (n->srv != NULL)
        return -1;
    s = xcalloc(1, sizeof(*s));
    s->d = d;
    s->node = n;
    s->refs = 1;
    LIST_INIT(&s->delayed);
    TAILQ_INIT(&s->committing);
    LIST_INIT(&s->watches);
    s->on_shutdown.done = on_shutdown;
    s->server = grpc_server_create(&args, NULL);
    for (int m = 0; m < M_COUNT; m++) {
        if (((methods[m].flags & F_VECTOR) && !d->o.vector) ||
            ((methods[m].flags & F_TRANSFER) && !d->o.transfer_shard))
            continue; /* left to the generic handler: UNIMPLEMENTED, as the real server */
        s->handles[m] = grpc_server_register_method(s->server, wire_of(m)->path, NULL,
                                                    GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
    }
    grpc_server_register_completion_queue(s->server, evgrpc_cq(d->eg), NULL);
    if (d->tls_cert_pem != NULL) {
        grpc_ssl_pem_key_cert_pair pair = {d->tls_key_pem, d->tls_cert_pem};
        creds = grpc_ssl_server_credentials_create(NULL, &pair, 1, 0, NULL);
    } else {
        creds = grpc_insecure_server_credentials_create();
    }
    port = grpc_server_add_http2_port(s->server, n->addr, creds);
    grpc_server_credentials_release(creds);
    if (port == 0) {
        fprintf(stderr, "norikv-devnode: %s: cannot listen on %s\n", n->id, n->addr);
        grpc_server_destroy(s->server);
        free(s);
        return -1;
    }
    grpc_server_start(s->server);
    n->srv = s;
    for (int m = 0; m < M_COUNT; m++)
        for (int k = 0; s->handles[m] != NULL && k < methods[m].backlog; k++)
            request_call(s, m);
    for (int k = 0; k < GENERIC_BACKLOG; k++)
        request_call(s, GENERIC);
    return 0;
}

bool dn_server_stopping(const dn_node *n)
{
    return n->srv != NULL && n->srv->stopping;
}

void dn_server_stop(devnode *d, dn_node *n, void (*stopped)(void *arg), void *arg)
{
    dn_srv *s = n->srv;

    if (s == NULL || s->stopping)
        return;
    s->stopping = true;
    s->stopped = stopped;
    s->stopped_arg = arg;
    d->servers_stopping++;
    grpc_server_shutdown_and_notify(s->server, evgrpc_cq(d->eg), &s->on_shutdown);
    grpc_server_cancel_all_calls(s->server);
    /* Writes waiting for their commit tick are not committed: the node went away. */
    while (!TAILQ_EMPTY(&s->committing)) {
        call *c = TAILQ_FIRST(&s->committing);
        TAILQ_REMOVE(&s->committing, c, commit_link);
        c->reply.commit = NULL;
        dn_reply_error(&c->reply, GRPC_STATUS_UNAVAILABLE, "node shutting down");
        send_reply(c);
    }
    if (s->commit_timer != NULL)
        event_del(s->commit_timer);
    /* Calls held by a latency fault answer now; their clients see the node go away. */
    while (!LIST_EMPTY(&s->delayed)) {
        call *c = LIST_FIRST(&s->delayed);
        LIST_REMOVE(c, delayed_link);
        event_del(c->timer);
        dn_reply_error(&c->reply, GRPC_STATUS_UNAVAILABLE, "node shutting down");
        send_reply(c);
    }
}

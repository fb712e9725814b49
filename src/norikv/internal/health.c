/*
 * health: probes and the silence rule. Owns one timer, armed for the earliest moment a
 * node needs looking at, and the probes out (each holds a reference per batch and outlives
 * health_free until its completions arrive). Judges nodes only through the pool.
 */
#include "health.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "clock.h"
#include "norikv.pb-c.h"
#include "pbgrpc.h"
#include "xalloc.h"

typedef struct probe probe;

struct health {
    struct event_base *base;
    evgrpc *eg;
    pool *pool;
    struct event *timer;
    int64_t armed_ms; /* when the timer fires, INT64_MAX when it is not armed */
    kv_stats *counters;
    probe **out; /* the probes out, for health_free */
    int nout, capout;
};

struct probe {
    health *h; /* NULL once health is gone */
    int node;
    int64_t started_ms;
    grpc_channel *own; /* made for this probe (its node was down), destroyed with it */
    grpc_call *call;
    evgrpc_tag on_view, on_status;
    grpc_metadata_array initial, trailing;
    grpc_byte_buffer *send, *recv;
    grpc_status_code status;
    grpc_slice details;
    int refs;
    bool answered;
};

static void arm(health *h, int64_t at_ms, int64_t now_ms)
{
    int64_t ms = at_ms > now_ms ? at_ms - now_ms : 0;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};

    if (evtimer_add(h->timer, &tv) == 0)
        h->armed_ms = at_ms;
}

static void forget(health *h, probe *pr)
{
    for (int i = 0; i < h->nout; i++) {
        if (h->out[i] == pr) {
            h->out[i] = h->out[--h->nout];
            return;
        }
    }
}

static void probe_unref(probe *pr)
{
    if (--pr->refs > 0)
        return;
    if (pr->h != NULL)
        forget(pr->h, pr);
    if (pr->send != NULL)
        grpc_byte_buffer_destroy(pr->send);
    if (pr->recv != NULL)
        grpc_byte_buffer_destroy(pr->recv);
    grpc_metadata_array_destroy(&pr->initial);
    grpc_metadata_array_destroy(&pr->trailing);
    grpc_slice_unref(pr->details);
    if (pr->call != NULL)
        grpc_call_unref(pr->call);
    if (pr->own != NULL)
        grpc_channel_destroy(pr->own);
    free(pr);
}

/* Whether a status ending a call the server may have answered says the node is there: the
 * server itself answered (UNIMPLEMENTED from a server without the Meta service, say), as
 * opposed to a connection that failed, a deadline, or our own cancel. */
static bool answered_by_server(grpc_status_code status)
{
    return status != GRPC_STATUS_UNAVAILABLE && status != GRPC_STATUS_DEADLINE_EXCEEDED &&
           status != GRPC_STATUS_CANCELLED && status != GRPC_STATUS_UNKNOWN;
}

static void on_probe_view(evgrpc_tag *tag, bool ok)
{
    probe *pr = (probe *)((char *)tag - offsetof(probe, on_view));

    if (ok && pr->recv != NULL && pr->h != NULL) {
        pr->answered = true;
        pool_heard(pr->h->pool, pr->node, clock_now_ms());
        grpc_call_cancel(pr->call, NULL); /* one view is all a probe asks */
    }
    probe_unref(pr);
}

static void on_probe_status(evgrpc_tag *tag, bool ok)
{
    probe *pr = (probe *)((char *)tag - offsetof(probe, on_status));
    health *h = pr->h;
    int64_t now = clock_now_ms();

    (void)ok;
    if (h != NULL) {
        pool_probe_end(h->pool, pr->node);
        if (!pr->answered && answered_by_server(pr->status)) {
            pool_heard(h->pool, pr->node, now);
        } else if (!pr->answered && !pool_heard_since(h->pool, pr->node, pr->started_ms)) {
            /* (a node heard from since this probe began, by a later probe say, is there) */
            char *details = grpc_slice_to_c_string(pr->details);
            char cause[192];
            h->counters->pool_probe_failures++;
            snprintf(cause, sizeof(cause), "probe: %s %s from %s", pbgrpc_status_name(pr->status),
                     details[0] ? details : "(no message)", pool_addr(h->pool, pr->node));
            gpr_free(details);
            pool_failure(h->pool, pr->node, now,
                         pr->status == GRPC_STATUS_DEADLINE_EXCEEDED ? POOL_SILENT : POOL_REFUSED,
                         cause);
        }
        health_kick(h);
    }
    probe_unref(pr);
}

/* A probe of node that could not start counts as failed; the next one is due after the
 * interval like any other (pool_probe_call set it), so no node waits on a probe not out. */
static void probe_not_started(health *h, int node, int64_t now, const char *why)
{
    char cause[192];

    h->counters->pool_probe_failures++;
    snprintf(cause, sizeof(cause), "probe: %s to %s", why, pool_addr(h->pool, node));
    pool_failure(h->pool, node, now, POOL_REFUSED, cause);
}

static void start_probe(health *h, int node, int64_t now)
{
    Norikv__V1__ClusterView empty = NORIKV__V1__CLUSTER_VIEW__INIT;
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                     gpr_time_from_millis(pool_connect_timeout(h->pool), GPR_TIMESPAN));
    grpc_op ops[5];
    probe *pr = xcalloc(1, sizeof(*pr));

    pr->h = h;
    pr->node = node;
    pr->started_ms = now;
    pr->on_view.done = on_probe_view;
    pr->on_status.done = on_probe_status;
    pr->details = grpc_empty_slice();
    grpc_metadata_array_init(&pr->initial);
    grpc_metadata_array_init(&pr->trailing);
    pr->refs = 1;
    pr->call = pool_probe_call(h->pool, node, evgrpc_cq(h->eg), deadline, &pr->own);
    if (pr->call == NULL) {
        probe_unref(pr);
        probe_not_started(h, node, now, "cannot open a channel");
        return;
    }
    h->counters->pool_probes++;
    pr->send = pbgrpc_pack(&empty.base);
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = pr->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &pr->initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &pr->recv;
    if (grpc_call_start_batch(pr->call, ops, 5, &pr->on_view, NULL) != GRPC_CALL_OK) {
        pool_probe_end(h->pool, node);
        probe_unref(pr);
        probe_not_started(h, node, now, "cannot start a call");
        return;
    }
    pr->refs++; /* the batch's */
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[0].data.recv_status_on_client.trailing_metadata = &pr->trailing;
    ops[0].data.recv_status_on_client.status = &pr->status;
    ops[0].data.recv_status_on_client.status_details = &pr->details;
    if (grpc_call_start_batch(pr->call, ops, 1, &pr->on_status, NULL) != GRPC_CALL_OK) {
        /* its end would never be told: cancel it (the view batch completes and lets go
         * of it) and count it failed now */
        grpc_call_cancel(pr->call, NULL);
        pr->h = NULL;
        pool_probe_end(h->pool, node);
        probe_unref(pr);
        probe_not_started(h, node, now, "cannot start a call");
        return;
    }
    if (h->nout == h->capout) {
        h->capout = h->capout ? h->capout * 2 : 8;
        h->out = xrealloc(h->out, (size_t)h->capout * sizeof(*h->out));
    }
    h->out[h->nout++] = pr; /* the first reference is the status batch's */
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    health *h = arg;
    int64_t now = clock_now_ms(), next = INT64_MAX;

    (void)fd;
    (void)what;
    h->armed_ms = INT64_MAX;
    for (int i = 0; i < pool_count(h->pool); i++) {
        int64_t at = pool_silent_at(h->pool, i);
        if (at <= now) {
            char cause[192];
            snprintf(cause, sizeof(cause), "no answer from %s for %d ms", pool_addr(h->pool, i),
                     pool_connect_timeout(h->pool));
            pool_failure(h->pool, i, now, POOL_SILENT, cause);
        }
        if (pool_probe_at(h->pool, i) <= now)
            start_probe(h, i, now);
        at = pool_silent_at(h->pool, i);
        next = at < next ? at : next;
        at = pool_probe_at(h->pool, i);
        next = at < next ? at : next;
    }
    if (next != INT64_MAX)
        arm(h, next, now);
}

health *health_new(struct event_base *base, evgrpc *eg, pool *p, kv_stats *counters)
{
    health *h = xcalloc(1, sizeof(*h));

    h->base = base;
    h->eg = eg;
    h->pool = p;
    h->counters = counters;
    h->armed_ms = INT64_MAX;
    h->timer = evtimer_new(base, on_tick, h);
    if (h->timer == NULL) {
        free(h);
        return NULL;
    }
    health_kick(h);
    return h;
}

void health_free(health *h)
{
    if (h == NULL)
        return;
    for (int i = 0; i < h->nout; i++) {
        h->out[i]->h = NULL;
        grpc_call_cancel(h->out[i]->call, NULL);
    }
    event_free(h->timer);
    free(h->out);
    free(h);
}

void health_watch(health *h, int node)
{
    int64_t at = pool_silent_at(h->pool, node);

    if (at < h->armed_ms)
        arm(h, at, clock_now_ms());
}

void health_kick(health *h)
{
    arm(h, 0, 0);
}

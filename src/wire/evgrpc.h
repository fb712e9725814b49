/*
 * evgrpc: gRPC completion queue -> libevent loop.
 * One thread blocks in grpc_completion_queue_next (it is also gRPC's I/O poller) and
 * hands (tag, ok) pairs to the loop thread through an eventfd; every tag callback runs
 * on the loop thread. The thread never runs user code and never blocks on the loop.
 */
#ifndef NORIKV_EVGRPC_H
#define NORIKV_EVGRPC_H

#include <stdbool.h>

#include <event2/event.h>
#include <grpc/grpc.h>

/* Embed in the object a batch belongs to; pass &obj->tag as the batch tag. */
typedef struct evgrpc_tag evgrpc_tag;
struct evgrpc_tag {
    void (*done)(evgrpc_tag *tag, bool ok);
};

typedef struct evgrpc evgrpc;

evgrpc *evgrpc_new(struct event_base *base);
grpc_completion_queue *evgrpc_cq(evgrpc *eg);
/*
 * Shuts the queue down, joins the thread and runs the callbacks of every completion
 * still queued (so objects waiting on them are freed), then frees everything.
 * Every call and server using the queue must be finished or cancelled first.
 */
void evgrpc_free(evgrpc *eg);

#endif

/*
 * evgrpc: the completion-queue thread and its eventfd handoff to the libevent loop.
 * Owns the completion queue, the thread and a swap buffer of completions. The thread
 * only appends under a mutex and signals on the empty -> non-empty edge, so a burst of
 * completions costs one wakeup. Callbacks run on the loop thread, never on the cq thread,
 * in the order they completed, DISPATCH_SLICE_US of the loop at a time.
 */
#include "evgrpc.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <grpc/support/time.h>

#include "clock.h"
#include "xalloc.h"

/* How long one pass of the loop runs callbacks before it lets other events in (the rest
 * run in the next pass, before anything newer): a burst of completions that each copy a
 * big value (200 reads of 256 KiB answered at once, each becoming a write: ~0.3 s of
 * copying) does not hold every client's commands for all of it. */
#define DISPATCH_SLICE_US 5000

typedef struct {
    evgrpc_tag *tag;
    bool ok;
} completion;

typedef struct {
    completion *items;
    size_t len, cap;
} completion_vec;

struct evgrpc {
    grpc_completion_queue *cq;
    pthread_t thread;
    pthread_mutex_t lock;
    completion_vec pending; /* filled by the cq thread, under lock */
    completion_vec running; /* swapped out and dispatched by the loop thread */
    size_t next;            /* running's first completion not yet dispatched */
    int efd;
    struct event *ev;
    struct event *more; /* a timer of no delay: the rest of a sliced dispatch */
    bool edge;          /* ev is edge-triggered: efd's count is never read */
};

static void vec_push(completion_vec *v, evgrpc_tag *tag, bool ok)
{
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        v->items = xrealloc(v->items, cap * sizeof(*v->items));
        v->cap = cap;
    }
    v->items[v->len].tag = tag;
    v->items[v->len].ok = ok;
    v->len++;
}

static void *cq_thread(void *arg)
{
    evgrpc *eg = arg;
    const uint64_t one = 1;

    for (;;) {
        grpc_event e = grpc_completion_queue_next(eg->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (e.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (e.type != GRPC_OP_COMPLETE)
            continue;
        pthread_mutex_lock(&eg->lock);
        bool was_empty = eg->pending.len == 0;
        vec_push(&eg->pending, e.tag, e.success != 0);
        pthread_mutex_unlock(&eg->lock);
        if (was_empty && write(eg->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            abort();
    }
    return NULL;
}

/* Takes the completions the thread queued, once those taken before are all dispatched;
 * whether there are any to dispatch. */
static bool take_pending(evgrpc *eg)
{
    completion_vec tmp;

    if (eg->next < eg->running.len)
        return true;
    pthread_mutex_lock(&eg->lock);
    tmp = eg->pending;
    eg->pending = eg->running;
    eg->pending.len = 0;
    pthread_mutex_unlock(&eg->lock);
    eg->running = tmp;
    eg->next = 0;
    return tmp.len > 0;
}

/* Runs the callbacks of what has completed, oldest first: with sliced, until
 * DISPATCH_SLICE_US have passed, the rest then left to a timer of no delay. A timer, not
 * the event made active again: libevent runs an event activated from a callback in the
 * same pass, before polling, so the clients' sockets would wait for all of it; timers run
 * after the poll, once the sockets' events have been queued. */
static void dispatch(evgrpc *eg, bool sliced)
{
    int64_t until = sliced ? clock_now_us() + DISPATCH_SLICE_US : 0;
    static const struct timeval now = {0, 0};

    while (take_pending(eg)) {
        completion c = eg->running.items[eg->next++];
        c.tag->done(c.tag, c.ok);
        if (sliced && clock_now_us() >= until && take_pending(eg)) {
            evtimer_add(eg->more, &now);
            return;
        }
    }
}

static void on_more(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    dispatch(arg, true);
}

/* Edge-triggered where the backend can (epoll): every write of the cq thread is an edge (the
 * eventfd wakes its waiters on each write, whatever its count), so the count is not read
 * back: one system call less per hand-off. It cannot overflow: 2^64 - 2 writes, one per
 * burst of completions. Level-triggered backends read it, or the loop would never sleep. */
static void on_eventfd(evutil_socket_t fd, short what, void *arg)
{
    evgrpc *eg = arg;
    uint64_t n;

    (void)what;
    if (!eg->edge && read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return;
    dispatch(eg, true);
}

evgrpc *evgrpc_new(struct event_base *base)
{
    evgrpc *eg = xcalloc(1, sizeof(*eg));

    eg->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (eg->efd < 0)
        goto fail;
    eg->edge = (event_base_get_features(base) & EV_FEATURE_ET) != 0;
    eg->ev =
        event_new(base, eg->efd, EV_READ | EV_PERSIST | (eg->edge ? EV_ET : 0), on_eventfd, eg);
    if (eg->ev == NULL || event_add(eg->ev, NULL) != 0)
        goto fail;
    eg->more = evtimer_new(base, on_more, eg);
    if (eg->more == NULL)
        goto fail;
    pthread_mutex_init(&eg->lock, NULL);
    eg->cq = grpc_completion_queue_create_for_next(NULL);
    if (pthread_create(&eg->thread, NULL, cq_thread, eg) != 0) {
        grpc_completion_queue_destroy(eg->cq);
        pthread_mutex_destroy(&eg->lock);
        goto fail;
    }
    return eg;
fail:
    if (eg->more != NULL)
        event_free(eg->more);
    if (eg->ev != NULL)
        event_free(eg->ev);
    if (eg->efd >= 0)
        close(eg->efd);
    free(eg);
    return NULL;
}

grpc_completion_queue *evgrpc_cq(evgrpc *eg)
{
    return eg->cq;
}

void evgrpc_free(evgrpc *eg)
{
    if (eg == NULL)
        return;
    grpc_completion_queue_shutdown(eg->cq);
    pthread_join(eg->thread, NULL);
    /* Callbacks may free objects but must start no new batches now. */
    dispatch(eg, false);
    grpc_completion_queue_destroy(eg->cq);
    event_free(eg->more);
    event_free(eg->ev);
    close(eg->efd);
    pthread_mutex_destroy(&eg->lock);
    free(eg->pending.items);
    free(eg->running.items);
    free(eg);
}

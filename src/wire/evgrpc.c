/*
 * evgrpc: the completion-queue thread and its eventfd handoff to the libevent loop.
 * Owns the completion queue, the thread and a swap buffer of completions. The thread
 * only appends under a mutex and signals on the empty -> non-empty edge, so a burst of
 * completions costs one wakeup. Callbacks run on the loop thread, never on the cq thread.
 *
 * Polling instead of the wakeup: while a few awaited calls are in flight (evgrpc_calls),
 * the loop thread looks at the swap buffer on every pass of its loop, for a short window,
 * with a zero-timeout timer: libevent still polls its sockets (epoll_wait with no wait)
 * between two looks, the loop yields the core between them (the cq thread, woken by the
 * reply, may be waiting for it), and the cq thread, seeing `polling` set, skips the
 * eventfd write.
 * That takes the eventfd round trip and the loop thread's wakeup off a call's latency at
 * low concurrency. With more calls in flight the loop has other work between completions
 * and never polls, so it never spins a core away from the backend under load; at idle
 * (no call in flight) it sleeps as before. `polling` is cleared before the loop's last
 * look, and the cq thread reads it after its append, each behind a full fence, so one of
 * the two always sees the other's write: no completion is left without a wakeup.
 */
#include "evgrpc.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <grpc/support/time.h>

#include "clock.h"
#include "xalloc.h"

/* Poll only at this many awaited calls in flight or fewer, for at most POLL_WINDOW_NS after
 * the last call started: at 1 in flight a unary call to a node on this host takes about
 * 80-150 us, and a backend slower than that gets its completion through the eventfd. */
#define POLL_MAX_IN_FLIGHT 2
#define POLL_WINDOW_NS     200000

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
    int efd;
    struct event *ev;
    atomic_bool polling;   /* the loop thread polls `pending`: no eventfd write needed */
    struct event *poll_ev; /* zero-timeout timer: one look per pass of the loop */
    int in_flight;         /* awaited calls (evgrpc_calls), loop thread only */
    int64_t poll_until;    /* ns, monotonic */
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
        if (!was_empty)
            continue;
        atomic_thread_fence(memory_order_seq_cst);
        if (!atomic_load_explicit(&eg->polling, memory_order_relaxed) &&
            write(eg->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            abort();
    }
    return NULL;
}

static void dispatch(evgrpc *eg)
{
    completion_vec tmp;

    pthread_mutex_lock(&eg->lock);
    tmp = eg->pending;
    eg->pending = eg->running;
    eg->pending.len = 0;
    pthread_mutex_unlock(&eg->lock);

    for (size_t i = 0; i < tmp.len; i++)
        tmp.items[i].tag->done(tmp.items[i].tag, tmp.items[i].ok);
    tmp.len = 0;
    eg->running = tmp;
}

static void on_eventfd(evutil_socket_t fd, short what, void *arg)
{
    uint64_t n;

    (void)what;
    if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return;
    dispatch(arg);
}

static void poll_stop(evgrpc *eg)
{
    atomic_store_explicit(&eg->polling, false, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    dispatch(eg); /* what the cq thread appended without a wakeup */
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    static const struct timeval zero = {0, 0};
    evgrpc *eg = arg;

    (void)fd;
    (void)what;
    dispatch(eg);
    if (eg->in_flight > 0 && eg->in_flight <= POLL_MAX_IN_FLIGHT &&
        clock_now_ns() < eg->poll_until && evtimer_add(eg->poll_ev, &zero) == 0) {
        sched_yield(); /* the cq thread, woken by the reply, may be waiting for this core */
        return;
    }
    poll_stop(eg);
}

void evgrpc_calls(evgrpc *eg, int delta)
{
    static const struct timeval zero = {0, 0};

    eg->in_flight += delta;
    if (delta <= 0 || eg->in_flight > POLL_MAX_IN_FLIGHT)
        return;
    eg->poll_until = clock_now_ns() + POLL_WINDOW_NS;
    if (atomic_load_explicit(&eg->polling, memory_order_relaxed))
        return; /* its timer is pending, or on_poll runs now and re-arms it */
    if (evtimer_add(eg->poll_ev, &zero) == 0)
        atomic_store_explicit(&eg->polling, true, memory_order_relaxed);
}

evgrpc *evgrpc_new(struct event_base *base)
{
    evgrpc *eg = xcalloc(1, sizeof(*eg));

    eg->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (eg->efd < 0)
        goto fail;
    eg->ev = event_new(base, eg->efd, EV_READ | EV_PERSIST, on_eventfd, eg);
    if (eg->ev == NULL || event_add(eg->ev, NULL) != 0)
        goto fail;
    eg->poll_ev = evtimer_new(base, on_poll, eg);
    if (eg->poll_ev == NULL)
        goto fail;
    atomic_init(&eg->polling, false);
    pthread_mutex_init(&eg->lock, NULL);
    eg->cq = grpc_completion_queue_create_for_next(NULL);
    if (pthread_create(&eg->thread, NULL, cq_thread, eg) != 0) {
        grpc_completion_queue_destroy(eg->cq);
        pthread_mutex_destroy(&eg->lock);
        goto fail;
    }
    return eg;
fail:
    if (eg->poll_ev != NULL)
        event_free(eg->poll_ev);
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
    while (eg->pending.len > 0)
        dispatch(eg);
    grpc_completion_queue_destroy(eg->cq);
    event_free(eg->poll_ev);
    event_free(eg->ev);
    close(eg->efd);
    pthread_mutex_destroy(&eg->lock);
    free(eg->pending.items);
    free(eg->running.items);
    free(eg);
}

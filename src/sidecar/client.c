/*
 * client: connection I/O and request scheduling. Owns the socket, the parser, the queue
 * of requests and the output buffer of each client. Replies are moved into the output in
 * request order and written by one flush per loop pass for every client that has some.
 * Must never block on a client and never let one client's backlog stall the others.
 *
 * client and cmd know each other, as Redis' networking.c and server.c do: the scheduler
 * looks commands up and starts their handlers, and a handler ends its request with
 * req_done(). That is one protocol, a request's life, split in two files; a callback
 * table between them would hide it without removing it. Nothing else in the daemon calls
 * back into the scheduler.
 */
#include "client.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "cmd.h"
#include "latency.h"
#include "log.h"
#include "monitor.h"
#include "order.h"
#include "pubsub.h"
#include "slowlog.h"
#include "xalloc.h"

/* the most a reply without a stored value takes: an error with its cause */
#define SMALL_REPLY 4096
/* ... and what one element per argument of it may take besides: RESP2's bulk form of a
 * double with 17 digits and an exponent ("$23\r\n-1.2345678901234567e+308\r\n") */
#define REPLY_PER_ARG 32
#define READ_CHUNK    (16 * 1024)
/* The read buffer all clients share: a client keeps only what it has not parsed yet. */
#define RBUF_SIZE (64 * 1024)
/* Requests parsed between two runs of the queue, and per loop pass for one client: a
 * pipeline of thousands of PINGs is served in slices, other clients in between. */
#define PARSE_BATCH 64
#define PARSE_PASS  1024
/* A reply at most this long is copied into the output, not moved: moving hands over the
 * whole buffer chain it lives in (a kilobyte or more for a PONG). */
#define REPLY_COPY_MAX 4096
/* What one client's output may write in one go: a fast reader of a big reply does not
 * keep the loop from the others for the whole of it. */
#define WRITE_PASS_MAX (1024 * 1024)
/* What a request and each of its arguments cost besides the argument bytes. */
#define REQ_OVERHEAD (sizeof(req) + 64)
#define ARG_OVERHEAD 32

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void advance(client *c);
static size_t out_len(const client *c);
static struct evbuffer *out_get(client *c);
static void out_put(client *c);

/* Whether the client must AUTH first. A connection made while there was no password is
 * authenticated: a password set later by a reload asks new connections for it, as Redis'
 * CONFIG SET requirepass does; and none is asked for once it is removed. */
static bool needs_auth(const client *c)
{
    return !c->authenticated && c->s->cfg.sidecar.requirepass[0] != '\0';
}

/* ---- memory --------------------------------------------------------------------------
 * What a connection holds while idle is its client struct, with its events and parser, in
 * a slab block (slab.h) and not on the heap: thousands of them there would each pin a page
 * between the short-lived allocations of requests, and the heap could not give memory back
 * after they all closed. Its output buffer is lent while there is output; requests, often
 * made and freed, are reused. */

static size_t out_len(const client *c)
{
    return c->out != NULL ? evbuffer_get_length(c->out) : 0;
}

size_t client_output_len(const client *c)
{
    return out_len(c);
}

void client_charge(client *c, hold_kind k, size_t n)
{
    c->hold[k] += n;
}

void client_refund(client *c, hold_kind k, size_t n)
{
    assert(c->hold[k] >= n);
    c->hold[k] -= n;
}

void client_hold_set(client *c, hold_kind k, size_t n)
{
    c->hold[k] = n;
}

/* Its query buffer: while it parses from the shared read buffer, only its unparsed bytes
 * are its own. */
static size_t qbuf_size(const client *c)
{
    return c->qbuf == c->s->mem.rbuf ? c->qlen : c->qcap;
}

void client_set_name(client *c, const char *name, size_t len)
{
    if (c->name != NULL)
        client_refund(c, HOLD_CONN, strlen(c->name) + 1);
    free(c->name);
    c->name = NULL;
    if (len > 0) {
        c->name = xmemdup0(name, len);
        client_charge(c, HOLD_CONN, len + 1);
    }
}

size_t client_mem_total(const client *c)
{
    size_t n = qbuf_size(c) + resp_parser_held(c->parser) + out_len(c);

    for (int k = 0; k < HOLD_KINDS; k++)
        if (k != HOLD_RESERVED) /* a bound on replies to come, not memory */
            n += c->hold[k];
    return n;
}

struct evbuffer *client_buf_get(sidecar *s)
{
    client_mem *m = &s->mem;
    struct evbuffer *b = m->nspare_buf > 0 ? m->spare_buf[--m->nspare_buf] : evbuffer_new();

    if (b == NULL) {
        fprintf(stderr, "out of memory allocating an evbuffer: aborting\n");
        abort();
    }
    return b;
}

void client_buf_put(sidecar *s, struct evbuffer *b)
{
    client_mem *m = &s->mem;

    if (b == NULL)
        return;
    evbuffer_drain(b, evbuffer_get_length(b)); /* an empty evbuffer holds no chain */
    if (m->nspare_buf < CLIENT_SPARE_BUF)
        m->spare_buf[m->nspare_buf++] = b;
    else
        evbuffer_free(b);
}

static struct evbuffer *out_get(client *c)
{
    if (c->out == NULL)
        c->out = client_buf_get(c->s);
    return c->out;
}

/* The output is written (or dropped, the client going): the buffer goes back. */
static void out_put(client *c)
{
    client_buf_put(c->s, c->out);
    c->out = NULL;
}

static req *req_get(sidecar *s)
{
    client_mem *m = &s->mem;
    req *r = m->spare_req;

    if (r == NULL)
        return xcalloc(1, sizeof(*r));
    m->spare_req = r->next;
    m->nspare_req--;
    memset(r, 0, sizeof(*r));
    return r;
}

static void req_put(sidecar *s, req *r)
{
    client_mem *m = &s->mem;

    if (m->nspare_req >= CLIENT_SPARE_REQ) {
        free(r);
        return;
    }
    r->next = m->spare_req;
    m->spare_req = r;
    m->nspare_req++;
}

void client_mem_trim(sidecar *s)
{
    slab_trim(&s->mem.slab);
}

void client_mem_release(sidecar *s)
{
    client_mem *m = &s->mem;

    assert(m->slab.objects == 0);
    slab_trim(&m->slab);
    free(m->rbuf);
    m->rbuf = NULL;
    while (m->nspare_buf > 0)
        evbuffer_free(m->spare_buf[--m->nspare_buf]);
    while (m->spare_req != NULL) {
        req *r = m->spare_req;
        m->spare_req = r->next;
        free(r);
    }
    m->nspare_req = 0;
}

/* ---- flushing ----------------------------------------------------------------------- */

/*
 * The bytes a client holds: its requests' arguments, the replies finished and not yet
 * written, and its output. Reading pauses above reply_backlog; and no request starts while
 * the replies held plus the largest its running requests may bring are above it (see
 * may_start), so a client never holds more than reply_backlog plus one request's worth.
 */
static size_t held_bytes(const client *c)
{
    return c->hold[HOLD_ARGS] + c->hold[HOLD_DONE] + out_len(c);
}

static bool over_backlog(const client *c)
{
    return held_bytes(c) > (size_t)c->s->cfg.sidecar.reply_backlog;
}

static void mark_flush(client *c)
{
    if (c->in_flush || c->closing)
        return;
    c->in_flush = true;
    LIST_INSERT_HEAD(&c->s->flushing, c, flush_link);
    event_active(c->s->flush_ev, EV_WRITE, 0);
}

static void arm_read(client *c, bool on)
{
    const conf *cf = &c->s->cfg;

    if (c->eof || c->closing)
        on = false;
    if (on == c->reading)
        return;
    if (!on && (c->nreqs >= cf->sidecar.max_pending || over_backlog(c)))
        c->s->st.client_query_pauses++;
    c->reading = on;
    if (on)
        event_add(c->rev, NULL);
    else
        event_del(c->rev);
}

static bool can_take_more(const client *c)
{
    const conf *cf = &c->s->cfg;

    /* (while the sidecar drains, reading goes on: what comes is answered UNAVAILABLE by
     * cmd_check, rather than left unanswered until the exit) */
    if (c->close_after || c->protocol_error)
        return false;
    if (c->nreqs >= cf->sidecar.max_pending)
        return false;
    if (over_backlog(c))
        return false;
    /* Before AUTH one request at a time: the parser's limits depend on its outcome. */
    return !(needs_auth(c) && c->nreqs > 0);
}

/* Writes what the output holds, at most WRITE_PASS_MAX per call (the rest when the write
 * event comes back, after the loop served the others, as Redis caps a client's writes per
 * event); false when the client was closed. */
static bool write_out(client *c)
{
    size_t written = 0;

    if (c->closing)
        return false;
    while (out_len(c) > 0) {
        if (written >= WRITE_PASS_MAX) {
            event_add(c->wev, NULL);
            return true;
        }
        int n = evbuffer_write(c->out, c->fd);
        if (n > 0) {
            c->s->st.total_net_output_bytes += (uint64_t)n;
            c->last_active_ms = clock_now_ms(); /* a client reading a long reply is busy */
            written += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(c->wev, NULL);
            return true;
        }
        client_close(c); /* the peer is gone */
        return false;
    }
    if (c->out != NULL)
        out_put(c);
    event_del(c->wev);
    /* After EOF, what is left unparsed once the queue is empty is an incomplete request
     * (unless parsing only paused for other clients' turn). */
    if ((c->close_after || c->eof) && c->nreqs == 0 && !c->yielded) {
        client_close(c);
        return false;
    }
    return true;
}

static void parse_more(client *c);

/* Takes more from a client that was held back, once it can take more. */
static void resume(client *c)
{
    if (c->closing || !can_take_more(c))
        return;
    if (c->parse_blocked)
        parse_more(c); /* requests already read come first */
    else
        arm_read(c, true);
}

/* The loop has polled the other clients since parsing stopped for the pass: go on. */
static void on_yield_done(evutil_socket_t fd, short what, void *arg)
{
    client *c = arg;

    (void)fd;
    (void)what;
    c->yielded = false;
    c->parse_blocked = true;
    resume(c);
    if (!c->yielded && !c->reading && c->nreqs == 0 && out_len(c) == 0 && c->eof)
        client_close(c); /* all it sent before closing is answered */
}

static void after_write(client *c)
{
    /* Requests held back for the replies waiting to be written may start now. */
    if (c->start_blocked) {
        c->start_blocked = false;
        advance(c);
    }
    /* Resume below half the backlog limit, so a paused client does not flap. */
    if (!c->reading && held_bytes(c) <= (size_t)c->s->cfg.sidecar.reply_backlog / 2)
        resume(c);
}

void client_flush_all(sidecar *s)
{
    client *c;

    /* One at a time off the list: what a flush runs (CLIENT KILL resumed from a paused
     * client) may close another client, which then leaves the list itself. */
    while ((c = LIST_FIRST(&s->flushing)) != NULL) {
        LIST_REMOVE(c, flush_link);
        c->in_flush = false;
        if (write_out(c))
            after_write(c);
    }
    client_reap(s); /* what this pass (and the callbacks before it) closed */
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    client *c = arg;

    (void)fd;
    (void)what;
    if (write_out(c))
        after_write(c);
}

/* ---- requests ----------------------------------------------------------------------- */

static void req_free(req *r)
{
    client *c = r->c;

    client_refund(c, HOLD_ARGS, r->arg_bytes);
    if (r->state == REQ_RUNNING)
        client_refund(c, HOLD_RESERVED, r->reserve);
    if (r->counted)
        order_running_remove(&c->running, r);
    client_refund(c, HOLD_DONE, r->done_len);
    client_refund(c, HOLD_READS, r->kept);
    /* an operation still out finishes without telling us */
    kv_op_detach(r->op);
    for (int i = 0; i < r->nparts; i++) {
        kv_op_detach(r->parts[i].op);
        free(r->parts[i].value);
    }
    free(r->parts);
    resp_argv_free(r->argv, r->argc);
    client_buf_put(c->s, r->reply);
    if (r->scratch_free != NULL)
        r->scratch_free(r->scratch);
    else
        free(r->scratch);
    req_put(c->s, r);
}

void client_skip_next_reply(req *r)
{
    if (r->next != NULL)
        r->next->skip_reply = true;
    else
        r->c->reply_skip_next = true;
}

void client_drop_after(req *r)
{
    client *c = r->c;

    while (r->next != NULL) {
        req *gone = r->next;
        r->next = gone->next;
        req_free(gone);
        c->nreqs--;
    }
    c->tail = r;
    c->first_queued = NULL;
    for (req *q = c->head; q != NULL; q = q->next) {
        if (q->state == REQ_QUEUED) {
            c->first_queued = q;
            break;
        }
    }
    c->close_after = true;
    c->qlen = 0; /* and nothing more is read */
}

static void append(client *c, req *r)
{
    r->skip_reply = c->reply_skip_next;
    c->reply_skip_next = false;
    r->arg_bytes = REQ_OVERHEAD;
    for (int i = 0; i < r->argc; i++)
        r->arg_bytes += r->argv[i].len + ARG_OVERHEAD;
    client_charge(c, HOLD_ARGS, r->arg_bytes);
    if (c->tail != NULL)
        c->tail->next = r;
    else
        c->head = r;
    c->tail = r;
    c->nreqs++;
}

static void enqueue(client *c, resp_arg *argv, int argc)
{
    req *r = req_get(c->s);

    r->c = c;
    r->argv = argv;
    r->argc = argc;
    r->cmd = cmd_find(argv, argc, &r->cmd_index);
    append(c, r);
    if (c->first_queued == NULL)
        c->first_queued = r;
}

/* A finished request that carries only an error: used for protocol errors. */
static void enqueue_error(client *c, const char *text)
{
    req *r = req_get(c->s);

    r->c = c;
    r->state = REQ_DONE;
    r->cmd_index = -1;
    r->reply = client_buf_get(c->s);
    resp_add_error(r->reply, text);
    c->s->st.total_error_replies++;
    stats_count_error(&c->s->st, text, strlen(text));
    append(c, r);
}

/*
 * The largest reply r may bring once started: nothing for a command the sidecar answers
 * at once (its reply is counted when it finishes, in start), SMALL_REPLY for one that
 * never answers a stored value (SET, DEL, INCR, ...: a status, a number or an error), at
 * most one NoriKV value per key for a command with keys, max_reply for one without (EXEC)
 * or whose reply its keys do not bound (CMD_LARGE_REPLY: VSIM), and never more than
 * max_reply, above which a reply is an error. Each of the first two also gets
 * REPLY_PER_ARG per argument: a reply may have a number, a nil or a score for each (SMISMEMBER
 * and ZMSCORE of a million members answer megabytes).
 */
static size_t reply_reserve(const req *r)
{
    const struct cmd_def *d = r->cmd;
    size_t keys = 1, cap = (size_t)r->c->s->cfg.sidecar.max_reply;
    size_t per_arg = (size_t)r->argc * REPLY_PER_ARG;

    if (d == NULL || (d->flags & CMD_LOCAL))
        return 0;
    if (cmd_small_reply(r))
        return SMALL_REPLY + per_arg < cap ? SMALL_REPLY + per_arg : cap;
    if (d->first_key <= 0 || (d->flags & CMD_LARGE_REPLY))
        return cap;
    if (d->key_step > 0 && r->argc > d->first_key) {
        int last = d->last_key < 0 ? r->argc + d->last_key : d->last_key;
        if (last >= r->argc)
            last = r->argc - 1;
        if (last >= d->first_key)
            keys = (size_t)((last - d->first_key) / d->key_step + 1);
    }
    if (keys > cap / (KV_VALUE_LIMIT + 64))
        return cap;
    keys *= KV_VALUE_LIMIT + 64;
    return keys + per_arg < cap ? keys + per_arg : cap;
}

/* Whether a request may start: while the replies waiting, those the running requests may
 * bring and what their compare-and-swap rounds hold fit in reply_backlog; the one that
 * starts may then go over by its own worth. (A round's bytes are charged once its read
 * is back, so requests started together are all let start; those after wait for them.) */
static bool may_start(const client *c)
{
    size_t replies = c->hold[HOLD_DONE] + out_len(c) + c->hold[HOLD_RESERVED] + c->hold[HOLD_CAS];

    return replies <= (size_t)c->s->cfg.sidecar.reply_backlog;
}

static void start(req *r)
{
    client *c = r->c;

    r->state = REQ_RUNNING;
    r->by_key = order_mode_of(&c->s->cfg) == ORDER_KEY;
    r->reserve = reply_reserve(r);
    client_charge(c, HOLD_RESERVED, r->reserve);
    r->start_us = clock_now_us();
    c->commands++;
    c->last_cmd = r->cmd != NULL ? r->cmd->name : NULL;
    c->s->st.total_commands_processed++;
    r->in_proc = true;
    if (c->tx.in_multi && (r->cmd == NULL || !(r->cmd->flags & CMD_TX))) {
        r->queued = true;
        tx_queue(r); /* checked and queued for EXEC, as Redis does */
    } else if (!cmd_check(r)) {
        r->rejected = true;
        req_done(r);
    } else {
        if (monitor_any(c->s))
            monitor_feed(r);
        r->cmd->proc(r);
        if (c->s->cfg.sidecar.latency_monitor_threshold > 0) /* what the handler held the loop */
            latency_note(c->s, LATENCY_COMMAND_LOOP,
                         (uint64_t)(clock_now_us() - r->start_us) / 1000);
    }
    r->in_proc = false;
    if (r->state == REQ_RUNNING) {
        order_running_add(&c->running, r); /* until req_done */
        r->counted = true;
    }
}

/* The kind of an error reply (its first word), for INFO errorstats. */
static void count_error_kind(stats *st, struct evbuffer *reply)
{
    char head[STATS_ERROR_NAME_MAX + 1];
    ev_ssize_t n = reply != NULL ? evbuffer_copyout(reply, head, sizeof(head)) : 0;

    if (n > 1 && head[0] == '-')
        stats_count_error(st, head + 1, (size_t)n - 1);
}

void req_done(req *r)
{
    client *c = r->c;
    stats *st = &c->s->st;

    assert(r->state == REQ_RUNNING);
    if (c->closing) { /* nobody to answer: freed with the client */
        if (r->counted) {
            order_running_remove(&c->running, r);
            r->counted = false;
        }
        client_refund(c, HOLD_RESERVED, r->reserve);
        r->reserve = 0;
        r->state = REQ_DONE;
        return;
    }
    r->state = REQ_DONE;
    if (r->counted) {
        order_running_remove(&c->running, r);
        r->counted = false;
    }
    client_refund(c, HOLD_RESERVED, r->reserve);
    r->reserve = 0;
    if (r->reply != NULL && evbuffer_get_length(r->reply) > (size_t)c->s->cfg.sidecar.max_reply) {
        /* a backstop: the commands that can build a big reply check as they go */
        size_t len = evbuffer_get_length(r->reply);
        evbuffer_drain(r->reply, len);
        resp_add_errorf(r->reply, "ERR reply of %zu bytes is over max_reply (%ld)", len,
                        c->s->cfg.sidecar.max_reply);
        st->replies_over_max++;
        r->failed = true;
    }
    if (r->reply != NULL)
        r->done_len = evbuffer_get_length(r->reply);
    client_charge(c, HOLD_DONE, r->done_len);
    if (r->cmd_index >= 0) {
        cmd_stat *cs = &st->cmds[r->cmd_index];
        if (r->rejected) {
            cs->rejected_calls++;
        } else {
            uint64_t took = (uint64_t)(clock_now_us() - r->start_us);
            cs->calls++;
            cs->usec += took;
            stats_record_latency(cs, took);
            if (r->failed)
                cs->failed_calls++;
            if (!r->queued) {
                if (c->s->cfg.sidecar.slowlog_log_slower_than >= 0)
                    slowlog_note(c->s, r, took);
                if (c->s->cfg.sidecar.latency_monitor_threshold > 0)
                    latency_note(
                        c->s, (r->cmd->flags & CMD_FAST) ? LATENCY_FAST_COMMAND : LATENCY_COMMAND,
                        took / 1000);
            }
        }
    }
    if (r->failed) {
        st->total_error_replies++;
        count_error_kind(st, r->reply);
    }
    /* Finished inside its own start (a local command, an argument error): advance(), up
     * the stack, sees it. Otherwise a cluster callback from the loop: move on now. kv.h
     * promises no callback runs inside the call that started it, so nothing else can
     * finish while advance() or parse_more() is running. */
    if (r->in_proc)
        return;
    advance(c);
    if (!c->reading)
        resume(c);
}

#ifdef NORIKV_DEBUG
/* The queue as the ordering rule leaves it: counted right, and no request running while
 * an earlier one it must wait for (under the ordering it started with) has not finished.
 * O(queue^2): debug and sanitizer builds only. */
static void check_queue(const client *c)
{
    int n = 0;

    assert((c->head == NULL) == (c->tail == NULL));
    for (const req *r = c->head; r != NULL; r = r->next) {
        n++;
        assert(r->c == c);
        assert(r->next != NULL || r == c->tail);
        if (r->state != REQ_RUNNING)
            continue; /* (a finished one may have handed its arguments to a transaction) */
        for (const req *p = c->head; p != r; p = p->next)
            assert(p->state == REQ_DONE ||
                   !order_conflict(p, r, r->by_key ? ORDER_KEY : ORDER_CONNECTION));
    }
    assert(n == c->nreqs);
}
#else
#define check_queue(c) ((void)0)
#endif

/*
 * Sends the finished replies at the head and starts what the ordering rule (order.h)
 * allows. A request at the head that finishes inside its own start leaves the loop to look
 * again from the head; one further on waits for those before it, and the scan goes on.
 * Never re-entered: req_done() only calls it from outside, for a cluster callback.
 */
static void advance(client *c)
{
    bool moved = false, again;
    order_scan scan;

    if (c->closing)
        return;
    assert(!c->advancing);
    c->advancing = true;
    do {
        again = false;
        /* Replies leave in request order. */
        while (c->head != NULL && c->head->state == REQ_DONE) {
            req *r = c->head;
            c->head = r->next;
            if (c->head == NULL)
                c->tail = NULL;
            c->nreqs--;
            if (r->skip_reply || c->reply_off) {
                /* CLIENT REPLY OFF or SKIP, as in Redis, errors too: dropped here, where
                 * replies are committed in request order, and req_free refunds what it
                 * held. CLIENT REPLY and RESET run alone (CMD_STATE): every request before
                 * them has left by then, so reply_off is the mode each reply here was made
                 * under. */
            } else if (r->reply != NULL && evbuffer_get_length(r->reply) <= REPLY_COPY_MAX) {
                size_t len = evbuffer_get_length(r->reply);
                evbuffer_add(out_get(c), evbuffer_pullup(r->reply, -1), len);
            } else if (r->reply != NULL) {
                evbuffer_add_buffer(out_get(c), r->reply);
            }
            req_free(r);
            moved = true;
        }
        /* Start what may start: the queued requests, from the first; the running ones
         * are counted in c->running (order.h). */
        int waiting = 0;
        req *r, *first = NULL; /* the first left queued */
        order_scan_begin(&scan, order_mode_of(&c->s->cfg), &c->running);
        for (r = c->first_queued; r != NULL && !order_barrier(&scan); r = r->next) {
            if (r->state != REQ_QUEUED)
                continue;
            if (!order_may_start(&scan, r)) {
                /* by connection nothing after it starts; by key what does not wait for
                 * it may, up to ORDER_LOOKAHEAD of those that wait */
                if (scan.mode == ORDER_CONNECTION || ++waiting > ORDER_LOOKAHEAD)
                    break;
                order_note(&scan, r);
                if (first == NULL)
                    first = r;
                continue;
            }
            if (!may_start(c)) {
                c->start_blocked = true; /* until a write makes room (after_write) */
                break;
            }
            start(r);
            if (r->state == REQ_DONE && r == c->head) {
                again = true; /* its reply may leave now: look again from the head */
                r = r->next;
                break;
            }
        }
        /* the first queued: the first the scan left, else the first where it stopped */
        if (first == NULL) {
            while (r != NULL && r->state != REQ_QUEUED)
                r = r->next;
            first = r;
        }
        c->first_queued = first;
        order_scan_end(&scan);
        check_queue(c);
    } while (again);
    c->advancing = false;
    if (moved)
        mark_flush(c);
}

/* ---- reading ------------------------------------------------------------------------ */

/*
 * Parses what was read into requests while the client can take more, and runs them. What
 * a finished request makes room for is parsed in the same call, by the loop, not by
 * calling back into it.
 */
static void parse_more(client *c)
{
    const conf *cf = &c->s->cfg;
    resp_limits lim;
    size_t pos, used;
    resp_arg *argv;
    int argc, parsed = 0;
    const char *err;

    if (c->closing)
        return;
    assert(!c->parsing);
    c->parsing = true;
    lim.max_bulk = (size_t)cf->sidecar.max_bulk;
    lim.max_args = cf->sidecar.max_args;
    lim.max_request = (size_t)cf->sidecar.query_buffer_limit;
    do {
        int batch = 0;
        c->parse_blocked = false;
        pos = 0;
        while (pos < c->qlen) {
            if (!can_take_more(c)) {
                c->parse_blocked = true; /* resumed when the queue or the backlog shrinks */
                break;
            }
            if (batch == PARSE_BATCH) {
                c->parse_blocked = true; /* run these first: the queue stays short */
                break;
            }
            lim.restricted = needs_auth(c);
            resp_status st = resp_parse(c->parser, &lim, c->qbuf + pos, c->qlen - pos, &used, &argv,
                                        &argc, &err);
            pos += used;
            if (st == RESP_AGAIN)
                break;
            if (st == RESP_ERROR) {
                char text[256];
                snprintf(text, sizeof(text), "ERR %s", err);
                enqueue_error(c, text);
                c->protocol_error = true;
                c->close_after = true;
                c->s->st.protocol_errors++;
                log_info("client %llu (%s): %s; closing", (unsigned long long)c->id, c->addr, err);
                pos = c->qlen;
                break;
            }
            enqueue(c, argv, argc);
            parsed++;
            batch++;
        }
        if (pos > 0) {
            memmove(c->qbuf, c->qbuf + pos, c->qlen - pos);
            c->qlen -= pos;
        }
        if (c->qlen == 0 && c->qbuf != c->s->mem.rbuf) {
            /* all parsed: nothing held between reads */
            free(c->qbuf);
            c->qbuf = NULL;
            c->qcap = 0;
        }
        advance(c);
        if (c->parse_blocked && parsed >= PARSE_PASS && can_take_more(c)) {
            /* enough for one pass: the rest from a timer, which runs once the loop has
             * polled the other clients (an event made active at once would not wait) */
            static const struct timeval next_pass = {0, 0};
            c->yielded = true;
            evtimer_add(c->yield_ev, &next_pass);
            break;
        }
        /* Requests held back for room, and room made by requests that finished at once
         * (local commands): parse again. */
    } while (c->parse_blocked && can_take_more(c));
    arm_read(c, can_take_more(c) && !c->yielded);
    c->parsing = false;
}

/*
 * Where the next read goes. Reads land in the buffer all clients share, after what the
 * client had not parsed yet; only a remainder too big to leave room there (a pipeline
 * held back) grows a buffer of the client's own.
 */
static void read_room(client *c)
{
    client_mem *m = &c->s->mem;

    if (c->qbuf == m->rbuf && c->qbuf != NULL)
        return;
    if (c->qlen + READ_CHUNK <= RBUF_SIZE) {
        if (m->rbuf == NULL)
            m->rbuf = xmalloc(RBUF_SIZE);
        if (c->qlen > 0)
            memcpy(m->rbuf, c->qbuf, c->qlen);
        free(c->qbuf);
        c->qbuf = m->rbuf;
        c->qcap = RBUF_SIZE;
    } else if (c->qcap - c->qlen < READ_CHUNK) {
        size_t cap = c->qcap * 2;
        c->qbuf = xrealloc(c->qbuf, cap);
        c->qcap = cap;
    }
}

/* After a read: the client keeps what it has not parsed in a buffer of its own, exactly
 * as big, and nothing when it parsed everything. */
static void keep_rest(client *c)
{
    if (c->qbuf != c->s->mem.rbuf)
        return;
    c->qbuf = c->qlen > 0 ? xmemdup0(c->qbuf, c->qlen) : NULL;
    c->qcap = c->qlen;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    client *c = arg;
    char *dst;
    size_t want;
    ssize_t n;

    (void)what;
    if (c->qlen == 0 && resp_bulk_window(c->parser, &dst, &want)) {
        /* a big bulk goes straight where it belongs */
        n = read(fd, dst, want);
        if (n > 0) {
            resp_bulk_commit(c->parser, (size_t)n);
            c->s->st.total_net_input_bytes += (uint64_t)n;
            c->last_active_ms = clock_now_ms();
            return;
        }
    } else {
        read_room(c);
        n = read(fd, c->qbuf + c->qlen, c->qcap - c->qlen);
        if (n > 0) {
            c->qlen += (size_t)n;
            c->s->st.total_net_input_bytes += (uint64_t)n;
            c->last_active_ms = clock_now_ms();
            parse_more(c);
            keep_rest(c);
            return;
        }
        keep_rest(c);
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n < 0) {
        client_close(c); /* a broken connection */
        return;
    }
    /* EOF: the peer may only have closed its side (printf ... | nc -U): what it sent
     * still runs and is answered, then the connection closes. */
    c->eof = true;
    arm_read(c, false);
    parse_more(c);
    if (c->nreqs == 0 && out_len(c) == 0 && !c->yielded)
        client_close(c);
}

/* ---- lifecycle ---------------------------------------------------------------------- */

/* A client with its events and parser in one slab object. */
static client *client_new(sidecar *s, int fd)
{
    size_t head = (sizeof(client) + 15) & ~(size_t)15;
    size_t ev = (event_get_struct_event_size() + 15) & ~(size_t)15;
    client *c;
    char *at;

    if (s->mem.slab.size == 0)
        slab_init(&s->mem.slab, head + 3 * ev + resp_parser_size());
    c = slab_alloc(&s->mem.slab);
    at = (char *)c + head;
    c->rev = (struct event *)at;
    c->wev = (struct event *)(at + ev);
    c->yield_ev = (struct event *)(at + 2 * ev);
    c->parser = resp_parser_init(at + 3 * ev);
    /* cannot fail: the events are in memory of ours, the base and the fd are valid */
    event_assign(c->rev, s->base, fd, EV_READ | EV_PERSIST, on_read, c);
    event_assign(c->wev, s->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    evtimer_assign(c->yield_ev, s->base, on_yield_done, c);
    return c;
}

void client_accept(sidecar *s, int fd, const char *addr, bool unix_socket)
{
    static const char full[] = "-ERR max number of clients reached\r\n";
    client *c;

    s->st.total_connections_received++;
    if (s->nclients >= s->cfg.sidecar.max_clients || s->draining) {
        s->st.rejected_connections++;
        log_limited(&s->reject_log, LOG_WARNING, "turned a client away (%s): %s", addr,
                    s->draining ? "draining" : "max number of clients reached");
        if (write(fd, full, sizeof(full) - 1) < 0)
            log_debug("could not tell a refused client why");
        close(fd);
        return;
    }
    c = client_new(s, fd);
    c->s = s;
    c->fd = fd;
    c->id = ++s->next_client_id;
    snprintf(c->addr, sizeof(c->addr), "%s", addr);
    c->unix_socket = unix_socket;
    c->proto = 2;
    c->consistency = KV_LEASE;
    c->authenticated = s->cfg.sidecar.requirepass[0] == '\0';
    c->created_ms = c->last_active_ms = clock_now_ms();
    evutil_make_socket_nonblocking(fd);
    LIST_INSERT_HEAD(&s->clients, c, link);
    s->nclients++;
    c->linked = true;
    arm_read(c, true);
}

/*
 * Closing is in two steps, as Redis' freeClientAsync: client_close detaches the client at
 * once (no events, no socket, out of the client and flushing lists, so nothing reaches it
 * again) and the next flush pass frees it (client_reap), from the top of the loop. Until
 * then its memory stays valid, so a caller up the stack that closed it, or whose callee
 * did, never touches freed memory; each entry point (advance, parse_more, req_done,
 * client_push, write_out) returns at once for a closing client.
 */
void client_close(client *c)
{
    sidecar *s = c->s;

    if (c->closing)
        return;
    c->closing = true;
    monitor_stop(c);
    if (c->in_flush) {
        LIST_REMOVE(c, flush_link);
        c->in_flush = false;
    }
    if (c->linked) {
        LIST_REMOVE(c, link);
        s->nclients--;
        c->linked = false;
    }
    LIST_INSERT_HEAD(&s->closed, c, link);
    event_del(c->rev);
    event_del(c->wev);
    event_del(c->yield_ev);
    c->reading = false;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    event_active(s->flush_ev, EV_WRITE, 0); /* the pass that frees it */
}

static void client_free(client *c)
{
    sidecar *s = c->s;

    assert(c->closing);
    LIST_REMOVE(c, link);
    while (c->head != NULL) {
        req *r = c->head;
        c->head = r->next;
        req_free(r);
    }
    order_running_free(&c->running);
    tx_reset(c);
    pubsub_client_reset(c);
    resp_parser_clear(c->parser);
    out_put(c);
    if (c->qbuf != s->mem.rbuf)
        free(c->qbuf);
    client_set_name(c, NULL, 0);
    slab_free(&s->mem.slab, c);
}

void client_reap(sidecar *s)
{
    while (!LIST_EMPTY(&s->closed))
        client_free(LIST_FIRST(&s->closed));
}

void client_resume_all(sidecar *s)
{
    client *c;

    /* Through the flush pass, which takes clients one at a time off its list: resuming
     * runs commands, and a CLIENT KILL among them may free any client. */
    LIST_FOREACH(c, &s->clients, link)
    if (!c->reading)
        mark_flush(c);
}

/* ---- pushes (pub/sub) ----------------------------------------------------------------
 * Unlike replies, pushes are not paced by reading the client, so reply_backlog bounds them
 * itself. Kept apart from the scheduler above: only the output buffer is shared. */

bool client_push(client *c, struct evbuffer *msg)
{
    size_t unsent = out_len(c);

    if (c->closing) {
        evbuffer_drain(msg, evbuffer_get_length(msg));
        return false;
    }
    if ((long)unsent > c->s->cfg.sidecar.reply_backlog) {
        evbuffer_drain(msg, evbuffer_get_length(msg));
        c->s->st.client_output_buffer_limit_disconnections++;
        log_notice("client %llu (%s): %zu bytes unsent, over reply_backlog, with %s still "
                   "coming; closing it",
                   (unsigned long long)c->id, c->addr, unsent,
                   c->monitor ? "MONITOR lines" : "pub/sub messages");
        client_close(c);
        return false;
    }
    evbuffer_add_buffer(out_get(c), msg);
    mark_flush(c);
    return true;
}

void client_describe(const client *c, struct evbuffer *out)
{
    int64_t now = clock_now_ms();
    char cmd[64] = "NULL";
    int sub, psub, nflags = 0;
    size_t qcap = qbuf_size(c);
    char flags[5];

    if (c->last_cmd != NULL) {
        size_t i;
        for (i = 0; c->last_cmd[i] != '\0' && i + 1 < sizeof(cmd); i++)
            cmd[i] = (char)(c->last_cmd[i] >= 'A' && c->last_cmd[i] <= 'Z' ? c->last_cmd[i] | 0x20
                                                                           : c->last_cmd[i]);
        cmd[i] = '\0';
    }
    pubsub_counts(c, &sub, &psub);
    /* Redis' letters, in its order: O a monitor, P subscribed, x inside MULTI, N none */
    if (c->monitor)
        flags[nflags++] = 'O';
    if (sub + psub > 0)
        flags[nflags++] = 'P';
    if (c->tx.in_multi)
        flags[nflags++] = 'x';
    if (nflags == 0)
        flags[nflags++] = 'N';
    flags[nflags] = '\0';

    evbuffer_add_printf(
        out,
        "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=0 "
        "sub=%d psub=%d ssub=0 multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=%zu "
        "obl=0 oll=0 omem=%zu tot-mem=%zu events=r cmd=%s user=default redir=-1 resp=%d "
        "lib-name=%s lib-ver=%s pending=%d\n",
        (unsigned long long)c->id, c->addr, c->unix_socket ? c->s->cfg.sidecar.listen : "-", c->fd,
        c->name ? c->name : "", (long long)((now - c->created_ms) / 1000),
        (long long)((now - c->last_active_ms) / 1000), flags, sub, psub,
        c->tx.in_multi ? c->tx.nqueued : -1, c->qlen, qcap - c->qlen, resp_parser_held(c->parser),
        c->hold[HOLD_MULTI], out_len(c), client_mem_total(c), cmd, c->proto, c->lib_name,
        c->lib_ver, c->nreqs);
}

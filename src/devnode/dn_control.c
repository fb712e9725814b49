/*
 * dn_control: the control socket. Owns the listener, its connections and the socket
 * file. Commands act through dn_cluster and dn_server; "kill" answers only once the
 * node's port is closed, so a test can rely on it at once. A client that has sent
 * everything (EOF: `echo 'kill 2' | socat - UNIX-CONNECT:...`) still gets an answer to
 * each line it sent, the last one with or without its newline, before the connection
 * closes. A client whose connection fails while waiting is freed when the wait ends.
 */
#include "dn_control.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "dn_cluster.h"
#include "dn_kv.h"
#include "dn_server.h"
#include "parse.h"
#include "pbgrpc.h"
#include "xalloc.h"

#define CONTROL_LINE_MAX 512

typedef struct ctl_conn ctl_conn;

typedef struct dn_control {
    struct evconnlistener *listener;
    char *path;
    LIST_HEAD(, ctl_conn) conns;
} dn_control;

struct ctl_conn {
    devnode *d;
    LIST_ENTRY(ctl_conn) link; /* in conns from on_accept while the socket is open */
    struct bufferevent *bev;
    bool waiting; /* an answer is pending; input is not read meanwhile */
    bool eof;     /* the client sent everything: answer it, then close */
    bool gone;    /* the connection failed (or the socket closed) while we waited */
};

static void conn_free(ctl_conn *c)
{
    if (c->d->control != NULL) /* else dn_control_close unlinked it already */
        LIST_REMOVE(c, link);
    if (c->bev != NULL)
        bufferevent_free(c->bev);
    free(c);
}

static void answer(ctl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void answer(ctl_conn *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
    va_end(ap);
    evbuffer_add(bufferevent_get_output(c->bev), "\n", 1);
}

static bool parse_rate(const char *s, double *out)
{
    char *end;
    double v;

    if (s == NULL || *s == '\0')
        return false;
    v = strtod(s, &end);
    if (*end != '\0' || !(v >= 0 && v <= 1))
        return false;
    *out = v;
    return true;
}

static void serve(ctl_conn *c);

static void kill_done(void *arg)
{
    ctl_conn *c = arg;

    c->waiting = false;
    if (c->gone) {
        conn_free(c);
        return;
    }
    answer(c, "OK");
    serve(c); /* commands that arrived meanwhile */
}

static void print_stats(ctl_conn *c)
{
    devnode *d = c->d;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    const char *sep = "";

    evbuffer_add_printf(out, "OK {");
    /* every counter of DN_COUNTERS, in its order, as "name":value */
#define DN_COUNTER_JSON(name, help)                                                                \
    evbuffer_add_printf(out, "%s\"" #name "\":%" PRIu64, sep, d->st.name);                         \
    sep = ",";
    DN_COUNTERS(DN_COUNTER_JSON)
#undef DN_COUNTER_JSON
    evbuffer_add_printf(out, ",\"keys\":%zu,\"epoch\":%" PRIu64 ",\"nodes\":[",
                        dn_table_count(d->kv), d->epoch);
    for (int i = 0; i < d->o.nodes; i++) {
        const dn_node *n = &d->nodes[i];
        uint32_t leads = 0;
        for (uint32_t s = 0; s < d->o.total_shards; s++)
            leads += d->shards[s].leader == i;
        evbuffer_add_printf(out,
                            "%s{\"node\":%d,\"addr\":\"%s\",\"alive\":%s,\"calls\":%" PRIu64
                            ",\"leader_of\":%" PRIu32 "}",
                            i ? "," : "", i + 1, n->addr, n->alive ? "true" : "false", n->calls,
                            leads);
    }
    evbuffer_add_printf(out, "]}\n");
}

static void clear_faults(devnode *d)
{
    for (int i = 0; i < d->o.nodes; i++) {
        d->nodes[i].latency_ms = 0;
        d->nodes[i].fail_rate = 0;
    }
    d->lose_rate = 0;
}

/* Node number from a word: 1..N, or 0 for all when all_ok. */
static bool parse_node(devnode *d, const char *s, bool all_ok, long long *n)
{
    return parse_ll(s, all_ok ? 0 : 1, d->o.nodes, n);
}

static void run(ctl_conn *c, char *line)
{
    devnode *d = c->d;
    char *argv[6];
    int argc = 0;
    long long n, v;
    double rate;
    grpc_status_code code;
    dn_node *node;

    for (char *tok = strtok(line, " \t\r"); tok != NULL && argc < 6; tok = strtok(NULL, " \t\r"))
        argv[argc++] = tok;
    if (argc == 0)
        return;
#define ARG(i) (argc > (i) ? argv[i] : NULL)
#define FAIL(...)                                                                                  \
    do {                                                                                           \
        answer(c, __VA_ARGS__);                                                                    \
        return;                                                                                    \
    } while (0)
    if (strcmp(argv[0], "kill") == 0 && argc == 2) {
        if (!parse_node(d, ARG(1), false, &n))
            FAIL("ERR usage: kill N (N = 1..%d)", d->o.nodes);
        node = &d->nodes[n - 1];
        if (!node->alive)
            FAIL("ERR node %lld is already down", n);
        c->waiting = true;
        dn_server_stop(d, node, kill_done, c); /* first: no view goes out on the dying node */
        dn_cluster_node_down(d, node);
    } else if (strcmp(argv[0], "revive") == 0 && argc == 2) {
        if (!parse_node(d, ARG(1), false, &n))
            FAIL("ERR usage: revive N (N = 1..%d)", d->o.nodes);
        node = &d->nodes[n - 1];
        if (node->alive)
            FAIL("ERR node %lld is up", n);
        if (dn_server_stopping(node))
            FAIL("ERR node %lld is still shutting down", n);
        if (dn_server_start(d, node) != 0)
            FAIL("ERR node %lld cannot listen on %s", n, node->addr);
        dn_kv_node_restarted(d, node);
        dn_cluster_node_up(d, node);
        answer(c, "OK");
    } else if (strcmp(argv[0], "move") == 0 && argc == 3) {
        if (!parse_ll(ARG(1), 0, (long long)d->o.total_shards - 1, &v) ||
            !parse_node(d, ARG(2), false, &n))
            FAIL("ERR usage: move SHARD N (SHARD < %u, N = 1..%d)", d->o.total_shards, d->o.nodes);
        if (dn_cluster_move(d, (uint32_t)v, &d->nodes[n - 1]) != 0)
            FAIL("ERR node %lld is down", n);
        answer(c, "OK");
    } else if (strcmp(argv[0], "latency") == 0 && argc == 3) {
        if (!parse_node(d, ARG(1), true, &n) || !parse_ll(ARG(2), 0, 3600000, &v))
            FAIL("ERR usage: latency N MS (N = 0 for all nodes)");
        for (int i = 0; i < d->o.nodes; i++)
            if (n == 0 || n == i + 1)
                d->nodes[i].latency_ms = (int)v;
        answer(c, "OK");
    } else if (strcmp(argv[0], "fail") == 0 && argc == 4) {
        if (!parse_node(d, ARG(1), true, &n) || !parse_rate(ARG(2), &rate) ||
            !pbgrpc_status_parse(ARG(3), &code) || code == GRPC_STATUS_OK)
            FAIL("ERR usage: fail N RATE STATUS (N = 0 for all, RATE 0..1, STATUS "
                 "a gRPC code name such as UNAVAILABLE)");
        for (int i = 0; i < d->o.nodes; i++) {
            if (n == 0 || n == i + 1) {
                d->nodes[i].fail_rate = rate;
                d->nodes[i].fail_status = code;
            }
        }
        answer(c, "OK");
    } else if (strcmp(argv[0], "lose-reply") == 0 && argc == 2) {
        if (!parse_rate(ARG(1), &rate))
            FAIL("ERR usage: lose-reply RATE (0..1)");
        d->lose_rate = rate;
        answer(c, "OK");
    } else if (strcmp(argv[0], "clear") == 0 && argc == 1) {
        clear_faults(d);
        answer(c, "OK");
    } else if (strcmp(argv[0], "leader") == 0 && argc == 2) {
        if (!parse_ll(ARG(1), 0, (long long)d->o.total_shards - 1, &v))
            FAIL("ERR usage: leader SHARD (SHARD < %u)", d->o.total_shards);
        answer(c, "OK %d", d->shards[v].leader + 1); /* 0 while electing */
    } else if (strcmp(argv[0], "stats") == 0 && argc == 1) {
        print_stats(c);
    } else if (strcmp(argv[0], "help") == 0 && argc == 1) {
        answer(c, "OK commands: kill N, revive N, move SHARD N, latency N MS, "
                  "fail N RATE STATUS, lose-reply RATE, clear, leader SHARD, stats, help");
    } else {
        answer(c, "ERR unknown command or wrong arguments: %s (try help)", argv[0]);
    }
#undef ARG
#undef FAIL
}

/* The answers of a client that sent EOF are out: close. */
static void on_written(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn_free(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg);

/* Runs the complete lines received, one at a time (a waiting command holds the rest back);
 * after EOF also the last line without its newline, then closes once the answers are out. */
static void serve(ctl_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t len;
    char *line;

    while (!c->waiting && (line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
        run(c, line);
        free(line);
    }
    if (c->waiting)
        return;
    len = evbuffer_get_length(in);
    if (len > CONTROL_LINE_MAX) {
        answer(c, "ERR line too long");
        evbuffer_drain(in, len);
        len = 0;
    }
    if (!c->eof)
        return;
    if (len > 0) {
        line = xmalloc(len + 1);
        evbuffer_remove(in, line, len);
        line[len] = '\0';
        run(c, line);
        free(line);
        if (c->waiting)
            return; /* kill_done comes back here */
    }
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_free(c);
    else /* called when the output buffer has been written out */
        bufferevent_setcb(c->bev, NULL, on_written, on_event, c);
}

static void on_readable(struct bufferevent *bev, void *arg)
{
    (void)bev;
    serve(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    ctl_conn *c = arg;

    (void)bev;
    if (what & BEV_EVENT_ERROR) {
        if (c->waiting) {
            c->gone = true;
            bufferevent_disable(c->bev, EV_READ | EV_WRITE);
            return;
        }
        conn_free(c);
    } else if ((what & BEV_EVENT_EOF) && !c->eof) {
        c->eof = true;
        bufferevent_disable(c->bev, EV_READ);
        if (!c->waiting)
            serve(c);
    }
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    devnode *d = arg;
    ctl_conn *c = xcalloc(1, sizeof(*c));

    (void)l;
    (void)sa;
    (void)len;
    c->d = d;
    c->bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        close(fd);
        free(c);
        return;
    }
    bufferevent_setcb(c->bev, on_readable, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    LIST_INSERT_HEAD(&d->control->conns, c, link);
}

int dn_control_open(devnode *d, const char *path)
{
    struct sockaddr_un sun;
    dn_control *ctl;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "norikv-devnode: control socket path too long: %s\n", path);
        return -1;
    }
    ctl = xcalloc(1, sizeof(*ctl));
    LIST_INIT(&ctl->conns);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    unlink(path);
    ctl->listener = evconnlistener_new_bind(d->base, on_accept, d,
                                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
                                            (struct sockaddr *)&sun, sizeof(sun));
    if (ctl->listener == NULL) {
        fprintf(stderr, "norikv-devnode: cannot listen on %s: %s\n", path, strerror(errno));
        free(ctl);
        return -1;
    }
    ctl->path = xstrdup(path);
    d->control = ctl;
    return 0;
}

void dn_control_close(devnode *d)
{
    dn_control *ctl = d->control;

    if (ctl == NULL)
        return;
    evconnlistener_free(ctl->listener);
    while (!LIST_EMPTY(&ctl->conns)) {
        ctl_conn *c = LIST_FIRST(&ctl->conns);
        if (c->waiting) {
            LIST_REMOVE(c, link);
            c->gone = true; /* freed when its wait ends, by then unlinked */
        } else {
            conn_free(c);
        }
    }
    unlink(ctl->path);
    free(ctl->path);
    free(ctl);
    d->control = NULL;
}

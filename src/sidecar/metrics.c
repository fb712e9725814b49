/*
 * metrics: the optional HTTP listener of [metrics] (libevent's evhttp, on the sidecar's
 * loop): /metrics in the Prometheus text format, rendered from the same tables as INFO
 * (stats.h's and kv.h's), /healthz (the process answers) and /readyz (a cluster view is
 * held and a node answers, and the sidecar is not draining); with a deadline on each
 * request and a cap on connections. Owns the evhttp object, the socket file it creates and
 * a record of each connection; of the counters, changes only its own (http_*).
 */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "addr.h"
#include "clock.h"
#include "cmd.h"
#include "config.h"
#include "listen.h"
#include "log.h"
#include "xalloc.h"

/*
 * Time limits. A request must be read whole within METRICS_REQUEST_MS of its connection's
 * accept, or of its first byte when it follows another on the connection, however slowly
 * it trickles in. evhttp's own timeout, which every byte restarts, closes a connection
 * idle between requests, or whose reply is not being read, after METRICS_IDLE_S.
 */
#define METRICS_REQUEST_MS 10000
#define METRICS_IDLE_S     10

/*
 * One HTTP connection. evhttp 2.1 tells nothing of its connections until a request is read,
 * so this is made when evhttp asks for the connection's bufferevent (on_connection); right
 * after, once evhttp has set the connection up around it, adopt() finds the connection
 * through the bufferevent and asks evhttp to say when it is freed (on_close, which frees
 * this). An input buffer callback sees the bytes of each request arrive.
 */
typedef struct http_conn {
    metrics *m;
    struct bufferevent *bev;         /* evhttp's, made by on_connection */
    struct evhttp_connection *evcon; /* NULL until adopted */
    struct evbuffer_cb_entry *input_cb;
    struct event *ev; /* adoption, then the request's deadline */
    bool between;     /* a request was read; no byte of the next one yet */
    bool refused;     /* over metrics.max_connections: closed at once */
    LIST_ENTRY(http_conn) link;
} http_conn;

struct metrics {
    sidecar *s;
    struct evhttp *http;
    struct evconnlistener *listener; /* evhttp's, on our socket */
    struct event *waiting_ev;        /* a connection waits on that socket (on_waiting) */
    struct event *retry_ev;          /* the end of a pause for lack of descriptors */
    LIST_HEAD(http_conn_list, http_conn) conns;
    int nconns;
    log_limit refuse_log, late_log;
    char *unix_path; /* the socket file we made, removed on stop; NULL for TCP */
};

/* ---- the text format ---------------------------------------------------------------- */

/* A label value: backslash, double quote and newline escaped. */
static void add_label(struct evbuffer *out, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"')
            evbuffer_add_printf(out, "\\%c", *v);
        else if (*v == '\n')
            evbuffer_add(out, "\\n", 2);
        else
            evbuffer_add(out, v, 1);
    }
}

static void add_meta(struct evbuffer *out, const char *name, const char *type, const char *help)
{
    evbuffer_add_printf(out, "# HELP %s ", name);
    for (; *help != '\0'; help++) /* HELP escapes backslash and newline only */
        if (*help == '\\')
            evbuffer_add(out, "\\\\", 2);
        else if (*help == '\n')
            evbuffer_add(out, "\\n", 2);
        else
            evbuffer_add(out, help, 1);
    evbuffer_add_printf(out, "\n# TYPE %s %s\n", name, type);
}

static void add_one(struct evbuffer *out, const char *name, const char *type, const char *help,
                    double value)
{
    add_meta(out, name, type, help);
    evbuffer_add_printf(out, "%s %.17g\n", name, value);
}

/* The sidecar's own counter `field` as a Prometheus counter: "total_x" -> "x_total". */
static void add_stat(struct evbuffer *out, const char *field, const char *help, uint64_t v)
{
    char name[128];
    const char *base = strncmp(field, "total_", 6) == 0 ? field + 6 : field;

    snprintf(name, sizeof(name), "norikv_sidecar_%s_total", base);
    add_meta(out, name, "counter", help);
    evbuffer_add_printf(out, "%s %" PRIu64 "\n", name, v);
}

static void lower_name(size_t i, char *name, size_t len)
{
    size_t k;

    for (k = 0; cmd_at(i)->name[k] && k + 1 < len; k++)
        name[k] = (char)(cmd_at(i)->name[k] | 0x20);
    name[k] = '\0';
}

/* One per-command counter over every command called at least once. */
static void add_cmd_counter(struct evbuffer *out, sidecar *s, const char *name, const char *help,
                            size_t offset)
{
    add_meta(out, name, "counter", help);
    for (size_t i = 0; i < cmd_count(); i++) {
        const cmd_stat *cs = &s->st.cmds[i];
        char cmd[64];
        if (cs->calls == 0 && cs->rejected_calls == 0)
            continue;
        lower_name(i, cmd, sizeof(cmd));
        evbuffer_add_printf(out, "%s{command=\"%s\"} %" PRIu64 "\n", name, cmd,
                            *(const uint64_t *)((const char *)cs + offset));
    }
}

static void render_sidecar(sidecar *s, struct evbuffer *out)
{
    int64_t now = clock_now_ms();
    char why[512];
    uint64_t used = stats_used_memory();

    add_meta(out, "norikv_sidecar_info", "gauge", "the sidecar's version and Redis protocol level");
    evbuffer_add_printf(out, "norikv_sidecar_info{version=\"%s\",redis_version=\"%s\"} 1\n",
                        PACKAGE_VERSION, SIDECAR_REDIS_VERSION);
    add_one(out, "norikv_sidecar_uptime_seconds", "gauge", "seconds since the sidecar started",
            (double)(now - s->started_ms) / 1000.0);
    add_one(out, "norikv_sidecar_ready", "gauge", "1 while /readyz answers 200, else 0",
            metrics_ready(s, why, sizeof(why)) ? 1 : 0);
    add_one(out, "norikv_sidecar_draining", "gauge", "1 once SIGTERM started the drain",
            s->stopping ? 1 : 0);
    add_one(out, "norikv_sidecar_connected_clients", "gauge", "clients connected now", s->nclients);
    add_one(out, "norikv_sidecar_max_clients", "gauge", "sidecar.max_clients",
            s->cfg.sidecar.max_clients);
    add_one(out, "norikv_sidecar_memory_used_bytes", "gauge",
            "bytes allocated and not freed (INFO used_memory)", (double)used);
    add_one(out, "norikv_sidecar_memory_rss_bytes", "gauge",
            "resident set size (INFO used_memory_rss)", (double)stats_rss_memory());
    add_one(out, "norikv_sidecar_memory_peak_bytes", "gauge",
            "largest used_memory seen (INFO used_memory_peak)",
            (double)(used > s->st.peak_memory ? used : s->st.peak_memory));
#define X(name, help) add_stat(out, #name, help, s->st.name);
    STATS_TABLE(X)
#undef X
    add_meta(out, "norikv_sidecar_errors_total", "counter",
             "error replies by kind, the error's first word (INFO errorstats)");
    for (int i = 0; i < s->st.nerrors; i++) {
        evbuffer_add_printf(out, "norikv_sidecar_errors_total{kind=\"");
        add_label(out, s->st.errors[i].name);
        evbuffer_add_printf(out, "\"} %" PRIu64 "\n", s->st.errors[i].count);
    }
    add_cmd_counter(out, s, "norikv_sidecar_command_calls_total", "calls of each command",
                    offsetof(cmd_stat, calls));
    add_cmd_counter(out, s, "norikv_sidecar_command_failed_calls_total",
                    "calls of each command that answered an error",
                    offsetof(cmd_stat, failed_calls));
    add_cmd_counter(out, s, "norikv_sidecar_command_rejected_calls_total",
                    "calls refused before running (arity, authentication, ...)",
                    offsetof(cmd_stat, rejected_calls));
    add_meta(out, "norikv_sidecar_command_duration_seconds", "histogram",
             "time from a command's start to its reply, by command");
    for (size_t i = 0; i < cmd_count(); i++) {
        const cmd_stat *cs = &s->st.cmds[i];
        uint64_t cum = 0;
        char cmd[64];
        if (cs->calls == 0)
            continue;
        lower_name(i, cmd, sizeof(cmd));
        for (int b = 0; b < STATS_PROM_COUNT; b++) {
            cum += cs->prom[b];
            evbuffer_add_printf(out,
                                "norikv_sidecar_command_duration_seconds_bucket{command=\"%s\","
                                "le=\"%g\"} %" PRIu64 "\n",
                                cmd, (double)stats_prom_bounds_us[b] / 1e6, cum);
        }
        evbuffer_add_printf(out,
                            "norikv_sidecar_command_duration_seconds_bucket{command=\"%s\","
                            "le=\"+Inf\"} %" PRIu64 "\n"
                            "norikv_sidecar_command_duration_seconds_sum{command=\"%s\"} %.6f\n"
                            "norikv_sidecar_command_duration_seconds_count{command=\"%s\"} %" PRIu64
                            "\n",
                            cmd, cs->calls, cmd, (double)cs->usec / 1e6, cmd, cs->calls);
    }
}

/* The process_* series of Prometheus' client libraries, which dashboards and alerts
 * expect of every target; a figure that could not be read is left out. */
static void render_process(struct evbuffer *out)
{
    static const struct {
        const char *name, *type, *help;
    } rows[] = {
        {"process_cpu_seconds_total", "counter", "user and system CPU time used, in seconds"},
        {"process_resident_memory_bytes", "gauge", "resident memory, in bytes"},
        {"process_virtual_memory_bytes", "gauge", "virtual memory, in bytes"},
        {"process_open_fds", "gauge", "file descriptors open"},
        {"process_max_fds", "gauge", "file descriptors the process may open (its soft limit)"},
        {"process_start_time_seconds", "gauge",
         "when the process started, in seconds since the Unix epoch"},
    };
    stats_process p;
    double v[sizeof(rows) / sizeof(rows[0])];

    stats_process_read(&p);
    v[0] = p.cpu_seconds;
    v[1] = p.resident_bytes;
    v[2] = p.virtual_bytes;
    v[3] = p.open_fds;
    v[4] = p.max_fds;
    v[5] = p.start_time;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (v[i] >= 0)
            add_one(out, rows[i].name, rows[i].type, rows[i].help, v[i]);
    }
}

/* The cluster client's figure section.field: norikv_<section>_<field>, _total for a
 * counter; a field named as its section is not said twice (norikv_retries_total). */
static void add_kv(struct evbuffer *out, const char *section, const char *field, bool counter,
                   const char *help, uint64_t v)
{
    char name[128];

    if (strcmp(section, field) == 0)
        snprintf(name, sizeof(name), "norikv_%s%s", section, counter ? "_total" : "");
    else
        snprintf(name, sizeof(name), "norikv_%s_%s%s", section, field, counter ? "_total" : "");
    add_one(out, name, counter ? "counter" : "gauge", help, (double)v);
}

static void render_cluster(sidecar *s, struct evbuffer *out)
{
    kv_stats ks, *k = &ks;

    kv_get_stats(s->kv, k);
    add_one(out, "norikv_cluster_view", "gauge", "1 once a cluster view has arrived",
            k->has_view ? 1 : 0);
#define X(section, field, kind, help)                                                              \
    add_kv(out, #section, #field, strcmp(#kind, "COUNTER") == 0, help, k->section##_##field);
    KV_STATS_TABLE(X)
#undef X
    add_meta(out, "norikv_retries_attempts_by_status_total", "counter",
             "gRPC calls by the status they ended with");
    for (int code = 0; code < KV_STATUS_COUNT; code++)
        if (k->attempt_status[code] > 0)
            evbuffer_add_printf(
                out, "norikv_retries_attempts_by_status_total{status=\"%s\"} %" PRIu64 "\n",
                kv_status_name(code), k->attempt_status[code]);
    add_meta(out, "norikv_retries_failed_by_error_total", "counter",
             "failed operations by the error they ended with");
    for (int e = 1; e < KV_ERR_COUNT; e++)
        if (k->failed_by_err[e] > 0)
            evbuffer_add_printf(out,
                                "norikv_retries_failed_by_error_total{error=\"%s\"} %" PRIu64 "\n",
                                kv_err_name((kv_err)e), k->failed_by_err[e]);

    static const struct {
        const char *name, *type, *help;
    } per_node[] = {
        {"norikv_node_up", "gauge", "1 unless the node is marked down"},
        {"norikv_node_connected", "gauge", "1 while a channel to the node is connected"},
        {"norikv_node_channels", "gauge", "channels opened to the node"},
        {"norikv_node_calls_total", "counter", "calls sent to the node"},
        {"norikv_node_failures_total", "counter", "calls that failed on the node's account"},
    };
    for (size_t m = 0; m < sizeof(per_node) / sizeof(per_node[0]); m++) {
        add_meta(out, per_node[m].name, per_node[m].type, per_node[m].help);
        for (int i = 0; i < kv_node_count(s->kv); i++) {
            kv_node_info ni;
            uint64_t v[5];
            kv_node_get(s->kv, i, &ni);
            v[0] = !ni.down;
            v[1] = ni.connected;
            v[2] = (uint64_t)ni.channels;
            v[3] = ni.calls;
            v[4] = ni.failures;
            evbuffer_add_printf(out, "%s{node=\"", per_node[m].name);
            add_label(out, ni.addr != NULL ? ni.addr : "");
            evbuffer_add(out, "\",id=\"", 6);
            add_label(out, ni.id != NULL ? ni.id : "");
            evbuffer_add_printf(out, "\"} %" PRIu64 "\n", v[m]);
        }
    }
}

void metrics_render(sidecar *s, struct evbuffer *out)
{
    render_process(out);
    render_sidecar(s, out);
    render_cluster(s, out);
}

bool metrics_ready(sidecar *s, char *why, size_t len)
{
    if (s->stopping) {
        snprintf(why, len, "draining: the sidecar is shutting down");
        return false;
    }
    return kv_ready(s->kv, why, len);
}

/* ---- connections -------------------------------------------------------------------- */

static void arm(http_conn *c)
{
    struct timeval tv = {METRICS_REQUEST_MS / 1000, (METRICS_REQUEST_MS % 1000) * 1000};

    evtimer_add(c->ev, &tv);
}

static void forget(http_conn *c)
{
    LIST_REMOVE(c, link);
    c->m->nconns--;
    evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->input_cb);
    event_free(c->ev);
    free(c);
}

/* evhttp frees the connection: the first thing it does then. */
static void on_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    forget(arg);
}

/* Bytes came: the first after a request that was read starts the next one's deadline. */
static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    http_conn *c = arg;

    (void)buf;
    if (c->between && info->n_added > 0) {
        c->between = false;
        arm(c);
    }
}

/* Right after evhttp set the connection up, in the same turn of the loop: nothing of it
 * has been read yet. evhttp's connection is the argument it gave the bufferevent's
 * callbacks; none means evhttp could not set it up (out of memory, or the loop could not
 * watch the socket) and let go of it and of its socket. */
static void adopt(http_conn *c)
{
    struct bufferevent *bev = c->bev;
    metrics *m = c->m;
    void *evcon = NULL;

    bufferevent_getcb(bev, NULL, NULL, NULL, &evcon);
    if (evcon == NULL) {
        bufferevent_setfd(bev, -1); /* closed already: not again when it is freed */
        forget(c);
        bufferevent_decref(bev);
        return;
    }
    bufferevent_decref(bev); /* evhttp's alone from now on */
    c->evcon = evcon;
    evhttp_connection_set_closecb(c->evcon, on_close, c);
    if (!c->refused) {
        arm(c);
        return;
    }
    m->s->st.http_rejected_connections++;
    log_limited(&m->refuse_log, LOG_WARNING,
                "metrics: closed a connection at once: metrics.max_connections (%d) are open",
                m->s->cfg.metrics.max_connections);
    evhttp_connection_free(c->evcon); /* on_close forgets c */
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    http_conn *c = arg;

    (void)fd;
    (void)what;
    if (c->evcon == NULL) {
        adopt(c);
        return;
    }
    c->m->s->st.http_request_timeouts++;
    log_limited(&c->m->late_log, LOG_WARNING,
                "metrics: closed a connection that sent no whole request within %d s",
                METRICS_REQUEST_MS / 1000);
    evhttp_connection_free(c->evcon); /* on_close forgets c */
}

/* evhttp accepted a connection and asks for its bufferevent: the one it would make itself,
 * held (a reference of ours) until adopt() runs, at once. */
static struct bufferevent *on_connection(struct event_base *base, void *arg)
{
    metrics *m = arg;
    http_conn *c = xcalloc(1, sizeof(*c));

    c->bev = bufferevent_socket_new(base, -1, 0);
    c->ev = evtimer_new(base, on_timer, c);
    if (c->bev == NULL || c->ev == NULL) { /* evhttp tries to make one itself */
        if (c->bev != NULL)
            bufferevent_free(c->bev);
        if (c->ev != NULL)
            event_free(c->ev);
        free(c);
        return NULL;
    }
    c->m = m;
    c->input_cb = evbuffer_add_cb(bufferevent_get_input(c->bev), on_input, c);
    bufferevent_incref(c->bev);
    LIST_INSERT_HEAD(&m->conns, c, link);
    c->refused = ++m->nconns > m->s->cfg.metrics.max_connections;
    event_active(c->ev, EV_TIMEOUT, 1);
    return c->bev;
}

/* A request was read whole: its connection's deadline is off until the first byte of the
 * next one (evhttp's idle timeout meanwhile), or starts again at once for one already
 * there, pipelined behind it. */
static void request_read(metrics *m, struct evhttp_request *hreq)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(hreq);
    http_conn *c;

    LIST_FOREACH(c, &m->conns, link)
    {
        if (c->evcon != evcon)
            continue;
        if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0) {
            arm(c);
        } else {
            c->between = true;
            evtimer_del(c->ev);
        }
        return;
    }
}

/* ---- HTTP --------------------------------------------------------------------------- */

static void reply_text(struct evhttp_request *hreq, int code, const char *reason, const char *type,
                       struct evbuffer *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(hreq);

    evhttp_add_header(h, "Content-Type", type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_send_reply(hreq, code, reason, body);
}

static void on_metrics(struct evhttp_request *hreq, void *arg)
{
    metrics *m = arg;
    struct evbuffer *body = evbuffer_new();

    request_read(m, hreq);
    if (body == NULL) {
        evhttp_send_error(hreq, HTTP_INTERNAL, NULL);
        return;
    }
    metrics_render(m->s, body);
    reply_text(hreq, HTTP_OK, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
    evbuffer_free(body);
}

static void on_healthz(struct evhttp_request *hreq, void *arg)
{
    struct evbuffer *body = evbuffer_new();

    request_read(arg, hreq);
    if (body == NULL) {
        evhttp_send_error(hreq, HTTP_INTERNAL, NULL);
        return;
    }
    evbuffer_add_printf(body, "ok\n");
    reply_text(hreq, HTTP_OK, "OK", "text/plain; charset=utf-8", body);
    evbuffer_free(body);
}

static void on_readyz(struct evhttp_request *hreq, void *arg)
{
    metrics *m = arg;
    struct evbuffer *body = evbuffer_new();
    char why[512];
    bool ready;

    request_read(m, hreq);
    if (body == NULL) {
        evhttp_send_error(hreq, HTTP_INTERNAL, NULL);
        return;
    }
    ready = metrics_ready(m->s, why, sizeof(why));
    evbuffer_add_printf(body, "%s\n", ready ? "ready" : why);
    reply_text(hreq, ready ? HTTP_OK : HTTP_SERVUNAVAIL, ready ? "OK" : "Service Unavailable",
               "text/plain; charset=utf-8", body);
    evbuffer_free(body);
}

static void on_other(struct evhttp_request *hreq, void *arg)
{
    struct evbuffer *body = evbuffer_new();

    request_read(arg, hreq);
    if (body == NULL) {
        evhttp_send_error(hreq, HTTP_NOTFOUND, NULL);
        return;
    }
    evbuffer_add_printf(body, "not found: try /metrics, /healthz or /readyz\n");
    reply_text(hreq, HTTP_NOTFOUND, "Not Found", "text/plain; charset=utf-8", body);
    evbuffer_free(body);
}

/* ---- accepting ---------------------------------------------------------------------- */

/*
 * evhttp accepts on its listener and keeps the listener's one user pointer for itself, so
 * the listener's error callback cannot reach the sidecar to pause and count as the RESP
 * listeners do (listen.h). It stops the listener, and on_waiting, a watcher of ours on the
 * same socket, decides: it runs whenever a connection waits there and, with no descriptor
 * to take it, pauses accepting for LISTEN_RETRY_MS; otherwise lets evhttp accept it.
 * Without this, libevent logs and retries the failed accept on every turn of the loop.
 */
static void on_accept_error(struct evconnlistener *l, void *http)
{
    (void)http;
    evconnlistener_disable(l);
}

static void on_waiting(evutil_socket_t fd, short what, void *arg)
{
    metrics *m = arg;
    struct timeval retry = {0, LISTEN_RETRY_MS * 1000};
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); /* a descriptor and a file */

    (void)fd;
    (void)what;
    if (probe < 0 && listen_exhausted(errno)) {
        listen_accept_failed(m->s, "metrics", errno);
        evconnlistener_disable(m->listener);
        event_del(m->waiting_ev);
        event_add(m->retry_ev, &retry);
        return;
    }
    if (probe >= 0)
        close(probe);
    evconnlistener_enable(m->listener);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    metrics *m = arg;

    (void)fd;
    (void)what;
    event_add(m->waiting_ev, NULL);
    evconnlistener_enable(m->listener);
}

/* The listening socket of [metrics] listen: a socket path, or an IP address and port. */
static int open_socket(const char *where, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char host[128];
    int port;

    if (where[0] == '/')
        return listen_unix(where, 0660, 128, err, errlen);
    if (!addr_split(where, strlen(where), host, sizeof(host), &port, err, errlen))
        return -1;
    if (!listen_addr(host, port, &ss, &len)) {
        snprintf(err, errlen, "%s: '%s' is not an IP address", where, host);
        return -1;
    }
    return listen_tcp((struct sockaddr *)&ss, len, 128, where, err, errlen);
}

metrics *metrics_start(sidecar *s, char *err, size_t errlen)
{
    const unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE;
    const char *where = s->cfg.metrics.listen;
    struct evconnlistener *l;
    metrics *m;
    int fd;

    if (where == NULL || where[0] == '\0')
        return NULL;
    m = xcalloc(1, sizeof(*m));
    m->s = s;
    LIST_INIT(&m->conns);
    m->http = evhttp_new(s->base);
    if (m->http == NULL) {
        snprintf(err, errlen, "cannot create the HTTP server");
        goto fail;
    }
    /* a scraper or a probe sends a short GET; nothing else is worth holding memory for */
    evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_max_headers_size(m->http, 16384);
    evhttp_set_max_body_size(m->http, 4096);
    evhttp_set_timeout(m->http, METRICS_IDLE_S);
    evhttp_set_bevcb(m->http, on_connection, m);
    evhttp_set_cb(m->http, "/metrics", on_metrics, m);
    evhttp_set_cb(m->http, "/healthz", on_healthz, m);
    evhttp_set_cb(m->http, "/readyz", on_readyz, m);
    evhttp_set_gencb(m->http, on_other, m);
    fd = open_socket(where, err, errlen);
    if (fd < 0)
        goto fail;
    if (where[0] == '/')
        m->unix_path = xstrdup(where);
    /* as evhttp_accept_socket would, but with the listener and the socket at hand */
    l = evconnlistener_new(s->base, NULL, NULL, flags, 0, fd);
    if (l == NULL) {
        close(fd);
        snprintf(err, errlen, "cannot serve HTTP on %s", where);
        goto fail;
    }
    if (evhttp_bind_listener(m->http, l) == NULL) {
        evconnlistener_free(l);
        snprintf(err, errlen, "cannot serve HTTP on %s", where);
        goto fail;
    }
    m->listener = l;
    evconnlistener_set_error_cb(l, on_accept_error);
    m->waiting_ev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_waiting, m);
    m->retry_ev = evtimer_new(s->base, on_retry, m);
    if (m->waiting_ev == NULL || m->retry_ev == NULL || event_add(m->waiting_ev, NULL) != 0) {
        snprintf(err, errlen, "cannot serve HTTP on %s: no events", where);
        goto fail;
    }
    log_notice("metrics: /metrics, /healthz and /readyz on %s", where);
    return m;
fail:
    metrics_stop(m);
    return NULL;
}

void metrics_stop(metrics *m)
{
    http_conn *c;

    if (m == NULL)
        return;
    /* the connections go with evhttp_free, below, without calling back */
    while ((c = LIST_FIRST(&m->conns)) != NULL) {
        struct bufferevent *bev = c->bev;
        bool held = c->evcon == NULL; /* the loop ended before adopt() ran */
        if (c->evcon != NULL)
            evhttp_connection_set_closecb(c->evcon, NULL, NULL);
        forget(c);
        if (held)
            bufferevent_decref(bev);
    }
    if (m->waiting_ev != NULL)
        event_free(m->waiting_ev);
    if (m->retry_ev != NULL)
        event_free(m->retry_ev);
    if (m->http != NULL)
        evhttp_free(m->http); /* closes its listener and connections */
    if (m->unix_path != NULL) {
        unlink(m->unix_path);
        free(m->unix_path);
    }
    free(m);
}

/*
 * norikv-sidecar: the daemon. Reads the configuration, starts the cluster client,
 * listens on the Unix socket (and, if asked, a loopback TCP port), serves clients until
 * SIGTERM, then drains: stops accepting, lets what is in flight finish within a bound,
 * and exits. Talks to systemd when run under it (READY, STATUS, RELOADING, STOPPING,
 * WATCHDOG).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <systemd/sd-daemon.h>

#include "client.h"
#include "clock.h"
#include "cmd.h"
#include "config.h"
#include "info.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "pubsub.h"
#include "service.h"
#include "sidecar.h"
#include "slowlog.h"
#include "xalloc.h"

static const char usage[] =
    "Usage: norikv-sidecar [-c FILE] [--section.key=value]... [-t]\n"
    "Serves the Redis protocol on a local socket and runs every command on a NoriKV cluster:\n"
    "routing to shard leaders, retries, idempotent writes, consistency levels, statistics.\n"
    "\n"
    "  -c, --config FILE   read the configuration from FILE (INI); without it, defaults\n"
    "  --section.key=value override one key, e.g. --sidecar.listen=/tmp/nk.sock\n"
    "                      --cluster.nodes=127.0.0.1:9001,127.0.0.1:9002\n"
    "  -t, --test          check the configuration and what would stop a start (the\n"
    "                      socket directory, the socket group, the port) and exit\n"
    "                      (0: it would start)\n"
    "  --print-config      print the commented example configuration (every key, its\n"
    "                      default and what it does) and exit\n"
    "  --commands          print the command table (markdown) and exit\n"
    "  -h, --help          this text\n"
    "  -V, --version       the version\n"
    "\n"
    "Signals: SIGTERM or SIGINT drain and exit (a second one exits at once); SIGHUP\n"
    "reloads the keys marked reloadable and logs the ones that need a restart.\n";

/* ---- configuration ------------------------------------------------------------------ */

typedef struct cli_opts {
    const char *file;
    bool test;
    int noverrides;
    char **overrides; /* "section.key=value" */
} cli_opts;

static int load_config(conf *c, const cli_opts *o, char *err, size_t errlen)
{
    static const char tls_prefix[] = "cluster.tls: ";
    kv_config kc;

    if (o->file != NULL && conf_load_file(c, o->file, err, errlen) != 0)
        return -1;
    for (int i = 0; i < o->noverrides; i++) {
        char *eq = strchr(o->overrides[i], '=');
        char name[128];
        if (eq == NULL || (size_t)(eq - o->overrides[i]) >= sizeof(name)) {
            snprintf(err, errlen, "--%s: expected --section.key=value", o->overrides[i]);
            return -1;
        }
        memcpy(name, o->overrides[i], (size_t)(eq - o->overrides[i]));
        name[eq - o->overrides[i]] = '\0';
        if (conf_set(c, name, eq + 1, err, errlen) != 0)
            return -1;
    }
    if (conf_validate(c, err, errlen) != 0)
        return -1;
    /* gRPC would parse the TLS files only at the first handshake, and every command would
     * then fail without the reason: a bad one stops the start, -t and a reload here */
    conf_kv_config(c, &kc);
    if (errlen > sizeof(tls_prefix) &&
        kv_tls_check(&kc.tls, err + strlen(tls_prefix), errlen - strlen(tls_prefix)) != 0) {
        memcpy(err, tls_prefix, strlen(tls_prefix));
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, cli_opts *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"test", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"print-config", no_argument, NULL, 'P'},
        {"commands", no_argument, NULL, 'M'},
        {NULL, 0, NULL, 0},
    };
    int c;

    o->overrides = xcalloc((size_t)argc + 1, sizeof(*o->overrides));
    /* --section.key=value is not an option getopt knows: take those out first */
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) == 0 && strchr(argv[i], '.') != NULL &&
            strchr(argv[i], '=') != NULL && strchr(argv[i], '.') < strchr(argv[i], '=')) {
            o->overrides[o->noverrides++] = argv[i] + 2;
            memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
            argc--;
            i--;
        }
    }
    while ((c = getopt_long(argc, argv, "c:thV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->file = optarg;
            break;
        case 't':
            o->test = true;
            break;
        case 'h':
            fputs(usage, stdout);
            exit(0);
        case 'V':
            printf("norikv-sidecar %s (Redis protocol %s)\n", PACKAGE_VERSION,
                   SIDECAR_REDIS_VERSION);
            exit(0);
        case 'P':
            conf_print_example(stdout);
            exit(0);
        case 'M':
            cmd_print_markdown(stdout);
            exit(0);
        default:
            fprintf(stderr, "Try 'norikv-sidecar --help' for more information.\n");
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr,
                "norikv-sidecar: unexpected argument '%s' (keys are set as "
                "--section.key=value)\n",
                argv[optind]);
        return -1;
    }
    return 0;
}

/* ---- listening ---------------------------------------------------------------------- */

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    sidecar *s = arg;
    char addr[64];

    (void)l;
    if (sa->sa_family == AF_INET && len >= (int)sizeof(struct sockaddr_in)) {
        struct sockaddr_in *in = (struct sockaddr_in *)sa;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        snprintf(addr, sizeof(addr), "%s:%d", ip, ntohs(in->sin_port));
        client_accept(s, fd, addr, false);
    } else {
        /* Unix peers have no address; Redis shows the socket path with a port of 0 */
        snprintf(addr, sizeof(addr), "%s:0", s->cfg.sidecar.listen);
        client_accept(s, fd, addr, true);
    }
}

/* An accept failed: out of descriptors, the listener pauses (listen.h says why). */
static void on_listen_error(struct evconnlistener *l, void *arg)
{
    sidecar *s = arg;
    struct timeval retry = {0, LISTEN_RETRY_MS * 1000};

    if (listen_accept_failed(s, "client", EVUTIL_SOCKET_ERROR())) {
        evconnlistener_disable(l);
        event_add(s->accept_retry_ev, &retry);
    }
}

static void on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
    sidecar *s = arg;

    (void)fd;
    (void)what;
    if (s->unix_listener != NULL)
        evconnlistener_enable(s->unix_listener);
    if (s->tcp_listener != NULL)
        evconnlistener_enable(s->tcp_listener);
}

static int open_listeners(sidecar *s)
{
    const unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE;
    int n = sd_listen_fds(1);
    char err[512];

    if (n > 0) { /* socket activation: systemd holds the socket */
        int fd = SD_LISTEN_FDS_START;
        evutil_make_socket_nonblocking(fd); /* inherited blocking */
        s->unix_listener = evconnlistener_new(s->base, on_accept, s, flags, 0, fd);
        log_notice("serving the socket systemd passed (fd %d)", fd);
    } else {
        /* owner only at first, so that the mode never opens the socket to the wrong group */
        int fd = listen_unix(s->cfg.sidecar.listen, 0600, 511, err, sizeof(err));
        if (fd < 0) {
            log_error("%s", err);
            return -1;
        }
        s->unix_listener = evconnlistener_new(s->base, on_accept, s, flags, 0, fd);
        if (s->unix_listener == NULL) {
            log_error("cannot listen on %s: %s", s->cfg.sidecar.listen, strerror(errno));
            close(fd);
            unlink(s->cfg.sidecar.listen);
            return -1;
        }
        if (s->cfg.sidecar.unix_group[0] != '\0') {
            if (service_chgrp_socket(s->cfg.sidecar.listen, s->cfg.sidecar.unix_group, err,
                                     sizeof(err)) != 0) {
                log_error("%s", err);
                return -1;
            }
        }
        if (chmod(s->cfg.sidecar.listen, (mode_t)s->cfg.sidecar.unix_mode) != 0)
            log_warning("cannot set mode %04o on %s: %s", s->cfg.sidecar.unix_mode,
                        s->cfg.sidecar.listen, strerror(errno));
    }
    evconnlistener_set_error_cb(s->unix_listener, on_listen_error);
    if (s->cfg.sidecar.port > 0) {
        struct sockaddr_storage ss;
        socklen_t len;
        char where[32];
        int fd;
        snprintf(where, sizeof(where), "127.0.0.1:%d", s->cfg.sidecar.port);
        listen_addr("127.0.0.1", s->cfg.sidecar.port, &ss, &len); /* loopback only, by design */
        fd = listen_tcp((struct sockaddr *)&ss, len, 511, where, err, sizeof(err));
        if (fd < 0) {
            log_error("%s", err);
            return -1;
        }
        s->tcp_listener = evconnlistener_new(s->base, on_accept, s, flags, 0, fd);
        if (s->tcp_listener == NULL) {
            log_error("cannot listen on %s: %s", where, strerror(errno));
            close(fd);
            return -1;
        }
        evconnlistener_set_error_cb(s->tcp_listener, on_listen_error);
    }
    return 0;
}

static void close_listeners(sidecar *s)
{
    bool owned = sd_listen_fds(0) <= 0;

    if (s->unix_listener != NULL) {
        evconnlistener_free(s->unix_listener);
        if (owned)
            unlink(s->cfg.sidecar.listen);
    }
    if (s->tcp_listener != NULL)
        evconnlistener_free(s->tcp_listener);
    s->unix_listener = s->tcp_listener = NULL;
    if (s->accept_retry_ev != NULL)
        event_del(s->accept_retry_ev);
}

/* ---- the loop's own events ---------------------------------------------------------- */

static void stop_accepting(sidecar *s);
static void arm_drain_timer(sidecar *s);

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    client_flush_all(arg);
}

static bool drained(const sidecar *s)
{
    const client *c;

    LIST_FOREACH(c, &s->clients, link)
    if (c->nreqs > 0 || client_output_len(c) > 0)
        return false;
    return true;
}

static void on_cron(evutil_socket_t fd, short what, void *arg)
{
    sidecar *s = arg;
    int64_t now = clock_now_ms();
    char status[256];

    (void)fd;
    (void)what;
    stats_sample(&s->st);
    if (s->cfg.sidecar.timeout > 0) {
        for (client *c = LIST_FIRST(&s->clients), *next; c != NULL; c = next) {
            next = LIST_NEXT(c, link);
            /* a subscriber waits for messages, as in Redis, which exempts it too */
            int channels, patterns;
            pubsub_counts(c, &channels, &patterns);
            if (c->nreqs == 0 && channels + patterns == 0 &&
                now - c->last_active_ms > (int64_t)s->cfg.sidecar.timeout * 1000)
                client_close(c);
        }
    }
    if (s->drain_accepting && now >= s->drain_accept_until_ms)
        stop_accepting(s);
    if (s->draining && (drained(s) || now >= s->drain_deadline_ms)) {
        if (!drained(s))
            log_warning("drain: %d s passed with commands in flight: exiting anyway",
                        s->cfg.sidecar.drain_timeout);
        event_base_loopbreak(s->base);
        return;
    }
    info_status_line(s, status, sizeof(status));
    sd_notifyf(0, "STATUS=%s", status);
#ifdef __GLIBC__
    /* What a burst freed between chunks still in use (requests, small replies, buffers of
     * clients gone) goes back to the system once the commands stop: glibc keeps it
     * otherwise. malloc_trim walks the free heap, which after big values takes tens of
     * milliseconds, so it runs only after a second of light traffic (a health check's PING
     * or INFO, not a workload's), and only if commands ran since the last trim (values of
     * 128 KiB and more are mapped apart and return when freed: main). */
    uint64_t commands = s->st.total_commands_processed;
    uint64_t bytes = s->st.total_net_input_bytes + s->st.total_net_output_bytes;
    if (commands - s->cron_commands < 1000 && bytes - s->cron_bytes < 1024 * 1024 &&
        commands != s->trim_commands) {
        malloc_trim(0);
        s->trim_commands = commands;
        s->trims++;
    }
    s->cron_commands = commands;
    s->cron_bytes = bytes;
#endif
    client_mem_trim(s);
}

/* The end of drain_accept_ms: no new clients from now on; what is in flight gets
 * drain_timeout. */
static void stop_accepting(sidecar *s)
{
    s->drain_accepting = false;
    s->draining = true;
    s->drain_deadline_ms = clock_now_ms() + (int64_t)s->cfg.sidecar.drain_timeout * 1000;
    log_notice("draining: no new connections, finishing what is in flight (%d s at most)",
               s->cfg.sidecar.drain_timeout);
    close_listeners(s);
    if (drained(s))
        event_base_loopbreak(s->base);
}

static void begin_drain(sidecar *s)
{
    s->stopping = true;
    sd_notify(0, "STOPPING=1");
    if (s->cfg.sidecar.drain_accept_ms > 0) {
        /* /readyz says 503 from now on, so that traffic moves away, while late clients
         * are still taken; on_cron closes the listeners when the time is up */
        s->drain_accepting = true;
        s->drain_accept_until_ms = clock_now_ms() + s->cfg.sidecar.drain_accept_ms;
        log_notice("draining: still accepting clients for %d ms", s->cfg.sidecar.drain_accept_ms);
        arm_drain_timer(s);
        return;
    }
    stop_accepting(s);
}

static void on_drain_accept_end(evutil_socket_t fd, short what, void *arg)
{
    sidecar *s = arg;

    (void)fd;
    (void)what;
    if (s->drain_accepting)
        stop_accepting(s);
}

/* The accept window ends on time, not at the next once-a-second cron. */
static void arm_drain_timer(sidecar *s)
{
    struct timeval tv = {s->cfg.sidecar.drain_accept_ms / 1000,
                         (s->cfg.sidecar.drain_accept_ms % 1000) * 1000};

    if (s->drain_ev == NULL)
        s->drain_ev = evtimer_new(s->base, on_drain_accept_end, s);
    if (s->drain_ev == NULL || evtimer_add(s->drain_ev, &tv) != 0)
        log_warning("drain: no timer; the accept window ends at the next second");
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    sidecar *s = arg;

    (void)what;
    if (s->stopping) {
        log_notice("signal %d again: exiting now", (int)sig);
        event_base_loopbreak(s->base);
        return;
    }
    begin_drain(s);
}

static cli_opts opts_for_reload;

/* Descriptors the sidecar holds besides its clients': the listeners, the event loop and its
 * wakeups, gRPC's threads, the log; one per channel to each node listed; and the metrics
 * listener's connections, when it is on. */
#define RESERVED_FDS 32

static rlim_t reserved_fds(const conf *c)
{
    rlim_t nodes = 1;

    for (const char *p = c->cluster.nodes; *p != '\0'; p++)
        nodes += *p == ',';
    return RESERVED_FDS + nodes * (rlim_t)c->cluster.channels_per_node +
           (c->metrics.listen[0] != '\0' ? (rlim_t)c->metrics.max_connections : 0);
}

/* max_clients against the open-files limit, as Redis does with maxclients: a soft limit
 * below what max_clients needs is raised (up to the hard limit); if that is still short,
 * max_clients is lowered to what fits, and the log says so. */
static void fit_max_clients(conf *c)
{
    rlim_t reserve = reserved_fds(c), need = (rlim_t)c->sidecar.max_clients + reserve, was;
    struct rlimit rl;
    int fits;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return;
    was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ? rl.rlim_max : need;
    if (rl.rlim_cur > was && setrlimit(RLIMIT_NOFILE, &rl) == 0) {
        log_notice("open-files limit raised from %llu to %llu for max_clients %d",
                   (unsigned long long)was, (unsigned long long)rl.rlim_cur,
                   c->sidecar.max_clients);
        if (rl.rlim_cur >= need)
            return;
    } else {
        rl.rlim_cur = was;
    }
    fits = rl.rlim_cur > reserve + 1 ? (int)(rl.rlim_cur - reserve) : 1;
    log_warning("the open-files limit (%llu, hard %llu) is below the %llu that max_clients %d "
                "needs (%llu more for the sidecar itself): max_clients lowered to %d; raise "
                "the limit (LimitNOFILE= under systemd, ulimit -n) to serve %d",
                (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
                (unsigned long long)need, c->sidecar.max_clients, (unsigned long long)reserve, fits,
                c->sidecar.max_clients);
    c->sidecar.max_clients = fits;
}

static void apply_log_settings(const conf *c)
{
    int lvl = log_level_parse(c->log.level), fmt = log_format_parse(c->log.format);

    log_current = lvl >= 0 ? (log_level)lvl : LOG_NOTICE;
    log_format_current = fmt >= 0 ? (log_format)fmt : LOG_FORMAT_TEXT;
}

static void on_reload(evutil_socket_t sig, short what, void *arg)
{
    sidecar *s = arg;
    conf fresh;
    char err[512], a[1024], b[1024], names[512] = "";
    size_t used = 0;
    int changed = 0;

    (void)sig;
    (void)what;
    sd_notify(0, "RELOADING=1");
    if (conf_init(&fresh) != 0 || load_config(&fresh, &opts_for_reload, err, sizeof(err)) != 0) {
        log_error("reload: %s; keeping the running configuration", err);
        conf_free(&fresh);
        sd_notify(0, "READY=1");
        return;
    }
    fit_max_clients(&fresh);
    for (size_t i = 0; i < conf_count(); i++) {
        conf_value(&s->cfg, i, a, sizeof(a));
        conf_value(&fresh, i, b, sizeof(b));
        if (strcmp(a, b) == 0)
            continue;
        if (conf_reloadable(i)) {
            char e2[256];
            conf_set(&s->cfg, conf_name(i), b, e2, sizeof(e2));
            changed++;
            if (used < sizeof(names))
                used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
                                         changed > 1 ? ", " : "", conf_name(i));
        } else {
            log_warning("reload: %s changed but needs a restart to take effect", conf_name(i));
        }
    }
    apply_log_settings(&s->cfg);
    slowlog_trim(s); /* to a reloaded slowlog_max_len at once */
    conf_free(&fresh);
    {
        kv_config kc;
        conf_kv_config(&s->cfg, &kc);
        kv_client_set_limits(s->kv, &kc);
    }
    log_notice("reload: %d key%s changed%s%s%s", changed, changed == 1 ? "" : "s",
               changed ? " (" : "", names, changed ? ")" : "");
    client_resume_all(s);
    sd_notify(0, "READY=1");
}

/* The transport's own lines go to the log at their levels, not to a bare stderr. */
static void transport_log(bool error, const char *message)
{
    if (error)
        log_warning("grpc: %s", message);
    else
        log_debug("grpc: %s", message);
}

/* ---- main --------------------------------------------------------------------------- */

static int run(sidecar *s)
{
    kv_config kc;
    char err[512];
    struct timeval second = {1, 0};

    conf_kv_config(&s->cfg, &kc);
    s->kv = kv_client_new(s->base, &kc, err, sizeof(err));
    if (s->kv == NULL) {
        log_error("cluster client: %s", err);
        return 1;
    }
    s->flush_ev = event_new(s->base, -1, 0, on_flush, s);
    s->cron_ev = event_new(s->base, -1, EV_PERSIST, on_cron, s);
    s->sigterm_ev = evsignal_new(s->base, SIGTERM, on_stop_signal, s);
    s->sigint_ev = evsignal_new(s->base, SIGINT, on_stop_signal, s);
    s->sighup_ev = evsignal_new(s->base, SIGHUP, on_reload, s);
    s->accept_retry_ev = evtimer_new(s->base, on_accept_retry, s);
    if (!s->flush_ev || !s->cron_ev || !s->sigterm_ev || !s->sigint_ev || !s->sighup_ev ||
        !s->accept_retry_ev || event_add(s->cron_ev, &second) || event_add(s->sigterm_ev, NULL) ||
        event_add(s->sigint_ev, NULL) || event_add(s->sighup_ev, NULL))
        return 1;
    if (open_listeners(s) != 0)
        return 1;
    if (s->cfg.metrics.listen[0] != '\0') {
        s->metrics = metrics_start(s, err, sizeof(err));
        if (s->metrics == NULL) {
            log_error("metrics: %s", err);
            return 1;
        }
    }
    s->startup_memory = stats_used_memory(); /* MEMORY STATS' startup.allocated */
    log_notice("ready: clients on %s, cluster %s", s->cfg.sidecar.listen, s->cfg.cluster.nodes);
    if (s->cfg.sidecar.port)
        log_notice("also on 127.0.0.1:%d", s->cfg.sidecar.port);
    sd_notify(0, "READY=1\nSTATUS=serving");
    s->watchdog_ev = service_watchdog_new(s->base);
    event_base_dispatch(s->base);
    return 0;
}

static void teardown(sidecar *s)
{
    while (!LIST_EMPTY(&s->clients))
        client_close(LIST_FIRST(&s->clients));
    client_reap(s);
    client_mem_release(s);
    slowlog_free(s);
    free(s->latency);
    s->latency = NULL;
    close_listeners(s);
    metrics_stop(s->metrics);
    s->metrics = NULL;
    kv_client_free(s->kv); /* cancels what is still out, drains the completion queue */
    dict_release(&s->cas_keys);
    if (s->flush_ev)
        event_free(s->flush_ev);
    if (s->cron_ev)
        event_free(s->cron_ev);
    if (s->sigterm_ev)
        event_free(s->sigterm_ev);
    if (s->sigint_ev)
        event_free(s->sigint_ev);
    if (s->sighup_ev)
        event_free(s->sighup_ev);
    if (s->watchdog_ev)
        event_free(s->watchdog_ev);
    if (s->accept_retry_ev)
        event_free(s->accept_retry_ev);
    if (s->drain_ev)
        event_free(s->drain_ev);
}

int main(int argc, char **argv)
{
    sidecar s;
    char err[512];
    int rc;

    memset(&s, 0, sizeof(s));
    if (conf_init(&s.cfg) != 0)
        return 1;
    if (parse_args(argc, argv, &opts_for_reload) != 0) {
        conf_free(&s.cfg);
        free(opts_for_reload.overrides);
        return 2;
    }
    if (load_config(&s.cfg, &opts_for_reload, err, sizeof(err)) != 0) {
        fprintf(stderr, "norikv-sidecar: %s\n", err);
        conf_free(&s.cfg);
        free(opts_for_reload.overrides);
        return 1;
    }
    if (opts_for_reload.test) {
        const char *name = opts_for_reload.file ? opts_for_reload.file : "(defaults)";
        int problems = service_preflight(&s.cfg, stderr);
        if (problems == 0)
            printf("norikv-sidecar: configuration %s is valid and the sidecar can start\n", name);
        else
            fprintf(stderr,
                    "norikv-sidecar: configuration %s is valid but the sidecar would "
                    "not start: %d problem%s above\n",
                    name, problems, problems == 1 ? "" : "s");
        conf_free(&s.cfg);
        free(opts_for_reload.overrides);
        return problems == 0 ? 0 : 1;
    }
    apply_log_settings(&s.cfg);
#ifdef __GLIBC__
    /* A fixed threshold, which also keeps glibc from raising it after each big free: every
     * allocation of 128 KiB or more (a value, a big reply) is mapped on its own and goes
     * back to the system when freed, instead of waiting in the heap for malloc_trim. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
    fit_max_clients(&s.cfg);
    s.config_file = opts_for_reload.file;
    s.started_ms = clock_now_ms();
    signal(SIGPIPE, SIG_IGN);
    kv_global_init(transport_log);
    s.base = event_base_new();
    stats_init(&s.st, cmd_count());
    dict_init(&s.cas_keys, dict_seed());
    rc = s.base != NULL ? run(&s) : 1;
    log_notice("exiting");
    teardown(&s);
    stats_free(&s.st);
    if (s.base != NULL)
        event_base_free(s.base);
    kv_global_shutdown();
    libevent_global_shutdown();
    conf_free(&s.cfg);
    free(opts_for_reload.overrides);
    return rc;
}

/*
 * info: what the sidecar tells about itself, rendered from the counter tables: INFO's
 * sections (its own counters from stats.h, the cluster client's from kv.h's table),
 * NORI.STATS and the one-line systemd status. Reads counters; never changes them.
 */
#include "info.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "cmd.h"
#include "config.h"
#include "resp.h"

static const char *const kv_sections[] = {
#define X(section) #section,
    KV_STATS_SECTIONS(X)
#undef X
};
#define NSECTIONS (sizeof(kv_sections) / sizeof(kv_sections[0]))

static bool wants(const char *asked, const char *section, bool in_default)
{
    if (strcasecmp(asked, "all") == 0 || strcasecmp(asked, "everything") == 0)
        return true;
    if (strcasecmp(asked, "default") == 0 || asked[0] == '\0')
        return in_default;
    return strcasecmp(asked, section) == 0;
}

/* Redis' bytesToHuman: 1023B, 1.50K, 12.34M, ... */
static void human_bytes(uint64_t n, char *buf, size_t len)
{
    static const char units[] = "KMGTP";
    double d = (double)n;
    int u = -1;

    if (n < 1024) {
        snprintf(buf, len, "%" PRIu64 "B", n);
        return;
    }
    while (d >= 1024 && u < 4) {
        d /= 1024;
        u++;
    }
    snprintf(buf, len, "%.2f%c", d, units[u]);
}

/* The command's name as INFO shows it: lower case. */
static void lower_name(size_t i, char *name, size_t len)
{
    size_t k;

    for (k = 0; cmd_at(i)->name[k] && k + 1 < len; k++)
        name[k] = (char)(cmd_at(i)->name[k] | 0x20);
    name[k] = '\0';
}

static void section_kv(sidecar *s, struct evbuffer *out, const char *name)
{
    kv_stats ks, *k = &ks;

    kv_get_stats(s->kv, k);
    evbuffer_add_printf(out, "# %c%s\r\n", name[0] - 32, name + 1);
#define X(section, field, kind, help)                                                              \
    if (strcmp(#section, name) == 0)                                                               \
        evbuffer_add_printf(out, "%s:%" PRIu64 "\r\n", #field, k->section##_##field);
    KV_STATS_TABLE(X)
#undef X
    if (strcmp(name, "pool") == 0) {
        for (int i = 0; i < kv_node_count(s->kv); i++) {
            kv_node_info ni;
            kv_node_get(s->kv, i, &ni);
            evbuffer_add_printf(out,
                                "node%d:addr=%s,id=%s,seed=%d,down=%d,connected=%d,channels=%d,"
                                "calls=%" PRIu64 ",failures=%" PRIu64 "\r\n",
                                i, ni.addr, ni.id[0] ? ni.id : "-", ni.seed, ni.down, ni.connected,
                                ni.channels, ni.calls, ni.failures);
        }
    }
    if (strcmp(name, "retries") == 0) {
        for (int code = 0; code < KV_STATUS_COUNT; code++)
            if (k->attempt_status[code] > 0)
                evbuffer_add_printf(out, "attempts_%s:%" PRIu64 "\r\n", kv_status_name(code),
                                    k->attempt_status[code]);
        for (int e = 1; e < KV_ERR_COUNT; e++)
            if (k->failed_by_err[e] > 0)
                evbuffer_add_printf(out, "failed_%s:%" PRIu64 "\r\n", kv_err_name((kv_err)e),
                                    k->failed_by_err[e]);
    }
    evbuffer_add(out, "\r\n", 2);
}

/* The sections INFO knows, in the order it renders them: the sidecar's own, the cluster
 * client's (kv_sections), then the per-command and per-error ones. */
enum {
    SEC_SERVER,
    SEC_CLIENTS,
    SEC_MEMORY,
    SEC_STATS,
    SEC_CPU,
    SEC_CLUSTER,
    SEC_KV,
    SEC_COMMANDSTATS = SEC_KV + NSECTIONS,
    SEC_ERRORSTATS,
    SEC_LATENCYSTATS,
    SEC_COUNT
};

static const char *section_name(size_t i)
{
    static const char *const own[] = {"server", "clients", "memory", "stats", "cpu", "cluster"};
    static const char *const per[] = {"commandstats", "errorstats", "latencystats"};

    if (i < SEC_KV)
        return own[i];
    return i < SEC_COMMANDSTATS ? kv_sections[i - SEC_KV] : per[i - SEC_COMMANDSTATS];
}

/* Whether INFO without arguments (or "default") renders section i. */
static bool section_in_default(size_t i)
{
    return i < SEC_KV || i == SEC_ERRORSTATS;
}

void info_render(sidecar *s, const char *asked, struct evbuffer *out)
{
    info_render_sections(s, &asked, 1, out);
}

void info_render_sections(sidecar *s, const char *const *asked, size_t nasked, struct evbuffer *out)
{
    int64_t now = clock_now_ms();
    kv_stats ks;
    bool want[SEC_COUNT] = {false};

    /* Each section once, however often and in whatever order it is asked for, as Redis 7
     * does: the work is one pass over the arguments, then one rendering. */
    for (size_t a = 0; a < nasked; a++) {
        bool all = strcasecmp(asked[a], "all") == 0 || strcasecmp(asked[a], "everything") == 0;
        for (size_t i = 0; i < SEC_COUNT; i++)
            want[i] = want[i] || wants(asked[a], section_name(i), section_in_default(i));
        if (all)
            break; /* nothing more to add */
    }

    if (want[SEC_SERVER]) {
        evbuffer_add_printf(
            out,
            "# Server\r\n"
            "redis_version:%s\r\n"
            "norikv_sidecar_version:%s\r\n"
            "redis_mode:standalone\r\n"
            "os:Linux\r\n"
            "process_id:%ld\r\n"
            "tcp_port:%d\r\n"
            "unix_socket:%s\r\n"
            "uptime_in_seconds:%lld\r\n"
            "uptime_in_days:%lld\r\n"
            "config_file:%s\r\n"
            "loading:0\r\n"
            "\r\n",
            SIDECAR_REDIS_VERSION, PACKAGE_VERSION, (long)getpid(), s->cfg.sidecar.port,
            s->cfg.sidecar.listen, (long long)((now - s->started_ms) / 1000),
            (long long)((now - s->started_ms) / 86400000), s->config_file ? s->config_file : "");
    }
    if (want[SEC_CLIENTS]) {
        evbuffer_add_printf(out,
                            "# Clients\r\n"
                            "connected_clients:%d\r\n"
                            "maxclients:%d\r\n"
                            "blocked_clients:0\r\n"
                            "\r\n",
                            s->nclients, s->cfg.sidecar.max_clients);
    }
    if (want[SEC_MEMORY]) {
        uint64_t used = stats_used_memory(), rss = stats_rss_memory();
        uint64_t peak = used > s->st.peak_memory ? used : s->st.peak_memory;
        char h_used[32], h_rss[32], h_peak[32];
        human_bytes(used, h_used, sizeof(h_used));
        human_bytes(rss, h_rss, sizeof(h_rss));
        human_bytes(peak, h_peak, sizeof(h_peak));
        evbuffer_add_printf(out,
                            "# Memory\r\n"
                            "used_memory:%" PRIu64 "\r\n"
                            "used_memory_human:%s\r\n"
                            "used_memory_rss:%" PRIu64 "\r\n"
                            "used_memory_rss_human:%s\r\n"
                            "used_memory_peak:%" PRIu64 "\r\n"
                            "used_memory_peak_human:%s\r\n"
                            "mem_fragmentation_ratio:%.2f\r\n"
                            "mem_allocator:libc\r\n"
                            "allocator_trims:%" PRIu64 "\r\n"
                            "\r\n",
                            used, h_used, rss, h_rss, peak, h_peak,
                            used > 0 ? (double)rss / (double)used : 0.0, s->trims);
    }
    if (want[SEC_STATS]) {
        evbuffer_add_printf(out, "# Stats\r\n");
#define X(name, help) evbuffer_add_printf(out, "%s:%" PRIu64 "\r\n", #name, s->st.name);
        STATS_TABLE(X)
#undef X
        evbuffer_add_printf(out, "instantaneous_ops_per_sec:%" PRIu64 "\r\n\r\n",
                            s->st.ops_per_sec);
    }
    if (want[SEC_CPU]) {
        /* Redis' figures: the process, its children (none: the sidecar forks nothing) and
         * the main thread, which runs the event loop (gRPC has threads of its own) */
        struct rusage self, children, main_thread;
        getrusage(RUSAGE_SELF, &self);
        getrusage(RUSAGE_CHILDREN, &children);
        getrusage(RUSAGE_THREAD, &main_thread);
        evbuffer_add_printf(out,
                            "# CPU\r\n"
                            "used_cpu_sys:%ld.%06ld\r\n"
                            "used_cpu_user:%ld.%06ld\r\n"
                            "used_cpu_sys_children:%ld.%06ld\r\n"
                            "used_cpu_user_children:%ld.%06ld\r\n"
                            "used_cpu_sys_main_thread:%ld.%06ld\r\n"
                            "used_cpu_user_main_thread:%ld.%06ld\r\n"
                            "\r\n",
                            (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec,
                            (long)self.ru_utime.tv_sec, (long)self.ru_utime.tv_usec,
                            (long)children.ru_stime.tv_sec, (long)children.ru_stime.tv_usec,
                            (long)children.ru_utime.tv_sec, (long)children.ru_utime.tv_usec,
                            (long)main_thread.ru_stime.tv_sec, (long)main_thread.ru_stime.tv_usec,
                            (long)main_thread.ru_utime.tv_sec, (long)main_thread.ru_utime.tv_usec);
    }
    if (want[SEC_CLUSTER]) {
        kv_get_stats(s->kv, &ks);
        /* cluster_enabled:0: clients must not switch to Redis Cluster mode; the sidecar
         * routes to NoriKV's shards itself. */
        evbuffer_add_printf(out,
                            "# Cluster\r\n"
                            "cluster_enabled:0\r\n"
                            "norikv_nodes:%s\r\n"
                            "norikv_view:%s\r\n"
                            "norikv_epoch:%" PRIu64 "\r\n"
                            "norikv_known_nodes:%d\r\n"
                            "norikv_shards:%u\r\n"
                            "norikv_cached_leaders:%zu\r\n"
                            "\r\n",
                            s->cfg.cluster.nodes, ks.has_view ? "yes" : "no",
                            ks.topology_current_epoch, (int)ks.router_total_nodes,
                            (unsigned)ks.router_total_shards, (size_t)ks.router_cached_leaders);
    }
    for (size_t i = 0; i < NSECTIONS; i++)
        if (want[SEC_KV + i])
            section_kv(s, out, kv_sections[i]);
    if (want[SEC_COMMANDSTATS]) {
        evbuffer_add_printf(out, "# Commandstats\r\n");
        for (size_t i = 0; i < cmd_count(); i++) {
            const cmd_stat *cs = &s->st.cmds[i];
            char name[64];
            /* a command whose every call was rejected or failed has its row too, as Redis */
            if (cs->calls == 0 && cs->rejected_calls == 0 && cs->failed_calls == 0)
                continue;
            lower_name(i, name, sizeof(name));
            evbuffer_add_printf(out,
                                "cmdstat_%s:calls=%" PRIu64 ",usec=%" PRIu64
                                ",usec_per_call=%.2f,rejected_calls=%" PRIu64
                                ",failed_calls=%" PRIu64 "\r\n",
                                name, cs->calls, cs->usec,
                                cs->calls > 0 ? (double)cs->usec / (double)cs->calls : 0.0,
                                cs->rejected_calls, cs->failed_calls);
        }
        evbuffer_add(out, "\r\n", 2);
    }
    if (want[SEC_ERRORSTATS]) {
        evbuffer_add_printf(out, "# Errorstats\r\n");
        for (int i = 0; i < s->st.nerrors; i++)
            evbuffer_add_printf(out, "errorstat_%s:count=%" PRIu64 "\r\n", s->st.errors[i].name,
                                s->st.errors[i].count);
        evbuffer_add(out, "\r\n", 2);
    }
    if (want[SEC_LATENCYSTATS]) {
        evbuffer_add_printf(out, "# Latencystats\r\n");
        for (size_t i = 0; i < cmd_count(); i++) {
            const cmd_stat *cs = &s->st.cmds[i];
            char name[64];
            if (cs->calls == 0)
                continue;
            lower_name(i, name, sizeof(name));
            evbuffer_add_printf(out, "latency_percentiles_usec_%s:p50=%.3f,p99=%.3f,p99.9=%.3f\r\n",
                                name, stats_latency_percentile(cs, 50),
                                stats_latency_percentile(cs, 99),
                                stats_latency_percentile(cs, 99.9));
        }
        evbuffer_add(out, "\r\n", 2);
    }
}

void info_nori_stats(sidecar *s, int proto, struct evbuffer *out)
{
    kv_stats ks, *k = &ks;

    kv_get_stats(s->kv, k);
    resp_add_map(out, proto, (long)NSECTIONS);
    for (size_t i = 0; i < NSECTIONS; i++) {
        const char *name = kv_sections[i];
        long n = 0;
#define X(section, field, kind, help) n += strcmp(#section, name) == 0;
        KV_STATS_TABLE(X)
#undef X
        resp_add_bulk_str(out, name);
        resp_add_map(out, proto, n);
#define X(section, field, kind, help)                                                              \
    if (strcmp(#section, name) == 0) {                                                             \
        resp_add_bulk_str(out, #field);                                                            \
        if (&k->section##_##field == &k->topology_current_epoch && !k->has_view)                   \
            resp_add_null(out, proto);                                                             \
        else                                                                                       \
            resp_add_int(out, (long long)k->section##_##field);                                    \
    }
        KV_STATS_TABLE(X)
#undef X
    }
}

void info_status_line(sidecar *s, char *buf, size_t len)
{
    kv_stats ks;

    kv_get_stats(s->kv, &ks);
    snprintf(buf, len,
             "%d clients, %" PRIu64 " commands/s, view epoch %" PRIu64 ", %" PRIu64 "/%" PRIu64
             " leaders known",
             s->nclients, s->st.ops_per_sec, ks.topology_current_epoch, ks.router_cached_leaders,
             ks.router_total_shards);
}

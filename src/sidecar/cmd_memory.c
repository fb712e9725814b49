/*
 * cmd_memory: MEMORY. USAGE reads the key from the cluster and answers what the sidecar
 * holds for it while it passes (key, value and MEMORY_KEY_OVERHEAD); STATS, DOCTOR and
 * MALLOC-STATS describe the sidecar's own heap (glibc's), clients and logs, under Redis'
 * names where they mean the same; PURGE gives free heap back (malloc_trim). The dataset
 * lives in NoriKV: the sidecar holds no keys, and says so (dataset.bytes 0).
 */
#include "cmd_memory.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"
#include "latency.h"
#include "reply.h"
#include "slowlog.h"

/* ---- USAGE -------------------------------------------------------------------------- */

static void on_usage(const kv_result *res, void *arg)
{
    req *r = arg;

    r->op = NULL;
    if (res->err != KV_OK)
        reply_kv_error(r, res, NULL);
    else if (!res->found)
        resp_add_null(reply(r), r->c->proto);
    else
        resp_add_int(reply(r), (long long)(r->argv[2].len + res->value_len + MEMORY_KEY_OVERHEAD));
    req_done(r);
}

void cmd_memory_usage(req *r)
{
    long long samples;

    /* SAMPLES is accepted as Redis does (a value is one string: nothing to sample) */
    for (int i = 3; i < r->argc; i++) {
        if (strcasecmp(r->argv[i].ptr, "SAMPLES") == 0 && i + 1 < r->argc) {
            if (!arg_ll(r, i + 1, &samples)) {
                reply_error(r, ERR_NOT_INTEGER);
                req_done(r);
                return;
            }
            if (samples < 0) {
                reply_error(r, "ERR syntax error");
                req_done(r);
                return;
            }
            i++;
        } else {
            reply_error(r, "ERR syntax error");
            req_done(r);
            return;
        }
    }
    kv_get_args a = {r->argv[2].ptr, r->argv[2].len, r->c->consistency, 0};
    r->op = kv_get(r->c->s->kv, &a, on_usage, r);
}

/* ---- STATS -------------------------------------------------------------------------- */

typedef struct mem_figures {
    uint64_t used, peak, startup, rss, arena;
    uint64_t clients_normal, clients_monitors, logs;
} mem_figures;

static void figures(sidecar *s, mem_figures *f)
{
    const client *c;
    struct mallinfo2 mi = mallinfo2();

    f->used = stats_used_memory();
    f->peak = f->used > s->st.peak_memory ? f->used : s->st.peak_memory;
    f->startup = s->startup_memory;
    f->rss = stats_rss_memory();
    f->arena = (uint64_t)mi.arena + (uint64_t)mi.hblkhd;
    f->clients_normal = f->clients_monitors = 0;
    LIST_FOREACH(c, &s->clients, link)
    {
        /* as Redis counts monitors with its replicas (clients.slaves) */
        if (c->monitor)
            f->clients_monitors += client_mem_total(c);
        else
            f->clients_normal += client_mem_total(c);
    }
    f->logs = slowlog_mem(s) + (s->latency != NULL ? sizeof(*s->latency) : 0);
}

static double ratio(uint64_t a, uint64_t b)
{
    return b > 0 ? (double)a / (double)b : 0;
}

static void add_field(struct evbuffer *b, const char *name, long long v)
{
    resp_add_bulk_str(b, name);
    resp_add_int(b, v);
}

static void add_double(struct evbuffer *b, int proto, const char *name, double v)
{
    resp_add_bulk_str(b, name);
    resp_add_double(b, proto, v);
}

void cmd_memory_stats(req *r)
{
    mem_figures f;
    struct evbuffer *b = reply(r);
    int proto = r->c->proto;
    uint64_t overhead;

    figures(r->c->s, &f);
    overhead = f.startup + f.clients_normal + f.clients_monitors + f.logs;
    resp_add_map(b, proto, 25);
    add_field(b, "peak.allocated", (long long)f.peak);
    add_field(b, "total.allocated", (long long)f.used);
    add_field(b, "startup.allocated", (long long)f.startup);
    add_field(b, "replication.backlog", 0);
    add_field(b, "clients.slaves", (long long)f.clients_monitors);
    add_field(b, "clients.normal", (long long)f.clients_normal);
    add_field(b, "cluster.links", 0);
    add_field(b, "aof.buffer", 0);
    add_field(b, "lua.caches", 0);
    add_field(b, "functions.caches", 0);
    add_field(b, "overhead.total", (long long)overhead);
    add_field(b, "keys.count", 0);
    add_field(b, "keys.bytes-per-key", 0);
    add_field(b, "dataset.bytes", 0); /* the keys live in NoriKV */
    add_double(b, proto, "dataset.percentage", 0);
    add_double(b, proto, "peak.percentage", ratio(f.used, f.peak) * 100);
    add_field(b, "allocator.allocated", (long long)f.used);
    add_field(b, "allocator.active", (long long)f.arena);
    add_field(b, "allocator.resident", (long long)f.rss);
    add_double(b, proto, "allocator-fragmentation.ratio", ratio(f.arena, f.used));
    add_field(b, "allocator-fragmentation.bytes", (long long)f.arena - (long long)f.used);
    add_double(b, proto, "allocator-rss.ratio", ratio(f.rss, f.arena));
    add_field(b, "allocator-rss.bytes", (long long)f.rss - (long long)f.arena);
    add_double(b, proto, "fragmentation", ratio(f.rss, f.used));
    add_field(b, "fragmentation.bytes", (long long)f.rss - (long long)f.used);
    req_done(r);
}

/* ---- DOCTOR, MALLOC-STATS, PURGE, HELP ---------------------------------------------- */

void cmd_memory_doctor(req *r)
{
    sidecar *s = r->c->s;
    struct evbuffer *text = evbuffer_new();
    const client *c, *big = NULL;
    size_t big_mem = 0, len;
    mem_figures f;
    int found = 0;

    figures(s, &f);
    LIST_FOREACH(c, &s->clients, link)
    {
        size_t m = client_mem_total(c);
        if (m > big_mem) {
            big_mem = m;
            big = c;
        }
    }
    if (f.peak > 2 * f.used && f.peak > 64 * 1024 * 1024) {
        found++;
        evbuffer_add_printf(text,
                            "* Peak: the heap once held %llu bytes, over twice the %llu it "
                            "holds now: a burst (large replies, many clients) came and went.\n",
                            (unsigned long long)f.peak, (unsigned long long)f.used);
    }
    if (f.rss > 16 * 1024 * 1024 && ratio(f.rss, f.used) > 1.4) {
        found++;
        evbuffer_add_printf(text,
                            "* Fragmentation: the resident set (%llu bytes) is %.2f times what "
                            "the heap hands out (%llu); MEMORY PURGE gives free heap back, and "
                            "the sidecar does so itself once traffic is light.\n",
                            (unsigned long long)f.rss, ratio(f.rss, f.used),
                            (unsigned long long)f.used);
    }
    if (big != NULL && big_mem > (size_t)s->cfg.sidecar.reply_backlog / 2) {
        found++;
        evbuffer_add_printf(text,
                            "* Clients: client %llu (%s) holds %zu bytes (CLIENT LIST tot-mem), "
                            "over half of reply_backlog: it reads its replies slowly or "
                            "pipelines large requests.\n",
                            (unsigned long long)big->id, big->addr, big_mem);
    }
    if (found == 0)
        evbuffer_add_printf(text,
                            "No memory problem found: the heap holds %llu bytes, the "
                            "resident set is %llu bytes and no client holds over half of "
                            "reply_backlog.\n",
                            (unsigned long long)f.used, (unsigned long long)f.rss);
    len = evbuffer_get_length(text);
    resp_add_verbatim(reply(r), r->c->proto, "txt", evbuffer_pullup(text, (ev_ssize_t)len), len);
    evbuffer_free(text);
    req_done(r);
}

void cmd_memory_malloc_stats(req *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (f == NULL || malloc_info(0, f) != 0) {
        if (f != NULL)
            fclose(f);
        free(text);
        resp_add_bulk_str(reply(r), "Stats not supported for the current allocator");
        req_done(r);
        return;
    }
    fclose(f);
    resp_add_verbatim(reply(r), r->c->proto, "txt", text, len);
    free(text);
    req_done(r);
}

void cmd_memory_purge(req *r)
{
    malloc_trim(0);
    r->c->s->trims++;
    resp_add_simple(reply(r), "OK");
    req_done(r);
}

void cmd_memory_help(req *r)
{
    static const char *const help[] = {
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Print this help.",
        NULL};

    reply_help(r, help);
    req_done(r);
}

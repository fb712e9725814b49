/*
 * slowlog: the entries SLOWLOG shows, as Redis' slowlog.c keeps them: id, unix time,
 * duration in microseconds, the arguments (past 32 the last says how many more there were,
 * past 128 bytes one says how many more bytes it had), the client's address and name. A
 * ring of slowlog_max_len, made on the first entry. Reads nothing but the request it is
 * given; never blocks.
 */
#include "slowlog.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "cmd.h"
#include "reply.h"
#include "xalloc.h"

typedef struct slowlog_entry {
    long long id, time, usec;
    int argc;
    resp_arg *argv; /* each malloc'ed, truncated */
    char *peer, *name;
    size_t bytes; /* what it holds */
} slowlog_entry;

struct slowlog {
    long long next_id;
    slowlog_entry **ring; /* newest at (head - 1), cap of them */
    long cap, head, len;
    size_t bytes;
};

static void entry_free(slowlog_entry *e)
{
    if (e == NULL)
        return;
    for (int i = 0; i < e->argc; i++)
        free(e->argv[i].ptr);
    free(e->argv);
    free(e->peer);
    free(e->name);
    free(e);
}

static resp_arg arg_text(const char *p, size_t len)
{
    resp_arg a = {xmemdup0(p, len), len};
    return a;
}

static slowlog_entry *entry_new(slowlog *l, const req *r, uint64_t usec)
{
    const client *c = r->c;
    slowlog_entry *e = xcalloc(1, sizeof(*e));
    int argc = r->argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : r->argc;
    char text[64];
    cmd_redact x;

    cmd_redact_init(&x, r->cmd, r->argv, r->argc);
    e->id = l->next_id++;
    e->time = (long long)time(NULL);
    e->usec = usec > (uint64_t)LLONG_MAX ? LLONG_MAX : (long long)usec;
    e->argc = argc;
    e->argv = xcalloc((size_t)(argc > 0 ? argc : 1), sizeof(*e->argv));
    e->bytes = sizeof(*e) + (size_t)argc * sizeof(*e->argv);
    for (int i = 0; i < argc; i++) {
        const resp_arg *a = &r->argv[i];
        if (argc != r->argc && i == argc - 1) {
            int n = snprintf(text, sizeof(text), "... (%d more arguments)", r->argc - argc + 1);
            e->argv[i] = arg_text(text, (size_t)n);
        } else if (cmd_redacted(&x, i)) {
            e->argv[i] = arg_text("(redacted)", 10);
        } else if (a->len > SLOWLOG_MAX_ARG) {
            int n = snprintf(text, sizeof(text), "... (%zu more bytes)", a->len - SLOWLOG_MAX_ARG);
            char *p = xmalloc(SLOWLOG_MAX_ARG + (size_t)n + 1);
            memcpy(p, a->ptr, SLOWLOG_MAX_ARG);
            memcpy(p + SLOWLOG_MAX_ARG, text, (size_t)n + 1);
            e->argv[i].ptr = p;
            e->argv[i].len = SLOWLOG_MAX_ARG + (size_t)n;
        } else {
            e->argv[i] = arg_text(a->ptr, a->len);
        }
        e->bytes += e->argv[i].len + 1;
    }
    e->peer = xstrdup(c->addr);
    e->name = xstrdup(c->name != NULL ? c->name : "");
    e->bytes += strlen(e->peer) + strlen(e->name) + 2;
    return e;
}

/* The i-th newest entry (0: the newest). */
static slowlog_entry **at(slowlog *l, long i)
{
    return &l->ring[(l->head - 1 - i + 2 * l->cap) % l->cap];
}

static void drop_oldest(slowlog *l)
{
    slowlog_entry **e = at(l, l->len - 1);

    l->bytes -= (*e)->bytes;
    entry_free(*e);
    *e = NULL;
    l->len--;
}

/* The ring at cap entries, the newest kept. */
static void resize(slowlog *l, long cap)
{
    slowlog_entry **ring;
    long n;

    while (l->len > cap)
        drop_oldest(l);
    if (cap == l->cap)
        return;
    ring = cap > 0 ? xcalloc((size_t)cap, sizeof(*ring)) : NULL;
    n = l->len;
    for (long i = 0; i < n; i++) /* oldest first, so the newest ends at the head */
        ring[i] = *at(l, n - 1 - i);
    free(l->ring);
    l->ring = ring;
    l->cap = cap;
    l->head = cap > 0 ? n % cap : 0;
}

void slowlog_note(sidecar *s, const req *r, uint64_t usec)
{
    long max = s->cfg.sidecar.slowlog_max_len;
    slowlog *l = s->slowlog;

    if (s->cfg.sidecar.slowlog_log_slower_than < 0 ||
        usec < (uint64_t)s->cfg.sidecar.slowlog_log_slower_than || r->cmd == NULL)
        return;
    if (l == NULL)
        l = s->slowlog = xcalloc(1, sizeof(*l));
    if (l->cap != max)
        resize(l, max);
    if (max == 0) {
        l->next_id++; /* Redis numbers the entries it drops at once too */
        return;
    }
    if (l->len == l->cap)
        drop_oldest(l);
    l->ring[l->head] = entry_new(l, r, usec);
    l->bytes += l->ring[l->head]->bytes;
    l->head = (l->head + 1) % l->cap;
    l->len++;
}

void slowlog_trim(sidecar *s)
{
    if (s->slowlog != NULL && s->slowlog->cap != s->cfg.sidecar.slowlog_max_len)
        resize(s->slowlog, s->cfg.sidecar.slowlog_max_len);
}

void slowlog_free(sidecar *s)
{
    if (s->slowlog == NULL)
        return;
    resize(s->slowlog, 0);
    free(s->slowlog);
    s->slowlog = NULL;
}

size_t slowlog_mem(const sidecar *s)
{
    const slowlog *l = s->slowlog;

    return l != NULL ? sizeof(*l) + (size_t)l->cap * sizeof(*l->ring) + l->bytes : 0;
}

void cmd_slowlog_get(req *r)
{
    slowlog *l = r->c->s->slowlog;
    long long count = 10;
    long len = l != NULL ? l->len : 0;
    struct evbuffer *b;

    if (r->argc == 3 && (!arg_ll(r, 2, &count) || count < -1)) {
        reply_error(r, "ERR count should be greater than or equal to -1");
        req_done(r);
        return;
    }
    if (count == -1 || count > len)
        count = len;
    b = reply(r);
    resp_add_array(b, (long)count);
    for (long i = 0; i < count; i++) {
        const slowlog_entry *e = *at(l, i);
        resp_add_array(b, 6);
        resp_add_int(b, e->id);
        resp_add_int(b, e->time);
        resp_add_int(b, e->usec);
        resp_add_array(b, e->argc);
        for (int k = 0; k < e->argc; k++)
            resp_add_bulk(b, e->argv[k].ptr, e->argv[k].len);
        resp_add_bulk_str(b, e->peer);
        resp_add_bulk_str(b, e->name);
    }
    req_done(r);
}

void cmd_slowlog_len(req *r)
{
    const slowlog *l = r->c->s->slowlog;

    resp_add_int(reply(r), l != NULL ? l->len : 0);
    req_done(r);
}

void cmd_slowlog_reset(req *r)
{
    slowlog *l = r->c->s->slowlog;

    while (l != NULL && l->len > 0)
        drop_oldest(l);
    resp_add_simple(reply(r), "OK");
    req_done(r);
}

void cmd_slowlog_help(req *r)
{
    static const char *const help[] = {
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Print this help.",
        NULL};

    reply_help(r, help);
    req_done(r);
}

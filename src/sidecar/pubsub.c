/*
 * pubsub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE and PUBSUB, and the delivery of
 * cluster view changes on norikv:topology. The subscriptions live with each client (a
 * pubsub_sub) and the subscribers in one list of the sidecar's (a pubsub, made with the
 * first subscription and freed with the last, when the topology listener goes too).
 * Messages go through client_push(), the normal output path, which bounds them by
 * reply_backlog. Never blocks and never holds a message of its own.
 */
#include "pubsub.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "cmd.h"
#include "glob.h"
#include "xalloc.h"

typedef struct name {
    char *ptr;
    size_t len;
} name;

/* One client's subscriptions. */
struct pubsub_sub {
    client *c;
    name *channels, *patterns;
    int nchannels, npatterns;
    int cap_channels, cap_patterns;
    LIST_ENTRY(pubsub_sub) link;
};

/* The sidecar's subscribers, while there are some. */
struct pubsub {
    sidecar *s;
    LIST_HEAD(, pubsub_sub) subs;
    int nsubs;
    int listener;    /* the topology listener's id, -1 if none */
    bool delivering; /* inside a delivery: freed at its end, not inside it */
};

static void on_topology(const kv_topology_event *ev, void *arg);

/* ---- patterns ----------------------------------------------------------------------- */

bool pubsub_match(const char *pat, size_t plen, const char *s, size_t slen)
{
    long unlimited = LONG_MAX; /* time is bounded by plen * slen */

    return glob_match(pat, plen, s, slen, false, &unlimited) == 1;
}

/* ---- the event as JSON -------------------------------------------------------------- */

static void json_string(struct evbuffer *b, const char *s)
{
    if (s == NULL) {
        evbuffer_add(b, "null", 4);
        return;
    }
    evbuffer_add(b, "\"", 1);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            evbuffer_add_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            evbuffer_add_printf(b, "\\u%04x", ch);
        else
            evbuffer_add(b, s, 1);
    }
    evbuffer_add(b, "\"", 1);
}

static void json_addrs(struct evbuffer *b, const char *const *addrs, size_t n)
{
    evbuffer_add(b, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            evbuffer_add(b, ",", 1);
        json_string(b, addrs[i]);
    }
    evbuffer_add(b, "]", 1);
}

char *pubsub_event_json(const kv_topology_event *ev, size_t *len)
{
    struct evbuffer *b = evbuffer_new();
    char *out;

    if (ev->has_previous)
        evbuffer_add_printf(b, "{\"previous_epoch\":%" PRIu64, ev->previous_epoch);
    else
        evbuffer_add_printf(b, "{\"previous_epoch\":null");
    evbuffer_add_printf(b, ",\"current_epoch\":%" PRIu64 ",\"added_nodes\":", ev->epoch);
    json_addrs(b, ev->added, ev->n_added);
    evbuffer_add_printf(b, ",\"removed_nodes\":");
    json_addrs(b, ev->removed, ev->n_removed);
    evbuffer_add_printf(b, ",\"leader_changes\":[");
    for (size_t i = 0; i < ev->n_changes; i++) {
        evbuffer_add_printf(b, "%s{\"shard\":%" PRIu32 ",\"old\":", i > 0 ? "," : "",
                            ev->changes[i].shard);
        json_string(b, ev->changes[i].old_addr);
        evbuffer_add_printf(b, ",\"new\":");
        json_string(b, ev->changes[i].new_addr);
        evbuffer_add(b, "}", 1);
    }
    evbuffer_add(b, "]}", 2);
    *len = evbuffer_get_length(b);
    out = xmalloc(*len + 1);
    evbuffer_remove(b, out, *len);
    out[*len] = '\0';
    evbuffer_free(b);
    return out;
}

/* ---- subscriptions ------------------------------------------------------------------ */

static void pubsub_destroy(sidecar *s)
{
    struct pubsub *ps = s->pubsub;

    if (ps->listener >= 0)
        kv_unsubscribe_topology(s->kv, ps->listener);
    free(ps);
    s->pubsub = NULL;
}

static struct pubsub_sub *sub_of(client *c)
{
    sidecar *s = c->s;
    struct pubsub *ps = s->pubsub;

    if (c->sub != NULL)
        return c->sub;
    if (ps == NULL) {
        ps = s->pubsub = xcalloc(1, sizeof(*ps));
        ps->s = s;
        LIST_INIT(&ps->subs);
        ps->listener = kv_subscribe_topology(s->kv, on_topology, ps);
    }
    c->sub = xcalloc(1, sizeof(*c->sub));
    c->sub->c = c;
    LIST_INSERT_HEAD(&ps->subs, c->sub, link);
    ps->nsubs++;
    return c->sub;
}

/* The client has no subscription left: it leaves the list, and the list goes with its
 * last member (not inside a delivery, which frees it at its end). */
static void sub_release(client *c)
{
    struct pubsub_sub *sub = c->sub;
    struct pubsub *ps = c->s->pubsub;

    if (sub == NULL || sub->nchannels > 0 || sub->npatterns > 0)
        return;
    LIST_REMOVE(sub, link);
    free(sub->channels);
    free(sub->patterns);
    free(sub);
    c->sub = NULL;
    if (--ps->nsubs == 0 && !ps->delivering)
        pubsub_destroy(c->s);
}

static int find_name(const name *names, int n, const resp_arg *a)
{
    for (int i = 0; i < n; i++)
        if (names[i].len == a->len && memcmp(names[i].ptr, a->ptr, a->len) == 0)
            return i;
    return -1;
}

static void add_name(name **names, int *n, int *cap, const resp_arg *a)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        *names = xrealloc(*names, (size_t)*cap * sizeof(**names));
    }
    (*names)[*n].ptr = xmemdup0(a->ptr, a->len);
    (*names)[*n].len = a->len;
    (*n)++;
}

static void remove_name(name *names, int *n, int i)
{
    free(names[i].ptr);
    names[i] = names[--*n];
}

void pubsub_counts(const client *c, int *channels, int *patterns)
{
    *channels = c->sub != NULL ? c->sub->nchannels : 0;
    *patterns = c->sub != NULL ? c->sub->npatterns : 0;
}

static int total(const client *c)
{
    return c->sub != NULL ? c->sub->nchannels + c->sub->npatterns : 0;
}

bool pubsub_mode(const client *c)
{
    return c->proto < 3 && total(c) > 0;
}

void pubsub_client_reset(client *c)
{
    struct pubsub_sub *sub = c->sub;

    if (sub == NULL)
        return;
    while (sub->nchannels > 0)
        remove_name(sub->channels, &sub->nchannels, 0);
    while (sub->npatterns > 0)
        remove_name(sub->patterns, &sub->npatterns, 0);
    sub_release(c);
}

/* ["subscribe", channel, count] and its kin: a push in RESP3, an array in RESP2. */
static void add_confirmation(req *r, const char *kind, const char *p, size_t len, bool null)
{
    struct evbuffer *b = reply(r);

    resp_add_push(b, r->c->proto, 3);
    resp_add_bulk_str(b, kind);
    if (null)
        resp_add_null(b, r->c->proto);
    else
        resp_add_bulk(b, p, len);
    resp_add_int(b, total(r->c));
}

static void subscribe(req *r, bool pattern)
{
    struct pubsub_sub *sub = sub_of(r->c);

    for (int i = 1; i < r->argc; i++) {
        const resp_arg *a = &r->argv[i];
        if (pattern && find_name(sub->patterns, sub->npatterns, a) < 0)
            add_name(&sub->patterns, &sub->npatterns, &sub->cap_patterns, a);
        else if (!pattern && find_name(sub->channels, sub->nchannels, a) < 0)
            add_name(&sub->channels, &sub->nchannels, &sub->cap_channels, a);
        add_confirmation(r, pattern ? "psubscribe" : "subscribe", a->ptr, a->len, false);
    }
    req_done(r);
}

static void unsubscribe(req *r, bool pattern)
{
    client *c = r->c;
    struct pubsub_sub *sub = c->sub;
    const char *kind = pattern ? "punsubscribe" : "unsubscribe";
    name *names = NULL;
    int *n = NULL;

    if (sub != NULL) {
        names = pattern ? sub->patterns : sub->channels;
        n = pattern ? &sub->npatterns : &sub->nchannels;
    }
    if (r->argc == 1) {
        if (n == NULL || *n == 0)
            add_confirmation(r, kind, NULL, 0, true);
        while (n != NULL && *n > 0) {
            name gone = names[0];
            names[0] = names[--*n];
            add_confirmation(r, kind, gone.ptr, gone.len, false);
            free(gone.ptr);
        }
    }
    for (int i = 1; i < r->argc; i++) {
        int at = n != NULL ? find_name(names, *n, &r->argv[i]) : -1;
        if (at >= 0)
            remove_name(names, n, at);
        add_confirmation(r, kind, r->argv[i].ptr, r->argv[i].len, false);
    }
    sub_release(c);
    req_done(r);
}

void cmd_subscribe(req *r)
{
    subscribe(r, false);
}

void cmd_psubscribe(req *r)
{
    subscribe(r, true);
}

void cmd_unsubscribe(req *r)
{
    unsubscribe(r, false);
}

void cmd_punsubscribe(req *r)
{
    unsubscribe(r, true);
}

/* ---- PUBSUB ------------------------------------------------------------------------- */

/* Whether a subscriber listed before sub (in the list's order) has a channel equal to a. */
static bool seen_before(const struct pubsub_sub *sub, const name *a, bool pattern)
{
    for (const struct pubsub_sub *o = LIST_FIRST(&sub->c->s->pubsub->subs); o != sub;
         o = LIST_NEXT(o, link)) {
        const name *names = pattern ? o->patterns : o->channels;
        int n = pattern ? o->npatterns : o->nchannels;
        for (int i = 0; i < n; i++)
            if (names[i].len == a->len && memcmp(names[i].ptr, a->ptr, a->len) == 0)
                return true;
    }
    return false;
}

/* Distinct channels (or patterns) over every subscriber, each once; with a pattern, only
 * the channels it matches. Adds them to b when b is not NULL; returns how many. */
static long distinct(sidecar *s, bool pattern, const resp_arg *filter, struct evbuffer *b)
{
    struct pubsub_sub *sub;
    long n = 0;

    if (s->pubsub == NULL)
        return 0;
    LIST_FOREACH(sub, &s->pubsub->subs, link)
    {
        const name *names = pattern ? sub->patterns : sub->channels;
        int count = pattern ? sub->npatterns : sub->nchannels;
        for (int i = 0; i < count; i++) {
            bool dup = false;
            for (int k = 0; k < i && !dup; k++)
                dup = names[k].len == names[i].len &&
                      memcmp(names[k].ptr, names[i].ptr, names[i].len) == 0;
            if (dup || seen_before(sub, &names[i], pattern))
                continue;
            if (filter != NULL &&
                !pubsub_match(filter->ptr, filter->len, names[i].ptr, names[i].len))
                continue;
            if (b != NULL)
                resp_add_bulk(b, names[i].ptr, names[i].len);
            n++;
        }
    }
    return n;
}

void cmd_pubsub_channels(req *r)
{
    const resp_arg *filter = r->argc > 2 ? &r->argv[2] : NULL;
    struct evbuffer *items = evbuffer_new();
    long n;

    if (r->argc > 3) {
        reply_error(r, "ERR wrong number of arguments for 'pubsub|channels' command");
        evbuffer_free(items);
        req_done(r);
        return;
    }
    n = distinct(r->c->s, false, filter, items);
    resp_add_array(reply(r), n);
    evbuffer_add_buffer(reply(r), items);
    evbuffer_free(items);
    req_done(r);
}

void cmd_pubsub_numsub(req *r)
{
    sidecar *s = r->c->s;

    resp_add_array(reply(r), (long)(r->argc - 2) * 2);
    for (int i = 2; i < r->argc; i++) {
        long n = 0;
        struct pubsub_sub *sub;
        if (s->pubsub != NULL) {
            LIST_FOREACH(sub, &s->pubsub->subs, link)
            {
                n += find_name(sub->channels, sub->nchannels, &r->argv[i]) >= 0;
            }
        }
        resp_add_bulk(reply(r), r->argv[i].ptr, r->argv[i].len);
        resp_add_int(reply(r), n);
    }
    req_done(r);
}

void cmd_pubsub_numpat(req *r)
{
    resp_add_int(reply(r), distinct(r->c->s, true, NULL, NULL));
    req_done(r);
}

void cmd_pubsub_help(req *r)
{
    static const char *const lines[] = {
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "HELP",
        "    Print this help.",
        NULL,
    };
    reply_help(r, lines);
    req_done(r);
}

/* ---- delivery ----------------------------------------------------------------------- */

static void add_message(struct evbuffer *b, int proto, const name *pattern, const char *json,
                        size_t len)
{
    static const char channel[] = PUBSUB_TOPOLOGY_CHANNEL;

    resp_add_push(b, proto, pattern != NULL ? 4 : 3);
    resp_add_bulk_str(b, pattern != NULL ? "pmessage" : "message");
    if (pattern != NULL)
        resp_add_bulk(b, pattern->ptr, pattern->len);
    resp_add_bulk(b, channel, sizeof(channel) - 1);
    resp_add_bulk(b, json, len);
}

/* One message per subscription that matches norikv:topology, as Redis sends a message for
 * the channel and a pmessage for each matching pattern. */
static void on_topology(const kv_topology_event *ev, void *arg)
{
    static const resp_arg topology = {(char *)PUBSUB_TOPOLOGY_CHANNEL,
                                      sizeof(PUBSUB_TOPOLOGY_CHANNEL) - 1};
    struct pubsub *ps = arg;
    struct evbuffer *msg = evbuffer_new();
    struct pubsub_sub *sub, *next;
    size_t len;
    char *json = pubsub_event_json(ev, &len);

    ps->delivering = true;
    for (sub = LIST_FIRST(&ps->subs); sub != NULL; sub = next) {
        next = LIST_NEXT(sub, link); /* sub goes if its client is closed */
        int proto = sub->c->proto;
        if (find_name(sub->channels, sub->nchannels, &topology) >= 0)
            add_message(msg, proto, NULL, json, len);
        for (int i = 0; i < sub->npatterns; i++)
            if (pubsub_match(sub->patterns[i].ptr, sub->patterns[i].len, topology.ptr,
                             topology.len))
                add_message(msg, proto, &sub->patterns[i], json, len);
        if (evbuffer_get_length(msg) > 0)
            client_push(sub->c, msg);
    }
    ps->delivering = false;
    if (ps->nsubs == 0)
        pubsub_destroy(ps->s);
    evbuffer_free(msg);
    free(json);
}

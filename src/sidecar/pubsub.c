/*
 * pubsub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE and PUBSUB, and the delivery of
 * cluster view changes on norikv:topology. The sidecar (a pubsub, made with the first
 * subscription and freed with the last, when the topology listener goes too) keeps one
 * topic per channel and per pattern anyone subscribes to, in hash tables; each client (a
 * pubsub_sub) its subscriptions, in tables of its own and in the order it made them.
 * Whether a topic gets the topology messages is decided once, when it is made, so a view
 * change matches no pattern. Messages go through client_push(), the normal output path,
 * which bounds them by reply_backlog. Never blocks and never holds a message of its own.
 */
#include "pubsub.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "reply.h"
#include "dict.h"
#include "glob.h"
#include "xalloc.h"

/* A channel or a pattern someone subscribes to, once for the sidecar, with its name. */
typedef struct topic {
    dict_entry entry; /* in the sidecar's channels or patterns */
    long subscribers; /* clients subscribed (PUBSUB NUMSUB) */
    bool pattern;
    bool topology; /* norikv:topology itself, or a pattern that matches it */
    size_t len;
    char name[];
} topic;

/* One client's subscription to a topic. */
typedef struct subscription {
    dict_entry entry; /* in the client's channels or patterns, keyed by the topic's name */
    topic *t;
    TAILQ_ENTRY(subscription) order;    /* among the client's channels or patterns */
    TAILQ_ENTRY(subscription) delivery; /* among those getting messages, if t->topology */
} subscription;

TAILQ_HEAD(subscription_list, subscription);

/* One client's subscriptions. */
struct pubsub_sub {
    client *c;
    dict channels, patterns; /* subscriptions by name */
    /* the same oldest first, for UNSUBSCRIBE and PUNSUBSCRIBE with no argument */
    struct subscription_list channel_order, pattern_order;
    /* those a view change delivers to, in the order of the messages: the channel, then
     * the patterns as subscribed */
    struct subscription_list delivered;
    size_t mem; /* what the subscriptions cost, by cost() */
    LIST_ENTRY(pubsub_sub) link;
};

/* The sidecar's subscribers, while there are some. */
struct pubsub {
    sidecar *s;
    LIST_HEAD(, pubsub_sub) subs;
    int nsubs;
    dict channels, patterns; /* topics by name */
    uint64_t seed;           /* of every table, the clients' too */
    int listener;            /* the topology listener's id, -1 if none */
    bool delivering;         /* inside a delivery: freed at its end, not inside it */
};

static const char topology_channel[] = PUBSUB_TOPOLOGY_CHANNEL;
#define TOPOLOGY_LEN (sizeof(topology_channel) - 1)

static void on_topology(const kv_topology_event *ev, void *arg);

/* ---- patterns ----------------------------------------------------------------------- */

bool pubsub_match(const char *pat, size_t plen, const char *s, size_t slen)
{
    long budget = PUBSUB_PATTERN_BUDGET;

    return glob_match(pat, plen, s, slen, false, &budget) == 1;
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

/* What one subscription costs its client: its record, and the topic with its name, counted
 * in full for every client subscribed to it (shared, it is counted more than once, never
 * less), with the topic's share of the sidecar's table: past its smallest size, the table
 * has at most four buckets per topic (dict.c). */
static size_t cost(const topic *t)
{
    return sizeof(subscription) + sizeof(topic) + t->len + 4 * sizeof(dict_entry *);
}

size_t pubsub_client_mem(const client *c)
{
    const struct pubsub_sub *sub = c->sub;

    if (sub == NULL)
        return 0;
    return sizeof(*sub) + sub->mem + dict_mem(&sub->channels) + dict_mem(&sub->patterns);
}

static void pubsub_destroy(sidecar *s)
{
    struct pubsub *ps = s->pubsub;

    if (ps->listener >= 0)
        kv_unsubscribe_topology(s->kv, ps->listener);
    dict_release(&ps->channels);
    dict_release(&ps->patterns);
    free(ps);
    s->pubsub = NULL;
}

static struct pubsub_sub *sub_of(client *c)
{
    sidecar *s = c->s;
    struct pubsub *ps = s->pubsub;
    struct pubsub_sub *sub = c->sub;

    if (sub != NULL)
        return sub;
    if (ps == NULL) {
        ps = s->pubsub = xcalloc(1, sizeof(*ps));
        ps->s = s;
        LIST_INIT(&ps->subs);
        ps->seed = dict_seed();
        dict_init(&ps->channels, ps->seed);
        dict_init(&ps->patterns, ps->seed);
        ps->listener = kv_subscribe_topology(s->kv, on_topology, ps);
    }
    sub = c->sub = xcalloc(1, sizeof(*sub));
    sub->c = c;
    dict_init(&sub->channels, ps->seed);
    dict_init(&sub->patterns, ps->seed);
    TAILQ_INIT(&sub->channel_order);
    TAILQ_INIT(&sub->pattern_order);
    TAILQ_INIT(&sub->delivered);
    LIST_INSERT_HEAD(&ps->subs, sub, link);
    ps->nsubs++;
    return sub;
}

static int total(const client *c)
{
    return c->sub != NULL ? (int)(c->sub->channels.count + c->sub->patterns.count) : 0;
}

/* The client has no subscription left: it leaves the list, and the list goes with its
 * last member (not inside a delivery, which frees it at its end). */
static void sub_release(client *c)
{
    struct pubsub_sub *sub = c->sub;
    struct pubsub *ps = c->s->pubsub;

    if (sub == NULL || total(c) > 0)
        return;
    LIST_REMOVE(sub, link);
    free(sub);
    c->sub = NULL;
    if (--ps->nsubs == 0 && !ps->delivering)
        pubsub_destroy(c->s);
}

/* A topic nobody subscribed to yet: a pattern is matched against norikv:topology now,
 * once, within PUBSUB_PATTERN_BUDGET (pubsub.h), never at a view change. */
static topic *topic_new(dict *all, bool pattern, const resp_arg *a)
{
    topic *t = xmalloc(sizeof(*t) + a->len);

    memcpy(t->name, a->ptr, a->len);
    t->len = a->len;
    t->subscribers = 0;
    t->pattern = pattern;
    if (pattern)
        t->topology = pubsub_match(t->name, t->len, topology_channel, TOPOLOGY_LEN);
    else
        t->topology = t->len == TOPOLOGY_LEN && memcmp(t->name, topology_channel, t->len) == 0;
    dict_add(all, &t->entry, t->name, t->len);
    return t;
}

/* The client subscribes to a, unless it already is. */
static void add_subscription(struct pubsub_sub *sub, bool pattern, const resp_arg *a)
{
    struct pubsub *ps = sub->c->s->pubsub;
    dict *all = pattern ? &ps->patterns : &ps->channels;
    dict *mine = pattern ? &sub->patterns : &sub->channels;
    dict_entry *e = dict_find(all, a->ptr, a->len);
    subscription *s;

    if (e != NULL && dict_find(mine, a->ptr, a->len) != NULL)
        return;
    s = xmalloc(sizeof(*s));
    s->t = e != NULL ? dict_item(e, topic, entry) : topic_new(all, pattern, a);
    s->t->subscribers++;
    dict_add(mine, &s->entry, s->t->name, s->t->len);
    TAILQ_INSERT_TAIL(pattern ? &sub->pattern_order : &sub->channel_order, s, order);
    if (s->t->topology && pattern)
        TAILQ_INSERT_TAIL(&sub->delivered, s, delivery);
    else if (s->t->topology)
        TAILQ_INSERT_HEAD(&sub->delivered, s, delivery);
    sub->mem += cost(s->t);
}

/* The client drops s; its topic goes with its last subscriber. */
static void drop_subscription(struct pubsub_sub *sub, subscription *s)
{
    topic *t = s->t;
    struct pubsub *ps = sub->c->s->pubsub;

    dict_remove(t->pattern ? &sub->patterns : &sub->channels, &s->entry);
    TAILQ_REMOVE(t->pattern ? &sub->pattern_order : &sub->channel_order, s, order);
    if (t->topology)
        TAILQ_REMOVE(&sub->delivered, s, delivery);
    sub->mem -= cost(t);
    free(s);
    if (--t->subscribers == 0) {
        dict_remove(t->pattern ? &ps->patterns : &ps->channels, &t->entry);
        free(t);
    }
}

void pubsub_counts(const client *c, int *channels, int *patterns)
{
    *channels = c->sub != NULL ? (int)c->sub->channels.count : 0;
    *patterns = c->sub != NULL ? (int)c->sub->patterns.count : 0;
}

bool pubsub_mode(const client *c)
{
    return c->proto < 3 && total(c) > 0;
}

void pubsub_client_reset(client *c)
{
    struct pubsub_sub *sub = c->sub;
    subscription *s;

    if (sub == NULL)
        return;
    while ((s = TAILQ_FIRST(&sub->channel_order)) != NULL)
        drop_subscription(sub, s);
    while ((s = TAILQ_FIRST(&sub->pattern_order)) != NULL)
        drop_subscription(sub, s);
    sub_release(c);
    client_hold_set(c, HOLD_SUBS, 0);
}

/* ["subscribe", channel, count] and its kin: a push in RESP3, an array in RESP2; count is
 * the client's subscriptions after this one. */
static void add_confirmation(req *r, const char *kind, const char *p, size_t len, bool null,
                             int count)
{
    struct evbuffer *b = reply(r);

    resp_add_push(b, r->c->proto, 3);
    resp_add_bulk_str(b, kind);
    if (null)
        resp_add_null(b, r->c->proto);
    else
        resp_add_bulk(b, p, len);
    resp_add_int(b, count);
}

static int digits(long long n)
{
    int d = 1;

    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

static void subscribe(req *r, bool pattern)
{
    struct pubsub_sub *sub;
    size_t confirmations = 0;

    /* Its confirmations must fit max_reply, or it is refused before anything is
     * subscribed: a client told it failed must not be subscribed all the same. Each is
     * ["(p)subscribe", name, count]: 4 + 17 bytes, the name's bulk, the count's integer. */
    int counts = digits((long long)total(r->c) + r->argc);
    for (int i = 1; i < r->argc; i++)
        confirmations += 4 + 17 + (size_t)(3 + digits((long long)r->argv[i].len)) + r->argv[i].len +
                         2 + (size_t)(3 + counts);
    if (confirmations > (size_t)r->c->s->cfg.sidecar.max_reply) {
        reply_over_max(r, "subscribe to fewer at once");
        req_done(r);
        return;
    }
    sub = sub_of(r->c);
    for (int i = 1; i < r->argc; i++) {
        const resp_arg *a = &r->argv[i];
        add_subscription(sub, pattern, a);
        add_confirmation(r, pattern ? "psubscribe" : "subscribe", a->ptr, a->len, false,
                         total(r->c));
    }
    client_hold_set(r->c, HOLD_SUBS, pubsub_client_mem(r->c)); /* its ledger */
    req_done(r);
}

static void unsubscribe(req *r, bool pattern)
{
    client *c = r->c;
    struct pubsub_sub *sub = c->sub;
    const char *kind = pattern ? "punsubscribe" : "unsubscribe";
    subscription *s;

    if (r->argc == 1) {
        struct subscription_list *order = NULL;
        if (sub != NULL)
            order = pattern ? &sub->pattern_order : &sub->channel_order;
        if (order == NULL || TAILQ_EMPTY(order))
            add_confirmation(r, kind, NULL, 0, true, total(c));
        while (order != NULL && (s = TAILQ_FIRST(order)) != NULL) {
            add_confirmation(r, kind, s->t->name, s->t->len, false, total(c) - 1);
            drop_subscription(sub, s);
        }
    }
    for (int i = 1; i < r->argc; i++) {
        const resp_arg *a = &r->argv[i];
        dict_entry *e = NULL;
        if (sub != NULL)
            e = dict_find(pattern ? &sub->patterns : &sub->channels, a->ptr, a->len);
        if (e != NULL)
            drop_subscription(sub, dict_item(e, subscription, entry));
        add_confirmation(r, kind, a->ptr, a->len, false, total(c));
    }
    sub_release(c);
    client_hold_set(c, HOLD_SUBS, pubsub_client_mem(c));
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

/* Glob steps one PUBSUB CHANNELS may spend matching its pattern against every channel, as
 * CONFIG GET has a budget for its patterns: an everyday pattern takes tens of steps a
 * channel, so this lists from a hundred thousand channels and more, and it bounds what a
 * long pattern over many channels makes the loop do to about 10 ms. */
#define CHANNELS_BUDGET 4000000L

void cmd_pubsub_channels(req *r)
{
    struct pubsub *ps = r->c->s->pubsub;
    const resp_arg *filter = r->argc > 2 ? &r->argv[2] : NULL;
    size_t max = (size_t)r->c->s->cfg.sidecar.max_reply;
    struct evbuffer *items;
    dict_entry *e = NULL;
    long n = 0, budget = CHANNELS_BUDGET;
    int m = 1;

    if (r->argc > 3) {
        reply_error(r, "ERR wrong number of arguments for 'pubsub|channels' command");
        req_done(r);
        return;
    }
    items = evbuffer_new();
    if (ps != NULL)
        e = dict_next(&ps->channels, NULL);
    for (; e != NULL && evbuffer_get_length(items) <= max; e = dict_next(&ps->channels, e)) {
        const topic *t = dict_item(e, topic, entry);
        if (filter != NULL)
            m = glob_match(filter->ptr, filter->len, t->name, t->len, false, &budget);
        if (m < 0)
            break;
        if (m == 0)
            continue;
        resp_add_bulk(items, t->name, t->len);
        n++;
    }
    if (m < 0) {
        reply_error(r, "ERR PUBSUB CHANNELS pattern too costly to match: use a simpler pattern");
    } else if (evbuffer_get_length(items) > max) {
        r->c->s->st.replies_over_max++;
        reply_errorf(r, "ERR reply over max_reply (%ld bytes): use a narrower pattern",
                     r->c->s->cfg.sidecar.max_reply);
    } else {
        resp_add_array(reply(r), n);
        evbuffer_add_buffer(reply(r), items);
    }
    evbuffer_free(items);
    req_done(r);
}

void cmd_pubsub_numsub(req *r)
{
    struct pubsub *ps = r->c->s->pubsub;

    resp_add_array(reply(r), (long)(r->argc - 2) * 2);
    for (int i = 2; i < r->argc; i++) {
        const resp_arg *a = &r->argv[i];
        dict_entry *e = ps != NULL ? dict_find(&ps->channels, a->ptr, a->len) : NULL;
        resp_add_bulk(reply(r), a->ptr, a->len);
        resp_add_int(reply(r), e != NULL ? dict_item(e, topic, entry)->subscribers : 0);
    }
    req_done(r);
}

void cmd_pubsub_numpat(req *r)
{
    struct pubsub *ps = r->c->s->pubsub;

    resp_add_int(reply(r), ps != NULL ? (long)ps->patterns.count : 0);
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

static void add_message(struct evbuffer *b, int proto, const topic *t, const char *json, size_t len)
{
    resp_add_push(b, proto, t->pattern ? 4 : 3);
    resp_add_bulk_str(b, t->pattern ? "pmessage" : "message");
    if (t->pattern)
        resp_add_bulk(b, t->name, t->len);
    resp_add_bulk(b, topology_channel, TOPOLOGY_LEN);
    resp_add_bulk(b, json, len);
}

/* One message per subscription that gets norikv:topology, as Redis sends a message for
 * the channel and a pmessage for each matching pattern; which ones do was decided when
 * they were made, so no pattern is matched here. */
static void on_topology(const kv_topology_event *ev, void *arg)
{
    struct pubsub *ps = arg;
    struct evbuffer *msg = evbuffer_new();
    struct pubsub_sub *sub, *next;
    const subscription *s;
    size_t len;
    char *json = pubsub_event_json(ev, &len);

    ps->delivering = true;
    for (sub = LIST_FIRST(&ps->subs); sub != NULL; sub = next) {
        next = LIST_NEXT(sub, link); /* sub goes if its client is closed */
        TAILQ_FOREACH(s, &sub->delivered, delivery)
        {
            add_message(msg, sub->c->proto, s->t, json, len);
        }
        if (evbuffer_get_length(msg) > 0)
            client_push(sub->c, msg);
    }
    ps->delivering = false;
    if (ps->nsubs == 0)
        pubsub_destroy(ps->s);
    evbuffer_free(msg);
    free(json);
}

/*
 * cmd_conn: commands the sidecar answers itself: the connection (PING, ECHO, QUIT, RESET,
 * HELLO, AUTH, SELECT, CLIENT), introspection (INFO, CONFIG GET/SET, TIME) and the NoriKV
 * views that need no call (NORI.SHARD, NORI.TOPOLOGY, NORI.STATS, NORI.CONSISTENCY).
 * Replies and errors use Redis' wording wherever Redis has one.
 */
#include "cmd_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "reply.h"
#include "info.h"
#include "log.h"
#include "monitor.h"
#include "pubsub.h"
#include "slowlog.h"
#include "xalloc.h"

static int proto_of(req *r)
{
    return r->c->proto;
}

void cmd_ping(req *r)
{
    if (pubsub_mode(r->c) && r->argc <= 2) {
        /* Redis' answer in subscribe mode, which a subscriber reads as a message */
        resp_add_array(reply(r), 2);
        resp_add_bulk_str(reply(r), "pong");
        resp_add_bulk(reply(r), r->argc == 2 ? r->argv[1].ptr : "",
                      r->argc == 2 ? r->argv[1].len : 0);
    } else if (r->argc == 1)
        resp_add_simple(reply(r), "PONG");
    else if (r->argc == 2)
        resp_add_bulk(reply(r), r->argv[1].ptr, r->argv[1].len);
    else
        reply_error(r, "ERR wrong number of arguments for 'ping' command");
    req_done(r);
}

void cmd_echo(req *r)
{
    resp_add_bulk(reply(r), r->argv[1].ptr, r->argv[1].len);
    req_done(r);
}

void cmd_quit(req *r)
{
    resp_add_simple(reply(r), "OK");
    monitor_stop(r->c); /* nothing more comes after this reply */
    client_drop_after(r);
    req_done(r);
}

/* Password check that takes the same time however much of it matches. */
static bool password_ok(const sidecar *s, const resp_arg *user, const resp_arg *pass)
{
    const char *want = s->cfg.sidecar.requirepass;
    size_t wlen = strlen(want);
    unsigned diff = (unsigned)(wlen ^ pass->len);

    if (user != NULL && strcmp(user->ptr, "default") != 0)
        return false;
    for (size_t i = 0; i < pass->len; i++)
        diff |= (unsigned char)pass->ptr[i] ^ (unsigned char)want[wlen ? i % wlen : 0];
    return diff == 0;
}

static const char wrongpass[] = "WRONGPASS invalid username-password pair or user is disabled.";

/* Wrong passwords are worth an operator's look (a misconfigured app, or guessing), once
 * per burst. */
static void log_wrongpass(req *r, const char *how)
{
    log_limited(&r->c->s->auth_log, LOG_WARNING, "client %s (id %llu): %s with a wrong password",
                r->c->addr, (unsigned long long)r->c->id, how);
}

void cmd_auth(req *r)
{
    sidecar *s = r->c->s;
    const resp_arg *user = r->argc == 3 ? &r->argv[1] : NULL;

    if (r->argc > 3) {
        reply_error(r, "ERR syntax error");
    } else if (s->cfg.sidecar.requirepass[0] == '\0') {
        reply_error(r, "ERR AUTH <password> called without any password configured for the "
                       "default user. Are you sure your configuration is correct?");
    } else if (!password_ok(s, user, &r->argv[r->argc - 1])) {
        log_wrongpass(r, "AUTH");
        reply_error(r, wrongpass);
    } else {
        r->c->authenticated = true;
        resp_add_simple(reply(r), "OK");
    }
    req_done(r);
}

/* Redis accepts names and library fields of printable characters without spaces. */
static bool printable_word(const resp_arg *a)
{
    for (size_t i = 0; i < a->len; i++)
        if (a->ptr[i] < '!' || a->ptr[i] > '~')
            return false;
    return true;
}

static void set_name(client *c, const resp_arg *a)
{
    client_set_name(c, a->ptr, a->len);
}

void cmd_hello(req *r)
{
    client *c = r->c;
    sidecar *s = c->s;
    long long ver = c->proto;
    const resp_arg *user = NULL, *pass = NULL, *name = NULL;
    struct evbuffer *b;

    if (r->argc >= 2) {
        if (!arg_ll(r, 1, &ver)) {
            reply_error(r, "ERR Protocol version is not an integer or out of range");
            req_done(r);
            return;
        }
        if (ver < 2 || ver > 3) {
            reply_error(r, "NOPROTO unsupported protocol version");
            req_done(r);
            return;
        }
    }
    for (int i = 2; i < r->argc; i++) {
        if (strcasecmp(r->argv[i].ptr, "AUTH") == 0 && i + 2 < r->argc) {
            user = &r->argv[i + 1];
            pass = &r->argv[i + 2];
            i += 2;
        } else if (strcasecmp(r->argv[i].ptr, "SETNAME") == 0 && i + 1 < r->argc) {
            name = &r->argv[++i];
        } else {
            reply_errorf(r, "ERR Syntax error in HELLO option '%.128s'", r->argv[i].ptr);
            req_done(r);
            return;
        }
    }
    if (pass != NULL) {
        if (s->cfg.sidecar.requirepass[0] == '\0' ? strcmp(user->ptr, "default") != 0
                                                  : !password_ok(s, user, pass)) {
            log_wrongpass(r, "HELLO AUTH");
            reply_error(r, wrongpass);
            req_done(r);
            return;
        }
        c->authenticated = true;
    }
    if (!c->authenticated && s->cfg.sidecar.requirepass[0] != '\0') {
        reply_error(r, "NOAUTH HELLO must be called with the client already authenticated, "
                       "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
                       "authenticate the client and select the RESP protocol version at the "
                       "same time");
        req_done(r);
        return;
    }
    if (name != NULL) {
        if (!printable_word(name)) {
            reply_error(r, "ERR Client names cannot contain spaces, newlines or special "
                           "characters.");
            req_done(r);
            return;
        }
        set_name(c, name);
    }
    c->proto = (int)ver;
    b = reply(r);
    resp_add_map(b, c->proto, 7);
    resp_add_bulk_str(b, "server");
    resp_add_bulk_str(b, "norikv-sidecar");
    resp_add_bulk_str(b, "version");
    resp_add_bulk_str(b, SIDECAR_REDIS_VERSION);
    resp_add_bulk_str(b, "proto");
    resp_add_int(b, c->proto);
    resp_add_bulk_str(b, "id");
    resp_add_int(b, (long long)c->id);
    resp_add_bulk_str(b, "mode");
    resp_add_bulk_str(b, "standalone");
    resp_add_bulk_str(b, "role");
    resp_add_bulk_str(b, "master");
    resp_add_bulk_str(b, "modules");
    resp_add_array(b, 0);
    req_done(r);
}

void cmd_reset(req *r)
{
    client *c = r->c;

    c->proto = 2;
    client_set_name(c, NULL, 0);
    c->consistency = KV_LEASE;
    c->authenticated = c->s->cfg.sidecar.requirepass[0] == '\0'; /* as a new connection */
    tx_reset(c);
    pubsub_client_reset(c);
    monitor_stop(c);
    c->reply_off = false; /* (a SKIP that silenced this very request still does, as in Redis) */
    c->reply_skip_next = false;
    resp_add_simple(reply(r), "RESET");
    req_done(r);
}

void cmd_select(req *r)
{
    long long db;

    if (!arg_ll(r, 1, &db))
        reply_error(r, ERR_NOT_INTEGER);
    else if (db != 0)
        reply_error(r, "ERR DB index is out of range");
    else
        resp_add_simple(reply(r), "OK");
    req_done(r);
}

static void reply_text(req *r, struct evbuffer *text)
{
    size_t len = evbuffer_get_length(text);

    resp_add_verbatim(reply(r), proto_of(r), "txt", evbuffer_pullup(text, (ssize_t)len), len);
}

/* CLIENT KILL's work, replying to r; the old form (an address, +OK) and filters (ID, ADDR,
 * SKIPME; a count). */
static void kill_clients(req *r)
{
    client *self = r->c;
    sidecar *s = self->s;
    unsigned long long id = 0;
    const char *addr = NULL;
    bool skipme = true, old = r->argc == 3;
    long long killed = 0;

    if (old) {
        addr = r->argv[2].ptr;
    } else {
        for (int i = 2; i < r->argc; i += 2) {
            const char *opt = r->argv[i].ptr;
            if (i + 1 >= r->argc) {
                reply_error(r, "ERR syntax error");
                return;
            }
            if (strcasecmp(opt, "ID") == 0) {
                long long v;
                if (!arg_ll(r, i + 1, &v) || v <= 0) {
                    reply_error(r, "ERR client-id should be greater than 0");
                    return;
                }
                id = (unsigned long long)v;
            } else if (strcasecmp(opt, "ADDR") == 0) {
                addr = r->argv[i + 1].ptr;
            } else if (strcasecmp(opt, "SKIPME") == 0) {
                skipme = strcasecmp(r->argv[i + 1].ptr, "no") != 0;
            } else {
                reply_error(r, "ERR syntax error");
                return;
            }
        }
    }
    for (client *c = LIST_FIRST(&s->clients), *next; c != NULL; c = next) {
        next = LIST_NEXT(c, link);
        if ((id && c->id != id) || (addr && strcmp(c->addr, addr) != 0))
            continue;
        if (c == self) {
            if (skipme && !old)
                continue;
            client_drop_after(r); /* this reply is its last: nothing after it runs */
        } else {
            client_close(c);
        }
        killed++;
    }
    if (old) {
        if (killed == 0)
            reply_error(r, "ERR No such client");
        else
            resp_add_simple(reply(r), "OK");
    } else {
        resp_add_int(reply(r), killed);
    }
}

void cmd_client_kill(req *r)
{
    kill_clients(r);
    req_done(r);
}

void cmd_client_id(req *r)
{
    resp_add_int(reply(r), (long long)r->c->id);
    req_done(r);
}

void cmd_client_getname(req *r)
{
    client *c = r->c;

    if (c->name != NULL)
        resp_add_bulk_str(reply(r), c->name);
    else
        resp_add_null(reply(r), c->proto);
    req_done(r);
}

void cmd_client_setname(req *r)
{
    if (!printable_word(&r->argv[2])) {
        reply_error(r, "ERR Client names cannot contain spaces, newlines or special "
                       "characters.");
    } else {
        set_name(r->c, &r->argv[2]);
        resp_add_simple(reply(r), "OK");
    }
    req_done(r);
}

void cmd_client_setinfo(req *r)
{
    client *c = r->c;
    const char *attr = r->argv[2].ptr;
    char *dst = strcasecmp(attr, "LIB-NAME") == 0  ? c->lib_name
                : strcasecmp(attr, "LIB-VER") == 0 ? c->lib_ver
                                                   : NULL;

    if (dst == NULL) {
        reply_errorf(r, "ERR Unrecognized option '%.128s'", attr);
    } else if (!printable_word(&r->argv[3])) {
        reply_errorf(r, "ERR %s cannot contain spaces, newlines or special characters.", attr);
    } else {
        snprintf(dst, sizeof(c->lib_name), "%s", r->argv[3].ptr);
        resp_add_simple(reply(r), "OK");
    }
    req_done(r);
}

void cmd_client_info(req *r)
{
    struct evbuffer *text = evbuffer_new();

    client_describe(r->c, text);
    reply_text(r, text);
    evbuffer_free(text);
    req_done(r);
}

void cmd_client_list(req *r)
{
    struct evbuffer *text = evbuffer_new();
    const client *o;

    LIST_FOREACH(o, &r->c->s->clients, link)
    {
        client_describe(o, text);
        if (evbuffer_get_length(text) > (size_t)r->c->s->cfg.sidecar.max_reply)
            break;
    }
    if (evbuffer_get_length(text) > (size_t)r->c->s->cfg.sidecar.max_reply)
        reply_over_max(r, "too many clients, or names too long, to list");
    else
        reply_text(r, text);
    evbuffer_free(text);
    req_done(r);
}

/* CLIENT REPLY ON|OFF|SKIP: replies are dropped where they are committed to the output,
 * in request order (client.c, advance). OFF and SKIP answer nothing themselves. */
void cmd_client_reply(req *r)
{
    client *c = r->c;
    const char *mode = r->argv[2].ptr;

    if (strcasecmp(mode, "ON") == 0) {
        c->reply_off = false;
        r->skip_reply = false; /* ON answers even as the request a SKIP silenced, as Redis */
        resp_add_simple(reply(r), "OK");
    } else if (strcasecmp(mode, "OFF") == 0) {
        c->reply_off = true;
    } else if (strcasecmp(mode, "SKIP") == 0) {
        if (!c->reply_off)
            client_skip_next_reply(r);
    } else {
        reply_error(r, "ERR syntax error");
    }
    req_done(r);
}

void cmd_client_help(req *r)
{
    static const char *const help[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are: ID <client-id>, ADDR <ip:port>, SKIPME (YES|NO).",
        "LIST",
        "    Return information about client connections.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr: LIB-NAME, LIB-VER.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "HELP",
        "    Print this help.",
        NULL};

    reply_help(r, help);
    req_done(r);
}

void cmd_info(req *r)
{
    struct evbuffer *text = evbuffer_new();

    if (r->argc == 1) {
        info_render(r->c->s, "default", text);
    } else {
        const char **asked = xcalloc((size_t)r->argc, sizeof(*asked));
        for (int i = 1; i < r->argc; i++)
            asked[i - 1] = r->argv[i].ptr;
        info_render_sections(r->c->s, asked, (size_t)r->argc - 1, text);
        free(asked);
    }
    reply_text(r, text);
    evbuffer_free(text);
    req_done(r);
}

/* Names clients such as redis-benchmark ask for, with what holds for the sidecar. */
static const char *const compat[][2] = {
    {"save", ""},
    {"appendonly", "no"},
    {"databases", "1"},
};

/* Redis' names for the keys CONFIG SET may change: CONFIG GET shows them too. A change
 * lasts until a reload reads the file again, as Redis' lasts until a restart. */
static const char *const settable[][2] = {
    {"slowlog-log-slower-than", "sidecar.slowlog_log_slower_than"},
    {"slowlog-max-len", "sidecar.slowlog_max_len"},
    {"latency-monitor-threshold", "sidecar.latency_monitor_threshold"},
};
#define NSETTABLE (sizeof(settable) / sizeof(settable[0]))

/* The index of the conf key named name (NULL: none). */
static size_t conf_index(const char *name)
{
    for (size_t i = 0; i < conf_count(); i++)
        if (strcmp(conf_name(i), name) == 0)
            return i;
    return conf_count();
}

/* Glob steps one CONFIG GET may spend over all its patterns and names: a millisecond or
 * two, far more than any real use, and the bound on what a request of many long
 * patterns ('*[' and a megabyte) can make the loop do. */
#define CONFIG_GET_BUDGET 1000000L

/* Whether a pattern of r matches name: 1, 0, or -1 when the budget ran out. */
static int config_match(const req *r, const char *name, long *budget)
{
    for (int p = 2; p < r->argc; p++) {
        int m = conf_glob_bounded(r->argv[p].ptr, name, budget);
        if (m != 0)
            return m;
    }
    return 0;
}

void cmd_config_get(req *r)
{
    sidecar *s = r->c->s;
    struct evbuffer *tmp = evbuffer_new();
    char value[1024];
    long n = 0, budget = CONFIG_GET_BUDGET;
    int m = 0;
    size_t ncompat = sizeof(compat) / sizeof(compat[0]), nconf = conf_count();

    for (size_t i = 0; i < nconf + ncompat + NSETTABLE && m >= 0; i++) {
        const char *name = i < nconf             ? conf_name(i)
                           : i < nconf + ncompat ? compat[i - nconf][0]
                                                 : settable[i - nconf - ncompat][0];
        m = config_match(r, name, &budget);
        if (m <= 0)
            continue;
        if (i < nconf)
            conf_value(&s->cfg, i, value, sizeof(value));
        else if (i < nconf + ncompat)
            snprintf(value, sizeof(value), "%s", compat[i - nconf][1]);
        else
            conf_value(&s->cfg, conf_index(settable[i - nconf - ncompat][1]), value, sizeof(value));
        resp_add_bulk_str(tmp, name);
        resp_add_bulk_str(tmp, value);
        n++;
    }
    if (m < 0) {
        reply_error(r, "ERR CONFIG GET patterns too costly to match: use fewer or simpler "
                       "patterns");
    } else {
        resp_add_map(reply(r), proto_of(r), n);
        evbuffer_add_buffer(reply(r), tmp);
    }
    evbuffer_free(tmp);
    req_done(r);
}

/* CONFIG SET name value [name value ...]: all or nothing, as Redis 7 does. */
void cmd_config_set(req *r)
{
    sidecar *s = r->c->s;
    const char *key[NSETTABLE];
    int n = 0;
    conf trial;
    char err[256];

    if (r->argc % 2 != 0) {
        reply_error(r, "ERR wrong number of arguments for 'config|set' command");
        req_done(r);
        return;
    }
    for (int i = 2; i < r->argc; i += 2) {
        const char *found = NULL;
        for (size_t k = 0; k < NSETTABLE; k++)
            if (strcasecmp(r->argv[i].ptr, settable[k][0]) == 0)
                found = settable[k][1];
        for (int k = 0; found != NULL && k < n; k++)
            if (key[k] == found) {
                reply_errorf(r,
                             "ERR CONFIG SET failed (possibly related to argument '%.128s') "
                             "- duplicate parameter",
                             r->argv[i].ptr);
                req_done(r);
                return;
            }
        if (found == NULL) {
            reply_errorf(r,
                         "ERR Unknown option or number of arguments for CONFIG SET - '%.128s' "
                         "(the sidecar sets only slowlog-log-slower-than, slowlog-max-len and "
                         "latency-monitor-threshold; the rest comes from its file)",
                         r->argv[i].ptr);
            req_done(r);
            return;
        }
        key[n++] = found;
    }
    /* checked on a copy of the three keys first, so that a bad value changes nothing */
    trial = s->cfg;
    for (int i = 0; i < n; i++) {
        if (conf_set(&trial, key[i], r->argv[2 + 2 * i + 1].ptr, err, sizeof(err)) != 0) {
            reply_errorf(r, "ERR CONFIG SET failed (possibly related to argument '%.128s') - %s",
                         r->argv[2 + 2 * i].ptr, err);
            req_done(r);
            return;
        }
    }
    for (int i = 0; i < n; i++)
        conf_set(&s->cfg, key[i], r->argv[2 + 2 * i + 1].ptr, err, sizeof(err));
    slowlog_trim(s);
    log_notice("CONFIG SET by client %llu (%s): %d parameter%s changed until the next reload",
               (unsigned long long)r->c->id, r->c->addr, n, n == 1 ? "" : "s");
    resp_add_simple(reply(r), "OK");
    req_done(r);
}

void cmd_config_help(req *r)
{
    static const char *const help[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern> [<pattern> ...]",
        "    Return the values of the parameters matching the patterns (the sidecar's own "
        "names, section.key, and Redis' names of the keys CONFIG SET changes).",
        "SET <directive> <value> [<directive> <value> ...]",
        "    Set slowlog-log-slower-than, slowlog-max-len or latency-monitor-threshold until "
        "the next reload; the other parameters come from the sidecar's file.",
        "HELP",
        "    Print this help.",
        NULL};

    reply_help(r, help);
    req_done(r);
}

void cmd_time(req *r)
{
    int64_t now = clock_unix_us();

    resp_add_array(reply(r), 2);
    resp_add_bulkf(reply(r), "%lld", (long long)(now / 1000000));
    resp_add_bulkf(reply(r), "%lld", (long long)(now % 1000000));
    req_done(r);
}

void cmd_nori_consistency(req *r)
{
    kv_consistency level;

    if (r->argc == 1) {
        resp_add_bulk_str(reply(r), kv_consistency_name(r->c->consistency));
    } else if (r->argc > 2) {
        reply_error(r, "ERR wrong number of arguments for 'nori.consistency' command");
    } else if (!kv_consistency_parse(r->argv[1].ptr, &level)) {
        reply_errorf(r,
                     "ERR unknown consistency level '%.64s': expected lease, linearizable or "
                     "stale_ok",
                     r->argv[1].ptr);
    } else {
        r->c->consistency = level;
        resp_add_simple(reply(r), "OK");
    }
    req_done(r);
}

void cmd_nori_shard(req *r)
{
    kv_client *kv = r->c->s->kv;
    uint32_t shard = kv_shard(kv, r->argv[1].ptr, r->argv[1].len);
    const char *leader = kv_shard_leader(kv, shard);

    resp_add_array(reply(r), 2);
    resp_add_int(reply(r), shard);
    if (leader != NULL)
        resp_add_bulk_str(reply(r), leader);
    else
        resp_add_null(reply(r), proto_of(r));
    req_done(r);
}

void cmd_nori_topology(req *r)
{
    kv_client *kv = r->c->s->kv;
    struct evbuffer *b = reply(r);
    int proto = proto_of(r);
    kv_stats st;
    size_t n;
    const kv_view_node *nodes = kv_view_nodes(kv, &n);

    kv_get_stats(kv, &st);
    resp_add_map(b, proto, 4);
    resp_add_bulk_str(b, "epoch");
    if (st.has_view)
        resp_add_int(b, (long long)st.topology_current_epoch);
    else
        resp_add_null(b, proto);
    resp_add_bulk_str(b, "total_shards");
    resp_add_int(b, (long long)st.router_total_shards);
    resp_add_bulk_str(b, "nodes");
    resp_add_array(b, (long)n);
    for (size_t i = 0; i < n; i++) {
        resp_add_map(b, proto, 3);
        resp_add_bulk_str(b, "id");
        resp_add_bulk_str(b, nodes[i].id);
        resp_add_bulk_str(b, "addr");
        resp_add_bulk_str(b, nodes[i].addr);
        resp_add_bulk_str(b, "role");
        resp_add_bulk_str(b, nodes[i].role);
    }
    resp_add_bulk_str(b, "shards");
    resp_add_array(b, (long)st.router_total_shards);
    for (uint32_t s = 0; s < st.router_total_shards; s++) {
        const char *leader = kv_shard_leader(kv, s);
        resp_add_array(b, 2);
        resp_add_int(b, s);
        if (leader != NULL)
            resp_add_bulk_str(b, leader);
        else
            resp_add_null(b, proto);
    }
    req_done(r);
}

void cmd_nori_stats(req *r)
{
    info_nori_stats(r->c->s, proto_of(r), reply(r));
    req_done(r);
}

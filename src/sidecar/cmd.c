/*
 * cmd: the command table and everything generated from it: lookup and dispatch checks,
 * COMMAND and its subcommands, and the README's table (norikv-sidecar --commands). The
 * table is the only list of commands; adding one here is all it takes to serve it.
 */
#include "cmd.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* clang-format off */
#define END {NULL, NULL, NULL, 0, NULL}
/* clang-format on */
#define OPT   CMD_ARG_OPTIONAL
#define MULTI CMD_ARG_MULTIPLE

/* ---- arguments, for COMMAND DOCS and the README -------------------------------------- */

static const cmd_arg a_none[] = {END};
static const cmd_arg a_key[] = {{"key", "key", NULL, 0, NULL}, END};
static const cmd_arg a_keys[] = {{"key", "key", NULL, MULTI, NULL}, END};
static const cmd_arg a_message_opt[] = {{"message", "string", NULL, OPT, NULL}, END};
static const cmd_arg a_message[] = {{"message", "string", NULL, 0, NULL}, END};
static const cmd_arg a_index[] = {{"index", "integer", NULL, 0, NULL}, END};
static const cmd_arg a_auth[] = {
    {"username", "string", NULL, OPT, NULL}, {"password", "string", NULL, 0, NULL}, END};
static const cmd_arg a_hello_auth[] = {
    {"username", "string", NULL, 0, NULL}, {"password", "string", NULL, 0, NULL}, END};
static const cmd_arg a_hello_opts[] = {{"protover", "integer", NULL, 0, NULL},
                                       {"auth", "block", "AUTH", OPT, a_hello_auth},
                                       {"clientname", "string", "SETNAME", OPT, NULL},
                                       END};
static const cmd_arg a_hello[] = {{"arguments", "block", NULL, OPT, a_hello_opts}, END};
static const cmd_arg a_section[] = {{"section", "string", NULL, OPT | MULTI, NULL}, END};
static const cmd_arg a_expire[] = {{"seconds", "integer", "EX", 0, NULL},
                                   {"milliseconds", "integer", "PX", 0, NULL},
                                   {"unix-time-seconds", "unix-time", "EXAT", 0, NULL},
                                   {"unix-time-milliseconds", "unix-time", "PXAT", 0, NULL},
                                   END};
static const cmd_arg a_set[] = {{"key", "key", NULL, 0, NULL},
                                {"value", "string", NULL, 0, NULL},
                                {"expiration", "oneof", NULL, OPT, a_expire},
                                END};
static const cmd_arg a_setex[] = {{"key", "key", NULL, 0, NULL},
                                  {"seconds", "integer", NULL, 0, NULL},
                                  {"value", "string", NULL, 0, NULL},
                                  END};
static const cmd_arg a_psetex[] = {{"key", "key", NULL, 0, NULL},
                                   {"milliseconds", "integer", NULL, 0, NULL},
                                   {"value", "string", NULL, 0, NULL},
                                   END};
static const cmd_arg a_kv_pair[] = {
    {"key", "key", NULL, 0, NULL}, {"value", "string", NULL, 0, NULL}, END};
static const cmd_arg a_mset[] = {{"data", "block", NULL, MULTI, a_kv_pair}, END};
static const cmd_arg a_version[] = {
    {"term", "integer", NULL, 0, NULL}, {"index", "integer", NULL, 0, NULL}, END};
static const cmd_arg a_nori_put[] = {{"key", "key", NULL, 0, NULL},
                                     {"value", "string", NULL, 0, NULL},
                                     {"ttl-ms", "integer", "TTL", OPT, NULL},
                                     {"idempotency-key", "string", "IDEMPOTENCY", OPT, NULL},
                                     {"version", "block", "IFMATCH", OPT, a_version},
                                     END};
static const cmd_arg a_level[] = {{"lease", "pure-token", "LEASE", 0, NULL},
                                  {"linearizable", "pure-token", "LINEARIZABLE", 0, NULL},
                                  {"stale_ok", "pure-token", "STALE_OK", 0, NULL},
                                  END};
static const cmd_arg a_nori_get[] = {
    {"key", "key", NULL, 0, NULL}, {"level", "oneof", "CONSISTENCY", OPT, a_level}, END};
static const cmd_arg a_nori_del[] = {{"key", "key", NULL, 0, NULL},
                                     {"idempotency-key", "string", "IDEMPOTENCY", OPT, NULL},
                                     {"version", "block", "IFMATCH", OPT, a_version},
                                     END};
static const cmd_arg a_nori_consistency[] = {{"level", "oneof", NULL, OPT, a_level}, END};
static const cmd_arg a_name[] = {{"connection-name", "string", NULL, 0, NULL}, END};
static const cmd_arg a_setinfo_attr[] = {
    {"libname", "string", "LIB-NAME", 0, NULL}, {"libver", "string", "LIB-VER", 0, NULL}, END};
static const cmd_arg a_setinfo[] = {{"attr", "oneof", NULL, 0, a_setinfo_attr}, END};
static const cmd_arg a_kill_filter[] = {{"ip:port", "string", NULL, 0, NULL},
                                        {"client-id", "integer", "ID", 0, NULL},
                                        {"ip:port", "string", "ADDR", 0, NULL},
                                        END};
static const cmd_arg a_kill[] = {{"filter", "oneof", NULL, 0, a_kill_filter}, END};
static const cmd_arg a_command_names[] = {{"command-name", "string", NULL, OPT | MULTI, NULL}, END};
static const cmd_arg a_pattern[] = {{"parameter", "string", NULL, MULTI, NULL}, END};
static const cmd_arg a_scan[] = {{"cursor", "integer", NULL, 0, NULL}, END};
static const cmd_arg a_pattern_one[] = {{"pattern", "pattern", NULL, 0, NULL}, END};

/* ---- the table ---------------------------------------------------------------------- */

#define LOCAL_FAST (CMD_LOCAL | CMD_FAST)
#define C(name, arity, flags, fk, lk, step, proc, group, since, cx, summary, args)                 \
    {                                                                                              \
        name, arity, flags, fk, lk, step, proc, group, since, cx, summary, args, NULL, NULL        \
    }

static const cmd_def client_subs[] = {
    C("CLIENT|ID", 2, LOCAL_FAST, 0, 0, 0, cmd_client_id, "connection", "5.0.0", "O(1)",
      "Returns the unique client ID of the connection.", a_none),
    C("CLIENT|GETNAME", 2, LOCAL_FAST, 0, 0, 0, cmd_client_getname, "connection", "2.6.9", "O(1)",
      "Returns the name of the connection.", a_none),
    C("CLIENT|SETNAME", 3, CMD_STATE | CMD_FAST, 0, 0, 0, cmd_client_setname, "connection", "2.6.9",
      "O(1)", "Sets the connection name.", a_name),
    C("CLIENT|SETINFO", 4, CMD_STATE | CMD_FAST, 0, 0, 0, cmd_client_setinfo, "connection", "7.2.0",
      "O(1)", "Sets information specific to the client or connection.", a_setinfo),
    C("CLIENT|INFO", 2, LOCAL_FAST, 0, 0, 0, cmd_client_info, "connection", "6.2.0", "O(1)",
      "Returns information about the connection.", a_none),
    C("CLIENT|LIST", -2, CMD_LOCAL, 0, 0, 0, cmd_client_list, "connection", "2.4.0",
      "O(N) where N is the number of client connections", "Lists open connections.", a_none),
    C("CLIENT|KILL", -3, CMD_STATE, 0, 0, 0, cmd_client_kill, "connection", "2.4.0",
      "O(N) where N is the number of client connections", "Terminates open connections.", a_kill),
    C("CLIENT|HELP", 2, LOCAL_FAST, 0, 0, 0, cmd_client_help, "connection", "5.0.0", "O(1)",
      "Returns helpful text about the different subcommands.", a_none),
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const cmd_def command_subs[] = {
    C("COMMAND|COUNT", 2, LOCAL_FAST, 0, 0, 0, cmd_command_count, "server", "2.8.13", "O(1)",
      "Returns a count of commands.", a_none),
    C("COMMAND|INFO", -2, CMD_LOCAL, 0, 0, 0, cmd_command_info, "server", "2.8.13",
      "O(N) where N is the number of commands to look up",
      "Returns information about one, multiple or all commands.", a_command_names),
    C("COMMAND|DOCS", -2, CMD_LOCAL, 0, 0, 0, cmd_command_docs, "server", "7.0.0",
      "O(N) where N is the number of commands to look up",
      "Returns documentary information about one, multiple or all commands.", a_command_names),
    C("COMMAND|LIST", -2, CMD_LOCAL, 0, 0, 0, cmd_command_list, "server", "7.0.0",
      "O(N) where N is the total number of commands", "Returns a list of command names.", a_none),
    C("COMMAND|HELP", 2, LOCAL_FAST, 0, 0, 0, cmd_command_help, "server", "5.0.0", "O(1)",
      "Returns helpful text about the different subcommands.", a_none),
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static const cmd_def config_subs[] = {
    C("CONFIG|GET", -3, CMD_LOCAL, 0, 0, 0, cmd_config_get, "server", "2.0.0",
      "O(N) when N is the number of configuration parameters provided",
      "Returns the effective values of configuration parameters (read-only view).", a_pattern),
    C("CONFIG|HELP", 2, LOCAL_FAST, 0, 0, 0, cmd_config_help, "server", "5.0.0", "O(1)",
      "Returns helpful text about the different subcommands.", a_none),
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

#define R(name, arity, reason, args)                                                               \
    {                                                                                              \
        name, arity, CMD_REFUSED | CMD_LOCAL, 0, 0, 0, cmd_refuse, "generic", "-", "-",            \
            "Not available: " reason, args, NULL, "ERR " name " is not supported: " reason         \
    }

static const cmd_def table[] = {
    /* connection and introspection, answered by the sidecar */
    C("PING", -1, LOCAL_FAST, 0, 0, 0, cmd_ping, "connection", "1.0.0", "O(1)",
      "Returns the server's liveliness response.", a_message_opt),
    C("ECHO", 2, LOCAL_FAST, 0, 0, 0, cmd_echo, "connection", "1.0.0", "O(1)",
      "Returns the given string.", a_message),
    C("QUIT", -1, CMD_STATE | CMD_NOAUTH | CMD_LOADING | CMD_TX, 0, 0, 0, cmd_quit, "connection",
      "1.0.0", "O(1)", "Closes the connection once every earlier reply is sent.", a_none),
    C("RESET", 1, CMD_STATE | CMD_NOAUTH | CMD_LOADING | CMD_TX, 0, 0, 0, cmd_reset, "connection",
      "6.2.0", "O(1)", "Resets the connection: protocol 2, no name, not authenticated.", a_none),
    C("HELLO", -1, CMD_STATE | CMD_NOAUTH | CMD_FAST | CMD_LOADING, 0, 0, 0, cmd_hello,
      "connection", "6.0.0", "O(1)", "Handshakes: protocol version, authentication, name.",
      a_hello),
    C("AUTH", -2, CMD_STATE | CMD_NOAUTH | CMD_FAST | CMD_LOADING, 0, 0, 0, cmd_auth, "connection",
      "1.0.0", "O(N) where N is the number of passwords defined for the user",
      "Authenticates the connection.", a_auth),
    C("SELECT", 2, CMD_STATE | CMD_FAST | CMD_LOADING, 0, 0, 0, cmd_select, "connection", "1.0.0",
      "O(1)", "Selects the database: NoriKV has one, 0.", a_index),
    {"CLIENT", -2, CMD_LOCAL, 0, 0, 0, cmd_container, "connection", "2.4.0",
     "Depends on subcommand.", "A container for client connection commands.", a_none, client_subs,
     NULL},
    /* with no subcommand, COMMAND is a command of its own */
    {"COMMAND", -1, CMD_LOCAL | CMD_LOADING, 0, 0, 0, cmd_command, "server", "2.8.13",
     "O(N) where N is the total number of commands",
     "Returns detailed information about all commands.", a_none, command_subs, NULL},
    {"CONFIG", -2, CMD_LOCAL, 0, 0, 0, cmd_container, "server", "2.0.0", "Depends on subcommand.",
     "A container for server configuration commands.", a_none, config_subs, NULL},
    C("INFO", -1, CMD_LOCAL | CMD_LOADING, 0, 0, 0, cmd_info, "server", "1.0.0", "O(1)",
      "Returns information and statistics about the sidecar and the cluster.", a_section),
    C("TIME", 1, LOCAL_FAST | CMD_LOADING, 0, 0, 0, cmd_time, "server", "2.6.0", "O(1)",
      "Returns the sidecar's time.", a_none),

    /* Redis data commands on NoriKV */
    C("GET", 2, CMD_READ | CMD_FAST, 1, 1, 1, cmd_get, "string", "1.0.0", "O(1)",
      "Returns the value of a key, or nil.", a_key),
    C("SET", -3, CMD_WRITE, 1, 1, 1, cmd_set, "string", "1.0.0", "O(1)",
      "Sets the value of a key, with an optional time to live. NX is refused: NoriKV has no "
      "put-if-absent.",
      a_set),
    C("SETEX", 4, CMD_WRITE, 1, 1, 1, cmd_setex, "string", "2.0.0", "O(1)",
      "Sets the value of a key that expires after a number of seconds.", a_setex),
    C("PSETEX", 4, CMD_WRITE, 1, 1, 1, cmd_psetex, "string", "2.6.0", "O(1)",
      "Sets the value of a key that expires after a number of milliseconds.", a_psetex),
    C("DEL", -2, CMD_WRITE, 1, -1, 1, cmd_del, "generic", "1.0.0",
      "O(N) where N is the number of keys",
      "Deletes keys; returns how many existed. Per key, not atomic across keys; the count "
      "comes from a read just before each delete.",
      a_keys),
    C("UNLINK", -2, CMD_WRITE, 1, -1, 1, cmd_del, "generic", "4.0.0",
      "O(N) where N is the number of keys", "Deletes keys, as DEL.", a_keys),
    C("EXISTS", -2, CMD_READ | CMD_FAST, 1, -1, 1, cmd_exists, "generic", "3.0.3",
      "O(N) where N is the number of keys", "Counts the keys that exist.", a_keys),
    C("MGET", -2, CMD_READ | CMD_FAST, 1, -1, 1, cmd_mget, "string", "1.0.0",
      "O(N) where N is the number of keys",
      "Returns the values of keys, read concurrently from their shards.", a_keys),
    C("MSET", -3, CMD_WRITE, 1, -1, 2, cmd_mset, "string", "1.0.1",
      "O(N) where N is the number of keys",
      "Sets several keys. Per key and concurrent, not atomic across keys: on an error some "
      "keys may be set.",
      a_mset),

    /* NoriKV-native commands */
    C("NORI.PUT", -3, CMD_WRITE, 1, 1, 1, cmd_nori_put, "norikv", "0.1.0", "O(1)",
      "Writes a key with NoriKV's options; returns the new version [term, index].", a_nori_put),
    C("NORI.GET", -2, CMD_READ | CMD_FAST, 1, 1, 1, cmd_nori_get, "norikv", "0.1.0", "O(1)",
      "Reads a key at a consistency level; returns [value, term, index] or nil.", a_nori_get),
    C("NORI.DEL", -2, CMD_WRITE, 1, 1, 1, cmd_nori_del, "norikv", "0.1.0", "O(1)",
      "Deletes a key; returns 1 if NoriKV wrote a tombstone (today's server always does and "
      "ignores IFMATCH on deletes).",
      a_nori_del),
    C("NORI.SHARD", 2, LOCAL_FAST, 1, 1, 1, cmd_nori_shard, "norikv", "0.1.0", "O(1)",
      "Returns a key's shard and the address of the node that leads it (nil if unknown).", a_key),
    C("NORI.TOPOLOGY", 1, CMD_LOCAL, 0, 0, 0, cmd_nori_topology, "norikv", "0.1.0",
      "O(N) where N is the number of shards",
      "Returns the cluster view: epoch, nodes, and each shard's leader.", a_none),
    C("NORI.STATS", 1, CMD_LOCAL, 0, 0, 0, cmd_nori_stats, "norikv", "0.1.0", "O(1)",
      "Returns the cluster client's pool, router, topology and retry statistics.", a_none),
    C("NORI.CONSISTENCY", -1, CMD_STATE | CMD_FAST, 0, 0, 0, cmd_nori_consistency, "norikv",
      "0.1.0", "O(1)",
      "Sets or returns the connection's default read consistency (lease, linearizable, "
      "stale_ok).",
      a_nori_consistency),

    /* what NoriKV cannot do faithfully is refused, with the reason */
    R("SETNX", 3, "NoriKV has no atomic put-if-absent", a_kv_pair),
    R("KEYS", 2, "NoriKV cannot enumerate keys", a_pattern_one),
    R("SCAN", -2, "NoriKV cannot enumerate keys", a_scan),
    R("DBSIZE", 1, "NoriKV cannot count keys", a_none),
    R("FLUSHDB", -1, "NoriKV has no way to drop every key", a_none),
    R("FLUSHALL", -1, "NoriKV has no way to drop every key", a_none),
    R("TTL", 2, "NoriKV does not expose a key's remaining time to live", a_key),
    R("PTTL", 2, "NoriKV does not expose a key's remaining time to live", a_key),
    C("MULTI", 1, CMD_STATE | CMD_FAST | CMD_TX, 0, 0, 0, cmd_multi, "transactions", "1.2.0",
      "O(1)",
      "Not available: NoriKV has no transactions across keys. Refused; what follows is not "
      "run until EXEC or DISCARD.",
      a_none),
    C("EXEC", 1, CMD_STATE | CMD_TX, 0, 0, 0, cmd_exec, "transactions", "1.2.0", "O(1)",
      "Ends a refused MULTI with EXECABORT: nothing queued ran.", a_none),
    C("DISCARD", 1, CMD_STATE | CMD_FAST | CMD_TX, 0, 0, 0, cmd_discard, "transactions", "2.0.0",
      "O(1)", "Ends a refused MULTI.", a_none),
    R("WATCH", -2, "NoriKV has no transactions across keys", a_keys),
};

#define NCMDS (sizeof(table) / sizeof(table[0]))

size_t cmd_count(void)
{
    return NCMDS;
}

const cmd_def *cmd_at(size_t i)
{
    return i < NCMDS ? &table[i] : NULL;
}

static const cmd_def *find_sub(const cmd_def *parent, const char *name)
{
    size_t plen = strlen(parent->name);

    for (const cmd_def *s = parent->subs; s != NULL && s->name != NULL; s++)
        if (strcasecmp(s->name + plen + 1, name) == 0)
            return s;
    return NULL;
}

const cmd_def *cmd_find(const resp_arg *argv, int argc, int *index)
{
    *index = -1;
    if (argc < 1)
        return NULL;
    for (size_t i = 0; i < NCMDS; i++) {
        if (strcasecmp(table[i].name, argv[0].ptr) != 0)
            continue;
        *index = (int)i;
        if (table[i].subs != NULL && argc >= 2) {
            const cmd_def *sub = find_sub(&table[i], argv[1].ptr);
            if (sub != NULL)
                return sub;
        }
        return &table[i];
    }
    return NULL;
}

static void lower(char *dst, const char *src, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len && src[i]; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

static void reply_wrong_arity(req *r)
{
    char name[64];

    lower(name, r->cmd->name, sizeof(name));
    reply_errorf(r, "ERR wrong number of arguments for '%s' command", name);
}

/* The error for a container named without a known subcommand. */
static void reply_no_subcommand(req *r)
{
    if (r->argc < 2) {
        reply_wrong_arity(r);
    } else {
        reply_errorf(r, "ERR unknown subcommand '%.128s'. Try %s HELP.", r->argv[1].ptr,
                     r->cmd->name);
    }
}

bool cmd_check(req *r)
{
    const cmd_def *d = r->cmd;
    client *c = r->c;

    if (d == NULL) {
        char args[256] = "";
        size_t off = 0;
        for (int i = 1; i < r->argc && off < 128; i++)
            off += (size_t)snprintf(args + off, sizeof(args) - off, "'%.*s' ",
                                    (int)(r->argv[i].len > 128 ? 128 : r->argv[i].len),
                                    r->argv[i].ptr);
        reply_errorf(r, "ERR unknown command '%.128s', with args beginning with: %s",
                     r->argc > 0 ? r->argv[0].ptr : "", args);
        return false;
    }
    if (!c->authenticated && c->s->cfg.sidecar.requirepass[0] != '\0' && !(d->flags & CMD_NOAUTH)) {
        reply_error(r, "NOAUTH Authentication required.");
        return false;
    }
    /* a container named without a known subcommand (COMMAND alone is a command) */
    if (d->subs != NULL && (r->argc >= 2 || d->proc == cmd_container)) {
        reply_no_subcommand(r);
        return false;
    }
    if ((d->arity > 0 && r->argc != d->arity) || (d->arity < 0 && r->argc < -d->arity)) {
        reply_wrong_arity(r);
        return false;
    }
    if (c->s->draining && !(d->flags & CMD_LOADING) && !(d->flags & CMD_LOCAL)) {
        reply_error(r, "UNAVAILABLE the sidecar is shutting down");
        return false;
    }
    return true;
}

/* ---- reply helpers ------------------------------------------------------------------ */

struct evbuffer *reply(req *r)
{
    if (r->reply == NULL)
        r->reply = evbuffer_new();
    return r->reply;
}

void reply_error(req *r, const char *text)
{
    r->failed = true;
    resp_add_error(reply(r), text);
}

void reply_errorf(req *r, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    reply_error(r, text);
}

/* "Version mismatch: expected term=T index=I, got term=T2 index=I2" -> "T2:I2" */
static bool current_version(const char *msg, char *out, size_t len)
{
    unsigned long long t, i;
    const char *got = strstr(msg, "got term=");

    if (got == NULL || sscanf(got, "got term=%llu index=%llu", &t, &i) != 2)
        return false;
    snprintf(out, len, "%llu:%llu", t, i);
    return true;
}

void reply_kv_error(req *r, const kv_result *res, const kv_version *expected)
{
    char cur[64], exp[64] = "?";

    if (expected != NULL)
        snprintf(exp, sizeof(exp), "%llu:%llu", (unsigned long long)expected->term,
                 (unsigned long long)expected->index);
    switch (res->err) {
    case KV_ERR_VERSION_MISMATCH:
        if (current_version(res->message, cur, sizeof(cur)))
            reply_errorf(r, "VERSIONMISMATCH expected %s, current %s", exp, cur);
        else
            reply_errorf(r, "VERSIONMISMATCH expected %s: %s", exp, res->message);
        break;
    case KV_ERR_KEY_MISSING:
        reply_errorf(r, "VERSIONMISMATCH expected %s, key does not exist", exp);
        break;
    case KV_ERR_INVALID:
    case KV_ERR_TOO_LARGE:
        reply_errorf(r, "ERR invalid argument: %s", res->message);
        break;
    case KV_ERR_TIMEOUT:
        reply_errorf(r, "TIMEOUT %s", res->message);
        break;
    case KV_ERR_NOT_SUPPORTED:
        reply_errorf(r, "NOTSUPPORTED the cluster does not serve this: %s", res->message);
        break;
    case KV_ERR_NOT_FOUND:
        reply_errorf(r, "ERR not found: %s", res->message);
        break;
    case KV_ERR_UNAVAILABLE:
    case KV_ERR_CANCELLED:
        reply_errorf(r, "UNAVAILABLE %s", res->message);
        break;
    default:
        reply_errorf(r, "ERR cluster error: %s", res->message);
        break;
    }
}

bool arg_ll(const req *r, int i, long long *out)
{
    const resp_arg *a = &r->argv[i];
    char *end;

    errno = 0;
    *out = strtoll(a->ptr, &end, 10);
    return errno == 0 && a->len > 0 && *end == '\0' && end == a->ptr + a->len &&
           !isspace((unsigned char)a->ptr[0]);
}

/* A container's handler: cmd_check has already refused the request (reply_no_subcommand),
 * so this runs only if that check is ever bypassed. */
void cmd_container(req *r)
{
    reply_no_subcommand(r);
    req_done(r);
}

void cmd_multi(req *r)
{
    if (r->c->refused_multi) {
        reply_error(r, "ERR MULTI calls can not be nested");
    } else {
        reply_error(r, "ERR MULTI is not supported: NoriKV has no transactions across keys");
        r->c->refused_multi = true;
    }
    req_done(r);
}

void cmd_exec(req *r)
{
    if (r->c->refused_multi)
        reply_error(r, "EXECABORT Transaction discarded because MULTI is not supported: NoriKV "
                       "has no transactions across keys");
    else
        reply_error(r, "ERR EXEC without MULTI");
    r->c->refused_multi = false;
    req_done(r);
}

void cmd_discard(req *r)
{
    if (r->c->refused_multi)
        resp_add_simple(reply(r), "OK");
    else
        reply_error(r, "ERR DISCARD without MULTI");
    r->c->refused_multi = false;
    req_done(r);
}

void cmd_refuse(req *r)
{
    reply_error(r, r->cmd->refusal);
    req_done(r);
}

/* ---- COMMAND ------------------------------------------------------------------------ */

static size_t count_args(const cmd_arg *a)
{
    size_t n = 0;

    while (a != NULL && a[n].name != NULL)
        n++;
    return n;
}

static size_t count_subs(const cmd_def *d)
{
    size_t n = 0;

    while (d->subs != NULL && d->subs[n].name != NULL)
        n++;
    return n;
}

static void add_lower_bulk(struct evbuffer *b, const char *s)
{
    char name[64];

    lower(name, s, sizeof(name));
    resp_add_bulk_str(b, name);
}

static void add_flags(struct evbuffer *b, int proto, const cmd_def *d)
{
    const char *f[6];
    int n = 0;

    if (d->flags & CMD_WRITE)
        f[n++] = "write";
    if (d->flags & CMD_READ)
        f[n++] = "readonly";
    if (d->flags & CMD_FAST)
        f[n++] = "fast";
    if (d->flags & CMD_NOAUTH)
        f[n++] = "no_auth";
    if (d->flags & CMD_LOADING)
        f[n++] = "loading";
    if (d->flags & (CMD_LOCAL | CMD_STATE))
        f[n++] = "stale";
    resp_add_set(b, proto, n);
    for (int i = 0; i < n; i++)
        resp_add_simple(b, f[i]);
}

static void add_info(struct evbuffer *b, int proto, const cmd_def *d)
{
    size_t nsubs = count_subs(d);

    resp_add_array(b, 10);
    add_lower_bulk(b, d->name);
    resp_add_int(b, d->arity);
    add_flags(b, proto, d);
    resp_add_int(b, d->first_key);
    resp_add_int(b, d->last_key);
    resp_add_int(b, d->key_step);
    resp_add_set(b, proto, 0); /* ACL categories */
    resp_add_array(b, 0);      /* tips */
    resp_add_array(b, 0);      /* key specifications */
    resp_add_array(b, (long)nsubs);
    for (size_t i = 0; i < nsubs; i++)
        add_info(b, proto, &d->subs[i]);
}

static void add_arg_docs(struct evbuffer *b, int proto, const cmd_arg *args)
{
    size_t n = count_args(args);

    resp_add_array(b, (long)n);
    for (size_t i = 0; i < n; i++) {
        const cmd_arg *a = &args[i];
        int fields = 2 + (a->token != NULL) + (a->flags != 0) + (a->sub != NULL);
        resp_add_map(b, proto, fields);
        resp_add_bulk_str(b, "name");
        resp_add_bulk_str(b, a->name);
        resp_add_bulk_str(b, "type");
        resp_add_bulk_str(b, a->type);
        if (a->token != NULL) {
            resp_add_bulk_str(b, "token");
            resp_add_bulk_str(b, a->token);
        }
        if (a->flags != 0) {
            int nf = ((a->flags & OPT) != 0) + ((a->flags & MULTI) != 0);
            resp_add_bulk_str(b, "flags");
            resp_add_array(b, nf);
            if (a->flags & OPT)
                resp_add_simple(b, "optional");
            if (a->flags & MULTI)
                resp_add_simple(b, "multiple");
        }
        if (a->sub != NULL) {
            resp_add_bulk_str(b, "arguments");
            add_arg_docs(b, proto, a->sub);
        }
    }
}

static void add_docs(struct evbuffer *b, int proto, const cmd_def *d)
{
    size_t nsubs = count_subs(d);

    resp_add_map(b, proto, 5 + (nsubs > 0));
    resp_add_bulk_str(b, "summary");
    resp_add_bulk_str(b, d->summary);
    resp_add_bulk_str(b, "since");
    resp_add_bulk_str(b, d->since);
    resp_add_bulk_str(b, "group");
    resp_add_bulk_str(b, d->group);
    resp_add_bulk_str(b, "complexity");
    resp_add_bulk_str(b, d->complexity);
    resp_add_bulk_str(b, "arguments");
    add_arg_docs(b, proto, d->args);
    if (nsubs > 0) {
        resp_add_bulk_str(b, "subcommands");
        resp_add_map(b, proto, (long)nsubs);
        for (size_t i = 0; i < nsubs; i++) {
            add_lower_bulk(b, d->subs[i].name);
            add_docs(b, proto, &d->subs[i]);
        }
    }
}

static const cmd_def *find_top(const char *name)
{
    for (size_t i = 0; i < NCMDS; i++)
        if (strcasecmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

void reply_help(req *r, const char *const *lines)
{
    size_t n = 0;

    while (lines[n] != NULL)
        n++;
    resp_add_array(reply(r), (long)n);
    for (size_t i = 0; i < n; i++)
        resp_add_simple(reply(r), lines[i]);
}

static void add_all_info(req *r)
{
    struct evbuffer *b = reply(r);

    resp_add_array(b, (long)NCMDS);
    for (size_t i = 0; i < NCMDS; i++)
        add_info(b, r->c->proto, &table[i]);
}

void cmd_command(req *r)
{
    add_all_info(r);
    req_done(r);
}

void cmd_command_count(req *r)
{
    resp_add_int(reply(r), (long long)NCMDS);
    req_done(r);
}

void cmd_command_info(req *r)
{
    struct evbuffer *b = reply(r);
    int proto = r->c->proto;

    if (r->argc == 2) {
        add_all_info(r);
    } else {
        resp_add_array(b, r->argc - 2);
        for (int i = 2; i < r->argc; i++) {
            const cmd_def *d = find_top(r->argv[i].ptr);
            if (d != NULL)
                add_info(b, proto, d);
            else
                resp_add_null_array(b, proto);
        }
    }
    req_done(r);
}

void cmd_command_docs(req *r)
{
    struct evbuffer *b = reply(r);
    int proto = r->c->proto;

    if (r->argc == 2) {
        resp_add_map(b, proto, (long)NCMDS);
        for (size_t i = 0; i < NCMDS; i++) {
            add_lower_bulk(b, table[i].name);
            add_docs(b, proto, &table[i]);
        }
    } else {
        long n = 0;
        for (int i = 2; i < r->argc; i++)
            n += find_top(r->argv[i].ptr) != NULL;
        resp_add_map(b, proto, n);
        for (int i = 2; i < r->argc; i++) {
            const cmd_def *d = find_top(r->argv[i].ptr);
            if (d != NULL) {
                add_lower_bulk(b, d->name);
                add_docs(b, proto, d);
            }
        }
    }
    req_done(r);
}

void cmd_command_list(req *r)
{
    if (r->argc > 2) {
        reply_error(r, "ERR COMMAND LIST FILTERBY is not supported");
    } else {
        resp_add_array(reply(r), (long)NCMDS);
        for (size_t i = 0; i < NCMDS; i++)
            add_lower_bulk(reply(r), table[i].name);
    }
    req_done(r);
}

void cmd_command_help(req *r)
{
    static const char *const help[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all commands.",
        "COUNT",
        "    Return the total number of commands.",
        "INFO [<command-name> ...]",
        "    Return details about the given commands, or all of them.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about the given commands, or all of them.",
        "LIST",
        "    Return a list of all command names.",
        "HELP",
        "    Print this help.",
        NULL};

    reply_help(r, help);
    req_done(r);
}

/* ---- the README table --------------------------------------------------------------- */

static void print_args(FILE *f, const cmd_arg *args, const char *sep)
{
    for (size_t i = 0; args != NULL && args[i].name != NULL; i++) {
        const cmd_arg *a = &args[i];
        bool opt = a->flags & OPT;
        fputs(i ? sep : "", f);
        if (opt)
            fputc('[', f);
        if (a->token != NULL)
            fprintf(f, "%s%s", a->token, strcmp(a->type, "pure-token") == 0 ? "" : " ");
        if (strcmp(a->type, "oneof") == 0) {
            print_args(f, a->sub, " \\| ");
        } else if (strcmp(a->type, "block") == 0) {
            print_args(f, a->sub, " ");
        } else if (strcmp(a->type, "pure-token") != 0) {
            fputs(a->name, f);
        }
        if (a->flags & MULTI)
            fputs(" ...", f);
        if (opt)
            fputc(']', f);
    }
}

void cmd_print_markdown(FILE *f)
{
    fputs("| Command | Summary |\n|---|---|\n", f);
    for (size_t i = 0; i < NCMDS; i++) {
        const cmd_def *d = &table[i];
        size_t nsubs = count_subs(d);
        if (nsubs == 0) {
            fprintf(f, "| `%s", d->name);
            if (count_args(d->args) > 0) {
                fputc(' ', f);
                print_args(f, d->args, " ");
            }
            fprintf(f, "` | %s |\n", d->summary);
            continue;
        }
        for (size_t k = 0; k < nsubs; k++) {
            const cmd_def *s = &d->subs[k];
            fprintf(f, "| `%s %s", d->name, strchr(s->name, '|') + 1);
            if (count_args(s->args) > 0) {
                fputc(' ', f);
                print_args(f, s->args, " ");
            }
            fprintf(f, "` | %s |\n", s->summary);
        }
    }
}

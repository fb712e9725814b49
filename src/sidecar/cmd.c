/*
 * cmd: the command table and everything generated from it: lookup and dispatch checks,
 * COMMAND and its subcommands, and the README's table (norikv-sidecar --commands). The
 * table, made of the rows of the cmd_*.def files, is the only list of commands; adding a
 * row to one is all it takes to serve it (tests/unit/check_cmd.c checks the rows' rules).
 */
#include "cmd.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cas.h"
#include "cell_bits.h"
#include "cell_hash_set.h"
#include "cmd_conn.h"
#include "cmd_data.h"
#include "cmd_memory.h"
#include "cmd_vector.h"
#include "dict.h"
#include "latency.h"
#include "monitor.h"
#include "pubsub.h"
#include "slowlog.h"
#include "tx.h"
#include "xalloc.h"

#define END                                                                                        \
    {                                                                                              \
        .name = NULL                                                                               \
    }
#define OPT   CMD_ARG_OPTIONAL
#define MULTI CMD_ARG_MULTIPLE

/* ---- argument types ----------------------------------------------------------------- */

static const char *const arg_type_names[CMD_ARG_NTYPES] = {
    [CMD_ARG_KEY] = "key",       [CMD_ARG_STRING] = "string",         [CMD_ARG_INTEGER] = "integer",
    [CMD_ARG_DOUBLE] = "double", [CMD_ARG_PURE_TOKEN] = "pure-token", [CMD_ARG_ONEOF] = "oneof",
    [CMD_ARG_BLOCK] = "block",   [CMD_ARG_UNIX_TIME] = "unix-time",   [CMD_ARG_PATTERN] = "pattern",
};

const char *cmd_arg_type_name(cmd_arg_type type)
{
    if ((unsigned)type >= CMD_ARG_NTYPES || arg_type_names[type] == NULL)
        return "unknown";
    return arg_type_names[type];
}

/* ---- arguments, for COMMAND DOCS and the README -------------------------------------- */

static const cmd_arg a_none[] = {END};
static const cmd_arg a_key[] = {{.name = "key", .type = CMD_ARG_KEY}, END};
static const cmd_arg a_keys[] = {{.name = "key", .type = CMD_ARG_KEY, .flags = MULTI}, END};
static const cmd_arg a_kv_pair[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "value", .type = CMD_ARG_STRING},
    END,
};
static const cmd_arg a_mset[] = {
    {.name = "data", .type = CMD_ARG_BLOCK, .flags = MULTI, .sub = a_kv_pair},
    END,
};
static const cmd_arg a_level[] = {
    {.name = "lease", .type = CMD_ARG_PURE_TOKEN, .token = "LEASE"},
    {.name = "linearizable", .type = CMD_ARG_PURE_TOKEN, .token = "LINEARIZABLE"},
    {.name = "stale_ok", .type = CMD_ARG_PURE_TOKEN, .token = "STALE_OK"},
    END,
};

/* ---- the table ---------------------------------------------------------------------- */

/*
 * The rows live in .def files, one per family of commands (cmd_server.def, cmd_ops.def,
 * cmd_string.def, ...), each row a command with its docs; the table includes them in
 * order, which is the order of COMMAND and of the README's table. What several families
 * share is here: the common argument lists above and the row macros below.
 */

#define LOCAL_FAST   (CMD_LOCAL | CMD_FAST)
#define HELP_SUMMARY "Returns helpful text about the different subcommands."

/* The operator commands' (cmd_ops.def): how long a command took. */
#define ASYNC_NOTE                                                                                 \
    " A command's time runs from its start to its reply: a command waiting on the cluster "        \
    "does not hold the sidecar, and its time includes the cluster's."

/* A command on one key run by the compare-and-swap engine (cas.c) through its cell.c
 * function; the same function serves it inside MULTI ... EXEC. */
#define ON_KEY(cmd, n, flag, fn, grp, ver, text, arguments)                                        \
    {                                                                                              \
        .name = cmd, .arity = n, .flags = flag, .first_key = 1, .last_key = 1, .key_step = 1,      \
        .proc = cmd_cas, .cell = fn, .group = grp, .since = ver, .complexity = "O(1)",             \
        .summary = text, .args = arguments                                                         \
    }
/* ON_KEY for a command whose cost is not O(1): a collection's, complexity cx. */
#define ON_KEY_C(cmd, n, flag, fn, grp, ver, cx, text, arguments)                                  \
    {                                                                                              \
        .name = cmd, .arity = n, .flags = flag, .first_key = 1, .last_key = 1, .key_step = 1,      \
        .proc = cmd_cas, .cell = fn, .group = grp, .since = ver, .complexity = cx,                 \
        .summary = text, .args = arguments                                                         \
    }
#define COLL_N "O(N) where N is the size of the value and of the arguments"
#define NOTE_COLL                                                                                  \
    " A write that would make the value exceed NoriKV's 1 MiB answers an error and changes "       \
    "nothing."
#define NOTE_CREATE                                                                                \
    " A missing key is created by an unconditional write (NoriKV has no put-if-absent: two "       \
    "clients creating it at once can both win). Through two sidecars at once, today's NoriKV "     \
    "server can let both updates of one version win (its conditional write is checked before "     \
    "it is applied): send a key's updates through one sidecar."
#define NOTE_TTL                                                                                   \
    " A key in the typed format keeps its TTL, as in Redis; a plain one loses it (NoriKV never "   \
    "returns it and a write replaces it): use string_format typed, or set it in the same "         \
    "write with MULTI, this, EXPIRE, EXEC."

/* A command NoriKV cannot do faithfully: always refused, with the reason. */
#define REFUSED(cmd, n, reason, arguments)                                                         \
    {                                                                                              \
        .name = cmd, .arity = n, .flags = CMD_REFUSED | CMD_LOCAL, .proc = cmd_refuse,             \
        .group = "generic", .since = "-", .complexity = "-", .summary = "Not available: " reason,  \
        .args = arguments, .refusal = "ERR " cmd " is not supported: " reason                      \
    }

/* The families whose rows live in .def files: their argument lists and subcommands. */
#define CMD_DEF_ARGS
#include "cmd_server.def"
#include "cmd_ops.def"
#include "cmd_string.def"
#include "cmd_nori.def"
#include "cmd_vector.def"
#include "cmd_pubsub.def"
#include "cmd_refused.def"
#include "cmd_tx.def"
#include "cmd_keyspace.def"
#include "cmd_list.def"
#include "cmd_zset.def"
#include "cmd_hash.def"
#include "cmd_set.def"
#undef CMD_DEF_ARGS

static const cmd_def table[] = {
#define CMD_DEF_ROWS
#include "cmd_server.def"
#include "cmd_ops.def"
#include "cmd_string.def"
#include "cmd_nori.def"
#include "cmd_vector.def"
#include "cmd_pubsub.def"
#include "cmd_refused.def"
#include "cmd_tx.def"
#include "cmd_keyspace.def"
#include "cmd_list.def"
#include "cmd_zset.def"
#include "cmd_hash.def"
#include "cmd_set.def"
#undef CMD_DEF_ROWS
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

/* The table's names in a hash table, made on first use: dispatch and COMMAND INFO/DOCS
 * find a name in O(1), not by a scan of the table (a million names in one COMMAND DOCS
 * were a hundred million comparisons on the loop). Lives as long as the process. */
#define NAME_MAX_LEN 32
static struct name_entry {
    dict_entry entry;
    size_t index;
} names_of[NCMDS];
static dict names;

/* The top-level command named name (any case), or NULL. */
static const cmd_def *find_top_len(const char *name, size_t len)
{
    char upper[NAME_MAX_LEN];
    dict_entry *e;

    if (names.nbuckets == 0) {
        dict_init(&names, dict_seed());
        for (size_t i = 0; i < NCMDS; i++) {
            assert(strlen(table[i].name) < NAME_MAX_LEN);
            names_of[i].index = i;
            dict_add(&names, &names_of[i].entry, table[i].name, strlen(table[i].name));
        }
    }
    if (len >= sizeof(upper))
        return NULL;
    for (size_t i = 0; i < len; i++)
        upper[i] = (char)toupper((unsigned char)name[i]);
    e = dict_find(&names, upper, len);
    return e != NULL ? &table[dict_item(e, struct name_entry, entry)->index] : NULL;
}

const cmd_def *cmd_find(const resp_arg *argv, int argc, int *index)
{
    const cmd_def *d;

    *index = -1;
    if (argc < 1 || (d = find_top_len(argv[0].ptr, argv[0].len)) == NULL)
        return NULL;
    *index = (int)(d - table);
    if (d->subs != NULL && argc >= 2) {
        const cmd_def *sub = find_sub(d, argv[1].ptr);
        if (sub != NULL)
            return sub;
    }
    return d;
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

bool cmd_small_reply(const req *r)
{
    if (r->cmd == NULL || !(r->cmd->flags & CMD_SMALL_REPLY))
        return false;
    if (r->cmd->proc == cmd_set) /* SET ... GET answers the old value */
        for (int i = 3; i < r->argc; i++)
            if (strcasecmp(r->argv[i].ptr, "GET") == 0)
                return false;
    return true;
}

void cmd_redact_init(cmd_redact *x, const cmd_def *d, const resp_arg *argv, int argc)
{
    *x = (cmd_redact){d, argv, argc, 2, 0};
}

bool cmd_redacted(cmd_redact *x, int i)
{
    if (x->d == NULL || i < 1)
        return false;
    if (x->d->proc == cmd_auth)
        return x->argc <= 3; /* Redis redacts before it checks the count */
    if (x->d->proc != cmd_hello)
        return false;
    /* HELLO protover [AUTH user pass] [SETNAME name] ..., parsed up to i (and no further:
     * an index asked later resumes here) */
    while (x->next < x->argc && x->next < i) {
        int j = x->next;
        if (strcasecmp(x->argv[j].ptr, "AUTH") == 0 && j + 2 < x->argc) {
            x->auth = j;
            x->next = j + 3;
        } else if (strcasecmp(x->argv[j].ptr, "SETNAME") == 0 && j + 1 < x->argc) {
            x->next = j + 2;
        } else {
            x->next = j + 1;
        }
    }
    return x->auth > 0 && i > x->auth && i <= x->auth + 2;
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
        if (r->argc >= 2)
            r->cmd_index = -1; /* no command of Redis' counts an unknown subcommand */
        reply_no_subcommand(r);
        return false;
    }
    if ((d->arity > 0 && r->argc != d->arity) || (d->arity < 0 && r->argc < -d->arity)) {
        reply_wrong_arity(r);
        return false;
    }
    if (c->monitor && (d->flags & (CMD_READ | CMD_WRITE))) {
        /* a monitor is a replica to Redis */
        reply_error(r, "ERR Replica can't interact with the keyspace");
        return false;
    }
    if (pubsub_mode(c) && !(d->flags & CMD_PUBSUB)) {
        char name[64];
        lower(name, d->name, sizeof(name));
        reply_errorf(r,
                     "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                     "QUIT / RESET are allowed in this context",
                     name);
        return false;
    }
    if (c->s->draining && !(d->flags & CMD_LOADING) && !(d->flags & CMD_LOCAL)) {
        reply_error(r, "UNAVAILABLE the sidecar is shutting down");
        return false;
    }
    return true;
}

/* A container's handler: cmd_check has already refused the request (reply_no_subcommand),
 * so this runs only if that check is ever bypassed. */
void cmd_container(req *r)
{
    reply_no_subcommand(r);
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
    const char *f[7];
    int n = 0;

    if (d->flags & CMD_WRITE)
        f[n++] = "write";
    if (d->flags & CMD_READ)
        f[n++] = "readonly";
    if (d->flags & CMD_ADMIN)
        f[n++] = "admin";
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
        resp_add_bulk_str(b, cmd_arg_type_name(a->type));
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

/* A top-level command's docs as sent (RESP2 and RESP3), made once: COMMAND DOCS of many
 * names copies them instead of rendering each again. Lives as long as the process. */
static struct {
    char *p;
    size_t n;
} docs_made[NCMDS][2];

static void add_docs_cached(struct evbuffer *b, int proto, const cmd_def *d)
{
    size_t i = (size_t)(d - table);
    int p = proto >= 3;

    if (docs_made[i][p].p == NULL) {
        struct evbuffer *tmp = evbuffer_new();
        add_docs(tmp, proto, d);
        docs_made[i][p].n = evbuffer_get_length(tmp);
        docs_made[i][p].p = xmalloc(docs_made[i][p].n + 1);
        evbuffer_remove(tmp, docs_made[i][p].p, docs_made[i][p].n);
        evbuffer_free(tmp);
    }
    evbuffer_add(b, docs_made[i][p].p, docs_made[i][p].n);
}

static void add_all_info(req *r)
{
    struct evbuffer *b = reply(r);

    resp_add_array(b, (long)NCMDS);
    for (size_t i = 0; i < NCMDS && !reply_full(r); i++)
        add_info(b, r->c->proto, &table[i]);
    if (reply_full(r))
        reply_over_max(r, "the command table does not fit");
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
        for (int i = 2; i < r->argc && !reply_full(r); i++) {
            const cmd_def *d = find_top_len(r->argv[i].ptr, r->argv[i].len);
            if (d != NULL)
                add_info(b, proto, d);
            else
                resp_add_null_array(b, proto);
        }
        if (reply_full(r))
            reply_over_max(r, "ask for fewer commands");
    }
    req_done(r);
}

void cmd_command_docs(req *r)
{
    struct evbuffer *b = reply(r);
    int proto = r->c->proto;

    if (r->argc == 2) {
        resp_add_map(b, proto, (long)NCMDS);
        for (size_t i = 0; i < NCMDS && !reply_full(r); i++) {
            add_lower_bulk(b, table[i].name);
            add_docs_cached(b, proto, &table[i]);
        }
    } else {
        long n = 0;
        for (int i = 2; i < r->argc; i++)
            n += find_top_len(r->argv[i].ptr, r->argv[i].len) != NULL;
        resp_add_map(b, proto, n);
        for (int i = 2; i < r->argc && !reply_full(r); i++) {
            const cmd_def *d = find_top_len(r->argv[i].ptr, r->argv[i].len);
            if (d != NULL) {
                add_lower_bulk(b, d->name);
                add_docs_cached(b, proto, d);
            }
        }
    }
    if (reply_full(r))
        reply_over_max(r, "ask for fewer commands");
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
            fprintf(f, "%s%s", a->token, a->type == CMD_ARG_PURE_TOKEN ? "" : " ");
        if (a->type == CMD_ARG_ONEOF)
            print_args(f, a->sub, " \\| ");
        else if (a->type == CMD_ARG_BLOCK)
            print_args(f, a->sub, " ");
        else if (a->type != CMD_ARG_PURE_TOKEN)
            fputs(a->name, f);
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

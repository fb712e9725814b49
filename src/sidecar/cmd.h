/*
 * cmd: the command table, the one source of dispatch, arity checks, flags, COMMAND,
 * COMMAND COUNT/INFO/DOCS/LIST and the README's command table. Handlers live in
 * cmd_conn.c (connection and introspection), cmd_data.c (data, on the cluster),
 * cmd_vector.c (vector sets and NoriKV's vector API) and pubsub.c (pub/sub).
 */
#ifndef NORIKV_CMD_H
#define NORIKV_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "cell.h"
#include "client.h"

typedef void cmd_proc(req *r);

enum cmd_flag {
    CMD_READ = 1 << 0,   /* reads the cluster: may overlap other reads */
    CMD_WRITE = 1 << 1,  /* writes the cluster: runs alone, in order */
    CMD_LOCAL = 1 << 2,  /* answered by the sidecar */
    CMD_STATE = 1 << 3,  /* changes the connection: runs alone, in order */
    CMD_NOAUTH = 1 << 4, /* allowed before AUTH */
    CMD_FAST = 1 << 5,
    CMD_REFUSED = 1 << 6, /* NoriKV cannot do it faithfully: always refused with why */
    CMD_LOADING = 1 << 7, /* allowed while the sidecar drains */
    CMD_TX = 1 << 8,      /* runs at once inside MULTI (the others are queued) */
    CMD_PUBSUB = 1 << 9,  /* allowed in RESP2 subscribe mode */
    /* answers a status, a number, a version or an error, never a stored value, so it holds
     * little of the reply backlog while it runs (see cmd_small_reply) */
    CMD_SMALL_REPLY = 1 << 10,
    /* its reply is not bounded by the values of its keys (VSIM: as many matches as COUNT
     * asks), so it is counted as if it could bring max_reply */
    CMD_LARGE_REPLY = 1 << 11,
};

/* An argument's type, as COMMAND DOCS names it (cmd_arg_type_name). */
typedef enum cmd_arg_type {
    CMD_ARG_KEY,
    CMD_ARG_STRING,
    CMD_ARG_INTEGER,
    CMD_ARG_DOUBLE,
    CMD_ARG_PURE_TOKEN, /* the token alone: no value follows */
    CMD_ARG_ONEOF,      /* one of sub */
    CMD_ARG_BLOCK,      /* all of sub, in order */
    CMD_ARG_UNIX_TIME,
    CMD_ARG_PATTERN,
    CMD_ARG_NTYPES /* how many types there are; not a type */
} cmd_arg_type;

/* An argument's flags. */
#define CMD_ARG_OPTIONAL 1u
#define CMD_ARG_MULTIPLE 2u

typedef struct cmd_arg {
    const char *name;
    cmd_arg_type type;
    const char *token;         /* the word that introduces it, or NULL */
    unsigned flags;            /* CMD_ARG_OPTIONAL, CMD_ARG_MULTIPLE */
    const struct cmd_arg *sub; /* oneof / block members, ending with a NULL name */
} cmd_arg;

/* "key", "pure-token", ...: the name COMMAND DOCS uses ("unknown" for no type). */
const char *cmd_arg_type_name(cmd_arg_type type);

typedef struct cmd_def {
    const char *name; /* upper case; "CLIENT|SETNAME" for subcommands */
    int arity;        /* N: exactly N words; -N: at least N */
    unsigned flags;
    int first_key, last_key, key_step;
    cmd_proc *proc; /* never NULL; cmd_container for a container that is no command itself */
    cell_fn *cell;  /* how it runs on one key's value inside MULTI (and for cmd_cas); NULL: it
                       cannot be part of a NoriKV transaction */
    const char *group;
    const char *since;
    const char *complexity;
    const char *summary;
    const cmd_arg *args;
    const struct cmd_def *subs; /* NULL-named entry ends the list */
    const char *refusal;        /* CMD_REFUSED: the reason, as sent */
} cmd_def;

/* The command (or subcommand) a request names, or NULL; no side effects. */
const cmd_def *cmd_find(const resp_arg *argv, int argc, int *index);
/* Whether the request may run now (known, arity, authentication, not refused); when not,
 * the error is the request's reply. */
/* Whether r's reply is small whatever the cluster holds: CMD_SMALL_REPLY, and for SET only
 * without its GET option. */
bool cmd_small_reply(const req *r);
bool cmd_check(req *r);
size_t cmd_count(void);
const cmd_def *cmd_at(size_t i);

/* Prints the README's command table (markdown). */
void cmd_print_markdown(FILE *f);

/* Handlers, by module; a subcommand has its own (CLIENT|ID: cmd_client_id). */
/* cmd.c: the table's own (COMMAND and its subcommands, refusals, MULTI/EXEC/DISCARD) */
cmd_proc cmd_container, cmd_refuse;
cmd_proc cmd_multi, cmd_exec, cmd_discard, cmd_watch, cmd_unwatch; /* tx.c */
cmd_proc cmd_cas; /* the row's cell function as one compare-and-swap of its key (cas.c) */
cmd_proc cmd_command, cmd_command_count, cmd_command_info, cmd_command_docs, cmd_command_list,
    cmd_command_help;
/* cmd_conn.c */
cmd_proc cmd_ping, cmd_echo, cmd_quit, cmd_reset, cmd_hello, cmd_auth, cmd_select, cmd_info,
    cmd_time, cmd_nori_consistency, cmd_nori_shard, cmd_nori_topology, cmd_nori_stats;
cmd_proc cmd_client_id, cmd_client_getname, cmd_client_setname, cmd_client_setinfo, cmd_client_info,
    cmd_client_list, cmd_client_kill, cmd_client_help;
cmd_proc cmd_config_get, cmd_config_help;
/* cmd_data.c */
cmd_proc cmd_get, cmd_set, cmd_setex, cmd_psetex, cmd_del, cmd_exists, cmd_mget, cmd_mset,
    cmd_nori_put, cmd_nori_get, cmd_nori_del;
/* cmd_vector.c */
cmd_proc cmd_vadd, cmd_vsim, cmd_vrem, cmd_vemb, cmd_vismember, cmd_nori_vcreate, cmd_nori_vdrop,
    cmd_nori_vinsert, cmd_nori_vdelete, cmd_nori_vsearch, cmd_nori_vget;
/* pubsub.c */
cmd_proc cmd_subscribe, cmd_unsubscribe, cmd_psubscribe, cmd_punsubscribe, cmd_pubsub_channels,
    cmd_pubsub_numsub, cmd_pubsub_numpat, cmd_pubsub_help;

/* Reply helpers for handlers: into r's reply buffer, in the client's protocol. */
struct evbuffer *reply(req *r);
void reply_error(req *r, const char *text);
void reply_errorf(req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether the reply built so far is over max_reply. A handler that builds a long reply
 * checks after each item and, once it is, stops and ends with reply_over_max: it never
 * holds more than max_reply plus one item. */
bool reply_full(req *r);
/* Drops what r's reply holds and answers "ERR reply over max_reply (N bytes): hint". */
void reply_over_max(req *r, const char *hint);
/* A HELP subcommand's lines (NULL-terminated) as an array of simple strings. */
void reply_help(req *r, const char *const *lines);
/* The RESP error for a failed cluster operation: VERSIONMISMATCH, TIMEOUT, UNAVAILABLE,
 * NOTSUPPORTED or ERR, by the library's kv_err (README, "Errors"). */
void reply_kv_error(req *r, const kv_result *res, const kv_version *expected);

/* Argument i as a whole number, the way Redis reads one (parse.h, parse_redis_ll: no sign
 * but '-', no leading zeros or spaces, no trailing bytes, in range), as cell.c reads its
 * own. Replies nothing: the caller chooses the error, ERR_NOT_INTEGER unless the
 * command has its own wording. */
bool arg_ll(const req *r, int i, long long *out);

#define ERR_NOT_INTEGER "ERR value is not an integer or out of range"

#endif

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
#include "reply.h"

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
    /* answers a status, a number, a version or an error, or one such per argument
     * (SMISMEMBER), never a stored value, so it holds little of the reply backlog while it
     * runs: SMALL_REPLY and a few bytes per argument (see cmd_small_reply, and client.c's
     * reply_reserve) */
    CMD_SMALL_REPLY = 1 << 10,
    /* its reply is not bounded by the values of its keys (VSIM: as many matches as COUNT
     * asks), so it is counted as if it could bring max_reply */
    CMD_LARGE_REPLY = 1 << 11,
    /* administrative, as Redis flags it: MONITOR does not show it (monitor.c) */
    CMD_ADMIN = 1 << 12,
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
/* Which arguments of a request of d are passwords, which MONITOR and SLOWLOG show as
 * "(redacted)" as Redis does: AUTH's, HELLO's after AUTH. One pass over the arguments:
 * cmd_redact_init, then cmd_redacted for ascending i (some may be skipped), O(argc) in all. */
typedef struct cmd_redact {
    const cmd_def *d;
    const resp_arg *argv;
    int argc;
    int next; /* HELLO: the next argument its options are parsed from */
    int auth; /* HELLO: the last AUTH before next whose two arguments follow it (0: none) */
} cmd_redact;
void cmd_redact_init(cmd_redact *x, const cmd_def *d, const resp_arg *argv, int argc);
bool cmd_redacted(cmd_redact *x, int i);
bool cmd_check(req *r);
size_t cmd_count(void);
const cmd_def *cmd_at(size_t i);

/* Prints the README's command table (markdown). */
void cmd_print_markdown(FILE *f);

/* Handlers of the table's own: COMMAND and its subcommands, containers, refusals; each
 * module declares its own (cmd_conn.h, cmd_data.h, cmd_vector.h, pubsub.h, tx.h, cas.h). */
cmd_proc cmd_container, cmd_refuse;
cmd_proc cmd_command, cmd_command_count, cmd_command_info, cmd_command_docs, cmd_command_list,
    cmd_command_help;

#endif

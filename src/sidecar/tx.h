/*
 * tx: MULTI/EXEC/DISCARD/WATCH/UNWATCH for one connection. Commands after MULTI are
 * checked (name, arity) and queued, as Redis does; EXEC runs a queue that touches one key
 * (or none) as one compare-and-swap block (cas.c) and refuses one that touches several,
 * leaving the connection as if MULTI had never been sent.
 */
#ifndef NORIKV_TX_H
#define NORIKV_TX_H

#include <stdbool.h>
#include <stddef.h>

#include "kv.h"
#include "resp.h"

struct cmd_def;
struct req;
struct client;

typedef struct tx_cmd {
    resp_arg *argv; /* owned */
    int argc;
    const struct cmd_def *cmd;
} tx_cmd;

typedef struct tx_state {
    bool in_multi;
    bool queue_error; /* a command after MULTI failed its checks: EXEC aborts */
    tx_cmd *queued;
    int nqueued, cap;
    size_t bytes; /* what the queue holds, charged to the client as HOLD_MULTI */
    /* WATCH: one key and what a read found then */
    char *watch_key;
    size_t watch_len;
    bool watch_existed;
    kv_version watch_version;
} tx_state;

/* Inside MULTI: checks r and answers QUEUED (taking its arguments) or the error. The
 * queue holds at most query_buffer_limit bytes: a command past it is refused and EXEC
 * aborts, as after any error in the queue. */
void tx_queue(struct req *r);
/* Forgets the transaction and the watch (RESET, a closed connection). */
void tx_reset(struct client *c);

/* The commands (tx.c). */
void cmd_multi(struct req *r);
void cmd_exec(struct req *r);
void cmd_discard(struct req *r);
void cmd_watch(struct req *r);
void cmd_unwatch(struct req *r);

#endif

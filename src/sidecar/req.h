/*
 * req: one request of a client, from parsing to its reply; the type every handler gets.
 * client.c runs them (and implements req_done), the handlers answer them (reply.h).
 */
#ifndef NORIKV_REQ_H
#define NORIKV_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "kv.h"
#include "resp.h"
#include "sidecar.h"

struct cmd_def;
typedef struct req req;

/* A command's handler: it ends its request with req_done(), now or later. */
typedef void cmd_proc(req *r);

/*
 * A request's life, the one protocol between client.c and the handlers:
 *
 *   parsed --> QUEUED --start()--> RUNNING --req_done()--> DONE --advance()--> output, freed
 *              (args charged        (handler runs; reserve    (reply charged as HOLD_DONE
 *               as HOLD_ARGS)        charged as HOLD_RESERVED; until it is first in line)
 *                                    cluster ops in flight)
 *
 * A handler ends its request with req_done() exactly once, inside its own call or from a
 * cluster callback or timer later. The client closing frees its requests at the next flush
 * pass: their operations are detached there, and a req_done() before that is absorbed.
 */
typedef enum req_state { REQ_QUEUED, REQ_RUNNING, REQ_DONE } req_state;

/* One key of a multi-key command. */
typedef struct req_part {
    req *r;
    int i;     /* the key's argument index */
    kv_op *op; /* in flight, NULL once its callback ran */
    bool found;
    char *value;
    size_t len;
} req_part;

struct req {
    req *next;
    client *c;
    resp_arg *argv;
    int argc;
    const struct cmd_def *cmd;
    int cmd_index;
    req_state state;
    struct evbuffer *reply;
    /* operations in flight on the cluster, detached if the client goes; each callback
     * clears its slot first thing */
    kv_op *op;
    req_part *parts;
    int nparts, pending;
    void *scratch;                /* the command's own state, freed with the request ... */
    void (*scratch_free)(void *); /* ... by this, when not free() */
    int64_t start_us;
    bool failed;
    bool rejected;    /* refused before running (arity, auth, ...): counted apart */
    bool queued;      /* queued by MULTI: it runs at EXEC (not timed or logged itself) */
    bool in_proc;     /* its handler is running: a req_done() now is seen by start()'s caller */
    bool by_key;      /* started under ordering = key (order.h) */
    bool counted;     /* running past its start: counted in the client's order_running */
    bool skip_reply;  /* CLIENT REPLY SKIP came just before it: its reply is dropped */
    size_t arg_bytes; /* its arguments (HOLD_ARGS) */
    size_t kept;      /* values its parts keep until it answers (HOLD_READS, cmd_data.c) */
    size_t reserve;   /* while running: the largest reply it may bring (HOLD_RESERVED) */
    size_t done_len;  /* once done and until sent: its reply's size (HOLD_DONE) */
};

/* The request has its reply: send what can be sent, start what can start (client.c). */
void req_done(req *r);

#endif

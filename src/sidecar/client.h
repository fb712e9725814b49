/*
 * client: one application connection. Reads and parses requests, keeps them in order,
 * runs them under the ordering rule ([sidecar] ordering, order.h: by connection or by
 * key), sends replies in request order, written once per loop pass, and pauses reading
 * while its backlog is high. A client that goes away with operations in flight detaches
 * them.
 */
#ifndef NORIKV_CLIENT_H
#define NORIKV_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/buffer.h>

#include "kv.h"
#include "order.h"
#include "req.h"
#include "resp.h"
#include "sidecar.h"
#include "tx.h"

struct cmd_def;
struct pubsub_sub;

/*
 * A client's memory ledger: what it makes the sidecar hold, by kind. Charged and refunded
 * by client_charge / client_refund only; the limits and CLIENT LIST read it, with the three
 * kinds measured where they live (the unparsed query buffer, the request the parser has
 * not finished: resp_parser_held, and the output).
 *   HOLD_ARGS      the arguments of its requests, queued or running   } held against
 *   HOLD_DONE      replies finished and not yet moved to the output   } reply_backlog
 *   HOLD_RESERVED  the largest replies its running requests may bring: none starts above
 *                  reply_backlog (client.c, may_start)
 *   HOLD_CAS       what its requests' compare-and-swap rounds hold until the write is
 *                  acknowledged: their replies and a share of their key's value (cas.c,
 *                  charge_group); no request starts while this, with the replies, is
 *                  above reply_backlog
 *   HOLD_MULTI     the commands MULTI queued, against query_buffer_limit (tx.c): a
 *                  transaction is sent as one request, and reading must go on until EXEC
 *   HOLD_SUBS      its pub/sub channels and patterns (pubsub.c)
 *   HOLD_CONN      the connection's state: its name, the key it watches
 *   HOLD_READS     values read from the cluster that its running requests keep until they
 *                  answer (the sets of SINTER, MGET's values out of order, LCS's strings)
 */
typedef enum hold_kind {
    HOLD_ARGS,
    HOLD_DONE,
    HOLD_RESERVED,
    HOLD_CAS,
    HOLD_MULTI,
    HOLD_SUBS,
    HOLD_CONN,
    HOLD_READS,
    HOLD_KINDS
} hold_kind;

struct client {
    sidecar *s;
    uint64_t id;
    int fd;
    char addr[64];
    bool unix_socket;
    struct event *rev, *wev;
    struct event *yield_ev; /* parsing goes on after the loop polled the others */
    resp_parser *parser;
    char *qbuf; /* bytes read and not parsed yet */
    size_t qlen, qcap;
    req *head, *tail;
    int nreqs;
    req *first_queued;     /* no request before it is queued (NULL: none is) */
    order_running running; /* its running requests, for the ordering rule (order.h) */
    struct evbuffer *out;  /* lent while there is output (client.c), else NULL */
    int proto;
    bool authenticated;
    char *name;
    char lib_name[64], lib_ver[64];
    tx_state tx;
    kv_consistency consistency;
    bool reading;     /* the read event is armed */
    bool close_after; /* close once the output is written (QUIT, protocol error, kill) */
    bool protocol_error;
    bool reply_off;          /* CLIENT REPLY OFF: replies are dropped until CLIENT REPLY ON */
    bool reply_skip_next;    /* CLIENT REPLY SKIP: the request to be parsed next is silent */
    bool eof;                /* the peer closed its side: finish what it sent, then close */
    bool in_flush;           /* in the sidecar's flushing list */
    bool linked;             /* in the sidecar's client list */
    bool advancing;          /* inside advance(), for the assert that it is never re-entered */
    bool parsing;            /* inside parse_more(), likewise */
    bool parse_blocked;      /* requests wait in qbuf until the queue or backlog shrinks */
    bool start_blocked;      /* requests wait in the queue until the replies held shrink */
    bool yielded;            /* parsing stopped for the pass: yield_ev goes on */
    bool closing;            /* closed, freed by the next flush pass (client_close) */
    size_t hold[HOLD_KINDS]; /* its memory ledger, by kind (client_charge) */
    LIST_ENTRY(client) link, flush_link;
    int64_t created_ms, last_active_ms;
    uint64_t commands;
    const char *last_cmd;
    struct pubsub_sub *sub; /* its pub/sub subscriptions (pubsub.c), NULL when none */
    bool monitor;           /* it sent MONITOR: in the sidecar's monitors list (monitor.c) */
    LIST_ENTRY(client) monitor_link;
};

void client_accept(sidecar *s, int fd, const char *addr, bool unix_socket);
/* Closes a client (CLIENT KILL, the idle timeout, an error, shutdown): at once for the
 * world (socket closed, out of every list), freed with its requests by the next flush pass
 * (client_reap), so that nothing up the stack holds freed memory. */
void client_close(client *c);
/* Frees the clients closed since the last call (the flush pass, and teardown). */
void client_reap(sidecar *s);
/* Write every pending reply now (the loop pass is ending), then free the clients closed
 * since the last pass (client_reap). */
void client_flush_all(sidecar *s);
/* Reading resumes if it was paused and the client can take more. */
void client_resume_all(sidecar *s);
/* The CLIENT INFO / CLIENT LIST line. */
void client_describe(const client *c, struct evbuffer *out);

/* The bytes of output waiting to be written. */
size_t client_output_len(const client *c);

/* The ledger (above): n bytes more, or fewer, of kind k. */
void client_charge(client *c, hold_kind k, size_t n);
void client_refund(client *c, hold_kind k, size_t n);
/* ... or n bytes in all, for a holder that measures itself (pubsub.c). */
void client_hold_set(client *c, hold_kind k, size_t n);
/* CLIENT SETNAME, HELLO SETNAME, RESET: the name (len 0: none), charged to the client. */
void client_set_name(client *c, const char *name, size_t len);
/* Everything the client holds: the ledger, its own query buffer, the request being parsed
 * and its output (CLIENT LIST's tot-mem). */
size_t client_mem_total(const client *c);

/* Connections' memory (sidecar.h, client_mem): the housekeeping timer gives back what the
 * clients gone left spare; release frees all of it, once every client is freed. An
 * evbuffer for a reply comes from client_buf_get (never NULL) and goes back, drained, by
 * client_buf_put (req_free does it for r->reply). */
struct evbuffer *client_buf_get(sidecar *s);
void client_buf_put(sidecar *s, struct evbuffer *b);
void client_mem_trim(sidecar *s);
void client_mem_release(sidecar *s);

/* CLIENT REPLY SKIP, from r's handler: the request after r (parsed or still to come) is
 * answered into nothing. */
void client_skip_next_reply(req *r);

/* QUIT: what was queued after r never runs, and the connection closes after r's reply. */
void client_drop_after(req *r);

/* A pub/sub message or a MONITOR line (msg is drained): into the output between two
 * replies, sent with the next flush. A client whose unsent output is already over
 * reply_backlog is closed instead (false: c is closing), as Redis closes a subscriber or
 * a monitor over its output buffer limit. */
bool client_push(client *c, struct evbuffer *msg);

#endif

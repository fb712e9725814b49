/*
 * dn_util: helpers the devnode's modules share, with no state of their own and no
 * dependency on the devnode context, so a module includes this and not the program's
 * main file or the gRPC server module: what a handler answers (dn_reply) and its error
 * form, and the fault generator's next draw.
 */
#ifndef NORIKV_DN_UTIL_H
#define NORIKV_DN_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <grpc/grpc.h>

struct devnode;
struct dn_node;
struct ProtobufCMessage;
struct dn_reply;

/* A write's second half, run at the node's next commit tick (--commit-tick-ms). */
typedef void dn_commit_fn(struct devnode *d, struct dn_node *n, const struct ProtobufCMessage *req,
                          struct dn_reply *r);

/* What a handler answers: a status with its message, an OK payload, a trailer; or, for a
 * write whose checks passed while commits wait for a tick, the function that applies it
 * and answers then (the server keeps the request until that tick). */
typedef struct dn_reply {
    grpc_status_code status;
    char message[320];
    grpc_byte_buffer *payload;
    const char *trailer_key;
    char trailer[96];
    dn_commit_fn *commit;
    bool raced; /* a write that shares the previous write's log index: acknowledged, lost */
} dn_reply;

/* Sets r's status and its message, formatted (cut to fit r->message). */
void dn_reply_error(dn_reply *r, grpc_status_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A uniform double in [0, 1) from the xorshift64* generator whose state is *rng (the
 * devnode's d->rng, seeded from --seed, so runs are reproducible). */
double dn_random(uint64_t *rng);

#endif

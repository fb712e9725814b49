/*
 * reply: the reply helpers of every handler, and Redis' integer grammar for arguments.
 * Handlers answer into their request's reply buffer (req.h) in the client's protocol.
 */
#ifndef NORIKV_REPLY_H
#define NORIKV_REPLY_H

#include <stdbool.h>

#include <event2/buffer.h>

#include "kv.h"
#include "req.h"

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

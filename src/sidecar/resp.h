/*
 * resp: the Redis protocol (RESP2 and RESP3) on the sidecar's client side. A resumable
 * request parser (multibulk and inline, Redis' limits and error texts) that never needs
 * a whole request in one buffer, and a reply builder that writes RESP3 types, or their
 * RESP2 forms, into libevent buffers. Knows nothing of commands, clients or NoriKV.
 */
#ifndef NORIKV_RESP_H
#define NORIKV_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#define RESP_INLINE_MAX      (64 * 1024) /* an inline request or a length line, at most */
#define RESP_BIG_ARG         (32 * 1024) /* bulks from this size may be read straight in */
#define RESP_RESTRICTED_ARGS 10          /* before AUTH, when a password is set */
#define RESP_RESTRICTED_BULK (16 * 1024)

/* One argument: ptr holds len bytes followed by a NUL (not counted), so text arguments
 * can be used as C strings; binary arguments may contain NULs. */
typedef struct resp_arg {
    char *ptr;
    size_t len;
} resp_arg;

typedef struct resp_limits {
    size_t max_bulk;    /* a longer bulk: "invalid bulk length" */
    long max_args;      /* more arguments: "invalid multibulk length" */
    size_t max_request; /* all arguments of one request together, in bytes */
    bool restricted;    /* not authenticated yet: RESP_RESTRICTED_* apply */
} resp_limits;

typedef enum resp_status {
    RESP_OK,    /* a complete request in *argv / *argc */
    RESP_AGAIN, /* every byte given was consumed; more are needed */
    RESP_ERROR, /* the stream is out of sync: *err says why; reply it, then close */
} resp_status;

typedef struct resp_parser resp_parser;

/* Never NULL: allocation does not fail (src/common/xalloc.h), here or in resp_parse. */
resp_parser *resp_parser_new(void);
void resp_parser_free(resp_parser *p);
/* A parser in memory the caller owns (resp_parser_size bytes, 16-byte aligned), so that it
 * can live inside a bigger allocation; resp_parser_clear frees what it holds, not mem. */
size_t resp_parser_size(void);
resp_parser *resp_parser_init(void *mem);
void resp_parser_clear(resp_parser *p);

/*
 * Feeds len bytes. *used is set to the bytes consumed; on RESP_OK the rest must be fed
 * again. A request taken on RESP_OK belongs to the caller (resp_argv_free). Empty
 * requests (an empty inline line, "*0", "*-1") are consumed silently. On RESP_ERROR, *err
 * is Redis' text, e.g. "Protocol error: invalid bulk length" (no "ERR " prefix), and the
 * parser must not be fed again.
 */
resp_status resp_parse(resp_parser *p, const resp_limits *lim, const char *buf, size_t len,
                       size_t *used, resp_arg **argv, int *argc, const char **err);

/*
 * While the parser is inside a bulk of at least RESP_BIG_ARG bytes, the caller may read
 * the socket straight into the argument: *dst and *want tell where and how many bytes
 * the bulk still lacks (the trailing CRLF is not included). After reading n bytes there,
 * call resp_bulk_commit(p, n). False when no such bulk is in progress.
 */
bool resp_bulk_window(resp_parser *p, char **dst, size_t *want);
void resp_bulk_commit(resp_parser *p, size_t n);

/* The bytes the parser holds for the request it has not finished: every argument allocated
 * so far at its allocated size (a bulk is allocated whole when its length line arrives,
 * however little of its data came yet), the argument array, and a length or inline line
 * split across feeds. 0 between requests. Redis' CLIENT LIST argv-mem. */
size_t resp_parser_held(const resp_parser *p);

void resp_argv_free(resp_arg *argv, int argc);

/* ---- replies ------------------------------------------------------------------------
 * proto is 2 or 3. RESP2 forms follow Redis: null -> $-1 (*-1 for a null array), bool ->
 * :1/:0, map -> flat array of 2N, set -> array, double and verbatim -> bulk string, push ->
 * array. */
void resp_add_simple(struct evbuffer *b, const char *s);
/* text is "CODE message", e.g. "ERR unknown command"; CR and LF in it become spaces. */
void resp_add_error(struct evbuffer *b, const char *text);
void resp_add_errorf(struct evbuffer *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void resp_add_int(struct evbuffer *b, long long v);
void resp_add_bulk(struct evbuffer *b, const void *p, size_t len);
void resp_add_bulk_str(struct evbuffer *b, const char *s);
void resp_add_bulkf(struct evbuffer *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void resp_add_null(struct evbuffer *b, int proto);
void resp_add_null_array(struct evbuffer *b, int proto);
void resp_add_array(struct evbuffer *b, long n);
void resp_add_map(struct evbuffer *b, int proto, long n);
void resp_add_set(struct evbuffer *b, int proto, long n);
void resp_add_push(struct evbuffer *b, int proto, long n);
void resp_add_bool(struct evbuffer *b, int proto, bool v);
/* RESP3 ",<d>" with inf, -inf, nan; RESP2 a bulk string of the same text. */
void resp_add_double(struct evbuffer *b, int proto, double v);
/* RESP3 "=<len+4>\r\n<fmt>:<text>" (fmt is three letters, e.g. "txt"); RESP2 a bulk. */
void resp_add_verbatim(struct evbuffer *b, int proto, const char *fmt, const void *p, size_t len);

#endif

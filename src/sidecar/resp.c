/*
 * resp: turns the bytes a client sends into requests (argument vectors) and replies into
 * RESP bytes. Owns the parser's state between feeds and each partial request until it is
 * handed over. Must never look at what a request means, never keep global state, and never
 * copy bulk data more than once on its way from the caller's buffer into an argument.
 */
#include "resp.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "xalloc.h"

enum parse_state {
    PS_START,   /* between requests */
    PS_INLINE,  /* an inline request, its newline not seen yet */
    PS_COUNT,   /* after '*': the argument count line */
    PS_ARG,     /* the '$' of the next argument */
    PS_BULKLEN, /* after '$': the bulk length line */
    PS_DATA,    /* bulk data */
    PS_CRLF,    /* the CRLF after bulk data */
    PS_FAILED,  /* out of sync for good */
};

struct resp_parser {
    enum parse_state state;
    /* A line split across feeds; lines that arrive whole are parsed in place. */
    char *line;
    size_t line_len, line_cap;
    /* The request being built; argv[argc - 1] is being filled in PS_DATA / PS_CRLF. */
    resp_arg *argv;
    int argc, argv_cap;
    int nargs;        /* arguments the multibulk announced */
    size_t req_bytes; /* all argument bytes of this request so far */
    size_t data_have; /* bytes of argv[argc - 1] filled */
    int crlf_seen;
    const char *err;
    char errbuf[48]; /* for the one error text that quotes the input */
};

static const char ERR_TOO_BIG_INLINE[] = "Protocol error: too big inline request";
static const char ERR_TOO_BIG_COUNT[] = "Protocol error: too big mbulk count string";
static const char ERR_TOO_BIG_BULKLEN[] = "Protocol error: too big bulk count string";
static const char ERR_MBULK_LEN[] = "Protocol error: invalid multibulk length";
static const char ERR_BULK_LEN[] = "Protocol error: invalid bulk length";
/* the limits before AUTH (RESP_RESTRICTED_*), worded as Redis' networking.c words them */
static const char ERR_MBULK_UNAUTH[] = "Protocol error: unauthenticated multibulk length";
static const char ERR_BULK_UNAUTH[] = "Protocol error: unauthenticated bulk length";
static const char ERR_TOO_BIG_REQ[] = "Protocol error: too big request";
static const char ERR_QUOTES[] = "Protocol error: unbalanced quotes in request";
static const char ERR_CRLF[] = "Protocol error: expected CRLF after bulk data";

resp_parser *resp_parser_new(void)
{
    return resp_parser_init(xmalloc(sizeof(resp_parser)));
}

size_t resp_parser_size(void)
{
    return sizeof(resp_parser);
}

resp_parser *resp_parser_init(void *mem)
{
    resp_parser *p = mem;

    memset(p, 0, sizeof(*p));
    p->state = PS_START;
    return p;
}

void resp_argv_free(resp_arg *argv, int argc)
{
    if (argv == NULL)
        return;
    for (int i = 0; i < argc; i++)
        free(argv[i].ptr);
    free(argv);
}

static void reset_request(resp_parser *p)
{
    p->argv = NULL;
    p->argc = 0;
    p->argv_cap = 0;
    p->nargs = 0;
    p->req_bytes = 0;
}

void resp_parser_clear(resp_parser *p)
{
    if (p == NULL)
        return;
    resp_argv_free(p->argv, p->argc);
    free(p->line);
    resp_parser_init(p);
}

void resp_parser_free(resp_parser *p)
{
    resp_parser_clear(p);
    free(p);
}

static resp_status fail(resp_parser *p, const char *err, size_t pos, size_t *used,
                        const char **errp)
{
    p->state = PS_FAILED;
    p->err = err;
    *used = pos;
    *errp = err;
    return RESP_ERROR;
}

enum line_result { LINE_DONE, LINE_MORE, LINE_TOO_BIG };

static void line_append(resp_parser *p, const char *s, size_t n)
{
    if (p->line_len + n > p->line_cap) {
        size_t cap = p->line_cap ? p->line_cap : 128;

        while (cap < p->line_len + n)
            cap *= 2;
        if (cap > RESP_INLINE_MAX)
            cap = RESP_INLINE_MAX;
        p->line = xrealloc(p->line, cap);
        p->line_cap = cap;
    }
    memcpy(p->line + p->line_len, s, n);
    p->line_len += n;
}

/*
 * Takes the rest of a line (up to, not including, '\n') from buf at *pos. A line is too big
 * when more than RESP_INLINE_MAX bytes precede its '\n'; deciding that from the line alone,
 * not from where reads happened to end, keeps the outcome independent of how input is split.
 * The scan is bounded so that a flood is rejected without reading all of it.
 */
static enum line_result take_line(resp_parser *p, const char *buf, size_t len, size_t *pos,
                                  const char **line, size_t *n)
{
    const char *start = buf + *pos;
    size_t avail = len - *pos;
    size_t room = RESP_INLINE_MAX - p->line_len;
    size_t scan = avail < room + 1 ? avail : room + 1;
    const char *nl;
    size_t k;

    if (avail == 0)
        return LINE_MORE;
    nl = memchr(start, '\n', scan);
    if (nl == NULL) {
        if (avail > room)
            return LINE_TOO_BIG;
        line_append(p, start, avail);
        *pos = len;
        return LINE_MORE;
    }
    k = (size_t)(nl - start);
    *pos += k + 1;
    if (p->line_len == 0) {
        *line = start;
        *n = k;
        return LINE_DONE;
    }
    line_append(p, start, k);
    *line = p->line;
    *n = p->line_len;
    return LINE_DONE;
}

/* A long line was an exception: don't let one keep 64 KiB per client forever. */
static void line_done(resp_parser *p)
{
    p->line_len = 0;
    if (p->line_cap > 4096) {
        free(p->line);
        p->line = NULL;
        p->line_cap = 0;
    }
}

/* Strips the CR of a length line; a line without one is not a length line at all. */
static bool strip_cr(const char *line, size_t *n)
{
    if (*n == 0 || line[*n - 1] != '\r')
        return false;
    (*n)--;
    return true;
}

/*
 * Room for one more argument. Doubling keeps a long request from reallocating per argument;
 * a multibulk's announced count (want_total, 0 for inline) caps the growth but is never
 * trusted for a bigger allocation up front, since it costs the client nothing to announce.
 */
static void argv_reserve(resp_parser *p, int want_total)
{
    int cap = p->argv_cap ? p->argv_cap : 8;

    if (p->argc < p->argv_cap)
        return;
    while (cap <= p->argc)
        cap = cap > INT_MAX / 2 ? INT_MAX : cap * 2;
    if (want_total > p->argc && cap > want_total)
        cap = want_total;
    p->argv = xrealloc(p->argv, (size_t)cap * sizeof(*p->argv));
    p->argv_cap = cap;
}

/* The limits every argument obeys, whichever way it came. */
static const char *check_bulk(const resp_parser *p, const resp_limits *lim, size_t n)
{
    if (n > lim->max_bulk)
        return ERR_BULK_LEN;
    if (lim->restricted && n > RESP_RESTRICTED_BULK)
        return ERR_BULK_UNAUTH;
    if (p->req_bytes > lim->max_request || n > lim->max_request - p->req_bytes)
        return ERR_TOO_BIG_REQ;
    return NULL;
}

static const char *check_count(const resp_limits *lim, long long n)
{
    if (n > INT_MAX || n > lim->max_args)
        return ERR_MBULK_LEN;
    if (lim->restricted && n > RESP_RESTRICTED_ARGS)
        return ERR_MBULK_UNAUTH;
    return NULL;
}

/* ---- inline requests: sdssplitargs' rules, quirks included ---------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * One argument starting at s (not at a space). The end of the line acts as sdssplitargs'
 * terminating NUL, and so does a NUL byte in it. With out NULL, only measures (*outlen);
 * otherwise writes the decoded argument. Returns where the next argument search starts, or
 * NULL for unbalanced quotes.
 */
static const char *split_one(const char *s, const char *end, char *out, size_t *outlen)
{
    enum { BARE, DQ, SQ } mode = BARE;
    size_t n = 0;

#define AT(q) ((q) < end ? *(q) : '\0')
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (out != NULL)                                                                           \
            out[n] = (c);                                                                          \
        n++;                                                                                       \
    } while (0)
    for (;;) {
        char c = AT(s);

        if (mode == DQ) {
            if (c == '\\' && AT(s + 1) == 'x' && hex_val(AT(s + 2)) >= 0 &&
                hex_val(AT(s + 3)) >= 0) {
                PUT((char)(hex_val(s[2]) * 16 + hex_val(s[3])));
                s += 4;
                continue;
            }
            if (c == '\\' && AT(s + 1) != '\0') {
                char e = s[1];

                switch (e) {
                case 'n':
                    e = '\n';
                    break;
                case 'r':
                    e = '\r';
                    break;
                case 't':
                    e = '\t';
                    break;
                case 'b':
                    e = '\b';
                    break;
                case 'a':
                    e = '\a';
                    break;
                default:
                    break;
                }
                PUT(e);
                s += 2;
                continue;
            }
            if (c == '"') {
                if (AT(s + 1) != '\0' && !is_space(s[1]))
                    return NULL;
                s++;
                break;
            }
            if (c == '\0')
                return NULL;
            PUT(c);
            s++;
        } else if (mode == SQ) {
            if (c == '\\' && AT(s + 1) == '\'') {
                PUT('\'');
                s += 2;
                continue;
            }
            if (c == '\'') {
                if (AT(s + 1) != '\0' && !is_space(s[1]))
                    return NULL;
                s++;
                break;
            }
            if (c == '\0')
                return NULL;
            PUT(c);
            s++;
        } else {
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
                s++;
                break;
            }
            if (c == '\0')
                break; /* not consumed: the caller stops there */
            if (c == '"')
                mode = DQ;
            else if (c == '\'')
                mode = SQ;
            else
                PUT(c);
            s++;
        }
    }
#undef PUT
#undef AT
    *outlen = n;
    return s;
}

/* Splits a whole inline line into p->argv; an empty line leaves argc at 0. */
static const char *inline_request(resp_parser *p, const resp_limits *lim, const char *s, size_t len)
{
    const char *end = s + len;

    for (;;) {
        const char *next;
        const char *err;
        size_t n;
        char *arg;

        while (s < end && is_space(*s))
            s++;
        if (s == end || *s == '\0')
            return NULL;
        next = split_one(s, end, NULL, &n);
        if (next == NULL)
            return ERR_QUOTES;
        if ((err = check_count(lim, (long long)p->argc + 1)) != NULL)
            return err;
        if ((err = check_bulk(p, lim, n)) != NULL)
            return err;
        argv_reserve(p, 0);
        arg = xmalloc(n + 1);
        split_one(s, end, arg, &n);
        arg[n] = '\0';
        p->argv[p->argc].ptr = arg;
        p->argv[p->argc].len = n;
        p->argc++;
        p->req_bytes += n;
        s = next;
    }
}

/* ---- the state machine ---------------------------------------------------------------- */

static resp_status hand_over(resp_parser *p, size_t pos, size_t *used, resp_arg **argv, int *argc)
{
    *argv = p->argv;
    *argc = p->argc;
    *used = pos;
    reset_request(p);
    p->state = PS_START;
    return RESP_OK;
}

resp_status resp_parse(resp_parser *p, const resp_limits *lim, const char *buf, size_t len,
                       size_t *used, resp_arg **argv, int *argc, const char **err)
{
    size_t pos = 0;
    const char *line = NULL;
    size_t n = 0;
    long long v;
    const char *e;

    *argv = NULL;
    *argc = 0;
    *err = NULL;
    for (;;) {
        switch (p->state) {
        case PS_START:
            if (pos == len)
                goto again;
            if (buf[pos] == '*') {
                pos++;
                p->state = PS_COUNT;
            } else {
                p->state = PS_INLINE;
            }
            break;

        case PS_INLINE:
            switch (take_line(p, buf, len, &pos, &line, &n)) {
            case LINE_MORE:
                goto again;
            case LINE_TOO_BIG:
                return fail(p, ERR_TOO_BIG_INLINE, pos, used, err);
            case LINE_DONE:
                break;
            }
            if (n > 0 && line[n - 1] == '\r')
                n--;
            e = inline_request(p, lim, line, n);
            line_done(p);
            if (e != NULL)
                return fail(p, e, pos, used, err);
            if (p->argc > 0)
                return hand_over(p, pos, used, argv, argc);
            p->state = PS_START;
            break;

        case PS_COUNT:
            switch (take_line(p, buf, len, &pos, &line, &n)) {
            case LINE_MORE:
                goto again;
            case LINE_TOO_BIG:
                return fail(p, ERR_TOO_BIG_COUNT, pos, used, err);
            case LINE_DONE:
                break;
            }
            if (!strip_cr(line, &n) || !parse_redis_ll(line, n, &v)) {
                line_done(p);
                return fail(p, ERR_MBULK_LEN, pos, used, err);
            }
            line_done(p);
            if ((e = check_count(lim, v)) != NULL)
                return fail(p, e, pos, used, err);
            if (v <= 0) {
                p->state = PS_START;
                break;
            }
            p->nargs = (int)v;
            p->state = PS_ARG;
            break;

        case PS_ARG:
            if (pos == len)
                goto again;
            if (buf[pos] != '$') {
                snprintf(p->errbuf, sizeof(p->errbuf), "Protocol error: expected '$', got '%c'",
                         buf[pos]);
                return fail(p, p->errbuf, pos, used, err);
            }
            pos++;
            p->state = PS_BULKLEN;
            break;

        case PS_BULKLEN: {
            char *arg;

            switch (take_line(p, buf, len, &pos, &line, &n)) {
            case LINE_MORE:
                goto again;
            case LINE_TOO_BIG:
                return fail(p, ERR_TOO_BIG_BULKLEN, pos, used, err);
            case LINE_DONE:
                break;
            }
            if (!strip_cr(line, &n) || !parse_redis_ll(line, n, &v) || v < 0) {
                line_done(p);
                return fail(p, ERR_BULK_LEN, pos, used, err);
            }
            line_done(p);
            if ((unsigned long long)v >= (unsigned long long)SIZE_MAX)
                return fail(p, ERR_BULK_LEN, pos, used, err);
            if ((e = check_bulk(p, lim, (size_t)v)) != NULL)
                return fail(p, e, pos, used, err);
            argv_reserve(p, p->nargs);
            arg = xmalloc((size_t)v + 1);
            arg[v] = '\0';
            p->argv[p->argc].ptr = arg;
            p->argv[p->argc].len = (size_t)v;
            p->argc++;
            p->req_bytes += (size_t)v;
            p->data_have = 0;
            p->crlf_seen = 0;
            p->state = v > 0 ? PS_DATA : PS_CRLF;
            break;
        }

        case PS_DATA: {
            resp_arg *a = &p->argv[p->argc - 1];
            size_t take = a->len - p->data_have;

            if (take > len - pos)
                take = len - pos;
            memcpy(a->ptr + p->data_have, buf + pos, take);
            p->data_have += take;
            pos += take;
            if (p->data_have < a->len)
                goto again;
            p->state = PS_CRLF;
            break;
        }

        case PS_CRLF:
            while (p->crlf_seen < 2) {
                if (pos == len)
                    goto again;
                if (buf[pos] != "\r\n"[p->crlf_seen])
                    return fail(p, ERR_CRLF, pos, used, err);
                pos++;
                p->crlf_seen++;
            }
            if (p->argc == p->nargs)
                return hand_over(p, pos, used, argv, argc);
            p->state = PS_ARG;
            break;

        case PS_FAILED:
            *used = 0;
            *err = p->err;
            return RESP_ERROR;
        }
    }
again:
    *used = len;
    return RESP_AGAIN;
}

bool resp_bulk_window(resp_parser *p, char **dst, size_t *want)
{
    resp_arg *a;

    if (p->state != PS_DATA)
        return false;
    a = &p->argv[p->argc - 1];
    if (a->len < RESP_BIG_ARG)
        return false;
    *dst = a->ptr + p->data_have;
    *want = a->len - p->data_have;
    return true;
}

void resp_bulk_commit(resp_parser *p, size_t n)
{
    resp_arg *a;

    if (p->state != PS_DATA)
        return;
    a = &p->argv[p->argc - 1];
    /* More than the window held cannot have been written there; never count past it. */
    if (n > a->len - p->data_have)
        n = a->len - p->data_have;
    p->data_have += n;
    if (p->data_have == a->len)
        p->state = PS_CRLF;
}

size_t resp_parser_held(const resp_parser *p)
{
    /* req_bytes sums the arguments' lengths; each has a NUL besides */
    return p->req_bytes + (size_t)p->argc + (size_t)p->argv_cap * sizeof(*p->argv) + p->line_cap;
}

/* ---- replies -------------------------------------------------------------------------- */

/* Decimal digits of v into dst (at least 20 bytes); returns their count. */
static size_t fmt_ll(char *dst, long long v)
{
    char tmp[24];
    size_t n = 0, k = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        dst[k++] = '-';
    while (n > 0)
        dst[k++] = tmp[--n];
    return k;
}

/* "<type><n>\r\n" into dst (at least 24 bytes); returns its length. */
static size_t fmt_header(char *dst, char type, long long n)
{
    size_t k = 0;

    dst[k++] = type;
    k += fmt_ll(dst + k, n);
    dst[k++] = '\r';
    dst[k++] = '\n';
    return k;
}

static void add_header(struct evbuffer *b, char type, long long n)
{
    char h[32];

    evbuffer_add(b, h, fmt_header(h, type, n));
}

/* One contiguous region, so that a reply is built in place and added in one piece. */
static char *reserve(struct evbuffer *b, size_t n, struct evbuffer_iovec *v)
{
    if (n > (size_t)EV_SSIZE_MAX || evbuffer_reserve_space(b, (ev_ssize_t)n, v, 1) < 1)
        return NULL;
    return v->iov_base;
}

static void commit(struct evbuffer *b, struct evbuffer_iovec *v, size_t n)
{
    v->iov_len = n;
    evbuffer_commit_space(b, v, 1);
}

/* A CR or LF would end the error line early and desync the client. */
static void sanitize(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n')
            s[i] = ' ';
}

void resp_add_simple(struct evbuffer *b, const char *s)
{
    size_t n = strlen(s);
    struct evbuffer_iovec v;
    char *d = reserve(b, n + 3, &v);

    if (d == NULL)
        return;
    d[0] = '+';
    memcpy(d + 1, s, n);
    memcpy(d + 1 + n, "\r\n", 2);
    commit(b, &v, n + 3);
}

void resp_add_error(struct evbuffer *b, const char *text)
{
    size_t n = strlen(text);
    struct evbuffer_iovec v;
    char *d = reserve(b, n + 3, &v);

    if (d == NULL)
        return;
    d[0] = '-';
    memcpy(d + 1, text, n);
    sanitize(d + 1, n);
    memcpy(d + 1 + n, "\r\n", 2);
    commit(b, &v, n + 3);
}

/*
 * The formatted text of fmt, measured first so that any length fits: as an error line
 * (prefix '-') or as a bulk string. vsnprintf's NUL lands where the CRLF then goes.
 */
__attribute__((format(printf, 3, 0))) static void add_formatted(struct evbuffer *b, bool error,
                                                                const char *fmt, va_list ap)
{
    char h[32];
    size_t hn;
    va_list ap2;
    int r;
    struct evbuffer_iovec v;
    char *d;

    va_copy(ap2, ap);
    r = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (r < 0)
        return;
    if (error) {
        h[0] = '-';
        hn = 1;
    } else {
        hn = fmt_header(h, '$', r);
    }
    d = reserve(b, hn + (size_t)r + 2 + 1, &v);
    if (d == NULL)
        return;
    memcpy(d, h, hn);
    vsnprintf(d + hn, (size_t)r + 1, fmt, ap);
    if (error)
        sanitize(d + hn, (size_t)r);
    memcpy(d + hn + (size_t)r, "\r\n", 2);
    commit(b, &v, hn + (size_t)r + 2);
}

void resp_add_errorf(struct evbuffer *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_formatted(b, true, fmt, ap);
    va_end(ap);
}

void resp_add_bulkf(struct evbuffer *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_formatted(b, false, fmt, ap);
    va_end(ap);
}

void resp_add_int(struct evbuffer *b, long long v)
{
    add_header(b, ':', v);
}

void resp_add_bulk(struct evbuffer *b, const void *p, size_t len)
{
    char h[32];
    size_t hn = fmt_header(h, '$', (long long)len);
    struct evbuffer_iovec v;
    char *d = reserve(b, hn + len + 2, &v);

    if (d == NULL)
        return;
    memcpy(d, h, hn);
    if (len > 0)
        memcpy(d + hn, p, len);
    memcpy(d + hn + len, "\r\n", 2);
    commit(b, &v, hn + len + 2);
}

void resp_add_bulk_str(struct evbuffer *b, const char *s)
{
    resp_add_bulk(b, s, strlen(s));
}

void resp_add_null(struct evbuffer *b, int proto)
{
    if (proto >= 3)
        evbuffer_add(b, "_\r\n", 3);
    else
        evbuffer_add(b, "$-1\r\n", 5);
}

void resp_add_null_array(struct evbuffer *b, int proto)
{
    if (proto >= 3)
        evbuffer_add(b, "_\r\n", 3);
    else
        evbuffer_add(b, "*-1\r\n", 5);
}

void resp_add_array(struct evbuffer *b, long n)
{
    add_header(b, '*', n);
}

void resp_add_map(struct evbuffer *b, int proto, long n)
{
    if (proto >= 3)
        add_header(b, '%', n);
    else
        add_header(b, '*', 2 * (long long)n);
}

void resp_add_set(struct evbuffer *b, int proto, long n)
{
    add_header(b, proto >= 3 ? '~' : '*', n);
}

void resp_add_push(struct evbuffer *b, int proto, long n)
{
    add_header(b, proto >= 3 ? '>' : '*', n);
}

void resp_add_bool(struct evbuffer *b, int proto, bool v)
{
    if (proto >= 3)
        evbuffer_add(b, v ? "#t\r\n" : "#f\r\n", 4);
    else
        evbuffer_add(b, v ? ":1\r\n" : ":0\r\n", 4);
}

/* The shortest of %.15g, %.16g, %.17g that reads back as v: 0.1 stays "0.1", not
 * "0.10000000000000001", and no value loses a bit. */
static size_t fmt_double(char *dst, size_t cap, double v)
{
    int n = 0;

    if (isnan(v))
        return (size_t)snprintf(dst, cap, "nan");
    if (isinf(v))
        return (size_t)snprintf(dst, cap, "%s", v > 0 ? "inf" : "-inf");
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(dst, cap, "%.*g", prec, v);
        if (strtod(dst, NULL) == v)
            break;
    }
    return (size_t)n;
}

void resp_add_double(struct evbuffer *b, int proto, double v)
{
    char d[40];
    size_t n = fmt_double(d + 1, sizeof(d) - 3, v);

    if (proto < 3) {
        resp_add_bulk(b, d + 1, n);
        return;
    }
    d[0] = ',';
    memcpy(d + 1 + n, "\r\n", 2);
    evbuffer_add(b, d, n + 3);
}

void resp_add_verbatim(struct evbuffer *b, int proto, const char *fmt, const void *p, size_t len)
{
    char h[32];
    size_t hn;
    struct evbuffer_iovec v;
    char *d;

    if (proto < 3) {
        resp_add_bulk(b, p, len);
        return;
    }
    /* The format is always three bytes on the wire; anything else is not a format. */
    if (strlen(fmt) != 3)
        fmt = "txt";
    hn = fmt_header(h, '=', (long long)len + 4);
    d = reserve(b, hn + 4 + len + 2, &v);
    if (d == NULL)
        return;
    memcpy(d, h, hn);
    memcpy(d + hn, fmt, 3);
    d[hn + 3] = ':';
    if (len > 0)
        memcpy(d + hn + 4, p, len);
    memcpy(d + hn + 4 + len, "\r\n", 2);
    commit(b, &v, hn + 4 + len + 2);
}

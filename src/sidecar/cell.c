/*
 * cell: Redis' string and expiry commands on one key's value (cell.h). Numbers follow
 * Redis' strict rules (no blanks, no '+', no leading zeros, at most 20 characters), floats
 * its long double arithmetic and human format, and every reply and error is Redis 7.2's,
 * except where NoriKV cannot do what Redis does; those errors say why.
 */
#include "cell.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "xalloc.h"

#define ERR_NOT_INT   "ERR value is not an integer or out of range"
#define ERR_NOT_FLOAT "ERR value is not a valid float"
#define ERR_SYNTAX    "ERR syntax error"
#define ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define NO_TTL_READ                                                                                \
    "the key's value is plain (not in the typed format), and NoriKV does not expose a key's "      \
    "remaining time to live"

#define INT_CHARS_MAX   20 /* "-9223372036854775808" */
#define FLOAT_CHARS_MAX CELL_FLOAT_CHARS_MAX

/* ---- the cell ------------------------------------------------------------------------ */

void cell_init(cell *c)
{
    memset(c, 0, sizeof(*c));
}

void cell_set_read(cell *c, const void *value, size_t len, int64_t now_ms)
{
    tval v;

    cell_init(c);
    if (tval_decode(value, len, &v)) {
        if (v.expire_at != 0 && v.expire_at <= now_ms)
            return; /* expired: NoriKV's own TTL is about to drop it */
        c->ttl_known = true;
        c->expire_at = v.expire_at;
        c->read_typed = true;
    }
    c->exists = true;
    c->type = v.type;
    c->value = xmemdup0(v.payload, v.len);
    c->len = v.len;
}

bool cell_is_typed(const cell *c, bool typed_strings)
{
    return c->type != TVAL_STRING || typed_strings || tval_looks_typed(c->value, c->len);
}

const char *cell_stored(const cell *c, bool typed_strings, size_t *len, char **owned)
{
    char *buf;

    *owned = NULL;
    if (!cell_is_typed(c, typed_strings)) {
        *len = c->len;
        return c->value;
    }
    buf = xmalloc(TVAL_HEADER_LEN + c->len + 1);
    tval_header((unsigned char *)buf, c->type, c->ttl_known ? c->expire_at : 0);
    if (c->len > 0)
        memcpy(buf + TVAL_HEADER_LEN, c->value, c->len);
    buf[TVAL_HEADER_LEN + c->len] = '\0';
    *len = TVAL_HEADER_LEN + c->len;
    *owned = buf;
    return buf;
}

bool cell_reply_over(const cell_ctx *x, struct evbuffer *out, const char *hint)
{
    if (x->reply_max == 0 || evbuffer_get_length(out) <= x->reply_max)
        return false;
    evbuffer_drain(out, evbuffer_get_length(out));
    resp_add_errorf(out, "ERR reply over max_reply (%zu bytes): %s", x->reply_max, hint);
    return true;
}

size_t cell_payload_max(const cell_ctx *x, tval_type type)
{
    if (type == TVAL_STRING && !x->typed_strings)
        return CELL_VALUE_LIMIT;
    return CELL_VALUE_LIMIT - TVAL_HEADER_LEN;
}

void cell_free(cell *c)
{
    free(c->value);
    cell_init(c);
}

uint64_t cell_put_ttl(const cell *c, int64_t now_ms, bool *expired)
{
    *expired = false;
    if (!c->ttl_known || c->expire_at == 0)
        return 0;
    if (c->expire_at <= now_ms) {
        *expired = true;
        return 0;
    }
    return (uint64_t)(c->expire_at - now_ms);
}

void cell_take(cell *c, tval_type type, char *buf, size_t len)
{
    free(c->value);
    if (!c->exists) {
        c->ttl_known = true;
        c->expire_at = 0;
    }
    c->exists = true;
    c->type = type;
    c->value = buf;
    c->len = len;
    c->dirty = true;
}

/* A string's value becomes buf; a key created this way has no TTL, as in Redis. */
static void take_value(cell *c, char *buf, size_t len)
{
    cell_take(c, TVAL_STRING, buf, len);
}

static void copy_value(cell *c, const void *p, size_t len)
{
    take_value(c, xmemdup0(p, len), len);
}

void cell_remove(cell *c)
{
    if (!c->exists)
        return;
    free(c->value);
    c->value = NULL;
    c->len = 0;
    c->exists = false;
    c->type = TVAL_STRING;
    c->ttl_known = true;
    c->expire_at = 0;
    c->dirty = true;
}

/* The key expires at when (Unix ms); a time already past deletes it now, as Redis does. */
static void set_expiry(cell *c, int64_t when, int64_t now_ms)
{
    if (when <= now_ms) {
        cell_remove(c);
        return;
    }
    c->ttl_known = true;
    c->expire_at = when;
    c->dirty = true;
}

/* ---- replies ------------------------------------------------------------------------- */

static bool fail(struct evbuffer *out, const char *text)
{
    resp_add_error(out, text);
    return false;
}

bool cell_want(const cell *c, tval_type want, struct evbuffer *out)
{
    if (c->exists && c->type != want)
        return fail(out, ERR_WRONGTYPE);
    return true;
}

/* The key holds a string, or nothing. */
static bool is_string(const cell *c, struct evbuffer *out)
{
    return cell_want(c, TVAL_STRING, out);
}

static void reply_value(const cell *c, const cell_ctx *x, struct evbuffer *out)
{
    if (c->exists)
        resp_add_bulk(out, c->value, c->len);
    else
        resp_add_null(out, x->proto);
}

/* A string result of len bytes fits a NoriKV value; else the error is the reply. */
static bool fits(size_t len, const cell_ctx *x, struct evbuffer *out)
{
    size_t max = cell_payload_max(x, TVAL_STRING);

    if (len > max) {
        resp_add_errorf(out,
                        "ERR string exceeds maximum allowed size (NoriKV values are at most "
                        "%u bytes%s)",
                        CELL_VALUE_LIMIT,
                        max < CELL_VALUE_LIMIT ? ", the typed format's header included" : "");
        return false;
    }
    return true;
}

/* A value the client gave whole fits; else the error the plain SET path gives for it (the
 * cluster client's own check, README "Errors"), so SET answers alike on every path. */
static bool value_fits(const resp_arg *v, const cell_ctx *x, struct evbuffer *out)
{
    size_t max = cell_payload_max(x, TVAL_STRING);

    if (v->len > max) {
        resp_add_errorf(out, "ERR invalid argument: value of %zu bytes exceeds the limit of %zu",
                        v->len, max);
        return false;
    }
    return true;
}

/* The command's name as Redis prints it in errors: lower case (upper when upper). */
static void name_of(const resp_arg *a, bool upper, char *buf, size_t cap)
{
    size_t i;

    for (i = 0; i < a->len && i + 1 < cap; i++) {
        unsigned char ch = (unsigned char)a->ptr[i];
        buf[i] = (char)(upper ? toupper(ch) : tolower(ch));
    }
    buf[i] = '\0';
}

static bool fail_expire_time(const resp_arg *name, struct evbuffer *out)
{
    char n[32];

    name_of(name, false, n, sizeof(n));
    resp_add_errorf(out, "ERR invalid expire time in '%s' command", n);
    return false;
}

/* ---- numbers --------------------------------------------------------------------------- */

static bool arg_ll(const resp_arg *a, long long *v, struct evbuffer *out)
{
    if (!parse_redis_ll(a->ptr, a->len, v))
        return fail(out, ERR_NOT_INT);
    return true;
}

/* Redis' float syntax: what strtold reads, the whole of it, no leading blank, not NaN,
 * not out of range (infinity itself is accepted, as Redis does). */
bool cell_parse_ld(const char *p, size_t len, long double *out)
{
    char buf[FLOAT_CHARS_MAX], *end;
    long double v;

    if (len == 0 || len >= sizeof(buf) || memchr(p, '\0', len) != NULL)
        return false;
    memcpy(buf, p, len);
    buf[len] = '\0';
    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || *end != '\0' || isnan(v))
        return false;
    if (errno == EINVAL || (errno == ERANGE && (isinf(v) || v == 0)))
        return false;
    *out = v;
    return true;
}

/* Redis' human float format: 17 decimals, trailing zeros and dot removed, no "-0". */
size_t cell_format_ld(char *buf, size_t cap, long double v)
{
    int n = snprintf(buf, cap, "%.17Lf", v);
    size_t len = n < 0 || (size_t)n >= cap ? 0 : (size_t)n;

    if (memchr(buf, '.', len) != NULL) {
        while (buf[len - 1] == '0')
            len--;
        if (buf[len - 1] == '.')
            len--;
    }
    if (len == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        len = 1;
    }
    buf[len] = '\0';
    return len;
}

/* ---- options: SET, GETEX, SETEX ------------------------------------------------------ */

enum {
    O_NX = 1 << 0,
    O_XX = 1 << 1,
    O_GET = 1 << 2,
    O_KEEPTTL = 1 << 3,
    O_PERSIST = 1 << 4,
    O_EX = 1 << 5,
    O_PX = 1 << 6,
    O_EXAT = 1 << 7,
    O_PXAT = 1 << 8,
};
#define O_TIME    (O_EX | O_PX | O_EXAT | O_PXAT)
#define O_SET     (O_NX | O_XX | O_GET | O_KEEPTTL | O_TIME)
#define O_GETEX   (O_PERSIST | O_TIME)
#define O_SECONDS (O_EX | O_EXAT)
#define O_REL     (O_EX | O_PX)

/* Each option, and the options it cannot follow. A time option may repeat (the last one
 * counts), as may the flags; Redis' rules. */
static const struct opt_rule {
    const char *name;
    unsigned flag, clash;
} opt_rules[] = {
    {"NX", O_NX, O_XX},
    {"XX", O_XX, O_NX},
    {"GET", O_GET, 0},
    {"KEEPTTL", O_KEEPTTL, O_PERSIST | O_TIME},
    {"PERSIST", O_PERSIST, O_KEEPTTL | O_TIME},
    {"EX", O_EX, O_KEEPTTL | O_PERSIST | (O_TIME & ~O_EX)},
    {"PX", O_PX, O_KEEPTTL | O_PERSIST | (O_TIME & ~O_PX)},
    {"EXAT", O_EXAT, O_KEEPTTL | O_PERSIST | (O_TIME & ~O_EXAT)},
    {"PXAT", O_PXAT, O_KEEPTTL | O_PERSIST | (O_TIME & ~O_PXAT)},
};

typedef struct str_opts {
    unsigned flags;
    unsigned time;        /* the one O_TIME flag given, or 0 */
    const resp_arg *when; /* its argument */
} str_opts;

static bool arg_is(const resp_arg *a, const char *word)
{
    return a->len == strlen(word) && strncasecmp(a->ptr, word, a->len) == 0;
}

static const struct opt_rule *find_opt(const resp_arg *a, unsigned allowed)
{
    for (size_t i = 0; i < sizeof(opt_rules) / sizeof(opt_rules[0]); i++) {
        if ((opt_rules[i].flag & allowed) && arg_is(a, opt_rules[i].name))
            return &opt_rules[i];
    }
    return NULL;
}

/* The options from argv[from] on, of the set allowed; "syntax error" on anything else. */
static bool parse_str_opts(const resp_arg *argv, int argc, int from, unsigned allowed, str_opts *o,
                           struct evbuffer *out)
{
    memset(o, 0, sizeof(*o));
    for (int i = from; i < argc; i++) {
        const struct opt_rule *r = find_opt(&argv[i], allowed);

        if (r == NULL || (o->flags & r->clash))
            return fail(out, ERR_SYNTAX);
        if (r->flag & O_TIME) {
            if (i + 1 >= argc)
                return fail(out, ERR_SYNTAX);
            o->time = r->flag;
            o->when = &argv[++i];
        }
        o->flags |= r->flag;
    }
    return true;
}

/* The Unix ms an EX/PX/EXAT/PXAT argument stands for: positive, and no overflow. */
static bool expiry_when(unsigned time, const resp_arg *a, const resp_arg *name, const cell_ctx *x,
                        int64_t *when, struct evbuffer *out)
{
    long long v;

    if (!arg_ll(a, &v, out))
        return false;
    if (v <= 0)
        return fail_expire_time(name, out);
    if ((time & O_SECONDS) && __builtin_mul_overflow(v, 1000LL, &v))
        return fail_expire_time(name, out);
    if ((time & O_REL) && __builtin_add_overflow(v, (long long)x->now_ms, &v))
        return fail_expire_time(name, out);
    if (v <= 0)
        return fail_expire_time(name, out);
    *when = v;
    return true;
}

/* ---- reads ----------------------------------------------------------------------------- */

bool cell_get(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)argv;
    (void)argc;
    if (!is_string(c, out))
        return false;
    reply_value(c, x, out);
    return true;
}

bool cell_exists(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)x;
    (void)argv;
    (void)argc;
    resp_add_int(out, c->exists ? 1 : 0);
    return true;
}

bool cell_strlen(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)x;
    (void)argv;
    (void)argc;
    if (!is_string(c, out))
        return false;
    resp_add_int(out, (long long)c->len);
    return true;
}

/* Redis 7.2's rules: negative indexes count from the end, then both are clamped. */
bool cell_getrange(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    long long start, end, len = (long long)c->len;

    (void)x;
    (void)argc;
    if (!arg_ll(&argv[2], &start, out) || !arg_ll(&argv[3], &end, out) || !is_string(c, out))
        return false;
    if (!c->exists || len == 0 || (start < 0 && end < 0 && start > end)) {
        resp_add_bulk(out, "", 0);
        return true;
    }
    start = start < 0 ? (start + len < 0 ? 0 : start + len) : start;
    end = end < 0 ? (end + len < 0 ? 0 : end + len) : end;
    if (end >= len)
        end = len - 1;
    if (start > end)
        resp_add_bulk(out, "", 0);
    else
        resp_add_bulk(out, c->value + start, (size_t)(end - start + 1));
    return true;
}

/* The TTL readers' common part: 1 when the key is missing or has no TTL (-2 or -1
 * answered), -1 when its TTL cannot be read (the error answered), 0 when the caller answers. */
static int ttl_answered(const cell *c, const resp_arg *argv, struct evbuffer *out)
{
    char n[32];

    if (!c->exists) {
        resp_add_int(out, -2);
        return 1;
    }
    if (!c->ttl_known) {
        name_of(&argv[0], true, n, sizeof(n));
        resp_add_errorf(out, "ERR %s is not supported on this key: " NO_TTL_READ, n);
        return -1;
    }
    if (c->expire_at == 0) {
        resp_add_int(out, -1);
        return 1;
    }
    return 0;
}

bool cell_ttl(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    bool ms = argv[0].len > 0 && (argv[0].ptr[0] == 'p' || argv[0].ptr[0] == 'P');
    int answered = ttl_answered(c, argv, out);
    int64_t left;

    (void)argc;
    if (answered != 0)
        return answered > 0;
    left = c->expire_at - x->now_ms;
    if (left < 0)
        left = 0;
    resp_add_int(out, ms ? left : (left + 500) / 1000);
    return true;
}

/* EXPIRETIME and PEXPIRETIME: the absolute Unix time, -1 without a TTL, -2 when missing. */
bool cell_expiretime(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                     struct evbuffer *out)
{
    bool ms = argv[0].len > 0 && (argv[0].ptr[0] == 'p' || argv[0].ptr[0] == 'P');
    int answered = ttl_answered(c, argv, out);

    (void)x;
    (void)argc;
    if (answered != 0)
        return answered > 0;
    resp_add_int(out, ms ? c->expire_at : c->expire_at / 1000);
    return true;
}

bool cell_type(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)x;
    (void)argv;
    (void)argc;
    resp_add_simple(out, c->exists ? tval_type_name(c->type) : "none");
    return true;
}

/* How the value is stored: "raw" for plain bytes, "typed" for the typed format (tval.h). */
bool cell_object_encoding(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                          struct evbuffer *out)
{
    (void)argv;
    (void)argc;
    if (!c->exists)
        resp_add_null(out, x->proto);
    else
        resp_add_bulk(out, c->read_typed ? "typed" : "raw", c->read_typed ? 5 : 3);
    return true;
}

/* ---- SET and its kin ------------------------------------------------------------------- */

/* The value Redis' SET writes: the TTL is the one given (when, Unix ms) or none; a time
 * already past deletes the key. */
static void set_value(cell *c, const resp_arg *v, int64_t when, int64_t now_ms)
{
    if (when != 0 && when <= now_ms) {
        cell_remove(c);
        return;
    }
    copy_value(c, v->ptr, v->len);
    c->ttl_known = true;
    c->expire_at = when;
}

/* SET's option NoriKV cannot honour. */
static bool set_supported(unsigned flags, struct evbuffer *out)
{
    if (flags & O_NX)
        return fail(out, "ERR SET NX is not supported: NoriKV has no atomic put-if-absent");
    return true;
}

bool cell_set(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    str_opts o;
    int64_t when = 0;

    if (!parse_str_opts(argv, argc, 3, O_SET, &o, out) || !set_supported(o.flags, out))
        return false;
    if (o.time && !expiry_when(o.time, o.when, &argv[0], x, &when, out))
        return false;
    if (!value_fits(&argv[2], x, out))
        return false;
    if ((o.flags & O_GET) && !is_string(c, out))
        return false;
    if ((o.flags & O_KEEPTTL) && c->exists && !c->ttl_known)
        return fail(out, "ERR SET KEEPTTL is not supported on this key: " NO_TTL_READ);
    if (o.flags & O_GET)
        reply_value(c, x, out);
    if ((o.flags & O_XX) && !c->exists) {
        if (!(o.flags & O_GET))
            resp_add_null(out, x->proto);
        return true;
    }
    if (o.flags & O_KEEPTTL)
        when = c->exists ? c->expire_at : 0;
    set_value(c, &argv[2], when, x->now_ms);
    if (!(o.flags & O_GET))
        resp_add_simple(out, "OK");
    return true;
}

/* SETEX and PSETEX: key, time, value. */
static bool setex_common(cell *c, const cell_ctx *x, const resp_arg *argv, unsigned unit,
                         struct evbuffer *out)
{
    int64_t when = 0;

    if (!expiry_when(unit, &argv[2], &argv[0], x, &when, out) || !value_fits(&argv[3], x, out))
        return false;
    set_value(c, &argv[3], when, x->now_ms);
    resp_add_simple(out, "OK");
    return true;
}

bool cell_setex(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)argc;
    return setex_common(c, x, argv, O_EX, out);
}

bool cell_psetex(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)argc;
    return setex_common(c, x, argv, O_PX, out);
}

bool cell_getset(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)argc;
    if (!value_fits(&argv[2], x, out) || !is_string(c, out))
        return false;
    reply_value(c, x, out);
    set_value(c, &argv[2], 0, x->now_ms);
    return true;
}

bool cell_getdel(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)argv;
    (void)argc;
    if (!is_string(c, out))
        return false;
    reply_value(c, x, out);
    cell_remove(c);
    return true;
}

/* GETEX with PERSIST: the key is rewritten without a TTL unless it is known to have none. */
static void drop_ttl(cell *c)
{
    if (c->ttl_known && c->expire_at == 0)
        return;
    c->ttl_known = true;
    c->expire_at = 0;
    c->dirty = true;
}

bool cell_getex(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    str_opts o;
    int64_t when = 0;

    if (!parse_str_opts(argv, argc, 2, O_GETEX, &o, out) || !is_string(c, out))
        return false;
    if (!c->exists) {
        resp_add_null(out, x->proto);
        return true;
    }
    if (o.time && !expiry_when(o.time, o.when, &argv[0], x, &when, out))
        return false;
    reply_value(c, x, out);
    if (o.time)
        set_expiry(c, when, x->now_ms);
    else if (o.flags & O_PERSIST)
        drop_ttl(c);
    return true;
}

bool cell_del(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)x;
    (void)argv;
    (void)argc;
    resp_add_int(out, c->exists ? 1 : 0);
    cell_remove(c);
    return true;
}

/* ---- counters -------------------------------------------------------------------------- */

static bool incr_by(cell *c, long long by, struct evbuffer *out)
{
    long long v = 0;
    char buf[INT_CHARS_MAX + 1];
    int n;

    if (!is_string(c, out))
        return false;
    if (c->exists && !parse_redis_ll(c->value, c->len, &v))
        return fail(out, ERR_NOT_INT);
    if (__builtin_add_overflow(v, by, &v))
        return fail(out, "ERR increment or decrement would overflow");
    n = snprintf(buf, sizeof(buf), "%lld", v);
    copy_value(c, buf, (size_t)n);
    resp_add_int(out, v);
    return true;
}

bool cell_incr(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)x;
    (void)argv;
    (void)argc;
    return incr_by(c, 1, out);
}

bool cell_decr(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)x;
    (void)argv;
    (void)argc;
    return incr_by(c, -1, out);
}

bool cell_incrby(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    long long by;

    (void)x;
    (void)argc;
    return arg_ll(&argv[2], &by, out) && incr_by(c, by, out);
}

bool cell_decrby(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    long long by;

    (void)x;
    (void)argc;
    if (!arg_ll(&argv[2], &by, out))
        return false;
    if (by == LLONG_MIN)
        return fail(out, "ERR decrement would overflow");
    return incr_by(c, -by, out);
}

bool cell_incrbyfloat(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                      struct evbuffer *out)
{
    long double v = 0, by;
    char buf[FLOAT_CHARS_MAX];
    size_t n;

    (void)x;
    (void)argc;
    if (!is_string(c, out))
        return false;
    if ((c->exists && !cell_parse_ld(c->value, c->len, &v)) ||
        !cell_parse_ld(argv[2].ptr, argv[2].len, &by))
        return fail(out, ERR_NOT_FLOAT);
    v += by;
    if (isnan(v) || isinf(v))
        return fail(out, "ERR increment would produce NaN or Infinity");
    n = cell_format_ld(buf, sizeof(buf), v);
    copy_value(c, buf, n);
    resp_add_bulk(out, buf, n);
    return true;
}

/* ---- APPEND, SETRANGE ------------------------------------------------------------------ */

bool cell_append(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    const resp_arg *a = &argv[2];
    size_t len = c->len + a->len;
    char *buf;

    (void)argc;
    if (!is_string(c, out) || !fits(len, x, out))
        return false;
    buf = xmalloc(len + 1);
    if (c->len > 0)
        memcpy(buf, c->value, c->len);
    memcpy(buf + c->len, a->ptr, a->len);
    buf[len] = '\0';
    take_value(c, buf, len);
    resp_add_int(out, (long long)len);
    return true;
}

/* The value with v written at off, zero bytes filling any gap. */
static void write_at(cell *c, size_t off, const resp_arg *v)
{
    size_t len = off + v->len > c->len ? off + v->len : c->len;
    char *buf = xcalloc(len + 1, 1);

    if (c->len > 0)
        memcpy(buf, c->value, c->len);
    memcpy(buf + off, v->ptr, v->len);
    take_value(c, buf, len);
}

bool cell_setrange(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    const resp_arg *v = &argv[3];
    long long off;

    (void)argc;
    if (!arg_ll(&argv[2], &off, out) || !is_string(c, out))
        return false;
    if (off < 0)
        return fail(out, "ERR offset is out of range");
    if (v->len == 0) {
        resp_add_int(out, (long long)c->len);
        return true;
    }
    if (v->len > CELL_VALUE_LIMIT || (unsigned long long)off > CELL_VALUE_LIMIT - v->len)
        return fits(SIZE_MAX, x, out);
    if (!fits((size_t)off + v->len, x, out))
        return false;
    write_at(c, (size_t)off, v);
    resp_add_int(out, (long long)c->len);
    return true;
}

/* ---- expiry ---------------------------------------------------------------------------- */

enum { E_NX = 1, E_XX = 2, E_GT = 4, E_LT = 8 };

/* EXPIRE's options from argv[3] on; *first is the first one given (for errors). */
static bool parse_expire_opts(const resp_arg *argv, int argc, unsigned *opts,
                              const resp_arg **first, struct evbuffer *out)
{
    static const char *const names[] = {"NX", "XX", "GT", "LT"};

    *opts = 0;
    *first = argc > 3 ? &argv[3] : NULL;
    for (int i = 3; i < argc; i++) {
        unsigned k = 0;

        while (k < 4 && !arg_is(&argv[i], names[k]))
            k++;
        if (k == 4) {
            resp_add_errorf(out, "ERR Unsupported option %s", argv[i].ptr);
            return false;
        }
        *opts |= 1u << k;
    }
    if ((*opts & E_NX) && (*opts & (E_XX | E_GT | E_LT)))
        return fail(out, "ERR NX and XX, GT or LT options at the same time are not compatible");
    if ((*opts & E_GT) && (*opts & E_LT))
        return fail(out, "ERR GT and LT options at the same time are not compatible");
    return true;
}

/* Whether the options let a key expiring at cur (0: never) get the new time when. */
static bool expire_allowed(unsigned opts, int64_t cur, int64_t when)
{
    if ((opts & E_NX) && cur != 0)
        return false;
    if ((opts & E_XX) && cur == 0)
        return false;
    if ((opts & E_GT) && (cur == 0 || when <= cur))
        return false;
    if ((opts & E_LT) && cur != 0 && when >= cur)
        return false;
    return true;
}

/* The time argument as Unix ms; relative ones count from now, seconds are scaled. */
static bool expire_time(const resp_arg *argv, const cell_ctx *x, bool ms, bool at, int64_t *when,
                        struct evbuffer *out)
{
    long long v;

    if (!arg_ll(&argv[2], &v, out))
        return false;
    if (!ms && __builtin_mul_overflow(v, 1000LL, &v))
        return fail_expire_time(&argv[0], out);
    if (!at && __builtin_add_overflow(v, (long long)x->now_ms, &v))
        return fail_expire_time(&argv[0], out);
    *when = v;
    return true;
}

static bool fail_unknown_ttl(const resp_arg *name, const resp_arg *opt, struct evbuffer *out)
{
    char n[32], o[8];

    name_of(name, true, n, sizeof(n));
    name_of(opt, true, o, sizeof(o));
    resp_add_errorf(out, "ERR %s %s is not supported here: " NO_TTL_READ, n, o);
    return false;
}

static bool expire_common(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, bool ms,
                          bool at, struct evbuffer *out)
{
    unsigned opts;
    const resp_arg *first;
    int64_t when = 0;

    if (!parse_expire_opts(argv, argc, &opts, &first, out) ||
        !expire_time(argv, x, ms, at, &when, out))
        return false;
    if (!c->exists) {
        resp_add_int(out, 0);
        return true;
    }
    if (opts && !c->ttl_known)
        return fail_unknown_ttl(&argv[0], first, out);
    if (opts && !expire_allowed(opts, c->expire_at, when)) {
        resp_add_int(out, 0);
        return true;
    }
    set_expiry(c, when, x->now_ms);
    resp_add_int(out, 1);
    return true;
}

bool cell_expire(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return expire_common(c, x, argv, argc, false, false, out);
}

bool cell_pexpire(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return expire_common(c, x, argv, argc, true, false, out);
}

bool cell_expireat(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return expire_common(c, x, argv, argc, false, true, out);
}

bool cell_pexpireat(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                    struct evbuffer *out)
{
    return expire_common(c, x, argv, argc, true, true, out);
}

/* Known TTL: Redis' answer. Unknown: NoriKV cannot tell whether there was one, so the key
 * is rewritten without and the answer is 1. */
bool cell_persist(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)x;
    (void)argv;
    (void)argc;
    if (!c->exists || (c->ttl_known && c->expire_at == 0)) {
        resp_add_int(out, 0);
        return true;
    }
    drop_ttl(c);
    resp_add_int(out, 1);
    return true;
}

/* ---- keyless --------------------------------------------------------------------------- */

bool cell_ping(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)c;
    (void)x;
    if (argc > 2)
        return fail(out, "ERR wrong number of arguments for 'ping' command");
    if (argc == 2)
        resp_add_bulk(out, argv[1].ptr, argv[1].len);
    else
        resp_add_simple(out, "PONG");
    return true;
}

bool cell_echo(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)c;
    (void)x;
    (void)argc;
    resp_add_bulk(out, argv[1].ptr, argv[1].len);
    return true;
}

/* SELECT inside a transaction: NoriKV has one database, 0. */
bool cell_select(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    long long db;

    (void)c;
    (void)x;
    (void)argc;
    if (!arg_ll(&argv[1], &db, out))
        return false;
    if (db != 0)
        return fail(out, "ERR DB index is out of range");
    resp_add_simple(out, "OK");
    return true;
}

/* UNWATCH inside a transaction: EXEC ends the watch anyway; OK, as Redis answers. */
bool cell_unwatch(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    (void)c;
    (void)x;
    (void)argv;
    (void)argc;
    resp_add_simple(out, "OK");
    return true;
}

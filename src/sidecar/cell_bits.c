/*
 * cell_bits: the bit commands on one key's value (cell_bits.h), with Redis 7.2's argument
 * rules, replies and error texts, checked in Redis' order so that a request with several
 * faults gets Redis' error. Owns nothing beyond the cell it is given; a write that would
 * make the value longer than NoriKV holds (CELL_VALUE_LIMIT) fails with the cell unchanged.
 */
#include "cell_bits.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "xalloc.h"

#define ERR_NOT_INT "ERR value is not an integer or out of range"
#define ERR_SYNTAX  "ERR syntax error"
#define ERR_OFFSET  "ERR bit offset is not an integer or out of range"
#define ERR_BIT     "ERR bit is not an integer or out of range"
#define ERR_TYPE                                                                                   \
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "    \
    "i64 is."

static bool fail(struct evbuffer *out, const char *text)
{
    resp_add_error(out, text);
    return false;
}

static bool arg_is(const resp_arg *a, const char *word)
{
    return a->len == strlen(word) && strncasecmp(a->ptr, word, a->len) == 0;
}

static bool arg_ll(const resp_arg *a, long long *v, struct evbuffer *out)
{
    if (!parse_redis_ll(a->ptr, a->len, v))
        return fail(out, ERR_NOT_INT);
    return true;
}

/*
 * A bit offset as Redis reads one: a whole number from 0 to below 2^32 (512 MB of bits).
 * With width (BITFIELD), "#N" stands for N * width. Redis multiplies without checking; a
 * product past 64 bits is refused here.
 */
static bool bit_offset(const resp_arg *a, unsigned width, uint64_t *off, struct evbuffer *out)
{
    size_t skip = width > 0 && a->len > 0 && a->ptr[0] == '#' ? 1 : 0;
    long long v;

    if (!parse_redis_ll(a->ptr + skip, a->len - skip, &v) ||
        (skip && __builtin_mul_overflow(v, (long long)width, &v)) || v < 0 ||
        ((unsigned long long)v >> 3) >= CELL_BITS_REDIS_MAX_BYTES)
        return fail(out, ERR_OFFSET);
    *off = (uint64_t)v;
    return true;
}

/* Whether a write reaching bit `last` keeps the value within what NoriKV holds. */
/* A write reaching bit last keeps the value within what NoriKV stores (with the typed
 * format's header when strings are typed, cell.h cell_payload_max). */
static bool reach_fits(uint64_t last, const cell_ctx *x, struct evbuffer *out)
{
    size_t max = cell_payload_max(x, TVAL_STRING);

    if ((last >> 3) + 1 > max) {
        resp_add_errorf(out,
                        "ERR bit offset is out of range for NoriKV: values are at most %zu "
                        "bytes (bit offsets below %zu)",
                        max, max * 8);
        return false;
    }
    return true;
}

/* The value made at least nbytes long, zero bytes added: a missing key is created. */
static void grow_to(cell *c, size_t nbytes)
{
    char *buf;

    if (c->exists && c->len >= nbytes)
        return;
    buf = xcalloc(nbytes + 1, 1);
    if (c->len > 0)
        memcpy(buf, c->value, c->len);
    cell_take(c, TVAL_STRING, buf, nbytes);
}

static unsigned bit_at(const cell *c, uint64_t off)
{
    uint64_t byte = off >> 3;

    if (!c->exists || byte >= c->len)
        return 0;
    return ((unsigned char)c->value[byte] >> (7 - (off & 7))) & 1u;
}

/* ---- SETBIT, GETBIT ------------------------------------------------------------------ */

bool cell_setbit(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    uint64_t off;
    long long on;
    unsigned old;
    unsigned char mask;

    (void)argc;
    if (!bit_offset(&argv[2], 0, &off, out))
        return false;
    if (!parse_redis_ll(argv[3].ptr, argv[3].len, &on) || (on & ~1LL) != 0)
        return fail(out, ERR_BIT);
    if (!reach_fits(off, x, out) || !cell_want(c, TVAL_STRING, out))
        return false;
    old = bit_at(c, off);
    grow_to(c, (size_t)(off >> 3) + 1);
    if (old != (unsigned)on) {
        mask = (unsigned char)(1u << (7 - (off & 7)));
        c->value[off >> 3] = (char)(on ? (unsigned char)c->value[off >> 3] | mask
                                       : (unsigned char)c->value[off >> 3] & (unsigned char)~mask);
        c->dirty = true;
    }
    resp_add_int(out, old);
    return true;
}

bool cell_getbit(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    uint64_t off;

    (void)x;
    (void)argc;
    if (!bit_offset(&argv[2], 0, &off, out) || !cell_want(c, TVAL_STRING, out))
        return false;
    resp_add_int(out, bit_at(c, off));
    return true;
}

/* ---- BITCOUNT, BITPOS ------------------------------------------------------------------ */

/* BYTE (false) or BIT (true); else a syntax error. */
static bool range_unit(const resp_arg *a, bool *bits, struct evbuffer *out)
{
    if (arg_is(a, "BIT"))
        *bits = true;
    else if (arg_is(a, "BYTE"))
        *bits = false;
    else
        return fail(out, ERR_SYNTAX);
    return true;
}

/* Redis' range rules: a negative index counts from the end of total units, then both
 * ends are clamped into the value. */
static void clamp_range(long long *start, long long *end, long long total)
{
    if (*start < 0)
        *start += total;
    if (*end < 0)
        *end += total;
    if (*start < 0)
        *start = 0;
    if (*end < 0)
        *end = 0;
    if (*end >= total)
        *end = total - 1;
}

/* The bits set from bit `from` to bit `to`, both included, both within p. */
static long long count_ones(const unsigned char *p, uint64_t from, uint64_t to)
{
    uint64_t first = from >> 3, last = to >> 3, i;
    unsigned head = 0xffu >> (from & 7), tail = (0xffu << (7 - (to & 7))) & 0xffu;
    long long n;

    if (first == last)
        return __builtin_popcount(p[first] & head & tail);
    n = __builtin_popcount(p[first] & head) + __builtin_popcount(p[last] & tail);
    for (i = first + 1; i + 8 <= last; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof(w));
        n += __builtin_popcountll(w);
    }
    for (; i < last; i++)
        n += __builtin_popcount(p[i]);
    return n;
}

bool cell_bitcount(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    long long start = 0, end, total = (long long)c->len;
    bool bits = false;

    (void)x;
    if (!cell_want(c, TVAL_STRING, out))
        return false;
    if (!c->exists) { /* whatever the arguments, as Redis looks the key up first */
        resp_add_int(out, 0);
        return true;
    }
    if (argc == 4 || argc == 5) {
        if (!arg_ll(&argv[2], &start, out) || !arg_ll(&argv[3], &end, out))
            return false;
        if (start < 0 && end < 0 && start > end) {
            resp_add_int(out, 0);
            return true;
        }
        if (argc == 5 && !range_unit(&argv[4], &bits, out))
            return false;
        if (bits)
            total *= 8;
        clamp_range(&start, &end, total);
    } else if (argc == 2) {
        end = total - 1;
    } else {
        return fail(out, ERR_SYNTAX);
    }
    if (start > end) {
        resp_add_int(out, 0);
        return true;
    }
    if (!bits) {
        start *= 8;
        end = end * 8 + 7;
    }
    resp_add_int(out, count_ones((const unsigned char *)c->value, (uint64_t)start, (uint64_t)end));
    return true;
}

/* The first bit equal to bit from bit `from` to bit `to`, both included, or -1. */
static long long first_bit(const unsigned char *p, uint64_t from, uint64_t to, unsigned bit)
{
    unsigned char skip = bit ? 0x00 : 0xff;

    for (uint64_t i = from; i <= to;) {
        if ((i & 7) == 0 && i + 7 <= to && p[i >> 3] == skip) {
            i += 8;
            continue;
        }
        if (((p[i >> 3] >> (7 - (i & 7))) & 1u) == bit)
            return (long long)i;
        i++;
    }
    return -1;
}

/*
 * BITPOS key bit [start [end [BYTE|BIT]]]. A missing key is all zeros. Looking for a 0
 * without an end, the value counts as followed by zeros: all ones answer the bit just
 * past the range; with an end given, -1.
 */
bool cell_bitpos(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    long long bit, start = 0, end, total = (long long)c->len, pos;
    bool bits = false, end_given = false;

    (void)x;
    if (!arg_ll(&argv[2], &bit, out))
        return false;
    if (bit != 0 && bit != 1)
        return fail(out, "ERR The bit argument must be 1 or 0.");
    if (!cell_want(c, TVAL_STRING, out))
        return false;
    if (!c->exists) {
        resp_add_int(out, bit ? -1 : 0);
        return true;
    }
    if (argc >= 4 && argc <= 6) {
        if (!arg_ll(&argv[3], &start, out))
            return false;
        if (argc == 6 && !range_unit(&argv[5], &bits, out))
            return false;
        if (argc >= 5) {
            if (!arg_ll(&argv[4], &end, out))
                return false;
            end_given = true;
        } else {
            end = total - 1;
        }
        if (bits)
            total *= 8;
        clamp_range(&start, &end, total);
    } else if (argc == 3) {
        end = total - 1;
    } else {
        return fail(out, ERR_SYNTAX);
    }
    if (start > end) {
        resp_add_int(out, -1);
        return true;
    }
    if (!bits) {
        start *= 8;
        end = end * 8 + 7;
    }
    pos = first_bit((const unsigned char *)c->value, (uint64_t)start, (uint64_t)end, (unsigned)bit);
    if (pos < 0 && bit == 0 && !end_given)
        pos = end + 1;
    resp_add_int(out, pos);
    return true;
}

/* ---- BITFIELD -------------------------------------------------------------------------- */

enum bf_op { BF_GET, BF_SET, BF_INCRBY };
enum bf_overflow { BF_WRAP, BF_SAT, BF_FAIL };

typedef struct bf_step {
    enum bf_op op;
    enum bf_overflow overflow;
    bool is_signed;
    unsigned width; /* 1..64 signed, 1..63 unsigned */
    uint64_t off;
    long long arg; /* SET's value, INCRBY's increment */
} bf_step;

/* "i1".."i64" or "u1".."u63": the letter exactly, the number Redis' way (up to a NUL, as
 * Redis reads it). */
static bool bf_type(const resp_arg *a, bool *is_signed, unsigned *width, struct evbuffer *out)
{
    long long n;

    if (a->len == 0 || (a->ptr[0] != 'i' && a->ptr[0] != 'u'))
        return fail(out, ERR_TYPE);
    *is_signed = a->ptr[0] == 'i';
    if (!parse_redis_ll(a->ptr + 1, strlen(a->ptr + 1), &n) || n < 1 || n > (*is_signed ? 64 : 63))
        return fail(out, ERR_TYPE);
    *width = (unsigned)n;
    return true;
}

/* The width-bit field at off, bytes past the value reading as zero. */
static uint64_t field_get(const cell *c, uint64_t off, unsigned width)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < width; i++)
        v = v << 1 | bit_at(c, off + i);
    return v;
}

/* The value must reach off + width bits already. */
static void field_set(cell *c, uint64_t off, unsigned width, uint64_t v)
{
    for (unsigned i = 0; i < width; i++, off++) {
        unsigned char mask = (unsigned char)(1u << (7 - (off & 7)));
        unsigned char *b = (unsigned char *)&c->value[off >> 3];
        *b = (v >> (width - 1 - i)) & 1u ? (unsigned char)(*b | mask)
                                         : (unsigned char)(*b & (unsigned char)~mask);
    }
}

static int64_t sign_extend(uint64_t v, unsigned width)
{
    if (width < 64 && (v >> (width - 1)) & 1u)
        v |= UINT64_MAX << width;
    return (int64_t)v;
}

/*
 * Whether value + incr leaves the unsigned field of width bits (1 above, -1 below, 0 fits),
 * and in *res what WRAP or SAT stores then. A SET of a negative number is a huge value
 * here: above, as Redis has it.
 */
static int bf_unsigned(uint64_t value, long long incr, unsigned width, enum bf_overflow how,
                       uint64_t *res)
{
    uint64_t max = (UINT64_C(1) << width) - 1;
    int dir = 0;

    if (value > max || (incr > 0 && (uint64_t)incr > max - value))
        dir = 1;
    else if (incr < 0 && UINT64_C(0) - (uint64_t)incr > value)
        dir = -1;
    if (dir != 0)
        *res = how == BF_SAT ? (dir > 0 ? max : 0) : (value + (uint64_t)incr) & max;
    return dir;
}

/*
 * The same for a signed field. Redis compares incr with max - value and min - value in
 * 64-bit wrapping arithmetic; so does this, so that a SET far below the range (within
 * 2^bits of INT64_MIN) saturates at the top, as in Redis.
 */
static int bf_signed(int64_t value, long long incr, unsigned width, enum bf_overflow how,
                     int64_t *res)
{
    int64_t max = width == 64 ? INT64_MAX : (int64_t)((UINT64_C(1) << (width - 1)) - 1);
    int64_t min = -max - 1;
    int64_t room_up = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t room_down = (int64_t)((uint64_t)min - (uint64_t)value);
    uint64_t sum;
    int dir = 0;

    if (value > max || (width != 64 && incr > room_up) ||
        (value >= 0 && incr > 0 && incr > room_up))
        dir = 1;
    else if (value < min || (width != 64 && incr < room_down) ||
             (value < 0 && incr < 0 && incr < room_down))
        dir = -1;
    if (dir == 0)
        return 0;
    if (how == BF_SAT) {
        *res = dir > 0 ? max : min;
        return dir;
    }
    sum = (uint64_t)value + (uint64_t)incr;
    *res = sign_extend(width == 64 ? sum : sum & ((UINT64_C(1) << width) - 1), width);
    return dir;
}

/* One SET or INCRBY: its reply, and the field written unless FAIL refused it. */
static void bf_write(cell *c, const bf_step *s, int proto, struct evbuffer *out)
{
    int over;

    if (s->is_signed) {
        int64_t old = sign_extend(field_get(c, s->off, s->width), s->width), v, wrapped = 0;
        if (s->op == BF_INCRBY) {
            over = bf_signed(old, s->arg, s->width, s->overflow, &wrapped);
            v = over ? wrapped : (int64_t)((uint64_t)old + (uint64_t)s->arg);
        } else {
            over = bf_signed(s->arg, 0, s->width, s->overflow, &wrapped);
            v = over ? wrapped : s->arg;
        }
        if (over && s->overflow == BF_FAIL) {
            resp_add_null(out, proto);
            return;
        }
        resp_add_int(out, s->op == BF_INCRBY ? v : old);
        if (v != old) {
            field_set(c, s->off, s->width, (uint64_t)v);
            c->dirty = true;
        }
    } else {
        uint64_t old = field_get(c, s->off, s->width), v, wrapped = 0;
        if (s->op == BF_INCRBY) {
            over = bf_unsigned(old, s->arg, s->width, s->overflow, &wrapped);
            v = over ? wrapped : old + (uint64_t)s->arg;
        } else {
            over = bf_unsigned((uint64_t)s->arg, 0, s->width, s->overflow, &wrapped);
            v = over ? wrapped : (uint64_t)s->arg;
        }
        if (over && s->overflow == BF_FAIL) {
            resp_add_null(out, proto);
            return;
        }
        resp_add_int(out, (long long)(s->op == BF_INCRBY ? v : old));
        if (v != old) {
            field_set(c, s->off, s->width, v);
            c->dirty = true;
        }
    }
}

/* BITFIELD's operations, in order, and what their writes need. */
typedef struct bf_plan {
    bf_step *steps;
    int n;
    bool writes;
    uint64_t reach; /* the farthest bit a write touches */
} bf_plan;

/* Every operation parsed before any runs: Redis answers the first fault and runs nothing. */
static bool bf_parse(const resp_arg *argv, int argc, bf_plan *p, struct evbuffer *out)
{
    enum bf_overflow overflow = BF_WRAP;

    for (int i = 2; i < argc; i++) {
        int more = argc - i - 1;
        bf_step *s = &p->steps[p->n];

        if (arg_is(&argv[i], "GET") && more >= 2) {
            s->op = BF_GET;
        } else if (arg_is(&argv[i], "SET") && more >= 3) {
            s->op = BF_SET;
        } else if (arg_is(&argv[i], "INCRBY") && more >= 3) {
            s->op = BF_INCRBY;
        } else if (arg_is(&argv[i], "OVERFLOW") && more >= 1) {
            const resp_arg *how = &argv[++i];
            if (arg_is(how, "WRAP"))
                overflow = BF_WRAP;
            else if (arg_is(how, "SAT"))
                overflow = BF_SAT;
            else if (arg_is(how, "FAIL"))
                overflow = BF_FAIL;
            else
                return fail(out, "ERR Invalid OVERFLOW type specified");
            continue;
        } else {
            return fail(out, ERR_SYNTAX);
        }
        if (!bf_type(&argv[i + 1], &s->is_signed, &s->width, out) ||
            !bit_offset(&argv[i + 2], s->width, &s->off, out))
            return false;
        if (s->op != BF_GET) {
            p->writes = true;
            if (s->off + s->width - 1 > p->reach)
                p->reach = s->off + s->width - 1;
            if (!arg_ll(&argv[i + 3], &s->arg, out))
                return false;
        }
        s->overflow = overflow;
        p->n++;
        i += s->op == BF_GET ? 2 : 3;
    }
    return true;
}

/*
 * Runs the operations in order. A write first grows the value, zero-filled, to its
 * farthest field, even if FAIL then refuses it: Redis does the same.
 */
static bool bitfield(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, bool read_only,
                     struct evbuffer *out)
{
    bf_plan p = {xcalloc((size_t)argc, sizeof(bf_step)), 0, false, 0};
    bool ok = bf_parse(argv, argc, &p, out);

    if (ok && p.writes && read_only)
        ok = fail(out, "ERR BITFIELD_RO only supports the GET subcommand");
    if (ok)
        ok = cell_want(c, TVAL_STRING, out);
    if (ok && p.writes)
        ok = reach_fits(p.reach, x, out);
    if (ok) {
        if (p.writes)
            grow_to(c, (size_t)(p.reach >> 3) + 1);
        resp_add_array(out, p.n);
        for (int k = 0; k < p.n; k++) {
            const bf_step *s = &p.steps[k];
            if (s->op != BF_GET)
                bf_write(c, s, x->proto, out);
            else if (s->is_signed)
                resp_add_int(out, sign_extend(field_get(c, s->off, s->width), s->width));
            else
                resp_add_int(out, (long long)field_get(c, s->off, s->width));
        }
    }
    free(p.steps);
    return ok;
}

bool cell_bitfield(cell *c, const cell_ctx *x, const resp_arg *argv, int argc, struct evbuffer *out)
{
    return bitfield(c, x, argv, argc, false, out);
}

bool cell_bitfield_ro(cell *c, const cell_ctx *x, const resp_arg *argv, int argc,
                      struct evbuffer *out)
{
    return bitfield(c, x, argv, argc, true, out);
}

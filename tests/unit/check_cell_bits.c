/*
 * check_cell_bits: the bit commands on one key's value (src/sidecar/cell_bits.h). One
 * table: a command line, the value before (or a missing key), the exact reply bytes, the
 * result, and the value after with whether it is to be written; Redis 7.2's answers and
 * errors, NoriKV's own past its 1 MiB values. Then BITFIELD's overflow arithmetic against
 * a straightforward model, over every width and a spread of values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>
#include <event2/buffer.h>

#include "cell_bits.h"
#include "cellcase.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define NOTINT "-ERR value is not an integer or out of range\r\n"
#define SYNTAX "-ERR syntax error\r\n"
#define OFFSET "-ERR bit offset is not an integer or out of range\r\n"
#define BADBIT "-ERR bit is not an integer or out of range\r\n"
#define BADTYPE                                                                                    \
    "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "   \
    "i64 is.\r\n"
#define TOOFAR                                                                                     \
    "-ERR bit offset is out of range for NoriKV: values are at most 1048576 bytes (bit offsets "   \
    "below 8388608)\r\n"

/*
 * One case. The command line is split on spaces. The value before is val (has), else the
 * key is missing. On error, or with `same`, the cell must be as before and not dirty;
 * otherwise it holds a_zeros zero bytes then `after` (a_len bytes) and is dirty.
 */
typedef struct tcase {
    const char *cmd;
    int proto; /* 0: RESP2 */
    bool has;
    const char *val;
    size_t vlen;
    const char *reply;
    size_t reply_len;
    bool fail, same;
    const char *after;
    size_t a_len, a_zeros;
} tcase;

#define VAL(s) .has = true, .val = s, .vlen = sizeof(s) - 1
#define R(s)   .reply = s, .reply_len = sizeof(s) - 1
#define ERR(s) R(s), .fail = true
#define SAME   .same = true
#define W(s)   .after = s, .a_len = sizeof(s) - 1
#define WZ(s, zeros)                                                                               \
    W(s), .a_zeros = (zeros) /* s, then that many zero bytes: a value grown far                    \
                              */

static const tcase cases[] = {
    /* ---- SETBIT, GETBIT ---- */
    {"SETBIT k 7 1", R(":0\r\n"), W("\x01")},
    {"SETBIT k 0 1", VAL("\x01"), R(":0\r\n"), W("\x81")},
    {"SETBIT k 7 1", VAL("\x01"), R(":1\r\n"), SAME},
    {"SETBIT k 7 0", VAL("\x01"), R(":1\r\n"), W("\x00")},
    {"SETBIT k 7 0", VAL("\x00"), R(":0\r\n"), SAME},
    {"SETBIT k 0 0", R(":0\r\n"), W("\x00")}, /* a missing key is created, even for a 0 */
    {"SETBIT k 17 1", VAL("a"), R(":0\r\n"), W("a\x00\x40")},
    {"SETBIT k 16 0", VAL("a"), R(":0\r\n"), W("a\x00\x00")}, /* grown: written */
    {"SETBIT k 8388607 1", R(":0\r\n"), WZ("\x01", 1048575)},
    {"SETBIT k 8388608 1", ERR(TOOFAR)},
    {"SETBIT k 4294967295 0", VAL("a"), ERR(TOOFAR)},
    {"SETBIT k 4294967296 1", ERR(OFFSET)},
    {"SETBIT k -1 1", ERR(OFFSET)},
    {"SETBIT k 01 1", ERR(OFFSET)},
    {"SETBIT k #1 1", ERR(OFFSET)},
    {"SETBIT k x 2", ERR(OFFSET)}, /* the offset is checked first */
    {"SETBIT k 0 2", ERR(BADBIT)},
    {"SETBIT k 0 -1", ERR(BADBIT)},
    {"SETBIT k 0 x", ERR(BADBIT)},
    {"SETBIT k 9999999999 2", ERR(OFFSET)},
    {"SETBIT k 8388608 2", ERR(BADBIT)}, /* Redis' errors before NoriKV's limit */
    {"GETBIT k 0", R(":0\r\n"), SAME},
    {"GETBIT k 1", VAL("\x40"), R(":1\r\n"), SAME},
    {"GETBIT k 2", VAL("\x40"), R(":0\r\n"), SAME},
    {"GETBIT k 8", VAL("\xff"), R(":0\r\n"), SAME},
    {"GETBIT k 4294967295", VAL("\xff"), R(":0\r\n"), SAME},
    {"GETBIT k 4294967296", ERR(OFFSET)},
    {"GETBIT k -1", VAL("\xff"), ERR(OFFSET)},

    /* ---- BITCOUNT ---- */
    {"BITCOUNT k", R(":0\r\n"), SAME},
    {"BITCOUNT k a b c d", R(":0\r\n"), SAME}, /* a missing key: 0, whatever follows */
    {"BITCOUNT k", VAL("foobar"), R(":26\r\n"), SAME},
    {"BITCOUNT k 0 0", VAL("foobar"), R(":4\r\n"), SAME},
    {"BITCOUNT k 1 1", VAL("foobar"), R(":6\r\n"), SAME},
    {"BITCOUNT k 1 1 byte", VAL("foobar"), R(":6\r\n"), SAME},
    {"BITCOUNT k 5 30 BIT", VAL("foobar"), R(":17\r\n"), SAME},
    {"BITCOUNT k -1 -1", VAL("foobar"), R(":4\r\n"), SAME},
    {"BITCOUNT k -2 -1 BIT", VAL("foobar"), R(":1\r\n"), SAME},
    {"BITCOUNT k -1 -2", VAL("foobar"), R(":0\r\n"), SAME},
    {"BITCOUNT k -1 -2 FOO", VAL("foobar"), R(":0\r\n"), SAME}, /* answered before the unit */
    {"BITCOUNT k 3 2", VAL("foobar"), R(":0\r\n"), SAME},
    {"BITCOUNT k -100 100", VAL("foobar"), R(":26\r\n"), SAME},
    {"BITCOUNT k 0 9223372036854775807 BIT", VAL("foobar"), R(":26\r\n"), SAME},
    {"BITCOUNT k 1 6 BIT", VAL("\xff"), R(":6\r\n"), SAME},
    {"BITCOUNT k 3 3 BIT", VAL("\x10"), R(":1\r\n"), SAME},
    {"BITCOUNT k 0 0", VAL(""), R(":0\r\n"), SAME},
    {"BITCOUNT k 0", VAL("foobar"), ERR(SYNTAX)},
    {"BITCOUNT k 0 1 FOO", VAL("foobar"), ERR(SYNTAX)},
    {"BITCOUNT k 0 1 BIT x", VAL("foobar"), ERR(SYNTAX)},
    {"BITCOUNT k a 1", VAL("foobar"), ERR(NOTINT)},
    {"BITCOUNT k 0 b", VAL("foobar"), ERR(NOTINT)},

    /* ---- BITPOS ---- */
    {"BITPOS k 1", R(":-1\r\n"), SAME},
    {"BITPOS k 0 a b c", R(":0\r\n"), SAME},
    {"BITPOS k 2", ERR("-ERR The bit argument must be 1 or 0.\r\n")},
    {"BITPOS k x", VAL("\xff"), ERR(NOTINT)},
    {"BITPOS k 0", VAL("\xff\xf0\x00"), R(":12\r\n"), SAME},
    {"BITPOS k 1", VAL("\x00\xff\xf0"), R(":8\r\n"), SAME},
    {"BITPOS k 1 2 -1 BYTE", VAL("\x00\xff\xf0"), R(":16\r\n"), SAME},
    {"BITPOS k 1 7 15 BIT", VAL("\x00\xff\xf0"), R(":8\r\n"), SAME},
    {"BITPOS k 0 0", VAL("\xff\xff\xff"), R(":24\r\n"), SAME},    /* zeros follow the value */
    {"BITPOS k 0 0 -1", VAL("\xff\xff\xff"), R(":-1\r\n"), SAME}, /* unless an end is given */
    {"BITPOS k 0 2", VAL("\xff\xff\xff"), R(":24\r\n"), SAME},
    {"BITPOS k 0 3 9 BIT", VAL("\xff\xff\xff"), R(":-1\r\n"), SAME},
    {"BITPOS k 1 0 -1", VAL("\x00\x00"), R(":-1\r\n"), SAME},
    {"BITPOS k 1 9 9 BIT", VAL("\x00\x40"), R(":9\r\n"), SAME},
    {"BITPOS k 1 10 15 BIT", VAL("\x00\x40"), R(":-1\r\n"), SAME},
    {"BITPOS k 1 5 1", VAL("\xff"), R(":-1\r\n"), SAME},
    {"BITPOS k 0", VAL(""), R(":-1\r\n"), SAME},
    {"BITPOS k 0 1 x FOO", VAL("\xff"), ERR(SYNTAX)}, /* the unit before the end */
    {"BITPOS k 0 1 x", VAL("\xff"), ERR(NOTINT)},
    {"BITPOS k 0 1 2 BIT x", VAL("\xff"), ERR(SYNTAX)},

    /* ---- BITFIELD ---- */
    {"BITFIELD k", R("*0\r\n"), SAME},
    {"BITFIELD k GET u8 0", R("*1\r\n:0\r\n"), SAME},
    {"BITFIELD k SET u8 0 255 GET u8 0 INCRBY u8 0 1", R("*3\r\n:0\r\n:255\r\n:0\r\n"), W("\x00")},
    {"BITFIELD k OVERFLOW SAT INCRBY u8 0 300 INCRBY u8 0 -300", VAL("\x10"),
     R("*2\r\n:255\r\n:0\r\n"), W("\x00")},
    {"BITFIELD k OVERFLOW FAIL INCRBY u8 0 1", VAL("\xff"), R("*1\r\n$-1\r\n"), SAME},
    {"BITFIELD k OVERFLOW FAIL INCRBY u8 0 1", .proto = 3, VAL("\xff"), R("*1\r\n_\r\n"), SAME},
    /* FAIL writes nothing, but the value grew to the field first, as in Redis */
    {"BITFIELD k OVERFLOW FAIL SET u8 8 300", VAL("\xff"), R("*1\r\n$-1\r\n"), W("\xff\x00")},
    {"BITFIELD k SET i8 #1 -100 GET i8 #1 GET u8 #1", R("*3\r\n:0\r\n:-100\r\n:156\r\n"),
     W("\x00\x9c")},
    {"BITFIELD k SET i5 3 20 GET i5 3", R("*2\r\n:0\r\n:-12\r\n"), W("\x14")},
    {"BITFIELD k INCRBY i64 0 9223372036854775807 INCRBY i64 0 1",
     R("*2\r\n:9223372036854775807\r\n:-9223372036854775808\r\n"),
     W("\x80\x00\x00\x00\x00\x00\x00\x00")},
    {"BITFIELD k OVERFLOW SAT SET i8 0 -9223372036854775808 GET i8 0", R("*2\r\n:0\r\n:127\r\n"),
     W("\x7f")}, /* Redis' wrapping comparison, kept */
    {"BITFIELD k OVERFLOW SAT SET i8 0 -200 SET u8 8 -1", R("*2\r\n:0\r\n:0\r\n"), W("\x80\xff")},
    {"BITFIELD k SET u8 0 7", VAL("\x07"), R("*1\r\n:7\r\n"), SAME}, /* unchanged: no write */
    {"BITFIELD k SET u16 8388592 1", R("*1\r\n:0\r\n"), WZ("\x01", 1048575)},
    {"BITFIELD k SET u16 8388600 1", ERR(TOOFAR)},
    {"BITFIELD k GET u8 8388608 GET u8 4294967288", VAL("a"), R("*2\r\n:0\r\n:0\r\n"), SAME},
    {"BITFIELD k GET u8 4294967296", ERR(OFFSET)},
    {"BITFIELD k GET u8 #536870912", ERR(OFFSET)},
    {"BITFIELD k GET u8 #-1", ERR(OFFSET)},
    {"BITFIELD k GET u8 #", ERR(OFFSET)},
    {"BITFIELD k GET u8 #2305843009213693952", ERR(OFFSET)}, /* # times 8 past 64 bits */
    {"BITFIELD k GET u64 0", ERR(BADTYPE)},
    {"BITFIELD k GET i65 0", ERR(BADTYPE)},
    {"BITFIELD k GET i0 0", ERR(BADTYPE)},
    {"BITFIELD k GET U8 0", ERR(BADTYPE)},
    {"BITFIELD k GET u08 0", ERR(BADTYPE)},
    {"BITFIELD k SET u8 0 x", ERR(NOTINT)},
    {"BITFIELD k OVERFLOW foo", ERR("-ERR Invalid OVERFLOW type specified\r\n")},
    {"BITFIELD k OVERFLOW", ERR(SYNTAX)},
    {"BITFIELD k GET u8", ERR(SYNTAX)},
    {"BITFIELD k SET u8 0 1 GET u8 x", VAL("a"), ERR(OFFSET)}, /* nothing runs */
    {"BITFIELD k SET u8 0 1 SET u16 8388600 1", VAL("a"), ERR(TOOFAR)},
    {"BITFIELD_RO k GET u8 0 GET i16 4", VAL("\x01\x02\x03"), R("*2\r\n:1\r\n:4128\r\n"), SAME},
    {"BITFIELD_RO k SET u8 0 1", VAL("a"),
     ERR("-ERR BITFIELD_RO only supports the GET subcommand\r\n")},
    {"BITFIELD_RO k SET u8 0 1 GET u64 0", ERR(BADTYPE)}, /* parsed whole first */
};

static const cellcase_fn fns[] = {
    {"SETBIT", cell_setbit}, {"GETBIT", cell_getbit},     {"BITCOUNT", cell_bitcount},
    {"BITPOS", cell_bitpos}, {"BITFIELD", cell_bitfield}, {"BITFIELD_RO", cell_bitfield_ro},
};

static void check_cell(const char *cmd, const cell *c, bool has, const char *val, size_t len,
                       size_t zeros, bool dirty)
{
    ck_assert_msg(c->exists == has, "%s: exists %d", cmd, c->exists);
    ck_assert_msg(c->dirty == dirty, "%s: dirty %d", cmd, c->dirty);
    if (!has)
        return;
    ck_assert_msg(c->len == zeros + len, "%s: len %zu", cmd, c->len);
    for (size_t i = 0; i < zeros; i++)
        if (c->value[i] != '\0')
            ck_abort_msg("%s: byte %zu not zero", cmd, i);
    ck_assert_msg(memcmp(c->value + zeros, val, len) == 0, "%s: value", cmd);
    ck_assert_msg(c->value[c->len] == '\0', "%s: no NUL after the value", cmd);
}

START_TEST(test_table)
{
    const tcase *t = &cases[_i];
    cell_ctx x = {t->proto ? t->proto : 2, 0, false, 0, 0};
    size_t n;
    char *got;
    cell c;
    bool ok;

    cell_init(&c);
    if (t->has)
        cell_set_read(&c, t->val, t->vlen, 0);
    got = cellcase_run(fns, N(fns), &c, &x, t->cmd, &n, &ok);
    cellcase_check_reply(t->cmd, got, n, t->reply, t->reply_len);
    ck_assert_msg(ok == !t->fail, "%s: returned %d", t->cmd, ok);
    if (t->fail || t->same)
        check_cell(t->cmd, &c, t->has, t->val, t->vlen, 0, false);
    else
        check_cell(t->cmd, &c, true, t->after, t->a_len, t->a_zeros, true);
    cell_free(&c);
    free(got);
}
END_TEST

/* ---- BITFIELD's arithmetic against a model ------------------------------------------- */

/* Runs one BITFIELD line on an empty cell; the integers of its reply (nil: *is_nil). */
static long long run_one(const char *line, bool *is_nil)
{
    cell_ctx x = {2, 0, false, 0, 0};
    cell c;
    char *reply, *nl;
    size_t n;
    long long v = 0;
    bool ok;

    cell_init(&c);
    reply = cellcase_run(fns, N(fns), &c, &x, line, &n, &ok);
    if (!ok)
        ck_abort_msg("%s failed", line);
    /* the reply is "*2\r\n:old\r\n" then the INCRBY's ":new\r\n" or "$-1\r\n" */
    nl = strstr(reply, "\r\n");
    nl = strstr(nl + 2, "\r\n");
    *is_nil = strncmp(nl + 2, "$-1", 3) == 0;
    if (!*is_nil)
        v = strtoll(nl + 3, NULL, 10);
    cell_free(&c);
    free(reply);
    return v;
}

/* value + incr in a field of width bits, by 128-bit arithmetic: what each mode answers. */
static void model(bool is_signed, unsigned width, __int128 start, __int128 incr, int mode,
                  bool *nil, __int128 *want)
{
    __int128 lo = is_signed ? -((__int128)1 << (width - 1)) : 0;
    __int128 hi = is_signed ? ((__int128)1 << (width - 1)) - 1 : ((__int128)1 << width) - 1;
    __int128 sum = start + incr, span = (__int128)1 << width;

    *nil = false;
    if (sum >= lo && sum <= hi) {
        *want = sum;
    } else if (mode == 1) {
        *want = sum > hi ? hi : lo;
    } else if (mode == 2) {
        *nil = true;
    } else {
        __int128 m = ((sum - lo) % span + span) % span;
        *want = m + lo;
    }
}

START_TEST(test_incrby_model)
{
    static const char *const modes[] = {"WRAP", "SAT", "FAIL"};
    static const long long incrs[] = {0,
                                      1,
                                      -1,
                                      2,
                                      -2,
                                      100,
                                      -100,
                                      127,
                                      -128,
                                      255,
                                      -256,
                                      65535,
                                      -65536,
                                      4611686018427387904LL,
                                      -4611686018427387904LL,
                                      9223372036854775807LL,
                                      -9223372036854775807LL - 1};

    for (int s = 0; s < 2; s++) {
        for (unsigned w = 1; w <= (s ? 64u : 63u); w++) {
            __int128 lo = s ? -((__int128)1 << (w - 1)) : 0;
            __int128 hi = s ? ((__int128)1 << (w - 1)) - 1 : ((__int128)1 << w) - 1;
            __int128 starts[] = {lo, hi, 0, lo + 1, hi - 1};
            for (size_t a = 0; a < N(starts); a++) {
                for (size_t b = 0; b < N(incrs); b++) {
                    for (int m = 0; m < 3; m++) {
                        char line[256];
                        bool nil, want_nil;
                        __int128 want;
                        long long got;
                        snprintf(line, sizeof(line),
                                 "BITFIELD k SET %c%u 3 %lld OVERFLOW %s "
                                 "INCRBY %c%u 3 %lld",
                                 s ? 'i' : 'u', w, (long long)starts[a], modes[m], s ? 'i' : 'u', w,
                                 incrs[b]);
                        got = run_one(line, &nil);
                        model(s, w, starts[a], incrs[b], m, &want_nil, &want);
                        ck_assert_msg(nil == want_nil, "%s: nil %d", line, nil);
                        if (!nil)
                            ck_assert_msg(got == (long long)want, "%s: %lld, want %lld", line, got,
                                          (long long)want);
                    }
                }
            }
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cell_bits");
    TCase *tc = tcase_create("commands");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_table, 0, (int)N(cases));
    tcase_add_test(tc, test_incrby_model);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * fuzz_resp: libFuzzer target for the RESP request parser. The first bytes choose the
 * limits and the sizes of the pieces the rest is fed in; the same bytes are also fed whole,
 * and both ways must give the same requests and the same end. No request may break a limit.
 *
 * make check runs it once on each input of tests/fuzz/corpus/resp/ (tests/fuzz/replay.c, any
 * compiler); ./configure --enable-fuzzing CC=clang builds it with libFuzzer (Debian's
 * libclang-rt-14-dev has the runtime) and make fuzz [FUZZ_SECONDS=60] fuzzes a copy of that
 * corpus. tests/fuzz/make-corpus.py writes the corpus and says what an input's first bytes
 * choose.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const resp_limits limit_sets[4] = {
    {1024 * 1024, 1024 * 1024, 64 * 1024 * 1024, false},
    {64, 8, 256, false},
    {RESP_BIG_ARG + 16, 4, RESP_BIG_ARG + 64, false}, /* lets the bulk window open */
    {0, 1, 0, false},
};

/* Requests and the end, flattened, so that two ways of feeding can be compared. */
typedef struct record {
    char *buf;
    size_t len, cap;
} record;

static void rec_add(record *r, const void *p, size_t n)
{
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;

        while (cap < r->len + n)
            cap *= 2;
        r->buf = realloc(r->buf, cap);
        CHECK(r->buf != NULL);
        r->cap = cap;
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
}

static void take_request(record *r, const resp_limits *lim, resp_arg *argv, int argc)
{
    size_t total = 0;

    CHECK(argc >= 1 && argv != NULL);
    CHECK(argc <= lim->max_args);
    CHECK(!lim->restricted || argc <= RESP_RESTRICTED_ARGS);
    rec_add(r, &argc, sizeof(argc));
    for (int i = 0; i < argc; i++) {
        CHECK(argv[i].len <= lim->max_bulk);
        CHECK(!lim->restricted || argv[i].len <= RESP_RESTRICTED_BULK);
        CHECK(argv[i].ptr[argv[i].len] == '\0');
        total += argv[i].len;
        rec_add(r, &argv[i].len, sizeof(argv[i].len));
        rec_add(r, argv[i].ptr, argv[i].len);
    }
    CHECK(total <= lim->max_request);
    resp_argv_free(argv, argc);
}

/*
 * Feeds in, piece by piece (sizes from the cycle in sizes[], or all at once when nsizes is
 * 0); with window, bulk data goes through resp_bulk_window when it is offered, as a reader
 * would put it there.
 */
static void feed(record *r, const resp_limits *lim, const uint8_t *in, size_t len,
                 const uint8_t *sizes, size_t nsizes, bool window)
{
    resp_parser *p = resp_parser_new();
    size_t off = 0, piece = 0;
    const char *err = NULL;
    resp_status st = RESP_AGAIN;

    CHECK(p != NULL);
    while (off < len) {
        size_t end = nsizes ? off + (size_t)sizes[piece++ % nsizes] + 1 : len;
        char *dst;
        size_t want;

        if (end > len)
            end = len;
        if (window && resp_bulk_window(p, &dst, &want)) {
            size_t n = end - off < want ? end - off : want;

            memcpy(dst, in + off, n);
            resp_bulk_commit(p, n);
            off += n;
            continue;
        }
        while (off < end) {
            resp_arg *argv;
            int argc;
            size_t used;

            st = resp_parse(p, lim, (const char *)in + off, end - off, &used, &argv, &argc, &err);
            if (st == RESP_OK) {
                CHECK(used > 0 && used <= end - off);
                take_request(r, lim, argv, argc);
                off += used;
            } else if (st == RESP_AGAIN) {
                CHECK(used == end - off && argv == NULL);
                off = end;
            } else {
                CHECK(st == RESP_ERROR && err != NULL);
                CHECK(strncmp(err, "Protocol error: ", 16) == 0);
                rec_add(r, "!", 1);
                rec_add(r, err, strlen(err));
                goto out;
            }
        }
    }
out:
    resp_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    resp_limits lim;
    uint8_t cfg;
    size_t nsizes;
    const uint8_t *sizes;
    record whole = {0}, pieces = {0};

    if (size < 2)
        return 0;
    cfg = data[0];
    lim = limit_sets[(cfg >> 1) & 3];
    lim.restricted = cfg & 1;
    nsizes = 1 + data[1] % 8;
    if (size < 2 + nsizes)
        return 0;
    sizes = data + 2;
    data += 2 + nsizes;
    size -= 2 + nsizes;

    feed(&whole, &lim, data, size, NULL, 0, false);
    feed(&pieces, &lim, data, size, sizes, nsizes, (cfg & 8) != 0);
    CHECK(whole.len == pieces.len);
    CHECK(whole.len == 0 || memcmp(whole.buf, pieces.buf, whole.len) == 0);
    free(whole.buf);
    free(pieces.buf);
    return 0;
}

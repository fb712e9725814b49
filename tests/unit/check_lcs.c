/*
 * check_lcs: LCS (src/sidecar/lcs.h): its options and their errors, the replies in RESP2
 * and RESP3 for the examples of Redis' documentation, the same reply however the table is
 * sliced, lengths against a plain model, and the table budget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "lcs.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The reply to LCS a b with the option words opts (space-separated, may be ""), the table
 * filled `slice` cells at a time; NUL-terminated, the caller frees it. */
static char *lcs_text(const char *a, const char *b, const char *opts, int proto, uint64_t slice)
{
    resp_arg argv[12] = {{(char *)"LCS", 3}, {(char *)"a", 1}, {(char *)"b", 1}};
    char words[128];
    int argc = 3;
    lcs_opts o;
    struct evbuffer *out = evbuffer_new();
    lcs_job *j;
    size_t n;
    char *text;

    snprintf(words, sizeof(words), "%s", opts);
    for (char *w = strtok(words, " "); w != NULL; w = strtok(NULL, " ")) {
        argv[argc].ptr = w;
        argv[argc++].len = strlen(w);
    }
    if (lcs_parse_opts(argv, argc, &o, out)) {
        j = lcs_new(a, strlen(a), b, strlen(b));
        ck_assert_ptr_nonnull(j);
        while (!lcs_fill(j, slice))
            ;
        lcs_reply(j, &o, proto, out);
        lcs_free(j);
    }
    n = evbuffer_get_length(out);
    text = malloc(n + 1);
    ck_assert_ptr_nonnull(text);
    evbuffer_remove(out, text, n);
    text[n] = '\0';
    evbuffer_free(out);
    return text;
}

static const struct {
    const char *a, *b, *opts;
    int proto;
    const char *want;
} cases[] = {
    {"ohmytext", "mynewtext", "", 2, "$6\r\nmytext\r\n"},
    {"ohmytext", "mynewtext", "LEN", 2, ":6\r\n"},
    {"ohmytext", "mynewtext", "len", 3, ":6\r\n"},
    {"ohmytext", "mynewtext", "IDX", 2,
     "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:"
     "3\r\n"
     "*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"},
    {"ohmytext", "mynewtext", "IDX", 3,
     "%2\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:"
     "3\r\n"
     "*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"},
    {"ohmytext", "mynewtext", "IDX MINMATCHLEN 4 WITHMATCHLEN", 2,
     "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n"
     ":6\r\n"},
    {"ohmytext", "mynewtext", "IDX MINMATCHLEN -3", 2,
     "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:"
     "3\r\n"
     "*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"},
    {"", "", "", 2, "$0\r\n\r\n"},
    {"abc", "", "IDX", 3, "%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"},
    {"abc", "xyz", "LEN", 2, ":0\r\n"},
    {"abc", "abc", "IDX WITHMATCHLEN", 2,
     "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:0\r\n:2\r\n*2\r\n:0\r\n:2\r\n:3\r\n$3\r\nlen\r\n"
     ":3\r\n"},
    /* Redis' errors, in its order */
    {"a", "b", "LEN IDX", 2,
     "-ERR If you want both the length and indexes, please just use IDX.\r\n"},
    {"a", "b", "MINMATCHLEN", 2, "-ERR syntax error\r\n"},
    {"a", "b", "MINMATCHLEN x LEN IDX", 2, "-ERR value is not an integer or out of range\r\n"},
    {"a", "b", "FOO LEN IDX", 2, "-ERR syntax error\r\n"},
};

START_TEST(test_replies)
{
    for (size_t i = 0; i < N(cases); i++) {
        char *got = lcs_text(cases[i].a, cases[i].b, cases[i].opts, cases[i].proto, 1u << 20);
        ck_assert_msg(strcmp(got, cases[i].want) == 0, "LCS %s %s %s (RESP%d): %s, want %s",
                      cases[i].a, cases[i].b, cases[i].opts, cases[i].proto, got, cases[i].want);
        free(got);
    }
}
END_TEST

/* The plain O(n*m) length, two rows. */
static size_t model_len(const char *a, const char *b)
{
    size_t m = strlen(b), len;
    size_t *prev = calloc(m + 1, sizeof(size_t)), *cur = calloc(m + 1, sizeof(size_t));

    for (const char *p = a; *p; p++) {
        for (size_t k = 1; k <= m; k++)
            cur[k] =
                *p == b[k - 1] ? prev[k - 1] + 1 : (prev[k] > cur[k - 1] ? prev[k] : cur[k - 1]);
        memcpy(prev, cur, (m + 1) * sizeof(size_t));
    }
    len = prev[m];
    free(prev);
    free(cur);
    return len;
}

/* Random pairs: the length is the model's, the string as long, and every slicing of the
 * table (a cell, a row, all of it) gives the very same replies. */
START_TEST(test_slices)
{
    unsigned seed = 21;

    for (int round = 0; round < 200; round++) {
        char a[64], b[64], want_len[32], *full, *idx_full;
        size_t la = (size_t)(rand_r(&seed) % 60), lb = (size_t)(rand_r(&seed) % 60);

        for (size_t i = 0; i < la; i++)
            a[i] = (char)('a' + rand_r(&seed) % 3);
        for (size_t i = 0; i < lb; i++)
            b[i] = (char)('a' + rand_r(&seed) % 3);
        a[la] = b[lb] = '\0';
        full = lcs_text(a, b, "", 2, 1u << 20);
        idx_full = lcs_text(a, b, "IDX WITHMATCHLEN", 3, 1u << 20);
        snprintf(want_len, sizeof(want_len), ":%zu\r\n", model_len(a, b));
        char *len = lcs_text(a, b, "LEN", 2, 1);
        ck_assert_str_eq(len, want_len);
        ck_assert_uint_eq(strtoul(full + 1, NULL, 10), model_len(a, b));
        for (uint64_t slice = 1; slice <= 64; slice *= 4) {
            char *s = lcs_text(a, b, "", 2, slice),
                 *x = lcs_text(a, b, "IDX WITHMATCHLEN", 3, slice);
            ck_assert_str_eq(s, full);
            ck_assert_str_eq(x, idx_full);
            free(s);
            free(x);
        }
        free(len);
        free(full);
        free(idx_full);
    }
}
END_TEST

START_TEST(test_budget)
{
    static char big[8192];

    memset(big, 'a', sizeof(big));
    ck_assert_uint_eq(lcs_cells(4095, 4095), LCS_MAX_CELLS);
    ck_assert_uint_gt(lcs_cells(4096, 4095), LCS_MAX_CELLS);
    ck_assert_uint_eq(lcs_cells(0, 0), 1);
    ck_assert_ptr_null(lcs_new(big, 4096, big, 4095));
    ck_assert_ptr_null(lcs_new(big, 8192, big, 8192));
    lcs_job *j = lcs_new(big, 4095, big, 4095);
    ck_assert_ptr_nonnull(j);
    lcs_free(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lcs");
    TCase *tc = tcase_create("lcs");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_replies);
    tcase_add_test(tc, test_slices);
    tcase_add_test(tc, test_budget);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * check_route: key hashing and shard routing against the NoriKV test vectors
 * (hash-vectors.json, carried here as a table), the SDK-parity vectors, and the two
 * hashes where the server's jump-hash operation order differs from the SDKs'.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "route.h"

typedef struct key_vector {
    const char *key; /* NULL: the key is 'x' repeated len times */
    size_t len;
    uint64_t hash;
    uint32_t shard_1024, shard_256;
} key_vector;

static const key_vector key_vectors[] = {
    {"hello", 5, 2794345569481354659ULL, 309, 118},
    {"world", 5, 16679358290033791471ULL, 752, 4},
    {"user:123", 8, 12838382303697200627ULL, 928, 59},
    {"user:456", 8, 15127664767043746295ULL, 768, 91},
    {"order:789", 9, 16039549273304380186ULL, 564, 7},
    {"session:abc", 11, 6709427766188742023ULL, 48, 48},
    {"config:feature-flag", 19, 11761742651260739985ULL, 987, 116},
    {"metrics:cpu", 11, 11466248021713662033ULL, 336, 82},
    {"cache:user:profile:12345", 24, 18158512077392140069ULL, 896, 72},
    {"db:table:users:index:email", 26, 10081725681525424201ULL, 564, 160},
    {"\x48\x65\x6c\x6c\x6f\x20\xe4\xb8\x96\xe7\x95\x8c", 12, 15196255900769524241ULL, 228,
     228},                                                                      /* Hello 世界 */
    {"\xf0\x9f\x8c\x8d\xf0\x9f\x9a\x80", 8, 10542605020825931344ULL, 523, 183}, /* 🌍🚀 */
    {"", 0, 17241709254077376921ULL, 332, 40},
    {"a", 1, 15154266338359012955ULL, 894, 17},
    {NULL, 1000, 5528630022282608865ULL, 178, 178}, /* "x" repeated 1000 times */
};

typedef struct jump_vector {
    uint64_t hash;
    uint32_t buckets, shard;
} jump_vector;

static const jump_vector jump_vectors[] = {
    {0ULL, 100, 0},
    {0ULL, 1024, 0},
    {1ULL, 100, 55},
    {1ULL, 1024, 549},
    {12345678901234567890ULL, 100, 49},
    {12345678901234567890ULL, 1024, 294},
    {18446744073709551615ULL, 100, 92},
    {18446744073709551615ULL, 1024, 313},
    {9223372036854775808ULL, 100, 84},
    {9223372036854775808ULL, 1024, 453},
    {1234567890ULL, 100, 84},
    {1234567890ULL, 1024, 499},
    {9876543210ULL, 100, 39},
    {9876543210ULL, 1024, 171},
    /* Where the server's (b + 1) * (2^31 / d) and the SDKs' ((b + 1) * 2^31) / d differ:
     * the server's answer is the one that counts. */
    {181523550820250026ULL, 1024, 1023},
    {12048830457242650190ULL, 1024, 1023},
};

/* More keys the SDK test suites pin, with their hash and 1024-shard placement. */
static const key_vector sdk_vectors[] = {
    {"test-key", 8, 15827481653422919556ULL, 504, 0},
    {"foo", 3, 3728699739546630719ULL, 951, 0},
    {"abc", 3, 4952883123889572249ULL, 722, 0},
    {"\xf0\x9f\x8c\x8d", 4, 11345255911858566016ULL, 393, 0},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const void *key_bytes(const key_vector *v, char **owned)
{
    *owned = NULL;
    if (v->key != NULL)
        return v->key;
    *owned = malloc(v->len);
    memset(*owned, 'x', v->len);
    return *owned;
}

START_TEST(test_key_hash)
{
    const key_vector *v = &key_vectors[_i];
    char *owned;
    const void *key = key_bytes(v, &owned);

    ck_assert_uint_eq(route_key_hash(key, v->len), v->hash);
    ck_assert_uint_eq(route_shard(key, v->len, 1024), v->shard_1024);
    ck_assert_uint_eq(route_shard(key, v->len, 256), v->shard_256);
    free(owned);
}
END_TEST

START_TEST(test_jump)
{
    const jump_vector *v = &jump_vectors[_i];

    ck_assert_uint_eq(route_jump(v->hash, v->buckets), v->shard);
}
END_TEST

START_TEST(test_sdk_keys)
{
    const key_vector *v = &sdk_vectors[_i];

    ck_assert_uint_eq(route_key_hash(v->key, v->len), v->hash);
    ck_assert_uint_eq(route_shard(v->key, v->len, ROUTE_DEFAULT_TOTAL_SHARDS), v->shard_1024);
}
END_TEST

START_TEST(test_jump_range)
{
    /* Every hash lands inside [0, buckets), one bucket always gives 0. */
    uint64_t h = 0x9e3779b97f4a7c15ULL;

    for (int i = 0; i < 100000; i++) {
        h = h * 6364136223846793005ULL + 1442695040888963407ULL;
        ck_assert_uint_lt(route_jump(h, 1024), 1024);
        ck_assert_uint_eq(route_jump(h, 1), 0);
    }
    ck_assert_uint_eq(route_jump(12345, 0), 0);
}
END_TEST

START_TEST(test_jump_moves_few_keys)
{
    /* The point of jump hashing: growing 1023 -> 1024 buckets moves about 1/1024 of keys,
     * and only into the new bucket. */
    uint64_t h = 42;
    int moved = 0;

    for (int i = 0; i < 100000; i++) {
        h = h * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t a = route_jump(h, 1023), b = route_jump(h, 1024);
        if (a != b) {
            ck_assert_uint_eq(b, 1023);
            moved++;
        }
    }
    ck_assert_int_gt(moved, 50);
    ck_assert_int_lt(moved, 200);
}
END_TEST

static Suite *route_suite(void)
{
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("vectors");

    tcase_add_loop_test(tc, test_key_hash, 0, (int)N(key_vectors));
    tcase_add_loop_test(tc, test_jump, 0, (int)N(jump_vectors));
    tcase_add_loop_test(tc, test_sdk_keys, 0, (int)N(sdk_vectors));
    tcase_add_test(tc, test_jump_range);
    tcase_add_test(tc, test_jump_moves_few_keys);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(route_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

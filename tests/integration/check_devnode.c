/*
 * check_devnode: pins norikv-devnode to the real NoriKV server's behaviour, one case per
 * behaviour of Kv/Put, Get, Delete and Meta/WatchCluster the devnode models (each case
 * states the server's behaviour it pins), plus cluster mode,
 * WatchCluster, vectors, every control-socket fault and a clean shutdown. Each test
 * starts its own devnode on free loopback ports and talks to it over real gRPC.
 * The devnode's default profile is real (the server's own behaviour); a test that needs
 * one of the friendly profile's conveniences (the cluster view, the cluster-wide
 * idempotency cache, vectors, TransferShard, round-robin leaders) asks for it: the whole
 * --profile friendly or the one switch.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <grpc/grpc.h>

#include "clock.h"
#include "pbgrpc.h"
#include "route.h"
#include "testnode.h"

static tn_proc dn;
static grpc_channel *ch[4]; /* ch[1..3]: nodes */

static void start(int nodes, const char *extra)
{
    grpc_init();
    ck_assert_msg(tn_start(&dn, nodes, extra) == 0, "devnode did not start");
    for (int i = 1; i <= nodes && i < 4; i++)
        ch[i] = tn_channel(&dn, i);
}

static void stop(void)
{
    for (int i = 1; i < 4; i++) {
        if (ch[i] != NULL)
            grpc_channel_destroy(ch[i]);
        ch[i] = NULL;
    }
    ck_assert_int_eq(tn_stop(&dn), 0);
    grpc_shutdown_blocking();
}

#define ASSERT_STATUS(r, code, msg)                                                                \
    do {                                                                                           \
        ck_assert_msg((r)->status == (code), "status %s (%s), expected %s",                        \
                      pbgrpc_status_name((r)->status), (r)->details, pbgrpc_status_name(code));    \
        if ((msg) != NULL)                                                                         \
            ck_assert_str_eq((r)->details, (const char *)(msg));                                   \
    } while (0)

#define ASSERT_OK(r) ASSERT_STATUS(r, GRPC_STATUS_OK, NULL)

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);

    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static Norikv__V1__Version put_ok(grpc_channel *c, const char *key, const char *value,
                                  const char *idem)
{
    tn_result r;
    Norikv__V1__Version v = NORIKV__V1__VERSION__INIT;

    tn_warm(c, key);
    tn_put(c, key, value, idem, NULL, 0, &r);
    ASSERT_OK(&r);
    ck_assert_ptr_nonnull(TN_PUT(&r)->version);
    v.term = TN_PUT(&r)->version->term;
    v.index = TN_PUT(&r)->version->index;
    tn_result_free(&r);
    return v;
}

static void assert_value(grpc_channel *c, const char *key, const char *value)
{
    tn_result r;

    tn_warm(c, key);
    tn_get(c, key, NULL, &r);
    ASSERT_OK(&r);
    if (value == NULL) {
        ck_assert_msg(TN_GET(&r)->version == NULL, "%s should be missing", key);
        ck_assert_uint_eq(TN_GET(&r)->value.len, 0);
    } else {
        ck_assert_msg(TN_GET(&r)->version != NULL, "%s should exist", key);
        ck_assert_uint_eq(TN_GET(&r)->value.len, strlen(value));
        ck_assert_mem_eq(TN_GET(&r)->value.data, value, strlen(value));
    }
    tn_result_free(&r);
}

/* ==== Kv/Put, Kv/Get, Kv/Delete on one node ============================================== */

START_TEST(put_then_get_returns_value_and_version)
{
    tn_result r;
    Norikv__V1__Version v;

    start(1, NULL);
    v = put_ok(ch[1], "user:1", "alice", NULL);
    ck_assert_uint_eq(v.term, 0); /* term is always 0 on the real server */
    ck_assert_uint_eq(v.index, 1);
    tn_get(ch[1], "user:1", NULL, &r);
    ASSERT_OK(&r);
    ck_assert_uint_eq(TN_GET(&r)->value.len, 5);
    ck_assert_mem_eq(TN_GET(&r)->value.data, "alice", 5);
    ck_assert_ptr_nonnull(TN_GET(&r)->version);
    /* Get's version equals Put's on a fresh shard, so CAS with it works */
    ck_assert_uint_eq(TN_GET(&r)->version->term, v.term);
    ck_assert_uint_eq(TN_GET(&r)->version->index, v.index);
    ck_assert_uint_eq(TN_GET(&r)->n_meta, 0); /* meta maps are always empty */
    tn_result_free(&r);
    tn_put(ch[1], "user:1", "bob", NULL, NULL, 0, &r);
    ck_assert_uint_eq(TN_PUT(&r)->n_meta, 0);
    tn_result_free(&r);
    stop();
}
END_TEST

START_TEST(put_key_size_limit)
{
    tn_result r;
    char *big = repeat('k', 1025), *max = repeat('k', 1024);

    start(1, NULL);
    tn_put(ch[1], big, "v", NULL, NULL, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "Key size 1025 exceeds limit 1024");
    tn_result_free(&r);
    tn_get(ch[1], big, NULL, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "Key size 1025 exceeds limit 1024");
    tn_result_free(&r);
    tn_del(ch[1], big, NULL, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "Key size 1025 exceeds limit 1024");
    tn_result_free(&r);
    put_ok(ch[1], max, "v", NULL);
    assert_value(ch[1], max, "v");
    ck_assert_uint_eq(tn_stat(&dn, "puts_applied"), 1);
    free(big);
    free(max);
    stop();
}
END_TEST

START_TEST(put_value_size_limit)
{
    tn_result r;
    char *big = repeat('v', 1048577), *max = repeat('v', 1048576);

    start(1, NULL);
    tn_put(ch[1], "big", big, NULL, NULL, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "Value size 1048577 exceeds limit 1048576");
    tn_result_free(&r);
    assert_value(ch[1], "big", NULL);
    put_ok(ch[1], "big", max, NULL);
    assert_value(ch[1], "big", max);
    free(big);
    free(max);
    stop();
}
END_TEST

START_TEST(message_over_4mib_is_out_of_range)
{
    tn_result r;
    char *huge = repeat('h', 5 << 20);

    start(1, NULL);
    tn_put(ch[1], "huge", huge, NULL, NULL, 0, &r);
    /* tonic's words: the 5 MiB value, its key and the fields' tags and lengths */
    ASSERT_STATUS(&r, GRPC_STATUS_OUT_OF_RANGE,
                  "Error, message length too large: found 5242891 bytes, the limit is: 4194304 "
                  "bytes");
    tn_result_free(&r);
    free(huge);
    stop();
}
END_TEST

START_TEST(empty_key_is_accepted)
{
    start(1, NULL);
    put_ok(ch[1], "", "empty-key-value", NULL);
    assert_value(ch[1], "", "empty-key-value");
    stop();
}
END_TEST

START_TEST(missing_key_is_ok_without_version)
{
    start(1, NULL);
    assert_value(ch[1], "never-written", NULL);
    stop();
}
END_TEST

START_TEST(empty_value_has_a_version)
{
    tn_result r;

    start(1, NULL);
    put_ok(ch[1], "empty", "", NULL);
    tn_get(ch[1], "empty", NULL, &r);
    ASSERT_OK(&r);
    ck_assert_uint_eq(TN_GET(&r)->value.len, 0);
    ck_assert_ptr_nonnull(TN_GET(&r)->version); /* only the version tells it from missing */
    tn_result_free(&r);
    stop();
}
END_TEST

START_TEST(versions_count_per_shard)
{
    char a[64], b[64];
    uint32_t sa, sb;
    Norikv__V1__Version v;

    start(1, NULL);
    snprintf(a, sizeof(a), "ver-a");
    sa = route_shard(a, strlen(a), 1024);
    for (int i = 0;; i++) { /* a key of another shard */
        snprintf(b, sizeof(b), "ver-b-%d", i);
        if ((sb = route_shard(b, strlen(b), 1024)) != sa)
            break;
    }
    ck_assert_uint_eq(put_ok(ch[1], a, "1", NULL).index, 1);
    ck_assert_uint_eq(put_ok(ch[1], a, "2", NULL).index, 2);
    ck_assert_uint_eq(put_ok(ch[1], b, "1", NULL).index, 1); /* its own shard's log */
    v = put_ok(ch[1], a, "3", NULL);
    ck_assert_uint_eq(v.term, 0);
    ck_assert_uint_eq(v.index, 3);
    stop();
}
END_TEST

START_TEST(ttl_expires_and_zero_means_none)
{
    tn_result r;

    start(1, NULL);
    tn_warm(ch[1], "ttl");
    tn_put(ch[1], "ttl", "short", NULL, NULL, 1000, &r);
    ASSERT_OK(&r);
    tn_result_free(&r);
    put_ok(ch[1], "forever", "v", NULL); /* ttl_ms 0 */
    assert_value(ch[1], "ttl", "short");
    usleep(1200 * 1000);
    assert_value(ch[1], "ttl", NULL);
    assert_value(ch[1], "forever", "v");
    stop();
}
END_TEST

/* The server keeps a key whose TTL is past the end of its clock; the devnode once added
 * it to the time and wrapped around to an instant expiry. */
START_TEST(ttl_near_2_63_keeps_the_key)
{
    tn_result r;

    start(1, "--profile real");
    tn_warm(ch[1], "ttl-max");
    tn_warm(ch[1], "ttl-u64");
    tn_warm(ch[1], "ttl-near");
    tn_put(ch[1], "ttl-max", "kept", NULL, NULL, (uint64_t)INT64_MAX, &r);
    ASSERT_OK(&r);
    tn_result_free(&r);
    tn_put(ch[1], "ttl-u64", "kept", NULL, NULL, UINT64_MAX, &r);
    ASSERT_OK(&r);
    tn_result_free(&r);
    tn_put(ch[1], "ttl-near", "kept", NULL, NULL, (uint64_t)INT64_MAX - 1000, &r);
    ASSERT_OK(&r);
    tn_result_free(&r);
    usleep(20 * 1000);
    assert_value(ch[1], "ttl-max", "kept");
    assert_value(ch[1], "ttl-u64", "kept");
    assert_value(ch[1], "ttl-near", "kept");
    stop();
}
END_TEST

START_TEST(idempotent_put_replays_cached_version)
{
    tn_result r;
    Norikv__V1__Version v1;

    start(1, NULL);
    v1 = put_ok(ch[1], "idem", "first", "req-1");
    tn_put(ch[1], "idem", "second", "req-1", NULL, 0, &r);
    ASSERT_OK(&r);
    ck_assert_uint_eq(TN_PUT(&r)->version->index, v1.index);
    tn_result_free(&r);
    assert_value(ch[1], "idem", "first"); /* nothing written */
    ck_assert_uint_eq(tn_stat(&dn, "puts_applied"), 1);
    ck_assert_uint_eq(tn_stat(&dn, "idempotent_replays"), 1);
    stop();
}
END_TEST

START_TEST(idempotency_key_is_not_scoped_by_key)
{
    Norikv__V1__Version v1, v2;

    start(1, NULL);
    v1 = put_ok(ch[1], "scope-a", "a", "shared-req");
    v2 = put_ok(ch[1], "scope-b", "b", "shared-req");
    ck_assert_uint_eq(v2.index, v1.index);
    assert_value(ch[1], "scope-b", NULL); /* the second key was never written */
    stop();
}
END_TEST

START_TEST(idempotency_cache_shared_by_put_and_delete)
{
    tn_result r;
    Norikv__V1__Version v;

    start(1, NULL);
    v = put_ok(ch[1], "shared", "v", "op-1");
    tn_del(ch[1], "shared", "op-1", &r);
    ASSERT_OK(&r);
    ck_assert(TN_DEL(&r)->tombstoned);
    ck_assert_uint_eq(TN_DEL(&r)->version->index, v.index); /* the Put's version */
    tn_result_free(&r);
    assert_value(ch[1], "shared", "v"); /* and nothing deleted */
    ck_assert_uint_eq(tn_stat(&dn, "deletes_applied"), 0);
    stop();
}
END_TEST

START_TEST(idempotency_hit_comes_before_cas)
{
    tn_result r;
    Norikv__V1__Version v,
        wrong = {PROTOBUF_C_MESSAGE_INIT(&norikv__v1__version__descriptor), 7, 7};

    start(1, NULL);
    v = put_ok(ch[1], "order", "v", "op-cas");
    tn_put(ch[1], "order", "w", "op-cas", &wrong, 0, &r);
    ASSERT_OK(&r); /* a hit answers before the CAS check would fail */
    ck_assert_uint_eq(TN_PUT(&r)->version->index, v.index);
    tn_result_free(&r);
    stop();
}
END_TEST

START_TEST(only_successes_are_cached)
{
    tn_result r;
    Norikv__V1__Version any = {PROTOBUF_C_MESSAGE_INIT(&norikv__v1__version__descriptor), 0, 1};

    start(1, NULL);
    tn_warm(ch[1], "fails-first");
    tn_put(ch[1], "fails-first", "v", "op-x", &any, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_FAILED_PRECONDITION, "CAS failed: key does not exist");
    tn_result_free(&r);
    put_ok(ch[1], "fails-first", "v", "op-x"); /* the failure was not cached */
    ck_assert_uint_eq(tn_stat(&dn, "puts_applied"), 1);
    ck_assert_uint_eq(tn_stat(&dn, "idempotent_replays"), 0);
    stop();
}
END_TEST

START_TEST(cas_matching_version_writes)
{
    tn_result r;
    Norikv__V1__Version v;

    start(1, NULL);
    v = put_ok(ch[1], "cas", "1", NULL);
    tn_put(ch[1], "cas", "2", NULL, &v, 0, &r);
    ASSERT_OK(&r);
    ck_assert_uint_eq(TN_PUT(&r)->version->index, v.index + 1);
    tn_result_free(&r);
    assert_value(ch[1], "cas", "2");
    stop();
}
END_TEST

START_TEST(cas_version_mismatch_message)
{
    tn_result r;
    Norikv__V1__Version wrong = {PROTOBUF_C_MESSAGE_INIT(&norikv__v1__version__descriptor), 0, 99};

    start(1, NULL);
    put_ok(ch[1], "cas-mm", "1", NULL);
    tn_put(ch[1], "cas-mm", "2", NULL, &wrong, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_FAILED_PRECONDITION,
                  "Version mismatch: expected term=0 index=99, got term=0 index=1");
    tn_result_free(&r);
    assert_value(ch[1], "cas-mm", "1");
    stop();
}
END_TEST

START_TEST(cas_zero_version_is_a_condition_not_absence)
{
    tn_result r;
    Norikv__V1__Version zero = {PROTOBUF_C_MESSAGE_INIT(&norikv__v1__version__descriptor), 0, 0};

    start(1, NULL);
    put_ok(ch[1], "cas-zero", "1", NULL);
    tn_put(ch[1], "cas-zero", "2", NULL, &zero, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_FAILED_PRECONDITION,
                  "Version mismatch: expected term=0 index=0, got term=0 index=1");
    tn_result_free(&r);
    stop();
}
END_TEST

START_TEST(cas_missing_deleted_or_expired_key)
{
    tn_result r;
    Norikv__V1__Version v = {PROTOBUF_C_MESSAGE_INIT(&norikv__v1__version__descriptor), 0, 1};

    start(1, NULL);
    tn_warm(ch[1], "cas-none");
    tn_warm(ch[1], "cas-ttl");
    tn_put(ch[1], "cas-none", "x", NULL, &v, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_FAILED_PRECONDITION, "CAS failed: key does not exist");
    tn_result_free(&r);

    v = put_ok(ch[1], "cas-del", "x", NULL);
    tn_del(ch[1], "cas-del", NULL, &r);
    tn_result_free(&r);
    tn_put(ch[1], "cas-del", "y", NULL, &v, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_FAILED_PRECONDITION, "CAS failed: key does not exist");
    tn_result_free(&r);

    tn_put(ch[1], "cas-ttl", "x", NULL, NULL, 100, &r);
    v.index = TN_PUT(&r)->version->index;
    tn_result_free(&r);
    usleep(200 * 1000);
    tn_put(ch[1], "cas-ttl", "y", NULL, &v, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_FAILED_PRECONDITION, "CAS failed: key does not exist");
    tn_result_free(&r);
    stop();
}
END_TEST

START_TEST(delete_always_tombstones)
{
    tn_result r;
    Norikv__V1__Version v;

    start(1, NULL);
    v = put_ok(ch[1], "del", "x", NULL);
    tn_del(ch[1], "del", NULL, &r);
    ASSERT_OK(&r);
    ck_assert(TN_DEL(&r)->tombstoned);
    ck_assert_uint_eq(TN_DEL(&r)->version->term, 0);
    ck_assert_uint_eq(TN_DEL(&r)->version->index, v.index + 1); /* a log entry of its own */
    tn_result_free(&r);
    assert_value(ch[1], "del", NULL);
    tn_del(ch[1], "del", NULL, &r); /* already gone: still tombstoned=true */
    ASSERT_OK(&r);
    ck_assert(TN_DEL(&r)->tombstoned);
    tn_result_free(&r);
    ck_assert_uint_eq(tn_stat(&dn, "deletes_applied"), 2);
    stop();
}
END_TEST

START_TEST(delete_if_match_is_ignored)
{
    Norikv__V1__DeleteRequest req = NORIKV__V1__DELETE_REQUEST__INIT;
    Norikv__V1__Version wrong = NORIKV__V1__VERSION__INIT;
    tn_result r;

    start(1, NULL);
    put_ok(ch[1], "del-cas", "x", NULL);
    wrong.index = 999;
    req.key.data = (uint8_t *)"del-cas";
    req.key.len = 7;
    req.if_match = &wrong;
    tn_call(ch[1], "/norikv.v1.Kv/Delete", &req.base, &norikv__v1__delete_response__descriptor,
            5000, &r);
    ASSERT_OK(&r);
    ck_assert(TN_DEL(&r)->tombstoned);
    tn_result_free(&r);
    assert_value(ch[1], "del-cas", NULL);
    stop();
}
END_TEST

static const char *const accepted_levels[] = {"", "strong", "eventual", "bounded_staleness"};
static const char *const rejected_levels[] = {"lease", "linearizable", "stale_ok", "STRONG"};

START_TEST(consistency_levels_the_server_accepts)
{
    tn_result r;

    start(1, NULL);
    put_ok(ch[1], "cons", "v", NULL);
    for (size_t i = 0; i < 4; i++) {
        tn_get(ch[1], "cons", accepted_levels[i], &r);
        ASSERT_OK(&r);
        ck_assert_ptr_nonnull(TN_GET(&r)->version);
        tn_result_free(&r);
    }
    for (size_t i = 0; i < 4; i++) {
        char want[64];
        snprintf(want, sizeof(want), "Unknown consistency level: %s", rejected_levels[i]);
        tn_get(ch[1], "cons", rejected_levels[i], &r);
        ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, want);
        tn_result_free(&r);
    }
    stop();
}
END_TEST

static void assert_unimplemented(const char *path)
{
    Norikv__V1__ShardInfo req = NORIKV__V1__SHARD_INFO__INIT;
    tn_result r;

    /* Answered at once: a hang would end in DEADLINE_EXCEEDED at 3 s. */
    tn_call(ch[1], path, &req.base, &norikv__v1__shard_info__descriptor, 3000, &r);
    ck_assert_msg(r.status == GRPC_STATUS_UNIMPLEMENTED, "%s: %s", path,
                  pbgrpc_status_name(r.status));
    tn_result_free(&r);
}

START_TEST(unserved_methods_are_unimplemented_at_once)
{
    start(1, "--profile real");
    assert_unimplemented("/norikv.v1.Admin/TransferShard");
    assert_unimplemented("/norikv.v1.Raft/RequestVote");
    assert_unimplemented("/norikv.v1.Raft/AppendEntries");
    assert_unimplemented("/norikv.v1.Nope/Nothing");
    ck_assert_uint_ge(tn_stat(&dn, "unimplemented"), 4);
    stop();
}
END_TEST

START_TEST(no_vector_switch_answers_unimplemented)
{
    Norikv__V1__VectorSearchRequest req = NORIKV__V1__VECTOR_SEARCH_REQUEST__INIT;
    float q[2] = {1, 2};
    tn_result r;

    start(1, "--no-vector --profile friendly"); /* the switch wins, before the profile too */
    req.namespace_ = "ns";
    req.n_query = 2;
    req.query = q;
    req.k = 1;
    tn_call(ch[1], "/norikv.v1.Vector/Search", &req.base,
            &norikv__v1__vector_search_response__descriptor, 3000, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNIMPLEMENTED, NULL);
    tn_result_free(&r);
    put_ok(ch[1], "still-kv", "v", NULL);
    stop();
}
END_TEST

START_TEST(missing_key_not_found_switch)
{
    tn_result r;

    start(1, "--missing-key not-found --fresh-shard-ms 0");
    tn_get(ch[1], "absent", NULL, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_NOT_FOUND, "key not found");
    tn_result_free(&r);
    put_ok(ch[1], "present", "v", NULL);
    assert_value(ch[1], "present", "v");
    stop();
}
END_TEST

/* ==== cluster mode ======================================================================== */

/* A key whose shard node `node` leads now (the control socket says which: leaders are
 * shuffled on the real profile, round-robin on the friendly one). */
static const char *key_on(char *buf, size_t len, const char *prefix, int node)
{
    return tn_key_led_by(&dn, buf, len, prefix, node, 1024);
}

START_TEST(non_leader_answers_not_leader_without_hint)
{
    char key[64];
    tn_result r;
    Norikv__V1__Version v;

    start(3, NULL);
    key_on(key, sizeof(key), "nl", 2);
    ck_assert_int_eq(tn_leader(&dn, route_shard(key, strlen(key), 1024)), 2);
    tn_put(ch[1], key, "v", NULL, NULL, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER");
    ck_assert_ptr_null(tn_trailer(&r, "leader-hint")); /* the real server sends none */
    ck_assert_ptr_null(tn_trailer(&r, "x-norikv-leader"));
    tn_result_free(&r);
    for (size_t i = 0; i < 4; i++) { /* every read takes the leader path, eventual too */
        tn_get(ch[3], key, accepted_levels[i], &r);
        ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER");
        tn_result_free(&r);
    }
    tn_del(ch[1], key, NULL, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER");
    tn_result_free(&r);

    v = put_ok(ch[2], key, "v", NULL);
    tn_put(ch[1], key, "w", NULL, &v, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER: CAS requires leader");
    tn_result_free(&r);
    assert_value(ch[2], key, "v");
    ck_assert_uint_ge(tn_stat(&dn, "not_leader"), 7);
    stop();
}
END_TEST

/* Node 1 applies the write and caches it; the shard moves to node 2; the retry on node 1,
 * now a follower, answers from node 1's own cache (per-node caches, the real profile). */
START_TEST(idempotency_hit_answers_even_on_a_follower)
{
    char key[64];
    tn_result r;
    Norikv__V1__Version v;

    start(3, "--profile real");
    key_on(key, sizeof(key), "idem-f", 1);
    v = put_ok(ch[1], key, "v", "req-follower");
    tn_control_ok(&dn, "move %u 2", route_shard(key, strlen(key), 1024));
    tn_put(ch[1], key, "v", "req-follower", NULL, 0, &r);
    ASSERT_OK(&r); /* the cache is checked before leadership, as on the server */
    ck_assert_uint_eq(TN_PUT(&r)->version->index, v.index);
    tn_result_free(&r);
    tn_put(ch[3], key, "v", "req-follower", NULL, 0, &r); /* node 3 never saw it */
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER");
    tn_result_free(&r);
    stop();
}
END_TEST

static void check_hint(const char *opts, const char *trailer, bool raft_form)
{
    char key[64], want[64];
    uint32_t shard;
    tn_result r;

    start(3, opts);
    key_on(key, sizeof(key), "hint", 3);
    shard = route_shard(key, strlen(key), 1024);
    if (raft_form)
        snprintf(want, sizeof(want), "node3-shard%u", shard);
    else
        snprintf(want, sizeof(want), "127.0.0.1:%d", dn.base_port + 2);
    tn_put(ch[1], key, "v", NULL, NULL, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER");
    ck_assert_ptr_nonnull(tn_trailer(&r, trailer));
    ck_assert_str_eq(tn_trailer(&r, trailer), want);
    tn_result_free(&r);
    stop();
}

START_TEST(hint_leader_hint_addr)
{
    check_hint("--leader-hint leader-hint --hint-form addr", "leader-hint", false);
}
END_TEST

START_TEST(hint_leader_hint_raft)
{
    check_hint("--leader-hint leader-hint --hint-form raft", "leader-hint", true);
}
END_TEST

START_TEST(hint_x_norikv_leader_addr)
{
    check_hint("--leader-hint x-norikv-leader", "x-norikv-leader", false);
}
END_TEST

START_TEST(hint_x_norikv_leader_raft)
{
    check_hint("--leader-hint x-norikv-leader --hint-form raft", "x-norikv-leader", true);
}
END_TEST

START_TEST(not_leader_failed_precondition_flavour)
{
    char key[64], want[64];
    tn_result r;

    start(3, "--not-leader failed-precondition");
    key_on(key, sizeof(key), "fp", 2);
    snprintf(want, sizeof(want), "NOT_LEADER: 127.0.0.1:%d", dn.base_port + 1);
    tn_put(ch[1], key, "v", NULL, NULL, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_FAILED_PRECONDITION, want);
    tn_result_free(&r);
    stop();
}
END_TEST

START_TEST(fresh_shard_elects_before_serving)
{
    char key[64];
    tn_result r;

    start(3, "--fresh-shard-ms 1000");
    key_on(key, sizeof(key), "fresh", 1);
    tn_put(ch[1], key, "v", NULL, NULL, 0, &r); /* even the leader, while it is elected */
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER");
    tn_result_free(&r);
    usleep(1200 * 1000);
    put_ok(ch[1], key, "v", NULL);
    stop();
}
END_TEST

static void assert_full_view(const Norikv__V1__ClusterView *v, int nodes_up)
{
    ck_assert_uint_eq(v->n_nodes, (size_t)nodes_up);
    ck_assert_uint_eq(v->n_shards, 1024);
    for (size_t s = 0; s < v->n_shards; s++) {
        int leaders = 0;
        ck_assert_uint_eq(v->shards[s]->id, s);
        ck_assert_uint_eq(v->shards[s]->n_replicas, (size_t)nodes_up);
        for (size_t k = 0; k < v->shards[s]->n_replicas; k++) {
            const Norikv__V1__ShardReplica *rep = v->shards[s]->replicas[k];
            if (rep->leader) {
                char want[16];
                leaders++;
                snprintf(want, sizeof(want), "node%d", tn_leader(&dn, (uint32_t)s));
                if (s % 97 == 0) /* the control socket agrees, on a sample */
                    ck_assert_str_eq(rep->node_id, want);
            }
        }
        ck_assert_int_eq(leaders, 1);
    }
}

START_TEST(view_lists_every_node_and_leader)
{
    tn_watch w;
    Norikv__V1__ClusterView *v;

    /* the cluster view and round-robin leaders: the friendly profile's */
    start(3, "--profile friendly --view-interval-ms 600000");
    ck_assert_int_eq(tn_watch_open(ch[2], &w, 10000), 0);
    v = tn_watch_next(&w, 5000); /* at once: the first tick is ten minutes away */
    ck_assert_ptr_nonnull(v);
    for (int i = 0; i < 3; i++) {
        char addr[32], id[16];
        snprintf(addr, sizeof(addr), "127.0.0.1:%d", dn.base_port + i);
        snprintf(id, sizeof(id), "node%d", i + 1);
        ck_assert_str_eq(v->nodes[i]->id, id);
        ck_assert_str_eq(v->nodes[i]->addr, addr);
    }
    assert_full_view(v, 3);
    for (size_t s = 0; s < 9; s++) /* round-robin at start */
        for (size_t k = 0; k < 3; k++)
            if (v->shards[s]->replicas[k]->leader)
                ck_assert_uint_eq(k, s % 3);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    tn_watch_close(&w);
    stop();
}
END_TEST

START_TEST(watch_epochs_increase)
{
    tn_watch w;
    Norikv__V1__ClusterView *v;
    uint64_t last = 0;

    start(1, "--view-interval-ms 100");
    ck_assert_int_eq(tn_watch_open(ch[1], &w, 10000), 0);
    for (int i = 0; i < 5; i++) {
        v = tn_watch_next(&w, 2000);
        ck_assert_ptr_nonnull(v);
        ck_assert_uint_gt(v->epoch, last);
        last = v->epoch;
        protobuf_c_message_free_unpacked(&v->base, NULL);
    }
    ck_assert_uint_ge(tn_stat(&dn, "watch_views_sent"), 5);
    tn_watch_close(&w);
    stop();
}
END_TEST

START_TEST(per_node_view_has_the_real_server_quirks)
{
    tn_watch w;
    Norikv__V1__ClusterView *v;
    char key[64], self[32], peer[32];
    uint32_t shard;
    tn_result r;

    start(3, "--profile real");
    key_on(key, sizeof(key), "quirk", 2);
    shard = route_shard(key, strlen(key), 1024);
    put_ok(ch[2], key, "v", NULL); /* instantiates the shard */
    tn_put(ch[2], key, "v2", NULL, NULL, 0, &r);
    tn_result_free(&r);
    ck_assert_int_eq(tn_watch_open(ch[2], &w, 10000), 0);
    v = tn_watch_next(&w, 2000);
    ck_assert_ptr_nonnull(v);
    snprintf(self, sizeof(self), "0.0.0.0:%d", dn.base_port + 1);
    snprintf(peer, sizeof(peer), "127.0.0.1:%d", dn.base_port + 1000); /* node1's SWIM port */
    ck_assert_uint_eq(v->n_nodes, 3);
    ck_assert_str_eq(v->nodes[1]->addr, self);
    ck_assert_str_eq(v->nodes[1]->role, "unknown");
    ck_assert_str_eq(v->nodes[0]->addr, peer);
    ck_assert_str_eq(v->nodes[0]->role, "follower");
    /* shard 0 and the touched shard only, each with node2 as the only replica */
    ck_assert_uint_eq(v->n_shards, 2);
    for (size_t s = 0; s < v->n_shards; s++) {
        ck_assert_uint_eq(v->shards[s]->n_replicas, 1);
        ck_assert_str_eq(v->shards[s]->replicas[0]->node_id, "node2");
        ck_assert(v->shards[s]->replicas[0]->leader == (tn_leader(&dn, v->shards[s]->id) == 2));
        ck_assert(v->shards[s]->id == 0 || v->shards[s]->id == shard);
    }
    protobuf_c_message_free_unpacked(&v->base, NULL);
    tn_watch_close(&w);
    stop();
}
END_TEST

/* A retry of a write whose leader moved: de-duplicated by the cluster-wide cache, applied
 * again with per-node caches (as the real server, which then double-applies). */
static void retry_after_move(const char *opts, bool deduplicated)
{
    char key[64];
    uint32_t shard;
    tn_result r;

    start(3, opts);
    key_on(key, sizeof(key), "move-retry", 1);
    shard = route_shard(key, strlen(key), 1024);
    put_ok(ch[1], key, "unique-value-1", "retry-1");
    tn_control_ok(&dn, "move %u 2", shard);
    tn_put(ch[2], key, "unique-value-1", "retry-1", NULL, 0, &r);
    ASSERT_OK(&r);
    tn_result_free(&r);
    ck_assert_uint_eq(tn_stat(&dn, "puts_applied"), deduplicated ? 1 : 2);
    ck_assert_uint_eq(tn_stat(&dn, "duplicate_applies"), deduplicated ? 0 : 1);
    stop();
}

START_TEST(idempotency_cluster_wide_survives_leader_move)
{
    retry_after_move("--idempotency cluster", true); /* the friendly profile's cache */
}
END_TEST

START_TEST(idempotency_per_node_does_not)
{
    retry_after_move("--profile real", false);
}
END_TEST

START_TEST(idempotency_per_node_is_lost_on_restart)
{
    char key[64];
    uint32_t shard;
    tn_result r;

    start(3, "--idempotency node --election-ms 50");
    key_on(key, sizeof(key), "restart", 1);
    shard = route_shard(key, strlen(key), 1024);
    put_ok(ch[1], key, "unique-restart", "req-restart");
    tn_control_ok(&dn, "kill 1");
    tn_control_ok(&dn, "revive 1");
    tn_control_ok(&dn, "move %u 1", shard);
    /* The channel may first learn of the restart by a write on the old connection failing
     * (UNAVAILABLE, nothing sent): a client retries such an attempt, and so does this. */
    tn_put(ch[1], key, "unique-restart", "req-restart", NULL, 0, &r);
    for (int i = 0;
         i < 50 && r.status == GRPC_STATUS_UNAVAILABLE && !strstr(r.details, "NOT_LEADER"); i++) {
        tn_result_free(&r);
        usleep(20 * 1000);
        tn_put(ch[1], key, "unique-restart", "req-restart", NULL, 0, &r);
    }
    ASSERT_OK(&r);
    tn_result_free(&r);
    ck_assert_uint_eq(tn_stat(&dn, "puts_applied"), 2); /* the cache died with the node */
    ck_assert_uint_eq(tn_stat(&dn, "idempotent_replays"), 0);
    stop();
}
END_TEST

START_TEST(admin_transfer_shard_moves_leadership)
{
    Norikv__V1__ShardInfo req = NORIKV__V1__SHARD_INFO__INIT, *resp;
    Norikv__V1__ShardReplica rep = NORIKV__V1__SHARD_REPLICA__INIT, *reps[1] = {&rep};
    char key[64];
    tn_result r;

    start(3, "--transfer-shard"); /* the friendly profile's; the real server's is UNIMPLEMENTED */
    key_on(key, sizeof(key), "transfer", 1);
    req.id = route_shard(key, strlen(key), 1024);
    rep.node_id = "node3";
    rep.leader = true;
    req.n_replicas = 1;
    req.replicas = reps;
    tn_call(ch[1], "/norikv.v1.Admin/TransferShard", &req.base, &norikv__v1__shard_info__descriptor,
            5000, &r);
    ASSERT_OK(&r);
    resp = (Norikv__V1__ShardInfo *)r.msg;
    ck_assert_uint_eq(resp->id, req.id);
    ck_assert_str_eq(resp->replicas[0]->node_id, "node3");
    tn_result_free(&r);
    ck_assert_int_eq(tn_leader(&dn, req.id), 3);
    put_ok(ch[3], key, "v", NULL);

    rep.node_id = "node9";
    tn_call(ch[1], "/norikv.v1.Admin/TransferShard", &req.base, &norikv__v1__shard_info__descriptor,
            5000, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "Unknown node node9");
    tn_result_free(&r);
    stop();
}
END_TEST

/* ==== control-socket faults ================================================================ */

START_TEST(kill_refuses_connections_and_reelects)
{
    char key[64];
    uint32_t shard;
    tn_result r;
    tn_watch w;
    Norikv__V1__ClusterView *v;
    uint64_t epoch;

    /* the cluster view drops a dead node (a per-node view keeps it as "failed") */
    start(3, "--view cluster --election-ms 3000");
    key_on(key, sizeof(key), "kill", 1);
    shard = route_shard(key, strlen(key), 1024);
    put_ok(ch[1], key, "before", NULL);
    ck_assert_int_eq(tn_watch_open(ch[2], &w, 20000), 0);
    v = tn_watch_next(&w, 2000);
    epoch = v->epoch;
    protobuf_c_message_free_unpacked(&v->base, NULL);

    tn_control_ok(&dn, "kill 1");
    tn_get(ch[1], key, NULL, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, NULL); /* connection refused */
    tn_result_free(&r);
    ck_assert_int_eq(tn_leader(&dn, shard), 0); /* electing */
    tn_get(ch[2], key, NULL, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER");
    tn_result_free(&r);
    /* the view drops node1 and moves on (a view sent before the kill may still be on its
     * way: the stream's epochs only grow until one without node1 arrives) */
    size_t n_nodes = 3;
    for (int i = 0; i < 20 && n_nodes == 3; i++) {
        v = tn_watch_next(&w, 2000);
        ck_assert_ptr_nonnull(v);
        ck_assert_uint_gt(v->epoch, epoch);
        epoch = v->epoch;
        n_nodes = v->n_nodes;
        protobuf_c_message_free_unpacked(&v->base, NULL);
    }
    ck_assert_uint_eq(n_nodes, 2);

    int leader = 0;
    for (int i = 0; i < 200 && leader == 0; i++) { /* elected within a bounded wait */
        usleep(50 * 1000);
        leader = tn_leader(&dn, shard);
    }
    ck_assert(leader == 2 || leader == 3);
    assert_value(ch[leader], key, "before"); /* committed writes survive the node */
    put_ok(ch[leader], key, "after", NULL);
    tn_watch_close(&w);

    char *err = tn_control(&dn, "kill 1");
    ck_assert_str_eq(err, "ERR node 1 is already down");
    free(err);
    stop();
}
END_TEST

START_TEST(revive_serves_again_leading_nothing)
{
    char key[64];
    uint32_t shard;
    tn_result r;

    start(3, "--election-ms 50");
    key_on(key, sizeof(key), "revive", 1);
    shard = route_shard(key, strlen(key), 1024);
    tn_control_ok(&dn, "kill 1");
    for (int i = 0; i < 200 && tn_leader(&dn, shard) == 0; i++)
        usleep(20 * 1000); /* the election is over before node 1 comes back */
    ck_assert_int_ne(tn_leader(&dn, shard), 0);
    tn_control_ok(&dn, "revive 1");
    tn_put(ch[1], key, "v", NULL, NULL, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER");
    tn_result_free(&r);
    tn_control_ok(&dn, "move %u 1", shard);
    put_ok(ch[1], key, "v", NULL);
    stop();
}
END_TEST

START_TEST(move_redirects_a_shard)
{
    char key[64];
    uint32_t shard;
    tn_result r;

    start(3, NULL);
    key_on(key, sizeof(key), "move", 1);
    shard = route_shard(key, strlen(key), 1024);
    tn_control_ok(&dn, "move %u 3", shard);
    ck_assert_int_eq(tn_leader(&dn, shard), 3);
    put_ok(ch[3], key, "v", NULL);
    tn_put(ch[1], key, "v", NULL, NULL, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER");
    tn_result_free(&r);
    stop();
}
END_TEST

START_TEST(latency_beyond_deadline)
{
    Norikv__V1__GetRequest req = NORIKV__V1__GET_REQUEST__INIT;
    tn_result r;

    start(1, NULL);
    req.key.data = (uint8_t *)"slow";
    req.key.len = 4;
    tn_warm(ch[1], "slow");
    tn_control_ok(&dn, "latency 1 400");
    tn_call(ch[1], "/norikv.v1.Kv/Get", &req.base, &norikv__v1__get_response__descriptor, 100, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_DEADLINE_EXCEEDED, NULL);
    tn_result_free(&r);
    tn_call(ch[1], "/norikv.v1.Kv/Get", &req.base, &norikv__v1__get_response__descriptor, 3000, &r);
    ASSERT_OK(&r); /* slow, not broken */
    tn_result_free(&r);
    tn_control_ok(&dn, "latency 0 0");
    tn_call(ch[1], "/norikv.v1.Kv/Get", &req.base, &norikv__v1__get_response__descriptor, 2000, &r);
    ASSERT_OK(&r);
    tn_result_free(&r);
    stop();
}
END_TEST

START_TEST(fail_all_then_a_fraction_then_clear)
{
    tn_result r;
    int failed = 0;

    start(1, "--seed 7");
    tn_warm(ch[1], "f");
    tn_control_ok(&dn, "fail 0 1 INTERNAL");
    tn_get(ch[1], "f", NULL, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INTERNAL, "injected fault");
    tn_result_free(&r);
    tn_control_ok(&dn, "fail 1 0.5 UNAVAILABLE");
    for (int i = 0; i < 200; i++) {
        tn_get(ch[1], "f", NULL, &r);
        if (r.status != GRPC_STATUS_OK) {
            ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "injected fault");
            failed++;
        }
        tn_result_free(&r);
    }
    ck_assert_int_gt(failed, 50); /* about half: 200 draws of a fair coin */
    ck_assert_int_lt(failed, 150);
    ck_assert_uint_eq(tn_stat(&dn, "faults_failed"), (uint64_t)failed + 1);
    tn_control_ok(&dn, "clear");
    for (int i = 0; i < 20; i++) {
        tn_get(ch[1], "f", NULL, &r);
        ASSERT_OK(&r);
        tn_result_free(&r);
    }
    stop();
}
END_TEST

START_TEST(lost_reply_then_idempotent_retry_applies_once)
{
    tn_result r;
    Norikv__V1__Version v;

    start(1, NULL);
    tn_warm(ch[1], "lost");
    tn_control_ok(&dn, "lose-reply 1");
    tn_put(ch[1], "lost", "unique-1", "write-1", NULL, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "reply lost (injected fault)");
    tn_result_free(&r);
    tn_control_ok(&dn, "lose-reply 0");
    assert_value(ch[1], "lost", "unique-1"); /* it was applied */
    v = put_ok(ch[1], "lost", "unique-1", "write-1");
    ck_assert_uint_eq(v.index, 1); /* the retry gets the first apply's version */
    ck_assert_uint_eq(tn_stat(&dn, "puts_applied"), 1);
    ck_assert_uint_eq(tn_stat(&dn, "idempotent_replays"), 1);
    ck_assert_uint_eq(tn_stat(&dn, "duplicate_applies"), 0);
    ck_assert_uint_eq(tn_stat(&dn, "replies_lost"), 1);
    stop();
}
END_TEST

START_TEST(lost_reply_retried_without_key_is_counted_twice)
{
    tn_result r;

    start(1, NULL);
    tn_warm(ch[1], "lost2");
    tn_control_ok(&dn, "lose-reply 1");
    tn_put(ch[1], "lost2", "unique-2", NULL, NULL, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, NULL);
    tn_result_free(&r);
    tn_control_ok(&dn, "clear");
    put_ok(ch[1], "lost2", "unique-2", NULL);
    /* what the counter exists to catch: the same write applied twice */
    ck_assert_uint_eq(tn_stat(&dn, "duplicate_applies"), 1);
    put_ok(ch[1], "lost2", "unique-3", NULL);
    ck_assert_uint_eq(tn_stat(&dn, "duplicate_applies"), 1);
    stop();
}
END_TEST

START_TEST(control_rejects_bad_commands)
{
    static const char *const bad[][2] = {
        {"kill 4", "ERR usage: kill N (N = 1..3)"},
        {"kill 0", "ERR usage: kill N (N = 1..3)"},
        {"move 1024 1", "ERR usage: move SHARD N (SHARD < 1024, N = 1..3)"},
        {"latency 1 -5", "ERR usage: latency N MS (N = 0 for all nodes)"},
        {"lose-reply 1.5", "ERR usage: lose-reply RATE (0..1)"},
        {"revive 2", "ERR node 2 is up"},
        {"explode", "ERR unknown command or wrong arguments: explode (try help)"},
    };
    char *a;

    start(3, NULL);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        a = tn_control(&dn, "%s", bad[i][0]);
        ck_assert_ptr_nonnull(a);
        ck_assert_str_eq(a, bad[i][1]);
        free(a);
    }
    a = tn_control(&dn, "fail 1 0.5 NOT_A_CODE");
    ck_assert(strncmp(a, "ERR usage: fail N RATE STATUS", 29) == 0);
    free(a);
    a = tn_control(&dn, "stats");
    ck_assert(strncmp(a, "OK {", 4) == 0);
    ck_assert_ptr_nonnull(strstr(a, "\"puts_applied\":0"));
    ck_assert_ptr_nonnull(strstr(a, "\"deletes_applied\":0"));
    ck_assert_ptr_nonnull(strstr(a, "\"idempotent_replays\":0"));
    ck_assert_ptr_nonnull(strstr(a, "\"duplicate_applies\":0"));
    free(a);
    stop();
}
END_TEST

/* ==== vectors ============================================================================== */

static void vcreate(grpc_channel *c, const char *ns, uint32_t dims, int distance, bool created)
{
    Norikv__V1__CreateVectorIndexRequest req = NORIKV__V1__CREATE_VECTOR_INDEX_REQUEST__INIT;
    tn_result r;

    req.namespace_ = (char *)ns;
    req.dimensions = dims;
    req.distance = distance;
    tn_call(c, "/norikv.v1.Vector/CreateIndex", &req.base,
            &norikv__v1__create_vector_index_response__descriptor, 5000, &r);
    ASSERT_OK(&r);
    ck_assert(((Norikv__V1__CreateVectorIndexResponse *)r.msg)->created == created);
    ck_assert_uint_eq(((Norikv__V1__CreateVectorIndexResponse *)r.msg)->n_meta, 0);
    tn_result_free(&r);
}

static void vinsert(grpc_channel *c, const char *ns, const char *id, float *v, size_t n,
                    tn_result *r)
{
    Norikv__V1__VectorInsertRequest req = NORIKV__V1__VECTOR_INSERT_REQUEST__INIT;

    req.namespace_ = (char *)ns;
    req.id = (char *)id;
    req.n_vector = n;
    req.vector = v;
    tn_call(c, "/norikv.v1.Vector/Insert", &req.base,
            &norikv__v1__vector_insert_response__descriptor, 5000, r);
}

static void vsearch(grpc_channel *c, const char *ns, float *q, size_t n, uint32_t k, bool with,
                    const char *consistency, tn_result *r)
{
    Norikv__V1__VectorSearchRequest req = NORIKV__V1__VECTOR_SEARCH_REQUEST__INIT;

    req.namespace_ = (char *)ns;
    req.n_query = n;
    req.query = q;
    req.k = k;
    req.include_vectors = with;
    if (consistency != NULL)
        req.consistency = (char *)consistency;
    tn_call(c, "/norikv.v1.Vector/Search", &req.base,
            &norikv__v1__vector_search_response__descriptor, 5000, r);
}

#define VSEARCH(r) ((Norikv__V1__VectorSearchResponse *)(r)->msg)

/* Three points, searched from q = (1, 0): the expected ids in order and distances. */
static float p_a[2] = {1, 0}, p_b[2] = {0, 2}, p_c[2] = {-3, 0}, q10[2] = {1, 0};

static void load_points(const char *ns, int distance)
{
    tn_result r;

    vcreate(ch[1], ns, 2, distance, true);
    vinsert(ch[1], ns, "a", p_a, 2, &r);
    ASSERT_OK(&r);
    tn_result_free(&r);
    vinsert(ch[1], ns, "b", p_b, 2, &r);
    tn_result_free(&r);
    vinsert(ch[1], ns, "c", p_c, 2, &r);
    tn_result_free(&r);
}

static void assert_matches(const char *ns, const char *const *ids, const float *dist)
{
    tn_result r;
    Norikv__V1__VectorSearchResponse *s;

    vsearch(ch[1], ns, q10, 2, 10, false, NULL, &r);
    ASSERT_OK(&r);
    s = VSEARCH(&r);
    ck_assert_uint_eq(s->n_matches, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(s->matches[i]->id, ids[i]);
        ck_assert_float_eq_tol(s->matches[i]->distance, dist[i], 1e-5);
        ck_assert_uint_eq(s->matches[i]->n_vector, 0); /* not asked for */
    }
    tn_result_free(&r);
}

START_TEST(vector_euclidean_search)
{
    static const char *const ids[] = {"a", "b", "c"};
    static const float dist[] = {0.0f, 2.2360680f, 4.0f}; /* sqrt, not squared */

    start(1, "--vector"); /* the friendly profile's vectors */
    load_points("euc", NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_EUCLIDEAN);
    assert_matches("euc", ids, dist);
    stop();
}
END_TEST

START_TEST(vector_cosine_search)
{
    static const char *const ids[] = {"a", "b", "c"};
    static const float dist[] = {0.0f, 1.0f, 2.0f}; /* 1 - cos */

    start(1, "--vector"); /* the friendly profile's vectors */
    load_points("cos", NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_COSINE);
    assert_matches("cos", ids, dist);
    stop();
}
END_TEST

START_TEST(vector_inner_product_search)
{
    static const char *const ids[] = {"a", "b", "c"};
    static const float dist[] = {-1.0f, 0.0f, 3.0f}; /* -(a.b) */

    start(1, "--vector"); /* the friendly profile's vectors */
    load_points("ip", NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_INNER_PRODUCT);
    assert_matches("ip", ids, dist);
    stop();
}
END_TEST

START_TEST(vector_k_and_include_vectors)
{
    tn_result r;
    Norikv__V1__VectorSearchResponse *s;

    start(1, "--vector"); /* the friendly profile's vectors */
    load_points("kv", NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_EUCLIDEAN);
    vsearch(ch[1], "kv", q10, 2, 2, true, "eventual", &r);
    ASSERT_OK(&r);
    s = VSEARCH(&r);
    ck_assert_uint_eq(s->n_matches, 2); /* truncated to k */
    ck_assert_str_eq(s->matches[1]->id, "b");
    ck_assert_uint_eq(s->matches[1]->n_vector, 2);
    ck_assert_float_eq(s->matches[1]->vector[0], 0.0f);
    ck_assert_float_eq(s->matches[1]->vector[1], 2.0f);
    tn_result_free(&r);
    stop();
}
END_TEST

START_TEST(vector_get_delete_drop)
{
    Norikv__V1__VectorGetRequest get = NORIKV__V1__VECTOR_GET_REQUEST__INIT;
    Norikv__V1__VectorDeleteRequest del = NORIKV__V1__VECTOR_DELETE_REQUEST__INIT;
    Norikv__V1__DropVectorIndexRequest drop = NORIKV__V1__DROP_VECTOR_INDEX_REQUEST__INIT;
    Norikv__V1__VectorGetResponse *g;
    tn_result r;

    start(1, "--vector"); /* the friendly profile's vectors */
    load_points("gdd", NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_COSINE);
    vcreate(ch[1], "gdd", 2, NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_COSINE, false);
    get.namespace_ = "gdd";
    get.id = "b";
    tn_call(ch[1], "/norikv.v1.Vector/Get", &get.base, &norikv__v1__vector_get_response__descriptor,
            5000, &r);
    ASSERT_OK(&r);
    g = (Norikv__V1__VectorGetResponse *)r.msg;
    ck_assert(g->found);
    ck_assert_uint_eq(g->n_vector, 2);
    ck_assert_float_eq(g->vector[1], 2.0f);
    tn_result_free(&r);

    del.namespace_ = "gdd";
    del.id = "b";
    tn_call(ch[1], "/norikv.v1.Vector/Delete", &del.base,
            &norikv__v1__vector_delete_response__descriptor, 5000, &r);
    ASSERT_OK(&r);
    ck_assert(((Norikv__V1__VectorDeleteResponse *)r.msg)->deleted);
    tn_result_free(&r);
    tn_call(ch[1], "/norikv.v1.Vector/Get", &get.base, &norikv__v1__vector_get_response__descriptor,
            5000, &r);
    ASSERT_OK(&r); /* a missing id is found=false, never NOT_FOUND */
    ck_assert(!((Norikv__V1__VectorGetResponse *)r.msg)->found);
    tn_result_free(&r);

    drop.namespace_ = "gdd";
    tn_call(ch[1], "/norikv.v1.Vector/DropIndex", &drop.base,
            &norikv__v1__drop_vector_index_response__descriptor, 5000, &r);
    ASSERT_OK(&r);
    ck_assert(((Norikv__V1__DropVectorIndexResponse *)r.msg)->dropped);
    tn_result_free(&r);
    vsearch(ch[1], "gdd", q10, 2, 1, false, NULL, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_NOT_FOUND, "Vector namespace 'gdd' not found");
    tn_result_free(&r);
    stop();
}
END_TEST

START_TEST(vector_idempotent_insert_applies_once)
{
    Norikv__V1__VectorInsertRequest req = NORIKV__V1__VECTOR_INSERT_REQUEST__INIT;
    Norikv__V1__VectorInsertResponse *ins;
    float other[2] = {9, 9};
    uint64_t writes;
    tn_result r;

    start(1, "--vector"); /* the friendly profile's vectors */
    vcreate(ch[1], "vi", 2, NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_EUCLIDEAN, true);
    writes = tn_stat(&dn, "vector_writes_applied");
    req.namespace_ = "vi";
    req.id = "a";
    req.n_vector = 2;
    req.vector = p_a;
    req.idempotency_key = "vec-req-1";
    for (int i = 0; i < 2; i++) {
        tn_call(ch[1], "/norikv.v1.Vector/Insert", &req.base,
                &norikv__v1__vector_insert_response__descriptor, 5000, &r);
        ASSERT_OK(&r);
        ins = (Norikv__V1__VectorInsertResponse *)r.msg;
        ck_assert(ins->inserted);
        ck_assert_ptr_nonnull(ins->version);
        tn_result_free(&r);
        req.vector = other; /* the replay must not write this */
    }
    ck_assert_uint_eq(tn_stat(&dn, "vector_writes_applied"), writes + 1);
    ck_assert_uint_eq(tn_stat(&dn, "idempotent_replays"), 1);
    vsearch(ch[1], "vi", q10, 2, 1, true, NULL, &r);
    ck_assert_float_eq(VSEARCH(&r)->matches[0]->vector[0], 1.0f);
    tn_result_free(&r);
    stop();
}
END_TEST

START_TEST(vector_validation_messages)
{
    Norikv__V1__CreateVectorIndexRequest c = NORIKV__V1__CREATE_VECTOR_INDEX_REQUEST__INIT;
    float three[3] = {1, 2, 3};
    char *long_id = repeat('i', 513);
    tn_result r;

    start(1, "--vector"); /* the friendly profile's vectors */
    c.namespace_ = "";
    c.dimensions = 2;
    c.distance = NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_COSINE;
    tn_call(ch[1], "/norikv.v1.Vector/CreateIndex", &c.base,
            &norikv__v1__create_vector_index_response__descriptor, 5000, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "Namespace cannot be empty");
    tn_result_free(&r);
    c.namespace_ = "v";
    c.dimensions = 0;
    tn_call(ch[1], "/norikv.v1.Vector/CreateIndex", &c.base,
            &norikv__v1__create_vector_index_response__descriptor, 5000, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "Dimensions must be between 1 and 4096");
    tn_result_free(&r);
    c.dimensions = 2;
    c.distance = NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_UNSPECIFIED;
    tn_call(ch[1], "/norikv.v1.Vector/CreateIndex", &c.base,
            &norikv__v1__create_vector_index_response__descriptor, 5000, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "Distance function must be specified");
    tn_result_free(&r);

    vcreate(ch[1], "v", 2, NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_EUCLIDEAN, true);
    vinsert(ch[1], "v", "", three, 2, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "Vector ID cannot be empty");
    tn_result_free(&r);
    vinsert(ch[1], "v", long_id, three, 2, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "Vector ID size 513 exceeds limit 512");
    tn_result_free(&r);
    vinsert(ch[1], "v", "x", three, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "Vector cannot be empty");
    tn_result_free(&r);
    vinsert(ch[1], "v", "x", three, 3, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "Vector dimension mismatch: expected 2, got 3");
    tn_result_free(&r);
    vinsert(ch[1], "nope", "x", three, 2, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_NOT_FOUND, "Vector namespace 'nope' not found");
    tn_result_free(&r);
    vsearch(ch[1], "v", three, 2, 0, false, NULL, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "k must be greater than 0");
    tn_result_free(&r);
    vsearch(ch[1], "v", three, 2, 1, false, "lease", &r);
    ASSERT_STATUS(&r, GRPC_STATUS_INVALID_ARGUMENT, "Unknown consistency level: lease");
    tn_result_free(&r);
    free(long_id);
    stop();
}
END_TEST

START_TEST(vector_writes_need_the_group_leader)
{
    tn_result r;
    char want[32];

    /* vectors, and the vector group follows shard 0, led by node1 under round-robin */
    start(3, "--profile friendly");
    vcreate(ch[1], "lead", 2, NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_EUCLIDEAN, true);
    snprintf(want, sizeof(want), "127.0.0.1:%d", dn.base_port);
    vinsert(ch[2], "lead", "a", p_a, 2, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_FAILED_PRECONDITION, "Not leader");
    ck_assert_str_eq(tn_trailer(&r, "x-norikv-leader"), want);
    tn_result_free(&r);
    vinsert(ch[1], "lead", "a", p_a, 2, &r);
    ASSERT_OK(&r);
    tn_result_free(&r);
    vsearch(ch[2], "lead", q10, 2, 1, false, NULL, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER: strong consistency requires leader");
    ck_assert_str_eq(tn_trailer(&r, "x-norikv-leader"), want);
    tn_result_free(&r);
    vsearch(ch[2], "lead", q10, 2, 1, false, "eventual", &r);
    ASSERT_OK(&r);
    ck_assert_uint_eq(VSEARCH(&r)->n_matches, 1);
    tn_result_free(&r);
    stop();
}
END_TEST

/* ==== the real profile (the default) and its switches ====================================== */

/* Every Vector method answers UNIMPLEMENTED, as the real server's. */
START_TEST(real_vector_is_unimplemented)
{
    Norikv__V1__CreateVectorIndexRequest cr = NORIKV__V1__CREATE_VECTOR_INDEX_REQUEST__INIT;
    float p[2] = {1, 0};
    tn_result r;

    start(1, "--profile real");
    cr.namespace_ = "ns";
    cr.dimensions = 2;
    tn_call(ch[1], "/norikv.v1.Vector/CreateIndex", &cr.base,
            &norikv__v1__create_vector_index_response__descriptor, 3000, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNIMPLEMENTED, NULL);
    tn_result_free(&r);
    vinsert(ch[1], "ns", "a", p, 2, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNIMPLEMENTED, NULL);
    tn_result_free(&r);
    vsearch(ch[1], "ns", p, 2, 1, false, NULL, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNIMPLEMENTED, NULL);
    tn_result_free(&r);
    ck_assert_uint_eq(tn_stat(&dn, "unimplemented"), 3);
    ck_assert_uint_eq(tn_stat(&dn, "vector_writes_applied"), 0);
    stop();
}
END_TEST

static void transfer(grpc_channel *c, uint32_t shard, const char *to, tn_result *r)
{
    Norikv__V1__ShardInfo req = NORIKV__V1__SHARD_INFO__INIT;
    Norikv__V1__ShardReplica rep = NORIKV__V1__SHARD_REPLICA__INIT, *reps[1] = {&rep};

    req.id = shard;
    rep.node_id = (char *)to;
    rep.leader = true;
    req.n_replicas = 1;
    req.replicas = reps;
    tn_call(c, "/norikv.v1.Admin/TransferShard", &req.base, &norikv__v1__shard_info__descriptor,
            5000, r);
}

/* TransferShard is UNIMPLEMENTED on the real server; the control socket's move, the test
 * harness's own lever, still moves a shard. */
START_TEST(real_transfer_shard_is_unimplemented_move_still_works)
{
    char key[64];
    uint32_t shard;
    tn_result r;

    start(3, "--profile real");
    key_on(key, sizeof(key), "rt", 1);
    shard = route_shard(key, strlen(key), 1024);
    transfer(ch[1], shard, "node3", &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNIMPLEMENTED, NULL);
    tn_result_free(&r);
    ck_assert_int_eq(tn_leader(&dn, shard), 1);
    tn_control_ok(&dn, "move %u 3", shard);
    ck_assert_int_eq(tn_leader(&dn, shard), 3);
    put_ok(ch[3], key, "v", NULL);
    stop();
}
END_TEST

static void snapshot(grpc_channel *c, uint32_t shard, tn_result *r)
{
    Norikv__V1__ShardInfo req = NORIKV__V1__SHARD_INFO__INIT;

    req.id = shard;
    tn_call(c, "/norikv.v1.Admin/SnapshotShard", &req.base, &norikv__v1__shard_info__descriptor,
            5000, r);
}

/* SnapshotShard is served on both profiles: the shard's id and the node asked as its one
 * replica, leader=true when that node leads it; an unknown shard is NOT_FOUND. */
static void check_snapshot(const char *opts)
{
    Norikv__V1__ShardInfo *info;
    tn_result r;
    uint32_t shard = 7;
    int leader;

    start(3, opts);
    leader = tn_leader(&dn, shard);
    for (int node = 1; node <= 3; node++) {
        char id[16];
        snapshot(ch[node], shard, &r);
        ASSERT_OK(&r);
        info = (Norikv__V1__ShardInfo *)r.msg;
        ck_assert_uint_eq(info->id, shard);
        ck_assert_uint_eq(info->n_replicas, 1);
        snprintf(id, sizeof(id), "node%d", node);
        ck_assert_str_eq(info->replicas[0]->node_id, id);
        ck_assert(info->replicas[0]->leader == (node == leader));
        tn_result_free(&r);
    }
    snapshot(ch[1], 1024, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_NOT_FOUND, "Shard 1024 not found");
    tn_result_free(&r);
    ck_assert_uint_eq(tn_stat(&dn, "unimplemented"), 0);
    stop();
}

START_TEST(real_snapshot_shard_is_served)
{
    check_snapshot("--profile real");
}
END_TEST

START_TEST(friendly_snapshot_shard_is_served)
{
    check_snapshot("--profile friendly");
}
END_TEST

/* The leaders of the first 32 shards, from the control socket. */
static void first_leaders(const char *opts, int out[32])
{
    start(3, opts);
    for (uint32_t s = 0; s < 32; s++)
        out[s] = tn_leader(&dn, s);
    stop();
}

/* First leaders are a seeded shuffle: not where a client guesses before its first view
 * (shard % 3 + 1) for most shards, balanced, and the same on every run of a seed. */
START_TEST(real_leaders_are_shuffled)
{
    int led[4] = {0}, guessed = 0, a[32], b[32], c[32], same = 0;

    start(3, "--profile real");
    for (uint32_t s = 0; s < 1024; s++) {
        int leader = tn_leader(&dn, s);
        ck_assert(leader >= 1 && leader <= 3);
        led[leader]++;
        guessed += leader == (int)(s % 3) + 1;
    }
    stop();
    ck_assert_msg(guessed < 512, "%d of 1024 shards led at shard %% 3 + 1", guessed);
    for (int n = 1; n <= 3; n++) /* the round-robin shares, shuffled */
        ck_assert(led[n] == 341 || led[n] == 342);
    first_leaders(NULL, a);
    first_leaders("--leader-seed 1", b);
    first_leaders("--leader-seed 2", c);
    for (int s = 0; s < 32; s++) {
        ck_assert_int_eq(a[s], b[s]); /* the default seed is 1 */
        same += a[s] == c[s];
    }
    ck_assert_int_lt(same, 32);
    first_leaders("--profile real --leaders round-robin", a);
    for (int s = 0; s < 32; s++)
        ck_assert_int_eq(a[s], s % 3 + 1);
}
END_TEST

/* A client that pings an idle channel every second (gRPC core's floor for keepalive_time)
 * for 5 s, 300 times as often as gRPC core's server tolerates by default: true when its
 * connection was not closed meanwhile (a policing server sends GOAWAY "too_many_pings" at
 * the third such ping, about 3 s in). */
static bool pinging_client_keeps_its_connection(void)
{
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_channel *c = tn_channel_pinging(&dn, 1, 1000);
    grpc_connectivity_state st;
    grpc_event ev;
    bool kept;
    tn_result r;

    tn_warm(c, "ping"); /* connects */
    tn_get(c, "ping", NULL, &r);
    ASSERT_OK(&r);
    tn_result_free(&r);
    st = grpc_channel_check_connectivity_state(c, 0);
    ck_assert_int_eq(st, GRPC_CHANNEL_READY);
    /* a GOAWAY "too_many_pings" moves the channel off READY */
    grpc_channel_watch_connectivity_state(c, st, pbgrpc_deadline_ms(5000), cq, (void *)1);
    ev = grpc_completion_queue_pluck(cq, (void *)1, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    kept = ev.type == GRPC_OP_COMPLETE && !ev.success; /* the deadline, with no change */
    tn_get(c, "ping", NULL, &r);
    if (kept)
        ASSERT_OK(&r);
    tn_result_free(&r);
    grpc_channel_destroy(c);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    return kept;
}

START_TEST(real_keepalive_pings_get_no_goaway)
{
    start(1, "--profile real");
    ck_assert_msg(pinging_client_keeps_its_connection(), "the devnode closed a pinging client");
    stop();
}
END_TEST

/* The other side of the same test: gRPC core's policing does close it. */
START_TEST(pings_police_switch_sends_goaway)
{
    start(1, "--pings police");
    ck_assert_msg(!pinging_client_keeps_its_connection(), "the policing devnode kept the client");
    stop();
}
END_TEST

/* A switch overrides its profile, given before it or after it. */
START_TEST(switches_override_the_profile)
{
    tn_watch w;
    Norikv__V1__ClusterView *v;
    tn_result r;

    start(3, "--vector --profile real --view cluster --transfer-shard");
    vcreate(ch[tn_leader(&dn, 0)], "ovr", 2,
            NORIKV__V1__DISTANCE_FUNCTION__DISTANCE_FUNCTION_EUCLIDEAN, true);
    transfer(ch[1], 5, "node2", &r);
    ASSERT_OK(&r);
    tn_result_free(&r);
    ck_assert_int_eq(tn_watch_open(ch[1], &w, 10000), 0);
    v = tn_watch_next(&w, 2000);
    ck_assert_ptr_nonnull(v);
    assert_full_view(v, 3);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    tn_watch_close(&w);
    stop();

    start(1, "--profile friendly --no-transfer-shard");
    transfer(ch[1], 5, "node1", &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNIMPLEMENTED, NULL);
    tn_result_free(&r);
    stop();
}
END_TEST

/* ==== shutdown ============================================================================= */

typedef struct held_call {
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_metadata_array md;
    grpc_status_code status;
    grpc_slice details;
    grpc_byte_buffer *send, *recv;
} held_call;

/* Starts a Get that the devnode will hold (latency) and returns without waiting. */
static void hold_call(held_call *h, grpc_channel *c)
{
    Norikv__V1__GetRequest req = NORIKV__V1__GET_REQUEST__INIT;
    grpc_op ops[5];

    memset(h, 0, sizeof(*h));
    req.key.data = (uint8_t *)"held";
    req.key.len = 4;
    h->send = pbgrpc_pack(&req.base);
    h->cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_metadata_array_init(&h->md);
    h->call = grpc_channel_create_call(c, NULL, 0, h->cq,
                                       grpc_slice_from_static_string("/norikv.v1.Kv/Get"), NULL,
                                       pbgrpc_deadline_ms(60000), NULL);
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = h->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_MESSAGE;
    ops[3].data.recv_message.recv_message = &h->recv;
    ops[4].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[4].data.recv_status_on_client.trailing_metadata = &h->md;
    ops[4].data.recv_status_on_client.status = &h->status;
    ops[4].data.recv_status_on_client.status_details = &h->details;
    ck_assert_int_eq(grpc_call_start_batch(h->call, ops, 5, (void *)1, NULL), GRPC_CALL_OK);
}

static grpc_status_code finish_held(held_call *h)
{
    grpc_completion_queue_pluck(h->cq, (void *)1, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    if (h->recv != NULL)
        grpc_byte_buffer_destroy(h->recv);
    grpc_byte_buffer_destroy(h->send);
    grpc_slice_unref(h->details);
    grpc_metadata_array_destroy(&h->md);
    grpc_call_unref(h->call);
    grpc_completion_queue_shutdown(h->cq);
    while (
        grpc_completion_queue_pluck(h->cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
        GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(h->cq);
    return h->status;
}

START_TEST(sigterm_with_calls_and_watch_in_flight_exits_cleanly)
{
    held_call h;
    tn_watch w;
    Norikv__V1__ClusterView *v;
    int status;

    grpc_init();
    ck_assert_int_eq(tn_start(&dn, 3, NULL), 0);
    for (int i = 1; i <= 3; i++)
        ch[i] = tn_channel(&dn, i);
    put_ok(ch[1], tn_key_led_by(&dn, (char[64]){0}, 64, "sd", 1, 1024), "v", "sd-1");
    ck_assert_int_eq(tn_watch_open(ch[2], &w, 60000), 0);
    v = tn_watch_next(&w, 30000);
    ck_assert_ptr_nonnull(v);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    tn_control_ok(&dn, "latency 3 30000");
    hold_call(&h, ch[3]);
    usleep(300 * 1000); /* let it arrive and be held */

    status = tn_stop(&dn);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "devnode exit status %d", status);
    ck_assert_int_ne(finish_held(&h), GRPC_STATUS_OK);
    ck_assert_int_ne(tn_watch_close(&w), GRPC_STATUS_OK);
    for (int i = 1; i <= 3; i++) {
        grpc_channel_destroy(ch[i]);
        ch[i] = NULL;
    }
    grpc_shutdown_blocking();
}
END_TEST

/* ==== suite ================================================================================ */

/* ==== what the real server does: these cases also run against it (make check-real) ====== */

/* The node's id: the real server's is NORIKV_NODE_ID (node0 in testnode), the devnode's
 * nodeK for node K. */
static const char *self_id(void)
{
    return dn.real ? "node0" : "node1";
}

/* A key (into buf) of a shard other than 0 that no earlier case of this process touched. */
static const char *fresh_key(char *buf, size_t len, const char *prefix)
{
    static int n;

    do
        snprintf(buf, len, "%s-%d-%d", prefix, (int)getpid(), n++);
    while (route_shard(buf, strlen(buf), 1024) == 0);
    return buf;
}

/* Puts key=value, waiting out a fresh shard's election (NOT_LEADER for up to 5 s); the
 * version, and in *waited_ms how long that took. */
static Norikv__V1__Version put_elected(grpc_channel *c, const char *key, const char *value,
                                       int64_t *waited_ms)
{
    int64_t t0 = clock_now_ms();
    tn_result r;

    for (;;) {
        tn_put(c, key, value, NULL, NULL, 0, &r);
        if (r.status != GRPC_STATUS_UNAVAILABLE || clock_now_ms() - t0 > 5000)
            break;
        tn_result_free(&r);
        usleep(5000);
    }
    tn_result_free(&r);
    if (waited_ms != NULL)
        *waited_ms = clock_now_ms() - t0;
    return put_ok(c, key, value, NULL);
}

/* A writer thread: puts key=value (conditional on if_match when set) once every writer is
 * ready, delay_us after; with retry, again while UNAVAILABLE (a fresh shard), up to 5 s. */
typedef struct racer {
    grpc_channel *c;
    const char *key, *value;
    const Norikv__V1__Version *if_match;
    int delay_us;
    bool retry;
    pthread_barrier_t *go;
    grpc_status_code status;
    uint64_t index; /* the version's, when OK */
} racer;

static void *race_put(void *arg)
{
    racer *r = arg;
    int64_t t0;

    pthread_barrier_wait(r->go);
    if (r->delay_us > 0)
        usleep((useconds_t)r->delay_us);
    t0 = clock_now_ms();
    for (;;) {
        tn_result res;
        tn_put(r->c, r->key, r->value, NULL, r->if_match, 0, &res);
        r->status = res.status;
        if (res.status == GRPC_STATUS_OK)
            r->index = TN_PUT(&res)->version->index;
        tn_result_free(&res);
        if (!r->retry || r->status != GRPC_STATUS_UNAVAILABLE || clock_now_ms() - t0 > 5000)
            break;
        usleep(10 * 1000);
    }
    return NULL;
}

/* Two conditional Puts of one key on its current version, the second `delay_us` after the
 * first, `rounds` times: how many rounds both succeeded. The first round waits out the
 * shard's election. */
static int cas_both_won(int rounds, int delay_us)
{
    int both = 0;
    char key[64];

    fresh_key(key, sizeof(key), "race");
    put_elected(ch[1], key, "0", NULL);
    for (int i = 0; i < rounds; i++) {
        pthread_barrier_t go;
        pthread_t t[2];
        racer r[2];

        Norikv__V1__Version v = put_ok(ch[1], key, "0", NULL);
        pthread_barrier_init(&go, NULL, 2);
        for (int k = 0; k < 2; k++) {
            r[k] = (racer){ch[1], key, k ? "b" : "a", &v, k ? delay_us : 0, false, &go, 0, 0};
            ck_assert_int_eq(pthread_create(&t[k], NULL, race_put, &r[k]), 0);
        }
        for (int k = 0; k < 2; k++)
            pthread_join(t[k], NULL);
        pthread_barrier_destroy(&go);
        ck_assert_msg(r[0].status == GRPC_STATUS_OK || r[1].status == GRPC_STATUS_OK,
                      "neither conditional Put won: %s, %s", pbgrpc_status_name(r[0].status),
                      pbgrpc_status_name(r[1].status));
        both += r[0].status == GRPC_STATUS_OK && r[1].status == GRPC_STATUS_OK;
    }
    return both;
}

/* Two conditional Puts on one version within one commit tick both succeed: the server
 * compares if_match when the call arrives and applies at its next heartbeat (150 ms), so
 * the second compares against the version the first has not yet replaced. Beyond a tick,
 * the second sees the first's version and fails. */
START_TEST(server_cas_within_a_tick_both_win)
{
    start(1, "--profile real");
    ck_assert_int_ge(cas_both_won(10, 0), 8);
    ck_assert_int_le(cas_both_won(5, 450 * 1000), 1);
    stop();
}
END_TEST

/* A write is answered on the next commit tick: one writer alone does about 6-7 a second,
 * while reads are answered at once. */
START_TEST(server_writes_wait_for_the_commit_tick)
{
    char key[64];
    int64_t t0;

    start(1, "--profile real");
    fresh_key(key, sizeof(key), "tick");
    put_elected(ch[1], key, "v", NULL);
    t0 = clock_now_ms();
    for (int i = 0; i < 10; i++)
        put_ok(ch[1], key, "v", NULL);
    ck_assert_int_ge(clock_now_ms() - t0, 10 * 100);
    for (int i = 0; i < 10; i++) {
        tn_result r;
        tn_del(ch[1], key, NULL, &r);
        ASSERT_OK(&r);
        tn_result_free(&r);
    }
    ck_assert_int_ge(clock_now_ms() - t0, 20 * 100);
    stop();
}
END_TEST

/* The first call to a shard creates it and answers UNAVAILABLE "NOT_LEADER" while it
 * elects itself (about 250 ms on one node), whatever the call; then it serves. */
START_TEST(server_fresh_shard_is_not_leader_while_it_elects)
{
    char key[64];
    int64_t waited;
    tn_result r;

    start(1, "--profile real");
    fresh_key(key, sizeof(key), "fresh-get");
    tn_get(ch[1], key, NULL, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER");
    tn_result_free(&r);
    fresh_key(key, sizeof(key), "fresh-del");
    tn_del(ch[1], key, NULL, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER");
    tn_result_free(&r);
    fresh_key(key, sizeof(key), "fresh-put");
    tn_put(ch[1], key, "v", NULL, NULL, 0, &r);
    ASSERT_STATUS(&r, GRPC_STATUS_UNAVAILABLE, "NOT_LEADER");
    tn_result_free(&r);
    put_elected(ch[1], key, "v", &waited);
    ck_assert_int_ge(waited, 100);
    ck_assert_int_le(waited, 5000);
    assert_value(ch[1], key, "v");
    stop();
}
END_TEST

/* One node's view: sent at once, then every second with the epoch one higher though
 * nothing changed; the node alone, role "unknown", at its rpc_addr (the devnode says
 * 0.0.0.0:port, the address a server on its default rpc_addr 0.0.0.0:7447 gives, while
 * it listens on loopback; testnode's real servers are given 127.0.0.1); shard 0 and each
 * shard once touched, with the node as its one replica and leader. */
START_TEST(server_one_node_view)
{
    char key[64], addr[32];
    uint32_t shard;
    tn_watch w;
    Norikv__V1__ClusterView *v;
    uint64_t epoch;
    bool seen0 = false, seen = false;
    int64_t t0;

    start(1, "--profile real");
    fresh_key(key, sizeof(key), "view");
    shard = route_shard(key, strlen(key), 1024);
    put_elected(ch[1], key, "v", NULL);
    usleep(1100 * 1000); /* a refresh of the view after the shard's creation */
    ck_assert_int_eq(tn_watch_open(ch[1], &w, 10000), 0);
    t0 = clock_now_ms();
    v = tn_watch_next(&w, 3000);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_lt(clock_now_ms() - t0, 500);
    ck_assert_uint_eq(v->n_nodes, 1);
    ck_assert_str_eq(v->nodes[0]->id, self_id());
    ck_assert_str_eq(v->nodes[0]->role, "unknown");
    snprintf(addr, sizeof(addr), "%s:%d", dn.real ? "127.0.0.1" : "0.0.0.0", dn.base_port);
    ck_assert_str_eq(v->nodes[0]->addr, addr);
    for (size_t s = 0; s < v->n_shards; s++) {
        ck_assert_uint_eq(v->shards[s]->n_replicas, 1);
        ck_assert_str_eq(v->shards[s]->replicas[0]->node_id, self_id());
        ck_assert(v->shards[s]->replicas[0]->leader);
        seen0 |= v->shards[s]->id == 0;
        seen |= v->shards[s]->id == shard;
    }
    ck_assert(seen0 && seen);
    epoch = v->epoch;
    protobuf_c_message_free_unpacked(&v->base, NULL);
    v = tn_watch_next(&w, 3000);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(v->epoch, epoch + 1);
    protobuf_c_message_free_unpacked(&v->base, NULL);
    tn_watch_close(&w);
    stop();
}
END_TEST

/* Writes to one shard that arrive together get one log index: each is acknowledged, the
 * log keeps one, and the others never apply. Eight at once to a shard that serves, three
 * times: some share an index and some read back as missing. */
START_TEST(server_writes_to_one_shard_at_once_keep_one)
{
    int lost = 0, shared = 0;

    start(1, "--profile real");
    for (int round = 0; round < 3; round++) {
        char keys[8][64], probe[64];
        racer w[8];
        pthread_t t[8];
        pthread_barrier_t go;
        uint32_t shard;
        int n = 0;

        fresh_key(probe, sizeof(probe), "burst");
        shard = route_shard(probe, strlen(probe), 1024);
        for (int i = 0; n < 8 && i < 1000000; i++) {
            snprintf(keys[n], sizeof(keys[n]), "burst-%d-%d-%d", (int)getpid(), round, i);
            if (route_shard(keys[n], strlen(keys[n]), 1024) == shard)
                n++;
        }
        ck_assert_int_eq(n, 8);
        put_elected(ch[1], probe, "warm", NULL);
        pthread_barrier_init(&go, NULL, 8);
        for (int i = 0; i < 8; i++) {
            w[i] = (racer){ch[1], keys[i], keys[i], NULL, 0, true, &go, 0, 0};
            ck_assert_int_eq(pthread_create(&t[i], NULL, race_put, &w[i]), 0);
        }
        for (int i = 0; i < 8; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&go);
        for (int i = 0; i < 8; i++) {
            tn_result r;
            ck_assert_msg(w[i].status == GRPC_STATUS_OK, "%s was not acknowledged: %s", keys[i],
                          pbgrpc_status_name(w[i].status));
            for (int j = 0; j < i; j++)
                shared += w[j].index == w[i].index;
            tn_get(ch[1], keys[i], NULL, &r);
            ASSERT_OK(&r);
            lost += TN_GET(&r)->version == NULL;
            tn_result_free(&r);
        }
    }
    ck_assert_int_gt(shared, 0);
    ck_assert_int_gt(lost, 0);
    stop();
}
END_TEST

/* The gRPC port opens about half a second after the process starts. */
START_TEST(server_listens_half_a_second_after_it_starts)
{
    start(1, "--profile real");
    ck_assert_int_ge(dn.startup_ms, 450);
    stop();
}
END_TEST

/* The kv cases that say what the real server does and need one node and no control
 * socket: the devnode's suite runs them, and so does the server's (make check-real). */
static void add_kv_cases_of_the_server(TCase *tc)
{
    tcase_add_test(tc, put_then_get_returns_value_and_version);
    tcase_add_test(tc, put_value_size_limit);
    tcase_add_test(tc, message_over_4mib_is_out_of_range);
    tcase_add_test(tc, empty_key_is_accepted);
    tcase_add_test(tc, missing_key_is_ok_without_version);
    tcase_add_test(tc, empty_value_has_a_version);
    tcase_add_test(tc, versions_count_per_shard);
    tcase_add_test(tc, ttl_expires_and_zero_means_none);
    tcase_add_test(tc, ttl_near_2_63_keeps_the_key);
    tcase_add_test(tc, idempotency_key_is_not_scoped_by_key);
    tcase_add_test(tc, idempotency_hit_comes_before_cas);
    tcase_add_test(tc, cas_matching_version_writes);
    tcase_add_test(tc, cas_version_mismatch_message);
    tcase_add_test(tc, cas_zero_version_is_a_condition_not_absence);
    tcase_add_test(tc, cas_missing_deleted_or_expired_key);
    tcase_add_test(tc, delete_if_match_is_ignored);
    tcase_add_test(tc, consistency_levels_the_server_accepts);
}

static void add_server_cases(TCase *tc)
{
    tcase_add_test(tc, server_cas_within_a_tick_both_win);
    tcase_add_test(tc, server_writes_wait_for_the_commit_tick);
    tcase_add_test(tc, server_fresh_shard_is_not_leader_while_it_elects);
    tcase_add_test(tc, server_one_node_view);
    tcase_add_test(tc, server_listens_half_a_second_after_it_starts);
    tcase_add_test(tc, server_writes_to_one_shard_at_once_keep_one);
}

static Suite *devnode_suite(void)
{
    Suite *s = suite_create("devnode");
    TCase *kv = tcase_create("kv"), *cl = tcase_create("cluster"), *fa = tcase_create("faults"),
          *ve = tcase_create("vector"), *re = tcase_create("real"), *sd = tcase_create("shutdown"),
          *sv = tcase_create("server");

    add_kv_cases_of_the_server(kv);
    tcase_add_test(kv, put_key_size_limit);
    tcase_add_test(kv, idempotent_put_replays_cached_version);
    tcase_add_test(kv, idempotency_cache_shared_by_put_and_delete);
    tcase_add_test(kv, only_successes_are_cached);
    tcase_add_test(kv, delete_always_tombstones);
    tcase_add_test(kv, unserved_methods_are_unimplemented_at_once);
    tcase_add_test(kv, no_vector_switch_answers_unimplemented);
    tcase_add_test(kv, missing_key_not_found_switch);

    tcase_add_test(cl, non_leader_answers_not_leader_without_hint);
    tcase_add_test(cl, idempotency_hit_answers_even_on_a_follower);
    tcase_add_test(cl, hint_leader_hint_addr);
    tcase_add_test(cl, hint_leader_hint_raft);
    tcase_add_test(cl, hint_x_norikv_leader_addr);
    tcase_add_test(cl, hint_x_norikv_leader_raft);
    tcase_add_test(cl, not_leader_failed_precondition_flavour);
    tcase_add_test(cl, fresh_shard_elects_before_serving);
    tcase_add_test(cl, view_lists_every_node_and_leader);
    tcase_add_test(cl, watch_epochs_increase);
    tcase_add_test(cl, per_node_view_has_the_real_server_quirks);
    tcase_add_test(cl, idempotency_cluster_wide_survives_leader_move);
    tcase_add_test(cl, idempotency_per_node_does_not);
    tcase_add_test(cl, idempotency_per_node_is_lost_on_restart);
    tcase_add_test(cl, admin_transfer_shard_moves_leadership);

    tcase_add_test(fa, kill_refuses_connections_and_reelects);
    tcase_add_test(fa, revive_serves_again_leading_nothing);
    tcase_add_test(fa, move_redirects_a_shard);
    tcase_add_test(fa, latency_beyond_deadline);
    tcase_add_test(fa, fail_all_then_a_fraction_then_clear);
    tcase_add_test(fa, lost_reply_then_idempotent_retry_applies_once);
    tcase_add_test(fa, lost_reply_retried_without_key_is_counted_twice);
    tcase_add_test(fa, control_rejects_bad_commands);

    tcase_add_test(ve, vector_euclidean_search);
    tcase_add_test(ve, vector_cosine_search);
    tcase_add_test(ve, vector_inner_product_search);
    tcase_add_test(ve, vector_k_and_include_vectors);
    tcase_add_test(ve, vector_get_delete_drop);
    tcase_add_test(ve, vector_idempotent_insert_applies_once);
    tcase_add_test(ve, vector_validation_messages);
    tcase_add_test(ve, vector_writes_need_the_group_leader);

    tcase_add_test(re, real_vector_is_unimplemented);
    tcase_add_test(re, real_transfer_shard_is_unimplemented_move_still_works);
    tcase_add_test(re, real_snapshot_shard_is_served);
    tcase_add_test(re, friendly_snapshot_shard_is_served);
    tcase_add_test(re, real_leaders_are_shuffled);
    tcase_add_test(re, real_keepalive_pings_get_no_goaway);
    tcase_add_test(re, pings_police_switch_sends_goaway);
    tcase_add_test(re, switches_override_the_profile);

    tcase_add_test(sd, sigterm_with_calls_and_watch_in_flight_exits_cleanly);

    add_server_cases(sv);

    /* generous bounds: the same cases run with the devnode under valgrind */
    tcase_set_timeout(kv, 120);
    tcase_set_timeout(cl, 120);
    tcase_set_timeout(fa, 120);
    tcase_set_timeout(ve, 120);
    tcase_set_timeout(re, 120);
    tcase_set_timeout(sd, 300);
    tcase_set_timeout(sv, 120);

    suite_add_tcase(s, kv);
    suite_add_tcase(s, cl);
    suite_add_tcase(s, fa);
    suite_add_tcase(s, ve);
    suite_add_tcase(s, re);
    suite_add_tcase(s, sd);
    suite_add_tcase(s, sv);
    return s;
}

/* With NORIKV_SERVER (make check-real): the cases above that say what the real server
 * does and need no control socket nor more than one node, run against it, so that the
 * devnode's real profile and the server are held to the same assertions. */
static Suite *server_suite(void)
{
    Suite *s = suite_create("norikv-server");
    TCase *kv = tcase_create("kv"), *sv = tcase_create("server");

    add_kv_cases_of_the_server(kv);
    tcase_add_test(kv, real_keepalive_pings_get_no_goaway);
    add_server_cases(sv);
    tcase_set_timeout(kv, 120);
    tcase_set_timeout(sv, 120);
    suite_add_tcase(s, kv);
    suite_add_tcase(s, sv);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tn_real() != NULL ? server_suite() : devnode_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * check_retry: the pure parts of the cluster client. The retry table row by row,
 * backoff math, leader-hint forms and the mapping of undialable view addresses.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "retry.h"
#include "topo.h"

typedef struct verdict_row {
    grpc_status_code status;
    const char *message;
    bool safe;
    retry_action action;
    kv_err err;
    bool node_fault;
} verdict_row;

static const verdict_row table[] = {
    {GRPC_STATUS_OK, "", true, RETRY_DONE, KV_OK, false},
    /* NOT_LEADER in every form a peer sends it */
    {GRPC_STATUS_UNAVAILABLE, "NOT_LEADER", false, RETRY_NOT_LEADER, KV_ERR_UNAVAILABLE, false},
    {GRPC_STATUS_UNAVAILABLE, "NOT_LEADER: CAS requires leader", false, RETRY_NOT_LEADER,
     KV_ERR_UNAVAILABLE, false},
    {GRPC_STATUS_UNAVAILABLE, "NOT_LEADER: strong consistency requires leader", true,
     RETRY_NOT_LEADER, KV_ERR_UNAVAILABLE, false},
    {GRPC_STATUS_FAILED_PRECONDITION, "Not leader", false, RETRY_NOT_LEADER, KV_ERR_UNAVAILABLE,
     false},
    {GRPC_STATUS_FAILED_PRECONDITION, "NOT_LEADER: 127.0.0.1:9002", false, RETRY_NOT_LEADER,
     KV_ERR_UNAVAILABLE, false},
    {GRPC_STATUS_FAILED_PRECONDITION, "Not the leader. Try mock-leader-2", false, RETRY_NOT_LEADER,
     KV_ERR_UNAVAILABLE, false},
    /* connection failures: always retried, and they count against the node */
    {GRPC_STATUS_UNAVAILABLE, "failed to connect to all addresses", false, RETRY_BACKOFF,
     KV_ERR_UNAVAILABLE, true},
    {GRPC_STATUS_UNAVAILABLE, "Cancelling all calls", false, RETRY_BACKOFF, KV_ERR_UNAVAILABLE,
     true},
    /* ambiguous outcomes: retried only when a second execution is harmless */
    {GRPC_STATUS_DEADLINE_EXCEEDED, "Deadline Exceeded", true, RETRY_BACKOFF, KV_ERR_TIMEOUT, true},
    {GRPC_STATUS_DEADLINE_EXCEEDED, "Deadline Exceeded", false, RETRY_FAIL, KV_ERR_TIMEOUT, true},
    {GRPC_STATUS_INTERNAL, "Put failed: CommitTimeout { elapsed_ms: 5000 }", true, RETRY_BACKOFF,
     KV_ERR_INTERNAL, false},
    {GRPC_STATUS_INTERNAL, "Put failed: CommitTimeout { elapsed_ms: 5000 }", false, RETRY_FAIL,
     KV_ERR_INTERNAL, false},
    {GRPC_STATUS_UNKNOWN, "", true, RETRY_BACKOFF, KV_ERR_INTERNAL, false},
    {GRPC_STATUS_CANCELLED, "Client disconnected", true, RETRY_BACKOFF, KV_ERR_CANCELLED, false},
    /* never retried */
    {GRPC_STATUS_INVALID_ARGUMENT, "Key size 1025 exceeds limit 1024", true, RETRY_FAIL,
     KV_ERR_INVALID, false},
    {GRPC_STATUS_FAILED_PRECONDITION,
     "Version mismatch: expected term=0 index=1, got term=0 index=2", true, RETRY_FAIL,
     KV_ERR_VERSION_MISMATCH, false},
    {GRPC_STATUS_FAILED_PRECONDITION, "CAS failed: key does not exist", true, RETRY_FAIL,
     KV_ERR_KEY_MISSING, false},
    {GRPC_STATUS_NOT_FOUND, "Vector namespace 'x' not found", true, RETRY_FAIL, KV_ERR_NOT_FOUND,
     false},
    {GRPC_STATUS_ALREADY_EXISTS, "", true, RETRY_FAIL, KV_ERR_EXISTS, false},
    {GRPC_STATUS_UNIMPLEMENTED, "", true, RETRY_FAIL, KV_ERR_NOT_SUPPORTED, false},
    {GRPC_STATUS_RESOURCE_EXHAUSTED, "message larger than max", true, RETRY_FAIL, KV_ERR_TOO_LARGE,
     false},
    {GRPC_STATUS_PERMISSION_DENIED, "", true, RETRY_FAIL, KV_ERR_INTERNAL, false},
};

START_TEST(test_retry_table)
{
    const verdict_row *row = &table[_i];
    retry_verdict v = retry_classify(row->status, row->message, row->safe);

    ck_assert_msg(v.action == row->action, "row %d (%d \"%s\"): action %d, expected %d", _i,
                  row->status, row->message, v.action, row->action);
    ck_assert_msg(v.err == row->err, "row %d: err %s, expected %s", _i, kv_err_name(v.err),
                  kv_err_name(row->err));
    ck_assert_int_eq(v.node_fault, row->node_fault);
}
END_TEST

START_TEST(test_backoff_doubles_to_the_cap)
{
    retry_config rc;

    retry_config_default(&rc);
    ck_assert_int_eq(rc.max_attempts, 10);
    ck_assert_int_eq(rc.initial_delay_ms, 100);
    ck_assert_int_eq(rc.max_delay_ms, 5000);
    ck_assert_int_eq(rc.jitter_ms, 100);
    /* no jitter drawn: 100, 200, 400, ... capped at 5000 */
    ck_assert_int_eq(retry_delay_ms(&rc, 1, 0.0), 100);
    ck_assert_int_eq(retry_delay_ms(&rc, 2, 0.0), 200);
    ck_assert_int_eq(retry_delay_ms(&rc, 3, 0.0), 400);
    ck_assert_int_eq(retry_delay_ms(&rc, 6, 0.0), 3200);
    ck_assert_int_eq(retry_delay_ms(&rc, 7, 0.0), 5000);
    ck_assert_int_eq(retry_delay_ms(&rc, 60, 0.0), 5000); /* no overflow far out */
    /* jitter adds 0..jitter_ms */
    ck_assert_int_eq(retry_delay_ms(&rc, 1, 0.999999), 200);
    ck_assert_int_eq(retry_delay_ms(&rc, 1, 0.5), 150);
    rc.jitter_ms = 0;
    ck_assert_int_eq(retry_delay_ms(&rc, 2, 0.99), 200);
}
END_TEST

START_TEST(test_split_addr)
{
    char host[64];
    int port;

    ck_assert(topo_split_addr("127.0.0.1:9001", host, sizeof(host), &port));
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 9001);
    ck_assert(topo_split_addr("[::1]:7447", host, sizeof(host), &port));
    ck_assert_str_eq(host, "[::1]");
    ck_assert_int_eq(port, 7447);
    ck_assert(topo_split_addr("localhost:1", host, sizeof(host), &port));
    ck_assert(!topo_split_addr("127.0.0.1", host, sizeof(host), &port));
    ck_assert(!topo_split_addr("127.0.0.1:", host, sizeof(host), &port));
    ck_assert(!topo_split_addr("127.0.0.1:70000", host, sizeof(host), &port));
    ck_assert(!topo_split_addr("::1:7447", host, sizeof(host), &port));
    ck_assert(!topo_split_addr("node1-shard5", host, sizeof(host), &port));
}
END_TEST

typedef struct map_row {
    const char *addr, *via, *want; /* want NULL: not dialable */
} map_row;

static const char *const seeds[] = {"127.0.0.1:7447", "127.0.0.1:7448", "10.0.0.9:7447"};

static const map_row maps[] = {
    {"127.0.0.1:7448", "127.0.0.1:7447", "127.0.0.1:7448"}, /* already a seed */
    {"0.0.0.0:7447", "127.0.0.1:7447", "127.0.0.1:7447"},   /* bind address of the sender */
    {"0.0.0.0:7448", "127.0.0.1:7447", "127.0.0.1:7448"},   /* unspecified host, known port */
    {"[::]:7447", "10.0.0.9:7447", "10.0.0.9:7447"},
    {"127.0.0.1:8448", "127.0.0.1:7447", "127.0.0.1:7448"}, /* SWIM port of seed 2 */
    {"10.0.0.9:8447", "127.0.0.1:7447", "10.0.0.9:7447"},   /* SWIM port of seed 3 */
    {"127.0.0.2:9000", "127.0.0.1:7447", "127.0.0.2:9000"}, /* a node we did not know */
    {"10.0.0.5:8447", "127.0.0.1:7447", NULL}, /* a SWIM address on a host no seed has */
    {"0.0.0.0:8448", "10.0.0.9:7447", NULL},   /* a peer's SWIM address, via another host */
    {"0.0.0.0:7448", "10.0.0.9:7447", "127.0.0.1:7448"},  /* the one seed with that port */
    {"0.0.0.0:7447", "127.0.0.5:7447", "127.0.0.5:7447"}, /* two seeds have it: via's host */
    {"0.0.0.0:9000", "127.0.0.5:7447", "127.0.0.5:9000"},
    {"garbage", "127.0.0.1:7447", NULL},
    {"0.0.0.0:7447", "not-an-address", NULL},
};

START_TEST(test_map_addr)
{
    const map_row *row = &maps[_i];
    char out[128];
    bool ok = topo_map_addr(row->addr, row->via, seeds, 3, out, sizeof(out));

    if (row->want == NULL) {
        ck_assert_msg(!ok, "%s should not map", row->addr);
    } else {
        ck_assert_msg(ok, "%s did not map", row->addr);
        ck_assert_str_eq(out, row->want);
    }
}
END_TEST

START_TEST(test_raft_hint_ids)
{
    char out[64];

    topo_raft_node_id("node1-shard5", 12, out, sizeof(out));
    ck_assert_str_eq(out, "node1");
    topo_raft_node_id("node12-shard1023", 16, out, sizeof(out));
    ck_assert_str_eq(out, "node12");
    topo_raft_node_id("node3", 5, out, sizeof(out));
    ck_assert_str_eq(out, "node3");
    topo_raft_node_id("mock-leader-2", 13, out, sizeof(out));
    ck_assert_str_eq(out, "mock-leader-2");
    topo_raft_node_id("a-shardx", 8, out, sizeof(out)); /* not a shard suffix */
    ck_assert_str_eq(out, "a-shardx");
    topo_raft_node_id("node1-shard5trailing", 12, out, sizeof(out)); /* length-bounded */
    ck_assert_str_eq(out, "node1");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("retry");
    TCase *tc = tcase_create("pure");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_retry_table, 0, (int)(sizeof(table) / sizeof(table[0])));
    tcase_add_test(tc, test_backoff_doubles_to_the_cap);
    tcase_add_test(tc, test_split_addr);
    tcase_add_loop_test(tc, test_map_addr, 0, (int)(sizeof(maps) / sizeof(maps[0])));
    tcase_add_test(tc, test_raft_hint_ids);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

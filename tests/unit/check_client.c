/*
 * check_client: the request scheduler of one connection (client.c) with the commands of
 * cmd*.c, over a fake cluster client (fake_kv.c) the test completes by hand, in any order.
 * A sidecar is put together as sidecar.c's run() would, one client is given one end of a
 * socketpair, and each case writes RESP to the other end and checks what a user would see
 * on the wire (the replies, in request order, and the close) and what the cluster saw
 * (which operations were started, when, and which were detached).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "client.h"
#include "clock.h"
#include "cmd.h"
#include "conf.h"
#include "fake_kv.h"
#include "pubsub.h"
#include "sidecar.h"
#include "stats.h"

static sidecar S;
static int peer = -1;       /* the application's end */
static char got[64 * 1024]; /* what the application has read and not yet checked */
static size_t got_len;
static bool peer_eof; /* the sidecar closed the connection */

/* ---- the harness -------------------------------------------------------------------- */

/* As sidecar.c: one flush per loop pass for every client with replies. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    client_flush_all(arg);
}

static void setup(void)
{
    int sv[2];

    signal(SIGPIPE, SIG_IGN); /* as the daemon: a write to a gone peer is EPIPE */
    memset(&S, 0, sizeof(S));
    ck_assert_int_eq(conf_init(&S.cfg), 0);
    S.base = event_base_new();
    ck_assert(S.base != NULL);
    stats_init(&S.st, cmd_count());
    S.flush_ev = event_new(S.base, -1, 0, on_flush, &S);
    ck_assert(S.flush_ev != NULL);
    S.started_ms = clock_now_ms();
    fake_kv_reset(S.base);
    S.kv = fake_kv_client();
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ck_assert_int_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
    client_accept(&S, sv[0], "/tmp/check_client.sock:0", true);
    peer = sv[1];
    got_len = 0;
    peer_eof = false;
    ck_assert_int_eq(S.nclients, 1);
}

static void teardown(void)
{
    int stale;

    while (!LIST_EMPTY(&S.clients))
        client_close(LIST_FIRST(&S.clients));
    client_reap(&S);
    client_mem_release(&S);
    stale = fake_kv_stale_detaches();
    fake_kv_free();
    event_free(S.flush_ev);
    stats_free(&S.st);
    event_base_free(S.base);
    conf_free(&S.cfg);
    if (peer >= 0)
        close(peer);
    peer = -1;
    /* the sidecar never detached an operation whose callback had already run */
    ck_assert_int_eq(stale, 0);
}

static client *the_client(void)
{
    ck_assert_int_eq(S.nclients, 1);
    return LIST_FIRST(&S.clients);
}

/* Writes the requests, each a line of space-separated words, in one write. */
static void pipeline(const char *line, ...)
{
    char buf[8192];
    size_t len = 0;
    va_list ap;

    va_start(ap, line);
    for (const char *l = line; l != NULL; l = va_arg(ap, const char *)) {
        char words[512], *save = NULL;
        const char *w[32];
        int n = 0;

        ck_assert_uint_lt(strlen(l), sizeof(words));
        strcpy(words, l);
        for (char *t = strtok_r(words, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save))
            w[n++] = t;
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "*%d\r\n", n);
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "$%zu\r\n%s\r\n", strlen(w[i]),
                                    w[i]);
        ck_assert_uint_lt(len, sizeof(buf));
    }
    va_end(ap);
    ck_assert_int_eq(write(peer, buf, len), (ssize_t)len);
}

/* Runs the loop until what is ready has run: reads, flushes, the fake's completions. */
static void pump(void)
{
    for (int i = 0; i < 8; i++)
        event_base_loop(S.base, EVLOOP_NONBLOCK);
}

/* Pumps, then reads what the sidecar sent; returns it (valid until the next call). */
static const char *take(void)
{
    static char out[sizeof(got) + 1];
    ssize_t n;

    pump();
    while (peer >= 0 && !peer_eof && got_len < sizeof(got)) {
        n = read(peer, got + got_len, sizeof(got) - got_len);
        if (n > 0) {
            got_len += (size_t)n;
            continue;
        }
        if (n == 0)
            peer_eof = true;
        else
            ck_assert_msg(errno == EAGAIN || errno == EWOULDBLOCK, "read: %s", strerror(errno));
        break;
    }
    memcpy(out, got, got_len);
    out[got_len] = '\0';
    got_len = 0;
    return out;
}

#define expect_wire(s) ck_assert_str_eq(take(), s)

/* Op n is a kind on key, not completed yet. */
static void assert_op(int n, fake_kind kind, const char *key)
{
    const fake_op *op = fake_kv_op(n);

    ck_assert_msg(op != NULL, "no operation %d (%d started)", n, fake_kv_count());
    ck_assert_int_eq(op->kind, kind);
    ck_assert_str_eq(op->key, key);
    ck_assert(!op->done);
    ck_assert(!op->detached);
}

/* ---- ordering ----------------------------------------------------------------------- */

/* Consecutive reads run at once; replies leave in request order whatever the completion
 * order. */
START_TEST(test_reads_overlap)
{
    pipeline("GET a", "GET b", "GET c", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 3);
    ck_assert_int_eq(fake_kv_outstanding(), 3);
    assert_op(0, FAKE_GET, "a");
    assert_op(1, FAKE_GET, "b");
    assert_op(2, FAKE_GET, "c");
    ck_assert_int_eq(fake_kv_op(0)->consistency, KV_LEASE);

    fake_kv_found(2, "C");
    expect_wire(""); /* c waits for a and b */
    fake_kv_found(0, "A");
    expect_wire("$1\r\nA\r\n");
    fake_kv_missing(1);
    expect_wire("$-1\r\n$1\r\nC\r\n");
    ck_assert_int_eq(fake_kv_count(), 3);
    ck_assert_int_eq(the_client()->nreqs, 0);
    ck_assert_uint_eq(S.st.keyspace_hits, 2);
    ck_assert_uint_eq(S.st.keyspace_misses, 1);
}
END_TEST

/* A write waits for the read before it, and the read after it waits for the write. */
START_TEST(test_write_between_reads)
{
    pipeline("GET a", "SET k v", "GET b", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 1);
    assert_op(0, FAKE_GET, "a");

    fake_kv_found(0, "A");
    expect_wire("$1\r\nA\r\n");
    ck_assert_int_eq(fake_kv_count(), 2);
    assert_op(1, FAKE_PUT, "k");
    ck_assert_str_eq(fake_kv_op(1)->value, "v");
    ck_assert_uint_eq(fake_kv_op(1)->ttl_ms, 0);

    fake_kv_ok(1);
    expect_wire("+OK\r\n");
    ck_assert_int_eq(fake_kv_count(), 3);
    assert_op(2, FAKE_GET, "b");

    fake_kv_found(2, "B");
    expect_wire("$1\r\nB\r\n");
    ck_assert_int_eq(fake_kv_max_outstanding(), 1);
}
END_TEST

/* Writes are ordered: the second starts when the first is done. */
START_TEST(test_writes_in_order)
{
    pipeline("SET k 1", "SET k 2 PX 5000", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 1);
    assert_op(0, FAKE_PUT, "k");
    ck_assert_str_eq(fake_kv_op(0)->value, "1");

    fake_kv_ok(0);
    expect_wire("+OK\r\n");
    ck_assert_int_eq(fake_kv_count(), 2);
    assert_op(1, FAKE_PUT, "k");
    ck_assert_str_eq(fake_kv_op(1)->value, "2");
    ck_assert_uint_eq(fake_kv_op(1)->ttl_ms, 5000);

    fake_kv_ok(1);
    expect_wire("+OK\r\n");
    ck_assert_int_eq(fake_kv_max_outstanding(), 1);
}
END_TEST

/* A local command between reads is answered at once but its reply waits its turn; the
 * read after it is not held back. */
START_TEST(test_local_between_reads)
{
    pipeline("GET a", "PING", "GET b", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 2);
    assert_op(0, FAKE_GET, "a");
    assert_op(1, FAKE_GET, "b");

    fake_kv_found(1, "B");
    expect_wire("");
    fake_kv_found(0, "A");
    expect_wire("$1\r\nA\r\n+PONG\r\n$1\r\nB\r\n");
}
END_TEST

/* Local commands at the head of the queue are answered at once, inside the scheduler's
 * own pass; the read after them starts in the same pass. */
START_TEST(test_local_at_head)
{
    pipeline("PING", "ECHO hi", "GET a", "PING x", NULL);
    expect_wire("+PONG\r\n$2\r\nhi\r\n");
    ck_assert_int_eq(fake_kv_count(), 1);
    assert_op(0, FAKE_GET, "a");
    fake_kv_found(0, "A");
    expect_wire("$1\r\nA\r\n$1\r\nx\r\n");
    ck_assert_uint_eq(S.st.total_commands_processed, 4);
    ck_assert_int_eq(the_client()->nreqs, 0);
}
END_TEST

/* MGET fans out beside the reads around it and answers in key order. */
START_TEST(test_mget_fanout)
{
    pipeline("MGET a b c", "GET d", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 4);
    assert_op(0, FAKE_GET, "a");
    assert_op(1, FAKE_GET, "b");
    assert_op(2, FAKE_GET, "c");
    assert_op(3, FAKE_GET, "d");

    fake_kv_found(3, "D");
    fake_kv_found(2, "C");
    fake_kv_missing(0);
    expect_wire("");
    fake_kv_found(1, "B");
    expect_wire("*3\r\n$-1\r\n$1\r\nB\r\n$1\r\nC\r\n$1\r\nD\r\n");
}
END_TEST

/* DEL reads each key (linearizable), deletes it once read, and counts what existed; the
 * read after it waits for all of it. */
START_TEST(test_del_reads_then_deletes)
{
    pipeline("DEL a b", "GET a", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 2);
    assert_op(0, FAKE_GET, "a");
    assert_op(1, FAKE_GET, "b");
    ck_assert_int_eq(fake_kv_op(0)->consistency, KV_LINEARIZABLE);

    fake_kv_found(0, "1");
    ck_assert_int_eq(fake_kv_count(), 3);
    assert_op(2, FAKE_DEL, "a");
    fake_kv_missing(1);
    ck_assert_int_eq(fake_kv_count(), 4);
    assert_op(3, FAKE_DEL, "b");
    expect_wire("");

    fake_kv_ok(3);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 4);
    fake_kv_ok(2);
    expect_wire(":1\r\n");
    ck_assert_int_eq(fake_kv_count(), 5);
    assert_op(4, FAKE_GET, "a");
    ck_assert_int_eq(fake_kv_op(4)->consistency, KV_LEASE);
    fake_kv_missing(4);
    expect_wire("$-1\r\n");
}
END_TEST

/* ---- errors and QUIT ---------------------------------------------------------------- */

/* A failed write is the reply of that request only; the next request still runs. */
START_TEST(test_write_error_is_its_own)
{
    pipeline("SET k v", "SET k2 w", "GET k", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 1);
    assert_op(0, FAKE_PUT, "k");

    fake_kv_fail(0, KV_ERR_UNAVAILABLE, "x");
    expect_wire("-UNAVAILABLE x\r\n");
    ck_assert_int_eq(fake_kv_count(), 2);
    assert_op(1, FAKE_PUT, "k2");

    fake_kv_ok(1);
    expect_wire("+OK\r\n");
    ck_assert_int_eq(fake_kv_count(), 3);
    assert_op(2, FAKE_GET, "k");

    fake_kv_found(2, "v");
    expect_wire("$1\r\nv\r\n");
    ck_assert_uint_eq(S.st.total_error_replies, 1);
    ck_assert_int_eq(S.nclients, 1);
}
END_TEST

/* One key of an MGET failing fails the MGET, and only it. */
START_TEST(test_mget_part_error)
{
    pipeline("MGET a b", "GET c", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 3);
    fake_kv_fail(1, KV_ERR_TIMEOUT, "deadline");
    fake_kv_found(2, "C");
    expect_wire("");
    fake_kv_found(0, "A");
    expect_wire("-TIMEOUT deadline\r\n$1\r\nC\r\n");
    ck_assert_uint_eq(S.st.total_error_replies, 1);
}
END_TEST

/* QUIT answers after what came before it; what came after it never runs; then the
 * connection closes. */
START_TEST(test_quit_in_pipeline)
{
    pipeline("GET a", "QUIT", "GET b", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 1);
    assert_op(0, FAKE_GET, "a");

    fake_kv_found(0, "A");
    expect_wire("$1\r\nA\r\n+OK\r\n");
    ck_assert(peer_eof);
    ck_assert_int_eq(S.nclients, 0);
    ck_assert_int_eq(fake_kv_count(), 1);
    ck_assert_int_eq(fake_kv_find(FAKE_GET, "b"), -1);
}
END_TEST

/* ---- clients that go away ----------------------------------------------------------- */

/* The peer closes with a read in flight and a write queued. Its side only may be closed
 * (printf | nc -U), so the sidecar goes on; the first reply it cannot write frees the
 * client, and the write that had started by then is detached: its completion calls
 * nothing. */
START_TEST(test_gone_with_ops_in_flight)
{
    int calls;

    pipeline("GET a", "SET k v", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 1);
    close(peer);
    peer = -1;
    pump();
    ck_assert_int_eq(S.nclients, 1); /* what it sent still runs */
    ck_assert_int_eq(fake_kv_outstanding(), 1);

    fake_kv_found(0, "A");
    pump();
    ck_assert_int_eq(S.nclients, 0);
    ck_assert_int_eq(fake_kv_count(), 2);
    ck_assert_int_eq(fake_kv_op(1)->kind, FAKE_PUT);
    ck_assert(fake_kv_op(1)->detached);

    calls = fake_kv_callbacks();
    fake_kv_ok(1);
    pump();
    ck_assert(!fake_kv_op(1)->called);
    ck_assert_int_eq(fake_kv_callbacks(), calls);
    ck_assert_int_eq(fake_kv_outstanding(), 0);
}
END_TEST

/* CLIENT KILL's path: the client goes at once; every operation in flight (the parts of
 * an MGET too) is detached and completing them calls nothing. */
START_TEST(test_killed_with_ops_in_flight)
{
    int calls;

    pipeline("GET a", "MGET b c", "SET k v", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 3);
    fake_kv_found(1, "B"); /* one part of the MGET done, one not */
    client_close(the_client());
    client_reap(&S); /* as the next flush pass does */
    ck_assert_int_eq(S.nclients, 0);
    ck_assert(fake_kv_op(0)->detached);
    ck_assert(!fake_kv_op(1)->detached);
    ck_assert(fake_kv_op(2)->detached);

    calls = fake_kv_callbacks();
    fake_kv_missing(2);
    fake_kv_found(0, "A");
    pump();
    ck_assert_int_eq(fake_kv_callbacks(), calls);
    ck_assert_int_eq(fake_kv_count(), 3); /* the SET never started */
    expect_wire("");
    ck_assert(peer_eof);
}
END_TEST

/* A peer that only shut down its writing side still gets every reply, then the close. */
START_TEST(test_half_closed_peer)
{
    pipeline("GET a", "GET b", NULL);
    ck_assert_int_eq(shutdown(peer, SHUT_WR), 0);
    expect_wire("");
    ck_assert_int_eq(S.nclients, 1);
    ck_assert_int_eq(fake_kv_count(), 2);
    fake_kv_found(1, "B");
    expect_wire("");
    ck_assert(!peer_eof);
    fake_kv_found(0, "A");
    expect_wire("$1\r\nA\r\n$1\r\nB\r\n");
    ck_assert(peer_eof);
    ck_assert_int_eq(S.nclients, 0);
}
END_TEST

/* ---- operations that end at once, or from the loop ---------------------------------- */

/* What the cluster saw, as "G a;P a=1;D a;" */
static const char *ops_seen(void)
{
    static char buf[1024];
    size_t len = 0;

    buf[0] = '\0';
    for (int i = 0; i < fake_kv_count(); i++) {
        const fake_op *op = fake_kv_op(i);
        const char *k = op->kind == FAKE_GET ? "G" : op->kind == FAKE_PUT ? "P" : "D";
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s %s%s%s;", k, op->key,
                                op->value ? "=" : "", op->value ? op->value : "");
        ck_assert_uint_lt(len, sizeof(buf));
    }
    return buf;
}

/* Every operation ends inside the kv_* call (the library on a local validation error), or
 * from the loop: each request still runs once, in the order the rule says, and every
 * reply arrives in request order. */
START_TEST(test_pipeline_auto)
{
    fake_mode mode = (fake_mode)_i;

    fake_kv_set_mode_all(mode);
    pipeline("SET a 1", "GET a", "SET a 2", "GET a", "GET b", "MSET x 1 y 2", "MGET a x y z",
             "DEL a x", "GET a", "PING", "GET x", NULL);
    expect_wire("+OK\r\n$1\r\n1\r\n+OK\r\n$1\r\n2\r\n$-1\r\n+OK\r\n"
                "*4\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"
                ":2\r\n$-1\r\n+PONG\r\n$-1\r\n");
    ck_assert_str_eq(ops_seen(), mode == FAKE_SYNC
                                     ? "P a=1;G a;P a=2;G a;G b;P x=1;P y=2;G a;G x;G y;G z;"
                                       "G a;D a;G x;D x;G a;G x;"
                                     : "P a=1;G a;P a=2;G a;G b;P x=1;P y=2;G a;G x;G y;G z;"
                                       "G a;G x;D a;D x;G a;G x;");
    for (int i = 0; i < fake_kv_count(); i++) {
        ck_assert(fake_kv_op(i)->done);
        ck_assert(fake_kv_op(i)->called);
    }
    ck_assert_int_eq(fake_kv_outstanding(), 0);
    ck_assert_uint_eq(S.st.total_commands_processed, 11);
    ck_assert_int_eq(the_client()->nreqs, 0);
}
END_TEST

/* The same, one request at a time, answered at once: no reply lost, none doubled. */
START_TEST(test_sync_one_at_a_time)
{
    fake_kv_set_mode_all(FAKE_SYNC);
    fake_kv_store("a", "A");
    for (int i = 0; i < 5; i++) {
        pipeline("GET a", NULL);
        expect_wire("$1\r\nA\r\n");
        pipeline("SET b x", NULL);
        expect_wire("+OK\r\n");
    }
    ck_assert_int_eq(fake_kv_count(), 10);
    ck_assert_uint_eq(S.st.total_commands_processed, 10);
}
END_TEST

/* DEL's read completes from the loop and its delete ends at once (the library could not
 * open a channel), which kv.h reports from the loop's next pass, never inside kv_del: the
 * reply is still right, once. (Completed inside kv_del, from within on_del_read, the
 * request would be freed under the handler's feet: the contract is what makes this safe.) */
START_TEST(test_del_delete_ends_at_once)
{
    fake_kv_set_mode(FAKE_GET, FAKE_LOOP);
    fake_kv_set_mode(FAKE_DEL, FAKE_LOOP);
    fake_kv_store("a", "1");
    fake_kv_store("x", "2");
    pipeline("DEL a x", "GET a", NULL);
    expect_wire(":2\r\n$-1\r\n");
    ck_assert_str_eq(ops_seen(), "G a;G x;D a;D x;G a;");
    ck_assert_int_eq(fake_kv_outstanding(), 0);
}
END_TEST

/* ---- compare-and-swap blocks ----------------------------------------------------------- */

/* INCR reads the key linearizably, then writes what it computed; the reply waits for the
 * write. */
START_TEST(test_incr_reads_then_writes)
{
    pipeline("INCR k", NULL);
    expect_wire("");
    assert_op(0, FAKE_GET, "k");
    ck_assert_int_eq(fake_kv_op(0)->consistency, KV_LINEARIZABLE);
    fake_kv_found(0, "41");
    expect_wire("");
    assert_op(1, FAKE_PUT, "k");
    ck_assert_str_eq(fake_kv_op(1)->value, "42");
    fake_kv_ok(1);
    expect_wire(":42\r\n");
    ck_assert_uint_eq(S.st.cas_rounds, 1);
}
END_TEST

/* Two blocks on one key run one after the other: the second reads only once the first is
 * done, from the loop. */
START_TEST(test_blocks_on_one_key_queue)
{
    pipeline("STRLEN k", "STRLEN k", "GET x", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 2); /* the second STRLEN waits; GET x does not */
    assert_op(0, FAKE_GET, "k");
    assert_op(1, FAKE_GET, "x");
    ck_assert_uint_eq(S.st.cas_waits, 1);
    fake_kv_found(0, "abc");
    expect_wire(":3\r\n");
    ck_assert_int_eq(fake_kv_count(), 3);
    assert_op(2, FAKE_GET, "k");
    fake_kv_found(2, "abcd");
    fake_kv_missing(1);
    expect_wire(":4\r\n$-1\r\n");
}
END_TEST

/* Blocks that queued on one key while another ran are one group when their turn comes:
 * one read for them all, each answered with its own reply, in order. */
START_TEST(test_blocks_on_one_key_group)
{
    pipeline("STRLEN k", "STRLEN k", "GETRANGE k 0 0", "STRLEN k", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 1);
    ck_assert_uint_eq(S.st.cas_waits, 3);
    fake_kv_found(0, "abc");
    expect_wire(":3\r\n");
    ck_assert_int_eq(fake_kv_count(), 2);
    assert_op(1, FAKE_GET, "k");
    fake_kv_found(1, "abcd");
    expect_wire(":4\r\n$1\r\na\r\n:4\r\n");
    ck_assert_int_eq(fake_kv_count(), 2);
    ck_assert_uint_eq(S.st.cas_rounds, 2);
    ck_assert_uint_eq(S.st.cas_groups, 1);
    ck_assert_uint_eq(S.st.cas_merged_blocks, 3);
    ck_assert_uint_eq(S.cas_keys.count, 0);
}
END_TEST

/* A client that goes away with one block running and one waiting on the same key: the
 * running read is detached, the waiting block leaves the queue, nothing more starts. */
START_TEST(test_blocks_abandoned)
{
    pipeline("STRLEN k", "STRLEN k", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 1);
    client_close(the_client());
    client_reap(&S); /* as the next flush pass does */
    pump();
    ck_assert_int_eq(S.nclients, 0);
    ck_assert(fake_kv_op(0)->detached);
    fake_kv_found(0, "abc");
    pump();
    ck_assert_int_eq(fake_kv_count(), 1);
    ck_assert(!fake_kv_op(0)->called);
    ck_assert_uint_eq(S.cas_keys.count, 0);
}
END_TEST

/* MULTI queues; EXEC over one key reads once and writes once; over two keys it refuses and
 * the next command runs as if MULTI had never been sent. */
START_TEST(test_multi_exec)
{
    pipeline("MULTI", "INCR k", "INCRBY k 2", "EXEC", NULL);
    expect_wire("+OK\r\n+QUEUED\r\n+QUEUED\r\n");
    ck_assert_int_eq(fake_kv_count(), 1);
    assert_op(0, FAKE_GET, "k");
    fake_kv_missing(0);
    expect_wire("");
    assert_op(1, FAKE_PUT, "k");
    ck_assert_str_eq(fake_kv_op(1)->value, "3");
    fake_kv_ok(1);
    expect_wire("*2\r\n:1\r\n:3\r\n");
    pipeline("MULTI", "SET a 1", "SET b 2", "EXEC", "PING", NULL);
    expect_wire("+OK\r\n+QUEUED\r\n+QUEUED\r\n-EXECABORT Transaction discarded: NoriKV "
                "transactions must touch a single key (this one touched 'a', 'b'); use a "
                "pipeline without MULTI\r\n+PONG\r\n");
    ck_assert_int_eq(fake_kv_count(), 2);
    /* a command that is no operation on a key's value: named as users type it */
    pipeline("MULTI", "CLIENT ID", "EXEC", NULL);
    expect_wire("+OK\r\n+QUEUED\r\n-EXECABORT Transaction discarded: CLIENT ID cannot run in a "
                "NoriKV transaction, which runs commands on one key's value; use a pipeline "
                "without MULTI\r\n");
}
END_TEST

/* ---- ordering by key ---------------------------------------------------------------- */

static void set_ordering(const char *mode)
{
    char err[256];

    ck_assert_int_eq(conf_set(&S.cfg, "sidecar.ordering", mode, err, sizeof(err)), 0);
}

/* By connection, writes to different keys run one after another; by key they overlap,
 * the later may finish first, and replies still leave in request order. A write to a key
 * written before it, and a read of it, wait. */
START_TEST(test_key_writes_overlap)
{
    pipeline("SET a 1", "SET b 2", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 1); /* by connection (the default) */
    fake_kv_ok(0);
    fake_kv_ok(1);
    expect_wire("+OK\r\n+OK\r\n");
    ck_assert_int_eq(fake_kv_max_outstanding(), 1);

    fake_kv_reset(S.base);
    set_ordering("key");
    pipeline("SET a 1", "SET b 2", "SET a 3", "GET a", "GET b", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 2);
    assert_op(0, FAKE_PUT, "a");
    assert_op(1, FAKE_PUT, "b");

    fake_kv_ok(1); /* b's write finishes first: its reply waits for a's */
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 3);
    assert_op(2, FAKE_GET, "b"); /* GET b follows SET b, not SET a 3 */
    fake_kv_found(2, "2");
    expect_wire("");

    fake_kv_ok(0);
    expect_wire("+OK\r\n+OK\r\n");
    ck_assert_int_eq(fake_kv_count(), 4);
    assert_op(3, FAKE_PUT, "a");
    ck_assert_str_eq(fake_kv_op(3)->value, "3");
    fake_kv_ok(3);
    expect_wire("+OK\r\n");
    ck_assert_int_eq(fake_kv_count(), 5);
    assert_op(4, FAKE_GET, "a");
    fake_kv_found(4, "3");
    expect_wire("$1\r\n3\r\n$1\r\n2\r\n");
    ck_assert_int_eq(fake_kv_max_outstanding(), 2);
    ck_assert_int_eq(the_client()->nreqs, 0);
}
END_TEST

#define STORE_KEYS 300
static char store[STORE_KEYS][16]; /* the test's own copy of the cluster's values */

/* A pipeline of n SETs and GETs, request i on key "k<key_of(i)>" (a GET when i % get_every
 * is get_every - 1, else a SET of "v<i>"), written to the client; want gets the replies
 * Redis would give, each GET answering the SET before it on its key. */

static void key_pipeline(int n, int get_every, int (*key_of)(int), char *want, size_t wcap)
{
    static char buf[64 * 1024];
    size_t len = 0, wlen = 0;

    memset(store, 0, sizeof(store));
    for (int i = 0; i < n; i++) {
        int k = key_of(i);
        ck_assert(k >= 0 && k < STORE_KEYS && len + 64 < sizeof(buf) && wlen + 32 < wcap);
        if (i % get_every == get_every - 1) {
            len += (size_t)snprintf(buf + len, sizeof(buf) - len,
                                    "*2\r\n$3\r\nGET\r\n$4\r\nk%03d\r\n", k);
            wlen +=
                (size_t)(store[k][0] != '\0' ? snprintf(want + wlen, wcap - wlen, "$%zu\r\n%s\r\n",
                                                        strlen(store[k]), store[k])
                                             : snprintf(want + wlen, wcap - wlen, "$-1\r\n"));
        } else {
            snprintf(store[k], sizeof(store[k]), "v%d", i);
            len += (size_t)snprintf(buf + len, sizeof(buf) - len,
                                    "*3\r\n$3\r\nSET\r\n$4\r\nk%03d\r\n$%zu\r\n%s\r\n", k,
                                    strlen(store[k]), store[k]);
            wlen += (size_t)snprintf(want + wlen, wcap - wlen, "+OK\r\n");
        }
    }
    ck_assert_int_eq(write(peer, buf, len), (ssize_t)len);
    memset(store, 0, sizeof(store));
}

/* Completes the fake's operations against the store, round after round, until none is
 * out: every one out each round, newest first (seed NULL), or about a third of them, picked
 * at random. */
static void serve_from_store(unsigned *seed)
{
    int rounds = 0;

    pump();
    while (fake_kv_outstanding() > 0) {
        ck_assert_int_lt(rounds++, 10000);
        int total = fake_kv_count(); /* those started meanwhile wait for the next round */
        for (int j = 0; j < total; j++) {
            int n = seed != NULL ? j : total - 1 - j;
            fake_op *op = fake_kv_op(n);
            int k = atoi(op->key + 1);
            if (op->done || (seed != NULL && rand_r(seed) % 3 != 0))
                continue;
            if (op->kind == FAKE_PUT) {
                snprintf(store[k], sizeof(store[k]), "%s", op->value);
                fake_kv_ok(n);
            } else if (store[k][0] != '\0') {
                fake_kv_found(n, store[k]);
            } else {
                fake_kv_missing(n);
            }
        }
        pump();
    }
}

/* What the client was sent is want, whole; says where they first differ otherwise. */
static void expect_wire_long(const char *want)
{
    const char *wire = take();
    size_t at = 0;

    while (wire[at] != '\0' && wire[at] == want[at])
        at++;
    ck_assert_msg(wire[at] == want[at],
                  "the replies differ at byte %zu of %zu: got \"%.40s\", "
                  "want \"%.40s\"",
                  at, strlen(want), wire + at, want + at);
}

static int four_keys(int i)
{
    return (i * 7 + i / 5) % 4;
}

/* A pipeline of SETs and GETs on four keys, completed newest first each round, against a
 * store the test keeps: every GET answers the value of the SET before it on its key, and
 * operations on different keys were out together. */
START_TEST(test_key_pipeline_per_key_order)
{
    static char want[4096];

    set_ordering("key");
    key_pipeline(48, 3, four_keys, want, sizeof(want));
    serve_from_store(NULL);
    expect_wire_long(want);
    ck_assert_int_eq(fake_kv_count(), 48);
    ck_assert_int_ge(fake_kv_max_outstanding(), 2);
    ck_assert_int_eq(the_client()->nreqs, 0);
}
END_TEST

static int many_keys(int i)
{
    return (int)((unsigned)i * 7919u % STORE_KEYS);
}

/* The same against 300 keys, completed in a random order each round: the running
 * requests' table grows, and keys leave it out of order, without losing one (a GET would
 * overtake its SET) or keeping one (a request would wait forever); it is empty at the end. */
START_TEST(test_key_many_keys_random_completions)
{
    static char want[900 * 24];
    unsigned seed = 12345;

    set_ordering("key");
    key_pipeline(900, 8, many_keys, want, sizeof(want));
    serve_from_store(&seed);
    ck_assert_int_eq(fake_kv_count(), 900);
    expect_wire_long(want);
    /* (each running GET reserves a whole value of reply_backlog, so fewer run at once) */
    ck_assert_int_ge(fake_kv_max_outstanding(), 64);
    ck_assert_int_eq(the_client()->nreqs, 0);
    ck_assert_int_eq(the_client()->running.all, 0);
    ck_assert_uint_eq(the_client()->running.used, 0);
    ck_assert_ptr_null(the_client()->first_queued);
}
END_TEST

/* By key, a change of connection state still runs alone: after every write before it,
 * before every one after it. */
START_TEST(test_key_state_runs_alone)
{
    set_ordering("key");
    pipeline("SET a 1", "SET b 2", "CLIENT SETNAME app", "SET c 3", "GET d", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 2);
    fake_kv_ok(1);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 2);
    fake_kv_ok(0);
    expect_wire("+OK\r\n+OK\r\n+OK\r\n");
    ck_assert_str_eq(the_client()->name, "app");
    ck_assert_int_eq(fake_kv_count(), 4);
    assert_op(2, FAKE_PUT, "c");
    assert_op(3, FAKE_GET, "d");
    fake_kv_missing(3);
    fake_kv_ok(2);
    expect_wire("+OK\r\n$-1\r\n");
}
END_TEST

/* By key, a multi-key command waits for any key of it in flight, and what comes after
 * waits for it on its keys only. */
START_TEST(test_key_multi_key)
{
    set_ordering("key");
    pipeline("MSET a 1 b 2", "SET c 3", "DEL b d", "GET d", "GET e", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 4);
    assert_op(0, FAKE_PUT, "a");
    assert_op(1, FAKE_PUT, "b");
    assert_op(2, FAKE_PUT, "c");
    assert_op(3, FAKE_GET, "e"); /* DEL waits for b, GET d for the DEL */
    fake_kv_found(3, "E");
    fake_kv_ok(1);
    fake_kv_ok(2);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 4);
    fake_kv_ok(0);
    expect_wire("+OK\r\n+OK\r\n");
    ck_assert_int_eq(fake_kv_count(), 6); /* DEL reads b and d */
    assert_op(4, FAKE_GET, "b");
    assert_op(5, FAKE_GET, "d");
    fake_kv_found(4, "2");
    fake_kv_missing(5);
    ck_assert_int_eq(fake_kv_count(), 8);
    assert_op(6, FAKE_DEL, "b");
    assert_op(7, FAKE_DEL, "d");
    fake_kv_ok(6);
    fake_kv_ok(7);
    expect_wire(":1\r\n");
    ck_assert_int_eq(fake_kv_count(), 9);
    assert_op(8, FAKE_GET, "d");
    fake_kv_missing(8);
    expect_wire("$-1\r\n$1\r\nE\r\n");
}
END_TEST

/* By key, MULTI waits for what came before, its queue runs as one block at EXEC, and
 * what comes after EXEC waits for it. */
START_TEST(test_key_multi_exec)
{
    set_ordering("key");
    pipeline("SET a 1", "MULTI", "INCR k", "EXEC", "SET b 2", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 1);
    fake_kv_ok(0);
    expect_wire("+OK\r\n+OK\r\n+QUEUED\r\n");
    ck_assert_int_eq(fake_kv_count(), 2);
    assert_op(1, FAKE_GET, "k");
    fake_kv_found(1, "41");
    ck_assert_int_eq(fake_kv_count(), 3);
    assert_op(2, FAKE_PUT, "k");
    fake_kv_ok(2);
    expect_wire("*1\r\n:42\r\n");
    ck_assert_int_eq(fake_kv_count(), 4);
    assert_op(3, FAKE_PUT, "b");
    fake_kv_ok(3);
    expect_wire("+OK\r\n");
}
END_TEST

/* By key, a read of more than 64 keys waits for every write before it, and every write
 * after it waits for it; reads beside it go on. */
START_TEST(test_key_wide_read)
{
    char buf[4096];
    size_t len = 0;
    int rounds = 0;

    set_ordering("key");
    len +=
        (size_t)snprintf(buf + len, sizeof(buf) - len, "*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$1\r\n1\r\n");
    len += (size_t)snprintf(buf + len, sizeof(buf) - len, "*66\r\n$4\r\nMGET\r\n");
    for (int i = 0; i < 65; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "$3\r\nw%02d\r\n", i);
    len +=
        (size_t)snprintf(buf + len, sizeof(buf) - len,
                         "*2\r\n$3\r\nGET\r\n$1\r\ny\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n2\r\n");
    ck_assert_int_eq(write(peer, buf, len), (ssize_t)len);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 2); /* SET z and GET y; the MGET waits for SET z */
    assert_op(0, FAKE_PUT, "z");
    assert_op(1, FAKE_GET, "y");
    fake_kv_ok(0);
    expect_wire("+OK\r\n");
    ck_assert_int_ge(fake_kv_count(), 3);
    ck_assert_int_eq(fake_kv_find(FAKE_PUT, "x"), -1); /* SET x waits for the MGET */
    while (fake_kv_find(FAKE_PUT, "x") < 0) {
        ck_assert_int_lt(rounds++, 20);
        for (int n = 2; n < fake_kv_count(); n++) {
            if (!fake_kv_op(n)->done && fake_kv_op(n)->kind == FAKE_GET)
                fake_kv_missing(n); /* the MGET's */
        }
        pump();
    }
    ck_assert_int_eq(fake_kv_count(), 2 + 65 + 1);
    ck_assert(!fake_kv_op(1)->done); /* GET y is still out */
    fake_kv_ok(fake_kv_count() - 1);
    fake_kv_found(1, "Y");
    ck_assert_uint_eq(strlen(take()), 5 + 65 * 5 + 7 + 5);
}
END_TEST

/* By key, the scan passes over at most 64 requests that must wait: a write to another key
 * behind 69 waiting writes to one key starts once fewer wait before it. */
START_TEST(test_key_lookahead)
{
    char buf[4096];
    size_t len = 0;
    int b;

    set_ordering("key");
    for (int i = 0; i < 70; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len,
                                "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$2\r\n%02d\r\n", i);
    len +=
        (size_t)snprintf(buf + len, sizeof(buf) - len, "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n1\r\n");
    ck_assert_int_eq(write(peer, buf, len), (ssize_t)len);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 1);
    for (int n = 0; n < 5; n++) {
        ck_assert_int_eq(fake_kv_find(FAKE_PUT, "b"), -1);
        fake_kv_ok(n);
        pump();
    }
    /* 65 SETs of a left, one running: b is the 65th request past it */
    b = fake_kv_find(FAKE_PUT, "b");
    ck_assert_int_eq(b, 6);
    ck_assert_int_eq(fake_kv_outstanding(), 2);
    fake_kv_ok(b);
    while (fake_kv_outstanding() > 0) {
        for (int n = 0; n < fake_kv_count(); n++) {
            if (!fake_kv_op(n)->done)
                fake_kv_ok(n);
        }
        pump();
    }
    ck_assert_int_eq(fake_kv_count(), 71);
    ck_assert_str_eq(fake_kv_op(70)->key, "a");
    ck_assert_str_eq(fake_kv_op(70)->value, "69");
    ck_assert_uint_eq(strlen(take()), 71 * 5);
}
END_TEST

/* Reads started by connection still run when the ordering becomes by key: a write of
 * theirs waits for them, a read of another key does not. */
START_TEST(test_ordering_reload_to_key)
{
    pipeline("GET a", "GET b", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 2);
    set_ordering("key");
    pipeline("SET a 1", "GET c", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 3);
    assert_op(2, FAKE_GET, "c");
    fake_kv_missing(1);
    fake_kv_missing(2);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 3); /* SET a still waits for GET a */
    fake_kv_missing(0);
    expect_wire("$-1\r\n$-1\r\n");
    ck_assert_int_eq(fake_kv_count(), 4);
    assert_op(3, FAKE_PUT, "a");
    fake_kv_ok(3);
    expect_wire("+OK\r\n$-1\r\n");
    ck_assert_int_eq(the_client()->running.all, 0);
    ck_assert_int_eq(the_client()->running.unkeyed_reads, 0);
}
END_TEST

/* A reload applies to requests started after it: writes that overlap by key go on, and a
 * write started by connection waits for them. */
START_TEST(test_ordering_reload)
{
    set_ordering("key");
    pipeline("SET a 1", "SET b 2", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 2);
    set_ordering("connection");
    pipeline("SET c 3", "GET d", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 2);
    fake_kv_ok(1);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 2);
    fake_kv_ok(0);
    expect_wire("+OK\r\n+OK\r\n");
    ck_assert_int_eq(fake_kv_count(), 3);
    assert_op(2, FAKE_PUT, "c");
    fake_kv_ok(2);
    expect_wire("+OK\r\n");
    assert_op(3, FAKE_GET, "d");
    fake_kv_missing(3);
    expect_wire("$-1\r\n");
}
END_TEST

/* ---- back-pressure ------------------------------------------------------------------ */

/* With max_pending 4, a pipeline of 20 reads never has more than 4 requests queued or 4
 * operations out, and every reply arrives, in order, as they complete. */
START_TEST(test_max_pending)
{
    char err[256], buf[4096], want[1024], all[1024] = "";
    size_t len = 0;
    int rounds = 0;

    ck_assert_int_eq(conf_set(&S.cfg, "sidecar.max_pending", "4", err, sizeof(err)), 0);
    for (int i = 0; i < 20; i++) {
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "*2\r\n$3\r\nGET\r\n$%d\r\nk%d\r\n",
                                i < 10 ? 2 : 3, i);
    }
    ck_assert_int_eq(write(peer, buf, len), (ssize_t)len);
    len = 0;
    for (int i = 0; i < 20; i++)
        len +=
            (size_t)snprintf(want + len, sizeof(want) - len, "$%d\r\nv%d\r\n", i < 10 ? 2 : 3, i);

    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 4);
    ck_assert_int_eq(the_client()->nreqs, 4);
    ck_assert(!the_client()->reading);
    ck_assert_uint_ge(S.st.client_query_pauses, 1);
    while (fake_kv_outstanding() > 0) {
        int first = fake_kv_count() - fake_kv_outstanding();
        ck_assert_int_lt(rounds++, 20);
        /* the newest first: nothing can leave before the oldest is done */
        for (int n = fake_kv_count() - 1; n >= first; n--) {
            char v[16];
            snprintf(v, sizeof(v), "v%s", fake_kv_op(n)->key + 1);
            fake_kv_found(n, v);
            ck_assert_int_le(the_client()->nreqs, 4);
        }
        const char *w = take();
        ck_assert_uint_lt(strlen(all) + strlen(w), sizeof(all));
        strcat(all, w);
        ck_assert_int_le(the_client()->nreqs, 4);
        ck_assert_int_le(fake_kv_outstanding(), 4);
    }
    ck_assert_str_eq(all, want);
    ck_assert_int_eq(rounds, 5);
    ck_assert_int_eq(fake_kv_count(), 20);
    ck_assert_int_eq(fake_kv_max_outstanding(), 4);
    ck_assert_int_eq(the_client()->nreqs, 0);
    ck_assert(the_client()->reading);
}
END_TEST

/* ---- bounds under abuse ------------------------------------------------------------- */

/* Writes all of buf, running the loop while the socket is full. */
static void write_all(const char *buf, size_t len)
{
    for (int spins = 0; len > 0; spins++) {
        ssize_t n = write(peer, buf, len);
        ck_assert_int_lt(spins, 10000);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else {
            ck_assert_int_eq(errno, EAGAIN);
            pump();
        }
    }
}

/* Writes one request of argc words (RESP multibulk). */
static void request(int argc, char **argv)
{
    static char buf[64 * 1024];
    size_t len = (size_t)snprintf(buf, sizeof(buf), "*%d\r\n", argc);

    for (int i = 0; i < argc; i++) {
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "$%zu\r\n%s\r\n", strlen(argv[i]),
                                argv[i]);
        ck_assert_uint_lt(len, sizeof(buf));
    }
    write_all(buf, len);
}

/* Nothing held once a client is idle: the counts against reply_backlog are back to 0. */
static void assert_nothing_held(void)
{
    client *c = the_client();

    ck_assert_int_eq(c->nreqs, 0);
    ck_assert_uint_eq(c->hold[HOLD_ARGS], 0);
    ck_assert_uint_eq(c->hold[HOLD_DONE], 0);
    ck_assert_uint_eq(c->hold[HOLD_RESERVED], 0);
}

/* With reply_backlog 64 KiB, a GET (which may bring a 1 MiB value) runs alone: the next
 * starts once its reply is written, so unread replies never pile up in the sidecar. */
START_TEST(test_backlog_bounds_running_reads)
{
    char err[256], want[64];

    ck_assert_int_eq(conf_set(&S.cfg, "sidecar.reply_backlog", "64k", err, sizeof(err)), 0);
    pipeline("GET k0", "GET k1", "GET k2", "GET k3", "GET k4", NULL);
    for (int i = 0; i < 5; i++) {
        expect_wire("");
        ck_assert_int_eq(fake_kv_count(), i + 1);
        ck_assert_int_eq(fake_kv_outstanding(), 1);
        snprintf(want, sizeof(want), "k%d", i);
        assert_op(i, FAKE_GET, want);
        fake_kv_found(i, "v");
        expect_wire("$1\r\nv\r\n");
    }
    ck_assert_int_eq(fake_kv_max_outstanding(), 1);
    assert_nothing_held();
}
END_TEST

/* A write whose reply is never a stored value reserves little: with reply_backlog 64 KiB
 * and ordering by key, eight SETs to eight keys are out together, where GETs (above) go one
 * at a time; SET with GET answers the old value and reserves a value's worth again. */
START_TEST(test_small_replies_reserve_little)
{
    char err[256];

    ck_assert_int_eq(conf_set(&S.cfg, "sidecar.reply_backlog", "64k", err, sizeof(err)), 0);
    set_ordering("key");
    pipeline("SET k0 v", "SET k1 v", "SET k2 v", "SET k3 v", "SET k4 v", "SET k5 v", "SET k6 v",
             "SET k7 v", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_outstanding(), 8);
    /* SMALL_REPLY and 32 bytes an argument (client.c, reply_reserve) */
    ck_assert(the_client()->hold[HOLD_RESERVED] <= 8 * (4096 + 3 * 32));
    for (int i = 7; i >= 0; i--)
        fake_kv_ok(i);
    expect_wire("+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n");
    assert_nothing_held();

    fake_kv_reset(S.base);
    pipeline("SET k0 v GET", "SET k1 v GET", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_outstanding(), 1); /* the first may bring a 1 MiB value */
    ck_assert_uint_ge(the_client()->hold[HOLD_RESERVED], 1024 * 1024);
}
END_TEST

/* A request's arguments count too: a big one read, the buffer it was read into is given
 * back once it is parsed. */
START_TEST(test_query_buffer_shrinks)
{
    static char big[50 * 1024 + 16];
    const char *w;
    size_t len = (size_t)snprintf(big, sizeof(big), "ECHO ");

    memset(big + len, 'x', 50 * 1024);
    len += 50 * 1024;
    memcpy(big + len, "\r\n", 2);
    len += 2;
    write_all(big, len); /* inline: read into the query buffer, which grows for it */
    w = take();
    ck_assert_uint_eq(strlen(w), 50 * 1024 + 10);
    ck_assert(strncmp(w, "$51200\r\nxxx", 11) == 0);
    ck_assert_uint_le(the_client()->qcap, 32 * 1024);
    pipeline("PING", NULL);
    expect_wire("+PONG\r\n");
    assert_nothing_held();
}
END_TEST

/* Between requests a client holds no read buffer and no output buffer: reads go into the
 * one shared by all clients, and a request cut short keeps only its own bytes. */
START_TEST(test_idle_holds_no_buffers)
{
    static const char part1[] = "*2\r\n$4\r\nECHO\r\n$11\r\nhello", part2[] = " world\r\n";
    client *c = the_client();

    pipeline("PING", NULL);
    expect_wire("+PONG\r\n");
    ck_assert_ptr_null(c->qbuf);
    ck_assert_uint_eq(c->qcap, 0);
    ck_assert_ptr_null(c->out);
    write_all(part1, sizeof(part1) - 1);
    pump();
    ck_assert_ptr_ne(c->qbuf, S.mem.rbuf);
    ck_assert_uint_le(c->qcap, sizeof(part1) - 1);
    ck_assert_uint_eq(c->qcap, c->qlen);
    write_all(part2, sizeof(part2) - 1);
    expect_wire("$11\r\nhello world\r\n");
    ck_assert_ptr_null(c->qbuf);
    ck_assert_ptr_null(c->out);
    assert_nothing_held();
}
END_TEST

/* A pipeline of 3000 PINGs in one write is parsed in slices, the queue run between them
 * and the loop polled between passes of 1024: every reply arrives, in order. */
START_TEST(test_long_pipeline_in_slices)
{
    static char buf[3000 * 14 + 1];
    const char *w;
    size_t len = 0, total = 0;

    for (int i = 0; i < 3000; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "PING %04d\r\n", i);
    write_all(buf, len);
    for (int round = 0; round < 20 && total < 3000 * 11; round++) {
        w = take();
        for (const char *p = w; (p = strstr(p, "$4\r\n")) != NULL; p += 4)
            total += 11;
        ck_assert_int_le(the_client()->nreqs, 64);
    }
    ck_assert_uint_eq(total, 3000 * 11);
    pipeline("PING", NULL);
    expect_wire("+PONG\r\n");
    assert_nothing_held();
}
END_TEST

/* MGET of 40 keys keeps at most 16 in flight and answers in key order. */
START_TEST(test_mget_window)
{
    char *argv[41], names[40][8], want[2048];
    size_t len;

    argv[0] = "MGET";
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "k%d", i);
        argv[i + 1] = names[i];
    }
    request(41, argv);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 16);
    for (int n = 0; n < 40; n++) {
        ck_assert_int_le(fake_kv_outstanding(), 16);
        fake_kv_found(n, fake_kv_op(n)->key);
        pump();
    }
    len = (size_t)snprintf(want, sizeof(want), "*40\r\n");
    for (int i = 0; i < 40; i++)
        len +=
            (size_t)snprintf(want + len, sizeof(want) - len, "$%d\r\nk%d\r\n", i < 10 ? 2 : 3, i);
    expect_wire(want);
    ck_assert_int_eq(fake_kv_count(), 40);
    ck_assert_int_eq(fake_kv_max_outstanding(), 16);
    assert_nothing_held();
}
END_TEST

/* A key named more than once in one MGET is read once and answered at each of its
 * places, in order, whichever read comes back first; a missing one is nil each time. */
START_TEST(test_mget_repeated_keys_share_a_call)
{
    pipeline("MGET a b a c b a", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 3);
    assert_op(0, FAKE_GET, "a");
    assert_op(1, FAKE_GET, "b");
    assert_op(2, FAKE_GET, "c");
    fake_kv_found(1, "B");
    fake_kv_missing(2);
    expect_wire("");
    fake_kv_found(0, "A");
    expect_wire("*6\r\n$1\r\nA\r\n$1\r\nB\r\n$1\r\nA\r\n$-1\r\n$1\r\nB\r\n$1\r\nA\r\n");
    ck_assert_int_eq(fake_kv_count(), 3);
    assert_nothing_held();

    fake_kv_reset(S.base); /* the first answered first: written at once, kept for later */
    pipeline("MGET x x", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 1);
    fake_kv_found(0, "X");
    expect_wire("*2\r\n$1\r\nX\r\n$1\r\nX\r\n");
    assert_nothing_held();
}
END_TEST

/* An MGET whose values pass max_reply gets an error, and starts no more keys. */
START_TEST(test_mget_over_max_reply)
{
    static char value[30 * 1024 + 1];
    char err[256];

    ck_assert_int_eq(conf_set(&S.cfg, "sidecar.max_reply", "64k", err, sizeof(err)), 0);
    memset(value, 'v', sizeof(value) - 1);
    pipeline("MGET a b c d e f g h i j k l m n o p q r s t", "PING", NULL);
    expect_wire("");
    ck_assert_int_eq(fake_kv_count(), 16);
    fake_kv_found(0, value);
    fake_kv_found(1, value);
    fake_kv_found(2, value); /* 90 KiB: over; the two keys started meanwhile finish */
    for (int n = 3; n < 18; n++)
        fake_kv_missing(n);
    expect_wire("-ERR reply over max_reply (65536 bytes): ask for fewer keys\r\n+PONG\r\n");
    ck_assert_int_eq(fake_kv_count(), 18);
    ck_assert_uint_eq(S.st.replies_over_max, 1);
    assert_nothing_held();
}
END_TEST

/* MSET writes a key named twice once, with its last value; DEL counts it once, EXISTS
 * every time, as Redis does. */
START_TEST(test_repeated_keys)
{
    fake_kv_set_mode_all(FAKE_LOOP);
    pipeline("MSET k 1 j 2 k 3", "GET k", NULL);
    expect_wire("+OK\r\n$1\r\n3\r\n");
    ck_assert_int_eq(fake_kv_count(), 3);
    ck_assert_int_eq(fake_kv_op(0)->kind, FAKE_PUT);
    ck_assert_str_eq(fake_kv_op(0)->key, "j");
    ck_assert_int_eq(fake_kv_op(1)->kind, FAKE_PUT);
    ck_assert_str_eq(fake_kv_op(1)->key, "k");
    ck_assert_str_eq(fake_kv_op(1)->value, "3");
    pipeline("EXISTS k k j x", "DEL k k j x j", "EXISTS k j", NULL);
    expect_wire(":3\r\n:2\r\n:0\r\n");
    assert_nothing_held();
}
END_TEST

/* CLIENT KILL of the calling connection answers, then nothing pipelined after it runs. */
START_TEST(test_client_kill_self_ends_pipeline)
{
    char line[64];

    snprintf(line, sizeof(line), "CLIENT KILL ID %llu SKIPME no",
             (unsigned long long)the_client()->id);
    pipeline(line, "SET a 1", "PING", NULL);
    expect_wire(":1\r\n");
    ck_assert(peer_eof);
    ck_assert_int_eq(fake_kv_count(), 0);
    ck_assert_int_eq(S.nclients, 0);
}
END_TEST

/* CONFIG GET with patterns too costly to match is refused at once; plain ones work. */
START_TEST(test_config_get_costly_patterns)
{
    static char text[10 * (64 * 1024 + 32) + 64];
    size_t len = (size_t)snprintf(text, sizeof(text), "*12\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n");

    for (int p = 0; p < 10; p++) {
        len += (size_t)snprintf(text + len, sizeof(text) - len, "$%d\r\n*[", 64 * 1024);
        memset(text + len, 'a', 64 * 1024 - 2);
        len += 64 * 1024 - 2;
        memcpy(text + len, "\r\n", 2);
        len += 2;
    }
    write_all(text, len);
    expect_wire("-ERR CONFIG GET patterns too costly to match: use fewer or simpler patterns\r\n");
    pipeline("CONFIG GET sidecar.max_rep* sidecar.max_reply", NULL);
    expect_wire("*2\r\n$17\r\nsidecar.max_reply\r\n$8\r\n67108864\r\n");
}
END_TEST

/* INFO renders each section once, in its own order, whatever the arguments repeat. */
START_TEST(test_info_sections_once)
{
    const char *w;

    S.kv = fake_kv_client();
    pipeline("INFO stats server STATS server all", NULL);
    w = take();
    ck_assert_ptr_nonnull(strstr(w, "# Server\r\n"));
    ck_assert_ptr_null(strstr(strstr(w, "# Server\r\n") + 1, "# Server\r\n"));
    ck_assert_ptr_nonnull(strstr(w, "# Stats\r\n"));
    ck_assert_ptr_null(strstr(strstr(w, "# Stats\r\n") + 1, "# Stats\r\n"));
    ck_assert_ptr_nonnull(strstr(w, "# Commandstats\r\n"));
    ck_assert(strstr(w, "# Server\r\n") < strstr(w, "# Stats\r\n"));
}
END_TEST

/* ---- pub/sub ------------------------------------------------------------------------ */

/* A view change: shard s moved from a to b (n times, for a big message). */
static void fire_moves(int n)
{
    static kv_leader_change ch[1024];
    kv_topology_event ev = {.has_previous = true, .previous_epoch = 4, .epoch = 5};

    for (int i = 0; i < n; i++)
        ch[i] = (kv_leader_change){(uint32_t)i, "127.0.0.1:9001", "127.0.0.1:9002"};
    ev.changes = ch;
    ev.n_changes = (size_t)n;
    fake_kv_topology_event(&ev);
}

/* RESP2 subscribe mode: only the subscribe commands, PING, QUIT and RESET run; the
 * topology listener lives while someone is subscribed. */
START_TEST(test_subscribe_mode)
{
    pipeline("SUBSCRIBE norikv:topology", "GET k", "PING", "PING hi", NULL);
    expect_wire("*3\r\n$9\r\nsubscribe\r\n$15\r\nnorikv:topology\r\n:1\r\n"
                "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT "
                "/ RESET are allowed in this context\r\n"
                "*2\r\n$4\r\npong\r\n$0\r\n\r\n*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
    ck_assert_int_eq(fake_kv_count(), 0); /* the GET never reached the cluster */
    ck_assert_int_eq(fake_kv_topology_listeners(), 1);
    fire_moves(1);
    expect_wire("*3\r\n$7\r\nmessage\r\n$15\r\nnorikv:topology\r\n$151\r\n"
                "{\"previous_epoch\":4,\"current_epoch\":5,\"added_nodes\":[],\"removed_nodes\":[],"
                "\"leader_changes\":[{\"shard\":0,\"old\":\"127.0.0.1:9001\",\"new\":\"127.0.0.1:"
                "9002\"}]}\r\n");
    pipeline("UNSUBSCRIBE", "GET k", NULL);
    expect_wire("*3\r\n$11\r\nunsubscribe\r\n$15\r\nnorikv:topology\r\n:0\r\n");
    ck_assert_int_eq(fake_kv_topology_listeners(), 0);
    assert_op(0, FAKE_GET, "k");
    fake_kv_missing(0);
    expect_wire("$-1\r\n");
}
END_TEST

/* RESP3: pushes between the replies of ordinary commands, never inside one. */
START_TEST(test_resp3_push_between_replies)
{
    pipeline("HELLO 3", "PSUBSCRIBE norikv:*", NULL);
    take();
    pipeline("GET a", NULL);
    pump();
    assert_op(0, FAKE_GET, "a");
    fire_moves(1); /* while the GET is out */
    const char *w = take();
    ck_assert_msg(
        strncmp(w, ">4\r\n$8\r\npmessage\r\n$8\r\nnorikv:*\r\n$15\r\nnorikv:topology\r\n", 54) == 0,
        "a push first: %s", w);
    fake_kv_found(0, "A");
    expect_wire("$1\r\nA\r\n");
    pipeline("RESET", NULL);
    expect_wire("+RESET\r\n");
    ck_assert_int_eq(fake_kv_topology_listeners(), 0);
}
END_TEST

/* A subscriber that never reads: once its unsent output is over reply_backlog, the next
 * message closes it; its output never held much more than the backlog. */
START_TEST(test_silent_subscriber_bounded)
{
    client *c;
    size_t most = 0;
    int events = 0;

    S.cfg.sidecar.reply_backlog = 65536;
    pipeline("SUBSCRIBE norikv:topology", NULL);
    take();
    while (S.nclients == 1 && events < 1000) {
        c = the_client();
        most = client_output_len(c) > most ? client_output_len(c) : most;
        fire_moves(1024); /* about 60 KB of JSON */
        events++;
        pump();
    }
    ck_assert_int_eq(S.nclients, 0);
    ck_assert_uint_eq(S.st.client_output_buffer_limit_disconnections, 1);
    ck_assert_int_eq(fake_kv_topology_listeners(), 0);
    ck_assert_uint_le(most, 65536 + 70000);
    ck_assert_int_gt(events, 2);
}
END_TEST

/* The wire of one confirmation (RESP3: a push). */
static const char *confirmation(const char *kind, const char *name, int count)
{
    static char out[4][256];
    static int next;
    char *o = out[next++ % 4];

    if (name == NULL)
        snprintf(o, sizeof(out[0]), ">3\r\n$%zu\r\n%s\r\n_\r\n:%d\r\n", strlen(kind), kind, count);
    else
        snprintf(o, sizeof(out[0]), ">3\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n:%d\r\n", strlen(kind), kind,
                 strlen(name), name, count);
    return o;
}

static void expect_confirmations(const char *kind, const char *const *names, const int *counts,
                                 int n)
{
    static char want[8192];
    size_t len = 0;

    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(want + len, sizeof(want) - len, "%s",
                                confirmation(kind, names[i], counts[i]));
    expect_wire(want);
}

/* Redis' replies and counts: a channel named twice is subscribed once and confirmed twice,
 * an unsubscribe confirms every name given, subscribed or not, and with no name every
 * subscription, oldest first; NUMSUB, NUMPAT and CHANNELS count clients and topics. */
START_TEST(test_subscribe_counts)
{
    pipeline("HELLO 3", NULL);
    take();
    pipeline("SUBSCRIBE a b a", NULL);
    expect_confirmations("subscribe", (const char *[]){"a", "b", "a"}, (const int[]){1, 2, 2}, 3);
    pipeline("PSUBSCRIBE p* p*", NULL);
    expect_confirmations("psubscribe", (const char *[]){"p*", "p*"}, (const int[]){3, 3}, 2);
    pipeline("UNSUBSCRIBE b x", NULL);
    expect_confirmations("unsubscribe", (const char *[]){"b", "x"}, (const int[]){2, 2}, 2);
    pipeline("PUBSUB NUMSUB a b x", "PUBSUB NUMPAT", "PUBSUB CHANNELS", "PUBSUB CHANNELS b*", NULL);
    expect_wire("*6\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:0\r\n$1\r\nx\r\n:0\r\n:1\r\n"
                "*1\r\n$1\r\na\r\n*0\r\n");
    pipeline("PUNSUBSCRIBE", "PUNSUBSCRIBE", NULL);
    expect_confirmations("punsubscribe", (const char *[]){"p*", NULL}, (const int[]){1, 1}, 2);
    pipeline("SUBSCRIBE c d e", "UNSUBSCRIBE d", "SUBSCRIBE d", NULL);
    take();
    pipeline("UNSUBSCRIBE", NULL);
    expect_confirmations("unsubscribe", (const char *[]){"a", "c", "e", "d"},
                         (const int[]){3, 2, 1, 0}, 4);
    pipeline("PUBSUB NUMSUB a", "PUBSUB NUMPAT", "PUBSUB CHANNELS", NULL);
    expect_wire("*2\r\n$1\r\na\r\n:0\r\n:0\r\n*0\r\n");
    ck_assert_ptr_null(the_client()->s->pubsub);
    ck_assert_int_eq(fake_kv_topology_listeners(), 0);
}
END_TEST

/* What the expected message of fire_moves(1) looks like after its header. */
#define MOVE_JSON                                                                                  \
    "$151\r\n{\"previous_epoch\":4,\"current_epoch\":5,\"added_nodes\":[],\"removed_nodes\":[],"   \
    "\"leader_changes\":[{\"shard\":0,\"old\":\"127.0.0.1:9001\",\"new\":\"127.0.0.1:9002\"}]}"    \
    "\r\n"
#define MESSAGE "*3\r\n$7\r\nmessage\r\n$15\r\nnorikv:topology\r\n" MOVE_JSON
#define PMESSAGE(pat, len)                                                                         \
    "*4\r\n$8\r\npmessage\r\n$" #len "\r\n" pat "\r\n$15\r\nnorikv:topology\r\n" MOVE_JSON

/* A view change: the channel's message first, then one pmessage per matching pattern, in
 * the order subscribed; what was decided at PSUBSCRIBE follows the subscriptions as they
 * come and go. */
START_TEST(test_delivery_follows_subscriptions)
{
    pipeline("PSUBSCRIBE norikv:* nomatch* *topology", "SUBSCRIBE other norikv:topology", NULL);
    take();
    fire_moves(1);
    expect_wire(MESSAGE PMESSAGE("norikv:*", 8) PMESSAGE("*topology", 9));
    pipeline("PUNSUBSCRIBE norikv:*", "UNSUBSCRIBE norikv:topology", "PSUBSCRIBE norikv:t*", NULL);
    take();
    fire_moves(1);
    expect_wire(PMESSAGE("*topology", 9) PMESSAGE("norikv:t*", 9));
    pipeline("PUNSUBSCRIBE", NULL);
    take();
    fire_moves(1); /* subscribed to "other" alone */
    expect_wire("");
}
END_TEST

/* Writes a request of words, some of them long: argv[i] of lens[i] bytes. */
static void request_bytes(int argc, const char *const *argv, const size_t *lens)
{
    size_t len = 0, cap = 64;
    char *buf;

    for (int i = 0; i < argc; i++)
        cap += lens[i] + 32;
    buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    len += (size_t)snprintf(buf, cap, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "$%zu\r\n", lens[i]);
        memcpy(buf + len, argv[i], lens[i]);
        memcpy(buf + len + lens[i], "\r\n", 2);
        len += lens[i] + 2;
    }
    write_all(buf, len);
    free(buf);
}

/* Reads what the sidecar sends until it stops; returns how many bytes. */
static size_t drain_wire(void)
{
    size_t n = 0, got_now;

    do {
        got_now = strlen(take());
        n += got_now;
    } while (got_now > 0);
    return n;
}

/* A group stops taking blocks once their replies reach 1 MiB: of three 600,000-byte
 * GETRANGEs queued on a key, two share a read; the third goes back to the head of the queue
 * and reads on its own after them. */
START_TEST(test_group_reply_budget)
{
    size_t n = 600000, bulk = n + 11; /* "$600000\r\n" ... "\r\n" */
    char *big = malloc(n + 1);

    ck_assert_ptr_nonnull(big);
    memset(big, 'a', n);
    big[n] = '\0';
    pipeline("STRLEN k", "GETRANGE k 0 -1", "GETRANGE k 0 -1", "GETRANGE k 0 -1", NULL);
    pump();
    ck_assert_int_eq(fake_kv_count(), 1);
    fake_kv_found(0, big);
    ck_assert_uint_eq(drain_wire(), strlen(":600000\r\n"));
    ck_assert_int_eq(fake_kv_count(), 2);
    fake_kv_found(1, big);
    ck_assert_uint_eq(drain_wire(), 2 * bulk);
    ck_assert_int_eq(fake_kv_count(), 3);
    assert_op(2, FAKE_GET, "k");
    ck_assert_uint_eq(S.st.cas_groups, 1);
    ck_assert_uint_eq(S.st.cas_merged_blocks, 2);
    fake_kv_found(2, big);
    ck_assert_uint_eq(drain_wire(), bulk);
    ck_assert_int_eq(fake_kv_count(), 3);
    ck_assert_uint_eq(S.st.cas_rounds, 3);
    ck_assert_uint_eq(S.cas_keys.count, 0);
    free(big);
}
END_TEST

/* norikv:[a...at]opology matches norikv:topology, but deciding it takes more than
 * PUBSUB_PATTERN_BUDGET steps: it never delivers, and takes nothing from a cheap pattern
 * subscribed in the same command. */
START_TEST(test_costly_pattern_never_matches)
{
    size_t n = 200000;
    char *pat = malloc(n + 32);
    const char *argv[3] = {"PSUBSCRIBE", pat, "norikv:topo*"};
    size_t lens[3] = {10, 0, 12};

    ck_assert_ptr_nonnull(pat);
    memcpy(pat, "norikv:[", 8);
    memset(pat + 8, 'a', n);
    memcpy(pat + 8 + n, "t]opology", 9);
    lens[1] = n + 17;
    ck_assert(!pubsub_match(pat, lens[1], "norikv:topology", 15));
    request_bytes(3, argv, lens);
    ck_assert_uint_gt(drain_wire(), n);
    pipeline("PSUBSCRIBE norikv:[aaaat]opology", NULL); /* the same, short: it matches */
    take();
    fire_moves(1);
    expect_wire(PMESSAGE("norikv:topo*", 12) PMESSAGE("norikv:[aaaat]opology", 21));
    free(pat);
}
END_TEST

/* PUBSUB CHANNELS: one budget for the request's matching (a long pattern over many
 * channels is refused at once, as CONFIG GET refuses its costly patterns), and a list over
 * max_reply is refused, not built. */
START_TEST(test_pubsub_channels_bounded)
{
    static char names[1000][24];
    const char *argv[1001] = {"SUBSCRIBE"};
    size_t lens[1001] = {9};
    char err[256];
    size_t n = 200000;
    char *pat = malloc(n + 2);
    const char *costly[3] = {"PUBSUB", "CHANNELS", pat};
    size_t costly_lens[3] = {6, 8, n + 2};

    ck_assert_ptr_nonnull(pat);
    ck_assert_int_eq(conf_set(&S.cfg, "sidecar.max_reply", "64k", err, sizeof(err)), 0);
    pipeline("HELLO 3", NULL);
    take();
    for (int batch = 0; batch < 3; batch++) { /* 3000 channels, about 75 KB of names */
        for (int i = 0; i < 1000; i++) {
            lens[i + 1] =
                (size_t)snprintf(names[i], sizeof(names[i]), "channel:%015d", batch * 1000 + i);
            argv[i + 1] = names[i];
        }
        request_bytes(1001, argv, lens);
        drain_wire();
    }
    pat[0] = '*';
    pat[1] = '[';
    memset(pat + 2, 'a', n);
    request_bytes(3, costly, costly_lens);
    expect_wire("-ERR PUBSUB CHANNELS pattern too costly to match: use a simpler pattern\r\n");
    pipeline("PUBSUB CHANNELS", NULL);
    expect_wire("-ERR reply over max_reply (65536 bytes): use a narrower pattern\r\n");
    ck_assert_uint_eq(S.st.replies_over_max, 1);
    pipeline("PUBSUB CHANNELS channel:000000000002999", "PUBSUB NUMSUB channel:000000000000000",
             NULL);
    expect_wire("*1\r\n$23\r\nchannel:000000000002999\r\n"
                "*2\r\n$23\r\nchannel:000000000000000\r\n:1\r\n");
    free(pat);
}
END_TEST

/* The tot-mem field of the client's CLIENT LIST line. */
static size_t tot_mem(void)
{
    struct evbuffer *b = evbuffer_new();
    char line[1024], *f;
    size_t n;

    client_describe(the_client(), b);
    n = evbuffer_remove(b, line, sizeof(line) - 1) > 0 ? strlen(line) : 0;
    evbuffer_free(b);
    line[n] = '\0';
    f = strstr(line, " tot-mem=");
    ck_assert_ptr_nonnull(f);
    return (size_t)strtoull(f + 9, NULL, 10);
}

/* What subscriptions hold is the client's memory: its names and records, in CLIENT LIST's
 * tot-mem, and nothing once it unsubscribes. */
START_TEST(test_subscriptions_in_client_memory)
{
    size_t n = 100000, before;
    char *pat = malloc(n);
    const char *argv[2] = {"PSUBSCRIBE", pat};
    size_t lens[2] = {10, n};

    ck_assert_ptr_nonnull(pat);
    memset(pat, '?', n);
    ck_assert_uint_eq(pubsub_client_mem(the_client()), 0);
    before = tot_mem();
    pipeline("SUBSCRIBE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL);
    take();
    ck_assert_uint_gt(pubsub_client_mem(the_client()), 50);
    request_bytes(2, argv, lens);
    drain_wire();
    ck_assert_uint_gt(pubsub_client_mem(the_client()), n + 50);
    ck_assert_uint_ge(tot_mem(), before + pubsub_client_mem(the_client()));
    pipeline("UNSUBSCRIBE", NULL);
    take();
    ck_assert_uint_gt(pubsub_client_mem(the_client()), n);
    pipeline("PUNSUBSCRIBE", NULL);
    take();
    ck_assert_uint_eq(pubsub_client_mem(the_client()), 0);
    ck_assert_uint_eq(tot_mem(), before);
    free(pat);
}
END_TEST

/* A request the client has not finished is its memory: the arguments the parser allocated
 * (a bulk whole, from its length line on) are in tot-mem, and gone once it is answered. */
START_TEST(test_partial_request_in_client_memory)
{
    static const char head[] = "*3\r\n$4\r\nECHO\r\n$1\r\nx\r\n$200000\r\nabc";
    size_t before = tot_mem();

    ck_assert_int_eq(write(peer, head, sizeof(head) - 1), (ssize_t)(sizeof(head) - 1));
    pump();
    ck_assert_uint_ge(tot_mem(), before + 200000);
    ck_assert_uint_ge(resp_parser_held(the_client()->parser), 200000);
}
END_TEST

START_TEST(test_pattern_match)
{
    static const struct {
        const char *pat, *s;
        bool match;
    } cases[] = {
        {"norikv:*", "norikv:topology", true},
        {"*", "", true},
        {"norikv:?opology", "norikv:topology", true},
        {"norikv:[st]opology", "norikv:topology", true},
        {"norikv:[^t]opology", "norikv:topology", false},
        {"norikv:[a-z]*", "norikv:topology", true},
        {"norikv:[A-Z]*", "norikv:topology", false},
        {"norikv\\*", "norikv*", true},
        {"norikv\\*", "norikv:", false},
        {"nori*logy", "norikv:topology", true},
        {"*:*:*", "norikv:topology", false},
        {"norikv:topology", "norikv:topolog", false},
        {"norikv:topolog", "norikv:topology", false},
        {"n*y", "norikv:topology", true},
    };
    static char costly[8 + PUBSUB_PATTERN_BUDGET + 10];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(pubsub_match(cases[i].pat, strlen(cases[i].pat), cases[i].s,
                                   strlen(cases[i].s)) == cases[i].match,
                      "'%s' vs '%s'", cases[i].pat, cases[i].s);
    /* a class as long as the budget: it would match, but never does */
    memcpy(costly, "norikv:[", 8);
    memset(costly + 8, 'a', PUBSUB_PATTERN_BUDGET);
    memcpy(costly + 8 + PUBSUB_PATTERN_BUDGET, "t]opology", 9);
    ck_assert(!pubsub_match(costly, sizeof(costly) - 1, "norikv:topology", 15));
    memmove(costly + 8, costly + 8 + PUBSUB_PATTERN_BUDGET - 1000, 1010);
    ck_assert(pubsub_match(costly, 8 + 1009, "norikv:topology", 15));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("client");
    TCase *order = tcase_create("ordering");
    TCase *errs = tcase_create("errors and quit");
    TCase *gone = tcase_create("clients that go");
    TCase *now = tcase_create("completion at once or from the loop");
    TCase *bp = tcase_create("back-pressure");
    TCase *ps = tcase_create("pub/sub");
    TCase *bykey = tcase_create("ordering by key");
    TCase *all[] = {order, errs, gone, now, bp, ps, bykey};
    SRunner *sr;
    int failed;

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        tcase_add_checked_fixture(all[i], setup, teardown);
        tcase_set_timeout(all[i], 10);
        suite_add_tcase(s, all[i]);
    }
    tcase_add_test(order, test_reads_overlap);
    tcase_add_test(bykey, test_key_writes_overlap);
    tcase_add_test(bykey, test_key_pipeline_per_key_order);
    tcase_add_test(bykey, test_key_many_keys_random_completions);
    tcase_add_test(bykey, test_key_state_runs_alone);
    tcase_add_test(bykey, test_key_multi_key);
    tcase_add_test(bykey, test_key_multi_exec);
    tcase_add_test(bykey, test_key_wide_read);
    tcase_add_test(bykey, test_key_lookahead);
    tcase_add_test(bykey, test_ordering_reload);
    tcase_add_test(bykey, test_ordering_reload_to_key);
    tcase_add_test(order, test_write_between_reads);
    tcase_add_test(order, test_writes_in_order);
    tcase_add_test(order, test_local_between_reads);
    tcase_add_test(order, test_local_at_head);
    tcase_add_test(order, test_mget_fanout);
    tcase_add_test(order, test_del_reads_then_deletes);
    tcase_add_test(errs, test_write_error_is_its_own);
    tcase_add_test(errs, test_mget_part_error);
    tcase_add_test(errs, test_quit_in_pipeline);
    tcase_add_test(gone, test_gone_with_ops_in_flight);
    tcase_add_test(gone, test_killed_with_ops_in_flight);
    tcase_add_test(gone, test_half_closed_peer);
    tcase_add_loop_test(now, test_pipeline_auto, FAKE_SYNC, FAKE_LOOP + 1);
    tcase_add_test(now, test_sync_one_at_a_time);
    tcase_add_test(now, test_del_delete_ends_at_once);
    tcase_add_test(bp, test_max_pending);
    tcase_add_test(order, test_incr_reads_then_writes);
    tcase_add_test(order, test_blocks_on_one_key_queue);
    tcase_add_test(order, test_blocks_on_one_key_group);
    tcase_add_test(order, test_group_reply_budget);
    tcase_add_test(gone, test_blocks_abandoned);
    tcase_add_test(order, test_multi_exec);
    tcase_add_test(bp, test_backlog_bounds_running_reads);
    tcase_add_test(bp, test_small_replies_reserve_little);
    tcase_add_test(bp, test_partial_request_in_client_memory);
    tcase_add_test(bp, test_query_buffer_shrinks);
    tcase_add_test(bp, test_idle_holds_no_buffers);
    tcase_add_test(bp, test_long_pipeline_in_slices);
    tcase_add_test(bp, test_mget_window);
    tcase_add_test(bp, test_mget_repeated_keys_share_a_call);
    tcase_add_test(bp, test_mget_over_max_reply);
    tcase_add_test(order, test_repeated_keys);
    tcase_add_test(errs, test_client_kill_self_ends_pipeline);
    tcase_add_test(bp, test_config_get_costly_patterns);
    tcase_add_test(order, test_info_sections_once);
    tcase_add_test(ps, test_subscribe_mode);
    tcase_add_test(ps, test_resp3_push_between_replies);
    tcase_add_test(ps, test_silent_subscriber_bounded);
    tcase_add_test(ps, test_pattern_match);
    tcase_add_test(ps, test_subscribe_counts);
    tcase_add_test(ps, test_delivery_follows_subscriptions);
    tcase_add_test(ps, test_costly_pattern_never_matches);
    tcase_add_test(ps, test_pubsub_channels_bounded);
    tcase_add_test(ps, test_subscriptions_in_client_memory);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

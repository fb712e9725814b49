/*
 * check_evgrpc: the completion queue's hand-off to the libevent loop. Calls to an address
 * where nothing listens fail at once; their completions, queued while the loop is not
 * running, are one burst. Every callback runs on the loop, once, and a burst of slow
 * callbacks is run a slice of the loop at a time: a socket that becomes readable during
 * the first callback is served after a few of them, not after the whole burst.
 */
#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

#include "clock.h"
#include "evgrpc.h"

#define CALLS       40
#define CALLBACK_US 2000 /* each callback's work: the burst is 80 ms, a slice 5 ms */

typedef struct call_ctx {
    evgrpc_tag tag; /* first: the callback finds its call from the tag */
    grpc_call *call;
    grpc_metadata_array trailing;
    grpc_status_code status;
    grpc_slice details;
    bool done;
} call_ctx;

static struct event_base *base;
static int fds[2], done_count, served_after = -1, twice;
static bool on_loop_thread = true;
static pthread_t loop_thread;

static void on_done(evgrpc_tag *tag, bool ok)
{
    call_ctx *c = (call_ctx *)tag;
    int64_t until = clock_now_us() + CALLBACK_US;

    (void)ok;
    twice += c->done;
    c->done = true;
    on_loop_thread &= pthread_equal(pthread_self(), loop_thread) != 0;
    if (++done_count == 1)
        ck_assert_int_eq(write(fds[1], "x", 1), 1);
    while (clock_now_us() < until) /* a callback that takes its time */
        ;
    if (done_count == CALLS)
        event_base_loopbreak(base);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    char b;

    (void)what;
    (void)arg;
    ck_assert_int_eq(read(fd, &b, 1), 1);
    served_after = done_count;
}

static void on_give_up(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    event_base_loopbreak(base);
}

START_TEST(test_burst_in_slices)
{
    static call_ctx calls[CALLS];
    struct timeval ten_s = {10, 0};
    grpc_channel_credentials *creds;
    grpc_channel *ch;
    struct event *readable, *give_up;
    evgrpc *eg;

    grpc_init();
    loop_thread = pthread_self();
    base = event_base_new();
    eg = evgrpc_new(base);
    ck_assert_ptr_nonnull(eg);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    readable = event_new(base, fds[0], EV_READ | EV_PERSIST, on_readable, NULL);
    give_up = evtimer_new(base, on_give_up, NULL);
    event_add(readable, NULL);
    evtimer_add(give_up, &ten_s);
    creds = grpc_insecure_credentials_create();
    ch = grpc_channel_create("127.0.0.1:1", creds, NULL); /* nothing listens on port 1 */
    for (int i = 0; i < CALLS; i++) {
        call_ctx *c = &calls[i];
        grpc_op ops[2] = {{0}};
        grpc_slice method = grpc_slice_from_static_string("/check.Evgrpc/Nothing");

        c->tag.done = on_done;
        grpc_metadata_array_init(&c->trailing);
        c->call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, evgrpc_cq(eg), method,
                                           NULL, gpr_time_from_seconds(5, GPR_TIMESPAN), NULL);
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        ops[1].data.recv_status_on_client.trailing_metadata = &c->trailing;
        ops[1].data.recv_status_on_client.status = &c->status;
        ops[1].data.recv_status_on_client.status_details = &c->details;
        ck_assert_int_eq(grpc_call_start_batch(c->call, ops, 2, &c->tag, NULL), GRPC_CALL_OK);
    }
    usleep(1000 * 1000); /* the loop is not running: every completion queues up */
    event_base_dispatch(base);

    ck_assert_int_eq(done_count, CALLS);
    ck_assert_int_eq(twice, 0);
    ck_assert(on_loop_thread);
    for (int i = 0; i < CALLS; i++)
        ck_assert_int_eq(calls[i].status, GRPC_STATUS_UNAVAILABLE);
    /* one slice is ~3 callbacks of 2 ms: the socket waits for a few, not for all 40 */
    ck_assert_msg(served_after >= 1 && served_after <= CALLS / 2,
                  "the readable socket served after %d of %d callbacks", served_after, CALLS);

    for (int i = 0; i < CALLS; i++) {
        grpc_call_unref(calls[i].call);
        grpc_metadata_array_destroy(&calls[i].trailing);
        grpc_slice_unref(calls[i].details);
    }
    grpc_channel_destroy(ch);
    grpc_channel_credentials_release(creds);
    evgrpc_free(eg);
    event_free(readable);
    event_free(give_up);
    close(fds[0]);
    close(fds[1]);
    event_base_free(base);
    grpc_shutdown_blocking();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("evgrpc");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_burst_in_slices);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

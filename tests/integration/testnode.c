/*
 * testnode: devnode processes, control-socket lines and blocking gRPC calls for the
 * integration tests. The process gets SIGTERM if the test process dies (a failed
 * assertion exits the forked test), so no devnode outlives its test.
 */
#include "testnode.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "clock.h"
#include "pbgrpc.h"
#include "route.h"

/* Reads the child's stdout until `nodes` lines holding `ready`, EOF or the deadline. */
static bool wait_ready(int fd, int nodes, const char *ready_text, int64_t deadline)
{
    char buf[4096];
    size_t used = 0;
    int ready = 0;

    while (ready < nodes) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int64_t left = deadline - clock_now_ms();
        ssize_t n;

        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            return false;
        n = read(fd, buf + used, sizeof(buf) - 1 - used);
        if (n <= 0)
            return false;
        used += (size_t)n;
        buf[used] = '\0';
        ready = 0;
        for (char *s = buf; (s = strstr(s, ready_text)) != NULL; s++)
            ready++;
        if (used > sizeof(buf) / 2) { /* keep the tail, where a line may be cut */
            size_t keep = strlen(ready_text) - 1;
            memmove(buf, buf + used - keep, keep);
            used = keep;
            buf[used] = '\0';
            nodes -= ready;
            ready = 0;
        }
    }
    return true;
}

static int start_once(tn_proc *p, int nodes, const char *extra)
{
    const char *bin = getenv("NORIKV_DEVNODE");
    /* e.g. "valgrind --error-exitcode=99 ...": the whole run under a checker */
    const char *wrapper = getenv("NORIKV_DEVNODE_WRAPPER");
    char *args[64], *copy = NULL, *wrap_copy = NULL, port[16], count[16];
    int out[2], argc = 0, status;
    pid_t pid;

    if (bin == NULL)
        bin = "./norikv-devnode";
    snprintf(port, sizeof(port), "%d", p->base_port);
    snprintf(count, sizeof(count), "%d", nodes);
    if (wrapper != NULL) {
        wrap_copy = strdup(wrapper);
        for (char *t = strtok(wrap_copy, " "); t != NULL && argc < 16; t = strtok(NULL, " "))
            args[argc++] = t;
    }
    args[argc++] = (char *)bin;
    args[argc++] = "--nodes";
    args[argc++] = count;
    args[argc++] = "--base-port";
    args[argc++] = port;
    args[argc++] = "--control";
    args[argc++] = p->control;
    /* The real profile's timings (a write answered on a 150 ms commit tick, 250 ms of
     * NOT_LEADER from a fresh shard, 500 ms before listening) are the server's, and the
     * cases that name a profile get them; the others run with them off, so that a suite
     * of thousands of writes takes seconds. */
    if (extra == NULL || strstr(extra, "--profile") == NULL) {
        static char *const fast[] = {"--commit-tick-ms", "0", "--fresh-shard-ms", "0",
                                     "--start-delay-ms", "0"};
        for (size_t i = 0; i < sizeof(fast) / sizeof(*fast); i++)
            args[argc++] = fast[i];
    }
    if (extra != NULL) {
        copy = strdup(extra);
        for (char *t = strtok(copy, " "); t != NULL && argc < 62; t = strtok(NULL, " "))
            args[argc++] = t;
    }
    args[argc] = NULL;
    if (pipe(out) != 0)
        return -1;
    pid_t parent = getpid();
    pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execvp(args[0], args);
        _exit(127);
    }
    free(copy);
    free(wrap_copy);
    close(out[1]);
    if (pid < 0) {
        close(out[0]);
        return -1;
    }
    p->pid = pid;
    int64_t t0 = clock_now_ms();
    bool ok = wait_ready(out[0], nodes, " ready on ", t0 + (wrapper != NULL ? 120000 : 10000));
    p->startup_ms = (int)(clock_now_ms() - t0);
    if (ok) {
        /* Keep reading its stdout elsewhere is not needed: it prints nothing more. */
        close(out[0]);
        return 0;
    }
    close(out[0]);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    p->pid = 0;
    return -1;
}

const char *tn_real(void)
{
    const char *bin = getenv("NORIKV_SERVER");

    return bin != NULL && *bin != '\0' ? bin : NULL;
}

int tn_real_nodes(void)
{
    const char *s = getenv("NORIKV_SERVER_NODES");
    int n = s != NULL ? atoi(s) : 1;

    return n < 1 ? 1 : n > TN_REAL_MAX ? TN_REAL_MAX : n;
}

/* Starts real node i, configured by environment (the server reads it when the config
 * file it is given does not exist); 0 once it logs that it is ready. Nodes are named
 * node0.. and, when there are several, each gets all the nodes' addresses as seeds (the
 * server names its peers by their index in that list). Its output is read here up to the
 * ready line, and from then on copied to dir/node<i>.log by a drain process. */
static int real_start_node(tn_proc *p, int i)
{
    char id[16], rpc[32], http[32], data[128], seeds[256], cfg[128], logf[128];
    size_t off = 0;
    int out[2], status;
    pid_t parent = getpid(), pid;

    snprintf(id, sizeof(id), "node%d", i);
    snprintf(rpc, sizeof(rpc), "127.0.0.1:%d", p->base_port + i);
    snprintf(http, sizeof(http), "127.0.0.1:%d", p->base_port + p->nodes + i);
    snprintf(data, sizeof(data), "%s/node%d", p->dir, i);
    snprintf(cfg, sizeof(cfg), "%s/no-such-norikv.yaml", p->dir);
    snprintf(logf, sizeof(logf), "%s/node%d.log", p->dir, i);
    seeds[0] = '\0';
    for (int k = 0; k < p->nodes && p->nodes > 1; k++)
        off += (size_t)snprintf(seeds + off, sizeof(seeds) - off, "%s127.0.0.1:%d", k ? "," : "",
                                p->base_port + k);
    if (pipe(out) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        dup2(out[1], STDOUT_FILENO);
        dup2(out[1], STDERR_FILENO);
        close(out[0]);
        close(out[1]);
        setenv("NORIKV_NODE_ID", id, 1);
        setenv("NORIKV_RPC_ADDR", rpc, 1);
        setenv("NORIKV_HTTP_ADDR", http, 1);
        setenv("NORIKV_DATA_DIR", data, 1);
        if (getenv("NORIKV_SERVER_PRELOAD") != NULL) /* tests/real/no_fallocate.c */
            setenv("LD_PRELOAD", getenv("NORIKV_SERVER_PRELOAD"), 1);
        if (seeds[0] != '\0')
            setenv("NORIKV_SEED_NODES", seeds, 1);
        else
            unsetenv("NORIKV_SEED_NODES");
        execl(tn_real(), tn_real(), cfg, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    if (pid < 0) {
        close(out[0]);
        return -1;
    }
    p->real_pids[i] = pid;
    int64_t t0 = clock_now_ms();
    bool ok = wait_ready(out[0], 1, "NoriKV server is ready", t0 + 30000);
    p->startup_ms = (int)(clock_now_ms() - t0);
    /* the server logs on: a reader process drains the pipe into the node's log file so
     * that it never blocks on a full pipe */
    pid_t drain = fork();
    if (drain == 0) {
        int fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0644);
        char buf[4096];
        ssize_t n;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        while ((n = read(out[0], buf, sizeof(buf))) > 0)
            if (fd >= 0 && write(fd, buf, (size_t)n) < 0)
                break;
        _exit(0);
    }
    p->drain_pids[i] = drain > 0 ? drain : 0;
    close(out[0]);
    if (ok)
        return 0;
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    p->real_pids[i] = 0;
    return -1;
}

static void real_stop_node(tn_proc *p, int i, int sig)
{
    int status;

    if (p->real_pids[i] <= 0)
        return;
    kill(p->real_pids[i], sig);
    for (int64_t deadline = clock_now_ms() + 10000;
         waitpid(p->real_pids[i], &status, WNOHANG) == 0;) {
        if (clock_now_ms() > deadline) {
            kill(p->real_pids[i], SIGKILL);
            waitpid(p->real_pids[i], &status, 0);
            break;
        }
        usleep(5000);
    }
    p->real_pids[i] = 0;
    if (p->drain_pids[i] > 0) { /* the server's end closed its pipe: the drain ends too */
        waitpid(p->drain_pids[i], &status, 0);
        p->drain_pids[i] = 0;
    }
}

int tn_real_kill(tn_proc *p, int i)
{
    ck_assert(p->real && i >= 0 && i < p->nodes);
    real_stop_node(p, i, SIGKILL);
    return 0;
}

int tn_real_restart(tn_proc *p, int i)
{
    ck_assert(p->real && i >= 0 && i < p->nodes);
    real_stop_node(p, i, SIGKILL);
    return real_start_node(p, i);
}

static int real_start(tn_proc *p)
{
    p->real = true;
    p->nodes = tn_real_nodes();
    /* gRPC and HTTP ports below 60000: the server's SWIM takes UDP on gRPC + 1000 */
    for (int attempt = 0; attempt < 20; attempt++) {
        int i;
        p->base_port = 20000 + rand() % 30000;
        for (i = 0; i < p->nodes; i++)
            if (real_start_node(p, i) != 0)
                break;
        if (i == p->nodes)
            return 0;
        for (int k = 0; k < i; k++)
            real_stop_node(p, k, SIGKILL);
    }
    return -1;
}

/* Removes the directory a real cluster kept its data and logs in. */
static void remove_tree(const char *dir)
{
    pid_t pid = fork();
    int status;

    if (pid == 0) {
        execlp("rm", "rm", "-rf", dir, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, &status, 0);
}

int tn_start(tn_proc *p, int nodes, const char *extra)
{
    memset(p, 0, sizeof(*p));
    p->nodes = nodes;
    snprintf(p->dir, sizeof(p->dir), "/tmp/norikv-test-XXXXXX");
    if (mkdtemp(p->dir) == NULL)
        return -1;
    snprintf(p->control, sizeof(p->control), "%s/control.sock", p->dir);
    srand((unsigned)(getpid() ^ (pid_t)clock_now_ms()));
    if (tn_real() != NULL) {
        if (real_start(p) == 0)
            return 0;
        remove_tree(p->dir);
        return -1;
    }
    for (int attempt = 0; attempt < 20; attempt++) {
        p->base_port = 20000 + rand() % 40000;
        if (start_once(p, nodes, extra) == 0)
            return 0;
    }
    rmdir(p->dir);
    return -1;
}

int tn_stop(tn_proc *p)
{
    int status = -1;
    int64_t deadline = clock_now_ms() + (getenv("NORIKV_DEVNODE_WRAPPER") != NULL ? 120000 : 10000);

    if (p->real) { /* the server stops cleanly on SIGINT (its Ctrl-C handler), status 0 */
        for (int i = 0; i < p->nodes; i++)
            real_stop_node(p, i, SIGINT);
        if (getenv("NORIKV_KEEP_TMP") == NULL)
            remove_tree(p->dir);
        return 0;
    }
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    while (waitpid(p->pid, &status, WNOHANG) == 0) {
        if (clock_now_ms() > deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            break;
        }
        usleep(5000);
    }
    p->pid = 0;
    unlink(p->control);
    rmdir(p->dir);
    return status;
}

static char *control_v(tn_proc *p, const char *fmt, va_list ap)
{
    struct sockaddr_un sun;
    char line[512], reply[8192];
    size_t used = 0;
    int fd, len;

    len = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    line[len++] = '\n';
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", p->control);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
        write(fd, line, (size_t)len) != len) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    while (used < sizeof(reply) - 1) {
        struct pollfd pfd = {fd, POLLIN, 0};
        ssize_t n;
        if (poll(&pfd, 1, 10000) <= 0)
            break;
        n = read(fd, reply + used, sizeof(reply) - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        if (memchr(reply, '\n', used) != NULL)
            break;
    }
    close(fd);
    reply[used] = '\0';
    char *nl = strchr(reply, '\n');
    if (nl == NULL)
        return NULL;
    *nl = '\0';
    return strdup(reply);
}

char *tn_control(tn_proc *p, const char *fmt, ...)
{
    va_list ap;
    char *r;

    va_start(ap, fmt);
    r = control_v(p, fmt, ap);
    va_end(ap);
    return r;
}

void tn_control_ok(tn_proc *p, const char *fmt, ...)
{
    va_list ap;
    char *r;

    va_start(ap, fmt);
    r = control_v(p, fmt, ap);
    va_end(ap);
    ck_assert_msg(r != NULL && strncmp(r, "OK", 2) == 0, "control '%s' answered '%s'", fmt,
                  r ? r : "(nothing)");
    free(r);
}

uint64_t tn_stat(tn_proc *p, const char *name)
{
    char *r = tn_control(p, "stats"), pat[64], *at;
    uint64_t v;

    ck_assert_msg(r != NULL && strncmp(r, "OK {", 4) == 0, "stats answered '%s'", r ? r : "");
    snprintf(pat, sizeof(pat), "\"%s\":", name);
    at = strstr(r, pat);
    ck_assert_msg(at != NULL, "no %s in stats: %s", name, r);
    v = strtoull(at + strlen(pat), NULL, 10);
    free(r);
    return v;
}

int tn_leader(tn_proc *p, uint32_t shard)
{
    char *r = tn_control(p, "leader %u", shard);
    int n;

    ck_assert_msg(r != NULL && strncmp(r, "OK ", 3) == 0, "leader answered '%s'", r ? r : "");
    n = atoi(r + 3);
    free(r);
    return n;
}

grpc_channel *tn_channel(tn_proc *p, int node)
{
    char target[64];
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_channel *ch;

    snprintf(target, sizeof(target), "127.0.0.1:%d", p->base_port + node - 1);
    ch = grpc_channel_create(target, creds, NULL);
    grpc_channel_credentials_release(creds);
    return ch;
}

void tn_call(grpc_channel *ch, const char *path, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp, int timeout_ms, tn_result *r)
{
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_metadata_array initial;
    grpc_byte_buffer *send = pbgrpc_pack(req), *recv = NULL;
    grpc_slice details;
    grpc_call *call;
    grpc_op ops[6];
    grpc_event ev;

    memset(r, 0, sizeof(*r));
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&r->trailers);
    call = grpc_channel_create_call(ch, NULL, 0, cq, grpc_slice_from_static_string(path), NULL,
                                    pbgrpc_deadline_ms(timeout_ms), NULL);
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &r->trailers;
    ops[5].data.recv_status_on_client.status = &r->status;
    ops[5].data.recv_status_on_client.status_details = &details;
    ck_assert_int_eq(grpc_call_start_batch(call, ops, 6, (void *)1, NULL), GRPC_CALL_OK);
    ev = grpc_completion_queue_pluck(cq, (void *)1, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    ck_assert_int_eq(ev.type, GRPC_OP_COMPLETE);
    r->details = grpc_slice_to_c_string(details);
    grpc_slice_unref(details);
    if (r->status == GRPC_STATUS_OK && recv != NULL)
        r->msg = pbgrpc_unpack(recv, resp);
    if (recv != NULL)
        grpc_byte_buffer_destroy(recv);
    grpc_byte_buffer_destroy(send);
    grpc_metadata_array_destroy(&initial);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
}

void tn_result_free(tn_result *r)
{
    if (r->msg != NULL)
        protobuf_c_message_free_unpacked(r->msg, NULL);
    gpr_free(r->details);
    grpc_metadata_array_destroy(&r->trailers);
    memset(r, 0, sizeof(*r));
}

const char *tn_trailer(tn_result *r, const char *key)
{
    static char value[256];
    size_t len;
    const char *v = pbgrpc_md_find(&r->trailers, key, &len);

    if (v == NULL)
        return NULL;
    if (len >= sizeof(value))
        len = sizeof(value) - 1;
    memcpy(value, v, len);
    value[len] = '\0';
    return value;
}

int tn_warm(grpc_channel *ch, const char *key)
{
    int64_t t0 = clock_now_ms();
    tn_result r;

    for (;;) {
        tn_get(ch, key, NULL, &r);
        bool electing = r.status == GRPC_STATUS_UNAVAILABLE && r.details != NULL &&
                        strncmp(r.details, "NOT_LEADER", 10) == 0;
        tn_result_free(&r);
        if (!electing)
            break;
        ck_assert_msg(clock_now_ms() - t0 < 5000, "the shard of %s did not elect in 5 s", key);
        usleep(10 * 1000);
    }
    return (int)(clock_now_ms() - t0);
}

void tn_put(grpc_channel *ch, const char *key, const char *value, const char *idem,
            const Norikv__V1__Version *if_match, uint64_t ttl_ms, tn_result *r)
{
    Norikv__V1__PutRequest req = NORIKV__V1__PUT_REQUEST__INIT;
    Norikv__V1__Version v = NORIKV__V1__VERSION__INIT;

    req.key.data = (uint8_t *)key;
    req.key.len = strlen(key);
    req.value.data = (uint8_t *)value;
    req.value.len = strlen(value);
    req.ttl_ms = ttl_ms;
    if (idem != NULL)
        req.idempotency_key = (char *)idem;
    if (if_match != NULL) {
        v.term = if_match->term;
        v.index = if_match->index;
        req.if_match = &v;
    }
    tn_call(ch, "/norikv.v1.Kv/Put", &req.base, &norikv__v1__put_response__descriptor, 5000, r);
}

void tn_get(grpc_channel *ch, const char *key, const char *consistency, tn_result *r)
{
    Norikv__V1__GetRequest req = NORIKV__V1__GET_REQUEST__INIT;

    req.key.data = (uint8_t *)key;
    req.key.len = strlen(key);
    if (consistency != NULL)
        req.consistency = (char *)consistency;
    tn_call(ch, "/norikv.v1.Kv/Get", &req.base, &norikv__v1__get_response__descriptor, 5000, r);
}

void tn_del(grpc_channel *ch, const char *key, const char *idem, tn_result *r)
{
    Norikv__V1__DeleteRequest req = NORIKV__V1__DELETE_REQUEST__INIT;

    req.key.data = (uint8_t *)key;
    req.key.len = strlen(key);
    if (idem != NULL)
        req.idempotency_key = (char *)idem;
    tn_call(ch, "/norikv.v1.Kv/Delete", &req.base, &norikv__v1__delete_response__descriptor, 5000,
            r);
}

int tn_watch_open(grpc_channel *ch, tn_watch *w, int timeout_ms)
{
    Norikv__V1__ClusterView empty = NORIKV__V1__CLUSTER_VIEW__INIT;
    grpc_byte_buffer *send = pbgrpc_pack(&empty.base);
    grpc_op ops[4];
    grpc_event ev;

    memset(w, 0, sizeof(*w));
    w->cq = grpc_completion_queue_create_for_pluck(NULL);
    grpc_metadata_array_init(&w->initial);
    grpc_metadata_array_init(&w->trailers);
    w->call = grpc_channel_create_call(
        ch, NULL, 0, w->cq, grpc_slice_from_static_string("/norikv.v1.Meta/WatchCluster"), NULL,
        pbgrpc_deadline_ms(timeout_ms), NULL);
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &w->initial;
    if (grpc_call_start_batch(w->call, ops, 4, (void *)1, NULL) != GRPC_CALL_OK)
        return -1;
    ev = grpc_completion_queue_pluck(w->cq, (void *)1, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_byte_buffer_destroy(send);
    /* The status batch stays outstanding for the stream's life. */
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[0].data.recv_status_on_client.trailing_metadata = &w->trailers;
    ops[0].data.recv_status_on_client.status = &w->status;
    ops[0].data.recv_status_on_client.status_details = &w->details;
    grpc_call_start_batch(w->call, ops, 1, (void *)3, NULL);
    return ev.type == GRPC_OP_COMPLETE && ev.success ? 0 : -1;
}

Norikv__V1__ClusterView *tn_watch_next(tn_watch *w, int timeout_ms)
{
    grpc_byte_buffer *recv = NULL;
    Norikv__V1__ClusterView *view;
    grpc_op op;
    grpc_event ev;

    memset(&op, 0, sizeof(op));
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &recv;
    if (grpc_call_start_batch(w->call, &op, 1, (void *)2, NULL) != GRPC_CALL_OK)
        return NULL;
    ev = grpc_completion_queue_pluck(w->cq, (void *)2, pbgrpc_deadline_ms(timeout_ms), NULL);
    if (ev.type == GRPC_QUEUE_TIMEOUT) {
        /* Cancel, then collect the batch so the call can be reused for close. */
        grpc_call_cancel(w->call, NULL);
        grpc_completion_queue_pluck(w->cq, (void *)2, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (recv != NULL)
            grpc_byte_buffer_destroy(recv);
        return NULL;
    }
    if (recv == NULL)
        return NULL;
    view = (Norikv__V1__ClusterView *)pbgrpc_unpack(recv, &norikv__v1__cluster_view__descriptor);
    grpc_byte_buffer_destroy(recv);
    return view;
}

grpc_status_code tn_watch_close(tn_watch *w)
{
    grpc_status_code status;

    grpc_call_cancel(w->call, NULL);
    grpc_completion_queue_pluck(w->cq, (void *)3, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    status = w->status;
    grpc_slice_unref(w->details);
    grpc_metadata_array_destroy(&w->initial);
    grpc_metadata_array_destroy(&w->trailers);
    grpc_call_unref(w->call);
    grpc_completion_queue_shutdown(w->cq);
    while (
        grpc_completion_queue_pluck(w->cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
        GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(w->cq);
    return status;
}

const char *tn_key_for_node(char *buf, size_t len, const char *prefix, int node, int nodes,
                            uint32_t total_shards)
{
    for (int i = 0;; i++) {
        snprintf(buf, len, "%s-%d", prefix, i);
        if ((int)(route_shard(buf, strlen(buf), total_shards) % (uint32_t)nodes) == node - 1)
            return buf;
    }
}

const char *tn_key_led_by(tn_proc *p, char *buf, size_t len, const char *prefix, int node,
                          uint32_t total_shards)
{
    for (int i = 0; i < 10000; i++) {
        snprintf(buf, len, "%s-%d", prefix, i);
        if (tn_leader(p, route_shard(buf, strlen(buf), total_shards)) == node)
            return buf;
    }
    ck_abort_msg("no key of prefix %s on a shard led by node %d", prefix, node);
    return NULL;
}

grpc_channel *tn_channel_pinging(tn_proc *p, int node, int keepalive_ms)
{
    grpc_arg args[4] = {
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_TIME_MS, {.integer = keepalive_ms}},
        {GRPC_ARG_INTEGER, GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, {.integer = 1}},
        {GRPC_ARG_INTEGER, GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, {.integer = 0}},
        {GRPC_ARG_INTEGER,
         GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS,
         {.integer = keepalive_ms}},
    };
    grpc_channel_args ca = {4, args};
    char target[64];
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_channel *ch;

    snprintf(target, sizeof(target), "127.0.0.1:%d", p->base_port + node - 1);
    ch = grpc_channel_create(target, creds, &ca);
    grpc_channel_credentials_release(creds);
    return ch;
}

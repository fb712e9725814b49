/*
 * check_cas: the sidecar's compare-and-swap engine (cas.c, tx.c, cell.c) under
 * concurrency and faults, with the real cluster client on a devnode cluster. A sidecar is
 * put together as sidecar.c's run() would (or two of them, each with its own cluster
 * client, in one process and one loop), client connections are socketpairs handed to
 * client_accept, and every connection pipelines INCRs (or MULTI blocks) on one key while
 * the loop runs. A user's view is asserted: every reply is the integer it should be, no
 * two INCRs ever answer the same value (a lost update would), each connection sees the
 * counter grow, the final GET is exactly the number of increments, and the devnode never
 * applied a Put twice. Each case prints one line of the engine's figures.
 */
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "client.h"
#include "clock.h"
#include "cmd.h"
#include "conf.h"
#include "kv.h"
#include "route.h"
#include "sidecar.h"
#include "stats.h"
#include "testnode.h"

#define NODES     3
#define MAX_SIDES 2
#define MAX_CONNS 50
#define WINDOW    48    /* units a connection has sent and not had answered, at most */
#define CHUNK     16    /* units written at once, when the window has room for them */
#define RUN_MS    20000 /* a case's load must end within this */

/* ---- the first failure seen, kept until everything is cleaned up ---------------------- */

static char failure[1024];
static struct event_base *base;

static void fail_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail_note(const char *fmt, ...)
{
    va_list ap;

    if (failure[0] == '\0') {
        va_start(ap, fmt);
        vsnprintf(failure, sizeof(failure), fmt, ap);
        va_end(ap);
    }
    event_base_loopbreak(base);
}

/* Notes a failure, and leaves the function, when cond is false. */
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fail_note(__VA_ARGS__);                                                                \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Notes a failure, and goes on, when cond is false and nothing failed before: for a case's
 * own body, which must reach finish() (where the failure is asserted) whatever happens. */
#define NOTE_UNLESS(cond, ...)                                                                     \
    do {                                                                                           \
        if (failure[0] == '\0' && !(cond))                                                         \
            fail_note(__VA_ARGS__);                                                                \
    } while (0)

/* ---- one RESP reply, as an application reads it --------------------------------------- */

typedef struct rval {
    char type;      /* ':' '+' '-' '$' '*' */
    long long n;    /* the integer; a bulk's or an array's length (-1: null) */
    char text[160]; /* a simple string, error or bulk (cut) */
    int nel;        /* array elements kept (the first 4) */
    char el_type[4];
    long long el[4];
} rval;

/* One reply from p[0..len): the bytes it took, 0 when incomplete, -1 when malformed. */
static long parse_reply(const char *p, size_t len, rval *v)
{
    const char *eol = len > 0 ? memmem(p, len, "\r\n", 2) : NULL;
    size_t line, off;
    char *end;

    if (eol == NULL)
        return 0;
    line = (size_t)(eol - p);
    memset(v, 0, sizeof(*v));
    v->type = p[0];
    switch (p[0]) {
    case '+':
    case '-':
        snprintf(v->text, sizeof(v->text), "%.*s", (int)(line - 1), p + 1);
        return (long)line + 2;
    case ':':
    case '$':
    case '*':
        v->n = strtoll(p + 1, &end, 10);
        if (end != eol || line < 2)
            return -1;
        off = line + 2;
        if (p[0] == ':' || v->n < 0)
            return (long)off;
        if (p[0] == '$') {
            if (len < off + (size_t)v->n + 2)
                return 0;
            snprintf(v->text, sizeof(v->text), "%.*s", (int)v->n, p + off);
            return (long)(off + (size_t)v->n + 2);
        }
        for (long long i = 0; i < v->n; i++) {
            rval e;
            long k = parse_reply(p + off, len - off, &e);
            if (k <= 0)
                return k;
            if (i < 4) {
                v->el_type[i] = e.type;
                v->el[i] = e.n;
                v->nel++;
            }
            off += (size_t)k;
        }
        return (long)off;
    default:
        return -1;
    }
}

/* Appends one request, a line of space-separated words, as a RESP array. */
static void add_request(struct evbuffer *out, const char *line)
{
    char words[256], *save = NULL;
    const char *w[16];
    int n = 0;

    snprintf(words, sizeof(words), "%s", line);
    for (char *t = strtok_r(words, " ", &save); t != NULL && n < 16; t = strtok_r(NULL, " ", &save))
        w[n++] = t;
    evbuffer_add_printf(out, "*%d\r\n", n);
    for (int i = 0; i < n; i++)
        evbuffer_add_printf(out, "$%zu\r\n%s\r\n", strlen(w[i]), w[i]);
}

/* ---- the sidecars and their connections ----------------------------------------------- */

typedef enum work { W_INCR, W_MULTI } work;

typedef struct conn {
    int id;
    struct bufferevent *bev; /* the application's end */
    work kind;
    char key[64];
    int total, sent, done; /* units: one INCR, or one MULTI / INCR / INCRBY 2 / EXEC */
    int step;              /* replies of the current unit read */
    long long last;        /* the counter's last value this connection saw */
    bool lone;             /* a lone command waits for its reply */
    bool lone_done;
    rval lone_reply;
    int64_t lone_at; /* when the lone reply came (clock_now_ms) */
} conn;

static tn_proc dn;
static bool dn_up;
static char seeds[256];
static sidecar sides[MAX_SIDES];
static int nsides;
static conn conns[MAX_CONNS];
static int nconns;

/* the load in progress */
static int units_all, units_done;
static bool all_done;
static unsigned char *seen; /* seen[v]: an INCR (or EXEC) answered v */
static long long seen_max;

/* As sidecar.c: one flush per loop pass for every client with replies. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    client_flush_all(arg);
}

static void refill(conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    char line[128];

    if (c->sent - c->done > WINDOW - CHUNK)
        return;
    for (int i = 0; i < CHUNK && c->sent < c->total; i++, c->sent++) {
        if (c->kind == W_MULTI) {
            add_request(out, "MULTI");
            snprintf(line, sizeof(line), "INCR %s", c->key);
            add_request(out, line);
            snprintf(line, sizeof(line), "INCRBY %s 2", c->key);
            add_request(out, line);
            add_request(out, "EXEC");
        } else {
            snprintf(line, sizeof(line), "INCR %s", c->key);
            add_request(out, line);
        }
    }
}

/* An INCR answered v (for a MULTI block, its INCR): new, in range, above what this
 * connection saw before. */
static void note_value(conn *c, long long v, long long after)
{
    EXPECT(v >= 1 && after <= seen_max, "conn %d: the counter answered %lld, out of 1..%lld", c->id,
           v, seen_max);
    EXPECT(!seen[v], "conn %d: the counter answered %lld twice (an increment was lost)", c->id, v);
    EXPECT(v > c->last, "conn %d: the counter went back from %lld to %lld", c->id, c->last, v);
    seen[v] = 1;
    c->last = after;
}

static void unit_done(conn *c)
{
    c->step = 0;
    c->done++;
    if (++units_done == units_all) {
        all_done = true;
        event_base_loopbreak(base);
    }
    refill(c);
}

static void on_reply(conn *c, const rval *v)
{
    if (c->lone) {
        c->lone = false;
        c->lone_done = true;
        c->lone_reply = *v;
        c->lone_at = clock_now_ms();
        event_base_loopbreak(base);
        return;
    }
    EXPECT(c->done < c->total, "conn %d: a reply nobody asked for (%c%s)", c->id, v->type, v->text);
    if (c->kind == W_INCR) {
        EXPECT(v->type == ':', "conn %d, INCR %d: reply '%c%s', not an integer", c->id, c->done + 1,
               v->type, v->text);
        note_value(c, v->n, v->n);
        unit_done(c);
        return;
    }
    switch (c->step++) {
    case 0:
        EXPECT(v->type == '+' && strcmp(v->text, "OK") == 0, "conn %d, MULTI %d: reply '%c%s'",
               c->id, c->done + 1, v->type, v->text);
        return;
    case 1:
    case 2:
        EXPECT(v->type == '+' && strcmp(v->text, "QUEUED") == 0,
               "conn %d, MULTI %d, command %d: reply '%c%s', not QUEUED", c->id, c->done + 1,
               c->step - 1, v->type, v->text);
        return;
    default:
        EXPECT(v->type == '*' && v->n == 2 && v->el_type[0] == ':' && v->el_type[1] == ':',
               "conn %d, EXEC %d: reply '%c' of %lld (%c, %c) '%s', not two integers", c->id,
               c->done + 1, v->type, v->n, v->el_type[0] ? v->el_type[0] : '-',
               v->el_type[1] ? v->el_type[1] : '-', v->text);
        EXPECT(v->el[1] == v->el[0] + 2, "conn %d, EXEC %d: INCR answered %lld, INCRBY 2 %lld",
               c->id, c->done + 1, v->el[0], v->el[1]);
        EXPECT((v->el[0] - 1) % 3 == 0,
               "conn %d, EXEC %d: INCR answered %lld, which no block of 3 from 0 gives", c->id,
               c->done + 1, v->el[0]);
        note_value(c, v->el[0], v->el[1]);
        unit_done(c);
    }
}

static void on_readable(struct bufferevent *bev, void *arg)
{
    conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len;
    long took;
    rval v;

    while ((len = evbuffer_get_length(in)) > 0 && failure[0] == '\0') {
        const char *p = (const char *)evbuffer_pullup(in, -1);
        took = parse_reply(p, len, &v);
        if (took == 0)
            return;
        if (took < 0) {
            fail_note("conn %d: malformed reply: %.40s", c->id, p);
            return;
        }
        evbuffer_drain(in, (size_t)took);
        on_reply(c, &v);
    }
}

static void on_conn_event(struct bufferevent *bev, short what, void *arg)
{
    conn *c = arg;

    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        fail_note("conn %d: the sidecar closed the connection (%s)", c->id,
                  what & BEV_EVENT_EOF ? "EOF" : "error");
}

/* A sidecar as run() makes one, with these settings (name, value, ..., NULL). */
static void side_start(sidecar *s, const char *const *settings)
{
    char err[256];
    kv_config kc;

    memset(s, 0, sizeof(*s));
    ck_assert_int_eq(conf_init(&s->cfg), 0);
    ck_assert_msg(conf_set(&s->cfg, "cluster.nodes", seeds, err, sizeof(err)) == 0, "%s", err);
    for (int i = 0; settings != NULL && settings[i] != NULL; i += 2)
        ck_assert_msg(conf_set(&s->cfg, settings[i], settings[i + 1], err, sizeof(err)) == 0,
                      "%s: %s", settings[i], err);
    s->base = base;
    stats_init(&s->st, cmd_count());
    s->flush_ev = event_new(base, -1, 0, on_flush, s);
    ck_assert(s->flush_ev != NULL);
    s->started_ms = clock_now_ms();
    conf_kv_config(&s->cfg, &kc);
    s->kv = kv_client_new(base, &kc, err, sizeof(err));
    ck_assert_msg(s->kv != NULL, "cluster client: %s", err);
}

static void conn_open(conn *c, int id, sidecar *s)
{
    int sv[2];
    char addr[32];

    memset(c, 0, sizeof(*c));
    c->id = id;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    snprintf(addr, sizeof(addr), "check_cas:%d", id);
    client_accept(s, sv[0], addr, true);
    c->bev = bufferevent_socket_new(base, sv[1], BEV_OPT_CLOSE_ON_FREE);
    ck_assert(c->bev != NULL);
    bufferevent_setcb(c->bev, on_readable, NULL, on_conn_event, c);
    ck_assert_int_eq(bufferevent_enable(c->bev, EV_READ | EV_WRITE), 0);
}

/*
 * A devnode of NODES nodes, `n` sidecars with these settings, each with conns_each
 * connections (conns[0..conns_each) on the first sidecar, and so on).
 */
static void start(int n, int conns_each, const char *const *settings)
{
    size_t off = 0;

    signal(SIGPIPE, SIG_IGN); /* as the daemon */
    failure[0] = '\0';
    kv_global_init(NULL);
    ck_assert_msg(tn_start(&dn, NODES, NULL) == 0, "devnode did not start");
    dn_up = true;
    for (int i = 0; i < NODES; i++)
        off += (size_t)snprintf(seeds + off, sizeof(seeds) - off, "%s127.0.0.1:%d", i ? "," : "",
                                dn.base_port + i);
    base = event_base_new();
    ck_assert(base != NULL);
    nsides = n;
    for (int i = 0; i < n; i++)
        side_start(&sides[i], settings);
    nconns = n * conns_each;
    ck_assert_int_le(nconns, MAX_CONNS);
    for (int i = 0; i < nconns; i++)
        conn_open(&conns[i], i, &sides[i / conns_each]);
}

/* Frees every connection, sidecar and client, stops the devnode; then fails the test with
 * the first failure noted, if any. */
static void finish(void)
{
    int status;

    for (int i = 0; i < nconns; i++)
        if (conns[i].bev != NULL) /* NULL: the case closed it */
            bufferevent_free(conns[i].bev);
    nconns = 0;
    for (int i = 0; i < nsides; i++) {
        sidecar *s = &sides[i];
        while (!LIST_EMPTY(&s->clients))
            client_close(LIST_FIRST(&s->clients));
        client_reap(s);
        client_mem_release(s);
        kv_client_free(s->kv);
        event_free(s->flush_ev);
        stats_free(&s->st);
        conf_free(&s->cfg);
    }
    nsides = 0;
    event_base_free(base);
    base = NULL;
    free(seen);
    seen = NULL;
    status = tn_stop(&dn);
    dn_up = false;
    kv_global_shutdown();
    ck_assert_msg(failure[0] == '\0', "%s", failure);
    ck_assert_int_eq(status, 0);
}

/* If a check of Check's own failed with the devnode up (the test's process exits, and
 * the devnode with it), its socket and folder go too. */
static void teardown(void)
{
    if (dn_up)
        tn_stop(&dn);
    dn_up = false;
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    *(bool *)arg = true;
}

/* Runs the loop until *done, a failure, or limit_ms; false unless *done. */
static bool run_until(bool *done, int limit_ms)
{
    bool expired = false;
    struct event *guard = evtimer_new(base, on_guard, &expired);
    struct timeval tv = {limit_ms / 1000, (limit_ms % 1000) * 1000};

    evtimer_add(guard, &tv);
    while (!*done && !expired && failure[0] == '\0')
        event_base_loop(base, EVLOOP_ONCE);
    event_free(guard);
    return *done;
}

/* Runs the loop for ms. */
static void run_for(int ms)
{
    bool never = false;

    run_until(&never, ms);
}

/* One command alone on connection c; its reply, or a null type after a failure. */
static rval lone(conn *c, const char *line)
{
    rval none = {0};

    c->lone = true;
    c->lone_done = false;
    add_request(bufferevent_get_output(c->bev), line);
    if (!run_until(&c->lone_done, 10000)) {
        fail_note("'%s' on conn %d: no reply within 10 s", line, c->id);
        return none;
    }
    return c->lone_reply;
}

/* SET key value through connection 0. */
static void set_key(const char *key, const char *value)
{
    char line[128];
    rval v;

    snprintf(line, sizeof(line), "SET %s %s", key, value);
    v = lone(&conns[0], line);
    EXPECT(failure[0] != '\0' || (v.type == '+' && strcmp(v.text, "OK") == 0), "%s: reply '%c%s'",
           line, v.type, v.text);
}

/* The key's value read through connection 0: GET, a bulk of digits. */
static long long get_counter(const char *key)
{
    char line[128], *end;
    rval v;
    long long n;

    snprintf(line, sizeof(line), "GET %s", key);
    v = lone(&conns[0], line);
    if (failure[0] != '\0')
        return -1;
    if (v.type != '$' || v.n <= 0) {
        fail_note("%s: reply '%c' %lld '%s', not a bulk", line, v.type, v.n, v.text);
        return -1;
    }
    n = strtoll(v.text, &end, 10);
    if (*end != '\0') {
        fail_note("%s: '%s', not an integer", line, v.text);
        return -1;
    }
    return n;
}

/*
 * Every connection sends per_conn units of kind on key, pipelined, while the loop runs,
 * until every reply arrived (or RUN_MS, or a failure); each INCR is worth `weight` (1 for
 * INCR, 3 for a MULTI block). Returns the final value read back, -1 on a failure.
 */
static long long load(work kind, const char *key, int per_conn, int weight)
{
    int64_t t0 = clock_now_ms();
    char progress[256];
    size_t off = 0;

    if (failure[0] != '\0')
        return -1;
    units_all = nconns * per_conn;
    units_done = 0;
    all_done = false;
    seen_max = (long long)units_all * weight;
    free(seen);
    seen = calloc((size_t)seen_max + 1, 1);
    ck_assert(seen != NULL);
    for (int i = 0; i < nconns; i++) {
        conn *c = &conns[i];
        c->kind = kind;
        snprintf(c->key, sizeof(c->key), "%s", key);
        c->total = per_conn;
        c->sent = c->done = c->step = 0;
        c->last = 0;
        refill(c);
    }
    if (!run_until(&all_done, RUN_MS)) {
        if (failure[0] != '\0')
            return -1;
        for (int i = 0; i < nconns; i++)
            off += (size_t)snprintf(progress + off, sizeof(progress) - off, " %d/%d", conns[i].done,
                                    conns[i].total);
        fail_note("after %" PRId64 " ms only %d of %d answered (per connection:%s)",
                  clock_now_ms() - t0, units_done, units_all, progress);
        return -1;
    }
    return get_counter(key);
}

/* The sum of one counter over the sidecars. */
static uint64_t sum_at(size_t field)
{
    uint64_t sum = 0;

    for (int i = 0; i < nsides; i++)
        sum += *(const uint64_t *)((const char *)&sides[i].st + field);
    return sum;
}
#define SUM(field) sum_at(offsetof(stats, field))

/* The case's line: its figures, summed over the sidecars, and the devnode's. */
static void report(const char *name, int per_conn, const char *what, long long final,
                   int64_t took_ms)
{
    printf("%-20s %d x %d %s: final %lld, cas_rounds %" PRIu64 ", cas_conflicts %" PRIu64
           ", cas_waits %" PRIu64 ", cas_exhausted %" PRIu64 ", cas_groups %" PRIu64
           ", cas_merged_blocks %" PRIu64 " | devnode puts_applied %" PRIu64
           ", duplicate_applies %" PRIu64 ", idempotent_replays %" PRIu64 ", replies_lost %" PRIu64
           ", not_leader %" PRIu64 " | %" PRId64 " ms\n",
           name, nconns, per_conn, what, final, SUM(cas_rounds), SUM(cas_conflicts), SUM(cas_waits),
           SUM(cas_exhausted), SUM(cas_groups), SUM(cas_merged_blocks),
           tn_stat(&dn, "puts_applied"), tn_stat(&dn, "duplicate_applies"),
           tn_stat(&dn, "idempotent_replays"), tn_stat(&dn, "replies_lost"),
           tn_stat(&dn, "not_leader"), took_ms);
    fflush(stdout);
}

/*
 * What every case asserts: the final value, nothing applied twice, no read-modify-write
 * given up; one round per group (a block alone, or blocks merged) and per conflict; with
 * one sidecar, no conflict at all (its blocks on a key queue behind each other, so only
 * another writer could make one lose).
 */
static void verify(long long final, long long want, int blocks)
{
    if (failure[0] != '\0')
        return;
    EXPECT(final == want, "the counter reads %lld, not %lld", final, want);
    EXPECT(tn_stat(&dn, "duplicate_applies") == 0, "the devnode applied %" PRIu64 " Puts twice",
           tn_stat(&dn, "duplicate_applies"));
    EXPECT(SUM(cas_exhausted) == 0, "%" PRIu64 " read-modify-writes gave up (CONFLICT)",
           SUM(cas_exhausted));
    EXPECT(SUM(cas_rounds) ==
               (uint64_t)blocks - SUM(cas_merged_blocks) + SUM(cas_groups) + SUM(cas_conflicts),
           "%" PRIu64 " rounds for %d blocks, %" PRIu64 " of them in %" PRIu64
           " groups, and %" PRIu64 " conflicts",
           SUM(cas_rounds), blocks, SUM(cas_merged_blocks), SUM(cas_groups), SUM(cas_conflicts));
    EXPECT(SUM(cas_waits) > 0, "no block ever waited for another on the key");
    if (nsides == 1)
        EXPECT(SUM(cas_conflicts) == 0,
               "%" PRIu64 " conflicts with one sidecar, whose blocks on a key never race",
               SUM(cas_conflicts));
}

/* ==== cases ================================================================================= */

#define PER_CONN 200

START_TEST(plain)
{
    int64_t t0;
    long long final;

    start(1, 8, NULL);
    set_key("counter", "0");
    t0 = clock_now_ms();
    final = load(W_INCR, "counter", PER_CONN, 1);
    report("plain", PER_CONN, "INCR", final, clock_now_ms() - t0);
    verify(final, 8 * PER_CONN, 8 * PER_CONN);
    if (failure[0] == '\0' && SUM(cas_merged_blocks) == 0)
        fail_note("8 connections on one key, and no two of their INCRs ever shared a round");
    finish();
}
END_TEST

/* Moves the key's shard to the next node every `every`, up to max times, while the load
 * runs (5 x that of plain: its INCRs in groups of 8 are done in a few hundred ms). */
typedef struct mover {
    struct event *ev;
    struct timeval every;
    uint32_t shard;
    int moves, max;
} mover;

static void on_move(evutil_socket_t fd, short what, void *arg)
{
    mover *m = arg;
    char *answer;
    int leader;

    (void)fd;
    (void)what;
    if (all_done || failure[0] != '\0' || m->moves >= m->max)
        return;
    leader = tn_leader(&dn, m->shard);
    if (leader > 0) {
        answer = tn_control(&dn, "move %u %d", m->shard, leader % NODES + 1);
        if (answer == NULL || strncmp(answer, "OK", 2) != 0)
            fail_note("move %u %d: answered '%s'", m->shard, leader % NODES + 1,
                      answer ? answer : "(nothing)");
        free(answer);
        m->moves++;
    }
    evtimer_add(m->ev, &m->every);
}

START_TEST(leader_moves)
{
    mover m = {.every = {0, 60 * 1000}, .max = 12};
    int64_t t0;
    long long final;

    start(1, 8, NULL);
    set_key("counter", "0");
    m.shard =
        route_shard("counter", strlen("counter"), (uint32_t)sides[0].cfg.cluster.total_shards);
    m.ev = evtimer_new(base, on_move, &m);
    evtimer_add(m.ev, &m.every);
    t0 = clock_now_ms();
    final = load(W_INCR, "counter", 5 * PER_CONN, 1);
    event_free(m.ev);
    report("leader moves", 5 * PER_CONN, "INCR", final, clock_now_ms() - t0);
    printf("%-20s the shard %u moved %d times during the load\n", "", m.shard, m.moves);
    verify(final, 8 * 5 * PER_CONN, 8 * 5 * PER_CONN);
    if (failure[0] == '\0' && m.moves < 3)
        fail_note("the load ended after %d leader moves; the case wants 3 at least", m.moves);
    if (failure[0] == '\0' && tn_stat(&dn, "not_leader") == 0)
        fail_note("no call met a node that no longer led the shard");
    finish();
}
END_TEST

/* Retries of lost replies wait 5-10 ms, not the default 100-200: the groups of one key run
 * one after another, and 10% of their ~1000 Puts lost would wait 15 s in all. The load is
 * 5 x that of plain: its groups of 8 make 1000 Puts, enough to lose 50 replies. */
static const char *const quick_retries[] = {"retry.initial_delay_ms", "5", "retry.jitter_ms", "5",
                                            NULL};

START_TEST(lost_replies)
{
    int64_t t0;
    long long final;

    start(1, 8, quick_retries);
    set_key("counter", "0");
    if (failure[0] == '\0') {
        char *answer = tn_control(&dn, "lose-reply 0.1");
        if (answer == NULL || strncmp(answer, "OK", 2) != 0)
            fail_note("lose-reply 0.1: answered '%s'", answer ? answer : "(nothing)");
        free(answer);
    }
    t0 = clock_now_ms();
    final = load(W_INCR, "counter", 5 * PER_CONN, 1);
    report("lost replies 10%", 5 * PER_CONN, "INCR", final, clock_now_ms() - t0);
    verify(final, 8 * 5 * PER_CONN, 8 * 5 * PER_CONN);
    if (failure[0] == '\0' && tn_stat(&dn, "replies_lost") < 50)
        fail_note("only %" PRIu64 " replies lost", tn_stat(&dn, "replies_lost"));
    if (failure[0] == '\0' && tn_stat(&dn, "idempotent_replays") < tn_stat(&dn, "replies_lost"))
        fail_note("%" PRIu64 " replies lost but %" PRIu64 " replays", tn_stat(&dn, "replies_lost"),
                  tn_stat(&dn, "idempotent_replays"));
    finish();
}
END_TEST

/* Two sidecars race for real: both read a version, both write, one loses and redoes its
 * round after a random pause (without the pause they fell into lockstep and one ran out of
 * rounds within the first few dozen INCRs). At the default cas_max_rounds (16) no command
 * may give up. */

START_TEST(two_sidecars)
{
    int64_t t0;
    long long final;

    start(2, 4, NULL);
    set_key("counter", "0");
    t0 = clock_now_ms();
    final = load(W_INCR, "counter", PER_CONN, 1);
    report("two sidecars", PER_CONN, "INCR", final, clock_now_ms() - t0);
    for (int i = 0; i < nsides; i++)
        printf("%-20s sidecar %d: cas_rounds %" PRIu64 ", cas_conflicts %" PRIu64
               ", cas_waits %" PRIu64 ", cas_exhausted %" PRIu64 "\n",
               "", i + 1, sides[i].st.cas_rounds, sides[i].st.cas_conflicts, sides[i].st.cas_waits,
               sides[i].st.cas_exhausted);
    fflush(stdout);
    verify(final, 8 * PER_CONN, 8 * PER_CONN);
    if (failure[0] == '\0' && SUM(cas_conflicts) == 0)
        fail_note("two sidecars on one key never conflicted");
    finish();
}
END_TEST

START_TEST(multi_one_key)
{
    int64_t t0;
    long long final;

    start(1, 8, NULL);
    t0 = clock_now_ms(); /* the key is missing: the first EXEC creates it */
    final = load(W_MULTI, "tx-counter", 100, 3);
    report("MULTI on one key", 100, "MULTI/INCR/INCRBY 2/EXEC", final, clock_now_ms() - t0);
    verify(final, 8 * 100 * 3, 8 * 100);
    finish();
}
END_TEST

/* ---- groups: blocks queued on one key sharing one read and one write ------------------ */

/* Sends one command on c without waiting; its reply lands in c->lone_reply. */
static void send_lone(conn *c, const char *line)
{
    c->lone = true;
    c->lone_done = false;
    add_request(bufferevent_get_output(c->bev), line);
}

/* Runs the loop until c's lone reply came (10 s at most); false after a failure. */
static bool wait_lone(conn *c, const char *what)
{
    if (failure[0] != '\0')
        return false;
    if (!c->lone_done && !run_until(&c->lone_done, 10000))
        fail_note("%s on conn %d: no reply within 10 s", what, c->id);
    return failure[0] == '\0';
}

/* Runs the loop until the sum of a counter of the sidecars reaches want (5 s at most). */
static bool reach_at(size_t field, const char *name, uint64_t want)
{
    int64_t until = clock_now_ms() + 5000;

    while (failure[0] == '\0' && sum_at(field) < want && clock_now_ms() < until)
        run_for(10);
    if (failure[0] == '\0' && sum_at(field) < want)
        fail_note("%s stayed at %" PRIu64 ", short of %" PRIu64, name, sum_at(field), want);
    return failure[0] == '\0';
}
#define REACH(field, want) reach_at(offsetof(stats, field), #field, (want))

/* Operations the first sidecar's cluster client has started. */
static uint64_t kv_ops(void)
{
    kv_stats st;

    kv_get_stats(sides[0].kv, &st);
    return st.retries_operations;
}

/* Runs the loop until the first sidecar's client has started want operations (5 s). */
static bool reach_ops(uint64_t want)
{
    int64_t until = clock_now_ms() + 5000;

    while (failure[0] == '\0' && kv_ops() < want && clock_now_ms() < until)
        run_for(5);
    if (failure[0] == '\0' && kv_ops() < want)
        fail_note("the cluster client started %" PRIu64 " operations, short of %" PRIu64, kv_ops(),
                  want);
    return failure[0] == '\0';
}

/* The application closes connection i and the sidecar sees it at once, as when the peer
 * resets it (an EOF alone would still have what it sent run and answered). */
static void kill_conn(int i)
{
    char addr[32];
    client *c;

    snprintf(addr, sizeof(addr), "check_cas:%d", i);
    bufferevent_free(conns[i].bev);
    conns[i].bev = NULL;
    for (int k = 0; k < nsides; k++)
        LIST_FOREACH(c, &sides[k].clients, link)
    if (strcmp(c->addr, addr) == 0) {
        client_close(c);
        return;
    }
    fail_note("no client of the sidecar is %s", addr);
}

/*
 * The devnode delays every call by hold_ms while conn 0 sends first (its block runs alone,
 * its read held) and conns 1..n-1 send lines[i] one after another, each queued on the key
 * before the next is sent: when conn 0's block is done they are one group, in this order.
 * Leaves the delay on. A case that acts while one of the group's calls is held takes 1 s
 * (300 ms was passed once under make distcheck), and gets ready beforehand what it does
 * then (group_conflict's channel is connected before: making it inside the second took
 * longer once in the sanitizer build beside make -j2 check).
 */
static void queue_group(const char *first, const char *const *lines, int n, int hold_ms)
{
    uint64_t r0 = SUM(cas_rounds), w0 = SUM(cas_waits);

    if (failure[0] != '\0')
        return;
    tn_control_ok(&dn, "latency 0 %d", hold_ms);
    send_lone(&conns[0], first);
    if (!REACH(cas_rounds, r0 + 1))
        return;
    for (int i = 1; i < n; i++) {
        send_lone(&conns[i], lines[i]);
        if (!REACH(cas_waits, w0 + (uint64_t)i))
            return;
    }
}

/* c's lone reply is the integer want. */
static void expect_int(conn *c, const char *what, long long want)
{
    if (!wait_lone(c, what))
        return;
    EXPECT(c->lone_reply.type == ':' && c->lone_reply.n == want,
           "%s on conn %d: reply '%c' %lld '%s', not :%lld", what, c->id, c->lone_reply.type,
           c->lone_reply.n, c->lone_reply.text, want);
}

/* c's lone reply is a simple string or an error starting with text. */
static void expect_text(conn *c, const char *what, char type, const char *text)
{
    if (!wait_lone(c, what))
        return;
    EXPECT(c->lone_reply.type == type && strncmp(c->lone_reply.text, text, strlen(text)) == 0,
           "%s on conn %d: reply '%c%s', not '%c%s...'", what, c->id, c->lone_reply.type,
           c->lone_reply.text, type, text);
}

/* 50 connections on one key, through one sidecar: the INCRs waiting while one runs share
 * their rounds, so 50 (and then 50 x 20) increments take a handful of rounds and Puts, and
 * still every INCR answers a value of its own. */
START_TEST(hot_key)
{
    uint64_t puts0, r0;
    long long final;
    int64_t t0;
    unsigned char got[51] = {0};

    start(1, 50, NULL);
    set_key("hot", "0");
    puts0 = tn_stat(&dn, "puts_applied");
    r0 = SUM(cas_rounds);
    for (int i = 0; i < 50; i++)
        send_lone(&conns[i], "INCR hot");
    for (int i = 0; i < 50 && failure[0] == '\0'; i++) {
        conn *c = &conns[i];
        if (!wait_lone(c, "INCR hot"))
            break;
        if (c->lone_reply.type != ':' || c->lone_reply.n < 1 || c->lone_reply.n > 50 ||
            got[c->lone_reply.n]) {
            fail_note("conn %d: INCR answered '%c' %lld '%s': not a new value in 1..50", i,
                      c->lone_reply.type, c->lone_reply.n, c->lone_reply.text);
            break;
        }
        got[c->lone_reply.n] = 1;
    }
    final = failure[0] == '\0' ? get_counter("hot") : -1;
    printf("%-20s 50 x 1 INCR: final %lld, cas_rounds %" PRIu64 ", devnode puts_applied %" PRIu64
           ", cas_groups %" PRIu64 ", cas_merged_blocks %" PRIu64 "\n",
           "hot key", final, SUM(cas_rounds) - r0, tn_stat(&dn, "puts_applied") - puts0,
           SUM(cas_groups), SUM(cas_merged_blocks));
    if (failure[0] == '\0' && final != 50)
        fail_note("50 INCRs left the counter at %lld", final);
    if (failure[0] == '\0' && SUM(cas_rounds) - r0 > 10)
        fail_note("50 INCRs on one key took %" PRIu64 " rounds; a group shares one",
                  SUM(cas_rounds) - r0);
    if (failure[0] == '\0' && tn_stat(&dn, "puts_applied") - puts0 > 10)
        fail_note("50 INCRs on one key made %" PRIu64 " Puts",
                  tn_stat(&dn, "puts_applied") - puts0);
    if (failure[0] == '\0' && SUM(cas_merged_blocks) < 40)
        fail_note("only %" PRIu64 " of 50 INCRs ran in a group", SUM(cas_merged_blocks));

    t0 = clock_now_ms();
    final = load(W_INCR, "hot-load", 20, 1);
    report("hot key", 20, "INCR", final, clock_now_ms() - t0);
    verify(final, 50 * 20, 50 * 20 + 50);
    if (failure[0] == '\0' && SUM(cas_rounds) > (50 * 20 + 50) / 5)
        fail_note("1050 INCRs on one key took %" PRIu64 " rounds, not a fifth as many",
                  SUM(cas_rounds));
    finish();
}
END_TEST

/* A group mixing GETSET, INCR and APPEND: the INCR that meets "abc" answers its error and
 * changes nothing, the blocks after it see the value as the blocks before it left it; one
 * read and one write for the whole group. */
START_TEST(group_mixed)
{
    static const char *const lines[] = {NULL,
                                        "INCR mixed",
                                        "GETSET mixed abc",
                                        "INCR mixed",
                                        "APPEND mixed d",
                                        "GETSET mixed 20",
                                        "INCRBY mixed 5",
                                        "INCR mixed"};
    uint64_t r0, g0, m0;
    long long final;

    start(1, 8, NULL);
    set_key("mixed", "10");
    r0 = SUM(cas_rounds);
    g0 = SUM(cas_groups);
    m0 = SUM(cas_merged_blocks);
    queue_group("INCR mixed", lines, 8, 300);
    if (failure[0] == '\0')
        tn_control_ok(&dn, "latency 0 0");
    expect_int(&conns[0], "INCR (alone)", 11);
    expect_int(&conns[1], "INCR", 12);
    expect_text(&conns[2], "GETSET abc", '$', "12");
    expect_text(&conns[3], "INCR of abc", '-', "ERR value is not an integer or out of range");
    expect_int(&conns[4], "APPEND d", 4);
    expect_text(&conns[5], "GETSET 20", '$', "abcd");
    expect_int(&conns[6], "INCRBY 5", 25);
    expect_int(&conns[7], "INCR", 26);
    final = failure[0] == '\0' ? get_counter("mixed") : -1;
    printf("%-20s final %lld, cas_rounds %" PRIu64 ", cas_groups %" PRIu64
           ", cas_merged_blocks %" PRIu64 "\n",
           "group mixed", final, SUM(cas_rounds) - r0, SUM(cas_groups) - g0,
           SUM(cas_merged_blocks) - m0);
    NOTE_UNLESS(final == 26, "the key reads %lld, not 26", final);
    NOTE_UNLESS((SUM(cas_rounds) - r0 == 2 && SUM(cas_groups) - g0 == 1 &&
                 SUM(cas_merged_blocks) - m0 == 7),
                "%" PRIu64 " rounds, %" PRIu64 " groups of %" PRIu64
                " blocks: not the lone INCR and one group of 7",
                SUM(cas_rounds) - r0, SUM(cas_groups) - g0, SUM(cas_merged_blocks) - m0);
    finish();
}
END_TEST

/* Another writer changes the key between a group's read and its write: the write loses,
 * and the whole group is redone from what that writer left, every reply with it. */
START_TEST(group_conflict)
{
    static const char *const lines[] = {NULL, "INCR race", "INCR race", "INCRBY race 10",
                                        "INCR race"};
    uint32_t shard;
    uint64_t ops0, c0;
    grpc_channel *ch;
    tn_result res;
    int leader;
    long long final;

    start(1, 5, NULL);
    set_key("race", "0");
    shard = route_shard("race", 4, (uint32_t)sides[0].cfg.cluster.total_shards);
    /* the outside writer's channel, connected by a first Put before the race */
    leader = tn_leader(&dn, shard);
    ck_assert_int_gt(leader, 0);
    ch = tn_channel(&dn, leader);
    tn_put(ch, "race", "0", NULL, NULL, 0, &res);
    ck_assert_msg(res.status == GRPC_STATUS_OK, "the warm-up Put: %s", res.details);
    tn_result_free(&res);
    ops0 = kv_ops();
    c0 = SUM(cas_conflicts);
    queue_group("INCR race", lines, 5, 1000);
    /* the lone INCR's read and write, then the group's read and write: its Put held. The
     * write is started, not yet at the devnode: 400 ms for it to get there (and be held
     * there 1 s), then the latency goes, the outside Put lands at once and the held write
     * meets its new version (clearing sooner let the write arrive after the clear and win) */
    if (failure[0] == '\0' && reach_ops(ops0 + 4)) {
        run_for(400);
        tn_control_ok(&dn, "latency 0 0");
        tn_put(ch, "race", "100", NULL, NULL, 0, &res);
        ck_assert_msg(res.status == GRPC_STATUS_OK, "the outside Put: %s", res.details);
        tn_result_free(&res);
    }
    grpc_channel_destroy(ch);
    expect_int(&conns[0], "INCR (alone)", 1);
    expect_int(&conns[1], "INCR", 101);
    expect_int(&conns[2], "INCR", 102);
    expect_int(&conns[3], "INCRBY 10", 112);
    expect_int(&conns[4], "INCR", 113);
    final = failure[0] == '\0' ? get_counter("race") : -1;
    printf("%-20s final %lld, cas_conflicts %" PRIu64 "\n", "group conflict", final,
           SUM(cas_conflicts) - c0);
    NOTE_UNLESS(final == 113, "the key reads %lld, not 113", final);
    NOTE_UNLESS(SUM(cas_conflicts) - c0 == 1, "%" PRIu64 " conflicts, not the one of the group",
                SUM(cas_conflicts) - c0);
    finish();
}
END_TEST

/* A client that goes away while its block is in a group: the others are answered as if it
 * had never sent it. */
START_TEST(group_client_gone)
{
    static const char *const lines[] = {NULL,        "INCR gone", "INCR gone",
                                        "INCR gone", "INCR gone", "INCR gone"};
    uint64_t ops0;
    long long final;

    start(1, 6, NULL);
    set_key("gone", "0");
    ops0 = kv_ops();
    queue_group("INCR gone", lines, 6, 1000);
    /* the lone INCR's read and write, then the group's read, held */
    if (failure[0] == '\0' && reach_ops(ops0 + 3)) {
        kill_conn(3);
        tn_control_ok(&dn, "latency 0 0");
    }
    expect_int(&conns[0], "INCR (alone)", 1);
    expect_int(&conns[1], "INCR", 2);
    expect_int(&conns[2], "INCR", 3);
    expect_int(&conns[4], "INCR", 4);
    expect_int(&conns[5], "INCR", 5);
    final = failure[0] == '\0' ? get_counter("gone") : -1;
    NOTE_UNLESS(final == 5, "the key reads %lld, not 5", final);
    NOTE_UNLESS(SUM(cas_merged_blocks) == 5, "%" PRIu64 " blocks merged, not the group of 5",
                SUM(cas_merged_blocks));
    finish();
}
END_TEST

/*
 * Each block of a group keeps its own deadline (cluster.timeout_ms 1750, every call 500 ms):
 * conn 1's INCR, queued at once, is answered TIMEOUT when its 1750 ms are up, in the middle
 * of its group's write; conn 2's, queued 600 ms later, gets that write's outcome. The write
 * still carries conn 1's INCR, as a lone INCR's write may land after its TIMEOUT.
 */
static const char *const short_deadline[] = {"cluster.timeout_ms", "1750", NULL};

START_TEST(group_deadlines)
{
    uint64_t r0, w0;
    int64_t t1 = 0, t2 = 0;
    bool never = false;
    long long final;

    start(1, 3, short_deadline);
    set_key("dl", "0");
    r0 = SUM(cas_rounds);
    w0 = SUM(cas_waits);
    tn_control_ok(&dn, "latency 0 500");
    send_lone(&conns[0], "INCR dl");
    if (REACH(cas_rounds, r0 + 1)) {
        t1 = clock_now_ms();
        send_lone(&conns[1], "INCR dl");
    }
    if (REACH(cas_waits, w0 + 1)) {
        run_until(&never, 600);
        t2 = clock_now_ms();
        send_lone(&conns[2], "INCR dl");
    }
    REACH(cas_waits, w0 + 2);
    expect_int(&conns[0], "INCR (alone)", 1);
    expect_text(&conns[1], "INCR", '-', "TIMEOUT");
    expect_int(&conns[2], "INCR", 3);
    if (failure[0] == '\0')
        printf("%-20s conn 1 answered after %" PRId64 " ms, conn 2 after %" PRId64 " ms\n",
               "group deadlines", conns[1].lone_at - t1, conns[2].lone_at - t2);
    NOTE_UNLESS(conns[1].lone_at - t1 <= 1750 + 150,
                "conn 1's TIMEOUT came %" PRId64 " ms after its INCR, past its 1750 ms",
                conns[1].lone_at - t1);
    NOTE_UNLESS(conns[1].lone_at < conns[2].lone_at,
                "conn 1's TIMEOUT waited for its group's write");
    tn_control_ok(&dn, "latency 0 0");
    final = failure[0] == '\0' ? get_counter("dl") : -1;
    NOTE_UNLESS(final == 3, "the key reads %lld, not 3", final);
    finish();
}
END_TEST

/* An EXEC with a WATCH runs alone, its place in the queue kept: the INCR before it is a
 * group of one, and so is the INCR after it; its watch sees the key changed by the blocks
 * before it and answers a null array. */
START_TEST(group_watch_alone)
{
    static const char *const lines[] = {NULL, "INCR w", "EXEC", "INCR w"};
    uint64_t r0, m0, a0;
    rval v;

    start(1, 4, NULL);
    set_key("w", "0");
    v = lone(&conns[2], "WATCH w");
    NOTE_UNLESS(v.type == '+', "WATCH: reply '%c%s'", v.type, v.text);
    v = lone(&conns[2], "MULTI");
    NOTE_UNLESS(v.type == '+', "MULTI: reply '%c%s'", v.type, v.text);
    v = lone(&conns[2], "INCR w");
    NOTE_UNLESS(v.type == '+' && strcmp(v.text, "QUEUED") == 0, "INCR in MULTI: reply '%c%s'",
                v.type, v.text);
    r0 = SUM(cas_rounds);
    m0 = SUM(cas_merged_blocks);
    a0 = SUM(cas_watch_aborts);
    queue_group("INCR w", lines, 4, 300);
    if (failure[0] == '\0')
        tn_control_ok(&dn, "latency 0 0");
    expect_int(&conns[0], "INCR (alone)", 1);
    expect_int(&conns[1], "INCR", 2);
    if (wait_lone(&conns[2], "EXEC"))
        NOTE_UNLESS(conns[2].lone_reply.type == '*' && conns[2].lone_reply.n == -1,
                    "EXEC of a changed watched key: reply '%c' %lld, not a null array",
                    conns[2].lone_reply.type, conns[2].lone_reply.n);
    expect_int(&conns[3], "INCR", 3);
    NOTE_UNLESS((SUM(cas_rounds) - r0 == 4 && SUM(cas_merged_blocks) == m0 &&
                 SUM(cas_watch_aborts) - a0 == 1),
                "%" PRIu64 " rounds, %" PRIu64 " blocks merged, %" PRIu64
                " watch aborts: not four blocks alone and one abort",
                SUM(cas_rounds) - r0, SUM(cas_merged_blocks) - m0, SUM(cas_watch_aborts) - a0);
    finish();
}
END_TEST

/* The group's write fails, not for a version: every block of the group gets that error,
 * and none of their commands is written. */
START_TEST(group_write_fails)
{
    static const char *const lines[] = {NULL, "INCR wf", "INCRBY wf 5", "INCR wf"};
    uint64_t ops0;
    long long final;

    start(1, 4, NULL);
    set_key("wf", "0");
    ops0 = kv_ops();
    queue_group("INCR wf", lines, 4, 300);
    /* the lone INCR's read and write, then the group's read and write: its Put held */
    if (failure[0] == '\0' && reach_ops(ops0 + 4)) {
        tn_control_ok(&dn, "fail 0 1 INVALID_ARGUMENT");
        tn_control_ok(&dn, "latency 0 0");
    }
    expect_int(&conns[0], "INCR (alone)", 1);
    for (int i = 1; i < 4; i++) {
        expect_text(&conns[i], lines[i], '-', "");
        NOTE_UNLESS(strcmp(conns[i].lone_reply.text, conns[1].lone_reply.text) == 0 &&
                        strstr(conns[i].lone_reply.text, "injected fault") != NULL,
                    "%s on conn %d: '%s', not the group's write's error ('%s')", lines[i], i,
                    conns[i].lone_reply.text, conns[1].lone_reply.text);
    }
    if (failure[0] == '\0') {
        printf("%-20s every block answered '-%s'\n", "group write fails", conns[1].lone_reply.text);
        tn_control_ok(&dn, "clear");
    }
    final = failure[0] == '\0' ? get_counter("wf") : -1;
    NOTE_UNLESS(final == 1, "the key reads %lld, not 1 (the lone INCR only)", final);
    finish();
}
END_TEST

/* The key's value read through connection 0 is missing: GET answers nil. */
static void expect_missing(const char *key)
{
    char line[128];
    rval v;

    snprintf(line, sizeof(line), "GET %s", key);
    v = lone(&conns[0], line);
    EXPECT(failure[0] != '\0' || (v.type == '$' && v.n == -1), "%s: reply '%c' %lld '%s', not nil",
           line, v.type, v.n, v.text);
}

/*
 * TTLs in a group are as if each block had run alone: a block after one that set a TTL does
 * not know it (NoriKV would not have told it: TTL answers its error), the group writes the
 * TTL of the last block that changed the key (the SET's PX 1500, the blocks after it only
 * reading), and a block that rewrites the value without a TTL drops it (INCR after the SET).
 */
START_TEST(group_ttl)
{
    static const char *const kept[] = {NULL, "SET t1 7 PX 1500 GET", "TTL t1", "STRLEN t1"};
    static const char *const dropped[] = {NULL, "SET t2 7 PX 1500 GET", "INCR t2"};

    start(1, 4, NULL);
    set_key("t1", "5");
    set_key("t2", "5");
    queue_group("INCR t1", kept, 4, 300);
    if (failure[0] == '\0')
        tn_control_ok(&dn, "latency 0 0");
    expect_int(&conns[0], "INCR t1 (alone)", 6);
    expect_text(&conns[1], kept[1], '$', "6");
    expect_text(&conns[2], kept[2], '-', "ERR TTL is not supported");
    expect_int(&conns[3], kept[3], 1);
    queue_group("INCR t2", dropped, 3, 300);
    if (failure[0] == '\0')
        tn_control_ok(&dn, "latency 0 0");
    expect_int(&conns[0], "INCR t2 (alone)", 6);
    expect_text(&conns[1], dropped[1], '$', "6");
    expect_int(&conns[2], dropped[2], 8);
    NOTE_UNLESS(SUM(cas_groups) == 2, "%" PRIu64 " groups, not 2", SUM(cas_groups));
    run_for(2000);
    expect_missing("t1");
    NOTE_UNLESS(get_counter("t2") == 8, "t2 is not 8 two seconds after its group");
    finish();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cas");
    TCase *tc = tcase_create("compare-and-swap under load");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, plain);
    tcase_add_test(tc, leader_moves);
    tcase_add_test(tc, lost_replies);
    tcase_add_test(tc, two_sidecars);
    tcase_add_test(tc, multi_one_key);
    tcase_add_test(tc, hot_key);
    tcase_add_test(tc, group_mixed);
    tcase_add_test(tc, group_conflict);
    tcase_add_test(tc, group_client_gone);
    tcase_add_test(tc, group_deadlines);
    tcase_add_test(tc, group_watch_alone);
    tcase_add_test(tc, group_write_fails);
    tcase_add_test(tc, group_ttl);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

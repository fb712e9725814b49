/*
 * fuzz_cmd: libFuzzer target for the command layer. Random argument vectors go through the
 * real scheduler and command table (client.c, cmd*.c, tx.c, cas.c, info.c) on one client,
 * over a socketpair as an application would send them, against the fake cluster client
 * (tests/unit/fake_kv.c, which serves no Vector calls: a vector command is sent as PING),
 * answering from its store by itself or completed by the input in any order with any
 * outcome. Every request must get exactly one reply, well-formed RESP (a (P)(UN)SUBSCRIBE
 * one per channel; none once CLIENT REPLY may have silenced some: at most one then), unless
 * the connection closed (QUIT, CLIENT KILL); what the client holds
 * must stay within reply_backlog plus max_reply; each request must be served within half a
 * second; once idle the client must hold nothing and have nothing in flight.
 *
 * Input: byte 0 chooses the settings (bit 0: the input completes the operations; bit 1:
 * small reply_backlog, max_reply and max_pending; bit 2: HELLO 3 first; bit 3: ordering by
 * key). Then requests,
 * each a count byte (count % 8 words after the command's name), a command byte (an entry of the
 * command table, a subcommand as two words; 0xff: the name follows as a length byte and that many
 * bytes, "CLIENT|KILL" for a subcommand, which keeps the corpus valid when the table changes) and
 * per further word a byte: below 0x80 a word of a small dictionary, otherwise a literal of (byte &
 * 31) bytes from the input. With bit 0 set, each request is followed by a byte n and n % 8 bytes
 * that complete as many operations (which one, counting back from the newest outstanding: b >> 2;
 * how, b & 3: failed, missing or done, found); bytes after the last request (an incomplete one)
 * complete what is left the same way, and what is still out then is answered as missing.
 *
 * make check runs it once on each input of tests/fuzz/corpus/cmd/ (tests/fuzz/replay.c);
 * ./configure --enable-fuzzing CC=clang builds it with libFuzzer and make fuzz-cmd fuzzes a
 * copy of that corpus. tests/fuzz/make-cmd-corpus.py writes the corpus.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "client.h"
#include "clock.h"
#include "cmd.h"
#include "conf.h"
#include "fake_kv.h"
#include "sidecar.h"
#include "stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MAX_REQUESTS 256
#define MAX_WORDS    8
/* the most one request may take, parsed, run and answered (generous for a sanitizer build
 * on a busy machine; a quadratic path over a small input takes seconds) */
#define REQUEST_BUDGET_US 500000

static const char *const words[] = {
    "k0",       "k1",        "k2",
    "",         "0",         "1",
    "-1",       "10",        "9223372036854775807",
    "EX",       "PX",        "XX",
    "NX",       "GET",       "KEEPTTL",
    "EXAT",     "ID",        "SKIPME",
    "no",       "yes",       "*",
    "*[",       "all",       "default",
    "server",   "3",         "2",
    "AUTH",     "SETNAME",   "ADDR",
    "TTL",      "IFMATCH",   "CONSISTENCY",
    "stale_ok", "1.5",       "abc",
    "MULTI",    "EXEC",      "DISCARD",
    "WATCH",    "INCR",      "QUIT",
    "LIB-NAME", "sidecar.*",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

typedef struct input {
    const uint8_t *p;
    size_t left;
} input;

static int next_byte(input *in)
{
    if (in->left == 0)
        return -1;
    in->left--;
    return *in->p++;
}

/* The output, appended as read. */
typedef struct wire {
    char *buf;
    size_t len, cap;
    bool eof;
} wire;

static sidecar S;
static int peer = -1;
static wire out;
static bool pubsub_sent;    /* (P)(UN)SUBSCRIBE answer once per channel: one reply or more */
static bool reply_off_sent; /* CLIENT REPLY OFF or SKIP silence replies: one reply or none */

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    client_flush_all(arg);
}

static client *the_client(void)
{
    return LIST_FIRST(&S.clients);
}

static void read_wire(void)
{
    for (;;) {
        ssize_t n;
        if (out.cap - out.len < 65536) {
            out.cap = out.cap * 2 + 65536;
            out.buf = realloc(out.buf, out.cap);
            CHECK(out.buf != NULL);
        }
        n = read(peer, out.buf + out.len, out.cap - out.len);
        if (n > 0) {
            out.len += (size_t)n;
            continue;
        }
        if (n == 0)
            out.eof = true;
        else
            CHECK(errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNRESET);
        return;
    }
}

/* What a client holds stays within reply_backlog plus one request's worth (max_reply). */
static void check_bounds(void)
{
    const client *c = the_client();
    size_t replies;

    if (c == NULL)
        return;
    replies = c->hold[HOLD_DONE] + client_output_len(c);
    CHECK(replies <= (size_t)S.cfg.sidecar.reply_backlog + (size_t)S.cfg.sidecar.max_reply + 64);
}

static void pump(void)
{
    for (int i = 0; i < 4; i++) {
        event_base_loop(S.base, EVLOOP_NONBLOCK);
        check_bounds();
        read_wire();
    }
}

static void write_all(const char *buf, size_t len)
{
    for (int spins = 0; len > 0 && !out.eof; spins++) {
        ssize_t n = write(peer, buf, len);
        CHECK(spins < 100000);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
        } else {
            CHECK(errno == EAGAIN || errno == EPIPE || errno == ECONNRESET);
            if (errno != EAGAIN)
                return;
            pump();
        }
    }
}

/* One RESP value at *pos of the wire; false if it is incomplete. Aborts on a malformed one. */
static bool skip_value(size_t *pos, int depth)
{
    const char *p = out.buf + *pos, *end = out.buf + out.len, *nl;
    long long n;

    CHECK(depth < 16);
    if (p >= end)
        return false;
    nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL)
        return false;
    CHECK(nl > p + 1 && nl[-1] == '\r');
    *pos = (size_t)(nl + 1 - out.buf);
    switch (p[0]) {
    case '+':
    case '-':
    case ':':
    case '_':
    case '#':
    case ',':
        return true;
    case '$':
    case '=':
    case '!':
        n = strtoll(p + 1, NULL, 10);
        if (n < 0)
            return true;
        if ((size_t)(end - (nl + 1)) < (size_t)n + 2)
            return false;
        CHECK(nl[1 + n] == '\r' && nl[2 + n] == '\n');
        *pos += (size_t)n + 2;
        return true;
    case '*':
    case '~':
    case '>':
    case '%':
        n = strtoll(p + 1, NULL, 10);
        if (p[0] == '%')
            n *= 2;
        for (long long i = 0; i < n; i++)
            if (!skip_value(pos, depth + 1))
                return false;
        return true;
    default:
        CHECK(!"a reply of an unknown type");
        return false;
    }
}

static long count_replies(void)
{
    size_t pos = 0;
    long n = 0;

    while (pos < out.len) {
        size_t at = pos;
        if (!skip_value(&pos, 0)) {
            CHECK(!out.eof || at == out.len); /* a closed connection ends on a whole reply */
            break;
        }
        n++;
    }
    return n;
}

/* Completes up to max outstanding operations in the order and with the outcomes the input
 * says. */
static void complete_some(input *in, long max)
{
    int b;

    while (max-- > 0 && fake_kv_outstanding() > 0 && (b = next_byte(in)) >= 0) {
        int first = fake_kv_count() - 1, n;
        fake_op *op = NULL;
        /* the (b >> 2)-th outstanding operation, counting back from the newest */
        for (int skip = (b >> 2) % fake_kv_outstanding(); first >= 0; first--) {
            op = fake_kv_op(first);
            if (!op->done && skip-- == 0)
                break;
        }
        CHECK(op != NULL && !op->done);
        n = op->n;
        switch (b & 3) {
        case 0:
            fake_kv_fail(n, KV_ERR_UNAVAILABLE, "fuzz");
            break;
        case 1:
            if (op->kind == FAKE_GET)
                fake_kv_missing(n);
            else
                fake_kv_ok(n);
            break;
        default:
            if (op->kind == FAKE_GET)
                fake_kv_found(n, (b & 1) ? "12" : "value");
            else
                fake_kv_ok(n);
            break;
        }
        pump();
    }
}

static size_t add_word(char *buf, size_t cap, size_t len, const char *w, size_t n)
{
    int h = snprintf(buf + len, cap - len, "$%zu\r\n", n);

    CHECK(h > 0 && len + (size_t)h + n + 2 < cap);
    len += (size_t)h;
    memcpy(buf + len, w, n);
    len += n;
    memcpy(buf + len, "\r\n", 2);
    return len + 2;
}

/* The vector commands: the fake cluster client does not serve Vector calls. */
static bool vector_command(const char *name)
{
    for (size_t i = 0; i < cmd_count(); i++) {
        const cmd_def *d = cmd_at(i);
        if (strcasecmp(d->name, name) == 0)
            return strcmp(d->group, "vector_set") == 0 || strncasecmp(name, "NORI.V", 6) == 0;
    }
    return false;
}

/* Encodes the next request of the input into buf; 0 when the input has no more. */
static size_t next_request(input *in, char *buf, size_t cap)
{
    int count = next_byte(in), cmdb = next_byte(in), nwords;
    const char *name, *bar;
    char upper[64], literal[64];
    size_t len;

    if (count < 0 || cmdb < 0)
        return 0;
    if (cmdb == 0xff) {
        size_t n = (size_t)(next_byte(in) & 63);
        if (n > in->left)
            n = in->left;
        memcpy(literal, in->p, n);
        literal[n] = '\0';
        in->p += n;
        in->left -= n;
        name = literal;
    } else {
        name = cmd_at((size_t)cmdb % cmd_count())->name;
    }
    if (vector_command(name))
        name = "PING";
    bar = strchr(name, '|');
    if (strcasestr(name, "SUBSCRIBE") != NULL)
        pubsub_sent = true;
    nwords = 1 + count % MAX_WORDS + (bar != NULL);
    len = (size_t)snprintf(buf, cap, "*%d\r\n", nwords);
    if (bar != NULL) {
        snprintf(upper, sizeof(upper), "%.*s", (int)(bar - name), name);
        len = add_word(buf, cap, len, upper, strlen(upper));
        len = add_word(buf, cap, len, bar + 1, strlen(bar + 1));
    } else {
        len = add_word(buf, cap, len, name, strlen(name));
    }
    for (int i = 1 + (bar != NULL); i < nwords; i++) {
        int b = next_byte(in);
        if (b < 0x80) {
            const char *w = words[(size_t)(b < 0 ? 0 : b) % NWORDS];
            len = add_word(buf, cap, len, w, strlen(w));
        } else {
            size_t n = (size_t)(b & 31);
            if (n > in->left)
                n = in->left;
            len = add_word(buf, cap, len, (const char *)in->p, n);
            in->p += n;
            in->left -= n;
        }
    }
    if (strcasestr(buf, "\r\nCLIENT\r\n") != NULL && strcasestr(buf, "\r\nREPLY\r\n") != NULL)
        reply_off_sent = true;
    return len;
}

static void setup(unsigned flags)
{
    char err[256];
    int sv[2];

    memset(&S, 0, sizeof(S));
    CHECK(conf_init(&S.cfg) == 0);
    if (flags & 2) {
        CHECK(conf_set(&S.cfg, "sidecar.reply_backlog", "64k", err, sizeof(err)) == 0);
        CHECK(conf_set(&S.cfg, "sidecar.max_reply", "64k", err, sizeof(err)) == 0);
        CHECK(conf_set(&S.cfg, "sidecar.max_pending", "3", err, sizeof(err)) == 0);
    }
    if (flags & 8)
        CHECK(conf_set(&S.cfg, "sidecar.ordering", "key", err, sizeof(err)) == 0);
    S.base = event_base_new();
    CHECK(S.base != NULL);
    stats_init(&S.st, cmd_count());
    S.flush_ev = event_new(S.base, -1, 0, on_flush, &S);
    CHECK(S.flush_ev != NULL);
    S.started_ms = clock_now_ms();
    fake_kv_reset(S.base);
    fake_kv_set_mode_all((flags & 1) ? FAKE_MANUAL : FAKE_LOOP);
    S.kv = fake_kv_client();
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    CHECK(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
    client_accept(&S, sv[0], "/tmp/fuzz_cmd.sock:0", true);
    peer = sv[1];
    memset(&out, 0, sizeof(out));
    pubsub_sent = false;
    reply_off_sent = false;
}

static void teardown(void)
{
    while (!LIST_EMPTY(&S.clients))
        client_close(LIST_FIRST(&S.clients));
    client_reap(&S);
    client_mem_release(&S);
    CHECK(fake_kv_stale_detaches() == 0);
    fake_kv_free();
    event_free(S.flush_ev);
    stats_free(&S.st);
    event_base_free(S.base);
    conf_free(&S.cfg);
    close(peer);
    peer = -1;
    free(out.buf);
    memset(&out, 0, sizeof(out));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[MAX_WORDS * 64 + 256];
    input in = {data, size};
    unsigned flags;
    long sent = 0;
    size_t len;

    if (size < 1)
        return 0;
    signal(SIGPIPE, SIG_IGN);
    flags = (unsigned)next_byte(&in);
    setup(flags);
    if (flags & 4) {
        write_all("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n", 22);
        sent++;
    }
    while (sent < MAX_REQUESTS && (len = next_request(&in, buf, sizeof(buf))) > 0) {
        int64_t t0 = clock_now_us();
        write_all(buf, len);
        sent++;
        pump();
        /* a request of at most 8 words of 31 bytes runs in far less: one taking longer is
         * work without a budget on the loop */
        CHECK(clock_now_us() - t0 < REQUEST_BUDGET_US);
        if (flags & 1)
            complete_some(&in, next_byte(&in) & 7);
    }
    if (flags & 1)
        complete_some(&in, LONG_MAX);
    /* Whatever is still out completes: from the store, or as the input said, then missing. */
    for (int rounds = 0; rounds < 10000 && the_client() != NULL; rounds++) {
        pump();
        if (the_client() == NULL) /* closed: QUIT, CLIENT KILL, EOF after the last reply */
            break;
        if (fake_kv_outstanding() == 0 && the_client()->nreqs == 0 &&
            client_output_len(the_client()) == 0)
            break;
        for (int n = 0; n < fake_kv_count(); n++)
            if (!fake_kv_op(n)->done && fake_kv_op(n)->mode == FAKE_MANUAL)
                fake_kv_missing(n);
    }
    pump();
    if (the_client() != NULL) {
        const client *c = the_client();
        CHECK(c->nreqs == 0);
        CHECK(c->hold[HOLD_ARGS] == 0 && c->hold[HOLD_DONE] == 0 && c->hold[HOLD_RESERVED] == 0);
        CHECK(client_output_len(c) == 0);
        CHECK(fake_kv_outstanding() == 0);
        if (reply_off_sent)
            CHECK(pubsub_sent || count_replies() <= sent);
        else
            CHECK(pubsub_sent ? count_replies() >= sent : count_replies() == sent);
    } else {
        CHECK(pubsub_sent || count_replies() <= sent);
    }
    teardown();
    return 0;
}

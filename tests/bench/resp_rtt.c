/*
 * resp-rtt: the round trip of one RESP command at a time over a Unix socket, as a lean
 * client sees it (a write, then reads until the whole reply is in), for the benchmark's
 * latency at 1 in flight. redis-benchmark spends tens of microseconds of its own on each
 * request; norikv-cli's bench loop, the direct client it is compared with, about one.
 *
 * Usage: resp-rtt SOCKET COUNT COMMAND [ARG ...]
 * Runs COUNT/10 warm-up round trips, then COUNT measured ones, and prints
 * "rtt: p50_us=... p90_us=... p99_us=... replies=COUNT". Exits 1 on an error reply or a
 * broken connection. Replies understood: simple strings, errors, integers and bulk
 * strings (nil included), which is what GET, SET and PING answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (1 << 20)

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;

    return x < y ? -1 : x > y;
}

static long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* The length of the complete reply at the start of buf[0..len), 0 when more is needed,
 * -1 when it is not one this tool understands or an error. */
static long reply_length(const char *buf, size_t len)
{
    const char *crlf = memchr(buf, '\n', len);
    long head, bulk;

    if (crlf == NULL)
        return 0;
    head = crlf - buf + 1;
    switch (buf[0]) {
    case '+':
    case ':':
        return head;
    case '$':
        bulk = strtol(buf + 1, NULL, 10);
        if (bulk < 0)
            return head;
        return (size_t)(head + bulk + 2) <= len ? head + bulk + 2 : 0;
    default:
        fprintf(stderr, "resp-rtt: reply %.*s\n", (int)(head > 200 ? 200 : head), buf);
        return -1;
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char *req, *buf;
    size_t rlen = 0, cap = 64;
    long *took;
    int fd, count, warm;

    if (argc < 4 || (count = atoi(argv[2])) < 1) {
        fprintf(stderr, "usage: resp-rtt SOCKET COUNT COMMAND [ARG ...]\n");
        return 2;
    }
    for (int i = 3; i < argc; i++)
        cap += strlen(argv[i]) + 32;
    req = malloc(cap);
    buf = malloc(BUF_SIZE);
    took = malloc(sizeof(*took) * (size_t)count);
    if (req == NULL || buf == NULL || took == NULL)
        return 1;
    rlen = (size_t)snprintf(req, cap, "*%d\r\n", argc - 3);
    for (int i = 3; i < argc; i++)
        rlen +=
            (size_t)snprintf(req + rlen, cap - rlen, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "resp-rtt: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    warm = count / 10;
    for (int i = 0; i < warm + count; i++) {
        size_t have = 0;
        long t0 = now_ns(), n;

        if (write(fd, req, rlen) != (ssize_t)rlen) {
            fprintf(stderr, "resp-rtt: write: %s\n", strerror(errno));
            return 1;
        }
        while ((n = reply_length(buf, have)) == 0) {
            ssize_t got = have < BUF_SIZE ? read(fd, buf + have, BUF_SIZE - have) : 0;
            if (got <= 0) {
                fprintf(stderr, "resp-rtt: connection closed or reply too big\n");
                return 1;
            }
            have += (size_t)got;
        }
        if (n < 0 || (size_t)n != have) {
            fprintf(stderr, "resp-rtt: %s\n", n < 0 ? "unexpected reply" : "more than one reply");
            return 1;
        }
        if (i >= warm)
            took[i - warm] = now_ns() - t0;
    }
    qsort(took, (size_t)count, sizeof(*took), cmp_long);
    printf("rtt: p50_us=%.1f p90_us=%.1f p99_us=%.1f replies=%d\n", took[count / 2] / 1e3,
           took[count * 9 / 10] / 1e3, took[count * 99 / 100] / 1e3, count);
    close(fd);
    free(req);
    free(buf);
    free(took);
    return 0;
}

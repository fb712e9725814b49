/*
 * listen: the listening sockets of the RESP listeners and the metrics one, made one way:
 * the Unix socket's path claimed as -t checks it, TCP bound as -t binds it, and one
 * policy for failed accepts, counted and logged for every listener together. Returns
 * sockets to their callers and keeps none; never accepts a connection.
 */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

static void unix_addr(const char *path, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", path);
}

listen_path listen_path_check(const char *path)
{
    struct sockaddr_un sun;
    struct stat st;
    bool served;
    int fd;

    if (lstat(path, &st) != 0)
        return LISTEN_PATH_FREE;
    if (!S_ISSOCK(st.st_mode))
        return LISTEN_PATH_NOT_SOCKET;
    unix_addr(path, &sun);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return LISTEN_PATH_STALE; /* no descriptor to ask with: binding will tell */
    served = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
    close(fd);
    return served ? LISTEN_PATH_SERVED : LISTEN_PATH_STALE;
}

int listen_unix(const char *path, mode_t mode, int backlog, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    mode_t old;
    int fd;

    switch (listen_path_check(path)) {
    case LISTEN_PATH_NOT_SOCKET:
        snprintf(err, errlen, "%s exists and is not a socket: not replacing it", path);
        return -1;
    case LISTEN_PATH_SERVED:
        snprintf(err, errlen, "%s is served by another process: not taking it over", path);
        return -1;
    case LISTEN_PATH_STALE:
        if (unlink(path) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "cannot remove %s: %s", path, strerror(errno));
            return -1;
        }
        break;
    case LISTEN_PATH_FREE:
        break;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s: socket: %s", path, strerror(errno));
        return -1;
    }
    unix_addr(path, &sun);
    old = umask((mode_t)(~mode & 0777));
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        umask(old);
        snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    umask(old);
    if (listen(fd, backlog) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    return fd;
}

bool listen_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    char bare[INET6_ADDRSTRLEN];
    size_t n = strlen(host);
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        if (n - 2 >= sizeof(bare))
            return false;
        memcpy(bare, host + 1, n - 2);
        bare[n - 2] = '\0';
        host = bare;
    }
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        *len = sizeof(*in);
        return true;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*in6);
        return true;
    }
    return false;
}

int listen_tcp(const struct sockaddr *sa, socklen_t len, int backlog, const char *where, char *err,
               size_t errlen)
{
    int one = 1, zero = 0;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        goto fail;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) != 0)
        goto fail;
    if (sa->sa_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) != 0)
        goto fail;
    if (bind(fd, sa, len) != 0 || listen(fd, backlog) != 0)
        goto fail;
    return fd;
fail:
    snprintf(err, errlen, "cannot listen on %s: %s", where, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

bool listen_exhausted(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

bool listen_accept_failed(sidecar *s, const char *what, int err)
{
    int64_t now = clock_now_ms();
    bool exhausted = listen_exhausted(err);

    if (exhausted)
        s->st.accept_pauses++;
    s->accept_unlogged++;
    if (s->accept_logged_ms != 0 && now - s->accept_logged_ms < LOG_LIMIT_MS)
        return exhausted;
    if (exhausted)
        log_warning("accept failed on the %s listener: %s (%llu time%s since the last report); "
                    "accepting pauses and retries every %d ms",
                    what, strerror(err), (unsigned long long)s->accept_unlogged,
                    s->accept_unlogged == 1 ? "" : "s", LISTEN_RETRY_MS);
    else
        log_warning("accept failed on the %s listener: %s (%llu time%s since the last report)",
                    what, strerror(err), (unsigned long long)s->accept_unlogged,
                    s->accept_unlogged == 1 ? "" : "s");
    s->accept_logged_ms = now;
    s->accept_unlogged = 0;
    return exhausted;
}

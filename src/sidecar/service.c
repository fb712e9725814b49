/*
 * service: the checks of -t, the socket's group and systemd's watchdog. The checks look
 * at the system as the daemon would at its start (the same user, the same paths) and
 * leave it as they found it: a port is bound and closed at once, nothing is created.
 * Owns no state; the watchdog timer belongs to whoever asked for it.
 */
#include "service.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "addr.h"
#include "listen.h"
#include "parse.h"

#define SERVICE_GROUP_BUF 16384

int service_group(const char *group, gid_t *gid, char *err, size_t errlen)
{
    struct group gr, *found = NULL;
    char *buf;
    long long n;
    int rc;

    if (group[0] >= '0' && group[0] <= '9') {
        if (!parse_ll(group, 0, (long long)UINT32_MAX - 1, &n)) {
            snprintf(err, errlen, "group '%s' is not a valid group number", group);
            return -1;
        }
        *gid = (gid_t)n;
        return 0;
    }
    buf = malloc(SERVICE_GROUP_BUF);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory looking up group '%s'", group);
        return -1;
    }
    rc = getgrnam_r(group, &gr, buf, SERVICE_GROUP_BUF, &found);
    if (found != NULL)
        *gid = gr.gr_gid;
    free(buf);
    if (found == NULL) {
        if (rc != 0)
            snprintf(err, errlen, "cannot look up group '%s': %s", group, strerror(rc));
        else
            snprintf(err, errlen, "no group named '%s' on this system", group);
        return -1;
    }
    return 0;
}

int service_chgrp_socket(const char *path, const char *group, char *err, size_t errlen)
{
    gid_t gid;

    if (service_group(group, &gid, err, errlen) != 0)
        return -1;
    if (chown(path, (uid_t)-1, gid) != 0) {
        snprintf(err, errlen, "cannot give %s to group %s: %s", path, group, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- -t ----------------------------------------------------------------------------- */

static void problem(FILE *out, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(FILE *out, int *n, const char *fmt, ...)
{
    va_list ap;

    fputs("norikv-sidecar: ", out);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputs("\n", out);
    (*n)++;
}

static bool member_of(gid_t gid)
{
    gid_t groups[NGROUPS_MAX];
    int n;

    if (geteuid() == 0 || getegid() == gid)
        return true;
    n = getgroups(NGROUPS_MAX, groups);
    for (int i = 0; i < n; i++) {
        if (groups[i] == gid)
            return true;
    }
    return false;
}

/* A Unix socket the sidecar would create at path: its directory, and what is there now. */
static void check_unix_path(const char *path, const char *what, FILE *out, int *n)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    struct stat st;

    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    if (stat(dir, &st) != 0) {
        problem(out, n,
                "%s: directory %s: %s (create it, or let the unit's RuntimeDirectory= do it)", what,
                dir, strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        problem(out, n, "%s: %s is not a directory", what, dir);
        return;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        problem(out, n, "%s: cannot create a socket in %s as uid %u: %s", what, dir,
                (unsigned)geteuid(), strerror(errno));
        return;
    }
    switch (listen_path_check(path)) {
    case LISTEN_PATH_NOT_SOCKET:
        problem(out, n, "%s: %s exists and is not a socket", what, path);
        break;
    case LISTEN_PATH_SERVED:
        problem(out, n, "%s: %s is served by another process (a sidecar already running?)", what,
                path);
        break;
    case LISTEN_PATH_FREE:
    case LISTEN_PATH_STALE:
        break;
    }
}

static void check_group(const conf *c, FILE *out, int *n)
{
    char err[256];
    gid_t gid;

    if (c->sidecar.unix_group[0] == '\0')
        return;
    if (service_group(c->sidecar.unix_group, &gid, err, sizeof(err)) != 0) {
        problem(out, n, "sidecar.unix_group: %s", err);
        return;
    }
    if (!member_of(gid))
        problem(out, n,
                "sidecar.unix_group: uid %u is not a member of group %s, so it cannot give the "
                "socket to it",
                (unsigned)geteuid(), c->sidecar.unix_group);
}

/* Binds the address as the listener will (listen.h) and lets it go. */
static void check_bind(const struct sockaddr *sa, socklen_t len, const char *what,
                       const char *where, FILE *out, int *n)
{
    char err[256];
    int fd = listen_tcp(sa, len, 1, where, err, sizeof(err));

    if (fd < 0)
        problem(out, n, "%s: %s", what, err);
    else
        close(fd);
}

static void check_port(const conf *c, FILE *out, int *n)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char where[32];

    if (c->sidecar.port == 0)
        return;
    snprintf(where, sizeof(where), "127.0.0.1:%d", c->sidecar.port);
    listen_addr("127.0.0.1", c->sidecar.port, &ss, &len);
    check_bind((struct sockaddr *)&ss, len, "sidecar.port", where, out, n);
}

/* [metrics] listen: a socket path, or an IP address and port (the configuration has
 * checked that it is one of the two). */
static void check_metrics(const conf *c, FILE *out, int *n)
{
    const char *v = c->metrics.listen;
    struct sockaddr_storage ss;
    socklen_t len;
    char host[128];
    int port;

    if (v[0] == '\0')
        return;
    if (v[0] == '/') {
        check_unix_path(v, "metrics.listen", out, n);
        return;
    }
    if (addr_split(v, strlen(v), host, sizeof(host), &port, NULL, 0) &&
        listen_addr(host, port, &ss, &len))
        check_bind((struct sockaddr *)&ss, len, "metrics.listen", v, out, n);
}

int service_preflight(const conf *c, FILE *out)
{
    int n = 0;

    /* A socket handed over by socket activation is the service manager's business. */
    if (sd_listen_fds(0) <= 0) {
        check_unix_path(c->sidecar.listen, "sidecar.listen", out, &n);
        check_group(c, out, &n);
    }
    check_port(c, out, &n);
    check_metrics(c, out, &n);
    /* The node addresses were parsed with the cluster client's own parser when the
     * configuration was read: a bad one never gets this far. */
    return n;
}

/* ---- watchdog ----------------------------------------------------------------------- */

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    sd_notify(0, "WATCHDOG=1");
}

struct event *service_watchdog_new(struct event_base *base)
{
    uint64_t usec = 0;
    struct timeval half;
    struct event *ev;

    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return NULL;
    usec /= 2;
    half.tv_sec = (time_t)(usec / 1000000);
    half.tv_usec = (suseconds_t)(usec % 1000000);
    ev = event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
    if (ev == NULL || event_add(ev, &half) != 0) {
        if (ev != NULL)
            event_free(ev);
        return NULL;
    }
    sd_notify(0, "WATCHDOG=1");
    return ev;
}

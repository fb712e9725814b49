/*
 * listen: the sockets the sidecar listens on, for the RESP listeners and the metrics one
 * alike: a Unix socket's path claimed (a stale socket replaced; a live one, or anything
 * that is not a socket, refused, as -t says), TCP sockets bound, and what a failed accept
 * means. Owns no socket it returns; never accepts or touches a connection itself.
 */
#ifndef NORIKV_LISTEN_H
#define NORIKV_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include <sys/socket.h>
#include <sys/types.h>

#include "sidecar.h"

/* Out of descriptors, a listener pauses this long before it tries again. */
#define LISTEN_RETRY_MS 100

/* What is at a path a Unix socket is to be made at. */
typedef enum listen_path {
    LISTEN_PATH_FREE,       /* nothing */
    LISTEN_PATH_STALE,      /* a socket nobody serves: replacing it is safe */
    LISTEN_PATH_SERVED,     /* a socket a live process accepts on */
    LISTEN_PATH_NOT_SOCKET, /* a file, a directory, ...: never removed */
} listen_path;

listen_path listen_path_check(const char *path);

/* A listening Unix socket at path, created with no permission bits beyond mode (the umask
 * is narrowed for the bind, so the socket is never wider open than that), after the path
 * was claimed: a stale socket removed, anything else there refused. -1 with err. */
int listen_unix(const char *path, mode_t mode, int backlog, char *err, size_t errlen);

/* host, a numeric IPv4 or IPv6 address (brackets allowed, "[::]"), and port as a socket
 * address; false when host is not an IP address. */
bool listen_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len);

/* A listening TCP socket bound to sa (SO_REUSEADDR); an IPv6 wildcard takes IPv4 too, so
 * that [::] serves every address whatever net.ipv6.bindv6only says. -1 with err, naming
 * the address as where. */
int listen_tcp(const struct sockaddr *sa, socklen_t len, int backlog, const char *where, char *err,
               size_t errlen);

/* Whether err says the process is out of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM): what makes an accept fail again at once, and accepting pause. */
bool listen_exhausted(int err);

/*
 * An accept on one of s's listeners (named by what in the log) failed with err. True when
 * listen_exhausted(err): the connection stays in the listen queue and would wake the
 * listener again at once, so the caller pauses that listener for LISTEN_RETRY_MS, as nginx
 * and Redis do, and this counts the pause (INFO accept_pauses). Logged at most once per
 * LOG_LIMIT_MS for every listener together, with how many failures the line stands for.
 */
bool listen_accept_failed(sidecar *s, const char *what, int err);

#endif

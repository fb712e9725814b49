/*
 * addr: "host:port" and "[v6]:port", the one parser of node addresses. The sidecar's
 * configuration checks with it and the cluster client dials with it, so what the
 * configuration accepts can be dialled. Pure functions.
 */
#ifndef NORIKV_ADDR_H
#define NORIKV_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Splits the n bytes at a (no NUL needed). On success host (hostlen bytes, NUL-terminated)
 * holds the host as written, brackets kept ("[::1]"), and *port the port, 1 to 65535. A
 * host is letters, digits, '.', '-', '_'; an IPv6 address goes in brackets and may carry
 * a %zone. On failure, why (if not NULL) says what is wrong, quoting the address.
 */
bool addr_split(const char *a, size_t n, char *host, size_t hostlen, int *port, char *why,
                size_t whylen);

#endif

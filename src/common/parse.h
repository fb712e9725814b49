/*
 * parse: decimal integers as people write them in configuration, on command lines and in
 * protocols: an optional minus sign, digits, nothing else (no blanks, no plus sign, no
 * trailing junk). One set of rules for every program. Pure functions.
 */
#ifndef NORIKV_PARSE_H
#define NORIKV_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* The whole of s is an integer from lo to hi; false otherwise (*out untouched). */
bool parse_ll(const char *s, long long lo, long long hi, long long *out);
/* s starts with an integer (any in range of long long); *rest is what follows it. */
bool parse_ll_prefix(const char *s, long long *out, const char **rest);
/* Redis' own integer syntax (its string2ll) over n bytes: "0", or an optional '-' and
 * digits without a leading zero, at most 20 characters, in range of long long. What RESP
 * lengths and Redis' integer arguments and values must look like. */
bool parse_redis_ll(const char *s, size_t n, long long *out);

#endif

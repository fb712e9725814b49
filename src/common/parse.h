/*
 * parse: decimal integers as people write them in configuration, on command lines and in
 * protocols: an optional minus sign, digits, nothing else (no blanks, no plus sign, no
 * trailing junk). One set of rules for every program. Pure functions.
 */
#ifndef NORIKV_PARSE_H
#define NORIKV_PARSE_H

#include <stdbool.h>

/* The whole of s is an integer from lo to hi; false otherwise (*out untouched). */
bool parse_ll(const char *s, long long lo, long long hi, long long *out);
/* s starts with an integer (any in range of long long); *rest is what follows it. */
bool parse_ll_prefix(const char *s, long long *out, const char **rest);

#endif

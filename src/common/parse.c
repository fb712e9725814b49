/*
 * parse: strict decimal integers. strtoll alone would accept leading blanks and a plus
 * sign, and stop silently at trailing junk.
 */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

bool parse_ll_prefix(const char *s, long long *out, const char **rest)
{
    char *end;
    long long v;

    if (!(isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1]))))
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0)
        return false;
    *out = v;
    *rest = end;
    return true;
}

bool parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    const char *rest;
    long long v;

    if (!parse_ll_prefix(s, &v, &rest) || *rest != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

bool parse_redis_ll(const char *s, size_t n, long long *out)
{
    unsigned long long v = 0, limit;
    bool neg = false;
    size_t i = 0;

    if (n == 0 || n > 20)
        return false;
    if (n == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    if (s[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == n || s[i] < '1' || s[i] > '9')
        return false;
    limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');

        if (d > 9 || v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? -(long long)(v - 1) - 1 : (long long)v;
    return true;
}

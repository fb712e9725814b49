/*
 * parse: strict decimal integers. strtoll alone would accept leading blanks and a plus
 * sign, and stop silently at trailing junk.
 */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
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

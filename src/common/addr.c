/*
 * addr: node address parsing with reasons a person can act on.
 */
#include "addr.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool host_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '.' || ch == '-' || ch == '_';
}

/* Inside brackets: an IPv6 address, maybe with a %zone (which may hold any host character). */
static bool v6_char(char ch)
{
    return ch == ':' || ch == '%' || host_char(ch);
}

static bool fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && whylen > 0) {
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return false;
}

bool addr_split(const char *a, size_t n, char *host, size_t hostlen, int *port, char *why,
                size_t whylen)
{
    const char *colon, *p;
    long v = 0;
    int len = (int)n;

    if (a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (close == NULL || close + 1 == a + n || close[1] != ':')
            return fail(why, whylen, "'%.*s' is not [host]:port", len, a);
        for (p = a + 1; p < close && v6_char(*p); p++)
            ;
        if (p < close || memchr(a, ':', (size_t)(close - a)) == NULL)
            return fail(why, whylen, "'%.*s' has no IPv6 address between its brackets", len, a);
        colon = close + 1;
    } else {
        colon = memchr(a, ':', n);
        if (colon == NULL)
            return fail(why, whylen, "'%.*s' has no port; expected host:port", len, a);
        if (memchr(colon + 1, ':', (size_t)(a + n - colon - 1)) != NULL)
            return fail(why, whylen,
                        "'%.*s' has more than one ':'; an IPv6 host goes in brackets, as "
                        "[::1]:9001",
                        len, a);
        if (colon == a)
            return fail(why, whylen, "'%.*s' has no host; expected host:port", len, a);
        for (p = a; p < colon; p++)
            if (!host_char(*p))
                return fail(why, whylen, "'%.*s' has a character not allowed in a host name", len,
                            a);
    }
    for (p = colon + 1; p < a + n && isdigit((unsigned char)*p) && v <= 65535; p++)
        v = v * 10 + (*p - '0');
    if (p == colon + 1 || p < a + n || v < 1 || v > 65535)
        return fail(why, whylen, "'%.*s' has port '%.*s'; expected a port from 1 to 65535", len, a,
                    (int)(a + n - colon - 1), colon + 1);
    if ((size_t)(colon - a) >= hostlen)
        return fail(why, whylen, "'%.*s' has a host longer than %zu bytes", len, a, hostlen - 1);
    memcpy(host, a, (size_t)(colon - a));
    host[colon - a] = '\0';
    *port = (int)v;
    return true;
}

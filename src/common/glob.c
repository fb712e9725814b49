/*
 * glob: one matcher for every pattern a client sends. As in Redis, an unclosed [ class runs
 * to the end of the pattern and a trailing backslash stands for itself; unlike Redis, a '-'
 * first or last in a class stands for itself, as in shell globs.
 */
#include "glob.h"

#include <ctype.h>

typedef struct pattern {
    const char *p;
    size_t len;
    bool nocase;
} pattern;

static int fold(const pattern *g, char ch)
{
    return g->nocase ? tolower((unsigned char)ch) : (unsigned char)ch;
}

/* The class whose '[' is at i against ch (already folded); *used: its length, '[' and
 * ']' included. It reads no more than limit bytes past the '[': a longer class stops
 * there, *used then says more than limit and the answer means nothing. */
static bool class_match(const pattern *g, size_t i, int ch, size_t limit, size_t *used)
{
    size_t q = i + 1;
    bool negate = false, match = false;

    if (q < g->len && g->p[q] == '^') {
        negate = true;
        q++;
    }
    while (q < g->len && g->p[q] != ']' && q - i <= limit) {
        if (g->p[q] == '\\' && q + 1 < g->len) {
            match |= fold(g, g->p[q + 1]) == ch;
            q += 2;
        } else if (q + 2 < g->len && g->p[q + 1] == '-' && g->p[q + 2] != ']') {
            int lo = fold(g, g->p[q]), hi = fold(g, g->p[q + 2]);
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            match |= ch >= lo && ch <= hi;
            q += 3;
        } else {
            match |= fold(g, g->p[q]) == ch;
            q++;
        }
    }
    if (q < g->len)
        q++; /* the ']' */
    *used = q - i;
    return match != negate;
}

/* Whether the element at i, which is not '*', matches the one character ch; *used: its
 * length in the pattern, or, for a class longer than limit, more than limit. */
static bool one_match(const pattern *g, size_t i, char ch, size_t limit, size_t *used)
{
    int c = fold(g, ch);

    switch (g->p[i]) {
    case '?':
        *used = 1;
        return true;
    case '[':
        return class_match(g, i, c, limit, used);
    case '\\':
        if (i + 1 < g->len) {
            *used = 2;
            return fold(g, g->p[i + 1]) == c;
        }
        *used = 1;
        return c == '\\';
    default:
        *used = 1;
        return fold(g, g->p[i]) == c;
    }
}

/* Every element but '*' matches exactly one character, so on a mismatch it is enough to let
 * the last '*' swallow one more character and retry from there: no recursion, and time
 * bounded by the product of the lengths (Redis' recursive matcher needed a cap on nesting,
 * CVE-2022-36021). A step is a byte of the pattern read, so the budget bounds the time
 * too: a long class or run of stars is read only as far as the budget goes. */
int glob_match(const char *pat, size_t plen, const char *s, size_t slen, bool nocase, long *budget)
{
    pattern g = {pat, plen, nocase};
    size_t p = 0, i = 0, star_p = 0, star_i = 0, used = 0;
    bool star = false;

    while (i < slen) {
        if (--*budget < 0)
            return -1;
        if (p < plen && pat[p] == '*') {
            size_t first = p;
            while (p < plen && pat[p] == '*' && (long)(p - first) <= *budget)
                p++;
            *budget -= (long)(p - first);
            if (*budget < 0)
                return -1;
            if (p == plen)
                return 1;
            star = true;
            star_p = p;
            star_i = i;
            continue;
        }
        if (p < plen && one_match(&g, p, s[i], (size_t)*budget, &used)) {
            *budget -= (long)used;
            if (*budget < 0)
                return -1;
            p += used;
            i++;
            continue;
        }
        if (p < plen)
            *budget -= (long)used;
        if (*budget < 0)
            return -1;
        if (!star)
            return 0;
        p = star_p;
        i = ++star_i;
    }
    while (p < plen && pat[p] == '*') {
        p++;
        if (--*budget < 0)
            return -1;
    }
    return p == plen;
}

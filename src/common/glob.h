/*
 * glob: Redis' glob-style patterns (* ? [a-z] [^x] \x), as KEYS, CONFIG GET and PSUBSCRIBE
 * match names, over byte strings of known length. Time is bounded by the product of the two
 * lengths (no recursion), and a caller may cap the steps a request spends.
 */
#ifndef NORIKV_GLOB_H
#define NORIKV_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* 1 when s matches pat, 0 when not, -1 when *budget (steps, decremented as it goes) ran
 * out first. nocase folds ASCII letters (CONFIG GET); pub/sub patterns are exact. */
int glob_match(const char *pat, size_t plen, const char *s, size_t slen, bool nocase, long *budget);

#endif

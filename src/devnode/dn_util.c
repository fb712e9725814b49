/*
 * dn_util: the devnode's shared helpers. Pure functions of their arguments; the
 * generator's state belongs to the caller.
 */
#include "dn_util.h"

#include <stdarg.h>
#include <stdio.h>

void dn_reply_error(dn_reply *r, grpc_status_code code, const char *fmt, ...)
{
    va_list ap;

    r->status = code;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
}

double dn_random(uint64_t *rng)
{
    /* xorshift64*: cheap, and reproducible with --seed */
    *rng ^= *rng >> 12;
    *rng ^= *rng << 25;
    *rng ^= *rng >> 27;
    return (double)((*rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/*
 * slowlog: SLOWLOG. Owns the entries (the most recent first): commands whose time from
 * start to reply reached [sidecar] slowlog_log_slower_than, at most slowlog_max_len of them,
 * each with at most 32 arguments of at most 128 bytes, as Redis keeps them; so it holds at
 * most slowlog_max_len x about 4.5 KiB. Passwords are kept as "(redacted)".
 */
#ifndef NORIKV_SLOWLOG_H
#define NORIKV_SLOWLOG_H

#include <stdint.h>

#include "req.h"

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_ARG  128

typedef struct slowlog slowlog;

/* r finished, having taken usec from its start: recorded if slow enough (the caller tests
 * slowlog_log_slower_than first, so a disabled log costs that test). */
void slowlog_note(sidecar *s, const req *r, uint64_t usec);
/* Drops the oldest entries over slowlog_max_len (after a reload or CONFIG SET). */
void slowlog_trim(sidecar *s);
/* Frees every entry and the log (teardown). */
void slowlog_free(sidecar *s);
/* The entries' bytes, for MEMORY STATS. */
size_t slowlog_mem(const sidecar *s);

cmd_proc cmd_slowlog_get, cmd_slowlog_len, cmd_slowlog_reset, cmd_slowlog_help;

#endif

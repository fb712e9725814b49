/*
 * lcs: Redis' LCS (longest common subsequence) of two strings, as a computation that runs
 * in slices: the table of (alen+1)*(blen+1) cells is filled a bounded number of cells per
 * call, so that the caller can serve others in between, then answered in Redis' reply
 * shapes (the string, LEN, IDX with MINMATCHLEN and WITHMATCHLEN). Pure: no I/O, no clock;
 * cmd_data.c reads the keys and schedules the slices.
 */
#ifndef NORIKV_LCS_H
#define NORIKV_LCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "resp.h"

/* The largest table one LCS may fill: 16M cells (32 MiB, CPU in proportion). Redis' own
 * limit is its 512 MB proto-max-bulk-len; a sidecar must stay small. Two values of 4095
 * bytes fit, as do 1 MiB and 14 bytes. */
#define LCS_MAX_CELLS (16ull << 20)

typedef struct lcs_opts {
    bool len, idx, withmatchlen;
    long long minmatchlen;
} lcs_opts;

/* LCS's options, argv[3] on, in Redis' rules; false with Redis' error in out. */
bool lcs_parse_opts(const resp_arg *argv, int argc, lcs_opts *o, struct evbuffer *out);

/* The cells of the table for strings of alen and blen bytes. */
uint64_t lcs_cells(size_t alen, size_t blen);

typedef struct lcs_job lcs_job;

/* A job on a and b, which must outlive it; its table (at most LCS_MAX_CELLS cells) is
 * mapped zero-filled and given back to the system when the job is freed. NULL when the
 * table is over the budget or cannot be mapped. */
lcs_job *lcs_new(const char *a, size_t alen, const char *b, size_t blen);
/* Fills the table on, about `cells` cells (at least a row) at a time; true once full. */
bool lcs_fill(lcs_job *j, uint64_t cells);
/* The reply to LCS with options o, once the table is full. */
void lcs_reply(const lcs_job *j, const lcs_opts *o, int proto, struct evbuffer *out);
void lcs_free(lcs_job *j);

#endif

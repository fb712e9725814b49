/*
 * cellcase: what the table-driven Check suites of the commands on one key's value
 * (check_cell, check_cell_bits, check_zset_list, check_hash_set) share: a command line
 * split into arguments, the cell function (cell.h) it names, one run of it with its reply,
 * and the reply's comparison. Test code only; every failure is a Check assertion.
 */
#ifndef NORIKV_CELLCASE_H
#define NORIKV_CELLCASE_H

#include <stdbool.h>
#include <stddef.h>

#include "cell.h"

typedef struct cellcase_fn {
    const char *name;
    cell_fn *fn;
} cellcase_fn;

/* The bytes a token of n bytes stands for: '' none, @N N 'x' bytes, else the token itself;
 * malloc'ed with a NUL after its *len bytes. */
char *cellcase_word(const char *tok, size_t n, size_t *len);

/* line split on spaces into arguments (cellcase_word), each with a NUL after it, in a new
 * array: free both with cellcase_free_args. */
resp_arg *cellcase_split(const char *line, int *argc);
void cellcase_free_args(resp_arg *argv, int argc);

/* The function of fns[0 .. n-1] named name (in any case); the test fails if none is. */
cell_fn *cellcase_fn_of(const cellcase_fn *fns, size_t n, const char *name);

/* Runs line's command (the function fns names) on c with x: the reply, malloc'ed with a NUL
 * after its *len bytes; *ok is the function's result. */
char *cellcase_run(const cellcase_fn *fns, size_t n, cell *c, const cell_ctx *x, const char *line,
                   size_t *len, bool *ok);

/* Asserts the reply got (n bytes) is want (wlen bytes); cmd names the case. */
void cellcase_check_reply(const char *cmd, const char *got, size_t n, const char *want,
                          size_t wlen);

#endif

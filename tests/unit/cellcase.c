/*
 * cellcase: the command-line harness of the cell command suites (cellcase.h).
 */
#include "cellcase.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>
#include <event2/buffer.h>

#include "xalloc.h"

char *cellcase_word(const char *tok, size_t n, size_t *len)
{
    char *w;

    if (n > 0 && tok[0] == '@') {
        *len = (size_t)strtoul(tok + 1, NULL, 10);
        w = xmalloc(*len + 1);
        memset(w, 'x', *len);
        w[*len] = '\0';
        return w;
    }
    if (n == 2 && memcmp(tok, "''", 2) == 0)
        n = 0;
    *len = n;
    return xmemdup0(tok, n);
}

resp_arg *cellcase_split(const char *line, int *argc)
{
    resp_arg *argv = xcalloc(strlen(line) / 2 + 1, sizeof(*argv));

    *argc = 0;
    while (*line == ' ')
        line++;
    while (*line != '\0') {
        size_t n = strcspn(line, " ");

        argv[*argc].ptr = cellcase_word(line, n, &argv[*argc].len);
        (*argc)++;
        line += n;
        while (*line == ' ')
            line++;
    }
    return argv;
}

void cellcase_free_args(resp_arg *argv, int argc)
{
    for (int i = 0; i < argc; i++)
        free(argv[i].ptr);
    free(argv);
}

cell_fn *cellcase_fn_of(const cellcase_fn *fns, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(fns[i].name, name) == 0)
            return fns[i].fn;
    }
    ck_abort_msg("no function for %s", name);
    return NULL;
}

char *cellcase_run(const cellcase_fn *fns, size_t n, cell *c, const cell_ctx *x, const char *line,
                   size_t *len, bool *ok)
{
    int argc;
    resp_arg *argv = cellcase_split(line, &argc);
    struct evbuffer *out = evbuffer_new();
    char *reply;

    ck_assert_msg(argc > 0, "an empty command line");
    *ok = cellcase_fn_of(fns, n, argv[0].ptr)(c, x, argv, argc, out);
    *len = evbuffer_get_length(out);
    reply = xmalloc(*len + 1);
    evbuffer_remove(out, reply, *len);
    reply[*len] = '\0';
    evbuffer_free(out);
    cellcase_free_args(argv, argc);
    return reply;
}

void cellcase_check_reply(const char *cmd, const char *got, size_t n, const char *want, size_t wlen)
{
    ck_assert_msg(n == wlen && memcmp(got, want, n) == 0, "%s: reply %.*s (%zu bytes), want %s",
                  cmd, (int)(n > 200 ? 200 : n), got, n, want);
}

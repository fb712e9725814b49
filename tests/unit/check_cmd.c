/*
 * check_cmd: the command table's own rules, which dispatch relies on: every row and
 * subcommand has a handler, each subcommand its own; containers and refusals are marked
 * as cmd_check expects; argument types all have names. Also lookup (cmd_find), whole-number
 * parsing (arg_ll replies nothing) and lines of the README's table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "cmd.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static size_t nsubs(const cmd_def *d)
{
    size_t n = 0;

    while (d->subs != NULL && d->subs[n].name != NULL)
        n++;
    return n;
}

/* What every row, top-level or subcommand, must have. */
static void check_row(const cmd_def *d)
{
    ck_assert_ptr_nonnull(d->name);
    for (const char *p = d->name; *p; p++)
        ck_assert_msg(!(*p >= 'a' && *p <= 'z'), "%s: names are upper case", d->name);
    ck_assert_msg(d->proc != NULL, "%s has no handler", d->name);
    ck_assert_msg(d->arity != 0, "%s has arity 0", d->name);
    ck_assert_msg(d->group && d->since && d->complexity && d->summary && d->args,
                  "%s lacks documentation", d->name);
    if (d->flags & CMD_REFUSED) {
        char want[128];
        snprintf(want, sizeof(want), "ERR %s is not supported: ", d->name);
        ck_assert_msg(d->refusal != NULL && strncmp(d->refusal, want, strlen(want)) == 0,
                      "%s: a refusal says why", d->name);
        ck_assert(d->proc == cmd_refuse);
    } else {
        ck_assert_msg(d->refusal == NULL, "%s has a refusal but is not CMD_REFUSED", d->name);
        ck_assert(d->proc != cmd_refuse);
    }
}

START_TEST(test_rows)
{
    ck_assert_uint_gt(cmd_count(), 0);
    ck_assert_ptr_null(cmd_at(cmd_count()));
    for (size_t i = 0; i < cmd_count(); i++) {
        const cmd_def *d = cmd_at(i);
        check_row(d);
        ck_assert_msg(strchr(d->name, '|') == NULL, "%s: top-level names have no '|'", d->name);
        for (size_t k = 0; k < i; k++)
            ck_assert_msg(strcmp(cmd_at(k)->name, d->name) != 0, "%s twice", d->name);
        if (d->subs == NULL)
            ck_assert_msg(d->proc != cmd_container, "%s: a container without subcommands", d->name);
    }
}
END_TEST

START_TEST(test_subcommands)
{
    size_t containers = 0;

    for (size_t i = 0; i < cmd_count(); i++) {
        const cmd_def *d = cmd_at(i);
        size_t n = nsubs(d), plen = strlen(d->name);
        if (d->subs == NULL)
            continue;
        containers++;
        ck_assert_msg(n > 0, "%s: an empty list of subcommands", d->name);
        for (size_t k = 0; k < n; k++) {
            const cmd_def *s = &d->subs[k];
            check_row(s);
            ck_assert_msg(strncmp(s->name, d->name, plen) == 0 && s->name[plen] == '|' &&
                              s->name[plen + 1] != '\0',
                          "%s: a subcommand of %s is named %s|NAME", s->name, d->name, d->name);
            ck_assert_msg(s->subs == NULL, "%s: subcommands have none of their own", s->name);
            /* one handler per subcommand, none shared with the container */
            ck_assert_msg(s->proc != cmd_container && s->proc != d->proc, "%s: its own handler",
                          s->name);
            for (size_t j = 0; j < k; j++)
                ck_assert_msg(d->subs[j].proc != s->proc, "%s and %s share a handler",
                              d->subs[j].name, s->name);
        }
    }
    ck_assert_uint_eq(containers, 8); /* CLIENT, COMMAND, CONFIG, OBJECT, PUBSUB, SLOWLOG, LATENCY,
                                         MEMORY */
}
END_TEST

static void check_args(const char *cmd, const cmd_arg *args)
{
    for (const cmd_arg *a = args; a->name != NULL; a++) {
        ck_assert_msg((unsigned)a->type < CMD_ARG_NTYPES, "%s %s: a type", cmd, a->name);
        ck_assert_str_ne(cmd_arg_type_name(a->type), "unknown");
        if (a->type == CMD_ARG_ONEOF || a->type == CMD_ARG_BLOCK) {
            ck_assert_msg(a->sub != NULL && a->sub[0].name != NULL, "%s %s: members", cmd, a->name);
            check_args(cmd, a->sub);
        } else {
            ck_assert_msg(a->sub == NULL, "%s %s: only oneof and block have members", cmd, a->name);
        }
        if (a->type == CMD_ARG_PURE_TOKEN)
            ck_assert_msg(a->token != NULL, "%s %s: a pure token has a token", cmd, a->name);
        ck_assert_uint_eq(a->flags & ~(CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE), 0);
    }
}

START_TEST(test_args)
{
    static const char *const names[CMD_ARG_NTYPES] = {
        [CMD_ARG_KEY] = "key",
        [CMD_ARG_STRING] = "string",
        [CMD_ARG_INTEGER] = "integer",
        [CMD_ARG_DOUBLE] = "double",
        [CMD_ARG_PURE_TOKEN] = "pure-token",
        [CMD_ARG_ONEOF] = "oneof",
        [CMD_ARG_BLOCK] = "block",
        [CMD_ARG_UNIX_TIME] = "unix-time",
        [CMD_ARG_PATTERN] = "pattern",
    };

    for (int t = 0; t < CMD_ARG_NTYPES; t++)
        ck_assert_str_eq(cmd_arg_type_name((cmd_arg_type)t), names[t]);
    ck_assert_str_eq(cmd_arg_type_name(CMD_ARG_NTYPES), "unknown");
    for (size_t i = 0; i < cmd_count(); i++) {
        const cmd_def *d = cmd_at(i);
        check_args(d->name, d->args);
        for (size_t k = 0; k < nsubs(d); k++)
            check_args(d->subs[k].name, d->subs[k].args);
    }
}
END_TEST

/* argv from words; the strings stay the caller's */
static int make_argv(resp_arg *argv, const char *const *words)
{
    int n = 0;

    for (; words[n] != NULL; n++) {
        argv[n].ptr = (char *)words[n];
        argv[n].len = strlen(words[n]);
    }
    return n;
}

START_TEST(test_find)
{
    static const struct {
        const char *words[4];
        const char *want; /* NULL: unknown */
        const char *top;  /* the table row counted: its index */
    } cases[] = {
        {{"get", "k", NULL}, "GET", "GET"},
        {{"GeT", NULL}, "GET", "GET"},
        {{"client", "id", NULL}, "CLIENT|ID", "CLIENT"},
        {{"CLIENT", "kill", "ID", NULL}, "CLIENT|KILL", "CLIENT"},
        {{"client", "nope", NULL}, "CLIENT", "CLIENT"},
        {{"client", NULL}, "CLIENT", "CLIENT"},
        {{"command", NULL}, "COMMAND", "COMMAND"},
        {{"command", "docs", "get", NULL}, "COMMAND|DOCS", "COMMAND"},
        {{"config", "get", "*", NULL}, "CONFIG|GET", "CONFIG"},
        {{"get|x", NULL}, NULL, NULL},
        {{"nope", NULL}, NULL, NULL},
    };

    for (size_t c = 0; c < N(cases); c++) {
        resp_arg argv[4];
        int argc = make_argv(argv, cases[c].words), index;
        const cmd_def *d = cmd_find(argv, argc, &index);
        if (cases[c].want == NULL) {
            ck_assert_ptr_null(d);
            ck_assert_int_eq(index, -1);
            continue;
        }
        ck_assert_ptr_nonnull(d);
        ck_assert_str_eq(d->name, cases[c].want);
        ck_assert_int_ge(index, 0);
        ck_assert_str_eq(cmd_at((size_t)index)->name, cases[c].top);
    }
}
END_TEST

START_TEST(test_arg_ll)
{
    static const struct {
        const char *word;
        bool ok;
        long long v;
    } cases[] = {
        {"0", true, 0},
        {"12", true, 12},
        {"-3", true, -3},
        {"+7", false, 0}, /* Redis' grammar: no '+', no leading zeros, no "-0" */
        {"07", false, 0},
        {"-0", false, 0},
        {"9223372036854775807", true, 9223372036854775807LL},
        {"-9223372036854775808", true, -9223372036854775807LL - 1},
        {"9223372036854775808", false, 0},
        {"", false, 0},
        {" 1", false, 0},
        {"1 ", false, 0},
        {"1x", false, 0},
        {"x", false, 0},
        {"1.5", false, 0},
    };

    for (size_t c = 0; c < N(cases); c++) {
        resp_arg argv[2] = {{(char *)"SELECT", 6}, {(char *)cases[c].word, strlen(cases[c].word)}};
        req r;
        long long v;
        memset(&r, 0, sizeof(r));
        r.argv = argv;
        r.argc = 2;
        ck_assert_msg(arg_ll(&r, 1, &v) == cases[c].ok, "arg_ll(\"%s\")", cases[c].word);
        if (cases[c].ok)
            ck_assert_int_eq(v, cases[c].v);
        /* parsing replies nothing: the caller chooses the error */
        ck_assert_ptr_null(r.reply);
        ck_assert(!r.failed);
    }
    /* a word with a NUL inside is not a number, whatever comes before it */
    resp_arg argv[2] = {{(char *)"SELECT", 6}, {(char *)"1\0002", 3}};
    req r;
    long long v;
    memset(&r, 0, sizeof(r));
    r.argv = argv;
    r.argc = 2;
    ck_assert(!arg_ll(&r, 1, &v));
}
END_TEST

START_TEST(test_markdown)
{
    static const char *const lines[] = {
        "| Command | Summary |\n|---|---|\n",
        "\n| `GET key` | Returns the value of a key, or nil. |\n",
        "\n| `SET key value [NX \\| XX] [GET] [EX seconds \\| PX milliseconds \\| EXAT "
        "unix-time-seconds \\| PXAT unix-time-milliseconds \\| KEEPTTL]` |",
        "\n| `INCR key` | Adds 1 to a key's integer.",
        "\n| `HELLO [protover [AUTH username password] [SETNAME clientname]]` |",
        "\n| `NORI.GET key [CONSISTENCY LEASE \\| LINEARIZABLE \\| STALE_OK]` |",
        "\n| `CLIENT KILL ip:port \\| ID client-id \\| ADDR ip:port` |",
        "\n| `CONFIG GET parameter ...` |",
        "\n| `MSET key value ...` |",
        "\n| `INFO [section ...]` |",
        "\n| `KEYS pattern` | Not available: NoriKV cannot enumerate keys |\n",
    };
    char *text = NULL;
    size_t len = 0, rows = 0, newlines = 0;
    FILE *f = open_memstream(&text, &len);

    ck_assert_ptr_nonnull(f);
    cmd_print_markdown(f);
    fclose(f);
    for (size_t i = 0; i < N(lines); i++)
        ck_assert_msg(strstr(text, lines[i]) != NULL, "the table to hold %s", lines[i]);
    /* one line per command, or per subcommand of a container, after the header's two */
    for (size_t i = 0; i < cmd_count(); i++)
        rows += cmd_at(i)->subs != NULL ? nsubs(cmd_at(i)) : 1;
    for (size_t i = 0; i < len; i++)
        newlines += text[i] == '\n';
    ck_assert_uint_eq(newlines, rows + 2);
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cmd");
    TCase *table = tcase_create("table");
    TCase *use = tcase_create("use");
    SRunner *sr;
    int failed;

    tcase_add_test(table, test_rows);
    tcase_add_test(table, test_subcommands);
    tcase_add_test(table, test_args);
    suite_add_tcase(s, table);
    tcase_add_test(use, test_find);
    tcase_add_test(use, test_arg_ll);
    tcase_add_test(use, test_markdown);
    suite_add_tcase(s, use);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

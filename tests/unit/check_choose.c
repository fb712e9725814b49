/*
 * check_choose: the rules that pick each attempt's node (src/norikv/internal/choose.c),
 * row by row over clusters described here: which nodes are marked down, the cached leader,
 * the seeds, and what the operation remembers of its attempts.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "choose.h"

#define MAX_NODES 80

typedef struct fake {
    bool down[MAX_NODES];
} fake;

static bool fake_usable(void *arg, int node)
{
    fake *f = arg;

    return node >= 0 && node < MAX_NODES && !f->down[node];
}

/* A cluster of `count` nodes, `seeds` of them seeds; down: one character per node, 'x' for
 * one marked down (shorter strings leave the rest up). */
static choose_cluster cluster(fake *f, int count, int seeds, int leader, uint32_t group,
                              const char *down)
{
    memset(f, 0, sizeof(*f));
    for (int i = 0; down != NULL && down[i] != '\0' && i < MAX_NODES; i++)
        f->down[i] = down[i] == 'x';
    return (choose_cluster){count, seeds, leader, group, fake_usable, f};
}

static choose_memory fresh(void)
{
    choose_memory m;

    choose_init(&m);
    return m;
}

#define B(i) (1ULL << (i))

typedef enum step { FIRST, AFTER_PAUSE, NOT_LEADER } step;

typedef struct row {
    const char *what;
    int count, seeds, leader;
    uint32_t group;
    const char *down;
    step step;
    int node; /* NOT_LEADER: the node that said it */
    choose_memory before;
    int want;
    choose_memory after;
} row;

/* memory literals: avoid, sticky, refused, unreachable */
#define MEM(avoid, sticky, refused, unreachable)                                                   \
    {                                                                                              \
        (avoid), (sticky), (refused), (unreachable)                                                \
    }
#define NONE MEM(-1, -1, 0, 0)

static const row rows[] = {
    /* a new operation */
    {"the cached leader", 3, 3, 2, 7, "", FIRST, 0, NONE, 2, NONE},
    {"no leader: the shard's seed", 3, 3, -1, 7, "", FIRST, 0, NONE, 1, NONE},
    {"no leader: the seed among seeds only", 5, 2, -1, 7, "", FIRST, 0, NONE, 1, NONE},
    {"leader down: the seed", 3, 3, 0, 5, "x", FIRST, 0, NONE, 2, NONE},
    {"leader and seed down: the next usable", 3, 3, 0, 5, "x.x", FIRST, 0, NONE, 1, NONE},
    {"seed down: the node after it", 4, 4, -1, 1, ".x", FIRST, 0, NONE, 2, NONE},
    {"seed down, wrapping round", 3, 3, -1, 2, "..x", FIRST, 0, NONE, 0, NONE},
    {"every node down: the leader", 3, 3, 1, 0, "xxx", FIRST, 0, NONE, 1, NONE},
    {"every node down, no leader: the seed", 3, 3, -1, 4, "xxx", FIRST, 0, NONE, 1, NONE},

    /* after a pause */
    {"a write goes back to its sticky node, leader or not", 3, 3, 0, 1, "", AFTER_PAUSE, 0,
     MEM(-1, 2, 0, 0), 2, MEM(-1, 2, 0, 0)},
    {"sticky node down: the leader", 3, 3, 0, 1, "..x", AFTER_PAUSE, 0, MEM(-1, 2, 0, 0), 0,
     MEM(-1, 2, 0, 0)},
    {"the failed node is avoided: the one after it", 3, 3, 1, 0, "", AFTER_PAUSE, 0,
     MEM(1, -1, 0, B(1)), 2, MEM(1, -1, 0, B(1))},
    {"unreachable nodes are skipped", 4, 4, 1, 0, "", AFTER_PAUSE, 0, MEM(1, -1, 0, B(1) | B(2)), 3,
     MEM(1, -1, 0, B(1) | B(2))},
    {"a node that refused is asked when nothing else is left", 3, 3, -1, 0, "..x", AFTER_PAUSE, 0,
     MEM(0, -1, B(1), B(0)), 1, MEM(0, -1, B(1), B(0))},
    {"a leader marked down gets no call (probes bring it back)", 3, 3, 2, 0, "..x", AFTER_PAUSE, 0,
     MEM(1, -1, 0, 0), 0, MEM(1, -1, 0, 0)},
    {"every node down: the leader if not avoided", 3, 3, 2, 0, "xxx", AFTER_PAUSE, 0,
     MEM(1, -1, 0, 0), 2, MEM(1, -1, 0, 0)},
    {"every node down, leader avoided: the node after it", 3, 3, 2, 0, "xxx", AFTER_PAUSE, 0,
     MEM(2, -1, 0, 0), 0, MEM(2, -1, 0, 0)},

    /* NOT_LEADER without a hint */
    {"the next node at once", 3, 3, -1, 0, "", NOT_LEADER, 0, NONE, 1, MEM(-1, -1, B(0), 0)},
    {"nodes that refused are skipped", 3, 3, -1, 0, "", NOT_LEADER, 1, MEM(-1, -1, B(0), 0), 2,
     MEM(-1, -1, B(0) | B(1), 0)},
    {"a write's sticky node is forgotten", 3, 3, -1, 0, "", NOT_LEADER, 2, MEM(-1, 2, 0, 0), 0,
     MEM(-1, -1, B(2), 0)},
    {"every usable node refused: a pause, not a node marked down", 3, 3, -1, 0, "..x", NOT_LEADER,
     1, MEM(-1, -1, B(0), 0), -1, MEM(-1, -1, B(0) | B(1), 0)},
    {"a leader marked down is not asked", 3, 3, 2, 0, "..x", NOT_LEADER, 0, NONE, 1,
     MEM(-1, -1, B(0), 0)},
    {"every node refused: a pause", 3, 3, -1, 0, "", NOT_LEADER, 2, MEM(-1, -1, B(0) | B(1), 0), -1,
     MEM(-1, -1, B(0) | B(1) | B(2), 0)},
    {"the cached leader first", 4, 4, 3, 0, "", NOT_LEADER, 0, NONE, 3, MEM(-1, -1, B(0), 0)},
    {"nodes past 63 are never masked", 70, 3, -1, 0, "", NOT_LEADER, 65, NONE, 66, NONE},
};

START_TEST(test_rows)
{
    const row *r = &rows[_i];
    fake f;
    choose_cluster c = cluster(&f, r->count, r->seeds, r->leader, r->group, r->down);
    choose_memory m = r->before;
    int got = -2;

    switch (r->step) {
    case FIRST:
        got = choose_first(&c, &m);
        break;
    case AFTER_PAUSE:
        got = choose_after_pause(&c, &m);
        break;
    case NOT_LEADER:
        got = choose_not_leader(&c, &m, r->node);
        break;
    }
    ck_assert_msg(got == r->want, "%s: node %d, expected %d", r->what, got, r->want);
    ck_assert_msg(m.avoid == r->after.avoid && m.sticky == r->after.sticky &&
                      m.refused == r->after.refused && m.unreachable == r->after.unreachable,
                  "%s: memory {avoid %d, sticky %d, refused %llx, unreachable %llx}, "
                  "expected {%d, %d, %llx, %llx}",
                  r->what, m.avoid, m.sticky, (unsigned long long)m.refused,
                  (unsigned long long)m.unreachable, r->after.avoid, r->after.sticky,
                  (unsigned long long)r->after.refused, (unsigned long long)r->after.unreachable);
}
END_TEST

START_TEST(test_none_usable)
{
    fake f;
    choose_cluster c = cluster(&f, 3, 3, -1, 0, "xxx");

    ck_assert(choose_none_usable(&c));
    c = cluster(&f, 3, 3, -1, 0, "x.x");
    ck_assert(!choose_none_usable(&c));
    c = cluster(&f, 0, 0, -1, 0, "");
    ck_assert(choose_none_usable(&c));
}
END_TEST

START_TEST(test_failed)
{
    choose_memory m = fresh();

    /* a write on a node that stayed connected: back there after the pause */
    choose_failed(&m, 2, true, true);
    ck_assert_int_eq(m.sticky, 2);
    ck_assert_int_eq(m.avoid, -1);
    ck_assert_uint_eq(m.unreachable, 0);
    /* a read there: chosen afresh */
    choose_failed(&m, 2, true, false);
    ck_assert_int_eq(m.sticky, -1);
    /* a connection that failed: avoided and unreachable until the NOT_LEADER pause */
    choose_failed(&m, 1, false, true);
    ck_assert_int_eq(m.sticky, -1);
    ck_assert_int_eq(m.avoid, 1);
    ck_assert_uint_eq(m.unreachable, B(1));
}
END_TEST

START_TEST(test_paused_gives_every_node_another_chance)
{
    choose_memory m = {-1, -1, B(0) | B(1), B(2)};
    fake f;
    choose_cluster c = cluster(&f, 3, 3, 2, 0, "");

    choose_paused(&m, 1);
    ck_assert_uint_eq(m.refused, 0);
    ck_assert_uint_eq(m.unreachable, 0);
    ck_assert_int_eq(m.avoid, 1);
    /* the leader first, though it was unreachable before the pause */
    ck_assert_int_eq(choose_after_pause(&c, &m), 2);
}
END_TEST

static Suite *choose_suite(void)
{
    Suite *s = suite_create("choose");
    TCase *tc = tcase_create("rules");

    tcase_add_loop_test(tc, test_rows, 0, (int)(sizeof(rows) / sizeof(rows[0])));
    tcase_add_test(tc, test_none_usable);
    tcase_add_test(tc, test_failed);
    tcase_add_test(tc, test_paused_gives_every_node_another_chance);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(choose_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

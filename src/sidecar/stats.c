/*
 * stats: the sidecar's own counters: setting up the per-command slots and the
 * once-a-second rate sample. Counting itself is a plain increment where things happen;
 * rendering them is info.c's job.
 */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void stats_init(stats *st, size_t ncmds)
{
    memset(st, 0, sizeof(*st));
    st->cmds = xcalloc(ncmds, sizeof(*st->cmds));
}

void stats_free(stats *st)
{
    free(st->cmds);
    st->cmds = NULL;
}

void stats_sample(stats *st)
{
    st->ops_per_sec = st->total_commands_processed - st->last_commands;
    st->last_commands = st->total_commands_processed;
}

/*
 * cmd_memory: MEMORY and its subcommands (cmd_memory.c).
 */
#ifndef NORIKV_CMD_MEMORY_H
#define NORIKV_CMD_MEMORY_H

#include "req.h"

/* What the sidecar counts for one key it holds besides the key and value bytes: the same
 * 64 bytes of bookkeeping its reply reserve counts per value (client.c, reply_reserve). */
#define MEMORY_KEY_OVERHEAD 64

cmd_proc cmd_memory_usage, cmd_memory_stats, cmd_memory_doctor, cmd_memory_malloc_stats,
    cmd_memory_purge, cmd_memory_help;

#endif

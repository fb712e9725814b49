/*
 * cas: the one compare-and-swap engine of the sidecar. A block of commands on one key (a
 * read-modify-write command, or a MULTI ... EXEC on one key) runs as rounds: read the key
 * (linearizable), run the commands on the value in memory (cell.c), write the result back
 * with one Put conditional on the version read (or one Delete), and on a version mismatch
 * read again and redo, at most cas_max_rounds times, all under one deadline.
 *
 * Two limits of NoriKV show through: a missing key has no version to match, so creating
 * it is an unconditional Put (two writers creating one key at once can both win), and a
 * Delete's condition is ignored by today's server. Blocks on the same key from this
 * sidecar's clients queue, so they never race each other, and those queued when the key's
 * turn comes share its rounds: one read and one write for a group of blocks, each block
 * answered as if it had run alone.
 */
#ifndef NORIKV_CAS_H
#define NORIKV_CAS_H

#include <stdbool.h>

#include "cell.h"
#include "client.h"

typedef struct cas_block cas_block;

/* What EXEC checks against when the client WATCHed the key: the version read then. */
typedef struct cas_watch {
    bool existed;
    kv_version version; /* when existed */
} cas_watch;

/*
 * A block for request r on key (NULL: a block of keyless commands, run without the
 * cluster), of up to nsteps commands. It becomes r's scratch and is freed with r; a
 * client that goes away abandons it cleanly: it leaves the key's queue or its group, and
 * the rest go on.
 */
cas_block *cas_block_new(req *r, const resp_arg *key, int nsteps);
/* Adds a command; the block owns argv when owned (a queued MULTI command), else argv
 * lives as long as r does. */
void cas_block_add(cas_block *b, cell_fn *fn, resp_arg *argv, int argc, bool owned);
/*
 * Runs the block and answers r, then calls req_done(r): one command's own reply, or with
 * as_array (EXEC) the array of every command's reply. With watch, the key must still be
 * at the watched version: if it is not, or changes before the write, the answer is a
 * null array and nothing is written (Redis' optimistic locking); the block is not redone,
 * and it runs alone, never in a group.
 */
void cas_run(cas_block *b, bool as_array, const cas_watch *watch);

/* The context r's commands run in on a cell: its protocol, the wall clock now, and the
 * string format configured now. */
cell_ctx cas_ctx(const req *r);

/* The row's cell function as one compare-and-swap of its key: the handler of every command
 * of one key's value (cmd.c's table). */
cmd_proc cmd_cas;

#endif

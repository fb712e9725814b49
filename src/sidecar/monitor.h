/*
 * monitor: MONITOR. Owns the list of monitoring clients and feeds each of them every command
 * a client runs, one line in Redis' format (monitor_feed). A monitor's stream goes into its
 * output like pub/sub messages (client_push), so it counts in what the client holds and a
 * monitor that does not read is closed past reply_backlog. Costs one test when nobody
 * monitors; never shows a password (AUTH, HELLO AUTH: "(redacted)", as Redis).
 */
#ifndef NORIKV_MONITOR_H
#define NORIKV_MONITOR_H

#include <stdbool.h>

#include "client.h"

/* Whether any client monitors: the test the scheduler makes before monitor_feed. */
static inline bool monitor_any(const sidecar *s)
{
    return !LIST_EMPTY(&s->monitors);
}

/* r starts running (it passed the checks Redis makes before running a command): its line
 * goes to every monitor, unless its command is an administrative one Redis does not show
 * (CMD_ADMIN). EXEC shows the commands it runs first, as Redis does; a monitor's own RESET
 * or QUIT is not shown to it. Lines come in the order commands start, so a monitor's own
 * command's line comes before its reply (Redis sends it after). */
void monitor_feed(const req *r);
/* The client stops monitoring (RESET, QUIT, closing); nothing if it was not. */
void monitor_stop(client *c);

cmd_proc cmd_monitor;

#endif

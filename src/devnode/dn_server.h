/*
 * dn_server: the gRPC side of the devnode. One C-core server per node on its own
 * port, all on one completion queue; registered Kv, Meta, Admin and Vector methods;
 * a generic handler that answers UNIMPLEMENTED at once for everything else; latency,
 * failure and lost-reply faults; WatchCluster streams. Calls live on the loop thread.
 */
#ifndef NORIKV_DN_SERVER_H
#define NORIKV_DN_SERVER_H

#include "devnode.h"

/* Binds and starts node n's server; -1 (with a message on stderr) when it cannot. */
int dn_server_start(devnode *d, dn_node *n);
/* Shuts node n's server down: listeners close, calls are cancelled; stopped(arg), when
 * not NULL, runs once the server is gone. */
void dn_server_stop(devnode *d, dn_node *n, void (*stopped)(void *arg), void *arg);
/* True while a stopped node's server is still finishing its calls. */
bool dn_server_stopping(const dn_node *n);
/* Sends the current view on every open WatchCluster stream. */
void dn_server_push_views(devnode *d);

#endif

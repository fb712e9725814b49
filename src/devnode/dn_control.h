/*
 * dn_control: the devnode's control socket, a line protocol for tests and operators
 * (one command per line, one answer line, "OK ..." or "ERR ..."): kill and revive
 * nodes, move leadership, inject latency, failures and lost replies, read counters.
 */
#ifndef NORIKV_DN_CONTROL_H
#define NORIKV_DN_CONTROL_H

#include "devnode.h"

int dn_control_open(devnode *d, const char *path);
void dn_control_close(devnode *d);

#endif

/*
 * service: the daemon as a service manager and an operator see it, apart from the loop:
 * the checks of -t (what would stop a start, said plainly), the group of the socket file,
 * and systemd's watchdog, pinged from the loop. Never exits and never touches clients.
 */
#ifndef NORIKV_SERVICE_H
#define NORIKV_SERVICE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <event2/event.h>

#include "conf.h"

/* What would stop a start with this configuration, beyond the values themselves: the
 * socket's directory missing or not writable, the socket served by another process, the
 * socket group unknown or out of reach, the TCP port or the metrics listener's address
 * taken (or its socket's directory missing). Writes
 * one line per problem to out, prefixed "norikv-sidecar: "; returns how many there are. */
int service_preflight(const conf *c, FILE *out);

/* A group given by name or number, as unix_group takes it. -1 with err. */
int service_group(const char *group, gid_t *gid, char *err, size_t errlen);

/* Gives the socket file at path to group (name or number). -1 with err. */
int service_chgrp_socket(const char *path, const char *group, char *err, size_t errlen);

/* When systemd asks for a watchdog (WatchdogSec=), a timer on base sending WATCHDOG=1 at
 * half the interval, from the loop, so a stuck loop stops it; NULL otherwise. The caller
 * frees it with event_free. */
struct event *service_watchdog_new(struct event_base *base);

#endif

/*
 * pubsub: Redis' publish/subscribe, fed by the one source NoriKV has: the cluster view.
 * SUBSCRIBE norikv:topology (or a pattern matching it) delivers one compact JSON message
 * per view change; other channels can be subscribed to and never deliver. Owns every
 * client's subscriptions and, while anyone is subscribed, the cluster client's topology
 * listener. Never publishes anything else: NoriKV has no pub/sub.
 */
#ifndef NORIKV_PUBSUB_H
#define NORIKV_PUBSUB_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"
#include "kv.h"

#define PUBSUB_TOPOLOGY_CHANNEL "norikv:topology"

/* RESP2 subscribe mode: the connection has subscriptions and speaks RESP2, so only the
 * subscribe commands, PING, QUIT and RESET may run. */
bool pubsub_mode(const client *c);
/* How many channels and patterns the client is subscribed to. */
void pubsub_counts(const client *c, int *channels, int *patterns);
/* Drops every subscription of the client without a reply (RESET, the client is gone). */
void pubsub_client_reset(client *c);
/* The bytes the client's subscriptions hold: its records and tables, and the names it is
 * subscribed to (a name other clients share is counted for each of them). */
size_t pubsub_client_mem(const client *c);

/* One event as the message sent on norikv:topology (malloc'ed, NUL-terminated; *len
 * without the NUL). */
char *pubsub_event_json(const kv_topology_event *ev, size_t *len);

/* Redis' glob-style pattern match (*, ?, [...] with ^ and ranges, \ escapes) within
 * PUBSUB_PATTERN_BUDGET steps of the matcher: a pattern that needs more does not match.
 * A pattern is matched against norikv:topology once, when subscribed to, so one over the
 * budget is a subscription that never delivers (only a pattern of kilobytes can be). */
#define PUBSUB_PATTERN_BUDGET 100000L
bool pubsub_match(const char *pat, size_t plen, const char *s, size_t slen);

/* The commands (pubsub.c). */
cmd_proc cmd_subscribe, cmd_unsubscribe, cmd_psubscribe, cmd_punsubscribe, cmd_pubsub_channels,
    cmd_pubsub_numsub, cmd_pubsub_numpat, cmd_pubsub_help;

#endif

/*
 * sidecar: the daemon's context, shared by its front-end modules (client connections,
 * commands, statistics). One struct owns the loop, the configuration, the cluster client,
 * the listeners, every client and the counters; there is no other global state.
 */
#ifndef NORIKV_SIDECAR_H
#define NORIKV_SIDECAR_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/queue.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "conf.h"
#include "dict.h"
#include "kv.h"
#include "log.h"
#include "slab.h"
#include "stats.h"

#define SIDECAR_REDIS_VERSION "7.2.0" /* the Redis protocol level clients may assume */

typedef struct client client;
typedef struct cas_block cas_block;
struct evbuffer;
struct lcs_runner;
struct pubsub;
struct req;

/* Where connections' memory comes from (client.c): client structs from slabs of their own,
 * apart from the heap's short-lived allocations; one read buffer for every client; spare
 * evbuffers (outputs and replies) and requests for reuse. */
#define CLIENT_SPARE_BUF 64
#define CLIENT_SPARE_REQ 256
typedef struct client_mem {
    slab_pool slab;
    char *rbuf;
    struct evbuffer *spare_buf[CLIENT_SPARE_BUF];
    int nspare_buf;
    struct req *spare_req; /* a list through their next */
    int nspare_req;
} client_mem;

typedef struct sidecar {
    struct event_base *base;
    conf cfg;
    const char *config_file;
    kv_client *kv;
    struct evconnlistener *unix_listener, *tcp_listener;
    LIST_HEAD(client_list, client) clients; /* every connected client */
    LIST_HEAD(flush_list, client) flushing; /* clients with replies to write this loop pass */
    LIST_HEAD(closed_list, client) closed;  /* closed clients, freed by the flush pass */
    dict cas_keys; /* the keys with a read-modify-write running, and those waiting (cas.c) */
    struct event *flush_ev;
    struct event *cron_ev; /* once a second: idle timeouts, rates, status */
    struct event *sigterm_ev, *sigint_ev, *sighup_ev;
    struct event *watchdog_ev;     /* WATCHDOG=1 to systemd, when it asks for it */
    struct event *drain_ev;        /* the end of drain_accept_ms */
    struct event *accept_retry_ev; /* listeners paused for lack of descriptors resume */
    int64_t accept_logged_ms;      /* when a failed accept was last logged */
    uint64_t accept_unlogged;      /* failed accepts since */
    uint64_t next_client_id;
    int nclients;
    int64_t started_ms;
    bool stopping;        /* SIGTERM came: /readyz says 503; a second signal exits at once */
    bool drain_accepting; /* stopping, but clients are still taken and served (drain_accept_ms) */
    bool draining;        /* the listeners are closed: what is in flight finishes, then exit */
    int64_t drain_accept_until_ms;
    int64_t drain_deadline_ms;
    stats st;
    struct pubsub *pubsub; /* pub/sub subscribers (pubsub.c), NULL while there are none */
    LIST_HEAD(monitor_list, client) monitors; /* clients that sent MONITOR (monitor.c) */
    struct slowlog *slowlog;                  /* SLOWLOG's entries (slowlog.c), NULL: none yet */
    struct latency_monitor *latency;          /* LATENCY's series (latency.c), NULL: none yet */
    uint64_t startup_memory;                  /* used_memory once started (MEMORY STATS) */
    struct metrics *metrics;                  /* the HTTP listener of [metrics], NULL when off */
    struct lcs_runner *lcs; /* LCS tables being filled, one at a time (cmd_data.c), NULL: none */
    log_limit reject_log, auth_log;
    client_mem mem;
    /* malloc_trim, done once the commands stop after a burst (sidecar.c, on_cron) */
    uint64_t trim_commands;             /* total_commands_processed at the last trim */
    uint64_t cron_commands, cron_bytes; /* it and the bytes read and written, at the last pass */
    uint64_t trims;                     /* INFO memory allocator_trims */
} sidecar;

#endif

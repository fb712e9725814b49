/*
 * conf: the sidecar's configuration, from one table (section, key, type, default,
 * bounds, reloadable, help) from which come INI parsing (inih), command-line overrides
 * (--section.key=value), validation with clear errors, CONFIG GET, -t and the commented
 * conf/norikv-sidecar.conf. Owns the strings it stores.
 */
#ifndef NORIKV_CONF_H
#define NORIKV_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kv.h"

typedef struct conf {
    struct {
        char *listen;     /* Unix socket path */
        int unix_mode;    /* permission bits of the socket file (octal in files) */
        char *unix_group; /* group of the socket file, name or number; "": the sidecar's */
        int port;         /* loopback TCP port, 0: none */
        int max_clients;
        char *requirepass; /* "" : no password */
        long max_bulk;     /* bytes */
        long max_args;
        long query_buffer_limit;       /* bytes of one request's arguments together */
        long reply_backlog;            /* bytes of unsent replies above which reading pauses */
        long max_reply;                /* bytes of one request's reply above which it is an error */
        long max_pending;              /* requests queued per client above which reading pauses */
        char *ordering;                /* "connection" or "key" (order.h) */
        char *string_format;           /* "raw" or "typed" (tval.h) */
        int timeout;                   /* seconds an idle client may stay, 0: forever */
        int cas_max_rounds;            /* reads and conditional writes of one read-modify-write */
        int drain_accept_ms;           /* the listeners stay open this long after SIGTERM */
        int drain_timeout;             /* seconds in-flight commands then get before exit */
        long slowlog_log_slower_than;  /* microseconds; 0: every command, -1: none */
        long slowlog_max_len;          /* SLOWLOG entries kept */
        int latency_monitor_threshold; /* milliseconds; 0: off */
    } sidecar;
    struct {
        char *nodes;
        long total_shards;
        int timeout_ms;
        int connect_timeout_ms; /* a node silent this long while it owes an answer is down */
        int probe_interval_ms;  /* down nodes are probed this often, idle ones checked */
        int channels_per_node;
        bool watch_cluster;
        bool tls;              /* gRPC's SSL credentials to the nodes */
        char *tls_ca;          /* PEM roots, "" : gRPC's defaults */
        char *tls_cert;        /* client certificate, "" : none */
        char *tls_key;         /* its key */
        char *tls_server_name; /* "" : the host dialled */
    } cluster;
    struct {
        int max_attempts;
        int initial_delay_ms;
        int max_delay_ms;
        int jitter_ms;
    } retry;
    struct {
        char *listen;        /* "ip:port" or a Unix socket path; "" : off */
        int max_connections; /* HTTP connections at once */
    } metrics;
    struct {
        char *level;  /* error, warning, notice, info, debug */
        char *format; /* text, json */
    } log;
} conf;

/* The cluster client's settings, from [cluster] and [retry]. */
void conf_kv_config(const conf *c, kv_config *kc);

/* Every key at its default. 0; -1 only if a built-in default fails its own check. */
int conf_init(conf *c);
void conf_free(conf *c);

/* Reads an INI file over what c holds. -1 with err as "PATH:LINE: what is wrong". */
int conf_load_file(conf *c, const char *path, char *err, size_t errlen);
/* Sets one key, named "section.key" (case-insensitive). -1 with err explaining why. */
int conf_set(conf *c, const char *name, const char *value, char *err, size_t errlen);
/* Checks what single keys cannot: e.g. max_delay_ms >= initial_delay_ms. -1 with err. */
int conf_validate(const conf *c, char *err, size_t errlen);

/* The table, for CONFIG GET, INFO and listings: entries 0 .. conf_count()-1. */
size_t conf_count(void);
const char *conf_name(size_t i); /* "sidecar.listen" */
const char *conf_help(size_t i);
const char *conf_default(size_t i);
bool conf_reloadable(size_t i);
/* The current value as text, the way a file would say it (modes in octal, bools yes/no). */
void conf_value(const conf *c, size_t i, char *buf, size_t len);

/* Redis' glob (* ? [a-z] [^x] \x), case-insensitive, as CONFIG GET matches names. */
bool conf_glob(const char *pattern, const char *name);
/* The same within a budget of steps, spent by what it examines: 1 (a match), 0 (none) or
 * -1 (the budget ran out first). For a budget over many patterns and names. */
int conf_glob_bounded(const char *pattern, const char *name, long *budget);

/* The commented example file: every key with its default and help, by section. */
void conf_print_example(FILE *f);

#endif

/*
 * conf: the sidecar's settings. One table (CONF_TABLE) names every key with its type,
 * bounds, default, reloadability and help; parsing, defaults, error messages, CONFIG GET
 * listings and the example file all come from it. Owns the strings in struct conf.
 * Never logs, exits or touches anything but the struct and the file it is asked to read:
 * callers decide what an error means.
 */
#include "conf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <ini.h>
#include <netinet/in.h>

#include "addr.h"
#include "glob.h"
#include "parse.h"
#include "xalloc.h"

/* A string key without an upper bound on its length. */
#define CONF_UNBOUNDED LLONG_MAX

/*
 * The table. X(section, key, type, min, max, default, reloadable, help):
 *   STR    char *  length from min to max bytes
 *   NODES  char *  comma-separated host:port, from min to max entries
 *   LEVEL  char *  one of the words of list max (0: log levels, 1: log formats, 2: orderings,
 *                  3: string formats),
 *                  stored in lower case
 *   INT    int     decimal integer from min to max
 *   LONG   long    decimal integer from min to max
 *   SIZE   long    bytes from min to max, with k/kb/m/mb/g/gb suffixes (powers of 1024)
 *   BOOL   bool    yes/no, true/false, on/off, 1/0
 *   MODE   int     octal permission bits from min to max
 * The field is conf.section.key; entries of one section stay together, in the order the
 * example file shows them.
 */
#define CONF_TABLE(X)                                                                              \
    X(sidecar, listen, STR, 1, 107, "/run/norikv-sidecar/norikv.sock", false,                      \
      "Path of the Unix socket that applications connect to, at most 107 bytes. Its "              \
      "directory must exist and be writable by the sidecar.")                                      \
    X(sidecar, unix_mode, MODE, 0, 0777, "0660", false,                                            \
      "Permission bits of the socket file, in octal. A client needs write permission to "          \
      "connect, so 0660 admits the socket's owner and group.")                                     \
    X(sidecar, unix_group, STR, 0, 64, "", false,                                                  \
      "Group to give the socket file, by name or number, so that its members can connect; "        \
      "empty keeps the sidecar's own group. The sidecar must belong to it unless it runs as "      \
      "root (SupplementaryGroups= under systemd), and a socket passed by socket activation "       \
      "takes SocketGroup= from its .socket unit instead.")                                         \
    X(sidecar, port, INT, 0, 65535, "0", false,                                                    \
      "TCP port to listen on as well, bound to 127.0.0.1 only; 0 means no TCP listener. "          \
      "Any local user can reach a TCP port, so set requirepass when using one.")                   \
    X(sidecar, max_clients, INT, 1, 1000000, "10000", true,                                        \
      "Most clients connected at once; connections beyond it are turned away. Each takes a file "  \
      "descriptor: below max_clients plus what the sidecar keeps for itself, the open-files "      \
      "limit is raised at start and on reload (up to its hard limit), and if that is short the "   \
      "effective max_clients (CONFIG GET, INFO) is lowered to fit, with a warning.")               \
    X(sidecar, requirepass, STR, 0, CONF_UNBOUNDED, "", true,                                      \
      "Password clients must give with AUTH before any other command, written as is, without "     \
      "quotes; empty means no password. Set by a reload, it applies to new connections: those "    \
      "already open stay authenticated, as in Redis.")                                             \
    X(sidecar, max_bulk, SIZE, 1024, 536870912, "1114112", true,                                   \
      "Largest single argument a client may send, in bytes: NoriKV's 1 MiB value limit plus "      \
      "64 KiB of headroom. Sizes take k, m and g suffixes, powers of 1024.")                       \
    X(sidecar, max_args, LONG, 1, 2147483647, "1048576", true,                                     \
      "Most arguments one command may have, as in a long MSET or DEL.")                            \
    X(sidecar, query_buffer_limit, SIZE, 1048576, 4294967296, "67108864", true,                    \
      "Most bytes the arguments of one request, or the commands one MULTI queues, may take "       \
      "together. It must not be smaller "                                                          \
      "than max_bulk.")                                                                            \
    X(sidecar, reply_backlog, SIZE, 65536, 4294967296, "4194304", true,                            \
      "Bytes of replies not yet sent to a client above which the sidecar stops reading that "      \
      "client's requests until it catches up; a subscriber with more than this unsent when a "     \
      "pub/sub message comes is closed.")                                                          \
    X(sidecar, max_reply, SIZE, 65536, 4294967296, "67108864", true,                               \
      "Largest reply the sidecar builds for one request, in bytes: a request whose reply "         \
      "would be larger, such as an MGET of many big values, is answered with an error "            \
      "instead. A client holds at most reply_backlog plus one such reply.")                        \
    X(sidecar, max_pending, LONG, 1, 1000000, "1024", true,                                        \
      "Requests of one client waiting for the cluster above which the sidecar stops reading "      \
      "that client's requests until some complete.")                                               \
    X(sidecar, ordering, LEVEL, 0, 2, "connection", true,                                          \
      "Which of one client's commands keep their order: connection (a write or a change of "       \
      "connection state waits for every command before it, and every later one for it; reads "     \
      "overlap reads) or key (only commands sharing a key, one of them a write, keep their "       \
      "order, so writes to different keys overlap; state changes, transactions and writes "        \
      "without keys still run alone); replies come back in request order either way. A "           \
      "change applies to commands started after it.")                                              \
    X(sidecar, string_format, LEVEL, 0, 3, "raw", true,                                            \
      "How strings are stored: raw (the plain bytes, as NoriKV's SDKs write and read them) or "    \
      "typed (in the sidecar's typed format with their expiry, so TTL, KEEPTTL and EXPIRE's "      \
      "options work and a read-modify-write keeps the TTL); reads accept both always, and "        \
      "hashes, sets, sorted sets and lists are always typed.")                                     \
    X(sidecar, timeout, INT, 0, 31536000, "0", true,                                               \
      "Seconds a client may stay idle (nothing read from it or written to it) before it is "       \
      "disconnected; 0 keeps idle clients forever. Subscribers are never idle, as in Redis.")      \
    X(sidecar, cas_max_rounds, INT, 1, 1000, "16", true,                                           \
      "Most rounds of one read-modify-write such as INCR or a MULTI block on one key (or of a "    \
      "group of them that queued on the key and share their rounds), each a read and a write "     \
      "conditional on nobody having changed the key meanwhile; one that loses this many races "    \
      "in a row answers CONFLICT.")                                                                \
    X(sidecar, drain_accept_ms, INT, 0, 600000, "0", true,                                         \
      "Milliseconds the listeners keep accepting new clients after SIGTERM, so that late "         \
      "clients of a terminating pod are still served; 0 closes them at once. The socket file "     \
      "stays until they close.")                                                                   \
    X(sidecar, drain_timeout, INT, 0, 3600, "5", true,                                             \
      "Seconds the sidecar then waits for commands in flight to finish before it exits anyway. "   \
      "Under systemd, TimeoutStopSec must exceed drain_accept_ms plus drain_timeout.")             \
    X(sidecar, slowlog_log_slower_than, LONG, -1, 3600000000, "10000", true,                       \
      "Microseconds from a command's start to its reply above which SLOWLOG records it (CONFIG "   \
      "SET slowlog-log-slower-than); 0 records every command and -1 none.")                        \
    X(sidecar, slowlog_max_len, LONG, 0, 10000, "128", true,                                       \
      "Most entries SLOWLOG keeps, the oldest dropped first (CONFIG SET slowlog-max-len); each "   \
      "holds at most 32 arguments of 128 bytes.")                                                  \
    X(sidecar, latency_monitor_threshold, INT, 0, 3600000, "0", true,                              \
      "Milliseconds from a command's start to its reply from which LATENCY records it as an "      \
      "event (CONFIG SET latency-monitor-threshold); 0 turns the latency monitor off, as in "      \
      "Redis.")                                                                                    \
    X(cluster, nodes, NODES, 1, 64, "127.0.0.1:9001", false,                                       \
      "NoriKV nodes to contact first, as a comma-separated list of host:port; an IPv6 host "       \
      "goes in brackets, as [::1]:9001. With watch_cluster on, the rest of the cluster is "        \
      "learnt from them.")                                                                         \
    X(cluster, total_shards, LONG, 1, 1048576, "1024", false,                                      \
      "Number of shards the cluster hashes keys into; it must match the cluster's own "            \
      "setting.")                                                                                  \
    X(cluster, timeout_ms, INT, 1, 3600000, "5000", true,                                          \
      "Milliseconds one operation may take against the cluster, all its retries included.")        \
    X(cluster, connect_timeout_ms, INT, 1, 600000, "1000", true,                                   \
      "Milliseconds a node may stay silent while it owes an answer (a connection being made, a "   \
      "call, a health probe) before it is marked down and what waits on it goes to another node "  \
      "or fails at once. A reload applies at once.")                                               \
    X(cluster, probe_interval_ms, INT, 10, 3600000, "500", true,                                   \
      "Milliseconds between the health probes of a node marked down (in the background, never "    \
      "a client's command), and the longest a node may stay unheard from before it is probed, "    \
      "so a node that dies with no traffic is marked down too.")                                   \
    X(cluster, channels_per_node, INT, 1, 64, "2", false,                                          \
      "gRPC channels opened to each node; more channels spread requests over more "                \
      "connections.")                                                                              \
    X(cluster, watch_cluster, BOOL, 0, 1, "yes", false,                                            \
      "Follow the cluster's membership and shard leaders as they change (yes), or work only "      \
      "from the nodes listed and the leader hints in replies (no).")                               \
    X(cluster, tls, BOOL, 0, 1, "no", false,                                                       \
      "Talk to the nodes over TLS (yes), verifying their certificates, or in plaintext (no).")     \
    X(cluster, tls_ca, STR, 0, 4096, "", false,                                                    \
      "With tls: a PEM file of the certificate authorities the nodes' certificates must chain "    \
      "to; empty means gRPC's default roots. Checked at start, by -t and on reload: it must hold " \
      "one or more certificates.")                                                                 \
    X(cluster, tls_cert, STR, 0, 4096, "", false,                                                  \
      "With tls: a PEM file with the sidecar's own certificate, for nodes that ask for one "       \
      "(mutual TLS); set tls_key too. Empty: none.")                                               \
    X(cluster, tls_key, STR, 0, 4096, "", false,                                                   \
      "With tls: the PEM file of tls_cert's private key, without a passphrase. Checked at start, " \
      "by -t and on reload: it must parse and belong to tls_cert's certificate.")                  \
    X(cluster, tls_server_name, STR, 0, 253, "", false,                                            \
      "With tls: the name the nodes' certificates must carry, when it is not the host of the "     \
      "addresses dialled (nodes reached by IP address, say). Empty: that host.")                   \
    X(retry, max_attempts, INT, 1, 1000, "10", true,                                               \
      "Most times one operation is tried, the first try included, when its errors are safe "       \
      "to retry.")                                                                                 \
    X(retry, initial_delay_ms, INT, 0, 600000, "100", true,                                        \
      "Milliseconds to wait before the first retry; each further wait doubles, up to "             \
      "max_delay_ms.")                                                                             \
    X(retry, max_delay_ms, INT, 0, 600000, "5000", true,                                           \
      "Longest wait between two tries in milliseconds, before jitter. It must not be smaller "     \
      "than initial_delay_ms.")                                                                    \
    X(retry, jitter_ms, INT, 0, 600000, "100", true,                                               \
      "Up to this many random milliseconds are added to each wait, so that clients do not "        \
      "retry in step.")                                                                            \
    X(metrics, listen, STR, 0, 107, "", false,                                                     \
      "Where to serve /metrics (Prometheus text format), /healthz and /readyz over HTTP: "         \
      "an IP address and port such as 127.0.0.1:9121 ([::]:9121 is every address, IPv6 and "       \
      "IPv4), or the path of a Unix socket (starting with /); empty means no HTTP listener. "      \
      "The figures are not secret but not meant for the world: prefer loopback, a pod's own "      \
      "network, or a socket.")                                                                     \
    X(metrics, max_connections, INT, 1, 10000, "64", true,                                         \
      "Most HTTP connections open at once on the metrics listener; one beyond it is closed as "    \
      "soon as it is accepted. Each must send a whole request within 10 seconds of connecting "    \
      "(or of its first byte after a reply) and is closed after 10 seconds idle.")                 \
    X(log, level, LEVEL, 0, 0, "notice", true,                                                     \
      "Least severe messages logged: error, warning, notice, info or debug.")                      \
    X(log, format, LEVEL, 0, 1, "text", true,                                                      \
      "How each line is written: text (under journald the journal adds time and PID; "             \
      "elsewhere each line starts with its UTC time, the program and its PID), or json, one "      \
      "object per line with time, program, pid, level and message.")

enum conf_type {
    CONF_STR,
    CONF_NODES,
    CONF_LEVEL,
    CONF_INT,
    CONF_LONG,
    CONF_SIZE,
    CONF_BOOL,
    CONF_MODE
};

/* The C type each conf type is stored as, and the largest bound that type can hold. */
#define CONF_CTYPE_STR   char *
#define CONF_CTYPE_NODES char *
#define CONF_CTYPE_LEVEL char *
#define CONF_CTYPE_INT   int
#define CONF_CTYPE_LONG  long
#define CONF_CTYPE_SIZE  long
#define CONF_CTYPE_BOOL  bool
#define CONF_CTYPE_MODE  int
#define CONF_CMAX_STR    LLONG_MAX
#define CONF_CMAX_NODES  LLONG_MAX
#define CONF_CMAX_LEVEL  3
#define CONF_CMAX_INT    INT_MAX
#define CONF_CMAX_LONG   LONG_MAX
#define CONF_CMAX_SIZE   LONG_MAX
#define CONF_CMAX_BOOL   1
#define CONF_CMAX_MODE   07777

/* A table row whose field has the wrong C type, or whose bounds do not fit it, does not
 * compile: the offsets below are trusted blindly at run time. */
#define CONF_CHECK(section, key, type, min, max, def, reload, help)                                \
    _Static_assert(_Generic(((conf *)0)->section.key, CONF_CTYPE_##type : 1, default : 0),         \
                   #section "." #key " is not stored as its type needs");                          \
    _Static_assert((min) <= (max) && (max) <= CONF_CMAX_##type,                                    \
                   #section "." #key " has bounds its field cannot hold");
CONF_TABLE(CONF_CHECK)

typedef struct conf_entry {
    const char *name; /* "section.key" */
    size_t seclen;    /* length of the section part of name */
    enum conf_type type;
    long long min, max;
    const char *def;
    bool reloadable;
    size_t offset;
    const char *help;
} conf_entry;

#define CONF_ENTRY(sec_, key_, type_, min_, max_, def_, reload_, help_)                            \
    {.name = #sec_ "." #key_,                                                                      \
     .seclen = sizeof(#sec_) - 1,                                                                  \
     .type = CONF_##type_,                                                                         \
     .min = (min_),                                                                                \
     .max = (max_),                                                                                \
     .def = (def_),                                                                                \
     .reloadable = (reload_),                                                                      \
     .offset = offsetof(conf, sec_.key_),                                                          \
     .help = (help_)},
static const conf_entry entries[] = {CONF_TABLE(CONF_ENTRY)};
#define CONF_N (sizeof(entries) / sizeof(entries[0]))

/* The word lists of LEVEL keys, by the key's max; NULL-terminated. */
static const char *const conf_words[][6] = {
    {"error", "warning", "notice", "info", "debug", NULL},
    {"text", "json", NULL},
    {"connection", "key", NULL},
    {"raw", "typed", NULL},
};

/* The cluster client keeps each node address in a 128-byte slot (POOL_ADDR_MAX) and
 * would drop a longer one without a word; likewise seeds beyond 64, hence nodes' bounds. */
#define CONF_NODE_ADDR_MAX 127

#define CONF_KIB 1024LL
#define CONF_MIB (1024LL * 1024)
#define CONF_GIB (1024LL * 1024 * 1024)

/* ---- fields ------------------------------------------------------------------------- */

static void *field(conf *c, const conf_entry *e)
{
    return (char *)c + e->offset;
}

static const void *cfield(const conf *c, const conf_entry *e)
{
    return (const char *)c + e->offset;
}

static bool is_string(const conf_entry *e)
{
    return e->type == CONF_STR || e->type == CONF_NODES || e->type == CONF_LEVEL;
}

static char **string_field(conf *c, const conf_entry *e)
{
    return field(c, e);
}

/* ---- parsing single values ---------------------------------------------------------- */

/* What a value of e must look like, for "invalid value" messages. */
static void expectation(const conf_entry *e, char *buf, size_t len);

/* Redis' way of writing sizes: 64k, 1mb, 4G. */
static bool parse_size(const char *s, long long *out)
{
    static const struct {
        const char *suffix;
        long long unit;
    } units[] = {{"", 1},          {"k", CONF_KIB}, {"kb", CONF_KIB}, {"m", CONF_MIB},
                 {"mb", CONF_MIB}, {"g", CONF_GIB}, {"gb", CONF_GIB}};
    const char *rest;
    long long n;

    if (!parse_ll_prefix(s, &n, &rest))
        return false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(rest, units[i].suffix) != 0)
            continue;
        if (n > LLONG_MAX / units[i].unit || n < LLONG_MIN / units[i].unit)
            return false;
        *out = n * units[i].unit;
        return true;
    }
    return false;
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Octal digits only, with or without the leading 0: "0660" and "660" are the same mode. */
static bool parse_mode(const char *s, long long *out)
{
    long long n = 0;

    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '7' || n > 07777)
            return false;
        n = n * 8 + (*s - '0');
    }
    *out = n;
    return true;
}

static const char *parse_level(const conf_entry *e, const char *s)
{
    const char *const *words = conf_words[e->max];

    for (size_t i = 0; words[i] != NULL; i++) {
        if (strcasecmp(s, words[i]) == 0)
            return words[i];
    }
    return NULL;
}

/* One "host:port" or "[v6]:port" of n bytes; false with why. The cluster client splits
 * addresses with the same parser (addr.h), so what passes here it can dial. */
static bool check_node(const char *a, size_t n, char *why, size_t whylen)
{
    char host[CONF_NODE_ADDR_MAX + 1];
    int port;

    if (n > CONF_NODE_ADDR_MAX) {
        snprintf(why, whylen, "'%.*s' is longer than %d bytes", (int)n, a, CONF_NODE_ADDR_MAX);
        return false;
    }
    return addr_split(a, n, host, sizeof(host), &port, why, whylen);
}

/* Comma-separated host:port entries, blanks around each allowed (the cluster client
 * splits on commas and blanks alike); from min to max entries. */
static bool check_nodes(const conf_entry *e, const char *s, char *why, size_t whylen)
{
    long long count = 0;
    const char *p = s;

    for (;;) {
        const char *start, *end;

        while (*p == ' ' || *p == '\t')
            p++;
        start = p;
        while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        end = p;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '\0' && *p != ',') {
            snprintf(why, whylen,
                     "entry %lld has a blank inside; expected host:port entries "
                     "separated by commas",
                     count + 1);
            return false;
        }
        if (start == end) {
            if (count == 0 && *p == '\0')
                snprintf(why, whylen,
                         "expected a comma-separated list of host:port, such as "
                         "127.0.0.1:9001");
            else
                snprintf(why, whylen,
                         "entry %lld is empty; expected host:port entries "
                         "separated by commas",
                         count + 1);
            return false;
        }
        if (!check_node(start, (size_t)(end - start), why, whylen))
            return false;
        if (++count > e->max) {
            snprintf(why, whylen, "more than %lld nodes", e->max);
            return false;
        }
        if (*p == '\0')
            break;
        p++;
    }
    if (count < e->min) {
        snprintf(why, whylen, "fewer than %lld nodes", e->min);
        return false;
    }
    return true;
}

static void replace_string(conf *c, const conf_entry *e, const char *value)
{
    char **slot = string_field(c, e);

    free(*slot);
    *slot = xstrdup(value);
}

/* Parses value for e and stores it in c; c is untouched when it fails. */
static int set_entry(conf *c, const conf_entry *e, const char *value, char *err, size_t errlen)
{
    char why[512] = "";
    long long n = 0;
    bool ok = false, b = false;
    const char *level = NULL;

    if (value == NULL) {
        snprintf(err, errlen, "no value given for %s", e->name);
        return -1;
    }
    switch (e->type) {
    case CONF_STR:
        n = (long long)strlen(value);
        ok = n >= e->min && n <= e->max;
        break;
    case CONF_NODES:
        ok = check_nodes(e, value, why, sizeof(why));
        break;
    case CONF_LEVEL:
        ok = (level = parse_level(e, value)) != NULL;
        break;
    case CONF_INT:
    case CONF_LONG:
        ok = parse_ll(value, e->min, e->max, &n);
        break;
    case CONF_SIZE:
        ok = parse_size(value, &n) && n >= e->min && n <= e->max;
        break;
    case CONF_BOOL:
        ok = parse_bool(value, &b);
        break;
    case CONF_MODE:
        ok = parse_mode(value, &n) && n >= e->min && n <= e->max;
        break;
    }
    if (!ok) {
        if (why[0] == '\0')
            expectation(e, why, sizeof(why));
        snprintf(err, errlen, "invalid value '%s' for %s: %s", value, e->name, why);
        return -1;
    }
    switch (e->type) {
    case CONF_STR:
    case CONF_NODES:
        replace_string(c, e, value);
        break;
    case CONF_LEVEL:
        replace_string(c, e, level);
        break;
    case CONF_INT:
    case CONF_MODE:
        *(int *)field(c, e) = (int)n;
        break;
    case CONF_LONG:
    case CONF_SIZE:
        *(long *)field(c, e) = (long)n;
        break;
    case CONF_BOOL:
        *(bool *)field(c, e) = b;
        break;
    }
    return 0;
}

/* "1048576 (1m)": sizes read better with the suffix an operator would write. */
static void size_text(long long n, char *buf, size_t len)
{
    if (n != 0 && n % CONF_GIB == 0)
        snprintf(buf, len, "%lld (%lldg)", n, n / CONF_GIB);
    else if (n != 0 && n % CONF_MIB == 0)
        snprintf(buf, len, "%lld (%lldm)", n, n / CONF_MIB);
    else if (n != 0 && n % CONF_KIB == 0)
        snprintf(buf, len, "%lld (%lldk)", n, n / CONF_KIB);
    else
        snprintf(buf, len, "%lld", n);
}

static void expectation(const conf_entry *e, char *buf, size_t len)
{
    char lo[48], hi[48];

    switch (e->type) {
    case CONF_STR:
        if (e->max == CONF_UNBOUNDED)
            snprintf(buf, len, "expected at least %lld bytes", e->min);
        else if (e->min == 1)
            snprintf(buf, len, "expected a non-empty string of at most %lld bytes", e->max);
        else
            snprintf(buf, len, "expected a string of %lld to %lld bytes", e->min, e->max);
        break;
    case CONF_NODES:
        snprintf(buf, len, "expected a comma-separated list of host:port");
        break;
    case CONF_LEVEL: {
        size_t used = (size_t)snprintf(buf, len, "expected one of");
        for (size_t i = 0; conf_words[e->max][i] != NULL && used < len; i++)
            used += (size_t)snprintf(buf + used, len - used, "%s %s", i == 0 ? "" : ",",
                                     conf_words[e->max][i]);
        break;
    }
    case CONF_INT:
    case CONF_LONG:
        snprintf(buf, len, "expected an integer from %lld to %lld", e->min, e->max);
        break;
    case CONF_SIZE:
        size_text(e->min, lo, sizeof(lo));
        size_text(e->max, hi, sizeof(hi));
        snprintf(buf, len,
                 "expected a size in bytes from %s to %s; k, m and g suffixes are "
                 "powers of 1024",
                 lo, hi);
        break;
    case CONF_BOOL:
        snprintf(buf, len, "expected yes or no (or true/false, on/off, 1/0)");
        break;
    case CONF_MODE:
        snprintf(buf, len, "expected octal permission bits from %04llo to %04llo, such as %s",
                 (unsigned long long)e->min, (unsigned long long)e->max, e->def);
        break;
    }
}

/* ---- names -------------------------------------------------------------------------- */

static const char *entry_key(const conf_entry *e)
{
    return e->name + e->seclen + 1;
}

static bool section_is(const conf_entry *e, const char *section, size_t seclen)
{
    return e->seclen == seclen && strncasecmp(e->name, section, seclen) == 0;
}

static const conf_entry *find(const char *section, size_t seclen, const char *key)
{
    for (size_t i = 0; i < CONF_N; i++) {
        if (section_is(&entries[i], section, seclen) &&
            strcasecmp(entry_key(&entries[i]), key) == 0)
            return &entries[i];
    }
    return NULL;
}

/* The first entry with this key in any section: "did you mean" hints. */
static const conf_entry *find_key(const char *key)
{
    for (size_t i = 0; i < CONF_N; i++) {
        if (strcasecmp(entry_key(&entries[i]), key) == 0)
            return &entries[i];
    }
    return NULL;
}

static bool known_section(const char *section)
{
    for (size_t i = 0; i < CONF_N; i++) {
        if (section_is(&entries[i], section, strlen(section)))
            return true;
    }
    return false;
}

/* "[sidecar], [cluster], [retry], [log]", in table order. */
static void section_list(char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < CONF_N && used < len; i++) {
        if (i > 0 && entries[i].seclen == entries[i - 1].seclen &&
            strncmp(entries[i].name, entries[i - 1].name, entries[i].seclen) == 0)
            continue;
        used += (size_t)snprintf(buf + used, len - used, "%s[%.*s]", used == 0 ? "" : ", ",
                                 (int)entries[i].seclen, entries[i].name);
    }
}

/* ---- whole structs ------------------------------------------------------------------ */

void conf_free(conf *c)
{
    for (size_t i = 0; i < CONF_N; i++) {
        if (is_string(&entries[i])) {
            char **slot = string_field(c, &entries[i]);
            free(*slot);
            *slot = NULL;
        }
    }
}

int conf_init(conf *c)
{
    char err[256];

    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < CONF_N; i++) {
        if (set_entry(c, &entries[i], entries[i].def, err, sizeof(err)) != 0) {
            conf_free(c);
            return -1;
        }
    }
    return 0;
}

/* A deep copy, so that a file can be applied to the copy and thrown away if it is bad. */
static void copy_conf(conf *dst, const conf *src)
{
    *dst = *src;
    for (size_t i = 0; i < CONF_N; i++) {
        if (!is_string(&entries[i]))
            continue;
        const char *s = *(char *const *)cfield(src, &entries[i]);
        *string_field(dst, &entries[i]) = s != NULL ? xstrdup(s) : NULL;
    }
}

int conf_set(conf *c, const char *name, const char *value, char *err, size_t errlen)
{
    const char *dot = strchr(name, '.');
    const conf_entry *e, *hint;

    if (dot == NULL) {
        snprintf(err, errlen, "unknown key '%s': keys are named section.key", name);
        return -1;
    }
    e = find(name, (size_t)(dot - name), dot + 1);
    if (e == NULL) {
        hint = find_key(dot + 1);
        if (hint != NULL)
            snprintf(err, errlen, "unknown key '%s' (did you mean %s?)", name, hint->name);
        else
            snprintf(err, errlen, "unknown key '%s'", name);
        return -1;
    }
    return set_entry(c, e, value, err, errlen);
}

/* ---- files -------------------------------------------------------------------------- */

typedef struct load_ctx {
    conf *c;
    FILE *f;
    const char *path;
    int line;        /* the line inih is working on, counted by the reader */
    bool line_ended; /* the last read reached the end of its line */
    bool indented;   /* the current line starts with a blank */
    int err_line;    /* where this module found the first error, 0: none yet */
    int read_errno;  /* why the last read failed, for "cannot read" */
    char *err;
    size_t errlen;
} load_ctx;

static void load_error(load_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Keeps only the first error: inih goes on reading after one, and later lines may fail
 * only because of it. */
static void load_error(load_ctx *x, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (x->err_line != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    x->err_line = x->line;
    snprintf(x->err, x->errlen, "%s:%d: %s", x->path, x->line, msg);
}

/* fgets for inih that also counts lines, since inih does not tell its handler where it
 * is, and notices lines too long for inih's buffer, which it would cut silently. */
static char *read_line(char *buf, int size, void *arg)
{
    load_ctx *x = arg;
    size_t n;

    errno = 0;
    if (fgets(buf, size, x->f) == NULL) {
        x->read_errno = errno;
        return NULL;
    }
    if (x->line_ended) {
        x->line++;
        x->indented = buf[0] == ' ' || buf[0] == '\t';
    }
    n = strlen(buf);
    x->line_ended = n > 0 && buf[n - 1] == '\n';
    if (!x->line_ended) {
        int ch = getc(x->f);
        if (ch == EOF) {
            x->line_ended = true; /* a last line without a newline */
        } else {
            ungetc(ch, x->f);
            load_error(x, "line longer than %d bytes", size - 2);
        }
    }
    return buf;
}

static int handle_pair(void *arg, const char *section, const char *key, const char *value)
{
    load_ctx *x = arg;
    const conf_entry *e, *hint;
    char msg[1024], list[128];

    if (x->err_line != 0)
        return 0;
    /* inih takes an indented line after a key as more of that key's value; no key here
     * spans lines, so such a line is a mistake, reported rather than half applied. */
    if (x->indented) {
        load_error(x, "indented line; a key must start at the beginning of its line");
        return 0;
    }
    if (section[0] == '\0') {
        hint = find_key(key);
        if (hint != NULL)
            load_error(x, "key '%s' is outside any section (it belongs in [%.*s])", key,
                       (int)hint->seclen, hint->name);
        else
            load_error(x, "key '%s' is outside any section", key);
        return 0;
    }
    if (!known_section(section)) {
        section_list(list, sizeof(list));
        load_error(x, "unknown section [%s] (sections are %s)", section, list);
        return 0;
    }
    e = find(section, strlen(section), key);
    if (e == NULL) {
        hint = find_key(key);
        if (hint != NULL)
            load_error(x, "unknown key '%s' in section [%s] (it belongs in [%.*s])", key, section,
                       (int)hint->seclen, hint->name);
        else
            load_error(x, "unknown key '%s' in section [%s]", key, section);
        return 0;
    }
    if (set_entry(x->c, e, value, msg, sizeof(msg)) != 0) {
        load_error(x, "%s", msg);
        return 0;
    }
    return 1;
}

int conf_load_file(conf *c, const char *path, char *err, size_t errlen)
{
    load_ctx x = {.path = path, .line_ended = true, .err = err, .errlen = errlen};
    conf work;
    int rc;

    x.f = fopen(path, "r");
    if (x.f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    /* The file goes onto a copy, so that a bad file leaves c as it was. */
    copy_conf(&work, c);
    x.c = &work;
    rc = ini_parse_stream(read_line, &x, handle_pair, &x);
    if (ferror(x.f)) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(x.read_errno));
        rc = -1;
    } else if (rc == -2) {
        snprintf(err, errlen, "%s: out of memory", path);
    } else if (rc > 0 && (x.err_line == 0 || rc < x.err_line)) {
        /* inih's own complaint (no '=' on a line, no ']' after a section) came first. */
        snprintf(err, errlen, "%s:%d: syntax error", path, rc);
    } else if (x.err_line != 0) {
        rc = -1; /* err already says why */
    }
    fclose(x.f);
    if (rc != 0) {
        conf_free(&work);
        return -1;
    }
    conf_free(c);
    *c = work;
    return 0;
}

/* ---- checks across keys ------------------------------------------------------------- */

/* [metrics] listen: a socket path, or a numeric IP address and port evhttp can bind. */
static bool check_metrics_listen(const char *v, char *why, size_t whylen)
{
    char host[CONF_NODE_ADDR_MAX + 1];
    unsigned char sa[sizeof(struct in6_addr)];
    int port;

    if (v[0] == '\0' || v[0] == '/')
        return true;
    if (!addr_split(v, strlen(v), host, sizeof(host), &port, why, whylen))
        return false;
    if (host[0] == '[') { /* [v6] */
        size_t n = strlen(host);
        memmove(host, host + 1, n - 2);
        host[n - 2] = '\0';
    }
    if (inet_pton(AF_INET, host, sa) != 1 && inet_pton(AF_INET6, host, sa) != 1) {
        snprintf(why, whylen, "'%s' is not an IP address (or a socket path starting with /)", host);
        return false;
    }
    return true;
}

int conf_validate(const conf *c, char *err, size_t errlen)
{
    static const char *const tls_keys[] = {"tls_ca", "tls_cert", "tls_key", "tls_server_name"};
    const char *const tls_values[] = {c->cluster.tls_ca, c->cluster.tls_cert, c->cluster.tls_key,
                                      c->cluster.tls_server_name};
    char why[256];

    /* a TLS file given with tls off would leave the operator believing the link encrypted */
    for (size_t i = 0; i < 4 && !c->cluster.tls; i++) {
        if (tls_values[i][0] != '\0') {
            snprintf(err, errlen, "cluster.%s is set but cluster.tls is off: set tls = yes",
                     tls_keys[i]);
            return -1;
        }
    }
    if ((c->cluster.tls_cert[0] != '\0') != (c->cluster.tls_key[0] != '\0')) {
        snprintf(err, errlen,
                 "cluster.tls_cert and cluster.tls_key go together: set both or "
                 "neither");
        return -1;
    }

    if (!check_metrics_listen(c->metrics.listen, why, sizeof(why))) {
        snprintf(err, errlen, "invalid value '%s' for metrics.listen: %s", c->metrics.listen, why);
        return -1;
    }
    if (c->retry.max_delay_ms < c->retry.initial_delay_ms) {
        snprintf(err, errlen,
                 "retry.max_delay_ms (%d) must not be smaller than retry.initial_delay_ms (%d)",
                 c->retry.max_delay_ms, c->retry.initial_delay_ms);
        return -1;
    }
    /* A request carrying one bulk of max_bulk bytes must fit the request limit, or the
     * largest value the sidecar claims to take could never be sent. */
    if (c->sidecar.query_buffer_limit < c->sidecar.max_bulk) {
        snprintf(err, errlen,
                 "sidecar.query_buffer_limit (%ld) must not be smaller than sidecar.max_bulk "
                 "(%ld)",
                 c->sidecar.query_buffer_limit, c->sidecar.max_bulk);
        return -1;
    }
    return 0;
}

/* ---- the table, for listings -------------------------------------------------------- */

size_t conf_count(void)
{
    return CONF_N;
}

const char *conf_name(size_t i)
{
    return i < CONF_N ? entries[i].name : NULL;
}

const char *conf_help(size_t i)
{
    return i < CONF_N ? entries[i].help : NULL;
}

const char *conf_default(size_t i)
{
    return i < CONF_N ? entries[i].def : NULL;
}

bool conf_reloadable(size_t i)
{
    return i < CONF_N && entries[i].reloadable;
}

void conf_value(const conf *c, size_t i, char *buf, size_t len)
{
    const conf_entry *e;
    const char *s;

    if (len == 0)
        return;
    buf[0] = '\0';
    if (i >= CONF_N)
        return;
    e = &entries[i];
    switch (e->type) {
    case CONF_STR:
    case CONF_NODES:
    case CONF_LEVEL:
        s = *(char *const *)cfield(c, e);
        snprintf(buf, len, "%s", s != NULL ? s : "");
        break;
    case CONF_INT:
        snprintf(buf, len, "%d", *(const int *)cfield(c, e));
        break;
    case CONF_MODE:
        snprintf(buf, len, "%04o", (unsigned)*(const int *)cfield(c, e));
        break;
    case CONF_LONG:
    case CONF_SIZE:
        snprintf(buf, len, "%ld", *(const long *)cfield(c, e));
        break;
    case CONF_BOOL:
        snprintf(buf, len, "%s", *(const bool *)cfield(c, e) ? "yes" : "no");
        break;
    }
}

/* ---- glob --------------------------------------------------------------------------- */

int conf_glob_bounded(const char *pattern, const char *name, long *budget)
{
    return glob_match(pattern, strlen(pattern), name, strlen(name), true, budget);
}

bool conf_glob(const char *pattern, const char *name)
{
    long unlimited = LONG_MAX;

    return conf_glob_bounded(pattern, name, &unlimited) == 1;
}

/* ---- the example file --------------------------------------------------------------- */

/* text as "# " comment lines of at most 80 columns, broken between words. */
static void print_comment(FILE *f, const char *text)
{
    const size_t width = 80 - 2;
    const char *p = text;

    while (*p != '\0') {
        size_t used = 0;
        fputs("#", f);
        while (*p != '\0') {
            size_t w = strcspn(p, " ");
            if (used > 0 && used + 1 + w > width)
                break;
            fprintf(f, " %.*s", (int)w, p);
            used += (used > 0) + w;
            p += w;
            while (*p == ' ')
                p++;
        }
        fputs("\n", f);
    }
}

static const char example_header[] =
    "norikv-sidecar configuration. Every key is listed below with its default value, so "
    "this file as shipped changes nothing; edit a line to change a setting. Any key can "
    "also be set on the command line as --section.key=value, which overrides this file. "
    "`norikv-sidecar -t` checks a file and exits.";

static const char example_syntax[] =
    "Values are written without quotes: everything after '=' is the value, up to the end of "
    "the line or a ';' that follows a blank. Keys and section names are case-insensitive.";

void conf_print_example(FILE *f)
{
    print_comment(f, example_header);
    fputs("#\n", f);
    print_comment(f, example_syntax);
    for (size_t i = 0; i < CONF_N; i++) {
        const conf_entry *e = &entries[i];
        if (i == 0 || !section_is(e, entries[i - 1].name, entries[i - 1].seclen))
            fprintf(f, "\n[%.*s]\n", (int)e->seclen, e->name);
        fputs("\n", f);
        print_comment(f, e->help);
        fputs(e->reloadable ? "# reloadable on SIGHUP\n" : "# needs a restart\n", f);
        if (e->def[0] != '\0')
            fprintf(f, "%s = %s\n", entry_key(e), e->def);
        else
            fprintf(f, "%s =\n", entry_key(e));
    }
}

void conf_kv_config(const conf *c, kv_config *kc)
{
    memset(kc, 0, sizeof(*kc));
    kc->nodes = c->cluster.nodes;
    kc->total_shards = (uint32_t)c->cluster.total_shards;
    kc->timeout_ms = c->cluster.timeout_ms;
    kc->connect_timeout_ms = c->cluster.connect_timeout_ms;
    kc->probe_interval_ms = c->cluster.probe_interval_ms;
    kc->channels_per_node = c->cluster.channels_per_node;
    kc->watch_cluster = c->cluster.watch_cluster;
    kc->retry.max_attempts = c->retry.max_attempts;
    kc->retry.initial_delay_ms = c->retry.initial_delay_ms;
    kc->retry.max_delay_ms = c->retry.max_delay_ms;
    kc->retry.jitter_ms = c->retry.jitter_ms;
    kc->tls.enabled = c->cluster.tls;
    kc->tls.ca_file = c->cluster.tls_ca;
    kc->tls.cert_file = c->cluster.tls_cert;
    kc->tls.key_file = c->cluster.tls_key;
    kc->tls.server_name = c->cluster.tls_server_name;
}

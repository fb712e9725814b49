/*
 * norikv-devnode: a NoriKV-compatible node set for development, tests and benchmarks.
 * Parses options, builds the context, starts one gRPC server per node, runs the loop,
 * and shuts down cleanly on SIGTERM. Not a store for production data: everything is
 * in memory and gone when it exits.
 */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <grpc/grpc.h>
#include <grpc/support/log.h>

#include "config.h"
#include "dn_cluster.h"
#include "dn_control.h"
#include "dn_kv.h"
#include "dn_server.h"
#include "dn_vector.h"
#include "file.h"
#include "parse.h"
#include "route.h"

static const char usage[] =
    "Usage: norikv-devnode [OPTION]...\n"
    "A NoriKV-compatible node set for development, tests and benchmarks: the NoriKV gRPC\n"
    "contract (Kv, Meta/WatchCluster, Vector, Admin) served from memory, with fault\n"
    "injection. Not for production data: nothing is persisted.\n"
    "\n"
    "Profiles (a switch below overrides its profile's setting, in whatever order given):\n"
    "  --profile real|friendly\n"
    "                         real (the default) behaves as the real NoriKV server:\n"
    "                           --view per-node --idempotency node --no-vector\n"
    "                           --no-transfer-shard --leaders shuffle\n"
    "                           --commit-tick-ms 150 --fresh-shard-ms 250\n"
    "                           --start-delay-ms 500 --propose-race-us 1000\n"
    "                         friendly is the devnode's older, easier cluster:\n"
    "                           --view cluster --idempotency cluster --vector\n"
    "                           --transfer-shard --leaders round-robin\n"
    "                           --commit-tick-ms 0 --fresh-shard-ms 0 --start-delay-ms 0\n"
    "                           --propose-race-us 0\n"
    "                         Both serve Admin/SnapshotShard and accept keepalive pings\n"
    "                         as the server's gRPC (tonic) does (--pings accept).\n"
    "\n"
    "Cluster:\n"
    "  --nodes N              nodes to run, on consecutive ports (default 1, at most 64)\n"
    "  --base-port P          port of node 1; node K listens on P+K-1 (default 9001)\n"
    "  --host ADDR            address to listen on (default 127.0.0.1)\n"
    "  --total-shards N       shards keys hash into, as the server's cluster.total_shards\n"
    "                         (default 1024)\n"
    "  --leaders round-robin|shuffle\n"
    "                         first leaders: shard S led by node S % N + 1 (a client's own\n"
    "                         guess before its first view), or a seeded shuffle of that\n"
    "                         balanced assignment, so only about 1/N of the shards are led\n"
    "                         where a client guesses (profile real: shuffle)\n"
    "  --leader-seed N        seed of the leader shuffle (default 1: runs are reproducible)\n"
    "  --control PATH         control socket (Unix), one command per line, answers\n"
    "                         'OK ...' or 'ERR ...'; commands below\n"
    "  --election-ms MS       delay before a dead node's shards get new leaders (default 300)\n"
    "  --view-interval-ms MS  WatchCluster pushes a view with a new epoch this often\n"
    "                         (default 1000, as the real server)\n"
    "  --seed N               seed for the fault generator (default: from the clock)\n"
    "\n"
    "Behaviour:\n"
    "  --idempotency cluster|node\n"
    "                         one idempotency cache for the whole cluster, or one per node\n"
    "                         as the real server keeps it (a retry that lands on a new\n"
    "                         leader is then applied again; a revived node forgets)\n"
    "                         (profile real: node; friendly: cluster)\n"
    "  --not-leader unavailable|failed-precondition\n"
    "                         UNAVAILABLE \"NOT_LEADER\" (default, the real server), or the SDK\n"
    "                         mocks' FAILED_PRECONDITION \"NOT_LEADER: <hint or unknown>\"\n"
    "  --leader-hint none|leader-hint|x-norikv-leader\n"
    "                         trailer that names the leader on NOT_LEADER (default none: the\n"
    "                         real server never sends one on Kv calls)\n"
    "  --hint-form addr|raft  hint as host:port (default) or as a Raft id nodeK-shardN\n"
    "  --fresh-shard-ms MS    every node answers NOT_LEADER for the first MS ms after a shard\n"
    "                         is first touched, as the real server's lazy shard election\n"
    "                         (profile real: 250; friendly: 0)\n"
    "  --commit-tick-ms MS    Put and Delete are checked (sizes, idempotency, if_match,\n"
    "                         leader) when they arrive, then applied and answered on the\n"
    "                         node's next tick of MS ms, as the real server's Raft commits\n"
    "                         on its heartbeat: a lone write takes up to MS, and two\n"
    "                         conditional Puts on one version within a tick both succeed\n"
    "                         (profile real: 150; friendly: 0, at once)\n"
    "  --start-delay-ms MS    listen only MS ms after starting, as the real server opens\n"
    "                         its gRPC port about 500 ms after it starts (profile real:\n"
    "                         500; friendly: 0); a revived node listens at once\n"
    "  --propose-race-us US   with a commit tick, a Put or Delete arriving within US us of\n"
    "                         the previous write to its shard, in the same tick, gets that\n"
    "                         write's version and is not applied: the real server gives\n"
    "                         writes to one shard that arrive together one log index,\n"
    "                         acknowledges each and keeps one (profile real: 1000; friendly:\n"
    "                         0)\n"
    "  --missing-key ok|not-found\n"
    "                         a missing key reads as OK without a version (default, the real\n"
    "                         server) or as NOT_FOUND \"key not found\" (Go/Java test servers)\n"
    "  --view cluster|per-node\n"
    "                         views list every node and every shard with its leader, or, as\n"
    "                         the real server, only the node itself at 0.0.0.0:port, its\n"
    "                         peers at their SWIM ports (port+1000), the shards it has\n"
    "                         touched with itself as the only replica, and a per-node epoch\n"
    "                         (profile real: per-node; friendly: cluster)\n"
    "  --vector, --no-vector  serve the Vector service from memory, or answer every Vector\n"
    "                         call UNIMPLEMENTED as the real server does (profile real:\n"
    "                         --no-vector; friendly: --vector)\n"
    "  --transfer-shard, --no-transfer-shard\n"
    "                         serve Admin/TransferShard (the replica with leader=true names\n"
    "                         the new leader), or answer it UNIMPLEMENTED as the real server\n"
    "                         does (profile real: --no-transfer-shard; friendly: served)\n"
    "  --tls-cert FILE, --tls-key FILE\n"
    "                         serve TLS with this PEM certificate (chain) and its key\n"
    "                         instead of plaintext, on every node (both or neither)\n"
    "  --pings accept|police  accept client keepalive pings at any rate, as tonic does\n"
    "                         (default), or police them as gRPC core's defaults: GOAWAY\n"
    "                         \"too_many_pings\" after pings more often than every 5 minutes\n"
    "                         with no call in flight\n"
    "\n"
    "Admin/SnapshotShard is served on every profile: for a shard below --total-shards it\n"
    "answers OK with the shard's id and one replica, the node asked, with leader=true when\n"
    "that node leads the shard; NOT_FOUND \"Shard N not found\" otherwise.\n"
    "\n"
    "Control commands (nodes numbered from 1; N = 0 means every node where allowed):\n"
    "  kill N                 stop node N: its port refuses connections, its calls are\n"
    "                         cancelled, its shards get new leaders after --election-ms\n"
    "  revive N               start node N again on its port (it leads nothing until moved)\n"
    "  move SHARD N           make node N the leader of SHARD now (every profile)\n"
    "  latency N MS           delay every call on node N (0: all) by MS before serving it\n"
    "  fail N RATE STATUS     fail a fraction RATE (0..1) of calls on node N (0: all) with\n"
    "                         STATUS, a gRPC code name such as UNAVAILABLE or INTERNAL\n"
    "  lose-reply RATE        apply a fraction RATE of writes, then fail them UNAVAILABLE\n"
    "  clear                  remove every fault\n"
    "  leader SHARD           the node leading SHARD (0 while electing)\n"
    "  stats                  one JSON object: puts_applied, deletes_applied,\n"
    "                         idempotent_replays, duplicate_applies (a Put whose key and\n"
    "                         value equal an earlier applied Put of that key), calls, ...\n"
    "\n"
    "  -h, --help             this text\n"
    "  -V, --version          the version\n"
    "\n"
    "It prints one line per node once every node listens, and exits cleanly on SIGTERM or\n"
    "SIGINT.\n";

enum {
    OPT_NODES = 256,
    OPT_BASE_PORT,
    OPT_HOST,
    OPT_TOTAL_SHARDS,
    OPT_CONTROL,
    OPT_ELECTION,
    OPT_VIEW_INTERVAL,
    OPT_SEED,
    OPT_IDEM,
    OPT_NOT_LEADER,
    OPT_HINT,
    OPT_HINT_FORM,
    OPT_FRESH,
    OPT_COMMIT_TICK,
    OPT_START_DELAY,
    OPT_PROPOSE_RACE,
    OPT_MISSING,
    OPT_VIEW,
    OPT_NO_VECTOR,
    OPT_PROFILE,
    OPT_VECTOR,
    OPT_TRANSFER,
    OPT_NO_TRANSFER,
    OPT_LEADERS,
    OPT_LEADER_SEED,
    OPT_PINGS,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
};

static const struct option long_opts[] = {
    {"nodes", required_argument, NULL, OPT_NODES},
    {"base-port", required_argument, NULL, OPT_BASE_PORT},
    {"host", required_argument, NULL, OPT_HOST},
    {"total-shards", required_argument, NULL, OPT_TOTAL_SHARDS},
    {"control", required_argument, NULL, OPT_CONTROL},
    {"election-ms", required_argument, NULL, OPT_ELECTION},
    {"view-interval-ms", required_argument, NULL, OPT_VIEW_INTERVAL},
    {"seed", required_argument, NULL, OPT_SEED},
    {"idempotency", required_argument, NULL, OPT_IDEM},
    {"not-leader", required_argument, NULL, OPT_NOT_LEADER},
    {"leader-hint", required_argument, NULL, OPT_HINT},
    {"hint-form", required_argument, NULL, OPT_HINT_FORM},
    {"fresh-shard-ms", required_argument, NULL, OPT_FRESH},
    {"commit-tick-ms", required_argument, NULL, OPT_COMMIT_TICK},
    {"start-delay-ms", required_argument, NULL, OPT_START_DELAY},
    {"propose-race-us", required_argument, NULL, OPT_PROPOSE_RACE},
    {"missing-key", required_argument, NULL, OPT_MISSING},
    {"view", required_argument, NULL, OPT_VIEW},
    {"no-vector", no_argument, NULL, OPT_NO_VECTOR},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"vector", no_argument, NULL, OPT_VECTOR},
    {"transfer-shard", no_argument, NULL, OPT_TRANSFER},
    {"no-transfer-shard", no_argument, NULL, OPT_NO_TRANSFER},
    {"leaders", required_argument, NULL, OPT_LEADERS},
    {"leader-seed", required_argument, NULL, OPT_LEADER_SEED},
    {"pings", required_argument, NULL, OPT_PINGS},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static int bad_option(const char *name, const char *value, const char *expected)
{
    fprintf(stderr, "norikv-devnode: invalid value '%s' for --%s: expected %s\n", value, name,
            expected);
    return -1;
}

static int parse_int(const char *name, const char *s, long long lo, long long hi, long long *out)
{
    if (!parse_ll(s, lo, hi, out)) {
        char expected[64];
        snprintf(expected, sizeof(expected), "an integer from %lld to %lld", lo, hi);
        return bad_option(name, s, expected);
    }
    return 0;
}

/* Index of value in the NULL-terminated list words, or -1 with a message. */
static int parse_word(const char *name, const char *value, const char *const *words,
                      const char *expected)
{
    for (int i = 0; words[i] != NULL; i++)
        if (strcmp(value, words[i]) == 0)
            return i;
    return bad_option(name, value, expected);
}

/* The settings a profile stands for; the switches given on their own are applied after. */
static void apply_profile(dn_opts *o, bool friendly)
{
    o->view = friendly ? DN_VIEW_CLUSTER : DN_VIEW_PER_NODE;
    o->idem_per_node = !friendly;
    o->vector = friendly;
    o->transfer_shard = friendly;
    o->leaders = friendly ? DN_LEADERS_ROUND_ROBIN : DN_LEADERS_SHUFFLE;
    /* the server's timings, as measured on norikv-server 390efce (README: "NoriKV server
     * behaviours the sidecar works around") */
    o->commit_tick_ms = friendly ? 0 : 150;
    o->fresh_shard_ms = friendly ? 0 : 250;
    o->start_delay_ms = friendly ? 0 : 500;
    o->propose_race_us = friendly ? 0 : 1000;
}

/* First pass: only --profile (the last one given), so that every other switch overrides
 * it wherever it stands. Errors in other options are left to the second pass. */
static int parse_profile(int argc, char **argv, dn_opts *o)
{
    static const char *const profiles[] = {"real", "friendly", NULL};
    int c, w = 0, saved = opterr;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "hV", long_opts, NULL)) != -1)
        if (c == OPT_PROFILE &&
            (w = parse_word("profile", optarg, profiles, "real or friendly")) < 0)
            break;
    opterr = saved;
    optind = 0; /* glibc: start the next scan afresh */
    if (w < 0)
        return -1;
    apply_profile(o, w == 1);
    return 0;
}

static int parse_args(int argc, char **argv, dn_opts *o)
{
    static const char *const idem[] = {"cluster", "node", NULL};
    static const char *const nl[] = {"unavailable", "failed-precondition", NULL};
    static const char *const hint[] = {"none", "leader-hint", "x-norikv-leader", NULL};
    static const char *const form[] = {"addr", "raft", NULL};
    static const char *const missing[] = {"ok", "not-found", NULL};
    static const char *const view[] = {"cluster", "per-node", NULL};
    static const char *const leaders[] = {"round-robin", "shuffle", NULL};
    static const char *const pings[] = {"accept", "police", NULL};
    long long v;
    int c, w;

    if (parse_profile(argc, argv, o) != 0)
        return -1;
    while ((c = getopt_long(argc, argv, "hV", long_opts, NULL)) != -1) {
        const char *name = "";
        for (const struct option *lo = long_opts; lo->name != NULL; lo++)
            if (lo->val == c)
                name = lo->name;
        switch (c) {
        case 'h':
            fputs(usage, stdout);
            exit(0);
        case 'V':
            printf("norikv-devnode %s\n", PACKAGE_VERSION);
            exit(0);
        case OPT_NODES:
            if (parse_int(name, optarg, 1, DN_MAX_NODES, &v))
                return -1;
            o->nodes = (int)v;
            break;
        case OPT_BASE_PORT:
            if (parse_int(name, optarg, 1, 65535, &v))
                return -1;
            o->base_port = (int)v;
            break;
        case OPT_HOST:
            o->host = optarg;
            break;
        case OPT_TOTAL_SHARDS:
            if (parse_int(name, optarg, 1, 1 << 20, &v))
                return -1;
            o->total_shards = (uint32_t)v;
            break;
        case OPT_CONTROL:
            o->control_path = optarg;
            break;
        case OPT_ELECTION:
            if (parse_int(name, optarg, 0, 600000, &v))
                return -1;
            o->election_ms = (int)v;
            break;
        case OPT_VIEW_INTERVAL:
            if (parse_int(name, optarg, 10, 3600000, &v))
                return -1;
            o->view_interval_ms = (int)v;
            break;
        case OPT_SEED:
            if (parse_int(name, optarg, 0, LONG_MAX, &v))
                return -1;
            o->seed = (uint64_t)v;
            break;
        case OPT_FRESH:
            if (parse_int(name, optarg, 0, 600000, &v))
                return -1;
            o->fresh_shard_ms = (int)v;
            break;
        case OPT_COMMIT_TICK:
            if (parse_int(name, optarg, 0, 60000, &v))
                return -1;
            o->commit_tick_ms = (int)v;
            break;
        case OPT_START_DELAY:
            if (parse_int(name, optarg, 0, 60000, &v))
                return -1;
            o->start_delay_ms = (int)v;
            break;
        case OPT_PROPOSE_RACE:
            if (parse_int(name, optarg, 0, 1000000, &v))
                return -1;
            o->propose_race_us = (int)v;
            break;
        case OPT_IDEM:
            if ((w = parse_word(name, optarg, idem, "cluster or node")) < 0)
                return -1;
            o->idem_per_node = w == 1;
            break;
        case OPT_NOT_LEADER:
            if ((w = parse_word(name, optarg, nl, "unavailable or failed-precondition")) < 0)
                return -1;
            o->not_leader = (dn_not_leader_style)w;
            break;
        case OPT_HINT:
            if ((w = parse_word(name, optarg, hint, "none, leader-hint or x-norikv-leader")) < 0)
                return -1;
            o->hint_key = (dn_hint_key)w;
            break;
        case OPT_HINT_FORM:
            if ((w = parse_word(name, optarg, form, "addr or raft")) < 0)
                return -1;
            o->hint_form = (dn_hint_form)w;
            break;
        case OPT_MISSING:
            if ((w = parse_word(name, optarg, missing, "ok or not-found")) < 0)
                return -1;
            o->missing_not_found = w == 1;
            break;
        case OPT_VIEW:
            if ((w = parse_word(name, optarg, view, "cluster or per-node")) < 0)
                return -1;
            o->view = (dn_view_style)w;
            break;
        case OPT_NO_VECTOR:
        case OPT_VECTOR:
            o->vector = c == OPT_VECTOR;
            break;
        case OPT_TRANSFER:
        case OPT_NO_TRANSFER:
            o->transfer_shard = c == OPT_TRANSFER;
            break;
        case OPT_LEADERS:
            if ((w = parse_word(name, optarg, leaders, "round-robin or shuffle")) < 0)
                return -1;
            o->leaders = (dn_leaders)w;
            break;
        case OPT_LEADER_SEED:
            if (parse_int(name, optarg, 0, LLONG_MAX, &v))
                return -1;
            o->leader_seed = (uint64_t)v;
            break;
        case OPT_PINGS:
            if ((w = parse_word(name, optarg, pings, "accept or police")) < 0)
                return -1;
            o->police_pings = w == 1;
            break;
        case OPT_TLS_CERT:
            o->tls_cert = optarg;
            break;
        case OPT_TLS_KEY:
            o->tls_key = optarg;
            break;
        case OPT_PROFILE:
            break; /* applied by parse_profile */
        default:
            fprintf(stderr, "Try 'norikv-devnode --help' for more information.\n");
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "norikv-devnode: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if ((o->tls_cert != NULL) != (o->tls_key != NULL)) {
        fprintf(stderr, "norikv-devnode: --tls-cert and --tls-key go together\n");
        return -1;
    }
    if (o->base_port + o->nodes - 1 > 65535) {
        fprintf(stderr, "norikv-devnode: --base-port %d leaves no room for %d nodes\n",
                o->base_port, o->nodes);
        return -1;
    }
    return 0;
}

static void begin_shutdown(devnode *d)
{
    d->shutting_down = true;
    dn_control_close(d);
    if (d->tick != NULL)
        event_del(d->tick);
    if (d->election != NULL)
        event_del(d->election);
    for (int i = 0; i < d->o.nodes; i++)
        dn_server_stop(d, &d->nodes[i], NULL, NULL);
    if (d->servers_stopping == 0)
        event_base_loopbreak(d->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    devnode *d = arg;

    (void)what;
    if (d->shutting_down) {
        fprintf(stderr, "norikv-devnode: second signal %d, exiting now\n", (int)sig);
        _exit(1);
    }
    begin_shutdown(d);
}

/* gRPC's own log lines go to stderr only when they are errors. */
static void grpc_log(gpr_log_func_args *args)
{
    if (args->severity == GPR_LOG_SEVERITY_ERROR)
        fprintf(stderr, "norikv-devnode: grpc: %s\n", args->message);
}

static int setup(devnode *d)
{
    char err[512];

    if (d->o.tls_cert != NULL &&
        ((d->tls_cert_pem = file_read_all(d->o.tls_cert, 1 << 20, err, sizeof(err))) == NULL ||
         (d->tls_key_pem = file_read_all(d->o.tls_key, 1 << 20, err, sizeof(err))) == NULL)) {
        fprintf(stderr, "norikv-devnode: %s\n", err);
        return -1;
    }
    if ((d->base = event_base_new()) == NULL || (d->eg = evgrpc_new(d->base)) == NULL)
        return -1;
    for (int i = 0; i < d->o.nodes; i++) {
        dn_node *n = &d->nodes[i];
        n->index = i;
        n->port = d->o.base_port + i;
        n->alive = true;
        n->epoch = 1;
        snprintf(n->id, sizeof(n->id), "node%d", i + 1);
        snprintf(n->addr, sizeof(n->addr), "%s:%d", d->o.host, n->port);
    }
    if (dn_cluster_init(d))
        return -1;
    dn_kv_init(d);
    dn_vector_init(d);
    d->sigterm = evsignal_new(d->base, SIGTERM, on_signal, d);
    d->sigint = evsignal_new(d->base, SIGINT, on_signal, d);
    if (d->sigterm == NULL || d->sigint == NULL || event_add(d->sigterm, NULL) ||
        event_add(d->sigint, NULL))
        return -1;
    if (d->o.control_path != NULL && dn_control_open(d, d->o.control_path) != 0)
        return -1;
    if (d->o.start_delay_ms > 0) /* the server creates shard 0, then waits, then listens */
        usleep((useconds_t)d->o.start_delay_ms * 1000);
    for (int i = 0; i < d->o.nodes; i++)
        if (dn_server_start(d, &d->nodes[i]) != 0)
            return -1;
    return 0;
}

static void teardown(devnode *d)
{
    if (d->eg != NULL) {
        /* Servers that did start must be down before the queue goes. */
        if (!d->shutting_down) {
            begin_shutdown(d);
            if (d->servers_stopping > 0)
                event_base_dispatch(d->base);
        }
        evgrpc_free(d->eg);
    }
    dn_control_close(d);
    if (d->sigterm != NULL)
        event_free(d->sigterm);
    if (d->sigint != NULL)
        event_free(d->sigint);
    dn_cluster_free(d);
    dn_kv_free(d);
    dn_vector_free(d);
    if (d->base != NULL)
        event_base_free(d->base);
    free(d->tls_cert_pem);
    free(d->tls_key_pem);
}

int main(int argc, char **argv)
{
    devnode d;
    int rc = 1;

    memset(&d, 0, sizeof(d));
    d.o.nodes = 1;
    d.o.base_port = 9001;
    d.o.host = "127.0.0.1";
    d.o.total_shards = ROUTE_DEFAULT_TOTAL_SHARDS;
    d.o.election_ms = 300;
    d.o.view_interval_ms = 1000;
    d.o.leader_seed = 1;
    d.o.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    if (parse_args(argc, argv, &d.o) != 0)
        return 2;
    d.rng = d.o.seed ? d.o.seed : 0x9e3779b97f4a7c15ULL;

    signal(SIGPIPE, SIG_IGN);
    gpr_set_log_function(grpc_log);
    grpc_init();
    if (setup(&d) == 0) {
        for (int i = 0; i < d.o.nodes; i++)
            printf("norikv-devnode: %s ready on %s\n", d.nodes[i].id, d.nodes[i].addr);
        fflush(stdout);
        event_base_dispatch(d.base);
        rc = 0;
    }
    teardown(&d);
    grpc_shutdown_blocking();
    libevent_global_shutdown();
    return rc;
}

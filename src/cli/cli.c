/*
 * norikv-cli: a command-line NoriKV client on the cluster client module. For operators
 * (put, get, del, vectors, topology, stats) and as the direct-client baseline the
 * sidecar is measured against (bench). Results go to stdout, errors to stderr with a
 * non-zero exit: 1 for "not found", 2 for usage, 3 for a failed operation.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/event.h>

#include "config.h"
#include "clock.h"
#include "kv.h"
#include "log.h"
#include "parse.h"
#include "xalloc.h"

static const char usage[] =
    "Usage: norikv-cli [OPTION]... COMMAND [ARG]...\n"
    "A NoriKV client: routes each key to its shard's leader, follows redirects, retries with\n"
    "backoff under one deadline, and attaches an idempotency key to every write.\n"
    "\n"
    "Commands:\n"
    "  put KEY VALUE [--ttl-ms MS] [--idempotency-key K] [--if-match TERM:INDEX]\n"
    "                       write; prints the new version as TERM:INDEX\n"
    "  get KEY [--consistency lease|linearizable|stale_ok]\n"
    "                       print the value; exit 1 when the key does not exist\n"
    "  del KEY [--idempotency-key K]\n"
    "                       delete; prints the version of the tombstone\n"
    "  vcreate NS DIMS euclidean|cosine|inner_product [--type hnsw|brute_force]\n"
    "  vdrop NS\n"
    "  vinsert NS ID F1,F2,...      prints the version\n"
    "  vdelete NS ID\n"
    "  vsearch NS K F1,F2,... [--with-vectors] [--consistency ...]\n"
    "                       one line per match: ID DISTANCE [F1,F2,...]\n"
    "  vget NS ID           print the vector; exit 1 when it does not exist\n"
    "  topology             the cluster view: epoch, nodes, leaders per node\n"
    "  stats                the client's statistics once the view is known (JSON)\n"
    "  bench [--ops N] [--concurrency C] [--mix GET:SET] [--value-size B] [--keys K]\n"
    "                       load the cluster and print ops/s and p50/p99/p999 latency\n"
    "\n"
    "Options:\n"
    "  --nodes HOST:PORT,...  seed nodes (default 127.0.0.1:9001)\n"
    "  --total-shards N       the cluster's shard count (default 1024)\n"
    "  --timeout-ms MS        deadline of each operation, all retries included (5000)\n"
    "  --channels N           gRPC channels per node (default 2)\n"
    "  --no-watch             do not watch the cluster view\n"
    "  --tls                  TLS to the nodes (also implied by the --tls-* options below)\n"
    "  --tls-ca FILE          PEM roots the nodes' certificates must chain to (default:\n"
    "                         gRPC's roots)\n"
    "  --tls-cert FILE, --tls-key FILE\n"
    "                         a client certificate and its key, for mutual TLS\n"
    "  --tls-server-name NAME the name the nodes' certificates carry (default: the host)\n"
    "  -h, --help, -V, --version\n"
    "\n"
    "Exit status: 0 done, 1 not found, 2 usage error, 3 the operation failed.\n";

enum {
    O_NODES = 256,
    O_SHARDS,
    O_TIMEOUT,
    O_CHANNELS,
    O_NO_WATCH,
    O_TTL,
    O_IDEM,
    O_IF_MATCH,
    O_CONSISTENCY,
    O_TYPE,
    O_WITH_VECTORS,
    O_OPS,
    O_CONCURRENCY,
    O_MIX,
    O_VALUE_SIZE,
    O_KEYS,
    O_TLS,
    O_TLS_CA,
    O_TLS_CERT,
    O_TLS_KEY,
    O_TLS_NAME,
};

static const struct option long_opts[] = {
    {"nodes", required_argument, NULL, O_NODES},
    {"total-shards", required_argument, NULL, O_SHARDS},
    {"timeout-ms", required_argument, NULL, O_TIMEOUT},
    {"channels", required_argument, NULL, O_CHANNELS},
    {"no-watch", no_argument, NULL, O_NO_WATCH},
    {"ttl-ms", required_argument, NULL, O_TTL},
    {"idempotency-key", required_argument, NULL, O_IDEM},
    {"if-match", required_argument, NULL, O_IF_MATCH},
    {"consistency", required_argument, NULL, O_CONSISTENCY},
    {"type", required_argument, NULL, O_TYPE},
    {"with-vectors", no_argument, NULL, O_WITH_VECTORS},
    {"ops", required_argument, NULL, O_OPS},
    {"concurrency", required_argument, NULL, O_CONCURRENCY},
    {"mix", required_argument, NULL, O_MIX},
    {"value-size", required_argument, NULL, O_VALUE_SIZE},
    {"keys", required_argument, NULL, O_KEYS},
    {"tls", no_argument, NULL, O_TLS},
    {"tls-ca", required_argument, NULL, O_TLS_CA},
    {"tls-cert", required_argument, NULL, O_TLS_CERT},
    {"tls-key", required_argument, NULL, O_TLS_KEY},
    {"tls-server-name", required_argument, NULL, O_TLS_NAME},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

typedef struct cli {
    struct event_base *base;
    kv_client *kv;
    kv_config cfg;
    /* command options */
    uint64_t ttl_ms;
    const char *idem;
    bool has_if_match;
    kv_version if_match;
    kv_consistency consistency;
    kv_index_type index_type;
    bool with_vectors;
    /* bench */
    long ops, concurrency, value_size, keys;
    int mix_get, mix_set;
    /* the outcome */
    int exit_code;
    bool done;
} cli;

static int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail_usage(const char *fmt, ...)
{
    va_list ap;

    fputs("norikv-cli: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'norikv-cli --help' for more information.\n", stderr);
    return 2;
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    long long v;

    if (!parse_ll(s, lo, hi, &v))
        return false;
    *out = (long)v;
    return true;
}

static bool parse_version(const char *s, kv_version *v)
{
    unsigned long long t, i;
    char tail;

    if (sscanf(s, "%llu:%llu%c", &t, &i, &tail) != 2)
        return false;
    v->term = t;
    v->index = i;
    return true;
}

/* "1.5,-2,3e-1" -> floats; NULL (with *n = 0) when malformed. */
static float *parse_floats(const char *s, size_t *n)
{
    size_t cap = 1;
    float *v;
    char *end;

    for (const char *p = s; *p; p++)
        cap += *p == ',';
    v = xcalloc(cap, sizeof(*v));
    *n = 0;
    while (*s != '\0') {
        errno = 0;
        v[*n] = strtof(s, &end);
        if (end == s || errno != 0 || !isfinite(v[*n]) || (*end != ',' && *end != '\0')) {
            free(v);
            *n = 0;
            return NULL;
        }
        (*n)++;
        s = *end == ',' ? end + 1 : end;
    }
    if (*n == 0) {
        free(v);
        return NULL;
    }
    return v;
}

static void print_floats(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%s%.9g", i ? "," : "", (double)v[i]);
}

/* ---- single operations -------------------------------------------------------------- */

static void stop(cli *c, int code)
{
    c->exit_code = code;
    c->done = true;
    event_base_loopbreak(c->base);
}

static bool failed(cli *c, const kv_result *r)
{
    if (r->err == KV_OK)
        return false;
    fprintf(stderr, "norikv-cli: %s: %s\n", kv_err_name(r->err), r->message);
    stop(c, 3);
    return true;
}

/* Gets: an error, or no such key or vector (exit status 1), ends the command here. */
static bool failed_or_missing(cli *c, const kv_result *r)
{
    if (failed(c, r))
        return true;
    if (r->found)
        return false;
    fprintf(stderr, "norikv-cli: not found\n");
    stop(c, 1);
    return true;
}

/* put and vinsert: the new version */
static void on_version(const kv_result *r, void *arg)
{
    cli *c = arg;

    if (failed(c, r))
        return;
    printf("%" PRIu64 ":%" PRIu64 "\n", r->version.term, r->version.index);
    stop(c, 0);
}

static void on_get(const kv_result *r, void *arg)
{
    cli *c = arg;

    if (failed_or_missing(c, r))
        return;
    fwrite(r->value, 1, r->value_len, stdout);
    putchar('\n');
    stop(c, 0);
}

static void on_del(const kv_result *r, void *arg)
{
    cli *c = arg;

    if (failed(c, r))
        return;
    printf("%s %" PRIu64 ":%" PRIu64 "\n", r->tombstoned ? "tombstoned" : "absent", r->version.term,
           r->version.index);
    stop(c, 0);
}

static void on_flag(const kv_result *r, void *arg, const char *yes, const char *no)
{
    cli *c = arg;

    if (failed(c, r))
        return;
    printf("%s\n", r->flag ? yes : no);
    stop(c, 0);
}

static void on_vcreate(const kv_result *r, void *arg)
{
    on_flag(r, arg, "created", "exists");
}

static void on_vdrop(const kv_result *r, void *arg)
{
    on_flag(r, arg, "dropped", "absent");
}

static void on_vdelete(const kv_result *r, void *arg)
{
    on_flag(r, arg, "deleted", "absent");
}

static void on_vsearch(const kv_result *r, void *arg)
{
    cli *c = arg;

    if (failed(c, r))
        return;
    for (size_t i = 0; i < r->n_matches; i++) {
        printf("%s %.9g", r->matches[i].id, (double)r->matches[i].distance);
        if (r->matches[i].vector != NULL) {
            putchar(' ');
            print_floats(r->matches[i].vector, r->matches[i].dims);
        }
        putchar('\n');
    }
    printf("search_time_us %" PRIu64 "\n", r->search_time_us);
    stop(c, 0);
}

static void on_vget(const kv_result *r, void *arg)
{
    cli *c = arg;

    if (failed_or_missing(c, r))
        return;
    print_floats(r->vector, r->dims);
    putchar('\n');
    stop(c, 0);
}

/* ---- topology and stats ------------------------------------------------------------- */

static void print_topology(cli *c)
{
    size_t n;
    const kv_view_node *nodes = kv_view_nodes(c->kv, &n);
    kv_stats st;

    kv_get_stats(c->kv, &st);
    printf("epoch %" PRIu64 "\n", st.topology_current_epoch);
    for (size_t i = 0; i < n; i++) {
        unsigned leads = 0;
        for (uint32_t s = 0; s < st.router_total_shards; s++) {
            const char *a = kv_shard_leader(c->kv, s);
            leads += a != NULL && strcmp(a, nodes[i].addr) == 0;
        }
        printf("node %s %s %s leads %u shards\n", nodes[i].id, nodes[i].addr, nodes[i].role, leads);
    }
    printf("shards %" PRIu64 " listed, %" PRIu64 " with a known leader, of %" PRIu64 "\n",
           st.topology_total_shards, st.router_cached_leaders, st.router_total_shards);
}

static void print_nodes_json(cli *c)
{
    printf(",\"nodes\":[");
    for (int i = 0; i < kv_node_count(c->kv); i++) {
        kv_node_info ni;
        kv_node_get(c->kv, i, &ni);
        printf("%s{\"addr\":\"%s\",\"id\":\"%s\",\"seed\":%s,\"down\":%s,\"channels\":%d,"
               "\"calls\":%" PRIu64 ",\"failures\":%" PRIu64 "}",
               i ? "," : "", ni.addr, ni.id, ni.seed ? "true" : "false", ni.down ? "true" : "false",
               ni.channels, ni.calls, ni.failures);
    }
    printf("]");
}

/* The client's statistics as JSON, section by section from kv.h's table (the same names
 * as the sidecar's NORI.STATS), with the pool's nodes. */
static void print_stats(cli *c)
{
    kv_stats st;
    const char *open = NULL, *sep = "{";

    kv_get_stats(c->kv, &st);
#define X(section, name, kind, help)                                                               \
    if (open == NULL || strcmp(open, #section) != 0) {                                             \
        if (open != NULL && strcmp(open, "pool") == 0)                                             \
            print_nodes_json(c);                                                                   \
        printf("%s%s\"%s\":{", open != NULL ? "}" : "", sep, #section);                            \
        open = #section;                                                                           \
        sep = ",";                                                                                 \
    } else {                                                                                       \
        putchar(',');                                                                              \
    }                                                                                              \
    if (&st.section##_##name == &st.topology_current_epoch && !st.has_view)                        \
        printf("\"%s\":null", #name);                                                              \
    else                                                                                           \
        printf("\"%s\":%" PRIu64, #name, st.section##_##name);
    KV_STATS_TABLE(X)
#undef X
    printf("}}\n");
}

/* Waits until the first view arrived (or the timeout), then prints. */
typedef struct view_wait {
    cli *c;
    struct event *ev;
    int64_t until;
    void (*print)(cli *c);
} view_wait;

static void on_view_poll(evutil_socket_t fd, short what, void *arg)
{
    view_wait *w = arg;
    kv_stats st;

    (void)fd;
    (void)what;
    kv_get_stats(w->c->kv, &st);
    if (st.has_view || clock_now_ms() >= w->until) {
        if (!st.has_view && w->print == print_topology) {
            fprintf(stderr, "norikv-cli: UNAVAILABLE: no cluster view within %d ms\n",
                    w->c->cfg.timeout_ms);
            stop(w->c, 3);
            return;
        }
        w->print(w->c);
        stop(w->c, 0);
        return;
    }
    struct timeval tv = {0, 20000};
    evtimer_add(w->ev, &tv);
}

/* ---- bench -------------------------------------------------------------------------- */

typedef struct bench {
    cli *c;
    long issued, completed, target, errors, measured_from;
    int64_t started_ns, measure_start_ns;
    int64_t measure_start_cpu_us; /* the process' CPU time (all threads) when measuring began */
    int64_t *lat;                 /* per measured op, ns */
    char *value;
    uint64_t rng;
    bool preloading;
    long preload_next;
} bench;

typedef struct bench_op {
    bench *b;
    int64_t t0;
} bench_op;

static uint64_t bench_rand(bench *b)
{
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    return b->rng;
}

static void bench_issue(bench *b);

static void bench_done(const kv_result *r, void *arg)
{
    bench_op *o = arg;
    bench *b = o->b;

    if (r->err != KV_OK) {
        if (b->errors++ < 5)
            fprintf(stderr, "norikv-cli: bench: %s: %s\n", kv_err_name(r->err), r->message);
    }
    if (!b->preloading) {
        long i = b->completed - b->measured_from;
        if (i >= 0 && i < b->target)
            b->lat[i] = clock_now_ns() - o->t0;
    }
    b->completed++;
    free(o);
    bench_issue(b);
}

/* User and system CPU time of the whole process (gRPC's threads included), µs */
static int64_t cpu_time_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static void bench_report(bench *b)
{
    cli *c = b->c;
    double secs = (double)(clock_now_ns() - b->measure_start_ns) / 1e9;
    long n = b->target;
    double ops = (double)n / secs;
    double cpu_us = (double)(cpu_time_us() - b->measure_start_cpu_us) / (double)n;

    qsort(b->lat, (size_t)n, sizeof(*b->lat), cmp_i64);
    double p50 = (double)b->lat[n / 2] / 1000.0, p99 = (double)b->lat[(n * 99) / 100] / 1000.0,
           p999 = (double)b->lat[(n * 999) / 1000] / 1000.0;
    printf("ops %ld, concurrency %ld, mix %d:%d (get:set), value %ld bytes, keys %ld\n", n,
           c->concurrency, c->mix_get, c->mix_set, c->value_size, c->keys);
    printf("throughput %.0f ops/s\n", ops);
    printf("latency p50 %.0f us, p99 %.0f us, p999 %.0f us\n", p50, p99, p999);
    printf("errors %ld\n", b->errors);
    printf("cpu %.1f us per op (this process, all threads, measured ops only)\n", cpu_us);
    printf("bench: ops_per_sec=%.0f p50_us=%.0f p99_us=%.0f p999_us=%.0f errors=%ld "
           "cpu_us_per_op=%.1f\n",
           ops, p50, p99, p999, b->errors, cpu_us);
}

static void bench_issue(bench *b)
{
    cli *c = b->c;
    char key[64];
    bench_op *o;
    long k;

    if (b->preloading) {
        /* Write every key once so gets find values; not measured. */
        if (b->preload_next < c->keys) {
            k = b->preload_next++;
        } else if (b->completed < c->keys) {
            return; /* the last preload writes are still out */
        } else {
            b->preloading = false;
            b->completed = b->issued = 0;
            b->measured_from = c->concurrency * 4; /* the first ops warm up */
            b->target = c->ops;
            b->measure_start_ns = 0;
            for (long i = 0; i < c->concurrency; i++)
                bench_issue(b);
            return;
        }
        snprintf(key, sizeof(key), "bench:%ld", k);
        o = xcalloc(1, sizeof(*o));
        o->b = b;
        kv_put_args pa = {key, strlen(key), b->value, (size_t)c->value_size, 0, NULL, NULL, 0};
        kv_put(c->kv, &pa, bench_done, o);
        return;
    }
    if (b->completed == b->measured_from && b->measure_start_ns == 0) {
        b->measure_start_ns = clock_now_ns();
        b->measure_start_cpu_us = cpu_time_us();
    }
    if (b->completed >= b->measured_from + b->target) {
        bench_report(b);
        stop(c, b->errors ? 3 : 0);
        return;
    }
    if (b->issued >= b->measured_from + b->target)
        return;
    b->issued++;
    k = (long)(bench_rand(b) % (uint64_t)c->keys);
    snprintf(key, sizeof(key), "bench:%ld", k);
    o = xcalloc(1, sizeof(*o));
    o->b = b;
    o->t0 = clock_now_ns();
    if ((long)(bench_rand(b) % (uint64_t)(c->mix_get + c->mix_set)) < c->mix_get) {
        kv_get_args ga = {key, strlen(key), KV_LEASE, 0};
        kv_get(c->kv, &ga, bench_done, o);
    } else {
        kv_put_args pa = {key, strlen(key), b->value, (size_t)c->value_size, 0, NULL, NULL, 0};
        kv_put(c->kv, &pa, bench_done, o);
    }
}

static int run_bench(cli *c)
{
    bench b;

    memset(&b, 0, sizeof(b));
    b.c = c;
    b.rng = 0x2545F4914F6CDD1DULL;
    b.lat = xcalloc((size_t)c->ops, sizeof(*b.lat));
    b.value = xmalloc((size_t)c->value_size + 1);
    memset(b.value, 'v', (size_t)c->value_size);
    b.preloading = true;
    for (long i = 0; i < c->concurrency && i < c->keys; i++)
        bench_issue(&b);
    event_base_dispatch(c->base);
    free(b.lat);
    free(b.value);
    return c->exit_code;
}

/* ---- main --------------------------------------------------------------------------- */

static int need(int argc, int want, const char *cmd)
{
    return argc == want ? 0
                        : fail_usage("%s takes %d argument%s", cmd, want - 1, want == 2 ? "" : "s");
}

static int run(cli *c, int argc, char **argv)
{
    const char *cmd = argv[0];
    char err[256];
    size_t dims;
    float *vec = NULL;
    long n;
    view_wait vw;

    c->kv = kv_client_new(c->base, &c->cfg, err, sizeof(err));
    if (c->kv == NULL)
        return fail_usage("%s", err);
    c->exit_code = 3;
    if (strcmp(cmd, "put") == 0) {
        if (need(argc, 3, cmd))
            return 2;
        kv_put_args a = {argv[1],
                         strlen(argv[1]),
                         argv[2],
                         strlen(argv[2]),
                         c->ttl_ms,
                         c->idem,
                         c->has_if_match ? &c->if_match : NULL,
                         0};
        if (kv_put(c->kv, &a, on_version, c) == NULL && c->done)
            return c->exit_code;
    } else if (strcmp(cmd, "get") == 0) {
        if (need(argc, 2, cmd))
            return 2;
        kv_get_args a = {argv[1], strlen(argv[1]), c->consistency, 0};
        if (kv_get(c->kv, &a, on_get, c) == NULL && c->done)
            return c->exit_code;
    } else if (strcmp(cmd, "del") == 0) {
        if (need(argc, 2, cmd))
            return 2;
        kv_del_args a = {argv[1], strlen(argv[1]), c->idem, c->has_if_match ? &c->if_match : NULL,
                         0};
        if (kv_del(c->kv, &a, on_del, c) == NULL && c->done)
            return c->exit_code;
    } else if (strcmp(cmd, "vcreate") == 0) {
        kv_distance d;
        if (need(argc, 4, cmd))
            return 2;
        if (!parse_long(argv[2], 1, KV_VECTOR_DIM_LIMIT, &n))
            return fail_usage("DIMS must be 1..%u", KV_VECTOR_DIM_LIMIT);
        if (strcmp(argv[3], "euclidean") == 0)
            d = KV_DIST_EUCLIDEAN;
        else if (strcmp(argv[3], "cosine") == 0)
            d = KV_DIST_COSINE;
        else if (strcmp(argv[3], "inner_product") == 0)
            d = KV_DIST_INNER_PRODUCT;
        else
            return fail_usage("distance must be euclidean, cosine or inner_product");
        kv_vcreate_args a = {argv[1], (uint32_t)n, d, c->index_type, c->idem, 0};
        if (kv_vcreate(c->kv, &a, on_vcreate, c) == NULL && c->done)
            return c->exit_code;
    } else if (strcmp(cmd, "vdrop") == 0) {
        if (need(argc, 2, cmd))
            return 2;
        kv_vdrop_args a = {argv[1], c->idem, 0};
        if (kv_vdrop(c->kv, &a, on_vdrop, c) == NULL && c->done)
            return c->exit_code;
    } else if (strcmp(cmd, "vinsert") == 0) {
        if (need(argc, 4, cmd))
            return 2;
        if ((vec = parse_floats(argv[3], &dims)) == NULL)
            return fail_usage("the vector must be numbers separated by commas");
        kv_vinsert_args a = {argv[1], argv[2], vec, dims, c->idem, 0};
        if (kv_vinsert(c->kv, &a, on_version, c) == NULL && c->done) {
            free(vec);
            return c->exit_code;
        }
    } else if (strcmp(cmd, "vdelete") == 0) {
        if (need(argc, 3, cmd))
            return 2;
        kv_vdelete_args a = {argv[1], argv[2], c->idem, 0};
        if (kv_vdelete(c->kv, &a, on_vdelete, c) == NULL && c->done)
            return c->exit_code;
    } else if (strcmp(cmd, "vsearch") == 0) {
        if (need(argc, 4, cmd))
            return 2;
        if (!parse_long(argv[2], 1, 1000000, &n))
            return fail_usage("K must be a positive number");
        if ((vec = parse_floats(argv[3], &dims)) == NULL)
            return fail_usage("the query must be numbers separated by commas");
        kv_vsearch_args a = {argv[1], vec, dims, (uint32_t)n, c->with_vectors, c->consistency, 0};
        if (kv_vsearch(c->kv, &a, on_vsearch, c) == NULL && c->done) {
            free(vec);
            return c->exit_code;
        }
    } else if (strcmp(cmd, "vget") == 0) {
        if (need(argc, 3, cmd))
            return 2;
        kv_vget_args a = {argv[1], argv[2], c->consistency, 0};
        if (kv_vget(c->kv, &a, on_vget, c) == NULL && c->done)
            return c->exit_code;
    } else if (strcmp(cmd, "topology") == 0 || strcmp(cmd, "stats") == 0) {
        if (need(argc, 1, cmd))
            return 2;
        vw.c = c;
        vw.until = clock_now_ms() + c->cfg.timeout_ms;
        vw.print = cmd[0] == 't' ? print_topology : print_stats;
        vw.ev = evtimer_new(c->base, on_view_poll, &vw);
        on_view_poll(-1, 0, &vw);
        if (!c->done)
            event_base_dispatch(c->base);
        event_free(vw.ev);
        return c->exit_code;
    } else if (strcmp(cmd, "bench") == 0) {
        if (need(argc, 1, cmd))
            return 2;
        return run_bench(c);
    } else {
        return fail_usage("unknown command '%s'", cmd);
    }
    if (!c->done)
        event_base_dispatch(c->base);
    free(vec);
    return c->exit_code;
}

int main(int argc, char **argv)
{
    cli c;
    long v;
    int opt, rc;

    memset(&c, 0, sizeof(c));
    /* a one-shot tool: the error it exits with says what went wrong, without the
     * cluster client's notes on nodes going down and up */
    log_ident = "norikv-cli";
    log_current = LOG_ERROR;
    kv_config_default(&c.cfg);
    c.ops = 100000;
    c.concurrency = 50;
    c.value_size = 100;
    c.keys = 10000;
    c.mix_get = 1;
    c.mix_set = 1;
    while ((opt = getopt_long(argc, argv, "hV", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'h':
            fputs(usage, stdout);
            return 0;
        case 'V':
            printf("norikv-cli %s\n", PACKAGE_VERSION);
            return 0;
        case O_NODES:
            c.cfg.nodes = optarg;
            break;
        case O_SHARDS:
            if (!parse_long(optarg, 1, 1 << 20, &v))
                return fail_usage("--total-shards must be 1..%d", 1 << 20);
            c.cfg.total_shards = (uint32_t)v;
            break;
        case O_TIMEOUT:
            if (!parse_long(optarg, 1, 3600000, &v))
                return fail_usage("--timeout-ms must be 1..3600000");
            c.cfg.timeout_ms = (int)v;
            break;
        case O_CHANNELS:
            if (!parse_long(optarg, 1, 64, &v))
                return fail_usage("--channels must be 1..64");
            c.cfg.channels_per_node = (int)v;
            break;
        case O_NO_WATCH:
            c.cfg.watch_cluster = false;
            break;
        case O_TLS:
            c.cfg.tls.enabled = true;
            break;
        case O_TLS_CA:
            c.cfg.tls.enabled = true;
            c.cfg.tls.ca_file = optarg;
            break;
        case O_TLS_CERT:
            c.cfg.tls.enabled = true;
            c.cfg.tls.cert_file = optarg;
            break;
        case O_TLS_KEY:
            c.cfg.tls.enabled = true;
            c.cfg.tls.key_file = optarg;
            break;
        case O_TLS_NAME:
            c.cfg.tls.enabled = true;
            c.cfg.tls.server_name = optarg;
            break;
        case O_TTL:
            if (!parse_long(optarg, 0, LONG_MAX, &v))
                return fail_usage("--ttl-ms must be a number of milliseconds");
            c.ttl_ms = (uint64_t)v;
            break;
        case O_IDEM:
            c.idem = optarg;
            break;
        case O_IF_MATCH:
            if (!parse_version(optarg, &c.if_match))
                return fail_usage("--if-match takes TERM:INDEX, e.g. 0:42");
            c.has_if_match = true;
            break;
        case O_CONSISTENCY:
            if (!kv_consistency_parse(optarg, &c.consistency))
                return fail_usage("--consistency must be lease, linearizable or stale_ok");
            break;
        case O_TYPE:
            if (strcmp(optarg, "hnsw") == 0)
                c.index_type = KV_INDEX_HNSW;
            else if (strcmp(optarg, "brute_force") == 0)
                c.index_type = KV_INDEX_BRUTE_FORCE;
            else
                return fail_usage("--type must be hnsw or brute_force");
            break;
        case O_WITH_VECTORS:
            c.with_vectors = true;
            break;
        case O_OPS:
            if (!parse_long(optarg, 1, 100000000, &c.ops))
                return fail_usage("--ops must be a positive number");
            break;
        case O_CONCURRENCY:
            if (!parse_long(optarg, 1, 10000, &c.concurrency))
                return fail_usage("--concurrency must be 1..10000");
            break;
        case O_VALUE_SIZE:
            if (!parse_long(optarg, 0, KV_VALUE_LIMIT, &c.value_size))
                return fail_usage("--value-size must be 0..%u", KV_VALUE_LIMIT);
            break;
        case O_KEYS:
            if (!parse_long(optarg, 1, 100000000, &c.keys))
                return fail_usage("--keys must be a positive number");
            break;
        case O_MIX:
            if (sscanf(optarg, "%d:%d", &c.mix_get, &c.mix_set) != 2 || c.mix_get < 0 ||
                c.mix_set < 0 || c.mix_get + c.mix_set == 0)
                return fail_usage("--mix takes GET:SET ratios, e.g. 1:1 or 9:1");
            break;
        default:
            return fail_usage("unknown option");
        }
    }
    if (optind >= argc)
        return fail_usage("no command given");

    kv_global_init(NULL); /* the transport's own lines are debugging noise to a CLI user */
    c.base = event_base_new();
    rc = run(&c, argc - optind, argv + optind);
    fflush(stdout);
    kv_client_free(c.kv);
    event_base_free(c.base);
    kv_global_shutdown();
    libevent_global_shutdown();
    return rc;
}

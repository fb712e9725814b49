/*
 * check_conf: the configuration table. Every default, good and bad values of each type at
 * their bounds, exact error texts, files (good, bad at a known line, syntax errors,
 * missing), cross-key checks, Redis glob semantics, and that the shipped
 * conf/norikv-sidecar.conf is the generated example and loads as the defaults.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "conf.h"

/* ---- helpers ------------------------------------------------------------------------ */

static size_t index_of(const char *name)
{
    for (size_t i = 0; i < conf_count(); i++) {
        if (strcmp(conf_name(i), name) == 0)
            return i;
    }
    ck_abort_msg("no key %s in the table", name);
    return 0;
}

static const char *value_of(const conf *c, const char *name)
{
    static char buf[512];

    conf_value(c, index_of(name), buf, sizeof(buf));
    return buf;
}

/* A temporary file holding text; the caller unlinks it. */
static char *temp_file(const char *text)
{
    const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    char *path;
    FILE *f;
    int fd;

    ck_assert_int_gt(asprintf(&path, "%s/check_conf.XXXXXX", dir), 0);
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0 || text[0] == '\0', 1);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* "PATH:3: ..." with the real path in place of PATH. */
static char *with_path(const char *expected, const char *path)
{
    char *s;

    ck_assert_int_eq(strncmp(expected, "PATH", 4), 0);
    ck_assert_int_gt(asprintf(&s, "%s%s", path, expected + 4), 0);
    return s;
}

static char *example_text(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    ck_assert_ptr_nonnull(f);
    conf_print_example(f);
    ck_assert_int_eq(fclose(f), 0);
    return text;
}

/* ---- the table ---------------------------------------------------------------------- */

typedef struct key_row {
    const char *name;
    const char *def;
    bool reloadable;
    const char *other; /* a valid value that is not the default */
} key_row;

/* The keys as documented, in order. */
static const key_row keys[] = {
    {"sidecar.listen", "/run/norikv-sidecar/norikv.sock", false, "/tmp/other.sock"},
    {"sidecar.unix_mode", "0660", false, "0600"},
    {"sidecar.unix_group", "", false, "redis-apps"},
    {"sidecar.port", "0", false, "6380"},
    {"sidecar.max_clients", "10000", true, "5"},
    {"sidecar.requirepass", "", true, "s3cret"},
    {"sidecar.max_bulk", "1114112", true, "2048"},
    {"sidecar.max_args", "1048576", true, "7"},
    {"sidecar.query_buffer_limit", "67108864", true, "2097152"},
    {"sidecar.reply_backlog", "4194304", true, "65536"},
    {"sidecar.max_reply", "67108864", true, "65536"},
    {"sidecar.max_pending", "1024", true, "3"},
    {"sidecar.ordering", "connection", true, "key"},
    {"sidecar.string_format", "raw", true, "typed"},
    {"sidecar.timeout", "0", true, "300"},
    {"sidecar.cas_max_rounds", "16", true, "3"},
    {"sidecar.drain_accept_ms", "0", true, "1500"},
    {"sidecar.drain_timeout", "5", true, "120"},
    {"sidecar.slowlog_log_slower_than", "10000", true, "-1"},
    {"sidecar.slowlog_max_len", "128", true, "1024"},
    {"sidecar.latency_monitor_threshold", "0", true, "100"},
    {"cluster.nodes", "127.0.0.1:9001", false, "[::1]:7447,db1:9002"},
    {"cluster.total_shards", "1024", false, "16"},
    {"cluster.timeout_ms", "5000", true, "250"},
    {"cluster.connect_timeout_ms", "1000", true, "300"},
    {"cluster.probe_interval_ms", "500", true, "100"},
    {"cluster.channels_per_node", "2", false, "8"},
    {"cluster.watch_cluster", "yes", false, "no"},
    {"cluster.tls", "no", false, "yes"},
    {"cluster.tls_ca", "", false, "/etc/norikv/ca.pem"},
    {"cluster.tls_cert", "", false, "/etc/norikv/client.pem"},
    {"cluster.tls_key", "", false, "/etc/norikv/client.key"},
    {"cluster.tls_server_name", "", false, "norikv.internal"},
    {"retry.max_attempts", "10", true, "3"},
    {"retry.initial_delay_ms", "100", true, "1"},
    {"retry.max_delay_ms", "5000", true, "2"},
    {"retry.jitter_ms", "100", true, "0"},
    {"metrics.listen", "", false, "127.0.0.1:9121"},
    {"metrics.max_connections", "64", true, "8"},
    {"log.level", "notice", true, "debug"},
    {"log.format", "text", true, "json"},
};
#define NKEYS ((int)(sizeof(keys) / sizeof(keys[0])))

/* The cluster client gets [cluster] and [retry] as they are set. */
START_TEST(test_kv_config)
{
    conf c;
    kv_config kc;
    char err[256];

    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_int_eq(conf_set(&c, "cluster.nodes", "a:1,b:2", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "cluster.total_shards", "16", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "cluster.timeout_ms", "1234", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "cluster.connect_timeout_ms", "321", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "cluster.probe_interval_ms", "77", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "cluster.channels_per_node", "3", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "cluster.watch_cluster", "no", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "retry.max_attempts", "4", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "retry.initial_delay_ms", "5", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "retry.max_delay_ms", "60", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "retry.jitter_ms", "7", err, sizeof(err)), 0);
    conf_kv_config(&c, &kc);
    ck_assert_str_eq(kc.nodes, "a:1,b:2");
    ck_assert_uint_eq(kc.total_shards, 16);
    ck_assert_int_eq(kc.timeout_ms, 1234);
    ck_assert_int_eq(kc.connect_timeout_ms, 321);
    ck_assert_int_eq(kc.probe_interval_ms, 77);
    ck_assert_int_eq(kc.channels_per_node, 3);
    ck_assert(!kc.watch_cluster);
    ck_assert_int_eq(kc.retry.max_attempts, 4);
    ck_assert_int_eq(kc.retry.initial_delay_ms, 5);
    ck_assert_int_eq(kc.retry.max_delay_ms, 60);
    ck_assert_int_eq(kc.retry.jitter_ms, 7);
    conf_free(&c);
}
END_TEST

START_TEST(test_count_and_order)
{
    ck_assert_uint_eq(conf_count(), 41);
    ck_assert_uint_eq(conf_count(), (size_t)NKEYS);
    for (size_t i = 0; i < conf_count(); i++)
        ck_assert_str_eq(conf_name(i), keys[i].name);
    ck_assert_ptr_null(conf_name(conf_count()));
    ck_assert_ptr_null(conf_help(conf_count()));
    ck_assert_ptr_null(conf_default(conf_count()));
    ck_assert(!conf_reloadable(conf_count()));
}
END_TEST

START_TEST(test_default)
{
    const key_row *k = &keys[_i];
    size_t i = index_of(k->name);
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_str_eq(value_of(&c, k->name), k->def);
    ck_assert_str_eq(conf_default(i), k->def);
    ck_assert_msg(conf_reloadable(i) == k->reloadable, "%s reloadable", k->name);
    conf_free(&c);
}
END_TEST

/* Help is one or two sentences an operator can read: non-empty, ends with a period. */
START_TEST(test_help)
{
    const char *h = conf_help(index_of(keys[_i].name));
    size_t n = strlen(h), sentences = 0;

    ck_assert_uint_gt(n, 20);
    ck_assert_msg(h[n - 1] == '.', "%s: help ends without a period", keys[_i].name);
    for (const char *p = h; (p = strstr(p, ". ")) != NULL; p++)
        sentences++;
    ck_assert_msg(sentences + 1 <= 2, "%s: help has %zu sentences", keys[_i].name, sentences + 1);
}
END_TEST

START_TEST(test_struct_fields)
{
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_str_eq(c.sidecar.listen, "/run/norikv-sidecar/norikv.sock");
    ck_assert_int_eq(c.sidecar.unix_mode, 0660);
    ck_assert_int_eq(c.sidecar.port, 0);
    ck_assert_int_eq(c.sidecar.max_clients, 10000);
    ck_assert_str_eq(c.sidecar.requirepass, "");
    ck_assert_int_eq(c.sidecar.max_bulk, 1114112);
    ck_assert_int_eq(c.sidecar.max_args, 1048576);
    ck_assert_int_eq(c.sidecar.query_buffer_limit, 67108864);
    ck_assert_int_eq(c.sidecar.reply_backlog, 4194304);
    ck_assert_int_eq(c.sidecar.max_pending, 1024);
    ck_assert_int_eq(c.sidecar.timeout, 0);
    ck_assert_str_eq(c.cluster.nodes, "127.0.0.1:9001");
    ck_assert_int_eq(c.cluster.total_shards, 1024);
    ck_assert_int_eq(c.cluster.timeout_ms, 5000);
    ck_assert_int_eq(c.cluster.channels_per_node, 2);
    ck_assert(c.cluster.watch_cluster);
    ck_assert_int_eq(c.retry.max_attempts, 10);
    ck_assert_int_eq(c.retry.initial_delay_ms, 100);
    ck_assert_int_eq(c.retry.max_delay_ms, 5000);
    ck_assert_int_eq(c.retry.jitter_ms, 100);
    ck_assert_str_eq(c.log.level, "notice");
    /* and values land in the fields, not just in the text */
    ck_assert_int_eq(conf_set(&c, "sidecar.unix_mode", "600", NULL, 0), 0);
    ck_assert_int_eq(c.sidecar.unix_mode, 0600);
    ck_assert_int_eq(conf_set(&c, "sidecar.query_buffer_limit", "4g", NULL, 0), 0);
    ck_assert_int_eq(c.sidecar.query_buffer_limit, 4294967296L);
    ck_assert_int_eq(conf_set(&c, "cluster.watch_cluster", "off", NULL, 0), 0);
    ck_assert(!c.cluster.watch_cluster);
    ck_assert_int_eq(conf_set(&c, "retry.jitter_ms", "600000", NULL, 0), 0);
    ck_assert_int_eq(c.retry.jitter_ms, 600000);
    conf_free(&c);
}
END_TEST

START_TEST(test_init_uninitialised)
{
    conf c;

    memset(&c, 0xa5, sizeof(c)); /* garbage pointers must not be freed */
    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_str_eq(c.sidecar.listen, "/run/norikv-sidecar/norikv.sock");
    conf_free(&c);
    conf_free(&c); /* twice is harmless */
    ck_assert_ptr_null(c.sidecar.listen);
}
END_TEST

/* ---- single values ------------------------------------------------------------------ */

typedef struct value_row {
    const char *name;
    const char *value;
    const char *shown; /* conf_value afterwards; NULL: rejected, the default stays */
} value_row;

static const value_row values[] = {
    /* strings */
    {"sidecar.listen", "/tmp/s.sock", "/tmp/s.sock"},
    {"sidecar.listen", "relative.sock", "relative.sock"},
    {"sidecar.listen", "", NULL},
    {"sidecar.requirepass", "", ""},
    {"sidecar.requirepass", "pass word;#", "pass word;#"},
    /* octal modes */
    {"sidecar.unix_mode", "0660", "0660"},
    {"sidecar.unix_mode", "660", "0660"},
    {"sidecar.unix_mode", "00660", "0660"},
    {"sidecar.unix_mode", "0", "0000"},
    {"sidecar.unix_mode", "0777", "0777"},
    {"sidecar.unix_mode", "777", "0777"},
    {"sidecar.unix_mode", "1000", NULL},
    {"sidecar.unix_mode", "01000", NULL},
    {"sidecar.unix_mode", "0778", NULL},
    {"sidecar.unix_mode", "0x1b0", NULL},
    {"sidecar.unix_mode", "-1", NULL},
    {"sidecar.unix_mode", "rw-rw----", NULL},
    {"sidecar.unix_mode", "", NULL},
    /* integers at their bounds */
    {"sidecar.port", "0", "0"},
    {"sidecar.port", "65535", "65535"},
    {"sidecar.port", "-1", NULL},
    {"sidecar.port", "65536", NULL},
    {"sidecar.port", "99999", NULL},
    {"sidecar.port", "6380", "6380"},
    {"sidecar.port", "06380", "6380"},
    {"sidecar.port", " 6380", NULL},
    {"sidecar.port", "6380 ", NULL},
    {"sidecar.port", "+6380", NULL},
    {"sidecar.port", "0x18ec", NULL},
    {"sidecar.port", "6380x", NULL},
    {"sidecar.port", "", NULL},
    {"sidecar.port", "-", NULL},
    {"sidecar.port", "99999999999999999999999", NULL},
    {"sidecar.max_clients", "1", "1"},
    {"sidecar.max_clients", "0", NULL},
    {"sidecar.max_clients", "1000000", "1000000"},
    {"sidecar.max_clients", "1000001", NULL},
    {"sidecar.max_args", "1", "1"},
    {"sidecar.max_args", "0", NULL},
    {"sidecar.max_args", "2147483647", "2147483647"},
    {"sidecar.max_args", "2147483648", NULL},
    {"sidecar.max_pending", "1", "1"},
    {"sidecar.max_pending", "0", NULL},
    {"sidecar.max_pending", "1000000", "1000000"},
    {"sidecar.max_pending", "1000001", NULL},
    {"sidecar.timeout", "0", "0"},
    {"sidecar.timeout", "-1", NULL},
    {"sidecar.timeout", "31536000", "31536000"},
    {"sidecar.timeout", "31536001", NULL},
    {"cluster.total_shards", "1", "1"},
    {"cluster.total_shards", "0", NULL},
    {"cluster.total_shards", "1048576", "1048576"},
    {"cluster.total_shards", "1048577", NULL},
    {"cluster.timeout_ms", "1", "1"},
    {"cluster.timeout_ms", "0", NULL},
    {"cluster.timeout_ms", "3600000", "3600000"},
    {"cluster.timeout_ms", "3600001", NULL},
    {"cluster.connect_timeout_ms", "1", "1"},
    {"cluster.connect_timeout_ms", "0", NULL},
    {"cluster.connect_timeout_ms", "600000", "600000"},
    {"cluster.connect_timeout_ms", "600001", NULL},
    {"cluster.probe_interval_ms", "10", "10"},
    {"cluster.probe_interval_ms", "9", NULL},
    {"cluster.probe_interval_ms", "3600000", "3600000"},
    {"cluster.probe_interval_ms", "3600001", NULL},
    {"cluster.channels_per_node", "1", "1"},
    {"cluster.channels_per_node", "0", NULL},
    {"cluster.channels_per_node", "64", "64"},
    {"cluster.channels_per_node", "65", NULL},
    {"retry.max_attempts", "1", "1"},
    {"retry.max_attempts", "0", NULL},
    {"retry.max_attempts", "1000", "1000"},
    {"retry.max_attempts", "1001", NULL},
    {"retry.initial_delay_ms", "0", "0"},
    {"retry.initial_delay_ms", "-1", NULL},
    {"retry.initial_delay_ms", "600000", "600000"},
    {"retry.initial_delay_ms", "600001", NULL},
    {"retry.max_delay_ms", "0", "0"},
    {"retry.max_delay_ms", "-1", NULL},
    {"retry.max_delay_ms", "600000", "600000"},
    {"retry.max_delay_ms", "600001", NULL},
    {"retry.jitter_ms", "0", "0"},
    {"retry.jitter_ms", "-1", NULL},
    {"retry.jitter_ms", "600000", "600000"},
    {"retry.jitter_ms", "600001", NULL},
    /* sizes */
    {"sidecar.max_bulk", "1024", "1024"},
    {"sidecar.max_bulk", "1023", NULL},
    {"sidecar.max_bulk", "536870912", "536870912"},
    {"sidecar.max_bulk", "536870913", NULL},
    {"sidecar.max_bulk", "1k", "1024"},
    {"sidecar.max_bulk", "1K", "1024"},
    {"sidecar.max_bulk", "1kb", "1024"},
    {"sidecar.max_bulk", "1KB", "1024"},
    {"sidecar.max_bulk", "2Mb", "2097152"},
    {"sidecar.max_bulk", "512m", "536870912"},
    {"sidecar.max_bulk", "512mb", "536870912"},
    {"sidecar.max_bulk", "513m", NULL},
    {"sidecar.max_bulk", "1g", NULL},
    {"sidecar.max_bulk", "0k", NULL},
    {"sidecar.max_bulk", "-1k", NULL},
    {"sidecar.max_bulk", "1.5m", NULL},
    {"sidecar.max_bulk", "1 k", NULL},
    {"sidecar.max_bulk", "k", NULL},
    {"sidecar.max_bulk", "1kbb", NULL},
    {"sidecar.max_bulk", "1t", NULL},
    {"sidecar.max_bulk", "1b", NULL},
    {"sidecar.max_bulk", "9223372036854775807k", NULL},
    {"sidecar.query_buffer_limit", "1048576", "1048576"},
    {"sidecar.query_buffer_limit", "1048575", NULL},
    {"sidecar.query_buffer_limit", "1m", "1048576"},
    {"sidecar.query_buffer_limit", "64MB", "67108864"},
    {"sidecar.query_buffer_limit", "4294967296", "4294967296"},
    {"sidecar.query_buffer_limit", "4g", "4294967296"},
    {"sidecar.query_buffer_limit", "4GB", "4294967296"},
    {"sidecar.query_buffer_limit", "4294967297", NULL},
    {"sidecar.query_buffer_limit", "5g", NULL},
    {"sidecar.reply_backlog", "65536", "65536"},
    {"sidecar.reply_backlog", "65535", NULL},
    {"sidecar.reply_backlog", "64k", "65536"},
    {"sidecar.reply_backlog", "4gb", "4294967296"},
    {"sidecar.reply_backlog", "4294967297", NULL},
    /* bools */
    {"cluster.watch_cluster", "no", "no"},
    {"cluster.watch_cluster", "yes", "yes"},
    {"cluster.watch_cluster", "false", "no"},
    {"cluster.watch_cluster", "true", "yes"},
    {"cluster.watch_cluster", "off", "no"},
    {"cluster.watch_cluster", "on", "yes"},
    {"cluster.watch_cluster", "0", "no"},
    {"cluster.watch_cluster", "1", "yes"},
    {"cluster.watch_cluster", "NO", "no"},
    {"cluster.watch_cluster", "False", "no"},
    {"cluster.watch_cluster", "oFF", "no"},
    {"cluster.watch_cluster", "2", NULL},
    {"cluster.watch_cluster", "y", NULL},
    {"cluster.watch_cluster", "enabled", NULL},
    {"cluster.watch_cluster", "", NULL},
    /* log levels */
    {"log.level", "error", "error"},
    {"log.level", "warning", "warning"},
    {"log.level", "notice", "notice"},
    {"log.level", "info", "info"},
    {"log.level", "debug", "debug"},
    {"log.level", "DEBUG", "debug"},
    {"log.level", "Warning", "warning"},
    {"log.level", "warn", NULL},
    {"log.level", "verbose", NULL},
    {"log.level", "", NULL},
    /* log formats */
    {"log.format", "text", "text"},
    {"log.format", "JSON", "json"},
    {"log.format", "logfmt", NULL},
    {"log.format", "", NULL},
    /* orderings */
    {"sidecar.ordering", "key", "key"},
    {"sidecar.ordering", "Connection", "connection"},
    {"sidecar.ordering", "keys", NULL},
    {"sidecar.ordering", "", NULL},
    /* string formats */
    {"sidecar.string_format", "TYPED", "typed"},
    {"sidecar.string_format", "raw", "raw"},
    {"sidecar.string_format", "plain", NULL},
    /* drain */
    {"sidecar.drain_timeout", "0", "0"},
    {"sidecar.drain_timeout", "3600", "3600"},
    {"sidecar.drain_timeout", "3601", NULL},
    {"sidecar.slowlog_log_slower_than", "-1", "-1"},
    {"sidecar.slowlog_log_slower_than", "0", "0"},
    {"sidecar.slowlog_log_slower_than", "-2", NULL},
    {"sidecar.slowlog_max_len", "10000", "10000"},
    {"sidecar.slowlog_max_len", "10001", NULL},
    {"sidecar.latency_monitor_threshold", "-1", NULL},
    {"sidecar.drain_accept_ms", "600000", "600000"},
    {"sidecar.drain_accept_ms", "-1", NULL},
    /* node lists */
    {"cluster.nodes", "127.0.0.1:9001", "127.0.0.1:9001"},
    {"cluster.nodes", "[::1]:7447", "[::1]:7447"},
    {"cluster.nodes", "[fe80::1%eth0]:9001", "[fe80::1%eth0]:9001"},
    {"cluster.nodes", "db-1.example.com:1,db_2:65535", "db-1.example.com:1,db_2:65535"},
    {"cluster.nodes", "a:1, b:2 ,c:3", "a:1, b:2 ,c:3"},
    {"cluster.nodes", "::1:7447", NULL},
    {"cluster.nodes", "host", NULL},
    {"cluster.nodes", "host:0", NULL},
    {"cluster.nodes", "host:65536", NULL},
    {"cluster.nodes", "host:70000", NULL},
    {"cluster.nodes", "host:99999999999999999999", NULL},
    {"cluster.nodes", "host:", NULL},
    {"cluster.nodes", "host:-1", NULL},
    {"cluster.nodes", "host:+80", NULL},
    {"cluster.nodes", "host:80a", NULL},
    {"cluster.nodes", ":80", NULL},
    {"cluster.nodes", ",", NULL},
    {"cluster.nodes", "", NULL},
    {"cluster.nodes", " ", NULL},
    {"cluster.nodes", "a:1,", NULL},
    {"cluster.nodes", ",a:1", NULL},
    {"cluster.nodes", "a:1,,b:2", NULL},
    {"cluster.nodes", "a b:1", NULL},
    {"cluster.nodes", "[::1]", NULL},
    {"cluster.nodes", "[::1]7447", NULL},
    {"cluster.nodes", "[::1:7447", NULL},
    {"cluster.nodes", "[]:7447", NULL},
    {"cluster.nodes", "[localhost]:7447", NULL},
    {"cluster.nodes", "[::1 ]:7447", NULL},
    {"cluster.nodes", "[::1]:0", NULL},
    {"cluster.nodes", "http://host:80", NULL},
    {"cluster.nodes", "host/x:80", NULL},
};

START_TEST(test_value)
{
    const value_row *r = &values[_i];
    char err[512] = "";
    conf c;
    int rc;

    ck_assert_int_eq(conf_init(&c), 0);
    rc = conf_set(&c, r->name, r->value, err, sizeof(err));
    if (r->shown != NULL) {
        ck_assert_msg(rc == 0, "%s = '%s' rejected: %s", r->name, r->value, err);
        ck_assert_str_eq(value_of(&c, r->name), r->shown);
    } else {
        ck_assert_msg(rc == -1, "%s = '%s' accepted as '%s'", r->name, r->value,
                      value_of(&c, r->name));
        ck_assert_msg(strstr(err, r->name) != NULL, "error does not name the key: %s", err);
        ck_assert_msg(strncmp(err, "invalid value '", 15) == 0, "error: %s", err);
        ck_assert_str_eq(value_of(&c, r->name), conf_default(index_of(r->name)));
    }
    conf_free(&c);
}
END_TEST

static char *repeat(char ch, size_t n)
{
    char *s = malloc(n + 1);

    ck_assert_ptr_nonnull(s);
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

START_TEST(test_string_lengths)
{
    char *s107 = repeat('a', 107), *s108 = repeat('a', 108), *long_pass = repeat('p', 100000);
    char err[256];
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_int_eq(conf_set(&c, "sidecar.listen", s107, err, sizeof(err)), 0);
    ck_assert_str_eq(c.sidecar.listen, s107);
    ck_assert_int_eq(conf_set(&c, "sidecar.listen", s108, err, sizeof(err)), -1);
    ck_assert_str_eq(c.sidecar.listen, s107);
    ck_assert_int_eq(conf_set(&c, "sidecar.requirepass", long_pass, err, sizeof(err)), 0);
    ck_assert_str_eq(c.sidecar.requirepass, long_pass);
    conf_free(&c);
    free(s107);
    free(s108);
    free(long_pass);
}
END_TEST

/* One address of n bytes, "hhh...:9001". */
static char *node_of_length(size_t n)
{
    char *s = repeat('h', n);

    memcpy(s + n - 5, ":9001", 5);
    return s;
}

START_TEST(test_node_limits)
{
    char *a127 = node_of_length(127), *a128 = node_of_length(128);
    char list[64 * 8 + 16] = "";
    char err[512];
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_int_eq(conf_set(&c, "cluster.nodes", a127, err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "cluster.nodes", a128, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "longer than 127 bytes"));
    for (int i = 0; i < 64; i++)
        sprintf(list + strlen(list), "%sn%d:1", i == 0 ? "" : ",", i);
    ck_assert_int_eq(conf_set(&c, "cluster.nodes", list, err, sizeof(err)), 0);
    strcat(list, ",x:1");
    ck_assert_int_eq(conf_set(&c, "cluster.nodes", list, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "more than 64 nodes"));
    conf_free(&c);
    free(a127);
    free(a128);
}
END_TEST

typedef struct error_row {
    const char *name, *value, *err;
} error_row;

static const error_row errors[] = {
    {"sidecar.port", "99999",
     "invalid value '99999' for sidecar.port: expected an integer from 0 to 65535"},
    {"sidecar.nope", "1", "unknown key 'sidecar.nope'"},
    {"x", "1", "unknown key 'x': keys are named section.key"},
    {"", "1", "unknown key '': keys are named section.key"},
    {".port", "1", "unknown key '.port' (did you mean sidecar.port?)"},
    {"sidecar.", "1", "unknown key 'sidecar.'"},
    {"sidecar.timeout_ms", "1",
     "unknown key 'sidecar.timeout_ms' (did you mean cluster.timeout_ms?)"},
    {"SIDECAR.PORT", "x",
     "invalid value 'x' for sidecar.port: expected an integer from 0 to 65535"},
    {"sidecar.max_bulk", "1023",
     "invalid value '1023' for sidecar.max_bulk: expected a size in bytes from 1024 (1k) to "
     "536870912 (512m); k, m and g suffixes are powers of 1024"},
    {"sidecar.reply_backlog", "1",
     "invalid value '1' for sidecar.reply_backlog: expected a size in bytes from 65536 (64k) to "
     "4294967296 (4g); k, m and g suffixes are powers of 1024"},
    {"sidecar.unix_mode", "0778",
     "invalid value '0778' for sidecar.unix_mode: expected octal permission bits from 0000 to "
     "0777, such as 0660"},
    {"sidecar.listen", "",
     "invalid value '' for sidecar.listen: expected a non-empty string of at most 107 bytes"},
    {"cluster.watch_cluster", "maybe",
     "invalid value 'maybe' for cluster.watch_cluster: expected yes or no (or true/false, on/off, "
     "1/0)"},
    {"log.level", "warn",
     "invalid value 'warn' for log.level: expected one of error, warning, notice, info, debug"},
    {"log.format", "xml", "invalid value 'xml' for log.format: expected one of text, json"},
    {"sidecar.ordering", "fifo",
     "invalid value 'fifo' for sidecar.ordering: expected one of connection, key"},
    {"sidecar.string_format", "json",
     "invalid value 'json' for sidecar.string_format: expected one of raw, typed"},
    {"cluster.nodes", "::1:7447",
     "invalid value '::1:7447' for cluster.nodes: '::1:7447' has more than one ':'; an IPv6 host "
     "goes in brackets, as [::1]:9001"},
    {"cluster.nodes", "host",
     "invalid value 'host' for cluster.nodes: 'host' has no port; expected host:port"},
    {"cluster.nodes", "a:1,host:0",
     "invalid value 'a:1,host:0' for cluster.nodes: 'host:0' has port '0'; expected a port from 1 "
     "to 65535"},
    {"cluster.nodes", "host:70000",
     "invalid value 'host:70000' for cluster.nodes: 'host:70000' has port '70000'; expected a port "
     "from 1 to 65535"},
    {"cluster.nodes", "a:1,,b:2",
     "invalid value 'a:1,,b:2' for cluster.nodes: entry 2 is empty; expected host:port entries "
     "separated by commas"},
    {"cluster.nodes", ",",
     "invalid value ',' for cluster.nodes: entry 1 is empty; expected host:port entries separated "
     "by commas"},
    {"cluster.nodes", "",
     "invalid value '' for cluster.nodes: expected a comma-separated list of host:port, such as "
     "127.0.0.1:9001"},
    {"cluster.nodes", "[::1]",
     "invalid value '[::1]' for cluster.nodes: '[::1]' is not [host]:port"},
    {"cluster.nodes", "[]:1",
     "invalid value '[]:1' for cluster.nodes: '[]:1' has no IPv6 address between its brackets"},
    {"cluster.nodes", "a b:1",
     "invalid value 'a b:1' for cluster.nodes: entry 1 has a blank inside; expected host:port "
     "entries separated by commas"},
    {"cluster.nodes", "h/x:1",
     "invalid value 'h/x:1' for cluster.nodes: 'h/x:1' has a character not allowed in a host name"},
    {"retry.max_attempts", NULL, "no value given for retry.max_attempts"},
};

START_TEST(test_error_text)
{
    const error_row *r = &errors[_i];
    char err[512] = "";
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_int_eq(conf_set(&c, r->name, r->value, err, sizeof(err)), -1);
    ck_assert_str_eq(err, r->err);
    conf_free(&c);
}
END_TEST

START_TEST(test_error_truncated)
{
    char err[8];
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_int_eq(conf_set(&c, "sidecar.port", "x", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "invalid");
    conf_free(&c);
}
END_TEST

START_TEST(test_names_case_insensitive)
{
    char err[256];
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_int_eq(conf_set(&c, "SIDECAR.Port", "6380", err, sizeof(err)), 0);
    ck_assert_int_eq(c.sidecar.port, 6380);
    ck_assert_int_eq(conf_set(&c, "Log.LEVEL", "info", err, sizeof(err)), 0);
    ck_assert_str_eq(c.log.level, "info");
    ck_assert_int_eq(conf_set(&c, "cluster.WATCH_cluster", "no", err, sizeof(err)), 0);
    ck_assert(!c.cluster.watch_cluster);
    conf_free(&c);
}
END_TEST

START_TEST(test_last_set_wins)
{
    char err[256];
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_int_eq(conf_set(&c, "sidecar.listen", "/a", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "sidecar.listen", "/b", err, sizeof(err)), 0);
    ck_assert_str_eq(c.sidecar.listen, "/b");
    ck_assert_int_eq(conf_set(&c, "sidecar.port", "1", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "sidecar.port", "2", err, sizeof(err)), 0);
    ck_assert_int_eq(c.sidecar.port, 2);
    /* a rejected value leaves the last good one */
    ck_assert_int_eq(conf_set(&c, "sidecar.port", "x", err, sizeof(err)), -1);
    ck_assert_int_eq(c.sidecar.port, 2);
    ck_assert_int_eq(conf_set(&c, "sidecar.listen", "", err, sizeof(err)), -1);
    ck_assert_str_eq(c.sidecar.listen, "/b");
    conf_free(&c);
}
END_TEST

START_TEST(test_value_buffer)
{
    char buf[8] = "zzzzzzz";
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    conf_value(&c, index_of("sidecar.listen"), buf, 4);
    ck_assert_str_eq(buf, "/ru");
    conf_value(&c, conf_count(), buf, sizeof(buf));
    ck_assert_str_eq(buf, "");
    strcpy(buf, "keep");
    conf_value(&c, 0, buf, 0);
    ck_assert_str_eq(buf, "keep");
    conf_free(&c);
}
END_TEST

/* ---- files -------------------------------------------------------------------------- */

typedef struct file_row {
    const char *text;
    const char *err;   /* "PATH:LINE: ..."; NULL: loads */
    const char *name;  /* then this key ... */
    const char *value; /* ... reads this */
} file_row;

static const file_row files[] = {
    {"", NULL, "sidecar.port", "0"},
    {"[sidecar]\nport = 6380\n[cluster]\nnodes = a:1,b:2\n", NULL, "cluster.nodes", "a:1,b:2"},
    {"; comment\n# comment\n\n[Sidecar]\r\nPort = 6381 ; why\r\n", NULL, "sidecar.port", "6381"},
    {"[sidecar]\nport: 6382\n", NULL, "sidecar.port", "6382"},
    {"[sidecar]\nport = 1\nport = 2\n", NULL, "sidecar.port", "2"},
    {"[sidecar]\nport = 7", NULL, "sidecar.port", "7"},
    {"\xef\xbb\xbf[sidecar]\nport = 8\n", NULL, "sidecar.port", "8"},
    {"[log]\nlevel = DEBUG\n", NULL, "log.level", "debug"},
    {"[CLUSTER]\nWATCH_CLUSTER = Off\n", NULL, "cluster.watch_cluster", "no"},
    {"[sidecar]\nrequirepass = a;b#c\n", NULL, "sidecar.requirepass", "a;b#c"},
    {"[sidecar]\nrequirepass = a ;b\n", NULL, "sidecar.requirepass", "a"},
    {"[sidecar]\nrequirepass =\n", NULL, "sidecar.requirepass", ""},
    {"[sidecar]\nunix_mode = 600\n", NULL, "sidecar.unix_mode", "0600"},
    {"[sidecar]\nmax_bulk = 2m\n", NULL, "sidecar.max_bulk", "2097152"},
    {"[cluster]\nnodes = [::1]:7447\n", NULL, "cluster.nodes", "[::1]:7447"},
    {"[sidecar]\n  ; an indented comment\nport = 9\n", NULL, "sidecar.port", "9"},
    {"[sidecar]\nport = 1\n[nope]\nx = 1\n",
     "PATH:4: unknown section [nope] (sections are [sidecar], [cluster], [retry], [metrics], "
     "[log])",
     NULL, NULL},
    {"[sidecar]\n\nnope = 1\n", "PATH:3: unknown key 'nope' in section [sidecar]", NULL, NULL},
    {"[sidecar]\ntimeout_ms = 1\n",
     "PATH:2: unknown key 'timeout_ms' in section [sidecar] (it belongs in [cluster])", NULL, NULL},
    {"# a\n[retry]\n\n; b\nmax_attempts = 0\n",
     "PATH:5: invalid value '0' for retry.max_attempts: expected an integer from 1 to 1000", NULL,
     NULL},
    {"[sidecar]\nport = 99999\n",
     "PATH:2: invalid value '99999' for sidecar.port: expected an integer from 0 to 65535", NULL,
     NULL},
    {"[cluster]\nnodes = ::1:7447\n",
     "PATH:2: invalid value '::1:7447' for cluster.nodes: '::1:7447' has more than one ':'; an "
     "IPv6 host goes in brackets, as [::1]:9001",
     NULL, NULL},
    {"[sidecar]\nport 6380\n", "PATH:2: syntax error", NULL, NULL},
    {"[sidecar\nport = 1\n", "PATH:1: syntax error", NULL, NULL},
    {"[sidecar]\nport = 1\n\n\n[cluster\n", "PATH:5: syntax error", NULL, NULL},
    {"port = 1\n", "PATH:1: key 'port' is outside any section (it belongs in [sidecar])", NULL,
     NULL},
    {"x = 1\n[sidecar]\n", "PATH:1: key 'x' is outside any section", NULL, NULL},
    /* the first error is the one reported */
    {"[sidecar]\nport = x\nbad line\n",
     "PATH:2: invalid value 'x' for sidecar.port: expected an integer from 0 to 65535", NULL, NULL},
    {"[sidecar]\nbad line\nport = x\n", "PATH:2: syntax error", NULL, NULL},
    {"[sidecar]\nnope = 1\nport = x\n", "PATH:2: unknown key 'nope' in section [sidecar]", NULL,
     NULL},
    /* inih would take these as the previous key's value continued */
    {"[sidecar]\nlisten = /a\n  /b\n",
     "PATH:3: indented line; a key must start at the beginning of its line", NULL, NULL},
    {"[sidecar]\n  port = 1\n",
     "PATH:2: indented line; a key must start at the beginning of its line", NULL, NULL},
    {"[retry]\nmax_attempts = 3\n\tjitter_ms = 1\n",
     "PATH:3: indented line; a key must start at the beginning of its line", NULL, NULL},
};

START_TEST(test_file)
{
    const file_row *r = &files[_i];
    char *path = temp_file(r->text), *expected;
    char err[512] = "";
    conf c;
    int rc;

    ck_assert_int_eq(conf_init(&c), 0);
    rc = conf_load_file(&c, path, err, sizeof(err));
    if (r->err == NULL) {
        ck_assert_msg(rc == 0, "row %d: %s", _i, err);
        ck_assert_str_eq(value_of(&c, r->name), r->value);
    } else {
        expected = with_path(r->err, path);
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(err, expected);
        free(expected);
    }
    conf_free(&c);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_file_long_line)
{
    char *nodes = repeat('n', 300), *text, *path, *expected;
    char err[512];
    conf c;

    ck_assert_int_gt(asprintf(&text, "[cluster]\n# a comment\nnodes = %s:1\n", nodes), 0);
    path = temp_file(text);
    expected = with_path("PATH:3: line longer than 198 bytes", path);
    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_int_eq(conf_load_file(&c, path, err, sizeof(err)), -1);
    ck_assert_str_eq(err, expected);
    ck_assert_str_eq(c.cluster.nodes, "127.0.0.1:9001");
    conf_free(&c);
    unlink(path);
    free(path);
    free(text);
    free(expected);
    free(nodes);
}
END_TEST

/* A line of exactly 198 bytes plus its newline still fits. */
START_TEST(test_file_longest_line)
{
    char *pass = repeat('p', 198 - strlen("requirepass = ")), *text, *path;
    char err[512];
    conf c;

    ck_assert_int_gt(asprintf(&text, "[sidecar]\nrequirepass = %s\nport = 5\n", pass), 0);
    path = temp_file(text);
    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_msg(conf_load_file(&c, path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(c.sidecar.requirepass, pass);
    ck_assert_int_eq(c.sidecar.port, 5);
    conf_free(&c);
    unlink(path);
    free(path);
    free(text);
    free(pass);
}
END_TEST

START_TEST(test_file_missing)
{
    char err[512];
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_int_eq(conf_load_file(&c, "/nonexistent/norikv.conf", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "/nonexistent/norikv.conf: cannot open: No such file or directory");
    ck_assert_int_eq(conf_load_file(&c, "/", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "/: cannot read: Is a directory");
    conf_free(&c);
}
END_TEST

/* A bad file changes nothing, even keys set on lines before the bad one. */
START_TEST(test_file_all_or_nothing)
{
    char *path = temp_file("[sidecar]\nport = 5\nlisten = /x\nmax_clients = 0\n");
    char err[512];
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_int_eq(conf_set(&c, "sidecar.port", "1234", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_load_file(&c, path, err, sizeof(err)), -1);
    ck_assert_int_eq(c.sidecar.port, 1234);
    ck_assert_str_eq(c.sidecar.listen, "/run/norikv-sidecar/norikv.sock");
    conf_free(&c);
    unlink(path);
    free(path);
}
END_TEST

/* A file changes only the keys it names; the rest keep what c held. */
START_TEST(test_file_over_current)
{
    char *path = temp_file("[sidecar]\nport = 5\n");
    char err[512];
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_int_eq(conf_set(&c, "sidecar.listen", "/x", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_load_file(&c, path, err, sizeof(err)), 0);
    ck_assert_int_eq(c.sidecar.port, 5);
    ck_assert_str_eq(c.sidecar.listen, "/x");
    conf_free(&c);
    unlink(path);
    free(path);
}
END_TEST

/* ---- checks across keys ------------------------------------------------------------- */

typedef struct validate_row {
    const char *name1, *value1, *name2, *value2;
    const char *err; /* NULL: valid */
} validate_row;

static const validate_row validations[] = {
    {"retry.max_delay_ms", "5000", "retry.initial_delay_ms", "100", NULL},
    {"retry.max_delay_ms", "50", "retry.initial_delay_ms", "100",
     "retry.max_delay_ms (50) must not be smaller than retry.initial_delay_ms (100)"},
    {"retry.max_delay_ms", "100", "retry.initial_delay_ms", "100", NULL},
    {"retry.max_delay_ms", "0", "retry.initial_delay_ms", "0", NULL},
    {"sidecar.query_buffer_limit", "1m", "sidecar.max_bulk", "2m",
     "sidecar.query_buffer_limit (1048576) must not be smaller than sidecar.max_bulk (2097152)"},
    {"sidecar.query_buffer_limit", "2m", "sidecar.max_bulk", "2m", NULL},
    {"sidecar.max_bulk", "512m", "sidecar.query_buffer_limit", "512m", NULL},
    {"sidecar.max_bulk", "512m", "sidecar.reply_backlog", "64k",
     "sidecar.query_buffer_limit (67108864) must not be smaller than sidecar.max_bulk (536870912)"},
    /* replies may be backlogged below or above max_bulk alike */
    {"sidecar.reply_backlog", "64k", "sidecar.max_bulk", "64m", NULL},
    {"sidecar.reply_backlog", "4g", "sidecar.max_bulk", "1k", NULL},
    /* TLS files only with tls on; a client certificate with its key */
    {"cluster.tls", "yes", "cluster.tls_ca", "/ca.pem", NULL},
    {"cluster.tls", "no", "cluster.tls_ca", "/ca.pem",
     "cluster.tls_ca is set but cluster.tls is off: set tls = yes"},
    {"cluster.tls", "no", "cluster.tls_server_name", "n",
     "cluster.tls_server_name is set but cluster.tls is off: set tls = yes"},
    {"cluster.tls", "yes", "cluster.tls_key", "/k.pem",
     "cluster.tls_cert and cluster.tls_key go together: set both or neither"},
    /* metrics.listen: a socket path or an IP address and port */
    {"metrics.listen", "127.0.0.1:9121", "log.level", "info", NULL},
    {"metrics.listen", "0.0.0.0:9121", "log.level", "info", NULL},
    {"metrics.listen", "[::1]:9121", "log.level", "info", NULL},
    {"metrics.listen", "[::]:9121", "log.level", "info", NULL},
    {"metrics.listen", "/run/norikv-sidecar/metrics.sock", "log.level", "info", NULL},
    {"metrics.listen", "localhost:9121", "log.level", "info",
     "invalid value 'localhost:9121' for metrics.listen: 'localhost' is not an IP address (or a "
     "socket path starting with /)"},
    {"metrics.listen", "127.0.0.1", "log.level", "info",
     "invalid value '127.0.0.1' for metrics.listen: '127.0.0.1' has no port; expected "
     "host:port"},
};

START_TEST(test_validate)
{
    const validate_row *r = &validations[_i];
    char err[512] = "";
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, r->name1, r->value1, err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, r->name2, r->value2, err, sizeof(err)), 0);
    if (r->err == NULL) {
        ck_assert_msg(conf_validate(&c, err, sizeof(err)) == 0, "%s", err);
    } else {
        ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), -1);
        ck_assert_str_eq(err, r->err);
    }
    conf_free(&c);
}
END_TEST

/* ---- glob --------------------------------------------------------------------------- */

typedef struct glob_row {
    const char *pattern, *name;
    bool match;
} glob_row;

static const glob_row globs[] = {
    {"*", "sidecar.port", true},
    {"*", "", true},
    {"**", "", true},
    {"", "", true},
    {"", "a", false},
    {"?", "", false},
    {"sidecar.*", "sidecar.port", true},
    {"sidecar.*", "cluster.nodes", false},
    {"sidecar.*", "sidecar", false},
    {"*port", "sidecar.port", true},
    {"*port", "sidecar.port2", false},
    {"*port", "port", true},
    {"?idecar.port", "sidecar.port", true},
    {"?idecar.port", "idecar.port", false},
    {"sidecar.port?", "sidecar.port", false},
    {"[sc]idecar.*", "sidecar.listen", true},
    {"[sc]idecar.*", "cidecar.x", true},
    {"[sc]idecar.*", "ridecar.x", false},
    {"[^c]*", "sidecar.port", true},
    {"[^c]*", "cluster.nodes", false},
    {"[^sc]*", "retry.jitter_ms", true},
    {"[a-c]luster.*", "cluster.nodes", true},
    {"[d-z]luster.*", "cluster.nodes", false},
    {"[z-a]luster.*", "cluster.nodes", true}, /* reversed ranges work, as in Redis */
    {"[^a-c]luster.*", "cluster.nodes", false},
    {"\\*", "*", true},
    {"\\*", "a", false},
    {"\\*", "\\*", false},
    {"\\?", "?", true},
    {"\\?", "a", false},
    {"a\\", "a\\", true}, /* a trailing backslash stands for itself */
    {"[\\]]", "]", true},
    {"[\\^]", "^", true},
    {"[\\^]", "a", false},
    {"[]", "a", false},
    {"[^]", "a", true},
    {"[abc", "b", true}, /* an unclosed class runs to the end */
    {"[abc", "d", false},
    {"[-a]", "-", true},
    {"[a-]", "-", true},
    {"[a-]", "b", false},
    {"SIDECAR.PORT", "sidecar.port", true},
    {"sidecar.port", "SIDECAR.PORT", true},
    {"[S]idecar.*", "sidecar.port", true},
    {"[A-C]luster.*", "cluster.nodes", true},
    {"[a-c]luster.*", "CLUSTER.NODES", true},
    {"*.*", "sidecar.port", true},
    {"*max*", "sidecar.max_bulk", true},
    {"*max*", "sidecar.port", false},
    {"sidecar.[lp]*", "sidecar.listen", true},
    {"sidecar.[lp]*", "sidecar.port", true},
    {"sidecar.[lp]*", "sidecar.max_bulk", false},
    {"h?llo", "hello", true},
    {"h?llo", "heello", false},
    {"h*o", "hello", true},
    {"h*o", "hellp", false},
    {"a*b*c", "abbbbbc", true},
    {"a*b*c", "abbbbbcd", false},
    {"*world*", "hello world again", true},
    {"*a*b", "aaab", true},
    {"*a*b", "aaaba", false},
    {"a*a", "a", false},
    {"*x?z*", "axxyzq", true},
};

START_TEST(test_glob)
{
    const glob_row *r = &globs[_i];

    ck_assert_msg(conf_glob(r->pattern, r->name) == r->match, "'%s' against '%s': expected %s",
                  r->pattern, r->name, r->match ? "a match" : "no match");
}
END_TEST

/* Patterns Redis once took exponential time over (CVE-2022-36021) return at once. */
START_TEST(test_glob_pathological)
{
    char *name = repeat('a', 1000);
    char pattern[64 * 2 + 2] = "";

    for (int i = 0; i < 64; i++)
        strcat(pattern, "*a");
    strcat(pattern, "b");
    ck_assert(!conf_glob(pattern, name));
    ck_assert(conf_glob(pattern + 2, "ab") == false);
    free(name);
}
END_TEST

static size_t count_matching(const char *pattern)
{
    size_t n = 0;

    for (size_t i = 0; i < conf_count(); i++)
        n += conf_glob(pattern, conf_name(i));
    return n;
}

START_TEST(test_glob_over_table)
{
    ck_assert_uint_eq(count_matching("*"), 41);
    ck_assert_uint_eq(count_matching("sidecar.*"), 21);
    ck_assert_uint_eq(count_matching("cluster.*"), 12);
    ck_assert_uint_eq(count_matching("cluster.tls*"), 5);
    ck_assert_uint_eq(count_matching("retry.*"), 4);
    ck_assert_uint_eq(count_matching("log.*"), 2);
    ck_assert_uint_eq(count_matching("metrics.*"), 2);
    ck_assert_uint_eq(count_matching("*delay*"), 2);
    ck_assert_uint_eq(count_matching("*timeout*"), 4);
    ck_assert_uint_eq(count_matching("nothing*"), 0);
}
END_TEST

/* ---- the example file --------------------------------------------------------------- */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static char *shipped_path(void)
{
    const char *srcdir = getenv("srcdir") != NULL ? getenv("srcdir") : ".";
    char *path;

    ck_assert_int_gt(asprintf(&path, "%s/conf/norikv-sidecar.conf", srcdir), 0);
    return path;
}

START_TEST(test_example_is_shipped)
{
    char *path = shipped_path(), *example = example_text(), *shipped;
    size_t len;

    shipped = read_all(path, &len);
    ck_assert_uint_eq(len, strlen(example));
    ck_assert_msg(memcmp(shipped, example, len) == 0,
                  "%s differs from conf_print_example; regenerate it", path);
    free(shipped);
    free(example);
    free(path);
}
END_TEST

START_TEST(test_example_shape)
{
    char *example = example_text(), *again = example_text();
    char *copy = strdup(example), *save = NULL;
    size_t sections = 0, active = 0, reload = 0, restart = 0;

    ck_assert_str_eq(example, again); /* deterministic */
    ck_assert_ptr_nonnull(strstr(example, "--section.key=value"));
    ck_assert_ptr_nonnull(strstr(example, "norikv-sidecar -t"));
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        ck_assert_msg(strlen(line) <= 80, "line over 80 columns: %s", line);
        if (line[0] == '[')
            sections++;
        else if (line[0] != '#')
            active++;
        reload += strcmp(line, "# reloadable on SIGHUP") == 0;
        restart += strcmp(line, "# needs a restart") == 0;
    }
    ck_assert_uint_eq(sections, 5);
    ck_assert_uint_eq(active, conf_count());
    ck_assert_uint_eq(reload, 27);
    ck_assert_uint_eq(restart, 14);
    ck_assert_ptr_nonnull(strstr(example, "\nrequirepass =\n"));
    ck_assert_ptr_nonnull(strstr(example, "\nunix_mode = 0660\n"));
    ck_assert_ptr_nonnull(strstr(example, "\n[log]\n\n# Least severe"));
    free(copy);
    free(again);
    free(example);
}
END_TEST

/* Loading the shipped file over a conf where every key differs gives exactly the defaults:
 * the file names every key, each at its default. */
START_TEST(test_example_loads_as_defaults)
{
    char *path = shipped_path();
    char err[512], got[512];
    conf c;

    ck_assert_int_eq(conf_init(&c), 0);
    for (int i = 0; i < NKEYS; i++) {
        ck_assert_msg(conf_set(&c, keys[i].name, keys[i].other, err, sizeof(err)) == 0, "%s", err);
        ck_assert_str_ne(value_of(&c, keys[i].name), keys[i].def);
    }
    ck_assert_msg(conf_load_file(&c, path, err, sizeof(err)) == 0, "%s", err);
    for (size_t i = 0; i < conf_count(); i++) {
        conf_value(&c, i, got, sizeof(got));
        ck_assert_str_eq(got, conf_default(i));
    }
    ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), 0);
    conf_free(&c);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conf");
    TCase *table = tcase_create("table"), *vals = tcase_create("values");
    TCase *file = tcase_create("files"), *glob = tcase_create("glob");
    SRunner *sr;
    int failed;

    tcase_add_test(table, test_count_and_order);
    tcase_add_test(table, test_kv_config);
    tcase_add_loop_test(table, test_default, 0, NKEYS);
    tcase_add_loop_test(table, test_help, 0, NKEYS);
    tcase_add_test(table, test_struct_fields);
    tcase_add_test(table, test_init_uninitialised);
    tcase_add_test(table, test_example_is_shipped);
    tcase_add_test(table, test_example_shape);
    tcase_add_test(table, test_example_loads_as_defaults);
    suite_add_tcase(s, table);

    tcase_add_loop_test(vals, test_value, 0, (int)(sizeof(values) / sizeof(values[0])));
    tcase_add_test(vals, test_string_lengths);
    tcase_add_test(vals, test_node_limits);
    tcase_add_loop_test(vals, test_error_text, 0, (int)(sizeof(errors) / sizeof(errors[0])));
    tcase_add_test(vals, test_error_truncated);
    tcase_add_test(vals, test_names_case_insensitive);
    tcase_add_test(vals, test_last_set_wins);
    tcase_add_test(vals, test_value_buffer);
    tcase_add_loop_test(vals, test_validate, 0,
                        (int)(sizeof(validations) / sizeof(validations[0])));
    suite_add_tcase(s, vals);

    tcase_add_loop_test(file, test_file, 0, (int)(sizeof(files) / sizeof(files[0])));
    tcase_add_test(file, test_file_long_line);
    tcase_add_test(file, test_file_longest_line);
    tcase_add_test(file, test_file_missing);
    tcase_add_test(file, test_file_all_or_nothing);
    tcase_add_test(file, test_file_over_current);
    suite_add_tcase(s, file);

    tcase_add_loop_test(glob, test_glob, 0, (int)(sizeof(globs) / sizeof(globs[0])));
    tcase_add_test(glob, test_glob_pathological);
    tcase_add_test(glob, test_glob_over_table);
    suite_add_tcase(s, glob);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

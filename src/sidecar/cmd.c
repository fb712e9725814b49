/*
 * cmd: the command table and everything generated from it: lookup and dispatch checks,
 * COMMAND and its subcommands, and the README's table (norikv-sidecar --commands). The
 * table is the only list of commands; adding one here is all it takes to serve it.
 */
#include "cmd.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cas.h"
#include "cell_bits.h"
#include "cell_hash_set.h"
#include "cmd_conn.h"
#include "cmd_data.h"
#include "cmd_memory.h"
#include "cmd_vector.h"
#include "dict.h"
#include "latency.h"
#include "monitor.h"
#include "pubsub.h"
#include "slowlog.h"
#include "tx.h"
#include "xalloc.h"

#define END                                                                                        \
    {                                                                                              \
        .name = NULL                                                                               \
    }
#define OPT   CMD_ARG_OPTIONAL
#define MULTI CMD_ARG_MULTIPLE

/* ---- argument types ----------------------------------------------------------------- */

static const char *const arg_type_names[CMD_ARG_NTYPES] = {
    [CMD_ARG_KEY] = "key",       [CMD_ARG_STRING] = "string",         [CMD_ARG_INTEGER] = "integer",
    [CMD_ARG_DOUBLE] = "double", [CMD_ARG_PURE_TOKEN] = "pure-token", [CMD_ARG_ONEOF] = "oneof",
    [CMD_ARG_BLOCK] = "block",   [CMD_ARG_UNIX_TIME] = "unix-time",   [CMD_ARG_PATTERN] = "pattern",
};

const char *cmd_arg_type_name(cmd_arg_type type)
{
    if ((unsigned)type >= CMD_ARG_NTYPES || arg_type_names[type] == NULL)
        return "unknown";
    return arg_type_names[type];
}

/* ---- arguments, for COMMAND DOCS and the README -------------------------------------- */

static const cmd_arg a_none[] = {END};
static const cmd_arg a_key[] = {{.name = "key", .type = CMD_ARG_KEY}, END};
static const cmd_arg a_keys[] = {{.name = "key", .type = CMD_ARG_KEY, .flags = MULTI}, END};
static const cmd_arg a_message_opt[] = {
    {.name = "message", .type = CMD_ARG_STRING, .flags = OPT},
    END,
};
static const cmd_arg a_message[] = {{.name = "message", .type = CMD_ARG_STRING}, END};
static const cmd_arg a_index[] = {{.name = "index", .type = CMD_ARG_INTEGER}, END};
static const cmd_arg a_auth[] = {
    {.name = "username", .type = CMD_ARG_STRING, .flags = OPT},
    {.name = "password", .type = CMD_ARG_STRING},
    END,
};
static const cmd_arg a_hello_auth[] = {
    {.name = "username", .type = CMD_ARG_STRING},
    {.name = "password", .type = CMD_ARG_STRING},
    END,
};
static const cmd_arg a_hello_opts[] = {
    {.name = "protover", .type = CMD_ARG_INTEGER},
    {.name = "auth", .type = CMD_ARG_BLOCK, .token = "AUTH", .flags = OPT, .sub = a_hello_auth},
    {.name = "clientname", .type = CMD_ARG_STRING, .token = "SETNAME", .flags = OPT},
    END,
};
static const cmd_arg a_hello[] = {
    {.name = "arguments", .type = CMD_ARG_BLOCK, .flags = OPT, .sub = a_hello_opts},
    END,
};
static const cmd_arg a_section[] = {
    {.name = "section", .type = CMD_ARG_STRING, .flags = OPT | MULTI},
    END,
};
static const cmd_arg a_set_expire[] = {
    {.name = "seconds", .type = CMD_ARG_INTEGER, .token = "EX"},
    {.name = "milliseconds", .type = CMD_ARG_INTEGER, .token = "PX"},
    {.name = "unix-time-seconds", .type = CMD_ARG_UNIX_TIME, .token = "EXAT"},
    {.name = "unix-time-milliseconds", .type = CMD_ARG_UNIX_TIME, .token = "PXAT"},
    {.name = "keepttl", .type = CMD_ARG_PURE_TOKEN, .token = "KEEPTTL"},
    END,
};
static const cmd_arg a_set_condition[] = {
    {.name = "nx", .type = CMD_ARG_PURE_TOKEN, .token = "NX"},
    {.name = "xx", .type = CMD_ARG_PURE_TOKEN, .token = "XX"},
    END,
};
static const cmd_arg a_set[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "value", .type = CMD_ARG_STRING},
    {.name = "condition", .type = CMD_ARG_ONEOF, .flags = OPT, .sub = a_set_condition},
    {.name = "get", .type = CMD_ARG_PURE_TOKEN, .token = "GET", .flags = OPT},
    {.name = "expiration", .type = CMD_ARG_ONEOF, .flags = OPT, .sub = a_set_expire},
    END,
};
static const cmd_arg a_getex_expire[] = {
    {.name = "seconds", .type = CMD_ARG_INTEGER, .token = "EX"},
    {.name = "milliseconds", .type = CMD_ARG_INTEGER, .token = "PX"},
    {.name = "unix-time-seconds", .type = CMD_ARG_UNIX_TIME, .token = "EXAT"},
    {.name = "unix-time-milliseconds", .type = CMD_ARG_UNIX_TIME, .token = "PXAT"},
    {.name = "persist", .type = CMD_ARG_PURE_TOKEN, .token = "PERSIST"},
    END,
};
static const cmd_arg a_getex[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "expiration", .type = CMD_ARG_ONEOF, .flags = OPT, .sub = a_getex_expire},
    END,
};
static const cmd_arg a_incrby[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "increment", .type = CMD_ARG_INTEGER},
    END,
};
static const cmd_arg a_decrby[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "decrement", .type = CMD_ARG_INTEGER},
    END,
};
static const cmd_arg a_incrbyfloat[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "increment", .type = CMD_ARG_DOUBLE},
    END,
};
static const cmd_arg a_getrange[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "start", .type = CMD_ARG_INTEGER},
    {.name = "end", .type = CMD_ARG_INTEGER},
    END,
};
static const cmd_arg a_setrange[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "offset", .type = CMD_ARG_INTEGER},
    {.name = "value", .type = CMD_ARG_STRING},
    END,
};
static const cmd_arg a_expire_condition[] = {
    {.name = "nx", .type = CMD_ARG_PURE_TOKEN, .token = "NX"},
    {.name = "xx", .type = CMD_ARG_PURE_TOKEN, .token = "XX"},
    {.name = "gt", .type = CMD_ARG_PURE_TOKEN, .token = "GT"},
    {.name = "lt", .type = CMD_ARG_PURE_TOKEN, .token = "LT"},
    END,
};
static const cmd_arg a_expire_s[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "seconds", .type = CMD_ARG_INTEGER},
    {.name = "condition", .type = CMD_ARG_ONEOF, .flags = OPT, .sub = a_expire_condition},
    END,
};
static const cmd_arg a_expire_ms[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "milliseconds", .type = CMD_ARG_INTEGER},
    {.name = "condition", .type = CMD_ARG_ONEOF, .flags = OPT, .sub = a_expire_condition},
    END,
};
static const cmd_arg a_expireat_s[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "unix-time-seconds", .type = CMD_ARG_UNIX_TIME},
    {.name = "condition", .type = CMD_ARG_ONEOF, .flags = OPT, .sub = a_expire_condition},
    END,
};
static const cmd_arg a_expireat_ms[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "unix-time-milliseconds", .type = CMD_ARG_UNIX_TIME},
    {.name = "condition", .type = CMD_ARG_ONEOF, .flags = OPT, .sub = a_expire_condition},
    END,
};
static const cmd_arg a_setex[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "seconds", .type = CMD_ARG_INTEGER},
    {.name = "value", .type = CMD_ARG_STRING},
    END,
};
static const cmd_arg a_psetex[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "milliseconds", .type = CMD_ARG_INTEGER},
    {.name = "value", .type = CMD_ARG_STRING},
    END,
};
static const cmd_arg a_kv_pair[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "value", .type = CMD_ARG_STRING},
    END,
};
static const cmd_arg a_mset[] = {
    {.name = "data", .type = CMD_ARG_BLOCK, .flags = MULTI, .sub = a_kv_pair},
    END,
};
static const cmd_arg a_version[] = {
    {.name = "term", .type = CMD_ARG_INTEGER},
    {.name = "index", .type = CMD_ARG_INTEGER},
    END,
};
static const cmd_arg a_nori_put[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "value", .type = CMD_ARG_STRING},
    {.name = "ttl-ms", .type = CMD_ARG_INTEGER, .token = "TTL", .flags = OPT},
    {.name = "idempotency-key", .type = CMD_ARG_STRING, .token = "IDEMPOTENCY", .flags = OPT},
    {.name = "version", .type = CMD_ARG_BLOCK, .token = "IFMATCH", .flags = OPT, .sub = a_version},
    END,
};
static const cmd_arg a_level[] = {
    {.name = "lease", .type = CMD_ARG_PURE_TOKEN, .token = "LEASE"},
    {.name = "linearizable", .type = CMD_ARG_PURE_TOKEN, .token = "LINEARIZABLE"},
    {.name = "stale_ok", .type = CMD_ARG_PURE_TOKEN, .token = "STALE_OK"},
    END,
};
static const cmd_arg a_nori_get[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "level", .type = CMD_ARG_ONEOF, .token = "CONSISTENCY", .flags = OPT, .sub = a_level},
    END,
};
static const cmd_arg a_nori_del[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "idempotency-key", .type = CMD_ARG_STRING, .token = "IDEMPOTENCY", .flags = OPT},
    {.name = "version", .type = CMD_ARG_BLOCK, .token = "IFMATCH", .flags = OPT, .sub = a_version},
    END,
};
static const cmd_arg a_nori_consistency[] = {
    {.name = "level", .type = CMD_ARG_ONEOF, .flags = OPT, .sub = a_level},
    END,
};
static const cmd_arg a_name[] = {{.name = "connection-name", .type = CMD_ARG_STRING}, END};
static const cmd_arg a_setinfo_attr[] = {
    {.name = "libname", .type = CMD_ARG_STRING, .token = "LIB-NAME"},
    {.name = "libver", .type = CMD_ARG_STRING, .token = "LIB-VER"},
    END,
};
static const cmd_arg a_setinfo[] = {
    {.name = "attr", .type = CMD_ARG_ONEOF, .sub = a_setinfo_attr},
    END,
};
static const cmd_arg a_kill_filter[] = {
    {.name = "ip:port", .type = CMD_ARG_STRING},
    {.name = "client-id", .type = CMD_ARG_INTEGER, .token = "ID"},
    {.name = "ip:port", .type = CMD_ARG_STRING, .token = "ADDR"},
    END,
};
static const cmd_arg a_kill[] = {
    {.name = "filter", .type = CMD_ARG_ONEOF, .sub = a_kill_filter},
    END,
};
static const cmd_arg a_command_names[] = {
    {.name = "command-name", .type = CMD_ARG_STRING, .flags = OPT | MULTI},
    END,
};
static const cmd_arg a_pattern[] = {
    {.name = "parameter", .type = CMD_ARG_STRING, .flags = MULTI},
    END,
};
static const cmd_arg a_config_pair[] = {
    {.name = "parameter", .type = CMD_ARG_STRING},
    {.name = "value", .type = CMD_ARG_STRING},
    END,
};
static const cmd_arg a_config_set[] = {
    {.name = "data", .type = CMD_ARG_BLOCK, .flags = MULTI, .sub = a_config_pair},
    END,
};
static const cmd_arg a_scan[] = {{.name = "cursor", .type = CMD_ARG_INTEGER}, END};
static const cmd_arg a_pattern_one[] = {{.name = "pattern", .type = CMD_ARG_PATTERN}, END};

/* bits, SUBSTR, LCS, CLIENT REPLY */
static const cmd_arg a_setbit[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "offset", .type = CMD_ARG_INTEGER},
    {.name = "value", .type = CMD_ARG_INTEGER},
    END,
};
static const cmd_arg a_getbit[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "offset", .type = CMD_ARG_INTEGER},
    END,
};
static const cmd_arg a_bit_unit[] = {
    {.name = "byte", .type = CMD_ARG_PURE_TOKEN, .token = "BYTE"},
    {.name = "bit", .type = CMD_ARG_PURE_TOKEN, .token = "BIT"},
    END,
};
static const cmd_arg a_bitcount_range[] = {
    {.name = "start", .type = CMD_ARG_INTEGER},
    {.name = "end", .type = CMD_ARG_INTEGER},
    {.name = "unit", .type = CMD_ARG_ONEOF, .flags = OPT, .sub = a_bit_unit},
    END,
};
static const cmd_arg a_bitcount[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "range", .type = CMD_ARG_BLOCK, .flags = OPT, .sub = a_bitcount_range},
    END,
};
static const cmd_arg a_bitpos_end[] = {
    {.name = "end", .type = CMD_ARG_INTEGER},
    {.name = "unit", .type = CMD_ARG_ONEOF, .flags = OPT, .sub = a_bit_unit},
    END,
};
static const cmd_arg a_bitpos_range[] = {
    {.name = "start", .type = CMD_ARG_INTEGER},
    {.name = "end-unit-block", .type = CMD_ARG_BLOCK, .flags = OPT, .sub = a_bitpos_end},
    END,
};
static const cmd_arg a_bitpos[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "bit", .type = CMD_ARG_INTEGER},
    {.name = "range", .type = CMD_ARG_BLOCK, .flags = OPT, .sub = a_bitpos_range},
    END,
};
static const cmd_arg a_bf_get[] = {
    {.name = "encoding", .type = CMD_ARG_STRING},
    {.name = "offset", .type = CMD_ARG_INTEGER},
    END,
};
static const cmd_arg a_bf_set[] = {
    {.name = "encoding", .type = CMD_ARG_STRING},
    {.name = "offset", .type = CMD_ARG_INTEGER},
    {.name = "value", .type = CMD_ARG_INTEGER},
    END,
};
static const cmd_arg a_bf_incrby[] = {
    {.name = "encoding", .type = CMD_ARG_STRING},
    {.name = "offset", .type = CMD_ARG_INTEGER},
    {.name = "increment", .type = CMD_ARG_INTEGER},
    END,
};
static const cmd_arg a_bf_overflow[] = {
    {.name = "wrap", .type = CMD_ARG_PURE_TOKEN, .token = "WRAP"},
    {.name = "sat", .type = CMD_ARG_PURE_TOKEN, .token = "SAT"},
    {.name = "fail", .type = CMD_ARG_PURE_TOKEN, .token = "FAIL"},
    END,
};
static const cmd_arg a_bf_operation[] = {
    {.name = "get-block", .type = CMD_ARG_BLOCK, .token = "GET", .sub = a_bf_get},
    {.name = "set-block", .type = CMD_ARG_BLOCK, .token = "SET", .sub = a_bf_set},
    {.name = "incrby-block", .type = CMD_ARG_BLOCK, .token = "INCRBY", .sub = a_bf_incrby},
    {.name = "overflow-block", .type = CMD_ARG_ONEOF, .token = "OVERFLOW", .sub = a_bf_overflow},
    END,
};
static const cmd_arg a_bitfield[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "operation", .type = CMD_ARG_ONEOF, .flags = OPT | MULTI, .sub = a_bf_operation},
    END,
};
static const cmd_arg a_bitfield_ro[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "get-block",
     .type = CMD_ARG_BLOCK,
     .token = "GET",
     .flags = OPT | MULTI,
     .sub = a_bf_get},
    END,
};
static const cmd_arg a_bitop_operation[] = {
    {.name = "and", .type = CMD_ARG_PURE_TOKEN, .token = "AND"},
    {.name = "or", .type = CMD_ARG_PURE_TOKEN, .token = "OR"},
    {.name = "xor", .type = CMD_ARG_PURE_TOKEN, .token = "XOR"},
    {.name = "not", .type = CMD_ARG_PURE_TOKEN, .token = "NOT"},
    END,
};
static const cmd_arg a_bitop[] = {
    {.name = "operation", .type = CMD_ARG_ONEOF, .sub = a_bitop_operation},
    {.name = "destkey", .type = CMD_ARG_KEY},
    {.name = "key", .type = CMD_ARG_KEY, .flags = MULTI},
    END,
};
static const cmd_arg a_lcs[] = {
    {.name = "key1", .type = CMD_ARG_KEY},
    {.name = "key2", .type = CMD_ARG_KEY},
    {.name = "len", .type = CMD_ARG_PURE_TOKEN, .token = "LEN", .flags = OPT},
    {.name = "idx", .type = CMD_ARG_PURE_TOKEN, .token = "IDX", .flags = OPT},
    {.name = "min-match-len", .type = CMD_ARG_INTEGER, .token = "MINMATCHLEN", .flags = OPT},
    {.name = "withmatchlen", .type = CMD_ARG_PURE_TOKEN, .token = "WITHMATCHLEN", .flags = OPT},
    END,
};
static const cmd_arg a_client_reply_mode[] = {
    {.name = "on", .type = CMD_ARG_PURE_TOKEN, .token = "ON"},
    {.name = "off", .type = CMD_ARG_PURE_TOKEN, .token = "OFF"},
    {.name = "skip", .type = CMD_ARG_PURE_TOKEN, .token = "SKIP"},
    END,
};
static const cmd_arg a_client_reply[] = {
    {.name = "action", .type = CMD_ARG_ONEOF, .sub = a_client_reply_mode},
    END,
};

/* vector sets and NoriKV's vector API (cmd_vector.c) */
static const cmd_arg a_vec_values[] = {
    {.name = "num", .type = CMD_ARG_INTEGER},
    {.name = "value", .type = CMD_ARG_DOUBLE, .flags = MULTI},
    END,
};
static const cmd_arg a_vec_input[] = {
    {.name = "vector", .type = CMD_ARG_STRING, .token = "FP32"},
    {.name = "values", .type = CMD_ARG_BLOCK, .token = "VALUES", .sub = a_vec_values},
    END,
};
static const cmd_arg a_vadd_quant[] = {
    {.name = "noquant", .type = CMD_ARG_PURE_TOKEN, .token = "NOQUANT"},
    {.name = "q8", .type = CMD_ARG_PURE_TOKEN, .token = "Q8"},
    {.name = "bin", .type = CMD_ARG_PURE_TOKEN, .token = "BIN"},
    END,
};
static const cmd_arg a_vadd[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "dim", .type = CMD_ARG_INTEGER, .token = "REDUCE", .flags = OPT},
    {.name = "format", .type = CMD_ARG_ONEOF, .sub = a_vec_input},
    {.name = "element", .type = CMD_ARG_STRING},
    {.name = "cas", .type = CMD_ARG_PURE_TOKEN, .token = "CAS", .flags = OPT},
    {.name = "quant_type", .type = CMD_ARG_ONEOF, .flags = OPT, .sub = a_vadd_quant},
    {.name = "build-exploration-factor", .type = CMD_ARG_INTEGER, .token = "EF", .flags = OPT},
    {.name = "attributes", .type = CMD_ARG_STRING, .token = "SETATTR", .flags = OPT},
    {.name = "numlinks", .type = CMD_ARG_INTEGER, .token = "M", .flags = OPT},
    END,
};
static const cmd_arg a_vsim_input[] = {
    {.name = "element", .type = CMD_ARG_STRING, .token = "ELE"},
    {.name = "vector", .type = CMD_ARG_STRING, .token = "FP32"},
    {.name = "values", .type = CMD_ARG_BLOCK, .token = "VALUES", .sub = a_vec_values},
    END,
};
static const cmd_arg a_vsim[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "format", .type = CMD_ARG_ONEOF, .sub = a_vsim_input},
    {.name = "withscores", .type = CMD_ARG_PURE_TOKEN, .token = "WITHSCORES", .flags = OPT},
    {.name = "withattribs", .type = CMD_ARG_PURE_TOKEN, .token = "WITHATTRIBS", .flags = OPT},
    {.name = "count", .type = CMD_ARG_INTEGER, .token = "COUNT", .flags = OPT},
    {.name = "max_distance", .type = CMD_ARG_DOUBLE, .token = "EPSILON", .flags = OPT},
    {.name = "search-exploration-factor", .type = CMD_ARG_INTEGER, .token = "EF", .flags = OPT},
    {.name = "expression", .type = CMD_ARG_STRING, .token = "FILTER", .flags = OPT},
    {.name = "max-filtering-effort", .type = CMD_ARG_INTEGER, .token = "FILTER-EF", .flags = OPT},
    {.name = "truth", .type = CMD_ARG_PURE_TOKEN, .token = "TRUTH", .flags = OPT},
    {.name = "nothread", .type = CMD_ARG_PURE_TOKEN, .token = "NOTHREAD", .flags = OPT},
    END,
};
static const cmd_arg a_key_element[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "element", .type = CMD_ARG_STRING},
    END,
};
static const cmd_arg a_vemb[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "element", .type = CMD_ARG_STRING},
    {.name = "raw", .type = CMD_ARG_PURE_TOKEN, .token = "RAW", .flags = OPT},
    END,
};
static const cmd_arg a_vrandmember[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "count", .type = CMD_ARG_INTEGER, .flags = OPT},
    END,
};
static const cmd_arg a_vlinks[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "element", .type = CMD_ARG_STRING},
    {.name = "withscores", .type = CMD_ARG_PURE_TOKEN, .token = "WITHSCORES", .flags = OPT},
    END,
};
static const cmd_arg a_vsetattr[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "element", .type = CMD_ARG_STRING},
    {.name = "json", .type = CMD_ARG_STRING},
    END,
};
static const cmd_arg a_vrange[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "start", .type = CMD_ARG_STRING},
    {.name = "end", .type = CMD_ARG_STRING},
    {.name = "count", .type = CMD_ARG_INTEGER, .flags = OPT},
    END,
};
static const cmd_arg a_distance[] = {
    {.name = "euclidean", .type = CMD_ARG_PURE_TOKEN, .token = "EUCLIDEAN"},
    {.name = "cosine", .type = CMD_ARG_PURE_TOKEN, .token = "COSINE"},
    {.name = "inner_product", .type = CMD_ARG_PURE_TOKEN, .token = "INNER_PRODUCT"},
    END,
};
static const cmd_arg a_index_type[] = {
    {.name = "hnsw", .type = CMD_ARG_PURE_TOKEN, .token = "HNSW"},
    {.name = "brute_force", .type = CMD_ARG_PURE_TOKEN, .token = "BRUTE_FORCE"},
    END,
};
static const cmd_arg a_nori_vcreate[] = {
    {.name = "namespace", .type = CMD_ARG_STRING},
    {.name = "dims", .type = CMD_ARG_INTEGER},
    {.name = "distance", .type = CMD_ARG_ONEOF, .sub = a_distance},
    {.name = "index", .type = CMD_ARG_ONEOF, .flags = OPT, .sub = a_index_type},
    {.name = "idempotency-key", .type = CMD_ARG_STRING, .token = "IDEMPOTENCY", .flags = OPT},
    END,
};
static const cmd_arg a_nori_vdrop[] = {
    {.name = "namespace", .type = CMD_ARG_STRING},
    {.name = "idempotency-key", .type = CMD_ARG_STRING, .token = "IDEMPOTENCY", .flags = OPT},
    END,
};
static const cmd_arg a_nori_vector[] = {
    {.name = "value", .type = CMD_ARG_DOUBLE, .flags = MULTI},
    {.name = "blob", .type = CMD_ARG_STRING, .token = "FP32"},
    END,
};
static const cmd_arg a_nori_vinsert[] = {
    {.name = "namespace", .type = CMD_ARG_STRING},
    {.name = "id", .type = CMD_ARG_STRING},
    {.name = "vector", .type = CMD_ARG_ONEOF, .sub = a_nori_vector},
    {.name = "idempotency-key", .type = CMD_ARG_STRING, .token = "IDEMPOTENCY", .flags = OPT},
    END,
};
static const cmd_arg a_nori_vdelete[] = {
    {.name = "namespace", .type = CMD_ARG_STRING},
    {.name = "id", .type = CMD_ARG_STRING},
    {.name = "idempotency-key", .type = CMD_ARG_STRING, .token = "IDEMPOTENCY", .flags = OPT},
    END,
};
static const cmd_arg a_nori_query_values[] = {
    {.name = "value", .type = CMD_ARG_DOUBLE, .flags = MULTI},
    END,
};
static const cmd_arg a_nori_query[] = {
    {.name = "values", .type = CMD_ARG_BLOCK, .token = "VALUES", .sub = a_nori_query_values},
    {.name = "blob", .type = CMD_ARG_STRING, .token = "FP32"},
    END,
};
static const cmd_arg a_nori_vsearch[] = {
    {.name = "namespace", .type = CMD_ARG_STRING},
    {.name = "k", .type = CMD_ARG_INTEGER},
    {.name = "query", .type = CMD_ARG_ONEOF, .sub = a_nori_query},
    {.name = "withvectors", .type = CMD_ARG_PURE_TOKEN, .token = "WITHVECTORS", .flags = OPT},
    {.name = "level", .type = CMD_ARG_ONEOF, .token = "CONSISTENCY", .flags = OPT, .sub = a_level},
    END,
};
static const cmd_arg a_nori_vget[] = {
    {.name = "namespace", .type = CMD_ARG_STRING},
    {.name = "id", .type = CMD_ARG_STRING},
    {.name = "level", .type = CMD_ARG_ONEOF, .token = "CONSISTENCY", .flags = OPT, .sub = a_level},
    END,
};

/* pub/sub (pubsub.c) */
static const cmd_arg a_channels[] = {
    {.name = "channel", .type = CMD_ARG_STRING, .flags = MULTI},
    END,
};
static const cmd_arg a_channels_opt[] = {
    {.name = "channel", .type = CMD_ARG_STRING, .flags = OPT | MULTI},
    END,
};
static const cmd_arg a_patterns[] = {
    {.name = "pattern", .type = CMD_ARG_PATTERN, .flags = MULTI},
    END,
};
static const cmd_arg a_patterns_opt[] = {
    {.name = "pattern", .type = CMD_ARG_PATTERN, .flags = OPT | MULTI},
    END,
};
static const cmd_arg a_pattern_opt[] = {
    {.name = "pattern", .type = CMD_ARG_PATTERN, .flags = OPT},
    END,
};
static const cmd_arg a_publish[] = {
    {.name = "channel", .type = CMD_ARG_STRING},
    {.name = "message", .type = CMD_ARG_STRING},
    END,
};

/* ---- the table ---------------------------------------------------------------------- */

#define LOCAL_FAST   (CMD_LOCAL | CMD_FAST)
#define HELP_SUMMARY "Returns helpful text about the different subcommands."

static const cmd_def client_subs[] = {
    {.name = "CLIENT|ID",
     .arity = 2,
     .flags = LOCAL_FAST,
     .proc = cmd_client_id,
     .group = "connection",
     .since = "5.0.0",
     .complexity = "O(1)",
     .summary = "Returns the unique client ID of the connection.",
     .args = a_none},
    {.name = "CLIENT|GETNAME",
     .arity = 2,
     .flags = LOCAL_FAST,
     .proc = cmd_client_getname,
     .group = "connection",
     .since = "2.6.9",
     .complexity = "O(1)",
     .summary = "Returns the name of the connection.",
     .args = a_none},
    {.name = "CLIENT|SETNAME",
     .arity = 3,
     .flags = CMD_STATE | CMD_FAST,
     .proc = cmd_client_setname,
     .group = "connection",
     .since = "2.6.9",
     .complexity = "O(1)",
     .summary = "Sets the connection name.",
     .args = a_name},
    {.name = "CLIENT|SETINFO",
     .arity = 4,
     .flags = CMD_STATE | CMD_FAST,
     .proc = cmd_client_setinfo,
     .group = "connection",
     .since = "7.2.0",
     .complexity = "O(1)",
     .summary = "Sets information specific to the client or connection.",
     .args = a_setinfo},
    {.name = "CLIENT|INFO",
     .arity = 2,
     .flags = LOCAL_FAST,
     .proc = cmd_client_info,
     .group = "connection",
     .since = "6.2.0",
     .complexity = "O(1)",
     .summary = "Returns information about the connection.",
     .args = a_none},
    {.name = "CLIENT|LIST",
     .arity = -2,
     .flags = CMD_LOCAL | CMD_ADMIN,
     .proc = cmd_client_list,
     .group = "connection",
     .since = "2.4.0",
     .complexity = "O(N) where N is the number of client connections",
     .summary = "Lists open connections.",
     .args = a_none},
    {.name = "CLIENT|KILL",
     .arity = -3,
     .flags = CMD_STATE | CMD_ADMIN,
     .proc = cmd_client_kill,
     .group = "connection",
     .since = "2.4.0",
     .complexity = "O(N) where N is the number of client connections",
     .summary = "Terminates open connections.",
     .args = a_kill},
    {.name = "CLIENT|REPLY",
     .arity = 3,
     .flags = CMD_STATE | CMD_FAST | CMD_LOADING,
     .proc = cmd_client_reply,
     .group = "connection",
     .since = "3.2.0",
     .complexity = "O(1)",
     .summary = "Instructs the sidecar whether to reply to commands: OFF until ON (which answers "
                "OK), SKIP for the next command only; errors are dropped too.",
     .args = a_client_reply},
    {.name = "CLIENT|HELP",
     .arity = 2,
     .flags = LOCAL_FAST,
     .proc = cmd_client_help,
     .group = "connection",
     .since = "5.0.0",
     .complexity = "O(1)",
     .summary = HELP_SUMMARY,
     .args = a_none},
    {.name = NULL},
};

static const cmd_def command_subs[] = {
    {.name = "COMMAND|COUNT",
     .arity = 2,
     .flags = LOCAL_FAST,
     .proc = cmd_command_count,
     .group = "server",
     .since = "2.8.13",
     .complexity = "O(1)",
     .summary = "Returns a count of commands.",
     .args = a_none},
    {.name = "COMMAND|INFO",
     .arity = -2,
     .flags = CMD_LOCAL,
     .proc = cmd_command_info,
     .group = "server",
     .since = "2.8.13",
     .complexity = "O(N) where N is the number of commands to look up",
     .summary = "Returns information about one, multiple or all commands.",
     .args = a_command_names},
    {.name = "COMMAND|DOCS",
     .arity = -2,
     .flags = CMD_LOCAL,
     .proc = cmd_command_docs,
     .group = "server",
     .since = "7.0.0",
     .complexity = "O(N) where N is the number of commands to look up",
     .summary = "Returns documentary information about one, multiple or all commands.",
     .args = a_command_names},
    {.name = "COMMAND|LIST",
     .arity = -2,
     .flags = CMD_LOCAL,
     .proc = cmd_command_list,
     .group = "server",
     .since = "7.0.0",
     .complexity = "O(N) where N is the total number of commands",
     .summary = "Returns a list of command names.",
     .args = a_none},
    {.name = "COMMAND|HELP",
     .arity = 2,
     .flags = LOCAL_FAST,
     .proc = cmd_command_help,
     .group = "server",
     .since = "5.0.0",
     .complexity = "O(1)",
     .summary = HELP_SUMMARY,
     .args = a_none},
    {.name = NULL},
};

static const cmd_def config_subs[] = {
    {.name = "CONFIG|GET",
     .arity = -3,
     .flags = CMD_LOCAL | CMD_ADMIN,
     .proc = cmd_config_get,
     .group = "server",
     .since = "2.0.0",
     .complexity = "O(N) when N is the number of configuration parameters provided",
     .summary = "Returns the effective values of configuration parameters (read-only view). "
                "Patterns too costly to match (long, many) get an error.",
     .args = a_pattern},
    {.name = "CONFIG|SET",
     .arity = -4,
     .flags = CMD_LOCAL | CMD_ADMIN,
     .proc = cmd_config_set,
     .group = "server",
     .since = "2.0.0",
     .complexity = "O(N) when N is the number of configuration parameters provided",
     .summary = "Sets slowlog-log-slower-than, slowlog-max-len and latency-monitor-threshold "
                "(Redis' names for [sidecar] slowlog_log_slower_than, slowlog_max_len and "
                "latency_monitor_threshold) until the next reload re-reads the file; the "
                "other parameters are set by the file.",
     .args = a_config_set},
    {.name = "CONFIG|HELP",
     .arity = 2,
     .flags = LOCAL_FAST,
     .proc = cmd_config_help,
     .group = "server",
     .since = "5.0.0",
     .complexity = "O(1)",
     .summary = HELP_SUMMARY,
     .args = a_none},
    {.name = NULL},
};

static const cmd_def pubsub_subs[] = {
    {.name = "PUBSUB|CHANNELS",
     .arity = -2,
     .flags = LOCAL_FAST,
     .proc = cmd_pubsub_channels,
     .group = "pubsub",
     .since = "2.8.0",
     .complexity = "O(N) where N is the number of active channels",
     .summary = "Returns the channels this sidecar's clients are subscribed to (those matching "
                "the pattern, if one is given).",
     .args = a_pattern_opt},
    {.name = "PUBSUB|NUMSUB",
     .arity = -2,
     .flags = LOCAL_FAST,
     .proc = cmd_pubsub_numsub,
     .group = "pubsub",
     .since = "2.8.0",
     .complexity = "O(N) for the number of requested channels",
     .summary = "Returns how many of this sidecar's clients are subscribed to each channel.",
     .args = a_channels_opt},
    {.name = "PUBSUB|NUMPAT",
     .arity = 2,
     .flags = LOCAL_FAST,
     .proc = cmd_pubsub_numpat,
     .group = "pubsub",
     .since = "2.8.0",
     .complexity = "O(1)",
     .summary = "Returns how many distinct patterns this sidecar's clients are subscribed to.",
     .args = a_none},
    {.name = "PUBSUB|HELP",
     .arity = 2,
     .flags = LOCAL_FAST,
     .proc = cmd_pubsub_help,
     .group = "pubsub",
     .since = "6.2.0",
     .complexity = "O(1)",
     .summary = HELP_SUMMARY,
     .args = a_none},
    {.name = NULL},
};

/* ---- operator commands: MONITOR (monitor.c), SLOWLOG (slowlog.c), LATENCY (latency.c),
 * MEMORY (cmd_memory.c). Their rows stay together here and after TIME in the table. */

#define ASYNC_NOTE                                                                                 \
    " A command's time runs from its start to its reply: a command waiting on the cluster "        \
    "does not hold the sidecar, and its time includes the cluster's."

static const cmd_arg a_slowlog_count[] = {
    {.name = "count", .type = CMD_ARG_INTEGER, .flags = OPT},
    END,
};
static const cmd_arg a_latency_event[] = {{.name = "event", .type = CMD_ARG_STRING}, END};
static const cmd_arg a_latency_events[] = {
    {.name = "event", .type = CMD_ARG_STRING, .flags = OPT | MULTI},
    END,
};
static const cmd_arg a_memory_usage[] = {
    {.name = "key", .type = CMD_ARG_KEY},
    {.name = "count", .type = CMD_ARG_INTEGER, .token = "SAMPLES", .flags = OPT},
    END,
};

static const cmd_def slowlog_subs[] = {
    {.name = "SLOWLOG|GET",
     .arity = -2,
     .flags = CMD_LOCAL | CMD_ADMIN | CMD_LOADING,
     .proc = cmd_slowlog_get,
     .group = "server",
     .since = "2.2.12",
     .complexity = "O(N) where N is the number of entries returned",
     .summary = "Returns the slow log's entries, the newest first (10 by default, -1 for all): "
                "id, unix time, microseconds, arguments (32 at most, 128 bytes each), client "
                "address and name." ASYNC_NOTE,
     .args = a_slowlog_count},
    {.name = "SLOWLOG|LEN",
     .arity = 2,
     .flags = CMD_LOCAL | CMD_ADMIN | CMD_LOADING,
     .proc = cmd_slowlog_len,
     .group = "server",
     .since = "2.2.12",
     .complexity = "O(1)",
     .summary = "Returns the number of entries in the slow log.",
     .args = a_none},
    {.name = "SLOWLOG|RESET",
     .arity = 2,
     .flags = CMD_LOCAL | CMD_ADMIN | CMD_LOADING,
     .proc = cmd_slowlog_reset,
     .group = "server",
     .since = "2.2.12",
     .complexity = "O(N) where N is the number of entries in the slowlog",
     .summary = "Clears all entries from the slow log.",
     .args = a_none},
    {.name = "SLOWLOG|HELP",
     .arity = 2,
     .flags = LOCAL_FAST | CMD_LOADING,
     .proc = cmd_slowlog_help,
     .group = "server",
     .since = "6.2.0",
     .complexity = "O(1)",
     .summary = HELP_SUMMARY,
     .args = a_none},
    {.name = NULL},
};

static const cmd_def latency_subs[] = {
    {.name = "LATENCY|LATEST",
     .arity = 2,
     .flags = CMD_LOCAL | CMD_ADMIN | CMD_LOADING,
     .proc = cmd_latency_latest,
     .group = "server",
     .since = "2.8.13",
     .complexity = "O(1)",
     .summary = "Returns the latest latency sample of each event: name, unix time, latest and "
                "highest milliseconds. Events: command, fast-command and command-loop (how long "
                "a command's handler held the sidecar's event loop)." ASYNC_NOTE,
     .args = a_none},
    {.name = "LATENCY|HISTORY",
     .arity = 3,
     .flags = CMD_LOCAL | CMD_ADMIN | CMD_LOADING,
     .proc = cmd_latency_history,
     .group = "server",
     .since = "2.8.13",
     .complexity = "O(1)",
     .summary = "Returns an event's latest 160 samples, one per second at most: unix time and "
                "milliseconds.",
     .args = a_latency_event},
    {.name = "LATENCY|RESET",
     .arity = -2,
     .flags = CMD_LOCAL | CMD_ADMIN | CMD_LOADING,
     .proc = cmd_latency_reset,
     .group = "server",
     .since = "2.8.13",
     .complexity = "O(1)",
     .summary = "Resets the samples of the events named, or of every event; returns how many "
                "were reset.",
     .args = a_latency_events},
    {.name = "LATENCY|DOCTOR",
     .arity = 2,
     .flags = CMD_LOCAL | CMD_ADMIN | CMD_LOADING,
     .proc = cmd_latency_doctor,
     .group = "server",
     .since = "2.8.13",
     .complexity = "O(1)",
     .summary = "Returns a report of the latency events seen and what to look at next.",
     .args = a_none},
    {.name = "LATENCY|HELP",
     .arity = 2,
     .flags = LOCAL_FAST | CMD_LOADING,
     .proc = cmd_latency_help,
     .group = "server",
     .since = "2.8.13",
     .complexity = "O(1)",
     .summary = HELP_SUMMARY,
     .args = a_none},
    {.name = NULL},
};

static const cmd_def memory_subs[] = {
    {.name = "MEMORY|USAGE",
     .arity = -3,
     .flags = CMD_READ,
     .first_key = 2,
     .last_key = 2,
     .key_step = 1,
     .proc = cmd_memory_usage,
     .group = "server",
     .since = "4.0.0",
     .complexity = "O(1)",
     .summary = "Reads the key and returns the bytes the sidecar holds for it while it passes: "
                "key, value and 64 bytes of bookkeeping (nil for a missing key). SAMPLES is "
                "accepted and has nothing to sample.",
     .args = a_memory_usage},
    {.name = "MEMORY|STATS",
     .arity = 2,
     .flags = CMD_LOCAL,
     .proc = cmd_memory_stats,
     .group = "server",
     .since = "4.0.0",
     .complexity = "O(N) where N is the number of clients",
     .summary = "Returns the sidecar's memory figures under Redis' names (clients.slaves counts "
                "monitors); dataset.bytes and keys.count are 0: the keys live in NoriKV.",
     .args = a_none},
    {.name = "MEMORY|DOCTOR",
     .arity = 2,
     .flags = CMD_LOCAL,
     .proc = cmd_memory_doctor,
     .group = "server",
     .since = "4.0.0",
     .complexity = "O(N) where N is the number of clients",
     .summary = "Returns a report of memory problems: a past peak, fragmentation, a client "
                "holding much.",
     .args = a_none},
    {.name = "MEMORY|MALLOC-STATS",
     .arity = 2,
     .flags = CMD_LOCAL,
     .proc = cmd_memory_malloc_stats,
     .group = "server",
     .since = "4.0.0",
     .complexity = "Depends on how much memory is allocated, could be slow",
     .summary = "Returns glibc's malloc_info report (XML).",
     .args = a_none},
    {.name = "MEMORY|PURGE",
     .arity = 2,
     .flags = CMD_LOCAL,
     .proc = cmd_memory_purge,
     .group = "server",
     .since = "4.0.0",
     .complexity = "Depends on how much memory is allocated, could be slow",
     .summary = "Gives the heap's free memory back to the system (malloc_trim).",
     .args = a_none},
    {.name = "MEMORY|HELP",
     .arity = 2,
     .flags = LOCAL_FAST,
     .proc = cmd_memory_help,
     .group = "server",
     .since = "4.0.0",
     .complexity = "O(1)",
     .summary = HELP_SUMMARY,
     .args = a_none},
    {.name = NULL},
};

/* A command NoriKV cannot do faithfully: always refused, with the reason. */
/* A command on one key run by the compare-and-swap engine (cas.c) through its cell.c
 * function; the same function serves it inside MULTI ... EXEC. */
#define ON_KEY(cmd, n, flag, fn, grp, ver, text, arguments)                                        \
    {                                                                                              \
        .name = cmd, .arity = n, .flags = flag, .first_key = 1, .last_key = 1, .key_step = 1,      \
        .proc = cmd_cas, .cell = fn, .group = grp, .since = ver, .complexity = "O(1)",             \
        .summary = text, .args = arguments                                                         \
    }
/* ON_KEY for a command whose cost is not O(1): a collection's, complexity cx. */
#define ON_KEY_C(cmd, n, flag, fn, grp, ver, cx, text, arguments)                                  \
    {                                                                                              \
        .name = cmd, .arity = n, .flags = flag, .first_key = 1, .last_key = 1, .key_step = 1,      \
        .proc = cmd_cas, .cell = fn, .group = grp, .since = ver, .complexity = cx,                 \
        .summary = text, .args = arguments                                                         \
    }
#define COLL_N "O(N) where N is the size of the value and of the arguments"
#define NOTE_COLL                                                                                  \
    " A write that would make the value exceed NoriKV's 1 MiB answers an error and changes "       \
    "nothing."
#define NOTE_CREATE                                                                                \
    " A missing key is created by an unconditional write (NoriKV has no put-if-absent: two "       \
    "clients creating it at once can both win). Through two sidecars at once, today's NoriKV "     \
    "server can let both updates of one version win (its conditional write is checked before "     \
    "it is applied): send a key's updates through one sidecar."
#define NOTE_TTL                                                                                   \
    " A key in the typed format keeps its TTL, as in Redis; a plain one loses it (NoriKV never "   \
    "returns it and a write replaces it): use string_format typed, or set it in the same "         \
    "write with MULTI, this, EXPIRE, EXEC."

#define REFUSED(cmd, n, reason, arguments)                                                         \
    {                                                                                              \
        .name = cmd, .arity = n, .flags = CMD_REFUSED | CMD_LOCAL, .proc = cmd_refuse,             \
        .group = "generic", .since = "-", .complexity = "-", .summary = "Not available: " reason,  \
        .args = arguments, .refusal = "ERR " cmd " is not supported: " reason                      \
    }

/* The families whose rows live in .def files: their argument lists and subcommands. */
#define CMD_DEF_ARGS
#include "cmd_keyspace.def"
#include "cmd_list.def"
#include "cmd_zset.def"
#include "cmd_hash.def"
#include "cmd_set.def"
#undef CMD_DEF_ARGS

static const cmd_def table[] = {
    /* connection and introspection, answered by the sidecar */
    {.name = "PING",
     .arity = -1,
     .flags = LOCAL_FAST | CMD_PUBSUB,
     .proc = cmd_ping,
     .cell = cell_ping,
     .group = "connection",
     .since = "1.0.0",
     .complexity = "O(1)",
     .summary = "Returns the server's liveliness response.",
     .args = a_message_opt},
    {.name = "ECHO",
     .arity = 2,
     .flags = LOCAL_FAST,
     .proc = cmd_echo,
     .cell = cell_echo,
     .group = "connection",
     .since = "1.0.0",
     .complexity = "O(1)",
     .summary = "Returns the given string.",
     .args = a_message},
    {.name = "QUIT",
     .arity = -1,
     .flags = CMD_STATE | CMD_NOAUTH | CMD_LOADING | CMD_TX | CMD_PUBSUB,
     .proc = cmd_quit,
     .group = "connection",
     .since = "1.0.0",
     .complexity = "O(1)",
     .summary = "Closes the connection once every earlier reply is sent.",
     .args = a_none},
    {.name = "RESET",
     .arity = 1,
     .flags = CMD_STATE | CMD_NOAUTH | CMD_LOADING | CMD_TX | CMD_PUBSUB,
     .proc = cmd_reset,
     .group = "connection",
     .since = "6.2.0",
     .complexity = "O(1)",
     .summary = "Resets the connection: protocol 2, no name, not authenticated.",
     .args = a_none},
    {.name = "HELLO",
     .arity = -1,
     .flags = CMD_STATE | CMD_NOAUTH | CMD_FAST | CMD_LOADING,
     .proc = cmd_hello,
     .group = "connection",
     .since = "6.0.0",
     .complexity = "O(1)",
     .summary = "Handshakes: protocol version, authentication, name.",
     .args = a_hello},
    {.name = "AUTH",
     .arity = -2,
     .flags = CMD_STATE | CMD_NOAUTH | CMD_FAST | CMD_LOADING,
     .proc = cmd_auth,
     .group = "connection",
     .since = "1.0.0",
     .complexity = "O(N) where N is the number of passwords defined for the user",
     .summary = "Authenticates the connection.",
     .args = a_auth},
    {.name = "SELECT",
     .arity = 2,
     .flags = CMD_STATE | CMD_FAST | CMD_LOADING,
     .proc = cmd_select,
     .cell = cell_select,
     .group = "connection",
     .since = "1.0.0",
     .complexity = "O(1)",
     .summary = "Selects the database: NoriKV has one, 0.",
     .args = a_index},
    {.name = "CLIENT",
     .arity = -2,
     .flags = CMD_LOCAL,
     .proc = cmd_container,
     .group = "connection",
     .since = "2.4.0",
     .complexity = "Depends on subcommand.",
     .summary = "A container for client connection commands.",
     .args = a_none,
     .subs = client_subs},
    /* with no subcommand, COMMAND is a command of its own */
    {.name = "COMMAND",
     .arity = -1,
     .flags = CMD_LOCAL | CMD_LOADING,
     .proc = cmd_command,
     .group = "server",
     .since = "2.8.13",
     .complexity = "O(N) where N is the total number of commands",
     .summary = "Returns detailed information about all commands.",
     .args = a_none,
     .subs = command_subs},
    {.name = "CONFIG",
     .arity = -2,
     .flags = CMD_LOCAL,
     .proc = cmd_container,
     .group = "server",
     .since = "2.0.0",
     .complexity = "Depends on subcommand.",
     .summary = "A container for server configuration commands.",
     .args = a_none,
     .subs = config_subs},
    {.name = "INFO",
     .arity = -1,
     .flags = CMD_LOCAL | CMD_LOADING,
     .proc = cmd_info,
     .group = "server",
     .since = "1.0.0",
     .complexity = "O(1)",
     .summary = "Returns information and statistics about the sidecar and the cluster.",
     .args = a_section},
    {.name = "TIME",
     .arity = 1,
     .flags = LOCAL_FAST | CMD_LOADING,
     .proc = cmd_time,
     .group = "server",
     .since = "2.6.0",
     .complexity = "O(1)",
     .summary = "Returns the sidecar's time.",
     .args = a_none},

    /* operator commands (see their subcommands above) */
    {.name = "MONITOR",
     .arity = 1,
     .flags = CMD_LOCAL | CMD_STATE | CMD_ADMIN | CMD_LOADING,
     .proc = cmd_monitor,
     .group = "server",
     .since = "1.0.0",
     .complexity = "O(1)",
     .summary = "Streams every command the sidecar's clients run, as they start, in Redis' "
                "format (passwords redacted, CONFIG, CLIENT KILL/LIST, SLOWLOG, LATENCY and "
                "MONITOR not shown). A monitor that does not read is closed past "
                "reply_backlog; QUIT and RESET end it.",
     .args = a_none},
    {.name = "SLOWLOG",
     .arity = -2,
     .flags = CMD_LOCAL,
     .proc = cmd_container,
     .group = "server",
     .since = "2.2.12",
     .complexity = "Depends on subcommand.",
     .summary = "A container for slow log commands.",
     .args = a_none,
     .subs = slowlog_subs},
    {.name = "LATENCY",
     .arity = -2,
     .flags = CMD_LOCAL,
     .proc = cmd_container,
     .group = "server",
     .since = "2.8.13",
     .complexity = "Depends on subcommand.",
     .summary = "A container for latency diagnostics commands.",
     .args = a_none,
     .subs = latency_subs},
    {.name = "MEMORY",
     .arity = -2,
     .flags = CMD_LOCAL,
     .proc = cmd_container,
     .group = "server",
     .since = "4.0.0",
     .complexity = "Depends on subcommand.",
     .summary = "A container for memory diagnostics commands.",
     .args = a_none,
     .subs = memory_subs},

    /* Redis data commands on NoriKV */
    {.name = "GET",
     .arity = 2,
     .flags = CMD_READ | CMD_FAST,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .proc = cmd_get,
     .cell = cell_get,
     .group = "string",
     .since = "1.0.0",
     .complexity = "O(1)",
     .summary = "Returns the value of a key, or nil.",
     .args = a_key},
    {.name = "SET",
     .arity = -3,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .proc = cmd_set,
     .cell = cell_set,
     .group = "string",
     .since = "1.0.0",
     .complexity = "O(1)",
     .summary = "Sets the value of a key, with an optional time to live. XX, GET and KEEPTTL "
                "run as a compare-and-swap of the key; KEEPTTL needs the key's TTL, known when "
                "its value is typed (string_format); NX is refused: NoriKV has no "
                "put-if-absent.",
     .args = a_set},
    {.name = "SETEX",
     .arity = 4,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .proc = cmd_setex,
     .cell = cell_setex,
     .group = "string",
     .since = "2.0.0",
     .complexity = "O(1)",
     .summary = "Sets the value of a key that expires after a number of seconds.",
     .args = a_setex},
    {.name = "PSETEX",
     .arity = 4,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .proc = cmd_psetex,
     .cell = cell_psetex,
     .group = "string",
     .since = "2.6.0",
     .complexity = "O(1)",
     .summary = "Sets the value of a key that expires after a number of milliseconds.",
     .args = a_psetex},
    {.name = "DEL",
     .arity = -2,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .first_key = 1,
     .last_key = -1,
     .key_step = 1,
     .proc = cmd_del,
     .cell = cell_del,
     .group = "generic",
     .since = "1.0.0",
     .complexity = "O(N) where N is the number of keys",
     .summary = "Deletes keys; returns how many existed, a key named twice counted once. Per "
                "key, not atomic across keys; the count comes from a read just before each "
                "delete.",
     .args = a_keys},
    {.name = "UNLINK",
     .arity = -2,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .first_key = 1,
     .last_key = -1,
     .key_step = 1,
     .proc = cmd_del,
     .cell = cell_del,
     .group = "generic",
     .since = "4.0.0",
     .complexity = "O(N) where N is the number of keys",
     .summary = "Deletes keys, as DEL.",
     .args = a_keys},
    {.name = "EXISTS",
     .arity = -2,
     .flags = CMD_READ | CMD_FAST | CMD_SMALL_REPLY,
     .first_key = 1,
     .last_key = -1,
     .key_step = 1,
     .proc = cmd_exists,
     .cell = cell_exists,
     .group = "generic",
     .since = "3.0.3",
     .complexity = "O(N) where N is the number of keys",
     .summary = "Counts the keys that exist.",
     .args = a_keys},
    {.name = "MGET",
     .arity = -2,
     .flags = CMD_READ | CMD_FAST,
     .first_key = 1,
     .last_key = -1,
     .key_step = 1,
     .proc = cmd_mget,
     .group = "string",
     .since = "1.0.0",
     .complexity = "O(N) where N is the number of keys",
     .summary = "Returns the values of keys, read concurrently from their shards, 16 at a "
                "time; a key named twice is read once. A reply over max_reply is an error.",
     .args = a_keys},
    {.name = "MSET",
     .arity = -3,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .first_key = 1,
     .last_key = -1,
     .key_step = 2,
     .proc = cmd_mset,
     .group = "string",
     .since = "1.0.1",
     .complexity = "O(N) where N is the number of keys",
     .summary = "Sets several keys; a key named twice gets its last value. Per key and "
                "concurrent, not atomic across keys: on an error some keys may be set.",
     .args = a_mset},

    /* read-modify-write: compare-and-swap rounds of the engine (cas.c) on cell.c's commands */
    ON_KEY("INCR", 2, CMD_WRITE | CMD_FAST | CMD_SMALL_REPLY, cell_incr, "string", "1.0.0",
           "Adds 1 to a key's integer." NOTE_CREATE NOTE_TTL, a_key),
    ON_KEY("DECR", 2, CMD_WRITE | CMD_FAST | CMD_SMALL_REPLY, cell_decr, "string", "1.0.0",
           "Subtracts 1 from a key's integer." NOTE_CREATE NOTE_TTL, a_key),
    ON_KEY("INCRBY", 3, CMD_WRITE | CMD_FAST | CMD_SMALL_REPLY, cell_incrby, "string", "1.0.0",
           "Adds a number to a key's integer." NOTE_CREATE NOTE_TTL, a_incrby),
    ON_KEY("DECRBY", 3, CMD_WRITE | CMD_FAST | CMD_SMALL_REPLY, cell_decrby, "string", "1.0.0",
           "Subtracts a number from a key's integer." NOTE_CREATE NOTE_TTL, a_decrby),
    ON_KEY("INCRBYFLOAT", 3, CMD_WRITE | CMD_FAST | CMD_SMALL_REPLY, cell_incrbyfloat, "string",
           "2.6.0", "Adds a floating-point number to a key's number." NOTE_CREATE NOTE_TTL,
           a_incrbyfloat),
    ON_KEY("APPEND", 3, CMD_WRITE | CMD_FAST | CMD_SMALL_REPLY, cell_append, "string", "2.0.0",
           "Appends a string to a key's value; returns the new length." NOTE_CREATE NOTE_TTL,
           a_kv_pair),
    ON_KEY("SETRANGE", 4, CMD_WRITE | CMD_SMALL_REPLY, cell_setrange, "string", "2.2.0",
           "Overwrites part of a key's value at an offset, padding with zero bytes." NOTE_CREATE
               NOTE_TTL,
           a_setrange),
    ON_KEY("STRLEN", 2, CMD_READ | CMD_FAST | CMD_SMALL_REPLY, cell_strlen, "string", "2.2.0",
           "Returns the length of a key's value (0 for a missing key); a linearizable read.",
           a_key),
    ON_KEY("GETRANGE", 4, CMD_READ, cell_getrange, "string", "2.4.0",
           "Returns a substring of a key's value; a linearizable read.", a_getrange),
    ON_KEY("GETSET", 3, CMD_WRITE | CMD_FAST, cell_getset, "string", "1.0.0",
           "Sets a key's value and returns the old one (or nil); the key loses its TTL, as in "
           "Redis." NOTE_CREATE,
           a_kv_pair),
    ON_KEY("GETDEL", 2, CMD_WRITE | CMD_FAST, cell_getdel, "string", "6.2.0",
           "Returns a key's value and deletes the key. NoriKV ignores a delete's version "
           "condition: a write landing between the read and the delete is deleted too.",
           a_key),
    ON_KEY("GETEX", -2, CMD_WRITE | CMD_FAST, cell_getex, "string", "6.2.0",
           "Returns a key's value and, with an option, sets or clears its TTL by rewriting the "
           "value under the version read.",
           a_getex),
    ON_KEY("EXPIRE", -3, CMD_WRITE | CMD_FAST | CMD_SMALL_REPLY, cell_expire, "generic", "1.0.0",
           "Sets a key's TTL in seconds by rewriting its value under the version read. NX, XX, "
           "GT and LT need the current TTL: known for a value in the typed format "
           "(string_format), else refused unless the same transaction set it.",
           a_expire_s),
    ON_KEY("PEXPIRE", -3, CMD_WRITE | CMD_FAST | CMD_SMALL_REPLY, cell_pexpire, "generic", "2.6.0",
           "Sets a key's TTL in milliseconds, as EXPIRE.", a_expire_ms),
    ON_KEY("EXPIREAT", -3, CMD_WRITE | CMD_FAST | CMD_SMALL_REPLY, cell_expireat, "generic",
           "1.2.0", "Sets a key's expiry as a Unix time in seconds, as EXPIRE.", a_expireat_s),
    ON_KEY("PEXPIREAT", -3, CMD_WRITE | CMD_FAST | CMD_SMALL_REPLY, cell_pexpireat, "generic",
           "2.6.0", "Sets a key's expiry as a Unix time in milliseconds, as EXPIRE.",
           a_expireat_ms),
    ON_KEY("PERSIST", 2, CMD_WRITE | CMD_FAST | CMD_SMALL_REPLY, cell_persist, "generic", "2.2.0",
           "Removes a key's TTL by rewriting its value; returns 0 or 1 as Redis for a value in "
           "the typed format, and 1 whenever a plain one exists (its TTL is unknown).",
           a_key),
    ON_KEY("TTL", 2, CMD_READ | CMD_FAST, cell_ttl, "generic", "1.0.0",
           "Seconds left before a key expires, -1 without a TTL, -2 when missing, for a value "
           "in the typed format; a plain string's TTL is unknown (an error; inside MULTI, a "
           "TTL the transaction set is known): see string_format.",
           a_key),
    ON_KEY("PTTL", 2, CMD_READ | CMD_FAST, cell_ttl, "generic", "2.6.0",
           "TTL in milliseconds, with the same limits as TTL.", a_key),

    /* bits of a key's value (cell_bits.c), SUBSTR and LCS */
    ON_KEY("SETBIT", 4, CMD_WRITE | CMD_SMALL_REPLY, cell_setbit, "bitmap", "2.2.0",
           "Sets or clears a bit of a key's value, padding with zero bytes; returns the bit's "
           "old value. Offsets from 8388608 (past NoriKV's 1 MiB values) are refused." NOTE_CREATE
               NOTE_TTL,
           a_setbit),
    ON_KEY("GETBIT", 3, CMD_READ | CMD_FAST | CMD_SMALL_REPLY, cell_getbit, "bitmap", "2.2.0",
           "Returns a bit of a key's value (0 past its end); a linearizable read.", a_getbit),
    ON_KEY_C("BITCOUNT", -2, CMD_READ | CMD_SMALL_REPLY, cell_bitcount, "bitmap", "2.6.0", "O(N)",
             "Counts the bits set in a key's value, or in a range of bytes or bits; a "
             "linearizable read.",
             a_bitcount),
    ON_KEY_C("BITPOS", -3, CMD_READ | CMD_SMALL_REPLY, cell_bitpos, "bitmap", "2.8.7", "O(N)",
             "Returns the first bit set or clear in a key's value, or in a range of bytes or "
             "bits; a linearizable read.",
             a_bitpos),
    ON_KEY_C("BITFIELD", -2, CMD_WRITE, cell_bitfield, "bitmap", "3.2.0",
             "O(1) for each subcommand specified",
             "Gets, sets and increments integer fields of a key's value, with WRAP, SAT or FAIL "
             "on overflow, all under one compare-and-swap (no write if only GETs). Fields past "
             "NoriKV's 1 MiB values are refused." NOTE_CREATE NOTE_TTL,
             a_bitfield),
    ON_KEY_C("BITFIELD_RO", -2, CMD_READ | CMD_FAST, cell_bitfield_ro, "bitmap", "6.0.0",
             "O(1) for each subcommand specified",
             "Gets integer fields of a key's value (GET only); a linearizable read.",
             a_bitfield_ro),
    REFUSED("BITOP", -4,
            "NoriKV has no writes across keys (BITOP stores what it computes from other keys "
            "under a key of its own)",
            a_bitop),
    ON_KEY_C("SUBSTR", 4, CMD_READ, cell_getrange, "string", "1.0.0", "O(N)",
             "Returns a substring of a key's value, as GETRANGE (its old name); a linearizable "
             "read.",
             a_getrange),
    {.name = "LCS",
     .arity = -3,
     .flags = CMD_READ,
     .first_key = 1,
     .last_key = 2,
     .key_step = 1,
     .proc = cmd_lcs,
     .group = "string",
     .since = "7.0.0",
     .complexity = "O(N*M) where N and M are the lengths of s1 and s2, respectively",
     .summary = "Returns the longest common subsequence of two keys' values (LEN: its length; "
                "IDX: the matches). Each key is a linearizable read of its own, not a snapshot "
                "across the two. Values whose table, (length1 + 1) * (length2 + 1), is over "
                "16777216 cells are refused; tables are filled one at a time, in slices, other "
                "clients served in between.",
     .args = a_lcs},

    /* NoriKV-native commands */
    {.name = "NORI.PUT",
     .arity = -3,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .proc = cmd_nori_put,
     .group = "norikv",
     .since = "0.1.0",
     .complexity = "O(1)",
     .summary = "Writes a key with NoriKV's options; returns the new version [term, index].",
     .args = a_nori_put},
    {.name = "NORI.GET",
     .arity = -2,
     .flags = CMD_READ | CMD_FAST,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .proc = cmd_nori_get,
     .group = "norikv",
     .since = "0.1.0",
     .complexity = "O(1)",
     .summary = "Reads a key at a consistency level; returns [value, term, index] or nil.",
     .args = a_nori_get},
    {.name = "NORI.DEL",
     .arity = -2,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .proc = cmd_nori_del,
     .group = "norikv",
     .since = "0.1.0",
     .complexity = "O(1)",
     .summary = "Deletes a key; returns 1 if NoriKV wrote a tombstone (today's server always "
                "does and ignores IFMATCH on deletes).",
     .args = a_nori_del},
    {.name = "NORI.SHARD",
     .arity = 2,
     .flags = LOCAL_FAST,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .proc = cmd_nori_shard,
     .group = "norikv",
     .since = "0.1.0",
     .complexity = "O(1)",
     .summary = "Returns a key's shard and the address of the node that leads it (nil if "
                "unknown).",
     .args = a_key},
    {.name = "NORI.TOPOLOGY",
     .arity = 1,
     .flags = CMD_LOCAL,
     .proc = cmd_nori_topology,
     .group = "norikv",
     .since = "0.1.0",
     .complexity = "O(N) where N is the number of shards",
     .summary = "Returns the cluster view: epoch, nodes, and each shard's leader.",
     .args = a_none},
    {.name = "NORI.STATS",
     .arity = 1,
     .flags = CMD_LOCAL,
     .proc = cmd_nori_stats,
     .group = "norikv",
     .since = "0.1.0",
     .complexity = "O(1)",
     .summary = "Returns the cluster client's pool, router, topology and retry statistics.",
     .args = a_none},
    {.name = "NORI.CONSISTENCY",
     .arity = -1,
     .flags = CMD_STATE | CMD_FAST,
     .proc = cmd_nori_consistency,
     .group = "norikv",
     .since = "0.1.0",
     .complexity = "O(1)",
     .summary = "Sets or returns the connection's default read consistency (lease, "
                "linearizable, stale_ok).",
     .args = a_nori_consistency},

    /* vector sets on NoriKV's vector namespaces (key = namespace, element = vector id) */
    {.name = "VADD",
     .arity = -5,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .proc = cmd_vadd,
     .group = "vector_set",
     .since = "8.0.0",
     .complexity = "O(1) calls: a read of the element, an insert (and a namespace create the "
                   "first time)",
     .summary = "Adds an element's vector; the first VADD to a key creates its NoriKV namespace "
                "(cosine, the vector's dimension). Returns 1 if a read just before found no such "
                "element, else 0. CAS, NOQUANT, Q8, BIN, EF and M are accepted and ignored "
                "(NoriKV stores float32 vectors and tunes its own index); REDUCE and SETATTR are "
                "refused (NoriKV has no projections and no attributes).",
     .args = a_vadd},
    {.name = "VSIM",
     .arity = -4,
     .flags = CMD_READ | CMD_LARGE_REPLY,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .proc = cmd_vsim,
     .group = "vector_set",
     .since = "8.0.0",
     .complexity = "One NoriKV search (and a read for ELE)",
     .summary = "Returns the COUNT (default 10) elements nearest a vector or an element, in "
                "NoriKV's order; WITHSCORES adds Redis' cosine similarity (1 identical, 0 "
                "opposite) computed from each vector. EF, TRUTH and NOTHREAD are accepted and "
                "ignored; FILTER, FILTER-EF and WITHATTRIBS are refused (NoriKV keeps no "
                "attributes).",
     .args = a_vsim},
    {.name = "VREM",
     .arity = 3,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .proc = cmd_vrem,
     .group = "vector_set",
     .since = "8.0.0",
     .complexity = "O(1) calls: a read, then a delete if found",
     .summary = "Removes an element; returns 1 if a read just before found it. The namespace "
                "stays when its last element goes (NORI.VDROP drops it).",
     .args = a_key_element},
    {.name = "VEMB",
     .arity = -3,
     .flags = CMD_READ | CMD_FAST,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .proc = cmd_vemb,
     .group = "vector_set",
     .since = "8.0.0",
     .complexity = "O(1) calls",
     .summary = "Returns an element's vector as stored (exactly: NoriKV does not quantize); RAW "
                "returns f32, the normalized float32 blob and the L2 norm.",
     .args = a_vemb},
    {.name = "VISMEMBER",
     .arity = 3,
     .flags = CMD_READ | CMD_FAST | CMD_SMALL_REPLY,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .proc = cmd_vismember,
     .group = "vector_set",
     .since = "8.0.0",
     .complexity = "O(1) calls",
     .summary = "Returns whether an element is in the vector set.",
     .args = a_key_element},
    REFUSED("VCARD", 2, "NoriKV cannot count a vector namespace's elements", a_key),
    REFUSED("VDIM", 2, "NoriKV does not tell a vector namespace's dimension", a_key),
    REFUSED("VINFO", 2, "NoriKV does not describe a vector namespace", a_key),
    REFUSED("VRANDMEMBER", -2, "NoriKV cannot enumerate a vector namespace", a_vrandmember),
    REFUSED("VRANGE", -4, "NoriKV cannot enumerate a vector namespace", a_vrange),
    REFUSED("VLINKS", -3, "NoriKV does not expose its index graph", a_vlinks),
    REFUSED("VGETATTR", 3, "NoriKV keeps no attributes with a vector", a_key_element),
    REFUSED("VSETATTR", 4, "NoriKV keeps no attributes with a vector", a_vsetattr),

    /* NoriKV's vector API */
    {.name = "NORI.VCREATE",
     .arity = -4,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .proc = cmd_nori_vcreate,
     .group = "norikv",
     .since = "0.2.0",
     .complexity = "O(1)",
     .summary = "Creates a vector namespace with a dimension and a distance; returns 1 if NoriKV "
                "created it, 0 if it was there.",
     .args = a_nori_vcreate},
    {.name = "NORI.VDROP",
     .arity = -2,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .proc = cmd_nori_vdrop,
     .group = "norikv",
     .since = "0.2.0",
     .complexity = "O(1)",
     .summary = "Drops a vector namespace and its vectors; returns 1 if NoriKV dropped one.",
     .args = a_nori_vdrop},
    {.name = "NORI.VINSERT",
     .arity = -4,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .proc = cmd_nori_vinsert,
     .group = "norikv",
     .since = "0.2.0",
     .complexity = "O(1)",
     .summary = "Inserts or replaces a vector (values, or FP32 blob); returns the version [term, "
                "index].",
     .args = a_nori_vinsert},
    {.name = "NORI.VDELETE",
     .arity = -3,
     .flags = CMD_WRITE | CMD_SMALL_REPLY,
     .proc = cmd_nori_vdelete,
     .group = "norikv",
     .since = "0.2.0",
     .complexity = "O(1)",
     .summary = "Deletes a vector; returns 1 if NoriKV says it deleted one (today's server always "
                "does).",
     .args = a_nori_vdelete},
    {.name = "NORI.VSEARCH",
     .arity = -5,
     .flags = CMD_READ,
     .proc = cmd_nori_vsearch,
     .group = "norikv",
     .since = "0.2.0",
     .complexity = "One NoriKV search",
     .summary = "Returns the k nearest vectors, ascending by distance: one [id, distance] (with "
                "WITHVECTORS [id, distance, vector]) per match, then search_time_us.",
     .args = a_nori_vsearch},
    {.name = "NORI.VGET",
     .arity = -3,
     .flags = CMD_READ | CMD_FAST,
     .proc = cmd_nori_vget,
     .group = "norikv",
     .since = "0.2.0",
     .complexity = "O(1)",
     .summary = "Returns a vector's values, or nil.",
     .args = a_nori_vget},

    /* pub/sub: cluster events on norikv:topology */
    {.name = "SUBSCRIBE",
     .arity = -2,
     .flags = CMD_STATE | CMD_PUBSUB,
     .proc = cmd_subscribe,
     .group = "pubsub",
     .since = "2.0.0",
     .complexity = "O(N) where N is the number of channels to subscribe to",
     .summary = "Listens for messages on channels: norikv:topology gets one JSON message per "
                "cluster view change; other channels never deliver (NoriKV has no pub/sub).",
     .args = a_channels},
    {.name = "UNSUBSCRIBE",
     .arity = -1,
     .flags = CMD_STATE | CMD_PUBSUB,
     .proc = cmd_unsubscribe,
     .group = "pubsub",
     .since = "2.0.0",
     .complexity = "O(N) where N is the number of channels to unsubscribe",
     .summary = "Stops listening on channels (all, when none is named).",
     .args = a_channels_opt},
    {.name = "PSUBSCRIBE",
     .arity = -2,
     .flags = CMD_STATE | CMD_PUBSUB,
     .proc = cmd_psubscribe,
     .group = "pubsub",
     .since = "2.0.0",
     .complexity = "O(N) where N is the number of patterns to subscribe to",
     .summary = "Listens for messages on channels matching glob patterns (norikv:* gets the "
                "topology events).",
     .args = a_patterns},
    {.name = "PUNSUBSCRIBE",
     .arity = -1,
     .flags = CMD_STATE | CMD_PUBSUB,
     .proc = cmd_punsubscribe,
     .group = "pubsub",
     .since = "2.0.0",
     .complexity = "O(N) where N is the number of patterns to unsubscribe",
     .summary = "Stops listening on patterns (all, when none is named).",
     .args = a_patterns_opt},
    {.name = "PUBSUB",
     .arity = -2,
     .flags = CMD_LOCAL,
     .proc = cmd_container,
     .group = "pubsub",
     .since = "2.8.0",
     .complexity = "Depends on subcommand.",
     .summary = "A container for Pub/Sub commands.",
     .args = a_none,
     .subs = pubsub_subs},
    REFUSED("PUBLISH", 3, "NoriKV has no pub/sub: only the sidecar publishes (norikv:topology)",
            a_publish),
    REFUSED("SPUBLISH", 3, "NoriKV has no pub/sub: only the sidecar publishes (norikv:topology)",
            a_publish),

    /* what NoriKV cannot do faithfully is refused, with the reason */
    REFUSED("SETNX", 3, "NoriKV has no atomic put-if-absent", a_kv_pair),
    REFUSED("MSETNX", -3, "NoriKV has no atomic put-if-absent", a_mset),
    REFUSED("KEYS", 2, "NoriKV cannot enumerate keys", a_pattern_one),
    REFUSED("SCAN", -2, "NoriKV cannot enumerate keys", a_scan),
    REFUSED("DBSIZE", 1, "NoriKV cannot count keys", a_none),
    REFUSED("FLUSHDB", -1, "NoriKV has no way to drop every key", a_none),
    REFUSED("FLUSHALL", -1, "NoriKV has no way to drop every key", a_none),
    {.name = "MULTI",
     .arity = 1,
     .flags = CMD_STATE | CMD_FAST | CMD_TX,
     .proc = cmd_multi,
     .group = "transactions",
     .since = "1.2.0",
     .complexity = "O(1)",
     .summary = "Starts a transaction. Its commands must all touch one key (or none): EXEC runs "
                "them as one compare-and-swap of that key; several keys get EXECABORT.",
     .args = a_none},
    {.name = "EXEC",
     .arity = 1,
     .flags = CMD_WRITE | CMD_STATE | CMD_TX,
     .proc = cmd_exec,
     .group = "transactions",
     .since = "1.2.0",
     .complexity = "Depends on commands in the transaction",
     .summary = "Runs the queued commands on their one key: read once, apply in order, one write "
                "conditional on the version read, redone on a race. A key the transaction "
                "creates is written unconditionally (no put-if-absent).",
     .args = a_none},
    {.name = "DISCARD",
     .arity = 1,
     .flags = CMD_STATE | CMD_FAST | CMD_TX,
     .proc = cmd_discard,
     .group = "transactions",
     .since = "2.0.0",
     .complexity = "O(N) when N is the number of queued commands",
     .summary = "Discards a transaction.",
     .args = a_none},
    {.name = "WATCH",
     .arity = -2,
     .flags = CMD_STATE | CMD_FAST | CMD_TX,
     .first_key = 1,
     .last_key = -1,
     .key_step = 1,
     .proc = cmd_watch,
     .group = "transactions",
     .since = "2.2.0",
     .complexity = "O(1)",
     .summary = "Watches one key (several are refused: NoriKV has no transactions across keys): "
                "EXEC answers nil if its version changed.",
     .args = a_keys},
    {.name = "UNWATCH",
     .arity = 1,
     .flags = CMD_STATE | CMD_FAST,
     .proc = cmd_unwatch,
     .cell = cell_unwatch,
     .group = "transactions",
     .since = "2.2.0",
     .complexity = "O(1)",
     .summary = "Forgets the watched key.",
     .args = a_none},

/* the .def files' rows */
#define CMD_DEF_ROWS
#include "cmd_keyspace.def"
#include "cmd_list.def"
#include "cmd_zset.def"
#include "cmd_hash.def"
#include "cmd_set.def"
#undef CMD_DEF_ROWS
};

#define NCMDS (sizeof(table) / sizeof(table[0]))

size_t cmd_count(void)
{
    return NCMDS;
}

const cmd_def *cmd_at(size_t i)
{
    return i < NCMDS ? &table[i] : NULL;
}

static const cmd_def *find_sub(const cmd_def *parent, const char *name)
{
    size_t plen = strlen(parent->name);

    for (const cmd_def *s = parent->subs; s != NULL && s->name != NULL; s++)
        if (strcasecmp(s->name + plen + 1, name) == 0)
            return s;
    return NULL;
}

/* The table's names in a hash table, made on first use: dispatch and COMMAND INFO/DOCS
 * find a name in O(1), not by a scan of the table (a million names in one COMMAND DOCS
 * were a hundred million comparisons on the loop). Lives as long as the process. */
#define NAME_MAX_LEN 32
static struct name_entry {
    dict_entry entry;
    size_t index;
} names_of[NCMDS];
static dict names;

/* The top-level command named name (any case), or NULL. */
static const cmd_def *find_top_len(const char *name, size_t len)
{
    char upper[NAME_MAX_LEN];
    dict_entry *e;

    if (names.nbuckets == 0) {
        dict_init(&names, dict_seed());
        for (size_t i = 0; i < NCMDS; i++) {
            assert(strlen(table[i].name) < NAME_MAX_LEN);
            names_of[i].index = i;
            dict_add(&names, &names_of[i].entry, table[i].name, strlen(table[i].name));
        }
    }
    if (len >= sizeof(upper))
        return NULL;
    for (size_t i = 0; i < len; i++)
        upper[i] = (char)toupper((unsigned char)name[i]);
    e = dict_find(&names, upper, len);
    return e != NULL ? &table[dict_item(e, struct name_entry, entry)->index] : NULL;
}

const cmd_def *cmd_find(const resp_arg *argv, int argc, int *index)
{
    const cmd_def *d;

    *index = -1;
    if (argc < 1 || (d = find_top_len(argv[0].ptr, argv[0].len)) == NULL)
        return NULL;
    *index = (int)(d - table);
    if (d->subs != NULL && argc >= 2) {
        const cmd_def *sub = find_sub(d, argv[1].ptr);
        if (sub != NULL)
            return sub;
    }
    return d;
}

static void lower(char *dst, const char *src, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len && src[i]; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

static void reply_wrong_arity(req *r)
{
    char name[64];

    lower(name, r->cmd->name, sizeof(name));
    reply_errorf(r, "ERR wrong number of arguments for '%s' command", name);
}

/* The error for a container named without a known subcommand. */
static void reply_no_subcommand(req *r)
{
    if (r->argc < 2) {
        reply_wrong_arity(r);
    } else {
        reply_errorf(r, "ERR unknown subcommand '%.128s'. Try %s HELP.", r->argv[1].ptr,
                     r->cmd->name);
    }
}

bool cmd_small_reply(const req *r)
{
    if (r->cmd == NULL || !(r->cmd->flags & CMD_SMALL_REPLY))
        return false;
    if (r->cmd->proc == cmd_set) /* SET ... GET answers the old value */
        for (int i = 3; i < r->argc; i++)
            if (strcasecmp(r->argv[i].ptr, "GET") == 0)
                return false;
    return true;
}

bool cmd_arg_redacted(const cmd_def *d, const resp_arg *argv, int argc, int i)
{
    if (d == NULL || i < 1)
        return false;
    if (d->proc == cmd_auth)
        return argc <= 3; /* Redis redacts before it checks the count */
    if (d->proc != cmd_hello)
        return false;
    for (int j = 2; j < argc && j < i; j++) {
        if (strcasecmp(argv[j].ptr, "AUTH") == 0 && j + 2 < argc) {
            if (i == j + 1 || i == j + 2)
                return true;
            j += 2;
        } else if (strcasecmp(argv[j].ptr, "SETNAME") == 0 && j + 1 < argc) {
            j++;
        }
    }
    return false;
}

bool cmd_check(req *r)
{
    const cmd_def *d = r->cmd;
    client *c = r->c;

    if (d == NULL) {
        char args[256] = "";
        size_t off = 0;
        for (int i = 1; i < r->argc && off < 128; i++)
            off += (size_t)snprintf(args + off, sizeof(args) - off, "'%.*s' ",
                                    (int)(r->argv[i].len > 128 ? 128 : r->argv[i].len),
                                    r->argv[i].ptr);
        reply_errorf(r, "ERR unknown command '%.128s', with args beginning with: %s",
                     r->argc > 0 ? r->argv[0].ptr : "", args);
        return false;
    }
    if (!c->authenticated && c->s->cfg.sidecar.requirepass[0] != '\0' && !(d->flags & CMD_NOAUTH)) {
        reply_error(r, "NOAUTH Authentication required.");
        return false;
    }
    /* a container named without a known subcommand (COMMAND alone is a command) */
    if (d->subs != NULL && (r->argc >= 2 || d->proc == cmd_container)) {
        if (r->argc >= 2)
            r->cmd_index = -1; /* no command of Redis' counts an unknown subcommand */
        reply_no_subcommand(r);
        return false;
    }
    if ((d->arity > 0 && r->argc != d->arity) || (d->arity < 0 && r->argc < -d->arity)) {
        reply_wrong_arity(r);
        return false;
    }
    if (c->monitor && (d->flags & (CMD_READ | CMD_WRITE))) {
        /* a monitor is a replica to Redis */
        reply_error(r, "ERR Replica can't interact with the keyspace");
        return false;
    }
    if (pubsub_mode(c) && !(d->flags & CMD_PUBSUB)) {
        char name[64];
        lower(name, d->name, sizeof(name));
        reply_errorf(r,
                     "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                     "QUIT / RESET are allowed in this context",
                     name);
        return false;
    }
    if (c->s->draining && !(d->flags & CMD_LOADING) && !(d->flags & CMD_LOCAL)) {
        reply_error(r, "UNAVAILABLE the sidecar is shutting down");
        return false;
    }
    return true;
}

/* A container's handler: cmd_check has already refused the request (reply_no_subcommand),
 * so this runs only if that check is ever bypassed. */
void cmd_container(req *r)
{
    reply_no_subcommand(r);
    req_done(r);
}

void cmd_refuse(req *r)
{
    reply_error(r, r->cmd->refusal);
    req_done(r);
}

/* ---- COMMAND ------------------------------------------------------------------------ */

static size_t count_args(const cmd_arg *a)
{
    size_t n = 0;

    while (a != NULL && a[n].name != NULL)
        n++;
    return n;
}

static size_t count_subs(const cmd_def *d)
{
    size_t n = 0;

    while (d->subs != NULL && d->subs[n].name != NULL)
        n++;
    return n;
}

static void add_lower_bulk(struct evbuffer *b, const char *s)
{
    char name[64];

    lower(name, s, sizeof(name));
    resp_add_bulk_str(b, name);
}

static void add_flags(struct evbuffer *b, int proto, const cmd_def *d)
{
    const char *f[7];
    int n = 0;

    if (d->flags & CMD_WRITE)
        f[n++] = "write";
    if (d->flags & CMD_READ)
        f[n++] = "readonly";
    if (d->flags & CMD_ADMIN)
        f[n++] = "admin";
    if (d->flags & CMD_FAST)
        f[n++] = "fast";
    if (d->flags & CMD_NOAUTH)
        f[n++] = "no_auth";
    if (d->flags & CMD_LOADING)
        f[n++] = "loading";
    if (d->flags & (CMD_LOCAL | CMD_STATE))
        f[n++] = "stale";
    resp_add_set(b, proto, n);
    for (int i = 0; i < n; i++)
        resp_add_simple(b, f[i]);
}

static void add_info(struct evbuffer *b, int proto, const cmd_def *d)
{
    size_t nsubs = count_subs(d);

    resp_add_array(b, 10);
    add_lower_bulk(b, d->name);
    resp_add_int(b, d->arity);
    add_flags(b, proto, d);
    resp_add_int(b, d->first_key);
    resp_add_int(b, d->last_key);
    resp_add_int(b, d->key_step);
    resp_add_set(b, proto, 0); /* ACL categories */
    resp_add_array(b, 0);      /* tips */
    resp_add_array(b, 0);      /* key specifications */
    resp_add_array(b, (long)nsubs);
    for (size_t i = 0; i < nsubs; i++)
        add_info(b, proto, &d->subs[i]);
}

static void add_arg_docs(struct evbuffer *b, int proto, const cmd_arg *args)
{
    size_t n = count_args(args);

    resp_add_array(b, (long)n);
    for (size_t i = 0; i < n; i++) {
        const cmd_arg *a = &args[i];
        int fields = 2 + (a->token != NULL) + (a->flags != 0) + (a->sub != NULL);
        resp_add_map(b, proto, fields);
        resp_add_bulk_str(b, "name");
        resp_add_bulk_str(b, a->name);
        resp_add_bulk_str(b, "type");
        resp_add_bulk_str(b, cmd_arg_type_name(a->type));
        if (a->token != NULL) {
            resp_add_bulk_str(b, "token");
            resp_add_bulk_str(b, a->token);
        }
        if (a->flags != 0) {
            int nf = ((a->flags & OPT) != 0) + ((a->flags & MULTI) != 0);
            resp_add_bulk_str(b, "flags");
            resp_add_array(b, nf);
            if (a->flags & OPT)
                resp_add_simple(b, "optional");
            if (a->flags & MULTI)
                resp_add_simple(b, "multiple");
        }
        if (a->sub != NULL) {
            resp_add_bulk_str(b, "arguments");
            add_arg_docs(b, proto, a->sub);
        }
    }
}

static void add_docs(struct evbuffer *b, int proto, const cmd_def *d)
{
    size_t nsubs = count_subs(d);

    resp_add_map(b, proto, 5 + (nsubs > 0));
    resp_add_bulk_str(b, "summary");
    resp_add_bulk_str(b, d->summary);
    resp_add_bulk_str(b, "since");
    resp_add_bulk_str(b, d->since);
    resp_add_bulk_str(b, "group");
    resp_add_bulk_str(b, d->group);
    resp_add_bulk_str(b, "complexity");
    resp_add_bulk_str(b, d->complexity);
    resp_add_bulk_str(b, "arguments");
    add_arg_docs(b, proto, d->args);
    if (nsubs > 0) {
        resp_add_bulk_str(b, "subcommands");
        resp_add_map(b, proto, (long)nsubs);
        for (size_t i = 0; i < nsubs; i++) {
            add_lower_bulk(b, d->subs[i].name);
            add_docs(b, proto, &d->subs[i]);
        }
    }
}

/* A top-level command's docs as sent (RESP2 and RESP3), made once: COMMAND DOCS of many
 * names copies them instead of rendering each again. Lives as long as the process. */
static struct {
    char *p;
    size_t n;
} docs_made[NCMDS][2];

static void add_docs_cached(struct evbuffer *b, int proto, const cmd_def *d)
{
    size_t i = (size_t)(d - table);
    int p = proto >= 3;

    if (docs_made[i][p].p == NULL) {
        struct evbuffer *tmp = evbuffer_new();
        add_docs(tmp, proto, d);
        docs_made[i][p].n = evbuffer_get_length(tmp);
        docs_made[i][p].p = xmalloc(docs_made[i][p].n + 1);
        evbuffer_remove(tmp, docs_made[i][p].p, docs_made[i][p].n);
        evbuffer_free(tmp);
    }
    evbuffer_add(b, docs_made[i][p].p, docs_made[i][p].n);
}

static void add_all_info(req *r)
{
    struct evbuffer *b = reply(r);

    resp_add_array(b, (long)NCMDS);
    for (size_t i = 0; i < NCMDS && !reply_full(r); i++)
        add_info(b, r->c->proto, &table[i]);
    if (reply_full(r))
        reply_over_max(r, "the command table does not fit");
}

void cmd_command(req *r)
{
    add_all_info(r);
    req_done(r);
}

void cmd_command_count(req *r)
{
    resp_add_int(reply(r), (long long)NCMDS);
    req_done(r);
}

void cmd_command_info(req *r)
{
    struct evbuffer *b = reply(r);
    int proto = r->c->proto;

    if (r->argc == 2) {
        add_all_info(r);
    } else {
        resp_add_array(b, r->argc - 2);
        for (int i = 2; i < r->argc && !reply_full(r); i++) {
            const cmd_def *d = find_top_len(r->argv[i].ptr, r->argv[i].len);
            if (d != NULL)
                add_info(b, proto, d);
            else
                resp_add_null_array(b, proto);
        }
        if (reply_full(r))
            reply_over_max(r, "ask for fewer commands");
    }
    req_done(r);
}

void cmd_command_docs(req *r)
{
    struct evbuffer *b = reply(r);
    int proto = r->c->proto;

    if (r->argc == 2) {
        resp_add_map(b, proto, (long)NCMDS);
        for (size_t i = 0; i < NCMDS && !reply_full(r); i++) {
            add_lower_bulk(b, table[i].name);
            add_docs_cached(b, proto, &table[i]);
        }
    } else {
        long n = 0;
        for (int i = 2; i < r->argc; i++)
            n += find_top_len(r->argv[i].ptr, r->argv[i].len) != NULL;
        resp_add_map(b, proto, n);
        for (int i = 2; i < r->argc && !reply_full(r); i++) {
            const cmd_def *d = find_top_len(r->argv[i].ptr, r->argv[i].len);
            if (d != NULL) {
                add_lower_bulk(b, d->name);
                add_docs_cached(b, proto, d);
            }
        }
    }
    if (reply_full(r))
        reply_over_max(r, "ask for fewer commands");
    req_done(r);
}

void cmd_command_list(req *r)
{
    if (r->argc > 2) {
        reply_error(r, "ERR COMMAND LIST FILTERBY is not supported");
    } else {
        resp_add_array(reply(r), (long)NCMDS);
        for (size_t i = 0; i < NCMDS; i++)
            add_lower_bulk(reply(r), table[i].name);
    }
    req_done(r);
}

void cmd_command_help(req *r)
{
    static const char *const help[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all commands.",
        "COUNT",
        "    Return the total number of commands.",
        "INFO [<command-name> ...]",
        "    Return details about the given commands, or all of them.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about the given commands, or all of them.",
        "LIST",
        "    Return a list of all command names.",
        "HELP",
        "    Print this help.",
        NULL};

    reply_help(r, help);
    req_done(r);
}

/* ---- the README table --------------------------------------------------------------- */

static void print_args(FILE *f, const cmd_arg *args, const char *sep)
{
    for (size_t i = 0; args != NULL && args[i].name != NULL; i++) {
        const cmd_arg *a = &args[i];
        bool opt = a->flags & OPT;
        fputs(i ? sep : "", f);
        if (opt)
            fputc('[', f);
        if (a->token != NULL)
            fprintf(f, "%s%s", a->token, a->type == CMD_ARG_PURE_TOKEN ? "" : " ");
        if (a->type == CMD_ARG_ONEOF)
            print_args(f, a->sub, " \\| ");
        else if (a->type == CMD_ARG_BLOCK)
            print_args(f, a->sub, " ");
        else if (a->type != CMD_ARG_PURE_TOKEN)
            fputs(a->name, f);
        if (a->flags & MULTI)
            fputs(" ...", f);
        if (opt)
            fputc(']', f);
    }
}

void cmd_print_markdown(FILE *f)
{
    fputs("| Command | Summary |\n|---|---|\n", f);
    for (size_t i = 0; i < NCMDS; i++) {
        const cmd_def *d = &table[i];
        size_t nsubs = count_subs(d);
        if (nsubs == 0) {
            fprintf(f, "| `%s", d->name);
            if (count_args(d->args) > 0) {
                fputc(' ', f);
                print_args(f, d->args, " ");
            }
            fprintf(f, "` | %s |\n", d->summary);
            continue;
        }
        for (size_t k = 0; k < nsubs; k++) {
            const cmd_def *s = &d->subs[k];
            fprintf(f, "| `%s %s", d->name, strchr(s->name, '|') + 1);
            if (count_args(s->args) > 0) {
                fputc(' ', f);
                print_args(f, s->args, " ");
            }
            fprintf(f, "` | %s |\n", s->summary);
        }
    }
}

/*
 * retry: the retry table and backoff math. The table is the only place that decides
 * which gRPC outcomes are retried: UNAVAILABLE and connection
 * failures always; DEADLINE_EXCEEDED, INTERNAL, UNKNOWN and CANCELLED only when a
 * second execution is harmless; never INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND,
 * ALREADY_EXISTS or UNIMPLEMENTED.
 */
#include "retry.h"

#include <string.h>

void retry_config_default(retry_config *rc)
{
    rc->max_attempts = KV_RETRY_DEFAULT_MAX_ATTEMPTS;
    rc->initial_delay_ms = KV_RETRY_DEFAULT_INITIAL_DELAY_MS;
    rc->max_delay_ms = KV_RETRY_DEFAULT_MAX_DELAY_MS;
    rc->jitter_ms = KV_RETRY_DEFAULT_JITTER_MS;
}

const char *kv_err_name(kv_err e)
{
    switch (e) {
    case KV_OK:
        return "OK";
    case KV_ERR_INVALID:
        return "INVALID";
    case KV_ERR_VERSION_MISMATCH:
        return "VERSIONMISMATCH";
    case KV_ERR_KEY_MISSING:
        return "KEYMISSING";
    case KV_ERR_NOT_FOUND:
        return "NOTFOUND";
    case KV_ERR_EXISTS:
        return "EXISTS";
    case KV_ERR_UNAVAILABLE:
        return "UNAVAILABLE";
    case KV_ERR_TIMEOUT:
        return "TIMEOUT";
    case KV_ERR_NOT_SUPPORTED:
        return "NOTSUPPORTED";
    case KV_ERR_TOO_LARGE:
        return "TOOLARGE";
    case KV_ERR_INTERNAL:
        return "INTERNAL";
    case KV_ERR_CANCELLED:
        return "CANCELLED";
    }
    return "UNKNOWN";
}

/* NOT_LEADER as the server sends it (UNAVAILABLE "NOT_LEADER..."), as its vector service
 * sends it (FAILED_PRECONDITION "Not leader"), and as the SDK test servers send it
 * (FAILED_PRECONDITION "NOT_LEADER: ..." or "Not the leader. Try ..."). */
static bool says_not_leader(const char *m)
{
    return strstr(m, "NOT_LEADER") != NULL || strncmp(m, "Not leader", 10) == 0 ||
           strncmp(m, "Not the leader", 14) == 0;
}

retry_verdict retry_classify(grpc_status_code status, const char *message, bool safe)
{
    retry_verdict v = {RETRY_FAIL, KV_ERR_INTERNAL, false};
    const char *m = message != NULL ? message : "";

    switch (status) {
    case GRPC_STATUS_OK:
        v.action = RETRY_DONE;
        v.err = KV_OK;
        break;
    case GRPC_STATUS_UNAVAILABLE:
        v.err = KV_ERR_UNAVAILABLE;
        if (says_not_leader(m)) {
            v.action = RETRY_NOT_LEADER;
        } else {
            v.action = RETRY_BACKOFF; /* connection refused or reset, node going away */
            v.node_fault = true;
        }
        break;
    case GRPC_STATUS_FAILED_PRECONDITION:
        if (says_not_leader(m)) {
            v.action = RETRY_NOT_LEADER;
            v.err = KV_ERR_UNAVAILABLE;
        } else if (strstr(m, "does not exist") != NULL) {
            v.err = KV_ERR_KEY_MISSING;
        } else {
            v.err = KV_ERR_VERSION_MISMATCH;
        }
        break;
    case GRPC_STATUS_DEADLINE_EXCEEDED:
        v.err = KV_ERR_TIMEOUT;
        v.node_fault = true;
        v.action = safe ? RETRY_BACKOFF : RETRY_FAIL;
        break;
    case GRPC_STATUS_INTERNAL:
    case GRPC_STATUS_UNKNOWN:
    case GRPC_STATUS_CANCELLED:
    case GRPC_STATUS_ABORTED:
        /* ambiguous: the write may have been applied */
        v.err = status == GRPC_STATUS_CANCELLED ? KV_ERR_CANCELLED : KV_ERR_INTERNAL;
        v.action = safe ? RETRY_BACKOFF : RETRY_FAIL;
        break;
    case GRPC_STATUS_INVALID_ARGUMENT:
    case GRPC_STATUS_OUT_OF_RANGE:
        v.err = KV_ERR_INVALID;
        break;
    case GRPC_STATUS_NOT_FOUND:
        v.err = KV_ERR_NOT_FOUND;
        break;
    case GRPC_STATUS_ALREADY_EXISTS:
        v.err = KV_ERR_EXISTS;
        break;
    case GRPC_STATUS_UNIMPLEMENTED:
        v.err = KV_ERR_NOT_SUPPORTED;
        break;
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
        v.err = KV_ERR_TOO_LARGE;
        break;
    default: /* PERMISSION_DENIED, UNAUTHENTICATED, DATA_LOSS: nothing a retry mends */
        v.err = KV_ERR_INTERNAL;
        break;
    }
    return v;
}

int64_t retry_delay_ms(const retry_config *rc, int n, double rand01)
{
    int64_t d = rc->initial_delay_ms > 0 ? rc->initial_delay_ms : 0;

    for (int i = 1; i < n && d < rc->max_delay_ms; i++)
        d *= 2;
    if (d > rc->max_delay_ms)
        d = rc->max_delay_ms;
    return d + (int64_t)(rand01 * (rc->jitter_ms + 1));
}

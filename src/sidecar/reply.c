/*
 * reply: what a handler answers with, into its request's reply buffer in the client's
 * protocol (resp.h writes the RESP), and how it reads an integer argument: one grammar
 * and one wording of the errors for every command.
 */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "parse.h"

struct evbuffer *reply(req *r)
{
    if (r->reply == NULL)
        r->reply = client_buf_get(r->c->s);
    return r->reply;
}

void reply_error(req *r, const char *text)
{
    r->failed = true;
    resp_add_error(reply(r), text);
}

void reply_errorf(req *r, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    reply_error(r, text);
}

bool reply_full(req *r)
{
    return r->reply != NULL &&
           evbuffer_get_length(r->reply) > (size_t)r->c->s->cfg.sidecar.max_reply;
}

void reply_over_max(req *r, const char *hint)
{
    struct evbuffer *b = reply(r);

    evbuffer_drain(b, evbuffer_get_length(b));
    r->c->s->st.replies_over_max++;
    reply_errorf(r, "ERR reply over max_reply (%ld bytes): %s", r->c->s->cfg.sidecar.max_reply,
                 hint);
}

/* "Version mismatch: expected term=T index=I, got term=T2 index=I2" -> "T2:I2" */
static bool current_version(const char *msg, char *out, size_t len)
{
    unsigned long long t, i;
    const char *got = strstr(msg, "got term=");

    if (got == NULL || sscanf(got, "got term=%llu index=%llu", &t, &i) != 2)
        return false;
    snprintf(out, len, "%llu:%llu", t, i);
    return true;
}

void reply_kv_error(req *r, const kv_result *res, const kv_version *expected)
{
    char cur[64], exp[64] = "?";

    if (expected != NULL)
        snprintf(exp, sizeof(exp), "%llu:%llu", (unsigned long long)expected->term,
                 (unsigned long long)expected->index);
    switch (res->err) {
    case KV_ERR_VERSION_MISMATCH:
        if (current_version(res->message, cur, sizeof(cur)))
            reply_errorf(r, "VERSIONMISMATCH expected %s, current %s", exp, cur);
        else
            reply_errorf(r, "VERSIONMISMATCH expected %s: %s", exp, res->message);
        break;
    case KV_ERR_KEY_MISSING:
        reply_errorf(r, "VERSIONMISMATCH expected %s, key does not exist", exp);
        break;
    case KV_ERR_INVALID:
    case KV_ERR_TOO_LARGE:
        reply_errorf(r, "ERR invalid argument: %s", res->message);
        break;
    case KV_ERR_TIMEOUT:
        reply_errorf(r, "TIMEOUT %s", res->message);
        break;
    case KV_ERR_NOT_SUPPORTED:
        reply_errorf(r, "NOTSUPPORTED the cluster does not serve this: %s", res->message);
        break;
    case KV_ERR_NOT_FOUND:
        reply_errorf(r, "ERR not found: %s", res->message);
        break;
    case KV_ERR_UNAVAILABLE:
    case KV_ERR_CANCELLED:
        reply_errorf(r, "UNAVAILABLE %s", res->message);
        break;
    default:
        reply_errorf(r, "ERR cluster error: %s", res->message);
        break;
    }
}

bool arg_ll(const req *r, int i, long long *out)
{
    return parse_redis_ll(r->argv[i].ptr, r->argv[i].len, out);
}

void reply_help(req *r, const char *const *lines)
{
    size_t n = 0;

    while (lines[n] != NULL)
        n++;
    resp_add_array(reply(r), (long)n);
    for (size_t i = 0; i < n; i++)
        resp_add_simple(reply(r), lines[i]);
}

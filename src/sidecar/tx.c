/*
 * tx: transactions on one key. The queue lives in the client until EXEC or DISCARD; EXEC
 * hands it to a compare-and-swap block, which owns it from then on. Nothing here talks to
 * the cluster but WATCH's read.
 */
#include "tx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas.h"
#include "cmd.h"
#include "xalloc.h"

/* The queue is gone (freed, or handed to EXEC's block): its bytes leave the ledger. */
static void forget_queue(client *c)
{
    tx_state *t = &c->tx;

    free(t->queued);
    t->queued = NULL;
    t->nqueued = t->cap = 0;
    client_refund(c, HOLD_MULTI, t->bytes);
    t->bytes = 0;
}

static void free_queue(client *c)
{
    tx_state *t = &c->tx;

    for (int i = 0; i < t->nqueued; i++)
        resp_argv_free(t->queued[i].argv, t->queued[i].argc);
    forget_queue(c);
}

static void unwatch(client *c)
{
    tx_state *t = &c->tx;

    if (t->watch_key != NULL)
        client_refund(c, HOLD_CONN, t->watch_len + 1);
    free(t->watch_key);
    t->watch_key = NULL;
    t->watch_len = 0;
}

void tx_reset(client *c)
{
    free_queue(c);
    unwatch(c);
    c->tx.in_multi = false;
    c->tx.queue_error = false;
}

void tx_queue(req *r)
{
    tx_state *t = &r->c->tx;
    tx_cmd *q;

    if (!cmd_check(r)) { /* unknown, arity, auth: EXEC will abort, as in Redis */
        r->rejected = true;
        t->queue_error = true;
        free_queue(r->c); /* nothing of it will run */
        req_done(r);
        return;
    }
    if (!t->queue_error &&
        t->bytes + r->arg_bytes > (size_t)r->c->s->cfg.sidecar.query_buffer_limit) {
        reply_errorf(r,
                     "ERR the transaction's queued commands would take more than "
                     "query_buffer_limit (%zu bytes); EXEC will abort",
                     (size_t)r->c->s->cfg.sidecar.query_buffer_limit);
        r->rejected = true;
        t->queue_error = true;
        free_queue(r->c);
        req_done(r);
        return;
    }
    if (t->queue_error) { /* EXEC aborts whatever comes: nothing more is kept */
        resp_add_simple(reply(r), "QUEUED");
        req_done(r);
        return;
    }
    if (t->nqueued == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->queued = xrealloc(t->queued, (size_t)t->cap * sizeof(*t->queued));
    }
    q = &t->queued[t->nqueued++];
    q->argv = r->argv;
    q->argc = r->argc;
    q->cmd = r->cmd;
    r->argv = NULL;
    r->argc = 0;
    /* the arguments' bytes move from the request to the queue */
    client_refund(r->c, HOLD_ARGS, r->arg_bytes);
    client_charge(r->c, HOLD_MULTI, r->arg_bytes);
    t->bytes += r->arg_bytes;
    r->arg_bytes = 0;
    resp_add_simple(reply(r), "QUEUED");
    req_done(r);
}

void cmd_multi(req *r)
{
    tx_state *t = &r->c->tx;

    if (t->in_multi) {
        reply_error(r, "ERR MULTI calls can not be nested");
    } else {
        t->in_multi = true;
        resp_add_simple(reply(r), "OK");
    }
    req_done(r);
}

void cmd_discard(req *r)
{
    if (!r->c->tx.in_multi) {
        reply_error(r, "ERR DISCARD without MULTI"); /* and the watch stays, as in Redis */
    } else {
        resp_add_simple(reply(r), "OK");
        tx_reset(r->c);
    }
    req_done(r);
}

/* ---- EXEC ----------------------------------------------------------------------------- */

static bool same_key(const resp_arg *a, const char *key, size_t len)
{
    return a->len == len && memcmp(a->ptr, key, len) == 0;
}

/* The one key a queue touches (NULL: none); false, with the keys named in why, when it
 * touches several or holds a command that cannot run on a key's value. */
static bool queue_key(const tx_state *t, const resp_arg **key, char *why, size_t len)
{
    const resp_arg *seen[4];
    int nseen = 0;
    bool several = false;

    *key = NULL;
    for (int i = 0; i < t->nqueued; i++) {
        const tx_cmd *q = &t->queued[i];
        const cmd_def *d = q->cmd;
        if (d->cell == NULL) {
            char name[64];
            size_t n;
            for (n = 0; d->name[n] != '\0' && n + 1 < sizeof(name); n++)
                name[n] = d->name[n] == '|' ? ' ' : d->name[n]; /* CLIENT|ID: CLIENT ID */
            name[n] = '\0';
            snprintf(why, len,
                     "EXECABORT Transaction discarded: %s cannot run in a NoriKV transaction, "
                     "which runs commands on one key's value; use a pipeline without MULTI",
                     name);
            return false;
        }
        if (d->first_key == 0)
            continue;
        int last = d->last_key < 0 ? q->argc + d->last_key : d->last_key;
        for (int k = d->first_key; k <= last && k < q->argc; k += d->key_step) {
            const resp_arg *a = &q->argv[k];
            bool known = false;
            for (int s = 0; s < nseen; s++)
                known |= same_key(a, seen[s]->ptr, seen[s]->len);
            if (known)
                continue;
            if (nseen > 0)
                several = true;
            if (nseen < 4)
                seen[nseen++] = a;
        }
    }
    if (several) {
        size_t off = (size_t)snprintf(why, len,
                                      "EXECABORT Transaction discarded: NoriKV transactions must "
                                      "touch a single key (this one touched ");
        for (int s = 0; s < nseen && off < len; s++)
            off += (size_t)snprintf(why + off, len - off, "%s'%.*s'", s ? ", " : "",
                                    (int)(seen[s]->len > 64 ? 64 : seen[s]->len), seen[s]->ptr);
        if (off < len)
            snprintf(why + off, len - off, "%s); use a pipeline without MULTI",
                     nseen == 4 ? ", ..." : "");
        return false;
    }
    *key = nseen > 0 ? seen[0] : NULL;
    return true;
}

void cmd_exec(req *r)
{
    client *c = r->c;
    tx_state *t = &c->tx;
    const resp_arg *key;
    resp_arg watched;
    cas_watch w;
    cas_block *b;
    char why[512];

    if (!t->in_multi) {
        reply_error(r, "ERR EXEC without MULTI");
        req_done(r);
        return;
    }
    if (t->queue_error) {
        reply_error(r, "EXECABORT Transaction discarded because of previous errors.");
        tx_reset(c);
        req_done(r);
        return;
    }
    if (!queue_key(t, &key, why, sizeof(why))) {
        reply_error(r, why);
        tx_reset(c);
        req_done(r);
        return;
    }
    if (t->watch_key != NULL) {
        if (key != NULL && !same_key(key, t->watch_key, t->watch_len)) {
            reply_errorf(r,
                         "EXECABORT Transaction discarded: it touches '%.*s' but watches '%.*s'; "
                         "NoriKV transactions must touch a single key",
                         (int)(key->len > 64 ? 64 : key->len), key->ptr,
                         (int)(t->watch_len > 64 ? 64 : t->watch_len), t->watch_key);
            tx_reset(c);
            req_done(r);
            return;
        }
        /* a transaction of keyless commands still checks the watched key */
        watched.ptr = t->watch_key;
        watched.len = t->watch_len;
        key = &watched;
        w.existed = t->watch_existed;
        w.version = t->watch_version;
    }
    b = cas_block_new(r, key, t->nqueued);
    for (int i = 0; i < t->nqueued; i++)
        cas_block_add(b, t->queued[i].cmd->cell, t->queued[i].argv, t->queued[i].argc, true);
    /* the block owns the arguments now, held by EXEC's request while it runs */
    client_charge(c, HOLD_ARGS, t->bytes);
    r->arg_bytes += t->bytes;
    forget_queue(c);
    bool watching = t->watch_key != NULL;
    tx_reset(c); /* EXEC ends the transaction and the watch, whatever comes of it */
    cas_run(b, true, watching ? &w : NULL);
}

/* ---- WATCH ---------------------------------------------------------------------------- */

static void on_watch_read(const kv_result *res, void *arg)
{
    req *r = arg;
    tx_state *t = &r->c->tx;

    r->op = NULL;
    if (res->err != KV_OK) {
        reply_kv_error(r, res, NULL);
    } else {
        unwatch(r->c);
        t->watch_key = xmemdup0(r->argv[1].ptr, r->argv[1].len);
        t->watch_len = r->argv[1].len;
        client_charge(r->c, HOLD_CONN, t->watch_len + 1);
        t->watch_existed = res->found;
        t->watch_version = res->version;
        resp_add_simple(reply(r), "OK");
    }
    req_done(r);
}

void cmd_watch(req *r)
{
    tx_state *t = &r->c->tx;

    if (t->in_multi) {
        reply_error(r, "ERR WATCH inside MULTI is not allowed");
    } else if (r->argc > 2) {
        reply_error(r, "ERR WATCH of more than one key is not supported: NoriKV has no "
                       "transactions across keys");
    } else if (t->watch_key != NULL && !same_key(&r->argv[1], t->watch_key, t->watch_len)) {
        reply_errorf(r,
                     "ERR WATCH of a second key is not supported: this connection watches "
                     "'%.*s' (UNWATCH first); NoriKV has no transactions across keys",
                     (int)(t->watch_len > 64 ? 64 : t->watch_len), t->watch_key);
    } else if (t->watch_key != NULL) {
        resp_add_simple(reply(r), "OK"); /* watched already: the first version stands */
    } else {
        kv_get_args a = {r->argv[1].ptr, r->argv[1].len, KV_LINEARIZABLE, 0};
        r->op = kv_get(r->c->s->kv, &a, on_watch_read, r);
        return;
    }
    req_done(r);
}

void cmd_unwatch(req *r)
{
    unwatch(r->c);
    resp_add_simple(reply(r), "OK");
    req_done(r);
}

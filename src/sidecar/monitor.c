/*
 * monitor: MONITOR's clients and feed. A line is made once per command, in Redis' format
 * (replication.c, replicationFeedMonitors: "+<sec>.<usec> [0 <addr>] "arg" ..." with
 * sdscatrepr's quoting), and copied into each monitor's output through client_push, which
 * closes a monitor whose unsent output is over reply_backlog. Never touches a monitored
 * client; never blocks.
 */
#include "monitor.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cmd.h"
#include "cmd_conn.h"
#include "log.h"

/* What a monitor's place in the list costs it, in its ledger (HOLD_CONN). */
#define MONITOR_CONN_BYTES 16

/* sdscatrepr: a quoted string with \\ \" \n \r \t \a \b escaped, other bytes outside the
 * printable range as \xHH. */
static void add_repr(struct evbuffer *b, const char *p, size_t len)
{
    evbuffer_add(b, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        switch (ch) {
        case '\\':
        case '"':
            evbuffer_add_printf(b, "\\%c", ch);
            break;
        case '\n':
            evbuffer_add(b, "\\n", 2);
            break;
        case '\r':
            evbuffer_add(b, "\\r", 2);
            break;
        case '\t':
            evbuffer_add(b, "\\t", 2);
            break;
        case '\a':
            evbuffer_add(b, "\\a", 2);
            break;
        case '\b':
            evbuffer_add(b, "\\b", 2);
            break;
        default:
            if (isprint(ch))
                evbuffer_add(b, &ch, 1);
            else
                evbuffer_add_printf(b, "\\x%02x", ch);
            break;
        }
    }
    evbuffer_add(b, "\"", 1);
}

static void add_line(struct evbuffer *b, const client *from, int64_t now_us, const cmd_def *d,
                     const resp_arg *argv, int argc)
{
    cmd_redact x;

    evbuffer_add_printf(b, "+%lld.%06lld ", (long long)(now_us / 1000000),
                        (long long)(now_us % 1000000));
    /* Redis names a Unix client by its server's socket, a TCP one by its peer */
    if (from->unix_socket)
        evbuffer_add_printf(b, "[0 unix:%s] ", from->s->cfg.sidecar.listen);
    else
        evbuffer_add_printf(b, "[0 %s] ", from->addr);
    cmd_redact_init(&x, d, argv, argc);
    for (int i = 0; i < argc; i++) {
        if (i > 0)
            evbuffer_add(b, " ", 1);
        if (cmd_redacted(&x, i))
            evbuffer_add(b, "\"(redacted)\"", 12);
        else
            add_repr(b, argv[i].ptr, argv[i].len);
    }
    evbuffer_add(b, "\r\n", 2);
}

/* One line to every monitor but skip: a copy each, as client_push takes its message. */
static void send_line(sidecar *s, struct evbuffer *line, const client *skip)
{
    size_t len = evbuffer_get_length(line);
    const void *p = evbuffer_pullup(line, (ev_ssize_t)len);
    client *m, *next;

    for (m = LIST_FIRST(&s->monitors); m != NULL; m = next) {
        struct evbuffer *copy = client_buf_get(s);
        next = LIST_NEXT(m, monitor_link);
        if (m == skip) {
            client_buf_put(s, copy);
            continue;
        }
        evbuffer_add(copy, p, len);
        if (!client_push(m, copy))
            monitor_stop(m); /* closed, over reply_backlog: out of the list now */
        client_buf_put(s, copy);
    }
}

void monitor_feed(const req *r)
{
    client *from = r->c;
    sidecar *s = from->s;
    struct evbuffer *line;
    int64_t now = clock_unix_us();

    if (r->cmd == NULL || (r->cmd->flags & CMD_ADMIN))
        return;
    line = client_buf_get(s);
    if (r->cmd->proc == cmd_exec && from->tx.in_multi && !from->tx.queue_error) {
        for (int i = 0; i < from->tx.nqueued; i++) {
            const tx_cmd *q = &from->tx.queued[i];
            add_line(line, from, now, q->cmd, q->argv, q->argc);
        }
    }
    add_line(line, from, now, r->cmd, r->argv, r->argc);
    /* a monitor's own RESET or QUIT ends its monitoring: Redis does not show it to it */
    send_line(s, line, r->cmd->proc == cmd_reset || r->cmd->proc == cmd_quit ? from : NULL);
    client_buf_put(s, line);
}

void monitor_stop(client *c)
{
    if (!c->monitor)
        return;
    LIST_REMOVE(c, monitor_link);
    c->monitor = false;
    client_refund(c, HOLD_CONN, MONITOR_CONN_BYTES);
}

void cmd_monitor(req *r)
{
    client *c = r->c;

    if (!c->monitor) {
        LIST_INSERT_HEAD(&c->s->monitors, c, monitor_link);
        c->monitor = true;
        client_charge(c, HOLD_CONN, MONITOR_CONN_BYTES);
        log_info("client %llu (%s) monitors", (unsigned long long)c->id, c->addr);
    }
    resp_add_simple(reply(r), "OK");
    req_done(r);
}

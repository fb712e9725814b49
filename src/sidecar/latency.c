/*
 * latency: the latency monitor's series (latency.h) and LATENCY's subcommands, with the
 * replies of Redis' latency.c: LATEST as [event, time, latest ms, max ms] per event,
 * HISTORY as [time, ms] pairs from the oldest, RESET's count of series reset. DOCTOR is the
 * sidecar's own plain report. Lives in the sidecar's context, made on the first sample.
 */
#include "latency.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client.h"
#include "cmd.h"
#include "reply.h"
#include "xalloc.h"

static const char *const event_names[LATENCY_EVENTS] = {
    [LATENCY_COMMAND] = "command",
    [LATENCY_FAST_COMMAND] = "fast-command",
    [LATENCY_COMMAND_LOOP] = "command-loop",
};

static const char *const event_meaning[LATENCY_EVENTS] = {
    [LATENCY_COMMAND] = "commands, from their start to their reply (the cluster's time included)",
    [LATENCY_FAST_COMMAND] = "fast commands (O(1): GET, SET, PING, ...), from their start to "
                             "their reply",
    [LATENCY_COMMAND_LOOP] = "the time a command's handler kept the event loop, and so every "
                             "other client, waiting",
};

void latency_note(sidecar *s, latency_event ev, uint64_t ms)
{
    int threshold = s->cfg.sidecar.latency_monitor_threshold;
    latency_series *ts;
    latency_sample *prev;
    int64_t now;
    uint32_t v = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;

    if (threshold <= 0 || ms < (uint64_t)threshold)
        return;
    if (s->latency == NULL)
        s->latency = xcalloc(1, sizeof(*s->latency));
    ts = &s->latency->events[ev];
    now = (int64_t)time(NULL);
    ts->used = true;
    if (v > ts->max)
        ts->max = v;
    /* one sample per second: the largest of that second */
    prev = &ts->samples[(ts->next + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES];
    if (prev->time == now) {
        if (v > prev->ms)
            prev->ms = v;
        return;
    }
    ts->samples[ts->next].time = now;
    ts->samples[ts->next].ms = v;
    ts->next = (ts->next + 1) % LATENCY_SAMPLES;
}

static latency_series *series(req *r, int ev)
{
    latency_monitor *m = r->c->s->latency;

    return m != NULL && m->events[ev].used ? &m->events[ev] : NULL;
}

static int count_used(req *r)
{
    int n = 0;

    for (int ev = 0; ev < LATENCY_EVENTS; ev++)
        n += series(r, ev) != NULL;
    return n;
}

void cmd_latency_latest(req *r)
{
    struct evbuffer *b = reply(r);

    resp_add_array(b, count_used(r));
    for (int ev = 0; ev < LATENCY_EVENTS; ev++) {
        const latency_series *ts = series(r, ev);
        const latency_sample *last;
        if (ts == NULL)
            continue;
        last = &ts->samples[(ts->next + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES];
        resp_add_array(b, 4);
        resp_add_bulk_str(b, event_names[ev]);
        resp_add_int(b, last->time);
        resp_add_int(b, last->ms);
        resp_add_int(b, ts->max);
    }
    req_done(r);
}

void cmd_latency_history(req *r)
{
    const latency_series *ts = NULL;
    struct evbuffer *b = reply(r);
    int n = 0;

    for (int ev = 0; ev < LATENCY_EVENTS; ev++)
        if (strcmp(r->argv[2].ptr, event_names[ev]) == 0) /* case-sensitive, as Redis' dict */
            ts = series(r, ev);
    for (int i = 0; ts != NULL && i < LATENCY_SAMPLES; i++)
        n += ts->samples[i].time != 0;
    resp_add_array(b, n);
    for (int i = 0; ts != NULL && i < LATENCY_SAMPLES; i++) {
        const latency_sample *sm = &ts->samples[(ts->next + i) % LATENCY_SAMPLES];
        if (sm->time == 0)
            continue;
        resp_add_array(b, 2);
        resp_add_int(b, sm->time);
        resp_add_int(b, sm->ms);
    }
    req_done(r);
}

void cmd_latency_reset(req *r)
{
    latency_monitor *m = r->c->s->latency;
    long long resets = 0;

    for (int ev = 0; ev < LATENCY_EVENTS; ev++) {
        bool named = r->argc == 2;
        for (int i = 2; i < r->argc && !named; i++)
            named = strcasecmp(r->argv[i].ptr, event_names[ev]) == 0;
        if (named && m != NULL && m->events[ev].used) {
            memset(&m->events[ev], 0, sizeof(m->events[ev]));
            resets++;
        }
    }
    resp_add_int(reply(r), resets);
    req_done(r);
}

void cmd_latency_doctor(req *r)
{
    struct evbuffer *text = evbuffer_new();
    int threshold = r->c->s->cfg.sidecar.latency_monitor_threshold;
    size_t len;

    if (threshold <= 0) {
        evbuffer_add_printf(text, "The latency monitor is off: set [sidecar] "
                                  "latency_monitor_threshold (or CONFIG SET "
                                  "latency-monitor-threshold <milliseconds>) to turn it on.\n");
    } else if (count_used(r) == 0) {
        evbuffer_add_printf(text,
                            "No latency of %d ms or more was seen since the monitor was turned "
                            "on or last reset.\n",
                            threshold);
    } else {
        evbuffer_add_printf(text, "Latency of %d ms or more was seen for these events:\n\n",
                            threshold);
        for (int ev = 0; ev < LATENCY_EVENTS; ev++) {
            const latency_series *ts = series(r, ev);
            uint64_t sum = 0;
            int n = 0;
            uint32_t lo = UINT32_MAX, hi = 0;
            int64_t first = 0;
            if (ts == NULL)
                continue;
            for (int i = 0; i < LATENCY_SAMPLES; i++) {
                const latency_sample *sm = &ts->samples[i];
                if (sm->time == 0)
                    continue;
                n++;
                sum += sm->ms;
                lo = sm->ms < lo ? sm->ms : lo;
                hi = sm->ms > hi ? sm->ms : hi;
                if (first == 0 || sm->time < first)
                    first = sm->time;
            }
            evbuffer_add_printf(text,
                                "%d. %s: %s. %d latency spikes (average %" PRIu64
                                " ms, lowest %u ms, highest %u ms) in the last %lld seconds; "
                                "the worst ever %u ms.\n",
                                ev + 1, event_names[ev], event_meaning[ev], n,
                                n > 0 ? sum / (uint64_t)n : 0, n > 0 ? lo : 0, hi,
                                (long long)(time(NULL) - first), ts->max);
        }
        evbuffer_add_printf(
            text, "\nA command that waits on the cluster is slow when its nodes are (see INFO "
                  "retries and the norikv_node_* metrics); a slow command-loop means the sidecar's "
                  "own work (a large reply, many keys) held its loop: look at SLOWLOG GET.\n");
    }
    len = evbuffer_get_length(text);
    resp_add_verbatim(reply(r), r->c->proto, "txt", evbuffer_pullup(text, (ev_ssize_t)len), len);
    evbuffer_free(text);
    req_done(r);
}

/* The command table index of LATENCY HISTOGRAM's argument i, when it names a command
 * with calls (-1 otherwise). */
static int histogram_of(req *r, int i)
{
    int index;

    if (cmd_find(&r->argv[i], 1, &index) == NULL || r->c->s->st.cmds[index].lat == NULL)
        return -1;
    return index;
}

/* One command's entry: its lower-case name, then {calls, histogram_usec {K: count, ...}}. */
static void add_histogram(req *r, size_t index)
{
    const cmd_stat *cs = &r->c->s->st.cmds[index];
    struct evbuffer *b = reply(r);
    uint64_t upto[STATS_CDF_POINTS], count[STATS_CDF_POINTS];
    size_t n = stats_latency_cdf(cs, upto, count);
    char name[64];
    size_t k;

    for (k = 0; cmd_at(index)->name[k] != '\0' && k + 1 < sizeof(name); k++)
        name[k] = (char)tolower((unsigned char)cmd_at(index)->name[k]);
    name[k] = '\0';
    resp_add_bulk_str(b, name);
    resp_add_map(b, r->c->proto, 2);
    resp_add_bulk_str(b, "calls");
    resp_add_int(b, n > 0 ? (long long)count[n - 1] : 0); /* every call, as Redis' total */
    resp_add_bulk_str(b, "histogram_usec");
    resp_add_map(b, r->c->proto, (long)n);
    for (size_t j = 0; j < n; j++) {
        resp_add_int(b, (long long)upto[j]);
        resp_add_int(b, (long long)count[j]);
    }
}

/*
 * LATENCY HISTOGRAM [command ...]: Redis' reply, a map of each command with calls to its
 * count and the cumulative count of calls below each power of two of microseconds, from the
 * histogram INFO latencystats reads (1/8 precision). Per command as INFO commandstats
 * counts them (CONFIG, not CONFIG|GET); a name given twice is answered twice and one
 * unknown or without calls left out, as Redis does. Stops at max_reply.
 */
void cmd_latency_histogram(req *r)
{
    size_t total = cmd_count();
    long n = 0;

    if (r->argc == 2) {
        for (size_t i = 0; i < total; i++)
            n += r->c->s->st.cmds[i].lat != NULL;
        resp_add_map(reply(r), r->c->proto, n);
        for (size_t i = 0; i < total && !reply_full(r); i++)
            if (r->c->s->st.cmds[i].lat != NULL)
                add_histogram(r, i);
    } else {
        for (int i = 2; i < r->argc; i++)
            n += histogram_of(r, i) >= 0;
        resp_add_map(reply(r), r->c->proto, n);
        for (int i = 2; i < r->argc && !reply_full(r); i++) {
            int index = histogram_of(r, i);
            if (index >= 0)
                add_histogram(r, (size_t)index);
        }
    }
    if (reply_full(r))
        reply_over_max(r, "name fewer commands");
    req_done(r);
}

void cmd_latency_help(req *r)
{
    static const char *const help[] = {
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the "
        "specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Print this help.",
        NULL};

    reply_help(r, help);
    req_done(r);
}

/*
 * log: one line per message on stderr. Under journald (JOURNAL_STREAM set) a systemd
 * priority prefix ("<3>" ...) turns into the record's priority and the journal adds the
 * time and PID; elsewhere each line starts with its UTC time, the program's name, its PID
 * and the level in words. With the JSON format the message is one object per line with
 * the same facts. Every line passes a rate limit of its kind (below) first, whichever
 * thread logs it: gRPC logs from its own. Never allocates.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

log_level log_current = LOG_NOTICE;
log_format log_format_current = LOG_FORMAT_TEXT;
int log_burst_window_ms = LOG_LIMIT_MS;
const char *log_ident = "norikv-sidecar";

static const char *const names[] = {"error", "warning", "notice", "info", "debug"};
static const int priorities[] = {3, 4, 5, 6, 7}; /* syslog levels */
static const char *const formats[] = {"text", "json"};

#define LINE_MAX_BYTES 2048

/*
 * The rate limit every line passes. Lines of one level whose texts differ only in their
 * digits (another port, count or id) are one kind: at most LOG_BURST of a kind go out per
 * log_burst_window_ms; the rest are counted, and once the window is over the next line of
 * the kind, or log_sweep(), first says how many were suppressed and what the last one
 * said. The kinds seen lately are kept in a small table: when it is full, the kind seen
 * least recently makes room, telling its count first.
 */
#define KINDS      64
#define SAMPLE_MAX 240
typedef struct log_kind {
    uint64_t hash; /* 0: a free slot */
    log_level level;
    int64_t window_ms; /* when its window began */
    int64_t seen_ms;
    unsigned lines;          /* lines out in the window */
    unsigned suppressed;     /* lines held back in it */
    char sample[SAMPLE_MAX]; /* the last line held back */
} log_kind;

static pthread_mutex_t kinds_lock = PTHREAD_MUTEX_INITIALIZER;
static log_kind kinds[KINDS];

int log_level_parse(const char *name)
{
    for (int i = 0; i < 5; i++)
        if (strcasecmp(name, names[i]) == 0)
            return i;
    return -1;
}

int log_format_parse(const char *name)
{
    for (int i = 0; i < 2; i++)
        if (strcasecmp(name, formats[i]) == 0)
            return i;
    return -1;
}

bool log_limit_pass(log_limit *l, unsigned *held)
{
    int64_t now = clock_now_ms();

    if (now < l->next_ms) {
        l->held++;
        return false;
    }
    *held = l->held;
    l->held = 0;
    l->next_ms = now + LOG_LIMIT_MS;
    return true;
}

bool log_flag_set(log_flag *f, bool v, unsigned *held)
{
    f->now = v;
    if (v == f->told) { /* back to what the log says: nothing to tell, but count it */
        f->lim.held++;
        return false;
    }
    if (!log_limit_pass(&f->lim, held))
        return false;
    f->told = v;
    return true;
}

bool log_flag_due(log_flag *f, unsigned *held)
{
    if (f->now == f->told || clock_now_ms() < f->lim.next_ms)
        return false;
    (void)log_limit_pass(&f->lim, held);
    f->told = f->now;
    return true;
}

/* Appends s to buf at *n as the inside of a JSON string, cut to fit. */
static void add_json_string(char *buf, size_t cap, size_t *n, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    for (; *s != '\0' && *n + 7 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            buf[(*n)++] = '\\';
            buf[(*n)++] = (char)ch;
        } else if (ch < 0x20) {
            buf[(*n)++] = '\\';
            buf[(*n)++] = 'u';
            buf[(*n)++] = '0';
            buf[(*n)++] = '0';
            buf[(*n)++] = hex[ch >> 4];
            buf[(*n)++] = hex[ch & 15];
        } else {
            buf[(*n)++] = (char)ch;
        }
    }
}

static size_t add(char *buf, size_t cap, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t add(char *buf, size_t cap, size_t n, const char *fmt, ...)
{
    va_list ap;
    int k;

    if (n >= cap)
        return n;
    va_start(ap, fmt);
    k = vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
    if (k < 0)
        return n;
    return n + (size_t)k >= cap ? cap - 1 : n + (size_t)k;
}

/* One line, as it is, on stderr. */
static void emit(log_level level, const char *msg)
{
    char line[LINE_MAX_BYTES + 256], when[96];
    bool journal = getenv("JOURNAL_STREAM") != NULL;
    int64_t ms = clock_unix_ms();
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    size_t n = 0;

    gmtime_r(&secs, &tm);
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    if (journal) /* journald reads "<N>" as the priority and stamps time and PID itself */
        n = add(line, sizeof(line), n, "<%d>", priorities[level]);
    if (log_format_current == LOG_FORMAT_JSON) {
        n = add(line, sizeof(line), n,
                "{\"time\":\"%s\",\"program\":\"%s\",\"pid\":%ld,"
                "\"level\":\"%s\",\"message\":\"",
                when, log_ident, (long)getpid(), names[level]);
        add_json_string(line, sizeof(line) - 3, &n, msg);
        n = add(line, sizeof(line), n, "\"}");
    } else if (journal) {
        n = add(line, sizeof(line), n, "%s: %s", log_ident, msg);
    } else {
        n = add(line, sizeof(line), n, "%s %s[%ld]: %s: %s", when, log_ident, (long)getpid(),
                names[level], msg);
    }
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0)
        return; /* nowhere left to say it */
}

/* FNV-1a of the level and the text, each run of digits counted as one '#'; never 0. */
static uint64_t kind_hash(log_level level, const char *msg)
{
    uint64_t h = 14695981039346656037ULL ^ (uint64_t)level;
    bool digits = false;

    for (const char *p = msg; *p != '\0'; p++) {
        bool digit = *p >= '0' && *p <= '9';
        if (digit && digits)
            continue;
        digits = digit;
        h = (h ^ (unsigned char)(digit ? '#' : *p)) * 1099511628211ULL;
    }
    return h != 0 ? h : 1;
}

/* The summary of what k held back, into out (empty when nothing was); k starts afresh. */
static void kind_close(log_kind *k, char *out, size_t cap, log_level *level)
{
    out[0] = '\0';
    if (k->suppressed > 0) {
        snprintf(out, cap, "suppressed %u similar line%s (over %d in %g s), the last: %s",
                 k->suppressed, k->suppressed == 1 ? "" : "s", LOG_BURST,
                 log_burst_window_ms / 1000.0, k->sample);
        *level = k->level;
    }
    k->lines = 0;
    k->suppressed = 0;
}

/* Whether msg may go out now; *summary gets what must be told before it (or ""). */
static bool kind_pass(log_level level, const char *msg, char *summary, size_t cap,
                      log_level *summary_level)
{
    uint64_t h = kind_hash(level, msg);
    int64_t now = clock_now_ms();
    log_kind *k = NULL, *free_slot = NULL, *lru = NULL;
    bool pass;

    summary[0] = '\0';
    pthread_mutex_lock(&kinds_lock);
    for (int i = 0; i < KINDS && k == NULL; i++) {
        if (kinds[i].hash == h && kinds[i].level == level)
            k = &kinds[i];
        else if (kinds[i].hash == 0 && free_slot == NULL)
            free_slot = &kinds[i];
        else if (kinds[i].hash != 0 && (lru == NULL || kinds[i].seen_ms < lru->seen_ms))
            lru = &kinds[i];
    }
    if (k == NULL) { /* a new kind, in a free slot or the least recently seen one's */
        k = free_slot != NULL ? free_slot : lru;
        if (k->hash != 0)
            kind_close(k, summary, cap, summary_level);
        k->hash = h;
        k->level = level;
        k->window_ms = now;
        k->lines = 0;
        k->suppressed = 0;
    } else if (now - k->window_ms >= log_burst_window_ms) {
        kind_close(k, summary, cap, summary_level);
        k->window_ms = now;
    }
    k->seen_ms = now;
    pass = k->lines < LOG_BURST;
    if (pass) {
        k->lines++;
    } else {
        k->suppressed++;
        snprintf(k->sample, sizeof(k->sample), "%s", msg);
    }
    pthread_mutex_unlock(&kinds_lock);
    return pass;
}

void log_sweep(void)
{
    int64_t now = clock_now_ms();

    for (int i = 0; i < KINDS; i++) {
        char summary[SAMPLE_MAX + 128];
        log_level level = LOG_NOTICE;

        pthread_mutex_lock(&kinds_lock);
        summary[0] = '\0';
        if (kinds[i].suppressed > 0 && now - kinds[i].window_ms >= log_burst_window_ms) {
            kind_close(&kinds[i], summary, sizeof(summary), &level);
            kinds[i].window_ms = now;
        }
        pthread_mutex_unlock(&kinds_lock);
        if (summary[0] != '\0')
            emit(level, summary);
    }
}

static void vlog(log_level level, unsigned held, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vlog(log_level level, unsigned held, const char *fmt, va_list ap)
{
    char msg[LINE_MAX_BYTES], summary[SAMPLE_MAX + 128];
    log_level summary_level = level;
    int k = vsnprintf(msg, sizeof(msg), fmt, ap);

    if (k < 0)
        msg[0] = '\0';
    if (!kind_pass(level, msg, summary, sizeof(summary), &summary_level))
        return;
    if (summary[0] != '\0')
        emit(summary_level, summary);
    if (held > 0) {
        size_t m = strlen(msg);
        snprintf(msg + m, sizeof(msg) - m, " (%u similar line%s held back by the rate limit)", held,
                 held == 1 ? "" : "s");
    }
    emit(level, msg);
}

void log_write(log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(level, 0, fmt, ap);
    va_end(ap);
}

void log_write_held(log_level level, unsigned held, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(level, held, fmt, ap);
    va_end(ap);
}

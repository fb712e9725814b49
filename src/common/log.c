/*
 * log: one line per message on stderr. Under journald (JOURNAL_STREAM set) a systemd
 * priority prefix ("<3>" ...) turns into the record's priority and the journal adds the
 * time and PID; elsewhere each line starts with its UTC time, the program's name, its PID
 * and the level in words. With the JSON format the message is one object per line with
 * the same facts. Never allocates.
 */
#include "log.h"

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
const char *log_ident = "norikv-sidecar";

static const char *const names[] = {"error", "warning", "notice", "info", "debug"};
static const int priorities[] = {3, 4, 5, 6, 7}; /* syslog levels */
static const char *const formats[] = {"text", "json"};

#define LINE_MAX_BYTES 2048

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

static void vlog(log_level level, unsigned held, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vlog(log_level level, unsigned held, const char *fmt, va_list ap)
{
    char msg[LINE_MAX_BYTES], line[LINE_MAX_BYTES + 256], when[96];
    bool journal = getenv("JOURNAL_STREAM") != NULL;
    int64_t ms = clock_unix_ms();
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    size_t n = 0;
    int k = vsnprintf(msg, sizeof(msg), fmt, ap);

    if (k < 0)
        msg[0] = '\0';
    if (held > 0) {
        size_t m = strlen(msg);
        snprintf(msg + m, sizeof(msg) - m, " (%u similar line%s held back by the rate limit)", held,
                 held == 1 ? "" : "s");
    }
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

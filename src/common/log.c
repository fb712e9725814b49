/*
 * log: one line per message on stderr: with a systemd priority prefix ("<3>" ...) when
 * stderr is the journal, which turns it into the record's priority, and with the level
 * in words on a terminal. Never allocates.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

log_level log_current = LOG_NOTICE;

static const char *const names[] = {"error", "warning", "notice", "info", "debug"};
static const int priorities[] = {3, 4, 5, 6, 7}; /* syslog levels */

int log_level_parse(const char *name)
{
    for (int i = 0; i < 5; i++)
        if (strcasecmp(name, names[i]) == 0)
            return i;
    return -1;
}

void log_write(log_level level, const char *fmt, ...)
{
    char line[1024];
    /* journald reads "<N>" as the priority; a terminal should see plain text */
    int n = getenv("JOURNAL_STREAM") != NULL
                ? snprintf(line, sizeof(line), "<%d>norikv-sidecar: ", priorities[level])
                : snprintf(line, sizeof(line), "norikv-sidecar: %s: ", names[level]);
    va_list ap;

    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return; /* nowhere left to say it */
}

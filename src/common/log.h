/*
 * log: leveled logging to stderr (or whatever stderr is: the journal under systemd).
 * A disabled level costs one comparison. One process-wide level, set at start and on
 * reload, is the only state.
 */
#ifndef NORIKV_LOG_H
#define NORIKV_LOG_H

typedef enum log_level { LOG_ERROR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG } log_level;

extern log_level log_current;

/* "error", "warning", "notice", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *name);
void log_write(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_at(level, ...)                                                                         \
    do {                                                                                           \
        if ((level) <= log_current)                                                                \
            log_write((level), __VA_ARGS__);                                                       \
    } while (0)
#define log_error(...)   log_at(LOG_ERROR, __VA_ARGS__)
#define log_warning(...) log_at(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_at(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_at(LOG_DEBUG, __VA_ARGS__)

#endif

/*
 * log: leveled logging to stderr (or whatever stderr is: the journal under systemd), as
 * text or as one JSON object per line. A disabled level costs one comparison. Every line,
 * from any source and any thread (gRPC's own lines too), passes a rate limit of its kind:
 * lines that differ only in their digits are one kind, at most LOG_BURST of a kind go out
 * per window and the rest are counted and told in one summary line. The level, the
 * format, the program's name and that limit's table are the only state; the finer limits
 * of events whose state matters (a node down, the view lost: log_flag) live with whoever
 * owns the event.
 */
#ifndef NORIKV_LOG_H
#define NORIKV_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef enum log_level { LOG_ERROR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG } log_level;
typedef enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON } log_format;

extern log_level log_current;
extern log_format log_format_current;
extern const char *log_ident; /* the program's name on each line, "norikv-sidecar" */

/* "error", "warning", "notice", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *name);
/* "text", "json"; -1 when unknown. */
int log_format_parse(const char *name);
void log_write(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As log_write, noting how many like it were held back by a rate limit (0: none). */
void log_write_held(log_level level, unsigned held, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Lines of one kind (one level, the same text but for its digits) that go out per
 * log_burst_window_ms (LOG_LIMIT_MS unless a test shortens it); the rest are suppressed and
 * counted. */
#define LOG_BURST 10
extern int log_burst_window_ms;
/* Tells the kinds whose window is over how many of their lines were suppressed
 * ("suppressed N similar lines (over 10 in 10 s), the last: ..."): called once a second, so
 * that a count is told even when no line of its kind follows. */
void log_sweep(void);

/*
 * A rate limit for one kind of event of one owner: at most one line per LOG_LIMIT_MS; the
 * lines held back meanwhile are counted and the next line that goes out says how many.
 * Zeroed memory is a fresh limit.
 */
#define LOG_LIMIT_MS 10000
typedef struct log_limit {
    int64_t next_ms; /* monotonic: when the next line may go out */
    unsigned held;   /* lines held back since the last one */
} log_limit;

/* Whether a line may go out now; *held gets the count held back before it. */
bool log_limit_pass(log_limit *l, unsigned *held);

/*
 * A yes/no condition of one owner (a node down, the cluster view lost) whose changes are
 * logged under a rate limit without the log ever being left telling a stale state: a
 * change inside the window is held back, and once the window is over log_flag_due()
 * says when the condition is no longer what the last line told. Zeroed: false, untold.
 */
typedef struct log_flag {
    log_limit lim;
    bool told; /* what the last line said */
    bool now;
} log_flag;

/* The condition is v now: true when the change may be logged at once. */
bool log_flag_set(log_flag *f, bool v, unsigned *held);
/* True (once) when the window is over and the condition differs from what was told: log
 * f->now then. Called from a periodic timer. */
bool log_flag_due(log_flag *f, unsigned *held);

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

/* A change of flag f (a log_flag *) to v, told under its rate limit. */
#define log_flag_change(f, v, level, ...)                                                          \
    do {                                                                                           \
        unsigned held_;                                                                            \
        if (log_flag_set((f), (v), &held_) && (level) <= log_current)                              \
            log_write_held((level), held_, __VA_ARGS__);                                           \
    } while (0)

/* A line under the rate limit lim (a log_limit *). */
#define log_limited(lim, level, ...)                                                               \
    do {                                                                                           \
        unsigned held_;                                                                            \
        if ((level) <= log_current && log_limit_pass((lim), &held_))                               \
            log_write_held((level), held_, __VA_ARGS__);                                           \
    } while (0)

#endif

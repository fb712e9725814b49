/*
 * clock: the program's clocks in one place. Monotonic time for deadlines, timeouts and
 * durations; wall time only where a protocol speaks in Unix time (EXAT, TIME). No state.
 */
#ifndef NORIKV_CLOCK_H
#define NORIKV_CLOCK_H

#include <stdint.h>

/* Monotonic milliseconds and microseconds from an arbitrary origin. */
int64_t clock_now_ms(void);
int64_t clock_now_us(void);
int64_t clock_now_ns(void);
/* Wall-clock milliseconds and microseconds since the Unix epoch. */
int64_t clock_unix_ms(void);
int64_t clock_unix_us(void);

#endif

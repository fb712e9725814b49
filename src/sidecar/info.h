/*
 * info: renders the counters: INFO's text, NORI.STATS' map and systemd's status line.
 */
#ifndef NORIKV_INFO_H
#define NORIKV_INFO_H

#include <stddef.h>

#include <event2/buffer.h>

#include "sidecar.h"

/* The INFO text for section ("" or "default", "all", "everything", or one name). */
void info_render(sidecar *s, const char *section, struct evbuffer *out);
/* The INFO text for several of those: each section once, in INFO's order. */
void info_render_sections(sidecar *s, const char *const *sections, size_t n, struct evbuffer *out);
/* NORI.STATS: a map of pool, router, topology, retries; proto 2 or 3. */
void info_nori_stats(sidecar *s, int proto, struct evbuffer *out);
/* One line for systemd's STATUS=. */
void info_status_line(sidecar *s, char *buf, size_t len);

#endif

/*
 * metrics: the optional HTTP listener of [metrics]: /metrics (Prometheus text format),
 * /healthz and /readyz, served on the sidecar's loop.
 */
#ifndef NORIKV_METRICS_H
#define NORIKV_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/buffer.h>

#include "sidecar.h"

typedef struct metrics metrics;

/* Listens on s->cfg.metrics.listen. NULL when that is empty (err untouched) or when it
 * cannot listen (err says why). */
metrics *metrics_start(sidecar *s, char *err, size_t errlen);
/* Closes the listener and its connections, removes its socket file; NULL is a no-op. */
void metrics_stop(metrics *m);

/* Every figure of INFO and NORI.STATS, per command and per node, as Prometheus text. */
void metrics_render(sidecar *s, struct evbuffer *out);
/* What /readyz answers: true while a cluster view is held, a node answers and the
 * sidecar is not draining; otherwise why says which. */
bool metrics_ready(sidecar *s, char *why, size_t len);

#endif

/*
 * latency: LATENCY, Redis' latency monitor. Owns one series per event, made when the event
 * first reaches [sidecar] latency_monitor_threshold (milliseconds; 0, the default, turns
 * the monitor off): its latest 160 samples, one per second at most (the largest of that
 * second), and the largest ever. Events: "command" and "fast-command" (CMD_FAST), from a
 * command's start to its reply, and "command-loop", the time a command's handler kept the
 * event loop from every other client.
 */
#ifndef NORIKV_LATENCY_H
#define NORIKV_LATENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "req.h"

#define LATENCY_SAMPLES 160

typedef enum latency_event {
    LATENCY_COMMAND,
    LATENCY_FAST_COMMAND,
    LATENCY_COMMAND_LOOP,
    LATENCY_EVENTS
} latency_event;

typedef struct latency_sample {
    int64_t time; /* unix seconds; 0: an empty slot */
    uint32_t ms;
} latency_sample;

typedef struct latency_series {
    bool used; /* reached the threshold since the last LATENCY RESET of it */
    int next;  /* the slot the next sample goes to */
    uint32_t max;
    latency_sample samples[LATENCY_SAMPLES];
} latency_series;

typedef struct latency_monitor {
    latency_series events[LATENCY_EVENTS];
} latency_monitor;

/* ms of event ev, recorded when latency_monitor_threshold is on and ms reaches it. */
void latency_note(sidecar *s, latency_event ev, uint64_t ms);

cmd_proc cmd_latency_latest, cmd_latency_history, cmd_latency_reset, cmd_latency_doctor,
    cmd_latency_histogram, cmd_latency_help;

#endif

/*
 * watchdog.h -- private to troupe: a line on stderr when a scheduled
 * actor's callback holds its scheduler (watchdog.c).  Not API.
 */
#ifndef TRI_WATCHDOG_H
#define TRI_WATCHDOG_H

#include <stdint.h>

/* Starts watching nsched schedulers (unless $TROUPE_BUSY_WARN_MS is 0).
 * Called once the schedulers run. */
int tri_watchdog_start(uint32_t nsched);
/* Stops watching, before the schedulers stop. */
void tri_watchdog_stop(void);

#endif

/*
 * timer.h -- private to troupe: delayed sends (timer.c).  Not API.
 */
#ifndef TRI_TIMER_H
#define TRI_TIMER_H

#include "slots.h"

/* Timers (timer.c). */
int tri_timer_start(void);
void tri_timer_stop(void);
/* Root: a process died with timers pending for actors of others (its
 * table's list, slots.h): takes them off those actors' counts. */
void tri_timers_settle(tri_slottab *dead);

#endif

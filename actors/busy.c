/*
 * busy.c -- the actors of this process stuck in a callback (busy.h).
 */
#include <time.h>

#include "busy.h"
#include "internal.h"

/* The clock of busy_since (scheduler.c): coarse monotonic, in ms. */
static uint64_t
coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int
tri_busy_scan(uint64_t min_ms,
    void (*fn)(void *arg, tr_ref ref, uint64_t ms, bool waiting), void *arg)
{
	tri_slottab *t = tri_rt.slots;
	uint64_t now = coarse_ms();
	uint32_t hi;

	if (!tri_running() || t == NULL) {
		return TR_ECLOSED;
	}
	hi = atomic_load(&t->hiwater);
	for (uint32_t i = 0; i < hi && i < TRI_SLOTS_MAX; i++) {
		tri_slotrec *r = &t->slot[i];
		uint64_t since =
		    atomic_load_explicit(&r->busy_since, memory_order_relaxed);
		bool waiting = (since & TRI_BUSY_BLOCKED) != 0;
		tr_ref ref;

		since &= ~TRI_BUSY_BLOCKED;
		if (since == 0 || now < since || now - since < min_ms) {
			continue;
		}
		ref.node = tri_rt.node;
		ref.proc = tri_rt.proc;
		ref.slot = i;
		ref.gen = (uint32_t)(atomic_load(&r->word) >> 32);
		fn(arg, ref, now - since, waiting);
	}
	return TR_OK;
}

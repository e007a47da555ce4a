/*
 * clock.c -- the runtime's clocks: the monotonic clock in ms for
 * deadlines and timeouts, and whether the runtime runs.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "runtime.h"

bool
tri_running(void)
{
	return __atomic_load_n(&tri_rt.running, __ATOMIC_ACQUIRE);
}

uint64_t
tri_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t
tri_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? UINT64_MAX :
	                        tri_now_ms() + (uint64_t)timeout_ms;
}

void
tri_deadline_ts(uint64_t deadline, struct timespec *ts)
{
	ts->tv_sec = (time_t)(deadline / 1000u);
	ts->tv_nsec = (long)(deadline % 1000u) * 1000000L;
}

int
tri_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	int rc;

	if ((rc = pthread_condattr_init(&ca)) != 0) {
		return rc;
	}
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
	return rc;
}

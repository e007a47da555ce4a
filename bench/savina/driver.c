/*
 * driver.c -- what every Savina case does from the main context:
 * spawn monitored actors, wait for the report, stop them all.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "savina.h"

/* The actors of the running case, stopped by sv_stop_all(). */
static tr_ref *actors;
static size_t nactors, cap_actors;

double
sv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t
sv_scaled(const sv_cfg *cfg, uint64_t savina_default, uint64_t min)
{
	double v = (double)savina_default * cfg->scale;

	return v < (double)min ? min : (uint64_t)(v + 0.5);
}

/* Unset or "scheduled" means a scheduled actor (auto's choice); the
 * others their placement: none may have fallen back to another. */
bool
sv_placed_as_asked(tr_placement p)
{
	const char *want = getenv("TROUPE_PLACEMENT");

	if (want == NULL || *want == '\0' || strcmp(want, "scheduled") == 0) {
		return p == TR_PLACE_SCHEDULED;
	}
	if (strcmp(want, "thread") == 0) {
		return p == TR_PLACE_THREAD;
	}
	if (strcmp(want, "fork") == 0) {
		return p == TR_PLACE_FORK;
	}
	if (strcmp(want, "exec") == 0) {
		return p == TR_PLACE_EXEC;
	}
	return false;
}

int
sv_spawn(const char *behavior, tr_msg *init_arg, tr_ref *out)
{
	tr_actor_info info;
	tr_spec spec;
	tr_mon mon;
	int rv;

	if (nactors == cap_actors) {
		size_t ncap = cap_actors == 0 ? 64 : 2 * cap_actors;
		tr_ref *n = realloc(actors, ncap * sizeof(*n));
		if (n == NULL) {
			tr_msg_free(init_arg);
			return TR_ENOMEM;
		}
		actors = n;
		cap_actors = ncap;
	}
	memset(&spec, 0, sizeof(spec));
	spec.behavior = behavior;
	spec.placement = TR_PLACE_AUTO;
	spec.init_arg = init_arg;
	rv = tr_spawn(&spec, out, NULL);
	tr_msg_free(init_arg);
	if (rv != TR_OK) {
		return rv;
	}
	if ((rv = tr_monitor(*out, &mon)) != TR_OK) {
		(void)tr_stop(*out, TR_REASON_SHUTDOWN);
		return rv;
	}
	actors[nactors++] = *out;
	if (tr_actor_info_get(*out, &info) == TR_OK &&
	    !sv_placed_as_asked(info.placement)) {
		return TR_ENOTSUP;
	}
	return TR_OK;
}

int
sv_stop_all(void)
{
	size_t left = nactors;
	int rv = TR_OK;

	for (size_t i = 0; i < nactors; i++) {
		(void)tr_stop(actors[i], TR_REASON_SHUTDOWN);
	}
	/* Each has a monitor: one DOWN each, whatever else still comes. */
	while (left > 0) {
		uint32_t tag = 0;
		tr_msg *m = NULL;
		if ((rv = tr_recv(&m, SV_TIMEOUT_MS)) != TR_OK) {
			break;
		}
		tag = tr_msg_tag(m);
		tr_msg_free(m);
		if (tag == TR_TAG_DOWN) {
			left--;
		}
	}
	nactors = 0;
	return rv;
}

int
sv_wait(uint32_t tag, const char *picture, ...)
{
	tr_msg *m = NULL;
	va_list ap;
	int rv;

	if ((rv = tr_recv(&m, SV_TIMEOUT_MS)) != TR_OK) {
		return rv;
	}
	if (tr_msg_tag(m) != tag) {
		rv = TR_EPROTO;
	} else {
		va_start(ap, picture);
		rv = tr_msg_vunpackf(m, picture, ap);
		va_end(ap);
	}
	tr_msg_free(m);
	return rv;
}

int
sv_fail(sv_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return TR_EPROTO;
}

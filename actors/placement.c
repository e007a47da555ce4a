/*
 * placement.c -- where an actor runs.  `auto` is decided from the spec:
 * a program means exec, an isolated spec means fork, anything else a
 * thread.  TROUPE_PLACEMENT=thread|fork|exec forces every auto spec into
 * one placement, so that one test suite runs under all three.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

tr_placement
tri_placement_choose(const tr_spec *spec)
{
	const char *force;

	if (spec->placement != TR_PLACE_AUTO) {
		return spec->placement;
	}
	if (spec->program != NULL) {
		return TR_PLACE_EXEC;
	}
	force = getenv("TROUPE_PLACEMENT");
	/* Only the root starts processes; elsewhere auto means thread. */
	if (force != NULL && tri_rt.is_root) {
		if (strcmp(force, "thread") == 0) {
			return TR_PLACE_THREAD;
		}
		if (strcmp(force, "fork") == 0) {
			return TR_PLACE_FORK;
		}
		if (strcmp(force, "exec") == 0) {
			return TR_PLACE_EXEC;
		}
		if (strcmp(force, "scheduled") == 0) {
			return TR_PLACE_SCHEDULED;
		}
	}
	return spec->isolated ? TR_PLACE_FORK : TR_PLACE_THREAD;
}

/*
 * placement.c -- where an actor runs.  `auto` is decided from the spec:
 * a program means exec, an isolated spec means fork, anything else a
 * scheduled actor (measured: docs/design.md, "Light actors").
 * TROUPE_PLACEMENT=thread|fork|exec forces every auto spec into one placement,
 * so that one test suite runs under all three.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "runtime.h"

/* A misspelt TROUPE_PLACEMENT would quietly leave every actor where the
 * spec puts it: say so, once. */
static void
warn_unknown(const char *force)
{
	static atomic_bool said;

	if (!atomic_exchange(&said, true)) {
		fprintf(stderr,
		    "troupe: TROUPE_PLACEMENT=%s is none of scheduled, thread, "
		    "fork, exec: ignored\n",
		    force);
	}
}

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
	/* Only the root starts processes: members that inherit the
	 * variable place their own actors by the spec alone. */
	if (force != NULL && force[0] != '\0' && tri_rt.is_root) {
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
		warn_unknown(force);
	}
	return spec->isolated ? TR_PLACE_FORK : TR_PLACE_SCHEDULED;
}

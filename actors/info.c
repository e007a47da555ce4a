/*
 * info.c -- counters and introspection: tr_stats_get, and
 * tr_actor_info_get, which reads the actor's slot record (so that it
 * reads the same for an actor of any placement, from any process of the
 * node).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "registry.h"
#include "runtime.h"
#include "target.h"

void
tri_count_dead(uint64_t n)
{
	tri_slottab *t = tri_rt.slots;

	TRI_STAT_ADD(dead_letters, n);
	if (t != NULL && !tri_rt.is_root) {
		atomic_fetch_add_explicit(
		    &t->dead_letters, n, memory_order_relaxed);
	}
}

int
tr_stats_get(tr_stats *out)
{
	if (out == NULL) {
		return TR_EINVAL;
	}
	out->sent = atomic_load(&tri_rt.sent);
	out->delivered = atomic_load(&tri_rt.delivered);
	out->dead_letters = atomic_load(&tri_rt.dead_letters);
	out->malformed = atomic_load(&tri_rt.malformed);
	out->late_replies = atomic_load(&tri_rt.late_replies);
	out->actors_spawned = atomic_load(&tri_rt.spawned);
	out->actors_exited = atomic_load(&tri_rt.exited);
	out->bad_buffers = atomic_load(&tri_rt.bad_buffers);
	return TR_OK;
}

int
tr_actor_info_get(tr_ref ref, tr_actor_info *out)
{
	tri_target t;
	tri_slotrec *r;
	int rv;

	if (out == NULL) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	/* The slot record says it all: no connection is needed. */
	if ((rv = tri_target_peek(ref, &t)) != TR_OK) {
		return rv;
	}
	/* Everything comes from the slot table of the actor's process, so
	 * it reads the same for an actor of any placement. */
	r = t.rec;
	memset(out, 0, sizeof(*out));
	out->ref = ref;
	out->placement = (tr_placement)r->placement;
	snprintf(out->behavior, sizeof(out->behavior), "%.*s", TR_NAME_MAX,
	    r->behavior);
	tri_names_of(ref, out->name, sizeof(out->name));
	out->mailbox_depth = tri_slot_depth(r, ref.gen);
	out->mailbox_capacity = r->capacity;
	out->msgs_in = atomic_load(&r->msgs_in);
	out->msgs_out = atomic_load(&r->msgs_out);
	out->timers = tri_slot_timers(r, ref.gen);
	/* A wrapped program's own process, else the one hosting it. */
	out->pid = atomic_load(&r->pid);
	if (out->pid <= 0) {
		out->pid = t.tab->pid;
	}
	{
		uint64_t since = atomic_load(&r->busy_since);
		bool blocked = (since & TRI_BUSY_BLOCKED) != 0;
		struct timespec ts;
		uint64_t now;
		since &= ~TRI_BUSY_BLOCKED;
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		now = (uint64_t)ts.tv_sec * 1000u +
		    (uint64_t)ts.tv_nsec / 1000000u;
		out->callback_ms = since != 0 && now > since ? now - since : 0;
		out->waiting = since != 0 && blocked;
	}
	tri_target_put(&t);
	return TR_OK;
}

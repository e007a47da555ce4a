/*
 * pool.c -- N actors of one spec behind one ref (Node's cluster: one
 * member per core by default).  The pool's ref is a small thread actor
 * that hands each message to the next member in turn, keeping its sender
 * and, for calls, its correlation id: the member answers the caller
 * directly, and whoever sends to the pool cannot tell it from one actor.
 *
 * The pool links to its members and traps their exits: a member that
 * ends leaves the rotation (restarting it is a supervisor's job); the
 * pool ends, with the last member's reason, when none is left.  Stopping
 * the pool stops its members.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "actor.h"
#include "alloc.h"
#include "behavior.h"
#include "call.h"
#include "runtime.h"
#include "scheduler.h"

typedef struct pool {
	tr_ref *members;
	uint32_t n;
	uint32_t next;
} pool;

static int
pool_init(void *state, tr_msg *arg)
{
	pool *p = state;
	msgpack_object o;
	const tr_spec *spec;
	tr_spec member;
	uint32_t n;
	int rv;

	if (tr_msg_body(arg, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != 2) {
		return TR_EINVAL;
	}
	/* The spawner waits in tr_spawn() while we run: its spec is alive. */
	spec = (const tr_spec *)(uintptr_t)o.via.array.ptr[0].via.u64;
	n = (uint32_t)o.via.array.ptr[1].via.u64;
	if ((p->members = tri_calloc(n, sizeof(*p->members))) == NULL) {
		return TR_ENOMEM;
	}
	tr_trap_exits(true, NULL);
	member = *spec;
	member.name = NULL;
	member.link = true;
	/* Scheduled members go one per scheduler in turn: a pool is for
	 * work that should run in parallel. */
	tri_sched_spread(true);
	for (uint32_t i = 0; i < n; i++) {
		tr_reason why;
		if ((rv = tr_spawn(&member, &p->members[p->n], &why)) !=
		    TR_OK) {
			/* A pool starts whole or not at all. */
			for (uint32_t k = 0; k < p->n; k++) {
				tr_unlink(p->members[k]);
				tr_stop(p->members[k], TR_REASON_SHUTDOWN);
			}
			tri_free(p->members);
			p->members = NULL;
			tri_sched_spread(false);
			return rv;
		}
		if (!tr_ref_is_nil(p->members[p->n])) {
			p->n++; /* else its init returned TR_IGNORE: left out */
		}
	}
	tri_sched_spread(false);
	if (p->n == 0) {
		/* Every member chose not to run: so does the pool. */
		tri_free(p->members);
		p->members = NULL;
		return TR_IGNORE;
	}
	return 0;
}

static void
drop_member(pool *p, tr_ref who)
{
	for (uint32_t i = 0; i < p->n; i++) {
		if (tr_ref_equal(p->members[i], who)) {
			p->members[i] = p->members[--p->n];
			return;
		}
	}
}

static int
pool_handle(void *state, tr_msg *msg)
{
	pool *p = state;

	if (tr_msg_tag(msg) == TR_TAG_EXIT) {
		tr_reason why;
		tr_ref who;
		tr_msg_reason(msg, &who, &why, NULL);
		drop_member(p, who);
		if (p->n == 0) {
			tr_stop(tr_self(), why);
		}
		return 0;
	}
	/* Next member in turn; one that turns out dead leaves the turn. */
	while (p->n > 0) {
		tr_ref to = p->members[p->next++ % p->n];
		int rv = tri_forward(msg, to);
		if (rv == TR_OK && tr_msg_is_call(msg)) {
			/* The caller watches us during its call: have it watch
			 * the member instead, so that its death ends the call.
			 */
			tri_redirect(msg, to);
		}
		if (rv != TR_ENOPROC) {
			return 0; /* delivered, or counted as a dead letter */
		}
		drop_member(p, to);
	}
	tri_count_dead(1);
	return 0;
}

static void
pool_terminate(void *state, tr_reason why)
{
	pool *p = state;

	for (uint32_t i = 0; i < p->n; i++) {
		tr_unlink(p->members[i]);
		tr_stop(p->members[i],
		    why.kind == TR_EXIT_NORMAL ? TR_REASON_SHUTDOWN : why);
	}
	tri_free(p->members);
}

static const tri_behavior pool_behavior = {
    "troupe.pool", sizeof(pool), pool_init, pool_handle, pool_terminate};

/* The cores this thread may run on, as nproc counts them: on a machine
 * of 64 cores, a process pinned to 2 (taskset, a container's cpuset)
 * gains nothing from 64 workers. */
uint32_t
tr_cores(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    CPU_COUNT(&set) > 0) {
		return (uint32_t)CPU_COUNT(&set);
	}
	/* More than CPU_SETSIZE cpus, or no affinity: what is online. */
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (uint32_t)n : 1;
}

int
tr_pool_spawn(const tr_spec *spec, uint32_t n, tr_ref *out)
{
	tr_spec ps;
	tr_msg *arg;
	int rv;

	if (spec == NULL || out == NULL || spec->behavior == NULL ||
	    n > TR_POOL_MAX) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (n == TR_POOL_CORES) {
		n = tr_cores();
	}
	if ((rv = tr_msg_new(&arg, 0)) != TR_OK) {
		return rv;
	}
	msgpack_pack_array(tr_msg_packer(arg), 2);
	msgpack_pack_uint64(tr_msg_packer(arg), (uint64_t)(uintptr_t)spec);
	msgpack_pack_uint32(tr_msg_packer(arg), n);
	memset(&ps, 0, sizeof(ps));
	ps.behavior = pool_behavior.name;
	ps.placement = TR_PLACE_THREAD;
	ps.mailbox_capacity = spec->mailbox_capacity;
	ps.init_arg = arg;
	ps.name = spec->name;
	ps.link = spec->link;
	rv = tri_actor_spawn(&ps, &pool_behavior, out, NULL);
	tr_msg_free(arg);
	return rv;
}

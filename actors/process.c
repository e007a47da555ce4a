/*
 * process.c -- spawning the process placements: a fork member (Node's
 * cluster worker) or an exec'd troupe program (child_process with a
 * troupe program inside).
 *
 * The spawner writes what the new process needs into a spec file, has
 * it started (by the fork server, or by the node service's uv_spawn),
 * and waits on its own mailbox for the new actor's READY, like a call:
 * the process's death before that, or the start timeout, ends the wait.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "behavior.h"
#include "call.h"
#include "ctx.h"
#include "link.h"
#include "msg.h"
#include "process.h"
#include "registry.h"
#include "route.h"
#include "runtime.h"
#include "target.h"

#define START_TIMEOUT_MS 5000

/*
 * Links self to actor, of process proc, which has ended already, and
 * fires the link at once: with the actor's own reason if its exit
 * signal reached the spawn's wait, else with its process's.
 */
static void
link_to_ended(tri_ctx *self, uint32_t proc, tr_ref actor)
{
	uint8_t body[TRI_CONTROL_BODY];
	tri_frame f;
	tr_reason r;
	tr_ref ignored;

	if (self->call.spawn_exited &&
	    tr_ref_equal(self->call.spawn_exit_from, actor)) {
		r = self->call.spawn_exit_why;
	} else if (!tri_node_proc_reason(proc, &r, &ignored)) {
		r = TR_REASON(TR_EXIT_NOPROC, 0);
	}
	tri_control_frame(&f, body, TRI_K_EXIT, actor, self->ref, r, 0);
	(void)tri_link_add(self, actor);
	tri_route(self, &f);
}

/*
 * Connects the root to a new member: to its actor (calls, stops) and to
 * its main context (news of other processes' deaths).  Made at spawn,
 * while the spawn's room is there (limits.c), not at the first call: a
 * member that started can then always be called, stopped and told,
 * however many others start after it.  A member that has ended already
 * is no error here (its end is dealt with as usual).
 */
static int
connect_member(uint32_t proc, tr_ref actor)
{
	tr_ref refs[2] = {actor, {tri_rt.node, proc, 1, 1}};

	for (int i = 0; i < 2; i++) {
		tri_target t;
		int rv = tri_target_get(refs[i], &t);
		if (rv == TR_OK) {
			tri_target_put(&t); /* the port stays cached */
		} else if (rv != TR_ENOPROC) {
			return rv;
		}
	}
	return TR_OK;
}

int
tri_process_spawn(const tr_spec *spec, const tri_behavior *b,
    tr_placement place, tr_ref *out, tr_reason *why)
{
	tri_ctx *self = tri_self();
	char path[PATH_MAX];
	tri_pspec ps;
	tr_msg *ready = NULL;
	tr_reason r;
	uint32_t proc;
	int pid = 0, rv;
	uint64_t deadline;

	if (!tri_rt.is_root) {
		return TR_ENOTSUP; /* processes start processes through the root
		                    */
	}
	if (self == NULL) {
		return TR_ESTATE; /* the READY needs a mailbox to come to */
	}
	if (self->call.corr != 0) {
		return TR_ESTATE;
	}
	if (place == TR_PLACE_FORK && !tri_fork_server_running()) {
		return TR_ENOTSUP;
	}
	if (spec->init_arg != NULL &&
	    tri_msg_len(spec->init_arg) > tri_rt.max_body) {
		return TR_EMSGSIZE;
	}
	if (spec->name != NULL) {
		tr_ref taken;
		if (tri_names_find(spec->name, &taken) == TR_OK) {
			return TR_EEXIST; /* checked here too: fail before
			                     forking */
		}
	}
	if ((rv = tri_node_proc_new(place, &proc)) != TR_OK) {
		return rv;
	}
	memset(&ps, 0, sizeof(ps));
	ps.node = tri_rt.node;
	ps.proc = proc;
	ps.root_pid = tri_rt.root_pid;
	ps.capacity =
	    spec->mailbox_capacity ? spec->mailbox_capacity : tri_rt.capacity;
	ps.max_body = tri_rt.max_body;
	snprintf(ps.rundir, sizeof(ps.rundir), "%s", tri_rt.rundir);
	snprintf(ps.sockdir, sizeof(ps.sockdir), "%s", tri_rt.sockdir);
	ps.spawner = self->ref;
	ps.corr = ++self->corr_seq;
	snprintf(ps.behavior, sizeof(ps.behavior), "%s", b->name);
	if (spec->name != NULL) {
		snprintf(ps.name, sizeof(ps.name), "%s", spec->name);
	}
	if (place == TR_PLACE_FORK) {
		/* Same program image: the functions are where they are here. */
		ps.fn_init = (uint64_t)(uintptr_t)b->init;
		ps.fn_handle = (uint64_t)(uintptr_t)b->handle;
		ps.fn_terminate = (uint64_t)(uintptr_t)b->terminate;
		ps.state_size = b->state_size;
		ps.have_fns = true;
	}
	ps.link = spec->link;
	ps.trap = spec->trap_exits;
	if (spec->init_arg != NULL) {
		ps.has_arg = true;
		ps.arg_tag = spec->init_arg->tag;
		ps.arg = (uint8_t *)tri_msg_bytes(spec->init_arg);
		ps.arg_len = tri_msg_len(spec->init_arg);
	}
	snprintf(path, sizeof(path), "%s/%u.spec", tri_rt.rundir, proc);
	if ((rv = tri_pspec_write(&ps, path)) != TR_OK) {
		return rv;
	}

	/* Wait as for a call, whose callee is the whole process. */
	(void)tri_call_begin(
	    self, ps.corr, (tr_ref){tri_rt.node, proc, 0, 0}, 0);

	rv = place == TR_PLACE_FORK ?
	    tri_fork_server_spawn(proc, tri_rt.member_threads, path, &pid) :
	    tri_node_exec(proc, spec, path, &pid);
	if (rv != TR_OK) {
		tri_call_cancel(self);
		unlink(path);
		return rv;
	}
	if (place == TR_PLACE_FORK) {
		tri_node_proc_started(proc, pid);
	}
	deadline =
	    tri_deadline(spec->start_timeout_ms ? (int)spec->start_timeout_ms :
	                                          START_TIMEOUT_MS);
	self->call.spawn_proc = proc;
	rv = tri_wait_reply(self, deadline, &ready);
	self->call.spawn_proc = 0;
	if (rv == TR_ECANCELED) {
		/* The spawner is asked to stop: it will not take this actor,
		 * and no process is left half-adopted. */
		tri_node_kill(proc, SIGKILL);
		return TR_ECANCELED;
	}
	if (rv == TR_ETIMEDOUT) {
		/* It never answered: it is not left running half-started. */
		tri_node_kill(proc, SIGKILL);
		return TR_ETIMEDOUT;
	}
	if (rv == TR_ENOPROC) {
		tr_ref actor = TR_REF_NIL;
		if (!tri_node_proc_reason(proc, &r, &actor)) {
			r = TR_REASON(TR_EXIT_NOPROC, 0);
		}
		if (tr_ref_is_nil(actor) && r.kind == TRI_REASON_IGNORED.kind &&
		    r.code == TRI_REASON_IGNORED.code) {
			*out = TR_REF_NIL; /* its init chose not to run */
			return TR_OK;
		}
		if (!tr_ref_is_nil(actor)) {
			/* Its actor started, and ended before its READY got
			 * here: the spawn succeeded, and a link (made before
			 * its init) fires now -- with the actor's own reason,
			 * if its exit signal came. */
			*out = actor;
			if (spec->link) {
				link_to_ended(self, proc, actor);
			}
			return TR_OK;
		}
		if (why != NULL) {
			*why = r;
		}
		if (place == TR_PLACE_FORK && r.kind == TR_EXIT_STATUS &&
		    r.code == TRI_MEMBER_EX_RESOURCE) {
			return TR_ERESOURCE; /* it could not join the node */
		}
		return TR_EINIT;
	}
	tri_msg_reason_of_frame(ready, &r);
	if (r.kind == TRI_REASON_IGNORED.kind &&
	    r.code == TRI_REASON_IGNORED.code) {
		/* Its init returned TR_IGNORE: no actor, and no failure; the
		 * process ends by itself. */
		tr_msg_free(ready);
		*out = TR_REF_NIL;
		return TR_OK;
	}
	if (r.kind != TR_EXIT_NORMAL || tr_ref_is_nil(ready->sender)) {
		tr_msg_free(ready);
		if (why != NULL) {
			*why = r;
		}
		/* The member could not start the actor at all (as opposed to
		 * an init that failed): say why as tr_spawn would here. */
		if (r.kind == TR_EXIT_ERROR && r.code == -TR_ENOENT) {
			return TR_ENOENT; /* the program has no such behavior */
		}
		if (r.kind == TR_EXIT_ERROR && r.code == -TR_EEXIST) {
			return TR_EEXIST;
		}
		if (r.kind == TR_EXIT_ERROR &&
		    (r.code == -TR_ERESOURCE || r.code == -TR_ENOMEM)) {
			return -r.code; /* no thread or memory for the actor */
		}
		return TR_EINIT;
	}
	*out = ready->sender;
	tr_msg_free(ready);
	if ((rv = connect_member(proc, *out)) != TR_OK) {
		/* Out of descriptors after all (another thread took them):
		 * an actor nobody can reach is not left running. */
		tri_node_kill(proc, SIGKILL);
		*out = TR_REF_NIL;
		return rv;
	}
	tri_node_proc_ready(proc, *out);
	if (spec->link) {
		/* It may have ended already: its own exit signal, or the
		 * news of its process's death, came while we waited and
		 * went by before there was a link to act on. */
		if ((self->call.spawn_exited &&
		        tr_ref_equal(self->call.spawn_exit_from, *out)) ||
		    self->call.down) {
			link_to_ended(self, proc, *out);
		} else {
			(void)tri_link_add(self, *out);
		}
	}
	return TR_OK;
}

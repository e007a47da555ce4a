/*
 * member.c -- the life of a process placement: a fork member (forked by
 * the fork server) or an exec'd troupe program (which calls tr_init()
 * and then tr_exec_main()).  Either way the process joins the node
 * described by its spec file, runs exactly one actor on a thread of its
 * own, tells its spawner that the actor started (or why it did not),
 * and ends when the actor ends, leaving the reason in its slot table for
 * the root to announce.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor.h"
#include "behavior.h"
#include "ctx.h"
#include "msg.h"
#include "process.h"
#include "runtime.h"
#include "target.h"

/* The spec this process was started with (exec'd programs keep it from
 * tr_init() to tr_exec_main()). */
static tri_pspec member_spec;
static bool have_spec;

static void
send_ready(const tri_pspec *s, tr_ref actor, tr_reason why)
{
	/* A spawner that is gone waits for nobody: no error here. */
	(void)tri_send_control_ref(
	    s->spawner, TRI_K_READY, actor, why, s->corr);
}

/* How long a member that ends waits for its last frames to be read.
 * The receivers' inbox callbacks (nng's threads) confirm, not their
 * actors, so this is reached only when a receiving process is frozen or
 * the machine overloaded.  It was 1 s until a stress of some 2000
 * exits of exec'd members, under a load of 7 on 2 cores, once saw 19 of
 * an exit's 20 last messages missing: what this wait running out would
 * do (what is unread when the process ends is lost). */
#define FLUSH_WAIT_MS 5000

static void
leave(tr_reason why)
{
	tri_slottab *t = tri_rt.slots;

	if (t != NULL) {
		atomic_store(
		    &t->leaving, 1); /* the root need not tell us news */
	}
	/* nng has no linger: frames still queued when the process exits
	 * would be lost (a terminate callback's last messages, its exit
	 * notices), and the root's news of its death would come alone; and
	 * a receiver that sees our hang-up before it has read what we sent
	 * drops it.  So: everything is sent, and read (target.c). */
	if (!tri_remote_goodbye(tri_now_ms() + FLUSH_WAIT_MS)) {
		fprintf(stderr,
		    "troupe: member %u: not every receiver confirmed our "
		    "last messages within %d ms\n",
		    tri_rt.proc, FLUSH_WAIT_MS);
	}

	if (t != NULL) {
		t->reason_kind = (int32_t)why.kind;
		t->reason_code = why.code;
		atomic_store(&t->orderly, 1);
	}
}

int
tri_member_boot(const tri_pspec *s)
{
	tr_options o;

	memset(&o, 0, sizeof(o));
	o.mailbox_capacity = s->capacity;
	o.max_body = s->max_body;
	return tri_init_member(&o, s);
}

int
tri_member_run(const tri_pspec *s, const tri_behavior *b)
{
	tri_ctx *self = tri_self();
	tr_spec spec;
	tr_msg *arg = NULL, *m;
	tr_reason why = TR_REASON_NORMAL;
	tr_ref actor = TR_REF_NIL;
	int rv;

	/* Spawn errors other than a failed init travel as negative codes,
	 * which no init's error() reason can be confused with... unless
	 * an init returns a negative TR_E* code itself; rare enough. */
	if (b == NULL) {
		why = TR_REASON(TR_EXIT_ERROR, -TR_ENOENT);
		send_ready(s, TR_REF_NIL, why);
		leave(why);
		return 0;
	}
	if (s->has_arg) {
		if (tr_msg_new(&arg,
		        s->arg_tag < TR_TAG_SYSTEM ? s->arg_tag : 0) != TR_OK) {
			why = TR_REASON(TR_EXIT_ERROR, TR_ENOMEM);
			send_ready(s, TR_REF_NIL, why);
			leave(why);
			return 0;
		}
		if (s->arg_len > 0) {
			msgpack_packer *pk = tr_msg_packer(arg);
			/* The body is already msgpack: append it as is. */
			pk->callback(
			    pk->data, (const char *)s->arg, s->arg_len);
		}
	}
	memset(&spec, 0, sizeof(spec));
	spec.behavior = b->name;
	/* A thread of this process, which is the fork or exec placement
	 * the spawner asked for. */
	spec.placement = s->have_fns ? TR_PLACE_FORK : TR_PLACE_EXEC;
	spec.mailbox_capacity = s->capacity;
	spec.init_arg = arg;
	spec.name = s->name[0] != '\0' ? s->name : NULL;
	spec.trap_exits = s->trap;
	spec.link = true; /* to this process's main context: its end is ours */
	rv = tri_actor_spawn_ex(
	    &spec, b, s->link ? s->spawner : TR_REF_NIL, &actor, &why);
	tr_msg_free(arg);
	if (rv != TR_OK) {
		if (rv != TR_EINIT) {
			why = TR_REASON(TR_EXIT_ERROR, -rv);
		}
		send_ready(s, TR_REF_NIL, why);
		leave(why);
		return 0;
	}
	if (tr_ref_is_nil(actor)) {
		/* Its init returned TR_IGNORE: not started, and no failure. */
		send_ready(s, TR_REF_NIL, TRI_REASON_IGNORED);
		leave(TRI_REASON_IGNORED);
		return 0;
	}
	tri_rt.slots->actor = actor; /* before READY: see slots.h */
	send_ready(s, actor, TR_REASON_NORMAL);

	/* The main thread now only waits for the actor's end; meanwhile its
	 * mailbox passes on the deaths of other processes (route.c). */
	for (;;) {
		if (tr_recv(&m, TR_FOREVER) != TR_OK) {
			break;
		}
		if (tr_msg_tag(m) == TR_TAG_EXIT &&
		    tr_ref_equal(tr_msg_sender(m), actor)) {
			tr_msg_reason(m, NULL, &why, NULL);
			tr_msg_free(m);
			break;
		}
		tr_msg_free(m);
	}
	(void)self;
	leave(why);
	return 0;
}

int
tri_member_main(const char *spec_path)
{
	tri_pspec *sp = &member_spec;
	tri_behavior b;
	int rv;

	if (tri_pspec_read(spec_path, sp) != TR_OK) {
		return 70; /* EX_SOFTWARE: no spec, no spawner to tell */
	}
	have_spec = true;
	if ((rv = tri_member_boot(sp)) != TR_OK) {
		fprintf(stderr, "troupe: member %u: cannot join the node: %s\n",
		    sp->proc, tr_strerror(rv));
		/* Without nng there is no READY to say why: the status says
		 * it (process.c). */
		return rv == TR_ERESOURCE || rv == TR_ENOMEM ?
		    TRI_MEMBER_EX_RESOURCE :
		    71;
	}
	/* The behavior's functions: same program image as the spawner's, as
	 * the fork server was made from it before anything else ran. */
	memset(&b, 0, sizeof(b));
	snprintf(b.name, sizeof(b.name), "%.64s", sp->behavior);
	b.state_size = (size_t)sp->state_size;
	b.init = (int (*)(void *, tr_msg *))(uintptr_t)sp->fn_init;
	b.handle = (int (*)(void *, tr_msg *))(uintptr_t)sp->fn_handle;
	b.terminate = (void (*)(void *, tr_reason))(uintptr_t)sp->fn_terminate;
	rv = tri_member_run(sp, sp->have_fns && b.handle != NULL ? &b : NULL);
	/* No tr_shutdown(): the process ends here, and the root announces
	 * its end from the reason left in the slot table. */
	return rv;
}

/* tr_init() of an exec'd program: join the node named by TROUPE_SPEC. */
int
tri_exec_join(const char *spec_path)
{
	int rv;

	if ((rv = tri_pspec_read(spec_path, &member_spec)) != TR_OK) {
		return rv;
	}
	if ((rv = tri_member_boot(&member_spec)) != TR_OK) {
		tri_pspec_free(&member_spec);
		return rv;
	}
	have_spec = true;
	return TR_OK;
}

int
tr_exec_main(void)
{
	int rv;

	if (!have_spec || !tri_running()) {
		return -1;
	}
	rv = tri_member_run(
	    &member_spec, tri_behavior_find(member_spec.behavior));
	tr_shutdown();
	tri_pspec_free(&member_spec);
	have_spec = false;
	return rv;
}

tr_ref
tr_parent(void)
{
	return have_spec ? member_spec.spawner : TR_REF_NIL;
}

/*
 * bench_restart.c -- troupe's restart benchmark: per placement (thread,
 * fork, exec), how long a one_for_one supervisor takes to put a
 * permanent child back after it died, measured from the death until the
 * replacement has answered a call.
 *
 * Two ways to die, each its own figure:
 *  - kill:  the main context tr_kill()s the child (SIGKILL of its
 *           process for fork and exec; for a thread, a stop with reason
 *           kill and no terminate);
 *  - crash: the main context sends the child a message on which its
 *           handle returns non-zero (reason error(77)): how an actor
 *           normally dies.
 *
 * No polling: the child's init sends a "started" message to the ref in
 * its init argument (the main context), so the main context waits for
 * it in tr_recv, takes the new child's ref from its sender and calls it
 * (an echo).  Untimed after each sample, tr_sup_children() must show
 * that ref running with one restart more.
 *
 * One JSON line per figure on stdout (the format of bench_placement);
 * progress on stderr.  Exits 1 if any figure could not be measured or
 * came out zero / not finite, 2 for bad arguments.  Pinning is done from
 * outside (bench/run.sh restart runs it under `taskset -c 0` too).
 *
 * The exec'd children run this very program: started by troupe
 * (TROUPE_SPEC in the environment), tr_init() joins the node and
 * tr_exec_main() runs the child's behavior.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <troupe.h>

#include "bench.h"

#define BEH_CHILD "bench.restart_child"

enum {
	TAG_ARG = 10,     /* the child's init argument: [ref to tell] */
	TAG_STARTED = 11, /* child -> main, from init: "I started" */
	TAG_CRASH = 12,   /* main -> child: return non-zero from handle */
};

/* The reason code of a crash (error(77)). */
#define CRASH_CODE 77

/* Safety net for one restart (not a timing): no "started" within this
 * long is a failure. */
#define RESTART_WAIT_MS 10000

/* Longest wait for the supervisor's DOWN at the end. */
#define DOWN_WAIT_MS 30000

#define NPLACE 4 /* indexes TR_PLACE_THREAD .. TR_PLACE_EXEC */

/* The aims for death-to-answer, in µs: thread 1 ms, fork 5 ms (none
 * for exec: the figure is there for context). */
static const double aim_us[NPLACE] = {0, 1000, 5000, 0};

typedef struct rs_cfg {
	uint64_t n[NPLACE]; /* timed restarts per figure (at most) */
	double budget_s;    /* and at most this long per figure */
	bool pinned;
	const char *self_exe;
} rs_cfg;

static const char *
pname(tr_placement p)
{
	switch (p) {
	case TR_PLACE_THREAD:
		return "thread";
	case TR_PLACE_FORK:
		return "fork";
	case TR_PLACE_EXEC:
		return "exec";
	default:
		return "auto";
	}
}

/* ------------------------------------------------------------------ */
/* The child                                                           */
/* ------------------------------------------------------------------ */

/* Runs on the child's thread (or in its process): tells the ref in the
 * init argument that this incarnation started. */
static int
child_init(void *state, tr_msg *arg)
{
	msgpack_object body;
	tr_ref to;
	tr_msg *m;
	int rv;

	(void)state;
	if (arg == NULL || (rv = tr_msg_body(arg, &body)) != TR_OK ||
	    body.type != MSGPACK_OBJECT_ARRAY || body.via.array.size != 1 ||
	    tr_unpack_ref(&body.via.array.ptr[0], &to) != TR_OK) {
		fprintf(stderr, "bench: restart child: bad init argument\n");
		return TR_EINVAL;
	}
	if ((rv = tr_msg_new(&m, TAG_STARTED)) != TR_OK)
		return rv;
	if ((rv = tr_send(to, m)) != TR_OK) {
		fprintf(stderr, "bench: restart child: started: %s\n",
		    tr_strerror(rv));
		tr_msg_free(m);
		return rv;
	}
	return 0;
}

/* Answers echo calls with a copy of the body; dies on TAG_CRASH. */
static int
child_handle(void *state, tr_msg *msg)
{
	msgpack_packer *pk;
	msgpack_object body;
	tr_msg *r;
	int rv;

	(void)state;
	if (tr_msg_tag(msg) == TAG_CRASH)
		return CRASH_CODE;
	if (tr_msg_tag(msg) != BENCH_TAG_ECHO || !tr_msg_is_call(msg)) {
		fprintf(stderr, "bench: restart child: unexpected tag %u\n",
		    (unsigned)tr_msg_tag(msg));
		return 0;
	}
	if ((rv = tr_msg_body(msg, &body)) != TR_OK)
		return rv;
	if ((rv = tr_msg_new(&r, BENCH_TAG_ECHO)) != TR_OK)
		return rv;
	if ((pk = tr_msg_packer(r)) == NULL ||
	    msgpack_pack_object(pk, body) != 0) {
		tr_msg_free(r);
		return TR_ENOMEM;
	}
	if ((rv = tr_reply(tr_msg_from(msg), r)) != TR_OK) {
		fprintf(stderr, "bench: restart child: reply: %s\n",
		    tr_strerror(rv));
		tr_msg_free(r);
	}
	return rv;
}

static const tr_behavior child_beh = {
    .name = BEH_CHILD,
    .handle = child_handle,
    .init = child_init,
};

/* ------------------------------------------------------------------ */
/* The measurement                                                     */
/* ------------------------------------------------------------------ */

/*
 * Waits for a TAG_STARTED from an incarnation other than `old` and
 * puts its sender in *out.  Anything else is reported and dropped.
 */
static int
wait_started(tr_ref old, tr_ref *out, const char *what)
{
	uint64_t deadline =
	    bench_now_ns() + (uint64_t)RESTART_WAIT_MS * 1000000u;
	char b1[64], b2[64];

	for (;;) {
		uint64_t now = bench_now_ns();
		tr_msg *m;
		int rv;

		if (now >= deadline) {
			bench_fail("%s: no new child started within %d ms",
			    what, RESTART_WAIT_MS);
			return -1;
		}
		rv = tr_recv(&m, (int)((deadline - now) / 1000000u) + 1);
		if (rv == TR_ETIMEDOUT)
			continue;
		if (bench_tr_check(rv, "tr_recv (started)") != TR_OK)
			return -1;
		if (tr_msg_tag(m) == TAG_STARTED) {
			tr_ref from = tr_msg_sender(m);

			tr_msg_free(m);
			if (!tr_ref_equal(from, old) && !tr_ref_is_nil(from)) {
				*out = from;
				return 0;
			}
			fprintf(stderr,
			    "bench: %s: \"started\" from %s (old %s), "
			    "ignored\n",
			    what, tr_ref_format(from, b1, sizeof(b1)),
			    tr_ref_format(old, b2, sizeof(b2)));
			continue;
		}
		fprintf(stderr,
		    "bench: %s: unexpected message tag 0x%x while waiting for "
		    "a restart (dropped)\n",
		    what, (unsigned)tr_msg_tag(m));
		tr_msg_free(m);
	}
}

/* The supervisor must show exactly one child, running as `ref`, with
 * `restarts` restarts. */
static int
check_children(tr_ref sup, tr_ref ref, uint32_t restarts, const char *what)
{
	tr_child_info ci[2];
	size_t n = 0;
	char b1[64], b2[64];

	if (bench_tr_check(
	        tr_sup_children(sup, ci, 2, &n), "tr_sup_children") != TR_OK)
		return -1;
	if (n != 1 || ci[0].state != TR_CHILD_RUNNING ||
	    !tr_ref_equal(ci[0].ref, ref) || ci[0].restarts != restarts) {
		bench_fail("%s: supervisor shows %zu children, the first "
		           "state %d ref %s restarts %u; expected running %s "
		           "restarts %u",
		    what, n, n > 0 ? (int)ci[0].state : -1,
		    n > 0 ? tr_ref_format(ci[0].ref, b1, sizeof(b1)) : "-",
		    n > 0 ? ci[0].restarts : 0,
		    tr_ref_format(ref, b2, sizeof(b2)), restarts);
		return -1;
	}
	return 0;
}

/* The child's death: tr_kill, or a message its handle dies of. */
static int
make_die(tr_ref child, bool crash)
{
	tr_msg *m;
	int rv;

	if (!crash)
		return bench_tr_check(tr_kill(child), "tr_kill");
	if ((rv = tr_msg_new(&m, TAG_CRASH)) != TR_OK)
		return bench_tr_check(rv, "tr_msg_new");
	if ((rv = tr_send(child, m)) != TR_OK) {
		tr_msg_free(m);
		return bench_tr_check(rv, "tr_send (crash)");
	}
	return TR_OK;
}

/*
 * One figure: a one_for_one supervisor with one permanent child of
 * placement p, restarted n/10+1 times untimed, then up to n times
 * timed (bounded by the time budget).
 */
static int
restart_figure(const rs_cfg *cfg, tr_placement p, bool crash)
{
	const char *how = crash ? "crash" : "kill";
	uint64_t n = cfg->n[p], warm = n / 10 + 1, taken = 0;
	uint64_t *samples, budget_ns, start;
	tr_child_spec child = {0};
	tr_sup_spec spec = {0};
	tr_ref sup = TR_REF_NIL, cur = TR_REF_NIL;
	tr_reason why = {0};
	msgpack_packer *pk;
	tr_msg *arg = NULL;
	char what[64], err[256], buf[64];
	int rv, rc = -1;

	snprintf(what, sizeof(what), "%s %s restart", pname(p), how);
	if ((samples = malloc(n * sizeof(*samples))) == NULL) {
		bench_fail("out of memory");
		return -1;
	}
	if (bench_tr_check(tr_msg_new(&arg, TAG_ARG), "tr_msg_new") != TR_OK)
		goto out;
	if ((pk = tr_msg_packer(arg)) == NULL ||
	    msgpack_pack_array(pk, 1) != 0 ||
	    tr_pack_ref(pk, tr_self()) != TR_OK) {
		bench_fail("%s: packing the init argument failed", what);
		goto out;
	}
	child.id = "child";
	child.start.behavior = BEH_CHILD;
	child.start.placement = p;
	child.start.init_arg = arg;
	if (p == TR_PLACE_EXEC)
		child.start.program = cfg->self_exe;
	child.restart = TR_PERMANENT;
	spec.strategy = TR_ONE_FOR_ONE;
	/* Never give up within the run: a million restarts a second. */
	spec.intensity = 1000000;
	spec.period_ms = 1000;
	spec.children = &child;
	spec.nchildren = 1;
	if (tr_sup_check(&spec, err, sizeof(err)) != TR_OK) {
		bench_fail("%s: tr_sup_check: %s", what, err);
		goto out;
	}

	fprintf(stderr,
	    "bench: %s to first call, up to %llu restarts or %.0f s...\n", what,
	    (unsigned long long)n, cfg->budget_s);
	if ((rv = tr_sup_start(&spec, NULL, false, &sup, &why)) != TR_OK) {
		bench_fail("%s: tr_sup_start: %s (%d)%s%s", what,
		    tr_strerror(rv), rv, rv == TR_EINIT ? ", child: " : "",
		    rv == TR_EINIT ? tr_reason_format(why, buf, sizeof(buf)) :
		                     "");
		goto out;
	}
	/* The first incarnation's "started" (untimed). */
	if (wait_started(TR_REF_NIL, &cur, what) != 0 ||
	    check_children(sup, cur, 0, what) != 0)
		goto stop;

	budget_ns = (uint64_t)(cfg->budget_s * 1e9);
	start = bench_now_ns();
	for (uint64_t i = 0; i < warm + n; i++) {
		const char *step = "";
		tr_ref old = cur;
		uint64_t t0, t1;

		/* Bounded by time, but never fewer than one sample. */
		if (i > warm && bench_now_ns() - start > budget_ns)
			break;
		t0 = bench_now_ns();
		if (make_die(old, crash) != TR_OK)
			goto stop;
		if (wait_started(old, &cur, what) != 0)
			goto stop;
		/* One call, its reply checked: the new child works. */
		rv = bench_call_loop(cur, 1, 0, NULL, &step);
		t1 = bench_now_ns();
		if (rv != TR_OK) {
			bench_fail("%s: first call: %s: %s", what, step,
			    tr_strerror(rv));
			goto stop;
		}
		if (i >= warm)
			samples[taken++] = t1 - t0;
		/* Untimed: the supervisor agrees, and is idle again. */
		if (check_children(sup, cur, (uint32_t)(i + 1), what) != 0)
			goto stop;
	}
	if (taken < n)
		fprintf(stderr,
		    "bench: %s: time budget reached after %llu samples\n", what,
		    (unsigned long long)taken);
	bench_print_lat_at("restart", how, pname(p), cfg->pinned,
	    bench_lat_of(samples, taken), BENCH_ECHO_BODY_BYTES, aim_us[p]);
	rc = 0;
stop:
	if (bench_stop_wait(sup, what, DOWN_WAIT_MS) != 0)
		rc = -1;
out:
	tr_msg_free(arg);
	free(samples);
	return rc;
}

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: bench_restart [--quick] [--thread N] [--fork N] "
	    "[--exec N]\n"
	    "                     [--budget S] [--only PLACEMENT]\n"
	    "  --quick      small counts: checks that everything runs\n"
	    "  --thread N   timed restarts per thread figure (default 300)\n"
	    "  --fork N     timed restarts per fork figure (default 100)\n"
	    "  --exec N     timed restarts per exec figure (default 50)\n"
	    "  --budget S   at most S seconds of restarts per figure "
	    "(default 20)\n"
	    "  --only P     one placement only (thread, fork or exec)\n");
}

int
main(int argc, char **argv)
{
	rs_cfg cfg = {
	    .n = {0, 300, 100, 50},
	    .budget_s = 20,
	};
	bool want[NPLACE] = {false, true, true, true};
	char exe[PATH_MAX];
	unsigned expected = 0;
	ssize_t len;
	int rv;

	/* First: the fork server must exist before anything else runs. */
	if ((rv = tr_init(NULL)) != TR_OK) {
		bench_fail("tr_init: %s (%d)", tr_strerror(rv), rv);
		return 1;
	}
	if ((rv = tr_behavior_register(&child_beh)) != TR_OK) {
		bench_fail(
		    "tr_behavior_register: %s (%d)", tr_strerror(rv), rv);
		tr_shutdown();
		return 1;
	}
	/* Started by troupe as an exec'd child: run it and end. */
	if ((rv = tr_exec_main()) >= 0)
		return rv;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--quick") == 0) {
			cfg.n[TR_PLACE_THREAD] = 20;
			cfg.n[TR_PLACE_FORK] = 10;
			cfg.n[TR_PLACE_EXEC] = 5;
			cfg.budget_s = 1;
		} else if (strcmp(a, "--thread") == 0) {
			if (bench_parse_count(v, &cfg.n[TR_PLACE_THREAD]) != 0)
				goto bad;
			i++;
		} else if (strcmp(a, "--fork") == 0) {
			if (bench_parse_count(v, &cfg.n[TR_PLACE_FORK]) != 0)
				goto bad;
			i++;
		} else if (strcmp(a, "--exec") == 0) {
			if (bench_parse_count(v, &cfg.n[TR_PLACE_EXEC]) != 0)
				goto bad;
			i++;
		} else if (strcmp(a, "--budget") == 0) {
			if (bench_parse_seconds(v, &cfg.budget_s) != 0)
				goto bad;
			i++;
		} else if (strcmp(a, "--only") == 0 && v != NULL) {
			want[TR_PLACE_THREAD] = strcmp(v, "thread") == 0;
			want[TR_PLACE_FORK] = strcmp(v, "fork") == 0;
			want[TR_PLACE_EXEC] = strcmp(v, "exec") == 0;
			if (!want[1] && !want[2] && !want[3])
				goto bad;
			i++;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			tr_shutdown();
			return 0;
		} else {
			goto bad;
		}
	}

	if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0) {
		bench_fail("readlink /proc/self/exe failed");
		goto done;
	}
	exe[len] = '\0';
	cfg.self_exe = exe;
	cfg.pinned = bench_is_pinned();
	fprintf(stderr,
	    "bench: pinned=%s restarts=%llu/%llu/%llu budget=%.0fs\n",
	    cfg.pinned ? "true" : "false",
	    (unsigned long long)cfg.n[TR_PLACE_THREAD],
	    (unsigned long long)cfg.n[TR_PLACE_FORK],
	    (unsigned long long)cfg.n[TR_PLACE_EXEC], cfg.budget_s);

	for (tr_placement p = TR_PLACE_THREAD; p <= TR_PLACE_EXEC; p++) {
		if (!want[p])
			continue;
		restart_figure(&cfg, p, false);
		restart_figure(&cfg, p, true);
		expected += 2;
	}
done:
	if ((rv = tr_shutdown()) != TR_OK)
		bench_fail("tr_shutdown: %s (%d)", tr_strerror(rv), rv);
	if (!bench_failed() && bench_figures_printed() != expected)
		bench_fail("%u figures printed, %u expected",
		    bench_figures_printed(), expected);
	if (bench_failed()) {
		fprintf(stderr, "bench: some figures failed\n");
		return 1;
	}
	return 0;
bad:
	usage(stderr);
	tr_shutdown();
	return 2;
}

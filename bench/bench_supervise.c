/*
 * bench_supervise.c -- a supervisor of many children: how long a
 * simple_one_for_one takes to start N children (one tr_sup_start_child
 * each) and to stop them all, and what a supervised child costs in
 * resident memory (the child, its entry in the supervisor, the link and
 * the monitor).
 *
 * The children are scheduled actors.  The supervisor is a scheduled
 * actor started by a scheduled actor (everything on the schedulers, no
 * thread crossed per child), then, at fewer children (--main-n), each
 * supervisor placement called from the main context (a call across
 * threads per child).  One JSON line per figure:
 *
 *   {"bench":"supervise","supervisor":"scheduled","from":"actor",
 *    "children":100000,"start_s":..,"start_us_per_child":..,
 *    "stop_s":..,"rss_per_child_bytes":..}
 *
 * usage: bench_supervise [--quick] [--n N] [--main-n M]
 *   defaults N = 10^4 and 10^5 (two lines), M = 10^4; --quick: N = M =
 *   2000, to check that it runs.  Exit status 1 if a figure failed, 2
 *   for a bad command line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <troupe.h>

#define TAG_START 1

static bool failed;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rss_bytes(void)
{
	unsigned long long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL) {
		return 0;
	}
	if (fscanf(f, "%llu %llu", &size, &resident) != 2) {
		resident = 0;
	}
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static int
idle_handle(void *state, tr_msg *msg)
{
	(void)state;
	(void)msg;
	return 0;
}

static int
start_children(tr_ref sup, uint64_t n)
{
	int rv = TR_OK;

	for (uint64_t i = 0; i < n && rv == TR_OK; i++) {
		tr_ref c;
		rv = tr_sup_start_child(sup, NULL, &c, NULL);
	}
	return rv;
}

/* A call [sup, n]: starts n children of sup; answers the error or 0. */
static int
driver_handle(void *state, tr_msg *msg)
{
	msgpack_object o;
	tr_msg *reply;
	tr_ref sup;
	int rv = TR_EINVAL;

	(void)state;
	if (tr_msg_body(msg, &o) == TR_OK && o.type == MSGPACK_OBJECT_ARRAY &&
	    o.via.array.size == 2 &&
	    tr_unpack_ref(&o.via.array.ptr[0], &sup) == TR_OK) {
		rv = start_children(sup, o.via.array.ptr[1].via.u64);
	}
	if (tr_msg_new(&reply, 0) == TR_OK) {
		msgpack_pack_int(tr_msg_packer(reply), rv);
		if (tr_reply(tr_msg_from(msg), reply) != TR_OK) {
			tr_msg_free(reply);
		}
	}
	return 0;
}

static int
start_sup(tr_placement place, tr_ref *sup)
{
	static tr_child_spec tmpl;
	tr_sup_spec s;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.id = "w";
	tmpl.start.behavior = "bs.idle";
	tmpl.start.placement = TR_PLACE_SCHEDULED;
	tmpl.restart = TR_TEMPORARY;
	memset(&s, 0, sizeof(s));
	s.strategy = TR_SIMPLE_ONE_FOR_ONE;
	s.children = &tmpl;
	s.nchildren = 1;
	s.placement = place;
	return tr_sup_start(&s, NULL, false, sup, NULL);
}

/* Stops sup and waits for its DOWN: its children have ended by then. */
static int
stop_sup(tr_ref sup)
{
	tr_mon mon;
	tr_msg *m;
	int rv;

	if ((rv = tr_monitor(sup, &mon)) != TR_OK ||
	    (rv = tr_stop(sup, TR_REASON_SHUTDOWN)) != TR_OK) {
		return rv;
	}
	while ((rv = tr_recv(&m, 120000)) == TR_OK) {
		bool down = tr_msg_tag(m) == TR_TAG_DOWN;
		tr_msg_free(m);
		if (down) {
			break;
		}
	}
	return rv;
}

static void
figure(tr_placement place, bool from_actor, uint64_t n)
{
	const char *where =
	    place == TR_PLACE_SCHEDULED ? "scheduled" : "thread";
	uint64_t rss0, rss1;
	double t0, t1, t2;
	tr_ref sup, drv = TR_REF_NIL;
	int rv;

	if ((rv = start_sup(place, &sup)) != TR_OK) {
		goto fail;
	}
	if (from_actor &&
	    (rv = tr_spawn(&(tr_spec){.behavior = "bs.driver",
	                       .placement = TR_PLACE_SCHEDULED},
	         &drv, NULL)) != TR_OK) {
		goto fail;
	}
	rss0 = rss_bytes();
	t0 = now_s();
	if (from_actor) {
		tr_msg *req, *rep;
		msgpack_object o;
		if ((rv = tr_msg_new(&req, TAG_START)) != TR_OK) {
			goto fail;
		}
		msgpack_pack_array(tr_msg_packer(req), 2);
		tr_pack_ref(tr_msg_packer(req), sup);
		msgpack_pack_uint64(tr_msg_packer(req), n);
		if ((rv = tr_call(drv, req, TR_FOREVER, &rep, NULL)) != TR_OK) {
			tr_msg_free(req);
			goto fail;
		}
		rv = tr_msg_body(rep, &o) == TR_OK ? (int)o.via.i64 : TR_EPROTO;
		tr_msg_free(rep);
	} else {
		rv = start_children(sup, n);
	}
	if (rv != TR_OK) {
		goto fail;
	}
	t1 = now_s();
	rss1 = rss_bytes();
	if ((rv = stop_sup(sup)) != TR_OK) {
		goto fail;
	}
	t2 = now_s();
	if (!tr_ref_is_nil(drv)) {
		(void)tr_stop(drv, TR_REASON_SHUTDOWN);
	}
	/* Memory freed by an earlier figure is used again: the growth of
	 * the resident set means something only for the first figures,
	 * each larger than the one before (those from an actor). */
	printf("{\"bench\":\"supervise\",\"supervisor\":\"%s\","
	       "\"from\":\"%s\",\"children\":%llu,\"start_s\":%.3f,"
	       "\"start_us_per_child\":%.2f,\"stop_s\":%.3f",
	    where, from_actor ? "actor" : "main", (unsigned long long)n,
	    t1 - t0, (t1 - t0) * 1e6 / (double)n, t2 - t1);
	if (from_actor) {
		printf(",\"rss_per_child_bytes\":%.0f",
		    rss1 > rss0 ? (double)(rss1 - rss0) / (double)n : 0.0);
	}
	printf("}\n");
	fflush(stdout);
	return;
fail:
	printf("{\"bench\":\"supervise\",\"supervisor\":\"%s\",\"from\":\"%s\","
	       "\"children\":%llu,\"error\":\"%s\"}\n",
	    where, from_actor ? "actor" : "main", (unsigned long long)n,
	    tr_strerror(rv));
	fflush(stdout);
	failed = true;
}

static bool
count_arg(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v == 0 || v > 10000000ull) {
		return false;
	}
	*out = v;
	return true;
}

int
main(int argc, char **argv)
{
	static const tr_behavior idle = {
	    .name = "bs.idle", .handle = idle_handle};
	static const tr_behavior driver = {
	    .name = "bs.driver", .handle = driver_handle};
	uint64_t ns[2] = {10000, 100000}, main_n = 10000;
	size_t nn = 2;
	int rv;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			ns[0] = main_n = 2000;
			nn = 1;
		} else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc &&
		    count_arg(argv[i + 1], &ns[0])) {
			nn = 1;
			i++;
		} else if (strcmp(argv[i], "--main-n") == 0 && i + 1 < argc &&
		    count_arg(argv[i + 1], &main_n)) {
			i++;
		} else {
			fprintf(stderr,
			    "usage: bench_supervise [--quick] [--n N] "
			    "[--main-n M]\n");
			return 2;
		}
	}
	(void)tr_behavior_register(&idle);
	(void)tr_behavior_register(&driver);
	if ((rv = tr_init(NULL)) != TR_OK) {
		fprintf(
		    stderr, "bench_supervise: tr_init: %s\n", tr_strerror(rv));
		return 1;
	}
	for (size_t i = 0; i < nn; i++) {
		figure(TR_PLACE_SCHEDULED, true, ns[i]);
	}
	figure(TR_PLACE_SCHEDULED, false, main_n);
	figure(TR_PLACE_THREAD, false, main_n);
	tr_shutdown();
	return failed ? 1 : 0;
}

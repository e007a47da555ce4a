/*
 * million -- a million actors in one process: spawn them, pass messages
 * through all of them, and print what it cost in time and memory.
 *
 *   million [--actors N] [--rounds R] [--placement scheduled|thread]
 *           [--schedulers S] [--json]
 *
 * The main thread
 *  1. spawns N "relay" actors (default 1000000) with tr_spawn_many(),
 *     and reads the process's resident memory before and after;
 *  2. wires them into a ring: it tells every relay who comes next (the
 *     last one's next is the main thread), and every relay answers
 *     "ready" -- a broadcast and a gather, 2N messages across threads;
 *  3. sends a token around the ring R times (default 10): each relay
 *     adds one to the token's hop count and passes it on, so that one
 *     message is in flight at a time and the time per hop is the cost
 *     of one send and one receive (and the main thread checks that the
 *     token came back having visited all N);
 *  4. shuts the runtime down, which stops every actor.
 *
 * --placement thread runs the same program with one OS thread per actor
 * (TR_PLACE_THREAD), spawned one at a time.  That placement stops near
 * 4,000 actors at the usual limit of open files (each thread actor has
 * its own loop and sockets); the program then says how far it got and
 * why, goes on with the actors it has, and exits with status 1.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <troupe.h>

enum {
	TAG_NEXT = 1, /* main -> relay: [next ref] */
	TAG_READY,    /* relay -> main: [] */
	TAG_TOKEN     /* relay -> next: [hops so far] */
};

/* Longest the main thread waits for any one message: a safety net (a
 * relay that died leaves the ring broken), not a timing. */
#define WAIT_MS 120000
/* Messages of the wiring in flight at once: below the main thread's
 * mailbox capacity (1024 by default), so that no relay ever waits for
 * room in it. */
#define WINDOW 512

/* ------------------------------------------------------------------ */
/* The actor                                                           */

typedef struct relay {
	tr_ref main; /* who hears "ready" */
	tr_ref next; /* who gets the token after this one */
} relay;

static int
relay_init(void *state, tr_msg *arg)
{
	relay *r = state;

	return tr_msg_unpackf(arg, "r", &r->main);
}

static int
relay_handle(void *state, tr_msg *msg)
{
	relay *r = state;
	uint64_t hops;
	int rv;

	switch (tr_msg_tag(msg)) {
	case TAG_NEXT:
		if ((rv = tr_msg_unpackf(msg, "r", &r->next)) != TR_OK) {
			return rv;
		}
		return tr_sendf(r->main, TAG_READY, "");
	case TAG_TOKEN:
		if ((rv = tr_msg_unpackf(msg, "Q", &hops)) != TR_OK) {
			return rv;
		}
		return tr_sendf(r->next, TAG_TOKEN, "Q", hops + 1);
	default:
		return TR_EPROTO; /* ends this relay: error(9) */
	}
}

/* ------------------------------------------------------------------ */
/* Measuring                                                           */

typedef struct figures {
	const char *placement;
	uint32_t schedulers; /* 0 for threads */
	uint64_t actors, started, rounds;
	double spawn_s;
	uint64_t rss_before, rss_spawned, rss_peak;
	uint64_t wire_msgs;
	double wire_s;
	uint64_t hops;
	double ring_s;
	double shutdown_s;
	char spawn_error[160]; /* why fewer than asked started, or "" */
	char error[160];       /* what failed after the spawn, or "" */
} figures;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident bytes of this process now; 0 if unknown. */
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

/* The most this process has had resident (VmHWM); 0 if unknown. */
static uint64_t
rss_peak_bytes(void)
{
	char line[128];
	unsigned long long kib = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL) {
		return 0;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmHWM: %llu kB", &kib) == 1) {
			break;
		}
	}
	fclose(f);
	return (uint64_t)kib * 1024u;
}

/* ------------------------------------------------------------------ */
/* The program's steps                                                 */

/* Spawns up to n relays into refs; returns how many started, with the
 * reason it stopped short in f->spawn_error. */
static uint64_t
spawn_relays(tr_placement place, uint64_t n, tr_ref *refs, figures *f)
{
	tr_spec spec = {.behavior = "relay", .placement = place};
	tr_reason why = TR_REASON_NORMAL;
	uint64_t i = 0;
	tr_msg *arg;
	int rv;

	if ((rv = tr_msg_newf(&arg, 0, "r", tr_self())) != TR_OK) {
		snprintf(f->spawn_error, sizeof(f->spawn_error),
		    "tr_msg_newf: %s", tr_strerror(rv));
		return 0;
	}
	spec.init_arg = arg;
	if (place == TR_PLACE_SCHEDULED) {
		/* One batch and one wait: all or nothing. */
		rv = tr_spawn_many(&spec, (uint32_t)n, refs, &why);
		i = rv == TR_OK ? n : 0;
	} else {
		/* One at a time, to see how far threads go (tr_spawn_many
		 * would start them one at a time as well, and undo them
		 * all at the first that fails). */
		for (rv = TR_OK; i < n; i++) {
			if ((rv = tr_spawn(&spec, &refs[i], &why)) != TR_OK) {
				break;
			}
		}
	}
	tr_msg_free(arg);
	if (rv != TR_OK) {
		struct rlimit rl;
		char lim[48] = "";
		if (rv == TR_ERESOURCE && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
			snprintf(lim, sizeof(lim), " (open files limit %llu)",
			    (unsigned long long)rl.rlim_cur);
		}
		snprintf(f->spawn_error, sizeof(f->spawn_error),
		    "spawn stopped at %llu of %llu actors: %s%s",
		    (unsigned long long)i, (unsigned long long)n,
		    tr_strerror(rv), lim);
	}
	return i;
}

/* Waits for the next message, which must carry tag; its body is read
 * with the picture "Q" into *hops for a token, and must be empty for
 * anything else. */
static int
await(uint32_t tag, uint64_t *hops)
{
	uint32_t got = 0;
	int rv;

	rv = tag == TAG_TOKEN ? tr_recvf(NULL, &got, WAIT_MS, "Q", hops) :
	                        tr_recvf(NULL, &got, WAIT_MS, "");
	if (rv == TR_OK && got != tag) {
		rv = TR_EPROTO;
	}
	return rv;
}

/* Tells each of the n relays its next and gathers their "ready"s, at
 * most WINDOW outstanding. */
static int
wire(const tr_ref *refs, uint64_t n)
{
	uint64_t sent = 0, ready = 0;
	int rv;

	while (ready < n) {
		if (sent < n && sent - ready < WINDOW) {
			tr_ref next = sent + 1 < n ? refs[sent + 1] : tr_self();
			if ((rv = tr_sendf(refs[sent], TAG_NEXT, "r", next)) !=
			    TR_OK) {
				return rv;
			}
			sent++;
			continue;
		}
		if ((rv = await(TAG_READY, NULL)) != TR_OK) {
			return rv;
		}
		ready++;
	}
	return TR_OK;
}

/* Sends the token around the ring of n relays, rounds times. */
static int
ring(const tr_ref *refs, uint64_t n, uint64_t rounds, char *err, size_t len)
{
	for (uint64_t r = 0; r < rounds; r++) {
		uint64_t hops = 0;
		int rv;
		if ((rv = tr_sendf(refs[0], TAG_TOKEN, "Q", (uint64_t)0)) !=
		        TR_OK ||
		    (rv = await(TAG_TOKEN, &hops)) != TR_OK) {
			return rv;
		}
		if (hops != n) {
			snprintf(err, len,
			    "the token came back after %llu hops, not %llu",
			    (unsigned long long)hops, (unsigned long long)n);
			return TR_EPROTO;
		}
	}
	return TR_OK;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

static void
print_text(const figures *f)
{
	const double mib = 1024.0 * 1024.0;
	uint64_t k = f->started;

	if (f->schedulers > 0) {
		printf("million: %llu actors, scheduled on %u threads\n",
		    (unsigned long long)f->actors, f->schedulers);
	} else {
		printf("million: %llu actors, one thread each\n",
		    (unsigned long long)f->actors);
	}
	if (k < f->actors) {
		printf("million: %s\n", f->spawn_error);
		if (k == 0) {
			return;
		}
		printf("million: going on with the %llu that started\n",
		    (unsigned long long)k);
	}
	printf("spawn:    %llu actors in %.1f ms, %.2f us each\n",
	    (unsigned long long)k, f->spawn_s * 1e3,
	    f->spawn_s * 1e6 / (double)k);
	printf("memory:   %.1f MiB resident for them, %.0f bytes each\n",
	    (double)(f->rss_spawned - f->rss_before) / mib,
	    (double)(f->rss_spawned - f->rss_before) / (double)k);
	if (f->wire_msgs > 0) {
		printf("wire:     %llu messages (each told its next, each "
		       "answered) in %.1f ms, %.0f msgs/s\n",
		    (unsigned long long)f->wire_msgs, f->wire_s * 1e3,
		    (double)f->wire_msgs / f->wire_s);
	}
	if (f->hops > 0) {
		printf("ring:     a token %llu times around: %llu hops in %.1f "
		       "ms, %.0f ns per hop, %.0f hops/s\n",
		    (unsigned long long)f->rounds, (unsigned long long)f->hops,
		    f->ring_s * 1e3, f->ring_s * 1e9 / (double)f->hops,
		    (double)f->hops / f->ring_s);
	}
	printf("memory:   %.1f MiB resident at the most\n",
	    (double)f->rss_peak / mib);
	printf("shutdown: %.1f ms\n", f->shutdown_s * 1e3);
	if (f->error[0] != '\0') {
		printf("million: %s\n", f->error);
	}
}

static void
print_json(const figures *f)
{
	uint64_t k = f->started > 0 ? f->started : 1;

	printf("{\"example\":\"million\",\"placement\":\"%s\","
	       "\"schedulers\":%u,\"actors\":%llu,\"started\":%llu,"
	       "\"rounds\":%llu,\"spawn_s\":%.4f,\"spawn_us\":%.3f,"
	       "\"rss_before_bytes\":%llu,\"rss_spawned_bytes\":%llu,"
	       "\"rss_per_actor_bytes\":%.0f,\"rss_peak_bytes\":%llu,"
	       "\"wire_msgs\":%llu,\"wire_s\":%.4f,\"wire_msgs_per_s\":%.0f,"
	       "\"hops\":%llu,\"ring_s\":%.4f,\"hop_ns\":%.1f,"
	       "\"hops_per_s\":%.0f,\"shutdown_s\":%.4f",
	    f->placement, f->schedulers, (unsigned long long)f->actors,
	    (unsigned long long)f->started, (unsigned long long)f->rounds,
	    f->spawn_s, f->spawn_s * 1e6 / (double)k,
	    (unsigned long long)f->rss_before,
	    (unsigned long long)f->rss_spawned,
	    (double)(f->rss_spawned - f->rss_before) / (double)k,
	    (unsigned long long)f->rss_peak, (unsigned long long)f->wire_msgs,
	    f->wire_s, f->wire_s > 0 ? (double)f->wire_msgs / f->wire_s : 0.0,
	    (unsigned long long)f->hops, f->ring_s,
	    f->hops > 0 ? f->ring_s * 1e9 / (double)f->hops : 0.0,
	    f->ring_s > 0 ? (double)f->hops / f->ring_s : 0.0, f->shutdown_s);
	/* Neither text holds a quote or a backslash. */
	if (f->spawn_error[0] != '\0') {
		printf(",\"spawn_error\":\"%s\"", f->spawn_error);
	}
	if (f->error[0] != '\0') {
		printf(",\"error\":\"%s\"", f->error);
	}
	printf("}\n");
}

/* ------------------------------------------------------------------ */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: million [--actors N] [--rounds R] "
	    "[--placement scheduled|thread] [--schedulers S] [--json]\n"
	    "  N  actors in the ring (default 1000000)\n"
	    "  R  times the token goes around (default 10)\n"
	    "  S  scheduler threads (default: one per core)\n");
	exit(2);
}

static uint64_t
number(const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	if (s == NULL || s[0] < '0' || s[0] > '9') {
		usage();
	}
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v < min || v > max) {
		usage();
	}
	return v;
}

int
main(int argc, char **argv)
{
	static const tr_behavior relay_b = {.name = "relay",
	    .state_size = sizeof(relay),
	    .init = relay_init,
	    .handle = relay_handle};
	tr_options opts = {.schedulers = 0};
	tr_placement place = TR_PLACE_SCHEDULED;
	figures f = {.placement = "scheduled", .actors = 1000000, .rounds = 10};
	bool json = false;
	tr_ref *refs;
	double t;
	int rv;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
			continue;
		}
		if (strcmp(argv[i], "--actors") == 0) {
			f.actors = number(v, 1, UINT32_MAX);
		} else if (strcmp(argv[i], "--rounds") == 0) {
			f.rounds = number(v, 0, UINT32_MAX);
		} else if (strcmp(argv[i], "--schedulers") == 0) {
			opts.schedulers = (uint32_t)number(v, 1, 64);
		} else if (strcmp(argv[i], "--placement") == 0 && v != NULL &&
		    strcmp(v, "scheduled") == 0) {
			place = TR_PLACE_SCHEDULED;
		} else if (strcmp(argv[i], "--placement") == 0 && v != NULL &&
		    strcmp(v, "thread") == 0) {
			place = TR_PLACE_THREAD;
		} else {
			usage();
		}
		i++;
	}
	if (place == TR_PLACE_THREAD) {
		f.placement = "thread";
	} else {
		/* Chosen here, so that what is printed is what runs. */
		if (opts.schedulers == 0) {
			opts.schedulers = tr_cores();
		}
		f.schedulers = opts.schedulers;
	}
	if ((rv = tr_init(&opts)) != TR_OK ||
	    (rv = tr_behavior_register(&relay_b)) != TR_OK) {
		fprintf(stderr, "million: tr_init: %s\n", tr_strerror(rv));
		return 1;
	}
	if ((refs = calloc(f.actors, sizeof(*refs))) == NULL) {
		fprintf(stderr, "million: out of memory\n");
		(void)tr_shutdown();
		return 1;
	}

	/* 1. Spawn. */
	f.rss_before = rss_bytes();
	t = now_s();
	f.started = spawn_relays(place, f.actors, refs, &f);
	f.spawn_s = now_s() - t;
	f.rss_spawned = rss_bytes();

	/* 2. Wire the ring; 3. send the token around. */
	rv = TR_OK;
	if (f.started > 0) {
		t = now_s();
		if ((rv = wire(refs, f.started)) == TR_OK) {
			f.wire_s = now_s() - t;
			f.wire_msgs = 2 * f.started;
		} else {
			snprintf(f.error, sizeof(f.error), "wiring: %s",
			    tr_strerror(rv));
		}
	}
	if (f.started > 0 && rv == TR_OK) {
		char err[96] = "";
		t = now_s();
		if ((rv = ring(refs, f.started, f.rounds, err, sizeof(err))) ==
		    TR_OK) {
			f.ring_s = now_s() - t;
			f.hops = f.rounds * (f.started + 1);
		} else {
			snprintf(f.error, sizeof(f.error), "ring: %s",
			    err[0] != '\0' ? err : tr_strerror(rv));
		}
	}
	f.rss_peak = rss_peak_bytes();

	/* 4. Stop them all. */
	t = now_s();
	if ((rv = tr_shutdown()) != TR_OK && f.error[0] == '\0') {
		snprintf(f.error, sizeof(f.error), "tr_shutdown: %s",
		    tr_strerror(rv));
	}
	f.shutdown_s = now_s() - t;
	free(refs);

	if (json) {
		print_json(&f);
	} else {
		print_text(&f);
	}
	return f.spawn_error[0] == '\0' && f.error[0] == '\0' ? 0 : 1;
}

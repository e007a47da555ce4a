/*
 * demo -- the main job: a supervision tree from a YAML file that mixes
 * the three placements, does visible work, and survives crashes.
 *
 *   demo examples/demo/demo.yaml
 *
 * The tree (demo.yaml): a `clock` thread actor asks a set of `primes`
 * workers -- forked members, one per core (primes.1 .. primes.n), and an
 * exec'd program, this same binary (primes-exec) -- to count primes, in
 * turn, and prints each answer with the worker's pid; every few ticks it
 * tells one worker to crash, and the supervisor's log shows the restart.
 * Each worker is registered under its id in the tree: the clock and the
 * supervisor's log call a worker by the same name.  Beside them, the
 * cluster example's HTTP server (examples/cluster) runs as forked
 * members, one per core, on the tree's one socket: each tick the clock
 * GETs a page from it, and now and then kills a member with SIGKILL --
 * the next GET is answered all the same.  A wrapped shell command prints
 * the load average.  After `ticks` ticks the clock ends, normally: it is
 * the tree's significant child (auto_shutdown), so the tree stops,
 * newest first, and the program exits 0.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include <troupe.h>

#include "http_worker.h"

enum {
	COUNT = 1,
	CRASH = 2
};

/* ------------------------------------------------------------------ */
/* primes: counts primes below n (named by the tree: primes.<k> for the
 * fork members, primes-exec for the exec'd one)                       */

static uint64_t
count_primes(uint64_t n)
{
	uint64_t count = 0;

	for (uint64_t i = 2; i < n; i++) {
		bool prime = true;
		for (uint64_t d = 2; d * d <= i; d++) {
			if (i % d == 0) {
				prime = false;
				break;
			}
		}
		count += prime;
	}
	return count;
}

static int
primes_handle(void *state, tr_msg *msg)
{
	msgpack_object o;
	tr_msg *r;

	(void)state;
	if (tr_msg_tag(msg) == CRASH) {
		return 99; /* ends with error(99): watch the supervisor */
	}
	if (tr_msg_tag(msg) != COUNT || !tr_msg_is_call(msg) ||
	    tr_msg_body(msg, &o) != TR_OK) {
		return 0;
	}
	if (tr_msg_new(&r, COUNT) != TR_OK) {
		return TR_ENOMEM;
	}
	msgpack_pack_array(tr_msg_packer(r), 2);
	msgpack_pack_uint64(tr_msg_packer(r), count_primes(o.via.u64));
	msgpack_pack_int(tr_msg_packer(r), (int)getpid());
	return tr_reply(tr_msg_from(msg), r);
}

/* ------------------------------------------------------------------ */
/* clock: a timer on its own loop; asks the workers in turn             */

typedef struct clock_state {
	uv_timer_t timer;
	uint64_t every_ms, ticks, tick, n, crash_every;
	int next;
	int http_port; /* the tree's socket "http"; 0 if it has none */
} clock_state;

/* GET / from the HTTP members over loopback; the body's first line into
 * out.  Blocking, with a 2 s limit: a few hundred microseconds when the
 * members are up.  A demo's shortcut -- a real actor would put the
 * socket on tr_loop() instead of blocking its loop. */
static int
http_get(int port, char *out, size_t len)
{
	static const char req[] =
	    "GET / HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n";
	struct sockaddr_in sa = {.sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval tv = {.tv_sec = 2};
	char buf[1024];
	size_t got = 0;
	ssize_t n;
	char *body, *eol;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		close(fd);
		return -1;
	}
	while (got < sizeof(buf) - 1 &&
	    (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	if (strncmp(buf, "HTTP/1.1 200", 12) != 0 ||
	    (body = strstr(buf, "\r\n\r\n")) == NULL) {
		return -1;
	}
	body += 4;
	if ((eol = strchr(body, '\n')) != NULL) {
		*eol = '\0';
	}
	snprintf(out, len, "%s", body);
	return 0;
}

/* Every tick: a page from the HTTP members; at each crash_every-th tick
 * (shifted by half, so as not to crash two things at once), SIGKILL to
 * one of them first -- its supervisor replaces it, and the GET is
 * answered by another meanwhile. */
static void
visit_http(clock_state *s)
{
	char text[128], name[32];
	tr_ref m;

	if (s->http_port == 0) {
		return;
	}
	if (s->crash_every != 0 &&
	    (s->tick + s->crash_every / 2) % s->crash_every == 0) {
		snprintf(name, sizeof(name), "http.%d",
		    (int)(s->tick / s->crash_every) % (int)tr_cores() + 1);
		if (tr_whereis(name, &m) == TR_OK) {
			printf("clock: tick %llu: killing %s (SIGKILL)\n",
			    (unsigned long long)s->tick, name);
			(void)tr_kill(m);
		}
	}
	if (http_get(s->http_port, text, sizeof(text)) == 0) {
		printf("clock: tick %2llu: GET http://127.0.0.1:%d/ -> %s\n",
		    (unsigned long long)s->tick, s->http_port, text);
	} else {
		printf("clock: tick %2llu: GET http://127.0.0.1:%d/ failed\n",
		    (unsigned long long)s->tick, s->http_port);
	}
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
on_tick(uv_timer_t *t)
{
	clock_state *s = t->data;
	char name[32];
	tr_ref w;
	tr_msg *m, *r;
	msgpack_object o;
	uint64_t t0;
	int rv;

	if (++s->tick > s->ticks) {
		printf("clock: %llu ticks done: ending, and the tree with me\n",
		    (unsigned long long)s->ticks);
		fflush(stdout);
		uv_timer_stop(t);
		/* Normal: a transient child is not restarted, and as the
		 * tree's significant child its end stops the tree. */
		tr_stop(tr_self(), TR_REASON_NORMAL);
		return;
	}
	visit_http(s);
	/* The next worker that is there (one may be restarting): the fork
	 * members primes.1 .. primes.8 (as many as there are cores), then
	 * the exec'd one. */
	for (int tries = 0; tries < 18; tries++) {
		int k = s->next++ % 9;
		if (k < 8) {
			snprintf(name, sizeof(name), "primes.%d", k + 1);
		} else {
			snprintf(name, sizeof(name), "primes-exec");
		}
		if (tr_whereis(name, &w) == TR_OK) {
			break;
		}
		w = TR_REF_NIL;
	}
	if (tr_ref_is_nil(w)) {
		printf("clock: no worker to ask\n");
		return;
	}
	if (s->crash_every != 0 && s->tick % s->crash_every == 0) {
		printf("clock: tick %llu: telling %s to crash\n",
		    (unsigned long long)s->tick, name);
		fflush(stdout);
		if (tr_msg_new(&m, CRASH) == TR_OK && tr_send(w, m) != TR_OK) {
			tr_msg_free(m);
		}
		return;
	}
	if (tr_msg_new(&m, COUNT) != TR_OK) {
		return;
	}
	msgpack_pack_uint64(tr_msg_packer(m), s->n);
	t0 = now_ms();
	if ((rv = tr_call(w, m, 5000, &r, NULL)) != TR_OK) {
		printf("clock: %s did not answer: %s\n", name, tr_strerror(rv));
		return;
	}
	if (tr_msg_body(r, &o) == TR_OK && o.type == MSGPACK_OBJECT_ARRAY) {
		tr_actor_info info;
		const char *where = "?";
		if (tr_actor_info_get(w, &info) == TR_OK) {
			where = info.placement == TR_PLACE_FORK ?
			    "fork member" :
			    info.placement == TR_PLACE_EXEC ? "exec'd program" :
			                                      "thread";
		}
		printf(
		    "clock: tick %2llu: %s (%s, pid %lld): %llu primes below "
		    "%llu, %llu ms\n",
		    (unsigned long long)s->tick, name, where,
		    (long long)o.via.array.ptr[1].via.i64,
		    (unsigned long long)o.via.array.ptr[0].via.u64,
		    (unsigned long long)s->n,
		    (unsigned long long)(now_ms() - t0));
		fflush(stdout);
	}
	tr_msg_free(r);
}

static uint64_t
get(const msgpack_object *map, const char *key, uint64_t dflt)
{
	if (map->type != MSGPACK_OBJECT_MAP) {
		return dflt;
	}
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		const msgpack_object *v = &map->via.map.ptr[i].val;
		if (k->type == MSGPACK_OBJECT_STR &&
		    k->via.str.size == strlen(key) &&
		    memcmp(k->via.str.ptr, key, k->via.str.size) == 0 &&
		    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			return v->via.u64;
		}
	}
	return dflt;
}

static int
clock_init(void *state, tr_msg *arg)
{
	clock_state *s = state;
	msgpack_object o = {.type = MSGPACK_OBJECT_NIL};

	if (arg != NULL) {
		tr_msg_body(arg, &o);
	}
	s->every_ms = get(&o, "every_ms", 500);
	s->ticks = get(&o, "ticks", 20);
	s->n = get(&o, "below", 200000);
	s->crash_every = get(&o, "crash_every", 7);
	{
		/* The tree's HTTP socket, if the file has one: its port. */
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		int fd;
		if (tr_tree_socket("http", &fd) == TR_OK &&
		    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0) {
			s->http_port = ntohs(sa.sin_port);
		}
	}
	uv_timer_init((uv_loop_t *)tr_loop(), &s->timer);
	s->timer.data = s;
	uv_timer_start(&s->timer, on_tick, s->every_ms, s->every_ms);
	return 0;
}

static int
clock_handle(void *state, tr_msg *msg)
{
	(void)state;
	(void)msg;
	return 0;
}

static void
clock_terminate(void *state, tr_reason why)
{
	clock_state *s = state;

	(void)why;
	uv_close((uv_handle_t *)&s->timer, NULL);
}

int
main(int argc, char **argv)
{
	static const tr_behavior primes = {
	    .name = "demo.primes", .handle = primes_handle};
	static const tr_behavior clock = {.name = "demo.clock",
	    .state_size = sizeof(clock_state),
	    .init = clock_init,
	    .handle = clock_handle,
	    .terminate = clock_terminate};

	setvbuf(stdout, NULL, _IOLBF, 0);
	tr_behavior_register(&primes);
	tr_behavior_register(&clock);
	cluster_http_register(); /* examples/cluster's HTTP server */
	return tr_tree_main(argc > 1 ? argv[1] : "examples/demo/demo.yaml");
}

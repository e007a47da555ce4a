/*
 * test_inbox.c -- mailboxes on the wire (transport/socket.c) and the
 * listener watch (transport/watch.c): an inbox, and a tree's control
 * socket, keep taking connections after peers that connected and
 * vanished at once, or sent garbage.
 *
 * nng 1.5.2 stops accepting on an ipc listener for good when a peer
 * closes its connection before nng has sent it the protocol header (a
 * process killed while it dials; here, a bare connect() and close()),
 * while its transport still completes later connections.  A check
 * (tri_inbox_check, or the watch) finds such a listener and listens
 * again; a dialer sees in the accept note whether its connection was
 * taken, and asks for a check if it was not.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "control.h"
#include "frame.h"
#include "socket.h"
#include "watch.h"

/* The watch's futex word, as a process's slot table holds it. */
static _Atomic uint32_t wake;

/* What the inbox's callback saw. */
typedef struct seen {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	int frames;
	uint32_t last_tag;
} seen;

static void
on_buf(void *arg, tri_buf *b)
{
	seen *s = arg;
	size_t off = 0;
	tri_frame f;

	pthread_mutex_lock(&s->mtx);
	while (tri_frame_decode(
	           tri_buf_data(b), tri_buf_len(b), &off, 1024, &f) == TR_OK) {
		s->frames++;
		s->last_tag = f.tag;
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mtx);
	tri_buf_free(b);
}

/* Waits up to 5 s for the inbox to have seen n frames. */
static bool
wait_frames(seen *s, int n)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&s->mtx);
	while (s->frames < n &&
	    pthread_cond_timedwait(&s->cv, &s->mtx, &ts) == 0) {
	}
	ok = s->frames >= n;
	pthread_mutex_unlock(&s->mtx);
	return ok;
}

typedef struct fixture {
	char dir[64];
	char path[128];
	char url[160];
	char local[64];
	seen s;
	tri_accept_note note;
	tri_inbox *ib;
} fixture;

static int
setup(void **state)
{
	static int n;
	fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/troupe-inbox-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/inbox", fx->dir);
	snprintf(fx->url, sizeof(fx->url), "ipc://%s", fx->path);
	snprintf(fx->local, sizeof(fx->local), "inproc://test-inbox-%d-%d",
	    (int)getpid(), n++);
	pthread_mutex_init(&fx->s.mtx, NULL);
	pthread_cond_init(&fx->s.cv, NULL);
	assert_int_equal(tri_watch_start(&wake), TR_OK);
	assert_int_equal(tri_inbox_open(&fx->ib, fx->local, fx->url, &fx->note,
	                     on_buf, &fx->s),
	    TR_OK);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	fixture *fx = *state;

	tri_inbox_close(fx->ib);
	tri_watch_stop();
	pthread_cond_destroy(&fx->s.cv);
	pthread_mutex_destroy(&fx->s.mtx);
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Sends one frame of tag `tag` through a new port dialed to url. */
static void
send_one(const char *url, uint32_t tag)
{
	tri_frame f = {.kind = TRI_K_USER, .tag = tag};
	tri_port *p;

	assert_int_equal(tri_port_open(&p, url, false), TR_OK);
	assert_int_equal(tri_port_send(p, &f), TR_OK);
	/* Handed to nng before the port goes: nng has no linger. */
	assert_true(tri_port_flush(p, UINT64_MAX));
	tri_port_free(p);
}

/* A peer that connects, writes `garbage` (NULL: nothing) and, unless
 * it stays (then its fd is returned), goes at once: as a process killed
 * while it dials does, or a health check that only connects. */
static int
bare_peer(const char *path, const char *garbage, bool stay)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* Refused for the microseconds a listener is being replaced (the
	 * watch closing an old one): tried again, as any dialer would. */
	for (int tries = 0;
	     connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0; tries++) {
		struct timespec ms = {0, 1000000L};
		assert_true(errno == ENOENT || errno == ECONNREFUSED);
		assert_true(tries < 20);
		nanosleep(&ms, NULL);
	}
	if (garbage != NULL) {
		assert_int_equal(write(fd, garbage, strlen(garbage)),
		    (ssize_t)strlen(garbage));
	}
	if (stay) {
		return fd;
	}
	close(fd);
	return -1;
}

static void
vanishing_peer(const char *path)
{
	(void)bare_peer(path, NULL, false);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
test_check_healthy(void **state)
{
	fixture *fx = *state;
	bool repaired = true;

	send_one(fx->url, 1);
	assert_true(wait_frames(&fx->s, 1));
	/* A working listener is left alone, and still works. */
	assert_int_equal(tri_inbox_check(fx->ib, 500, &repaired), TR_OK);
	assert_false(repaired);
	send_one(fx->url, 2);
	assert_true(wait_frames(&fx->s, 2));
	assert_int_equal(fx->s.last_tag, 2);
}

static void
test_vanishing_peers(void **state)
{
	fixture *fx = *state;
	bool repaired = false;
	tri_port *early;

	/* A sender connected before the fault goes on working after the
	 * repair: the old listener's pipes are kept. */
	assert_int_equal(tri_port_open(&early, fx->url, false), TR_OK);
	{
		tri_frame f = {.kind = TRI_K_USER, .tag = 6};
		assert_int_equal(tri_port_send(early, &f), TR_OK);
		assert_true(wait_frames(&fx->s, 1)); /* it is in use */
	}
	for (int i = 0; i < 5; i++) {
		vanishing_peer(fx->path);
	}
	assert_int_equal(tri_inbox_check(fx->ib, 500, &repaired), TR_OK);
	/* (With nng 1.5.2 the listener was nearly always wedged here.) */
	print_message("listener %s\n",
	    repaired ? "was wedged: repaired" : "kept working");
	/* A new sender gets through... */
	send_one(fx->url, 7);
	assert_true(wait_frames(&fx->s, 2));
	assert_int_equal(fx->s.last_tag, 7);
	/* ...and so does the one from before. */
	{
		tri_frame f = {.kind = TRI_K_USER, .tag = 8};
		assert_int_equal(tri_port_send(early, &f), TR_OK);
		assert_true(wait_frames(&fx->s, 3));
		assert_int_equal(fx->s.last_tag, 8);
	}
	tri_port_free(early);
	/* A second round of the same is repaired as well. */
	for (int i = 0; i < 5; i++) {
		vanishing_peer(fx->path);
	}
	assert_int_equal(tri_inbox_check(fx->ib, 500, &repaired), TR_OK);
	send_one(fx->url, 9);
	assert_true(wait_frames(&fx->s, 4));
	assert_int_equal(fx->s.last_tag, 9);
}

/*
 * What a dialer of another process does (actors/target.c): it sees in
 * the note whether the socket took its connection; if not, it asks the
 * watch for a check, and dials again.  After bare and garbage peers,
 * that gets a frame through well within a second.
 */
static void
test_dialer_asks_for_a_check(void **state)
{
	fixture *fx = *state;
	tri_frame f = {.kind = TRI_K_USER, .tag = 11};
	uint64_t t0;
	uint32_t since;
	tri_port *p;
	bool taken;
	int stays;

	for (int i = 0; i < 10; i++) {
		vanishing_peer(fx->path);
		(void)bare_peer(fx->path, "GARBAGE!", false);
	}
	stays = bare_peer(fx->path, "not an SP header", true);
	t0 = now_ms();
	since = tri_note_seq(&fx->note);
	assert_int_equal(tri_port_open(&p, fx->url, false), TR_OK);
	taken = tri_note_wait_accepted(&fx->note, since, 100);
	print_message("first connection %s\n",
	    taken ? "taken" : "not taken: asking for a check");
	if (!taken) {
		/* Nothing was sent on it: dropped, as target.c does. */
		tri_port_free(p);
		tri_note_request_check(&fx->note, &wake);
		assert_true(tri_note_wait_checked(&fx->note, 2000));
		since = tri_note_seq(&fx->note);
		assert_int_equal(tri_port_open(&p, fx->url, false), TR_OK);
		assert_true(tri_note_wait_accepted(&fx->note, since, 1000));
	}
	assert_int_equal(tri_port_send(p, &f), TR_OK);
	assert_true(wait_frames(&fx->s, 1));
	assert_int_equal(fx->s.last_tag, 11);
	print_message(
	    "through in %llu ms\n", (unsigned long long)(now_ms() - t0));
	assert_true(now_ms() - t0 < 1000);
	tri_port_free(p);
	close(stays);
	/* The check cleared the request. */
	assert_int_equal(atomic_load(&fx->note.check), 0);
}

/* Someone removed the socket's file (nobody can dial it): a check
 * listens again, and new senders get through; one from before too. */
static void
test_socket_file_removed(void **state)
{
	fixture *fx = *state;
	bool repaired = false;
	tri_frame f = {.kind = TRI_K_USER, .tag = 21};
	tri_port *early;

	assert_int_equal(tri_port_open(&early, fx->url, false), TR_OK);
	assert_int_equal(unlink(fx->path), 0);
	assert_int_equal(tri_inbox_check(fx->ib, 500, &repaired), TR_OK);
	assert_true(repaired);
	send_one(fx->url, 22);
	assert_true(wait_frames(&fx->s, 1));
	assert_int_equal(fx->s.last_tag, 22);
	assert_int_equal(tri_port_send(early, &f), TR_OK);
	assert_true(wait_frames(&fx->s, 2));
	assert_int_equal(fx->s.last_tag, 21);
	tri_port_free(early);
}

/* Every allocation of a watched inbox failing in turn: TR_ENOMEM, and
 * nothing left behind (the sanitizer leg checks for leaks). */
static void
test_open_alloc_failures(void **state)
{
	char dir[64], url[160];
	seen s = {.frames = 0};
	tri_inbox *ib = NULL;
	int rv = TR_ENOMEM;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/troupe-inbox-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/inbox", dir);
	pthread_mutex_init(&s.mtx, NULL);
	pthread_cond_init(&s.cv, NULL);
	for (long n = 0; n < 64 && rv == TR_ENOMEM; n++) {
		tri_alloc_fail_after(n);
		rv = tri_inbox_open(
		    &ib, "inproc://test-inbox-oom", url, NULL, on_buf, &s);
		tri_alloc_fail_after(-1);
		assert_true(rv == TR_OK || rv == TR_ENOMEM);
	}
	assert_int_equal(rv, TR_OK);
	send_one(url, 5);
	assert_true(wait_frames(&s, 1));
	tri_inbox_close(ib);
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mtx);
	snprintf(url, sizeof(url), "%s/inbox", dir);
	unlink(url);
	rmdir(dir);
}

/* The control socket's server: echoes each request. */
static void
on_request(void *arg, const uint8_t *req, size_t len)
{
	tri_ctl *c = *(tri_ctl **)arg;
	(void)tri_ctl_reply(c, req, len); /* an echo */
}

/*
 * A tree's control socket has no dialer that could ask for a check (the
 * troupe command, a health check): the watch checks it every period.
 * After bare and garbage peers it answers within a second.
 */
static void
test_control_socket_answers(void **state)
{
	char dir[64], path[128];
	tri_ctl *c = NULL;
	uint8_t *resp = NULL;
	size_t len = 0;
	int stays;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/troupe-ctl-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tree.ctl", dir);
	assert_int_equal(tri_watch_start(&wake), TR_OK);
	assert_int_equal(tri_ctl_listen(&c, path, on_request, &c), TR_OK);
	assert_int_equal(
	    tri_ctl_request(path, (const uint8_t *)"a", 1, 2000, &resp, &len),
	    TR_OK);
	free(resp);
	for (int round = 0; round < 3; round++) {
		uint64_t t0, plain, took;
		int rv;
		/* A plain request first: the machine's pace, for the bound. */
		t0 = now_ms();
		assert_int_equal(tri_ctl_request(path, (const uint8_t *)"p", 1,
		                     5000, &resp, &len),
		    TR_OK);
		plain = now_ms() - t0;
		free(resp);
		for (int i = 0; i < 10; i++) {
			vanishing_peer(path);
			(void)bare_peer(path, "GARBAGE!", false);
		}
		stays = bare_peer(path, "not an SP header", true);
		t0 = now_ms();
		rv = tri_ctl_request(
		    path, (const uint8_t *)"hello", 5, 5000, &resp, &len);
		took = now_ms() - t0;
		print_message("round %d: answered in %llu ms (%s; %llu ms "
		              "before the connections)\n",
		    round, (unsigned long long)took, tr_strerror(rv),
		    (unsigned long long)plain);
		assert_int_equal(rv, TR_OK);
		assert_int_equal(len, 5);
		assert_memory_equal(resp, "hello", 5);
		free(resp);
		assert_true(took < 1000 + plain);
		close(stays);
	}
	tri_ctl_close(c);
	tri_watch_stop();
	rmdir(dir);
}

static void
test_check_bad_inputs(void **state)
{
	tri_inbox *ib;
	seen s = {.frames = 0};
	bool repaired = true;

	(void)state;
	/* Nothing to check: no inbox, or one with no second listener. */
	assert_int_equal(tri_inbox_check(NULL, 100, &repaired), TR_OK);
	assert_false(repaired);
	pthread_mutex_init(&s.mtx, NULL);
	pthread_cond_init(&s.cv, NULL);
	assert_int_equal(tri_inbox_open(&ib, "inproc://test-inbox-alone", NULL,
	                     NULL, on_buf, &s),
	    TR_OK);
	repaired = true;
	assert_int_equal(tri_inbox_check(ib, 100, &repaired), TR_OK);
	assert_false(repaired);
	tri_inbox_close(ib);
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mtx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_check_healthy, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_vanishing_peers, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_dialer_asks_for_a_check, setup, teardown),
	    cmocka_unit_test(test_control_socket_answers),
	    cmocka_unit_test_setup_teardown(
	        test_socket_file_removed, setup, teardown),
	    cmocka_unit_test(test_open_alloc_failures),
	    cmocka_unit_test(test_check_bad_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

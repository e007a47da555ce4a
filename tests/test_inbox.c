/*
 * test_inbox.c -- mailboxes on the wire (transport/socket.c): an inbox
 * keeps taking connections from other processes after peers that
 * connected and vanished at once.
 *
 * nng 1.5.2 stops accepting on an ipc listener for good when a peer
 * closes its connection before nng has sent it the protocol header (a
 * process killed while it dials; here, a bare connect() and close()).
 * tri_inbox_check() finds such a listener and listens again; the
 * runtime runs it whenever a process of the node ends.
 */
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

#include "frame.h"
#include "socket.h"

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
	assert_int_equal(
	    tri_inbox_open(&fx->ib, fx->local, fx->url, on_buf, &fx->s), TR_OK);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	fixture *fx = *state;

	tri_inbox_close(fx->ib);
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

/* A peer that connects and goes at once, as a process killed while it
 * dials does. */
static void
vanishing_peer(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
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
	assert_int_equal(
	    tri_inbox_open(&ib, "inproc://test-inbox-alone", NULL, on_buf, &s),
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
	    cmocka_unit_test(test_check_bad_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

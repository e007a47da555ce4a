/*
 * test_wedge.c -- an actor keeps taking connections from other
 * processes after bare and garbage connections on its ipc socket.
 *
 * nng 1.5.2 stops an ipc listener for good when a peer goes before the
 * SP header exchange is over (nanomsg/nng#1518): a health check that
 * only connects, a process killed while it dials.  Its transport still
 * completes later connections, so a new process of the node that
 * dialed the actor believed it was connected, and its call timed out
 * (TR_ETIMEDOUT) until some process of the node ended.  Here a newly
 * started member calls the actor right after such connections, round
 * after round, and must get its answer within a second (it sees that
 * its connection was not taken and has the actor's process check and
 * replace the listener: transport/watch.h).
 */
#include <errno.h>
#include <limits.h>
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
#include <troupe.h>

#include "behaviors_msg.h"
#include "internal.h" /* the actor's ipc address */
#include "life_test.h"

/* How soon the call must be answered, and how many times in a row. */
#define ANSWER_MS 1000
#define ROUNDS 4

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects to path, writes garbage (NULL: nothing), and closes unless
 * it stays (then returns the fd). */
static int
peer(const char *path, const char *garbage, bool stay)
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
	if (!stay) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The path of a's ipc socket, where the other processes dial it. */
static void
ipc_path(tr_ref a, char *path, size_t len)
{
	char url[600];

	assert_int_equal(
	    tri_addr_ipc(url, sizeof(url), a, tri_rt.sockdir), TR_OK);
	assert_true(strncmp(url, "ipc://", 6) == 0);
	snprintf(path, len, "%s", url + 6);
}

/*
 * A new member of placement `place` calls a (msg.kit's TM_PROXY: the
 * member calls a and passes the answer on, tagged TM_ECHO, or TM_ERR
 * [rv] if its call failed).  Returns how long the call took.
 */
static int64_t
new_member_calls(tr_placement place, tr_ref a, int n)
{
	tr_spec spec = {.behavior = "msg.kit", .placement = place};
	tr_msg *req, *rep = NULL;
	msgpack_packer *pk;
	msgpack_object o;
	bool sent = false;
	int64_t t0, took;
	tr_ref m;
	int rv;

	if (place == TR_PLACE_EXEC) {
		spec.program = test_exec_host();
	}
	assert_int_equal(tr_spawn(&spec, &m, NULL), TR_OK);
	req = tl_msg(TM_PROXY);
	pk = tr_msg_packer(req);
	msgpack_pack_array(pk, 2);
	assert_int_equal(tr_pack_ref(pk, a), TR_OK);
	msgpack_pack_int(pk, n);
	t0 = now_ms();
	rv = tr_call(m, req, 10000, &rep, &sent);
	took = now_ms() - t0;
	if (!sent) {
		tr_msg_free(req);
	}
	assert_int_equal(rv, TR_OK);
	if (tr_msg_tag(rep) != TM_ECHO) {
		print_message("the member's call failed (tag %#x) after %lld "
		              "ms\n",
		    tr_msg_tag(rep), (long long)took);
	}
	assert_int_equal(tr_msg_tag(rep), TM_ECHO);
	assert_int_equal(tr_msg_body(rep, &o), TR_OK);
	assert_true(o.type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o.via.u64 == (uint64_t)n);
	tr_msg_free(rep);
	assert_int_equal(tr_stop(m, TR_REASON_NORMAL), TR_OK);
	return took;
}

/*
 * A thread actor of this process; bare (and garbage) connections on its
 * socket; then a new member calls it.  The bound is ANSWER_MS, plus the
 * time the same call took just before without those connections: on a
 * loaded machine everything is slower, and the fault made the call
 * wait for ever (here: the member's own 5 s timeout, then TM_ERR).
 */
static void
fresh_member_calls(tr_placement place, bool garbage)
{
	tr_spec kit = {.behavior = "msg.kit", .placement = TR_PLACE_THREAD};
	char path[600];
	tr_ref a;

	assert_int_equal(tr_spawn(&kit, &a, NULL), TR_OK);
	ipc_path(a, path, sizeof(path));
	for (int r = 0; r < ROUNDS; r++) {
		int64_t plain, took;
		int stays = -1;

		plain = new_member_calls(place, a, 2 * r);
		for (int i = 0; i < 20; i++) {
			(void)peer(path, garbage ? "GARBAGE!" : NULL, false);
		}
		if (garbage) {
			stays = peer(path, "not an SP header", true);
		}
		took = new_member_calls(place, a, 2 * r + 1);
		print_message("round %d: the new member's call answered in "
		              "%lld ms (%lld ms without the connections)\n",
		    r, (long long)took, (long long)plain);
		assert_true(took < ANSWER_MS + plain);
		if (stays >= 0) {
			close(stays);
		}
	}
}

static void
test_fork_member_after_bare_connects(void **state)
{
	(void)state;
	fresh_member_calls(TR_PLACE_FORK, false);
}

static void
test_fork_member_after_garbage(void **state)
{
	(void)state;
	fresh_member_calls(TR_PLACE_FORK, true);
}

static void
test_exec_member_after_bare_connects(void **state)
{
	(void)state;
	fresh_member_calls(TR_PLACE_EXEC, false);
}

/*
 * The other way round: the member's mailbox gets the bare connections
 * (its ipc socket is the only way in), and then this process -- which
 * has not dialed it yet -- calls it.
 */
static void
test_member_mailbox_after_bare_connects(void **state)
{
	tr_spec spec = {.behavior = "msg.kit", .placement = TR_PLACE_FORK};
	char path[600];
	tr_msg *rep = NULL;
	int64_t t0, took, plain;
	bool sent = false;
	tr_ref m, m0;

	(void)state;
	/* The same first call to another member, for the machine's pace. */
	assert_int_equal(tr_spawn(&spec, &m0, NULL), TR_OK);
	t0 = now_ms();
	assert_int_equal(
	    tr_call(m0, tl_msg_int(TM_ECHO, 6), 10000, &rep, &sent), TR_OK);
	plain = now_ms() - t0;
	tr_msg_free(rep);
	rep = NULL;
	assert_int_equal(tr_spawn(&spec, &m, NULL), TR_OK);
	ipc_path(m, path, sizeof(path));
	for (int i = 0; i < 20; i++) {
		(void)peer(path, NULL, false);
	}
	t0 = now_ms();
	assert_int_equal(
	    tr_call(m, tl_msg_int(TM_ECHO, 7), 10000, &rep, &sent), TR_OK);
	took = now_ms() - t0;
	print_message("answered in %lld ms (%lld ms without the connections)\n",
	    (long long)took, (long long)plain);
	assert_int_equal(tr_msg_tag(rep), TM_ECHO);
	tr_msg_free(rep);
	/* Without the fix: TR_ETIMEDOUT after 10 s. */
	assert_true(took < ANSWER_MS + plain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TL_TEST(test_fork_member_after_bare_connects),
	    TL_TEST(test_fork_member_after_garbage),
	    TL_TEST(test_exec_member_after_bare_connects),
	    TL_TEST(test_member_mailbox_after_bare_connects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

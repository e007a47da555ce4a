/*
 * test_buffers.c -- shared buffers: the same memory at the receiver, for
 * every placement (the suite runs this file once per placement); the
 * transfer mode's errors; holders that die (a killed fork member or
 * exec'd program included) and what they leave; forged and foreign
 * buffer refs, refused and counted; and a soak of buffers handed to
 * members that are killed with them unread, which must leave nothing.
 *
 * "Freed" is seen where it happens: a buffer is a file buf.<id>.<gen>
 * in the node's run directory, unlinked by its last holder.  Nothing
 * sleeps: the tests wait on replies and DOWN notices, and a DOWN comes
 * after the dead holder's holds were dropped (the root drops them
 * before it announces a death).
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>
#include <troupe.h>

#include "behaviors.h"
#include "behaviors_buf.h"

#define WAIT_MS 10000

static int
setup(void **state)
{
	(void)state;
	test_behaviors_register();
	assert_int_equal(tr_init(NULL), TR_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(tr_shutdown(), TR_OK);
	return 0;
}

/* Backing files of live buffers in this node's run directory. */
static int
files(void)
{
	const char *base = getenv("TROUPE_RUNDIR");
	char dir[512];
	struct dirent *e;
	DIR *d;
	int n = 0;

	assert_non_null(base);
	snprintf(dir, sizeof(dir), "%s/%08x", base, tr_self().node);
	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL) {
		n += strncmp(e->d_name, "buf.", 4) == 0;
	}
	closedir(d);
	return n;
}

static tr_ref
spawn_kit(void)
{
	tr_spec spec;
	tr_ref ref = TR_REF_NIL;

	memset(&spec, 0, sizeof(spec));
	spec.behavior = "buf.kit";
	assert_int_equal(tr_spawn(&spec, &ref, NULL), TR_OK);
	return ref;
}

static tr_buf
new_buf(size_t size)
{
	tr_buf b = TR_BUF_NIL;

	assert_int_equal(tr_buf_new(&b, size), TR_OK);
	return b;
}

static uint8_t *
bytes(tr_buf b)
{
	void *p = NULL;

	assert_int_equal(tr_buf_data(b, &p, NULL), TR_OK);
	return p;
}

/* A message [buf, ints...] (buf packed in mode) or [ints...]. */
static tr_msg *
msg_buf(
    uint32_t tag, const tr_buf *b, tr_buf_mode mode, const int64_t *v, size_t n)
{
	tr_msg *m = NULL;

	assert_int_equal(tr_msg_new(&m, tag), TR_OK);
	msgpack_pack_array(tr_msg_packer(m), (uint32_t)(n + (b != NULL)));
	if (b != NULL) {
		assert_int_equal(
		    tr_pack_buf(tr_msg_packer(m), *b, mode), TR_OK);
	}
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_int64(tr_msg_packer(m), v[i]);
	}
	return m;
}

/* Calls to with req; the reply's array (the reply in *keep). */
static msgpack_object_array
call(tr_ref to, tr_msg *req, tr_msg **keep)
{
	msgpack_object o;

	assert_int_equal(tr_call(to, req, WAIT_MS, keep, NULL), TR_OK);
	assert_int_equal(tr_msg_body(*keep, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_ARRAY);
	return o.via.array;
}

static int64_t
int_at(msgpack_object_array a, size_t i)
{
	int64_t v = 0;

	assert_true(i < a.size);
	assert_true(test_obj_int(&a.ptr[i], &v));
	return v;
}

/* The actor frees a message after its callback returns, so after it
 * has replied: a second call's answer says the first message is gone
 * (and its hold with it).  TB_DROP holds nothing here. */
static void
sync_kit(tr_ref kit)
{
	tr_msg *r = NULL;

	(void)call(kit, msg_buf(TB_DROP, NULL, TR_BUF_SHARE, NULL, 0), &r);
	tr_msg_free(r);
}

/* Waits for who's DOWN (monitored by the caller), freeing whatever
 * else comes first. */
static void
wait_down(tr_ref who)
{
	tr_msg *m = NULL;

	for (;;) {
		assert_int_equal(tr_recv(&m, WAIT_MS), TR_OK);
		if (tr_msg_tag(m) == TR_TAG_DOWN) {
			tr_ref r;
			assert_int_equal(
			    tr_msg_reason(m, &r, NULL, NULL), TR_OK);
			if (tr_ref_equal(r, who)) {
				tr_msg_free(m);
				return;
			}
		}
		tr_msg_free(m);
	}
}

/* Kills who (SIGKILL for a process placement) and waits for its DOWN. */
static void
kill_and_wait(tr_ref who)
{
	tr_mon mon;

	assert_int_equal(tr_monitor(who, &mon), TR_OK);
	assert_int_equal(tr_kill(who), TR_OK);
	wait_down(who);
}

/* ------------------------------------------------------------------ */
/* The API on its own                                                  */

static void
test_bad_arguments(void **state)
{
	tr_buf b = TR_BUF_NIL;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_object o;

	(void)state;
	assert_int_equal(tr_buf_new(NULL, 16), TR_EINVAL);
	assert_int_equal(tr_buf_new(&b, 0), TR_EINVAL);
	assert_int_equal(tr_buf_new(&b, TR_BUF_MAX + 1), TR_EINVAL);
	assert_int_equal(tr_buf_data(TR_BUF_NIL, NULL, NULL), TR_ENOENT);
	assert_int_equal(tr_buf_release(TR_BUF_NIL), TR_ENOENT);
	assert_int_equal(tr_buf_release((tr_buf){0x100000001ull}), TR_ENOENT);

	b = new_buf(64);
	/* Only a message's body can carry a buffer. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	assert_int_equal(tr_pack_buf(&pk, b, TR_BUF_SHARE), TR_EINVAL);
	assert_int_equal(sb.size, 0);
	msgpack_sbuffer_destroy(&sb);
	assert_int_equal(tr_pack_buf(NULL, b, TR_BUF_SHARE), TR_EINVAL);

	/* A value that is no buffer at all. */
	o.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
	o.via.u64 = 7;
	assert_int_equal(tr_unpack_buf(&o, &b), TR_EINVAL);
	assert_int_equal(tr_unpack_buf(NULL, &b), TR_EINVAL);

	assert_int_equal(tr_buf_release(b), TR_OK);
	assert_int_equal(tr_buf_release(b), TR_ENOENT);
	assert_int_equal(tr_buf_data(b, NULL, NULL), TR_ENOENT);
	assert_int_equal(files(), 0);
}

static void
test_new_is_zeroed_and_sized(void **state)
{
	size_t size = 0;
	tr_buf b;
	uint8_t *p;

	(void)state;
	b = new_buf(100000);
	assert_int_equal(tr_buf_data(b, (void **)&p, &size), TR_OK);
	assert_int_equal(size, 100000);
	for (size_t i = 0; i < size; i++) {
		assert_int_equal(p[i], 0);
	}
	assert_int_equal(files(), 1);
	assert_int_equal(tr_buf_release(b), TR_OK);
	assert_int_equal(files(), 0);
}

/* Transfer detaches the sender's handle: every use is an error. */
static void
test_transfer_then_use(void **state)
{
	tr_msg *m = NULL;
	tr_buf b = new_buf(4096);

	(void)state;
	assert_int_equal(tr_msg_new(&m, 1), TR_OK);
	assert_int_equal(
	    tr_pack_buf(tr_msg_packer(m), b, TR_BUF_TRANSFER), TR_OK);
	assert_int_equal(tr_buf_data(b, NULL, NULL), TR_EDETACHED);
	assert_int_equal(
	    tr_pack_buf(tr_msg_packer(m), b, TR_BUF_SHARE), TR_EDETACHED);
	assert_int_equal(
	    tr_pack_buf(tr_msg_packer(m), b, TR_BUF_TRANSFER), TR_EDETACHED);
	/* The message holds it now. */
	assert_int_equal(files(), 1);
	assert_int_equal(tr_buf_release(b), TR_OK);
	assert_int_equal(tr_buf_release(b), TR_ENOENT);
	assert_int_equal(files(), 1);
	tr_msg_free(m);
	assert_int_equal(files(), 0);
}

/* A message and its copy each hold the buffer; a handle taken from
 * either is the same memory. */
static void
test_message_holds(void **state)
{
	tr_msg *m = NULL, *copy = NULL;
	msgpack_object o;
	tr_buf b = new_buf(256), b2;

	(void)state;
	bytes(b)[0] = 42;
	assert_int_equal(tr_msg_new(&m, 1), TR_OK);
	assert_int_equal(tr_pack_buf(tr_msg_packer(m), b, TR_BUF_SHARE), TR_OK);
	assert_int_equal(tr_buf_release(b), TR_OK);
	assert_int_equal(tr_msg_dup(&copy, m), TR_OK);
	tr_msg_free(m);
	assert_int_equal(files(), 1);
	assert_int_equal(tr_msg_body(copy, &o), TR_OK);
	assert_int_equal(tr_unpack_buf(&o, &b2), TR_OK);
	assert_int_equal(bytes(b2)[0], 42);
	tr_msg_free(copy);
	assert_int_equal(files(), 1);
	assert_int_equal(tr_buf_release(b2), TR_OK);
	assert_int_equal(files(), 0);
}

/* Refs that name no live buffer of this node are refused and counted;
 * none of them is dereferenced (they name ids and keys, not memory). */
static void
test_forged_local(void **state)
{
	tr_msg *m = NULL;
	msgpack_object o;
	tr_stats before, after;
	tr_buf b = new_buf(64), got;
	uint8_t ext[32];

	(void)state;
	assert_int_equal(tr_stats_get(&before), TR_OK);
	assert_int_equal(tr_msg_new(&m, 1), TR_OK);
	assert_int_equal(tr_pack_buf(tr_msg_packer(m), b, TR_BUF_SHARE), TR_OK);
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	assert_int_equal(o.type, MSGPACK_OBJECT_EXT);
	assert_int_equal(o.via.ext.size, 32);
	memcpy(ext, o.via.ext.ptr, 32);

	/* The genuine one works. */
	assert_int_equal(tr_unpack_buf(&o, &got), TR_OK);
	assert_int_equal(tr_buf_release(got), TR_OK);

	/* Each field wrong in turn: key, generation, size, node, id. */
	{
		static const size_t at[] = {31, 11, 23, 3, 7};
		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			msgpack_object f = o;
			uint8_t bad[32];
			memcpy(bad, ext, 32);
			bad[at[i]] ^= 0x5a;
			f.via.ext.ptr = (const char *)bad;
			assert_int_equal(tr_unpack_buf(&f, &got), TR_EPROTO);
		}
	}
	/* The wrong length. */
	{
		msgpack_object f = o;
		f.via.ext.size = 16;
		assert_int_equal(tr_unpack_buf(&f, &got), TR_EPROTO);
	}
	assert_int_equal(tr_stats_get(&after), TR_OK);
	assert_int_equal(after.bad_buffers - before.bad_buffers, 6);
	tr_msg_free(m);
	assert_int_equal(tr_buf_release(b), TR_OK);

	/* A ref to a buffer that is gone is refused too. */
	o.via.ext.ptr = (const char *)ext;
	assert_int_equal(tr_unpack_buf(&o, &got), TR_EPROTO);
	assert_int_equal(files(), 0);
}

/* ------------------------------------------------------------------ */
/* With an actor of the leg's placement                                */

/* The actor writes through its handle; the test sees it through its
 * own: one memory.  In this process, at the same address. */
static void
test_same_memory(void **state)
{
	const size_t size = 1 << 20;
	tr_ref kit = spawn_kit();
	tr_buf b = new_buf(size);
	int64_t v = 0xab;
	tr_msg *r = NULL;
	msgpack_object_array a;
	uint8_t *p = bytes(b);

	(void)state;
	a = call(kit, msg_buf(TB_FILL, &b, TR_BUF_SHARE, &v, 1), &r);
	assert_int_equal(int_at(a, 0), TR_OK);
	if (test_actors_local()) {
		assert_int_equal((uintptr_t)int_at(a, 1), (uintptr_t)p);
	}
	tr_msg_free(r);
	for (size_t i = 0; i < size; i += 4093) {
		assert_int_equal(p[i], 0xab);
	}
	assert_int_equal(p[size - 1], 0xab);
	assert_int_equal(tr_buf_release(b), TR_OK);
	sync_kit(kit);
	assert_int_equal(files(), 0);
	assert_int_equal(tr_stop(kit, TR_REASON_NORMAL), TR_OK);
}

/* Transferred to the actor, which transfers it back: its own handle is
 * detached after, and what comes back is the same memory. */
static void
test_transfer_round_trip(void **state)
{
	tr_ref kit = spawn_kit();
	tr_buf b = new_buf(8192), back;
	tr_msg *r = NULL;
	msgpack_object_array a;

	(void)state;
	bytes(b)[100] = 7;
	a = call(kit, msg_buf(TB_BACK, &b, TR_BUF_TRANSFER, NULL, 0), &r);
	assert_int_equal(tr_buf_data(b, NULL, NULL), TR_EDETACHED);
	assert_int_equal(int_at(a, 1), TR_EDETACHED);
	assert_int_equal(int_at(a, 2), TR_EDETACHED);
	assert_int_equal(tr_unpack_buf(&a.ptr[0], &back), TR_OK);
	assert_int_equal(bytes(back)[100], 7);
	tr_msg_free(r);
	assert_int_equal(tr_buf_release(b), TR_OK);
	assert_int_equal(files(), 1);
	assert_int_equal(tr_buf_release(back), TR_OK);
	sync_kit(kit);
	assert_int_equal(files(), 0);
	assert_int_equal(tr_stop(kit, TR_REASON_NORMAL), TR_OK);
}

/* Shared, both write at once with atomics: no increment is lost. */
static void
test_share_atomics(void **state)
{
	tr_ref kit = spawn_kit();
	tr_buf b = new_buf(64);
	_Atomic uint64_t *w = (_Atomic uint64_t *)bytes(b);
	int64_t n = 100000;
	tr_msg *r = NULL;
	msgpack_object_array a;

	(void)state;
	assert_int_equal(
	    tr_send(kit, msg_buf(TB_ADD, &b, TR_BUF_SHARE, &n, 1)), TR_OK);
	for (int64_t i = 0; i < n; i++) {
		atomic_fetch_add(w, 1);
	}
	a = call(kit, msg_buf(TB_DROP, NULL, TR_BUF_SHARE, NULL, 0), &r);
	assert_int_equal(int_at(a, 0), TR_OK);
	tr_msg_free(r);
	assert_int_equal(atomic_load(w), (uint64_t)(2 * n));
	assert_int_equal(tr_buf_release(b), TR_OK);
	sync_kit(kit);
	assert_int_equal(files(), 0);
	assert_int_equal(tr_stop(kit, TR_REASON_NORMAL), TR_OK);
}

/* An actor killed holding a buffer (kill -9 of its process, for fork
 * and exec) leaks nothing: its hold goes with it. */
static void
test_holder_killed(void **state)
{
	tr_ref kit = spawn_kit();
	tr_buf b = new_buf(1 << 16);
	tr_msg *r = NULL;
	msgpack_object_array a;

	(void)state;
	a = call(kit, msg_buf(TB_HOLD, &b, TR_BUF_SHARE, NULL, 0), &r);
	assert_int_equal(int_at(a, 0), TR_OK);
	tr_msg_free(r);
	assert_int_equal(tr_buf_release(b), TR_OK);
	assert_int_equal(files(), 1); /* the actor's hold */
	kill_and_wait(kit);
	assert_int_equal(files(), 0);
}

/* A buffer made by an actor that is then killed stays valid for its
 * other holder, with its bytes. */
static void
test_maker_killed(void **state)
{
	tr_ref kit = spawn_kit();
	int64_t v[2] = {4096, 0x5a};
	tr_msg *r = NULL;
	msgpack_object_array a;
	tr_buf b;
	uint8_t *p;

	(void)state;
	a = call(kit, msg_buf(TB_MAKE, NULL, TR_BUF_SHARE, v, 2), &r);
	assert_int_equal(int_at(a, 0), TR_OK);
	assert_int_equal(tr_unpack_buf(&a.ptr[1], &b), TR_OK);
	tr_msg_free(r);
	kill_and_wait(kit);
	assert_int_equal(files(), 1);
	p = bytes(b);
	assert_int_equal(p[0], 0x5a);
	assert_int_equal(p[4095], 0x5a);
	p[0] = 1; /* still writable, still ours */
	assert_int_equal(tr_buf_release(b), TR_OK);
	assert_int_equal(files(), 0);
}

/* A forged ref sent to the actor is refused and counted where it is
 * unpacked, in whichever process that is. */
static void
test_forged_remote(void **state)
{
	tr_ref kit = spawn_kit();
	tr_buf b = new_buf(64);
	tr_msg *m = NULL, *r = NULL;
	msgpack_object o;
	msgpack_object_array a;
	uint8_t ext[32];
	int64_t bad0;

	(void)state;
	/* A genuine one first: accepted, and the count it reports. */
	a = call(kit, msg_buf(TB_UNPACK, &b, TR_BUF_SHARE, NULL, 0), &r);
	assert_int_equal(int_at(a, 0), TR_OK);
	bad0 = int_at(a, 1);
	tr_msg_free(r);

	/* The same bytes with the key changed, packed by hand. */
	assert_int_equal(tr_msg_new(&m, 1), TR_OK);
	assert_int_equal(tr_pack_buf(tr_msg_packer(m), b, TR_BUF_SHARE), TR_OK);
	assert_int_equal(tr_msg_body(m, &o), TR_OK);
	memcpy(ext, o.via.ext.ptr, 32);
	tr_msg_free(m);
	ext[30] ^= 0xff;
	assert_int_equal(tr_msg_new(&m, TB_UNPACK), TR_OK);
	msgpack_pack_array(tr_msg_packer(m), 1);
	msgpack_pack_ext(tr_msg_packer(m), 32, TR_MSGPACK_EXT_BUF);
	msgpack_pack_ext_body(tr_msg_packer(m), ext, 32);
	a = call(kit, m, &r);
	assert_int_equal(int_at(a, 0), TR_EPROTO);
	assert_int_equal(int_at(a, 1), bad0 + 1);
	tr_msg_free(r);

	/* From another node. */
	ext[30] ^= 0xff;
	ext[0] ^= 0x01;
	assert_int_equal(tr_msg_new(&m, TB_UNPACK), TR_OK);
	msgpack_pack_array(tr_msg_packer(m), 1);
	msgpack_pack_ext(tr_msg_packer(m), 32, TR_MSGPACK_EXT_BUF);
	msgpack_pack_ext_body(tr_msg_packer(m), ext, 32);
	a = call(kit, m, &r);
	assert_int_equal(int_at(a, 0), TR_EPROTO);
	assert_int_equal(int_at(a, 1), bad0 + 2);
	tr_msg_free(r);

	assert_int_equal(tr_buf_release(b), TR_OK);
	sync_kit(kit);
	assert_int_equal(files(), 0);
	assert_int_equal(tr_stop(kit, TR_REASON_NORMAL), TR_OK);
}

/* A send that fails leaves the message, and its hold, with the caller;
 * a message to an actor that is gone is freed with its hold. */
static void
test_failed_send_keeps_hold(void **state)
{
	tr_ref kit = spawn_kit();
	tr_buf b = new_buf(64);
	tr_msg *m;

	(void)state;
	m = msg_buf(TB_HOLD, &b, TR_BUF_TRANSFER, NULL, 0);
	kill_and_wait(kit);
	assert_int_equal(tr_send(kit, m), TR_ENOPROC);
	assert_int_equal(files(), 1);
	tr_msg_free(m);
	assert_int_equal(files(), 0);
	assert_int_equal(tr_buf_release(b), TR_OK);
}

/* Many hand-overs in a row: the holds balance, nothing is left. */
static void
test_many_handovers(void **state)
{
	tr_ref kit = spawn_kit();
	tr_buf b = new_buf(1 << 20);
	int64_t v = 1;

	(void)state;
	for (int i = 0; i < 200; i++) {
		tr_msg *r = NULL;
		msgpack_object_array a;
		v = i & 0xff;
		a = call(kit, msg_buf(TB_FILL, &b, TR_BUF_SHARE, &v, 1), &r);
		assert_int_equal(int_at(a, 0), TR_OK);
		tr_msg_free(r);
		assert_int_equal(bytes(b)[12345], (uint8_t)v);
	}
	sync_kit(kit);
	assert_int_equal(files(), 1);
	assert_int_equal(tr_buf_release(b), TR_OK);
	assert_int_equal(files(), 0);
	assert_int_equal(tr_stop(kit, TR_REASON_NORMAL), TR_OK);
}

/* ------------------------------------------------------------------ */
/* Soak                                                                */

/* Buffer mappings of this process (a buffer's file is buf.<id>.<gen>;
 * an unlinked one still shows, "(deleted)"). */
static int
buf_maps(void)
{
	char line[1024];
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		n += strstr(line, "/buf.") != NULL;
	}
	fclose(f);
	return n;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Kills who mid-flight, by tr_kill or by a SIGKILL of its own (a
 * process placement's: a thread's process is ours), and waits for its
 * DOWN: the holds of its process are gone then. */
static void
kill_mid_flight(tr_ref who, bool raw)
{
	tr_actor_info info;
	tr_mon mon;

	assert_int_equal(tr_monitor(who, &mon), TR_OK);
	assert_int_equal(tr_actor_info_get(who, &info), TR_OK);
	if (raw && info.pid > 0 && info.pid != getpid()) {
		assert_int_equal(kill(info.pid, SIGKILL), 0);
	} else {
		assert_int_equal(tr_kill(who), TR_OK);
	}
	wait_down(who);
}

#define SOAK_KITS 3

/* A kit in its own process: the exec'd program under the exec leg, a
 * fork member under every other.  A thread actor's DOWN goes out before
 * its thread frees the mail it never read (ctx.c), so "nothing left at
 * DOWN" is a promise of the process placements only. */
static tr_ref
spawn_soak_kit(tr_placement place)
{
	tr_spec spec;
	tr_ref ref = TR_REF_NIL;

	memset(&spec, 0, sizeof(spec));
	spec.behavior = "buf.kit";
	spec.placement = place;
	assert_int_equal(tr_spawn(&spec, &ref, NULL), TR_OK);
	return ref;
}

/*
 * Buffers handed to members (shared and transferred, in plain messages
 * that queue behind a busy one) and members killed with those messages
 * unread, then restarted, round after round for a time budget (20 s
 * under the fork leg, less under the others, which run it too with fork
 * members, exec'd ones under the exec leg; TROUPE_SOAK_MS overrides).
 * At the end nothing is left: no backing file, no mapping here.  A
 * message lost with its receiver is proved gone by the receiver's
 * death, so its holds must go with it (and not stay with the sender --
 * this process, the root, which never ends).
 */
static void
test_soak(void **state)
{
	const char *place = getenv("TROUPE_PLACEMENT");
	const char *ms = getenv("TROUPE_SOAK_MS");
	uint64_t budget = ms != NULL ? strtoull(ms, NULL, 10) :
	    place != NULL && strcmp(place, "fork") == 0 ? 20000 :
	    place != NULL && strcmp(place, "exec") == 0 ? 8000 :
	                                                  4000;
	tr_placement kind = place != NULL && strcmp(place, "exec") == 0 ?
	    TR_PLACE_EXEC :
	    TR_PLACE_FORK;
	uint64_t deadline = now_ms() + budget;
	tr_ref kit[SOAK_KITS];
	unsigned rounds = 0, kills = 0, raws = 0, bufs = 0, made = 0;
	int files_left, maps_left, maps0 = buf_maps();

	(void)state;
	assert_int_equal(files(), 0);
	for (int i = 0; i < SOAK_KITS; i++) {
		kit[i] = spawn_soak_kit(kind);
	}
	while (now_ms() < deadline) {
		rounds++;
		for (int i = 0; i < SOAK_KITS; i++) {
			tr_buf a = new_buf(1 << 16), c = new_buf(4096);
			int64_t busy[1] = {20000}, one[1] = {1};

			/* The first keeps it busy; the others queue. */
			assert_int_equal(
			    tr_send(kit[i],
			        msg_buf(TB_ADD, &a, TR_BUF_SHARE, busy, 1)),
			    TR_OK);
			assert_int_equal(
			    tr_send(kit[i],
			        msg_buf(TB_ADD, &c, TR_BUF_TRANSFER, one, 1)),
			    TR_OK);
			assert_int_equal(
			    tr_send(kit[i],
			        msg_buf(TB_ADD, &a, TR_BUF_SHARE, one, 1)),
			    TR_OK);
			assert_int_equal(tr_buf_release(a), TR_OK);
			assert_int_equal(
			    tr_buf_release(c), TR_OK); /* detached */
			bufs += 2;
			if ((rounds + (unsigned)i) % 2 == 0) {
				bool raw = (rounds / 2 + (unsigned)i) % 2 == 0;
				kill_mid_flight(kit[i], raw);
				kills++;
				raws += raw;
				kit[i] = spawn_soak_kit(kind);
			} else if (rounds % 3 == 0) {
				/* One made there, shared back here. */
				int64_t v[2] = {4096, 7};
				tr_msg *r = NULL;
				msgpack_object_array ra;
				tr_buf b;
				ra = call(kit[i],
				    msg_buf(TB_MAKE, NULL, TR_BUF_SHARE, v, 2),
				    &r);
				assert_int_equal(int_at(ra, 0), TR_OK);
				assert_int_equal(
				    tr_unpack_buf(&ra.ptr[1], &b), TR_OK);
				tr_msg_free(r);
				assert_int_equal(bytes(b)[4095], 7);
				assert_int_equal(tr_buf_release(b), TR_OK);
				made++;
			}
		}
	}
	for (int i = 0; i < SOAK_KITS; i++) {
		kill_mid_flight(kit[i], false);
		kills++;
	}
	files_left = files();
	maps_left = buf_maps() - maps0;
	print_message("soak (%s leg, %s members): %u rounds, %u kills (%u by "
	              "SIGKILL), %u "
	              "buffers sent, %u made by members; left: %d files, %d "
	              "mappings\n",
	    place != NULL ? place : "default",
	    kind == TR_PLACE_EXEC ? "exec" : "fork", rounds, kills, raws, bufs,
	    made, files_left, maps_left);
	assert_int_equal(files_left, 0);
	assert_int_equal(maps_left, 0);
}

/* Removes path and what is under it (a directory of the test's own). */
static void
remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			char sub[1024];
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0) {
				continue;
			}
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			remove_tree(sub);
		}
		closedir(d);
	}
	(void)remove(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_bad_arguments, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_new_is_zeroed_and_sized, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_transfer_then_use, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_message_holds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forged_local, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_memory, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_transfer_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_share_atomics, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_holder_killed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_maker_killed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_forged_remote, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_failed_send_keeps_hold, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_many_handovers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_soak, setup, teardown),
	};

	char made[] = "/tmp/troupe-test-buffers.XXXXXX";
	int rv;

	/* The tests look at the run directory's files: without
	 * TROUPE_RUNDIR (as `meson test` runs them), one of their own. */
	if (getenv("TROUPE_RUNDIR") == NULL) {
		if (mkdtemp(made) == NULL ||
		    setenv("TROUPE_RUNDIR", made, 1) != 0) {
			perror("test_buffers: a run directory");
			return 1;
		}
	} else {
		made[0] = '\0';
	}
	rv = cmocka_run_group_tests(tests, NULL, NULL);
	if (made[0] != '\0') {
		remove_tree(made);
	}
	return rv;
}

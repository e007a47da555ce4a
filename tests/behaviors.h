/*
 * behaviors.h -- the behaviors of the tests, registered in one place so
 * that every test program, and later an exec'd host program, knows the
 * same ones.  Each group lives in its own file, behaviors_<name>.c.
 */
#ifndef TEST_BEHAVIORS_H
#define TEST_BEHAVIORS_H

/* Registers every test behavior; TR_EEXIST (already registered) is
 * ignored, so it may be called more than once. */
void test_behaviors_register(void);

/*
 * Whether the actors the tests spawn run in this process.  tr_stats_get
 * counts this process only, so assertions about what an actor received
 * or dropped (delivered, dead letters, late replies, exits) hold only
 * then; under TROUPE_PLACEMENT=fork|exec those counters are the
 * members'.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static inline bool
test_actors_local(void)
{
	const char *p = getenv("TROUPE_PLACEMENT");
	return p == NULL || strcmp(p, "thread") == 0 ||
	    strcmp(p, "scheduled") == 0;
}

/* Bodies the behaviors read and write (behaviors.c). */
#include <stddef.h>
#include <stdint.h>

#include <troupe.h>

/* An integer of either msgpack sign into *v; false for anything else. */
bool test_obj_int(const msgpack_object *o, int64_t *v);
/* The exec'd host of the test behaviors: $TROUPE_EXEC_HOST (meson sets
 * it), else "exec_host" next to this program. */
const char *test_exec_host(void);
/* A new message of tag with body [v...]; NULL if out of memory.  The
 * caller sends it (and frees it if the send fails). */
tr_msg *test_msg_ints(uint32_t tag, const int64_t *v, size_t n);

/* One per file (behaviors_<name>.c). */
void test_behaviors_msg_register(void);
void test_behaviors_life_register(void);
void test_behaviors_proc_register(void);
void test_behaviors_sup_register(void);
void test_behaviors_pic_register(void);
void test_behaviors_sched_register(void);
void test_behaviors_exit_register(void);
void test_behaviors_buf_register(void);

#endif

/*
 * behaviors.c -- registers every test behavior (see behaviors.h).
 * One line per behaviors_<name>.c file; and where the exec host is.
 */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "behaviors.h"
#include "behaviors_dist.h"

void
test_behaviors_register(void)
{
	test_behaviors_msg_register();
	test_behaviors_life_register();
	test_behaviors_proc_register();
	test_behaviors_sup_register();
	test_behaviors_pic_register();
	test_behaviors_sched_register();
	test_behaviors_exit_register();
	test_behaviors_buf_register();
	test_behaviors_dist_register();
}

bool
test_obj_int(const msgpack_object *o, int64_t *v)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		*v = (int64_t)o->via.u64;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = o->via.i64;
		return true;
	}
	return false;
}

tr_msg *
test_msg_ints(uint32_t tag, const int64_t *v, size_t n)
{
	tr_msg *m;

	if (tr_msg_new(&m, tag) != TR_OK) {
		return NULL;
	}
	msgpack_pack_array(tr_msg_packer(m), (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_int64(tr_msg_packer(m), v[i]);
	}
	return m;
}

const char *
test_exec_host(void)
{
	static char buf[PATH_MAX];
	const char *p = getenv("TROUPE_EXEC_HOST");
	ssize_t n;
	char *slash;

	if (p != NULL && p[0] != '\0') {
		return p;
	}
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0) {
		return "exec_host";
	}
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/')) == NULL) {
		return "exec_host";
	}
	snprintf(slash + 1, sizeof(buf) - (size_t)(slash + 1 - buf), "%s",
	    "exec_host");
	return buf;
}

/*
 * fake_status.c -- for cluster.sh: a tree that is not one, answering
 * `troupe status` with a node of a cluster as the sessions will see it
 * -- other nodes up and down, a child on another node, one not placed
 * yet -- so that the command's rendering of them is checked before a
 * cluster can be made.  usage: fake_status TREE
 * Claims TREE's name and control socket, prints "ready", answers every
 * request with the same reply (tree_run.c documents its shape), and
 * ends when its standard input does.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "control.h"
#include "tree_run.h"

static tri_ctl *ctl;
static msgpack_sbuffer reply;

static void
str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void
kv_str(msgpack_packer *pk, const char *k, const char *v)
{
	str(pk, k);
	if (v == NULL) {
		msgpack_pack_nil(pk);
	} else {
		str(pk, v);
	}
}

static void
kv_num(msgpack_packer *pk, const char *k, uint64_t v)
{
	str(pk, k);
	msgpack_pack_uint64(pk, v);
}

/* A running child; node NULL: not placed yet. */
static void
child(msgpack_packer *pk, const char *path, const char *place, int pid,
    const char *state, const char *node)
{
	msgpack_pack_map(pk, 15);
	kv_str(pk, "path", path);
	kv_str(pk, "placement", place);
	str(pk, "supervisor");
	msgpack_pack_false(pk);
	str(pk, "pid");
	msgpack_pack_int(pk, pid);
	kv_str(pk, "state", state);
	kv_num(pk, "restarts", 2);
	kv_num(pk, "uptime_ms", strcmp(state, "running") == 0 ? 8100 : 0);
	kv_num(pk, "depth", 0);
	kv_num(pk, "capacity", pid != 0 ? 1024 : 0);
	kv_num(pk, "in", 5);
	kv_num(pk, "out", 7);
	kv_num(pk, "timers", 0);
	kv_num(pk, "callback_ms", 0);
	str(pk, "waiting");
	msgpack_pack_false(pk);
	kv_str(pk, "node", node);
}

static void
node(msgpack_packer *pk, const char *name, const char *state, uint32_t id,
    uint64_t heard, uint32_t rtt, uint64_t sessions)
{
	msgpack_pack_map(pk, 9);
	kv_str(pk, "name", name);
	kv_str(pk, "state", state);
	kv_num(pk, "id", id);
	kv_str(pk, "url", "tls+tcp://10.77.0.2:4400");
	kv_num(pk, "last_heard_ms", heard);
	kv_num(pk, "rtt_us", rtt);
	kv_num(pk, "sessions", sessions);
	kv_num(pk, "frames_in", 100);
	kv_num(pk, "frames_out", 90);
}

static void
on_request(void *arg, const uint8_t *req, size_t len)
{
	(void)arg;
	(void)req;
	(void)len;
	tri_ctl_reply(ctl, (const uint8_t *)reply.data, reply.size);
}

int
main(int argc, char **argv)
{
	msgpack_packer pk;
	char path[512], line[16];
	int claim = -1, holder = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: fake_status TREE\n");
		return 2;
	}
	msgpack_sbuffer_init(&reply);
	msgpack_packer_init(&pk, &reply, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_int(&pk, (int)getpid());
	msgpack_pack_array(&pk, 4);
	child(&pk, "web", "fork", 4250, "running", "");
	child(&pk, "db", "auto", 0, "running", "db-1");
	child(&pk, "cache", "thread", 0, "restarting", NULL);
	child(&pk, "self", "thread", 4242, "running", "web-1");
	msgpack_pack_array(&pk, 0);
	msgpack_pack_map(&pk, 7);
	kv_str(&pk, "cluster", "shop");
	kv_str(&pk, "node", "web-1");
	kv_num(&pk, "id", 0x0badf00d);
	kv_str(&pk, "listen", "tls+tcp://10.77.0.1:4400");
	kv_str(&pk, "membership", "static");
	kv_num(&pk, "error", 0);
	str(&pk, "nodes");
	msgpack_pack_array(&pk, 3);
	node(&pk, "db-1", "up", 0x1234abcd, 312, 412, 1);
	node(&pk, "db-2", "down", 0xdeadbeef, 12000, 1500, 2);
	node(&pk, "db-3", "connecting", 0, UINT64_MAX, 0, 0); /* never */

	if (trs_tree_claim(argv[1], &claim, &holder) != 0 ||
	    trs_ctl_path(argv[1], path, sizeof(path)) != 0 ||
	    tri_ctl_listen(&ctl, path, on_request, NULL) != 0) {
		fprintf(stderr, "fake_status: cannot be tree '%s'\n", argv[1]);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
	}
	tri_ctl_close(ctl);
	trs_tree_release(argv[1], claim);
	msgpack_sbuffer_destroy(&reply);
	return 0;
}

/*
 * dist_node.c -- a troupe node for the distribution tests: it joins a
 * cluster, offers the dist.* behaviors (behaviors_dist.c) for remote
 * spawns, says "ready <name> <id>" on stdout, and reports the nodes it
 * watches as lines "up <name> <id> <ms>" / "down <name> <id> <ms>"
 * (<ms>: its monotonic clock).  It shuts down in order when its stdin
 * closes.
 *
 *   dist_node --cluster C --name N --listen URL [--seed URL]...
 *             [--insecure | --ca F --cert F [--key F]]
 *             [--tick MS] [--timeout MS] [--watch NAME]...
 *             [--membership etcd --etcd URL [--etcd-ttl MS]]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <troupe.h>

#include "behaviors.h"
#include "behaviors_dist.h"

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void *
stdin_watch(void *arg)
{
	char buf[256];

	(void)arg;
	while (fread(buf, 1, sizeof(buf), stdin) > 0) {
	}
	/* EOF: tell the main context (it waits in tr_recv). */
	tr_msg *m;
	if (tr_msg_new(&m, TD_DIE) == TR_OK &&
	    tr_send(*(tr_ref *)arg, m) != TR_OK) {
		tr_msg_free(m);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static const char *seeds[64];
	static tr_ref main_ref;
	const char *watch[64];
	size_t nseeds = 0, nwatch = 0;
	tr_cluster_opts c;
	tr_options o;
	pthread_t t;
	tr_msg *m;
	int rv;

	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	c.cluster = "test";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--insecure") == 0) {
			c.insecure = true;
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, "dist_node: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--cluster") == 0) {
			c.cluster = v;
		} else if (strcmp(a, "--name") == 0) {
			c.node = v;
		} else if (strcmp(a, "--listen") == 0) {
			c.listen = v;
		} else if (strcmp(a, "--seed") == 0 && nseeds < 63) {
			seeds[nseeds++] = v;
		} else if (strcmp(a, "--ca") == 0) {
			c.ca = v;
		} else if (strcmp(a, "--cert") == 0) {
			c.cert = v;
		} else if (strcmp(a, "--key") == 0) {
			c.key = v;
		} else if (strcmp(a, "--tick") == 0) {
			c.tick_ms = (uint32_t)atoi(v);
		} else if (strcmp(a, "--timeout") == 0) {
			c.timeout_ms = (uint32_t)atoi(v);
		} else if (strcmp(a, "--membership") == 0) {
			c.membership = v;
		} else if (strcmp(a, "--etcd") == 0) {
			static const char *etcd[2];
			etcd[0] = v;
			c.etcd = etcd;
		} else if (strcmp(a, "--etcd-ttl") == 0) {
			c.etcd_ttl_ms = (uint32_t)atoi(v);
		} else if (strcmp(a, "--watch") == 0 && nwatch < 64) {
			watch[nwatch++] = v;
		} else {
			fprintf(stderr, "dist_node: unknown option %s\n", a);
			return 2;
		}
	}
	c.seeds = nseeds > 0 ? seeds : NULL;
	o.cluster = &c;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rv = tr_init(&o)) != TR_OK) {
		fprintf(stderr, "dist_node: tr_init: %s\n", tr_strerror(rv));
		return 1;
	}
	test_behaviors_register();
	test_behaviors_dist_register();
	for (size_t i = 0; i < nwatch; i++) {
		(void)tr_node_monitor(watch[i], true);
	}
	printf("ready %s %08x\n", c.node, tr_node_id());
	main_ref = tr_self();
	pthread_create(&t, NULL, stdin_watch, &main_ref);
	pthread_detach(t);
	while (tr_recv(&m, TR_FOREVER) == TR_OK) {
		uint32_t tag = tr_msg_tag(m);
		if (tag == TR_TAG_NODEUP || tag == TR_TAG_NODEDOWN) {
			const char *name = NULL;
			unsigned id = 0;
			if (tr_msg_unpackf(m, "su", &name, &id) == TR_OK) {
				printf("%s %s %08x %llu\n",
				    tag == TR_TAG_NODEUP ? "up" : "down", name,
				    id, (unsigned long long)now_ms());
			}
		}
		tr_msg_free(m);
		if (tag == TD_DIE) {
			break;
		}
	}
	tr_shutdown();
	return 0;
}

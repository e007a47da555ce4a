/*
 * coordinator.c -- the distributed example's coordinator: a thread
 * actor that waits for the other nodes, starts prime-job workers on one,
 * two, then three nodes with tr_spawn (spec.node, placement fork: one
 * process per worker, on the node named), runs the job, prints a table
 * and ends (README.md).  The workers are examples/common's, unchanged:
 * the code that sends to an actor, or that an actor runs, does not
 * change with the node it runs on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <troupe.h>

#include "prime_job.h"

void distributed_register(void);

#define MAX_NODES 8
#define MAX_PER_NODE 32

typedef struct coord {
	char nodes[MAX_NODES][TR_NAME_MAX + 1];
	size_t nnodes;
	uint64_t per_node, n, wait_ms;
} coord;

enum {
	GO = 100
};

static bool
map_u64(const msgpack_object *v, uint64_t *out)
{
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		return false;
	}
	*out = v->via.u64;
	return true;
}

/* init: {nodes: [n1, n2, n3], workers_per_node: 2, n: 3000000,
 *        wait_ms: 60000} */
static int
coord_init(void *state, tr_msg *arg)
{
	coord *c = state;
	msgpack_object o;

	c->per_node = 2;
	c->n = 3000000;
	c->wait_ms = 60000;
	if (arg == NULL || tr_msg_body(arg, &o) != TR_OK ||
	    o.type != MSGPACK_OBJECT_MAP) {
		fprintf(stderr, "coordinator: init must be a map\n");
		return TR_EINVAL;
	}
	for (uint32_t i = 0; i < o.via.map.size; i++) {
		const msgpack_object *k = &o.via.map.ptr[i].key;
		const msgpack_object *v = &o.via.map.ptr[i].val;
		if (k->type != MSGPACK_OBJECT_STR) {
			return TR_EINVAL;
		}
		if (k->via.str.size == 5 &&
		    memcmp(k->via.str.ptr, "nodes", 5) == 0 &&
		    v->type == MSGPACK_OBJECT_ARRAY) {
			for (uint32_t j = 0;
			     j < v->via.array.size && c->nnodes < MAX_NODES;
			     j++) {
				const msgpack_object *s = &v->via.array.ptr[j];
				if (s->type != MSGPACK_OBJECT_STR ||
				    s->via.str.size > TR_NAME_MAX) {
					return TR_EINVAL;
				}
				memcpy(c->nodes[c->nnodes], s->via.str.ptr,
				    s->via.str.size);
				c->nodes[c->nnodes++][s->via.str.size] = '\0';
			}
		} else if (k->via.str.size == 16 &&
		    memcmp(k->via.str.ptr, "workers_per_node", 16) == 0) {
			if (!map_u64(v, &c->per_node) || c->per_node == 0 ||
			    c->per_node > MAX_PER_NODE) {
				return TR_EINVAL;
			}
		} else if (k->via.str.size == 1 && k->via.str.ptr[0] == 'n') {
			if (!map_u64(v, &c->n) || c->n < 1000) {
				return TR_EINVAL;
			}
		} else if (k->via.str.size == 7 &&
		    memcmp(k->via.str.ptr, "wait_ms", 7) == 0) {
			if (!map_u64(v, &c->wait_ms)) {
				return TR_EINVAL;
			}
		}
	}
	if (c->nnodes == 0) {
		fprintf(stderr, "coordinator: no nodes in init\n");
		return TR_EINVAL;
	}
	/* The work happens in a message to itself: a long init would hold
	 * up the tree's start. */
	return tr_sendf(tr_self(), GO, "");
}

/* Waits until every node of the list is up (or is this node). */
static bool
wait_nodes(coord *c)
{
	uint64_t deadline = (uint64_t)pj_now_ms() + c->wait_ms;

	for (size_t i = 0; i < c->nnodes; i++) {
		uint32_t id;
		bool said = false;
		(void)tr_node_monitor(c->nodes[i], true);
		while (tr_node_lookup(c->nodes[i], &id) != TR_OK) {
			tr_msg *m;
			double left = (double)deadline - pj_now_ms();
			if (!said) {
				printf("coordinator: waiting for node %s\n",
				    c->nodes[i]);
				said = true;
			}
			if (left <= 0) {
				return false;
			}
			/* Node-up notices wake us; anything else is dropped. */
			if (tr_recv(&m, (int)left) == TR_OK) {
				tr_msg_free(m);
			}
		}
		(void)tr_node_monitor(c->nodes[i], false);
	}
	return true;
}

static int
start_workers(coord *c, size_t nodes, tr_ref *w, size_t *k)
{
	*k = 0;
	for (size_t i = 0; i < nodes; i++) {
		for (uint64_t j = 0; j < c->per_node; j++) {
			tr_spec s;
			tr_reason why;
			int rv;
			memset(&s, 0, sizeof(s));
			s.behavior = PJ_BEHAVIOR;
			s.placement = TR_PLACE_FORK;
			s.node = c->nodes[i];
			s.link = true;
			if ((rv = tr_spawn(&s, &w[*k], &why)) != TR_OK) {
				fprintf(stderr,
				    "coordinator: a worker on %s: %s\n",
				    c->nodes[i], tr_strerror(rv));
				return rv;
			}
			(*k)++;
		}
	}
	return TR_OK;
}

static int
coord_handle(void *state, tr_msg *msg)
{
	coord *c = state;
	tr_ref w[MAX_NODES * MAX_PER_NODE];
	uint64_t chunk = pj_chunk_size(c->n, PJ_CHUNKS);
	double base = 0;
	bool trap;

	if (tr_msg_tag(msg) != GO) {
		return TR_OK;
	}
	(void)tr_trap_exits(true, &trap);
	if (!wait_nodes(c)) {
		fprintf(stderr,
		    "coordinator: not every node came up within "
		    "%llu ms\n",
		    (unsigned long long)c->wait_ms);
		return 3;
	}
	printf("coordinator: %zu nodes up; counting the primes below "
	       "%llu, %llu worker%s per node\n",
	    c->nnodes, (unsigned long long)c->n,
	    (unsigned long long)c->per_node, c->per_node > 1 ? "s" : "");
	printf("%-6s %-8s %-9s %-8s %-9s %s\n", "nodes", "workers", "seconds",
	    "speedup", "primes", "chunks per node");
	for (size_t nodes = 1; nodes <= c->nnodes; nodes++) {
		uint64_t per_worker[MAX_NODES * MAX_PER_NODE] = {0};
		uint64_t primes = 0;
		size_t k;
		double t0, secs;
		char split[256] = "";
		int rv;

		if ((rv = start_workers(c, nodes, w, &k)) != TR_OK) {
			(void)pj_stop(w, k);
			return 4;
		}
		t0 = pj_now_ms();
		rv = pj_run(w, k, c->n, chunk, 60000, &primes, per_worker);
		secs = (pj_now_ms() - t0) / 1000.0;
		if (rv != TR_OK) {
			fprintf(stderr, "coordinator: the job: %s\n",
			    tr_strerror(rv));
			(void)pj_stop(w, k);
			return 5;
		}
		if (nodes == 1) {
			base = secs;
		}
		for (size_t i = 0; i < nodes; i++) {
			uint64_t sum = 0;
			size_t len = strlen(split);
			for (uint64_t j = 0; j < c->per_node; j++) {
				sum += per_worker[i * c->per_node + j];
			}
			snprintf(split + len, sizeof(split) - len, "%s%s:%llu",
			    i > 0 ? " " : "", c->nodes[i],
			    (unsigned long long)sum);
		}
		printf("%-6zu %-8zu %-9.3f %-8.2f %-9llu %s\n", nodes, k, secs,
		    base / secs, (unsigned long long)primes, split);
		(void)pj_stop(w, k);
	}
	printf("coordinator: done\n");
	(void)tr_stop(tr_self(), TR_REASON_NORMAL);
	return TR_OK;
}

void
distributed_register(void)
{
	static const tr_behavior coordinator = {
	    .name = "distributed.coordinator",
	    .state_size = sizeof(coord),
	    .init = coord_init,
	    .handle = coord_handle,
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	(void)tr_behavior_register(&coordinator);
	(void)pj_register();
}

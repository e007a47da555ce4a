/*
 * dist_members.c -- membership in etcd for the sessions (members.h): its
 * view decides whom this node dials and whose session ends, and a node
 * that loses its lease fences itself.  See dist.h.
 */
#include <stdio.h>
#include <string.h>

#include "dist_impl.h"
#include "members.h"
#include "runtime.h"

static void
m_join(void *arg, const char *name, uint32_t id, const char *url)
{
	tri_peer *p;

	(void)arg;
	pthread_mutex_lock(&D.mtx);
	if ((p = tri_dist_find_locked(name)) == NULL) {
		p = tri_dist_add_locked(name, url);
	} else if (!p->up) {
		snprintf(p->url, sizeof(p->url), "%s", url);
	}
	if (p != NULL) {
		p->member = true;
		if (!p->up) {
			p->next_dial = 0;
			p->id = id;
		}
		tri_dist_kick();
	}
	pthread_mutex_unlock(&D.mtx);
}

static void
m_leave(void *arg, const char *name, uint32_t id)
{
	tri_peer *p;

	(void)arg;
	pthread_mutex_lock(&D.mtx);
	if ((p = tri_dist_find_locked(name)) != NULL) {
		p->member = false;
		if (p->up && p->id == id) {
			tri_dist_down_locked(p, "it left the cluster (etcd)");
		}
	}
	pthread_mutex_unlock(&D.mtx);
}

/* This node lost its lease: it is out until it holds one again.  Every
 * session ends, so every link and monitor across nodes fires with
 * noconnection: the children it runs for other nodes' supervisors (that
 * do not trap exits) end with them, and the other side sees the same
 * on its own. */
static void
m_fenced(void *arg)
{
	char why[256] = "";

	(void)arg;
	(void)tri_members_fenced(D.members, why, sizeof(why));
	fprintf(stderr,
	    "troupe: node %s: fenced: its etcd lease is lost%s%s; every "
	    "session ends until it holds one again\n",
	    D.name, why[0] != '\0' ? ": " : "", why);
	pthread_mutex_lock(&D.mtx);
	D.fenced = true;
	for (uint32_t i = 0; i < D.npeers; i++) {
		if (D.peers[i].used) {
			tri_dist_down_locked(
			    &D.peers[i], "this node is fenced");
		}
	}
	pthread_mutex_unlock(&D.mtx);
}

static void
m_unfenced(void *arg)
{
	(void)arg;
	fprintf(stderr, "troupe: node %s: holds an etcd lease again\n", D.name);
	pthread_mutex_lock(&D.mtx);
	D.fenced = false;
	for (uint32_t i = 0; i < D.npeers; i++) {
		D.peers[i].next_dial = 0;
	}
	tri_dist_kick();
	pthread_mutex_unlock(&D.mtx);
}

int
tri_dist_members_start(const tr_cluster_opts *o)
{
	static const tri_members_cb cb = {
	    .join = m_join,
	    .leave = m_leave,
	    .fenced = m_fenced,
	    .unfenced = m_unfenced,
	};
	char err[256] = "";
	int rv;

	if ((rv = tri_members_etcd_join(o, tri_rt.node, D.url, &D.members, err,
	         sizeof(err))) != TR_OK) {
		fprintf(stderr,
		    "troupe: node %s: cannot join cluster %s in "
		    "etcd: %s\n",
		    D.name, D.cluster, err[0] != '\0' ? err : tr_strerror(rv));
		D.members = NULL;
		return rv;
	}
	if ((rv = tri_members_watch(D.members, &cb)) != TR_OK) {
		tri_members_stop(D.members);
		D.members = NULL;
	}
	return rv;
}

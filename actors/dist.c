/*
 * dist.c -- this node among other nodes: the peer table, sessions going
 * up and down, the dist thread (ticks, timeouts, dials), and the
 * cluster's public calls.  See dist.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "dist_impl.h"
#include "members.h"
#include "msg.h"
#include "process.h"
#include "registry.h"
#include "runtime.h"
#include "scheduler.h"
#include "target.h"

tri_dist D = {.mtx = PTHREAD_MUTEX_INITIALIZER};

/* D.cv is timed-waited on with monotonic deadlines (tri_cond_init). */
static pthread_once_t cv_once = PTHREAD_ONCE_INIT;

static void
cv_init(void)
{
	(void)tri_cond_init(&D.cv);
}

/* Re-dials back off from BACKOFF_MIN_MS to BACKOFF_MAX_MS, each wait
 * drawn at random from half to all of it: a cluster that restarts at
 * once does not re-dial in lockstep. */
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 10000
#define DIAL_TIMEOUT_MS 2000
/* How often the dist thread looks at every session. */
#define LOOP_MS 10
/* How long a connection we dialed may go without a session: past it,
 * the other side did not answer our handshake (it refused our
 * certificate, our name, or cannot dial us back). */
#define HANDSHAKE_MS 3000
/* How long a stopping node waits for its queues to go out. */
#define FLUSH_MS 1000

uint64_t
tri_dist_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

bool
tri_dist_on(void)
{
	return __atomic_load_n(&D.on, __ATOMIC_ACQUIRE);
}

bool
tri_dist_is_self(const char *node)
{
	return node == NULL || node[0] == '\0' ||
	    (tri_dist_on() && strcmp(node, D.name) == 0);
}

void
tri_dist_kick(void)
{
	pthread_cond_signal(&D.cv);
}

tri_peer *
tri_dist_find_locked(const char *name)
{
	for (uint32_t i = 0; i < D.npeers; i++) {
		if (D.peers[i].used && strcmp(D.peers[i].name, name) == 0) {
			return &D.peers[i];
		}
	}
	return NULL;
}

tri_peer *
tri_dist_add_locked(const char *name, const char *url)
{
	tri_peer *p;

	if (D.npeers == TRI_PEERS_MAX) {
		fprintf(stderr,
		    "troupe: node %s: more than %d nodes: %s at %s ignored\n",
		    D.name, TRI_PEERS_MAX, name, url);
		return NULL;
	}
	p = &D.peers[D.npeers++];
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mtx, NULL);
	tri_cond_init(&p->credit_cv);
	p->used = true;
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->url, sizeof(p->url), "%s", url);
	p->state = TR_NODE_CONNECTING;
	p->backoff_ms = BACKOFF_MIN_MS;
	p->next_dial = 0;
	tri_dist_kick();
	return p;
}

static uint64_t
jitter(uint64_t ms)
{
	return ms / 2 + (uint64_t)random() % (ms / 2 + 1);
}

void
tri_dist_up_locked(tri_peer *p)
{
	if (p->up) {
		return;
	}
	p->up = true;
	p->state = TR_NODE_UP;
	p->backoff_ms = BACKOFF_MIN_MS;
	p->announce_up = true;
	atomic_store(&p->last_heard, tri_now_ms());
	atomic_fetch_add(&p->sessions, 1);
	tri_dist_kick();
}

/*
 * Ends p's session (or its handshake): both connections go, what was
 * queued is dropped, and -- if it was up -- every context hears that
 * its node is down.  The dist thread closes the dialer and announces.
 */
void
tri_dist_down_locked(tri_peer *p, const char *why)
{
	bool was_up = p->up;

	if (was_up) {
		fprintf(stderr, "troupe: node %s: node %s (%08x) down: %s\n",
		    D.name, p->name, p->id, why);
		snprintf(p->why, sizeof(p->why), "%s", why);
		p->announce_down = true;
		p->down_id = p->id;
	}
	p->up = false;
	p->session++;
	p->state = was_up || p->state == TR_NODE_DOWN ? TR_NODE_DOWN :
	                                                TR_NODE_CONNECTING;
	if (p->in_pipe != 0 && D.listener != NULL) {
		tri_peer_drop(D.listener, p->in_pipe);
	}
	p->in_pipe = 0;
	p->their_nonce = 0;
	p->echoed = false;
	if (p->out != NULL) {
		p->close_out = true;
	}
	p->next_dial = tri_now_ms() + jitter(p->backoff_ms);
	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	                                                     p->backoff_ms * 2;
	tri_wire_reset(p, p->session);
	pthread_cond_broadcast(&p->credit_cv);
	tri_dist_kick();
}

/* ------------------------------------------------------------------ */
/* Arrivals                                                            */

static tri_peer *
peer_of_pipe_locked(uint32_t pipe)
{
	for (uint32_t i = 0; i < D.npeers; i++) {
		if (D.peers[i].used && D.peers[i].in_pipe == pipe) {
			return &D.peers[i];
		}
	}
	return NULL;
}

static void
on_pipe(void *arg, uint32_t pipe, bool up)
{
	tri_peer *p;

	(void)arg;
	if (up) {
		return; /* nobody until its HELLO says who */
	}
	pthread_mutex_lock(&D.mtx);
	if ((p = peer_of_pipe_locked(pipe)) != NULL) {
		p->in_pipe = 0; /* gone already */
		tri_dist_down_locked(p, "its connection to us ended");
	}
	pthread_mutex_unlock(&D.mtx);
}

/* A connection that sent what no node may: counted, and closed. */
static void
refuse_pipe(uint32_t pipe, const char *why)
{
	tri_peer *p;

	TRI_STAT(malformed);
	pthread_mutex_lock(&D.mtx);
	if ((p = peer_of_pipe_locked(pipe)) != NULL) {
		tri_dist_down_locked(p, why);
	} else if (D.listener != NULL) {
		tri_peer_drop(D.listener, pipe);
	}
	pthread_mutex_unlock(&D.mtx);
}

static void
on_recv(void *arg, uint32_t pipe, tri_buf *b)
{
	const uint8_t *d = tri_buf_data(b);
	size_t len = tri_buf_len(b), off = 0;
	tri_peer *p = NULL;
	tri_frame f;

	(void)arg;
	while (off < len) {
		if (tri_frame_decode(d, len, &off, TRI_FRAG + 64, &f) !=
		    TR_OK) {
			refuse_pipe(pipe, "a malformed frame");
			break;
		}
		if (f.kind == TRI_K_HELLO) {
			tri_dist_hello_in(pipe, &f);
			p = NULL;
			continue;
		}
		if (p == NULL) {
			pthread_mutex_lock(&D.mtx);
			p = peer_of_pipe_locked(pipe);
			pthread_mutex_unlock(&D.mtx);
			if (p == NULL) {
				/* Before its handshake, or after its session
				 * ended: nothing of it is delivered. */
				refuse_pipe(
				    pipe, "a frame before the handshake");
				break;
			}
		}
		if (f.sender.node != p->id && f.kind != TRI_K_CREDIT &&
		    f.kind != TRI_K_TICK) {
			refuse_pipe(pipe, "a frame from another node's actor");
			break;
		}
		atomic_store(&p->last_heard, tri_now_ms());
		atomic_fetch_add(&p->frames_in, 1);
		tri_wire_arrived(p, &f);
	}
	tri_buf_free(b);
}

/* ------------------------------------------------------------------ */
/* Dials                                                               */

/* The connection we dialed ended. */
static void
on_out_pipe(void *arg, uint32_t pipe, bool up)
{
	tri_peer *p = arg;

	(void)pipe;
	if (up) {
		return;
	}
	pthread_mutex_lock(&D.mtx);
	if (p->out != NULL && !p->close_out) {
		tri_dist_down_locked(p, "our connection to it ended");
	}
	pthread_mutex_unlock(&D.mtx);
}

typedef struct dial_job {
	tri_peer *p;
	char url[128];
	char name[TR_NAME_MAX + 1]; /* "" : a seed not heard yet */
	uint64_t session;
} dial_job;

static void *
dial_main(void *arg)
{
	dial_job *j = arg;
	tri_peer *p = j->p;
	tri_peer_dialer *out = NULL;
	char err[256];
	int rv;

	rv = tri_peer_dial(&out, j->url, D.insecure ? NULL : &D.tls,
	    j->name[0] != '\0' ? j->name : NULL, DIAL_TIMEOUT_MS, tri_wire_sent,
	    on_out_pipe, p, err, sizeof(err));
	pthread_mutex_lock(&D.mtx);
	p->dialing = false;
	if (rv != TR_OK) {
		/* Said once per kind of failure, not at every re-dial. */
		if (strcmp(err, p->why) != 0) {
			fprintf(stderr,
			    "troupe: node %s: cannot reach %s: %s\n", D.name,
			    j->name[0] != '\0' ? j->name : j->url, err);
			snprintf(p->why, sizeof(p->why), "%s", err);
		}
		p->next_dial = tri_now_ms() + jitter(p->backoff_ms);
		p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ?
		    BACKOFF_MAX_MS :
		    p->backoff_ms * 2;
	} else if (D.stopping || p->session != j->session || p->out != NULL) {
		pthread_mutex_unlock(&D.mtx);
		tri_peer_dialer_close(out);
		pthread_mutex_lock(&D.mtx);
	} else {
		p->out = out;
		p->dialed_at = tri_now_ms();
		p->out_verified = D.insecure || j->name[0] != '\0';
		p->nonce = ((uint64_t)random() << 32 | (uint64_t)random()) | 1;
		p->echoed = false;
		tri_wire_reset(p, p->session);
		(void)tri_dist_hello_out(p);
	}
	D.dials--;
	pthread_cond_broadcast(&D.cv);
	pthread_mutex_unlock(&D.mtx);
	tri_free(j);
	return NULL;
}

static void
dial_locked(tri_peer *p)
{
	dial_job *j = tri_calloc(1, sizeof(*j));
	pthread_attr_t a;
	pthread_t t;

	if (j == NULL) {
		return;
	}
	j->p = p;
	snprintf(j->url, sizeof(j->url), "%s", p->url);
	snprintf(j->name, sizeof(j->name), "%s", p->name);
	j->session = p->session;
	p->dialing = true;
	D.dials++;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, dial_main, j) != 0) {
		p->dialing = false;
		D.dials--;
		tri_free(j);
	}
	pthread_attr_destroy(&a);
}

/* ------------------------------------------------------------------ */
/* The dist thread                                                     */

/* Tells every context of the node that node id is gone: as a process's
 * death (node.c), one level up. */
static void
announce_down(uint32_t id)
{
	uint8_t body[TRI_CONTROL_BODY];
	tri_ctx **v;
	size_t n;
	tri_frame f;
	tr_reason why = TR_REASON(TR_EXIT_NOCONNECTION, (int32_t)id);

	if (tri_registry_all(&v, &n) == TR_OK) {
		for (size_t i = 0; i < n; i++) {
			if (v[i]->kind != TRI_CTX_SCHED) {
				tri_control_frame(&f, body, TRI_K_NODE_DOWN,
				    TR_REF_NIL, v[i]->ref, why, 0);
				f.tag = id;
				(void)tri_deliver(v[i], &f);
			}
			tri_ctx_rele(v[i]);
		}
		tri_free(v);
	}
	tri_control_frame(
	    &f, body, TRI_K_NODE_DOWN, TR_REF_NIL, TR_REF_NIL, why, 0);
	f.tag = id;
	tri_sched_broadcast(&f);
	tri_node_broadcast(&f);
}

static void
tick(tri_peer *p, uint64_t now)
{
	tri_frame f;

	if (atomic_load(&p->last_sent) + D.tick_ms > now) {
		return;
	}
	memset(&f, 0, sizeof(f));
	f.kind = TRI_K_TICK;
	f.corr = tri_dist_now_us();
	(void)tri_wire_queue(p, &f, true);
}

static void *
dist_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&D.mtx);
	while (!D.stopping) {
		struct timespec ts;
		uint64_t now = tri_now_ms();

		for (uint32_t i = 0; i < D.npeers; i++) {
			tri_peer *p = &D.peers[i];
			tri_peer_dialer *close = NULL;
			bool up, down;
			uint32_t down_id;
			char name[TR_NAME_MAX + 1];

			if (!p->used) {
				continue;
			}
			/* (last_heard may be a little past `now`: arrivals
			 * store it on other threads meanwhile.) */
			if (p->up &&
			    atomic_load(&p->last_heard) + D.timeout_ms < now) {
				char why[96];
				snprintf(why, sizeof(why),
				    "nothing heard for %u ms", D.timeout_ms);
				tri_dist_down_locked(p, why);
			}
			if (p->out != NULL && !p->up && !p->close_out &&
			    p->dialed_at + HANDSHAKE_MS < now) {
				char why[256];
				snprintf(why, sizeof(why),
				    "connected to %s, but no handshake came "
				    "back "
				    "within %d ms (does it take our "
				    "certificate "
				    "and name, and can it reach %s?)",
				    p->url, HANDSHAKE_MS, D.url);
				if (strcmp(why, p->why) != 0) {
					fprintf(stderr, "troupe: node %s: %s\n",
					    D.name, why);
					snprintf(
					    p->why, sizeof(p->why), "%s", why);
				}
				tri_dist_down_locked(p, why);
			}
			if (p->close_out) {
				close = p->out;
				p->out = NULL;
				p->close_out = false;
			}
			if (p->out == NULL && !p->dialing && close == NULL &&
			    now >= p->next_dial && !D.fenced &&
			    (D.members == NULL || p->member)) {
				dial_locked(p);
			}
			up = p->announce_up;
			down = p->announce_down;
			down_id = p->down_id;
			p->announce_up = p->announce_down = false;
			snprintf(name, sizeof(name), "%s", p->name);
			if (p->up) {
				pthread_mutex_unlock(&D.mtx);
				tick(p, now);
				tri_wire_retry_held(p);
				tri_wire_retry_parked(p);
				tri_wire_flush_owed(p);
				pthread_mutex_lock(&D.mtx);
			}
			if (close != NULL || up || down) {
				uint32_t id = p->id;
				pthread_mutex_unlock(&D.mtx);
				tri_peer_dialer_close(close);
				if (down) {
					announce_down(down_id);
					tri_dist_tell_monitors(
					    name, down_id, false);
				}
				if (up) {
					tri_dist_tell_monitors(name, id, true);
				}
				pthread_mutex_lock(&D.mtx);
			}
		}
		tri_deadline_ts(tri_now_ms() + LOOP_MS, &ts);
		pthread_cond_timedwait(&D.cv, &D.mtx, &ts);
	}
	pthread_mutex_unlock(&D.mtx);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                      */

static int
copy_file(int k, const char *path, const char **out)
{
	*out = NULL;
	if (path == NULL) {
		return TR_OK;
	}
	if ((D.files[k] = tri_strdup(path)) == NULL) {
		return TR_ENOMEM;
	}
	*out = D.files[k];
	return TR_OK;
}

static bool
name_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > TR_NAME_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= ' ' || s[i] == '/') {
			return false;
		}
	}
	return true;
}

int
tri_dist_start(const tr_cluster_opts *o)
{
	char err[256];
	int rv;

	if (!name_ok(o->cluster) || !name_ok(o->node) || o->listen == NULL ||
	    strlen(o->listen) >= sizeof(D.url)) {
		fprintf(stderr,
		    "troupe: cluster options: cluster and node need names "
		    "(1..%d bytes, no spaces or '/'), and listen a URL\n",
		    TR_NAME_MAX);
		return TR_EINVAL;
	}
	if (strncmp(o->listen, "tcp://", 6) == 0 && !o->insecure) {
		fprintf(stderr,
		    "troupe: node %s: %s is plain tcp: say insecure to use "
		    "it (no authentication, no encryption)\n",
		    o->node, o->listen);
		return TR_EINVAL;
	}
	if (strncmp(o->listen, "tls+tcp://", 10) == 0 && o->insecure) {
		fprintf(stderr,
		    "troupe: node %s: insecure asks for tcp://, not %s\n",
		    o->node, o->listen);
		return TR_EINVAL;
	}
	if (o->membership != NULL && strcmp(o->membership, "static") != 0 &&
	    strcmp(o->membership, "etcd") != 0) {
		fprintf(stderr,
		    "troupe: node %s: membership %s: static or etcd, please\n",
		    o->node, o->membership);
		return TR_EINVAL;
	}
	pthread_once(&cv_once, cv_init);
	pthread_mutex_lock(&D.mtx);
	memset(&D.o, 0, sizeof(D.o));
	snprintf(D.cluster, sizeof(D.cluster), "%s", o->cluster);
	snprintf(D.name, sizeof(D.name), "%s", o->node);
	snprintf(D.url, sizeof(D.url), "%s", o->listen);
	D.insecure = o->insecure;
	D.tick_ms = o->tick_ms != 0 ? o->tick_ms : 500;
	D.timeout_ms = o->timeout_ms != 0 ? o->timeout_ms : 2500;
	if (D.timeout_ms < 2 * D.tick_ms) {
		D.timeout_ms = 2 * D.tick_ms;
	}
	D.npeers = 0;
	D.stopping = false;
	pthread_mutex_unlock(&D.mtx);
	if ((rv = copy_file(0, o->ca, &D.tls.ca)) != TR_OK ||
	    (rv = copy_file(1, o->cert, &D.tls.cert)) != TR_OK ||
	    (rv = copy_file(2, o->key, &D.tls.key)) != TR_OK) {
		goto fail;
	}
	srandom(
	    (unsigned)(tri_dist_now_us() ^ (uint64_t)getpid() ^ tri_rt.node));
	if ((rv = tri_peer_listen(&D.listener, D.url,
	         D.insecure ? NULL : &D.tls, TRI_DIST_MAXMSG, on_recv, on_pipe,
	         NULL, err, sizeof(err))) != TR_OK) {
		fprintf(stderr, "troupe: node %s: %s\n", D.name, err);
		goto fail;
	}
	__atomic_store_n(&D.on, true, __ATOMIC_RELEASE);
	if ((rv = tri_dist_gate_start()) != TR_OK ||
	    (rv = tri_dist_service_start(&D.service)) != TR_OK) {
		fprintf(stderr, "troupe: node %s: its service: %s\n", D.name,
		    tr_strerror(rv));
		goto fail_listener;
	}
	pthread_mutex_lock(&D.mtx);
	D.fenced = false;
	for (const char *const *s = o->seeds; s != NULL && *s != NULL; s++) {
		if (strcmp(*s, D.url) != 0) {
			(void)tri_dist_add_locked("", *s);
		}
	}
	pthread_mutex_unlock(&D.mtx);
	if (pthread_create(&D.thread, NULL, dist_main, NULL) != 0) {
		rv = TR_ERESOURCE;
		goto fail_listener;
	}
	if (o->membership != NULL && strcmp(o->membership, "etcd") == 0 &&
	    (rv = tri_dist_members_start(o)) != TR_OK) {
		pthread_mutex_lock(&D.mtx);
		D.stopping = true;
		pthread_cond_broadcast(&D.cv);
		pthread_mutex_unlock(&D.mtx);
		pthread_join(D.thread, NULL);
		goto fail_listener;
	}
	return TR_OK;

fail_listener:
	tri_dist_gate_stop();
	__atomic_store_n(&D.on, false, __ATOMIC_RELEASE);
	tri_peer_listener_close(D.listener);
	D.listener = NULL;
fail:
	for (int k = 0; k < 3; k++) {
		tri_free(D.files[k]);
		D.files[k] = NULL;
	}
	memset(&D.tls, 0, sizeof(D.tls));
	return rv;
}

void
tri_dist_stop(void)
{
	if (!tri_dist_on()) {
		return;
	}
	/* Out of etcd first: the others see this node leave at once. */
	if (D.members != NULL) {
		tri_members_stop(D.members);
		D.members = NULL;
	}
	/* What is queued goes out first (the last exit signals of this
	 * node's actors), for up to FLUSH_MS. */
	for (uint64_t until = tri_now_ms() + FLUSH_MS;;) {
		bool idle = true;
		for (uint32_t i = 0; i < D.npeers && idle; i++) {
			tri_peer *p = &D.peers[i];
			pthread_mutex_lock(&p->mtx);
			idle = p->wout == NULL ||
			    (!p->sending && p->ring == NULL &&
			        p->prio_head == NULL);
			pthread_mutex_unlock(&p->mtx);
		}
		if (idle || tri_now_ms() >= until) {
			break;
		}
		struct timespec ms = {0, 1000000L};
		nanosleep(&ms, NULL); /* a poll with a deadline */
	}
	pthread_mutex_lock(&D.mtx);
	D.stopping = true;
	pthread_cond_broadcast(&D.cv);
	pthread_mutex_unlock(&D.mtx);
	pthread_join(D.thread, NULL);
	pthread_mutex_lock(&D.mtx);
	while (D.dials > 0) {
		pthread_cond_wait(&D.cv, &D.mtx);
	}
	for (uint32_t i = 0; i < D.npeers; i++) {
		tri_peer *p = &D.peers[i];
		if (p->used) {
			tri_dist_down_locked(p, "this node stops");
		}
	}
	pthread_mutex_unlock(&D.mtx);
	/* The listener first: no arrival runs after this. */
	tri_peer_listener_close(D.listener);
	D.listener = NULL;
	for (uint32_t i = 0; i < D.npeers; i++) {
		tri_peer *p = &D.peers[i];
		tri_peer_dialer_close(p->out);
		p->out = NULL;
		tri_wire_reset(p, UINT64_MAX);
		tri_free(p->batch);
		pthread_mutex_destroy(&p->mtx);
		pthread_cond_destroy(&p->credit_cv);
	}
	D.npeers = 0;
	__atomic_store_n(&D.on, false, __ATOMIC_RELEASE);
	tri_dist_gate_stop();
	tri_dist_monitors_fini();
	for (int k = 0; k < 3; k++) {
		tri_free(D.files[k]);
		D.files[k] = NULL;
	}
	memset(&D.tls, 0, sizeof(D.tls));
}

/* ------------------------------------------------------------------ */
/* Sends                                                               */

int
tri_dist_peer(tr_ref r, tri_peer **out, uint64_t *session)
{
	int rv = TR_ENOPROC;

	if (!tri_dist_on()) {
		return tri_rt.is_root ? TR_ENOPROC : TR_ENOTSUP;
	}
	pthread_mutex_lock(&D.mtx);
	for (uint32_t i = 0; i < D.npeers; i++) {
		tri_peer *p = &D.peers[i];
		if (p->used && p->id == r.node && r.node != 0) {
			rv = p->up ? TR_OK : TR_ENOCONN;
			*out = p;
			*session = p->session;
			break;
		}
	}
	pthread_mutex_unlock(&D.mtx);
	return rv;
}

/*
 * target.c -- where a ref leads: a context of this process, or the
 * mailbox of another process of the node, reached over ipc through a
 * cached port and checked through that process's slot table.
 *
 * Ports to other processes are cached per incarnation (a ref), made on
 * first use, and dropped once the slot table says the incarnation is
 * gone or its process ended.  They are not paced: their receiver is in
 * another process; they coalesce while a send is in flight.
 *
 * A port is used only once the receiver's socket has taken its
 * connection, as the accept note in the receiver's slot table shows:
 * nng 1.5.2 can stop a listener for good while its transport still
 * completes connections, and what is sent on those is never read
 * (watch.h).  A dialer that is not taken asks the receiver's watch for
 * a check, and dials again.
 *
 * As a process exits, it says goodbye on each port and waits until each
 * receiver has read everything up to it (tri_remote_goodbye): a receiver
 * that sees the hang-up first drops what it has not read yet (nng checks
 * a connection for a hang-up before it reads it).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "buffer.h"
#include "ctx.h"
#include "dist.h"
#include "mailbox.h"
#include "msg.h"
#include "registry.h"
#include "runtime.h"
#include "target.h"
#include "scheduler.h"

#define BUCKETS 256

typedef struct tri_rport {
	tr_ref ref;
	tri_port *port; /* NULL while dialing, or if the dial failed */
	int refs;       /* users + 1 for the cache while cached */
	bool cached;
	bool dialing; /* one thread dials it; others wait for `dialed` */
	int err;      /* why the dial failed */
	struct tri_rport *next;
} tri_rport;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dialed = PTHREAD_COND_INITIALIZER;
static tri_rport *buckets[BUCKETS];
static tri_slottab **tabs; /* by proc; mapped on first use */
static uint32_t ntabs;

static unsigned
hash(tr_ref r)
{
	return (r.proc * 2654435761u ^ r.slot * 40503u ^ r.gen) % BUCKETS;
}

static void
rport_rele_locked(tri_rport *p, tri_rport **to_close)
{
	if (--p->refs == 0) {
		p->next = *to_close;
		*to_close = p;
	}
}

static void
close_list(tri_rport *list)
{
	while (list != NULL) {
		tri_rport *p = list;
		list = p->next;
		tri_port_free(p->port);
		tri_free(p);
	}
}

static void
uncache_locked(tri_rport *p, tri_rport **to_close)
{
	tri_rport **pp = &buckets[hash(p->ref)];

	if (!p->cached) {
		return;
	}
	while (*pp != NULL && *pp != p) {
		pp = &(*pp)->next;
	}
	if (*pp == p) {
		*pp = p->next;
	}
	p->cached = false;
	rport_rele_locked(p, to_close);
}

/* The slot table of proc, mapped on first use and kept.  The table is
 * mapped before the array grows: a proc named by a forged frame (from
 * another node, say) has no table file, and must not make the array
 * grow to it (found by fuzz_dist: proc 0xfffffffe overflowed it). */
static int
table_locked(uint32_t proc, tri_slottab **out)
{
	tri_slottab *t;
	int rv;

	if (proc < ntabs && tabs[proc] != NULL) {
		*out = tabs[proc];
		return TR_OK;
	}
	if (tri_rt.rundir[0] == '\0' || proc > UINT32_MAX - 16) {
		return TR_ENOPROC;
	}
	if ((rv = tri_slots_map(tri_rt.rundir, proc, &t)) != TR_OK) {
		return rv;
	}
	if (proc >= ntabs) {
		uint32_t n = proc + 16;
		tri_slottab **v = tri_realloc(tabs, n * sizeof(*v));
		if (v == NULL) {
			tri_slots_unmap(t);
			return TR_ENOMEM;
		}
		memset(v + ntabs, 0, (n - ntabs) * sizeof(*v));
		tabs = v;
		ntabs = n;
	}
	tabs[proc] = t;
	*out = t;
	return TR_OK;
}

int
tri_remote_table(uint32_t proc, tri_slottab **out)
{
	int rv;

	pthread_mutex_lock(&lock);
	rv = table_locked(proc, out);
	pthread_mutex_unlock(&lock);
	return rv;
}

/* Dials of a live actor's mailbox that may be refused, 1 ms apart. */
#define DIAL_TRIES 20
/* How long a dialer waits for the receiver to take its connection (far
 * more than it takes: well under a millisecond); and how long it tries
 * in all before it sends on a connection that was not seen taken. */
#define CONFIRM_MS 100
#define DIAL_DEADLINE_MS 3000

static bool
incarnation_lives(tri_slottab *tab, tr_ref r)
{
	return r.slot < TRI_SLOTS_MAX && atomic_load(&tab->alive) &&
	    (uint32_t)(atomic_load(&tab->slot[r.slot].word) >> 32) == r.gen;
}

/* Whether the process that owns tab has exited, reaped or not: the
 * root, which reaps members and announces their end, may be the very
 * thread that waits here (node.c announces deaths through ports). */
static bool
owner_exited(tri_slottab *tab)
{
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)tab->pid, 0);
	struct pollfd pf;
	bool gone;

	if (fd < 0) {
		return errno == ESRCH;
	}
	pf.fd = fd;
	pf.events = POLLIN; /* readable once the process has exited */
	gone = poll(&pf, 1, 0) == 1;
	close(fd);
	return gone;
}

/*
 * Whether r's mailbox will not take a connection any more: r ended, its
 * process exited, or is leaving (its actor ended; it only says goodbye,
 * member.c).  The node's root announces deaths through ports from one
 * thread, so that a dial to a process that is going must not wait.
 */
static bool
receiver_gone(tri_slottab *tab, tr_ref r)
{
	return !incarnation_lives(tab, r) || atomic_load(&tab->leaving) ||
	    owner_exited(tab);
}

/* Waits up to ms for r's socket to take a connection of ours made after
 * `since`, in slices, as long as r is not gone and its listener was not
 * replaced (`moved`: the count of replacements when we dialed). */
/* The accept note of the listener that `key` names: an actor's own
 * inbox, or a scheduler's (tri_sched_home_ref) for all its actors. */
static tri_accept_note *
note_of(tri_slottab *tab, tr_ref key)
{
	return key.slot >= TRI_SLOTS_MAX ?
	    &tab->home_note[(key.slot - TRI_SLOTS_MAX) & TRI_HOMES_MAX] :
	    &tab->note[key.slot];
}

static bool
taken(tri_accept_note *note, tri_slottab *tab, tr_ref r, uint32_t since,
    uint32_t moved, int ms)
{
	uint64_t until = tri_now_ms() + (uint64_t)ms;

	do {
		if (tri_note_wait_accepted(note, since, 20)) {
			return true;
		}
	} while (tri_now_ms() < until && !receiver_gone(tab, r) &&
	    atomic_load(&note->relistens) == moved);
	return false;
}

/*
 * A port to r's mailbox whose connection r's socket took.  A connection
 * not taken at once is kept while r's watch checks the listener: a
 * socket that is only slow (a loaded machine, nng's 100 ms pause after
 * some errors) takes it in the end, and dialing again would only start
 * over.  Only if the check replaced the listener is the connection dead
 * (it waits in the old one): then it is dropped, nothing having been
 * sent on it, and dialed again.  The root's node thread announces
 * deaths through ports: a dial must not wait longer than it has to.
 */
static int
dial_confirmed(tri_slottab *tab, tr_ref key, tr_ref r, tri_port **out)
{
	tri_accept_note *note = note_of(tab, key);
	uint64_t deadline = tri_now_ms() + DIAL_DEADLINE_MS;
	char url[512];
	int rv;

	if ((rv = tri_addr_ipc(url, sizeof(url), key, tri_rt.sockdir)) !=
	    TR_OK) {
		return rv;
	}
	for (;;) {
		uint32_t since = tri_note_seq(note);
		uint32_t moved = atomic_load(&note->relistens);
		rv = tri_port_open(out, url, false);
		/* Refused though its slot says it lives: its mailbox may be
		 * between two listeners (watch.c); try again for a little
		 * while. */
		for (int tries = 0; rv == TR_ENOPROC && tries < DIAL_TRIES &&
		     !receiver_gone(tab, r);
		     tries++) {
			struct timespec ms = {0, 1000000L};
			nanosleep(&ms, NULL);
			rv = tri_port_open(out, url, false);
		}
		if (rv != TR_OK) {
			return rv;
		}
		if (taken(note, tab, r, since, moved, CONFIRM_MS)) {
			return TR_OK;
		}
		/* Not taken yet: have r's watch check its listener (again
		 * each CONFIRM_MS), and wait for our connection meanwhile. */
		while (atomic_load(&note->relistens) == moved) {
			if (receiver_gone(tab, r)) {
				tri_port_free(*out);
				*out = NULL;
				return TR_ENOPROC;
			}
			if (tri_now_ms() >= deadline) {
				fprintf(stderr,
				    "troupe: pid %d: the mailbox of actor "
				    "%u.%u.%u did not take our connection "
				    "within "
				    "%d ms: using it anyway\n",
				    (int)getpid(), r.proc, r.slot, r.gen,
				    DIAL_DEADLINE_MS);
				return TR_OK;
			}
			tri_note_request_check(note, &tab->watch);
			if (taken(note, tab, r, since, moved, CONFIRM_MS)) {
				return TR_OK;
			}
		}
		/* The listener was replaced: ours waits in the old one. */
		tri_port_free(*out);
		*out = NULL;
	}
}

static tri_rport *
find_locked(tr_ref r)
{
	tri_rport *p;

	for (p = buckets[hash(r)]; p != NULL; p = p->next) {
		if (tr_ref_equal(p->ref, r)) {
			break;
		}
	}
	return p;
}

/* A lookup of ref that dials nothing: the slot table and record of
 * another process.  Called with the lock. */
static int
peek_locked(tr_ref r, tri_target *t, tri_rport **to_close)
{
	tri_slottab *tab;
	tri_rport *p;
	int rv;

	if ((rv = table_locked(r.proc, &tab)) != TR_OK) {
		return rv;
	}
	if (!incarnation_lives(tab, r)) {
		if ((p = find_locked(r)) != NULL) {
			uncache_locked(p, to_close);
		}
		return TR_ENOPROC;
	}
	t->tab = tab;
	t->rec = &tab->slot[r.slot];
	return TR_OK;
}

static int rport_get_locked(tr_ref key, const tri_target *t, tri_rport **out);
static int target_find(tr_ref r, tri_target *t, bool dial);

/* A member's way to another node: the root's gateway (dist_gw.c).  t
 * becomes a target of the gateway's mailbox (its slot is what a send
 * takes); the frame still names the actor it is for. */
static int
gateway_find(tri_target *t, bool dial)
{
	tri_slottab *root;
	tr_ref gw;
	int rv;

	if ((rv = tri_remote_table(0, &root)) != TR_OK) {
		return rv;
	}
	gw = root->gateway;
	if (tr_ref_is_nil(gw)) {
		return TR_ENOPROC; /* the node is in no cluster */
	}
	if ((rv = target_find(gw, t, dial)) == TR_OK) {
		t->via_gate = true;
	}
	return rv;
}

static int
target_find(tr_ref r, tri_target *t, bool dial)
{
	tri_rport *p, *to_close = NULL;
	uint32_t home;
	int rv = TR_OK;

	memset(t, 0, sizeof(*t));
	t->ref = r;
	if (r.slot == 0 || r.slot >= TRI_SLOTS_MAX) {
		return TR_ENOPROC;
	}
	if (r.node != tri_rt.node) {
		if (!dial) {
			return TR_ENOTSUP;
		}
		if (!tri_rt.is_root) {
			return gateway_find(t, dial);
		}
		rv = tri_dist_peer(r, &t->node, &t->node_session);
		if (rv != TR_OK) {
			t->node = NULL;
		}
		return rv;
	}
	if (r.proc == tri_rt.proc) {
		if ((t->local = tri_registry_get(r)) == NULL) {
			return TR_ENOPROC;
		}
		t->tab = tri_rt.slots;
		t->rec = &tri_rt.slots->slot[r.slot];
		return TR_OK;
	}
	pthread_mutex_lock(&lock);
	if ((rv = peek_locked(r, t, &to_close)) != TR_OK || !dial) {
		pthread_mutex_unlock(&lock);
		close_list(to_close);
		return rv;
	}
	/* A scheduled actor is reached through its scheduler's inbox. */
	home = tri_slot_home(t->rec, r.gen);
	rv = rport_get_locked(
	    home != 0 ? tri_sched_home_ref(r.node, r.proc, home) : r, t, &p);
	pthread_mutex_unlock(&lock);
	if (rv != TR_OK) {
		memset(t, 0, sizeof(*t));
		return rv;
	}
	t->remote = p;
	t->remote_home = home;
	return TR_OK;
}

/* A held port to what `key` names (an actor's own inbox, or a
 * scheduler's: tri_sched_home_ref), for sends to the live incarnation
 * t->ref of table t->tab.  Called with the lock; drops it while it dials
 * (other senders to the same key wait for that dial, others go on). */
static int
rport_get_locked(tr_ref key, const tri_target *t, tri_rport **out)
{
	tri_rport *p, *to_close = NULL;
	int rv = TR_OK;

	if ((p = find_locked(key)) == NULL) {
		if ((p = tri_calloc(1, sizeof(*p))) == NULL) {
			return TR_ENOMEM;
		}
		p->ref = key;
		p->refs = 2; /* the cache's and ours */
		p->cached = true;
		p->dialing = true;
		p->next = buckets[hash(key)];
		buckets[hash(key)] = p;
		pthread_mutex_unlock(&lock);
		rv = dial_confirmed(t->tab, key, t->ref, &p->port);
		pthread_mutex_lock(&lock);
		p->dialing = false;
		/* Out of descriptors or memory says nothing of the actor,
		 * which may well live: never TR_ENOPROC. */
		p->err =
		    rv == TR_ENOMEM || rv == TR_ERESOURCE ? rv : TR_ENOPROC;
		pthread_cond_broadcast(&dialed);
	} else {
		p->refs++;
		while (p->dialing) {
			pthread_cond_wait(&dialed, &lock);
		}
	}
	if (p->port == NULL) {
		rv = p->err;
		uncache_locked(p, &to_close);
		rport_rele_locked(p, &to_close);
		pthread_mutex_unlock(&lock);
		close_list(to_close);
		pthread_mutex_lock(&lock);
		return rv;
	}
	*out = p;
	return TR_OK;
}

int
tri_target_get(tr_ref r, tri_target *t)
{
	return target_find(r, t, true);
}

int
tri_target_peek(tr_ref r, tri_target *t)
{
	return target_find(r, t, false);
}

int
tri_target_get_quick(tr_ref r, tri_target *t)
{
	tri_ctx *c;

	if (r.slot != 0 && r.slot < TRI_SLOTS_MAX &&
	    (c = tri_sched_local(r)) != NULL) {
		memset(t, 0, sizeof(*t));
		t->ref = r;
		t->local = c;
		t->borrowed = true;
		t->tab = tri_rt.slots;
		t->rec = &tri_rt.slots->slot[r.slot];
		return TR_OK;
	}
	return tri_target_get(r, t);
}

void
tri_target_put(tri_target *t)
{
	tri_rport *to_close = NULL;

	if (t->local != NULL) {
		if (!t->borrowed) {
			tri_ctx_rele(t->local);
		}
		t->local = NULL;
	}
	if (t->remote != NULL) {
		pthread_mutex_lock(&lock);
		rport_rele_locked(t->remote, &to_close);
		pthread_mutex_unlock(&lock);
		close_list(to_close);
		t->remote = NULL;
	}
}

/* A scheduled actor of another process: count the frame in flight
 * (so that it is not moved meanwhile) and send it to its home now,
 * which may have changed since tri_target_get(). */
static int
deliver_remote_sched(tri_target *t, const tri_frame *f)
{
	uint32_t home;
	int rv;

	if (tri_slot_route(t->tab, t->rec, t->ref.gen, &home) != TR_OK ||
	    home == 0) {
		return TR_ENOPROC;
	}
	if (home != t->remote_home) {
		tri_rport *p, *to_close = NULL;
		pthread_mutex_lock(&lock);
		rv = rport_get_locked(
		    tri_sched_home_ref(t->ref.node, t->ref.proc, home), t, &p);
		if (rv == TR_OK) {
			rport_rele_locked(t->remote, &to_close);
			t->remote = p;
			t->remote_home = home;
		}
		pthread_mutex_unlock(&lock);
		close_list(to_close);
		if (rv != TR_OK) {
			tri_slot_routed(t->rec, t->ref.gen);
			return rv;
		}
	}
	rv = tri_port_send(t->remote->port, f);
	if (rv != TR_OK) {
		tri_slot_routed(t->rec, t->ref.gen);
	}
	return rv == TR_ECLOSED ? TR_ENOPROC : rv;
}

int
tri_target_deliver(tri_target *t, const tri_frame *f)
{
	uint32_t to = t->local != NULL ? tri_rt.proc : t->ref.proc;
	int rv;

	if (t->node != NULL) {
		/* Shared buffers are the node's: they do not cross nodes. */
		if ((f->flags & TRI_F_BUFS) != 0) {
			return TR_ENOTSUP;
		}
		return tri_dist_send(t->node, t->node_session, f);
	}
	/* A frame carrying buffers holds them on its way for the process
	 * it goes to (buffer.c): one that dies before it reads the frame
	 * has its holds dropped by the root, one that reads it owns them.
	 * A process the root has marked gone gets none: the send fails as
	 * a send to it does. */
	if ((f->flags & TRI_F_BUFS) != 0 &&
	    (rv = tri_buf_frame_hold(f, to,
	         t->local == NULL && t->tab != NULL ? &t->tab->alive : NULL)) !=
	        TR_OK) {
		return rv;
	}
	if (t->local != NULL) {
		rv = t->direct && t->local->kind != TRI_CTX_SCHED ?
		    tri_mailbox_arrive(t->local, f) :
		    tri_deliver(t->local, f);
	} else if (t->remote_home != 0) {
		rv = deliver_remote_sched(t, f);
	} else {
		rv = tri_port_send(t->remote->port, f);
		rv = rv == TR_ECLOSED ? TR_ENOPROC : rv;
	}
	if (rv != TR_OK) {
		tri_buf_frame_unhold(f, to);
	}
	return rv;
}

/*
 * Takes a slot in t's mailbox, waiting as the timeout says.  A
 * scheduled actor waits on its fiber, never on the futex (that would
 * stop its whole scheduler).  *home: where t lived as it was taken.
 */
static int
reserve(tri_target *t, const tri_frame *f, int timeout_ms, uint32_t *home)
{
	tri_ctx *self = tri_self();
	uint64_t deadline;
	int rv;

	*home = 0;
	if (t->node != NULL) {
		return tri_dist_credit_take(t->node, t->node_session, t->ref,
		    tri_dist_cost(f->body_len), timeout_ms);
	}
	if (self == NULL || self->kind != TRI_CTX_SCHED) {
		rv = tri_slot_reserve(t->tab, t->rec, t->ref.gen, timeout_ms,
		    t->local != NULL && t->local == self);
		if (rv == TR_OK && t->local != NULL &&
		    t->local->kind == TRI_CTX_SCHED) {
			*home = tri_slot_home(t->rec, t->ref.gen);
		}
		return rv;
	}
	for (bool first = true;; first = false) {
		rv = tri_slot_try(t->tab, t->rec, t->ref.gen, home);
		if (rv != TR_EFULL || timeout_ms == TR_NOWAIT ||
		    t->local == self) {
			return rv;
		}
		if (first) { /* the clock only for a full mailbox */
			deadline = tri_deadline(timeout_ms);
		}
		if ((rv = tri_sched_space_wait(self, deadline)) != TR_OK) {
			return rv;
		}
	}
}

/* Gives back what reserve() took, for a send that failed. */
static void
release(tri_target *t, const tri_frame *f)
{
	if (t->node != NULL) {
		tri_dist_credit_give(t->node, t->node_session, t->ref,
		    tri_dist_cost(f->body_len));
	} else {
		tri_slot_release(t->rec, t->ref.gen, 1);
	}
}

int
tri_target_send_msg(
    tri_target *t, const tri_frame *f, int timeout_ms, tr_msg *msg)
{
	tri_ctx *self = tri_self();
	uint32_t home;
	int rv;

	if ((rv = reserve(t, f, timeout_ms, &home)) != TR_OK) {
		return rv;
	}
	if (self != NULL) {
		tri_count_out(self, 1);
	}
	TRI_STAT(sent);
	/* Between two actors of one scheduler: the message itself. */
	if (msg != NULL && t->local != NULL &&
	    t->local->kind == TRI_CTX_SCHED &&
	    tri_sched_handover(t->local, home, msg, f->kind, f->corr)) {
		return TR_OK;
	}
	if ((rv = tri_target_deliver(t, f)) != TR_OK) {
		release(t, f);
		if (self != NULL) {
			tri_count_out(self, -1);
		}
		atomic_fetch_sub_explicit(
		    &tri_rt.sent, 1, memory_order_relaxed);
		return rv;
	}
	tr_msg_free(msg);
	return TR_OK;
}

int
tri_target_send(tri_target *t, const tri_frame *f, int timeout_ms)
{
	tri_ctx *self = tri_self();
	uint32_t home;
	int rv;

	if ((rv = reserve(t, f, timeout_ms, &home)) != TR_OK) {
		return rv;
	}
	/* Counted before the receiver can see it, taken back on failure. */
	if (self != NULL) {
		tri_count_out(self, 1);
	}
	TRI_STAT(sent);
	if ((rv = tri_target_deliver(t, f)) != TR_OK) {
		release(t, f);
		if (self != NULL) {
			tri_count_out(self, -1);
		}
		atomic_fetch_sub_explicit(
		    &tri_rt.sent, 1, memory_order_relaxed);
	}
	return rv;
}

/* Every cached port that has a connection, held (refs + 1). */
static tri_rport **
hold_all(size_t *n)
{
	tri_rport **list = NULL;
	size_t cap = 0;

	*n = 0;
	pthread_mutex_lock(&lock);
	for (unsigned b = 0; b < BUCKETS; b++) {
		for (tri_rport *p = buckets[b]; p != NULL; p = p->next) {
			if (p->port == NULL) {
				continue; /* dialing: nothing sent on it yet */
			}
			if (*n == cap) {
				size_t ncap = cap ? 2 * cap : 64;
				tri_rport **v =
				    tri_realloc(list, ncap * sizeof(*v));
				if (v == NULL) {
					goto out;
				}
				list = v;
				cap = ncap;
			}
			p->refs++;
			list[(*n)++] = p;
		}
	}
out:
	pthread_mutex_unlock(&lock);
	return list;
}

static void
release_all(tri_rport **list, size_t n)
{
	tri_rport *to_close = NULL;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < n; i++) {
		rport_rele_locked(list[i], &to_close);
	}
	pthread_mutex_unlock(&lock);
	close_list(to_close);
	tri_free(list);
}

/* Whether r's mailbox still reads what arrives: its slot says so, and,
 * if `look`, its process has not exited (killed, the root may not have
 * said so yet). */
static bool
still_reads(tr_ref r, bool look)
{
	tri_slottab *tab;

	if (tri_remote_table(r.proc, &tab) != TR_OK) {
		return false;
	}
	return incarnation_lives(tab, r) && !(look && owner_exited(tab));
}

/* Names on stderr the receivers that did not confirm a goodbye. */
static void
report_unconfirmed(tri_rport **v, size_t n, const bool *sent)
{
	tri_slottab *me = tri_rt.slots;

	for (size_t i = 0; i < n; i++) {
		uint32_t bits = atomic_load(&me->bye_bits[i / 32]);
		if (sent[i] && (bits & (1u << (i % 32))) == 0) {
			fprintf(stderr,
			    "troupe: pid %d: actor %u.%u.%u did not confirm "
			    "our goodbye\n",
			    (int)getpid(), v[i]->ref.proc, v[i]->ref.slot,
			    v[i]->ref.gen);
		}
	}
}

/* Says goodbye on ports v[0..n) (n <= TRI_BYE_MAX), numbered by index,
 * and waits for the acknowledgements. */
static bool
goodbye_some(tri_rport **v, size_t n, uint64_t deadline_ms)
{
	tri_slottab *me = tri_rt.slots;
	bool sent[TRI_BYE_MAX];
	tri_frame f;

	for (size_t i = 0; i < TRI_BYE_MAX / 32; i++) {
		atomic_store(&me->bye_bits[i], 0);
	}
	for (size_t i = 0; i < n; i++) {
		memset(&f, 0, sizeof(f));
		f.kind = TRI_K_BYE;
		f.sender = tri_rt.main != NULL ?
		    tri_rt.main->ref :
		    (tr_ref){tri_rt.node, tri_rt.proc, 0, 0};
		f.dest = v[i]->ref;
		f.corr = i;
		/* Alone in its nng message, and the port's last. */
		sent[i] = still_reads(v[i]->ref, false) &&
		    tri_port_goodbye(v[i]->port, &f, deadline_ms) == TR_OK;
	}
	/* Whatever the flushes took, the goodbyes get a moment of their
	 * own: a round trip takes well under a millisecond. */
	if (deadline_ms < tri_now_ms() + 100) {
		deadline_ms = tri_now_ms() + 100;
	}
	for (uint64_t next_look = tri_now_ms() + 20;;) {
		uint32_t seq = atomic_load(&me->bye_seq);
		bool done = true, look = tri_now_ms() >= next_look;
		if (look) {
			next_look = tri_now_ms() + 20;
		}
		for (size_t i = 0; i < n && done; i++) {
			uint32_t bits = atomic_load(&me->bye_bits[i / 32]);
			/* A receiver that ended reads nothing more: what it
			 * had accepted and not handled are dead letters (its
			 * own count as it ended, or the root's if its process
			 * died: node.c). */
			done = !sent[i] || (bits & (1u << (i % 32))) != 0 ||
			    !still_reads(v[i]->ref, look);
		}
		if (done) {
			return true;
		}
		if (tri_now_ms() >= deadline_ms) {
			report_unconfirmed(v, n, sent);
			return false;
		}
		{
			uint64_t left = deadline_ms - tri_now_ms();
			tri_futex_wait(
			    &me->bye_seq, seq, left < 20 ? (int)left : 20);
		}
	}
}

bool
tri_remote_goodbye(uint64_t deadline_ms)
{
	tri_rport **list;
	size_t n;
	bool all = true;

	if ((list = hold_all(&n)) == NULL && n > 0) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		/* Not to a receiver that ended: what it had accepted is
		 * counted, and a port to it may never get rid of the rest
		 * (its push socket waits for a connection). */
		if (still_reads(list[i]->ref, true)) {
			all &= tri_port_flush(list[i]->port, deadline_ms);
		}
	}
	for (size_t i = 0; i < n && tri_rt.slots != NULL; i += TRI_BYE_MAX) {
		size_t k = n - i < TRI_BYE_MAX ? n - i : TRI_BYE_MAX;
		all &= goodbye_some(list + i, k, deadline_ms);
	}
	release_all(list, n);
	return all;
}

void
tri_bye_ack(uint32_t proc, uint64_t token)
{
	tri_slottab *tab;

	if (token >= TRI_BYE_MAX || proc == tri_rt.proc) {
		return;
	}
	if (tri_remote_table(proc, &tab) != TR_OK) {
		return;
	}
	atomic_fetch_or(&tab->bye_bits[token / 32], 1u << (token % 32));
	atomic_fetch_add(&tab->bye_seq, 1);
	tri_futex_wake(&tab->bye_seq);
}

void
tri_remote_forget_proc(uint32_t proc)
{
	tri_rport *to_close = NULL;

	pthread_mutex_lock(&lock);
	for (unsigned b = 0; b < BUCKETS; b++) {
		for (tri_rport *p = buckets[b], *next; p != NULL; p = next) {
			next = p->next;
			if (p->ref.proc == proc) {
				uncache_locked(p, &to_close);
			}
		}
	}
	pthread_mutex_unlock(&lock);
	close_list(to_close);
}

void
tri_remote_fini(void)
{
	tri_rport *to_close = NULL;

	pthread_mutex_lock(&lock);
	for (unsigned b = 0; b < BUCKETS; b++) {
		while (buckets[b] != NULL) {
			uncache_locked(buckets[b], &to_close);
		}
	}
	for (uint32_t i = 0; i < ntabs; i++) {
		tri_slots_unmap(tabs[i]);
	}
	tri_free(tabs);
	tabs = NULL;
	ntabs = 0;
	pthread_mutex_unlock(&lock);
	close_list(to_close);
}

int
tri_send_control_ref(
    tr_ref to, int kind, tr_ref about, tr_reason why, uint64_t mon)
{
	uint8_t body[TRI_CONTROL_BODY];
	tri_target t;
	tri_frame f;
	int rv;

	if ((rv = tri_target_get(to, &t)) != TR_OK) {
		return rv;
	}
	tri_control_frame(&f, body, kind, about, to, why, mon);
	rv = tri_target_deliver(&t, &f);
	tri_target_put(&t);
	return rv;
}

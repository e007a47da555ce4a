/*
 * target.c -- where a ref leads: a context of this process, or the
 * mailbox of another process of the node, reached over ipc through a
 * cached port and checked through that process's slot table.
 *
 * Ports to other processes are cached per incarnation (a ref), made on
 * first use, and dropped once the slot table says the incarnation is
 * gone or its process ended.  They are not paced: their receiver is in
 * another process; they coalesce while a send is in flight.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "scheduler.h"

#define BUCKETS 256

typedef struct tri_rport {
	tr_ref ref;
	tri_port *port;
	int refs; /* users + 1 for the cache while cached */
	bool cached;
	struct tri_rport *next;
} tri_rport;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
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

	while (*pp != NULL && *pp != p) {
		pp = &(*pp)->next;
	}
	if (*pp == p) {
		*pp = p->next;
	}
	p->cached = false;
	rport_rele_locked(p, to_close);
}

/* The slot table of proc, mapped on first use and kept. */
static int
table_locked(uint32_t proc, tri_slottab **out)
{
	int rv;

	if (proc >= ntabs) {
		uint32_t n = proc + 16;
		tri_slottab **v = tri_realloc(tabs, n * sizeof(*v));
		if (v == NULL) {
			return TR_ENOMEM;
		}
		memset(v + ntabs, 0, (n - ntabs) * sizeof(*v));
		tabs = v;
		ntabs = n;
	}
	if (tabs[proc] == NULL) {
		if (tri_rt.rundir[0] == '\0') {
			return TR_ENOPROC;
		}
		if ((rv = tri_slots_map(tri_rt.rundir, proc, &tabs[proc])) !=
		    TR_OK) {
			return rv;
		}
	}
	*out = tabs[proc];
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

static bool
incarnation_lives(tri_slottab *tab, tr_ref r)
{
	return r.slot < TRI_SLOTS_MAX && atomic_load(&tab->alive) &&
	    (uint32_t)(atomic_load(&tab->slot[r.slot].word) >> 32) == r.gen;
}

/*
 * Whether the process pid still runs: it exists and is no zombie.  A
 * process killed a moment ago still has a live slot table until the
 * root has heard of its end; a dial to it is refused, and waiting for
 * its mailbox to come back would be waiting for the dead.
 */
static bool
process_runs(int32_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	FILE *f;

	if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno != EPERM)) {
		return false;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL) {
		return errno != ENOENT; /* no /proc: trust kill() */
	}
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = '\0';
	/* "pid (comm) S ...": comm may hold anything but ends at the last
	 * ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ') {
		return false;
	}
	return p[2] != 'Z' && p[2] != 'X';
}

/* A lookup of ref that dials nothing: local context held, or the slot
 * table and record of another process.  Called with the lock. */
static int
peek_locked(tr_ref r, tri_target *t, tri_rport **to_close)
{
	tri_slottab *tab;
	int rv;

	if ((rv = table_locked(r.proc, &tab)) != TR_OK) {
		return rv;
	}
	if (!incarnation_lives(tab, r)) {
		for (tri_rport *p = buckets[hash(r)]; p != NULL; p = p->next) {
			if (tr_ref_equal(p->ref, r)) {
				uncache_locked(p, to_close);
				break;
			}
		}
		return TR_ENOPROC;
	}
	t->tab = tab;
	t->rec = &tab->slot[r.slot];
	return TR_OK;
}

/* A held port to what `key` names (an actor's own inbox, or a
 * scheduler's: tri_sched_home_ref), for sends to the live incarnation r
 * whose slot table t holds.  Called with the lock; dials if need be. */
static int
rport_get_locked(tr_ref key, const tri_target *t, tri_rport **out)
{
	tri_rport *p;
	char url[512];
	int rv;

	for (p = buckets[hash(key)]; p != NULL; p = p->next) {
		if (tr_ref_equal(p->ref, key)) {
			break;
		}
	}
	if (p == NULL) {
		/* Dial outside the lock would race a second dialer; dialing
		 * ipc is a local connect, short enough to hold it. */
		if ((p = tri_calloc(1, sizeof(*p))) == NULL) {
			return TR_ENOMEM;
		}
		if ((rv = tri_addr_ipc(url, sizeof(url), key, tri_rt.sockdir)) ==
		    TR_OK) {
			rv = tri_port_open(&p->port, url, false);
		}
		/* Refused though its slot says it lives: its mailbox may be
		 * between two listeners (tri_mailboxes_check); try again
		 * for a little while -- while its process runs. */
		for (int tries = 0; rv == TR_ENOPROC && tries < DIAL_TRIES &&
		     incarnation_lives(t->tab, t->ref) &&
		     process_runs(t->tab->pid);
		     tries++) {
			struct timespec ms = {0, 1000000L};
			nanosleep(&ms, NULL);
			rv = tri_port_open(&p->port, url, false);
		}
		if (rv != TR_OK) {
			tri_free(p);
			/* Out of descriptors or memory says nothing of the
			 * actor, which may well live: never TR_ENOPROC. */
			if (rv != TR_ERESOURCE && rv != TR_ENOMEM) {
				rv = TR_ENOPROC;
			}
			return rv;
		}
		p->ref = key;
		p->refs = 1;
		p->cached = true;
		p->next = buckets[hash(key)];
		buckets[hash(key)] = p;
	}
	p->refs++;
	*out = p;
	return TR_OK;
}

static int
target_find(tr_ref r, tri_target *t, bool dial)
{
	tri_rport *p, *to_close = NULL;
	uint32_t home;
	int rv;

	memset(t, 0, sizeof(*t));
	t->ref = r;
	if (r.node != tri_rt.node || r.slot == 0 || r.slot >= TRI_SLOTS_MAX) {
		return TR_ENOPROC; /* other nodes: with distribution */
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
		rv = rport_get_locked(tri_sched_home_ref(t->ref.node,
		                          t->ref.proc, home),
		    t, &p);
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
	int rv;

	if (t->local != NULL) {
		return tri_deliver(t->local, f);
	}
	if (t->remote_home != 0) {
		return deliver_remote_sched(t, f);
	}
	rv = tri_port_send(t->remote->port, f);
	return rv == TR_ECLOSED ? TR_ENOPROC : rv;
}

/*
 * Takes a slot in t's mailbox, waiting as the timeout says.  A
 * scheduled actor waits on its fiber, never on the futex (that would
 * stop its whole scheduler).  *home: where t lived as it was taken.
 */
static int
reserve(tri_target *t, int timeout_ms, uint32_t *home)
{
	tri_ctx *self = tri_self();
	uint64_t deadline;
	int rv;

	*home = 0;
	if (self == NULL || self->kind != TRI_CTX_SCHED) {
		rv = tri_slot_reserve(t->tab, t->rec, t->ref.gen, timeout_ms,
		    t->local != NULL && t->local == self);
		if (rv == TR_OK && t->local != NULL &&
		    t->local->kind == TRI_CTX_SCHED) {
			*home = tri_slot_home(t->rec, t->ref.gen);
		}
		return rv;
	}
	deadline = tri_deadline(timeout_ms);
	for (;;) {
		rv = tri_slot_try(t->tab, t->rec, t->ref.gen, home);
		if (rv != TR_EFULL || timeout_ms == TR_NOWAIT ||
		    t->local == self) {
			return rv;
		}
		if ((rv = tri_sched_space_wait(self, deadline)) != TR_OK) {
			return rv;
		}
	}
}

int
tri_target_send_msg(
    tri_target *t, const tri_frame *f, int timeout_ms, tr_msg *msg)
{
	tri_ctx *self = tri_self();
	uint32_t home;
	int rv;

	if ((rv = reserve(t, timeout_ms, &home)) != TR_OK) {
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
		tri_slot_release(t->rec, t->ref.gen, 1);
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

	if ((rv = reserve(t, timeout_ms, &home)) != TR_OK) {
		return rv;
	}
	/* Counted before the receiver can see it, taken back on failure. */
	if (self != NULL) {
		tri_count_out(self, 1);
	}
	TRI_STAT(sent);
	if ((rv = tri_target_deliver(t, f)) != TR_OK) {
		tri_slot_release(t->rec, t->ref.gen, 1);
		if (self != NULL) {
			tri_count_out(self, -1);
		}
		atomic_fetch_sub_explicit(
		    &tri_rt.sent, 1, memory_order_relaxed);
	}
	return rv;
}

bool
tri_remote_flush(uint64_t deadline_ms)
{
	tri_rport *list[256];
	size_t n = 0;
	bool all = true;

	pthread_mutex_lock(&lock);
	for (unsigned b = 0; b < BUCKETS && n < 256; b++) {
		for (tri_rport *p = buckets[b]; p != NULL && n < 256;
		     p = p->next) {
			p->refs++;
			list[n++] = p;
		}
	}
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; i < n; i++) {
		all &= tri_port_flush(list[i]->port, deadline_ms);
	}
	for (size_t i = 0; i < n; i++) {
		tri_rport *to_close = NULL;
		pthread_mutex_lock(&lock);
		rport_rele_locked(list[i], &to_close);
		pthread_mutex_unlock(&lock);
		close_list(to_close);
	}
	return all;
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

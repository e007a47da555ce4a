/*
 * slots.c -- the shared slot table (see slots.h).
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"
#include "slots.h"

_Static_assert(sizeof(tri_slotrec) == TRI_SLOTREC_SIZE,
    "slot records are TRI_SLOTREC_SIZE bytes");

#define DEPTH_MASK ((1u << TRI_SLOT_DEPTH_BITS) - 1u)
#define HOME_SHIFT TRI_SLOT_DEPTH_BITS
#define MOVING_BIT (1u << 31)
#define GEN(w) ((uint32_t)((w) >> 32))
#define DEPTH(w) ((uint32_t)(w)&DEPTH_MASK)
#define HOME(w) ((((uint32_t)(w)) >> HOME_SHIFT) & TRI_HOMES_MAX)
#define MOVING(w) ((((uint32_t)(w)) & MOVING_BIT) != 0)
#define WORD(g, h, d) \
	(((uint64_t)(g) << 32) | ((uint64_t)(h) << HOME_SHIFT) | (uint64_t)(d))

/* The timers word: gen in the high half, the count in the low. */
#define TCOUNT(w) ((uint32_t)(w))
#define TWORD(g, n) (((uint64_t)(g) << 32) | (uint64_t)(uint32_t)(n))

_Static_assert(TRI_SLOT_DEPTH_BITS + TRI_SLOT_HOME_BITS + 1 == 32,
    "gen, moving, home and depth fill the word");

/* A move takes a few instructions: spin, then yield. */
static void
wait_move(unsigned *spins)
{
	if (++*spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	} else {
		sched_yield();
	}
}

static void
table_path(char *buf, size_t len, const char *dir, uint32_t proc)
{
	snprintf(buf, len, "%s/%u.slots", dir, proc);
}

int
tri_slots_create(const char *dir, uint32_t proc, tri_slottab **out)
{
	char path[PATH_MAX];
	tri_slottab *t;
	int fd, rv;

	table_path(path, sizeof(path), dir, proc);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		return tri_err_errno(errno);
	}
	if (ftruncate(fd, sizeof(tri_slottab)) != 0) {
		rv = tri_err_errno(errno);
		close(fd);
		unlink(path);
		return rv;
	}
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		rv = tri_err_errno(errno);
		close(fd);
		unlink(path);
		return rv;
	}
	close(fd);
	t->proc = proc;
	t->pid = (int32_t)getpid();
	atomic_store(&t->alive, 1);
	atomic_store(&t->orderly, 0);
	__atomic_store_n(&t->magic, TRI_SLOTS_MAGIC, __ATOMIC_RELEASE);
	*out = t;
	return TR_OK;
}

int
tri_slots_map(const char *dir, uint32_t proc, tri_slottab **out)
{
	char path[PATH_MAX];
	struct stat st;
	tri_slottab *t;
	int fd, rv;

	*out = NULL;
	table_path(path, sizeof(path), dir, proc);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		/* No file is no process; no descriptor is no verdict. */
		rv = tri_err_errno(errno);
		return rv == TR_ERESOURCE || rv == TR_ENOMEM ? rv : TR_ENOPROC;
	}
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(tri_slottab)) {
		close(fd);
		return TR_ENOPROC;
	}
	t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		rv = tri_err_errno(errno);
		close(fd);
		return rv == TR_ERESOURCE || rv == TR_ENOMEM ? rv : TR_ENOPROC;
	}
	close(fd);
	if (__atomic_load_n(&t->magic, __ATOMIC_ACQUIRE) != TRI_SLOTS_MAGIC ||
	    t->proc != proc) {
		munmap(t, sizeof(*t));
		return TR_ENOPROC;
	}
	*out = t;
	return TR_OK;
}

void
tri_slots_unmap(tri_slottab *t)
{
	if (t != NULL) {
		munmap(t, sizeof(*t));
	}
}

void
tri_slots_remove(const char *dir, uint32_t proc)
{
	char path[PATH_MAX];
	table_path(path, sizeof(path), dir, proc);
	unlink(path);
}

static void
futex_wake(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void
futex_wait(_Atomic uint32_t *addr, uint32_t val, uint64_t deadline)
{
	struct timespec rel, *tp = NULL;

	if (deadline != UINT64_MAX) {
		uint64_t now = tri_now_ms();
		uint64_t left = deadline > now ? deadline - now : 0;
		rel.tv_sec = (time_t)(left / 1000u);
		rel.tv_nsec = (long)(left % 1000u) * 1000000L;
		tp = &rel;
	}
	syscall(SYS_futex, addr, FUTEX_WAIT, val, tp, NULL, 0);
}

void
tri_slots_used(tri_slottab *t, uint32_t slot)
{
	uint32_t hi = atomic_load(&t->hiwater);

	while (slot + 1 > hi &&
	    !atomic_compare_exchange_weak(&t->hiwater, &hi, slot + 1)) {
	}
}

void
tri_slot_open(tri_slotrec *r, uint32_t gen, uint32_t capacity,
    uint32_t placement, const char *behavior, uint32_t home)
{
	r->capacity = capacity;
	atomic_store(&r->inflight, 0);
	atomic_store(&r->busy_since, 0);
	r->placement = placement;
	atomic_store(&r->msgs_in, 0);
	atomic_store(&r->msgs_out, 0);
	atomic_store(&r->timers, TWORD(gen, 0));
	atomic_store(&r->named, 0);
	atomic_store(&r->pid, 0);
	snprintf(r->behavior, sizeof(r->behavior), "%s", behavior);
	atomic_store(&r->word, WORD(gen, home, 0));
}

uint32_t
tri_slot_close(tri_slotrec *r, uint32_t gen)
{
	uint64_t w = atomic_load(&r->word);

	while (GEN(w) == gen) {
		if (MOVING(w)) {
			/* Only the home's thread moves, and it is this one. */
			w = atomic_load(&r->word);
			continue;
		}
		if (atomic_compare_exchange_weak(&r->word, &w, WORD(0, 0, 0))) {
			atomic_fetch_add(&r->seq, 1);
			if (atomic_load(&r->waiters) != 0) {
				futex_wake(&r->seq);
			}
			return DEPTH(w);
		}
	}
	return 0;
}

int
tri_slot_reserve(
    tri_slottab *t, tri_slotrec *r, uint32_t gen, int timeout_ms, bool nowait)
{
	uint64_t deadline = UINT64_MAX;
	bool timed = false;
	unsigned spins = 0;

	for (;;) {
		uint64_t w = atomic_load(&r->word);
		uint32_t seq;

		if (GEN(w) != gen || !atomic_load(&t->alive)) {
			return TR_ENOPROC;
		}
		if (MOVING(w)) {
			wait_move(&spins);
			continue;
		}
		if (DEPTH(w) < r->capacity) {
			if (atomic_compare_exchange_weak(&r->word, &w, w + 1)) {
				return TR_OK;
			}
			continue;
		}
		if (nowait || timeout_ms == TR_NOWAIT) {
			return TR_EFULL;
		}
		if (!timed) {
			deadline = tri_deadline(timeout_ms);
			timed = true;
		} else if (deadline != UINT64_MAX && tri_now_ms() >= deadline) {
			return TR_ETIMEDOUT;
		}
		/* Announce ourselves, then look again before sleeping: a
		 * release between our look and the futex would otherwise be
		 * missed (the futex compares seq atomically). */
		seq = atomic_load(&r->seq);
		atomic_fetch_add(&r->waiters, 1);
		w = atomic_load(&r->word);
		if (GEN(w) == gen && DEPTH(w) >= r->capacity &&
		    atomic_load(&t->alive)) {
			futex_wait(&r->seq, seq, deadline);
		}
		atomic_fetch_sub(&r->waiters, 1);
	}
}

int
tri_slot_try(tri_slottab *t, tri_slotrec *r, uint32_t gen, uint32_t *home)
{
	unsigned spins = 0;

	for (;;) {
		uint64_t w = atomic_load(&r->word);

		if (GEN(w) != gen || !atomic_load(&t->alive)) {
			return TR_ENOPROC;
		}
		if (MOVING(w)) {
			wait_move(&spins);
			continue;
		}
		if (DEPTH(w) >= r->capacity) {
			return TR_EFULL;
		}
		if (atomic_compare_exchange_weak(&r->word, &w, w + 1)) {
			*home = HOME(w);
			return TR_OK;
		}
	}
}

int
tri_slot_route(tri_slottab *t, tri_slotrec *r, uint32_t gen, uint32_t *home)
{
	unsigned spins = 0;

	for (;;) {
		uint64_t w = atomic_load(&r->word);

		if (GEN(w) != gen || !atomic_load(&t->alive)) {
			return TR_ENOPROC;
		}
		if (HOME(w) == 0) {
			*home = 0; /* its own inbox: never moves */
			return TR_OK;
		}
		if (MOVING(w)) {
			wait_move(&spins);
			continue;
		}
		/* Count ourselves in flight, then look again: a move that
		 * started meanwhile either sees us (and gives up) or we see
		 * it (and wait for it).  Both are sequentially consistent. */
		atomic_fetch_add(&r->inflight, 1);
		w = atomic_load(&r->word);
		if (GEN(w) != gen) {
			atomic_fetch_sub(&r->inflight, 1);
			return TR_ENOPROC;
		}
		if (MOVING(w)) {
			atomic_fetch_sub(&r->inflight, 1);
			wait_move(&spins);
			continue;
		}
		*home = HOME(w);
		return TR_OK;
	}
}

void
tri_slot_routed(tri_slotrec *r, uint32_t gen)
{
	uint32_t n = atomic_load(&r->inflight);

	/* Never below zero, whatever a forged frame claims. */
	while (n > 0 && GEN(atomic_load(&r->word)) == gen) {
		if (atomic_compare_exchange_weak(&r->inflight, &n, n - 1)) {
			return;
		}
	}
}

uint32_t
tri_slot_home(tri_slotrec *r, uint32_t gen)
{
	uint64_t w = atomic_load(&r->word);
	return GEN(w) == gen ? HOME(w) : 0;
}

bool
tri_slot_move_begin(tri_slotrec *r, uint32_t gen, uint32_t from)
{
	uint64_t w = atomic_load(&r->word);

	for (;;) {
		if (GEN(w) != gen || HOME(w) != from || MOVING(w)) {
			return false;
		}
		if (atomic_compare_exchange_weak(
		        &r->word, &w, w | MOVING_BIT)) {
			break;
		}
	}
	/* No sender can take a slot or count itself in flight now without
	 * seeing the move; if one is in flight already, give up. */
	if (atomic_load(&r->inflight) != 0) {
		tri_slot_move_end(r, gen, from);
		return false;
	}
	return true;
}

void
tri_slot_move_end(tri_slotrec *r, uint32_t gen, uint32_t to)
{
	uint64_t w = atomic_load(&r->word);

	/* Only the mover changes gen or home while the bit is set; others
	 * may change the depth (a release). */
	while (GEN(w) == gen &&
	    !atomic_compare_exchange_weak(
	        &r->word, &w, WORD(gen, to, DEPTH(w)))) {
	}
}

void
tri_slot_release(tri_slotrec *r, uint32_t gen, uint32_t n)
{
	uint64_t w = atomic_load(&r->word);

	while (GEN(w) == gen && DEPTH(w) >= n) {
		if (atomic_compare_exchange_weak(&r->word, &w, w - n)) {
			if (atomic_load(&r->waiters) != 0) {
				atomic_fetch_add(&r->seq, 1);
				futex_wake(&r->seq);
			}
			return;
		}
	}
}

uint32_t
tri_slot_depth(tri_slotrec *r, uint32_t gen)
{
	uint64_t w = atomic_load(&r->word);
	return GEN(w) == gen ? DEPTH(w) : 0;
}

void
tri_slot_timers_add(tri_slotrec *r, uint32_t gen, int64_t d)
{
	uint64_t w = atomic_load(&r->timers);

	while (GEN(w) == gen) {
		int64_t n = (int64_t)TCOUNT(w) + d;
		uint64_t nw =
		    TWORD(gen, n < 0 ? 0 : (n > UINT32_MAX ? UINT32_MAX : n));
		if (atomic_compare_exchange_weak(&r->timers, &w, nw)) {
			return;
		}
	}
}

uint32_t
tri_slot_timers(tri_slotrec *r, uint32_t gen)
{
	uint64_t w = atomic_load(&r->timers);
	return GEN(w) == gen ? TCOUNT(w) : 0;
}

void
tri_slots_wake_all(tri_slottab *t)
{
	uint32_t hi = atomic_load(&t->hiwater);

	atomic_store(&t->alive, 0);
	/* Only the records ever used: the rest of the 2 MB table was never
	 * touched, and reading it would fault every page in. */
	for (uint32_t i = 0; i < hi && i < TRI_SLOTS_MAX; i++) {
		if (atomic_load(&t->slot[i].waiters) != 0) {
			atomic_fetch_add(&t->slot[i].seq, 1);
			futex_wake(&t->slot[i].seq);
		}
	}
}

uint64_t
tri_slots_close_all(tri_slottab *t)
{
	uint32_t hi = atomic_load(&t->hiwater);
	uint64_t taken = 0;

	atomic_store(&t->alive, 0);
	for (uint32_t i = 0; i < hi && i < TRI_SLOTS_MAX; i++) {
		tri_slotrec *r = &t->slot[i];
		uint64_t w = atomic_load(&r->word);
		if (GEN(w) != 0) {
			/* Closed with a CAS: a sender that reserved first is in
			 * the depth, one that comes after finds no incarnation.
			 * Wakes the record's waiters too. */
			taken += tri_slot_close(r, GEN(w));
		}
	}
	tri_slots_wake_all(t);
	return taken;
}

/*
 * refset.c -- an actor's links and the monitors it holds (refset.h).
 */
#include <string.h>

#include "alloc.h"
#include "refset.h"

/* splitmix64's finaliser: refs that differ in a few low bits (slots,
 * generations) spread over the table. */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint32_t
ref_home(tr_ref r, uint32_t cap)
{
	uint64_t h = mix(((uint64_t)r.node << 32 | r.proc) ^
	    mix((uint64_t)r.slot << 32 | r.gen));
	return (uint32_t)h & (cap - 1);
}

static uint32_t
id_home(uint64_t id, uint32_t cap)
{
	return (uint32_t)mix(id) & (cap - 1);
}

/* Whether home h lies cyclically in (hole, j]: the entry at j, whose
 * home is h, must stay where it is when hole opens. */
static bool
stays(uint32_t hole, uint32_t j, uint32_t h)
{
	return hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
}

/* The capacity that holds n + 1 entries at most 3/4 full; 0 if the
 * current one does. */
static uint32_t
grown(uint32_t cap, uint32_t n)
{
	uint32_t c = cap ? cap : 2;

	while ((uint64_t)(n + 1) * 4 > (uint64_t)c * 3) {
		c *= 2;
	}
	return c == cap ? 0 : c;
}

/* ------------------------------------------------------------------ */
/* Sets of refs                                                        */

static uint32_t
ref_find(const tri_refset *s, tr_ref r)
{
	uint32_t i = ref_home(r, s->cap);

	while (!tr_ref_is_nil(s->v[i]) && !tr_ref_equal(s->v[i], r)) {
		i = (i + 1) & (s->cap - 1);
	}
	return i;
}

int
tri_refset_add(tri_refset *s, tr_ref r)
{
	uint32_t cap, i;

	if (s->cap > 0 && tr_ref_equal(s->v[ref_find(s, r)], r)) {
		return TR_OK; /* a set */
	}
	if ((cap = grown(s->cap, s->n)) != 0) {
		tri_refset t = {tri_calloc(cap, sizeof(tr_ref)), cap, 0};
		if (t.v == NULL) {
			return TR_ENOMEM;
		}
		for (uint32_t k = 0; k < s->cap; k++) {
			if (!tr_ref_is_nil(s->v[k])) {
				t.v[ref_find(&t, s->v[k])] = s->v[k];
				t.n++;
			}
		}
		tri_free(s->v);
		*s = t;
	}
	i = ref_find(s, r);
	s->v[i] = r;
	s->n++;
	return TR_OK;
}

bool
tri_refset_has(const tri_refset *s, tr_ref r)
{
	return s->cap > 0 && !tr_ref_is_nil(r) &&
	    tr_ref_equal(s->v[ref_find(s, r)], r);
}

/* Empties entry i, moving back the entries after it that may. */
static void
ref_del_at(tri_refset *s, uint32_t i)
{
	uint32_t mask = s->cap - 1;

	for (uint32_t j = (i + 1) & mask; !tr_ref_is_nil(s->v[j]);
	     j = (j + 1) & mask) {
		if (!stays(i, j, ref_home(s->v[j], s->cap))) {
			s->v[i] = s->v[j];
			i = j;
		}
	}
	s->v[i] = TR_REF_NIL;
	s->n--;
}

bool
tri_refset_del(tri_refset *s, tr_ref r)
{
	uint32_t i;

	if (s->cap == 0 || tr_ref_is_nil(r)) {
		return false;
	}
	i = ref_find(s, r);
	if (tr_ref_is_nil(s->v[i])) {
		return false;
	}
	ref_del_at(s, i);
	return true;
}

/*
 * In place: an entry removed at i may pull a later one back into i, so
 * i is looked at again.  Entries that a removal moves come from later
 * in their cluster, and a cluster that wraps past the end brings back
 * only entries looked at already (and kept): each entry is judged.
 */
void
tri_refset_take_proc(tri_refset *s, uint32_t node, uint32_t proc,
    void (*fn)(void *arg, tr_ref r), void *arg)
{
	for (uint32_t i = 0; i < s->cap;) {
		tr_ref r = s->v[i];
		if (!tr_ref_is_nil(r) && r.node == node &&
		    (proc == TRI_ANY_PROC || r.proc == proc)) {
			ref_del_at(s, i);
			fn(arg, r);
		} else {
			i++;
		}
	}
}

void
tri_refset_each(const tri_refset *s, void (*fn)(void *arg, tr_ref r), void *arg)
{
	for (uint32_t i = 0; i < s->cap; i++) {
		if (!tr_ref_is_nil(s->v[i])) {
			fn(arg, s->v[i]);
		}
	}
}

void
tri_refset_fini(tri_refset *s)
{
	tri_free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------ */
/* Monitors held: id -> target                                         */

static uint32_t
mon_find(const tri_monmap *m, uint64_t id)
{
	uint32_t i = id_home(id, m->cap);

	while (m->v[i].id != 0 && m->v[i].id != id) {
		i = (i + 1) & (m->cap - 1);
	}
	return i;
}

int
tri_monmap_add(tri_monmap *m, uint64_t id, tr_ref target)
{
	uint32_t cap, i;

	if ((cap = grown(m->cap, m->n)) != 0) {
		tri_monmap t = {tri_calloc(cap, sizeof(tri_mon_entry)), cap, 0};
		if (t.v == NULL) {
			return TR_ENOMEM;
		}
		for (uint32_t k = 0; k < m->cap; k++) {
			if (m->v[k].id != 0) {
				t.v[mon_find(&t, m->v[k].id)] = m->v[k];
				t.n++;
			}
		}
		tri_free(m->v);
		*m = t;
	}
	i = mon_find(m, id);
	if (m->v[i].id == 0) {
		m->n++;
	}
	m->v[i].id = id;
	m->v[i].target = target;
	return TR_OK;
}

static void
mon_del_at(tri_monmap *m, uint32_t i)
{
	uint32_t mask = m->cap - 1;

	for (uint32_t j = (i + 1) & mask; m->v[j].id != 0; j = (j + 1) & mask) {
		if (!stays(i, j, id_home(m->v[j].id, m->cap))) {
			m->v[i] = m->v[j];
			i = j;
		}
	}
	m->v[i].id = 0;
	m->v[i].target = TR_REF_NIL;
	m->n--;
}

bool
tri_monmap_take(tri_monmap *m, uint64_t id, tr_ref *target)
{
	uint32_t i;

	if (m->cap == 0 || id == 0) {
		return false;
	}
	i = mon_find(m, id);
	if (m->v[i].id == 0) {
		return false;
	}
	if (target != NULL) {
		*target = m->v[i].target;
	}
	mon_del_at(m, i);
	return true;
}

/* In place, as tri_refset_take_proc. */
void
tri_monmap_take_proc(tri_monmap *m, uint32_t node, uint32_t proc,
    void (*fn)(void *arg, uint64_t id, tr_ref target), void *arg)
{
	for (uint32_t i = 0; i < m->cap;) {
		tri_mon_entry e = m->v[i];
		if (e.id != 0 && e.target.node == node &&
		    (proc == TRI_ANY_PROC || e.target.proc == proc)) {
			mon_del_at(m, i);
			fn(arg, e.id, e.target);
		} else {
			i++;
		}
	}
}

void
tri_monmap_fini(tri_monmap *m)
{
	tri_free(m->v);
	memset(m, 0, sizeof(*m));
}

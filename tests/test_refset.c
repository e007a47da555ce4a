/*
 * test_refset.c -- the hash tables that keep links, monitors and a
 * supervisor's children at O(1) per operation: an actor's links
 * (tri_refset) and held monitors (tri_monmap), actors/refset.c, and a
 * supervisor's index of its children (trs_map), supervisor/sup_map.c.
 *
 * Each is checked against a plain array doing the same operations,
 * thousands of random ones over few distinct keys (so that clusters
 * form, wrap past the end of the table and are cut by deletions), and
 * on its failure paths: an allocation that fails leaves the table as
 * it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "alloc.h"
#include "refset.h"
#include "sup_map.h"

/* A small deterministic generator (xorshift64*). */
static uint64_t rng = 88172645463325252ull;

static uint64_t
next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

/* Refs over few processes and slots, so that many collide. */
static tr_ref
some_ref(uint32_t nslots)
{
	/* Two nodes whose processes have the same numbers: a process's
	 * death must not take the other node's refs. */
	tr_ref r = {1 + (uint32_t)(next() % 2), 1 + (uint32_t)(next() % 3),
	    1 + (uint32_t)(next() % nslots), 1 + (uint32_t)(next() % 2)};
	return r;
}

#define MODEL_MAX 4096

typedef struct model {
	tr_ref v[MODEL_MAX];
	uint64_t id[MODEL_MAX];
	size_t n;
} model;

static ssize_t
model_find_ref(const model *m, tr_ref r)
{
	for (size_t i = 0; i < m->n; i++) {
		if (tr_ref_equal(m->v[i], r)) {
			return (ssize_t)i;
		}
	}
	return -1;
}

static void
model_del(model *m, size_t i)
{
	m->v[i] = m->v[m->n - 1];
	m->id[i] = m->id[m->n - 1];
	m->n--;
}

/* Every ref of the model is in the set, and nothing else. */
static void
same_refs(const tri_refset *s, const model *m)
{
	size_t seen = 0;

	assert_int_equal(s->n, m->n);
	for (size_t i = 0; i < m->n; i++) {
		assert_true(tri_refset_has(s, m->v[i]));
	}
	for (uint32_t i = 0; i < s->cap; i++) {
		if (!tr_ref_is_nil(s->v[i])) {
			assert_true(model_find_ref(m, s->v[i]) >= 0);
			seen++;
		}
	}
	assert_int_equal(seen, m->n);
}

/* What take_proc gave back. */
typedef struct taken {
	tr_ref v[MODEL_MAX];
	uint64_t id[MODEL_MAX];
	size_t n;
} taken;

static void
take_ref(void *arg, tr_ref r)
{
	taken *t = arg;

	t->v[t->n++] = r;
}

static void
take_mon(void *arg, uint64_t id, tr_ref r)
{
	taken *t = arg;

	t->id[t->n] = id;
	t->v[t->n++] = r;
}

static void
test_refset_random(void **state)
{
	static model m;
	static taken t;
	tri_refset s = {0};

	(void)state;
	m.n = 0;
	for (int round = 0; round < 20000; round++) {
		uint64_t op = next() % 100;
		tr_ref r = some_ref(round < 10000 ? 40 : 400);
		ssize_t at = model_find_ref(&m, r);
		if (op < 55) {
			assert_int_equal(tri_refset_add(&s, r), TR_OK);
			if (at < 0) {
				m.v[m.n++] = r;
			}
		} else if (op < 95) {
			assert_int_equal(tri_refset_del(&s, r), at >= 0);
			if (at >= 0) {
				model_del(&m, (size_t)at);
			}
		} else if (op < 99) {
			assert_int_equal(tri_refset_has(&s, r), at >= 0);
		} else {
			/* A process dies, or a whole node: every ref of
			 * it, each once, and no other. */
			uint32_t node = r.node;
			uint32_t proc = next() % 4 == 0 ? TRI_ANY_PROC : r.proc;
			size_t before = m.n;
			t.n = 0;
			tri_refset_take_proc(&s, node, proc, take_ref, &t);
			for (size_t i = 0; i < t.n; i++) {
				assert_int_equal(t.v[i].node, node);
				if (proc != TRI_ANY_PROC) {
					assert_int_equal(t.v[i].proc, proc);
				}
				at = model_find_ref(&m, t.v[i]);
				assert_true(at >= 0);
				model_del(&m, (size_t)at);
			}
			for (size_t i = 0; i < m.n; i++) {
				assert_false(m.v[i].node == node &&
				    (proc == TRI_ANY_PROC ||
				        m.v[i].proc == proc));
			}
			assert_int_equal(before - m.n, t.n);
		}
		if (round % 97 == 0) {
			same_refs(&s, &m);
		}
	}
	same_refs(&s, &m);
	tri_refset_fini(&s);
	assert_null(s.v);
}

static void
test_refset_bad(void **state)
{
	tri_refset s = {0};
	tr_ref a = {1, 1, 1, 1}, b = {1, 1, 2, 1};

	(void)state;
	/* An empty set: nothing there, nothing to remove. */
	assert_false(tri_refset_has(&s, a));
	assert_false(tri_refset_del(&s, a));
	assert_false(tri_refset_has(&s, TR_REF_NIL));
	assert_int_equal(tri_refset_add(&s, a), TR_OK);
	assert_int_equal(tri_refset_add(&s, a), TR_OK); /* a set */
	assert_int_equal(s.n, 1);
	assert_false(tri_refset_del(&s, TR_REF_NIL));
	/* Growing fails: the set is as it was. */
	tri_alloc_fail_after(0);
	assert_int_equal(tri_refset_add(&s, b), TR_ENOMEM);
	tri_alloc_fail_after(-1);
	assert_int_equal(s.n, 1);
	assert_true(tri_refset_has(&s, a));
	assert_false(tri_refset_has(&s, b));
	assert_int_equal(tri_refset_add(&s, b), TR_OK);
	assert_true(tri_refset_del(&s, a));
	assert_false(tri_refset_del(&s, a));
	assert_true(tri_refset_has(&s, b));
	tri_refset_fini(&s);
}

static void
test_monmap_random(void **state)
{
	static model m;
	static taken t;
	tri_monmap mm = {0};
	uint64_t next_id = 1;

	(void)state;
	m.n = 0;
	for (int round = 0; round < 20000; round++) {
		uint64_t op = next() % 100;
		if (op < 50 && m.n < MODEL_MAX) {
			tr_ref r = some_ref(50);
			assert_int_equal(
			    tri_monmap_add(&mm, next_id, r), TR_OK);
			m.v[m.n] = r;
			m.id[m.n++] = next_id++;
		} else if (op < 97) {
			/* One that is there, or one that is not. */
			bool there = m.n > 0 && next() % 4 != 0;
			size_t i = there ? (size_t)(next() % m.n) : 0;
			uint64_t id = there ? m.id[i] : next_id + 1000;
			tr_ref got = TR_REF_NIL;
			assert_int_equal(tri_monmap_take(&mm, id, &got), there);
			if (there) {
				assert_true(tr_ref_equal(got, m.v[i]));
				model_del(&m, i);
			}
		} else {
			uint32_t node = 1 + (uint32_t)(next() % 2);
			uint32_t proc = next() % 4 == 0 ?
			    TRI_ANY_PROC :
			    1 + (uint32_t)(next() % 3);
			t.n = 0;
			tri_monmap_take_proc(&mm, node, proc, take_mon, &t);
			for (size_t k = 0; k < t.n; k++) {
				size_t i;
				assert_int_equal(t.v[k].node, node);
				if (proc != TRI_ANY_PROC) {
					assert_int_equal(t.v[k].proc, proc);
				}
				for (i = 0; i < m.n && m.id[i] != t.id[k];
				     i++) {
				}
				assert_true(i < m.n);
				assert_true(tr_ref_equal(m.v[i], t.v[k]));
				model_del(&m, i);
			}
			for (size_t i = 0; i < m.n; i++) {
				assert_false(m.v[i].node == node &&
				    (proc == TRI_ANY_PROC ||
				        m.v[i].proc == proc));
			}
		}
		assert_int_equal(mm.n, m.n);
	}
	/* What is left is all there, each exactly once. */
	for (size_t i = 0; i < m.n; i++) {
		assert_true(tri_monmap_take(&mm, m.id[i], NULL));
		assert_false(tri_monmap_take(&mm, m.id[i], NULL));
	}
	assert_int_equal(mm.n, 0);
	assert_false(tri_monmap_take(&mm, 0, NULL));
	/* Growing fails: as it was. */
	assert_int_equal(tri_monmap_add(&mm, 7, (tr_ref){1, 1, 1, 1}), TR_OK);
	for (uint64_t id = 8; mm.n * 4 + 4 <= (uint64_t)mm.cap * 3; id++) {
		assert_int_equal(
		    tri_monmap_add(&mm, id, (tr_ref){1, 1, 1, 1}), TR_OK);
	}
	{
		uint32_t n = mm.n, cap = mm.cap;
		tri_alloc_fail_after(0);
		assert_int_equal(
		    tri_monmap_add(&mm, 999, (tr_ref){1, 1, 1, 1}), TR_ENOMEM);
		tri_alloc_fail_after(-1);
		assert_int_equal(mm.n, n);
		assert_int_equal(mm.cap, cap);
		assert_true(tri_monmap_take(&mm, 7, NULL));
	}
	tri_monmap_fini(&mm);
}

/* ------------------------------------------------------------------ */
/* The supervisor's index                                              */

typedef struct item {
	uint64_t key;
	int tag;
} item;

static bool
tag_is(const void *v, const void *arg)
{
	return ((const item *)v)->tag == *(const int *)arg;
}

static void
test_sup_map(void **state)
{
	enum {
		N = 3000
	};
	static item items[N];
	static bool in[N];
	trs_map m = {0};
	size_t count = 0;

	(void)state;
	/* A lookup in an empty map; a removal of what is not there. */
	{
		int tag = 1;
		assert_null(trs_map_find(&m, 5, tag_is, &tag));
		trs_map_del(&m, 5, &items[0]);
	}
	for (int i = 0; i < N; i++) {
		/* Few distinct keys: entries share them, and the match
		 * function tells them apart. */
		items[i].key = next() % 64;
		items[i].tag = i;
		in[i] = false;
	}
	for (int round = 0; round < 30000; round++) {
		int i = (int)(next() % N);
		item *it = &items[i];
		if (!in[i]) {
			assert_int_equal(trs_map_reserve(&m, count + 1), TR_OK);
			trs_map_put(&m, it->key, it);
			in[i] = true;
			count++;
		} else if (next() % 2 == 0) {
			trs_map_del(&m, it->key, it);
			in[i] = false;
			count--;
		}
		assert_int_equal(m.n, count);
		{
			int tag = (int)(next() % N);
			item *got =
			    trs_map_find(&m, items[tag].key, tag_is, &tag);
			assert_ptr_equal(got, in[tag] ? &items[tag] : NULL);
		}
	}
	for (int i = 0; i < N; i++) {
		int tag = i;
		assert_ptr_equal(trs_map_find(&m, items[i].key, tag_is, &tag),
		    in[i] ? &items[i] : NULL);
	}
	/* Reserving more fails: the map is as it was. */
	{
		size_t cap = m.cap, n = m.n;
		tri_alloc_fail_after(0);
		assert_int_equal(trs_map_reserve(&m, cap), TR_ENOMEM);
		tri_alloc_fail_after(-1);
		assert_int_equal(m.cap, cap);
		assert_int_equal(m.n, n);
	}
	trs_map_fini(&m);
	assert_null(m.vals);
	/* The hashes spread keys that differ in one bit. */
	assert_true(trs_hash_ref((tr_ref){1, 1, 1, 1}) !=
	    trs_hash_ref((tr_ref){1, 1, 1, 2}));
	assert_true(trs_hash_str("w.1") != trs_hash_str("w.2"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refset_random),
	    cmocka_unit_test(test_refset_bad),
	    cmocka_unit_test(test_monmap_random),
	    cmocka_unit_test(test_sup_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

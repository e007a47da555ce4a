/* The allocation seam: see alloc.h. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* -1: never fail.  Otherwise the number of allocations still allowed. */
static atomic_long budget = -1;

static int
allowed(void)
{
	long b = atomic_load_explicit(&budget, memory_order_relaxed);
	while (b >= 0) {
		if (b == 0) {
			return 0;
		}
		if (atomic_compare_exchange_weak(&budget, &b, b - 1)) {
			return 1;
		}
	}
	return 1;
}

int
tri_alloc_allowed(void)
{
	return allowed();
}

void
tri_alloc_fail_after(long n)
{
	atomic_store(&budget, n < 0 ? -1 : n);
}

void *
tri_malloc(size_t n)
{
	return allowed() ? malloc(n == 0 ? 1 : n) : NULL;
}

void *
tri_calloc(size_t count, size_t n)
{
	return allowed() ? calloc(count == 0 ? 1 : count, n == 0 ? 1 : n) :
	                   NULL;
}

void *
tri_realloc(void *p, size_t n)
{
	return allowed() ? realloc(p, n == 0 ? 1 : n) : NULL;
}

char *
tri_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = tri_malloc(n);
	if (d != NULL) {
		memcpy(d, s, n);
	}
	return d;
}

void
tri_free(void *p)
{
	free(p);
}

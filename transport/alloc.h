/*
 * alloc.h -- private to troupe: the one allocation seam.  Not API.
 *
 * Every allocation of the library goes through these, so that a test
 * can make the Nth one fail (tri_alloc_fail_after) and check that each
 * constructor cleans up and reports TR_ENOMEM.
 */
#ifndef TRI_ALLOC_H
#define TRI_ALLOC_H

#include <stddef.h>

void *tri_malloc(size_t n);
void *tri_calloc(size_t count, size_t n);
void *tri_realloc(void *p, size_t n);
char *tri_strdup(const char *s);
void tri_free(void *p);

/* Counts one allocation made elsewhere (nng's): 1 if it may go ahead,
 * 0 if the test hook says it fails. */
int tri_alloc_allowed(void);

/* Test hook: after n more successful allocations, every allocation
 * fails until reset with n < 0.  Process-wide. */
void tri_alloc_fail_after(long n);

#endif

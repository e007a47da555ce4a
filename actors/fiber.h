/*
 * fiber.h -- private to troupe: stacks to switch between on one thread.
 * Not API.
 *
 * A scheduler thread runs its actors' callbacks on fibers, so that an
 * actor that blocks (tr_call, tr_recv, a full mailbox) can be set aside
 * with its stack intact while the scheduler runs the others.  A fiber is
 * a stack with a guard page below it and a saved stack pointer; the
 * switch saves the callee-saved registers on the old stack and restores
 * them from the new one (a function call's worth of work, no system
 * call).  On x86-64 the switch is a few instructions of assembly; on
 * other machines, and with TROUPE_FIBER=ucontext, it is glibc's
 * swapcontext (which also saves the signal mask: a system call per
 * switch).
 *
 * Fibers belong to one thread: a fiber is only ever switched to from
 * the thread that made it, and never runs on two threads.
 */
#ifndef TRI_FIBER_H
#define TRI_FIBER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tri_fiber tri_fiber;

/* Default and smallest stack sizes, in bytes. */
#define TRI_FIBER_STACK_DEFAULT (256u * 1024u)
#define TRI_FIBER_STACK_MIN (16u * 1024u)

/*
 * The calling thread's own stack, as a fiber that others can switch back
 * to.  One per thread that switches; freed with tri_fiber_free().
 * NULL if out of memory.
 */
tri_fiber *tri_fiber_native(void);

/*
 * A new fiber with a stack of `stack` bytes (rounded up to pages; at
 * least TRI_FIBER_STACK_MIN) that will run fn(arg) when first switched
 * to.  fn must never return: it ends by switching away for good.  NULL
 * if the stack could not be mapped.
 */
tri_fiber *tri_fiber_new(size_t stack, void (*fn)(void *), void *arg);

/* Unmaps the fiber's stack.  Not the running fiber. NULL is fine. */
void tri_fiber_free(tri_fiber *f);

/*
 * Saves the running context into `from` (which must be the running
 * fiber) and runs `to` from where it last switched away (or from its
 * start).  Returns when some fiber switches back to `from`.
 */
void tri_fiber_switch(tri_fiber *from, tri_fiber *to);

/* Whether switches use swapcontext (TROUPE_FIBER=ucontext, or no
 * assembly switch for this machine). */
bool tri_fiber_uses_ucontext(void);

#endif

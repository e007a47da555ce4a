/*
 * fiber.c -- stacks to switch between on one thread (fiber.h).
 *
 * The x86-64 switch saves what the System V ABI says a callee must
 * preserve -- rbx, rbp, r12-r15, the stack pointer, and the SSE and x87
 * control words -- on the old stack, and restores them from the new
 * one.  A new fiber's stack is laid out as if it had switched away just
 * before its entry trampoline, which calls fiber_entry(f) with the
 * stack aligned as a call expects.
 *
 * AddressSanitizer and ThreadSanitizer must be told of every switch
 * (they track one stack per thread otherwise, and report nonsense):
 * the annotations below compile to nothing in a plain build.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "alloc.h"
#include "fiber.h"

#if defined(__SANITIZE_ADDRESS__)
#define TRI_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TRI_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define TRI_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TRI_TSAN 1
#endif
#endif

#ifdef TRI_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef TRI_TSAN
#include <sanitizer/tsan_interface.h>
#endif

struct tri_fiber {
	void *sp;       /* saved stack pointer (assembly switch) */
	ucontext_t *uc; /* saved context (swapcontext) */
	void *map;      /* the mapping: guard page, then the stack */
	size_t map_len;
	void *bottom; /* lowest usable address of the stack */
	size_t size;  /* usable bytes */
	void (*fn)(void *);
	void *arg;
#ifdef TRI_ASAN
	void *fake; /* ASan's fake stack of this fiber while away */
#endif
#ifdef TRI_TSAN
	void *tsan;
	int tsan_own; /* made by us, so destroyed by us */
#endif
};

#if defined(__x86_64__) && !defined(TRI_FIBER_NO_ASM)
#define TRI_FIBER_ASM 1
void tri_fiber_swap_(void **save_sp, void *to_sp);
void tri_fiber_start_(void);
__asm__(".text\n"
        ".p2align 4\n"
        ".globl tri_fiber_swap_\n"
        ".hidden tri_fiber_swap_\n"
        ".type tri_fiber_swap_,@function\n"
        "tri_fiber_swap_:\n"
        "\tpushq %rbp\n"
        "\tpushq %rbx\n"
        "\tpushq %r12\n"
        "\tpushq %r13\n"
        "\tpushq %r14\n"
        "\tpushq %r15\n"
        "\tsubq $8, %rsp\n"
        "\tstmxcsr (%rsp)\n"
        "\tfnstcw 4(%rsp)\n"
        "\tmovq %rsp, (%rdi)\n"
        "\tmovq %rsi, %rsp\n"
        "\tldmxcsr (%rsp)\n"
        "\tfldcw 4(%rsp)\n"
        "\taddq $8, %rsp\n"
        "\tpopq %r15\n"
        "\tpopq %r14\n"
        "\tpopq %r13\n"
        "\tpopq %r12\n"
        "\tpopq %rbx\n"
        "\tpopq %rbp\n"
        "\tret\n"
        ".size tri_fiber_swap_,.-tri_fiber_swap_\n"
        ".p2align 4\n"
        ".globl tri_fiber_start_\n"
        ".hidden tri_fiber_start_\n"
        ".type tri_fiber_start_,@function\n"
        "tri_fiber_start_:\n"
        "\tmovq %r13, %rdi\n"
        "\tcallq *%r12\n"
        "\tud2\n"
        ".size tri_fiber_start_,.-tri_fiber_start_\n");
#endif

static int use_ucontext = -1; /* decided once: TROUPE_FIBER, machine */

bool
tri_fiber_uses_ucontext(void)
{
	int u = __atomic_load_n(&use_ucontext, __ATOMIC_RELAXED);

	if (u < 0) {
#ifdef TRI_FIBER_ASM
		const char *e = getenv("TROUPE_FIBER");
		u = e != NULL && strcmp(e, "ucontext") == 0;
#else
		u = 1;
#endif
		__atomic_store_n(&use_ucontext, u, __ATOMIC_RELAXED);
	}
	return u != 0;
}

/* The fiber we are switching away from, for the sanitizers' bookkeeping
 * on the other side of the switch. */
static _Thread_local tri_fiber *switching_from;

static void
arrived(void)
{
#ifdef TRI_ASAN
	tri_fiber *from = switching_from;
	const void *b = NULL;
	size_t s = 0;
	/* What we left behind: learn the native stack's extent here. */
	__sanitizer_finish_switch_fiber(NULL, &b, &s);
	if (from != NULL && from->map == NULL) {
		from->bottom = (void *)b;
		from->size = s;
	}
#endif
}

static void
fiber_entry(void *arg)
{
	tri_fiber *f = arg;

	arrived();
	f->fn(f->arg);
	abort(); /* fn must never return */
}

static void
fiber_entry_uc(unsigned hi, unsigned lo)
{
	fiber_entry((void *)(((uintptr_t)hi << 32) | (uintptr_t)lo));
}

tri_fiber *
tri_fiber_native(void)
{
	tri_fiber *f = tri_calloc(1, sizeof(*f));

	if (f == NULL) {
		return NULL;
	}
	if (tri_fiber_uses_ucontext() &&
	    (f->uc = tri_calloc(1, sizeof(*f->uc))) == NULL) {
		tri_free(f);
		return NULL;
	}
#ifdef TRI_TSAN
	f->tsan = __tsan_get_current_fiber();
#endif
	return f;
}

/*
 * The stack goes back to the kernel.  Under ASan its shadow is cleared
 * first: the frames' redzones poisoned there would otherwise outlive
 * the mapping and poison whatever the kernel maps at that address next
 * (seen: a shared table read as a "stack-buffer-overflow").
 */
static void
unmap_stack(tri_fiber *f)
{
	if (f->map == NULL) {
		return;
	}
#ifdef TRI_ASAN
	__asan_unpoison_memory_region(f->map, f->map_len);
#endif
	munmap(f->map, f->map_len);
	f->map = NULL;
}

tri_fiber *
tri_fiber_new(size_t stack, void (*fn)(void *), void *arg)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	tri_fiber *f;
	uint8_t *top;

	if (stack < TRI_FIBER_STACK_MIN) {
		stack = TRI_FIBER_STACK_MIN;
	}
	stack = (stack + page - 1) & ~(page - 1);
	if ((f = tri_calloc(1, sizeof(*f))) == NULL) {
		return NULL;
	}
	f->map_len = stack + page;
	f->map = mmap(NULL, f->map_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (f->map == MAP_FAILED) {
		tri_free(f);
		return NULL;
	}
	/* A stack that overflows faults on the guard page instead of
	 * writing over whatever lies below it. */
	if (mprotect(f->map, page, PROT_NONE) != 0) {
		goto fail;
	}
	f->bottom = (uint8_t *)f->map + page;
	f->size = stack;
	f->fn = fn;
	f->arg = arg;
	top = (uint8_t *)f->bottom + stack;

	if (tri_fiber_uses_ucontext()) {
		uintptr_t p = (uintptr_t)f;
		if ((f->uc = tri_calloc(1, sizeof(*f->uc))) == NULL ||
		    getcontext(f->uc) != 0) {
			goto fail;
		}
		f->uc->uc_stack.ss_sp = f->bottom;
		f->uc->uc_stack.ss_size = stack;
		f->uc->uc_link = NULL;
		makecontext(f->uc, (void (*)(void))fiber_entry_uc, 2,
		    (unsigned)(p >> 32), (unsigned)(p & 0xffffffffu));
	} else {
#ifdef TRI_FIBER_ASM
		/* As tri_fiber_swap_ leaves a stack: control words, r15,
		 * r14, r13 (arg), r12 (fn), rbx, rbp, return address; the
		 * trampoline's call then finds the stack 16-byte aligned. */
		uint64_t *sp = (uint64_t *)(void *)(top - 80);
		uint32_t mxcsr;
		uint16_t fpcw;
		__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
		__asm__ volatile("fnstcw %0" : "=m"(fpcw));
		memset(sp, 0, 80);
		memcpy(&sp[0], &mxcsr, 4);
		memcpy((uint8_t *)&sp[0] + 4, &fpcw, 2);
		sp[3] = (uint64_t)(uintptr_t)f;           /* r13 */
		sp[4] = (uint64_t)(uintptr_t)fiber_entry; /* r12 */
		sp[7] = (uint64_t)(uintptr_t)tri_fiber_start_;
		f->sp = sp;
#else
		goto fail;
#endif
	}
#ifdef TRI_TSAN
	f->tsan = __tsan_create_fiber(0);
	f->tsan_own = 1;
#endif
	return f;

fail:
	tri_free(f->uc);
	unmap_stack(f);
	tri_free(f);
	return NULL;
}

void
tri_fiber_free(tri_fiber *f)
{
	if (f == NULL) {
		return;
	}
#ifdef TRI_TSAN
	if (f->tsan_own) {
		__tsan_destroy_fiber(f->tsan);
	}
#endif
	unmap_stack(f);
	tri_free(f->uc);
	tri_free(f);
}

void
tri_fiber_switch(tri_fiber *from, tri_fiber *to)
{
#ifdef TRI_ASAN
	__sanitizer_start_switch_fiber(&from->fake, to->bottom, to->size);
#endif
#ifdef TRI_TSAN
	__tsan_switch_to_fiber(to->tsan, 0);
#endif
	switching_from = from;
	if (to->uc != NULL) {
		swapcontext(from->uc, to->uc);
	} else {
#ifdef TRI_FIBER_ASM
		tri_fiber_swap_(&from->sp, to->sp);
#endif
	}
	/* Back in `from`, switched to by someone. */
#ifdef TRI_ASAN
	{
		tri_fiber *prev = switching_from;
		const void *b = NULL;
		size_t s = 0;
		__sanitizer_finish_switch_fiber(from->fake, &b, &s);
		if (prev != NULL && prev->map == NULL) {
			prev->bottom = (void *)b;
			prev->size = s;
		}
	}
#endif
}

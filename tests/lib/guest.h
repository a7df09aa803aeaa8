/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side helpers for 64-bit guest code written in C.  Guest code runs in
 * the test binary's own image, loaded into guest memory at its link
 * addresses, so it may call these functions and use globals and string
 * literals -- but never the C library, which is neither loaded in a usable
 * state (no relocations, no TLS) nor safe without the host's CPU setup.
 */
#ifndef TESTS_LIB_GUEST_H
#define TESTS_LIB_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "ucall.h"

/* A ucall of @type with @nargs uint64_t arguments and no message. */
void guest_ucall(uint64_t type, int nargs, ...);
void guest_sync(uint64_t a0, uint64_t a1);
void guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void guest_done(void) __attribute__((noreturn));
void guest_assert_fail(const char *file, int line, const char *expr,
		       const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));

#define GUEST_SYNC(a0, a1)	guest_sync((uint64_t)(a0), (uint64_t)(a1))
#define GUEST_DONE()		guest_done()
#define GUEST_PRINTF(...)	guest_printf(__VA_ARGS__)

#define GUEST_ASSERT(cond)						\
	do {								\
		if (!(cond))						\
			guest_assert_fail(__FILE__, __LINE__, #cond, NULL); \
	} while (0)

#define GUEST_ASSERT_EQ(a, b)						\
	do {								\
		uint64_t __a = (uint64_t)(a), __b = (uint64_t)(b);	\
		if (__a != __b)						\
			guest_assert_fail(__FILE__, __LINE__, #a " == " #b, \
					  "0x%lx != 0x%lx", __a, __b);	\
	} while (0)

/* A tiny vsnprintf for guest messages: %s %c %d %u %x %p, l/ll, 0 and width. */
int guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void guest_memset(void *dst, int c, size_t n);
void guest_memcpy(void *dst, const void *src, size_t n);

/* Port I/O. */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/*
 * Exceptions.  Every 64-bit guest gets an IDT whose entries for vectors
 * 0-255 call guest_exception_dispatch(); a vector without a handler reports
 * "unexpected exception" to the host.  A handler may change regs->rip to
 * skip the faulting instruction.
 */
struct ex_regs {
	uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;	/* the CPU's frame */
};

typedef void (*guest_handler_t)(struct ex_regs *regs);

#define GUEST_NR_VECTORS	256	/* exceptions 0-31, interrupts 32-255 */

void guest_set_handler(int vector, guest_handler_t handler);
void guest_exception_dispatch(struct ex_regs *regs);

/* Where 64-bit guest functions return to: reports UCALL_DONE. */
void guest_return_trampoline(void) __attribute__((noreturn));

#endif

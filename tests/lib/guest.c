// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side library: ucalls, GUEST_ASSERT, a minimal formatter and the
 * exception dispatcher.  Everything here runs inside the guest, so it uses no
 * C library function (see guest.h).
 */
#include <stdbool.h>

#include "guest.h"

static guest_handler_t guest_handlers[GUEST_NR_VECTORS];

void guest_memset(void *dst, int c, size_t n)
{
	__asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(c) : "memory");
}

void guest_memcpy(void *dst, const void *src, size_t n)
{
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static void exit_to_host(struct ucall *uc)
{
	__asm__ volatile("outb %%al, %1" : : "D"(uc), "i"(UCALL_PORT), "a"(0)
			 : "memory");
}

void guest_ucall(uint64_t type, int nargs, ...)
{
	struct ucall uc;
	va_list ap;
	int i;

	guest_memset(&uc, 0, sizeof(uc));
	uc.type = type;
	va_start(ap, nargs);
	for (i = 0; i < nargs && i < UCALL_MAX_ARGS; i++)
		uc.args[i] = va_arg(ap, uint64_t);
	va_end(ap);
	exit_to_host(&uc);
}

void guest_sync(uint64_t a0, uint64_t a1)
{
	guest_ucall(UCALL_SYNC, 2, a0, a1);
}

void guest_printf(const char *fmt, ...)
{
	struct ucall uc;
	va_list ap;

	guest_memset(&uc, 0, sizeof(uc));
	uc.type = UCALL_PRINT;
	va_start(ap, fmt);
	guest_vsnprintf(uc.message, sizeof(uc.message), fmt, ap);
	va_end(ap);
	exit_to_host(&uc);
}

static void __attribute__((noreturn)) halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_done(void)
{
	guest_ucall(UCALL_DONE, 0);
	halt_forever();
}

void guest_return_trampoline(void)
{
	guest_done();
}

static int guest_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = guest_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void guest_assert_fail(const char *file, int line, const char *expr,
		       const char *fmt, ...)
{
	struct ucall uc;
	va_list ap;
	int n;

	guest_memset(&uc, 0, sizeof(uc));
	uc.type = UCALL_ASSERT;
	n = guest_snprintf(uc.message, sizeof(uc.message), "%s:%d: %s",
			   file, line, expr);
	if (fmt && n < UCALL_MSG_LEN - 3) {
		uc.message[n++] = ':';
		uc.message[n++] = ' ';
		va_start(ap, fmt);
		guest_vsnprintf(uc.message + n, sizeof(uc.message) - n, fmt, ap);
		va_end(ap);
	}
	exit_to_host(&uc);
	halt_forever();
}

/* ---------------------------------------------------------------- */
/* Formatting                                                        */

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_str(struct out *o, const char *s)
{
	if (!s)
		s = "(null)";
	while (*s)
		put(o, *s++);
}

static void put_num(struct out *o, uint64_t v, unsigned int base, bool neg,
		    int width, char pad)
{
	char digits[24];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		digits[n++] = '-';
	while (width-- > n)
		put(o, pad);
	while (n)
		put(o, digits[--n]);
}

/* Reads an integer argument of the given length modifier count (0, 1, 2 'l's). */
static uint64_t arg_unsigned(va_list *ap, int longs)
{
	return longs ? va_arg(*ap, uint64_t) : va_arg(*ap, unsigned int);
}

static int64_t arg_signed(va_list *ap, int longs)
{
	return longs ? va_arg(*ap, int64_t) : va_arg(*ap, int);
}

static void put_conversion(struct out *o, char conv, int longs, int width,
			   char pad, va_list *ap)
{
	int64_t sv;

	switch (conv) {
	case 's':
		put_str(o, va_arg(*ap, const char *));
		break;
	case 'c':
		put(o, (char)va_arg(*ap, int));
		break;
	case 'd':
	case 'i':
		sv = arg_signed(ap, longs);
		put_num(o, sv < 0 ? -(uint64_t)sv : (uint64_t)sv, 10, sv < 0,
			width, pad);
		break;
	case 'u':
		put_num(o, arg_unsigned(ap, longs), 10, false, width, pad);
		break;
	case 'x':
		put_num(o, arg_unsigned(ap, longs), 16, false, width, pad);
		break;
	case 'p':
		put_str(o, "0x");
		put_num(o, (uint64_t)va_arg(*ap, void *), 16, false, width, pad);
		break;
	default:
		put(o, '%');
		put(o, conv);
		break;
	}
}

int guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .size = size };
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		int width = 0, longs = 0;
		char pad = ' ';

		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt++;
		if (*fmt == '%') {
			put(&o, *fmt++);
			continue;
		}
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			longs++, fmt++;
		if (!*fmt)
			break;
		put_conversion(&o, *fmt++, longs, width, pad, &args);
	}
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

/* ---------------------------------------------------------------- */
/* Exceptions                                                        */

void guest_set_handler(int vector, guest_handler_t handler)
{
	GUEST_ASSERT(vector >= 0 && vector < GUEST_NR_VECTORS);
	guest_handlers[vector] = handler;
}

void guest_exception_dispatch(struct ex_regs *regs)
{
	guest_handler_t handler = NULL;
	uint64_t cr2;

	if (regs->vector < GUEST_NR_VECTORS)
		handler = guest_handlers[regs->vector];
	if (handler) {
		handler(regs);
		return;
	}
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	guest_assert_fail(__FILE__, __LINE__, "unexpected exception",
			  "vector %lu error 0x%lx at rip 0x%lx (cr2 0x%lx)",
			  regs->vector, regs->error_code, regs->rip, cr2);
}

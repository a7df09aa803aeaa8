/* UART output and number printing for the example guests (no libc). */
#include "guest.h"

#define UART_LSR	5
#define LSR_THR_EMPTY	0x20

void putc_uart(char c)
{
	/* Poll THRE like a real driver would, even though yakvm's UART never fills. */
	while (!(inb(COM1_PORT + UART_LSR) & LSR_THR_EMPTY))
		;
	outb(COM1_PORT, c);
}

void print(const char *s)
{
	while (*s)
		putc_uart(*s++);
}

void print_hex(uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	print("0x");
	while (digits-- > 0)
		putc_uart(hex[(v >> (4 * digits)) & 0xf]);
}

void print_dec(unsigned long v)
{
	char buf[24];
	int i = 0;

	do {
		buf[i++] = '0' + v % 10;
		v /= 10;
	} while (v);
	while (i > 0)
		putc_uart(buf[--i]);
}

void debug_exit(uint32_t value)
{
	outl(DEBUG_EXIT_PORT, value);
	for (;;)
		__asm__ volatile("cli; hlt");
}

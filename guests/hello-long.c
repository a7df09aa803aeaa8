/*
 * 64-bit long-mode hello in C: a flat image run with --mode long (yakvm
 * builds the GDT and identity page tables).  Prints over the UART, does a
 * little arithmetic, checks MMIO at every access width and leaves through
 * the debug-exit port.
 */
#include "guest.h"

static unsigned long fib(unsigned int n)
{
	unsigned long a = 0, b = 1;

	while (n--) {
		unsigned long next = a + b;

		a = b;
		b = next;
	}
	return a;
}

/* Writes each width to the scratch window and reads it back. */
static bool mmio_widths_read_back(void)
{
	uintptr_t s = MMIOTEST_BASE + MMIOTEST_SCRATCH;

	MMIO(uint8_t, s) = 0xa5;
	MMIO(uint16_t, s + 2) = 0xbeef;
	MMIO(uint32_t, s + 4) = 0xdeadc0de;
	MMIO(uint64_t, s + 8) = 0x0123456789abcdefULL;
	return MMIO(uint8_t, s) == 0xa5 && MMIO(uint16_t, s + 2) == 0xbeef &&
	       MMIO(uint32_t, s + 4) == 0xdeadc0de &&
	       MMIO(uint64_t, s + 8) == 0x0123456789abcdefULL;
}

void guest_main(void *info, uint32_t magic)
{
	(void)info;
	(void)magic;
	print("Hello from 64-bit long mode, written in C!\n");
	print("fib(90) = ");
	print_dec(fib(90));
	print("\n");
	if (MMIO(uint32_t, MMIOTEST_BASE + MMIOTEST_ID) == MMIOTEST_ID_VALUE &&
	    mmio_widths_read_back())
		print("MMIO: test device id YMIO, 8/16/32/64-bit read-back ok\n");
	else
		print("MMIO: test device FAILED\n");
	print("Leaving through the debug-exit port with value 0 (exit status 1).\n");
	debug_exit(0);
}

/*
 * MMIO and string-I/O instruction forms, one at a time: an ELF64 guest that
 * runs the forms named on its command line (all when it is empty), printing
 * "NAME ok" or "NAME BAD" after each.  KVM emulates all of them; a device
 * whose instruction emulation lacks a form stops the VM at that form (for
 * yakvm today: KVM_EXIT_INTERNAL_ERROR), so the output shows which one.
 *
 *   yakvm run /guests/mmioforms.elf
 *   yakvm run --cmdline "add xchg" /guests/mmioforms.elf
 */
#include "guest.h"
#include "multiboot.h"

#define SCRATCH (MMIOTEST_BASE + MMIOTEST_SCRATCH)

struct form {
	const char *name;
	bool (*run)(void);
};

static bool movzx(void)
{
	uint32_t v;

	MMIO(uint32_t, SCRATCH) = 0x80c1f2a5;
	__asm__ volatile("movzbl (%1), %0" : "=r"(v) : "r"((uintptr_t)SCRATCH));
	return v == 0xa5;
}

static bool movsx(void)
{
	uint32_t v;

	MMIO(uint32_t, SCRATCH) = 0x80c1f2a5;
	__asm__ volatile("movswl 2(%1), %0" : "=r"(v) : "r"((uintptr_t)SCRATCH));
	return v == 0xffff80c1;
}

static bool movsxd(void)
{
	uint64_t v;

	MMIO(uint32_t, SCRATCH) = 0x80c1f2a5;
	__asm__ volatile("movslq (%1), %0" : "=r"(v) : "r"((uintptr_t)SCRATCH));
	return v == 0xffffffff80c1f2a5ULL;
}

static bool add(void)
{
	MMIO(uint32_t, SCRATCH) = 41;
	__asm__ volatile("addl $1, (%0)" : : "r"((uintptr_t)SCRATCH) : "memory");
	return MMIO(uint32_t, SCRATCH) == 42;
}

static bool xchg(void)
{
	uint32_t v = 0x11223344;

	MMIO(uint32_t, SCRATCH) = 0x55667788;
	__asm__ volatile("xchgl %0, (%1)" : "+r"(v) : "r"((uintptr_t)SCRATCH) : "memory");
	return v == 0x55667788 && MMIO(uint32_t, SCRATCH) == 0x11223344;
}

static bool rep_movsb(void)
{
	static const uint8_t src[4] = { 1, 2, 3, 4 };
	void *dst = (void *)(uintptr_t)SCRATCH;
	const void *s = src;
	uint64_t n = sizeof(src);

	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(s), "+c"(n) : : "memory");
	return MMIO(uint32_t, SCRATCH) == 0x04030201;
}

static bool rep_stosb(void)
{
	void *dst = (void *)(uintptr_t)SCRATCH;
	uint64_t n = 4;

	__asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(0x77) : "memory");
	return MMIO(uint32_t, SCRATCH) == 0x77777777;
}

static bool rep_outsb(void)
{
	static const char text[] = "(rep outsb to port 0xe9)\n";
	const char *p = text;
	uint64_t n = sizeof(text) - 1;

	__asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(DEBUGCON_PORT) : "memory");
	return n == 0;
}

static bool rep_insb(void)
{
	uint8_t buf[3] = { 0 };
	uint8_t *p = buf;
	uint64_t n = 2;

	/* The UART's LSR reads THRE | TEMT (0x60) with no input pending. */
	__asm__ volatile("rep insb" : "+D"(p), "+c"(n) : "d"(COM1_PORT + 5) : "memory");
	return buf[0] == 0x60 && buf[1] == 0x60 && buf[2] == 0;
}

static const struct form forms[] = {
	{ "movzx", movzx }, { "movsx", movsx }, { "movsxd", movsxd }, { "add", add },
	{ "xchg", xchg }, { "rep-movsb", rep_movsb }, { "rep-stosb", rep_stosb },
	{ "rep-outsb", rep_outsb }, { "rep-insb", rep_insb },
};

/* Whether @name is a word of @cmdline (an empty line selects everything). */
static bool selected(const char *cmdline, const char *name)
{
	const char *p = cmdline;

	if (!*p)
		return true;
	while (*p) {
		const char *n = name;

		while (*p && *p == *n) {
			p++;
			n++;
		}
		if (!*n && (!*p || *p == ' '))
			return true;
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
	}
	return false;
}

void guest_main(const struct multiboot_info *info, uint32_t magic)
{
	const char *cmdline = "";
	unsigned int i;

	if (magic == MULTIBOOT_BOOTLOADER_MAGIC && (info->flags & MB_INFO_CMDLINE))
		cmdline = (const char *)(uintptr_t)info->cmdline;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (!selected(cmdline, forms[i].name))
			continue;
		/* Run first: a form that writes to the console gets its own line. */
		bool good = forms[i].run();

		print(forms[i].name);
		print(good ? " ok\n" : " BAD\n");
	}
	print("mmioforms: done\n");
	debug_exit(0);
}

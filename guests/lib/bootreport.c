/*
 * Prints what the loader passed (multiboot information, Multiboot
 * Specification 3.3), so tests can compare it with what yakvm was told.
 * It is the whole of the multiboot (32-bit) and ELF64 test guests.
 */
#include "guest.h"
#include "multiboot.h"

static void print_line(const char *label, const char *text)
{
	print(label);
	print(text);
	print("\n");
}

static void report_memory_map(const struct multiboot_info *info)
{
	uintptr_t at = info->mmap_addr, end = at + info->mmap_length;

	while (at < end) {
		const struct multiboot_mmap_entry *e = (const void *)at;

		print("boot: mmap ");
		print_hex(e->addr, 16);
		print("-");
		print_hex(e->addr + e->len - 1, 16);
		print(" type ");
		print_dec(e->type);
		print("\n");
		at += e->size + sizeof(e->size);
	}
}

/* Entry from start32.S (multiboot) or start64.S (ELF64). */
void guest_main(const struct multiboot_info *info, uint32_t magic)
{
	print("boot: magic ");
	print_hex(magic, 8);
	print("\n");
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		debug_exit(1);
	print("boot: flags ");
	print_hex(info->flags, 8);
	print("\n");
	if (info->flags & MB_INFO_LOADER_NAME)
		print_line("boot: loader ", (const char *)(uintptr_t)info->boot_loader_name);
	if (info->flags & MB_INFO_CMDLINE)
		print_line("boot: cmdline ", (const char *)(uintptr_t)info->cmdline);
	if (info->flags & MB_INFO_MEMORY) {
		print("boot: mem_lower ");
		print_dec(info->mem_lower);
		print(" KiB, mem_upper ");
		print_dec(info->mem_upper);
		print(" KiB\n");
	}
	if (info->flags & MB_INFO_MEM_MAP)
		report_memory_map(info);
	print("boot: done\n");
	debug_exit(0);
}

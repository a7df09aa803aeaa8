/*
 * The multiboot information structure (Multiboot Specification 3.3), which
 * yakvm hands to multiboot and ELF guests: memory sizes, a BIOS-style memory
 * map, the command line and the loader's name.  The map mirrors vm.c's RAM
 * layout plus the PC's legacy hole: base memory up to the EBDA, the reserved
 * 640 KiB - 1 MiB range, RAM from 1 MiB, and RAM above 4 GiB if any.
 */
#include <string.h>

#include "loader.h"
#include "multiboot.h"
#include "../bootlayout.h"
#include "../status.h"
#include "../util.h"
#include "../vm.h"

#define BASE_MEMORY_END		0x9fc00ULL	/* 639 KiB: a PC's EBDA starts here */
#define HIGH_MEMORY_START	0x100000ULL
#define LOADER_NAME		"yakvm"

struct mmap_builder {
	struct multiboot_mmap_entry *entries;
	unsigned int count;
};

static void add_range(struct mmap_builder *b, uint64_t addr, uint64_t len, uint32_t type)
{
	if (len == 0)
		return;
	b->entries[b->count++] = (struct multiboot_mmap_entry){
		.size = sizeof(struct multiboot_mmap_entry) - sizeof(uint32_t),
		.addr = addr, .len = len, .type = type,
	};
}

static unsigned int build_memory_map(struct vm *vm, struct multiboot_mmap_entry *entries)
{
	struct mmap_builder b = { .entries = entries };
	uint64_t low_end = vm->ram[0].size;
	unsigned int i;

	add_range(&b, 0, BASE_MEMORY_END, MB_MEMORY_AVAILABLE);
	add_range(&b, BASE_MEMORY_END, HIGH_MEMORY_START - BASE_MEMORY_END, MB_MEMORY_RESERVED);
	add_range(&b, HIGH_MEMORY_START, low_end - HIGH_MEMORY_START, MB_MEMORY_AVAILABLE);
	for (i = 1; i < vm->nr_ram; i++)
		add_range(&b, vm->ram[i].gpa, vm->ram[i].size, MB_MEMORY_AVAILABLE);
	return b.count;
}

static uint32_t write_cmdline(struct vm *vm, const char *cmdline)
{
	size_t len = strlen(cmdline) + 1;

	if (len > BOOT_CMDLINE_MAX)
		fail(STATUS_USAGE, "--cmdline is %zu bytes; at most %llu fit", len - 1,
		     BOOT_CMDLINE_MAX - 1);
	memcpy(vm_guest_ram(vm, BOOT_CMDLINE, len), cmdline, len);
	return BOOT_CMDLINE;
}

uint32_t bootinfo_write(struct vm *vm, const char *cmdline)
{
	uint8_t *page = vm_guest_ram(vm, BOOT_INFO, BOOT_CMDLINE - BOOT_INFO);
	struct multiboot_info *info = (void *)page;
	struct multiboot_mmap_entry *mmap = (void *)(page + sizeof(*info));
	unsigned int n;
	char *name;

	memset(page, 0, BOOT_CMDLINE - BOOT_INFO);
	n = build_memory_map(vm, mmap);
	name = (char *)(mmap + n);
	memcpy(name, LOADER_NAME, sizeof(LOADER_NAME));

	info->flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MEM_MAP | MB_INFO_LOADER_NAME;
	info->mem_lower = BASE_MEMORY_END / KiB;
	info->mem_upper = (vm->ram[0].size - HIGH_MEMORY_START) / KiB;
	info->cmdline = write_cmdline(vm, cmdline ? cmdline : "");
	info->mmap_addr = BOOT_INFO + sizeof(*info);
	info->mmap_length = n * sizeof(*mmap);
	info->boot_loader_name = BOOT_INFO + ((uint8_t *)name - page);
	return BOOT_INFO;
}

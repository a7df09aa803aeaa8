/*
 * The multiboot information structure (Multiboot Specification 3.3), which
 * yakvm hands to multiboot and ELF guests: memory sizes, a BIOS-style memory
 * map (memmap.c), the command line and the loader's name.
 */
#include <string.h>

#include "loader.h"
#include "multiboot.h"
#include "../bootlayout.h"
#include "../status.h"
#include "../util.h"
#include "../vm.h"

#define LOADER_NAME		"yakvm"

static unsigned int build_memory_map(struct vm *vm, struct multiboot_mmap_entry *entries)
{
	struct memmap map;
	unsigned int i;

	memmap_build(vm, &map);
	for (i = 0; i < map.count; i++)
		entries[i] = (struct multiboot_mmap_entry){
			.size = sizeof(struct multiboot_mmap_entry) - sizeof(uint32_t),
			.addr = map.ranges[i].addr, .len = map.ranges[i].len,
			.type = map.ranges[i].type,
		};
	return map.count;
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
	info->mem_lower = MEMMAP_BASE_END / KiB;
	info->mem_upper = (vm->ram[0].size - MEMMAP_HIGH_START) / KiB;
	info->cmdline = write_cmdline(vm, cmdline ? cmdline : "");
	info->mmap_addr = BOOT_INFO + sizeof(*info);
	info->mmap_length = n * sizeof(*mmap);
	info->boot_loader_name = BOOT_INFO + ((uint8_t *)name - page);
	return BOOT_INFO;
}

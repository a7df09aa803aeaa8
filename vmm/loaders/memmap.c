/*
 * The guest's physical memory map as firmware would report it, shared by the
 * multiboot information (mmap) and Linux's e820 table, which agree on the
 * type codes (1 = RAM, 2 = reserved).  It mirrors vm.c's RAM layout plus the
 * PC's legacy hole: base memory up to the EBDA, the reserved 640 KiB - 1 MiB
 * range (VGA, option ROMs, BIOS), RAM from 1 MiB, and RAM above 4 GiB if any.
 */
#include "loader.h"
#include "../vm.h"

static void add_range(struct memmap *map, uint64_t addr, uint64_t len, uint32_t type)
{
	if (len == 0 || map->count == MEMMAP_MAX)
		return;
	map->ranges[map->count++] = (struct memmap_range){
		.addr = addr, .len = len, .type = type,
	};
}

void memmap_build(struct vm *vm, struct memmap *map)
{
	uint64_t low_end = vm->ram[0].size;
	unsigned int i;

	map->count = 0;
	add_range(map, 0, MEMMAP_BASE_END, MEMMAP_RAM);
	add_range(map, MEMMAP_BASE_END, MEMMAP_HIGH_START - MEMMAP_BASE_END, MEMMAP_RESERVED);
	add_range(map, MEMMAP_HIGH_START, low_end - MEMMAP_HIGH_START, MEMMAP_RAM);
	for (i = 1; i < vm->nr_ram; i++)
		add_range(map, vm->ram[i].gpa, vm->ram[i].size, MEMMAP_RAM);
}

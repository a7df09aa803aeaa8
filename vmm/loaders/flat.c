/*
 * Flat binaries: the file's bytes at one address, started in the mode the
 * user chose.  Real mode starts at a CS:IP like a boot sector would; the
 * other modes get yakvm's GDT (and page tables) and start at a linear address.
 */
#include <inttypes.h>

#include "loader.h"
#include "../bootlayout.h"
#include "../status.h"
#include "../util.h"
#include "../vm.h"

#define FLAT_REAL_LOAD	0x1000ULL	/* the classic KVM API demo's address */
#define FLAT_PROT_LOAD	0x100000ULL	/* 1 MiB, above the legacy hole */
#define REAL_MODE_LIMIT	0x100000ULL

/* A linear entry below 1 MiB becomes CS:IP with the largest 64 KiB-aligned base. */
static void real_mode_entry(const struct entry_point *entry, uint64_t linear,
			    struct boot_cpu *boot)
{
	if (entry->segmented) {
		if (entry->offset > 0xffff)
			fail(STATUS_USAGE, "--entry offset %#" PRIx64 " does not fit in 16 bits",
			     entry->offset);
		boot->real_cs = entry->segment;
		boot->rip = entry->offset;
		return;
	}
	if (linear >= REAL_MODE_LIMIT)
		fail(STATUS_USAGE, "real-mode entry %#" PRIx64 " is above 1 MiB; use --entry SEG:OFF "
		     "or another --mode", linear);
	boot->real_cs = (linear >> 4) & 0xf000;
	boot->rip = linear & 0xffff;
}

void load_flat(struct vm *vm, const struct vm_config *cfg, const struct image *img,
	       struct boot_cpu *boot)
{
	enum cpu_mode mode = cfg->mode_set ? cfg->mode : MODE_REAL;
	uint64_t load = cfg->load_set ? cfg->load_addr :
			mode == MODE_REAL ? FLAT_REAL_LOAD : FLAT_PROT_LOAD;

	if (!vm_guest_ram(vm, load, 1))
		fail(STATUS_USAGE, "--load %#" PRIx64 " is outside guest memory (%" PRIu64
		     " MiB from address 0)", load, vm->mem_size / MiB);
	load_to_guest(vm, load, img->data, img->size, img->size, mode != MODE_REAL, img->path);

	boot->mode = mode;
	if (mode == MODE_REAL) {
		/* SS = CS and SP = 0: the first push lands at the top of the segment. */
		real_mode_entry(&cfg->entry, cfg->entry.set ? cfg->entry.offset : load, boot);
		boot->rsp = 0;
		return;
	}
	if (cfg->entry.segmented)
		fail(STATUS_USAGE, "--entry SEG:OFF is for real mode; give a linear address");
	boot->rip = cfg->entry.set ? cfg->entry.offset : load;
	boot->rsp = BOOT_STACK_TOP;
}

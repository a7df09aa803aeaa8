/*
 * Guest image loaders.  Each puts an image into guest memory and says how
 * the vCPUs start (struct boot_cpu).  Errors are user errors: one line and
 * STATUS_USAGE.
 */
#ifndef YAKVM_LOADER_H
#define YAKVM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "../config.h"
#include "../cpumode.h"

struct vm;

struct image {
	const char *path;
	uint8_t *data;
	size_t size;
};

/* Reads the whole file; fail()s if it is missing, unreadable or empty. */
void image_read(struct image *img, const char *path);
/* What the file says it is: multiboot header, ELF magic, Linux "HdrS", else flat. */
enum image_format image_detect(const struct image *img);
/* Rejects options that do not apply to @format. */
void loader_check_options(const struct vm_config *cfg, enum image_format format);
/* Loads @img as @format and fills @boot. */
void load_image(struct vm *vm, const struct vm_config *cfg, const struct image *img,
		enum image_format format, struct boot_cpu *boot);

/* One loader per format. */
void load_flat(struct vm *vm, const struct vm_config *cfg, const struct image *img,
	       struct boot_cpu *boot);
void load_elf(struct vm *vm, const struct vm_config *cfg, const struct image *img,
	      struct boot_cpu *boot);
void load_multiboot(struct vm *vm, const struct vm_config *cfg, const struct image *img,
		    struct boot_cpu *boot);
void load_bzimage(struct vm *vm, const struct vm_config *cfg, const struct image *img,
		  struct boot_cpu *boot);

/* Format probes used by image_detect(). */
bool elf_detect(const struct image *img);
const struct multiboot_header *multiboot_find_header(const struct image *img,
						     size_t *offset);
bool bzimage_detect(const struct image *img);

/* ELF program loading, shared by the ELF and multiboot loaders; returns the entry. */
uint64_t elf_load_segments(struct vm *vm, const struct image *img, int *elf_class);

/*
 * Copies @len bytes to guest address @gpa and zero-fills up to @memsz.
 * fail()s if the range leaves guest RAM or, with @reserve_boot_area, overlaps
 * the boot tables (bootlayout.h).
 */
void load_to_guest(struct vm *vm, uint64_t gpa, const void *src, uint64_t len,
		   uint64_t memsz, bool reserve_boot_area, const char *what);

/*
 * The guest's memory map as firmware reports it (memmap.c); the type codes
 * are those of multiboot's mmap and of Linux's e820 table alike.
 */
#define MEMMAP_RAM		1
#define MEMMAP_RESERVED		2
#define MEMMAP_MAX		4
#define MEMMAP_BASE_END		0x9fc00ULL	/* 639 KiB: a PC's EBDA starts here */
#define MEMMAP_HIGH_START	0x100000ULL

struct memmap_range {
	uint64_t addr;
	uint64_t len;
	uint32_t type;
};

struct memmap {
	struct memmap_range ranges[MEMMAP_MAX];
	unsigned int count;
};

void memmap_build(struct vm *vm, struct memmap *map);

/* Writes the multiboot information structure (memory map, cmdline, loader
 * name) and returns its guest address. */
uint32_t bootinfo_write(struct vm *vm, const char *cmdline);

/*
 * What every Linux guest's command line starts with; a --cmdline comes
 * after it.  The machine has one console, the 16550 on ttyS0, and no APIC,
 * ACPI or PCI (docs/vmm.md); the i8042 reset (reboot=k) and a reboot on
 * panic end the VM.  Without console=ttyS0 the kernel would print to a VGA
 * console that does not exist, and the user would see nothing.
 */
#define LINUX_DEFAULT_CMDLINE \
	"console=ttyS0 noapic nolapic acpi=off pci=off 8250.nr_uarts=1 reboot=k panic=-1"

#endif

/*
 * Multiboot v1 structures (Multiboot Specification 0.6.96, sections 3.1
 * "OS image format" and 3.3 "Boot information format").  Shared with the
 * example guests, which parse what the loader passed.
 */
#ifndef YAKVM_MULTIBOOT_H
#define YAKVM_MULTIBOOT_H

#define MULTIBOOT_HEADER_MAGIC		0x1BADB002
#define MULTIBOOT_BOOTLOADER_MAGIC	0x2BADB002
#define MULTIBOOT_SEARCH		8192	/* header within the first 8 KiB, 4-aligned */

/* Header flags (3.1.2): bits 0-15 are requirements a loader must fail on if unknown. */
#define MB_HDR_PAGE_ALIGN	(1u << 0)
#define MB_HDR_MEMORY_INFO	(1u << 1)
#define MB_HDR_VIDEO_MODE	(1u << 2)
#define MB_HDR_REQUIRED_MASK	0x0000ffffu
#define MB_HDR_AOUT_KLUDGE	(1u << 16)	/* load addresses are in the header */

/* Info flags (3.3). */
#define MB_INFO_MEMORY		(1u << 0)
#define MB_INFO_CMDLINE		(1u << 2)
#define MB_INFO_MEM_MAP		(1u << 6)
#define MB_INFO_LOADER_NAME	(1u << 9)

#define MB_MEMORY_AVAILABLE	1
#define MB_MEMORY_RESERVED	2

#ifndef __ASSEMBLER__
#include <stdint.h>

struct multiboot_header {
	uint32_t magic;
	uint32_t flags;
	uint32_t checksum;
	/* Valid with MB_HDR_AOUT_KLUDGE: */
	uint32_t header_addr;
	uint32_t load_addr;
	uint32_t load_end_addr;
	uint32_t bss_end_addr;
	uint32_t entry_addr;
};

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower;		/* KiB below 640 KiB */
	uint32_t mem_upper;		/* KiB from 1 MiB to the first hole */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe[6];
} __attribute__((packed));

/* @size counts the bytes after itself, so entries can grow (3.3, "mmap_*"). */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));

#endif
#endif

/*
 * Where yakvm puts what a protected- or long-mode guest needs before its
 * first instruction: the GDT, identity page tables and the boot information.
 * The area sits below the 640 KiB boundary, out of the way of images loaded
 * at 1 MiB; loaders refuse images that overlap it.
 */
#ifndef YAKVM_BOOTLAYOUT_H
#define YAKVM_BOOTLAYOUT_H

#define BOOT_AREA_START		0x90000ULL
#define BOOT_GDT		0x90000ULL
#define BOOT_PML4		0x91000ULL
#define BOOT_PDPT		0x92000ULL
#define BOOT_PD			0x93000ULL	/* 4 pages: 4 GiB in 2 MiB pages */
#define BOOT_PD_PAGES		4
#define BOOT_INFO		0x97000ULL	/* multiboot info, memory map, loader name; */
						/* or Linux's zero page (struct boot_params) */
#define BOOT_CMDLINE		0x98000ULL
#define BOOT_CMDLINE_MAX	0x1000ULL	/* including the NUL */
#define BOOT_AREA_END		0x99000ULL
/*
 * With the in-kernel irqchip, the MP table (loaders/mptable.c): its floating
 * pointer at the start of the BIOS area, where the MP specification tells an
 * OS to look, and the configuration table right after it.  The memory map
 * reports 0x9fc00-0xfffff as reserved, so no guest takes it for RAM.
 */
#define BOOT_MPTABLE		0xf0000ULL
#define BOOT_MPTABLE_END	0x100000ULL

/* Initial stack pointer: grows down into free low memory. */
#define BOOT_STACK_TOP		BOOT_AREA_START

/* GDT selectors yakvm sets up (and loads into the hidden segment state). */
#define BOOT_SEL_CODE32		0x08
#define BOOT_SEL_DATA		0x10
#define BOOT_SEL_CODE64		0x18
#define BOOT_GDT_ENTRIES	4
/* The Linux layout (boot.rst): __BOOT_CS and __BOOT_DS. */
#define BOOT_SEL_LINUX_CODE	0x10
#define BOOT_SEL_LINUX_DATA	0x18

#endif

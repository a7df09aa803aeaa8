/*
 * Offsets in a Linux bzImage file and in struct boot_params (the "zero
 * page"), which share the setup header at 0x1f1: Documentation/arch/x86/
 * boot.rst ("The Real-Mode Kernel Header") and zero-page.rst.
 */
#ifndef YAKVM_BZIMAGE_H
#define YAKVM_BZIMAGE_H

/* Setup header fields (same offset in the file and in the zero page). */
#define LH_SETUP_SECTS		0x1f1
#define LH_VID_MODE		0x1fa
#define LH_BOOT_FLAG		0x1fe	/* 0xaa55 */
#define LH_JUMP			0x200	/* 2-byte jump; its second byte gives the header end */
#define LH_HEADER		0x202	/* "HdrS" */
#define LH_VERSION		0x206
#define LH_TYPE_OF_LOADER	0x210
#define LH_LOADFLAGS		0x211
#define LH_RAMDISK_IMAGE	0x218
#define LH_RAMDISK_SIZE		0x21c
#define LH_CMD_LINE_PTR		0x228
#define LH_INITRD_ADDR_MAX	0x22c
#define LH_XLOADFLAGS		0x236
#define LH_CMDLINE_SIZE		0x238
#define LH_PREF_ADDRESS		0x258
#define LH_INIT_SIZE		0x260

/* Zero-page fields outside the setup header (zero-page.rst). */
#define BP_E820_ENTRIES		0x1e8
#define BP_SETUP_HEADER_END	0x290	/* the header may grow up to here */
#define BP_E820_TABLE		0x2d0
#define BP_SIZE			0x1000
#define E820_ENTRY_SIZE		20	/* u64 addr, u64 size, u32 type (packed) */

#define LOADFLAG_LOADED_HIGH	0x01	/* bzImage: protected-mode code at 1 MiB+ */
#define LOADFLAG_KEEP_SEGMENTS	0x40
#define LOADFLAG_CAN_USE_HEAP	0x80
#define XLF_KERNEL_64		0x0001	/* a 64-bit entry at +0x200 */
#define VID_MODE_NORMAL		0xffff	/* "normal" (80x25) */
#define LOADER_TYPE_UNDEFINED	0xff	/* boot.rst: a loader with no assigned ID */

#endif

/*
 * Multiboot v1 header (Multiboot Specification 3.1.1-3.1.2).  Built twice:
 * for the ELF test kernel (no address fields: the loader reads the ELF
 * program headers) and, with AOUT_KLUDGE, for a flat binary whose header
 * carries the load addresses itself (flag 16, spec 3.1.3).  The symbols
 * come from guests/guest.ld.
 */
#include "multiboot.h"

#ifdef AOUT_KLUDGE
#define FLAGS (MB_HDR_PAGE_ALIGN | MB_HDR_MEMORY_INFO | MB_HDR_AOUT_KLUDGE)
#else
#define FLAGS (MB_HDR_PAGE_ALIGN | MB_HDR_MEMORY_INFO)
#endif

	.section .multiboot, "a"
	.p2align 2
multiboot_header:
	.long	MULTIBOOT_HEADER_MAGIC
	.long	FLAGS
	.long	-(MULTIBOOT_HEADER_MAGIC + FLAGS)
#ifdef AOUT_KLUDGE
	.long	multiboot_header	/* header_addr */
	.long	image_start		/* load_addr */
	.long	data_end		/* load_end_addr */
	.long	bss_end			/* bss_end_addr */
	.long	_start			/* entry_addr */
#endif

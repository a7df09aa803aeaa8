/* Multiboot v1 header (Multiboot Specification 3.1.1-3.1.2): the image is
 * ELF, so no address fields; ask for memory information. */
#include "multiboot.h"

#define FLAGS (MB_HDR_PAGE_ALIGN | MB_HDR_MEMORY_INFO)

	.section .multiboot, "a"
	.p2align 2
	.long	MULTIBOOT_HEADER_MAGIC
	.long	FLAGS
	.long	-(MULTIBOOT_HEADER_MAGIC + FLAGS)

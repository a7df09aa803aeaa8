/*
 * Multiboot v1 kernels (Multiboot Specification 0.6.96).  The header is
 * found in the first 8 KiB (3.1.1); with flag 16 its address fields say where
 * the file goes (3.1.3, the "a.out kludge"), otherwise the image is ELF.
 * Machine state at entry (3.2): EAX = 0x2BADB002, EBX = the information
 * structure, flat 32-bit CS and data segments, CR0.PE = 1, PG = 0, IF = 0.
 */
#include <inttypes.h>
#include <string.h>

#include "loader.h"
#include "multiboot.h"
#include "../bootlayout.h"
#include "../status.h"
#include "../util.h"

static bool valid_header(const struct multiboot_header *h)
{
	return h->magic == MULTIBOOT_HEADER_MAGIC &&
	       (uint32_t)(h->magic + h->flags + h->checksum) == 0;
}

const struct multiboot_header *multiboot_find_header(const struct image *img, size_t *offset)
{
	size_t end = img->size < MULTIBOOT_SEARCH ? img->size : MULTIBOOT_SEARCH;
	size_t off;

	/* Magic, flags and checksum must all lie in the search window. */
	for (off = 0; off + 12 <= end; off += 4) {
		const struct multiboot_header *h = (const void *)(img->data + off);

		if (valid_header(h)) {
			*offset = off;
			return h;
		}
	}
	return NULL;
}

static void check_flags(const struct image *img, uint32_t flags)
{
	uint32_t understood = MB_HDR_PAGE_ALIGN | MB_HDR_MEMORY_INFO;

	/* 3.1.2: a loader must refuse requirement bits (0-15) it cannot meet. */
	if (flags & MB_HDR_VIDEO_MODE)
		fail(STATUS_USAGE, "%s: multiboot kernel requests a video mode; yakvm has no display",
		     img->path);
	if (flags & MB_HDR_REQUIRED_MASK & ~understood)
		fail(STATUS_USAGE, "%s: multiboot header requires unknown features (flags %#x)",
		     img->path, flags & MB_HDR_REQUIRED_MASK & ~understood);
}

/* 3.1.3: file offset of load_addr = header offset - (header_addr - load_addr). */
static uint64_t load_aout_kludge(struct vm *vm, const struct image *img,
				 const struct multiboot_header *h, size_t header_offset)
{
	uint64_t file_start, load_len, mem_len;

	if (offsetof(struct multiboot_header, entry_addr) + 4 > img->size - header_offset)
		fail(STATUS_USAGE, "%s: multiboot header truncated", img->path);
	if (h->load_addr > h->header_addr || h->header_addr - h->load_addr > header_offset)
		fail(STATUS_USAGE, "%s: multiboot load_addr/header_addr inconsistent", img->path);
	file_start = header_offset - (h->header_addr - h->load_addr);
	load_len = h->load_end_addr ? (uint64_t)h->load_end_addr - h->load_addr
				    : img->size - file_start;
	if (h->load_end_addr && (h->load_end_addr < h->load_addr ||
				 load_len > img->size - file_start))
		fail(STATUS_USAGE, "%s: multiboot load_end_addr outside the file", img->path);
	mem_len = h->bss_end_addr > h->load_addr + load_len ?
		  h->bss_end_addr - h->load_addr : load_len;
	load_to_guest(vm, h->load_addr, img->data + file_start, load_len, mem_len, true,
		      img->path);
	return h->entry_addr;
}

void load_multiboot(struct vm *vm, const struct vm_config *cfg, const struct image *img,
		    struct boot_cpu *boot)
{
	struct multiboot_header h = { 0 };
	size_t offset;
	int elf_class;

	if (!multiboot_find_header(img, &offset))
		fail(STATUS_USAGE, "%s: no multiboot header in the first %d bytes", img->path,
		     MULTIBOOT_SEARCH);
	memcpy(&h, img->data + offset,
	       img->size - offset < sizeof(h) ? img->size - offset : sizeof(h));
	check_flags(img, h.flags);
	if (h.flags & MB_HDR_AOUT_KLUDGE)
		boot->rip = load_aout_kludge(vm, img, &h, offset);
	else
		boot->rip = elf_load_segments(vm, img, &elf_class);
	if (boot->rip > UINT32_MAX)
		fail(STATUS_USAGE, "%s: multiboot entry %#" PRIx64 " above 4 GiB", img->path,
		     boot->rip);
	boot->mode = MODE_PROT;
	boot->rax = MULTIBOOT_BOOTLOADER_MAGIC;
	boot->rbx = bootinfo_write(vm, cfg->cmdline);
	/* 3.2: ESP is undefined; a valid stack costs nothing and helps tiny kernels. */
	boot->rsp = BOOT_STACK_TOP;
}

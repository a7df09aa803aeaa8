/*
 * Linux bzImage, started through the 32-bit or 64-bit boot protocol of the
 * kernel's Documentation/arch/x86/boot.rst ("32-bit Boot Protocol", "64-bit
 * Boot Protocol"); field offsets from boot.rst's "The Real-Mode Kernel
 * Header" and zero-page.rst.
 *
 * What the loader does, in boot.rst's words: copy the setup header from the
 * file into a zeroed struct boot_params (the "zero page"), fill in the
 * loader's fields (type_of_loader, cmd_line_ptr, ramdisk_image/size), add an
 * e820 memory map, load the protected-mode kernel (the file from
 * (setup_sects + 1) * 512 on) at its preferred address, and start it with
 * ESI/RSI pointing at the zero page, interrupts off, flat __BOOT_CS/__BOOT_DS
 * segments and, for the 64-bit entry (protected-mode kernel + 0x200), an
 * identity map covering kernel, zero page, command line and initrd.  The
 * real-mode setup code is never run: there is no BIOS for it to call.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bzimage.h"
#include "loader.h"
#include "../bootlayout.h"
#include "../status.h"
#include "../util.h"
#include "../vm.h"

#define MIN_PROTOCOL		0x0206	/* cmdline_size exists from 2.06 on */
#define PREF_ADDRESS_PROTOCOL	0x020a	/* pref_address and init_size: 2.10 */
#define INITRD_MAX_PROTOCOL	0x0203	/* initrd_addr_max: 2.03 */
#define INITRD_MAX_OLD		0x37ffffffU	/* boot.rst: before 2.03 */
#define DEFAULT_LOAD_ADDR	0x100000ULL	/* "loaded at 0x100000" before 2.10 */
#define ENTRY_64_OFFSET		0x200	/* boot.rst, "64-bit Boot Protocol" */
#define PAGE_MASK_4K		0xfffULL

struct linux_header {
	uint8_t setup_sects;
	uint16_t version;
	uint8_t loadflags;
	uint32_t initrd_addr_max;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint64_t pref_address;
	uint32_t init_size;
	size_t header_end;	/* the setup header ends here in the file */
};

static uint16_t get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

bool bzimage_detect(const struct image *img)
{
	if (img->size < LH_HEADER + 4)
		return false;
	return get16(img->data + LH_BOOT_FLAG) == 0xaa55 &&
	       memcmp(img->data + LH_HEADER, "HdrS", 4) == 0;
}

static _Noreturn void bad_kernel(const struct image *img, const char *why)
{
	fail(STATUS_USAGE, "%s: cannot boot this Linux kernel: %s", img->path, why);
}

static void parse_header(const struct image *img, struct linux_header *h)
{
	const uint8_t *d = img->data;

	if (!bzimage_detect(img))
		bad_kernel(img, "no Linux setup header ('HdrS' at 0x202)");
	h->version = get16(d + LH_VERSION);
	if (h->version < MIN_PROTOCOL)
		bad_kernel(img, "boot protocol older than 2.06");
	/* boot.rst: the header ends at 0x202 + the byte at 0x201 (jump offset). */
	h->header_end = LH_HEADER + d[LH_JUMP + 1];
	if (h->header_end > img->size || h->header_end > BP_SETUP_HEADER_END)
		bad_kernel(img, "setup header larger than the file or the zero page");
	h->setup_sects = d[LH_SETUP_SECTS] ? d[LH_SETUP_SECTS] : 4;	/* 0 means 4 */
	h->loadflags = d[LH_LOADFLAGS];
	if (!(h->loadflags & LOADFLAG_LOADED_HIGH))
		bad_kernel(img, "a zImage (loaded low); only bzImages are supported");
	h->initrd_addr_max = h->version >= INITRD_MAX_PROTOCOL ?
			     get32(d + LH_INITRD_ADDR_MAX) : INITRD_MAX_OLD;
	h->xloadflags = get16(d + LH_XLOADFLAGS);
	h->cmdline_size = get32(d + LH_CMDLINE_SIZE);
	h->pref_address = DEFAULT_LOAD_ADDR;
	h->init_size = 0;
	if (h->version >= PREF_ADDRESS_PROTOCOL) {
		h->pref_address = get64(d + LH_PREF_ADDRESS);
		h->init_size = get32(d + LH_INIT_SIZE);
	}
	if ((size_t)(h->setup_sects + 1) * 512 >= img->size)
		bad_kernel(img, "no protected-mode kernel after the setup sectors");
}

/* The mode of the entry: 64-bit when the kernel has one, unless --mode prot. */
static enum cpu_mode entry_mode(const struct vm_config *cfg, const struct image *img,
				const struct linux_header *h)
{
	bool has_64 = h->xloadflags & XLF_KERNEL_64;

	if (cfg->mode_set && cfg->mode == MODE_REAL)
		fail(STATUS_USAGE, "--mode real: yakvm has no BIOS for the 16-bit boot "
		     "protocol; use prot (32-bit) or long (64-bit)");
	if (cfg->mode_set && cfg->mode == MODE_LONG && !has_64)
		bad_kernel(img, "no 64-bit entry point (XLF_KERNEL_64 unset); try --mode prot");
	if (cfg->mode_set)
		return cfg->mode;
	return has_64 ? MODE_LONG : MODE_PROT;
}

/* Places the initrd as high in low RAM as initrd_addr_max allows (boot.rst). */
static uint64_t place_initrd(struct vm *vm, const struct linux_header *h,
			     const struct image *initrd, uint64_t kernel_end)
{
	uint64_t top = vm->ram[0].size;
	uint64_t addr;

	if (top > (uint64_t)h->initrd_addr_max + 1)
		top = (uint64_t)h->initrd_addr_max + 1;
	if (initrd->size > top || ((top - initrd->size) & ~PAGE_MASK_4K) < kernel_end)
		fail(STATUS_USAGE, "the kernel (%" PRIu64 " MiB with its decompression room) and "
		     "initrd %s (%zu KiB) do not fit in %" PRIu64 " MiB; raise --mem",
		     kernel_end / MiB, initrd->path, initrd->size / KiB, vm->mem_size / MiB);
	addr = (top - initrd->size) & ~PAGE_MASK_4K;
	load_to_guest(vm, addr, initrd->data, initrd->size, initrd->size, true, initrd->path);
	return addr;
}

/* LINUX_DEFAULT_CMDLINE, then the user's --cmdline, if any. */
static void write_cmdline(struct vm *vm, const struct linux_header *h, const char *user)
{
	size_t len = strlen(LINUX_DEFAULT_CMDLINE) + (user ? 1 + strlen(user) : 0);
	uint64_t max = h->cmdline_size;
	char *p;

	if (max > BOOT_CMDLINE_MAX - 1)
		max = BOOT_CMDLINE_MAX - 1;
	if (len > max)
		fail(STATUS_USAGE, "the command line (yakvm's default and --cmdline) is %zu bytes; "
		     "this kernel takes at most %" PRIu64, len, max);
	p = vm_guest_ram(vm, BOOT_CMDLINE, len + 1);
	snprintf(p, len + 1, "%s%s%s", LINUX_DEFAULT_CMDLINE, user ? " " : "", user ? user : "");
}

/* e820 table in the zero page (zero-page.rst: e820_entries, e820_table). */
static void write_e820(struct vm *vm, uint8_t *zp)
{
	struct memmap map;
	unsigned int i;

	memmap_build(vm, &map);
	for (i = 0; i < map.count; i++) {
		uint8_t *e = zp + BP_E820_TABLE + i * E820_ENTRY_SIZE;

		put64(e, map.ranges[i].addr);
		put64(e + 8, map.ranges[i].len);
		put32(e + 16, map.ranges[i].type);
	}
	zp[BP_E820_ENTRIES] = map.count;
}

/* The zero page: the file's setup header plus what boot.rst has the loader write. */
static void write_zero_page(struct vm *vm, const struct image *img,
			    const struct linux_header *h, uint64_t initrd_addr,
			    uint64_t initrd_size)
{
	uint8_t *zp = vm_guest_ram(vm, BOOT_INFO, BP_SIZE);

	memset(zp, 0, BP_SIZE);
	memcpy(zp + LH_SETUP_SECTS, img->data + LH_SETUP_SECTS,
	       h->header_end - LH_SETUP_SECTS);
	put16(zp + LH_VID_MODE, VID_MODE_NORMAL);
	zp[LH_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	/* No real-mode code runs, so no heap and no segment reloads to ask for. */
	zp[LH_LOADFLAGS] = h->loadflags & ~(LOADFLAG_CAN_USE_HEAP | LOADFLAG_KEEP_SEGMENTS);
	put32(zp + LH_CMD_LINE_PTR, BOOT_CMDLINE);
	put32(zp + LH_RAMDISK_IMAGE, initrd_addr);
	put32(zp + LH_RAMDISK_SIZE, initrd_size);
	write_e820(vm, zp);
}

void load_bzimage(struct vm *vm, const struct vm_config *cfg, const struct image *img,
		  struct boot_cpu *boot)
{
	struct linux_header h;
	struct image initrd = { 0 };
	uint64_t load, kernel_size, kernel_end, initrd_addr = 0;
	size_t offset;

	parse_header(img, &h);
	boot->mode = entry_mode(cfg, img, &h);
	offset = (size_t)(h.setup_sects + 1) * 512;
	kernel_size = img->size - offset;
	/* A relocatable kernel may go anywhere aligned; pref_address is aligned. */
	load = h.pref_address;
	kernel_end = load + (h.init_size > kernel_size ? h.init_size : kernel_size);
	if (kernel_end > vm->ram[0].size)
		fail(STATUS_USAGE, "%s needs %" PRIu64 " MiB of RAM below 3 GiB to decompress "
		     "itself (loaded at %#" PRIx64 ", init_size %#x); raise --mem",
		     img->path, (kernel_end + MiB - 1) / MiB, load, h.init_size);
	load_to_guest(vm, load, img->data + offset, kernel_size, kernel_size, true, img->path);

	if (cfg->initrd) {
		image_read(&initrd, cfg->initrd);
		initrd_addr = place_initrd(vm, &h, &initrd, kernel_end);
	}
	write_cmdline(vm, &h, cfg->cmdline);
	write_zero_page(vm, img, &h, initrd_addr, initrd.size);

	boot->gdt = GDT_LINUX;
	boot->rip = load + (boot->mode == MODE_LONG ? ENTRY_64_OFFSET : 0);
	boot->rsi = BOOT_INFO;
	boot->rsp = BOOT_STACK_TOP;
}

/*
 * ELF executables (System V gABI, "Program Loading"): every PT_LOAD segment
 * is copied to its physical address (p_paddr) and zero-filled to p_memsz.
 * ELF32 images start in protected mode, ELF64 images in long mode with the
 * low 4 GiB identity-mapped, so virtual and physical entry addresses agree.
 *
 * What the guest gets (yakvm's ELF boot protocol, modelled on multiboot):
 * EAX = 0x2BADB002 and EBX = address of a multiboot information structure
 * (memory map, --cmdline); for ELF64 also RDI = that address and RSI = the
 * magic, so a C entry point `void start(struct multiboot_info *, uint32_t)`
 * works directly.  RSP points at a small stack below the boot tables.
 */
#include <elf.h>
#include <inttypes.h>
#include <string.h>

#include "loader.h"
#include "multiboot.h"
#include "../bootlayout.h"
#include "../status.h"
#include "../util.h"
#include "../vm.h"

struct load_segment {
	uint64_t offset, filesz, memsz, paddr;
};

bool elf_detect(const struct image *img)
{
	return img->size >= SELFMAG && memcmp(img->data, ELFMAG, SELFMAG) == 0;
}

static _Noreturn void bad_elf(const struct image *img, const char *why)
{
	fail(STATUS_USAGE, "%s: not a loadable x86 ELF executable: %s", img->path, why);
}

static void check_table(const struct image *img, uint64_t off, uint64_t n, uint64_t entsize)
{
	if (off > img->size || n > (img->size - off) / entsize)
		bad_elf(img, "program headers outside the file");
}

static void check_segment(const struct image *img, const struct load_segment *seg)
{
	if (seg->offset > img->size || seg->filesz > img->size - seg->offset)
		bad_elf(img, "segment data outside the file");
	if (seg->filesz > seg->memsz)
		bad_elf(img, "segment file size larger than its memory size");
}

static void load_segment(struct vm *vm, const struct image *img, const struct load_segment *seg)
{
	check_segment(img, seg);
	if (seg->memsz)
		load_to_guest(vm, seg->paddr, img->data + seg->offset, seg->filesz, seg->memsz,
			      true, img->path);
}

/* The header fields yakvm uses, from either class. */
struct elf_view {
	int elf_class;
	uint16_t machine, type, phentsize, phnum;
	uint64_t phoff, entry;
};

static struct elf_view read_header(const struct image *img)
{
	struct elf_view v = { .elf_class = img->data[EI_CLASS] };
	Elf32_Ehdr e32;
	Elf64_Ehdr e64;

	if (v.elf_class == ELFCLASS32 && img->size >= sizeof(e32)) {
		memcpy(&e32, img->data, sizeof(e32));
		v = (struct elf_view){ ELFCLASS32, e32.e_machine, e32.e_type,
				       e32.e_phentsize, e32.e_phnum, e32.e_phoff, e32.e_entry };
	} else if (v.elf_class == ELFCLASS64 && img->size >= sizeof(e64)) {
		memcpy(&e64, img->data, sizeof(e64));
		v = (struct elf_view){ ELFCLASS64, e64.e_machine, e64.e_type,
				       e64.e_phentsize, e64.e_phnum, e64.e_phoff, e64.e_entry };
	} else {
		bad_elf(img, "unknown ELF class or truncated header");
	}
	return v;
}

/* Program header @i as a load_segment; false if it is not PT_LOAD. */
static bool read_segment(const struct image *img, const struct elf_view *v, unsigned int i,
			 struct load_segment *seg)
{
	const uint8_t *at = img->data + v->phoff + (uint64_t)i * v->phentsize;
	Elf32_Phdr p32;
	Elf64_Phdr p64;

	if (v->elf_class == ELFCLASS32) {
		memcpy(&p32, at, sizeof(p32));
		*seg = (struct load_segment){ p32.p_offset, p32.p_filesz, p32.p_memsz, p32.p_paddr };
		return p32.p_type == PT_LOAD;
	}
	memcpy(&p64, at, sizeof(p64));
	*seg = (struct load_segment){ p64.p_offset, p64.p_filesz, p64.p_memsz, p64.p_paddr };
	return p64.p_type == PT_LOAD;
}

static void check_header(const struct image *img, const struct elf_view *v)
{
	uint16_t machine = v->elf_class == ELFCLASS32 ? EM_386 : EM_X86_64;
	size_t phentsize = v->elf_class == ELFCLASS32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);

	if (v->machine != machine)
		bad_elf(img, v->elf_class == ELFCLASS32 ? "ELF32 but not i386" : "ELF64 but not x86-64");
	if (v->type != ET_EXEC)
		bad_elf(img, "not an executable (ET_EXEC)");
	if (v->phentsize != phentsize)
		bad_elf(img, "unexpected program header size");
	check_table(img, v->phoff, v->phnum, phentsize);
}

uint64_t elf_load_segments(struct vm *vm, const struct image *img, int *elf_class)
{
	struct load_segment seg;
	struct elf_view v;
	unsigned int i;

	if (!elf_detect(img))
		bad_elf(img, "no ELF magic");
	if (img->size < EI_NIDENT)
		bad_elf(img, "truncated header");
	if (img->data[EI_DATA] != ELFDATA2LSB)
		bad_elf(img, "not little-endian");
	v = read_header(img);
	check_header(img, &v);
	for (i = 0; i < v.phnum; i++) {
		if (read_segment(img, &v, i, &seg))
			load_segment(vm, img, &seg);
	}
	*elf_class = v.elf_class;
	return v.entry;
}

void load_elf(struct vm *vm, const struct vm_config *cfg, const struct image *img,
	      struct boot_cpu *boot)
{
	int elf_class;
	uint32_t info;

	boot->rip = elf_load_segments(vm, img, &elf_class);
	boot->mode = elf_class == ELFCLASS64 ? MODE_LONG : MODE_PROT;
	/* Both modes start with the low 4 GiB mapped 1:1 (long mode: cpumode.c). */
	if (boot->rip > UINT32_MAX)
		bad_elf(img, "entry point above 4 GiB, outside yakvm's identity map");
	info = bootinfo_write(vm, cfg->cmdline);
	boot->rax = MULTIBOOT_BOOTLOADER_MAGIC;
	boot->rbx = info;
	boot->rdi = info;
	boot->rsi = MULTIBOOT_BOOTLOADER_MAGIC;
	boot->rsp = BOOT_STACK_TOP;
}

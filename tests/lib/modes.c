// SPDX-License-Identifier: GPL-2.0
/*
 * Guest entry in real, 32-bit protected (flat, 2-level paged, PAE) and
 * 64-bit long mode: descriptor tables, identity page tables, the test
 * binary's image in guest memory, and the vCPU state (see modes.h).
 */
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "modes.h"
#include "trace.h"

_Static_assert(GPA_LOW_CODE == 0x8000, "LOW_CODE_TEXT must match GPA_LOW_CODE");
_Static_assert(GPA_UCALL_DONE == 0x3000 && UCALL_PORT == 0xe0,
	       "ASM_UCALL_DONE must match GPA_UCALL_DONE and UCALL_PORT");

const char *const guest_mode_names[NR_GUEST_MODES] = {
	[MODE_REAL] = "real",
	[MODE_PROT32] = "prot32",
	[MODE_PROT32_PAGED] = "paged32",
	[MODE_PAE] = "pae",
	[MODE_LONG] = "long64",
	[MODE_LONG_LA57] = "long64_la57",
};

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PSE		(1ULL << 4)
#define CR4_PAE		(1ULL << 5)
#define CR4_OSFXSR	(1ULL << 9)
#define CR4_LA57	(1ULL << 12)
#define CR4_OSXMMEXCPT	(1ULL << 10)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)

/* The GDT's segments; the descriptors in guest memory are made from these. */
static const struct kvm_segment gdt_segments[GDT_ENTRIES] = {
	[SEL_CODE32 / 8] = { .limit = 0xffffffff, .selector = SEL_CODE32,
			     .type = 0xb, .present = 1, .s = 1, .db = 1, .g = 1 },
	[SEL_DATA / 8] = { .limit = 0xffffffff, .selector = SEL_DATA,
			   .type = 0x3, .present = 1, .s = 1, .db = 1, .g = 1 },
	[SEL_CODE64 / 8] = { .limit = 0xffffffff, .selector = SEL_CODE64,
			     .type = 0xb, .present = 1, .s = 1, .l = 1, .g = 1 },
	[SEL_CODE16 / 8] = { .limit = 0xffff, .selector = SEL_CODE16,
			     .type = 0xb, .present = 1, .s = 1 },
};

/* A segment descriptor (APM vol. 2 4.7) for @s; the null descriptor for none. */
static uint64_t descriptor(const struct kvm_segment *s)
{
	uint64_t limit = s->g ? s->limit >> 12 : s->limit;
	uint64_t access = s->type | s->s << 4 | s->dpl << 5 | (uint64_t)s->present << 7;
	uint64_t flags = s->avl | s->l << 1 | s->db << 2 | s->g << 3;

	if (!s->present)
		return 0;
	return (limit & 0xffff) | (s->base & 0xffffff) << 16 | access << 40 |
	       ((limit >> 16) & 0xf) << 48 | flags << 52 |
	       (s->base >> 24 & 0xff) << 56;
}

static void build_gdt(struct vm *vm)
{
	uint64_t *gdt = gpa_to_hva(vm, GPA_GDT);
	int i;

	for (i = 0; i < GDT_ENTRIES; i++)
		gdt[i] = descriptor(&gdt_segments[i]);
}

/* 64-bit interrupt gates to the entry points of guest_idt.S. */
static void build_idt(struct vm *vm)
{
	extern const uint64_t guest_idt_entries[GUEST_NR_VECTORS];
	uint64_t *idt = gpa_to_hva(vm, GPA_IDT);
	int i;

	for (i = 0; i < GUEST_NR_VECTORS; i++) {
		uint64_t off = guest_idt_entries[i];

		idt[2 * i] = (off & 0xffff) | (uint64_t)SEL_CODE64 << 16 |
			     0x8eULL << 40 | (off >> 16 & 0xffff) << 48;
		idt[2 * i + 1] = off >> 32;
	}
}

/*
 * Identity maps of the low 4 GiB: 5-level, 4-level (long mode) and PAE
 * share four page directories of 2 MiB pages, whose first entry points to
 * 4 KiB pages with page 0 left out; 2-level paging uses 4 MiB pages.
 */
static void build_page_tables(struct vm *vm)
{
	uint64_t *pml5 = gpa_to_hva(vm, GPA_PML5);
	uint64_t *pml4 = gpa_to_hva(vm, GPA_PML4);
	uint64_t *pdpt = gpa_to_hva(vm, GPA_PDPT);
	uint64_t *pae_pdpt = gpa_to_hva(vm, GPA_PAE_PDPT);
	uint64_t *pd = gpa_to_hva(vm, GPA_PD);
	uint64_t *pt0 = gpa_to_hva(vm, GPA_PT0);
	uint32_t *pd32 = gpa_to_hva(vm, GPA_PD32);
	uint64_t i;

	pml5[0] = GPA_PML4 | PTE_P | PTE_RW;
	pml4[0] = GPA_PDPT | PTE_P | PTE_RW;
	for (i = 0; i < 4; i++) {
		pdpt[i] = (GPA_PD + i * PAGE_SIZE) | PTE_P | PTE_RW;
		pae_pdpt[i] = (GPA_PD + i * PAGE_SIZE) | PTE_P;
	}
	for (i = 0; i < 4 * 512; i++)
		pd[i] = i << 21 | PTE_P | PTE_RW | PTE_PS;
	pd[0] = GPA_PT0 | PTE_P | PTE_RW;
	for (i = 1; i < 512; i++)
		pt0[i] = i << 12 | PTE_P | PTE_RW;
	for (i = 0; i < 1024; i++)
		pd32[i] = (uint32_t)(i << 22 | PTE_P | PTE_RW | PTE_PS);
}

void vm_build_tables(struct vm *vm)
{
	struct ucall done = { .type = UCALL_DONE };

	if (vm->tables_built)
		return;
	TEST_ASSERT(gpa_to_hva_or_null(vm, GPA_PAGE_TABLES_END - 1),
		    "guest RAM must start at 0 and cover the page tables");
	build_gdt(vm);
	build_idt(vm);
	build_page_tables(vm);
	guest_write(vm, GPA_UCALL_DONE, &done, sizeof(done));
	vm->tables_built = true;
}

/* ---------------------------------------------------------------- */
/* The test binary's image                                          */

static uint8_t *self_image;	/* /proc/self/exe, read once */

static const uint8_t *read_self(void)
{
	struct stat st;
	ssize_t n;
	int fd;

	if (self_image)
		return self_image;
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		test_fail("/proc/self/exe: %s", strerror(errno));
	self_image = malloc(st.st_size);
	TEST_ASSERT(self_image, "out of memory");
	n = pread(fd, self_image, st.st_size, 0);
	if (n != st.st_size)
		test_fail("reading /proc/self/exe: %s", n < 0 ? strerror(errno) : "short read");
	close(fd);
	return self_image;
}

void vm_load_image(struct vm *vm)
{
	const uint8_t *file = read_self();
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
	int i;

	if (vm->image_loaded)
		return;
	TEST_ASSERT(eh->e_type == ET_EXEC, "test binaries must be linked static and non-PIE");
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(file + eh->e_phoff +
							    i * eh->e_phentsize);
		uint8_t *dst;

		if (ph->p_type != PT_LOAD)
			continue;
		/* What 64-bit guests write: their globals, compared at the end. */
		if (ph->p_flags & PF_W)
			trace_memory(vm, "image-data", ph->p_vaddr, ph->p_memsz);
		if (!gpa_to_hva_or_null(vm, ph->p_vaddr + ph->p_memsz - 1))
			test_fail("guest RAM too small for the test binary (needs 0x%llx bytes)",
				  (unsigned long long)(ph->p_vaddr + ph->p_memsz));
		dst = gpa_to_hva(vm, ph->p_vaddr);
		memcpy(dst, file + ph->p_offset, ph->p_filesz);
		memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	}
	vm->image_loaded = true;
}

/* ---------------------------------------------------------------- */
/* vCPU state                                                       */

static void set_data_segments(struct kvm_sregs *s, const struct kvm_segment *seg)
{
	s->ds = s->es = s->fs = s->gs = s->ss = *seg;
}

static void real_mode_sregs(struct kvm_sregs *s)
{
	struct kvm_segment seg = { .limit = 0xffff, .type = 0x3, .present = 1, .s = 1 };

	set_data_segments(s, &seg);
	seg.type = 0xb;
	s->cs = seg;
}

bool cpu_has_la57(void)
{
	unsigned int eax, ebx, ecx = 0, edx;

	return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 16));
}

static void long_mode_sregs(struct kvm_sregs *s, bool la57)
{
	/* SSE enabled: compilers may use it even in integer code. */
	s->cr0 |= CR0_PG | CR0_WP | CR0_MP;
	s->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | (la57 ? CR4_LA57 : 0);
	s->cr3 = la57 ? GPA_PML5 : GPA_PML4;
	s->efer = EFER_LME | EFER_LMA;
	s->idt.base = GPA_IDT;
	s->idt.limit = GUEST_NR_VECTORS * 16 - 1;
}

void mode_sregs(enum guest_mode mode, struct kvm_sregs *s)
{
	bool is_long = mode == MODE_LONG || mode == MODE_LONG_LA57;

	if (mode == MODE_REAL) {
		real_mode_sregs(s);
		return;
	}
	set_data_segments(s, &gdt_segments[SEL_DATA / 8]);
	s->cs = gdt_segments[(is_long ? SEL_CODE64 : SEL_CODE32) / 8];
	s->gdt.base = GPA_GDT;
	s->gdt.limit = GDT_ENTRIES * 8 - 1;
	s->cr0 = CR0_PE | CR0_ET | CR0_NE;
	s->cr4 = 0;
	s->efer = 0;
	switch (mode) {
	case MODE_PROT32_PAGED:
		s->cr0 |= CR0_PG | CR0_WP;
		s->cr4 = CR4_PSE;
		s->cr3 = GPA_PD32;
		break;
	case MODE_PAE:
		s->cr0 |= CR0_PG | CR0_WP;
		s->cr4 = CR4_PAE;
		s->cr3 = GPA_PAE_PDPT;
		break;
	case MODE_LONG:
	case MODE_LONG_LA57:
		long_mode_sregs(s, mode == MODE_LONG_LA57);
		break;
	default:
		break;
	}
}

static void enter_mode(struct vcpu *v, enum guest_mode mode, uint64_t rip,
		       uint64_t rsp, uint64_t rdi)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = rip, .rsp = rsp, .rdi = rdi, .rflags = 2 };

	vcpu_get_sregs(v, &sregs);
	mode_sregs(mode, &sregs);
	vcpu_set_sregs(v, &sregs);
	vcpu_set_regs(v, &regs);
}

void vcpu_enter_low_code(struct vcpu *v, enum guest_mode mode,
			 const struct guest_code *code)
{
	size_t len = code->end - code->start;

	TEST_ASSERT(len <= LOW_CODE_MAX, "guest code of %zu bytes is too big", len);
	vm_build_tables(v->vm);
	guest_write(v->vm, GPA_LOW_CODE, code->start, len);
	/* What 16/32-bit guests write (results, strings), compared at the end. */
	trace_memory(v->vm, "low-data", GPA_LOW_DATA, LOW_DATA_SIZE);
	enter_mode(v, mode, GPA_LOW_CODE, GPA_LOW_STACK_TOP, 0);
}

void vcpu_enter_long_at(struct vcpu *v, uint64_t fn_addr, uint64_t arg)
{
	uint64_t ret = (uint64_t)(uintptr_t)guest_return_trampoline;
	uint64_t top = GPA_STACKS + (v->id + 1) * STACK_SIZE;

	TEST_ASSERT(v->id < MAX_GUEST_STACKS, "no 64-bit stack for vCPU %u", v->id);
	vm_build_tables(v->vm);
	vm_load_image(v->vm);
	/* As after a CALL: the return address on a 16-byte aligned stack. */
	guest_write(v->vm, top - 8, &ret, sizeof(ret));
	enter_mode(v, MODE_LONG, fn_addr, top - 8, arg);
}

struct vcpu *vm_with_low_code(const struct test_dev *dev, enum guest_mode mode,
			      const struct guest_code *code)
{
	struct vm *vm = vm_create(dev, REAL_MODE_MEM_SIZE);
	struct vcpu *v = vcpu_add(vm, 0);

	vcpu_enter_low_code(v, mode, code);
	return v;
}

struct vcpu *vm_with_long_code_at(const struct test_dev *dev, uint64_t fn_addr,
				  uint64_t arg)
{
	struct vm *vm = vm_create(dev, LONG_MODE_MEM_SIZE);
	struct vcpu *v = vcpu_add(vm, 0);

	vcpu_enter_long_at(v, fn_addr, arg);
	return v;
}

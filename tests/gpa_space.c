// SPDX-License-Identifier: GPL-2.0
/*
 * A guest walks the whole guest-physical address space: every 1 GiB step
 * from 0 up to the top that its CPUID's physical-address width allows (on
 * CPUs wider than 41 bits, 2048 evenly spaced steps), reaching each through
 * a 2 MiB page of its own page tables that it rewrites and INVLPGs.  At each
 * step it reads 8 bytes and writes the next 8: where the VMM has RAM the
 * guest must see that RAM and make no exit; everywhere else exactly one
 * MMIO read and one MMIO write at the right address, and nothing else.
 * One step past the top, the guest's own page walk must fault (reserved
 * bits in its PDE) without any exit.
 */
#include <cpuid.h>

#include "guest.h"
#include "modes.h"

#define GIB		(1ULL << 30)
#define MIB		(1ULL << 20)
#define MAX_STEPS	2048
#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)
#define PF_VECTOR	14
#define PF_RSVD		(1ULL << 3)
#define PAGE_2M		(2 * MIB)

/* The guest's window: PML4 entry 1 (512 GiB) -> a PDPT -> a PD whose entry 0 it rewrites. */
#define WINDOW_VA	(1ULL << 39)
#define GPA_WINDOW_PDPT	GPA_SCRATCH
#define GPA_WINDOW_PD	(GPA_SCRATCH + PAGE_SIZE)
#define NR_RAM_STEPS	3

/* Which steps the VMM backs with RAM (set by the host). */
static uint64_t ram_gpa[NR_RAM_STEPS];
static volatile uint64_t pf_error, pf_count;

/* What a step reads: RAM holds this (the host put it there), MMIO answers it. */
static uint64_t value_at(uint64_t gpa)
{
	return gpa ^ 0x5a5a5a5a5a5a5a5aULL;
}

/* What the guest writes at a step, 8 bytes in. */
static uint64_t written_at(uint64_t gpa)
{
	return ~gpa;
}

static unsigned int phys_bits(void)
{
	unsigned int eax = 0, ebx, ecx, edx;

	__get_cpuid(0x80000008, &eax, &ebx, &ecx, &edx);
	return eax & 0xff;
}

static uint64_t step_size(unsigned int bits)
{
	uint64_t top = 1ULL << bits;

	return top / GIB > MAX_STEPS ? top / MAX_STEPS : GIB;
}

static volatile uint64_t *map_window(uint64_t gpa)
{
	*(volatile uint64_t *)GPA_WINDOW_PD = gpa | PTE_P | PTE_RW | PTE_PS;
	__asm__ volatile("invlpg (%0)" : : "r"(WINDOW_VA) : "memory");
	return (volatile uint64_t *)WINDOW_VA;
}

static void record_pf(struct ex_regs *regs)
{
	pf_error = regs->error_code;
	pf_count++;
	regs->rip += 3;			/* mov (%rax), %rax: 48 8b 00 */
}

static void guest_sweep(void)
{
	unsigned int bits = phys_bits();
	uint64_t gpa, stride = step_size(bits), v;

	GUEST_SYNC(bits, stride);
	for (gpa = 0; gpa < 1ULL << bits; gpa += stride) {
		volatile uint64_t *p = map_window(gpa);

		GUEST_ASSERT_EQ(p[0], value_at(gpa));
		p[1] = written_at(gpa);
	}
	if (bits >= 52)
		return;			/* no reserved bits left in a PDE */
	guest_set_handler(PF_VECTOR, record_pf);
	v = (uint64_t)map_window(1ULL << bits);
	__asm__ volatile("mov (%0), %0" : "+a"(v) : : "memory");
	GUEST_SYNC(pf_count, pf_error);
}

/* ---------------------------------------------------------------- */
/* The VMM                                                          */

static void build_window(struct vm *vm)
{
	uint64_t *pml4 = gpa_to_hva(vm, GPA_PML4);
	uint64_t *pdpt = gpa_to_hva(vm, GPA_WINDOW_PDPT);

	pml4[1] = GPA_WINDOW_PDPT | PTE_P | PTE_RW;
	pdpt[0] = GPA_WINDOW_PD | PTE_P | PTE_RW;
}

/* RAM at the first step (slot 0), the middle one and the last one. */
static void add_ram_steps(struct vm *vm, unsigned int bits, uint64_t stride)
{
	uint64_t top = 1ULL << bits;
	uint64_t ram[NR_RAM_STEPS] = { 0, top / 2, top - stride };
	int i;

	for (i = 0; i < NR_RAM_STEPS; i++) {
		if (ram[i])
			vm_add_memory(vm, i, ram[i], PAGE_2M, 0);
		*(uint64_t *)gpa_to_hva(vm, ram[i]) = value_at(ram[i]);
		guest_global(vm, ram_gpa[i]) = ram[i];
	}
}

static bool is_ram_step(struct vm *vm, uint64_t gpa)
{
	int i;

	for (i = 0; i < NR_RAM_STEPS; i++)
		if (guest_global(vm, ram_gpa[i]) == gpa)
			return true;
	return false;
}

static void expect_mmio(struct vcpu *v, uint64_t gpa, bool write)
{
	struct kvm_run *run = v->run;

	vcpu_run(v);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_MMIO && run->mmio.phys_addr == gpa &&
		    run->mmio.len == 8 && !!run->mmio.is_write == write,
		    "expected an MMIO %s of 8 bytes at 0x%llx, got %s", write ? "write" : "read",
		    (unsigned long long)gpa, vcpu_exit_str(v));
	if (write)
		TEST_ASSERT_EQ(*(uint64_t *)run->mmio.data, written_at(gpa - 8));
	else
		memcpy(run->mmio.data, &(uint64_t){ value_at(gpa) }, 8);
}

/* Runs the sweep: one read and one write exit per unbacked step; returns their number. */
static uint64_t sweep(struct vcpu *v, unsigned int bits, uint64_t stride)
{
	uint64_t gpa, mmio_steps = 0;

	for (gpa = 0; gpa < 1ULL << bits; gpa += stride) {
		if (is_ram_step(v->vm, gpa))
			continue;
		expect_mmio(v, gpa, false);
		expect_mmio(v, gpa + 8, true);
		mmio_steps++;
	}
	return mmio_steps;
}

TEST_CASE_OPTS(every_gib_up_to_the_top, .timeout_s = 120)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_sweep, 0);
	unsigned int bits = phys_bits();
	uint64_t stride = step_size(bits), steps;
	struct ucall uc;
	int i;

	build_window(v->vm);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == bits && uc.args[1] == stride,
		    "the guest sees %llu physical address bits, the host %u",
		    (unsigned long long)uc.args[0], bits);
	add_ram_steps(v->vm, bits, stride);
	steps = sweep(v, bits, stride);
	if (bits < 52) {
		vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
		/* (The error code's P bit is the CPU's business: QEMU leaves it clear.) */
		TEST_ASSERT(uc.args[0] == 1 && (uc.args[1] & PF_RSVD),
			    "one step past the top: %llu #PF, error 0x%llx",
			    (unsigned long long)uc.args[0], (unsigned long long)uc.args[1]);
	}
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	for (i = 0; i < NR_RAM_STEPS; i++) {
		uint64_t gpa = guest_global(v->vm, ram_gpa[i]);

		TEST_ASSERT_EQ(*(uint64_t *)gpa_to_hva(v->vm, gpa + 8), written_at(gpa));
	}
	test_log("%u physical address bits: %llu steps of %llu MiB, %llu of them MMIO",
		 bits, (unsigned long long)((1ULL << bits) / stride),
		 (unsigned long long)(stride / MIB), (unsigned long long)steps);
	vm_free(v->vm);
}

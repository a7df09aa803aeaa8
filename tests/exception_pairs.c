// SPDX-License-Identifier: GPL-2.0
/*
 * An exception raised while the CPU delivers another (APM vol. 2 8.2.9,
 * "Double-Fault Conditions"): a page fault during a contributory exception
 * is delivered as the page fault; a contributory exception during a page
 * fault, or during another contributory one, becomes #DF; a contributory
 * exception during a benign one is delivered itself.  Each pair is made by
 * the guest (a stack in an unmapped page, an IDT gate with a null selector
 * or not present) and must end in the handler the architecture names, with
 * its error code and CR2, on both devices.
 *
 * The handlers of #PF and #DF run on their own stack (IST 1 of a 64-bit
 * TSS the guest sets up) in a memory slot no one touched before: their
 * delivery takes a nested page fault on yakvm, so the device has to deliver
 * the interrupted #PF or #DF again, error code and CR2 included.
 *
 * The pairs whose second exception yakvm itself would queue (an intercepted
 * #AC or #DB during delivery) cannot be made in the test VM -- QEMU raises
 * no #AC and yakvm arms no debug registers -- so that merging is checked by
 * the host-side unit test tests/unit/exception_merge.c.
 */
#include "guest.h"
#include "modes.h"

#define IST_SLOT	1
#define IST_GPA		0x80000000ULL	/* 2 GiB: mapped by the guest, untouched */
#define IST_SIZE	0x2000ULL
#define GPA_TSS		(GPA_SCRATCH + 0x1000)
#define TSS_SEL		0x40		/* GDT entries 8 and 9 */
#define NONCANONICAL	0x8000000000000000ULL

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uint64_t base;
};

static volatile uint64_t got_vector = 0xff, got_error, got_cr2;
static volatile uint64_t good_rsp, recover_rip;

static void record(struct ex_regs *regs)
{
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	got_vector = regs->vector;
	got_error = regs->error_code;
	got_cr2 = cr2;
	regs->rip = recover_rip;
	regs->rsp = good_rsp;
}

static uint64_t *idt_gate(int vector)
{
	return (uint64_t *)(GPA_IDT + vector * 16);
}

/* A 64-bit TSS whose IST 1 is the top of the untouched slot, used by #PF and #DF. */
static void setup_ist(void)
{
	volatile uint64_t *gdt = (volatile uint64_t *)GPA_GDT;
	uint8_t *tss = (uint8_t *)GPA_TSS;
	uint64_t base = GPA_TSS, limit = 0x67;
	struct dtr gdtr = { 10 * 8 - 1, GPA_GDT };
	uint64_t ist1 = IST_GPA + IST_SIZE;

	guest_memset(tss, 0, 0x68);
	guest_memcpy(tss + 0x24, &ist1, 8);
	gdt[TSS_SEL / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 |
			   0x89ULL << 40 | (base >> 24 & 0xff) << 56;
	gdt[TSS_SEL / 8 + 1] = base >> 32;
	__asm__ volatile("lgdt %0\n\tltr %w1" : : "m"(gdtr), "r"(TSS_SEL));
	*idt_gate(14) |= 1ULL << 32;
	*idt_gate(8) |= 1ULL << 32;
}

/* Runs @body (asm that faults) with @rsp, then reports what the handler saw. */
#define PROVOKE(rsp, body, ...)						\
	__asm__ volatile("lea 1f(%%rip), %%rax\n\t"			\
			 "mov %%rax, %[rip]\n\t"			\
			 "mov %%rsp, %[good]\n\t"			\
			 "mov %[sp], %%rsp\n\t"				\
			 body "\n"					\
			 "1:"						\
			 : [rip] "=m"(recover_rip), [good] "=m"(good_rsp) \
			 : [sp] "r"((uint64_t)(rsp)), ##__VA_ARGS__	\
			 : "rax", "memory")

static void handle_all(void)
{
	int v;

	for (v = 0; v < GUEST_NR_VECTORS; v++)
		guest_set_handler(v, record);
	setup_ist();
}

static void report(void)
{
	GUEST_SYNC(got_vector, got_error);
	GUEST_SYNC(got_cr2, 0);
}

/* #GP (a non-canonical load) whose frame goes to unmapped page 0: #PF. */
static void guest_pf_during_gp(void)
{
	handle_all();
	PROVOKE(0x1000, "movq (%[bad]), %%rax", [bad] "r"(NONCANONICAL));
	report();
}

/* #PF whose gate has a null code selector: #GP during #PF, so #DF. */
static void guest_gp_during_pf(void)
{
	handle_all();
	*idt_gate(14) &= ~(0xffffULL << 16);
	__asm__ volatile("lea 1f(%%rip), %%rax\n\t"
			 "mov %%rax, %[rip]\n\t"
			 "mov %%rsp, %[good]\n\t"
			 "movq 0x10, %%rax\n"
			 "1:"
			 : [rip] "=m"(recover_rip), [good] "=m"(good_rsp)
			 : : "rax", "memory");
	report();
}

/* #UD whose gate is not present: #NP, delivered (benign, then contributory). */
static void guest_np_during_ud(void)
{
	handle_all();
	*idt_gate(6) &= ~(1ULL << 47);
	__asm__ volatile("lea 1f(%%rip), %%rax\n\t"
			 "mov %%rax, %[rip]\n\t"
			 "mov %%rsp, %[good]\n\t"
			 "ud2\n"
			 "1:"
			 : [rip] "=m"(recover_rip), [good] "=m"(good_rsp)
			 : : "rax", "memory");
	report();
}

/* ... and #NP's gate not present either: #NP during #NP, so #DF. */
static void guest_np_during_np(void)
{
	handle_all();
	*idt_gate(6) &= ~(1ULL << 47);
	*idt_gate(11) &= ~(1ULL << 47);
	__asm__ volatile("lea 1f(%%rip), %%rax\n\t"
			 "mov %%rax, %[rip]\n\t"
			 "mov %%rsp, %[good]\n\t"
			 "ud2\n"
			 "1:"
			 : [rip] "=m"(recover_rip), [good] "=m"(good_rsp)
			 : : "rax", "memory");
	report();
}

struct outcome {
	uint64_t vector, error;
};

/*
 * Runs @guest; the handler that ran must be the APM's (@apm) or, where the
 * test VM's emulated CPU is known to differ from the APM, QEMU's (@qemu).
 * Either way both devices must agree: the trace comparison of every case
 * (diff/exception_pairs/...) checks that.
 */
static void expect_pair(const struct test_ctx *ctx, void (*guest)(void),
			struct outcome apm, struct outcome qemu, uint64_t cr2)
{
	struct vcpu *v = vm_with_long_code_at(ctx->dev, (uint64_t)(uintptr_t)guest, 0);
	struct ucall uc;
	uint64_t vector, error;

	vm_add_memory(v->vm, IST_SLOT, IST_GPA, IST_SIZE, 0);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	/* Bit 0 (EXT) of a delivery fault's error code: set by CPUs, not by QEMU. */
	vector = uc.args[0];
	error = uc.args[1] & ~1ULL;
	TEST_ASSERT((vector == apm.vector && error == apm.error) ||
		    (vector == qemu.vector && error == qemu.error),
		    "the handler of vector %llu ran with error code 0x%llx, expected vector %llu error 0x%llx",
		    (unsigned long long)vector, (unsigned long long)uc.args[1],
		    (unsigned long long)apm.vector, (unsigned long long)apm.error);
	if (vector != apm.vector || error != apm.error)
		test_log("the CPU delivered vector %llu error 0x%llx where the APM says %llu 0x%llx (QEMU's emulation, docs/testing.md)",
			 (unsigned long long)vector, (unsigned long long)error,
			 (unsigned long long)apm.vector, (unsigned long long)apm.error);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	if (cr2 != ~0ULL)
		TEST_ASSERT_EQ(uc.args[0], cr2);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

/* The frame's first push, RSP - 8 from 0x1000: write, not present, supervisor. */
TEST_CASE(pf_during_gp_is_delivered)
{
	struct outcome pf = { 14, 0x2 };

	expect_pair(ctx, guest_pf_during_gp, pf, pf, 0xff8);
}

/* DEVIATION: QEMU 7.2 delivers the #GP(0) itself here, not #DF. */
TEST_CASE(gp_during_pf_is_double_fault)
{
	expect_pair(ctx, guest_gp_during_pf, (struct outcome){ 8, 0 },
		    (struct outcome){ 13, 0 }, 0x10);
}

/*
 * #NP's error code names the IDT entry: 6 * 8 + 2 (IDT bit), EXT aside.
 * DEVIATION: QEMU's 64-bit IDT code reports 6 * 16 + 2, the entry's offset.
 */
TEST_CASE(np_during_ud_is_delivered)
{
	expect_pair(ctx, guest_np_during_ud, (struct outcome){ 11, 6 * 8 + 2 },
		    (struct outcome){ 11, 6 * 16 + 2 }, ~0ULL);
}

TEST_CASE(np_during_np_is_double_fault)
{
	struct outcome df = { 8, 0 };

	expect_pair(ctx, guest_np_during_np, df, df, ~0ULL);
}

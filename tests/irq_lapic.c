// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel local APIC seen from one vCPU (KVM_CREATE_IRQCHIP): its
 * reset state, register read/write masks, xAPIC at the APIC base (moved and
 * disabled through MSR 0x1b, software-disabled through the SVR), x2APIC
 * through MSRs 0x800-0x8ff (with the faults the architecture gives), TPR and
 * PPR (through the TPR register and CR8), the priority order of pending
 * interrupts, EOI and ISR nesting, coalescing of a vector, every self-IPI
 * form, NMIs (blocked until IRET, also from KVM_NMI) and the ESR.
 *
 * The guest checks what it sees (vectors, order, register values); the host
 * checks the exits.  Expected values are the architecture's (AMD APM vol. 2
 * ch. 16, Intel SDM vol. 3 ch. 10); where KVM 6.1 deviates, the test does not
 * depend on it and says so (KVM DEVIATION, also in docs/testing.md).
 */
#include <sys/ioctl.h>

#include "apic.h"
#include "guest.h"
#include "irqchip.h"
#include "modes.h"

/* A VM with the irqchip and one vCPU running @fn to DONE. */
static void run_guest(const struct test_ctx *ctx, void (*fn)(void))
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, fn, 0);

	vcpu_run_ucall_watched(vm->vcpus[0], 20);
	irq_vm_free(vm);
}

static void setup(void)
{
	irq_install();
	apic_enable_xapic();
}

/* A few instructions with interrupts enabled: what is deliverable is taken. */
static void irq_window(void)
{
	__asm__ volatile("sti; nop; nop; nop; cli" : : : "memory");
}

static struct irq_record *rec(void)
{
	return &irq_rec[guest_vcpu_index()];
}

static void self_ipi(unsigned int vector)
{
	apic_send_ipi(0, APIC_DEST_SELF | APIC_DM_FIXED | vector);
}

/* ---------------------------------------------------------------- */
/* Reset state and registers                                        */

static void guest_reset_state(void)
{
	uint64_t base = rdmsr(MSR_IA32_APICBASE);
	uint32_t a, b, c, d, lvr, i;

	/* The BSP's APIC: enabled at the default base, xAPIC mode. */
	GUEST_ASSERT_EQ(base, APIC_DEFAULT_BASE | APICBASE_EN | APICBASE_BSP);
	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(d & CPUID1_EDX_APIC);
	GUEST_ASSERT_EQ(xapic_read(APIC_ID) >> 24, 0);
	/* An integrated APIC (version 0x1X) with at least the timer, LINT0/1, error LVTs. */
	lvr = xapic_read(APIC_LVR);
	GUEST_ASSERT_EQ(lvr & 0xf0, 0x10);
	GUEST_ASSERT((lvr >> 16 & 0xff) >= 3);
	/* Software-disabled with the spurious vector 0xff; nothing pending. */
	GUEST_ASSERT_EQ(xapic_read(APIC_SVR), 0xff);
	GUEST_ASSERT_EQ(xapic_read(APIC_TPR), 0);
	GUEST_ASSERT_EQ(xapic_read(APIC_PPR), 0);
	GUEST_ASSERT_EQ(xapic_read(APIC_LDR), 0);
	GUEST_ASSERT_EQ(xapic_read(APIC_DFR), APIC_DFR_FLAT);
	for (i = 0; i < 8; i++) {
		GUEST_ASSERT_EQ(xapic_read(APIC_ISR + i * 0x10), 0);
		GUEST_ASSERT_EQ(xapic_read(APIC_TMR + i * 0x10), 0);
		GUEST_ASSERT_EQ(xapic_read(APIC_IRR + i * 0x10), 0);
	}
	GUEST_ASSERT_EQ(xapic_read(APIC_ESR), 0);
	GUEST_ASSERT_EQ(xapic_read(APIC_TMICT), 0);
	GUEST_ASSERT_EQ(xapic_read(APIC_TMCCT), 0);
	GUEST_ASSERT_EQ(xapic_read(APIC_TDCR), 0);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVTT), APIC_LVT_MASKED);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVTERR), APIC_LVT_MASKED);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVT1), APIC_LVT_MASKED);
	/*
	 * KVM DEVIATION: LVT0 reads 0x700 (ExtINT, unmasked) on KVM's BSP
	 * (KVM_X86_QUIRK_LINT0_REENABLED); the architecture resets it masked.
	 * Not checked.
	 */
	/* The x2APIC feature is offered (a VMM may hide it; the supported CPUID has it). */
	GUEST_ASSERT(c & CPUID1_ECX_X2APIC);
}

TEST_CASE(reset_state)
{
	run_guest(ctx, guest_reset_state);
}

/* An AP's APIC: enabled, not the BSP, APIC ID = its vCPU id. */
static void guest_ap_reset_state(void)
{
	unsigned int me = guest_vcpu_index();
	uint64_t base = rdmsr(MSR_IA32_APICBASE);

	GUEST_ASSERT_EQ(base, APIC_DEFAULT_BASE | APICBASE_EN | (me ? 0 : APICBASE_BSP));
	GUEST_ASSERT_EQ(xapic_read(APIC_ID) >> 24, me);
	GUEST_ASSERT_EQ(xapic_read(APIC_SVR), 0xff);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVT0) & APIC_LVT_MASKED, me ? APIC_LVT_MASKED : 0);
}

TEST_CASE(ap_reset_state)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 3, guest_ap_reset_state, 0);
	struct ucall uc;
	int i;

	/* One after the other: the guests do not interact. */
	for (i = 0; i < 3; i++)
		irq_expect_ucall(vm->vcpus[i], UCALL_DONE, &uc);
	irq_vm_free(vm);
}

/* Writes @v to @reg and expects @expect back. */
static void rw(uint32_t reg, uint32_t v, uint32_t expect)
{
	xapic_write(reg, v);
	/* The register's offset in the upper half names it in a failure. */
	GUEST_ASSERT_EQ((uint64_t)reg << 32 | xapic_read(reg), (uint64_t)reg << 32 | expect);
}

static void guest_register_rw(void)
{
	uint32_t lvr = xapic_read(APIC_LVR);

	setup();
	/*
	 * KVM DEVIATION: on SVM, KVM loses the TPR's low four bits (the
	 * sub-class) at the next exit, since it copies V_TPR (CR8, four bits)
	 * back into the TPR (svm.c, sync_cr8_to_lapic).  The architecture keeps
	 * all eight; only the class is checked.
	 */
	rw(APIC_TPR, 0xf0, 0xf0);
	rw(APIC_TPR, 0x50, 0x50);
	rw(APIC_TPR, 0, 0);
	rw(APIC_LDR, 0xffffffff, 0xff000000);		/* bits 31:24 only */
	rw(APIC_LDR, 0, 0);
	rw(APIC_DFR, 0x0fffffff, APIC_DFR_CLUSTER);	/* model in 31:28, the rest ones */
	rw(APIC_DFR, 0, APIC_DFR_CLUSTER);
	rw(APIC_DFR, 0xffffffff, APIC_DFR_FLAT);
	rw(APIC_SVR, APIC_SVR_ENABLE | 0x3f, APIC_SVR_ENABLE | 0x3f);
	rw(APIC_SVR, APIC_SVR_ENABLE | 0xff, APIC_SVR_ENABLE | 0xff);
	/*
	 * LVTs keep their defined fields; reserved bits read 0.  KVM
	 * DEVIATION: the read-only delivery status (bit 12) and LINT remote IRR
	 * (bit 14) keep what software writes into them; the values here leave
	 * them clear.
	 */
	rw(APIC_LVTT, 0xfffbafff, APIC_LVT_MASKED | APIC_TIMER_PERIODIC | 0xff);
	rw(APIC_LVTT, APIC_LVT_MASKED | 0x40, APIC_LVT_MASKED | 0x40);
	rw(APIC_LVT0, 0xffffafff, 0x1a7ff);		/* vector, mode, polarity, trigger, mask */
	rw(APIC_LVT0, APIC_LVT_MASKED | APIC_DM_EXTINT, APIC_LVT_MASKED | APIC_DM_EXTINT);
	rw(APIC_LVT1, APIC_LVT_MASKED | APIC_DM_NMI, APIC_LVT_MASKED | APIC_DM_NMI);
	rw(APIC_LVTERR, 0xffffafff, APIC_LVT_MASKED | 0xff);
	rw(APIC_LVTERR, APIC_LVT_MASKED | 0xf3, APIC_LVT_MASKED | 0xf3);
	rw(APIC_TDCR, 0xffffffff, 0xb);			/* bits 0, 1 and 3 */
	rw(APIC_TDCR, 0, 0);
	rw(APIC_TMICT, 0, 0);
	/* The version register is read-only. */
	rw(APIC_LVR, ~lvr, lvr);
	/* Writing the ESR then reading it: no errors. */
	rw(APIC_ESR, 0, 0);
}

TEST_CASE(register_rw)
{
	run_guest(ctx, guest_register_rw);
}

/* ---------------------------------------------------------------- */
/* MSR 0x1b: relocation, disabling                                  */

#define MOVED_BASE	0xd0000000ULL

static void guest_relocate(void)
{
	uint32_t lvr = xapic_read(APIC_LVR);
	uint64_t base = rdmsr(MSR_IA32_APICBASE);

	setup();
	xapic_write(APIC_TPR, 0x20);
	wrmsr(MSR_IA32_APICBASE, (base & ~0xfffff000ULL) | MOVED_BASE);
	GUEST_ASSERT_EQ(rdmsr(MSR_IA32_APICBASE) & ~0xfffULL, MOVED_BASE);
	/* The same APIC at the new address ... */
	GUEST_ASSERT_EQ(mmio_read32(MOVED_BASE + APIC_LVR), lvr);
	GUEST_ASSERT_EQ(mmio_read32(MOVED_BASE + APIC_TPR), 0x20);
	mmio_write32(MOVED_BASE + APIC_TPR, 0x30);
	/* ... and the old address is plain MMIO now: the host answers. */
	GUEST_ASSERT_EQ(mmio_read32(APIC_DEFAULT_BASE + APIC_LVR), 0x12345678);
	wrmsr(MSR_IA32_APICBASE, base);
	GUEST_ASSERT_EQ(xapic_read(APIC_TPR), 0x30);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVR), lvr);
}

TEST_CASE(relocate_base)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_relocate, 0);
	struct vcpu *v = vm->vcpus[0];
	struct ucall uc;
	uint32_t answer = 0x12345678;

	vcpu_run(v);
	TEST_ASSERT(v->run->exit_reason == KVM_EXIT_MMIO &&
		    v->run->mmio.phys_addr == APIC_DEFAULT_BASE + APIC_LVR &&
		    !v->run->mmio.is_write && v->run->mmio.len == 4,
		    "expected the old APIC base to exit as MMIO: %s", vcpu_exit_str(v));
	memcpy(v->run->mmio.data, &answer, 4);
	irq_expect_ucall(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
}

/*
 * Disabled through MSR 0x1b: CPUID.1:EDX.APIC follows the enable bit, an
 * interrupt sent meanwhile is not accepted, and after enabling again the
 * APIC ID is back and interrupts arrive.  KVM DEVIATION: with the APIC
 * disabled KVM still claims its MMIO page (reads all-ones, writes dropped:
 * KVM_X86_QUIRK_LAPIC_MMIO_HOLE) where the architecture leaves the range to
 * the bus; yakvm does the same, and the guest checks it.
 */
static void guest_msr_disable(void)
{
	uint64_t base = rdmsr(MSR_IA32_APICBASE);
	uint32_t a, b, c, d;

	setup();
	irq_set_handler(0x41, irq_count_eoi);
	irq_set_handler(0x42, irq_count_eoi);
	wrmsr(MSR_IA32_APICBASE, base & ~APICBASE_EN);
	GUEST_ASSERT_EQ(mmio_read32(APIC_DEFAULT_BASE + APIC_LVR), 0xffffffff);
	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(!(d & CPUID1_EDX_APIC));
	GUEST_SYNC(1, 0);		/* the host sends MSI 0x41 now */
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 0);
	wrmsr(MSR_IA32_APICBASE, base);
	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(d & CPUID1_EDX_APIC);
	GUEST_ASSERT_EQ(xapic_read(APIC_ID) >> 24, 0);
	apic_enable_xapic();
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 0);	/* 0x41 was lost, not held */
	GUEST_SYNC(2, 0);		/* the host sends MSI 0x42 */
	wait_count_hlt(&rec()->count[0x42], 1);
	GUEST_ASSERT_EQ(rec()->n, 1);
}

TEST_CASE(msr_disable)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_msr_disable, 0);
	struct vcpu *v = vm->vcpus[0];
	struct ucall uc;
	int r;

	irq_expect_ucall(v, UCALL_SYNC, &uc);
	r = vm_signal_msi_raw(vm, MSI_ADDR(0), 0x41);
	TEST_ASSERT(r <= 0, "KVM_SIGNAL_MSI to a disabled APIC returned %d", r);
	irq_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 2);
	TEST_ASSERT_EQ(vm_signal_msi_raw(vm, MSI_ADDR(0), 0x42), 1);
	irq_expect_ucall(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
}

/*
 * Software-disabled (SVR bit 8 clear): every LVT is masked and stays
 * masked whatever is written; NMIs are still accepted (Intel SDM 10.4.7.2)
 * and IPIs can still be sent.
 */
static volatile uint32_t nmi_count;

static void on_nmi(struct ex_regs *regs)
{
	(void)regs;
	nmi_count++;
}

static void guest_svr_disable(void)
{
	setup();
	xapic_write(APIC_LVTT, 0x40);
	xapic_write(APIC_LVTERR, 0x41);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVTT), 0x40);
	xapic_write(APIC_SVR, 0xff);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVTT), APIC_LVT_MASKED | 0x40);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVTERR), APIC_LVT_MASKED | 0x41);
	xapic_write(APIC_LVTT, 0x42);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVTT), APIC_LVT_MASKED | 0x42);
	guest_set_handler(2, on_nmi);
	apic_send_ipi(0, APIC_DM_NMI);		/* physical, to itself (ID 0) */
	GUEST_ASSERT_EQ(nmi_count, 1);
	xapic_write(APIC_SVR, APIC_SVR_ENABLE | 0xff);
	/* Enabling again does not unmask. */
	GUEST_ASSERT_EQ(xapic_read(APIC_LVTT), APIC_LVT_MASKED | 0x42);
	xapic_write(APIC_LVTT, 0x43);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVTT), 0x43);
	guest_set_handler(2, NULL);
}

TEST_CASE(svr_software_disable)
{
	run_guest(ctx, guest_svr_disable);
}

/* ---------------------------------------------------------------- */
/* x2APIC                                                           */

#define GP(expr)	GUEST_ASSERT(expr)

static void guest_x2apic(void)
{
	uint64_t base = rdmsr(MSR_IA32_APICBASE), v;
	uint32_t xlvr = xapic_read(APIC_LVR);

	irq_install();
	/* Not in x2APIC mode yet: its MSRs fault. */
	GP(rdmsr_gp(X2APIC_MSR(APIC_ID), &v));
	apic_enable_x2apic();
	GUEST_ASSERT_EQ(rdmsr(MSR_IA32_APICBASE), base | APICBASE_EXTD);
	GUEST_ASSERT_EQ(x2apic_read(APIC_ID), 0);		/* 32-bit ID */
	GUEST_ASSERT_EQ(x2apic_read(APIC_LVR), xlvr);
	/* LDR derived from the ID: cluster ID << 16 | 1 << (ID & 15). */
	GUEST_ASSERT_EQ(x2apic_read(APIC_LDR), 1);
	/* Registers that do not exist, are read-only, or write-only. */
	GP(rdmsr_gp(X2APIC_MSR(APIC_DFR), &v));
	GP(rdmsr_gp(X2APIC_MSR(APIC_ICR2), &v));
	GP(rdmsr_gp(X2APIC_MSR(APIC_SELF_IPI), &v));
	GP(rdmsr_gp(0x804, &v));
	GP(wrmsr_gp(X2APIC_MSR(APIC_ID), 5));
	GP(wrmsr_gp(X2APIC_MSR(APIC_LVR), 0));
	GP(wrmsr_gp(X2APIC_MSR(APIC_LDR), 0));
	GP(wrmsr_gp(X2APIC_MSR(APIC_PPR), 0));
	GP(wrmsr_gp(X2APIC_MSR(APIC_ESR), 1));		/* only 0 may be written */
	GP(wrmsr_gp(X2APIC_MSR(APIC_TPR), 1ULL << 32));	/* bits 63:32 reserved */
	GUEST_ASSERT(!wrmsr_gp(X2APIC_MSR(APIC_ESR), 0));
	GUEST_ASSERT_EQ(x2apic_read(APIC_ESR), 0);
	/* TPR and CR8. */
	x2apic_write(APIC_TPR, 0x70);
	GUEST_ASSERT_EQ(read_cr8(), 7);
	write_cr8(2);
	GUEST_ASSERT_EQ(x2apic_read(APIC_TPR), 0x20);
	/*
	 * The xAPIC page is not the APIC any more; as KVM (its default
	 * KVM_X86_QUIRK_LAPIC_MMIO_HOLE), a hole: writes dropped, reads all-ones.
	 */
	mmio_write32(APIC_DEFAULT_BASE + APIC_TPR, 0x90);
	GUEST_ASSERT_EQ(x2apic_read(APIC_TPR), 0x20);
	GUEST_ASSERT_EQ(mmio_read32(APIC_DEFAULT_BASE + APIC_TPR), 0xffffffff);
	x2apic_write(APIC_TPR, 0);
	/* Self-IPIs: the SELF_IPI register and the 64-bit ICR. */
	irq_set_handler(0x50, irq_count_eoi);
	irq_set_handler(0x51, irq_count_eoi);
	irq_set_handler(0x52, irq_count_eoi);
	x2apic_write(APIC_SELF_IPI, 0x50);
	wrmsr(X2APIC_MSR(APIC_ICR), APIC_DEST_SELF | 0x51);
	wrmsr(X2APIC_MSR(APIC_ICR), 0ULL << 32 | 0x52);	/* physical, x2APIC ID 0 */
	/* The ICR reads back as one 64-bit register, delivery status clear. */
	GUEST_ASSERT_EQ(rdmsr(X2APIC_MSR(APIC_ICR)), 0x52);
	irq_window();
	GUEST_ASSERT_EQ(rec()->count[0x50], 1);
	GUEST_ASSERT_EQ(rec()->count[0x51], 1);
	GUEST_ASSERT_EQ(rec()->count[0x52], 1);
	GUEST_ASSERT_EQ(rec()->n, 3);
	/* x2APIC to xAPIC directly, or EXTD without EN: invalid, #GP. */
	GP(wrmsr_gp(MSR_IA32_APICBASE, base));
	GP(wrmsr_gp(MSR_IA32_APICBASE, (base & ~APICBASE_EN) | APICBASE_EXTD));
	/* Through the disabled state back to xAPIC. */
	GUEST_ASSERT(!wrmsr_gp(MSR_IA32_APICBASE, base & ~(APICBASE_EN | APICBASE_EXTD)));
	GUEST_ASSERT(!wrmsr_gp(MSR_IA32_APICBASE, base));
	apic_x2[guest_vcpu_index()] = false;
	GUEST_ASSERT_EQ(rdmsr(MSR_IA32_APICBASE), base);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVR), xlvr);
	GP(rdmsr_gp(X2APIC_MSR(APIC_TPR), &v));
}

TEST_CASE(x2apic)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_x2apic, 0);
	struct vcpu *v = vm->vcpus[0];
	struct ucall uc;

	irq_expect_ucall(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
}

/* ---------------------------------------------------------------- */
/* Priorities                                                       */

/*
 * Pending vectors above the TPR's class are taken, the others wait in the
 * IRR: the TPR register and CR8 (= TPR[7:4]) are the same thing, and PPR
 * is the TPR or the in-service class, whichever is higher.
 */
static volatile uint32_t ppr_in_handler;

static void on_0x95(struct ex_regs *regs)
{
	irq_record(regs->vector);
	ppr_in_handler = xapic_read(APIC_PPR);
	apic_eoi();
}

static void guest_tpr(void)
{
	static const uint8_t vectors[] = { 0x35, 0x55, 0x65, 0x75, 0x95 };
	unsigned int i;

	setup();
	for (i = 0; i < sizeof(vectors); i++)
		irq_set_handler(vectors[i], irq_count_eoi);
	irq_set_handler(0x95, on_0x95);
	xapic_write(APIC_TPR, 0x60);	/* the class only: see register_rw */
	GUEST_ASSERT_EQ(read_cr8(), 6);
	GUEST_ASSERT_EQ(xapic_read(APIC_PPR), 0x60);
	for (i = 0; i < sizeof(vectors); i++)
		self_ipi(vectors[i]);
	for (i = 0; i < sizeof(vectors); i++)
		GUEST_ASSERT(apic_vector_bit(APIC_IRR, vectors[i]));
	irq_window();
	/* Classes 9 and 7 are above 6; 6 (equal) and below wait. */
	GUEST_ASSERT_EQ(rec()->n, 2);
	GUEST_ASSERT_EQ(rec()->vector[0], 0x95);
	GUEST_ASSERT_EQ(rec()->vector[1], 0x75);
	GUEST_ASSERT_EQ(ppr_in_handler, 0x90);
	GUEST_ASSERT(apic_vector_bit(APIC_IRR, 0x65));
	GUEST_ASSERT(!apic_vector_bit(APIC_IRR, 0x75));
	/* CR8 lowers the TPR. */
	write_cr8(5);
	GUEST_ASSERT_EQ(xapic_read(APIC_TPR), 0x50);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 3);
	GUEST_ASSERT_EQ(rec()->vector[2], 0x65);
	write_cr8(3);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 4);
	GUEST_ASSERT_EQ(rec()->vector[3], 0x55);
	/* And the register lowers it further. */
	xapic_write(APIC_TPR, 0x20);
	GUEST_ASSERT_EQ(read_cr8(), 2);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 5);
	GUEST_ASSERT_EQ(rec()->vector[4], 0x35);
	GUEST_ASSERT_EQ(xapic_read(APIC_PPR), 0x20);
}

TEST_CASE(tpr_cr8_ppr)
{
	run_guest(ctx, guest_tpr);
}

/* Pending interrupts are taken highest vector first (class, then vector). */
static void guest_priority_order(void)
{
	static const uint8_t sent[] = { 0x31, 0x52, 0x93, 0x57, 0xe0, 0x20 };
	static const uint8_t taken[] = { 0xe0, 0x93, 0x57, 0x52, 0x31, 0x20 };
	unsigned int i;

	setup();
	for (i = 0; i < sizeof(sent); i++) {
		irq_set_handler(sent[i], irq_count_eoi);
		self_ipi(sent[i]);
	}
	for (i = 0; i < sizeof(sent); i++)
		GUEST_ASSERT(apic_vector_bit(APIC_IRR, sent[i]));
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, sizeof(taken));
	for (i = 0; i < sizeof(taken); i++) {
		GUEST_ASSERT_EQ(rec()->vector[i], taken[i]);
		GUEST_ASSERT_EQ(rec()->at_depth[i], 1);
	}
	for (i = 0; i < 8; i++) {
		GUEST_ASSERT_EQ(xapic_read(APIC_IRR + i * 0x10), 0);
		GUEST_ASSERT_EQ(xapic_read(APIC_ISR + i * 0x10), 0);
	}
}

TEST_CASE(priority_order)
{
	run_guest(ctx, guest_priority_order);
}

/*
 * Nesting: inside the handler of 0x52 (interrupts enabled) a higher class
 * (0x93) preempts; the same class (0x5a) and a lower one (0x31) wait for
 * the EOI.  EOI clears the highest in-service vector.
 */
static void on_0x93(struct ex_regs *regs)
{
	irq_record(regs->vector);
	GUEST_ASSERT(apic_vector_bit(APIC_ISR, 0x93));
	GUEST_ASSERT(apic_vector_bit(APIC_ISR, 0x52));
	GUEST_ASSERT_EQ(xapic_read(APIC_PPR), 0x90);
	apic_eoi();
	GUEST_ASSERT(!apic_vector_bit(APIC_ISR, 0x93));
	GUEST_ASSERT(apic_vector_bit(APIC_ISR, 0x52));
	GUEST_ASSERT_EQ(xapic_read(APIC_PPR), 0x50);
}

static void on_0x52(struct ex_regs *regs)
{
	irq_record(regs->vector);
	GUEST_ASSERT(apic_vector_bit(APIC_ISR, 0x52));
	self_ipi(0x93);
	self_ipi(0x5a);
	self_ipi(0x31);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 2);		/* only 0x93 got in */
	GUEST_ASSERT(apic_vector_bit(APIC_IRR, 0x5a));
	GUEST_ASSERT(apic_vector_bit(APIC_IRR, 0x31));
	apic_eoi();
	GUEST_ASSERT(!apic_vector_bit(APIC_ISR, 0x52));
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 4);
}

static void guest_nesting(void)
{
	setup();
	irq_set_handler(0x52, on_0x52);
	irq_set_handler(0x93, on_0x93);
	irq_set_handler(0x5a, irq_count_eoi);
	irq_set_handler(0x31, irq_count_eoi);
	self_ipi(0x52);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 4);
	GUEST_ASSERT_EQ(rec()->vector[0], 0x52);
	GUEST_ASSERT_EQ(rec()->at_depth[0], 1);
	GUEST_ASSERT_EQ(rec()->vector[1], 0x93);
	GUEST_ASSERT_EQ(rec()->at_depth[1], 2);
	GUEST_ASSERT_EQ(rec()->vector[2], 0x5a);
	GUEST_ASSERT_EQ(rec()->at_depth[2], 2);
	GUEST_ASSERT_EQ(rec()->vector[3], 0x31);
	GUEST_ASSERT_EQ(rec()->at_depth[3], 2);
	GUEST_ASSERT_EQ(xapic_read(APIC_PPR), 0);
}

TEST_CASE(isr_nesting)
{
	run_guest(ctx, guest_nesting);
}

/*
 * One IRR bit per vector: three sends while pending are one interrupt;
 * one sent while the vector is in service is taken again after its EOI.
 */
static volatile bool resent;

static void on_0x44(struct ex_regs *regs)
{
	irq_record(regs->vector);
	if (!resent) {
		resent = true;
		self_ipi(0x44);
		GUEST_ASSERT(apic_vector_bit(APIC_IRR, 0x44));
		GUEST_ASSERT(apic_vector_bit(APIC_ISR, 0x44));
	}
	apic_eoi();
}

static void guest_coalesce(void)
{
	setup();
	irq_set_handler(0x44, irq_count_eoi);
	self_ipi(0x44);
	self_ipi(0x44);
	self_ipi(0x44);
	irq_window();
	irq_window();
	GUEST_ASSERT_EQ(rec()->count[0x44], 1);
	irq_set_handler(0x44, on_0x44);
	self_ipi(0x44);
	irq_window();
	irq_window();
	GUEST_ASSERT_EQ(rec()->count[0x44], 3);
}

TEST_CASE(vector_coalescing)
{
	run_guest(ctx, guest_coalesce);
}

/* ---------------------------------------------------------------- */
/* Self-IPIs, NMI                                                   */

static void expect_one(unsigned int vector)
{
	uint32_t before = rec()->n;

	irq_window();
	GUEST_ASSERT_EQ(rec()->n, before + 1);
	GUEST_ASSERT_EQ(rec()->vector[before], vector);
}

static void guest_self_ipis(void)
{
	unsigned int v;

	setup();
	for (v = 0x60; v < 0x70; v++)
		irq_set_handler(v, irq_count_eoi);
	xapic_write(APIC_LDR, 0x01000000);	/* flat logical ID 1 */
	apic_send_ipi(0, APIC_DEST_SELF | 0x60);
	expect_one(0x60);
	apic_send_ipi(0, 0x61);			/* physical, own ID */
	expect_one(0x61);
	apic_send_ipi(0, APIC_DEST_ALLINC | 0x62);
	expect_one(0x62);
	apic_send_ipi(0xff, 0x63);		/* physical broadcast */
	expect_one(0x63);
	apic_send_ipi(0x01, APIC_DEST_LOGICAL | 0x64);
	expect_one(0x64);
	apic_send_ipi(0x02, APIC_DEST_LOGICAL | 0x65);	/* not its logical ID */
	apic_send_ipi(0x05, 0x65);			/* no such physical ID */
	apic_send_ipi(0, APIC_DEST_ALLBUT | 0x65);	/* nobody else */
	irq_window();
	GUEST_ASSERT_EQ(rec()->count[0x65], 0);
	/* The ICR's delivery status reads idle once the IPI is sent. */
	GUEST_ASSERT(!(xapic_read(APIC_ICR) & APIC_DELIVERY_PENDING));
	/* x2APIC forms, including the SELF_IPI register. */
	apic_enable_x2apic();
	x2apic_write(APIC_SELF_IPI, 0x66);
	expect_one(0x66);
	apic_send_ipi(0, APIC_DEST_SELF | 0x67);
	expect_one(0x67);
	apic_send_ipi(0, 0x68);
	expect_one(0x68);
	apic_send_ipi(0xffffffff, 0x69);	/* x2APIC broadcast */
	expect_one(0x69);
	apic_send_ipi(0x00000001, APIC_DEST_LOGICAL | 0x6a);	/* cluster 0, bit 0 */
	expect_one(0x6a);
	apic_send_ipi(0, APIC_DEST_ALLINC | 0x6b);
	expect_one(0x6b);
	GUEST_ASSERT_EQ(rec()->count[0x65], 0);
}

TEST_CASE(self_ipi_forms)
{
	run_guest(ctx, guest_self_ipis);
}

/*
 * NMIs ignore IF and TPR, and are blocked from the handler's start to its
 * IRET: two sent inside the handler make one more NMI, after the IRET.
 */
static volatile uint32_t nmi_inside;

static void on_nmi_resend(struct ex_regs *regs)
{
	(void)regs;
	nmi_count++;
	if (nmi_count == 1) {
		apic_send_ipi(0, APIC_DM_NMI);
		apic_send_ipi(0, APIC_DM_NMI);
		__asm__ volatile("nop; nop; nop" : : : "memory");
		nmi_inside = nmi_count;
	}
}

static void guest_nmi(void)
{
	setup();
	xapic_write(APIC_TPR, 0xf0);
	guest_set_handler(2, on_nmi_resend);
	apic_send_ipi(0, APIC_DM_NMI);
	/* Taken right away, interrupts disabled and TPR at 15. */
	__asm__ volatile("nop" : : : "memory");
	GUEST_ASSERT_EQ(nmi_inside, 1);
	GUEST_ASSERT_EQ(nmi_count, 2);
	GUEST_SYNC(0, 0);		/* the host sends KVM_NMI */
	GUEST_ASSERT_EQ(nmi_count, 3);
	guest_set_handler(2, NULL);
}

TEST_CASE(nmi)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_nmi, 0);
	struct vcpu *v = vm->vcpus[0];
	struct ucall uc;

	irq_expect_ucall(v, UCALL_SYNC, &uc);
	/* api.rst: with the irqchip in the kernel, KVM_NMI is emulated there. */
	TEST_ASSERT(!ioctl(v->fd, KVM_NMI), "KVM_NMI: %s", strerror(errno));
	irq_expect_ucall(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
}

/* KVM_INTERRUPT is for a user-space PIC: with the irqchip in the kernel, ENXIO. */
TEST_NO_GUEST(kvm_interrupt_enxio)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_reset_state, 0);
	struct kvm_interrupt irq = { .irq = 0x30 };

	EXPECT_ERRNO(ioctl(vm->vcpus[0]->fd, KVM_INTERRUPT, &irq), ENXIO);
	irq_vm_free(vm);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The split irqchip (api.rst 7.8, KVM_CAP_SPLIT_IRQCHIP): local APICs in
 * the kernel, the IOAPIC and the PIC in the VMM (QEMU's
 * kernel-irqchip=split).
 *
 * - Enabling it: args[0] is the number of GSIs that are the VMM's IOAPIC
 *   pins (at most KVM_MAX_IRQ_ROUTES, 4096), before any vCPU, once; it and
 *   KVM_CREATE_IRQCHIP exclude each other (-EEXIST).
 * - What is not there: the in-kernel PIC and IOAPIC (KVM_GET_IRQCHIP,
 *   KVM_CREATE_PIT2: -ENXIO), IRQCHIP routes and resampling irqfds
 *   (-EINVAL).  The routing table starts empty; MSI routes work, and
 *   KVM_IRQ_LINE raises them (that is how the VMM's IOAPIC delivers).
 * - KVM_EXIT_IOAPIC_EOI: the guest's EOI of a vector that a level-triggered
 *   MSI route below args[0] targets at this vCPU exits to the VMM, whose
 *   IOAPIC clears its Remote IRR; other EOIs do not.
 * - The VMM's PIC: KVM_INTERRUPT hands an ExtINT vector to the local APIC,
 *   taken when LINT0 is unmasked in ExtINT mode and the guest has IF=1
 *   (one at a time: -EEXIST); kvm_run.ready_for_interrupt_injection and
 *   request_interrupt_window say when, as KVM's kvm_cpu_accept_dm_intr.
 */
#include <sys/ioctl.h>
#include <unistd.h>

#include "apic.h"
#include "guest.h"
#include "irqchip.h"
#include "modes.h"

/* The number of IOAPIC pins the VMM says it has (QEMU: 24). */
#define NR_PINS		24

static int enable_split_raw(struct vm *vm, uint64_t nr_pins)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { nr_pins } };

	return ioctl(vm->fd, KVM_ENABLE_CAP, &cap);
}

/* A long-mode VM with the split irqchip and one vCPU running fn. */
static struct vm *split_vm(const struct test_ctx *ctx, void (*fn)(void))
{
	struct vm *vm = vm_create(ctx->dev, 0);
	struct vcpu *v;

	if (enable_split_raw(vm, NR_PINS))
		test_fail("KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP): %s", strerror(errno));
	vm_add_memory(vm, 0, 0, LONG_MODE_MEM_SIZE, 0);
	v = vcpu_add(vm, 0);
	vcpu_set_cpuid_apic_id(v);
	vcpu_enter_long_at(v, (uint64_t)(uintptr_t)fn, 0);
	vm_set_guest_tsc_khz(vm);
	return vm;
}

TEST_NO_GUEST(enable_rules)
{
	struct vm *vm = vm_create(ctx->dev, 0), *other;
	struct kvm_irq_routing_entry e[2];
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct kvm_pit_config pit = { 0 };
	struct kvm_irqfd irqfd = { 0 };
	struct kvm_irq_level line = { .irq = 5, .level = 1 };

	TEST_ASSERT_EQ(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SPLIT_IRQCHIP), 1);
	/* Without any irqchip, KVM_IRQ_LINE has nowhere to go. */
	EXPECT_ERRNO(ioctl(vm->fd, KVM_IRQ_LINE, &line), ENXIO);
	/* More IOAPIC routes than routes exist. */
	EXPECT_ERRNO(enable_split_raw(vm, 4097), EINVAL);
	EXPECT_ERRNO(enable_split_raw(vm, 1ULL << 32), EINVAL);
	EXPECT_OK(enable_split_raw(vm, NR_PINS));
	/* Once, and not beside the full irqchip. */
	EXPECT_ERRNO(enable_split_raw(vm, NR_PINS), EEXIST);
	EXPECT_ERRNO(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0), EEXIST);
	/* The PIC, the IOAPIC and the PIT are the VMM's. */
	EXPECT_ERRNO(ioctl(vm->fd, KVM_GET_IRQCHIP, &chip), ENXIO);
	EXPECT_ERRNO(ioctl(vm->fd, KVM_SET_IRQCHIP, &chip), ENXIO);
	/*
	 * DIFFERENCE: KVM creates a PIT without the full irqchip (its IRQ0
	 * then goes wherever GSI 0 is routed); api.rst: "only valid after
	 * enabling in-kernel irqchip support via KVM_CREATE_IRQCHIP", which
	 * yakvm enforces (docs/testing.md).
	 */
	if (ctx->dev->is_yakvm)
		EXPECT_ERRNO(ioctl(vm->fd, KVM_CREATE_PIT2, &pit), ENXIO);
	else
		EXPECT_OK(ioctl(vm->fd, KVM_CREATE_PIT2, &pit));
	/* Routes: MSIs only. */
	e[0] = route_irqchip(4, KVM_IRQCHIP_IOAPIC, 4);
	EXPECT_ERRNO(vm_set_gsi_routing_raw(vm, e, 1, 0), EINVAL);
	e[0] = route_irqchip(4, KVM_IRQCHIP_PIC_MASTER, 4);
	EXPECT_ERRNO(vm_set_gsi_routing_raw(vm, e, 1, 0), EINVAL);
	e[0] = route_msi(4, MSI_ADDR(0), 0x60);
	e[1] = route_msi(NR_PINS + 6, MSI_ADDR(0), 0x61);
	EXPECT_OK(vm_set_gsi_routing_raw(vm, e, 2, 0));
	/* An irqfd on an MSI route, but none that resamples (no in-kernel IOAPIC). */
	irqfd.fd = new_eventfd();
	irqfd.gsi = 4;
	irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
	irqfd.resamplefd = new_eventfd();
	EXPECT_ERRNO(ioctl(vm->fd, KVM_IRQFD, &irqfd), EINVAL);
	irqfd.flags = 0;
	irqfd.resamplefd = 0;
	EXPECT_OK(ioctl(vm->fd, KVM_IRQFD, &irqfd));
	irqfd.flags = KVM_IRQFD_FLAG_DEASSIGN;
	EXPECT_OK(ioctl(vm->fd, KVM_IRQFD, &irqfd));
	vm_free(vm);

	/* After the first vCPU it is too late (-EEXIST, where KVM_CREATE_IRQCHIP says -EINVAL). */
	other = vm_create(ctx->dev, 0);
	vcpu_add(other, 0);
	EXPECT_ERRNO(enable_split_raw(other, NR_PINS), EEXIST);
	vm_free(other);

	/* After KVM_CREATE_IRQCHIP: -EEXIST. */
	other = vm_create_with_irqchip(ctx->dev, 0);
	EXPECT_ERRNO(enable_split_raw(other, NR_PINS), EEXIST);
	vm_free(other);
}

/* ---------------------------------------------------------------- */
/* MSI routes, KVM_IRQ_LINE and KVM_EXIT_IOAPIC_EOI                 */

static void guest_routes(void)
{
	struct irq_record *r = &irq_rec[0];
	unsigned int v;

	irq_install();
	apic_enable_xapic();
	for (v = 0x60; v < 0x70; v++)
		irq_set_handler(v, irq_count_eoi);
	GUEST_SYNC(0, 0);		/* GSI 5: edge MSI, vector 0x60 */
	wait_count_hlt(&r->count[0x60], 1);
	GUEST_SYNC(1, 0);		/* GSI 10: level MSI below NR_PINS, vector 0x62 */
	wait_count_hlt(&r->count[0x62], 1);
	GUEST_ASSERT(!apic_vector_bit(APIC_ISR, 0x62));
	GUEST_SYNC(2, 0);		/* GSI 30: level MSI above NR_PINS, vector 0x64 */
	wait_count_hlt(&r->count[0x64], 1);
	GUEST_ASSERT_EQ(r->n, 3);
}

/* Runs to the next ucall; returns it, counting KVM_EXIT_IOAPIC_EOIs and their vector. */
static uint64_t run_counting_eois(struct vcpu *v, struct ucall *uc, int *eois, int *vector)
{
	uint64_t type;

	do {
		if (vcpu_run(v) == KVM_EXIT_IOAPIC_EOI) {
			(*eois)++;
			*vector = v->run->eoi.vector;
			type = UCALL_PRINT;
			continue;
		}
		type = vcpu_expect_ucall_exit(v, uc);
	} while (type == UCALL_PRINT);
	return type;
}

TEST_CASE(msi_routes_and_eoi_exits)
{
	struct vm *vm = split_vm(ctx, guest_routes);
	struct vcpu *v = vm->vcpus[0];
	struct kvm_irq_routing_entry e[3] = {
		route_msi(5, MSI_ADDR(0), 0x60),
		route_msi(10, MSI_ADDR(0), MSI_DATA_LEVEL | MSI_DATA_ASSERT | 0x62),
		route_msi(NR_PINS + 6, MSI_ADDR(0), MSI_DATA_LEVEL | MSI_DATA_ASSERT | 0x64),
	};
	static const struct {
		uint32_t gsi;
		int eois;		/* KVM_EXIT_IOAPIC_EOIs the guest's EOI makes */
	} steps[] = { { 5, 0 }, { 10, 1 }, { NR_PINS + 6, 0 } };
#define NR_STEPS	(sizeof(steps) / sizeof(steps[0]))
	struct ucall uc;
	int eois = 0, vector = -1;
	size_t i;

	/* The table starts empty: nothing is routed. */
	TEST_ASSERT(vm_irq_line(vm, 5, 1) < 0, "an unrouted GSI was delivered");
	vm_set_gsi_routing(vm, e, 3);
	TEST_ASSERT_EQ(run_counting_eois(v, &uc, &eois, &vector), UCALL_SYNC);
	for (i = 0; i < NR_STEPS; i++) {
		TEST_ASSERT_EQ(uc.args[0], i);
		/* An MSI route delivers on the rising level; lowering it does nothing. */
		TEST_ASSERT_EQ(vm_irq_line(vm, steps[i].gsi, 1), 1);
		TEST_ASSERT(vm_irq_line(vm, steps[i].gsi, 0) < 0,
			    "GSI %u: the deassert was delivered", steps[i].gsi);
		eois = 0;
		vector = -1;
		TEST_ASSERT_EQ(run_counting_eois(v, &uc, &eois, &vector),
			       i + 1 < NR_STEPS ? UCALL_SYNC : UCALL_DONE);
		TEST_ASSERT(eois == steps[i].eois, "GSI %u: %d EOI exits, want %d",
			    steps[i].gsi, eois, steps[i].eois);
		if (eois)
			TEST_ASSERT_EQ(vector, 0x62);
	}
	irq_vm_free(vm);
}

/* ---------------------------------------------------------------- */
/* The VMM's PIC: ExtINT through KVM_INTERRUPT                      */

static void guest_extint(void)
{
	struct irq_record *r = &irq_rec[0];

	irq_install();
	irq_check_isr = false;		/* an ExtINT sets no ISR bit */
	apic_enable_xapic();
	irq_set_handler(0x70, irq_count_only);
	irq_set_handler(0x71, irq_count_only);
	irq_set_handler(0x73, irq_count_only);
	/* LINT0 masked (its reset state): the APIC takes no ExtINT. */
	sti();
	GUEST_SYNC(0, 0);
	xapic_write(APIC_LVT0, APIC_DM_EXTINT);
	GUEST_SYNC(1, 0);		/* IF=1, LINT0 takes ExtINT: ready */
	cli();
	GUEST_SYNC(2, 0);		/* IF=0: not ready; the VMM queues 0x70 */
	wait_count_hlt(&r->count[0x70], 1);
	GUEST_ASSERT_EQ(r->count[0x71], 0);
	GUEST_SYNC(3, 0);		/* IF=0 again: the VMM asks for a window */
	__asm__ volatile("sti; nop; nop; nop; nop; cli" : : : "memory");
	GUEST_SYNC(4, 0);
	wait_count_hlt(&r->count[0x73], 1);
	GUEST_ASSERT_EQ(r->n, 2);
}

static int interrupt_raw(struct vcpu *v, uint32_t vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	return ioctl(v->fd, KVM_INTERRUPT, &irq);
}

/*
 * DIFFERENCE (none in the result): under TCG the interrupt-window exit may
 * come one instruction later on yakvm than on KVM (docs/testing.md), so
 * the RIPs of the two traces differ.
 */
TEST_CASE_OPTS(extint_from_user_pic,
	       .why_not_compared = "the interrupt-window exit's RIP differs under TCG")
{
	struct vm *vm = split_vm(ctx, guest_extint);
	struct vcpu *v = vm->vcpus[0];
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 0);
	TEST_ASSERT(!v->run->ready_for_interrupt_injection, "ready with LINT0 masked");
	EXPECT_ERRNO(interrupt_raw(v, 256), EINVAL);

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 1);
	TEST_ASSERT(v->run->ready_for_interrupt_injection, "not ready with IF=1 and LINT0 ExtINT");

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 2);
	TEST_ASSERT(!v->run->ready_for_interrupt_injection, "ready with IF=0");
	EXPECT_OK(interrupt_raw(v, 0x70));
	/* One at a time: the first is still waiting for IF. */
	EXPECT_ERRNO(interrupt_raw(v, 0x71), EEXIST);

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 3);
	v->run->request_interrupt_window = 1;
	vcpu_run(v);
	vcpu_expect_exit(v, KVM_EXIT_IRQ_WINDOW_OPEN);
	TEST_ASSERT(v->run->ready_for_interrupt_injection, "a window exit that is not ready");
	v->run->request_interrupt_window = 0;
	EXPECT_OK(interrupt_raw(v, 0x73));
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 4);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
}

/*
 * The VMM asks for an interrupt window while LINT0 is masked (QEMU's
 * kernel-irqchip=split does so while its PIC has an interrupt and the
 * guest has not set LINT0 to ExtINT yet): the APIC takes no ExtINT, so
 * there is no window to report and the guest runs on, as with KVM.  yakvm
 * used to open the window anyway, and took a VINTR exit before every
 * instruction of the guest for good (a Linux guest under QEMU's split
 * irqchip stopped after "Switched APIC routing to physical x2apic").
 */
static volatile uint64_t spins;

static void guest_window_lint0_masked(void)
{
	int i;

	irq_install();
	apic_enable_xapic();
	sti();
	GUEST_SYNC(0, 0);		/* the VMM asks for a window now */
	for (i = 0; i < 1000; i++)
		spins++;
	GUEST_SYNC(1, spins);
	/* LINT0 takes ExtINT now: the window the VMM still asks for opens. */
	xapic_write(APIC_LVT0, APIC_DM_EXTINT);
	for (i = 0; i < 1000; i++)
		spins++;
	GUEST_SYNC(2, spins);
}

TEST_CASE_OPTS(window_request_with_lint0_masked,
	       .why_not_compared = "the interrupt-window exit's RIP differs under TCG")
{
	struct vm *vm = split_vm(ctx, guest_window_lint0_masked);
	struct vcpu *v = vm->vcpus[0];
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 0);
	TEST_ASSERT(!v->run->ready_for_interrupt_injection, "ready with LINT0 masked");
	v->run->request_interrupt_window = 1;
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 1);
	TEST_ASSERT_EQ(uc.args[1], 1000);
	TEST_ASSERT(!v->run->ready_for_interrupt_injection, "ready with LINT0 masked");
	vcpu_run(v);
	vcpu_expect_exit(v, KVM_EXIT_IRQ_WINDOW_OPEN);
	TEST_ASSERT(v->run->ready_for_interrupt_injection, "a window exit that is not ready");
	v->run->request_interrupt_window = 0;
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 2);
	TEST_ASSERT_EQ(uc.args[1], 2000);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Saving and restoring the interrupt controllers, as migration and
 * snapshots do (QEMU, Firecracker): KVM_GET_LAPIC's page has every
 * register at its architectural offset (api.rst 4.57; the ID in xAPIC
 * format also in x2APIC mode, without KVM_CAP_X2APIC_API);
 * KVM_GET_IRQCHIP's PIC and IOAPIC states hold what the guest programmed
 * and what is pending; KVM_GET_PIT2 the counters.  Every state set back
 * reads back the same, and a state moved into a fresh VM behaves there:
 * the restored IRR, ISR, TPR and timer deliver what they held, the
 * restored PIC and IOAPIC deliver with the guest's programming, the
 * restored PIT keeps ticking.
 */
#include <sys/ioctl.h>

#include "apic.h"
#include "guest.h"
#include "irqchip.h"
#include "modes.h"

static struct irq_record *rec(void)
{
	return &irq_rec[guest_vcpu_index()];
}

static void irq_window(void)
{
	__asm__ volatile("sti; nop; nop; nop; cli" : : : "memory");
}

/* A second VM for the restored state, its vCPU 0 entering @fn. */
static struct vm *restore_vm(const struct test_dev *dev, void (*fn)(void))
{
	return vm_irq_long_fn(dev, 1, fn, 0);
}

/* ---------------------------------------------------------------- */
/* Local APIC                                                       */

#define PENDING		0x61
#define IN_SERVICE	0x70
#define TIMER		0x41
#define TMICT_VALUE	0x12345678u

static void on_in_service(struct ex_regs *regs)
{
	irq_record(regs->vector);
	GUEST_SYNC(1, 0);		/* the host saves the state now */
}

static void guest_lapic_save(void)
{
	irq_install();
	apic_enable_xapic();
	irq_set_handler(IN_SERVICE, on_in_service);
	irq_set_handler(PENDING, irq_count_eoi);
	xapic_write(APIC_TPR, 0x50);
	xapic_write(APIC_DFR, APIC_DFR_CLUSTER);
	xapic_write(APIC_LDR, 0x15000000);
	xapic_write(APIC_SVR, APIC_SVR_ENABLE | 0xab);
	xapic_write(APIC_LVT0, APIC_LVT_MASKED | APIC_DM_EXTINT);
	xapic_write(APIC_LVT1, APIC_DM_NMI);
	xapic_write(APIC_LVTERR, APIC_LVT_MASKED | 0x42);
	xapic_write(APIC_TDCR, APIC_TDCR_DIV16);
	xapic_write(APIC_LVTT, APIC_TIMER_PERIODIC | TIMER);
	xapic_write(APIC_TMICT, TMICT_VALUE);	/* ~5 s at KVM's 1 GHz: it does not fire here */
	apic_send_ipi(0, APIC_DEST_SELF | PENDING);
	apic_send_ipi(0, APIC_DEST_SELF | IN_SERVICE);
	irq_window();			/* IN_SERVICE taken; PENDING below the PPR */
	GUEST_ASSERT_EQ(rec()->n, 1);
}

static volatile uint32_t saved_lvr;

/* The restored state: registers as saved, and the pending vector behind the ISR. */
static void guest_lapic_restored(void)
{
	uint32_t c;

	irq_install();
	irq_set_handler(PENDING, irq_count_eoi);
	irq_set_handler(TIMER, irq_count_eoi);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVR), saved_lvr);
	GUEST_ASSERT_EQ(xapic_read(APIC_TPR), 0x50);
	GUEST_ASSERT_EQ(xapic_read(APIC_DFR), APIC_DFR_CLUSTER);
	GUEST_ASSERT_EQ(xapic_read(APIC_LDR), 0x15000000);
	GUEST_ASSERT_EQ(xapic_read(APIC_SVR), APIC_SVR_ENABLE | 0xab);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVT0), APIC_LVT_MASKED | APIC_DM_EXTINT);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVT1), APIC_DM_NMI);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVTERR), APIC_LVT_MASKED | 0x42);
	GUEST_ASSERT_EQ(xapic_read(APIC_TDCR), APIC_TDCR_DIV16);
	GUEST_ASSERT_EQ(xapic_read(APIC_LVTT), APIC_TIMER_PERIODIC | TIMER);
	GUEST_ASSERT_EQ(xapic_read(APIC_TMICT), TMICT_VALUE);
	c = xapic_read(APIC_TMCCT);
	GUEST_ASSERT(c > 0 && c <= TMICT_VALUE);	/* the timer runs on */
	GUEST_ASSERT(apic_vector_bit(APIC_ISR, IN_SERVICE));
	GUEST_ASSERT(apic_vector_bit(APIC_IRR, PENDING));
	GUEST_ASSERT_EQ(xapic_read(APIC_PPR), IN_SERVICE & 0xf0);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 0);		/* held back by the in-service vector */
	apic_eoi();
	GUEST_ASSERT(!apic_vector_bit(APIC_ISR, IN_SERVICE));
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 1);
	GUEST_ASSERT_EQ(rec()->vector[0], PENDING);
	/* The restored periodic timer with a short count: it ticks (TPR out of its way). */
	xapic_write(APIC_TPR, 0);
	xapic_write(APIC_TDCR, APIC_TDCR_DIV1);
	xapic_write(APIC_TMICT, 2000000);
	wait_count_hlt(&rec()->count[TIMER], 3);
	xapic_write(APIC_TMICT, 0);
}

static bool vector_bit(const struct kvm_lapic_state *s, uint32_t base, unsigned int v)
{
	return lapic_reg(s, base + (v / 32) * 0x10) >> (v % 32) & 1;
}

TEST_CASE_OPTS(lapic_save_restore, .why_not_compared = "the restored timer's count depends on time")
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_lapic_save, 0), *vm2;
	struct vcpu *v = vm->vcpus[0];
	struct kvm_lapic_state s, s2;
	struct ucall uc;
	unsigned int off;

	TEST_ASSERT(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) > 0,
		    "KVM_CAP_IRQCHIP is not offered");
	irq_expect_ucall(v, UCALL_SYNC, &uc);
	vcpu_get_lapic(v, &s);
	/* The architecture's layout. */
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_ID), 0);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LVR) & 0xff, lapic_reg(&s, APIC_LVR) & 0xff);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_TPR), 0x50);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LDR), 0x15000000);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_DFR), APIC_DFR_CLUSTER);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_SVR), APIC_SVR_ENABLE | 0xab);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LVTT), APIC_TIMER_PERIODIC | TIMER);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LVT0), APIC_LVT_MASKED | APIC_DM_EXTINT);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LVT1), APIC_DM_NMI);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LVTERR), APIC_LVT_MASKED | 0x42);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_TMICT), TMICT_VALUE);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_TDCR), APIC_TDCR_DIV16);
	TEST_ASSERT(lapic_reg(&s, APIC_TMCCT) <= TMICT_VALUE, "current count 0x%x",
		    lapic_reg(&s, APIC_TMCCT));
	TEST_ASSERT(vector_bit(&s, APIC_ISR, IN_SERVICE), "ISR bit of 0x%x", IN_SERVICE);
	TEST_ASSERT(vector_bit(&s, APIC_IRR, PENDING), "IRR bit of 0x%x", PENDING);
	for (off = 0; off < 8; off++)
		TEST_ASSERT_EQ(lapic_reg(&s, APIC_ISR + off * 0x10) & ~(off == IN_SERVICE / 32 ?
						1u << (IN_SERVICE % 32) : 0), 0);
	/* Set back, it reads the same (the current count moves on). */
	vcpu_set_lapic(v, &s);
	vcpu_get_lapic(v, &s2);
	lapic_set_reg(&s, APIC_TMCCT, 0);
	lapic_set_reg(&s2, APIC_TMCCT, 0);
	for (off = 0; off < sizeof(s.regs); off += 4)
		TEST_ASSERT(lapic_reg(&s, off) == lapic_reg(&s2, off),
			    "register 0x%x: 0x%x set, 0x%x read back", off, lapic_reg(&s, off),
			    lapic_reg(&s2, off));
	irq_expect_ucall(v, UCALL_DONE, &uc);
	/* Into a fresh VM. */
	vm2 = restore_vm(ctx->dev, guest_lapic_restored);
	guest_global(vm2, saved_lvr) = lapic_reg(&s, APIC_LVR);
	vcpu_get_lapic(v, &s);
	irq_vm_free(vm);
	vcpu_set_lapic(vm2->vcpus[0], &s);
	irq_expect_ucall(vm2->vcpus[0], UCALL_DONE, &uc);
	irq_vm_free(vm2);
}

/* x2APIC mode: KVM_GET_LAPIC keeps the xAPIC ID format (no KVM_CAP_X2APIC_API). */
static void guest_x2apic(void)
{
	irq_install();
	apic_enable_x2apic();
	x2apic_write(APIC_TPR, 0x30);
	GUEST_SYNC(0, 0);
	GUEST_ASSERT_EQ(x2apic_read(APIC_ID), 1);
	GUEST_ASSERT_EQ(x2apic_read(APIC_TPR), 0x40);		/* as the host set it */
	GUEST_ASSERT_EQ(x2apic_read(APIC_LDR), 2);
}

TEST_CASE(lapic_x2apic_format)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 2, guest_x2apic, 0);
	struct vcpu *v = vm->vcpus[1];
	struct kvm_lapic_state s;
	struct ucall uc;

	irq_expect_ucall(v, UCALL_SYNC, &uc);
	vcpu_get_lapic(v, &s);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_ID), 1u << 24);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LDR), 2);		/* cluster 0, bit 1 */
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_TPR), 0x30);
	lapic_set_reg(&s, APIC_TPR, 0x40);
	vcpu_set_lapic(v, &s);
	irq_expect_ucall(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
}

/* ---------------------------------------------------------------- */
/* PIC                                                              */

static void guest_pic_save(void)
{
	irq_install();
	apic_enable_xapic();
	pic_init(0x30, 0x38, false);
	outb(PIC_MASTER_DATA, 0xfa);
	outb(PIC_SLAVE_DATA, 0xbf);
	outb(PIC_ELCR_SLAVE, 0x02);
	GUEST_SYNC(0, 0);		/* the host raises IRQ 3 (masked: kept in the IRR) */
	GUEST_SYNC(1, 0);		/* the host changed the IMR */
	GUEST_ASSERT_EQ(inb(PIC_MASTER_DATA), 0xf2);
}

static void on_pic(struct ex_regs *regs)
{
	irq_record(regs->vector);
	outb(PIC_MASTER_CMD, PIC_EOI);
}

/* The restored PIC: programming as saved, the latched IRQ 3 delivered on unmask. */
static void guest_pic_restored(void)
{
	irq_install();
	irq_check_isr = false;		/* ExtINT: not in the local APIC's ISR */
	apic_enable_xapic();
	irq_set_handler(0x33, on_pic);
	GUEST_ASSERT_EQ(inb(PIC_MASTER_DATA), 0xfa);
	GUEST_ASSERT_EQ(inb(PIC_SLAVE_DATA), 0xbf);
	GUEST_ASSERT_EQ(inb(PIC_ELCR_SLAVE), 0x02);
	outb(PIC_MASTER_CMD, 0x0a);
	GUEST_ASSERT_EQ(inb(PIC_MASTER_CMD) & (1u << 3), 1u << 3);
	xapic_write(APIC_LVT0, APIC_DM_EXTINT);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 0);
	outb(PIC_MASTER_DATA, 0xf2);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 1);
	GUEST_ASSERT_EQ(rec()->vector[0], 0x33);
}

TEST_CASE(pic_save_restore)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_pic_save, 0), *vm2;
	struct kvm_irqchip m, sl, again;
	struct ucall uc;

	irq_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	TEST_ASSERT(vm_irq_line(vm, 3, 1) < 0, "a masked IRQ 3 counted as delivered");
	vm_irq_line(vm, 3, 0);
	vm_get_irqchip(vm, KVM_IRQCHIP_PIC_MASTER, &m);
	vm_get_irqchip(vm, KVM_IRQCHIP_PIC_SLAVE, &sl);
	TEST_ASSERT_EQ(m.chip.pic.irq_base, 0x30);
	TEST_ASSERT_EQ(sl.chip.pic.irq_base, 0x38);
	TEST_ASSERT_EQ(m.chip.pic.imr, 0xfa);
	TEST_ASSERT_EQ(sl.chip.pic.imr, 0xbf);
	TEST_ASSERT_EQ(sl.chip.pic.elcr, 0x02);
	TEST_ASSERT_EQ(m.chip.pic.irr & (1u << 3), 1u << 3);
	TEST_ASSERT_EQ(m.chip.pic.isr, 0);
	TEST_ASSERT_EQ(m.chip.pic.init4, 1);
	TEST_ASSERT_EQ(m.chip.pic.init_state, 0);
	/* Set back unchanged, it reads the same; then a change the guest sees. */
	vm_set_irqchip(vm, &m);
	vm_get_irqchip(vm, KVM_IRQCHIP_PIC_MASTER, &again);
	TEST_ASSERT(!memcmp(&m.chip.pic, &again.chip.pic, sizeof(m.chip.pic)),
		    "the PIC state read back differs");
	vm2 = restore_vm(ctx->dev, guest_pic_restored);
	vm_set_irqchip(vm2, &m);
	vm_set_irqchip(vm2, &sl);
	m.chip.pic.imr = 0xf2;
	vm_set_irqchip(vm, &m);
	irq_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	irq_expect_ucall(vm->vcpus[0], UCALL_DONE, &uc);
	irq_vm_free(vm);
	irq_expect_ucall(vm2->vcpus[0], UCALL_DONE, &uc);
	irq_vm_free(vm2);
}

/* ---------------------------------------------------------------- */
/* IOAPIC                                                           */

#define RTE_PIN		20
#define RTE_VECTOR	0x65

static void guest_ioapic_save(void)
{
	irq_install();
	apic_enable_xapic();
	ioapic_write(IOAPIC_REG_ID, 0x05000000);
	ioapic_write_redir(RTE_PIN, IOAPIC_LEVEL | IOAPIC_DEST(0) | RTE_VECTOR);
	ioapic_write_redir(9, IOAPIC_MASKED | IOAPIC_DEST_LOGICAL | IOAPIC_DEST(3) | 0x66);
	GUEST_SYNC(0, 0);		/* the host pulses pin 20: delivered, remote IRR set */
	GUEST_ASSERT(ioapic_read_redir(RTE_PIN) & IOAPIC_REMOTE_IRR);
	GUEST_ASSERT(apic_vector_bit(APIC_IRR, RTE_VECTOR));
}

static void guest_ioapic_restored(void)
{
	irq_install();
	irq_set_handler(RTE_VECTOR, irq_count_eoi);
	GUEST_ASSERT_EQ(ioapic_read(IOAPIC_REG_ID) & 0x0f000000, 0x05000000);
	GUEST_ASSERT_EQ(ioapic_read_redir(9),
			IOAPIC_MASKED | IOAPIC_DEST_LOGICAL | IOAPIC_DEST(3) | 0x66);
	GUEST_ASSERT_EQ(ioapic_read_redir(RTE_PIN),
			IOAPIC_REMOTE_IRR | IOAPIC_LEVEL | IOAPIC_DEST(0) | RTE_VECTOR);
	/* The pending vector (restored LAPIC) is taken; its EOI reaches the restored IOAPIC. */
	irq_window();
	GUEST_ASSERT_EQ(rec()->count[RTE_VECTOR], 1);
	GUEST_ASSERT(!(ioapic_read_redir(RTE_PIN) & IOAPIC_REMOTE_IRR));
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 1);
	GUEST_SYNC(0, 0);		/* the host pulses pin 20 in this VM */
	wait_count_hlt(&rec()->count[RTE_VECTOR], 2);
}

TEST_CASE(ioapic_save_restore)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_ioapic_save, 0), *vm2;
	struct kvm_irqchip io, again;
	struct kvm_lapic_state lapic;
	struct kvm_ioapic_state *st = &io.chip.ioapic;
	struct ucall uc;

	irq_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	TEST_ASSERT(vm_irq_line(vm, RTE_PIN, 1) > 0, "pin %u not delivered", RTE_PIN);
	vm_irq_line(vm, RTE_PIN, 0);
	irq_expect_ucall(vm->vcpus[0], UCALL_DONE, &uc);
	vm_get_irqchip(vm, KVM_IRQCHIP_IOAPIC, &io);
	TEST_ASSERT_EQ(st->base_address, IOAPIC_BASE);
	TEST_ASSERT_EQ(st->id, 5);
	TEST_ASSERT_EQ(st->redirtbl[RTE_PIN].fields.vector, RTE_VECTOR);
	TEST_ASSERT_EQ(st->redirtbl[RTE_PIN].fields.trig_mode, 1);
	TEST_ASSERT_EQ(st->redirtbl[RTE_PIN].fields.remote_irr, 1);
	TEST_ASSERT_EQ(st->redirtbl[RTE_PIN].fields.mask, 0);
	TEST_ASSERT_EQ(st->redirtbl[9].bits,
		       IOAPIC_MASKED | IOAPIC_DEST_LOGICAL | IOAPIC_DEST(3) | 0x66);
	TEST_ASSERT_EQ(st->irr & (1u << RTE_PIN), 0);	/* the line is down again */
	vm_set_irqchip(vm, &io);
	vm_get_irqchip(vm, KVM_IRQCHIP_IOAPIC, &again);
	TEST_ASSERT(!memcmp(st, &again.chip.ioapic, sizeof(*st)),
		    "the IOAPIC state read back differs");
	vcpu_get_lapic(vm->vcpus[0], &lapic);
	irq_vm_free(vm);
	vm2 = restore_vm(ctx->dev, guest_ioapic_restored);
	vm_set_irqchip(vm2, &io);
	vcpu_set_lapic(vm2->vcpus[0], &lapic);
	irq_expect_ucall(vm2->vcpus[0], UCALL_SYNC, &uc);
	TEST_ASSERT(vm_irq_line(vm2, RTE_PIN, 1) > 0, "pin %u not delivered", RTE_PIN);
	vm_irq_line(vm2, RTE_PIN, 0);
	irq_expect_ucall(vm2->vcpus[0], UCALL_DONE, &uc);
	irq_vm_free(vm2);
}

/* ---------------------------------------------------------------- */
/* PIT                                                              */

#define PIT_COUNT	0x2e9c		/* ~10 ms */

static void guest_pit_save(void)
{
	outb(PIT_CMD, 0x34);		/* counter 0, lobyte/hibyte, mode 2 */
	outb(PIT_CH0, PIT_COUNT & 0xff);
	outb(PIT_CH0, PIT_COUNT >> 8);
	outb(PIT_CMD, 0xb6);		/* counter 2, lobyte/hibyte, mode 3 */
	outb(PIT_CH2, 0x34);
	outb(PIT_CH2, 0x12);
}

static void guest_pit_restored(void)
{
	irq_install();
	apic_enable_xapic();
	irq_set_handler(0x50, irq_count_eoi);
	ioapic_write_redir(0, IOAPIC_DEST(0) | 0x50);
	/* Nobody programmed this VM's PIT: the restored counter 0 ticks. */
	wait_count_hlt(&rec()->count[0x50], 3);
	outb(PIT_CMD, 0x30);		/* counter 0, mode 0: stop after one more */
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
}

TEST_CASE_OPTS(pit_save_restore, .why_not_compared = "the restored PIT ticks in real time")
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_pit_save, 0), *vm2;
	struct kvm_pit_state2 s, again;
	struct ucall uc;

	vm_create_pit2(vm, 0);
	irq_expect_ucall(vm->vcpus[0], UCALL_DONE, &uc);
	vm_get_pit2(vm, &s);
	TEST_ASSERT_EQ(s.channels[0].count, PIT_COUNT);
	TEST_ASSERT_EQ(s.channels[0].mode, 2);
	TEST_ASSERT_EQ(s.channels[0].rw_mode, 3);
	TEST_ASSERT_EQ(s.channels[0].bcd, 0);
	TEST_ASSERT_EQ(s.channels[0].gate, 1);
	TEST_ASSERT_EQ(s.channels[2].count, 0x1234);
	TEST_ASSERT_EQ(s.channels[2].mode, 3);
	vm_set_pit2(vm, &s);
	vm_get_pit2(vm, &again);
	TEST_ASSERT_EQ(again.channels[0].count, PIT_COUNT);
	TEST_ASSERT_EQ(again.channels[0].mode, 2);
	TEST_ASSERT_EQ(again.channels[2].count, 0x1234);
	TEST_ASSERT_EQ(again.channels[2].mode, 3);
	TEST_ASSERT_EQ(again.flags, s.flags);
	irq_vm_free(vm);
	vm2 = restore_vm(ctx->dev, guest_pit_restored);
	vm_create_pit2(vm2, 0);
	vm_set_pit2(vm2, &s);
	irq_expect_ucall(vm2->vcpus[0], UCALL_DONE, &uc);
	irq_vm_free(vm2);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel dual 8259A PIC, reached through the local APIC's LINT0 in
 * ExtINT mode (or directly, with the APIC disabled), driven by
 * KVM_IRQ_LINE_STATUS on the default routing (GSI 0-7 master, 8-15 slave):
 * vectors from ICW2, the cascade on IRQ2, IRR/ISR read through OCW3, the
 * fixed priority order, IMR masking (an edge is kept in the IRR while
 * masked), non-specific EOI, automatic EOI, level-triggered lines through
 * the ELCR, and poll mode.  ExtINT interrupts leave the local APIC's ISR
 * alone.  (8259A data sheet; ELCR as on the PIIX.)
 */
#include <sys/ioctl.h>

#include "apic.h"
#include "guest.h"
#include "irqchip.h"
#include "modes.h"

#define MASTER_BASE	0x20
#define SLAVE_BASE	0x28

static struct irq_record *rec(void)
{
	return &irq_rec[guest_vcpu_index()];
}

static void irq_window(void)
{
	__asm__ volatile("sti; nop; nop; nop; cli" : : : "memory");
}

static uint8_t pic_read_irr(uint16_t cmd)
{
	outb(cmd, 0x0a);
	return inb(cmd);
}

static uint8_t pic_read_isr(uint16_t cmd)
{
	outb(cmd, 0x0b);
	return inb(cmd);
}

static volatile uint8_t isr_seen[16];
static volatile bool lapic_isr_seen;

/*
 * The PIC's version of the dispatcher's phantom check (apic.h): a request
 * it acknowledged is in its ISR; one that is not was re-delivered by
 * QEMU's emulated SVM, is counted as such and not handled.
 */
static bool pic_phantom(unsigned int irq)
{
	uint8_t isr = irq < 8 ? pic_read_isr(PIC_MASTER_CMD) : pic_read_isr(PIC_SLAVE_CMD);

	if (isr & (1u << (irq & 7)))
		return false;
	irq_phantoms[guest_vcpu_index()]++;
	return true;
}

/* Handler of PIC vectors: records, checks the ISR, EOIs the PIC (not the LAPIC). */
static void on_pic(struct ex_regs *regs)
{
	unsigned int irq = regs->vector - MASTER_BASE;

	if (pic_phantom(irq))
		return;
	irq_record(regs->vector);
	isr_seen[irq] = irq < 8 ? pic_read_isr(PIC_MASTER_CMD)
				: pic_read_isr(PIC_SLAVE_CMD);
	lapic_isr_seen |= apic_vector_bit(APIC_ISR, regs->vector);
	pic_eoi(irq);
}

static void setup(bool auto_eoi)
{
	unsigned int v;

	irq_install();
	irq_check_isr = false;		/* ExtINT: not in the local APIC's ISR */
	apic_enable_xapic();
	for (v = MASTER_BASE; v < MASTER_BASE + 16; v++)
		irq_set_handler(v, on_pic);
	pic_init(MASTER_BASE, SLAVE_BASE, auto_eoi);
	xapic_write(APIC_LVT0, APIC_DM_EXTINT);
}

#define EDGE		2	/* 0 -> 1 -> 0, delivered (status > 0) */
#define EDGE_MASKED	3	/* the same to a masked line (status < 0) */

/* The host raises and lowers the GSIs the guest's SYNC names (args: bit mask, level). */
static void drive(struct vm *vm)
{
	struct vcpu *v = vm->vcpus[0];
	struct ucall uc;
	uint32_t gsi;

	while (vcpu_run_to_ucall_timeout(v, &uc, IRQ_UCALL_TIMEOUT_S) == UCALL_SYNC) {
		for (gsi = 0; gsi < 16; gsi++) {
			if (!(uc.args[0] & (1u << gsi)))
				continue;
			if (uc.args[1] >= EDGE) {		/* an edge */
				int r = vm_irq_line(vm, gsi, 1);

				/* Masked in the PIC and the IOAPIC: "ignored" (< 0). */
				TEST_ASSERT(uc.args[1] == EDGE ? r > 0 : r < 0,
					    "GSI %u: status %d", gsi, r);
				vm_irq_line(vm, gsi, 0);
			} else {
				vm_irq_line(vm, gsi, (int)uc.args[1]);
			}
		}
	}
}

static void run(const struct test_ctx *ctx, void (*fn)(void))
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, fn, 0);

	drive(vm);
	irq_vm_free(vm);
}


/* ---------------------------------------------------------------- */

static void guest_master_slave(void)
{
	setup(false);
	pic_set_imr((uint16_t)~((1u << 3) | (1u << 2) | (1u << 10)));
	GUEST_ASSERT_EQ(inb(PIC_MASTER_DATA), (uint8_t)~((1u << 3) | (1u << 2)));
	GUEST_ASSERT_EQ(inb(PIC_SLAVE_DATA), (uint8_t)~(1u << 2));
	GUEST_SYNC(1u << 3, EDGE);
	/* Pending in the IRR until interrupts are enabled. */
	GUEST_ASSERT(pic_read_irr(PIC_MASTER_CMD) & (1u << 3));
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 1);
	GUEST_ASSERT_EQ(rec()->vector[0], MASTER_BASE + 3);
	GUEST_ASSERT_EQ(isr_seen[3], 1u << 3);
	GUEST_ASSERT_EQ(pic_read_isr(PIC_MASTER_CMD), 0);	/* EOI'd */
	GUEST_ASSERT(!lapic_isr_seen);		/* ExtINT bypasses the LAPIC's ISR */
	/* IRQ 10: slave IRQ 2, through the master's IRQ 2. */
	GUEST_SYNC(1u << 10, EDGE);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 2);
	GUEST_ASSERT_EQ(rec()->vector[1], SLAVE_BASE + 2);
	GUEST_ASSERT_EQ(isr_seen[10], 1u << 2);
	GUEST_ASSERT_EQ(pic_read_isr(PIC_SLAVE_CMD), 0);
	GUEST_ASSERT_EQ(pic_read_isr(PIC_MASTER_CMD), 0);
}

TEST_CASE(master_and_slave)
{
	run(ctx, guest_master_slave);
}

/*
 * IRQ 0 is the highest priority, 7 the lowest, the slave's lines in the
 * place of IRQ 2; an in-service line holds back the lower ones until its
 * EOI.  Masked lines keep their edge in the IRR and are taken on unmask.
 */
static volatile bool nested_tried;

static void on_pic_no_eoi_first(struct ex_regs *regs)
{
	unsigned int irq = regs->vector - MASTER_BASE;

	if (pic_phantom(irq))
		return;
	irq_record(regs->vector);
	if (irq == 1 && !nested_tried) {
		nested_tried = true;
		/* IRQ 1 in service: IRQ 4 and 5 wait, although interrupts are enabled. */
		irq_window();
		GUEST_ASSERT_EQ(rec()->n, 1);
	}
	pic_eoi(irq);
}

static void guest_priority_mask(void)
{
	unsigned int v;

	setup(false);
	for (v = MASTER_BASE; v < MASTER_BASE + 16; v++)
		irq_set_handler(v, on_pic_no_eoi_first);
	pic_set_imr((uint16_t)~((1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 9)));
	GUEST_SYNC((1u << 5) | (1u << 4) | (1u << 9) | (1u << 1), EDGE);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 4);
	GUEST_ASSERT_EQ(rec()->vector[0], MASTER_BASE + 1);
	GUEST_ASSERT_EQ(rec()->vector[1], SLAVE_BASE + 1);	/* IRQ 9 ranks as IRQ 2 */
	GUEST_ASSERT_EQ(rec()->vector[2], MASTER_BASE + 4);
	GUEST_ASSERT_EQ(rec()->vector[3], MASTER_BASE + 5);
	/* IRQ 6 masked: kept in the IRR, taken when unmasked. */
	GUEST_SYNC(1u << 6, EDGE_MASKED);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 4);
	GUEST_ASSERT(pic_read_irr(PIC_MASTER_CMD) & (1u << 6));
	pic_set_imr((uint16_t)~(1u << 6));
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 5);
	GUEST_ASSERT_EQ(rec()->vector[4], MASTER_BASE + 6);
	/* LINT0 masked: the PIC's request does not get through. */
	xapic_write(APIC_LVT0, APIC_LVT_MASKED | APIC_DM_EXTINT);
	GUEST_SYNC(1u << 6, EDGE);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 5);
	/* Poll mode: OCW3 with P set, then a read gives the highest request. */
	outb(PIC_MASTER_CMD, 0x0c);
	/*
	 * KVM DEVIATION: the 8259A's poll word has bit 7 set when a request is
	 * there; KVM returns the level alone.  Only the level is checked.
	 */
	GUEST_ASSERT_EQ(inb(PIC_MASTER_CMD) & 7, 6);
	/*
	 * The poll acknowledged the request: IRR clear.  KVM DEVIATION: the
	 * 8259A sets the ISR bit as for an INTA, KVM clears it; not checked.
	 */
	GUEST_ASSERT_EQ(pic_read_irr(PIC_MASTER_CMD) & (1u << 6), 0);
	pic_eoi(6);
	GUEST_ASSERT_EQ(pic_read_isr(PIC_MASTER_CMD), 0);
}

TEST_CASE(priority_and_masking)
{
	run(ctx, guest_priority_mask);
}

static void on_pic_aeoi(struct ex_regs *regs)
{
	irq_record(regs->vector);
	isr_seen[regs->vector - MASTER_BASE] = pic_read_isr(PIC_MASTER_CMD);
}

/* Automatic EOI (ICW4 bit 1): the ISR is clear in the handler, no EOI needed. */
static void guest_auto_eoi(void)
{
	setup(true);
	irq_set_handler(MASTER_BASE + 3, on_pic_aeoi);
	irq_set_handler(MASTER_BASE + 7, on_pic_aeoi);
	pic_set_imr((uint16_t)~((1u << 3) | (1u << 7)));
	GUEST_SYNC(1u << 3, EDGE);
	irq_window();
	GUEST_SYNC(1u << 7, EDGE);
	irq_window();
	GUEST_SYNC(1u << 3, EDGE);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 3);
	GUEST_ASSERT_EQ(rec()->vector[1], MASTER_BASE + 7);
	GUEST_ASSERT_EQ(isr_seen[3], 0);
	GUEST_ASSERT_EQ(isr_seen[7], 0);
}

TEST_CASE(auto_eoi)
{
	run(ctx, guest_auto_eoi);
}

/*
 * ELCR: IRQ 9 level-triggered fires again after its EOI while the line is
 * up; the handler masks it the third time (else it would fire forever).
 */
static void on_level(struct ex_regs *regs)
{
	if (pic_phantom(9))
		return;
	irq_record(regs->vector);
	if (rec()->count[regs->vector] == 3)
		outb(PIC_SLAVE_DATA, inb(PIC_SLAVE_DATA) | (1u << 1));
	pic_eoi(9);
}

static void guest_level(void)
{
	setup(false);
	irq_set_handler(SLAVE_BASE + 1, on_level);
	outb(PIC_ELCR_SLAVE, 1u << 1);
	GUEST_ASSERT_EQ(inb(PIC_ELCR_SLAVE) & (1u << 1), 1u << 1);
	pic_set_imr((uint16_t)~((1u << 2) | (1u << 9)));
	GUEST_SYNC(1u << 9, 1);			/* up, stays up */
	irq_window();
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 3);		/* EOI'd with the line up: again */
	GUEST_SYNC(1u << 9, 0);			/* down */
	pic_set_imr((uint16_t)~((1u << 2) | (1u << 9)));
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 3);
	/* An edge-triggered line does not fire again while it stays up. */
	outb(PIC_ELCR_SLAVE, 0);
	irq_record_clear();
	GUEST_SYNC(1u << 9, 1);
	irq_window();
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 1);
	GUEST_SYNC(1u << 9, 0);
}

TEST_CASE(level_elcr)
{
	run(ctx, guest_level);
}

/* With the local APIC disabled (MSR 0x1b), the PIC's INTR goes straight to the CPU. */
static void on_pic_apic_off(struct ex_regs *regs)
{
	irq_record(regs->vector);	/* no LAPIC access: it is disabled */
	pic_eoi(regs->vector - MASTER_BASE);
}

static void guest_apic_disabled(void)
{
	setup(false);
	irq_set_handler(MASTER_BASE + 4, on_pic_apic_off);
	pic_set_imr((uint16_t)~(1u << 4));
	wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) & ~APICBASE_EN);
	GUEST_SYNC(1u << 4, EDGE);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 1);
	GUEST_ASSERT_EQ(rec()->vector[0], MASTER_BASE + 4);
}

TEST_CASE(apic_disabled_intr)
{
	run(ctx, guest_apic_disabled);
}

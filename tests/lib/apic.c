// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side interrupt support (see apic.h): local APIC access in both
 * modes, IDT entries for vectors 32-255 and their dispatcher, the
 * ready-made counting handlers, IOAPIC and PIC programming.  Guest code:
 * no C library.
 */
#include "apic.h"
#include "guest.h"

uint64_t apic_mmio_base = APIC_DEFAULT_BASE;
volatile bool apic_x2[MAX_GUEST_STACKS];
uint64_t guest_tsc_khz;
struct irq_record irq_rec[MAX_GUEST_STACKS];
bool irq_check_isr = true;
volatile uint32_t irq_phantoms[MAX_GUEST_STACKS];
static volatile bool in_handler[MAX_GUEST_STACKS][NR_VECTORS];

static irq_handler_t irq_handlers[NR_VECTORS];

/* ---------------------------------------------------------------- */
/* MSRs that may fault                                              */

static volatile bool msr_faulted;

static void skip_msr_insn(struct ex_regs *regs)
{
	msr_faulted = true;
	regs->rip += 2;			/* RDMSR and WRMSR are two bytes */
}

bool rdmsr_gp(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;

	msr_faulted = false;
	guest_set_handler(13, skip_msr_insn);
	__asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	guest_set_handler(13, NULL);
	*val = (uint64_t)hi << 32 | lo;
	return msr_faulted;
}

bool wrmsr_gp(uint32_t msr, uint64_t val)
{
	msr_faulted = false;
	guest_set_handler(13, skip_msr_insn);
	wrmsr(msr, val);
	guest_set_handler(13, NULL);
	return msr_faulted;
}

/* ---------------------------------------------------------------- */
/* Local APIC                                                       */

uint32_t apic_read(uint32_t reg)
{
	return apic_is_x2() ? (uint32_t)x2apic_read(reg) : xapic_read(reg);
}

void apic_write(uint32_t reg, uint32_t v)
{
	if (apic_is_x2())
		x2apic_write(reg, v);
	else
		xapic_write(reg, v);
}

uint32_t apic_id(void)
{
	return apic_is_x2() ? (uint32_t)x2apic_read(APIC_ID) : xapic_read(APIC_ID) >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

void apic_send_ipi(uint32_t dest, uint32_t icr_low)
{
	if (apic_is_x2()) {
		wrmsr(X2APIC_MSR(APIC_ICR), (uint64_t)dest << 32 | icr_low);
	} else {
		xapic_write(APIC_ICR2, dest << 24);
		xapic_write(APIC_ICR, icr_low);
	}
}

bool apic_vector_bit(uint32_t base, unsigned int vector)
{
	return apic_read(base + (vector / 32) * 0x10) >> (vector % 32) & 1;
}

void apic_mask_lvts(void)
{
	apic_write(APIC_LVTT, APIC_LVT_MASKED);
	apic_write(APIC_LVTTHMR, APIC_LVT_MASKED);
	apic_write(APIC_LVTPC, APIC_LVT_MASKED);
	apic_write(APIC_LVT0, APIC_LVT_MASKED);
	apic_write(APIC_LVT1, APIC_LVT_MASKED);
	apic_write(APIC_LVTERR, APIC_LVT_MASKED);
}

static void apic_software_enable(void)
{
	apic_write(APIC_SVR, APIC_SVR_ENABLE | 0xff);
	apic_mask_lvts();
	apic_write(APIC_TPR, 0);
}

void apic_enable_xapic(void)
{
	uint64_t base = rdmsr(MSR_IA32_APICBASE);

	if (!(base & APICBASE_EN))
		wrmsr(MSR_IA32_APICBASE, base | APICBASE_EN);
	apic_x2[guest_vcpu_index()] = false;
	apic_software_enable();
}

void apic_enable_x2apic(void)
{
	uint64_t base = rdmsr(MSR_IA32_APICBASE);

	wrmsr(MSR_IA32_APICBASE, base | APICBASE_EN | APICBASE_EXTD);
	apic_x2[guest_vcpu_index()] = true;
	apic_software_enable();
}

uint64_t tsc_ticks_us(uint64_t us)
{
	GUEST_ASSERT(guest_tsc_khz);
	return us * guest_tsc_khz / 1000;
}

void tsc_delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + tsc_ticks_us(us);

	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}

/* ---------------------------------------------------------------- */
/* Vectors 32-255                                                   */

void irq_install(void)
{
	extern const uint64_t guest_irq_entries[NR_VECTORS - FIRST_EXTERNAL_VECTOR];
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { NR_VECTORS * 16 - 1, GPA_IDT };
	volatile uint64_t *idt = (volatile uint64_t *)GPA_IDT;
	unsigned int v;

	for (v = FIRST_EXTERNAL_VECTOR; v < NR_VECTORS; v++) {
		uint64_t off = guest_irq_entries[v - FIRST_EXTERNAL_VECTOR];

		/* 64-bit interrupt gate: IF is clear in the handler. */
		idt[2 * v] = (off & 0xffff) | (uint64_t)SEL_CODE64 << 16 |
			     0x8eULL << 40 | (off >> 16 & 0xffff) << 48;
		idt[2 * v + 1] = off >> 32;
	}
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

void irq_set_handler(unsigned int vector, irq_handler_t fn)
{
	GUEST_ASSERT(vector >= FIRST_EXTERNAL_VECTOR && vector < NR_VECTORS);
	irq_handlers[vector] = fn;
}

void guest_irq_dispatch(struct ex_regs *regs);

void guest_irq_dispatch(struct ex_regs *regs)
{
	irq_handler_t fn = regs->vector < NR_VECTORS ? irq_handlers[regs->vector] : NULL;
	unsigned int me = guest_vcpu_index(), v = regs->vector & 0xff;

	if (!fn)
		guest_assert_fail(__FILE__, __LINE__, "unexpected interrupt",
				  "vector 0x%lx at rip 0x%lx on vCPU %u", regs->vector,
				  regs->rip, me);
	/*
	 * A vector the local APIC delivered is in its ISR, and cannot be
	 * delivered again before its EOI.  Anything else is a phantom: QEMU's
	 * emulated SVM re-delivers an injected vector (docs/design.md, "A QEMU
	 * bug worked around"), which hits KVM under QEMU.  Phantoms are
	 * counted, not handled; the host reports them (irqchip.h).
	 */
	if (irq_check_isr && (in_handler[me][v] || !apic_vector_bit(APIC_ISR, v))) {
		irq_phantoms[me]++;
		return;
	}
	in_handler[me][v] = true;
	irq_rec[me].depth++;
	fn(regs);
	irq_rec[me].depth--;
	in_handler[me][v] = false;
}

void irq_record(unsigned int vector)
{
	struct irq_record *r = &irq_rec[guest_vcpu_index()];
	uint32_t n = r->n;

	if (n < IRQ_LOG_LEN) {
		r->vector[n] = (uint8_t)vector;
		r->at_depth[n] = (uint8_t)r->depth;
	}
	r->n = n + 1;
	r->count[vector & 0xff]++;
}

void irq_record_clear(void)
{
	guest_memset((void *)&irq_rec[guest_vcpu_index()], 0, sizeof(struct irq_record));
}

void irq_count_eoi(struct ex_regs *regs)
{
	irq_record(regs->vector);
	apic_eoi();
}

void irq_count_only(struct ex_regs *regs)
{
	irq_record(regs->vector);
}

void wait_count_hlt(volatile uint32_t *p, uint32_t target)
{
	while (*p < target)
		sti_hlt_cli();
}

void wait_count_spin(volatile uint32_t *p, uint32_t target)
{
	sti();
	while (*p < target)
		cpu_relax();
	cli();
}

/* ---------------------------------------------------------------- */
/* IOAPIC and PIC                                                   */

uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	return mmio_read32(IOAPIC_BASE + IOAPIC_WINDOW);
}

void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOAPIC_WINDOW, v);
}

uint64_t ioapic_read_redir(unsigned int pin)
{
	uint64_t lo = ioapic_read(IOAPIC_REG_REDIR(pin));

	return (uint64_t)ioapic_read(IOAPIC_REG_REDIR(pin) + 1) << 32 | lo;
}

/* The high half (destination) first, so the entry is never live half-written. */
void ioapic_write_redir(unsigned int pin, uint64_t entry)
{
	ioapic_write(IOAPIC_REG_REDIR(pin), (uint32_t)entry | (uint32_t)IOAPIC_MASKED);
	ioapic_write(IOAPIC_REG_REDIR(pin) + 1, (uint32_t)(entry >> 32));
	ioapic_write(IOAPIC_REG_REDIR(pin), (uint32_t)entry);
}

void pic_init(uint8_t master, uint8_t slave, bool auto_eoi)
{
	uint8_t icw4 = 0x01 | (auto_eoi ? 0x02 : 0);	/* 8086 mode */

	outb(PIC_MASTER_CMD, 0x11);	/* ICW1: edge, cascade, ICW4 follows */
	outb(PIC_MASTER_DATA, master);	/* ICW2: vector base */
	outb(PIC_MASTER_DATA, 0x04);	/* ICW3: slave on IRQ2 */
	outb(PIC_MASTER_DATA, icw4);
	outb(PIC_SLAVE_CMD, 0x11);
	outb(PIC_SLAVE_DATA, slave);
	outb(PIC_SLAVE_DATA, 0x02);	/* ICW3: slave identity 2 */
	outb(PIC_SLAVE_DATA, icw4);
	pic_set_imr(0xffff);
}

void pic_set_imr(uint16_t mask)
{
	outb(PIC_MASTER_DATA, (uint8_t)mask);
	outb(PIC_SLAVE_DATA, (uint8_t)(mask >> 8));
}

void pic_eoi(unsigned int irq)
{
	if (irq >= 8)
		outb(PIC_SLAVE_CMD, PIC_EOI);
	outb(PIC_MASTER_CMD, PIC_EOI);
}

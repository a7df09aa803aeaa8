/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side interrupt support for 64-bit guest code (docs/testing.md,
 * "Interrupt-controller tests"): the local APIC in xAPIC (MMIO) and x2APIC
 * (MSR) mode, the IOAPIC's index/data window, the 8259 PIC's ports, MSRs,
 * CPUID, the TSC, and IDT entries for the external-interrupt vectors 32-255
 * (the library's IDT has 0-31 only; irq_install() adds the rest).
 *
 * Register offsets, bits and MSR numbers are the architecture's (AMD APM
 * vol. 2 ch. 16, Intel SDM vol. 3 ch. 10-11, the 82093AA and 8259A data
 * sheets); the host side (irqchip.h) shares them for KVM_GET/SET_LAPIC.
 *
 * The handlers run on the interrupted vCPU's stack, whose slice of
 * GPA_STACKS names the vCPU: guest_vcpu_index() costs no exit, so every
 * per-vCPU table here is indexed by it (the library's vCPU id).
 */
#ifndef TESTS_LIB_APIC_H
#define TESTS_LIB_APIC_H

#include <stdbool.h>
#include <stdint.h>

#include "layout.h"

/* ---------------------------------------------------------------- */
/* Architectural constants (guest and host)                         */

#define APIC_DEFAULT_BASE	0xfee00000ULL
#define IOAPIC_BASE		0xfec00000ULL

/* Local APIC registers: byte offsets in the xAPIC page (and KVM_GET_LAPIC). */
#define APIC_ID			0x020
#define APIC_LVR		0x030
#define APIC_TPR		0x080
#define APIC_APR		0x090
#define APIC_PPR		0x0a0
#define APIC_EOI		0x0b0
#define APIC_LDR		0x0d0
#define APIC_DFR		0x0e0
#define APIC_SVR		0x0f0
#define APIC_ISR		0x100	/* 8 registers, 0x10 apart */
#define APIC_TMR		0x180
#define APIC_IRR		0x200
#define APIC_ESR		0x280
#define APIC_ICR		0x300
#define APIC_ICR2		0x310
#define APIC_LVTT		0x320
#define APIC_LVTTHMR		0x330
#define APIC_LVTPC		0x340
#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_LVTERR		0x370
#define APIC_TMICT		0x380
#define APIC_TMCCT		0x390
#define APIC_TDCR		0x3e0
#define APIC_SELF_IPI		0x3f0	/* x2APIC only */

#define APIC_SVR_ENABLE		(1u << 8)
#define APIC_DFR_FLAT		0xffffffffu
#define APIC_DFR_CLUSTER	0x0fffffffu

/* ICR and LVT fields. */
#define APIC_DM_FIXED		0x000u
#define APIC_DM_LOWEST		0x100u
#define APIC_DM_SMI		0x200u
#define APIC_DM_NMI		0x400u
#define APIC_DM_INIT		0x500u
#define APIC_DM_STARTUP		0x600u
#define APIC_DM_EXTINT		0x700u
#define APIC_DEST_LOGICAL	0x800u
#define APIC_DELIVERY_PENDING	0x1000u
#define APIC_INT_ASSERT		0x4000u
#define APIC_INT_LEVELTRIG	0x8000u
#define APIC_DEST_SELF		0x40000u
#define APIC_DEST_ALLINC	0x80000u
#define APIC_DEST_ALLBUT	0xc0000u
#define APIC_LVT_MASKED		0x10000u
#define APIC_LVT_REMOTE_IRR	0x4000u
#define APIC_LVT_LEVELTRIG	0x8000u
#define APIC_TIMER_ONESHOT	0x00000u
#define APIC_TIMER_PERIODIC	0x20000u
#define APIC_TIMER_TSCDEADLINE	0x40000u
#define APIC_TIMER_MODE_MASK	0x60000u

/* The divide configuration register's encodings, and the divisor of each. */
#define APIC_TDCR_DIV1		0xb
#define APIC_TDCR_DIV2		0x0
#define APIC_TDCR_DIV16		0x3
#define APIC_TDCR_DIV128	0xa

#define MSR_IA32_APICBASE	0x1b
#define APICBASE_BSP		(1ULL << 8)
#define APICBASE_EXTD		(1ULL << 10)
#define APICBASE_EN		(1ULL << 11)
#define MSR_X2APIC_BASE		0x800
#define X2APIC_MSR(reg)		(MSR_X2APIC_BASE + ((reg) >> 4))
#define MSR_IA32_TSC_DEADLINE	0x6e0

#define CPUID1_ECX_X2APIC	(1u << 21)
#define CPUID1_ECX_TSC_DEADLINE	(1u << 24)
#define CPUID1_EDX_APIC		(1u << 9)

/* IOAPIC: index/data window and redirection entries. */
#define IOAPIC_REGSEL		0x00
#define IOAPIC_WINDOW		0x10
#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VERSION	0x01
#define IOAPIC_REG_ARB		0x02
#define IOAPIC_REG_REDIR(pin)	(0x10 + 2 * (pin))
#define IOAPIC_NUM_PINS		24
#define IOAPIC_DELIVERY_PENDING	(1ULL << 12)
#define IOAPIC_ACTIVE_LOW	(1ULL << 13)
#define IOAPIC_REMOTE_IRR	(1ULL << 14)
#define IOAPIC_LEVEL		(1ULL << 15)
#define IOAPIC_MASKED		(1ULL << 16)
#define IOAPIC_DEST_LOGICAL	(1ULL << 11)
#define IOAPIC_DEST(id)		((uint64_t)(id) << 56)

/* MSI address and data (Intel SDM 11.11, AMD APM 16.?): what KVM_SIGNAL_MSI takes. */
#define MSI_ADDR(dest)		(0xfee00000u | ((uint32_t)(dest) << 12))
#define MSI_ADDR_LOGICAL	(1u << 2)
#define MSI_DATA_LEVEL		(1u << 15)
#define MSI_DATA_ASSERT		(1u << 14)

/* 8259A ports. */
#define PIC_MASTER_CMD		0x20
#define PIC_MASTER_DATA		0x21
#define PIC_SLAVE_CMD		0xa0
#define PIC_SLAVE_DATA		0xa1
#define PIC_ELCR_MASTER		0x4d0
#define PIC_ELCR_SLAVE		0x4d1
#define PIC_EOI			0x20

/* 8254 PIT ports. */
#define PIT_CH0			0x40
#define PIT_CH2			0x42
#define PIT_CMD			0x43
#define PIT_SPEAKER		0x61

#define NR_VECTORS		256
#define FIRST_EXTERNAL_VECTOR	32

/* The rest is guest code (the host reads the globals with guest_global()). */

/* ---------------------------------------------------------------- */
/* CPU helpers                                                      */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b,
			 uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(sub));
}

static inline void sti(void)
{
	__asm__ volatile("sti" : : : "memory");
}

static inline void cli(void)
{
	__asm__ volatile("cli" : : : "memory");
}

/* STI's shadow covers the HLT: an interrupt pending before it wakes it at once. */
static inline void sti_hlt_cli(void)
{
	__asm__ volatile("sti; hlt; cli" : : : "memory");
}

/* STI, one instruction (NOP) in which interrupts are taken, CLI. */
static inline void sti_nop_cli(void)
{
	__asm__ volatile("sti; nop; cli" : : : "memory");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}

static inline uint64_t read_cr8(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

static inline void write_cr8(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr8" : : "r"(v) : "memory");
}

static inline uint64_t read_rflags(void)
{
	uint64_t f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

/* RDMSR/WRMSR that report a #GP (returns true) instead of taking it. */
bool rdmsr_gp(uint32_t msr, uint64_t *val);
bool wrmsr_gp(uint32_t msr, uint64_t val);

/* The library's index of the running vCPU, from its stack (no exit). */
static inline unsigned int guest_vcpu_index(void)
{
	uint64_t rsp;

	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	return (unsigned int)((rsp - GPA_STACKS) / STACK_SIZE);
}

/* ---------------------------------------------------------------- */
/* Local APIC                                                       */

/* Where xAPIC accesses go (MSR 0x1b's base; apic_relocate() moves it). */
extern uint64_t apic_mmio_base;
/* Per vCPU: true once apic_enable_x2apic() switched it to x2APIC. */
extern volatile bool apic_x2[MAX_GUEST_STACKS];

static inline bool apic_is_x2(void)
{
	return apic_x2[guest_vcpu_index()];
}

static inline uint32_t xapic_read(uint32_t reg)
{
	return mmio_read32(apic_mmio_base + reg);
}

static inline void xapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(apic_mmio_base + reg, v);
}

static inline uint64_t x2apic_read(uint32_t reg)
{
	return rdmsr(X2APIC_MSR(reg));
}

static inline void x2apic_write(uint32_t reg, uint64_t v)
{
	wrmsr(X2APIC_MSR(reg), v);
}

/* Reads/writes a register in the vCPU's current mode. */
uint32_t apic_read(uint32_t reg);
void apic_write(uint32_t reg, uint32_t v);
/* The APIC ID in the current mode's format (xAPIC: bits 31:24 of the register). */
uint32_t apic_id(void);
void apic_eoi(void);
/* Sends an IPI: xAPIC ICR2 then ICR; x2APIC one 64-bit ICR write (@dest is 32 bits). */
void apic_send_ipi(uint32_t dest, uint32_t icr_low);
/* Bit @vector of the 256-bit register group at @base (ISR, TMR, IRR). */
bool apic_vector_bit(uint32_t base, unsigned int vector);

/*
 * Software-enables the APIC (SVR = enable | vector 0xff), masks every LVT,
 * TPR 0.  Architecturally the LVTs are masked at reset; KVM's BSP starts
 * with LINT0 in ExtINT (KVM_X86_QUIRK_LINT0_REENABLED), so tests never rely
 * on the reset values.
 */
void apic_enable_xapic(void);
/* Same, after switching the vCPU to x2APIC mode through MSR 0x1b. */
void apic_enable_x2apic(void);
void apic_mask_lvts(void);

/* TSC frequency in kHz, measured by the host (irqchip.h: vm_set_guest_tsc_khz). */
extern uint64_t guest_tsc_khz;
/* Spins (interrupts as they are) for @us microseconds of TSC time. */
void tsc_delay_us(uint64_t us);
/* TSC ticks in @us microseconds. */
uint64_t tsc_ticks_us(uint64_t us);

/* ---------------------------------------------------------------- */
/* Interrupt vectors 32-255                                         */

struct ex_regs;
typedef void (*irq_handler_t)(struct ex_regs *regs);

/* Installs IDT entries for vectors 32-255 and reloads IDTR (once per vCPU). */
void irq_install(void);
void irq_set_handler(unsigned int vector, irq_handler_t fn);

/*
 * A record of every interrupt each vCPU took through the ready-made
 * handlers below: counts per vector and the order of the first
 * IRQ_LOG_LEN (with the nesting depth at which each was taken).
 */
#define IRQ_LOG_LEN	64
struct irq_record {
	volatile uint32_t count[NR_VECTORS];
	volatile uint32_t n;
	volatile uint32_t depth;		/* handlers running now */
	volatile uint8_t vector[IRQ_LOG_LEN];
	volatile uint8_t at_depth[IRQ_LOG_LEN];
};
extern struct irq_record irq_rec[MAX_GUEST_STACKS];

/*
 * The dispatcher checks that a vector it runs a handler for is in the
 * local APIC's ISR and not already being handled; if not, the delivery is
 * a phantom (apic.c) and only counted here.  Tests whose interrupts come
 * through the PIC (ExtINT: no ISR bit) turn the check off.
 */
extern bool irq_check_isr;
extern volatile uint32_t irq_phantoms[MAX_GUEST_STACKS];

/* Counts the interrupt in irq_rec, then EOIs the local APIC. */
void irq_count_eoi(struct ex_regs *regs);
/* Counts it and does not EOI (the test does). */
void irq_count_only(struct ex_regs *regs);
/* Records @vector for the running vCPU (for handlers of a test's own). */
void irq_record(unsigned int vector);
/* Resets the running vCPU's record. */
void irq_record_clear(void);

/* Halts (STI; HLT) until *@p >= @target; the handlers run in between. */
void wait_count_hlt(volatile uint32_t *p, uint32_t target);
/* Spins with interrupts enabled until *@p >= @target. */
void wait_count_spin(volatile uint32_t *p, uint32_t target);

/* ---------------------------------------------------------------- */
/* IOAPIC and PIC                                                   */

uint32_t ioapic_read(uint32_t reg);
void ioapic_write(uint32_t reg, uint32_t v);
uint64_t ioapic_read_redir(unsigned int pin);
void ioapic_write_redir(unsigned int pin, uint64_t entry);

/*
 * Initialises both 8259As (ICW1-4: edge, cascade on IRQ2, 8086 mode) with
 * vector bases @master and @slave, every line masked.
 */
void pic_init(uint8_t master, uint8_t slave, bool auto_eoi);
void pic_set_imr(uint16_t mask);	/* slave in the high byte */
void pic_eoi(unsigned int irq);		/* non-specific EOI (and the master's for the slave) */

#endif

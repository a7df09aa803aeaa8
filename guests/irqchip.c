/*
 * The machine yakvm builds with --irqchip kernel, as a guest sees it: an
 * ELF64 guest that checks the MP table, the local APIC's and IOAPIC's
 * reset programming, each interrupt path Linux relies on, and the start of
 * the other vCPUs, printing one line per check.  Run it with as many vCPUs
 * as you like:
 *
 *   yakvm run --irqchip kernel --cpus 2 /guests/irqchip.elf
 *
 * - MP table: found where the MP spec says, checksums right, one enabled
 *   processor per vCPU (APIC IDs 0..N-1, BSP 0), an ISA bus, the IOAPIC at
 *   0xfec00000, ISA IRQ 0 on pin 2 and IRQ n on pin n, LINT0 ExtINT, LINT1 NMI;
 * - local APIC: ID 0, LINT0 ExtINT and LINT1 NMI as the VMM set them;
 *   IOAPIC: version 0x11 with 24 pins (what the MP table claims);
 * - the PIT's IRQ0 through IOAPIC pin 2 (the VMM's GSI routing), the UART's
 *   IRQ4 through pin 4 (the VMM's KVM_IRQ_LINE), the PIT through the 8259A
 *   and LINT0 (ExtINT), and the LAPIC timer; each waited for with STI; HLT,
 *   so the vCPU sleeps in the device until the interrupt comes;
 * - the other vCPUs wait for INIT/SIPI: none runs before the BSP sends them;
 *   then each runs a real-mode trampoline and reports its CPUID APIC ID.
 * It leaves through the debug-exit port with 0 (exit status 1), or with 1
 * (status 3) after a check that failed.
 */
#include "guest.h"

#define LAPIC_BASE	0xfee00000u
#define LAPIC_ID	0x020
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define LAPIC_ICR_LO	0x300
#define LAPIC_ICR_HI	0x310
#define LAPIC_LVT_TIMER	0x320
#define LAPIC_LVT_LINT0	0x350
#define LAPIC_LVT_LINT1	0x360
#define LAPIC_TIMER_ICR	0x380
#define LAPIC_TIMER_DCR	0x3e0
#define LVT_MASKED	(1u << 16)
#define ICR_BUSY	(1u << 12)
#define ICR_INIT	0x000c4500u	/* all excluding self, level assert, INIT */
#define ICR_SIPI	0x000c4600u	/* all excluding self, STARTUP; | vector */

#define IOAPIC_BASE	0xfec00000u
#define IOAPIC_VERSION	0x01
#define IOAPIC_REDIR(pin) (0x10 + 2 * (pin))
#define REDIR_MASKED	(1u << 16)

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1
#define PIT_CH0		0x40
#define PIT_CTRL	0x43
#define UART_IER	1
#define UART_IIR	2
#define UART_MCR	4

#define VEC_PIC_BASE	0x20	/* 8259A master: IRQ0 = 0x20 */
#define VEC_IOAPIC_PIT	0x30
#define VEC_IOAPIC_UART	0x34
#define VEC_LAPIC_TIMER	0x40
#define VEC_SPURIOUS	0xff

#define TRAMPOLINE	0x8000u		/* SIPI vector 0x08: CS = 0x0800, IP = 0 */
#define MAX_CPUS	16

static bool failed;
static volatile unsigned int hits[256];

/* ---- output -------------------------------------------------------------- */

static void check(bool good, const char *what)
{
	print(what);
	print(good ? ": ok\n" : ": FAILED\n");
	failed |= !good;
}

/* ---- APIC registers ------------------------------------------------------ */

static uint32_t lapic_read(uint32_t reg)
{
	return MMIO(uint32_t, LAPIC_BASE + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	MMIO(uint32_t, LAPIC_BASE + reg) = v;
}

static uint32_t ioapic_read(uint32_t reg)
{
	MMIO(uint32_t, IOAPIC_BASE) = reg;
	return MMIO(uint32_t, IOAPIC_BASE + 0x10);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	MMIO(uint32_t, IOAPIC_BASE) = reg;
	MMIO(uint32_t, IOAPIC_BASE + 0x10) = v;
}

/* Pin @pin to @vector on APIC 0, edge, active high; masked or not. */
static void ioapic_route(unsigned int pin, uint8_t vector, bool masked)
{
	ioapic_write(IOAPIC_REDIR(pin) + 1, 0);
	ioapic_write(IOAPIC_REDIR(pin), vector | (masked ? REDIR_MASKED : 0));
}

/* ---- interrupts ---------------------------------------------------------- */

struct idt_gate {
	uint16_t offset_lo, selector;
	uint8_t ist, type;
	uint16_t offset_mid;
	uint32_t offset_hi, zero;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));

struct interrupt_frame;

#define HANDLER(name, vector, eoi)						\
	__attribute__((interrupt)) static void name(struct interrupt_frame *f)	\
	{									\
		(void)f;							\
		hits[vector]++;							\
		eoi;								\
	}

HANDLER(pic_irq0, VEC_PIC_BASE, outb(PIC1_CMD, 0x20))
HANDLER(ioapic_pit, VEC_IOAPIC_PIT, lapic_write(LAPIC_EOI, 0))
HANDLER(ioapic_uart, VEC_IOAPIC_UART,
	(outb(COM1_PORT + UART_IER, 0), inb(COM1_PORT + UART_IIR), lapic_write(LAPIC_EOI, 0)))
HANDLER(lapic_timer, VEC_LAPIC_TIMER, lapic_write(LAPIC_EOI, 0))
HANDLER(spurious, VEC_SPURIOUS, (void)0)
HANDLER(pic_spurious, VEC_PIC_BASE + 7, (void)0)	/* IR7 with no request: no EOI */

static void set_gate(unsigned int vector, void (*fn)(struct interrupt_frame *))
{
	uint64_t a = (uintptr_t)fn;
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	idt[vector] = (struct idt_gate){
		.offset_lo = a, .selector = cs, .type = 0x8e,	/* present, interrupt gate */
		.offset_mid = a >> 16, .offset_hi = a >> 32,
	};
}

static void load_idt(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
		sizeof(idt) - 1, (uintptr_t)idt,
	};

	set_gate(VEC_PIC_BASE, pic_irq0);
	set_gate(VEC_IOAPIC_PIT, ioapic_pit);
	set_gate(VEC_IOAPIC_UART, ioapic_uart);
	set_gate(VEC_LAPIC_TIMER, lapic_timer);
	set_gate(VEC_SPURIOUS, spurious);
	set_gate(VEC_PIC_BASE + 7, pic_spurious);
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

/* Sleeps with interrupts enabled until @vector has been taken @n times. */
static void wait_for(unsigned int vector, unsigned int n)
{
	while (hits[vector] < n)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* Counter 0, mode 2 (rate generator), about 1 kHz. */
static void pit_start(void)
{
	outb(PIT_CTRL, 0x34);
	outb(PIT_CH0, 1193 & 0xff);
	outb(PIT_CH0, 1193 >> 8);
}

/* Mode 0 with the longest count: one last edge in 55 ms, then silence (a
 * control word alone leaves the running count as it is). */
static void pit_stop(void)
{
	outb(PIT_CTRL, 0x30);
	outb(PIT_CH0, 0xff);
	outb(PIT_CH0, 0xff);
}

/* ICW1-4: master vectors 0x20-0x27, slave 0x28-0x2f, cascade on IR2; all masked. */
static void pic_init(void)
{
	outb(PIC1_CMD, 0x11);
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, VEC_PIC_BASE);
	outb(PIC2_DATA, VEC_PIC_BASE + 8);
	outb(PIC1_DATA, 0x04);
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01);
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

/* ---- the MP table -------------------------------------------------------- */

struct mp_table {
	unsigned int cpus, bsp_flags, ioapics, isa_buses;
	uint8_t ioapic_id;
	uint32_t ioapic_address;
	int pin_of_irq[16];
	bool lint0_extint, lint1_nmi, ids_in_order;
};

static uint8_t sum(const uint8_t *p, unsigned int len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static const uint8_t *find_floating_pointer(void)
{
	uintptr_t a;

	for (a = 0xf0000; a < 0x100000; a += 16) {
		const uint8_t *p = (const uint8_t *)a;

		if (p[0] == '_' && p[1] == 'M' && p[2] == 'P' && p[3] == '_' && p[8] == 1 &&
		    sum(p, 16) == 0)
			return p;
	}
	return 0;
}

static void walk_entries(const uint8_t *table, struct mp_table *mp)
{
	uint16_t length = table[4] | table[5] << 8, count = table[34] | table[35] << 8;
	const uint8_t *e = table + 44;
	unsigned int i;

	for (i = 0; i < 16; i++)
		mp->pin_of_irq[i] = -1;
	mp->ids_in_order = true;
	for (i = 0; i < count && e < table + length; i++) {
		switch (e[0]) {
		case 0:		/* processor */
			if (e[3] & 1) {
				mp->ids_in_order &= e[1] == mp->cpus;
				mp->bsp_flags |= (e[3] & 2) ? 1u << e[1] : 0;
				mp->cpus++;
			}
			e += 20;
			break;
		case 1:		/* bus */
			mp->isa_buses += e[2] == 'I' && e[3] == 'S' && e[4] == 'A';
			e += 8;
			break;
		case 2:		/* I/O APIC */
			mp->ioapics++;
			mp->ioapic_id = e[1];
			mp->ioapic_address = e[4] | e[5] << 8 | e[6] << 16 | (uint32_t)e[7] << 24;
			e += 8;
			break;
		case 3:		/* I/O interrupt: type INT, source bus IRQ, INTIN# */
			if (e[1] == 0 && e[5] < 16 && e[6] == mp->ioapic_id)
				mp->pin_of_irq[e[5]] = e[7];
			e += 8;
			break;
		case 4:		/* local interrupt */
			mp->lint0_extint |= e[1] == 3 && e[7] == 0;
			mp->lint1_nmi |= e[1] == 1 && e[7] == 1;
			e += 8;
			break;
		default:
			return;
		}
	}
}

static unsigned int check_mp_table(void)
{
	const uint8_t *fp = find_floating_pointer();
	const uint8_t *table;
	struct mp_table mp = { 0 };
	bool irqs = true;
	unsigned int irq;

	check(fp != 0, "MP floating pointer in 0xf0000-0xfffff, checksum");
	if (!fp)
		return 1;
	table = (const uint8_t *)(uintptr_t)(fp[4] | fp[5] << 8 | fp[6] << 16 |
					      (uint32_t)fp[7] << 24);
	check(table[0] == 'P' && table[1] == 'C' && table[2] == 'M' && table[3] == 'P' &&
	      table[6] == 4 && sum(table, table[4] | table[5] << 8) == 0,
	      "MP configuration table: PCMP, spec 1.4, checksum");
	check(MMIO(uint32_t, table + 36) == LAPIC_BASE, "MP table: local APICs at 0xfee00000");
	walk_entries(table, &mp);
	print("MP table: ");
	print_dec(mp.cpus);
	print(" processors\n");
	check(mp.ids_in_order && mp.bsp_flags == 1, "MP table: APIC IDs 0..N-1, BSP 0");
	check(mp.isa_buses == 1 && mp.ioapics == 1 && mp.ioapic_address == IOAPIC_BASE &&
	      mp.ioapic_id == mp.cpus, "MP table: ISA bus, IOAPIC ID N at 0xfec00000");
	for (irq = 0; irq < 16; irq++)
		irqs &= mp.pin_of_irq[irq] == (irq == 0 ? 2 : irq == 2 ? -1 : (int)irq);
	check(irqs, "MP table: IRQ0 on IOAPIC pin 2, IRQ1,3-15 on their own pins");
	check(mp.lint0_extint && mp.lint1_nmi, "MP table: LINT0 ExtINT, LINT1 NMI");
	return mp.cpus > MAX_CPUS ? MAX_CPUS : mp.cpus;
}

/* ---- the other vCPUs ----------------------------------------------------- */

extern const uint8_t ap_trampoline[], ap_trampoline_end[], ap_count[], ap_seen[];

static volatile uint8_t *ap_var(const uint8_t *symbol)
{
	return (volatile uint8_t *)(uintptr_t)(TRAMPOLINE + (symbol - ap_trampoline));
}

static void send_ipi(uint32_t icr)
{
	lapic_write(LAPIC_ICR_HI, 0);
	lapic_write(LAPIC_ICR_LO, icr);
	while (lapic_read(LAPIC_ICR_LO) & ICR_BUSY)
		;
}

static void start_aps(unsigned int cpus)
{
	volatile uint8_t *count = ap_var(ap_count), *seen = ap_var(ap_seen);
	uint8_t *dst = (uint8_t *)(uintptr_t)TRAMPOLINE;
	unsigned int i, n = ap_trampoline_end - ap_trampoline;
	bool ids = true;

	for (i = 0; i < n; i++)
		dst[i] = ap_trampoline[i];
	/* Every vCPU is running by now if the VMM had started them itself. */
	for (i = 0; i < 1000; i++)
		__asm__ volatile("pause");
	check(*count == 0, "other vCPUs wait for INIT/SIPI");
	send_ipi(ICR_INIT);
	send_ipi(ICR_SIPI | (TRAMPOLINE >> 12));
	send_ipi(ICR_SIPI | (TRAMPOLINE >> 12));
	while (*count < cpus - 1)
		__asm__ volatile("pause");
	for (i = 1; i < cpus; i++)
		ids &= seen[i] == 1;
	print("APs started: ");
	print_dec(*count);
	print(" of ");
	print_dec(cpus - 1);
	print("\n");
	check(ids && seen[0] == 0, "each AP reports its own CPUID APIC ID");
}

/* ---- the checks ---------------------------------------------------------- */

void guest_main(void)
{
	uint32_t eax = 1, ebx, ecx = 0, edx, version;
	unsigned int cpus;

	__asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
	cpus = check_mp_table();
	check((edx & (1u << 9)) && (ebx >> 24) == 0, "CPUID: APIC present, BSP APIC ID 0");
	check(lapic_read(LAPIC_ID) >> 24 == 0, "local APIC ID 0");
	check(lapic_read(LAPIC_LVT_LINT0) == 0x700 && lapic_read(LAPIC_LVT_LINT1) == 0x400,
	      "LINT0 ExtINT, LINT1 NMI, unmasked (the VMM's KVM_SET_LAPIC)");
	version = ioapic_read(IOAPIC_VERSION);
	check((version & 0xff) == 0x11 && ((version >> 16) & 0xff) == 23,
	      "IOAPIC version 0x11, 24 pins");

	load_idt();
	pic_init();		/* masks the 8259A: the IOAPIC paths come first */
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
	lapic_write(LAPIC_LVT_LINT0, 0x700 | LVT_MASKED);

	ioapic_route(2, VEC_IOAPIC_PIT, false);
	pit_start();
	wait_for(VEC_IOAPIC_PIT, 3);
	pit_stop();
	ioapic_route(2, VEC_IOAPIC_PIT, true);
	check(hits[VEC_IOAPIC_PIT] >= 3 && !hits[VEC_PIC_BASE],
	      "PIT IRQ0 through IOAPIC pin 2 (GSI routing), woken from HLT");

	ioapic_route(4, VEC_IOAPIC_UART, false);
	outb(COM1_PORT + UART_MCR, 0x08);	/* OUT2: the PC's interrupt enable */
	outb(COM1_PORT + UART_IER, 0x02);	/* THR empty: raises IRQ4 at once */
	wait_for(VEC_IOAPIC_UART, 1);
	ioapic_route(4, VEC_IOAPIC_UART, true);
	check(hits[VEC_IOAPIC_UART] == 1, "UART IRQ4 through IOAPIC pin 4 (KVM_IRQ_LINE)");

	lapic_write(LAPIC_LVT_LINT0, 0x700);	/* ExtINT: the 8259A's INTR */
	outb(PIC1_DATA, 0xfe);			/* only IRQ0 */
	pit_start();
	wait_for(VEC_PIC_BASE, 3);
	pit_stop();
	outb(PIC1_DATA, 0xff);
	lapic_write(LAPIC_LVT_LINT0, 0x700 | LVT_MASKED);
	check(hits[VEC_PIC_BASE] >= 3, "PIT IRQ0 through the 8259A and LINT0 (ExtINT)");

	lapic_write(LAPIC_TIMER_DCR, 0xb);	/* divide by 1 */
	lapic_write(LAPIC_LVT_TIMER, VEC_LAPIC_TIMER);	/* one-shot */
	lapic_write(LAPIC_TIMER_ICR, 100000);
	wait_for(VEC_LAPIC_TIMER, 1);
	check(hits[VEC_LAPIC_TIMER] == 1, "LAPIC timer, one-shot");

	if (cpus > 1)
		start_aps(cpus);
	print(failed ? "irqchip: FAILED\n" : "irqchip: all checks passed\n");
	debug_exit(failed);
}

/*
 * The MP table: how a guest with the in-kernel irqchip learns that it has N
 * processors with local APICs and an I/O APIC, and how the ISA interrupts
 * reach them (Intel MultiProcessor Specification 1.4, chapter 4 "MP
 * Configuration Table").  Linux reads it with acpi=off; yakvm writes no ACPI
 * tables (docs/vmm.md, "Linux: SMP and the MP table", says why).
 *
 * What it describes, and where each fact comes from:
 * - one processor entry per vCPU: local APIC ID = vCPU ID (KVM_CREATE_VCPU
 *   gives the LAPIC that ID), vCPU 0 the bootstrap processor, the APIC
 *   version the device's LAPIC reports (KVM_GET_LAPIC), signature and
 *   features from the vCPU's CPUID leaf 1;
 * - one ISA bus (no PCI: the guest runs with pci=off);
 * - the I/O APIC at 0xfec00000 (KVM's fixed address), version 0x11 (what
 *   KVM's IOAPIC version register reads: an 82093AA with 24 pins), ID N, the
 *   first APIC ID after the processors' (as SeaBIOS numbers it);
 * - ISA IRQ 0 on I/O APIC input 2 and IRQ 1, 3-15 on the input of the same
 *   number, edge-triggered and active high as the ISA bus is ("conforms to
 *   bus"): the wiring of a PC and of the GSI routing interrupts.c installs
 *   (GSI 0 -> IOAPIC pin 2); IRQ 2 is the 8259A cascade and has no entry;
 * - LINT0 ExtINT (the 8259A's INTR output) and LINT1 NMI on every local
 *   APIC, the wiring of a PC that the VMM also programs (interrupts.c).
 */
#include <string.h>

#include "loader.h"
#include "../bootlayout.h"
#include "../status.h"
#include "../util.h"
#include "../vm.h"

#define MP_SPEC_REV		4	/* 1.4 */
#define LAPIC_BASE		0xfee00000u
#define IOAPIC_BASE		0xfec00000u
#define IOAPIC_VERSION		0x11
#define ISA_BUS_ID		0
#define ISA_IRQS		16
#define CASCADE_IRQ		2
#define MP_ALL_LAPICS		0xff	/* destination "all local APICs" */
#define MP_MAX_CPUS		0xff	/* 8-bit APIC IDs; 0xff is the broadcast ID */

/* Entry types and fields (MP spec 1.4, 4.3 "MP Configuration Table Entries"). */
enum mp_entry_type {
	MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_IO_INTERRUPT = 3, MP_LOCAL_INTERRUPT = 4,
};
enum mp_interrupt_type { MP_INT = 0, MP_NMI = 1, MP_SMI = 2, MP_EXTINT = 3 };
#define MP_CPU_ENABLED		0x01
#define MP_CPU_BSP		0x02
#define MP_IOAPIC_ENABLED	0x01
#define MP_FLAGS_CONFORM	0x0000	/* polarity and trigger "conform to the bus" */

struct mp_floating_pointer {		/* 4.1 */
	char signature[4];		/* "_MP_" */
	uint32_t config_table;
	uint8_t length;			/* in 16-byte units: 1 */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];		/* all zero: a configuration table follows */
} __attribute__((packed));

struct mp_config_header {		/* 4.2 */
	char signature[4];		/* "PCMP" */
	uint16_t base_length;
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_address;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mp_processor {			/* 4.3.1, 20 bytes */
	uint8_t type;
	uint8_t lapic_id;
	uint8_t lapic_version;
	uint8_t cpu_flags;
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {				/* 4.3.2, 8 bytes */
	uint8_t type;
	uint8_t bus_id;
	char bus_type[6];
} __attribute__((packed));

struct mp_ioapic {			/* 4.3.3, 8 bytes */
	uint8_t type;
	uint8_t id;
	uint8_t version;
	uint8_t flags;
	uint32_t address;
} __attribute__((packed));

struct mp_interrupt {			/* 4.3.4 and 4.3.5, 8 bytes each */
	uint8_t type;
	uint8_t interrupt_type;
	uint16_t flags;
	uint8_t source_bus;
	uint8_t source_irq;
	uint8_t dest_apic;		/* I/O APIC ID, or local APIC ID (0xff: all) */
	uint8_t dest_pin;		/* INTIN#, or LINTIN# */
} __attribute__((packed));

_Static_assert(sizeof(struct mp_floating_pointer) == 16, "MP floating pointer layout");
_Static_assert(sizeof(struct mp_config_header) == 44, "MP configuration header layout");
_Static_assert(sizeof(struct mp_processor) == 20, "MP processor entry layout");
_Static_assert(sizeof(struct mp_interrupt) == 8, "MP interrupt entry layout");

/* The byte that makes the sum of @len bytes zero (4.1, 4.2 "checksum"). */
static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

/* Appends entries to the configuration table being built. */
struct mp_builder {
	uint8_t *table;
	size_t used, room;
	uint16_t entries;
};

static void *add_entry(struct mp_builder *b, size_t size)
{
	void *e;

	if (b->used + size > b->room)
		fail(STATUS_SETUP, "the MP table does not fit at %#llx-%#llx", BOOT_MPTABLE,
		     BOOT_MPTABLE_END - 1);
	e = b->table + b->used;
	b->used += size;
	b->entries++;
	return e;
}

static void add_interrupt(struct mp_builder *b, enum mp_entry_type type,
			  enum mp_interrupt_type itype, uint8_t irq, uint8_t apic, uint8_t pin)
{
	struct mp_interrupt *e = add_entry(b, sizeof(*e));

	*e = (struct mp_interrupt){
		.type = type, .interrupt_type = itype, .flags = MP_FLAGS_CONFORM,
		.source_bus = ISA_BUS_ID, .source_irq = irq, .dest_apic = apic, .dest_pin = pin,
	};
}

static void add_processors(struct mp_builder *b, const struct mptable_cpus *cpus)
{
	unsigned int i;

	for (i = 0; i < cpus->count; i++) {
		struct mp_processor *e = add_entry(b, sizeof(*e));

		*e = (struct mp_processor){
			.type = MP_PROCESSOR, .lapic_id = i, .lapic_version = cpus->lapic_version,
			.cpu_flags = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
			.signature = cpus->signature, .features = cpus->features,
		};
	}
}

static void add_ioapic_and_irqs(struct mp_builder *b, uint8_t ioapic_id)
{
	struct mp_bus *bus = add_entry(b, sizeof(*bus));
	struct mp_ioapic *ioapic;
	unsigned int irq;

	*bus = (struct mp_bus){ .type = MP_BUS, .bus_id = ISA_BUS_ID };
	memcpy(bus->bus_type, "ISA   ", sizeof(bus->bus_type));
	ioapic = add_entry(b, sizeof(*ioapic));
	*ioapic = (struct mp_ioapic){
		.type = MP_IOAPIC, .id = ioapic_id, .version = IOAPIC_VERSION,
		.flags = MP_IOAPIC_ENABLED, .address = IOAPIC_BASE,
	};
	for (irq = 0; irq < ISA_IRQS; irq++) {
		if (irq == CASCADE_IRQ)
			continue;
		add_interrupt(b, MP_IO_INTERRUPT, MP_INT, irq, ioapic_id,
			      irq == 0 ? CASCADE_IRQ : irq);
	}
	add_interrupt(b, MP_LOCAL_INTERRUPT, MP_EXTINT, 0, MP_ALL_LAPICS, 0);
	add_interrupt(b, MP_LOCAL_INTERRUPT, MP_NMI, 0, MP_ALL_LAPICS, 1);
}

void mptable_write(struct vm *vm, const struct mptable_cpus *cpus)
{
	uint64_t size = BOOT_MPTABLE_END - BOOT_MPTABLE;
	uint8_t *area = vm_guest_ram(vm, BOOT_MPTABLE, size);
	struct mp_floating_pointer *fp = (void *)area;
	struct mp_config_header *hdr = (void *)(fp + 1);
	struct mp_builder b = {
		.table = (uint8_t *)hdr, .used = sizeof(*hdr),
		.room = size - sizeof(*fp),
	};

	if (!area)
		fail(STATUS_USAGE, "guest memory too small for the MP table at %#llx",
		     BOOT_MPTABLE);
	if (cpus->count == 0 || cpus->count >= MP_MAX_CPUS)
		fail(STATUS_USAGE, "--cpus %u: the MP table describes 1 to %u processors",
		     cpus->count, MP_MAX_CPUS - 1);
	memset(area, 0, size);
	add_processors(&b, cpus);
	add_ioapic_and_irqs(&b, cpus->count);

	memcpy(hdr->signature, "PCMP", 4);
	hdr->base_length = b.used;
	hdr->spec_rev = MP_SPEC_REV;
	memcpy(hdr->oem_id, "YAKVM   ", sizeof(hdr->oem_id));
	memcpy(hdr->product_id, "VIRTUAL PC  ", sizeof(hdr->product_id));
	hdr->entry_count = b.entries;
	hdr->lapic_address = LAPIC_BASE;
	hdr->checksum = checksum(hdr, b.used);

	memcpy(fp->signature, "_MP_", 4);
	fp->config_table = BOOT_MPTABLE + sizeof(*fp);
	fp->length = 1;
	fp->spec_rev = MP_SPEC_REV;
	fp->checksum = checksum(fp, sizeof(*fp));
}

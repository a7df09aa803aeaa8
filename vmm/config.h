/* What the user asked for on the command line. */
#ifndef YAKVM_CONFIG_H
#define YAKVM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

enum image_format {
	FORMAT_AUTO,
	FORMAT_FLAT,
	FORMAT_ELF,
	FORMAT_MULTIBOOT,
	FORMAT_BZIMAGE,		/* Linux, through the 32/64-bit boot protocol */
};

enum cpu_mode {
	MODE_REAL,
	MODE_PROT,
	MODE_LONG,
};

/*
 * Where the interrupt controllers and the PIT live (interrupts.c): in the
 * VMM (an 8259A pair and an 8254, KVM's user-space irqchip ABI), or in the
 * device (KVM_CREATE_IRQCHIP: PIC, IOAPIC and a LAPIC per vCPU, plus
 * KVM_CREATE_PIT2).  IRQCHIP_AUTO is resolved by prepare_vm() from the image
 * format: Linux gets the kernel's, every other guest the VMM's.
 */
enum irqchip_mode {
	IRQCHIP_AUTO,
	IRQCHIP_USER,
	IRQCHIP_KERNEL,
};

/* A real-mode entry point is a segment:offset pair; other modes use a linear address. */
struct entry_point {
	bool set;
	bool segmented;
	uint16_t segment;
	uint64_t offset;
};

struct vm_config {
	const char *dev_path;
	uint64_t mem_size;
	bool mem_set;
	unsigned int nr_cpus;
	enum image_format format;
	bool load_set;
	uint64_t load_addr;
	struct entry_point entry;
	bool mode_set;
	enum cpu_mode mode;
	const char *cmdline;
	const char *initrd;
	const char *image;
	bool trace_exits;
	bool strict;
	enum irqchip_mode irqchip;
};

#define DEFAULT_DEVICE "/dev/yakvm"
#define DEFAULT_MEM_SIZE (64ULL << 20)
/* Linux decompresses itself above 16 MiB into ~64 MiB (init_size) and then
 * unpacks its initramfs: 256 MiB leaves it room to run a shell. */
#define DEFAULT_LINUX_MEM_SIZE (256ULL << 20)

/* The names --format and --mode take. */
const char *format_name(enum image_format format);
bool format_from_name(const char *name, enum image_format *format);
const char *mode_name(enum cpu_mode mode);
bool mode_from_name(const char *name, enum cpu_mode *mode);
const char *irqchip_name(enum irqchip_mode irqchip);
bool irqchip_from_name(const char *name, enum irqchip_mode *irqchip);

#endif

/*
 * Real, protected and long mode entry states (AMD APM vol. 2, chapter 14
 * "Processor Initialization and Long Mode Activation").  The
 * VMM writes descriptors and page tables into guest memory and loads the
 * matching hidden segment state with KVM_SET_SREGS, so the guest starts
 * directly in its mode, the way a boot loader would have left it.
 */
#include "cpumode.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "bootlayout.h"
#include "status.h"
#include "util.h"
#include "vcpu.h"
#include "vm.h"

#define CR0_PE		(1ULL << 0)
#define CR0_ET		(1ULL << 4)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define RFLAGS_FIXED	(1ULL << 1)	/* reserved bit 1 reads as one */

#define SEG_TYPE_CODE	0xb	/* execute/read, accessed */
#define SEG_TYPE_DATA	0x3	/* read/write, accessed */

#define PTE_PRESENT	(1ULL << 0)
#define PTE_WRITE	(1ULL << 1)
#define PTE_LARGE	(1ULL << 7)	/* 2 MiB page in a page directory */

static struct kvm_segment real_segment(uint16_t selector, uint8_t type)
{
	return (struct kvm_segment){
		.selector = selector, .base = (uint64_t)selector << 4,
		.limit = 0xffff, .type = type, .present = 1, .s = 1,
	};
}

static struct kvm_segment flat_segment(uint16_t selector, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.selector = selector, .base = 0, .limit = 0xffffffff, .type = type,
		.present = 1, .s = 1, .g = 1, .db = !code64, .l = code64,
	};
}

/* Legacy segment descriptor (APM vol. 2, 4.7 "Legacy Segment Descriptors"). */
static uint64_t descriptor(const struct kvm_segment *s)
{
	uint32_t limit = s->g ? s->limit >> 12 : s->limit;

	return (limit & 0xffffULL) | (s->base & 0xffffffULL) << 16 |
	       (uint64_t)s->type << 40 | (uint64_t)s->s << 44 |
	       (uint64_t)s->dpl << 45 | (uint64_t)s->present << 47 |
	       ((uint64_t)(limit >> 16) & 0xf) << 48 | (uint64_t)s->l << 53 |
	       (uint64_t)s->db << 54 | (uint64_t)s->g << 55 |
	       ((s->base >> 24) & 0xffULL) << 56;
}

static void *boot_area(struct vm *vm, uint64_t gpa, uint64_t len)
{
	void *p = vm_guest_ram(vm, gpa, len);

	if (!p)
		fail(STATUS_USAGE, "guest memory too small for the boot tables at %#llx",
		     (unsigned long long)gpa);
	return p;
}

/* The selectors of the code and data segments every vCPU starts with. */
struct boot_selectors {
	uint16_t code;
	uint16_t data;
};

static struct boot_selectors selectors(const struct boot_cpu *boot)
{
	if (boot->gdt == GDT_LINUX)
		return (struct boot_selectors){ BOOT_SEL_LINUX_CODE, BOOT_SEL_LINUX_DATA };
	if (boot->mode == MODE_LONG)
		return (struct boot_selectors){ BOOT_SEL_CODE64, BOOT_SEL_DATA };
	return (struct boot_selectors){ BOOT_SEL_CODE32, BOOT_SEL_DATA };
}

static void write_gdt(struct vm *vm, const struct boot_cpu *boot)
{
	struct kvm_segment code32 = flat_segment(BOOT_SEL_CODE32, SEG_TYPE_CODE, false);
	struct kvm_segment data = flat_segment(BOOT_SEL_DATA, SEG_TYPE_DATA, false);
	struct kvm_segment code64 = flat_segment(BOOT_SEL_CODE64, SEG_TYPE_CODE, true);
	uint64_t *gdt = boot_area(vm, BOOT_GDT, BOOT_GDT_ENTRIES * 8);

	memset(gdt, 0, BOOT_GDT_ENTRIES * 8);
	if (boot->gdt == GDT_LINUX) {
		gdt[BOOT_SEL_LINUX_CODE / 8] = descriptor(boot->mode == MODE_LONG ?
							  &code64 : &code32);
		gdt[BOOT_SEL_LINUX_DATA / 8] = descriptor(&data);
		return;
	}
	gdt[BOOT_SEL_CODE32 / 8] = descriptor(&code32);
	gdt[BOOT_SEL_DATA / 8] = descriptor(&data);
	gdt[BOOT_SEL_CODE64 / 8] = descriptor(&code64);
}

/* Identity map of the low 4 GiB with 2 MiB pages: RAM and the MMIO hole alike. */
static void write_page_tables(struct vm *vm)
{
	uint64_t *pml4 = boot_area(vm, BOOT_PML4, 4096);
	uint64_t *pdpt = boot_area(vm, BOOT_PDPT, 4096);
	uint64_t *pd = boot_area(vm, BOOT_PD, BOOT_PD_PAGES * 4096);
	unsigned int i;

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT | PTE_PRESENT | PTE_WRITE;
	for (i = 0; i < BOOT_PD_PAGES; i++)
		pdpt[i] = (BOOT_PD + i * 4096) | PTE_PRESENT | PTE_WRITE;
	for (i = 0; i < BOOT_PD_PAGES * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
}

static void set_data_segments(struct kvm_sregs *s, struct kvm_segment seg)
{
	s->ds = s->es = s->fs = s->gs = s->ss = seg;
}

static void real_mode_sregs(struct kvm_sregs *s, uint16_t cs)
{
	s->cs = real_segment(cs, SEG_TYPE_CODE);
	set_data_segments(s, real_segment(cs, SEG_TYPE_DATA));
	s->cr0 = CR0_ET;
}

static void protected_mode_sregs(struct kvm_sregs *s, struct boot_selectors sel)
{
	s->cs = flat_segment(sel.code, SEG_TYPE_CODE, false);
	set_data_segments(s, flat_segment(sel.data, SEG_TYPE_DATA, false));
	s->gdt.base = BOOT_GDT;
	s->gdt.limit = BOOT_GDT_ENTRIES * 8 - 1;
	s->cr0 = CR0_PE | CR0_ET;
}

/* Long mode needs PAE paging and EFER.LME; LMA is what the CPU would then set
 * (APM vol. 2, 14.6 "Enabling and Activating Long Mode"). */
static void long_mode_sregs(struct kvm_sregs *s, struct boot_selectors sel)
{
	protected_mode_sregs(s, sel);
	s->cs = flat_segment(sel.code, SEG_TYPE_CODE, true);
	s->cr3 = BOOT_PML4;
	s->cr4 = CR4_PAE;
	s->efer = EFER_LME | EFER_LMA;
	s->cr0 |= CR0_PG;
}

static void setup_vcpu(struct vcpu *vcpu, const struct boot_cpu *boot)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = boot->rip, .rsp = boot->rsp, .rflags = RFLAGS_FIXED,
		.rax = boot->rax, .rbx = boot->rbx, .rsi = boot->rsi, .rdi = boot->rdi,
	};

	/* Start from the reset state (TR, LDT, IDT stay as reset leaves them). */
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		fail(STATUS_SETUP, "KVM_GET_SREGS on vCPU %u: %s", vcpu->id, strerror(errno));
	switch (boot->mode) {
	case MODE_REAL:
		real_mode_sregs(&sregs, boot->real_cs);
		break;
	case MODE_PROT:
		protected_mode_sregs(&sregs, selectors(boot));
		break;
	case MODE_LONG:
		long_mode_sregs(&sregs, selectors(boot));
		break;
	}
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		fail(STATUS_SETUP, "KVM_SET_SREGS on vCPU %u: %s", vcpu->id, strerror(errno));
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		fail(STATUS_SETUP, "KVM_SET_REGS on vCPU %u: %s", vcpu->id, strerror(errno));
}

void cpumode_setup(struct vm *vm, const struct boot_cpu *boot)
{
	unsigned int i;

	if (boot->mode != MODE_REAL)
		write_gdt(vm, boot);
	if (boot->mode == MODE_LONG)
		write_page_tables(vm);
	/*
	 * With the in-kernel irqchip only the BSP starts here: the device holds
	 * the others in KVM_MP_STATE_UNINITIALIZED until the guest's INIT/SIPI,
	 * which replaces whatever state they were given.
	 */
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (i == 0 || vm->irqchip != IRQCHIP_KERNEL)
			setup_vcpu(&vm->vcpus[i], boot);
	}
}

void cpumode_describe(const struct boot_cpu *boot, char *buf, size_t len)
{
	if (boot->mode == MODE_REAL)
		snprintf(buf, len, "real mode at %04x:%04llx", boot->real_cs,
			 (unsigned long long)boot->rip);
	else
		snprintf(buf, len, "%s mode at %#llx", mode_name(boot->mode),
			 (unsigned long long)boot->rip);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID.  At load, yakvm builds the table of what it can offer a guest: the
 * host's values filtered to features that work under yakvm (no SVM, no PMU,
 * no speculation-control MSRs, no MONITOR/MWAIT, only the XSAVE components
 * whose state is switched), the local APIC and x2APIC it emulates, the
 * hypervisor bit, and KVM's paravirtual leaves for kvmclock.
 * KVM_GET_SUPPORTED_CPUID returns it; a VMM chooses the guest's table with
 * KVM_SET_CPUID2, and a vCPU without one sees the supported table itself.
 */
#define pr_fmt(fmt) "yakvm: " fmt

#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/fpu/xcr.h>
#include <asm/kvm_para.h>
#include <asm/processor.h>

#include "yakvm.h"

#define MAX_CPUID_ENTRIES	256	/* as KVM's KVM_MAX_CPUID_ENTRIES */
#define MAX_STD_LEAF		0xd
#define MAX_EXT_LEAF		0x8000001f
#define DEFAULT_SIGNATURE	0x600	/* RDX at reset without a CPUID table */

/* CPUID bits by leaf and register (AMD APM vol. 3, appendix E). */
#define L1_EDX_KEEP	(BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | \
			 BIT(6) | BIT(8) | BIT(9) | BIT(11) | BIT(12) | BIT(13) | \
			 BIT(15) | BIT(16) | BIT(17) | BIT(19) | BIT(23) | \
			 BIT(24) | BIT(25) | BIT(26))
#define L1_ECX_KEEP	(BIT(0) | BIT(1) | BIT(9) | BIT(12) | BIT(13) | \
			 BIT(17) | BIT(19) | BIT(20) | BIT(22) | BIT(23) | \
			 BIT(25) | BIT(29) | BIT(30))
#define L1_ECX_XSAVE	BIT(26)
#define L1_ECX_OSXSAVE	BIT(27)
#define L1_ECX_AVX	BIT(28)
#define L1_ECX_HYPERVISOR BIT(31)
/*
 * The local APIC (1.EDX[9]) and x2APIC (1.ECX[21]) are yakvm's to emulate
 * (irq/lapic.c), whatever the host has, as KVM reports them; a VM without
 * the in-kernel irqchip gets them from its VMM's APIC, or not at all.
 */
#define L1_EDX_APIC	BIT(9)
#define L1_ECX_X2APIC	BIT(21)
#define L7_EBX_KEEP	(BIT(0) | BIT(3) | BIT(7) | BIT(8) | BIT(9) | BIT(10) | \
			 BIT(18) | BIT(19) | BIT(20) | BIT(23) | BIT(24) | \
			 BIT(29))
#define L7_EBX_AVX2	BIT(5)
/* IA32_TSC_ADJUST is emulated (cpu/msr.c), whatever the host has, as in KVM. */
#define L7_EBX_TSC_ADJUST	BIT(1)
#define L7_ECX_KEEP	(BIT(2) | BIT(16))	/* UMIP, LA57 (5-level guests: NPT follows the host) */
#define XD1_EAX_KEEP	(BIT(0) | BIT(1) | BIT(2))	/* XSAVEOPT, XSAVEC, XGETBV1 */
#define E1_ECX_KEEP	(BIT(0) | BIT(5) | BIT(6) | BIT(7) | BIT(8))
#define E1_EDX_KEEP	(BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | \
			 BIT(6) | BIT(8) | BIT(11) | BIT(12) | BIT(13) | \
			 BIT(15) | BIT(16) | BIT(17) | BIT(20) | BIT(22) | \
			 BIT(23) | BIT(24) | BIT(26) | BIT(27) | BIT(29))
#define E7_EDX_KEEP	BIT(8)		/* invariant TSC */

static struct kvm_cpuid_entry2 *supported;
static int nr_supported;
static u64 supported_xcr0;
static u32 xsave_offset[64], xsave_size[64];

u64 yakvm_supported_xcr0(void)
{
	return supported_xcr0;
}

static struct kvm_cpuid_entry2 *add_leaf(u32 function, u32 index, u32 flags)
{
	struct kvm_cpuid_entry2 *e = &supported[nr_supported++];

	e->function = function;
	e->index = index;
	e->flags = flags;
	cpuid_count(function, index, &e->eax, &e->ebx, &e->ecx, &e->edx);
	return e;
}

/* XSAVE size for the components in @xcr0 (CPUID 0xD.0 EBX semantics). */
static u32 xsave_size_for(u64 xcr0)
{
	u32 size = 512 + 64;	/* legacy area + header */
	int i;

	for (i = 2; i < 64; i++)
		if ((xcr0 & BIT_ULL(i)) && xsave_offset[i] + xsave_size[i] > size)
			size = xsave_offset[i] + xsave_size[i];
	return size;
}

static void init_xsave(void)
{
	u32 eax, ebx, ecx, edx;
	int i;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return;
	/* Only x87, SSE and AVX state is switched for the guest. */
	supported_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK) &
			 (XFEATURE_MASK_FP | XFEATURE_MASK_SSE | XFEATURE_MASK_YMM);
	for (i = 2; i < 64; i++) {
		if (!(supported_xcr0 & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx);
		xsave_size[i] = eax;
		xsave_offset[i] = ebx;
	}
}

static void build_xsave_leaves(void)
{
	struct kvm_cpuid_entry2 *e;

	e = add_leaf(0xd, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
	e->eax = (u32)supported_xcr0;
	e->edx = supported_xcr0 >> 32;
	e->ebx = xsave_size_for(XFEATURE_MASK_FP);
	e->ecx = xsave_size_for(supported_xcr0);
	e = add_leaf(0xd, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
	e->eax &= XD1_EAX_KEEP;
	e->ebx = 0;
	e->ecx = 0;
	e->edx = 0;
	if (supported_xcr0 & XFEATURE_MASK_YMM) {
		e = add_leaf(0xd, 2, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
		e->ecx = 0;
		e->edx = 0;
	}
}

static void build_standard_leaves(void)
{
	bool ymm = supported_xcr0 & XFEATURE_MASK_YMM;
	struct kvm_cpuid_entry2 *e;
	u32 max;

	e = add_leaf(0, 0, 0);
	max = min_t(u32, e->eax, MAX_STD_LEAF);
	e->eax = max;

	e = add_leaf(1, 0, 0);
	e->ebx &= 0x0000ff00;		/* CLFLUSH size; APIC ID set per vCPU */
	e->edx &= L1_EDX_KEEP;
	e->edx |= L1_EDX_APIC;
	e->ecx &= L1_ECX_KEEP | (supported_xcr0 ? L1_ECX_XSAVE : 0) |
		  (ymm ? L1_ECX_AVX : 0);
	e->ecx |= L1_ECX_HYPERVISOR | L1_ECX_X2APIC;

	if (max >= 7) {
		e = add_leaf(7, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
		e->eax = 0;
		e->ebx &= L7_EBX_KEEP | (ymm ? L7_EBX_AVX2 : 0);
		e->ebx |= L7_EBX_TSC_ADJUST;
		e->ecx &= L7_ECX_KEEP;
		e->edx = 0;
	}
	if (max >= 0xd && supported_xcr0)
		build_xsave_leaves();
}

static void build_extended_leaves(void)
{
	struct kvm_cpuid_entry2 *e;
	u32 max, f;

	e = add_leaf(0x80000000, 0, 0);
	max = min_t(u32, e->eax, MAX_EXT_LEAF);
	e->eax = max;

	e = add_leaf(0x80000001, 0, 0);
	e->ebx = 0;
	e->ecx &= E1_ECX_KEEP;
	e->edx &= E1_EDX_KEEP;

	for (f = 0x80000002; f <= min_t(u32, max, 0x80000006); f++)
		add_leaf(f, 0, 0);	/* brand string, cache and TLB information */
	if (max >= 0x80000007) {
		e = add_leaf(0x80000007, 0, 0);
		e->eax = 0;
		e->ebx = 0;
		e->ecx = 0;
		e->edx &= E7_EDX_KEEP;
	}
	if (max >= 0x80000008) {
		e = add_leaf(0x80000008, 0, 0);
		e->eax &= 0xffff;	/* physical and linear address sizes */
		e->ebx = 0;
		e->ecx = 0;
		e->edx = 0;
	}
	/*
	 * As KVM: the 1 GiB TLB, performance hints, cache topology and the
	 * extended APIC ID / core leaves are the host's (a VMM adapts 0x8000001e
	 * to its topology; TOPOEXT, which tells a guest to use them, is left
	 * for the VMM to set), and no SEV (0x8000001f zero).
	 */
	if (max >= 0x80000019)
		add_leaf(0x80000019, 0, 0);
	if (max >= 0x8000001a)
		add_leaf(0x8000001a, 0, 0);
	if (max >= 0x8000001d) {
		for (f = 0; f < 8; f++) {
			e = add_leaf(0x8000001d, f, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
			if (!(e->eax & 0x1f))	/* no more cache levels */
				break;
		}
	}
	if (max >= 0x8000001e)
		add_leaf(0x8000001e, 0, 0);
	if (max >= 0x8000001f) {
		e = add_leaf(0x8000001f, 0, 0);
		e->eax = 0;
		e->ebx = 0;
		e->ecx = 0;
		e->edx = 0;
	}
}

/*
 * KVM's paravirtual leaves (Documentation/virt/kvm/x86/cpuid.rst): the
 * "KVMKVMKVM" signature and the features yakvm implements -- kvmclock
 * (cpu/kvmclock.c) in both MSR ranges, and no I/O delay needed.
 */
static void build_kvm_leaves(void)
{
	struct kvm_cpuid_entry2 *e = &supported[nr_supported++];

	e->function = KVM_CPUID_SIGNATURE;
	e->eax = KVM_CPUID_FEATURES;
	e->ebx = 0x4b4d564b;		/* "KVMK" */
	e->ecx = 0x564b4d56;		/* "VMKV" */
	e->edx = 0x4d;			/* "M" */
	e = &supported[nr_supported++];
	e->function = KVM_CPUID_FEATURES;
	/*
	 * CLOCKSOURCE_STABLE_BIT: the guest may trust PVCLOCK_TSC_STABLE_BIT
	 * (cpu/kvmclock.c's master clock); Linux ignores the flag without it.
	 */
	e->eax = BIT(KVM_FEATURE_CLOCKSOURCE) | BIT(KVM_FEATURE_NOP_IO_DELAY) |
		 BIT(KVM_FEATURE_CLOCKSOURCE2) | BIT(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);
}

int yakvm_cpuid_init(void)
{
	supported = kcalloc(48, sizeof(*supported), GFP_KERNEL);
	if (!supported)
		return -ENOMEM;
	init_xsave();
	build_standard_leaves();
	build_extended_leaves();
	build_kvm_leaves();
	return 0;
}

void yakvm_cpuid_exit(void)
{
	kfree(supported);
	supported = NULL;
}

static const struct kvm_cpuid_entry2 *
find_entry(const struct kvm_cpuid_entry2 *table, int n, u32 function, u32 index)
{
	int i;

	for (i = 0; i < n; i++) {
		const struct kvm_cpuid_entry2 *e = &table[i];

		if (e->function == function &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e->index == index))
			return e;
	}
	return NULL;
}

/* The CPUID table the guest sees: the VMM's, or without one the supported table. */
static const struct kvm_cpuid_entry2 *guest_entry(struct yakvm_vcpu *vcpu,
						  u32 function, u32 index)
{
	if (vcpu->cpuid_set)
		return find_entry(vcpu->cpuid, vcpu->cpuid_nent, function, index);
	return find_entry(supported, nr_supported, function, index);
}

bool yakvm_guest_cpuid_bit(struct yakvm_vcpu *vcpu, u32 function, u32 index,
			   enum yakvm_cpuid_reg reg, unsigned int bit)
{
	const struct kvm_cpuid_entry2 *e = guest_entry(vcpu, function, index);
	u32 regs[4];

	if (!e)
		return false;
	regs[YAKVM_CPUID_EAX] = e->eax;
	regs[YAKVM_CPUID_EBX] = e->ebx;
	regs[YAKVM_CPUID_ECX] = e->ecx;
	regs[YAKVM_CPUID_EDX] = e->edx;
	return regs[reg] & BIT(bit);
}

/* The VMM's entry for @function (index 0), or NULL: no defaults. */
static const struct kvm_cpuid_entry2 *vmm_entry(struct yakvm_vcpu *vcpu, u32 function)
{
	if (!vcpu->cpuid_set)
		return NULL;
	return find_entry(vcpu->cpuid, vcpu->cpuid_nent, function, 0);
}

/* RDX at reset: the family/model/stepping from the guest's CPUID, as KVM. */
u32 yakvm_cpuid_signature(struct yakvm_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e = vmm_entry(vcpu, 1);

	return e ? e->eax : DEFAULT_SIGNATURE;
}

/* EAX of a leaf the VMM set (index 0), or 0: no defaults for these. */
u32 yakvm_guest_cpuid_eax(struct yakvm_vcpu *vcpu, u32 function)
{
	const struct kvm_cpuid_entry2 *e = vmm_entry(vcpu, function);

	return e ? e->eax : 0;
}

/* XCR0 values the guest may set: what its CPUID offers, within what we switch. */
u64 yakvm_guest_xcr0_mask(struct yakvm_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e;

	if (!vcpu->cpuid_set)
		return supported_xcr0;
	e = find_entry(vcpu->cpuid, vcpu->cpuid_nent, 0xd, 0);
	if (!e)
		return XFEATURE_MASK_FP;
	return (e->eax | (u64)e->edx << 32) & supported_xcr0;
}

int yakvm_handle_cpuid(struct yakvm_vcpu *vcpu)
{
	u32 function = vcpu->regs[YAKVM_RAX], index = vcpu->regs[YAKVM_RCX];
	const struct kvm_cpuid_entry2 *e;
	u32 eax = 0, ebx = 0, ecx = 0, edx = 0;

	e = guest_entry(vcpu, function, index);
	if (e) {
		eax = e->eax;
		ebx = e->ebx;
		ecx = e->ecx;
		edx = e->edx;
	}
	/* Fields that follow the vCPU's state rather than a table. */
	if (e && function == 1) {
		ecx &= ~L1_ECX_OSXSAVE;
		if ((ecx & L1_ECX_XSAVE) &&
		    (vcpu->vmcb->save.cr4 & X86_CR4_OSXSAVE))
			ecx |= L1_ECX_OSXSAVE;
		if (!vcpu->cpuid_set)
			ebx |= vcpu->id << 24;	/* initial APIC ID */
		/* As KVM: the APIC bit follows IA32_APIC_BASE's enable bit. */
		edx &= ~L1_EDX_APIC;
		if (vcpu->apic_base & MSR_IA32_APICBASE_ENABLE)
			edx |= L1_EDX_APIC;
	}
	/* Without the VMM's table, the extended APIC ID is the vCPU's too. */
	if (e && function == 0x8000001e && !vcpu->cpuid_set)
		eax = vcpu->id;
	if (e && function == 0xd && index == 0)
		ebx = xsave_size_for(vcpu->xcr0);
	vcpu->regs[YAKVM_RAX] = eax;
	vcpu->regs[YAKVM_RBX] = ebx;
	vcpu->regs[YAKVM_RCX] = ecx;
	vcpu->regs[YAKVM_RDX] = edx;
	return yakvm_skip_instruction(vcpu);
}

static long copy_table_out(struct kvm_cpuid2 __user *user,
			   const struct kvm_cpuid_entry2 *table, int n)
{
	struct kvm_cpuid2 hdr;

	if (copy_from_user(&hdr, user, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nent < n) {
		if (put_user(n, &user->nent))
			return -EFAULT;
		return -E2BIG;
	}
	if (put_user(n, &user->nent) ||
	    copy_to_user(user->entries, table, n * sizeof(*table)))
		return -EFAULT;
	return 0;
}

long yakvm_get_supported_cpuid(void __user *argp)
{
	return copy_table_out(argp, supported, nr_supported);
}

long yakvm_get_cpuid2(struct yakvm_vcpu *vcpu, void __user *argp)
{
	if (!vcpu->cpuid_set)
		return copy_table_out(argp, NULL, 0);
	return copy_table_out(argp, vcpu->cpuid, vcpu->cpuid_nent);
}

long yakvm_set_cpuid2(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_cpuid2 __user *user = argp;
	struct kvm_cpuid_entry2 *table;
	struct kvm_cpuid2 hdr;
	size_t size;

	if (copy_from_user(&hdr, user, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nent > MAX_CPUID_ENTRIES)
		return -E2BIG;
	size = hdr.nent * sizeof(*table);
	table = hdr.nent ? memdup_user(user->entries, size) : NULL;
	if (IS_ERR(table))
		return PTR_ERR(table);
	/* As KVM since 5.16: once the vCPU ran, only the same table is accepted. */
	if (vcpu->ran) {
		bool same = vcpu->cpuid_nent == hdr.nent &&
			    (!hdr.nent || !memcmp(vcpu->cpuid, table, size));

		kfree(table);
		return same ? 0 : -EINVAL;
	}
	kfree(vcpu->cpuid);
	vcpu->cpuid = table;
	vcpu->cpuid_nent = hdr.nent;
	vcpu->cpuid_set = true;
	return 0;
}

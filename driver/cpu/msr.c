// SPDX-License-Identifier: GPL-2.0
/*
 * Model-specific registers.  The MSR permission map (svm.c) lets the guest
 * use the registers that VMLOAD/VMSAVE switch; every other RDMSR/WRMSR
 * exits here.  One table says, per MSR or range, how it is read and
 * written; the same entries serve KVM_GET_MSRS/KVM_SET_MSRS ("host"
 * accesses, which may restore state a guest could not write) and
 * KVM_GET_MSR_INDEX_LIST (the entries marked SAVE: what a VMM must carry
 * across a migration).  An MSR that is not in the table raises #GP, as on
 * a CPU without it.
 *
 * Never passed through: SPEC_CTRL, TSC_AUX, VM_CR, VM_HSAVE_PA, SYSCFG and
 * any other MSR that would reach the host's state.
 */
#define pr_fmt(fmt) "yakvm: " fmt

#include <linux/kvm_para.h>
#include <linux/nospec.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/apicdef.h>
#include <asm/hyperv-tlfs.h>
#include <asm/mce.h>
#include <asm/msr.h>

#include "yakvm.h"

#define MAX_IO_MSRS		256	/* per KVM_GET/SET_MSRS call, as KVM */
#define MSR_MTRR_CAP_VALUE	0x508	/* WC, fixed ranges, 8 variable ranges */
#define UCODE_REV_DEFAULT	0x100000000ULL
#define VM_CR_DISABLED		(SVM_VM_CR_SVM_DIS_MASK | SVM_VM_CR_SVM_LOCK_MASK)
#define HWCR_ALLOWED		(BIT_ULL(3) | BIT_ULL(6) | BIT_ULL(8) | \
				 BIT_ULL(18) | BIT_ULL(24))
#define DE_CFG_LFENCE_SERIALIZE	BIT_ULL(1)
#define MTRR_VAR_FIRST		0x200
#define MTRR_VAR_LAST		0x20f
#define MCE_BANK_MSRS_FIRST	MSR_IA32_MC0_CTL
#define KVM_PV_MSRS_FIRST	MSR_KVM_WALL_CLOCK_NEW
#define KVM_PV_MSRS_LAST	MSR_KVM_ASYNC_PF_ACK

static const u16 mtrr_fixed_msrs[] = {
	MSR_MTRRfix64K_00000, MSR_MTRRfix16K_80000, MSR_MTRRfix16K_A0000,
	MSR_MTRRfix4K_C0000, MSR_MTRRfix4K_C8000, MSR_MTRRfix4K_D0000,
	MSR_MTRRfix4K_D8000, MSR_MTRRfix4K_E0000, MSR_MTRRfix4K_E8000,
	MSR_MTRRfix4K_F0000, MSR_MTRRfix4K_F8000,
};

int yakvm_msr_init(void)
{
	return 0;
}

/* ------------------------------------------------------------------ */
/* The TSC                                                            */

u64 yakvm_guest_tsc(struct yakvm_vcpu *vcpu)
{
	return rdtsc() + vcpu->vmcb->control.tsc_offset;
}

static void set_tsc_offset(struct yakvm_vcpu *vcpu, u64 offset)
{
	vcpu->tsc_offset = offset;
	vcpu->vmcb->control.tsc_offset = offset;
	yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_INTERCEPTS);
	/*
	 * kvmclock's TSC timestamp is the guest's TSC; and whether all vCPUs
	 * may share the master clock depends on every vCPU's offset.
	 */
	yakvm_kvmclock_request_all(vcpu->vm);
}

/*
 * A write of IA32_TSC.  As KVM's kvm_synchronize_tsc(): a VMM writes each
 * vCPU's TSC at slightly different moments (QEMU: 0 at reset, the saved
 * value on migration), and SMP guests want all of them to agree.  A host
 * write that is within a second of where the last one would be by now --
 * or a host write of 0, a vCPU being reset -- takes the same offset as the
 * last one, so the vCPUs' TSCs stay in step.
 */
static void write_tsc(struct yakvm_vcpu *vcpu, u64 data, bool host)
{
	struct yakvm_vm *vm = vcpu->vm;
	u64 now_ns = ktime_get_ns(), offset = data - rdtsc();
	u64 hz = (u64)tsc_khz * 1000;
	bool sync = false;

	mutex_lock(&vm->tsc_lock);
	if (host && vm->tsc_written) {
		u64 expected = vm->last_tsc_write +
			       mul_u64_u64_div_u64(now_ns - vm->last_tsc_ns,
						   tsc_khz, NSEC_PER_MSEC);

		sync = data == 0 || (data < expected + hz && data + hz > expected);
	}
	if (sync)
		offset = vm->last_tsc_offset;
	vm->tsc_written = true;
	vm->last_tsc_ns = now_ns;
	vm->last_tsc_write = data;
	vm->last_tsc_offset = offset;
	mutex_unlock(&vm->tsc_lock);
	set_tsc_offset(vcpu, offset);
}

/* ------------------------------------------------------------------ */
/* Accessors: 0 done, 1 for #GP (a failed KVM_GET/SET_MSRS entry)     */

struct msr_access {
	struct yakvm_vcpu *vcpu;
	u32 index;
	bool host;
};

typedef int (*msr_get_t)(struct msr_access *a, u64 *data);
typedef int (*msr_set_t)(struct msr_access *a, u64 data);

static bool canonical(u64 addr)
{
	return (s64)(addr << 16) >> 16 == (s64)addr;
}

/* Memory types valid in PAT and MTRRs: UC, WC, WT, WP, WB (+ UC- in PAT). */
static bool valid_mem_type(u8 t, bool pat)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || (pat && t == 7);
}

static bool valid_types(u64 val, bool pat)
{
	int i;

	for (i = 0; i < 8; i++)
		if (!valid_mem_type(val >> (i * 8), pat))
			return false;
	return true;
}

/* The VMCB save-area field an MSR lives in (VMLOAD/VMSAVE state, APM 15.5.2). */
static u64 *vmcb_field(struct msr_access *a)
{
	struct vmcb_save_area *s = &a->vcpu->vmcb->save;

	switch (a->index) {
	case MSR_STAR:			return &s->star;
	case MSR_LSTAR:			return &s->lstar;
	case MSR_CSTAR:			return &s->cstar;
	case MSR_SYSCALL_MASK:		return &s->sfmask;
	case MSR_KERNEL_GS_BASE:	return &s->kernel_gs_base;
	case MSR_FS_BASE:		return &s->fs.base;
	case MSR_GS_BASE:		return &s->gs.base;
	case MSR_IA32_SYSENTER_CS:	return &s->sysenter_cs;
	case MSR_IA32_SYSENTER_ESP:	return &s->sysenter_esp;
	case MSR_IA32_SYSENTER_EIP:	return &s->sysenter_eip;
	default:			return &s->g_pat;
	}
}

static int get_vmcb(struct msr_access *a, u64 *data)
{
	*data = *vmcb_field(a);
	return 0;
}

static int set_vmcb(struct msr_access *a, u64 data)
{
	*vmcb_field(a) = data;
	return 0;
}

/* Addresses the CPU uses as such must be canonical (#GP otherwise). */
static int set_vmcb_address(struct msr_access *a, u64 data)
{
	return canonical(data) ? set_vmcb(a, data) : 1;
}

static int set_pat(struct msr_access *a, u64 data)
{
	if (!valid_types(data, true))
		return 1;
	a->vcpu->vmcb->save.g_pat = data;
	yakvm_vmcb_dirty(a->vcpu->vmcb, YAKVM_DIRTY_NP);
	return 0;
}

static int get_efer(struct msr_access *a, u64 *data)
{
	*data = a->vcpu->vmcb->save.efer & ~EFER_SVME;
	return 0;
}

static int set_efer(struct msr_access *a, u64 data)
{
	struct vmcb_save_area *s = &a->vcpu->vmcb->save;
	u64 valid = EFER_SCE | EFER_LME | EFER_LMA | EFER_NX;

	/* SVME included: the guest has no SVM (APM 15.4), so it is reserved. */
	if (data & ~valid)
		return 1;
	if (!a->host) {
		/* LME cannot change while paging is on; LMA is the CPU's. */
		if (((data ^ s->efer) & EFER_LME) && (s->cr0 & X86_CR0_PG))
			return 1;
		data = (data & ~EFER_LMA) | (s->efer & EFER_LMA);
	}
	s->efer = data | EFER_SVME;
	yakvm_vmcb_dirty(a->vcpu->vmcb, YAKVM_DIRTY_CR);
	return 0;
}

static int get_tsc(struct msr_access *a, u64 *data)
{
	*data = yakvm_guest_tsc(a->vcpu);
	return 0;
}

/*
 * A guest's write to the TSC moves IA32_TSC_ADJUST by the same amount (SDM
 * 17.17.3), as in KVM whatever the guest's CPUID says; a host write sets
 * the TSC alone (KVM_SET_MSRS restores TSC_ADJUST by itself).
 */
static int set_tsc(struct msr_access *a, u64 data)
{
	struct yakvm_vcpu *vcpu = a->vcpu;
	u64 before = vcpu->tsc_offset;

	write_tsc(vcpu, data, a->host);
	if (!a->host)
		vcpu->tsc_adjust += vcpu->tsc_offset - before;
	return 0;
}

/*
 * IA32_TSC_ADJUST (SDM 17.17.3): a guest write moves the TSC by the change;
 * a host write only restores the value.  The guest needs it in its CPUID.
 */
static int get_tsc_adjust(struct msr_access *a, u64 *data)
{
	if (!a->host && !yakvm_guest_cpuid_bit(a->vcpu, 7, 0, YAKVM_CPUID_EBX, 1))
		return 1;
	*data = a->vcpu->tsc_adjust;
	return 0;
}

static int set_tsc_adjust(struct msr_access *a, u64 data)
{
	struct yakvm_vcpu *vcpu = a->vcpu;

	if (!a->host) {
		if (!yakvm_guest_cpuid_bit(vcpu, 7, 0, YAKVM_CPUID_EBX, 1))
			return 1;
		set_tsc_offset(vcpu, vcpu->tsc_offset + (data - vcpu->tsc_adjust));
	}
	vcpu->tsc_adjust = data;
	return 0;
}

static int get_tsc_aux(struct msr_access *a, u64 *data)
{
	*data = a->vcpu->tsc_aux;
	return 0;
}

static int set_tsc_aux(struct msr_access *a, u64 data)
{
	if (data >> 32)
		return 1;
	a->vcpu->tsc_aux = data;
	return 0;
}

static int get_apic_base(struct msr_access *a, u64 *data)
{
	*data = a->vcpu->apic_base;
	return 0;
}

static int set_apic_base(struct msr_access *a, u64 data)
{
	return yakvm_lapic_set_base(a->vcpu, data, a->host);
}

/* x2APIC MSRs and TSC_DEADLINE (irq/lapic.c); without an in-kernel APIC, #GP. */
static int get_apic_msr(struct msr_access *a, u64 *data)
{
	/* As KVM: the VMM may save TSC_DEADLINE of a VM with no APIC (0). */
	if (!a->vcpu->apic && a->index == MSR_IA32_TSC_DEADLINE) {
		*data = 0;
		return 0;
	}
	return yakvm_lapic_get_msr(a->vcpu, a->index, data) ? 1 : 0;
}

static int set_apic_msr(struct msr_access *a, u64 data)
{
	if (!a->vcpu->apic && a->index == MSR_IA32_TSC_DEADLINE)
		return 0;
	return yakvm_lapic_set_msr(a->vcpu, a->index, data, a->host) ? 1 : 0;
}

static int get_misc_enable(struct msr_access *a, u64 *data)
{
	*data = a->vcpu->misc_enable;
	return 0;
}

static int set_misc_enable(struct msr_access *a, u64 data)
{
	a->vcpu->misc_enable = data;
	return 0;
}

static int mtrr_fixed_index(u32 index)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(mtrr_fixed_msrs); i++)
		if (mtrr_fixed_msrs[i] == index)
			return i;
	return -1;
}

static u64 *mtrr(struct msr_access *a)
{
	struct yakvm_vcpu *vcpu = a->vcpu;
	int fixed = mtrr_fixed_index(a->index);

	if (fixed >= 0)
		return &vcpu->mtrr_fixed[fixed];
	if (a->index == MSR_MTRRdefType)
		return &vcpu->mtrr_def_type;
	return &vcpu->mtrr_var[array_index_nospec(a->index - MTRR_VAR_FIRST,
						  ARRAY_SIZE(vcpu->mtrr_var))];
}

static int get_mtrr(struct msr_access *a, u64 *data)
{
	*data = *mtrr(a);
	return 0;
}

static int set_mtrr(struct msr_access *a, u64 data)
{
	if (mtrr_fixed_index(a->index) >= 0 && !valid_types(data, false))
		return 1;
	/* MTRRdefType: type in bits 7:0, FE bit 10, E bit 11. */
	if (a->index == MSR_MTRRdefType &&
	    ((data & ~0xcffULL) || !valid_mem_type(data & 0xff, false)))
		return 1;
	*mtrr(a) = data;
	return 0;
}

static int get_const(struct msr_access *a, u64 *data)
{
	switch (a->index) {
	case MSR_MTRRcap:
		*data = MSR_MTRR_CAP_VALUE;
		break;
	case MSR_IA32_UCODE_REV:
		*data = UCODE_REV_DEFAULT;
		break;
	case MSR_VM_CR:
		/* SVM is not offered: the guest sees it disabled and locked. */
		*data = VM_CR_DISABLED;
		break;
	default:
		/*
		 * SYSCFG; NB_CFG and the K8 interrupt-pending message register,
		 * which Linux uses with plain RDMSR/WRMSR (extended PCI config
		 * space through CF8 from family 10h on; C1E with erratum 400):
		 * there is no northbridge or C1E here, and as in KVM they read 0.
		 * The legacy performance counters (K7 PERF_CTL/CTR 0-3, P6
		 * EVNTSEL/PERFCTR 0-1) too: yakvm offers no PMU (no
		 * PERFCTR_CORE, CPUID 0xa empty), and KVM without a vPMU reads
		 * them as 0 and ignores writes; guests probe them anyway
		 * (kvm-unit-tests' setup clears the K7 counters in every test).
		 */
		*data = 0;
		break;
	}
	return 0;
}

/*
 * Writing 0 to UCODE_REV before CPUID is an Intel idiom; NB_CFG and the
 * counters of a PMU that is not there ignore writes (get_const()).
 */
static int set_ignored(struct msr_access *a, u64 data)
{
	return 0;
}

static int get_hwcr(struct msr_access *a, u64 *data)
{
	*data = a->vcpu->hwcr;
	return 0;
}

static int set_hwcr(struct msr_access *a, u64 data)
{
	if (data & ~HWCR_ALLOWED)
		return 1;
	a->vcpu->hwcr = data;
	return 0;
}

static int get_de_cfg(struct msr_access *a, u64 *data)
{
	*data = a->vcpu->de_cfg;
	return 0;
}

static int set_de_cfg(struct msr_access *a, u64 data)
{
	if (data & ~DE_CFG_LFENCE_SERIALIZE)
		return 1;
	a->vcpu->de_cfg = data;
	return 0;
}

/*
 * Machine check (SDM 15.3): MCG_CAP is read-only, the VMM's (KVM_X86_SETUP_MCE; KVM's
 * default of 32 banks without), MCG_CTL only with MCG_CTL_P, and each bank
 * CTL/STATUS/ADDR/MISC.  Nothing raises a machine check but KVM_X86_SET_MCE;
 * the guest may only clear a bank's status (a nonzero guest write: #GP)
 * unless it set HWCR.McStatusWrEn (AMD), as in KVM.
 */
static int get_mce(struct msr_access *a, u64 *data)
{
	struct yakvm_vcpu *vcpu = a->vcpu;
	u32 banks = vcpu->mcg_cap & MCG_BANKCNT_MASK, n;

	switch (a->index) {
	case MSR_IA32_MCG_CAP:
		*data = vcpu->mcg_cap;
		return 0;
	case MSR_IA32_MCG_STATUS:
		*data = vcpu->mcg_status;
		return 0;
	case MSR_IA32_MCG_CTL:
		if (!(vcpu->mcg_cap & MCG_CTL_P) && !a->host)
			return 1;
		*data = vcpu->mcg_ctl;
		return 0;
	}
	n = a->index - MCE_BANK_MSRS_FIRST;
	if (n >= banks * 4)
		return 1;
	*data = vcpu->mce_banks[array_index_nospec(n, ARRAY_SIZE(vcpu->mce_banks))];
	return 0;
}

static int set_mce(struct msr_access *a, u64 data)
{
	struct yakvm_vcpu *vcpu = a->vcpu;
	u32 banks = vcpu->mcg_cap & MCG_BANKCNT_MASK, n;

	switch (a->index) {
	case MSR_IA32_MCG_STATUS:
		vcpu->mcg_status = data;
		return 0;
	case MSR_IA32_MCG_CTL:
		if (!(vcpu->mcg_cap & MCG_CTL_P) && (!a->host || data))
			return 1;
		if (data && data != ~0ULL)
			return 1;
		vcpu->mcg_ctl = data;
		return 0;
	}
	n = a->index - MCE_BANK_MSRS_FIRST;
	if (n >= banks * 4)
		return 1;
	if ((n & 3) == 0 && data && (data | BIT_ULL(10) | 1) != ~0ULL)
		return 1;		/* MCi_CTL: all ones or 0 (AMD bits 10, 0 aside) */
	/* MCi_STATUS: the guest may only clear it, unless HWCR.McStatusWrEn. */
	if ((n & 3) == 1 && data && !a->host && !(vcpu->hwcr & BIT_ULL(18)))
		return 1;
	vcpu->mce_banks[array_index_nospec(n, ARRAY_SIZE(vcpu->mce_banks))] = data;
	return 0;
}

/*
 * KVM's paravirtual MSRs (Documentation/virt/kvm/x86/msr.rst).  kvmclock's
 * four (system time and wall clock, old and new numbers) work for guests
 * and VMMs alike, as in KVM, which does not make them depend on the guest's
 * CPUID (cpu/kvmclock.c).  Of the others -- async PF, steal time, PV EOI,
 * poll control -- yakvm offers none, so a guest gets #GP as a CPU without
 * them; a VMM may store and read back values that leave a feature off, and
 * asking to turn one on (bit 0: enable) fails the KVM_SET_MSRS, so a
 * migration from KVM with one in use stops instead of silently losing it.
 */
static int get_kvmclock(struct msr_access *a, u64 *data)
{
	if (a->index == MSR_KVM_SYSTEM_TIME || a->index == MSR_KVM_SYSTEM_TIME_NEW)
		*data = a->vcpu->kvmclock_msr;
	else
		*data = READ_ONCE(a->vcpu->vm->wall_clock_msr);
	return 0;
}

static int set_kvmclock(struct msr_access *a, u64 data)
{
	if (a->index == MSR_KVM_SYSTEM_TIME || a->index == MSR_KVM_SYSTEM_TIME_NEW)
		return yakvm_kvmclock_set_system_time(a->vcpu, data);
	/* As KVM: the wall clock is written for a VMM's write too. */
	WRITE_ONCE(a->vcpu->vm->wall_clock_msr, data);
	return yakvm_kvmclock_set_wall_clock(a->vcpu, data);
}

static u64 *pv_msr(struct msr_access *a)
{
	struct yakvm_vcpu *vcpu = a->vcpu;

	return &vcpu->pv_msrs[array_index_nospec(a->index - KVM_PV_MSRS_FIRST, 8)];
}

static int get_pv(struct msr_access *a, u64 *data)
{
	if (!a->host)
		return 1;
	*data = *pv_msr(a);
	return 0;
}

static int set_pv(struct msr_access *a, u64 data)
{
	if (!a->host || (data & 1 && a->index != MSR_KVM_ASYNC_PF_ACK))
		return 1;
	*pv_msr(a) = data;
	return 0;
}

/* Hyper-V's clock and the MSRs that come with it (cpu/hyperv.c). */
static int get_hv(struct msr_access *a, u64 *data)
{
	return yakvm_hv_get_msr(a->vcpu, a->index, data, a->host);
}

static int set_hv(struct msr_access *a, u64 data)
{
	return yakvm_hv_set_msr(a->vcpu, a->index, data, a->host);
}

/* ------------------------------------------------------------------ */
/* The table                                                          */

#define SAVE	BIT(0)		/* in KVM_GET_MSR_INDEX_LIST */

static const struct yakvm_msr {
	u32 first, last;
	msr_get_t get;
	msr_set_t set;
	u32 flags;
} msr_table[] = {
	{ MSR_EFER, MSR_EFER, get_efer, set_efer, SAVE },
	{ MSR_STAR, MSR_STAR, get_vmcb, set_vmcb, SAVE },
	{ MSR_LSTAR, MSR_CSTAR, get_vmcb, set_vmcb_address, SAVE },
	{ MSR_SYSCALL_MASK, MSR_SYSCALL_MASK, get_vmcb, set_vmcb, SAVE },
	{ MSR_FS_BASE, MSR_KERNEL_GS_BASE, get_vmcb, set_vmcb_address, SAVE },
	{ MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_EIP, get_vmcb, set_vmcb, SAVE },
	{ MSR_IA32_CR_PAT, MSR_IA32_CR_PAT, get_vmcb, set_pat, SAVE },
	{ MSR_IA32_TSC, MSR_IA32_TSC, get_tsc, set_tsc, SAVE },
	{ MSR_IA32_TSC_ADJUST, MSR_IA32_TSC_ADJUST, get_tsc_adjust, set_tsc_adjust, SAVE },
	{ MSR_TSC_AUX, MSR_TSC_AUX, get_tsc_aux, set_tsc_aux, SAVE },
	{ MSR_IA32_APICBASE, MSR_IA32_APICBASE, get_apic_base, set_apic_base, SAVE },
	{ MSR_IA32_TSC_DEADLINE, MSR_IA32_TSC_DEADLINE, get_apic_msr, set_apic_msr, SAVE },
	{ APIC_BASE_MSR, APIC_BASE_MSR + 0xff, get_apic_msr, set_apic_msr, 0 },
	{ MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE, get_misc_enable, set_misc_enable, SAVE },
	{ MSR_MTRRcap, MSR_MTRRcap, get_const, NULL, SAVE },
	{ MSR_MTRRdefType, MSR_MTRRdefType, get_mtrr, set_mtrr, SAVE },
	{ MSR_MTRRfix64K_00000, MSR_MTRRfix64K_00000, get_mtrr, set_mtrr, SAVE },
	{ MSR_MTRRfix16K_80000, MSR_MTRRfix16K_A0000, get_mtrr, set_mtrr, SAVE },
	{ MSR_MTRRfix4K_C0000, MSR_MTRRfix4K_F8000, get_mtrr, set_mtrr, SAVE },
	{ MTRR_VAR_FIRST, MTRR_VAR_LAST, get_mtrr, set_mtrr, SAVE },
	{ MSR_IA32_MCG_CAP, MSR_IA32_MCG_CAP, get_mce, NULL, 0 },
	{ MSR_IA32_MCG_STATUS, MSR_IA32_MCG_CTL, get_mce, set_mce, SAVE },
	{ MCE_BANK_MSRS_FIRST, MCE_BANK_MSRS_FIRST + 4 * YAKVM_MAX_MCE_BANKS - 1,
	  get_mce, set_mce, 0 },
	{ MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME, get_kvmclock, set_kvmclock, SAVE },
	{ MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_SYSTEM_TIME_NEW, get_kvmclock, set_kvmclock, SAVE },
	{ MSR_KVM_SYSTEM_TIME_NEW + 1, KVM_PV_MSRS_LAST, get_pv, set_pv, 0 },
	{ HV_X64_MSR_GUEST_OS_ID, HV_X64_MSR_VP_INDEX, get_hv, set_hv, SAVE },
	{ HV_X64_MSR_TIME_REF_COUNT, HV_X64_MSR_REFERENCE_TSC, get_hv, set_hv, SAVE },
	/*
	 * SynIC and synthetic timers (irq/synic.c).  Listed as KVM lists
	 * them: SCONTROL and STIMER0_CONFIG only, which a VMM can write back
	 * on a vCPU without the SynIC, and which tell it the rest exist.
	 */
	{ HV_X64_MSR_SCONTROL, HV_X64_MSR_SCONTROL, get_hv, set_hv, SAVE },
	{ HV_X64_MSR_SVERSION, HV_X64_MSR_EOM, get_hv, set_hv, 0 },
	{ HV_X64_MSR_SINT0, HV_X64_MSR_SINT15, get_hv, set_hv, 0 },
	{ HV_X64_MSR_STIMER0_CONFIG, HV_X64_MSR_STIMER0_CONFIG, get_hv, set_hv, SAVE },
	{ HV_X64_MSR_STIMER0_COUNT, HV_X64_MSR_STIMER3_COUNT, get_hv, set_hv, 0 },
	{ MSR_K7_HWCR, MSR_K7_HWCR, get_hwcr, set_hwcr, SAVE },
	{ MSR_AMD64_DE_CFG, MSR_AMD64_DE_CFG, get_de_cfg, set_de_cfg, SAVE },
	{ MSR_IA32_UCODE_REV, MSR_IA32_UCODE_REV, get_const, set_ignored, SAVE },
	{ MSR_VM_CR, MSR_VM_CR, get_const, NULL, SAVE },
	{ MSR_AMD64_SYSCFG, MSR_AMD64_SYSCFG, get_const, NULL, SAVE },
	{ MSR_AMD64_NB_CFG, MSR_AMD64_NB_CFG, get_const, set_ignored, SAVE },
	{ MSR_K8_INT_PENDING_MSG, MSR_K8_INT_PENDING_MSG, get_const, set_ignored, SAVE },
	{ MSR_K7_EVNTSEL0, MSR_K7_PERFCTR3, get_const, set_ignored, 0 },
	{ MSR_P6_PERFCTR0, MSR_P6_PERFCTR1, get_const, set_ignored, 0 },
	{ MSR_P6_EVNTSEL0, MSR_P6_EVNTSEL1, get_const, set_ignored, 0 },
};

static const struct yakvm_msr *find_msr(u32 index)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(msr_table); i++)
		if (index >= msr_table[i].first && index <= msr_table[i].last)
			return &msr_table[i];
	return NULL;
}

/* Returns 0, or 1 when the access must fail (#GP for the guest). */
int yakvm_get_msr(struct yakvm_vcpu *vcpu, u32 index, u64 *data, bool host)
{
	const struct yakvm_msr *m = find_msr(index);
	struct msr_access a = { vcpu, index, host };

	return m ? m->get(&a, data) : 1;
}

int yakvm_set_msr(struct yakvm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	const struct yakvm_msr *m = find_msr(index);
	struct msr_access a = { vcpu, index, host };
	u64 now;

	if (!m)
		return 1;
	if (m->set)
		return m->set(&a, data);
	/*
	 * A read-only MSR refuses a guest's write (#GP, as a CPU); a VMM
	 * restoring what it saved may write the value it reads.
	 */
	return host && !m->get(&a, &now) && now == data ? 0 : 1;
}

int yakvm_handle_msr(struct yakvm_vcpu *vcpu)
{
	u32 index = vcpu->regs[YAKVM_RCX];
	u64 data;

	if (vcpu->vmcb->control.exit_info_1) {
		data = (u32)vcpu->regs[YAKVM_RAX] |
		       (u64)(u32)vcpu->regs[YAKVM_RDX] << 32;
		if (yakvm_set_msr(vcpu, index, data, false))
			goto gp;
	} else {
		if (yakvm_get_msr(vcpu, index, &data, false))
			goto gp;
		vcpu->regs[YAKVM_RAX] = (u32)data;
		vcpu->regs[YAKVM_RDX] = data >> 32;
	}
	return yakvm_skip_instruction(vcpu);
gp:
	yakvm_inject_gp(vcpu);
	return 1;
}

/* KVM_GET_MSR_INDEX_LIST (system fd): every index of the SAVE entries. */
long yakvm_get_msr_index_list(void __user *argp)
{
	struct kvm_msr_list __user *user = argp;
	struct kvm_msr_list list;
	u32 n = 0, i, index;

	if (copy_from_user(&list, user, sizeof(list)))
		return -EFAULT;
	for (i = 0; i < ARRAY_SIZE(msr_table); i++) {
		if (!(msr_table[i].flags & SAVE))
			continue;
		for (index = msr_table[i].first; index <= msr_table[i].last; index++) {
			if (n < list.nmsrs && put_user(index, &user->indices[n]))
				return -EFAULT;
			n++;
		}
	}
	if (put_user(n, &user->nmsrs))
		return -EFAULT;
	return list.nmsrs < n ? -E2BIG : 0;
}

/* KVM_GET_MSRS / KVM_SET_MSRS: returns how many entries were processed. */
long yakvm_vcpu_msrs_ioctl(struct yakvm_vcpu *vcpu, void __user *argp,
			   bool set)
{
	struct kvm_msrs __user *user = argp;
	struct kvm_msr_entry *entries;
	struct kvm_msrs msrs;
	size_t size;
	long r;
	u32 i;

	if (copy_from_user(&msrs, user, sizeof(msrs)))
		return -EFAULT;
	if (msrs.nmsrs >= MAX_IO_MSRS)
		return -E2BIG;
	size = sizeof(*entries) * msrs.nmsrs;
	entries = memdup_user(user->entries, size);
	if (IS_ERR(entries))
		return PTR_ERR(entries);
	for (i = 0; i < msrs.nmsrs; i++) {
		if (set) {
			if (yakvm_set_msr(vcpu, entries[i].index,
					  entries[i].data, true))
				break;
		} else if (yakvm_get_msr(vcpu, entries[i].index,
					 &entries[i].data, true)) {
			break;
		}
	}
	r = i;
	if (!set && copy_to_user(user->entries, entries, size))
		r = -EFAULT;
	kfree(entries);
	return r;
}

/* ------------------------------------------------------------------ */
/* Machine-check ioctls                                               */

/* KVM_X86_GET_MCE_CAP_SUPPORTED: the MCG_CAP bits a VMM may ask for. */
long yakvm_get_mce_cap_supported(void __user *argp)
{
	u64 cap = YAKVM_MCG_CAP_SUPPORTED;

	return copy_to_user(argp, &cap, sizeof(cap)) ? -EFAULT : 0;
}

/* KVM_X86_SETUP_MCE: the vCPU's MCG_CAP; every bank enabled (as KVM). */
long yakvm_setup_mce(struct yakvm_vcpu *vcpu, void __user *argp)
{
	u32 banks, i;
	u64 cap;

	if (copy_from_user(&cap, argp, sizeof(cap)))
		return -EFAULT;
	banks = cap & MCG_BANKCNT_MASK;
	if (!banks || banks > YAKVM_MAX_MCE_BANKS ||
	    cap & ~(YAKVM_MCG_CAP_SUPPORTED | MCG_BANKCNT_MASK | 0xff0000))
		return -EINVAL;
	vcpu->mcg_cap = cap;
	vcpu->mcg_ctl = (cap & MCG_CTL_P) ? ~0ULL : 0;
	for (i = 0; i < banks; i++)
		vcpu->mce_banks[i * 4] = ~0ULL;
	return 0;
}

/*
 * KVM_X86_SET_MCE: a machine check the VMM injects (QEMU's "mce" command):
 * an uncorrected error raises #MC if CR4.MCE is set and none is in
 * progress, else the CPU shuts down (SDM 15.10.4); a corrected one is only
 * logged in the bank.
 */
long yakvm_set_mce(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_x86_mce mce;
	u64 *bank;
	u32 n;

	if (copy_from_user(&mce, argp, sizeof(mce)))
		return -EFAULT;
	if (mce.bank >= (vcpu->mcg_cap & MCG_BANKCNT_MASK) || !(mce.status & MCI_STATUS_VAL))
		return -EINVAL;
	n = array_index_nospec(mce.bank, YAKVM_MAX_MCE_BANKS);
	bank = &vcpu->mce_banks[n * 4];
	/* A bank disabled by the guest (or MCG_CTL) drops uncorrected errors. */
	if ((mce.status & MCI_STATUS_UC) && (vcpu->mcg_cap & MCG_CTL_P) &&
	    vcpu->mcg_ctl != ~0ULL)
		return 0;
	if ((mce.status & MCI_STATUS_UC) && bank[0] != ~0ULL)
		return 0;
	if (!(mce.status & MCI_STATUS_UC)) {
		if (bank[1] & MCI_STATUS_VAL)
			mce.status |= MCI_STATUS_OVER;
		bank[1] = mce.status;
		bank[2] = mce.addr;
		bank[3] = mce.misc;
		return 0;
	}
	if ((vcpu->mcg_status & MCG_STATUS_MCIP) ||
	    !(vcpu->vmcb->save.cr4 & X86_CR4_MCE)) {
		vcpu->shutdown = true;
		return 0;
	}
	if (bank[1] & MCI_STATUS_VAL)
		mce.status |= MCI_STATUS_OVER;
	bank[1] = mce.status;
	bank[2] = mce.addr;
	bank[3] = mce.misc;
	vcpu->mcg_status = mce.mcg_status;
	yakvm_queue_exception(vcpu, X86_TRAP_MC, false, 0);
	return 0;
}

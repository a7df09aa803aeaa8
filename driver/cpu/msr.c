// SPDX-License-Identifier: GPL-2.0
/*
 * Model-specific registers.  The MSR permission map (svm.c) lets the guest
 * use the registers that VMLOAD/VMSAVE switch; every other RDMSR/WRMSR exits
 * here.  Registers with guest state are emulated (most of it in the VMCB);
 * everything else raises #GP, as on a CPU without that MSR.  The same code
 * serves KVM_GET_MSRS/KVM_SET_MSRS ("host" accesses).
 *
 * Never passed through: SPEC_CTRL, TSC_AUX, VM_CR, VM_HSAVE_PA, SYSCFG and
 * any other MSR that would reach the host's state.
 */
#define pr_fmt(fmt) "yakvm: " fmt

#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/apicdef.h>
#include <asm/msr.h>

#include "yakvm.h"

#define MAX_IO_MSRS		256	/* per KVM_GET/SET_MSRS call, as KVM */
#define MSR_MTRR_CAP_VALUE	0x508	/* WC, fixed ranges, 8 variable ranges */
#define UCODE_REV_DEFAULT	0x100000000ULL
#define VM_CR_DISABLED		(SVM_VM_CR_SVM_DIS_MASK | SVM_VM_CR_SVM_LOCK_MASK)
#define HWCR_ALLOWED		(BIT_ULL(3) | BIT_ULL(6) | BIT_ULL(8) | \
				 BIT_ULL(18) | BIT_ULL(24))
#define DE_CFG_LFENCE_SERIALIZE	BIT_ULL(1)

static const u16 mtrr_fixed_msrs[] = {
	MSR_MTRRfix64K_00000, MSR_MTRRfix16K_80000, MSR_MTRRfix16K_A0000,
	MSR_MTRRfix4K_C0000, MSR_MTRRfix4K_C8000, MSR_MTRRfix4K_D0000,
	MSR_MTRRfix4K_D8000, MSR_MTRRfix4K_E0000, MSR_MTRRfix4K_E8000,
	MSR_MTRRfix4K_F0000, MSR_MTRRfix4K_F8000,
};

/* Everything KVM_GET_MSR_INDEX_LIST reports: what get/set below handle. */
static const u32 emulated_msrs[] = {
	MSR_EFER, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_KERNEL_GS_BASE, MSR_FS_BASE, MSR_GS_BASE, MSR_IA32_SYSENTER_CS,
	MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP, MSR_IA32_CR_PAT,
	MSR_IA32_TSC, MSR_TSC_AUX, MSR_IA32_APICBASE, MSR_IA32_MISC_ENABLE,
	MSR_MTRRcap, MSR_MTRRdefType,
	MSR_MTRRfix64K_00000, MSR_MTRRfix16K_80000, MSR_MTRRfix16K_A0000,
	MSR_MTRRfix4K_C0000, MSR_MTRRfix4K_C8000, MSR_MTRRfix4K_D0000,
	MSR_MTRRfix4K_D8000, MSR_MTRRfix4K_E0000, MSR_MTRRfix4K_E8000,
	MSR_MTRRfix4K_F0000, MSR_MTRRfix4K_F8000,
	0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207,
	0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f,
	MSR_K7_HWCR, MSR_AMD64_DE_CFG, MSR_IA32_UCODE_REV, MSR_VM_CR,
	MSR_AMD64_SYSCFG, MSR_AMD64_NB_CFG, MSR_K8_INT_PENDING_MSG,
};

int yakvm_msr_init(void)
{
	return 0;
}

u64 yakvm_guest_tsc(struct yakvm_vcpu *vcpu)
{
	return rdtsc() + vcpu->vmcb->control.tsc_offset;
}

static int mtrr_fixed_index(u32 index)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(mtrr_fixed_msrs); i++)
		if (mtrr_fixed_msrs[i] == index)
			return i;
	return -1;
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

/* Returns 0, or 1 when the access must fail (#GP for the guest). */
int yakvm_get_msr(struct yakvm_vcpu *vcpu, u32 index, u64 *data, bool host)
{
	struct vmcb_save_area *s = &vcpu->vmcb->save;
	int fixed = mtrr_fixed_index(index);

	if (fixed >= 0) {
		*data = vcpu->mtrr_fixed[fixed];
		return 0;
	}
	if (index >= 0x200 && index <= 0x20f) {
		*data = vcpu->mtrr_var[array_index_nospec(index - 0x200,
							  ARRAY_SIZE(vcpu->mtrr_var))];
		return 0;
	}
	switch (index) {
	case MSR_EFER:
		*data = s->efer & ~EFER_SVME;
		return 0;
	case MSR_STAR:
		*data = s->star;
		return 0;
	case MSR_LSTAR:
		*data = s->lstar;
		return 0;
	case MSR_CSTAR:
		*data = s->cstar;
		return 0;
	case MSR_SYSCALL_MASK:
		*data = s->sfmask;
		return 0;
	case MSR_KERNEL_GS_BASE:
		*data = s->kernel_gs_base;
		return 0;
	case MSR_FS_BASE:
		*data = s->fs.base;
		return 0;
	case MSR_GS_BASE:
		*data = s->gs.base;
		return 0;
	case MSR_IA32_SYSENTER_CS:
		*data = s->sysenter_cs;
		return 0;
	case MSR_IA32_SYSENTER_ESP:
		*data = s->sysenter_esp;
		return 0;
	case MSR_IA32_SYSENTER_EIP:
		*data = s->sysenter_eip;
		return 0;
	case MSR_IA32_CR_PAT:
		*data = s->g_pat;
		return 0;
	case MSR_IA32_TSC:
		*data = yakvm_guest_tsc(vcpu);
		return 0;
	case MSR_TSC_AUX:
		*data = vcpu->tsc_aux;
		return 0;
	case MSR_IA32_APICBASE:
		*data = vcpu->apic_base;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = vcpu->misc_enable;
		return 0;
	case MSR_MTRRcap:
		*data = MSR_MTRR_CAP_VALUE;
		return 0;
	case MSR_MTRRdefType:
		*data = vcpu->mtrr_def_type;
		return 0;
	case MSR_K7_HWCR:
		*data = vcpu->hwcr;
		return 0;
	case MSR_AMD64_DE_CFG:
		*data = vcpu->de_cfg;
		return 0;
	case MSR_IA32_UCODE_REV:
		*data = UCODE_REV_DEFAULT;
		return 0;
	case MSR_VM_CR:
		/* SVM is not offered: the guest sees it disabled and locked. */
		*data = VM_CR_DISABLED;
		return 0;
	case MSR_AMD64_SYSCFG:
		*data = 0;
		return 0;
	case MSR_AMD64_NB_CFG:
	case MSR_K8_INT_PENDING_MSG:
		/*
		 * Linux uses these with plain RDMSR/WRMSR: NB_CFG's "extended
		 * PCI config space via CF8" bit on every AMD CPU from family
		 * 10h on, and the K8 interrupt-pending message register (C1E
		 * state) when the CPU has erratum 400 (families 0Fh/10h).
		 * There is no northbridge or C1E here; as in KVM they read 0
		 * and writes are ignored.
		 */
		*data = 0;
		return 0;
	default:
		return 1;
	}
}

static int set_efer(struct yakvm_vcpu *vcpu, u64 data, bool host)
{
	struct vmcb_save_area *s = &vcpu->vmcb->save;
	u64 valid = EFER_SCE | EFER_LME | EFER_LMA | EFER_NX;

	/* SVME included: the guest has no SVM (APM 15.4), so it is reserved. */
	if (data & ~valid)
		return 1;
	if (!host) {
		/* LME cannot change while paging is on; LMA is the CPU's. */
		if (((data ^ s->efer) & EFER_LME) && (s->cr0 & X86_CR0_PG))
			return 1;
		data = (data & ~EFER_LMA) | (s->efer & EFER_LMA);
	}
	s->efer = data | EFER_SVME;
	yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_CR);
	return 0;
}

static bool canonical(u64 addr)
{
	return (s64)(addr << 16) >> 16 == (s64)addr;
}

static int set_vmcb_msr(struct yakvm_vcpu *vcpu, u32 index, u64 data)
{
	struct vmcb_save_area *s = &vcpu->vmcb->save;

	switch (index) {
	case MSR_STAR:
		s->star = data;
		return 0;
	case MSR_LSTAR:
		s->lstar = data;
		return 0;
	case MSR_CSTAR:
		s->cstar = data;
		return 0;
	case MSR_SYSCALL_MASK:
		s->sfmask = data;
		return 0;
	case MSR_KERNEL_GS_BASE:
		s->kernel_gs_base = data;
		return 0;
	case MSR_FS_BASE:
		s->fs.base = data;
		return 0;
	case MSR_GS_BASE:
		s->gs.base = data;
		return 0;
	case MSR_IA32_SYSENTER_CS:
		s->sysenter_cs = data;
		return 0;
	case MSR_IA32_SYSENTER_ESP:
		s->sysenter_esp = data;
		return 0;
	case MSR_IA32_SYSENTER_EIP:
		s->sysenter_eip = data;
		return 0;
	}
	return 1;
}

static int set_mtrr(struct yakvm_vcpu *vcpu, u32 index, u64 data)
{
	int fixed = mtrr_fixed_index(index);

	if (fixed >= 0) {
		if (!valid_types(data, false))
			return 1;
		vcpu->mtrr_fixed[fixed] = data;
		return 0;
	}
	if (index >= 0x200 && index <= 0x20f) {
		vcpu->mtrr_var[array_index_nospec(index - 0x200,
						  ARRAY_SIZE(vcpu->mtrr_var))] = data;
		return 0;
	}
	/* MTRRdefType: type in bits 7:0, FE bit 10, E bit 11. */
	if ((data & ~0xcffULL) || !valid_mem_type(data & 0xff, false))
		return 1;
	vcpu->mtrr_def_type = data;
	return 0;
}

int yakvm_set_msr(struct yakvm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct vmcb *vmcb = vcpu->vmcb;
	u64 cur;

	if (index == MSR_MTRRdefType || mtrr_fixed_index(index) >= 0 ||
	    (index >= 0x200 && index <= 0x20f))
		return set_mtrr(vcpu, index, data);
	switch (index) {
	case MSR_EFER:
		return set_efer(vcpu, data, host);
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_LSTAR:
	case MSR_CSTAR:
		if (!canonical(data))
			return 1;
		return set_vmcb_msr(vcpu, index, data);
	case MSR_STAR:
	case MSR_SYSCALL_MASK:
	case MSR_IA32_SYSENTER_CS:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		return set_vmcb_msr(vcpu, index, data);
	case MSR_IA32_CR_PAT:
		if (!valid_types(data, true))
			return 1;
		vmcb->save.g_pat = data;
		yakvm_vmcb_dirty(vmcb, YAKVM_DIRTY_NP);
		return 0;
	case MSR_IA32_TSC:
		vmcb->control.tsc_offset = data - rdtsc();
		yakvm_vmcb_dirty(vmcb, YAKVM_DIRTY_INTERCEPTS);
		return 0;
	case MSR_TSC_AUX:
		if (data >> 32)
			return 1;
		vcpu->tsc_aux = data;
		return 0;
	case MSR_IA32_APICBASE:
		if (data & ~(GENMASK_ULL(51, 12) | MSR_IA32_APICBASE_BSP |
			     MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE))
			return 1;
		vcpu->apic_base = data;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		vcpu->misc_enable = data;
		return 0;
	case MSR_K7_HWCR:
		if (data & ~HWCR_ALLOWED)
			return 1;
		vcpu->hwcr = data;
		return 0;
	case MSR_AMD64_DE_CFG:
		if (data & ~DE_CFG_LFENCE_SERIALIZE)
			return 1;
		vcpu->de_cfg = data;
		return 0;
	case MSR_IA32_UCODE_REV:
		/* Writing 0 before CPUID is an Intel idiom: accepted, no effect. */
		return 0;
	case MSR_AMD64_NB_CFG:
	case MSR_K8_INT_PENDING_MSG:
		return 0;	/* see yakvm_get_msr() */
	case MSR_MTRRcap:
	case MSR_VM_CR:
	case MSR_AMD64_SYSCFG:
		/*
		 * Read-only: a guest write is #GP.  The host may write back
		 * the value it read (a VMM restoring every listed MSR after
		 * KVM_GET_MSRS), and nothing else.
		 */
		return !host || yakvm_get_msr(vcpu, index, &cur, true) || data != cur;
	default:
		return 1;	/* no such MSR */
	}
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

/* KVM_GET_MSR_INDEX_LIST (system fd). */
long yakvm_get_msr_index_list(void __user *argp)
{
	struct kvm_msr_list __user *user = argp;
	u32 n = ARRAY_SIZE(emulated_msrs);
	struct kvm_msr_list list;

	if (copy_from_user(&list, user, sizeof(list)))
		return -EFAULT;
	if (put_user(n, &user->nmsrs))
		return -EFAULT;
	if (list.nmsrs < n)
		return -E2BIG;
	if (copy_to_user(user->indices, emulated_msrs, sizeof(emulated_msrs)))
		return -EFAULT;
	return 0;
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

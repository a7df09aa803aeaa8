// SPDX-License-Identifier: GPL-2.0
/*
 * Control registers.  With nested paging the guest's CR0, CR3 and CR4 are
 * the real ones while it runs; yakvm intercepts only writes to CR4, because
 * several CR4 bits enable features the guest's CPUID may hide (XSAVE, PKU,
 * FSGSBASE, SMEP, ...) and the CPU itself checks them only against what the
 * host has (APM 3.1.3 and 15.9.1).  CR0 has no such bits: its rules are all
 * the hardware's.
 *
 * The same rules decide which states KVM_SET_SREGS accepts, so user space
 * can restore every state a guest can reach and nothing else.  Each rule
 * has a name; a state that breaks one is reported by the yakvm_check_failed
 * tracepoint, like KVM's CC() checks in nested SVM.
 */
#include "yakvm.h"
#include "trace.h"

/* CR4 bits this host can give a guest at all. */
static u64 host_cr4_bits(void)
{
	u64 cr4 = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
		  X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |
		  X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;

	if (boot_cpu_has(X86_FEATURE_XSAVE))
		cr4 |= X86_CR4_OSXSAVE;
	if (boot_cpu_has(X86_FEATURE_FSGSBASE))
		cr4 |= X86_CR4_FSGSBASE;
	if (boot_cpu_has(X86_FEATURE_PCID))
		cr4 |= X86_CR4_PCIDE;
	if (boot_cpu_has(X86_FEATURE_SMEP))
		cr4 |= X86_CR4_SMEP;
	if (boot_cpu_has(X86_FEATURE_SMAP))
		cr4 |= X86_CR4_SMAP;
	if (boot_cpu_has(X86_FEATURE_UMIP))
		cr4 |= X86_CR4_UMIP;
	if (boot_cpu_has(X86_FEATURE_LA57))
		cr4 |= X86_CR4_LA57;
	if (boot_cpu_has(X86_FEATURE_PKU))
		cr4 |= X86_CR4_PKE;
	return cr4;
}

/*
 * The CPUID bit (leaf, subleaf, register, bit) a CR4 bit needs.  The same
 * list as KVM's (__cr4_reserved_bits), so a state taken from KVM loads here:
 * the older bits (VME, DE, PSE, TSD, PAE, MCE, PGE) are checked against the
 * host only, on both.
 */
static const struct {
	u64 cr4;
	u32 function, index;
	enum yakvm_cpuid_reg reg;
	u8 bit;
	const char *rule;
} cr4_features[] = {
	{ X86_CR4_PCIDE, 1, 0, YAKVM_CPUID_ECX, 17, "cr4.pcide-needs-cpuid.pcid" },
	{ X86_CR4_OSXSAVE, 1, 0, YAKVM_CPUID_ECX, 26, "cr4.osxsave-needs-cpuid.xsave" },
	{ X86_CR4_FSGSBASE, 7, 0, YAKVM_CPUID_EBX, 0, "cr4.fsgsbase-needs-cpuid.fsgsbase" },
	{ X86_CR4_SMEP, 7, 0, YAKVM_CPUID_EBX, 7, "cr4.smep-needs-cpuid.smep" },
	{ X86_CR4_SMAP, 7, 0, YAKVM_CPUID_EBX, 20, "cr4.smap-needs-cpuid.smap" },
	{ X86_CR4_UMIP, 7, 0, YAKVM_CPUID_ECX, 2, "cr4.umip-needs-cpuid.umip" },
	{ X86_CR4_PKE, 7, 0, YAKVM_CPUID_ECX, 3, "cr4.pke-needs-cpuid.pku" },
	{ X86_CR4_LA57, 7, 0, YAKVM_CPUID_ECX, 16, "cr4.la57-needs-cpuid.la57" },
};

/* Evaluates to @cond, and names the rule when it is broken. */
#define CHECK(what, cond, rule)						\
	({								\
		bool __ok = (cond);					\
		if (!__ok)						\
			trace_yakvm_check_failed(what, rule);		\
		__ok;							\
	})

/* CR4 bits the guest's CPUID and the host allow, whatever the mode. */
static bool cr4_bits_valid(struct yakvm_vcpu *vcpu, u64 cr4, const char *what)
{
	int i;

	if (!CHECK(what, !(cr4 & ~host_cr4_bits()), "cr4-reserved-bits"))
		return false;
	for (i = 0; i < ARRAY_SIZE(cr4_features); i++) {
		if (!(cr4 & cr4_features[i].cr4))
			continue;
		if (!CHECK(what, yakvm_guest_cpuid_bit(vcpu, cr4_features[i].function,
						       cr4_features[i].index,
						       cr4_features[i].reg,
						       cr4_features[i].bit),
			   cr4_features[i].rule))
			return false;
	}
	return true;
}

#define VALID_EFER	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

/*
 * The consistency rules KVM_SET_SREGS enforces (as KVM's
 * kvm_is_valid_sregs): whatever a guest can set itself is accepted.
 */
bool yakvm_sregs_valid(struct yakvm_vcpu *vcpu, const struct kvm_sregs *k)
{
	const char *what = "KVM_SET_SREGS";
	bool paging64 = (k->efer & EFER_LME) && (k->cr0 & X86_CR0_PG);

	if (!CHECK(what, !(k->efer & ~VALID_EFER), "efer-reserved-bits") ||
	    !CHECK(what, !(k->cr0 >> 32), "cr0-high-bits") ||
	    !CHECK(what, !((k->cr0 & X86_CR0_NW) && !(k->cr0 & X86_CR0_CD)),
		   "cr0.nw-without-cd") ||
	    !CHECK(what, !((k->cr0 & X86_CR0_PG) && !(k->cr0 & X86_CR0_PE)),
		   "cr0.pg-without-pe") ||
	    !cr4_bits_valid(vcpu, k->cr4, what) ||
	    !CHECK(what, k->cr8 <= 15, "cr8-above-15"))
		return false;
	if (paging64)
		return CHECK(what, k->cr4 & X86_CR4_PAE, "long-mode-without-cr4.pae") &&
		       CHECK(what, k->efer & EFER_LMA, "efer.lme-and-cr0.pg-without-lma") &&
		       CHECK(what, k->cr3 < yakvm_max_gpa(), "cr3-beyond-maxphyaddr");
	return CHECK(what, !(k->efer & EFER_LMA), "efer.lma-without-paging") &&
	       CHECK(what, !k->cs.l, "cs.l-outside-long-mode");
}

/* MOV to CR4 (APM vol. 3 "MOV CRn"): #GP(0) for anything the CPU would refuse. */
static bool cr4_write_valid(struct yakvm_vcpu *vcpu, u64 cr4)
{
	struct vmcb_save_area *s = &vcpu->vmcb->save;
	const char *what = "MOV to CR4";
	u64 old = s->cr4;

	if (!cr4_bits_valid(vcpu, cr4, what))
		return false;
	if (s->efer & EFER_LMA) {
		if (!CHECK(what, cr4 & X86_CR4_PAE, "cr4.pae-cleared-in-long-mode") ||
		    !CHECK(what, !((cr4 ^ old) & X86_CR4_LA57),
			   "cr4.la57-changed-in-long-mode"))
			return false;
	}
	if ((cr4 & X86_CR4_PCIDE) && !(old & X86_CR4_PCIDE))
		return CHECK(what, s->efer & EFER_LMA, "cr4.pcide-outside-long-mode") &&
		       CHECK(what, !(s->cr3 & 0xfff), "cr4.pcide-with-cr3-pcid");
	return true;
}

/*
 * Bits whose change invalidates translations the guest's TLB may hold: the
 * CPU flushes on such a MOV to CR4, and since yakvm completes the MOV the
 * CPU never sees it, so the vCPU's TLB is flushed here (a fresh ASID).
 */
#define CR4_TLB_BITS	(X86_CR4_PGE | X86_CR4_PSE | X86_CR4_PAE | \
			 X86_CR4_PCIDE | X86_CR4_SMEP | X86_CR4_SMAP | \
			 X86_CR4_PKE | X86_CR4_LA57)

int yakvm_handle_cr4_write(struct yakvm_vcpu *vcpu)
{
	struct vmcb *vmcb = vcpu->vmcb;
	struct yakvm_insn insn = {};
	unsigned int gpr;
	u64 cr4, old = vmcb->save.cr4;

	if (yakvm_fetch_insn(vcpu, insn.bytes, &insn.len) ||
	    yakvm_decode_mov_cr(vcpu, &insn))
		return yakvm_emulation_error(vcpu, insn.bytes, insn.len);
	/* Decode assists name the register (APM 15.8.1); they agree with the bytes. */
	gpr = insn.modrm_rm;
	if (yakvm_svm.decode_assists && (vmcb->control.exit_info_1 & BIT_ULL(63)))
		gpr = vmcb->control.exit_info_1 & 0xf;
	if (vmcb->save.cpl) {
		yakvm_inject_gp(vcpu);
		return 1;
	}
	cr4 = vcpu->regs[gpr];
	if (!yakvm_64bit_code(vcpu))
		cr4 = (u32)cr4;
	if (!cr4_write_valid(vcpu, cr4)) {
		yakvm_inject_gp(vcpu);
		return 1;
	}
	vmcb->save.cr4 = cr4;
	yakvm_vmcb_dirty(vmcb, YAKVM_DIRTY_CR);
	if ((cr4 ^ old) & CR4_TLB_BITS)
		set_bit(ilog2(YAKVM_REQ_TLB_FLUSH), &vcpu->requests);
	yakvm_set_rip(vcpu, vmcb->save.rip + insn.len);
	return 1;
}

/*
 * CR8, the task priority (APM 15.21.1).  With an in-kernel APIC its TPR is
 * the one copy: V_TPR is loaded from it before each entry and read back
 * into it after each exit (yakvm_lapic_sync_to/from_vmcb).  Without one,
 * V_TPR is all there is, and user space owns it (kvm_run->cr8).
 */
u64 yakvm_get_cr8(struct yakvm_vcpu *vcpu)
{
	if (vcpu->apic)
		return yakvm_lapic_get_cr8(vcpu);
	return vcpu->vmcb->control.int_ctl & V_TPR_MASK;
}

void yakvm_set_cr8(struct yakvm_vcpu *vcpu, u64 cr8)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;

	if (vcpu->apic) {
		yakvm_lapic_set_cr8(vcpu, cr8);
		return;
	}
	c->int_ctl = (c->int_ctl & ~V_TPR_MASK) | (cr8 & V_TPR_MASK);
	yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_TPR);
}

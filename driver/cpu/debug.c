// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_SET_GUEST_DEBUG: single-stepping and software breakpoints for a
 * debugger in user space (api.rst, "KVM_SET_GUEST_DEBUG").
 *
 * Single-step sets RFLAGS.TF in the guest and turns the resulting #DB
 * (intercepted anyway, see vcpu.c) into KVM_EXIT_DEBUG.  An instruction the
 * module completes itself (I/O, CPUID, MMIO, ...) never raises that #DB, so
 * completing one under single-step reports the step directly, as KVM does.
 * Software breakpoints intercept #BP, and INTn as well: QEMU's emulated SVM
 * checks only the INTn intercept for INT3 (and INTO, INT n) and never the
 * #BP exception intercept APM 15.12 specifies, so under QEMU a breakpoint
 * arrives as an INTn exit.  Hardware breakpoints are not offered.
 */
#include <linux/uaccess.h>

#include "yakvm.h"

#define SUPPORTED_DEBUG	(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP | \
			 KVM_GUESTDBG_USE_SW_BP)
#define DR6_BS		BIT(14)		/* single-step (APM 13.1.1.3) */
#define INTN_BIT	BIT(INTERCEPT_INTn % 32)
#define OP_INT3		0xcc
#define OP_INT_IMM8	0xcd
#define OP_INTO		0xce

bool yakvm_singlestepping(struct yakvm_vcpu *vcpu)
{
	return vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP;
}

/*
 * The VMCB state the debugger's choice needs: TF while single-stepping, the
 * #BP and INTn intercepts for software breakpoints.  Also called after a
 * reset rebuilt the VMCB (a SHUTDOWN), so a debugger keeps its breakpoints.
 */
void yakvm_apply_guest_debug(struct yakvm_vcpu *vcpu)
{
	struct vmcb *vmcb = vcpu->vmcb;
	u32 *exceptions = &vmcb->control.intercepts[INTERCEPT_EXCEPTION];
	u32 *intn_word = &vmcb->control.intercepts[INTERCEPT_INTn / 32];

	if (yakvm_singlestepping(vcpu))
		vmcb->save.rflags |= X86_EFLAGS_TF;
	if (vcpu->guest_debug & KVM_GUESTDBG_USE_SW_BP) {
		*exceptions |= BIT(X86_TRAP_BP);
		*intn_word |= INTN_BIT;
	} else {
		*exceptions &= ~BIT(X86_TRAP_BP);
		*intn_word &= ~INTN_BIT;
	}
	yakvm_vmcb_dirty(vmcb, YAKVM_DIRTY_INTERCEPTS);
}

long yakvm_set_guest_debug(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct vmcb *vmcb = vcpu->vmcb;
	struct kvm_guest_debug dbg;

	if (copy_from_user(&dbg, argp, sizeof(dbg)))
		return -EFAULT;
	if (dbg.control & ~SUPPORTED_DEBUG)
		return -EINVAL;
	if (!(dbg.control & KVM_GUESTDBG_ENABLE))
		dbg.control = 0;

	if (yakvm_singlestepping(vcpu)) {
		vmcb->save.rflags &= ~X86_EFLAGS_TF;
		/*
		 * A step the module completed under the debugger's TF but has
		 * not reported yet (a HLT or an MMIO write exits to user space
		 * first) is the debugger's.  If it stops stepping, drop the
		 * step rather than raise a #DB in a guest that never set TF.
		 */
		if (!(dbg.control & KVM_GUESTDBG_SINGLESTEP))
			vcpu->step_completed = false;
	}
	vcpu->guest_debug = dbg.control;
	yakvm_apply_guest_debug(vcpu);
	return 0;
}

static int debug_exit(struct yakvm_vcpu *vcpu, u32 exception, u64 dr6)
{
	struct kvm_run *run = vcpu->run;
	struct vmcb_save_area *s = &vcpu->vmcb->save;

	run->debug.arch.exception = exception;
	run->debug.arch.pc = yakvm_seg_base(vcpu, YAKVM_SEG_CS) + s->rip;
	run->debug.arch.dr6 = dr6;
	run->debug.arch.dr7 = vcpu->dr7;
	return yakvm_user_exit(vcpu, KVM_EXIT_DEBUG);
}

/* #DB intercepted: the debugger's step, or the guest's own #DB. */
int yakvm_handle_db(struct yakvm_vcpu *vcpu)
{
	struct vmcb_save_area *s = &vcpu->vmcb->save;

	/* yakvm's own step over an NMI handler's IRET (svm/events.c). */
	if (yakvm_nmi_singlestep_db(vcpu) && !yakvm_singlestepping(vcpu)) {
		s->dr6 = YAKVM_DR6_INIT;
		yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_DR);
		return 1;
	}

	if (yakvm_singlestepping(vcpu)) {
		u64 dr6 = s->dr6;

		/* The step is the debugger's; the guest's DR6 stays as it was. */
		s->dr6 = YAKVM_DR6_INIT;
		yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_DR);
		return debug_exit(vcpu, X86_TRAP_DB, dr6);
	}
	yakvm_queue_exception(vcpu, X86_TRAP_DB, false, 0);
	return 1;
}

int yakvm_handle_bp(struct yakvm_vcpu *vcpu)
{
	return debug_exit(vcpu, X86_TRAP_BP, YAKVM_DR6_INIT);
}

/* Deliver the guest's own INT n or INTO on the next entry, RIP past it. */
static int deliver_soft_event(struct yakvm_vcpu *vcpu, u8 vector, u32 type,
			      unsigned int len)
{
	struct yakvm_soft_event *soft = &vcpu->soft;
	u64 rip = vcpu->vmcb->save.rip;

	soft->pending = true;
	soft->vector = vector;
	soft->type = type;
	soft->insn_rip = rip;
	soft->next_rip = rip + len;
	if (!yakvm_64bit_code(vcpu))
		soft->next_rip = (u32)soft->next_rip;
	vcpu->vmcb->save.rip = soft->next_rip;
	return 1;
}

/*
 * INTn intercepted (only while a debugger uses software breakpoints, see
 * the top of this file).  INT3 is the debugger's breakpoint, reported as
 * the #BP intercept would be, with pc at the INT3.  INT n and INTO are the
 * guest's: they are delivered through EVENTINJ as what they are -- a
 * software interrupt, and #OF (INTO exits only when OF is set) -- with RIP
 * past the instruction, which the CPU pushes as the return address
 * (APM 15.20).
 */
int yakvm_handle_swint(struct yakvm_vcpu *vcpu)
{
	struct yakvm_insn insn = {};
	unsigned int p;

	if (yakvm_fetch_insn(vcpu, insn.bytes, &insn.len) ||
	    yakvm_decode_prefixes(vcpu, &insn) || insn.prefix_len >= insn.len)
		return yakvm_emulation_error(vcpu, NULL, 0);
	p = insn.prefix_len;
	switch (insn.bytes[p]) {
	case OP_INT3:
		return debug_exit(vcpu, X86_TRAP_BP, YAKVM_DR6_INIT);
	case OP_INT_IMM8:
		if (p + 1 < insn.len)
			return deliver_soft_event(vcpu, insn.bytes[p + 1],
						  SVM_EVTINJ_TYPE_SOFT, p + 2);
		break;
	case OP_INTO:
		return deliver_soft_event(vcpu, X86_TRAP_OF,
					  SVM_EVTINJ_TYPE_EXEPT, p + 1);
	}
	return yakvm_emulation_error(vcpu, insn.bytes, insn.len);
}

/*
 * Called before each entry when the module completed an instruction with
 * TF set (yakvm_set_rip): report the step to the debugger, or raise the
 * single-step #DB the guest asked for.  Returns 0 for a user exit.
 */
int yakvm_complete_step(struct yakvm_vcpu *vcpu)
{
	vcpu->step_completed = false;
	if (yakvm_singlestepping(vcpu))
		return debug_exit(vcpu, X86_TRAP_DB, YAKVM_DR6_INIT | DR6_BS);
	vcpu->vmcb->save.dr6 |= DR6_BS;
	yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_DR);
	yakvm_queue_exception(vcpu, X86_TRAP_DB, false, 0);
	return 1;
}

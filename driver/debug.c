// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_SET_GUEST_DEBUG: single-stepping and software breakpoints for a
 * debugger in user space (api.rst, "KVM_SET_GUEST_DEBUG").
 *
 * Single-step sets RFLAGS.TF in the guest and turns the resulting #DB
 * (intercepted anyway, see vcpu.c) into KVM_EXIT_DEBUG.  An instruction the
 * module completes itself (I/O, CPUID, MMIO, ...) never raises that #DB, so
 * completing one under single-step reports the step directly, as KVM does.
 * Software breakpoints intercept #BP.  Hardware breakpoints are not offered.
 */
#include <linux/uaccess.h>

#include "yakvm.h"

#define SUPPORTED_DEBUG	(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP | \
			 KVM_GUESTDBG_USE_SW_BP)
#define DR6_BS		BIT(14)		/* single-step (APM 13.1.1.3) */

bool yakvm_singlestepping(struct yakvm_vcpu *vcpu)
{
	return vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP;
}

long yakvm_set_guest_debug(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct vmcb *vmcb = vcpu->vmcb;
	struct kvm_guest_debug dbg;
	u32 *exceptions = &vmcb->control.intercepts[INTERCEPT_EXCEPTION];

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
	if (yakvm_singlestepping(vcpu))
		vmcb->save.rflags |= X86_EFLAGS_TF;

	if (dbg.control & KVM_GUESTDBG_USE_SW_BP)
		*exceptions |= BIT(X86_TRAP_BP);
	else
		*exceptions &= ~BIT(X86_TRAP_BP);
	yakvm_vmcb_dirty(vmcb, YAKVM_DIRTY_INTERCEPTS);
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

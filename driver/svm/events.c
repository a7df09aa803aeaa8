// SPDX-License-Identifier: GPL-2.0
/*
 * Exceptions, NMIs and external interrupts for the guest (APM 15.20 "Event
 * Injection", 15.21 "Interrupt and LAPIC Support").
 *
 * An external interrupt comes from user space (KVM_INTERRUPT, the KVM ABI
 * of a user-space irqchip: the VMM asks for an exit when the guest can take
 * one, kvm_run.request_interrupt_window -> KVM_EXIT_IRQ_WINDOW_OPEN) or,
 * with the in-kernel irqchip, from the PIC (ExtINT) or the vCPU's local
 * APIC.  Either way it sits in vcpu->irq until it is injected through
 * EVENTINJ.  In-kernel interrupts are picked -- and acknowledged at their
 * controller -- only when the guest can take them (yakvm_check_events, in
 * process context); otherwise a virtual interrupt (V_IRQ with the VINTR
 * intercept) makes the CPU exit as soon as RFLAGS.IF=1 and no shadow is
 * active, and a TPR that holds an interrupt back makes CR8 writes exit.
 *
 * NMIs: KVM_NMI, NMI IPIs and LINT1 queue them (at most two wait, as a CPU
 * latches one beside the one being handled); an injected NMI blocks the
 * next until the guest's IRET, which is intercepted (APM 15.21.6: without
 * vNMI the hypervisor tracks NMI blocking).  The IRET's completion is seen
 * at the next exit with RIP elsewhere; when an NMI waits for it, the guest
 * is single-stepped over the IRET (TF, with #DB intercepted) to get that
 * exit at once, as KVM does.
 */
#include <linux/uaccess.h>

#include "yakvm.h"
#include "cpu/exception_merge.h"

#define IRET_BIT	BIT(INTERCEPT_IRET % 32)
#define CR8_WRITE_BIT	BIT(INTERCEPT_CR8_WRITE % 32)

/*
 * Queue an exception for the next entry.  One already pending (an event
 * whose delivery a #VMEXIT interrupted, see yakvm_complete_interrupted_event)
 * combines with the new one as the CPU would combine them (APM 8.2.9,
 * cpu/exception_merge.h): a double fault, a triple fault, or the new one
 * delivered in its place, the instruction that raised the first running
 * again afterwards.
 */
void yakvm_queue_exception(struct yakvm_vcpu *vcpu, u8 vector, bool has_error,
			   u32 error_code)
{
	struct yakvm_event *ex = &vcpu->exception;

	if (ex->pending) {
		switch (yakvm_merge_exceptions(ex->vector, vector)) {
		case YAKVM_MERGE_TRIPLE_FAULT:
			ex->pending = false;
			vcpu->shutdown = true;
			return;
		case YAKVM_MERGE_DOUBLE_FAULT:
			vector = X86_TRAP_DF;
			has_error = true;
			error_code = 0;
			break;
		case YAKVM_MERGE_SECOND:
			break;
		}
	}
	ex->pending = true;
	ex->vector = vector;
	ex->has_error = has_error;
	ex->error_code = error_code;
}

static bool in_shadow(struct yakvm_vcpu *vcpu)
{
	return vcpu->vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK;
}

/* The guest would accept an external interrupt now. */
bool yakvm_interrupt_allowed(struct yakvm_vcpu *vcpu)
{
	return (vcpu->vmcb->save.rflags & X86_EFLAGS_IF) && !in_shadow(vcpu);
}

/* The PIC's ExtINT is this vCPU's to take. */
static bool extint_pending(struct yakvm_vcpu *vcpu)
{
	struct yakvm_pic *pic = READ_ONCE(vcpu->vm->irq.pic);

	if (!yakvm_lapic_accepts_extint(vcpu))
		return false;
	/* Split irqchip: the VMM's PIC hands its vector over with KVM_INTERRUPT. */
	if (vcpu->user_extint >= 0)
		return true;
	return pic && yakvm_pic_has_interrupt(pic);
}

/*
 * kvm_run.ready_for_interrupt_injection: allowed, and nothing queued --
 * with a split irqchip also no ExtINT waiting and LINT0 taking ExtINT
 * (KVM's kvm_cpu_accept_dm_intr).
 */
bool yakvm_ready_for_interrupt(struct yakvm_vcpu *vcpu)
{
	if (!yakvm_interrupt_allowed(vcpu) || vcpu->irq.pending)
		return false;
	return !vcpu->apic ||
	       (!extint_pending(vcpu) && yakvm_lapic_accepts_extint(vcpu));
}

/* Something is already on its way in: an exception, an NMI, an interrupt. */
static bool event_queued(struct yakvm_vcpu *vcpu)
{
	return vcpu->exception.pending || vcpu->soft.pending ||
	       vcpu->nmi_injected || vcpu->irq.pending;
}

static bool nmi_allowed(struct yakvm_vcpu *vcpu)
{
	return !vcpu->nmi_masked && !in_shadow(vcpu);
}

/* An in-kernel interrupt waits, deliverable as far as the APIC's PPR goes. */
static bool kernel_irq_pending(struct yakvm_vcpu *vcpu)
{
	return vcpu->apic &&
	       (extint_pending(vcpu) || yakvm_lapic_pending_vector(vcpu) >= 0);
}

/*
 * Before each entry, in process context (the vCPU's thread): take in what
 * other CPUs posted -- the APIC's events, queued NMIs -- and, if the guest
 * can take it now and nothing else goes first, pick the in-kernel
 * interrupt to inject and acknowledge it at its controller.
 */
void yakvm_check_events(struct yakvm_vcpu *vcpu)
{
	int vector = -1;

	if (vcpu->apic)
		yakvm_lapic_process_events(vcpu);
	if (atomic_read(&vcpu->nmi_queued)) {
		unsigned int limit = vcpu->nmi_masked || vcpu->nmi_injected ? 1 : 2;

		vcpu->nmi_pending += atomic_xchg(&vcpu->nmi_queued, 0);
		vcpu->nmi_pending = min(vcpu->nmi_pending, limit);
	}
	if (!vcpu->apic || event_queued(vcpu) || !yakvm_interrupt_allowed(vcpu) ||
	    (vcpu->nmi_pending && nmi_allowed(vcpu)))
		return;
	if (extint_pending(vcpu)) {
		if (vcpu->user_extint >= 0) {
			vector = vcpu->user_extint;
			vcpu->user_extint = -1;
		} else {
			vector = yakvm_pic_ack(READ_ONCE(vcpu->vm->irq.pic));
		}
	}
	if (vector < 0) {
		vector = yakvm_lapic_pending_vector(vcpu);
		if (vector >= 0)
			yakvm_lapic_ack(vcpu, vector);
	}
	if (vector >= 0) {
		vcpu->irq.pending = true;
		vcpu->irq.vector = vector;
	}
}

/* A HALTED vCPU wakes for what the CPU would leave HLT for (SDM 8.4.4). */
bool yakvm_has_wake_event(struct yakvm_vcpu *vcpu)
{
	if (atomic_read(&vcpu->nmi_queued) || vcpu->nmi_pending)
		return true;
	if (vcpu->exception.pending || vcpu->nmi_injected)
		return true;
	return (vcpu->irq.pending || kernel_irq_pending(vcpu)) &&
	       yakvm_interrupt_allowed(vcpu);
}

static void set_intercept_bit(struct yakvm_vcpu *vcpu, int word, u32 bit, bool on)
{
	u32 *w = &vcpu->vmcb->control.intercepts[word];

	if (!!(*w & bit) == on)
		return;
	if (on)
		*w |= bit;
	else
		*w &= ~bit;
	yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_INTERCEPTS);
}

static void set_vintr(struct yakvm_vcpu *vcpu, bool on)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;
	u32 bit = BIT(INTERCEPT_VINTR % 32);
	bool was_on = c->intercepts[INTERCEPT_VINTR / 32] & bit;

	if (on == was_on)
		return;
	set_intercept_bit(vcpu, INTERCEPT_VINTR / 32, bit, on);
	if (on) {
		/* Priority 15 and V_IGN_TPR: the window opens whatever the TPR. */
		c->int_ctl |= V_IRQ_MASK | V_INTR_PRIO_MASK | V_IGN_TPR_MASK;
		c->int_vector = 0;
	} else {
		c->int_ctl &= ~(V_IRQ_MASK | V_INTR_PRIO_MASK | V_IGN_TPR_MASK);
	}
	yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_TPR);
}

/*
 * An APIC interrupt the TPR holds back becomes deliverable when the guest
 * lowers CR8, which V_INTR_MASKING lets it do without an exit: intercept
 * CR8 writes while that is the case (KVM's update_cr8_intercept).
 */
static void update_cr8_intercept(struct yakvm_vcpu *vcpu)
{
	bool held = yakvm_lapic_has_pending(vcpu) &&
		    yakvm_lapic_pending_vector(vcpu) < 0;

	set_intercept_bit(vcpu, INTERCEPT_CR8_WRITE / 32, CR8_WRITE_BIT, held);
}

/*
 * Stop yakvm's single-step over an NMI window: RFLAGS.TF and RF go back to
 * what the guest had when it was armed.
 */
static void nmi_singlestep_stop(struct yakvm_vcpu *vcpu)
{
	u64 *rflags = &vcpu->vmcb->save.rflags;

	vcpu->nmi_singlestep = false;
	if (yakvm_singlestepping(vcpu))
		return;
	*rflags &= ~(X86_EFLAGS_TF | X86_EFLAGS_RF);
	*rflags |= vcpu->nmi_singlestep_rflags;
}

static void inject(struct yakvm_vcpu *vcpu, u32 event, u32 error)
{
	/*
	 * Delivering an event pushes RFLAGS: with yakvm's TF in it, the
	 * handler's IRET would single-step the guest into a #DB of its own.
	 * The step stops; the next exit looks at the NMI window again.
	 */
	if (vcpu->nmi_singlestep)
		nmi_singlestep_stop(vcpu);
	vcpu->vmcb->control.event_inj = event | SVM_EVTINJ_VALID;
	vcpu->vmcb->control.event_inj_err = error;
}

/*
 * Before each entry (interrupts off): deliver the pending exception, else
 * a software interrupt yakvm delivers, else an NMI, else the queued
 * interrupt; then open the windows the rest needs.  EVENTINJ ignores
 * RFLAGS.IF (APM 15.20): an interrupt is only queued when the guest was
 * ready (KVM_INTERRUPT's contract, yakvm_check_events).  Returns true when
 * an external interrupt is being injected.
 */
bool yakvm_inject_events(struct yakvm_vcpu *vcpu)
{
	struct yakvm_event *ex = &vcpu->exception;
	struct yakvm_soft_event *soft = &vcpu->soft;
	bool irq = false, want_window, injecting, shadow_step;

	if (ex->pending) {
		/* Real mode pushes no error codes (APM 8.2). */
		if (!(vcpu->vmcb->save.cr0 & X86_CR0_PE))
			ex->has_error = false;
		inject(vcpu, ex->vector | SVM_EVTINJ_TYPE_EXEPT |
		       (ex->has_error ? SVM_EVTINJ_VALID_ERR : 0), ex->error_code);
		/*
		 * A fault's frame holds RFLAGS.RF = 1, so that the IRET back
		 * to the faulting instruction takes no instruction breakpoint
		 * on it again (APM vol. 2, "RFLAGS.RF").  The CPU sets it when
		 * it raises the fault itself, EVENTINJ does not: yakvm does,
		 * as KVM does for every fault it injects.  Traps (#DB, #BP,
		 * #OF) and aborts (#DF, #MC) leave it alone.
		 */
		if (ex->vector < 32 &&
		    !(BIT(ex->vector) & (BIT(X86_TRAP_DB) | BIT(X86_TRAP_BP) |
					 BIT(X86_TRAP_OF) | BIT(X86_TRAP_DF) |
					 BIT(X86_TRAP_MC))))
			vcpu->vmcb->save.rflags |= X86_EFLAGS_RF;
		ex->pending = false;
		vcpu->stats.injected_exceptions++;
	} else if (soft->pending) {
		inject(vcpu, soft->vector | soft->type, 0);
		soft->pending = false;
		soft->injected = true;
	} else if (vcpu->nmi_injected ||
		   (vcpu->nmi_pending && nmi_allowed(vcpu))) {
		if (!vcpu->nmi_injected)
			vcpu->nmi_pending--;
		vcpu->nmi_injected = true;
		vcpu->nmi_masked = true;
		set_intercept_bit(vcpu, INTERCEPT_IRET / 32, IRET_BIT, true);
		inject(vcpu, X86_TRAP_NMI | SVM_EVTINJ_TYPE_NMI, 0);
	} else if (vcpu->irq.pending) {
		inject(vcpu, vcpu->irq.vector | SVM_EVTINJ_TYPE_INTR, 0);
		vcpu->irq.pending = false;
		vcpu->stats.injected_irqs++;
		irq = true;
	}

	/*
	 * The VMM's window (its PIC, KVM_INTERRUPT) only when the APIC would
	 * take an ExtINT, as KVM's kvm_cpu_accept_dm_intr(): with LINT0
	 * masked the window would open at once and again after every
	 * VINTR exit without the guest running an instruction (QEMU's
	 * kernel-irqchip=split asks for it while its PIC has an interrupt).
	 */
	want_window = vcpu->irq.pending ||
		      (vcpu->want_irq_window && yakvm_lapic_accepts_extint(vcpu)) ||
		      kernel_irq_pending(vcpu);
	injecting = vcpu->vmcb->control.event_inj & SVM_EVTINJ_VALID;
	/*
	 * Behind an STI or MOV SS shadow the window is found by stepping
	 * over the shadowed instruction, not by V_IRQ: QEMU's emulated SVM
	 * ignores the VMCB's shadow at VMRUN and takes V_IRQ at once, so an
	 * interrupt would land between a guest's "sti; hlt" and the HLT
	 * would sleep for good (docs/design.md).  A HLT in the shadow exits
	 * before it runs; its handler ends the step, and the interrupt then
	 * wakes the HLT, as on hardware.  An event injected now ends the
	 * shadow itself.
	 */
	shadow_step = want_window && in_shadow(vcpu) && !injecting;
	set_vintr(vcpu, want_window && !shadow_step);
	/*
	 * An NMI waiting behind the IRET of the one in service, or behind a
	 * shadow, or an interrupt behind a shadow: single-step until it can
	 * go in.
	 */
	if (((vcpu->nmi_pending && (vcpu->awaiting_iret || in_shadow(vcpu))) ||
	     shadow_step) && !vcpu->nmi_singlestep && !injecting) {
		vcpu->nmi_singlestep = true;
		vcpu->nmi_singlestep_rflags = vcpu->vmcb->save.rflags &
					      (X86_EFLAGS_TF | X86_EFLAGS_RF);
		vcpu->vmcb->save.rflags |= X86_EFLAGS_TF | X86_EFLAGS_RF;
	}
	if (vcpu->apic) {
		update_cr8_intercept(vcpu);
		yakvm_lapic_sync_to_vmcb(vcpu);
	}
	return irq;
}

/* VINTR #VMEXIT: the guest can take an interrupt now. */
int yakvm_handle_vintr(struct yakvm_vcpu *vcpu)
{
	set_vintr(vcpu, false);
	return 1;
}

/* IRET intercepted (before it runs): NMIs unblock once RIP moved past it. */
int yakvm_handle_iret(struct yakvm_vcpu *vcpu)
{
	set_intercept_bit(vcpu, INTERCEPT_IRET / 32, IRET_BIT, false);
	vcpu->awaiting_iret = true;
	vcpu->iret_rip = vcpu->vmcb->save.rip;
	set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
	return 1;
}

/*
 * The #DB of yakvm's own single-step (NMI window): not the guest's.  The
 * flags go back to what the guest has -- its IRET loaded them.
 */
bool yakvm_nmi_singlestep_db(struct yakvm_vcpu *vcpu)
{
	if (!vcpu->nmi_singlestep)
		return false;
	nmi_singlestep_stop(vcpu);
	set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
	return true;
}

/*
 * After each exit: an event whose delivery was interrupted (EXITINTINFO,
 * APM 15.7.2) is delivered again on the next entry.  Software interrupts
 * and INT3/INTO are not re-injected: without nRIP save their length is
 * unknown, so the instruction is executed again instead (RIP still points
 * at it).  An NMI's IRET completed once RIP left it.
 */
void yakvm_complete_interrupted_event(struct yakvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;
	u32 info = c->exit_int_info;
	u8 vector = info & SVM_EXITINTINFO_VEC_MASK;

	c->event_inj = 0;
	if (vcpu->awaiting_iret && vcpu->vmcb->save.rip != vcpu->iret_rip) {
		vcpu->awaiting_iret = false;
		vcpu->nmi_masked = false;
		set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
	}
	/* An NMI injected on this entry was delivered, unless said below. */
	vcpu->nmi_injected = false;
	if (vcpu->soft.injected) {
		vcpu->soft.injected = false;
		/*
		 * The INT n / INTO yakvm delivered did not complete (a fault
		 * or an intercept during its delivery): RIP goes back to the
		 * instruction, which runs again -- as it would have if it had
		 * been the guest's own INTn interrupted, handled below.
		 */
		if ((info & SVM_EXITINTINFO_VALID) &&
		    (info & SVM_EXITINTINFO_TYPE_MASK) == vcpu->soft.type &&
		    vector == vcpu->soft.vector &&
		    vcpu->vmcb->save.rip == vcpu->soft.next_rip) {
			vcpu->vmcb->save.rip = vcpu->soft.insn_rip;
			return;
		}
	}
	if (!(info & SVM_EXITINTINFO_VALID))
		return;
	switch (info & SVM_EXITINTINFO_TYPE_MASK) {
	case SVM_EXITINTINFO_TYPE_EXEPT:
		if (vector == X86_TRAP_BP || vector == X86_TRAP_OF)
			break;
		vcpu->exception.pending = true;
		vcpu->exception.vector = vector;
		vcpu->exception.has_error = info & SVM_EXITINTINFO_VALID_ERR;
		vcpu->exception.error_code = c->exit_int_info_err;
		break;
	case SVM_EXITINTINFO_TYPE_INTR:
		vcpu->irq.pending = true;
		vcpu->irq.vector = vector;
		vcpu->stats.injected_irqs--;	/* counted again when it lands */
		break;
	case SVM_EXITINTINFO_TYPE_NMI:
		vcpu->nmi_injected = true;
		break;
	default:
		/* INTn re-executes. */
		break;
	}
}

/*
 * KVM_INTERRUPT (api.rst): without an in-kernel irqchip, queue an external
 * interrupt; with a split one, hand over the user-space PIC's ExtINT
 * vector, taken when LINT0 accepts it (-EEXIST while one waits); with the
 * PIC in the kernel, interrupts come through it.
 */
long yakvm_interrupt_ioctl(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_interrupt irq;

	if (copy_from_user(&irq, argp, sizeof(irq)))
		return -EFAULT;
	if (irq.irq >= KVM_NR_INTERRUPTS)
		return -EINVAL;
	if (vcpu->apic) {
		if (!vcpu->vm->irq.split)
			return -ENXIO;
		if (vcpu->user_extint >= 0)
			return -EEXIST;
		vcpu->user_extint = irq.irq;
		set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
		return 0;
	}
	/* As in KVM, a second KVM_INTERRUPT before entry replaces the first. */
	vcpu->irq.pending = true;
	vcpu->irq.vector = irq.irq;
	return 0;
}

/* KVM_NMI: an NMI for the vCPU, with or without the in-kernel irqchip. */
long yakvm_nmi_ioctl(struct yakvm_vcpu *vcpu)
{
	atomic_inc(&vcpu->nmi_queued);
	set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
	return 0;
}

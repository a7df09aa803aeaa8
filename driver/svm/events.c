// SPDX-License-Identifier: GPL-2.0
/*
 * Exceptions and external interrupts for the guest (APM 15.20 "Event
 * Injection", 15.21 "Interrupt and LAPIC Support").
 *
 * Interrupts follow KVM's user-space irqchip ABI: the VMM emulates the PIC,
 * asks for an exit when the guest can take an interrupt
 * (kvm_run.request_interrupt_window -> KVM_EXIT_IRQ_WINDOW_OPEN), and queues
 * one vector at a time with KVM_INTERRUPT, which is delivered on the next
 * entry through EVENTINJ.  The window is found with a virtual interrupt:
 * V_IRQ plus the VINTR intercept make the CPU exit as soon as RFLAGS.IF=1
 * and no interrupt shadow is active.
 */
#include <linux/uaccess.h>

#include "yakvm.h"
#include "cpu/exception_merge.h"

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

/* The guest would accept an external interrupt now. */
bool yakvm_interrupt_allowed(struct yakvm_vcpu *vcpu)
{
	struct vmcb *vmcb = vcpu->vmcb;

	return (vmcb->save.rflags & X86_EFLAGS_IF) &&
	       !(vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK);
}

/* kvm_run.ready_for_interrupt_injection: allowed, and nothing queued. */
bool yakvm_ready_for_interrupt(struct yakvm_vcpu *vcpu)
{
	return yakvm_interrupt_allowed(vcpu) && !vcpu->irq.pending;
}

static void set_vintr(struct yakvm_vcpu *vcpu, bool on)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;
	u32 bit = BIT(INTERCEPT_VINTR % 32);
	u32 *word = &c->intercepts[INTERCEPT_VINTR / 32];
	bool was_on = *word & bit;

	if (on == was_on)
		return;
	if (on) {
		*word |= bit;
		/* Priority 15 and V_IGN_TPR: the window opens whatever the TPR. */
		c->int_ctl |= V_IRQ_MASK | V_INTR_PRIO_MASK | V_IGN_TPR_MASK;
		c->int_vector = 0;
	} else {
		*word &= ~bit;
		c->int_ctl &= ~(V_IRQ_MASK | V_INTR_PRIO_MASK | V_IGN_TPR_MASK);
	}
	yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_INTERCEPTS);
	yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_TPR);
}

/*
 * Before each entry (interrupts off): deliver the pending exception, else
 * the pending interrupt, and arm the interrupt window when one is wanted.
 * EVENTINJ ignores RFLAGS.IF (APM 15.20), so a queued interrupt is delivered
 * as it is: KVM_INTERRUPT is only legal when the guest was ready.
 * Returns true when an external interrupt is being injected.
 */
bool yakvm_inject_events(struct yakvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;
	struct yakvm_event *ex = &vcpu->exception;
	struct yakvm_soft_event *soft = &vcpu->soft;
	bool irq = false;

	if (ex->pending) {
		/* Real mode pushes no error codes (APM 8.2). */
		if (!(vcpu->vmcb->save.cr0 & X86_CR0_PE))
			ex->has_error = false;
		c->event_inj = ex->vector | SVM_EVTINJ_VALID |
			       SVM_EVTINJ_TYPE_EXEPT |
			       (ex->has_error ? SVM_EVTINJ_VALID_ERR : 0);
		c->event_inj_err = ex->error_code;
		ex->pending = false;
		vcpu->stats.injected_exceptions++;
	} else if (soft->pending) {
		c->event_inj = soft->vector | SVM_EVTINJ_VALID | soft->type;
		c->event_inj_err = 0;
		soft->pending = false;
		soft->injected = true;
	} else if (vcpu->irq.pending) {
		c->event_inj = vcpu->irq.vector | SVM_EVTINJ_VALID |
			       SVM_EVTINJ_TYPE_INTR;
		c->event_inj_err = 0;
		vcpu->irq.pending = false;
		vcpu->stats.injected_irqs++;
		irq = true;
	}
	set_vintr(vcpu, vcpu->irq.pending || vcpu->want_irq_window);
	return irq;
}

/* VINTR #VMEXIT: the guest can take an interrupt now. */
int yakvm_handle_vintr(struct yakvm_vcpu *vcpu)
{
	set_vintr(vcpu, false);
	return 1;
}

/*
 * An event that was being delivered when the #VMEXIT hit (EXITINTINFO,
 * APM 15.7.2) is delivered again on the next entry.  Software interrupts and
 * INT3/INTO are not re-injected: without nRIP save their length is unknown,
 * so the instruction is executed again instead (RIP still points at it).
 */
void yakvm_complete_interrupted_event(struct yakvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;
	u32 info = c->exit_int_info;
	u8 vector = info & SVM_EXITINTINFO_VEC_MASK;

	c->event_inj = 0;
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
	default:
		/* INTn re-executes; yakvm never injects NMIs. */
		break;
	}
}

/* KVM_INTERRUPT: queue an external interrupt (user-space irqchip only). */
long yakvm_interrupt_ioctl(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_interrupt irq;

	if (copy_from_user(&irq, argp, sizeof(irq)))
		return -EFAULT;
	if (irq.irq >= KVM_NR_INTERRUPTS)
		return -EINVAL;
	/* As in KVM, a second KVM_INTERRUPT before entry replaces the first. */
	vcpu->irq.pending = true;
	vcpu->irq.vector = irq.irq;
	return 0;
}

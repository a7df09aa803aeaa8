// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU state a VMM saves and restores besides registers and MSRs
 * (api.rst): pending events (KVM_GET/SET_VCPU_EVENTS), the XSAVE area and
 * XCR0 (KVM_GET/SET_XSAVE[2], KVM_GET/SET_XCRS), the debug registers
 * (KVM_GET/SET_DEBUGREGS), the TSC rate (KVM_GET/SET_TSC_KHZ), the signal
 * mask KVM_RUN runs with (KVM_SET_SIGNAL_MASK), and the VAPIC page.
 * Layouts are KVM's, so state saved on KVM loads here and back; a field
 * yakvm cannot restore fails the ioctl rather than being dropped.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>

#include "yakvm.h"

/* ------------------------------------------------------------------ */
/* KVM_GET/SET_VCPU_EVENTS                                            */

#define EVENTS_VALID_FLAGS	(KVM_VCPUEVENT_VALID_NMI_PENDING | \
				 KVM_VCPUEVENT_VALID_SIPI_VECTOR | \
				 KVM_VCPUEVENT_VALID_SHADOW | \
				 KVM_VCPUEVENT_VALID_SMM)

long yakvm_get_vcpu_events(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_vcpu_events ev;

	memset(&ev, 0, sizeof(ev));
	/* Posted NMIs count as pending (KVM's process_nmi()). */
	yakvm_check_events(vcpu);
	/*
	 * An exception yakvm queued (or re-queued from EXITINTINFO) is
	 * delivered on the next entry: KVM reports that as "injected" when
	 * KVM_CAP_EXCEPTION_PAYLOAD is off, the only way yakvm offers.
	 */
	ev.exception.injected = vcpu->exception.pending;
	ev.exception.nr = vcpu->exception.vector;
	ev.exception.has_error_code = vcpu->exception.has_error;
	ev.exception.error_code = vcpu->exception.error_code;
	ev.interrupt.injected = vcpu->irq.pending;
	ev.interrupt.nr = vcpu->irq.vector;
	if (vcpu->vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK)
		ev.interrupt.shadow = KVM_X86_SHADOW_INT_STI | KVM_X86_SHADOW_INT_MOV_SS;
	ev.nmi.injected = vcpu->nmi_injected;
	ev.nmi.pending = vcpu->nmi_pending;
	ev.nmi.masked = vcpu->nmi_masked;
	ev.sipi_vector = vcpu->apic ? yakvm_lapic_sipi_vector(vcpu) : 0;
	ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
		   KVM_VCPUEVENT_VALID_SHADOW;
	return copy_to_user(argp, &ev, sizeof(ev)) ? -EFAULT : 0;
}

long yakvm_set_vcpu_events(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_vcpu_events ev;

	if (copy_from_user(&ev, argp, sizeof(ev)))
		return -EFAULT;
	if (ev.flags & ~EVENTS_VALID_FLAGS)
		return -EINVAL;
	/* No exception payloads (KVM_CAP_EXCEPTION_PAYLOAD is not offered). */
	if (ev.exception.pending || ev.exception_has_payload)
		return -EINVAL;
	if (ev.exception.injected &&
	    (ev.exception.nr > 31 || ev.exception.nr == X86_TRAP_NMI))
		return -EINVAL;
	/* A software interrupt half-delivered cannot be resumed here: refuse it. */
	if (ev.interrupt.injected && ev.interrupt.soft)
		return -EINVAL;
	/* No SMM: only a state outside SMM with nothing pending loads. */
	if ((ev.flags & KVM_VCPUEVENT_VALID_SMM) &&
	    (ev.smi.smm || ev.smi.pending || ev.smi.smm_inside_nmi ||
	     ev.smi.latched_init))
		return -EINVAL;

	vcpu->exception.pending = ev.exception.injected;
	vcpu->exception.vector = ev.exception.nr;
	vcpu->exception.has_error = ev.exception.has_error_code;
	vcpu->exception.error_code = ev.exception.error_code;
	vcpu->irq.pending = ev.interrupt.injected;
	vcpu->irq.vector = ev.interrupt.nr;
	if (ev.flags & KVM_VCPUEVENT_VALID_SHADOW) {
		if (ev.interrupt.shadow)
			vcpu->vmcb->control.int_state |= SVM_INTERRUPT_SHADOW_MASK;
		else
			vcpu->vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	}
	vcpu->nmi_injected = ev.nmi.injected;
	vcpu->nmi_masked = ev.nmi.masked;
	if (ev.flags & KVM_VCPUEVENT_VALID_NMI_PENDING) {
		atomic_set(&vcpu->nmi_queued, 0);
		vcpu->nmi_pending = min_t(u32, ev.nmi.pending, 2);
	}
	if ((ev.flags & KVM_VCPUEVENT_VALID_SIPI_VECTOR) && vcpu->apic)
		yakvm_lapic_set_sipi_vector(vcpu, ev.sipi_vector);
	set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
	return 0;
}

/* ------------------------------------------------------------------ */
/* XSAVE and XCRs                                                     */

/*
 * KVM_GET_XSAVE and KVM_GET_XSAVE2: KVM_CAP_XSAVE2 says 4 KiB, which holds
 * every component yakvm switches (x87, SSE, AVX), so the two are the same.
 */
long yakvm_get_xsave(struct yakvm_vcpu *vcpu, void __user *argp, bool xsave2)
{
	u32 size = sizeof(struct kvm_xsave);
	void *buf;
	long r = 0;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return -EINVAL;
	buf = kvzalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	fpu_copy_guest_fpstate_to_uabi(&vcpu->guest_fpu, buf, size,
				       yakvm_supported_xcr0() | XFEATURE_MASK_FPSSE, vcpu->pkru);
	if (copy_to_user(argp, buf, size))
		r = -EFAULT;
	kvfree(buf);
	return r;
}

long yakvm_set_xsave(struct yakvm_vcpu *vcpu, void __user *argp)
{
	u32 size = sizeof(struct kvm_xsave);
	void *buf;
	long r;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return -EINVAL;
	buf = vmemdup_user(argp, size);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	/* Refuses components yakvm does not switch and reserved header bits. */
	r = fpu_copy_uabi_to_guest_fpstate(&vcpu->guest_fpu, buf,
					   yakvm_supported_xcr0(), &vcpu->pkru);
	kvfree(buf);
	return r;
}

long yakvm_get_xcrs(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_xcrs xcrs;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return -EINVAL;
	memset(&xcrs, 0, sizeof(xcrs));
	xcrs.nr_xcrs = 1;
	xcrs.xcrs[0].xcr = XCR_XFEATURE_ENABLED_MASK;
	xcrs.xcrs[0].value = vcpu->xcr0;
	return copy_to_user(argp, &xcrs, sizeof(xcrs)) ? -EFAULT : 0;
}

/* An XCR0 value the guest could have set with XSETBV (exit.c's rules). */
bool yakvm_xcr0_valid(struct yakvm_vcpu *vcpu, u64 val)
{
	return (val & XFEATURE_MASK_FP) && !(val & ~yakvm_guest_xcr0_mask(vcpu)) &&
	       (!(val & XFEATURE_MASK_YMM) || (val & XFEATURE_MASK_SSE));
}

long yakvm_set_xcrs(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_xcrs xcrs;
	u32 i;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return -EINVAL;
	if (copy_from_user(&xcrs, argp, sizeof(xcrs)))
		return -EFAULT;
	if (xcrs.flags || xcrs.nr_xcrs > KVM_MAX_XCRS)
		return -EINVAL;
	for (i = 0; i < xcrs.nr_xcrs; i++)
		if (xcrs.xcrs[i].xcr != XCR_XFEATURE_ENABLED_MASK ||
		    !yakvm_xcr0_valid(vcpu, xcrs.xcrs[i].value))
			return -EINVAL;
	for (i = 0; i < xcrs.nr_xcrs; i++)
		vcpu->xcr0 = xcrs.xcrs[i].value;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Debug registers                                                    */

long yakvm_get_debugregs(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_debugregs d;

	memset(&d, 0, sizeof(d));
	memcpy(d.db, vcpu->dr, sizeof(d.db));
	d.dr6 = vcpu->vmcb->save.dr6;
	d.dr7 = vcpu->dr7;
	return copy_to_user(argp, &d, sizeof(d)) ? -EFAULT : 0;
}

long yakvm_set_debugregs(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_debugregs d;

	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	/* As KVM: no flags, and DR6/DR7's upper halves are reserved. */
	if (d.flags || (d.dr6 >> 32) || (d.dr7 >> 32))
		return -EINVAL;
	memcpy(vcpu->dr, d.db, sizeof(vcpu->dr));
	vcpu->vmcb->save.dr6 = (d.dr6 & YAKVM_DR6_VOLATILE) | YAKVM_DR6_FIXED_1;
	vcpu->dr7 = d.dr7 | YAKVM_DR7_INIT;
	yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_DR);
	return 0;
}

/* ------------------------------------------------------------------ */
/* TSC rate, signal mask, VAPIC                                       */

/* The guest's TSC runs at the host's rate: no TSC scaling (no KVM_CAP_TSC_CONTROL). */
long yakvm_get_tsc_khz(struct yakvm_vcpu *vcpu)
{
	return tsc_khz ? tsc_khz : -EIO;
}

/* Only the host's own rate, within KVM's tolerance of 250 ppm, can be "set". */
long yakvm_set_tsc_khz(struct yakvm_vcpu *vcpu, unsigned long khz)
{
	u64 tolerance = (u64)tsc_khz * 250 / 1000000;

	if (!tsc_khz)
		return -EIO;
	return khz + tolerance >= tsc_khz && khz <= tsc_khz + tolerance ? 0 : -EINVAL;
}

/*
 * KVM_SET_SIGNAL_MASK: the signals blocked while KVM_RUN runs the guest
 * (api.rst); a NULL argument removes the mask.
 */
long yakvm_set_signal_mask(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_signal_mask __user *user = argp;
	struct kvm_signal_mask head;
	sigset_t set;

	if (!argp) {
		vcpu->sigset_active = false;
		return 0;
	}
	if (copy_from_user(&head, user, sizeof(head)))
		return -EFAULT;
	if (head.len != sizeof(set))
		return -EINVAL;
	if (copy_from_user(&set, user->sigset, sizeof(set)))
		return -EFAULT;
	sigdelsetmask(&set, sigmask(SIGKILL) | sigmask(SIGSTOP));
	vcpu->sigset = set;
	vcpu->sigset_active = true;
	return 0;
}

/* Around KVM_RUN: run with the VMM's mask, and give the thread its own back. */
void yakvm_sigset_activate(struct yakvm_vcpu *vcpu)
{
	if (vcpu->sigset_active)
		sigprocmask(SIG_SETMASK, &vcpu->sigset, &current->real_blocked);
}

void yakvm_sigset_deactivate(struct yakvm_vcpu *vcpu)
{
	if (!vcpu->sigset_active)
		return;
	sigprocmask(SIG_SETMASK, &current->real_blocked, NULL);
	sigemptyset(&current->real_blocked);
}

/*
 * KVM_SET_VAPIC_ADDR: the TPR shadow page of KVM_CAP_VAPIC, which yakvm
 * does not offer; QEMU's in-kernel APIC still clears it (address 0) at
 * every reset, which is what "no VAPIC" already is.
 */
long yakvm_set_vapic_addr(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_vapic_addr va;

	if (!vcpu->apic)
		return -EINVAL;
	if (copy_from_user(&va, argp, sizeof(va)))
		return -EFAULT;
	return va.vapic_addr ? -EINVAL : 0;
}

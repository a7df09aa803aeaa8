// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_RUN: the loop that enters the guest, handles exits in the kernel and
 * returns to user space when user space has work to do.
 *
 * Each entry runs with preemption and interrupts disabled and GIF=0 around
 * VMRUN; between entries the loop is preemptible, reacts to signals, and
 * notices that it moved to another CPU (fresh ASID, all VMCB state dirty).
 */
#define pr_fmt(fmt) "yakvm: " fmt

#include <linux/context_tracking.h>
#include <linux/moduleparam.h>
#include <linux/hw_breakpoint.h>
#include <linux/sched.h>
#include <linux/rcuwait.h>
#include <linux/sched/signal.h>
#include <linux/user-return-notifier.h>
#include <linux/vtime.h>
#include <asm/asm.h>
#include <asm/debugreg.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/mce.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/special_insns.h>
#include <asm/spec-ctrl.h>

#include "yakvm.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/*
 * QEMU's emulated SVM delivers an external interrupt injected through
 * EVENTINJ inside VMRUN but leaves it recorded as a pending exception; if
 * QEMU's vCPU thread is asked to exit before the guest's next #VMEXIT, it
 * delivers the same vector a second time, wherever the guest then is --
 * typically with interrupts disabled in the handler of the first copy,
 * which deadlocks a Linux guest on the i8259 lock (docs/design.md).  A
 * pending host interrupt makes the CPU exit right after the injection and
 * closes that window.  Real AMD hardware does not need it: by default the
 * extra exit is only taken when yakvm itself runs under a hypervisor.
 */
static int inject_kick = -1;
module_param(inject_kick, int, 0644);
MODULE_PARM_DESC(inject_kick,
		 "Exit right after injecting an interrupt (-1: only when nested, 0: never, 1: always)");

static bool want_inject_kick(void)
{
	int mode = READ_ONCE(inject_kick);

	return mode > 0 || (mode < 0 && boot_cpu_has(X86_FEATURE_HYPERVISOR));
}

/*
 * Make @vcpu look at its events again (an interrupt, an NMI, INIT/SIPI, a
 * timer): the request is set first, then a sleeping vCPU is woken, or one
 * in guest mode gets an IPI that ends its VMRUN.  Any context.
 */
void yakvm_vcpu_kick(struct yakvm_vcpu *vcpu)
{
	int cpu;

	set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
	/* Pairs with the barrier between mode = IN_GUEST and the request check. */
	smp_mb__after_atomic();
	if (rcuwait_wake_up(&vcpu->wait))
		return;
	cpu = READ_ONCE(vcpu->cpu);
	if (READ_ONCE(vcpu->mode) == YAKVM_IN_GUEST && cpu >= 0 &&
	    cpu != raw_smp_processor_id())
		smp_send_reschedule(cpu);
}

/* Bits of the VMCB clean field (APM 15.15.3) that yakvm tracks. */
#define VMCB_CLEAN_ALL	(BIT(YAKVM_DIRTY_LBR + 1) - 1)

static void assign_asid(struct yakvm_vcpu *vcpu, struct yakvm_cpu *pcpu)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;

	/*
	 * ASIDs are handed out per CPU; when they run out a new generation
	 * starts with a flush of every ASID, so an ASID is never reused while
	 * the TLB may still hold its old translations (APM 15.16).
	 */
	if (pcpu->next_asid > pcpu->max_asid) {
		pcpu->asid_generation++;
		pcpu->next_asid = 1;
		c->tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
	}
	vcpu->asid_generation = pcpu->asid_generation;
	c->asid = pcpu->next_asid++;
	yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_ASID);
	vcpu->stats.asid_allocs++;
}

static __always_inline void stgi(void)
{
	asm volatile("stgi" ::: "memory");
}

/* RCU and time accounting see guest mode as KVM's guest_enter does. */
static __always_inline void guest_context_enter(void)
{
	vtime_account_guest_enter();
	if (!context_tracking_guest_enter())
		yakvm_rcu_virt_note_context_switch();
}

/*
 * TSC_AUX is not switched by VMRUN, and the guest can read the CPU's value
 * without an exit: RDPID cannot be intercepted, and RDTSCP's intercept is
 * not honoured everywhere (QEMU's emulated SVM ignores it).  So the guest's
 * value is in the MSR while it runs.  The host only uses its own value in
 * user space (RDTSCP/RDPID for getcpu), so it is put back lazily, when the
 * thread returns to user space (a user-return notifier, as KVM does),
 * not after every exit the module handles itself.
 */
static bool has_tsc_aux(void)
{
	return boot_cpu_has(X86_FEATURE_RDTSCP) || boot_cpu_has(X86_FEATURE_RDPID);
}

static void tsc_aux_user_return(struct user_return_notifier *urn)
{
	struct yakvm_cpu *pcpu = container_of(urn, struct yakvm_cpu, tsc_aux_urn);
	unsigned long flags;

	/* An IPI disabling SVM here (yakvm_svm_drop_tsc_aux) may race with us. */
	local_irq_save(flags);
	if (pcpu->tsc_aux_registered) {
		pcpu->tsc_aux_registered = false;
		user_return_notifier_unregister(urn);
	}
	if (pcpu->tsc_aux_current != pcpu->tsc_aux_host) {
		wrmsrl(MSR_TSC_AUX, pcpu->tsc_aux_host);
		pcpu->tsc_aux_current = pcpu->tsc_aux_host;
		pcpu->tsc_aux_writes++;
	}
	local_irq_restore(flags);
}

/* Called with interrupts off on the CPU that is about to run @vcpu. */
static void load_guest_tsc_aux(struct yakvm_vcpu *vcpu, struct yakvm_cpu *pcpu)
{
	if (!has_tsc_aux() || pcpu->tsc_aux_current == vcpu->tsc_aux)
		return;
	wrmsrl(MSR_TSC_AUX, vcpu->tsc_aux);
	pcpu->tsc_aux_current = vcpu->tsc_aux;
	pcpu->tsc_aux_writes++;
	if (!pcpu->tsc_aux_registered) {
		pcpu->tsc_aux_urn.on_user_return = tsc_aux_user_return;
		user_return_notifier_register(&pcpu->tsc_aux_urn);
		pcpu->tsc_aux_registered = true;
	}
}

/* SVM is being turned off here (IRQs off): the host's value goes back now. */
void yakvm_svm_drop_tsc_aux(struct yakvm_cpu *pcpu)
{
	if (pcpu->tsc_aux_registered)
		tsc_aux_user_return(&pcpu->tsc_aux_urn);
}

/*
 * On an #MC intercept the host's machine-check handler has not run: call it
 * now, on the CPU that took the #MC and before anything could move the
 * thread (as KVM's svm_handle_mce).  The guest is not told.
 */
static void handle_host_machine_check(void)
{
#ifdef CONFIG_X86_MCE
	struct pt_regs regs = {
		.cs = 3,	/* report it as user mode: the guest, not the host kernel */
		.flags = X86_EFLAGS_IF,
	};

	do_machine_check(&regs);
#endif
}

/*
 * One VMRUN.  Returns 0 after a #VMEXIT (the exit is in the VMCB), 1 when the
 * entry was abandoned to handle a request, a signal or a reschedule first,
 * and < 0 when this CPU cannot run guests.
 */
static int vcpu_enter_guest(struct yakvm_vcpu *vcpu)
{
	struct vmcb *vmcb = vcpu->vmcb;
	struct yakvm_cpu *pcpu;
	u64 host_xcr0 = 0;
	u32 host_pkru = 0;
	bool flush;
	int cpu;

	preempt_disable();
	local_irq_disable();

	cpu = smp_processor_id();
	pcpu = yakvm_this_cpu();
	if (!pcpu->enabled) {
		local_irq_enable();
		preempt_enable();
		return -EBUSY;
	}

	WRITE_ONCE(vcpu->cpu, cpu);
	WRITE_ONCE(vcpu->mode, YAKVM_IN_GUEST);
	/* Pairs with the barrier in yakvm_vm_kick_all() after setting a request. */
	smp_mb();
	flush = test_and_clear_bit(ilog2(YAKVM_REQ_TLB_FLUSH), &vcpu->requests);
	/* A timer the vCPU's thread marked itself is processed first. */
	if (need_resched() || signal_pending(current) ||
	    (READ_ONCE(vcpu->requests) & (YAKVM_REQ_EVENT | YAKVM_REQ_HV_STIMER))) {
		WRITE_ONCE(vcpu->mode, YAKVM_OUTSIDE_GUEST);
		if (flush)
			set_bit(ilog2(YAKVM_REQ_TLB_FLUSH), &vcpu->requests);
		local_irq_enable();
		preempt_enable();
		return 1;
	}

	/*
	 * The guest's FPU registers are reloaded only now, with interrupts
	 * off: an interrupt that uses the FPU (kernel_fpu_begin) saves them
	 * and sets TIF_NEED_FPU_LOAD, and one arriving after an earlier check
	 * would leave its own data in the registers VMRUN hands the guest.
	 */
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();

	if (vcpu->last_cpu != cpu || pcpu->last_vmcb != vmcb) {
		/* Another CPU's TLB or another vCPU's VMCB cache: start clean. */
		vmcb->control.clean = 0;
		if (pcpu->last_vmcb != vmcb)
			indirect_branch_prediction_barrier();
		pcpu->last_vmcb = vmcb;
	}
	if (vcpu->last_cpu != cpu)
		vcpu->asid_generation = 0;
	vcpu->last_cpu = cpu;
	if (flush) {
		if (yakvm_svm.flush_by_asid)
			vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ASID;
		else
			vcpu->asid_generation = 0;
	}
	if (vcpu->asid_generation != pcpu->asid_generation)
		assign_asid(vcpu, pcpu);

	if (yakvm_inject_events(vcpu) && want_inject_kick())
		irq_work_queue(&pcpu->inject_kick);
	vmcb->save.rax = vcpu->regs[YAKVM_RAX];
	vmcb->save.rsp = vcpu->regs[YAKVM_RSP];

	trace_yakvm_entry(vcpu->vm->id, vcpu->id, vmcb->save.rip,
			  vmcb->save.rflags, vmcb->control.event_inj,
			  vmcb->control.int_ctl);
	guest_context_enter();
	if (!__yakvm_clgi()) {
		context_tracking_guest_exit();
		vtime_account_guest_exit();
		WRITE_ONCE(vcpu->mode, YAKVM_OUTSIDE_GUEST);
		local_irq_enable();
		preempt_enable();
		return -EBUSY;
	}
	if (boot_cpu_has(X86_FEATURE_XSAVE)) {
		host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
		if (vcpu->xcr0 != host_xcr0)
			xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0);
	}
	/*
	 * PKRU is not switched by VMRUN, and a guest whose CPUID offers PKU
	 * may set CR4.PKE: keep its value away from the host.
	 */
	if (cpu_feature_enabled(X86_FEATURE_OSPKE)) {
		host_pkru = rdpkru();
		if (vcpu->pkru != host_pkru)
			wrpkru(vcpu->pkru);
	}
	load_guest_tsc_aux(vcpu, pcpu);
	vcpu->stats.entries++;
	vcpu->ran = true;

	/*
	 * RFLAGS.IF=1 at VMRUN: with V_INTR_MASKING the host's IF is what
	 * lets physical interrupts exit the guest (APM 15.21.1); GIF=0 keeps
	 * them pending until STGI.  IF is set here, well before VMRUN, never
	 * by an STI right in front of it: QEMU's emulated SVM carries the
	 * shadow of such an STI into the guest, where a guest STI as the
	 * first instruction then has no shadow of its own, and an interrupt
	 * lands between its "sti; hlt", which then sleeps for good
	 * (docs/design.md).  KVM avoids STI+VMRUN for AMD CPUs too, which
	 * leak that shadow into the guest's state when an event delivery
	 * during VMRUN exits.
	 */
	raw_local_irq_enable();
	__yakvm_vmrun(vcpu->regs, vcpu->vmcb_pa, pcpu->host_vmsave_pa);
	raw_local_irq_disable();

	if (cpu_feature_enabled(X86_FEATURE_OSPKE)) {
		vcpu->pkru = rdpkru();
		if (vcpu->pkru != host_pkru)
			wrpkru(host_pkru);
	}
	if (host_xcr0 && vcpu->xcr0 != host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, host_xcr0);
	stgi();
	context_tracking_guest_exit();
	WRITE_ONCE(vcpu->mode, YAKVM_OUTSIDE_GUEST);
	trace_yakvm_exit(vcpu->vm->id, vcpu->id, vmcb->control.exit_code,
			 vmcb->save.rip, vmcb->control.exit_info_1,
			 vmcb->control.exit_info_2, vmcb->control.exit_int_info);

	vcpu->regs[YAKVM_RAX] = vmcb->save.rax;
	vcpu->regs[YAKVM_RSP] = vmcb->save.rsp;
	vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	vmcb->control.clean = yakvm_svm.vmcb_clean ? VMCB_CLEAN_ALL : 0;
	/* #VMEXIT disabled the host's breakpoints (APM 15.5.1). */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	if (unlikely(vmcb->control.exit_code == SVM_EXIT_EXCP_BASE + X86_TRAP_MC))
		handle_host_machine_check();
	yakvm_complete_interrupted_event(vcpu);
	if (vcpu->apic)
		yakvm_lapic_sync_from_vmcb(vcpu);
	vcpu->stats.exits++;

	/*
	 * VMSCAPE (CVE-2025-40300): the guest may have trained the branch
	 * predictors the VMM's user-space code will run on; where the host
	 * asks for it, this CPU flushes them before returning to user space.
	 * Set here, before preemption is enabled, so it is the CPU that ran
	 * the guest that flushes.
	 */
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);

	/* The host interrupt that caused an INTR exit is taken here. */
	local_irq_enable();
	local_irq_disable();
	vtime_account_guest_exit();
	local_irq_enable();
	preempt_enable();
	return 0;
}

/* Finish the instruction whose data user space supplied (api.rst, KVM_RUN). */
static int complete_user_exit(struct yakvm_vcpu *vcpu)
{
	enum yakvm_pending_user pending = vcpu->pending;

	vcpu->pending = YAKVM_USER_NONE;
	switch (pending) {
	case YAKVM_USER_PIO:
		return yakvm_complete_pio(vcpu);
	case YAKVM_USER_MMIO_READ:
		return yakvm_complete_mmio_read(vcpu);
	case YAKVM_USER_HV_HCALL:
		return yakvm_hv_complete_hcall(vcpu);
	default:
		return 1;
	}
}

static void post_run(struct yakvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vmcb *vmcb = vcpu->vmcb;

	run->if_flag = !!(vmcb->save.rflags & X86_EFLAGS_IF);
	run->cr8 = yakvm_get_cr8(vcpu);
	run->apic_base = vcpu->apic_base;
	/* With the PIC in the kernel, user space never injects (as KVM). */
	run->ready_for_interrupt_injection = vcpu->vm->irq.pic ||
					     yakvm_ready_for_interrupt(vcpu);
	run->flags = 0;
}

/*
 * Sleep until something is posted for this vCPU (yakvm_vcpu_kick) or a
 * signal arrives: a halted vCPU uses no CPU (the APIC timer's hrtimer and
 * every other interrupt source kick it).
 */
static void vcpu_block(struct yakvm_vcpu *vcpu)
{
	rcuwait_wait_event(&vcpu->wait,
			   (READ_ONCE(vcpu->requests) &
			    (YAKVM_REQ_EVENT | YAKVM_REQ_HV_STIMER)) ||
			   signal_pending(current), TASK_INTERRUPTIBLE);
}

/* Takes in the posted events; false while the vCPU must not run (halted, no SIPI). */
static bool vcpu_runnable(struct yakvm_vcpu *vcpu)
{
	clear_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
	/* Events posted after the clear set the request again. */
	smp_mb__after_atomic();
	yakvm_check_events(vcpu);
	if (vcpu->mp_state == KVM_MP_STATE_HALTED && yakvm_has_wake_event(vcpu))
		vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
	return vcpu->mp_state == KVM_MP_STATE_RUNNABLE;
}

/*
 * A vCPU that never got INIT/SIPI (an AP at creation): as KVM, KVM_RUN
 * waits once for an event, takes it in and returns -EAGAIN, so user space
 * calls again; a signal gives -EINTR and KVM_EXIT_INTR.
 */
static int run_uninitialized(struct yakvm_vcpu *vcpu)
{
	if (yakvm_run_immediate_exit(vcpu->run))
		return -EINTR;
	/* Events already posted are taken in; else wait for the next one. */
	vcpu_runnable(vcpu);
	if (vcpu->mp_state == KVM_MP_STATE_UNINITIALIZED) {
		vcpu_block(vcpu);
		vcpu_runnable(vcpu);
	}
	if (signal_pending(current)) {
		vcpu->run->exit_reason = KVM_EXIT_INTR;
		vcpu->stats.signal_exits++;
		return -EINTR;
	}
	return -EAGAIN;
}

int yakvm_vcpu_run(struct yakvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	u64 cr8 = READ_ONCE(run->cr8);
	int r;

	/*
	 * Every field user space may write is read once, into a local, and
	 * only the local is checked and used: another thread can change the
	 * page at any time.  Without an in-kernel APIC, user space owns the
	 * TPR (api.rst, "cr8").
	 */
	if (!vcpu->apic) {
		if (cr8 > 15) {
			r = -EINVAL;
			goto out;
		}
		vcpu->vmcb->control.int_ctl &= ~V_TPR_MASK;
		vcpu->vmcb->control.int_ctl |= cr8;
		yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_TPR);
	}
	/* With the PIC in the kernel, user space injects nothing (as KVM). */
	vcpu->want_irq_window = READ_ONCE(run->request_interrupt_window) &&
				!vcpu->vm->irq.pic;

	if (vcpu->mp_state == KVM_MP_STATE_UNINITIALIZED) {
		r = run_uninitialized(vcpu);
		goto out;
	}
	r = complete_user_exit(vcpu);
	if (r <= 0)
		goto out;
	if (yakvm_run_immediate_exit(run)) {
		r = -EINTR;
		goto out;
	}

	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, true);
	for (;;) {
		if (signal_pending(current)) {
			run->exit_reason = KVM_EXIT_INTR;
			vcpu->stats.signal_exits++;
			r = -EINTR;
			break;
		}
		if (vcpu->shutdown) {
			r = yakvm_user_exit(vcpu, KVM_EXIT_SHUTDOWN);
			vcpu->shutdown = false;
			yakvm_vcpu_reset(vcpu);
			break;
		}
		if (vcpu->step_completed) {
			r = yakvm_complete_step(vcpu);
			if (r <= 0)
				break;
		}
		if (test_and_clear_bit(ilog2(YAKVM_REQ_IOAPIC_EOI), &vcpu->requests)) {
			run->eoi.vector = vcpu->ioapic_eoi_vector;
			r = yakvm_user_exit(vcpu, KVM_EXIT_IOAPIC_EOI);
			break;
		}
		/* A guest write of SCONTROL, SIEFP or SIMP (irq/synic.c). */
		if (test_and_clear_bit(ilog2(YAKVM_REQ_HV_EXIT), &vcpu->requests)) {
			run->hyperv = vcpu->hv.exit;
			r = yakvm_user_exit(vcpu, KVM_EXIT_HYPERV);
			break;
		}
		if (test_bit(ilog2(YAKVM_REQ_HV_STIMER), &vcpu->requests))
			yakvm_synic_process_stimers(vcpu);
		cond_resched();
		if (!vcpu_runnable(vcpu)) {
			vcpu_block(vcpu);
			continue;
		}
		/*
		 * kvmclock's (TSC, time) pair is rewritten in process context:
		 * when asked, and when the thread moved to another CPU, whose
		 * TSC may not agree with the last one's.
		 */
		if (vcpu->kvmclock_msr && vcpu->kvmclock_cpu != raw_smp_processor_id())
			set_bit(ilog2(YAKVM_REQ_CLOCK_UPDATE), &vcpu->requests);
		if (test_and_clear_bit(ilog2(YAKVM_REQ_CLOCK_UPDATE), &vcpu->requests)) {
			vcpu->kvmclock_cpu = raw_smp_processor_id();
			yakvm_kvmclock_update(vcpu);
		}
		r = vcpu_enter_guest(vcpu);
		if (r > 0)
			continue;
		if (r < 0)
			break;
		r = yakvm_handle_exit(vcpu);
		if (r <= 0)
			break;
		if (vcpu->want_irq_window && yakvm_ready_for_interrupt(vcpu)) {
			r = yakvm_user_exit(vcpu, KVM_EXIT_IRQ_WINDOW_OPEN);
			break;
		}
	}
	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, false);
out:
	post_run(vcpu);
	return r;
}

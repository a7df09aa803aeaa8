// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-V's clock for guests that ask for it (Hyper-V TLFS 6.0, chapters 3
 * and 12): the partition reference counter (HV_X64_MSR_TIME_REF_COUNT, 100
 * ns units) and the reference TSC page (HV_X64_MSR_REFERENCE_TSC), with
 * the two MSRs every Hyper-V guest writes first, the guest OS ID and the
 * hypercall page; the VP index; the hypercall ABI, with the SynIC's
 * HvPostMessage and HvSignalEvent (irq/synic.c has the SynIC and the
 * synthetic timers).  No TLB-flush or IPI hypercalls, no crash, reset,
 * frequency or VP-runtime MSRs -- KVM_GET_SUPPORTED_HV_CPUID says exactly
 * this, so QEMU's hv-passthrough turns on hv-time, hv-vpindex, hv-synic,
 * hv-stimer and hv-stimer-direct (and the relaxed-timing hint, which asks
 * nothing of the hypervisor).
 *
 * As in KVM, the guest reaches these MSRs only when its CPUID carries the
 * Hyper-V interface signature ("Hv#1" in 0x40000001 EAX, which the VMM
 * sets); a VMM reaches them always.  The reference time is the VM's clock
 * (KVM_GET_CLOCK) in 100 ns units, so a VMM's save and restore of the clock
 * carries it, and a guest's time goes on across a migration between yakvm
 * and KVM, which define it the same way.
 *
 * The TSC page holds scale and offset with time = ((tsc * scale) >> 64) +
 * offset, taken from kvmclock's master pair (cpu/kvmclock.c): valid only
 * while every vCPU has the same TSC offset, as KVM's needs its master
 * clock; otherwise its sequence is 0 and the guest reads the MSR.  While
 * the page is valid the MSR is computed from the same line with the
 * reading vCPU's TSC, so the page and the MSR never disagree.  Left as it
 * is for now: the master pair is retaken only by KVM_SET_CLOCK, while
 * KVM_GET_CLOCK and the MSR without a valid page follow CLOCK_BOOTTIME, so
 * the two drift apart by the TSC's calibration error (KVM computes its
 * clock from the master line while it has one); a migration or the page
 * going invalid moves the guest's time by that drift.
 *
 * Locks: vm->hv_lock (the Hyper-V state, the page's writer) is taken
 * before vm->tsc_lock (the master pair) and before guest memory accesses.
 */
#include <linux/math64.h>
#include <asm/hyperv-tlfs.h>
#include <asm/tsc.h>

#include "yakvm.h"

/* "Hv#1" (TLFS 2.4.2): the interface a guest's CPUID says it gets. */
#define HV_INTERFACE_SIGNATURE	0x31237648
/* The leaves KVM_GET_SUPPORTED_HV_CPUID returns: 0x40000000-0x40000005. */
#define HV_CPUID_LEAVES		6

/* Hyper-V time from the VM clock: 100 ns units. */
static u64 clock_ref_time(struct yakvm_vm *vm)
{
	return div_u64(yakvm_vm_clock_ns(vm), 100);
}

/* The reference time @vcpu reads (TIME_REF_COUNT), under hv_lock. */
static u64 ref_time_locked(struct yakvm_vcpu *vcpu)
{
	struct yakvm_hv *hv = &vcpu->vm->hv;

	if (hv->page_valid)
		return mul_u64_u64_shr(yakvm_guest_tsc(vcpu), hv->scale, 64) +
		       hv->offset;
	return clock_ref_time(vcpu->vm);
}

/* The same for the synthetic timers, which count it (irq/synic.c). */
u64 yakvm_hv_ref_time(struct yakvm_vcpu *vcpu)
{
	u64 t;

	mutex_lock(&vcpu->vm->hv_lock);
	t = ref_time_locked(vcpu);
	mutex_unlock(&vcpu->vm->hv_lock);
	return t;
}

/*
 * The page's parameters for the line through (@guest_tsc, @ns): scale is
 * 2^64 * 10^7 / TSC Hz, i.e. 2^63 * 20000 / TSC kHz (no overflow while the
 * TSC runs above 10 MHz).
 */
static void page_line(u64 guest_tsc, u64 ns, u64 *scale, s64 *offset)
{
	*scale = mul_u64_u64_div_u64(1ULL << 63, 20000, tsc_khz);
	*offset = div_u64(ns, 100) - mul_u64_u64_shr(guest_tsc, *scale, 64);
}

/*
 * Writes the TSC page afresh (TLFS 12.7.3): sequence 0 while the rest
 * changes, then the next sequence (never 0 or 0xffffffff, which mean
 * "use the MSR").  With no master pair the page stays at 0.  Under hv_lock.
 */
static void write_tsc_page(struct yakvm_vm *vm)
{
	struct yakvm_hv *hv = &vm->hv;
	u64 gpa = hv->reference_tsc & PAGE_MASK;
	struct ms_hyperv_tsc_page page = {};
	u64 guest_tsc, ns;
	u32 seq = 0, invalid = 0;

	hv->page_valid = false;
	if (!(hv->reference_tsc & HV_X64_MSR_TSC_REFERENCE_ENABLE))
		return;
	if (yakvm_read_gpa(vm, gpa, &seq, sizeof(seq)))
		return;		/* not guest memory: nothing to write, as KVM */
	if (yakvm_write_gpa(vm, gpa, &invalid, sizeof(invalid)))
		return;
	if (!tsc_khz || !yakvm_kvmclock_master(vm, &guest_tsc, &ns))
		return;
	page_line(guest_tsc, ns, &hv->scale, &hv->offset);
	page.tsc_scale = hv->scale;
	page.tsc_offset = hv->offset;
	/* The guest sees sequence 0 until every field is in place. */
	smp_wmb();
	if (yakvm_write_gpa(vm, gpa, &page, sizeof(page)))
		return;
	seq++;
	if (!seq || seq == U32_MAX)
		seq = 1;
	/* Every field before the valid sequence. */
	smp_wmb();
	if (yakvm_write_gpa(vm, gpa, &seq, sizeof(seq)))
		return;
	hv->page_valid = true;
}

/* The master pair changed (KVM_SET_CLOCK, a TSC write): the page too. */
void yakvm_hv_clock_changed(struct yakvm_vm *vm)
{
	mutex_lock(&vm->hv_lock);
	if (vm->hv.reference_tsc & HV_X64_MSR_TSC_REFERENCE_ENABLE)
		write_tsc_page(vm);
	mutex_unlock(&vm->hv_lock);
}

/* Whether the guest's CPUID offers the Hyper-V interface (TLFS 2.4.2). */
static bool guest_has_hyperv(struct yakvm_vcpu *vcpu)
{
	return yakvm_guest_cpuid_eax(vcpu, HYPERV_CPUID_INTERFACE) ==
	       HV_INTERFACE_SIGNATURE;
}

/* The hypercall page (TLFS 3.13): VMMCALL; RET, the AMD form. */
static int write_hypercall_page(struct yakvm_vm *vm, u64 data)
{
	static const u8 code[] = { 0x0f, 0x01, 0xd9, 0xc3 };

	return yakvm_write_gpa(vm, data & HV_X64_MSR_HYPERCALL_PAGE_ADDRESS_MASK,
			       code, sizeof(code)) ? 1 : 0;
}

/* SynIC and synthetic-timer MSRs: irq/synic.c's. */
static bool is_synic_msr(u32 index)
{
	return index >= HV_X64_MSR_SCONTROL && index <= HV_X64_MSR_STIMER3_COUNT;
}

int yakvm_hv_get_msr(struct yakvm_vcpu *vcpu, u32 index, u64 *data, bool host)
{
	struct yakvm_vm *vm = vcpu->vm;
	struct yakvm_hv *hv = &vm->hv;

	if (!host && !guest_has_hyperv(vcpu))
		return 1;
	if (is_synic_msr(index))
		return yakvm_synic_get_msr(vcpu, index, data, host);
	mutex_lock(&vm->hv_lock);
	switch (index) {
	case HV_X64_MSR_GUEST_OS_ID:
		*data = hv->guest_os_id;
		break;
	case HV_X64_MSR_HYPERCALL:
		*data = hv->hypercall;
		break;
	case HV_X64_MSR_REFERENCE_TSC:
		*data = hv->reference_tsc;
		break;
	case HV_X64_MSR_TIME_REF_COUNT:
		*data = ref_time_locked(vcpu);
		break;
	case HV_X64_MSR_VP_INDEX:
		*data = vcpu->hv.vp_index;
		break;
	}
	mutex_unlock(&vm->hv_lock);
	return 0;
}

int yakvm_hv_set_msr(struct yakvm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct yakvm_vm *vm = vcpu->vm;
	struct yakvm_hv *hv = &vm->hv;
	int r = 0;

	if (!host && !guest_has_hyperv(vcpu))
		return 1;
	if (is_synic_msr(index))
		return yakvm_synic_set_msr(vcpu, index, data, host);
	mutex_lock(&vm->hv_lock);
	switch (index) {
	case HV_X64_MSR_VP_INDEX:
		/* The VMM's to set (KVM_CAP_HYPERV_VP_INDEX), read-only to the guest. */
		if (!host || (u32)data >= YAKVM_MAX_VCPUS)
			r = 1;
		else
			WRITE_ONCE(vcpu->hv.vp_index, (u32)data);
		break;
	case HV_X64_MSR_GUEST_OS_ID:
		/* No OS ID, no hypercalls (TLFS 3.13). */
		/* Read without the lock by yakvm_hv_hypercall_enabled(). */
		WRITE_ONCE(hv->guest_os_id, data);
		if (!data)
			hv->hypercall &= ~HV_X64_MSR_HYPERCALL_ENABLE;
		break;
	case HV_X64_MSR_HYPERCALL:
		/* Ignored until the guest said who it is, as KVM. */
		if (!hv->guest_os_id)
			break;
		if (data & HV_X64_MSR_HYPERCALL_ENABLE)
			r = write_hypercall_page(vm, data);
		if (!r)
			hv->hypercall = data;
		break;
	case HV_X64_MSR_REFERENCE_TSC:
		hv->reference_tsc = data;
		write_tsc_page(vm);
		break;
	case HV_X64_MSR_TIME_REF_COUNT:
		/* Read-only; a VMM's write (a restore) is ignored, as KVM. */
		r = host ? 0 : 1;
		break;
	}
	mutex_unlock(&vm->hv_lock);
	return r;
}

/* Whether VMMCALL follows Hyper-V's ABI rather than KVM's (as KVM decides). */
bool yakvm_hv_hypercall_enabled(struct yakvm_vcpu *vcpu)
{
	/* The OS ID first: every VMMCALL asks, and the CPUID lookup is a search. */
	return READ_ONCE(vcpu->vm->hv.guest_os_id) && guest_has_hyperv(vcpu);
}

/* Not a TLFS status: the call goes to the VMM (KVM_EXIT_HYPERV_HCALL). */
#define HV_STATUS_PENDING_TO_VMM	U16_MAX

/* A hypercall's status into RAX, or EDX:EAX outside 64-bit code (TLFS 3.8). */
static void set_hcall_status(struct yakvm_vcpu *vcpu, u64 status)
{
	if (yakvm_64bit_code(vcpu)) {
		vcpu->regs[YAKVM_RAX] = status;
	} else {
		vcpu->regs[YAKVM_RDX] = status >> 32;
		vcpu->regs[YAKVM_RAX] = (u32)status;
	}
}

/* Input and output GPAs: RDX and R8, or EBX:ECX and EDI:ESI (TLFS 3.7). */
static void hcall_params(struct yakvm_vcpu *vcpu, bool op64, u64 *in, u64 *out)
{
	unsigned long *r = vcpu->regs;

	if (op64) {
		*in = r[YAKVM_RDX];
		*out = r[YAKVM_R8];
	} else {
		*in = (u64)(u32)r[YAKVM_RBX] << 32 | (u32)r[YAKVM_RCX];
		*out = (u64)(u32)r[YAKVM_RDI] << 32 | (u32)r[YAKVM_RSI];
	}
}

/*
 * HvSignalEvent's connection ID: the input itself for a fast call, else
 * the 8 bytes at the input GPA (TLFS 11.10.2); or a failed status.
 */
static u16 signal_event(struct yakvm_vcpu *vcpu, bool fast, u64 in)
{
	u64 param = in;

	if (!fast && (!IS_ALIGNED(in, 8) ||
		      yakvm_read_gpa(vcpu->vm, in, &param, sizeof(param))))
		return HV_STATUS_INVALID_ALIGNMENT;
	return yakvm_synic_signal_event(vcpu, param);
}

/*
 * The VMM handles the call (KVM_EXIT_HYPERV_HCALL, api.rst): the control
 * word and both parameters as the guest gave them; the status it puts in
 * hcall.result goes to the guest on the next KVM_RUN.
 */
static int hcall_user_exit(struct yakvm_vcpu *vcpu, u64 control, u64 in, u64 out)
{
	struct kvm_run *run = vcpu->run;
	struct vmcb *vmcb = vcpu->vmcb;

	memset(&run->hyperv, 0, sizeof(run->hyperv));
	run->hyperv.type = KVM_EXIT_HYPERV_HCALL;
	run->hyperv.u.hcall.input = control;
	run->hyperv.u.hcall.params[0] = in;
	run->hyperv.u.hcall.params[1] = out;
	/* VMMCALL is 0f 01 d9. */
	vcpu->hv.hcall_next_rip = yakvm_svm.nrips && vmcb->control.next_rip ?
				  vmcb->control.next_rip : vmcb->save.rip + 3;
	vcpu->pending = YAKVM_USER_HV_HCALL;
	return yakvm_user_exit(vcpu, KVM_EXIT_HYPERV);
}

/* KVM_RUN after KVM_EXIT_HYPERV_HCALL: the VMM's status, then past VMMCALL. */
int yakvm_hv_complete_hcall(struct yakvm_vcpu *vcpu)
{
	set_hcall_status(vcpu, READ_ONCE(vcpu->run->hyperv.u.hcall.result));
	yakvm_set_rip(vcpu, vcpu->hv.hcall_next_rip);
	return 1;
}

/*
 * A Hyper-V hypercall (TLFS 3.6-3.8): the control word in RCX (64-bit) or
 * EDX:EAX (32-bit), the status back in RAX or EDX:EAX.  HvNotifyLongSpinWait,
 * a hint, succeeds; HvSignalEvent goes to the connection's eventfd, else,
 * as HvPostMessage, to the VMM while the SynIC is on (invalid input
 * without).  The rest are unknown to yakvm
 * (HV_STATUS_INVALID_HYPERCALL_CODE), as a call KVM does not implement.
 * All of them are simple calls: a rep count or a variable header is
 * invalid input.  From CPL > 0 or real mode: #UD (TLFS 3.2).
 */
int yakvm_hv_hypercall(struct yakvm_vcpu *vcpu)
{
	bool op64 = yakvm_64bit_code(vcpu);
	u64 control, status, in, out;
	u16 code;

	if (vcpu->vmcb->save.cpl || !(vcpu->vmcb->save.cr0 & X86_CR0_PE)) {
		yakvm_queue_exception(vcpu, X86_TRAP_UD, false, 0);
		return 1;
	}
	if (op64)
		control = vcpu->regs[YAKVM_RCX];
	else
		control = (u64)(u32)vcpu->regs[YAKVM_RDX] << 32 |
			  (u32)vcpu->regs[YAKVM_RAX];
	hcall_params(vcpu, op64, &in, &out);
	code = control & 0xffff;
	if (control & HV_HYPERCALL_RSVD_MASK)
		status = HV_STATUS_INVALID_HYPERCALL_INPUT;
	else if (code != HVCALL_NOTIFY_LONG_SPIN_WAIT &&
		 code != HVCALL_POST_MESSAGE && code != HVCALL_SIGNAL_EVENT)
		status = HV_STATUS_INVALID_HYPERCALL_CODE;
	else if (control & (HV_HYPERCALL_REP_COMP_MASK | HV_HYPERCALL_REP_START_MASK |
			    HV_HYPERCALL_VARHEAD_MASK))
		status = HV_STATUS_INVALID_HYPERCALL_INPUT;
	else if (code == HVCALL_POST_MESSAGE)
		status = HV_STATUS_PENDING_TO_VMM;
	else if (code == HVCALL_SIGNAL_EVENT)
		status = signal_event(vcpu, control & HV_HYPERCALL_FAST_BIT, in);
	else
		status = HV_STATUS_SUCCESS;
	/*
	 * A message, or an event without an eventfd, is the VMM's (as KVM);
	 * without the SynIC it has no way to take them: invalid input.
	 */
	if (status == HV_STATUS_PENDING_TO_VMM || status == HV_STATUS_INVALID_PORT_ID) {
		if (vcpu->hv.synic_active)
			return hcall_user_exit(vcpu, control, in, out);
		status = HV_STATUS_INVALID_HYPERCALL_INPUT;
	}
	set_hcall_status(vcpu, status);
	return yakvm_skip_instruction(vcpu);
}

/*
 * KVM_GET_SUPPORTED_HV_CPUID (api.rst), on /dev/yakvm (@vcpu NULL) and on
 * a vCPU: the Hyper-V leaves yakvm implements.  The vendor is KVM's, so
 * that a guest of QEMU's hv-passthrough sees the same CPUID on both
 * devices; the features are the clock's MSRs, the hypercall page, the VP
 * index, the SynIC with its two hypercalls and the synthetic timers
 * (direct mode too, where the vCPU has the in-kernel APIC), and the hint
 * that timing is relaxed (no watchdogs on a virtual CPU that may not run).
 */
long yakvm_get_supported_hv_cpuid(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_cpuid2 __user *user = argp;
	struct kvm_cpuid_entry2 e[HV_CPUID_LEAVES] = {};
	struct kvm_cpuid2 hdr;
	int i;

	if (copy_from_user(&hdr, user, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nent < HV_CPUID_LEAVES)
		return -E2BIG;
	for (i = 0; i < HV_CPUID_LEAVES; i++)
		e[i].function = HYPERV_CPUID_VENDOR_AND_MAX_FUNCTIONS + i;
	/* 0x40000000: the highest leaf, the vendor "Linux KVM Hv". */
	e[0].eax = HYPERV_CPUID_IMPLEMENT_LIMITS;
	e[0].ebx = 0x756e694c;
	e[0].ecx = 0x564b2078;
	e[0].edx = 0x7648204d;
	e[1].eax = HV_INTERFACE_SIGNATURE;
	/* 0x40000002: the version Hyper-V guests expect, KVM's (10.0). */
	e[2].eax = 0x00003839;
	e[2].ebx = 0x000a0000;
	e[3].eax = HV_MSR_TIME_REF_COUNT_AVAILABLE | HV_MSR_REFERENCE_TSC_AVAILABLE |
		   HV_MSR_HYPERCALL_AVAILABLE | HV_MSR_VP_INDEX_AVAILABLE |
		   HV_MSR_SYNIC_AVAILABLE | HV_MSR_SYNTIMER_AVAILABLE;
	e[3].ebx = HV_POST_MESSAGES | HV_SIGNAL_EVENTS;
	/* Direct mode needs the in-kernel APIC: a vCPU without one has none. */
	if (!vcpu || vcpu->apic)
		e[3].edx = HV_STIMER_DIRECT_MODE_AVAILABLE;
	e[4].eax = HV_X64_RELAXED_TIMING_RECOMMENDED;
	/* Never notify a long spin wait (TLFS 2.4.5: all ones). */
	e[4].ebx = U32_MAX;
	e[5].eax = YAKVM_MAX_VCPUS;
	e[5].ebx = YAKVM_MAX_VCPUS;
	hdr.nent = HV_CPUID_LEAVES;
	if (copy_to_user(user, &hdr, sizeof(hdr)) ||
	    copy_to_user(user->entries, e, sizeof(e)))
		return -EFAULT;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * kvmclock (Documentation/virt/kvm/x86/msr.rst): the paravirtual clock
 * KVM's CPUID leaf 0x40000001 offers (KVM_FEATURE_CLOCKSOURCE and
 * CLOCKSOURCE2).  The guest gives each vCPU a struct pvclock_vcpu_time_info
 * (MSR_KVM_SYSTEM_TIME[_NEW]) and asks for the wall clock at clock 0
 * (MSR_KVM_WALL_CLOCK[_NEW]).  The clock is the VM's KVM_GET_CLOCK clock:
 * the host's CLOCK_BOOTTIME plus vm->clock_offset, so a VMM's save and
 * restore of it (KVM_GET/SET_CLOCK) is what the guest sees.
 *
 * Each vCPU's structure holds a (guest TSC, clock) pair and the TSC's rate
 * as a multiplier and shift; the guest extrapolates from it.  yakvm
 * refreshes the pair when the vCPU enables the clock, when the VMM sets the
 * VM clock or a TSC, and when the vCPU moves to another physical CPU.
 *
 * While the host's TSC is stable (not marked unstable by the kernel) and
 * every vCPU has the same TSC offset, all vCPUs get one pair, the VM's
 * "master clock" (KVM's name), taken once and again only when the VMM sets
 * the clock: then every vCPU extrapolates the same line, and the structure
 * says so with PVCLOCK_TSC_STABLE_BIT (Linux then keeps sched_clock
 * stable, as it does on KVM).  Otherwise each vCPU gets a pair of its own,
 * taken at its update, without the bit, and the guest keeps its clock
 * monotonic across vCPUs itself.
 */
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/timekeeping.h>
#include <asm/pvclock-abi.h>
#include <asm/tsc.h>

#include "yakvm.h"

#define SYSTEM_TIME_ENABLE	BIT_ULL(0)

/* The VM's clock now, in nanoseconds (KVM_GET_CLOCK's value). */
u64 yakvm_vm_clock_ns(struct yakvm_vm *vm)
{
	return ktime_get_boottime_ns() + READ_ONCE(vm->clock_offset);
}

/*
 * The TSC rate as pvclock wants it: ns = ((tsc << shift) * mul) >> 32, or
 * with a negative shift (tsc >> -shift).  The rate is brought into
 * (1 GHz, 2 GHz] by the shift, which keeps mul in [2^31, 2^32).
 */
static void tsc_scale(u64 tsc_hz, s8 *shift, u32 *mul)
{
	s8 s = 0;

	while (tsc_hz <= NSEC_PER_SEC) {
		tsc_hz <<= 1;
		s++;
	}
	while (tsc_hz > 2 * NSEC_PER_SEC) {
		tsc_hz >>= 1;
		s--;
	}
	*shift = s;
	*mul = div64_u64((u64)NSEC_PER_SEC << 32, tsc_hz);
}

static int write_time_info(struct yakvm_vcpu *vcpu, struct pvclock_vcpu_time_info *t)
{
	struct yakvm_vm *vm = vcpu->vm;
	u64 gpa = vcpu->kvmclock_gpa;
	int r;

	/* An odd version while the rest changes (the guest retries on it). */
	t->version = ++vcpu->kvmclock_version | 1;
	r = yakvm_write_gpa(vm, gpa, &t->version, sizeof(t->version));
	if (r)
		return r;
	/* The odd version is visible before any field changes... */
	smp_wmb();
	r = yakvm_write_gpa(vm, gpa, t, sizeof(*t));
	if (r)
		return r;
	/* ... and every field before the even one. */
	smp_wmb();
	vcpu->kvmclock_version = t->version + 1;
	t->version = vcpu->kvmclock_version;
	return yakvm_write_gpa(vm, gpa, &t->version, sizeof(t->version));
}

/* A (host TSC, VM clock) pair, with no preemption between the two reads. */
static void clock_pair(struct yakvm_vm *vm, u64 *host_tsc, u64 *ns)
{
	preempt_disable();
	*host_tsc = rdtsc();
	*ns = yakvm_vm_clock_ns(vm);
	preempt_enable();
}

/* Whether the master clock may be used now; under tsc_lock. */
static bool master_usable(struct yakvm_vm *vm)
{
	/* The vCPUs published so far (pairs with their publication). */
	int i, n = smp_load_acquire(&vm->nr_vcpus);
	u64 offset;

	/*
	 * As KVM, which needs the host's clocksource to be the TSC: a TSC
	 * the kernel did not mark unstable (CONSTANT_TSC is not required:
	 * QEMU's CPU models lack invariant TSC, yet their TSC is the host's
	 * clocksource, and KVM uses its master clock on them).
	 */
	if (check_tsc_unstable() || !tsc_khz || !n)
		return false;
	offset = READ_ONCE(vm->vcpus[0]->tsc_offset);
	for (i = 1; i < n; i++)
		if (READ_ONCE(vm->vcpus[i]->tsc_offset) != offset)
			return false;
	return true;
}

/*
 * Before an entry, in process context (guest memory may fault in): write
 * the vCPU's time structure afresh.  A structure the guest put outside its
 * memory stops the clock there, as in KVM.
 */
/*
 * The master pair, taken now if there is none, as (host TSC, VM clock);
 * false when the master clock cannot be used.
 */
static bool master_pair(struct yakvm_vm *vm, u64 *host_tsc, u64 *ns)
{
	bool stable;

	mutex_lock(&vm->tsc_lock);
	stable = master_usable(vm);
	if (stable) {
		if (!vm->master_set) {
			clock_pair(vm, &vm->master_tsc, &vm->master_ns);
			vm->master_set = true;
		}
		*host_tsc = vm->master_tsc;
		*ns = vm->master_ns;
	}
	mutex_unlock(&vm->tsc_lock);
	return stable;
}

/* The master pair as (guest TSC, VM clock), for Hyper-V's TSC page. */
bool yakvm_kvmclock_master(struct yakvm_vm *vm, u64 *guest_tsc, u64 *ns)
{
	u64 host_tsc;

	if (!master_pair(vm, &host_tsc, ns))
		return false;
	/*
	 * Every vCPU has this offset while the master clock is usable.  It
	 * is read after tsc_lock is dropped: an offset that changes meanwhile
	 * ends in yakvm_hv_clock_changed(), which computes the page again.
	 */
	*guest_tsc = host_tsc + READ_ONCE(vm->vcpus[0]->tsc_offset);
	return true;
}

void yakvm_kvmclock_update(struct yakvm_vcpu *vcpu)
{
	struct yakvm_vm *vm = vcpu->vm;
	struct pvclock_vcpu_time_info t = {};
	bool stable;
	u64 host_tsc, ns;

	if (!(vcpu->kvmclock_msr & SYSTEM_TIME_ENABLE))
		return;
	stable = master_pair(vm, &host_tsc, &ns);
	if (!stable)
		clock_pair(vm, &host_tsc, &ns);
	t.tsc_timestamp = host_tsc + vcpu->tsc_offset;
	t.system_time = ns;
	tsc_scale((u64)tsc_khz * 1000, &t.tsc_shift, &t.tsc_to_system_mul);
	t.flags = stable ? PVCLOCK_TSC_STABLE_BIT : 0;
	if (write_time_info(vcpu, &t))
		vcpu->kvmclock_msr &= ~SYSTEM_TIME_ENABLE;
}

/* Ask for an update before the vCPU's next entry. */
void yakvm_kvmclock_request(struct yakvm_vcpu *vcpu)
{
	if (READ_ONCE(vcpu->kvmclock_msr) & SYSTEM_TIME_ENABLE)
		set_bit(ilog2(YAKVM_REQ_CLOCK_UPDATE), &vcpu->requests);
}

/* Every vCPU's structure anew before it runs again (a TSC offset changed). */
void yakvm_kvmclock_request_all(struct yakvm_vm *vm)
{
	/* The vCPUs published so far (pairs with their publication). */
	int i, n = smp_load_acquire(&vm->nr_vcpus);

	for (i = 0; i < n; i++) {
		yakvm_kvmclock_request(vm->vcpus[i]);
		yakvm_vcpu_kick(vm->vcpus[i]);
	}
	/* Hyper-V's TSC page follows the same line (cpu/hyperv.c). */
	yakvm_hv_clock_changed(vm);
}

/* KVM_SET_CLOCK: a new master pair, and every vCPU's structure from it. */
void yakvm_kvmclock_clock_set(struct yakvm_vm *vm)
{
	mutex_lock(&vm->tsc_lock);
	vm->master_set = false;
	mutex_unlock(&vm->tsc_lock);
	yakvm_kvmclock_request_all(vm);
}

/* MSR_KVM_SYSTEM_TIME[_NEW]: bit 0 enables, the rest is the structure's GPA. */
int yakvm_kvmclock_set_system_time(struct yakvm_vcpu *vcpu, u64 data)
{
	u64 gpa = data & ~SYSTEM_TIME_ENABLE;

	/* The structure must not cross a page (KVM maps one page for it). */
	if ((data & SYSTEM_TIME_ENABLE) &&
	    (gpa & ~PAGE_MASK) + sizeof(struct pvclock_vcpu_time_info) > PAGE_SIZE)
		data &= ~SYSTEM_TIME_ENABLE;
	vcpu->kvmclock_msr = data;
	vcpu->kvmclock_gpa = gpa;
	if (data & SYSTEM_TIME_ENABLE)
		set_bit(ilog2(YAKVM_REQ_CLOCK_UPDATE), &vcpu->requests);
	return 0;
}

/*
 * MSR_KVM_WALL_CLOCK[_NEW]: the wall clock time at VM clock 0, now, at the
 * address written (none for 0).  The version goes on from the guest's own
 * (odd while writing), so a guest reading an older copy sees that it
 * changed.
 */
int yakvm_kvmclock_set_wall_clock(struct yakvm_vcpu *vcpu, u64 gpa)
{
	struct yakvm_vm *vm = vcpu->vm;
	struct pvclock_wall_clock wc = {};
	u64 wall_ns;
	u32 rem;

	/*
	 * 0 is "no wall clock", as for KVM: VMMs write it at every reset
	 * (QEMU does), and guest address 0 is the real-mode vector table.
	 */
	if (!gpa)
		return 0;
	if (yakvm_read_gpa(vm, gpa, &wc.version, sizeof(wc.version)))
		return 0;		/* not guest memory: nothing to write, as KVM */
	wc.version = (wc.version | 1) + 2;
	if (yakvm_write_gpa(vm, gpa, &wc.version, sizeof(wc.version)))
		return 0;
	wall_ns = ktime_get_real_ns() - yakvm_vm_clock_ns(vm);
	wc.sec = div_u64_rem(wall_ns, NSEC_PER_SEC, &rem);
	wc.nsec = rem;
	/* Odd version first, the fields, then the even version. */
	smp_wmb();
	yakvm_write_gpa(vm, gpa, &wc, sizeof(wc));
	/* The fields before the even version. */
	smp_wmb();
	wc.version++;
	yakvm_write_gpa(vm, gpa, &wc.version, sizeof(wc.version));
	return 0;
}

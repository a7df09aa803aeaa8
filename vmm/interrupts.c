/*
 * External interrupts, the way a KVM VMM without the in-kernel irqchip
 * delivers them (Documentation/virt/kvm/api.rst: KVM_INTERRUPT, and the
 * kvm_run fields request_interrupt_window, ready_for_interrupt_injection and
 * if_flag): the PIC lives here in user space, its INT output is wired to the
 * boot vCPU (vCPU 0, as ExtINT reaches the BSP on a PC without APICs).
 *
 * - A device raising a line (the PIT's thread, the console's input, a vCPU
 *   thread writing a port) makes the PIC call interrupts_notify(), which
 *   kicks vCPU 0 out of KVM_RUN (signal + immediate_exit, vcpu.c) or wakes
 *   it from HLT.
 * - Before every KVM_RUN the vCPU thread looks at the PIC: when the last
 *   exit said the guest can take an interrupt now, the INTA cycle gives the
 *   vector and KVM_INTERRUPT queues it for the entry; otherwise it sets
 *   request_interrupt_window, so KVM_RUN returns KVM_EXIT_IRQ_WINDOW_OPEN as
 *   soon as RFLAGS.IF=1 and no interrupt shadow blocks.
 * - KVM_EXIT_HLT (RIP already past the HLT) with IF=1 sleeps here until the
 *   PIC has a request; HLT with IF=0 can only be left by NMI or reset, which
 *   this machine does not generate, so that vCPU is done.
 */
#include "interrupts.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/devices.h"
#include "status.h"
#include "util.h"
#include "vcpu.h"
#include "vm.h"

#define BOOT_VCPU 0

void interrupts_notify(void *opaque)
{
	struct vm *vm = opaque;

	vcpu_kick(&vm->vcpus[BOOT_VCPU]);
}

static bool wired(const struct vcpu *vcpu)
{
	return vcpu->id == BOOT_VCPU && vcpu->vm->pic;
}

static void inject(struct vcpu *vcpu, int vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	if (vcpu->vm->trace_exits)
		trace("vcpu%u: KVM_INTERRUPT vector %#x", vcpu->id, vector);
	if (ioctl(vcpu->fd, KVM_INTERRUPT, &irq) < 0) {
		msg("vCPU %u: KVM_INTERRUPT (vector %#x): %s", vcpu->id, vector, strerror(errno));
		vm_request_stop(vcpu->vm, STATUS_INTERNAL);
	}
}

void interrupts_before_entry(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct pic *pic = vcpu->vm->pic;

	if (!wired(vcpu))
		return;
	if (!pic_output(pic)) {
		run->request_interrupt_window = 0;
		return;
	}
	/* ready_for_interrupt_injection is false while a vector is still queued. */
	if (run->ready_for_interrupt_injection && run->if_flag)
		inject(vcpu, pic_acknowledge(pic));
	run->request_interrupt_window = pic_output(pic);
}

bool interrupts_can_wake(struct vcpu *vcpu)
{
	return wired(vcpu) && vcpu->run->if_flag;
}

void interrupts_wait(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	/* vcpu_kick() broadcasts under wake_lock after the PIC changed: no lost wake-up. */
	pthread_mutex_lock(&vcpu->wake_lock);
	while (!vm_is_stopping(vm) && !pic_output(vm->pic))
		pthread_cond_wait(&vcpu->wake_cond, &vcpu->wake_lock);
	pthread_mutex_unlock(&vcpu->wake_lock);
}

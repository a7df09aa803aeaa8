/*
 * vCPU threads and the exit loop.
 *
 * Stopping a vCPU that spins in the guest: the main thread sets the VM's
 * stop flag and sends VCPU_KICK_SIGNAL to the vCPU thread.  A signal pending
 * during KVM_RUN makes it return EINTR; one that arrives just before the
 * ioctl would be lost, so the handler also sets kvm_run.immediate_exit, which
 * makes the next KVM_RUN return EINTR at once (api.rst, "immediate_exit").
 * Either way the loop sees the stop flag and the thread ends.
 *
 * The same kick brings a vCPU out of the guest when the PIC has an
 * interrupt for it (interrupts.c).  The loop clears immediate_exit before
 * it looks at the stop flag and the PIC, so a kick is either seen by those
 * checks or makes the following KVM_RUN return at once; never lost.
 */
#include "vcpu.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "cpuid.h"
#include "dump.h"
#include "exit.h"
#include "interrupts.h"
#include "status.h"
#include "util.h"
#include "vm.h"

static __thread struct kvm_run *volatile this_thread_run;

void vcpu_create(struct vm *vm, unsigned int id, struct vcpu *vcpu)
{
	vcpu->vm = vm;
	vcpu->id = id;
	pthread_mutex_init(&vcpu->wake_lock, NULL);
	pthread_cond_init(&vcpu->wake_cond, NULL);
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0)
		fail(STATUS_SETUP, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
	vcpu->run = mmap(NULL, vm->run_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED)
		fail(STATUS_SETUP, "mmap of vCPU %u's kvm_run: %s", id, strerror(errno));
	cpuid_set(vcpu);
	interrupts_init_vcpu(vcpu);
}

static void kick_handler(int sig)
{
	struct kvm_run *run = this_thread_run;

	(void)sig;
	if (run)
		run->immediate_exit = 1;
}

void vcpu_install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

/* One switch over the exit reason; each case is one call (exit.c). */
static enum exit_action handle_exit(struct vcpu *vcpu)
{
	switch (vcpu->run->exit_reason) {
	case KVM_EXIT_IO:
		return exit_io(vcpu);
	case KVM_EXIT_MMIO:
		return exit_mmio(vcpu);
	case KVM_EXIT_HLT:
		return exit_hlt(vcpu);
	case KVM_EXIT_SHUTDOWN:
		return exit_shutdown(vcpu);
	case KVM_EXIT_FAIL_ENTRY:
		return exit_fail_entry(vcpu);
	case KVM_EXIT_INTERNAL_ERROR:
		return exit_internal_error(vcpu);
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:	/* interrupts_before_entry() injects next */
		return EXIT_CONTINUE;
	default:
		return exit_unexpected(vcpu);
	}
}

static enum exit_action run_once(struct vcpu *vcpu)
{
	if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
		/* EINTR: kicked (or immediate_exit); the loop checks the stop flag. */
		if (errno == EINTR || errno == EAGAIN) {
			if (vcpu->vm->trace_exits)
				trace("vcpu%u: KVM_RUN interrupted (kick)", vcpu->id);
			return EXIT_CONTINUE;
		}
		return exit_run_failed(vcpu, errno);
	}
	if (vcpu->vm->trace_exits)
		trace_exit(vcpu);
	return handle_exit(vcpu);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	sigset_t kick;

	this_thread_run = vcpu->run;
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	for (;;) {
		vcpu->run->immediate_exit = 0;
		if (vm_is_stopping(vcpu->vm))
			break;
		interrupts_before_entry(vcpu);
		if (run_once(vcpu) == EXIT_VCPU_DONE)
			break;
	}
	return NULL;
}

void vcpu_kick(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->wake_lock);
	pthread_cond_broadcast(&vcpu->wake_cond);
	/* A vCPU thread raising a line itself checks the PIC before its next entry. */
	if (vcpu->kickable && !pthread_equal(vcpu->thread, pthread_self()))
		pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
	pthread_mutex_unlock(&vcpu->wake_lock);
}

void vcpus_start(struct vm *vm)
{
	unsigned int i;
	int r;

	vm->running_vcpus = vm->nr_vcpus;
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		r = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
		if (r) {
			msg("cannot start vCPU %u's thread: %s", i, strerror(r));
			vm_request_stop(vm, STATUS_SETUP);
			return;
		}
		vcpu->thread_started = true;
		pthread_mutex_lock(&vcpu->wake_lock);
		vcpu->kickable = true;
		pthread_mutex_unlock(&vcpu->wake_lock);
	}
}

unsigned int vcpus_stop(struct vm *vm)
{
	unsigned int i, joined = 0;

	/* The last kick: after it no other thread signals a thread about to be joined. */
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		pthread_mutex_lock(&vcpu->wake_lock);
		if (vcpu->kickable)
			pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
		vcpu->kickable = false;
		pthread_cond_broadcast(&vcpu->wake_cond);
		pthread_mutex_unlock(&vcpu->wake_lock);
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (!vm->vcpus[i].thread_started)
			continue;
		pthread_join(vm->vcpus[i].thread, NULL);
		vm->vcpus[i].thread_started = false;
		joined++;
	}
	return joined;
}

/* vCPUs: one fd, one kvm_run page and one thread each. */
#ifndef YAKVM_VCPU_H
#define YAKVM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;

	/* Wake-ups: an interrupt for a halted vCPU, or a kick out of KVM_RUN. */
	pthread_mutex_t wake_lock;
	pthread_cond_t wake_cond;
	bool kickable;		/* under wake_lock: the thread runs and may be signalled */
};

/* Signal that kicks a vCPU thread out of KVM_RUN; blocked in every other thread. */
#define VCPU_KICK_SIGNAL SIGUSR1

void vcpu_create(struct vm *vm, unsigned int id, struct vcpu *vcpu);
/* Installs the kick handler; call before blocking signals and starting threads. */
void vcpu_install_kick_handler(void);
/* Wakes a halted vCPU and makes one in KVM_RUN return (from any thread). */
void vcpu_kick(struct vcpu *vcpu);
void vcpus_start(struct vm *vm);
/* Kicks every vCPU out of the guest and joins its thread; returns how many were joined. */
unsigned int vcpus_stop(struct vm *vm);

#endif

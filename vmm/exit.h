/* What each KVM exit reason does; called from the exit loop in vcpu.c. */
#ifndef YAKVM_EXIT_H
#define YAKVM_EXIT_H

struct vcpu;

enum exit_action {
	EXIT_CONTINUE,		/* run the vCPU again */
	EXIT_VCPU_DONE,		/* this vCPU's thread ends */
};

enum exit_action exit_io(struct vcpu *vcpu);
enum exit_action exit_mmio(struct vcpu *vcpu);
enum exit_action exit_hlt(struct vcpu *vcpu);
enum exit_action exit_shutdown(struct vcpu *vcpu);
enum exit_action exit_fail_entry(struct vcpu *vcpu);
enum exit_action exit_internal_error(struct vcpu *vcpu);
enum exit_action exit_unexpected(struct vcpu *vcpu);
enum exit_action exit_run_failed(struct vcpu *vcpu, int err);

/* --trace-exits: one line per exit on stderr. */
void trace_exit(struct vcpu *vcpu);

#endif

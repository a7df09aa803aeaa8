/* Guest state for error reports and traces. */
#ifndef YAKVM_DUMP_H
#define YAKVM_DUMP_H

#include <stdint.h>

struct vcpu;

/* Registers, segments and control registers of @vcpu on stderr. */
void dump_vcpu_state(struct vcpu *vcpu);
/* Guest RIP, or ~0 if KVM_GET_REGS fails. */
uint64_t vcpu_rip(struct vcpu *vcpu);
/* "IO", "HLT", ... or "exit reason N". */
const char *exit_reason_name(uint32_t reason);

#endif

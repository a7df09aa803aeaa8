// SPDX-License-Identifier: GPL-2.0
/*
 * The self-check without KVM (tests/selfcheck/selfcheck.c): a case that
 * passes on yakvm must fail on a missing /dev/kvm, not skip.
 */
#include "modes.h"

GUEST_CODE16(say_done, ASM_UCALL_DONE);

TEST_CASE(passes)
{
	struct vcpu *v = vm_with_low_code(ctx->dev, MODE_REAL, &say_done);
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The harness's self-check (scripts/test.sh, docs/testing.md): a test binary
 * of the real library whose cases pass, fail, skip with and without leave,
 * run guests that differ between the devices, crash, hang, and print a
 * case the inventory does not list (vm-leak.c leaks a VM).  It is built into
 * build/selfcheck/, never into the suite; the self-check boot runs it with
 * the real runner (scripts/vm/run-tests.sh -d /selfcheck) and the host
 * judges the lines as it judges the suite, expecting the verdicts of
 * tests/selfcheck/expected.txt.
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "modes.h"

GUEST_CODE16(say_done, ASM_UCALL_DONE);

/* OUT of the byte the host put at GPA_LOW_DATA: 1 on yakvm, 0 elsewhere. */
GUEST_CODE16(out_device_byte,
	"mov (0x4000), %al\n out %al, $0x80\n"
	ASM_UCALL_DONE);

TEST_CASE(passes)
{
	struct vcpu *v = vm_with_low_code(ctx->dev, MODE_REAL, &say_done);
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

TEST_NO_GUEST(fails_on_yakvm)
{
	TEST_ASSERT(!ctx->dev->is_yakvm, "a deliberate failure on yakvm");
}

TEST_NO_GUEST(skips_allowed)
{
	test_skip("selfcheck: a skip tests/selfcheck/allowed-skips.txt allows");
}

TEST_NO_GUEST(skips_unlisted)
{
	test_skip("selfcheck: a skip no list allows");
}

/* Passes on each device, but the two guests do different things. */
TEST_CASE(traces_differ)
{
	struct vcpu *v = vm_with_low_code(ctx->dev, MODE_REAL, &out_device_byte);
	struct ucall uc;

	*(uint8_t *)gpa_to_hva(v->vm, GPA_LOW_DATA) = ctx->dev->is_yakvm;
	vcpu_run(v);
	vcpu_expect_exit(v, KVM_EXIT_IO);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

TEST_NO_GUEST(crashes)
{
	raise(SIGSEGV);
}

TEST_CASE_OPTS(times_out, .timeout_s = 1, .no_guest = true)
{
	sleep(10);
}

/* Passes, but tests/selfcheck/manifest.txt does not list it. */
TEST_NO_GUEST(not_in_manifest)
{
}

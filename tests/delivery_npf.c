// SPDX-License-Identifier: GPL-2.0
/*
 * An exception whose delivery needs guest-physical memory that is not RAM:
 * here the guest points its IDT at an MMIO address and executes UD2.  The
 * #UD's IDT read faults in the nested page tables while the CPU is
 * delivering the event (EXITINTINFO valid, APM 15.7.2).  There is no
 * instruction to emulate -- the bytes at RIP are the UD2 that already
 * faulted -- so the device reports the failed delivery to user space:
 * KVM_EXIT_INTERNAL_ERROR with KVM_INTERNAL_ERROR_DELIVERY_EV, the event
 * in data[0] and the address in data[3].
 */
#include "guest.h"
#include "modes.h"

#define UD_EVENT	0x80000306ULL	/* valid, exception, vector 6 */

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uint64_t base;
};

static void guest_idt_in_mmio(void)
{
	static struct dtr idt = { 32 * 16 - 1, MMIO_GPA };

	__asm__ volatile("lidt %0\n\tud2" : : "m"(idt));
}

TEST_CASE_OPTS(delivery_through_mmio_is_reported,
	       .why_not_compared = "KVM 6.1 emulates the instruction at RIP instead (DIFFERENCE below)")
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_idt_in_mmio, 0);
	struct kvm_run *run = v->run;

	vcpu_run(v);
	if (!ctx->dev->is_yakvm) {
		/*
		 * DIFFERENCE: KVM before 6.14 emulates the instruction at RIP
		 * on a nested page fault during event delivery (UD2 here,
		 * which its emulator refuses: an emulation failure); since
		 * 6.14 it reports DELIVERY_EV as yakvm does.
		 */
		vcpu_expect_exit(v, KVM_EXIT_INTERNAL_ERROR);
		test_log("KVM: internal error, suberror %u", run->internal.suberror);
		TEST_ASSERT(run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ||
			    run->internal.suberror == KVM_INTERNAL_ERROR_DELIVERY_EV,
			    "KVM reported suberror %u", run->internal.suberror);
		vm_free(v->vm);
		return;
	}
	vcpu_expect_exit(v, KVM_EXIT_INTERNAL_ERROR);
	TEST_ASSERT(run->internal.suberror == KVM_INTERNAL_ERROR_DELIVERY_EV,
		    "suberror %u, expected KVM_INTERNAL_ERROR_DELIVERY_EV (%u)",
		    run->internal.suberror, KVM_INTERNAL_ERROR_DELIVERY_EV);
	TEST_ASSERT(run->internal.ndata >= 4, "ndata %u", run->internal.ndata);
	TEST_ASSERT_EQ(run->internal.data[0], UD_EVENT);
	TEST_ASSERT_EQ(run->internal.data[3], MMIO_GPA + 6 * 16);
	vm_free(v->vm);
}
